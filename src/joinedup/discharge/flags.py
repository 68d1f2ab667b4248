"""The board's flags for an inpatient, derived from what the record holds about them.

The hospital's admissions extract carries no care-home or package flag. The record has
two things that do:
- the hospital's own patient record: its address for the patient, which for a care-home
  resident is the home (the home's name in the address line, at the home's postcode:
  the care-home register decides, see ``carehomes.selectors.home_for_address``);
- adult social care's packages, with their service and start and end dates: a
  council-funded placement open on the admission day means a care-home resident; a home
  care or reablement package in place on the admission day is held while the patient is
  in hospital ("paused"), and one the council ended after the admission has "lapsed" (a
  restart needs a new package). The extract has no hold status of its own.

Plain Python over dates, no Django. The board's own recording always wins over these
(``services`` keeps track of who set the flags).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

PLACEMENTS = frozenset({"Nursing care placement", "Residential care placement"})
AT_HOME = frozenset({"Home care", "Reablement"})
SERVICES = PLACEMENTS | AT_HOME


@dataclass(frozen=True)
class Package:
    """One social care package as the record holds it (no person)."""

    service: str
    start: date
    end: date | None  # the last day; None while it runs


@dataclass(frozen=True)
class Flags:
    care_home_resident: bool
    package_status: str  # "", "paused" or "lapsed" (PackageStatus values)


def _open_on(package: Package, day: date) -> bool:
    return package.start <= day and (package.end is None or package.end >= day)


def derive(
    packages: Iterable[Package], *, admitted: date, today: date, address_is_care_home: bool
) -> Flags:
    """The flags of a patient admitted on ``admitted`` and still in hospital ``today``."""
    at_admission = [p for p in packages if _open_on(p, admitted)]
    placement = any(p.service in PLACEMENTS for p in at_admission)
    at_home = [p for p in at_admission if p.service in AT_HOME]
    if not at_home:
        status = ""
    elif any(p.end is None or p.end >= today for p in at_home):
        status = "paused"
    else:
        status = "lapsed"
    return Flags(care_home_resident=address_is_care_home or placement, package_status=status)

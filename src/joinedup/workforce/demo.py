"""Demonstration data: the synthetic borough's staff and establishment, and team contacts.

The borough's ``workforce/staff.csv`` uses its own staff group and role words; this module
maps them onto each sector's classification (the mapping below) and then imports through
the same service as a real extract, so the borough's deliberately broken rows are kept
back with their reasons like any other. Running it again adds nothing.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

from django.db import transaction

from joinedup.core.models import Organisation, OrganisationKind, Team
from joinedup.core.reference import organisations_sync
from joinedup.workforce import services
from joinedup.workforce.extracts import Row
from joinedup.workforce.models import ExtractFormat, ImportBatch, Sector, TeamContact, sector_of

STAFF_FILE = "workforce/staff.csv"
ESTABLISHMENT_FILE = "workforce/establishment.csv"
POOLS = {"GP": OrganisationKind.GP_PRACTICE, "CARE_HOME": OrganisationKind.CARE_HOME}

NHS_GROUPS = {
    "Medical and dental": "01",
    "Nursing and midwifery": "03",
    "Allied health professionals": "04",
    "Scientific and technical": "05",
    "Support to clinical staff": "07",
    "Administrative and clerical": "08",
    "Estates and ancillary": "09",
}
GP_GROUPS = {
    "Medical and dental": "gp",
    "Nursing and midwifery": "nurses",
    "Direct patient care": "dpc",
    "Administrative and clerical": "admin",
}
SOCIAL_CARE_GROUPS = {
    "Social work": "regulated",
    "Occupational therapy": "regulated",
    "Nursing and midwifery": "regulated",
    "Care and support": "direct_care",
    "Family support": "children",
    "Administrative and clerical": "other",
    "Estates and ancillary": "other",
}
GP_ROLES = {
    "GP partner": "GP partner",
    "Resident doctor": "GP in training grade",
    "Advanced nurse practitioner": "Advanced nurse practitioner",
    "Manager": "Practice manager",
    "Receptionist": "Receptionist",
    "Medical secretary": "Medical secretary",
}
GP_DEFAULT_ROLE = {
    "gp": "Salaried GP",
    "nurses": "Practice nurse",
    "admin": "Administrator",
}
# A social work team manager is a registered social worker: counted with the profession.
SOCIAL_CARE_ROLES = {
    "Social worker": "Social worker",
    "Senior social worker": "Social worker",
    "Team manager": "Social worker",
    "Occupational therapist": "Occupational therapist",
    "OT assistant": "Occupational therapy assistant",
    "Care worker": "Care worker",
    "Senior care worker": "Senior care worker",
    "Reablement worker": "Reablement worker",
    "Family support worker": "Family support worker",
    "Early help practitioner": "Early help practitioner",
}
SOCIAL_CARE_DEFAULT_ROLE = {
    "regulated": "Registered nurse",
    "other": "Administrative or office staff (not care-providing)",
}
ANCILLARY = "Ancillary staff (not care-providing)"


def demo_group(sector: Sector, group: str) -> str:
    """The classification's staff group code for a borough group word ('' if unknown)."""
    table = {Sector.NHS: NHS_GROUPS, Sector.GENERAL_PRACTICE: GP_GROUPS}.get(
        sector, SOCIAL_CARE_GROUPS
    )
    return table.get(group, "")


def demo_role(sector: Sector, group: str, role: str) -> str:
    code = demo_group(sector, group)
    if sector == Sector.NHS:
        return role
    if sector == Sector.GENERAL_PRACTICE:
        return GP_ROLES.get(role) or GP_DEFAULT_ROLE.get(code, role)
    if group == "Estates and ancillary":
        return ANCILLARY
    return SOCIAL_CARE_ROLES.get(role) or SOCIAL_CARE_DEFAULT_ROLE.get(code, role)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str], str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        heading = next(reader)
        for line, values in enumerate(reader, start=2):
            raw = ",".join(values)
            row = dict(zip(heading, values, strict=False))
            if len(values) != len(heading):
                row["_width"] = f"{len(values)} values for {len(heading)} columns"
            yield line, row, raw


def staff_rows(path: Path, kinds: dict[str, str]) -> Iterator[tuple[int, Row, str]]:
    """The borough's staff rows in the importer's field names, mapped to the classifications."""
    for line, row, raw in _rows(path):
        if "_width" in row:
            yield line, {"_width": row["_width"]}, raw
            continue
        code = row.get("organisation_code", "").strip()
        sector = sector_of(kinds.get(code.upper(), ""))
        group = row.get("staff_group", "")
        yield (
            line,
            {
                "staff_ref": row.get("staff_id", ""),
                "organisation": code,
                "neighbourhood": row.get("neighbourhood", ""),
                # An unrecognised group is passed on as it came, so it is kept back.
                "staff_group": demo_group(sector, group) or group,
                "role": demo_role(sector, group, row.get("role", "")),
                "pay_band": row.get("band", ""),
                "contract": row.get("contract", ""),
                "wte": row.get("wte", ""),
                "start_date": row.get("start_date", ""),
                "leaving_date": row.get("leaving_date", ""),
                "age_band": row.get("age_band", ""),
                "sex": row.get("sex", ""),
                "ethnicity": row.get("ethnic_group", ""),
            },
            raw,
        )


def establishment_rows(path: Path, kinds: dict[str, str]) -> list[tuple[int, Row, str]]:
    """The borough's establishment, summed where two borough groups share one class."""
    funded: dict[tuple[str, str, str], float] = defaultdict(float)
    first: dict[tuple[str, str, str], tuple[int, str]] = {}
    for line, row, raw in _rows(path):
        owner = row.get("organisation", "").strip()
        pool = POOLS.get(owner, "")
        sector = sector_of(pool or kinds.get(owner.upper(), ""))
        group = row.get("staff_group", "")
        key = ("" if pool else owner, pool, demo_group(sector, group) or group)
        try:
            funded[key] += float(row.get("funded_wte", ""))
        except ValueError:
            funded[key] += float("nan")
        first.setdefault(key, (line, raw))
    return [
        (
            first[key][0],
            {
                "organisation": key[0],
                "pooled_kind": key[1],
                "staff_group": key[2],
                "funded_wte": "" if math.isnan(value) else f"{value:.1f}",
            },
            first[key][1],
        )
        for key, value in funded.items()
    ]


def _contacts() -> None:
    """Example contact details for the demonstration teams (Ofcom's drama numbers)."""
    for n, team in enumerate(Team.objects.order_by("name")):
        slug = "".join(c for c in team.name.lower() if c.isalnum())[:30]
        TeamContact.objects.get_or_create(
            team=team,
            defaults={
                "phone": f"0161 496 0{n % 1000:03d}",
                "email": f"{slug}@example.org",
                "hours": "Monday to Friday, 8am to 6pm",
                "base": f"{team.neighbourhood.name} health centre" if team.neighbourhood else "",
            },
        )


def demo_load(borough: Path, *, progress: Callable[[str, int, int], None]) -> None:
    homes = borough / "reference" / "care_homes.csv"
    if homes.exists():
        organisations_sync(homes)  # the care homes employ a fifth of the staff
    kinds = {o.ods_code.upper(): o.kind for o in Organisation.objects.all()}
    done = set(
        ImportBatch.objects.filter(format=ExtractFormat.BOROUGH).values_list("filename", flat=True)
    )
    with transaction.atomic():
        if ESTABLISHMENT_FILE not in done:
            summary = services.establishment_import(
                rows=establishment_rows(borough / ESTABLISHMENT_FILE, kinds),
                filename=ESTABLISHMENT_FILE,
            )
            ImportBatch.objects.filter(pk=summary.batch_id).update(format=ExtractFormat.BOROUGH)
        progress("workforce establishment", 1, 2)
        if STAFF_FILE not in done:
            services.staff_import(
                rows=staff_rows(borough / STAFF_FILE, kinds),
                fmt=ExtractFormat.BOROUGH,
                filename=STAFF_FILE,
            )
        _contacts()
    progress("workforce staff", 2, 2)

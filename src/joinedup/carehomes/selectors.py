"""Reads of the register, and of the residents of its homes (always scoped and audited).

A person lives in a care home when the shared record's address for them is the home's
(the home's name in the address line, at the home's postcode): that is how every source
system records a resident. The weekly round list reads residents only through
``Person.objects.visible_to(user)`` and audits each one it shows.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Max, Q
from django.utils import timezone

from joinedup.carehomes.models import AlignmentChange, CareHome, PracticeSite, RegisterImport
from joinedup.core.access import require_permission
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Organisation, OrganisationKind, User
from joinedup.core.roles import Permission
from joinedup.errors import NotFound
from joinedup.people.models import Person
from joinedup.population.services import frailty_category
from joinedup.record.models import Fact, FactKind

LIVES_IN_CARE_HOME = "248171000000108"  # SNOMED CT: Lives in care home (finding)
FALL_CODES = frozenset({"161898004", "1912002", "279992002"})  # falls, fall, recurrent falls
NEW_ADMISSION_DAYS = 28
RECENT_DISCHARGE_DAYS = 14
RECENT_FALL_DAYS = 90
REVIEW_DUE_DAYS = 182  # a resident not seen by a GP in six months is due a review
# How much each reason raises a resident up the list (docs/carehomes.md).
WEIGHTS = {
    "discharge": 5,
    "admission": 4,
    "fall": 3,
    "severe": 2,
    "moderate": 1,
    "review": 2,
}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def postcode_variants(homes: Iterable[CareHome]) -> set[str]:
    out: set[str] = set()
    for home in homes:
        compact = home.postcode.replace(" ", "").upper()
        out |= {home.postcode.upper(), compact, f"{compact[:-3]} {compact[-3:]}"}
    return out


def home_for_address(
    address: str, postcode: str, homes: dict[str, list[CareHome]]
) -> CareHome | None:
    for home in homes.get(postcode.replace(" ", "").upper(), []):
        if _key(home.name) and _key(home.name) in _key(address):
            return home
    return None


def homes_by_postcode(homes: Iterable[CareHome]) -> dict[str, list[CareHome]]:
    out: dict[str, list[CareHome]] = {}
    for home in homes:
        out.setdefault(home.postcode.replace(" ", "").upper(), []).append(home)
    return out


def care_home_residents(person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The care home each of these people lives in (person -> home name); others left out.

    For the care-home flag on a record the caller has already opened (and audited) with
    ``people.services.person_open``: it reads only the people it is given.
    """
    ids = list(person_ids)
    homes = list(CareHome.objects.all())
    if not ids or not homes:
        return {}
    by_postcode = homes_by_postcode(homes)
    rows = (
        Person.objects.for_system("care-home flag of opened records")
        .filter(id__in=ids, postcode__in=postcode_variants(homes), date_of_death__isnull=True)
        .values_list("id", "address", "postcode")
    )
    out: dict[uuid.UUID, str] = {}
    for pid, address, postcode in rows:
        home = home_for_address(address, postcode, by_postcode)
        if home is not None:
            out[pid] = home.name
    return out


# --- the register --------------------------------------------------------------------


def homes_all() -> list[CareHome]:
    return list(
        CareHome.objects.select_related("aligned_practice", "neighbourhood", "organisation")
    )


def home_detail(code: str) -> tuple[CareHome, list[AlignmentChange]]:
    home = (
        CareHome.objects.select_related("aligned_practice", "neighbourhood", "organisation")
        .filter(code=code)
        .first()
    )
    if home is None:
        raise NotFound("there is no care home with this code")
    changes = list(
        AlignmentChange.objects.filter(home=home).select_related(
            "from_practice", "to_practice", "changed_by"
        )[:50]
    )
    return home, changes


def practices_all() -> list[Organisation]:
    return list(Organisation.objects.filter(kind=OrganisationKind.GP_PRACTICE).order_by("name"))


def practice_sites() -> dict[int, PracticeSite]:
    return {s.practice_id: s for s in PracticeSite.objects.all()}


def practice_by_code(code: str) -> Organisation:
    practice = Organisation.objects.filter(
        kind=OrganisationKind.GP_PRACTICE, ods_code=code.upper()
    ).first()
    if practice is None:
        raise NotFound("there is no GP practice with this code")
    return practice


def imports_recent(limit: int = 20) -> list[RegisterImport]:
    return list(RegisterImport.objects.select_related("imported_by")[:limit])


def import_problems(import_id: int) -> RegisterImport:
    found = RegisterImport.objects.filter(pk=import_id).first()
    if found is None:
        raise NotFound("there is no such register import")
    return found


# --- the weekly round list ----------------------------------------------------------------


@dataclass
class RoundEntry:
    person_id: uuid.UUID
    name: str
    nhs_number: str
    age: int | None
    home: CareHome
    moved_in: dt.date | None = None
    last_discharge: dt.date | None = None
    last_fall: dt.date | None = None
    last_gp_contact: dt.date | None = None
    frailty: str = ""
    reasons: list[str] = field(default_factory=list)
    score: int = 0


@dataclass(frozen=True)
class RoundList:
    practice: Organisation
    on: dt.date
    homes: list[CareHome]
    entries: list[RoundEntry]
    hidden: int  # residents of these homes the user has no relationship with
    record_current_to: dt.date | None  # the newest fact in the record


def round_list(*, user: User, practice_code: str, on: dt.date) -> RoundList:
    """Residents of the practice's aligned homes the user may see, most pressing first."""
    require_permission(user, Permission.VIEW_PERSON)
    practice = practice_by_code(practice_code)
    homes = list(CareHome.objects.filter(aligned_practice=practice).order_by("name"))
    entries, hidden = _residents(user, homes, on)
    if entries:
        _facts(user, entries, on)
        for pid, category in frailty_category(entries.keys(), user=user).items():
            entries[pid].frailty = category
    ordered = sorted(entries.values(), key=lambda e: (-_score(e, on), e.home.name, e.name))
    for entry in ordered:
        audit_record(
            actor=user,
            action=AuditAction.READ,
            resource="carehomes.round_list",
            person_id=entry.person_id,
            reason=f"home round list of {practice.ods_code}",
        )
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="carehomes.round_list",
        reason=f"{practice.ods_code} on {on}: {len(ordered)} listed, {hidden} not visible",
    )
    return RoundList(practice, on, homes, ordered, hidden, _newest(user, entries))


def _newest(user: User, entries: dict[uuid.UUID, RoundEntry]) -> dt.date | None:
    """The newest entry in these residents' records: how current the list's signals are."""
    if not entries:
        return None
    newest = (
        Fact.objects.visible_to(user)
        .filter(identity__person_id__in=list(entries))
        .aggregate(m=Max("occurred_at"))["m"]
    )
    return timezone.localdate(newest) if newest else None


def _alive(on: dt.date) -> Q:
    return Q(date_of_death__isnull=True) | Q(date_of_death__gt=on)


def _residents(
    user: User, homes: list[CareHome], on: dt.date
) -> tuple[dict[uuid.UUID, RoundEntry], int]:
    if not homes:
        return {}, 0
    by_postcode = homes_by_postcode(homes)
    near = Q(postcode__in=postcode_variants(homes)) & _alive(on)
    entries: dict[uuid.UUID, RoundEntry] = {}
    for person in Person.objects.visible_to(user).filter(near):
        home = home_for_address(person.address, person.postcode, by_postcode)
        if home is not None:
            entries[person.id] = RoundEntry(
                person.id, person.display_name, person.nhs_number or "", person.age_on(on), home
            )
    everyone = Person.objects.for_system("care home residents counted, not shown").filter(near)
    total = sum(
        home_for_address(a, p, by_postcode) is not None
        for a, p in everyone.values_list("address", "postcode")
    )
    return entries, total - len(entries)


def _latest(facts: Iterable[dict[str, object]]) -> dict[uuid.UUID, dt.date]:
    out: dict[uuid.UUID, dt.date] = {}
    for row in facts:
        when = row["at"]
        if isinstance(when, dt.datetime):
            out[row["identity__person_id"]] = timezone.localdate(when)  # type: ignore[index]
    return out


def _facts(user: User, entries: dict[uuid.UUID, RoundEntry], on: dt.date) -> None:
    end = timezone.make_aware(dt.datetime.combine(on + dt.timedelta(days=1), dt.time()))
    base = Fact.objects.visible_to(user).filter(identity__person_id__in=list(entries))
    queries = {
        "moved_in": (base.filter(kind=FactKind.CONDITION, code=LIVES_IN_CARE_HOME), "occurred_at"),
        "last_discharge": (base.filter(kind=FactKind.ADMISSION, ended_at__lt=end), "ended_at"),
        "last_fall": (base.filter(kind=FactKind.CONDITION, code__in=FALL_CODES), "occurred_at"),
        "last_gp_contact": (base.filter(kind=FactKind.ENCOUNTER, source="gp"), "occurred_at"),
    }
    for attribute, (facts, column) in queries.items():
        rows = (
            facts.filter(**{f"{column}__lt": end})
            .values("identity__person_id")
            .annotate(at=Max(column))
        )
        for pid, when in _latest(rows).items():
            setattr(entries[pid], attribute, when)


def _within(day: dt.date | None, on: dt.date, days: int) -> bool:
    return day is not None and on - dt.timedelta(days=days) < day <= on


def _score(entry: RoundEntry, on: dt.date) -> int:
    """Set the entry's reasons and score; the list is sorted by the score."""
    reasons: list[tuple[str, str]] = []
    if _within(entry.last_discharge, on, RECENT_DISCHARGE_DAYS):
        reasons.append(("discharge", f"Discharged from hospital {entry.last_discharge:%-d %b}"))
    if _within(entry.moved_in, on, NEW_ADMISSION_DAYS):
        reasons.append(("admission", f"New to the home since {entry.moved_in:%-d %b}"))
    if _within(entry.last_fall, on, RECENT_FALL_DAYS):
        reasons.append(("fall", f"Fall recorded {entry.last_fall:%-d %b %Y}"))
    if entry.frailty in ("severe", "moderate"):
        reasons.append((entry.frailty, f"{entry.frailty.capitalize()} frailty"))
    if not _within(entry.last_gp_contact, on, REVIEW_DUE_DAYS):
        seen = (
            f"last seen {entry.last_gp_contact:%-d %b %Y}"
            if entry.last_gp_contact
            else "no GP contact recorded"
        )
        reasons.append(("review", f"Review overdue ({seen})"))
    entry.reasons = [text for _, text in reasons]
    entry.score = sum(WEIGHTS[key] for key, _ in reasons)
    return entry.score

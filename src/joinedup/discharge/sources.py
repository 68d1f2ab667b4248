"""What the tracker reads from the shared record: hospital admissions as delivered, and
what the board's flags are derived from (the hospital's address for its patient, and
adult social care's packages).

The only module of the discharge app that reads the record app's tables, for one system
purpose (the tracker build). It turns each admission fact into a typed ``AdmissionRow``
and says what it could not accept, and why.
(When ``record.selectors`` gains a reader for a delivery's facts, this module calls it.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from joinedup.discharge import flags
from joinedup.record.models import Delivery, DeliveryStatus, Fact, FactKind

PURPOSE = "discharge-tracker-build"
FEED = "hospital"
ADMISSIONS_FILE = "hospital/admissions.csv"


@dataclass
class AdmissionRow:
    spell_id: str
    fact_id: int
    person_id: Any  # UUID or None (not linked yet)
    admitted_at: datetime
    ward_code: str
    ward_name: str
    admission_method: str
    ready_on: date | None
    pathway: int | None
    delay_text: str
    discharged_on: date | None
    destination: str
    died: bool
    problems: list[str] = field(default_factory=list)


def admission_deliveries() -> list[int]:
    """Complete deliveries of the hospital admissions file, oldest first."""
    return list(
        Delivery.objects.filter(feed=FEED, path=ADMISSIONS_FILE, status=DeliveryStatus.COMPLETE)
        .order_by("received_at", "id")
        .values_list("id", flat=True)
    )


_COLUMNS = (
    "id",
    "record_id",
    "occurred_at",
    "ended_at",
    "display",
    "detail",
    "identity__person_id",
)


def admission_rows(delivery_id: int, *, chunk: int = 2000) -> Iterator[list[AdmissionRow]]:
    """The delivery's admissions (those it last sent), in chunks, in spell order."""
    facts = (
        Fact.objects.for_system(PURPOSE)
        .filter(delivery_id=delivery_id, kind=FactKind.ADMISSION, source=FEED)
        .exclude(occurred_at__isnull=True)  # the feed requires it; ingest enforces that
        .order_by("record_id")
        .values_list(*_COLUMNS)
    )
    batch: list[AdmissionRow] = []
    for values in facts.iterator(chunk_size=chunk):
        batch.append(admission_row(*values))
        if len(batch) >= chunk:
            yield batch
            batch = []
    if batch:
        yield batch


def admission_row(
    fact_id: int,
    spell_id: str,
    occurred_at: datetime,
    ended_at: datetime | None,
    display: str,
    detail: dict[str, Any],
    person_id: Any,
) -> AdmissionRow:
    """One admission fact as the tracker needs it; impossible values are set aside with
    the reason (the stay itself is always kept)."""
    problems: list[str] = []
    admitted = occurred_at
    discharged = ended_at.date() if ended_at is not None else None
    ready = _date(detail.get("discharge_ready_date"))
    died = detail.get("died_in_hospital") == "Y"
    if ready is not None and ready < admitted.date():
        problems.append(f"discharge ready date {ready} is before the admission; not used")
        ready = None
    if ready is not None and discharged is not None and ready > discharged:
        problems.append(f"discharge ready date {ready} is after the discharge; not used")
        ready = None
    pathway = _pathway(detail.get("discharge_pathway"))
    if person_id is None:
        problems.append("the patient is not linked to a person yet; kept until linked")
    return AdmissionRow(
        spell_id=spell_id,
        fact_id=fact_id,
        person_id=person_id,
        admitted_at=admitted,
        ward_code=str(detail.get("ward", ""))[:20],
        ward_name=display[:200],
        admission_method=str(detail.get("admission_method", ""))[:4],
        ready_on=ready,
        pathway=pathway,
        delay_text=str(detail.get("delay_reason", "") or ""),
        discharged_on=discharged,
        destination=str(detail.get("destination", "") or "")[:100],
        died=died,
        problems=problems,
    )


def persons_of_facts(fact_ids: Sequence[int]) -> dict[int, Any]:
    """The linked person of each admission fact, where linkage has found one."""
    out: dict[int, Any] = {}
    for start in range(0, len(fact_ids), 2000):
        part = fact_ids[start : start + 2000]
        out.update(
            Fact.objects.for_system(PURPOSE)
            .filter(id__in=part, identity__person_id__isnull=False)
            .values_list("id", "identity__person_id")
        )
    return out


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _pathway(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text in {"0", "1", "2", "3"} else None


# The community services each pathway discharges into, as the record names them.
PATHWAY_SERVICES: dict[int, tuple[str, tuple[str, ...]]] = {
    1: (FactKind.COMMUNITY_REFERRAL, ("Home-based intermediate care",)),
    2: (FactKind.COMMUNITY_REFERRAL, ("Intermediate care bed",)),
    3: (FactKind.PACKAGE, ("Nursing care placement", "Residential care placement")),
}


@dataclass(frozen=True)
class ServiceUse:
    """One pathway's service as the record shows it: finished stays (days) and the
    number in service on the day (no person: counts and durations only)."""

    stays_days: list[float]
    in_service: int


def service_use(pathway: int, *, since: date, today: date) -> ServiceUse:
    """Lengths of the pathway's service episodes that ended since ``since``, and how
    many are open on ``today``."""
    kind, names = PATHWAY_SERVICES[pathway]
    facts = Fact.objects.for_system("discharge-planner-fit").filter(kind=kind, display__in=names)
    rows = facts.filter(ended_at__date__gte=since, ended_at__date__lte=today).values_list(
        "occurred_at", "ended_at"
    )
    stays = [
        (end - start).total_seconds() / 86400.0
        for start, end in rows
        if start is not None and end is not None and end > start
    ]
    open_now = facts.filter(occurred_at__date__lte=today).exclude(ended_at__date__lt=today).count()
    return ServiceUse(stays_days=stays, in_service=open_now)


# --- what the board's flags are derived from ------------------------------------------


def admission_addresses(fact_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """The address and postcode the hospital holds for the patient of each admission."""
    out: dict[int, tuple[str, str]] = {}
    for start in range(0, len(fact_ids), 2000):
        part = fact_ids[start : start + 2000]
        rows = (
            Fact.objects.for_system(PURPOSE)
            .filter(id__in=part)
            .values_list("id", "identity__address", "identity__postcode")
        )
        out.update({i: (address or "", postcode or "") for i, address, postcode in rows})
    return out


def packages_of(person_ids: Sequence[Any]) -> dict[Any, list[flags.Package]]:
    """The adult social care packages (home care, reablement, placements) of these people."""
    out: dict[Any, list[flags.Package]] = {}
    for start in range(0, len(person_ids), 2000):
        part = person_ids[start : start + 2000]
        rows = (
            Fact.objects.for_system(PURPOSE)
            .filter(
                kind=FactKind.PACKAGE,
                identity__person_id__in=part,
                display__in=sorted(flags.SERVICES),
                occurred_at__isnull=False,
            )
            .values_list("identity__person_id", "display", "occurred_at", "ended_at")
        )
        for person_id, service, began, ended in rows:
            if began is None:  # excluded by the filter; here for the type checker
                continue
            out.setdefault(person_id, []).append(
                flags.Package(service, began.date(), ended.date() if ended else None)
            )
    return out

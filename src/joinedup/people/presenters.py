"""View models for person pages: what a page shows, computed once, nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from joinedup.core.nhs_number import format_for_display
from joinedup.people.models import Person
from joinedup.record.models import FactKind
from joinedup.record.selectors import SOURCE_LABELS


@dataclass(frozen=True)
class PersonHeader:
    id: str
    name: str
    nhs_number: str
    date_of_birth: date | None
    age: int | None
    sex: str
    address: str
    postcode: str
    practice: str
    neighbourhood: str
    deceased_on: date | None
    opted_out: bool

    @classmethod
    def of(cls, person: Person, *, today: date) -> PersonHeader:
        practice = person.registered_practice
        return cls(
            id=str(person.id),
            name=person.display_name,
            nhs_number=format_for_display(person.nhs_number) if person.nhs_number else "Not known",
            date_of_birth=person.date_of_birth,
            age=person.age_on(today),
            sex=person.get_sex_display(),
            address=person.address,
            postcode=person.postcode,
            practice=practice.name if practice else "Not registered",
            neighbourhood=(
                practice.neighbourhood.name if practice and practice.neighbourhood else "Not known"
            ),
            deceased_on=person.date_of_death,
            opted_out=person.opted_out_secondary_use,
        )


# What a timeline row's kind and source read as: the record's facts, and the neighbourhood
# teams' MDT minutes (joinedup.neighbourhoods.selectors.timeline_rows).
_KINDS = {**dict(FactKind.choices), "mdt_minutes": "MDT discussion"}
_SOURCES = {**SOURCE_LABELS, "neighbourhoods": "Neighbourhood team"}


@dataclass(frozen=True)
class TimelineEntry:
    when: date | None
    kind: str
    title: str
    detail: str
    source: str
    organisation: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> TimelineEntry:
        """From a timeline row (``record.selectors.timeline``)."""
        kind = _KINDS.get(row["kind"], row["kind"])
        occurred = row["occurred_at"]
        return cls(
            when=occurred.date() if occurred else None,
            kind=kind,
            title=row["display"] or row["code"] or kind,
            detail=_detail(row),
            source=_SOURCES.get(row["source"], row["source"]),
            organisation=row["organisation"],
        )


def _detail(row: dict[str, Any]) -> str:
    extra = row["detail"] or {}
    if row["kind"] == FactKind.ALLERGY:
        return _allergy_detail(row, extra)
    if row["kind"] == FactKind.DIAGNOSTIC_REPORT:
        return _report_detail(row, extra)
    parts = []
    if "systolic" in extra and "diastolic" in extra:
        parts.append(f"{extra['systolic']:g}/{extra['diastolic']:g} mmHg")
    elif row["value"] is not None:
        parts.append(f"{row['value']:g} {row['unit']}".strip())
    if row["ended_at"]:
        parts.append(f"until {row['ended_at']:%-d %b %Y}")
    parts.extend(
        f"{key.replace('_', ' ')}: {extra[key]}"
        for key in ("discharge_pathway", "delay_reason", "team", "provider")
        if extra.get(key) not in (None, "")
    )
    if row["status"]:
        parts.append(row["status"])
    return "; ".join(parts)


def _allergy_detail(row: dict[str, Any], extra: dict[str, Any]) -> str:
    """Category, criticality, reaction and how sure the record is, e.g.
    "medication; high criticality; reaction: Anaphylaxis (disorder); confirmed; active"."""
    parts = [str(extra["category"])] if extra.get("category") else []
    if extra.get("criticality"):
        parts.append(f"{extra['criticality']} criticality")
    if extra.get("reaction"):
        parts.append(f"reaction: {extra['reaction']}")
    parts.extend(str(extra[key]) for key in ("verification",) if extra.get(key))
    if row["status"]:
        parts.append(row["status"])
    return "; ".join(parts)


def _report_detail(row: dict[str, Any], extra: dict[str, Any]) -> str:
    """How many results the report gives and when it was issued."""
    results = sum(1 for key, value in extra.items() if key.startswith("result_") and value)
    parts = [f"{results} result{'s' if results != 1 else ''}"]
    if extra.get("issued"):
        parts.append(f"issued {str(extra['issued'])[:10]}")
    if row["status"]:
        parts.append(row["status"])
    return "; ".join(parts)

"""View models for person pages: what a page shows, computed once, nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from joinedup.core.nhs_number import format_for_display
from joinedup.people.models import Person
from joinedup.record.models import Fact
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
            deceased_on=person.date_of_death,
            opted_out=person.opted_out_secondary_use,
        )


@dataclass(frozen=True)
class TimelineEntry:
    when: date | None
    kind: str
    title: str
    detail: str
    source: str
    organisation: str

    @classmethod
    def of(cls, fact: Fact) -> TimelineEntry:
        return cls(
            when=fact.occurred_at.date() if fact.occurred_at else None,
            kind=fact.get_kind_display(),
            title=fact.display or fact.code or fact.get_kind_display(),
            detail=_detail(fact),
            source=SOURCE_LABELS.get(fact.source, fact.source),
            organisation=fact.organisation,
        )


def _detail(fact: Fact) -> str:
    parts = []
    extra = fact.detail or {}
    if "systolic" in extra and "diastolic" in extra:
        parts.append(f"{extra['systolic']:g}/{extra['diastolic']:g} mmHg")
    elif fact.value is not None:
        parts.append(f"{fact.value:g} {fact.unit}".strip())
    if fact.ended_at:
        parts.append(f"until {fact.ended_at:%-d %b %Y}")
    for key in ("discharge_pathway", "delay_reason", "team", "provider"):
        if extra.get(key) not in (None, ""):
            label = key.replace("_", " ")
            parts.append(f"{label}: {extra[key]}")
    if fact.status:
        parts.append(fact.status)
    return "; ".join(parts)

"""Reads of the shared record: a person's timeline and summaries, always scoped to the reader."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from joinedup.record.models import Fact, FactKind

if TYPE_CHECKING:
    from joinedup.core.models import User
    from joinedup.people.models import Person

SOURCE_LABELS = {
    "gp": "GP practice",
    "hospital": "Hospital",
    "community": "Community services",
    "socialcare_adults": "Adult social care",
    "socialcare_children": "Children's social care",
    "hospice": "Hospice",
    "deaths": "Death registration",
    "fhir-api": "Other systems (FHIR API)",  # record.writes.API_SOURCE: written one by one
}


@dataclass(frozen=True)
class TimelineFilter:
    sources: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()


def person_facts(*, user: User, person: Person) -> QuerySet[Fact]:
    """Every fact about a person the user has opened (``people.services.person_open``)."""
    if person.opened_for != user.pk:
        return Fact.objects.visible_to(user).filter(identity__person=person)
    return Fact.objects.of_opened_person(person)


TIMELINE_COLUMNS = (
    "occurred_at",
    "ended_at",
    "kind",
    "code",
    "display",
    "value",
    "unit",
    "status",
    "source",
    "organisation",
    "detail",
)


def timeline(
    *, user: User, person: Person, only: TimelineFilter = TimelineFilter(), limit: int = 500
) -> list[dict[str, Any]]:
    """The newest ``limit`` facts as plain rows, newest first, narrowed to the chosen
    sources and kinds (rows, not model instances: a long timeline renders fast)."""
    facts = person_facts(user=user, person=person)
    if only.sources:
        facts = facts.filter(source__in=only.sources)
    if only.kinds:
        facts = facts.filter(kind__in=only.kinds)
    return list(facts.order_by("-occurred_at", "-id").values(*TIMELINE_COLUMNS)[:limit])


def counts_by_source(*, user: User, person: Person) -> Counter[str]:
    rows = person_facts(user=user, person=person).values_list("source", flat=True)
    return Counter(rows)


def active_problems(*, user: User, person: Person) -> list[Fact]:
    """Conditions recorded as active, one per code, most recent first."""
    facts = person_facts(user=user, person=person).filter(kind=FactKind.CONDITION, status="active")
    return _latest_per_code(facts)


def current_medications(*, user: User, person: Person) -> list[Fact]:
    """Medicines recorded as active and not ended, one per code."""
    facts = person_facts(user=user, person=person).filter(
        kind=FactKind.MEDICATION, status="active", ended_at__isnull=True
    )
    return _latest_per_code(facts)


def _latest_per_code(facts: QuerySet[Fact]) -> list[Fact]:
    seen: set[str] = set()
    out = []
    for fact in facts.order_by("-occurred_at", "-id"):
        if fact.code not in seen:
            seen.add(fact.code)
            out.append(fact)
    return out


SAFEGUARDING = {
    FactKind.CHILD_REFERRAL: ("Child protection plan", "Child in need"),
    FactKind.ASSESSMENT: ("Safeguarding enquiry",),
}


def safeguarding_flag(*, user: User, person: Person) -> str:
    """The most recent safeguarding record's title that has not ended, or "" when there is
    none (a plan that ended, say a child protection plan closed at review, is no flag)."""
    facts = person_facts(user=user, person=person).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=timezone.now())
    )
    for kind, titles in SAFEGUARDING.items():
        found = (
            facts.filter(kind=kind, display__in=titles)
            .order_by("-occurred_at")
            .values_list("display", flat=True)
            .first()
        )
        if found:
            return found
    return ""

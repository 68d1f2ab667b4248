"""Reads of person-level data, always scoped to the user asking."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from joinedup.core.models import BreakGlassGrant, User
from joinedup.errors import NotFound
from joinedup.people.models import CareRelationship, LinkReview, Person, ReviewStatus
from joinedup.record.models import Fact, FactKind
from joinedup.record.selectors import person_facts


def people_cared_for(*, user: User) -> QuerySet[Person]:
    """Everyone the user's teams have a live relationship with, for the caseload list."""
    return Person.objects.visible_to(user).select_related(
        "registered_practice", "registered_practice__neighbourhood"
    )


def person_relationships(*, person: Person) -> QuerySet[CareRelationship]:
    """The care relationships of a person the caller has already opened through person_open."""
    today = timezone.localdate()
    return (
        CareRelationship.objects.filter(person=person, started_on__lte=today)
        .exclude(ended_on__lt=today)
        .select_related("team", "team__organisation", "user")
    )


def person_allergies(*, user: User, person: Person) -> list[Fact]:
    """Allergies recorded as active (and not refuted or entered in error), one per code,
    most recent first: the person header shows them beside current medicines."""
    facts = person_facts(user=user, person=person).filter(kind=FactKind.ALLERGY, status="active")
    seen: set[str] = set()
    out = []
    for fact in facts.order_by("-occurred_at", "-id"):
        if (fact.detail or {}).get("verification") in {"refuted", "entered-in-error"}:
            continue
        if fact.code not in seen:
            seen.add(fact.code)
            out.append(fact)
    return out


def live_break_glass(*, user: User, person: Person) -> BreakGlassGrant | None:
    """The user's live break-glass grant for this person, if their access depends on one."""
    return (
        BreakGlassGrant.objects.filter(
            user=user, person_id=person.id, expires_at__gt=timezone.now()
        )
        .order_by("-expires_at")
        .first()
    )


def reviews_pending(*, limit: int) -> QuerySet[LinkReview]:
    """Possible matches waiting for a reviewer (REVIEW_LINKS only: checked by the caller)."""
    return (
        LinkReview.objects.for_system("person index review")
        .filter(status=ReviewStatus.PENDING)
        .select_related("left", "right")
        .order_by("-match_probability", "id")[:limit]
    )


def review_for(*, review_id: int) -> LinkReview:
    review = (
        LinkReview.objects.for_system("person index review")
        .select_related("left", "right", "decided_by")
        .filter(id=review_id)
        .first()
    )
    if review is None:
        raise NotFound("no such possible match")
    return review

"""Frailty in the direct care zone: identifiable, scoped to the user, audited.

These functions never touch the warehouse. They read people and their coded records
only through ``Person.objects.visible_to(user)`` and ``Fact.objects.visible_to(user)``,
compute the eFI with the same kernel the planning zone uses, and write an audit event
for what they read. The neighbourhoods app calls ``frailty_category`` for its caseloads.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, User
from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied, ConfigurationError
from joinedup.people.models import Person, RelationshipKind
from joinedup.population import efi as efi_kernel
from joinedup.population import indicators, selectors
from joinedup.record.models import Fact, FactKind

FRAIL = ("moderate", "severe")
_KINDS = (
    FactKind.CONDITION,
    FactKind.OBSERVATION,
    FactKind.ENCOUNTER,
    FactKind.MEDICATION,
    FactKind.COMMUNITY_REFERRAL,
)


def _reference() -> efi_kernel.EfiReference:
    reference = selectors.efi_reference()
    if reference is None:
        raise ConfigurationError(
            "the eFI code lists are not installed", where=selectors.EFI_VARIABLE
        )
    return reference


def _require_direct_care(user: User) -> None:
    if not user.has_role_permission(Permission.VIEW_PERSON):
        raise AccessDenied("your role does not give access to care records")


def _categories(user: User, people: list[dict[str, Any]], today: dt.date) -> dict[uuid.UUID, str]:
    """eFI category of each (visible, 65+) person, from their coded records."""
    if not people:
        return {}
    index = {p["id"]: i for i, p in enumerate(people)}
    window = today - dt.timedelta(days=efi_kernel.POLYPHARMACY_WINDOW_DAYS)
    facts = (
        Fact.objects.visible_to(user)
        .filter(identity__person_id__in=list(index), kind__in=_KINDS)
        .exclude(code="")
        .filter(
            ~Q(kind=FactKind.MEDICATION) | Q(ended_at__isnull=True) | Q(ended_at__date__gte=window)
        )
        .values_list("identity__person_id", "kind", "code", "value")
    )
    events = [
        {"pseudonym": pid, "kind": kind, "code": code, "value": value}
        for pid, kind, code, value in facts.iterator(chunk_size=20_000)
    ]
    result = efi_kernel.efi(
        len(people), reference=_reference(), **indicators.efi_inputs(events, index, people)
    )
    return {p["id"]: str(result.category[i]) for i, p in enumerate(people)}


def _older(queryset: Any, today: dt.date) -> list[dict[str, Any]]:
    born_by = (
        today.replace(year=today.year - efi_kernel.MIN_AGE)
        if not (today.month == 2 and today.day == 29)
        else dt.date(today.year - efi_kernel.MIN_AGE, 2, 28)
    )
    return list(
        queryset.filter(date_of_death__isnull=True, date_of_birth__lte=born_by).values(
            "id", "sex", "date_of_birth"
        )
    )


def frailty_category(person_ids: Iterable[uuid.UUID], *, user: User) -> dict[uuid.UUID, str]:
    """eFI category ("fit", "mild", "moderate", "severe") of each person the user may see.

    People the user has no relationship with, and people under 65 or dead, are left out
    of the answer (the eFI is for people aged 65 and over). Each person answered for is
    audited as a read of ``population.frailty``.
    """
    _require_direct_care(user)
    today = timezone.localdate()
    people = _older(Person.objects.visible_to(user).filter(id__in=list(person_ids)), today)
    categories = _categories(user, people, today)
    for person_id in categories:
        audit_record(
            actor=user, action=AuditAction.READ, resource="population.frailty", person_id=person_id
        )
    return categories


@dataclass(frozen=True)
class FrailPerson:
    id: uuid.UUID
    name: str
    nhs_number: str
    date_of_birth: dt.date | None
    age: int | None
    practice: str
    category: str


def frail_not_on_caseload(*, user: User) -> list[FrailPerson]:
    """Moderately or severely frail people the user may see who are on no caseload of
    the user's teams: the people an Integrated Neighbourhood Team may want to reach."""
    _require_direct_care(user)
    today = timezone.localdate()
    visible = Person.objects.visible_to(user)
    live = Q(relationships__ended_on__isnull=True) | Q(relationships__ended_on__gte=today)
    on_caseload = visible.filter(
        live,
        relationships__kind=RelationshipKind.CASELOAD,
        relationships__team__in=user.teams.all(),
    ).values("id")
    people = _older(visible.exclude(id__in=on_caseload), today)
    categories = _categories(user, people, today)
    frail_ids = [pid for pid, category in categories.items() if category in FRAIL]
    rows = visible.filter(id__in=frail_ids).select_related("registered_practice")
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="population.frail_not_on_caseload",
        reason=f"{len(frail_ids)} people listed",
    )
    out = [
        FrailPerson(
            p.id,
            p.display_name,
            p.nhs_number or "",
            p.date_of_birth,
            p.age_on(today),
            p.registered_practice.name if p.registered_practice else "Not known",
            categories[p.id],
        )
        for p in rows
    ]
    return sorted(out, key=lambda f: (f.category != "severe", -(f.age or 0), f.name))

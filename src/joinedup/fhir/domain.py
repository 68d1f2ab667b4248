"""The FHIR app's one seam onto the shared record's other apps.

Every read of another app's rows goes through here, and always through that app's scoped
querysets (``visible_to(user)``, or ``for_system`` with a named purpose for an existence
check that answers only yes or no). If ``people`` or ``record`` grow selectors for these
reads, only this module changes.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from joinedup.core.models import AuditEvent, Organisation
from joinedup.core.roles import Permission
from joinedup.people.models import Person
from joinedup.people.selectors import people_cared_for
from joinedup.record.models import Fact

if TYPE_CHECKING:
    from joinedup.core.models import User

_EXISTS = "fhir existence check"


def people(user: User) -> QuerySet[Person]:
    return people_cared_for(user=user)


def person_exists(person_id: Any) -> bool:
    return Person.objects.for_system(_EXISTS).filter(id=person_id).exists()


def facts(user: User) -> QuerySet[Fact]:
    return Fact.objects.visible_to(user)


def fact_exists(fact_id: Any, kinds: tuple[str, ...]) -> bool:
    return Fact.objects.for_system(_EXISTS).filter(id=fact_id, kind__in=kinds).exists()


def organisations(user: User) -> QuerySet[Organisation]:  # noqa: ARG001 - the interface
    """Organisations are public reference data (ODS): any signed-in caller may read them."""
    return Organisation.objects.all()


def audit_events(user: User) -> QuerySet[AuditEvent]:
    """The audit trail, for those whose role is to review it; nobody else sees any of it."""
    if user.has_role_permission(Permission.VIEW_AUDIT):
        return AuditEvent.objects.all()
    return AuditEvent.objects.none()


def person_ids_visible(user: User, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    return set(people(user).filter(id__in=ids).values_list("id", flat=True))

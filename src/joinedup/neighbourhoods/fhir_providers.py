"""The neighbourhood teams' resources on the FHIR facade: CarePlan, Task, ServiceRequest.

Each is read-only over FHIR, through the same scoped querysets as the web pages (so the
same people are visible, and every read is audited by the facade). Registered when the
app is ready, after the FHIR app's own providers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from joinedup.fhir import providers
from joinedup.fhir import search as fs
from joinedup.neighbourhoods.fhir_mapping import (
    REFERRAL_STATUS,
    TASK_STATUS,
    careplan_to_fhir,
    servicerequest_to_fhir,
    task_to_fhir,
)
from joinedup.neighbourhoods.models import CarePlan, Referral, Task

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from django.db.models import QuerySet

    from joinedup.core.models import User

P = fs.SearchParam


def _patient(field: str) -> P:
    return P("patient", "reference", (field,), "Whose it is", targets=("Patient",))


def _codes(table: Mapping[Any, str]) -> Any:
    """A FHIR status code → the stored statuses it stands for."""

    def stored(code: str) -> Iterable[str] | None:
        found = [ours for ours, theirs in table.items() if theirs == code]
        return found or None

    return stored


def _plans(user: User) -> QuerySet[CarePlan]:
    return CarePlan.objects.visible_to(user)


def _tasks(user: User) -> QuerySet[Task]:
    return Task.objects.visible_to(user).select_related("owner")


def _referrals(user: User) -> QuerySet[Referral]:
    return Referral.objects.visible_to(user).select_related("team")


def register() -> None:
    providers.registered()  # the FHIR app's own first: the registry loads them when empty
    providers.register(
        providers.ModelProvider(
            resource_type="CarePlan",
            model=CarePlan,
            queryset=_plans,
            to_fhir=careplan_to_fhir,
            last_updated_field="updated_at",
            params={"patient": _patient("person_id"), "subject": _patient("person_id")},
            id_field="id",
            person_field="person_id",
            patient_param="patient",
            documentation="The shared care plan (one per person, versioned in the app); read-only.",
        )
    )
    providers.register(
        providers.ModelProvider(
            resource_type="Task",
            model=Task,
            queryset=_tasks,
            to_fhir=task_to_fhir,
            last_updated_field="created_at",
            params={
                "patient": _patient("person_id"),
                "status": P("status", "token", ("status",), "Status", code_map=_codes(TASK_STATUS)),
            },
            id_field="id",
            person_field="person_id",
            patient_param="patient",
            documentation="Neighbourhood team tasks; read-only. lastUpdated is when it was set.",
        )
    )
    providers.register(
        providers.ModelProvider(
            resource_type="ServiceRequest",
            model=Referral,
            queryset=_referrals,
            to_fhir=servicerequest_to_fhir,
            last_updated_field="created_at",
            params={
                "patient": _patient("person_id"),
                "subject": _patient("person_id"),
                "status": P(
                    "status", "token", ("status",), "Status", code_map=_codes(REFERRAL_STATUS)
                ),
            },
            id_field="id",
            person_field="person_id",
            patient_param="patient",
            documentation=(
                "Referrals through the front door; read-only. lastUpdated is when it was made."
            ),
        )
    )

"""The neighbourhood teams' resources on the FHIR facade: CarePlan, CareTeam, Task,
ServiceRequest.

Each is read-only over FHIR, through the same scoped querysets as the web pages (so the
same people are visible, and every read is audited by the facade). Registered when the
app is ready, after the FHIR app's own providers.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from joinedup.fhir import providers
from joinedup.fhir import search as fs
from joinedup.neighbourhoods.fhir_mapping import (
    REFERRAL_STATUS,
    TASK_STATUS,
    careplan_to_fhir,
    careteam_to_fhir,
    servicerequest_to_fhir,
    task_to_fhir,
)
from joinedup.neighbourhoods.models import CarePlan, CaseloadEntry, Referral, Task

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


def _caseload(user: User) -> QuerySet[CaseloadEntry]:
    return (
        CaseloadEntry.objects.visible_to(user)
        .select_related("team__organisation", "key_worker__organisation")
        .prefetch_related("team__members__organisation")
    )


def _care_team(entry: CaseloadEntry) -> dict[str, Any]:
    """A team's caseload entry for a person, as the CareTeam caring for them (its id is the
    entry's: a person has one open entry per team)."""
    body = careteam_to_fhir(
        person_id=entry.person_id,
        team=entry.team,
        members=list(entry.team.members.all()),
        key_worker=entry.key_worker,
    )
    body["id"] = str(entry.pk)
    if entry.ended_on is not None:
        body["status"] = "inactive"
    return body


class _CareTeamProvider(providers.ModelProvider):
    """Caseload entries as CareTeams; an entry whose risk was never worked out is dated
    from the day it started."""

    def render(self, row: Any) -> providers.Resource:
        moment = row.risk_updated_at or datetime.combine(row.started_on, time.min, tzinfo=UTC)
        body = self.to_fhir(row)
        body["meta"] = providers.meta(1, moment, self.profile)
        return providers.Resource(self.resource_type, body["id"], body, 1, moment, row.person_id)


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
        _CareTeamProvider(
            resource_type="CareTeam",
            model=CaseloadEntry,
            queryset=_caseload,
            to_fhir=_care_team,
            last_updated_field="risk_updated_at",
            params={"patient": _patient("person_id"), "subject": _patient("person_id")},
            id_field="id",
            person_field="person_id",
            patient_param="patient",
            documentation=(
                "The neighbourhood team caring for a person (from its caseload), its members "
                "and key worker; read-only. lastUpdated is when its risk was last worked out."
            ),
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

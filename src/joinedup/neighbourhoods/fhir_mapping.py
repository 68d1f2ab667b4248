"""Neighbourhood records as FHIR R4 JSON: CarePlan, its Goals, CareTeam, Task and
ServiceRequest.

Pure mapping: each function takes rows the caller has already read through the access
boundary and returns a dict that validates as ``fhir.resources.R4B`` (the tests check it).
They read no database beyond the rows' own foreign keys and write no audit: the FHIR
facade that calls them does both. People are referenced as ``Patient/<person id>``, staff
as ``Practitioner/<user id>`` (with their name), and each goal of a care plan is a Goal of
its own, ``Goal/<care plan id>-<goal id>``, which the plan references.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from joinedup.core.models import Team, User
from joinedup.fhir.practitioners import practitioner_reference
from joinedup.neighbourhoods.models import (
    CarePlan,
    CaseloadEntry,
    Referral,
    ReferralStatus,
    Task,
    TaskStatus,
)

IDENTIFIER_SYSTEM = "https://joinedup.invalid/fhir/identifier"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
NEED_SYSTEM = "https://joinedup.invalid/fhir/CodeSystem/referral-need"
GOAL_STATUS_SYSTEM = "http://hl7.org/fhir/goal-status"


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _patient(person_id: object) -> dict[str, str]:
    return {"reference": f"Patient/{person_id}"}


# A goal's own id goes into its FHIR id when it is short and uses FHIR's id characters;
# otherwise (ids come from the API and forms) a hash of it does, so the id stays stable.
_FHIR_SAFE = re.compile(r"[A-Za-z0-9.\-]{1,40}")


def goal_key(goal: dict[str, Any], index: int) -> str:
    """The goal's part of its FHIR id (stable while the goal keeps its own id)."""
    own = str(goal.get("id") or "")
    if not own:
        return f"i{index}"
    if _FHIR_SAFE.fullmatch(own):
        return own
    return "sha-" + hashlib.sha256(own.encode()).hexdigest()[:20]


def goal_id(plan: CarePlan, goal: dict[str, Any], index: int) -> str:
    return f"{plan.pk}-{goal_key(goal, index)}"


def goal_to_fhir(plan: CarePlan, goal: dict[str, Any], index: int) -> dict[str, Any]:
    """One goal of the plan. The plan keeps no status per goal: a goal in the plan is
    active, and one taken out of it is no longer served."""
    return {
        "resourceType": "Goal",
        "id": goal_id(plan, goal, index),
        "lifecycleStatus": "active",
        "description": {"text": goal["text"]},
        "subject": _patient(plan.person_id),
    }


def careplan_to_fhir(plan: CarePlan) -> dict[str, Any]:
    """The shared care plan: its goals by reference (each a Goal of its own), actions as
    activities with who does them, the last to save it as contributor, "what matters to
    me", the contingency plan and the review date as notes."""
    subject = _patient(plan.person_id)
    notes = [{"text": WHAT_MATTERS_NOTE + plan.what_matters}]
    if plan.contingency:
        notes.append({"text": CONTINGENCY_NOTE + plan.contingency})
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(plan.pk),
        "meta": {"versionId": str(plan.version), "lastUpdated": _instant(plan.updated_at)},
        "status": "active",
        "intent": "plan",
        "title": "Shared care plan",
        "subject": subject,
        "note": notes,
    }
    if plan.goals:
        resource["goal"] = [
            {"reference": f"Goal/{goal_id(plan, goal, n)}", "display": goal["text"]}
            for n, goal in enumerate(plan.goals)
        ]
    if plan.updated_by is not None:
        resource["contributor"] = [practitioner_reference(plan.updated_by)]
    if plan.actions:
        resource["activity"] = [_activity(action) for action in plan.actions]
    if plan.review_on:
        resource["period"] = {"end": plan.review_on.isoformat()}
        notes.append({"text": REVIEW_NOTE + plan.review_on.isoformat()})
    return resource


def _activity(action: dict[str, str]) -> dict[str, Any]:
    return {
        "detail": {
            "status": "in-progress",
            "description": action["text"],
            "performer": [
                {"display": f"{action['responsible']}, {action['organisation']}".strip(", ")}
            ],
        }
    }


def careteam_to_fhir(
    *,
    person_id: object,
    team: Team,
    members: Sequence[User],
    key_worker: User | None = None,
) -> dict[str, Any]:
    """The team caring for one person: its members by role, the key worker first."""
    ordered = ([key_worker] if key_worker else []) + [m for m in members if m != key_worker]
    participants = []
    for member in ordered:
        role = member.role_label + (" (key worker)" if member == key_worker else "")
        participant: dict[str, Any] = {
            "role": [{"text": role}],
            "member": practitioner_reference(member),
        }
        if member.organisation is not None:
            participant["onBehalfOf"] = {
                "identifier": {"system": ODS_SYSTEM, "value": member.organisation.ods_code},
                "display": member.organisation.name,
            }
        participants.append(participant)
    resource: dict[str, Any] = {
        "resourceType": "CareTeam",
        "id": f"careteam-{team.pk}-{person_id}",
        "status": "active",
        "name": team.name,
        "subject": _patient(person_id),
        "managingOrganization": [
            {
                "identifier": {"system": ODS_SYSTEM, "value": team.organisation.ods_code},
                "display": team.organisation.name,
            }
        ],
    }
    if participants:
        resource["participant"] = participants
    return resource


# The notes a written resource's text is read from (and rendered with): each says what it
# holds, so a client's note is kept in its place or refused, never dropped.
WHAT_MATTERS_NOTE = "What matters to me: "
CONTINGENCY_NOTE = "Contingency plan: "
REVIEW_NOTE = "Review by "
LEFT_CASELOAD_NOTE = "Left the caseload: "
SAFEGUARDING_NOTE = "Safeguarding concern raised by the referrer"
CONSENT_NOTE = "The person agrees to the referral"
TRIAGE_NOTE = "Triage note: "
OUTCOME_NOTE = "Outcome: "


def caseload_entry_to_fhir(entry: CaseloadEntry) -> dict[str, Any]:
    """A team's caseload entry for a person, as the CareTeam caring for them (its id is the
    entry's: a person has one open entry per team), with why they are on the caseload and,
    once they have left it, why."""
    body = careteam_to_fhir(
        person_id=entry.person_id,
        team=entry.team,
        members=list(entry.team.members.all()),
        key_worker=entry.key_worker,
    )
    body["id"] = str(entry.pk)
    if entry.reason:
        body["reasonCode"] = [{"text": entry.reason}]
    if entry.ended_on is not None:
        body["status"] = "inactive"
        body["period"] = {"start": _day(entry.started_on), "end": _day(entry.ended_on)}
        if entry.end_reason:
            body["note"] = [{"text": LEFT_CASELOAD_NOTE + entry.end_reason}]
    else:
        body["period"] = {"start": _day(entry.started_on)}
    return body


TASK_STATUS = {
    TaskStatus.OPEN: "requested",
    TaskStatus.DONE: "completed",
    TaskStatus.CANCELLED: "cancelled",
}


def task_to_fhir(task: Task) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(task.pk),
        "status": TASK_STATUS[TaskStatus(task.status)],
        "intent": "order",
        "description": task.title,
        "authoredOn": _instant(task.created_at),
        "owner": practitioner_reference(task.owner),
        "restriction": {"period": {"end": _day(task.due_on)}},
    }
    if task.person_id is not None:
        resource["for"] = _patient(task.person_id)
    if task.completed_at is not None:
        resource["executionPeriod"] = {"end": _instant(task.completed_at)}
    if task.detail:
        resource["note"] = [{"text": task.detail}]
    return resource


def _day(day: date) -> str:
    return day.isoformat()


REFERRAL_STATUS = {
    ReferralStatus.DRAFT: "draft",
    ReferralStatus.RECEIVED: "active",
    ReferralStatus.TRIAGED: "active",
    ReferralStatus.REDIRECTED: "active",
    ReferralStatus.ACCEPTED: "active",
    ReferralStatus.CLOSED: "completed",
}


def servicerequest_to_fhir(referral: Referral) -> dict[str, Any]:
    """A front-door referral: who it is for, what is needed, how urgently, and the team it
    is with now (the performer)."""
    subject = (
        _patient(referral.person_id)
        if referral.person_id
        else {"display": referral.display_name or "Not yet identified"}
    )
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": referral.reference}],
        "status": REFERRAL_STATUS[ReferralStatus(referral.status)],
        "intent": "order",
        "subject": subject,
    }
    if referral.urgency:
        resource["priority"] = "urgent" if referral.urgency == "urgent" else "routine"
    if referral.need:
        resource["code"] = {
            "coding": [
                {
                    "system": NEED_SYSTEM,
                    "code": referral.need,
                    "display": referral.get_need_display(),
                }
            ],
            "text": referral.get_need_display(),
        }
    if referral.reason:
        resource["reasonCode"] = [{"text": referral.reason}]
    if referral.received_at:
        resource["authoredOn"] = _instant(referral.received_at)
    if referral.referrer_name:
        resource["requester"] = {"display": referral.referrer_name}
    if referral.team is not None:
        resource["performer"] = [{"display": referral.team.name}]
    notes = [
        text
        for text, shown in (
            (SAFEGUARDING_NOTE, referral.safeguarding),
            (CONSENT_NOTE, referral.consent),
            (TRIAGE_NOTE + referral.triage_note, bool(referral.triage_note)),
            (OUTCOME_NOTE + referral.outcome, bool(referral.outcome)),
        )
        if shown
    ]
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    return resource

"""Neighbourhood endpoints of the JSON API (mounted at /api/neighbourhoods/): the front
door, referral actions, caseloads, worklists and care plans. The same services, access
rules and audit as the web pages; typed schemas in and out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from joinedup.core.access import require_user
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction
from joinedup.neighbourhoods import selectors, services
from joinedup.neighbourhoods.errors import PlanConflict
from joinedup.neighbourhoods.models import CarePlan, Referral
from joinedup.people import services as people_services

router = Router(tags=["neighbourhoods"])


class ReferralIn(Schema):
    referrer_name: str = ""
    referrer_contact: str = ""
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    nhs_number: str = ""
    address: str = ""
    postcode: str = ""
    contact_phone: str = ""
    need: str = ""
    urgency: str = ""
    safeguarding: bool = False
    reason: str = ""
    consent: bool = False


class EventOut(Schema):
    at: datetime
    status: str
    team: str | None
    reason: str


class ReferralOut(Schema):
    id: int
    reference: str
    status: str
    team: str | None
    received_at: datetime | None
    triage_due_at: datetime | None
    breached: bool
    history: list[EventOut]


def _referral_out(referral: Referral) -> ReferralOut:
    return ReferralOut(
        id=referral.pk,
        reference=referral.reference,
        status=referral.status,
        team=referral.team.name if referral.team else None,
        received_at=referral.received_at,
        triage_due_at=referral.triage_due_at,
        breached=selectors.breached(referral),
        history=[
            EventOut(
                at=e.at,
                status=e.status_to,
                team=e.to_team.name if e.to_team else None,
                reason=e.reason,
            )
            for e in referral.events.select_related("to_team")
        ],
    )


def _form(body: ReferralIn) -> dict[str, str]:
    born = body.date_of_birth
    return {
        "referrer_kind": "professional",
        "referrer_name": body.referrer_name,
        "referrer_contact": body.referrer_contact,
        "given_name": body.given_name,
        "family_name": body.family_name,
        "dob-day": str(born.day) if born else "",
        "dob-month": str(born.month) if born else "",
        "dob-year": str(born.year) if born else "",
        "nhs_number": body.nhs_number,
        "address": body.address,
        "postcode": body.postcode,
        "contact_phone": body.contact_phone,
        "need": body.need,
        "urgency": body.urgency,
        "safeguarding": "yes" if body.safeguarding else "no",
        "reason": body.reason,
        "consent": "yes" if body.consent else "no",
    }


@router.post("/referrals", response={201: ReferralOut}, url_name="referral-create")
def referral_create(request: HttpRequest, body: ReferralIn) -> Status[ReferralOut]:
    """Send a referral through the front door; field problems keep it as a draft (400)."""
    user = require_user(request)
    draft = services.referral_draft_save(form=_form(body), user=user)
    referral = services.referral_submit(referral=draft, user=user)
    return Status(201, _referral_out(referral))


@router.get("/referrals/{referral_id}", response=ReferralOut, url_name="referral")
def referral_get(request: HttpRequest, referral_id: int) -> ReferralOut:
    user = require_user(request)
    referral = selectors.referral_detail(user=user, referral_id=referral_id)
    audit_record(
        actor=user, action=AuditAction.READ, resource=f"neighbourhoods.referral:{referral.pk}"
    )
    return _referral_out(referral)


class ActionIn(Schema):
    note: str = ""
    team_id: int | None = None
    reason: str = ""
    caseload_reason: str = ""
    key_worker_id: int | None = None
    outcome: str = ""


@router.post("/referrals/{referral_id}/{action}", response=ReferralOut, url_name="referral-act")
def referral_act(
    request: HttpRequest, referral_id: int, action: str, body: ActionIn
) -> ReferralOut:
    """triage, accept, redirect or close; a wrong state is a 409."""
    user = require_user(request)
    acts: dict[str, Any] = {
        "triage": lambda: services.referral_triage(
            user=user, referral_id=referral_id, note=body.note
        ),
        "accept": lambda: services.referral_accept(
            user=user,
            referral_id=referral_id,
            caseload_reason=body.caseload_reason,
            key_worker_id=body.key_worker_id,
        ),
        "redirect": lambda: services.referral_redirect(
            user=user, referral_id=referral_id, team_id=body.team_id, reason=body.reason
        ),
        "close": lambda: services.referral_close(
            user=user, referral_id=referral_id, outcome=body.outcome
        ),
    }
    if action not in acts:
        from joinedup.errors import NotFound

        raise NotFound("the actions are triage, accept, redirect and close", where="action")
    return _referral_out(acts[action]())


class CaseloadOut(Schema):
    person_id: uuid.UUID
    name: str
    nhs_number: str
    reason: str
    key_worker: str
    frailty: str
    emergency_admissions: int | None
    lives_alone: str
    last_contact_on: date | None
    next_review_on: date | None
    open_tasks: int


@router.get("/teams/{team_id}/caseload", response=list[CaseloadOut], url_name="caseload")
def caseload(request: HttpRequest, team_id: int) -> list[CaseloadOut]:
    user = require_user(request)
    team = selectors.team_for(user=user, team_id=team_id)
    rows = selectors.caseload(user=user, team=team)
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource=f"neighbourhoods.caseload:{team.pk}",
        reason=f"{len(rows)} people listed",
    )
    return [
        CaseloadOut(
            person_id=r.person_id,
            name=r.name,
            nhs_number=r.nhs_number,
            reason=r.reason,
            key_worker=r.key_worker,
            frailty=r.frailty,
            emergency_admissions=r.admissions,
            lives_alone=r.lives_alone,
            last_contact_on=r.last_contact_on,
            next_review_on=r.next_review_on,
            open_tasks=r.open_tasks,
        )
        for r in rows
    ]


class TaskOut(Schema):
    id: int
    title: str
    person_id: uuid.UUID | None
    team: str
    owner_id: int
    due_on: date
    status: str
    overdue: bool


@router.get("/tasks", response=list[TaskOut], url_name="worklist")
def worklist(request: HttpRequest) -> list[TaskOut]:
    user = require_user(request)
    tasks = selectors.worklist(user=user)
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="neighbourhoods.worklist",
        reason=f"{len(tasks)} tasks listed",
    )
    today = date.today()  # noqa: DTZ011 - compared with calendar dates
    return [
        TaskOut(
            id=t.pk,
            title=t.title,
            person_id=t.person_id,
            team=t.team.name,
            owner_id=t.owner_id,
            due_on=t.due_on,
            status=t.status,
            overdue=t.due_on < today,
        )
        for t in tasks
    ]


class ReassignIn(Schema):
    owner_id: int


@router.post("/tasks/{task_id}/reassign", response=TaskOut, url_name="task-reassign")
def task_reassign(request: HttpRequest, task_id: int, body: ReassignIn) -> TaskOut:
    user = require_user(request)
    task = services.task_reassign(user=user, task_id=task_id, owner_id=body.owner_id)
    return TaskOut(
        id=task.pk,
        title=task.title,
        person_id=task.person_id,
        team=task.team.name,
        owner_id=task.owner_id,
        due_on=task.due_on,
        status=task.status,
        overdue=task.due_on < date.today(),  # noqa: DTZ011 - calendar dates
    )


class Goal(Schema):
    id: str = ""
    text: str


class Action(Schema):
    id: str = ""
    text: str
    responsible: str
    organisation: str


class CarePlanIn(Schema):
    version: int
    what_matters: str
    goals: list[Goal] = []
    actions: list[Action] = []
    contingency: str = ""
    review_on: date | None = None


class CarePlanOut(Schema):
    person_id: uuid.UUID
    version: int
    what_matters: str
    goals: list[Goal]
    actions: list[Action]
    contingency: str
    review_on: date | None


class ClashOut(Schema):
    field: str
    base: Any
    mine: Any
    theirs: Any


class ConflictOut(Schema):
    detail: str
    current_version: int
    merged: dict[str, Any]
    clashes: list[ClashOut]


def _plan_out(person_id: uuid.UUID, plan: CarePlan | None) -> CarePlanOut:
    content = services.plan_content(plan)
    return CarePlanOut(
        person_id=person_id,
        version=plan.version if plan else 0,
        what_matters=content["what_matters"],
        goals=[Goal(**g) for g in content["goals"]],
        actions=[Action(**a) for a in content["actions"]],
        contingency=content["contingency"],
        review_on=date.fromisoformat(content["review_on"]) if content["review_on"] else None,
    )


@router.get("/people/{uuid:person_id}/care-plan", response=CarePlanOut, url_name="careplan")
def careplan_get(request: HttpRequest, person_id: uuid.UUID) -> CarePlanOut:
    """The person's care plan (version 0 and empty when there is none yet)."""
    user = require_user(request)
    person = people_services.person_open(
        user=user, person_id=person_id, resource="neighbourhoods.careplan"
    )
    plan = CarePlan.objects.visible_to(user).filter(person=person).first()
    return _plan_out(person.id, plan)


@router.put(
    "/people/{uuid:person_id}/care-plan",
    response={200: CarePlanOut, 409: ConflictOut},
    url_name="careplan-put",
)
def careplan_put(
    request: HttpRequest, person_id: uuid.UUID, body: CarePlanIn
) -> CarePlanOut | Status[ConflictOut]:
    """Save against ``version``; if someone saved since, 409 with the three-way merge."""
    user = require_user(request)
    content = {
        "what_matters": body.what_matters,
        "goals": [g.model_dump() for g in body.goals],
        "actions": [a.model_dump() for a in body.actions],
        "contingency": body.contingency,
        "review_on": body.review_on.isoformat() if body.review_on else None,
    }
    try:
        plan = services.careplan_save(
            user=user, person_id=person_id, base_version=body.version, content=content
        )
    except PlanConflict as exc:
        return Status(
            409,
            ConflictOut(
                detail=exc.detail,
                current_version=exc.current_version,
                merged=exc.merge.merged,
                clashes=[
                    ClashOut(field=c.field, base=c.base, mine=c.mine, theirs=c.theirs)
                    for c in exc.merge.clashes
                ],
            ),
        )
    return _plan_out(person_id, plan)

"""Writes of the neighbourhood teams' resources through FHIR: CarePlan, Goal, CareTeam,
Task and ServiceRequest, each made or changed by the app's own services.

A writer reads a resource into the arguments of the service that does the change (a care
plan's save, a caseload's add, update or end, a task's create, reassign or complete, the
front door's submit, triage or close), so the rules, the role checks (``require_member``)
and the audit of the web pages apply unchanged; the FHIR provider then renders the row,
refuses anything that would not come back as sent, keeps the version and audits the write
(``providers.ModelProvider``). A service's refusal is told in FHIR's terms, naming the
element: a field problem is 422, a change of state the app does not allow is 409, and a
refusal of access is 403 and audited.

It must never save a model itself, nor read a person's rows except through a scoped
queryset (``visible_to``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from joinedup.core.models import Team, User
from joinedup.errors import AccessDenied, Conflict, NotFound
from joinedup.fhir import roundtrip
from joinedup.fhir.errors import Unprocessable
from joinedup.fhir.mapping import patient_id_of
from joinedup.fhir.providers import JSON, Context, audit_denied
from joinedup.fhir.writes import person_written_about
from joinedup.neighbourhoods import services
from joinedup.neighbourhoods.errors import FieldProblems, TransitionRefused
from joinedup.neighbourhoods.fhir_mapping import (
    CONSENT_NOTE,
    CONTINGENCY_NOTE,
    LEFT_CASELOAD_NOTE,
    NEED_SYSTEM,
    OUTCOME_NOTE,
    REVIEW_NOTE,
    SAFEGUARDING_NOTE,
    TRIAGE_NOTE,
    WHAT_MATTERS_NOTE,
    goal_key,
)
from joinedup.neighbourhoods.models import (
    CarePlan,
    CaseloadEntry,
    Referral,
    ReferralStatus,
    Task,
    TaskStatus,
)
from joinedup.people.models import Person


class StateRefused(Conflict):
    """The record is not in a state where the change is allowed (a finished task cannot be
    reopened, a referral is closed only once accepted): 409, the body itself is fine."""

    code = "state"
    title = "That change is not possible for this record now"
    fhir_code = "business-rule"


# -- reading a body (never trusting its shape: fuzzed bodies must give 4xx)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any, where: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise Unprocessable("write this as text", where=where)
    return value


def _notes(body: JSON, resource_type: str) -> list[tuple[str, str]]:
    """Each note's text and where it is; a note is kept as its text alone."""
    out = []
    for n, note in enumerate(_list(body.get("note"))):
        where = f"{resource_type}.note[{n}]"
        out.append((_text(_dict(note).get("text"), f"{where}.text", required=True), where))
    return out


def _day(value: Any, where: str) -> date | None:
    """A calendar date (``YYYY-MM-DD``; a dateTime is read in UTC and then compared)."""
    if value is not None and not isinstance(value, str):
        raise Unprocessable("write the date as YYYY-MM-DD", where=where)
    moment = roundtrip.moment_of(value, where)
    return moment.date() if moment else None


def _practitioner(reference: Any, where: str) -> int:
    text = _dict(reference).get("reference")
    parts = str(text or "").rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != "Practitioner" or not parts[-1].isdigit():
        raise Unprocessable("name the practitioner as a reference Practitioner/<id>", where=where)
    if len(parts[-1]) > 18:
        raise Unprocessable("there is no practitioner with this id", where=where)
    return int(parts[-1])


def _person_of(ctx: Context, resource_type: str, element: str, reference: Any) -> uuid.UUID:
    """The Patient a new resource is about: one the caller may see (else 403, audited)."""
    logical_id = patient_id_of(reference, f"{resource_type}.{element}")
    return person_written_about(ctx, resource_type, logical_id)


def _same_person(reference: Any, person_id: uuid.UUID | None, where: str) -> None:
    """An update names the same Patient (or, for a task about nobody, none)."""
    if person_id is None and reference is None:
        return
    if person_id is None or patient_id_of(reference, where) != str(person_id):
        raise Unprocessable("a record cannot move to another Patient: write a new one", where=where)


def _unchanged(sent: Any, kept: Any, where: str) -> None:
    if sent != kept:
        raise Unprocessable(
            "this cannot be changed once set (the app has no way to change it): send it as "
            "it reads",
            where=where,
        )


# -- telling a service's refusal in FHIR's terms


@contextmanager
def _as_fhir(ctx: Context, resource_type: str, element: Callable[[str], str]) -> Iterator[None]:
    """Run a service: its refusal of access is audited (403), a field problem becomes 422
    and a refused change of state 409, each naming the element (``element(field)``)."""
    try:
        yield
    except AccessDenied as exc:
        audit_denied(ctx, resource_type, exc.detail)
        raise
    except FieldProblems as exc:
        field, message = exc.problems[0]
        raise Unprocessable(message, where=element(field)) from None
    except TransitionRefused as exc:
        raise StateRefused(exc.detail, where=element(exc.where or "status")) from None


def _fields(resource_type: str, table: Mapping[str, str]) -> Callable[[str], str]:
    """A service's field name as the element it comes from (the resource itself if none)."""

    def element(field: str) -> str:
        for prefix, name in table.items():
            if field == prefix or field.startswith(prefix + "-"):
                return f"{resource_type}.{name}"
        return resource_type

    return element


def _visible_person(user: User, person_id: uuid.UUID) -> Person:
    """The person a write names, already checked as visible (``person_written_about``)."""
    return Person.objects.visible_to(user).get(id=person_id)


# -- CarePlan and Goal: the one shared care plan, saved by ``careplan_save``

_PLAN_FIELDS = _fields(
    "CarePlan",
    {
        "what_matters": "note",
        "review_on": "period.end",
        "goal": "goal",
        "action": "activity",
        "version": "meta.versionId",
    },
)
_GOAL_FIELDS = _fields("Goal", {"goal": "description.text", "what_matters": "subject"})


def _goals_with_ids(plan: CarePlan | None) -> list[dict[str, Any]]:
    """The plan's goals, each with an id: a goal saved without one keeps the key its FHIR
    id was made from, so saving the plan does not change any Goal's id."""
    if plan is None:
        return []
    return [
        {**goal, "id": goal.get("id") or goal_key(goal, n)} for n, goal in enumerate(plan.goals)
    ]


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


class CarePlanWriter:
    """CarePlan create (the person's first plan) and update (the next version), through
    ``careplan_save``; the plan's goals are referenced or, by display alone, added."""

    def create(self, ctx: Context, body: JSON) -> CarePlan:
        person_id = _person_of(ctx, "CarePlan", "subject", body.get("subject"))
        existing = (
            CarePlan.objects.visible_to(ctx.user)
            .filter(person_id=person_id)
            .values_list("id", flat=True)
            .first()
        )
        if existing is not None:
            raise StateRefused(
                f"this person already has a shared care plan (CarePlan/{existing}): update it",
                where="CarePlan.subject",
            )
        content = _plan_content(body, None)
        with _as_fhir(ctx, "CarePlan", _PLAN_FIELDS):
            return services.careplan_save(
                user=ctx.user, person_id=person_id, base_version=0, content=content
            )

    def update(self, ctx: Context, row: CarePlan, body: JSON) -> CarePlan:
        _same_person(body.get("subject"), row.person_id, "CarePlan.subject")
        content = _plan_content(body, row)
        with _as_fhir(ctx, "CarePlan", _PLAN_FIELDS):
            return services.careplan_save(
                user=ctx.user, person_id=row.person_id, base_version=row.version, content=content
            )


def _plan_content(body: JSON, plan: CarePlan | None) -> dict[str, Any]:
    """The plan's content (``services.plan_content``'s shape) a CarePlan describes."""
    content: dict[str, Any] = {"what_matters": "", "contingency": "", "review_on": None}
    for text, where in _notes(body, "CarePlan"):
        if text.startswith(WHAT_MATTERS_NOTE):
            content["what_matters"] = text.removeprefix(WHAT_MATTERS_NOTE)
        elif text.startswith(CONTINGENCY_NOTE):
            content["contingency"] = text.removeprefix(CONTINGENCY_NOTE)
        elif text.startswith(REVIEW_NOTE):
            content["review_on"] = _iso(_day(text.removeprefix(REVIEW_NOTE), f"{where}.text"))
        else:
            raise Unprocessable(
                f"a care plan's notes begin {WHAT_MATTERS_NOTE!r}, {CONTINGENCY_NOTE!r} or "
                f"{REVIEW_NOTE!r}: the plan has no place for another",
                where=f"{where}.text",
            )
    period_end = _dict(body.get("period")).get("end")
    if period_end is not None:
        content["review_on"] = _iso(_day(period_end, "CarePlan.period.end"))
    content["goals"] = _plan_goals(body, plan)
    content["actions"] = _plan_actions(body, plan)
    return content


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _plan_goals(body: JSON, plan: CarePlan | None) -> list[dict[str, Any]]:
    """A reference keeps one of this plan's goals (its display, if sent, is its new text);
    a display alone adds a goal. A goal left out is taken out of the plan."""
    own = {
        f"Goal/{plan.pk}-{goal_key(g, n)}": g
        for n, g in enumerate(_goals_with_ids(plan))
        if plan is not None
    }
    goals = []
    for n, item in enumerate(_list(body.get("goal"))):
        where = f"CarePlan.goal[{n}]"
        reference = _dict(item).get("reference")
        display = _text(_dict(item).get("display"), f"{where}.display")
        if reference is None:
            if not display.strip():
                raise Unprocessable(
                    "reference one of this plan's goals, or give a new goal's text as display",
                    where=f"{where}.display",
                )
            goals.append({"id": _new_id(), "text": display})
            continue
        relative = "/".join(str(reference).rstrip("/").split("/")[-2:])
        goal = own.get(relative)
        if goal is None:
            raise Unprocessable("this is not a goal of this care plan", where=f"{where}.reference")
        goals.append({"id": goal["id"], "text": display or goal["text"]})
    return goals


def _plan_actions(body: JSON, plan: CarePlan | None) -> list[dict[str, Any]]:
    """Each activity's description and who does it ("<responsible>, <organisation>"); an
    action that is unchanged keeps its id (the web's three-way merge matches on ids)."""
    known = {
        (a.get("text"), a.get("responsible"), a.get("organisation")): a.get("id")
        for a in (plan.actions if plan else [])
    }
    actions = []
    for n, item in enumerate(_list(body.get("activity"))):
        where = f"CarePlan.activity[{n}].detail"
        detail = _dict(_dict(item).get("detail"))
        text = _text(detail.get("description"), f"{where}.description")
        performers = _list(detail.get("performer"))
        who = (
            _text(_dict(performers[0]).get("display"), f"{where}.performer[0].display")
            if (performers)
            else ""
        )
        responsible, _, organisation = who.partition(", ")
        key = (text, responsible, organisation)
        actions.append(
            {
                "id": known.get(key) or _new_id(),
                "text": text,
                "responsible": responsible,
                "organisation": organisation,
            }
        )
    return actions


WrittenGoal = tuple[CarePlan, str]  # the saved plan and the written goal's own id


class GoalWriter:
    """A Goal is one goal of the person's care plan: a new one is added to the plan and a
    changed one changes the plan, each through ``careplan_save`` (so the plan's own
    version, history and audit move with it). Each returns the plan and the goal's own id
    (``GoalProvider`` renders that goal of the plan)."""

    def create(self, ctx: Context, body: JSON) -> WrittenGoal:
        person_id = _person_of(ctx, "Goal", "subject", body.get("subject"))
        text = _goal_text(body)
        plan = (
            CarePlan.objects.visible_to(ctx.user)
            .select_for_update(of=("self",))
            .filter(person_id=person_id)
            .first()
        )
        if plan is None:
            raise Unprocessable(
                "this person has no shared care plan yet: create the CarePlan first (a goal "
                "is part of it)",
                where="Goal.subject",
            )
        goal = {"id": _new_id(), "text": text}
        return self._save(ctx, plan, [*_goals_with_ids(plan), goal]), goal["id"]

    def update(self, ctx: Context, row: CarePlan, body: JSON) -> WrittenGoal:
        """Change one goal of ``row`` (the locked plan): the one ``body``'s id names (the
        provider has checked that id against the URL and read it)."""
        _same_person(body.get("subject"), row.person_id, "Goal.subject")
        text = _goal_text(body)
        key = str(body.get("id")).partition("-")[2]
        goals = _goals_with_ids(row)
        index = next((n for n, g in enumerate(row.goals) if goal_key(g, n) == key), None)
        if index is None:  # taken out of the plan since it was read
            raise NotFound("there is no Goal with this id")
        goals[index] = {**goals[index], "text": text}
        plan = row
        return self._save(ctx, plan, goals), goals[index]["id"]

    def _save(self, ctx: Context, plan: CarePlan, goals: list[dict[str, Any]]) -> CarePlan:
        content = {**services.plan_content(plan), "goals": goals}
        with _as_fhir(ctx, "Goal", _GOAL_FIELDS):
            return services.careplan_save(
                user=ctx.user, person_id=plan.person_id, base_version=plan.version, content=content
            )


def _goal_text(body: JSON) -> str:
    status = body.get("lifecycleStatus")
    if status != "active":
        raise Unprocessable(
            "every goal in a care plan is active: to end a goal, take it out of the CarePlan",
            where="Goal.lifecycleStatus",
        )
    return _text(_dict(body.get("description")).get("text"), "Goal.description.text", required=True)


# -- CareTeam: a person on a team's caseload (caseload_add, caseload_update, caseload_end)

_CASELOAD_FIELDS = _fields(
    "CareTeam",
    {
        "reason": "reasonCode[0].text",
        "key_worker": "participant",
        "person": "subject",
        "end_reason": "note[0].text",
        "lives_alone": "subject",
    },
)
_KEY_WORKER = "(key worker)"


class CareTeamWriter:
    """A CareTeam is one team's caseload entry for a person: created by putting them on the
    team's caseload (the team by its name, the reason as reasonCode), its key worker
    changed, and ended (status inactive, with a note saying why)."""

    def create(self, ctx: Context, body: JSON) -> CaseloadEntry:
        person_id = _person_of(ctx, "CareTeam", "subject", body.get("subject"))
        if body.get("status", "active") != "active":
            raise Unprocessable(
                "a person joins a caseload as active: end it by an update",
                where="CareTeam.status",
            )
        team = _team_named(ctx, body.get("name"))
        reasons = _list(body.get("reasonCode"))
        reason = (
            _text(_dict(reasons[0]).get("text"), "CareTeam.reasonCode[0].text") if (reasons) else ""
        )
        with _as_fhir(ctx, "CareTeam", _CASELOAD_FIELDS):
            return services.caseload_add(
                user=ctx.user,
                team=team,
                person_id=person_id,
                reason=reason,
                key_worker_id=_key_worker(body),
            )

    def update(self, ctx: Context, row: CaseloadEntry, body: JSON) -> CaseloadEntry:
        _same_person(body.get("subject"), row.person_id, "CareTeam.subject")
        _unchanged(body.get("name", row.team.name), row.team.name, "CareTeam.name")
        status = body.get("status")
        if status not in ("active", "inactive"):
            raise Unprocessable(
                "a caseload entry is active, or inactive once ended", where="CareTeam.status"
            )
        if row.ended_on is not None:
            if status == "active":
                raise StateRefused(
                    "an ended caseload entry cannot be reopened: put the person on the "
                    "caseload again (a new CareTeam)",
                    where="CareTeam.status",
                )
            return row  # nothing of an ended entry changes; the loss check tells what differs
        key_worker_id = _key_worker(body)
        with _as_fhir(ctx, "CareTeam", _CASELOAD_FIELDS):
            if key_worker_id != row.key_worker_id:
                row = services.caseload_update(
                    user=ctx.user,
                    entry_id=row.pk,
                    key_worker_id=key_worker_id,
                    next_review_on=row.next_review_on,
                    last_contact_on=row.last_contact_on,
                    lives_alone=row.lives_alone,
                )
            if status == "inactive":
                row = services.caseload_end(
                    user=ctx.user, entry_id=row.pk, reason=_end_reason(body)
                )
        return row


def _team_named(ctx: Context, name: Any) -> Team:
    """The team whose caseload it is, by name: one of the caller's own teams."""
    name = _text(name, "CareTeam.name", required=True)
    mine = list(ctx.user.teams.filter(name=name)[:2])
    if len(mine) == 1:
        return mine[0]
    if len(mine) > 1:
        raise Unprocessable("two of your teams have this name", where="CareTeam.name")
    if Team.objects.filter(name=name).exists():
        audit_denied(ctx, "CareTeam", "not a member of the team")
        raise AccessDenied(f"you are not a member of {name}")
    raise Unprocessable("there is no team with this name", where="CareTeam.name")


def _key_worker(body: JSON) -> int | None:
    """The participant whose role says "(key worker)", if any (the others are the team's
    members, which the team's membership decides, not the caseload entry)."""
    found = []
    for n, participant in enumerate(_list(body.get("participant"))):
        roles = [_dict(r).get("text") for r in _list(_dict(participant).get("role"))]
        if any(isinstance(r, str) and r.endswith(_KEY_WORKER) for r in roles):
            found.append(_practitioner(_dict(participant).get("member"), _member_at(n)))
    if len(found) > 1:
        raise Unprocessable("a person has one key worker in a team", where=_member_at(1))
    return found[0] if found else None


def _member_at(n: int) -> str:
    return f"CareTeam.participant[{n}].member"


def _end_reason(body: JSON) -> str:
    for text, where in _notes(body, "CareTeam"):
        if text.startswith(LEFT_CASELOAD_NOTE):
            return text.removeprefix(LEFT_CASELOAD_NOTE)
        raise Unprocessable(
            f"say why the person leaves the caseload in a note beginning {LEFT_CASELOAD_NOTE!r}",
            where=f"{where}.text",
        )
    return ""


# -- Task: task_create, task_reassign, task_complete

_TASK_FIELDS = _fields(
    "Task",
    {
        "title": "description",
        "owner": "owner",
        "due_on": "restriction.period.end",
        "status": "status",
    },
)


class TaskWriter:
    """A Task is created to do (status requested) for someone in a team the caller shares
    with them; an update gives it to someone else in its team (owner) or marks it done
    (status completed). What the app never changes after it is set cannot be changed."""

    def create(self, ctx: Context, body: JSON) -> Task:
        if body.get("status") != "requested":
            raise Unprocessable(
                "a task starts as requested (to do): complete it by an update",
                where="Task.status",
            )
        owner = _owner(body)
        person = None
        if body.get("for") is not None:
            person = _visible_person(ctx.user, _person_of(ctx, "Task", "for", body["for"]))
        team = _shared_team(ctx.user, owner)
        with _as_fhir(ctx, "Task", _TASK_FIELDS):
            services.require_member(ctx.user, team)
            return services.task_create(
                user=ctx.user,
                team=team,
                owner=owner,
                title=_text(body.get("description"), "Task.description"),
                due_on=_due(body),
                person=person,
                detail=_task_detail(body),
            )

    def update(self, ctx: Context, row: Task, body: JSON) -> Task:
        _same_person(body.get("for"), row.person_id, "Task.for")
        _unchanged(body.get("description"), row.title, "Task.description")
        _unchanged(_due(body), row.due_on, "Task.restriction.period.end")
        _unchanged(_task_detail(body), row.detail, "Task.note")
        owner = _owner(body)
        wanted = _TASK_STATUS.get(str(body.get("status")))
        if wanted is None:
            raise Unprocessable("a task is requested, completed or cancelled", where="Task.status")
        if row.status not in (wanted, TaskStatus.OPEN):
            raise StateRefused("a finished task cannot be reopened", where="Task.status")
        if wanted == TaskStatus.CANCELLED and row.status != TaskStatus.CANCELLED:
            raise StateRefused(
                "a task cannot be cancelled here (the app has no way to cancel one): "
                "complete it, or ask its team",
                where="Task.status",
            )
        with _as_fhir(ctx, "Task", _TASK_FIELDS):
            services.require_member(ctx.user, row.team)
            if owner.pk != row.owner_id:
                row = services.task_reassign(user=ctx.user, task_id=row.pk, owner_id=owner.pk)
            if wanted == TaskStatus.DONE and row.status == TaskStatus.OPEN:
                row = services.task_complete(user=ctx.user, task_id=row.pk)
        return row


_TASK_STATUS = {
    "requested": TaskStatus.OPEN,
    "completed": TaskStatus.DONE,
    "cancelled": TaskStatus.CANCELLED,
}


def _owner(body: JSON) -> User:
    owner_id = _practitioner(body.get("owner"), "Task.owner")
    owner = User.objects.filter(id=owner_id, is_active=True).first()
    if owner is None:
        raise Unprocessable("there is no practitioner with this id", where="Task.owner")
    return owner


def _due(body: JSON) -> date | None:
    end = _dict(_dict(_dict(body.get("restriction")).get("period"))).get("end")
    return _day(end, "Task.restriction.period.end")


def _task_detail(body: JSON) -> str:
    notes = _notes(body, "Task")
    if len(notes) > 1:
        raise Unprocessable("a task keeps one note, its detail", where=notes[1][1])
    return notes[0][0] if notes else ""


def _shared_team(user: User, owner: User) -> Team:
    """The team a new task belongs to: the one team the caller and the owner share."""
    teams = list(user.teams.filter(members=owner).distinct()[:2])
    if not teams:
        raise Unprocessable("give the task to someone in one of your teams", where="Task.owner")
    if len(teams) > 1:
        raise Unprocessable(
            "you and the owner share more than one team, and a task belongs to one: give "
            "it from the web page, where the team is chosen",
            where="Task.owner",
        )
    return teams[0]


# -- ServiceRequest: a referral through the front door (submit, triage, close)

_REFERRAL_FIELDS = _fields(
    "ServiceRequest",
    {
        "need": "code",
        "urgency": "priority",
        "reason": "reasonCode[0].text",
        "consent": "note",
        "safeguarding": "note",
        "referrer_name": "requester.display",
        "referrer_contact": "requester",
        "given_name": "subject",
        "family_name": "subject",
        "dob": "subject",
        "nhs_number": "subject",
        "postcode": "subject",
        "status": "status",
        "team": "performer",
        "outcome": "note",
    },
)
_URGENCY = {"urgent": "urgent", "routine": "routine"}


class ServiceRequestWriter:
    """A ServiceRequest is a referral sent through the front door about a Patient the
    caller may see (routed by its rules, like every referral); an update adds the triage
    note (triage) or closes an accepted referral with its outcome (status completed)."""

    def create(self, ctx: Context, body: JSON) -> Referral:
        if body.get("status") != "active":
            raise Unprocessable(
                "a referral is sent complete (status active): drafts are kept by the web form only",
                where="ServiceRequest.status",
            )
        person = _visible_person(
            ctx.user, _person_of(ctx, "ServiceRequest", "subject", body.get("subject"))
        )
        form = {**_referral_form(ctx.user, body), **services.person_described(person)}
        with _as_fhir(ctx, "ServiceRequest", _REFERRAL_FIELDS):
            draft = services.referral_draft_save(form=form, user=ctx.user)
            return services.referral_submit(referral=draft, user=ctx.user, person=person)

    def update(self, ctx: Context, row: Referral, body: JSON) -> Referral:
        _same_person(body.get("subject"), row.person_id, "ServiceRequest.subject")
        if row.status == ReferralStatus.DRAFT:
            raise StateRefused("send a draft referral from the web form", where="ServiceRequest")
        triage, outcome = _progress_notes(body)
        closing = body.get("status") == "completed"
        if outcome and not closing:
            raise Unprocessable(
                "an outcome closes the referral: set status completed with it",
                where="ServiceRequest.status",
            )
        with _as_fhir(ctx, "ServiceRequest", _REFERRAL_FIELDS):
            if triage and not row.triage_note:
                row = services.referral_triage(user=ctx.user, referral_id=row.pk, note=triage)
            elif triage != row.triage_note:
                _unchanged(triage, row.triage_note, "ServiceRequest.note")
            if closing and row.status != ReferralStatus.CLOSED:
                row = services.referral_close(user=ctx.user, referral_id=row.pk, outcome=outcome)
        return row


def _referral_form(user: User, body: JSON) -> dict[str, str]:
    """The front door's form fields a ServiceRequest gives (the person's come from the
    Patient it names)."""
    codings = _list(_dict(body.get("code")).get("coding"))
    coding = _dict(codings[0]) if codings else {}
    if codings and coding.get("system") != NEED_SYSTEM:
        raise Unprocessable(
            f"code the need in {NEED_SYSTEM} (the front door's needs)",
            where="ServiceRequest.code.coding[0].system",
        )
    priority = body.get("priority")
    if priority is not None and priority not in _URGENCY:
        raise Unprocessable(
            "the front door knows urgent and routine referrals", where="ServiceRequest.priority"
        )
    reasons = _list(body.get("reasonCode"))
    notes = [text for text, _ in _notes(body, "ServiceRequest")]
    for text, where in _notes(body, "ServiceRequest"):
        if text not in (SAFEGUARDING_NOTE, CONSENT_NOTE):
            raise Unprocessable(
                f"a new referral's notes are {SAFEGUARDING_NOTE!r} and {CONSENT_NOTE!r}",
                where=f"{where}.text",
            )
    requester = _dict(body.get("requester"))
    return {
        "referrer_kind": "professional",
        "referrer_name": _text(requester.get("display"), "ServiceRequest.requester.display")
        or user.get_full_name()
        or user.username,
        "referrer_contact": user.email or _organisation_of(user),
        "need": _text(coding.get("code"), "ServiceRequest.code.coding[0].code"),
        "urgency": _URGENCY.get(str(priority), ""),
        "safeguarding": "yes" if SAFEGUARDING_NOTE in notes else "no",
        "reason": _text(_dict(reasons[0]).get("text"), "ServiceRequest.reasonCode[0].text")
        if reasons
        else "",
        "consent": "yes" if CONSENT_NOTE in notes else "no",
    }


def _organisation_of(user: User) -> str:
    organisation = user.organisation
    return f"{organisation.name} (through the FHIR API)" if organisation else ""


def _progress_notes(body: JSON) -> tuple[str, str]:
    """The triage note and the outcome an update's notes give (the others are as read)."""
    triage = outcome = ""
    for text, where in _notes(body, "ServiceRequest"):
        if text.startswith(TRIAGE_NOTE):
            triage = text.removeprefix(TRIAGE_NOTE)
        elif text.startswith(OUTCOME_NOTE):
            outcome = text.removeprefix(OUTCOME_NOTE)
        elif text not in (SAFEGUARDING_NOTE, CONSENT_NOTE):
            raise Unprocessable(
                f"a referral's notes begin {TRIAGE_NOTE!r} or {OUTCOME_NOTE!r}",
                where=f"{where}.text",
            )
    return triage, outcome

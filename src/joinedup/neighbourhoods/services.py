"""Writes of the neighbourhoods app, each atomic and each writing its own audit event.

The front door (referrals: draft, submit, route, triage, accept, redirect, close), the
caseload, tasks, care plans (optimistic concurrency with a three-way merge on conflict),
packages of care and MDT meetings. Person data is reached only through
``people.services.person_open`` or a scoped queryset; a care relationship is started only
through ``people.services.relationship_start``.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Neighbourhood, Team, TeamKind, User
from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied, InvalidInput, NotFound
from joinedup.neighbourhoods import forms, merge, routing, selectors, sla
from joinedup.neighbourhoods.errors import FieldProblems, PlanConflict, TransitionRefused
from joinedup.neighbourhoods.models import (
    TRANSITIONS,
    AgendaReason,
    CarePackage,
    CarePlan,
    CarePlanVersion,
    CaseloadEntry,
    LivesAlone,
    MdtDecision,
    MdtItem,
    MdtMeeting,
    MeetingStatus,
    Need,
    PostcodeArea,
    Referral,
    ReferralEvent,
    ReferralStatus,
    RoutingRule,
    Task,
    TaskStatus,
)
from joinedup.people import services as people_services
from joinedup.people.models import Person, RelationshipKind, Sex

_MATCH = "front door: match a referral to the person index"
ROUTING_PERMISSION = Permission.MANAGE_USERS  # administrators edit the routing rules


def _audit(
    user: User | None,
    action: AuditAction,
    resource: str,
    person_id: uuid.UUID | None = None,
    reason: str = "",
) -> None:
    audit_record(actor=user, action=action, resource=resource, person_id=person_id, reason=reason)


def require_member(user: User, team: Team) -> None:
    """Team pages and writes are for the team's members with a direct care role."""
    if not user.has_role_permission(Permission.VIEW_PERSON):
        raise AccessDenied("your role does not give access to care records")
    if not user.teams.filter(id=team.id).exists():
        raise AccessDenied(f"you are not a member of {team.name}")


# ---------------------------------------------------------------------------- front door


def referral_draft_save(
    *, form: Mapping[str, str], user: User | None, token: uuid.UUID | None = None
) -> Referral:
    """Keep what was typed, as typed, as a draft (new, or the draft with this token)."""
    kept = {k: str(form.get(k, ""))[:4000] for k in forms.REFERRAL_FIELDS}
    if user is not None and user.is_authenticated:
        kept["referrer_kind"] = "professional"
    with transaction.atomic():
        referral = None
        if token is not None:
            referral = (
                Referral.objects.for_system("front door: a referrer's own draft")
                .filter(draft_token=token, status=ReferralStatus.DRAFT)
                .first()
            )
        if referral is None:
            referral = Referral(created_by=user if user and user.is_authenticated else None)
        referral.form = kept
        referral.referrer_kind = kept["referrer_kind"][:12]
        referral.save()
        _audit(referral.created_by, AuditAction.UPDATE, f"neighbourhoods.referral:{referral.pk}")
    return referral


def referral_submit(
    *, referral: Referral, user: User | None, person: Person | None = None
) -> Referral:
    """Check the draft; if complete, match, route and send it. Problems keep it a draft.
    ``person`` is the person the referrer named themselves (a FHIR ServiceRequest's
    subject, already checked as one the referrer may see): then no matching is needed."""
    cleaned = forms.referral_clean(referral.form, professional=referral.created_by is not None)
    with transaction.atomic():
        for name, value in cleaned.items():
            setattr(referral, name, value)
        referral.person = person or _match(cleaned)
        referral.neighbourhood_id = _neighbourhood_of(referral)
        now = timezone.now()
        referral.received_at = now
        team, rule, why = referral_route(referral)
        referral.team, referral.rule = team, rule
        referral.arrived_at_team = now
        referral.triage_due_at = sla.triage_due(timezone.localtime(now), referral.urgency)
        referral.status = ReferralStatus.RECEIVED
        referral.save()
        ReferralEvent.objects.create(
            referral=referral,
            at=now,
            status_from=ReferralStatus.DRAFT,
            status_to=ReferralStatus.RECEIVED,
            to_team=team,
            reason=why,
            by=user if user and user.is_authenticated else None,
        )
        _audit(
            referral.created_by,
            AuditAction.CREATE,
            f"neighbourhoods.referral:{referral.pk}",
            referral.person_id,
            reason=f"received; routed to {team.name if team else 'no team'} ({why})",
        )
    return referral


# What a Discharge to Assess pathway asks of the community side (NHS England's pathways).
_DISCHARGE_NEEDS = {
    1: (Need.PERSONAL_CARE, "home with support: reablement, home care or therapy at home"),
    2: (Need.MOBILITY, "a community bed for rehabilitation before going home"),
    3: (Need.PERSONAL_CARE, "a care-home placement, usually for someone who will need one"),
}


def person_described(person: Person) -> dict[str, str]:
    """The person as the front door's referral form describes them, from their record."""
    born = person.date_of_birth
    return {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "dob-day": str(born.day) if born else "",
        "dob-month": str(born.month) if born else "",
        "dob-year": str(born.year) if born else "",
        "nhs_number": person.nhs_number or "",
        "address": person.address,
        "postcode": person.postcode,
    }


def referral_from_discharge(
    *, person: Person, pathway: int, ready_on: date, hub: str, ward: str
) -> Referral:
    """A Discharge to Assess referral from the hospital's discharge hub, through the same
    front door as every other referral: a patient on pathway 1-3 no longer meets the
    criteria to reside. Urgent (they wait in an acute bed). If the person's details are
    not enough to send it, it is kept as a draft with its problems, never lost."""
    need, what = _DISCHARGE_NEEDS[pathway]
    form = {
        "referrer_kind": "professional",
        "referrer_name": hub,
        "referrer_contact": f"{hub}, ward {ward}" if ward else hub,
        **person_described(person),
        "need": need,
        "urgency": "urgent",
        "safeguarding": "no",
        "reason": (
            f"Discharge to Assess, pathway {pathway}: ready to leave hospital since "
            f"{ready_on:%-d %B %Y} and needs {what}. Agreed with the patient as part of "
            "their discharge plan."
        ),
        "consent": "yes",
    }
    draft = referral_draft_save(form=form, user=None)
    try:
        return referral_submit(referral=draft, user=None)
    except FieldProblems:
        return draft


def _match(cleaned: Mapping[str, Any]) -> Person | None:
    """The person in the index: by NHS number, else one exact name, birth date, postcode."""
    people = Person.objects.for_system(_MATCH)
    if cleaned.get("nhs_number"):
        found = people.filter(nhs_number=cleaned["nhs_number"]).first()
        if found is not None:
            return found
    candidates = list(
        people.filter(
            family_name__iexact=cleaned["family_name"],
            given_name__iexact=cleaned["given_name"],
            date_of_birth=cleaned["date_of_birth"],
            postcode__iexact=cleaned["postcode"],
        )[:2]
    )
    return candidates[0] if len(candidates) == 1 else None


def _neighbourhood_of(referral: Referral) -> int | None:
    """From the person's address, else their practice, else the postcode the referrer gave."""
    person = referral.person
    postcodes = [person.postcode] if person and person.postcode else []
    postcodes.append(referral.postcode)
    for code in postcodes:
        area = PostcodeArea.objects.filter(postcode=forms.normalise_postcode(code)).first()
        if area is not None:
            return area.neighbourhood_id
    if person is not None and person.registered_practice_id is not None:
        practice = person.registered_practice
        if practice is not None and practice.neighbourhood_id is not None:
            return practice.neighbourhood_id
    return None


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def rule_specs() -> list[routing.RuleSpec]:
    return [
        routing.RuleSpec(
            id=r.pk,
            priority=r.priority,
            min_age=r.min_age,
            max_age=r.max_age,
            need=r.need,
            urgency=r.urgency,
            safeguarding=r.safeguarding,
            neighbourhood_id=r.neighbourhood_id,
            team_id=r.team_id,
        )
        for r in RoutingRule.objects.filter(active=True)
    ]


def int_of_neighbourhood() -> dict[int, int]:
    teams = Team.objects.filter(kind=TeamKind.INT, neighbourhood__isnull=False).order_by("name")
    found: dict[int, int] = {}
    for team in teams:
        if team.neighbourhood_id is not None:
            found.setdefault(team.neighbourhood_id, team.pk)
    return found


def referral_route(referral: Referral) -> tuple[Team | None, RoutingRule | None, str]:
    """The team the rules send the referral to; the neighbourhood's INT if none matches."""
    facts = routing.ReferralFacts(
        age=_age(referral.date_of_birth, timezone.localdate()),
        need=referral.need,
        urgency=referral.urgency,
        safeguarding=referral.safeguarding,
        neighbourhood_id=referral.neighbourhood_id,
    )
    ints = int_of_neighbourhood()
    chosen = routing.route(facts, rule_specs(), int_of_neighbourhood=ints)
    hood = facts.neighbourhood_id
    if chosen.team_id is None and hood is not None and hood in ints:
        return Team.objects.get(id=ints[hood]), None, "no rule matched: the neighbourhood's team"
    if chosen.team_id is None:
        return None, None, "no rule matched and the neighbourhood is not known"
    rule = RoutingRule.objects.filter(id=chosen.rule_id or 0).first()
    name = rule.name if rule else "a rule"
    return Team.objects.get(id=chosen.team_id), rule, f"rule {name!r}"


def _referral_for(user: User, referral_id: int, *, lock: bool = False) -> Referral:
    found = Referral.objects.visible_to(user).filter(id=referral_id)
    if lock:
        found = found.select_for_update(of=("self",))
    referral = found.select_related("team", "person").first()
    if referral is None:
        raise NotFound("there is no referral with this number that you can see")
    return referral


def _acts_for(user: User, referral: Referral) -> None:
    """Only the team holding the referral (or, if unrouted, a care coordinator) acts on it."""
    if referral.team is None:
        if user.role != "care_coordinator":
            raise AccessDenied("only a care coordinator can send on an unrouted referral")
        return
    require_member(user, referral.team)


def _move(
    referral: Referral,
    to: str,
    *,
    user: User,
    reason: str = "",
    to_team: Team | None = None,
) -> ReferralEvent:
    if to not in TRANSITIONS[referral.status]:
        raise TransitionRefused(
            f"a referral that is {referral.get_status_display().lower()} cannot become {to}",
            where="status",
        )
    now = timezone.now()
    event = ReferralEvent.objects.create(
        referral=referral,
        at=now,
        status_from=referral.status,
        status_to=to,
        from_team=referral.team,
        to_team=to_team or referral.team,
        reason=reason,
        by=user,
    )
    referral.status = to
    _audit(
        user,
        AuditAction.UPDATE,
        f"neighbourhoods.referral:{referral.pk}:{to}",
        referral.person_id,
        reason=reason[:200],
    )
    return event


@transaction.atomic
def referral_triage(*, user: User, referral_id: int, note: str) -> Referral:
    referral = _referral_for(user, referral_id, lock=True)
    _acts_for(user, referral)
    if referral.team is None:
        raise TransitionRefused("send an unrouted referral to a team first", where="team")
    _move(referral, ReferralStatus.TRIAGED, user=user, reason=note.strip())
    referral.triaged_at = timezone.now()
    referral.triage_note = note.strip()
    referral.save()
    return referral


@transaction.atomic
def referral_redirect(
    *, user: User, referral_id: int, team_id: int | None, reason: str
) -> Referral:
    """Decline by sending the referral on to the right team, saying why: never a rejection."""
    referral = _referral_for(user, referral_id, lock=True)
    _acts_for(user, referral)
    problems = []
    target = Team.objects.filter(id=team_id).first() if team_id else None
    if target is None:
        problems.append(("team", "Choose the team the referral should go to"))
    elif target.pk == referral.team_id:
        problems.append(("team", "Choose a different team from the one that has it now"))
    if not reason.strip():
        problems.append(("reason", "Say why the referral belongs with the other team"))
    if problems:
        raise FieldProblems(problems)
    assert target is not None
    _move(referral, ReferralStatus.REDIRECTED, user=user, reason=reason.strip(), to_team=target)
    now = timezone.now()
    referral.team = target
    referral.arrived_at_team = now
    referral.triaged_at = None
    referral.triage_due_at = sla.triage_due(timezone.localtime(now), referral.urgency)
    referral.save()
    return referral


@transaction.atomic
def referral_accept(
    *, user: User, referral_id: int, caseload_reason: str = "", key_worker_id: int | None = None
) -> Referral:
    """Accept: the team's referral relationship starts (and a caseload entry, if asked)."""
    referral = _referral_for(user, referral_id, lock=True)
    _acts_for(user, referral)
    team = referral.team
    assert team is not None  # only a routed referral can be triaged, so accepted
    _move(referral, ReferralStatus.ACCEPTED, user=user, reason=caseload_reason.strip())
    person = referral.person or _person_from(referral, user)
    referral.person = person
    referral.accepted_at = timezone.now()
    referral.save()
    people_services.relationship_start(
        person=person, team=team, kind=RelationshipKind.REFERRAL, started_by=user
    )
    if caseload_reason.strip():
        _entry_create(
            user=user,
            team=team,
            person=person,
            reason=caseload_reason.strip(),
            key_worker=_member(team, key_worker_id) if key_worker_id else None,
            referral=referral,
        )
    return referral


def _person_from(referral: Referral, user: User) -> Person:
    """A person the index did not know yet, registered from the referral."""
    assert referral.date_of_birth is not None
    return people_services.person_create(
        given_name=referral.given_name,
        family_name=referral.family_name,
        date_of_birth=referral.date_of_birth,
        sex=Sex.UNKNOWN,
        nhs_number=referral.nhs_number or None,
        address=referral.address,
        postcode=referral.postcode,
        created_by=user,
    )


@transaction.atomic
def referral_close(*, user: User, referral_id: int, outcome: str) -> Referral:
    if not outcome.strip():
        raise FieldProblems([("outcome", "Say what happened, to close the referral")])
    referral = _referral_for(user, referral_id, lock=True)
    _acts_for(user, referral)
    _move(referral, ReferralStatus.CLOSED, user=user, reason=outcome.strip())
    referral.outcome = outcome.strip()
    referral.closed_at = timezone.now()
    referral.save()
    return referral


@transaction.atomic
def routing_rule_save(
    *, user: User, form: Mapping[str, str], rule_id: int | None = None
) -> RoutingRule:
    """Add or change a routing rule (administrators); every change is audited."""
    if not user.has_role_permission(ROUTING_PERMISSION):
        raise AccessDenied("only an administrator can change the routing rules")
    rule = RoutingRule() if rule_id is None else RoutingRule.objects.filter(id=rule_id).first()
    if rule is None:
        raise NotFound("there is no such routing rule")
    for name, value in forms.rule_clean(form).items():
        setattr(rule, name, value)
    rule.save()
    _audit(user, AuditAction.ADMIN, f"neighbourhoods.routing_rule:{rule.pk}", reason=rule.name)
    return rule


# ------------------------------------------------------------------------------ caseloads


def _member(team: Team, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    found = team.members.filter(id=user_id).first()
    if found is None:
        raise FieldProblems([("key_worker", "Choose a member of the team")])
    return found


def _entry_create(
    *,
    user: User,
    team: Team,
    person: Person,
    reason: str,
    key_worker: User | None = None,
    next_review_on: date | None = None,
    lives_alone: str = LivesAlone.UNKNOWN,
    referral: Referral | None = None,
) -> CaseloadEntry:
    scope = CaseloadEntry.objects.for_system("caseload: one open entry per person")
    if scope.filter(team=team, person=person, ended_on__isnull=True).exists():
        raise FieldProblems([("person", "This person is already on the team's caseload")])
    people_services.relationship_start(
        person=person, team=team, kind=RelationshipKind.CASELOAD, started_by=user
    )
    entry = CaseloadEntry.objects.create(
        team=team,
        person=person,
        reason=reason,
        key_worker=key_worker,
        next_review_on=next_review_on,
        lives_alone=lives_alone,
        started_on=timezone.localdate(),
        referral=referral,
    )
    _audit(user, AuditAction.CREATE, f"neighbourhoods.caseload:{team.pk}", person.id)
    return entry


@transaction.atomic
def caseload_add(
    *,
    user: User,
    team: Team,
    person_id: uuid.UUID,
    reason: str,
    key_worker_id: int | None = None,
    next_review_on: date | None = None,
    lives_alone: str = LivesAlone.UNKNOWN,
) -> CaseloadEntry:
    """Put a person the user may already see on the team's caseload."""
    require_member(user, team)
    if not reason.strip():
        raise FieldProblems([("reason", "Say why the person is on the caseload")])
    person = people_services.person_open(
        user=user, person_id=person_id, resource="neighbourhoods.caseload.add"
    )
    entry = _entry_create(
        user=user,
        team=team,
        person=person,
        reason=reason.strip(),
        key_worker=_member(team, key_worker_id),
        next_review_on=next_review_on,
        lives_alone=lives_alone,
    )
    caseload_risk_refresh(user=user, team=team, entries=[entry])
    return entry


@transaction.atomic
def caseload_update(
    *,
    user: User,
    entry_id: int,
    key_worker_id: int | None,
    next_review_on: date | None,
    last_contact_on: date | None,
    lives_alone: str,
) -> CaseloadEntry:
    entry = (
        CaseloadEntry.objects.visible_to(user).filter(id=entry_id).select_related("team").first()
    )
    if entry is None:
        raise NotFound("there is no such caseload entry that you can see")
    require_member(user, entry.team)
    if lives_alone not in LivesAlone.values:
        raise FieldProblems([("lives_alone", "Choose whether the person lives alone")])
    entry.key_worker = _member(entry.team, key_worker_id)
    entry.next_review_on, entry.last_contact_on = next_review_on, last_contact_on
    entry.lives_alone = lives_alone
    entry.save()
    _audit(user, AuditAction.UPDATE, f"neighbourhoods.caseload:{entry.team_id}", entry.person_id)
    return entry


@transaction.atomic
def caseload_end(*, user: User, entry_id: int, reason: str) -> CaseloadEntry:
    """Take a person off the team's caseload: the entry closes today with its reason, and
    the caseload relationship ends today (the team keeps the record through today, and
    after that only through any other relationship it has with the person)."""
    entry = (
        CaseloadEntry.objects.visible_to(user)
        .filter(id=entry_id, ended_on__isnull=True)
        .select_related("team", "person")
        .first()
    )
    if entry is None:
        raise NotFound("there is no such open caseload entry that you can see")
    require_member(user, entry.team)
    if len(reason.strip()) < 3:
        raise FieldProblems([("end_reason", "Say why the person is leaving the caseload")])
    today = timezone.localdate()
    entry.ended_on, entry.end_reason = today, reason.strip()[:300]
    entry.save(update_fields=["ended_on", "end_reason", "updated_at"])
    people_services.relationship_end_for(
        person=entry.person,
        team=entry.team,
        kind=RelationshipKind.CASELOAD,
        ended_on=today,
        ended_by=user,
    )
    _audit(
        user,
        AuditAction.UPDATE,
        f"neighbourhoods.caseload:{entry.team_id}:end",
        entry.person_id,
        reason=entry.end_reason,
    )
    return entry


def caseload_risk_refresh(
    *, user: User, team: Team, entries: Sequence[CaseloadEntry] | None = None
) -> int:
    """Recompute frailty and emergency admissions for the team's open caseload (or some
    entries of it) and keep them on the entries, so the caseload page reads, never computes."""
    require_member(user, team)
    rows = (
        list(entries)
        if entries is not None
        else list(CaseloadEntry.objects.visible_to(user).filter(team=team, ended_on__isnull=True))
    )
    ids = [e.person_id for e in rows]
    frailty = selectors.frailty_of(user=user, person_ids=ids)
    admissions = selectors.emergency_admissions(user=user, person_ids=ids)
    now = timezone.now()
    for entry in rows:
        entry.frailty = frailty.get(entry.person_id, "")
        entry.emergency_admissions = admissions.get(entry.person_id, 0)
        entry.risk_updated_at = now
    CaseloadEntry.objects.visible_to(user).bulk_update(
        rows, ["frailty", "emergency_admissions", "risk_updated_at"], batch_size=500
    )
    _audit(
        user,
        AuditAction.UPDATE,
        f"neighbourhoods.caseload_risk:{team.pk}",
        reason=f"{len(rows)} entries",
    )
    return len(rows)


# ---------------------------------------------------------------------------------- tasks


def task_create(
    *,
    user: User | None,
    team: Team,
    owner: User,
    title: str,
    due_on: date | None,
    person: Person | None = None,
    detail: str = "",
    decision: MdtDecision | None = None,
) -> Task:
    problems = []
    if not title.strip():
        problems.append(("title", "Enter what needs doing"))
    if not owner.teams.filter(id=team.id).exists():
        problems.append(("owner", f"Choose someone in {team.name}"))
    if due_on is None:
        problems.append(("due_on", "Enter the date it is due"))
    if problems:
        raise FieldProblems(problems)
    assert due_on is not None
    task = Task.objects.create(
        title=title.strip()[:200],
        detail=detail,
        person=person,
        team=team,
        owner=owner,
        due_on=due_on,
        created_by=user,
        decision=decision,
    )
    _audit(user, AuditAction.CREATE, f"neighbourhoods.task:{task.pk}", task.person_id)
    return task


def _task_for(user: User, task_id: int) -> Task:
    task = (
        Task.objects.visible_to(user)
        .select_for_update(of=("self",))
        .filter(id=task_id)
        .select_related("team")
        .first()
    )
    if task is None:
        raise NotFound("there is no such task that you can see")
    return task


@transaction.atomic
def task_reassign(*, user: User, task_id: int, owner_id: int | None) -> Task:
    task = _task_for(user, task_id)
    owner = task.team.members.filter(id=owner_id).first() if owner_id else None
    if owner is None:
        raise FieldProblems([("owner", f"Choose someone in {task.team.name}")])
    if task.status != TaskStatus.OPEN:
        raise TransitionRefused("only a task still to do can be reassigned", where="owner")
    before = task.owner_id
    task.owner = owner
    task.save(update_fields=["owner", "updated_at"])
    _audit(
        user,
        AuditAction.UPDATE,
        f"neighbourhoods.task:{task.pk}:reassign",
        task.person_id,
        reason=f"from user {before} to user {owner.pk}",
    )
    return task


@transaction.atomic
def task_complete(*, user: User, task_id: int) -> Task:
    task = _task_for(user, task_id)
    if task.status != TaskStatus.OPEN:
        raise TransitionRefused("this task is already finished", where="status")
    task.status = TaskStatus.DONE
    task.completed_at = timezone.now()
    task.save(update_fields=["status", "completed_at", "updated_at"])
    _audit(user, AuditAction.UPDATE, f"neighbourhoods.task:{task.pk}:done", task.person_id)
    return task


# ----------------------------------------------------------------------------- care plans


def plan_content(plan: CarePlan | None) -> dict[str, Any]:
    if plan is None:
        return {
            "what_matters": "",
            "goals": [],
            "actions": [],
            "contingency": "",
            "review_on": None,
        }
    return {
        "what_matters": plan.what_matters,
        "goals": plan.goals,
        "actions": plan.actions,
        "contingency": plan.contingency,
        "review_on": plan.review_on.isoformat() if plan.review_on else None,
    }


def _apply(content: Mapping[str, Any]) -> dict[str, Any]:
    review = content.get("review_on")
    return {
        "what_matters": content["what_matters"],
        "goals": content["goals"],
        "actions": content["actions"],
        "contingency": content["contingency"],
        "review_on": date.fromisoformat(review) if review else None,
    }


@dataclass(frozen=True)
class _Clash:
    result: merge.MergeResult
    version: int


def careplan_save(
    *, user: User, person_id: uuid.UUID, base_version: int, content: Mapping[str, Any]
) -> CarePlan:
    """Save the plan if nobody saved since ``base_version``; otherwise raise PlanConflict
    carrying the three-way merge of the edit into the saved plan (never overwrite)."""
    clean = forms.careplan_clean(content)
    outcome = _careplan_write(user, person_id, base_version, clean)
    if isinstance(outcome, _Clash):
        raise PlanConflict(
            "the plan was saved by someone else while you were editing: check the merge",
            merge=outcome.result,
            current_version=outcome.version,
        )
    return outcome


@transaction.atomic
def _careplan_write(
    user: User, person_id: uuid.UUID, base_version: int, clean: dict[str, Any]
) -> CarePlan | _Clash:
    person = people_services.person_open(
        user=user, person_id=person_id, resource="neighbourhoods.careplan"
    )
    now = timezone.now()
    plans = CarePlan.objects.visible_to(user)
    plan = plans.filter(person=person).first()
    if plan is None:
        if base_version != 0:
            raise NotFound("this person's care plan no longer exists")
        try:
            with transaction.atomic():
                plan = CarePlan.objects.create(
                    person=person, updated_at=now, updated_by=user, version=1, **_apply(clean)
                )
        except IntegrityError:
            current = plans.get(person=person)
            return _Clash(
                merge.merge(plan_content(None), clean, plan_content(current)), current.version
            )
    else:
        fields = _apply(clean)
        saved = plans.filter(id=plan.pk, version=base_version).update(
            version=base_version + 1, updated_at=now, updated_by=user, **fields
        )
        if saved == 0:
            current = plans.get(id=plan.pk)
            base = CarePlanVersion.objects.filter(plan=plan, version=base_version).first()
            base_content = base.content if base else plan_content(None)
            return _Clash(merge.merge(base_content, clean, plan_content(current)), current.version)
        plan.refresh_from_db()
    CarePlanVersion.objects.create(
        plan=plan, version=plan.version, content=clean, saved_at=now, saved_by=user
    )
    _audit(
        user,
        AuditAction.UPDATE,
        "neighbourhoods.careplan",
        person.id,
        reason=f"version {plan.version}",
    )
    return plan


# ------------------------------------------------------------------------ packages of care


@transaction.atomic
def package_create(
    *, user: User, person_id: uuid.UUID, team: Team, form: Mapping[str, str]
) -> CarePackage:
    require_member(user, team)
    cleaned = forms.package_clean(form)
    person = people_services.person_open(
        user=user, person_id=person_id, resource="neighbourhoods.package"
    )
    package = CarePackage.objects.create(person=person, team=team, created_by=user, **cleaned)
    _audit(user, AuditAction.CREATE, f"neighbourhoods.package:{package.pk}", person.id)
    return package


@transaction.atomic
def package_end(*, user: User, package_id: int, ends_on: date | None) -> CarePackage:
    package = CarePackage.objects.visible_to(user).filter(id=package_id).first()
    if package is None:
        raise NotFound("there is no such package of care that you can see")
    if ends_on is None or ends_on < package.starts_on:
        raise FieldProblems([("ends_on", "Enter an end date on or after the start date")])
    package.ends_on = ends_on
    package.save(update_fields=["ends_on"])
    _audit(user, AuditAction.UPDATE, f"neighbourhoods.package:{package.pk}", package.person_id)
    return package


# ---------------------------------------------------------------------------- MDT meetings


@transaction.atomic
def meeting_schedule(
    *, user: User, team: Team, starts_at: datetime | None, location: str
) -> MdtMeeting:
    """Schedule the meeting and build its agenda from the team's caseload and referrals."""
    require_member(user, team)
    if starts_at is None:
        raise FieldProblems([("date", "Enter the date and time of the meeting")])
    meeting = MdtMeeting.objects.create(
        team=team, starts_at=starts_at, location=location.strip()[:200], created_by=user
    )
    added = agenda_build(user=user, meeting=meeting)
    _audit(
        user,
        AuditAction.CREATE,
        f"neighbourhoods.mdt:{meeting.pk}",
        reason=f"{added} agenda items",
    )
    return meeting


def agenda_build(*, user: User, meeting: MdtMeeting) -> int:
    """Add people due for review, new high-risk people and referrals needing discussion."""
    day = timezone.localtime(meeting.starts_at).date()
    already = set(
        MdtItem.objects.for_system("mdt agenda: avoid duplicates")
        .filter(meeting=meeting)
        .values_list("person_id", "referral_id")
    )
    seen_people = {p for p, _ in already if p}
    seen_refs = {r for _, r in already if r}
    items: list[MdtItem] = []
    for entry in selectors.agenda_candidates(user=user, team=meeting.team, day=day):
        if entry.person_id in seen_people:
            continue
        seen_people.add(entry.person_id)
        reason, detail = selectors.agenda_reason(entry, day=day)
        items.append(MdtItem(person_id=entry.person_id, reason=reason, detail=detail))
    for referral in selectors.referrals_to_discuss(user=user, team=meeting.team):
        if referral.pk in seen_refs:
            continue
        items.append(
            MdtItem(
                referral=referral,
                reason=AgendaReason.REFERRAL,
                detail=f"{referral.reference}: {referral.get_need_display()}",
            )
        )
    start = len(already)
    for offset, item in enumerate(items, start=1):
        item.meeting = meeting
        item.position = start + offset
    MdtItem.objects.bulk_create(items)
    return len(items)


def _meeting_for(user: User, meeting_id: int) -> MdtMeeting:
    meeting = MdtMeeting.objects.filter(id=meeting_id, team__in=user.teams.all()).first()
    if meeting is None:
        raise NotFound("there is no such meeting of your teams")
    require_member(user, meeting.team)
    return meeting


@transaction.atomic
def meeting_attendance(
    *, user: User, meeting_id: int, attendee_ids: Sequence[int], others: str
) -> MdtMeeting:
    meeting = _meeting_for(user, meeting_id)
    members = list(meeting.team.members.filter(id__in=list(attendee_ids)))
    if len(members) != len(set(attendee_ids)):
        raise FieldProblems([("attendees", "Choose attendees from the team's members")])
    meeting.attendees.set(members)
    meeting.other_attendees = others.strip()
    meeting.save(update_fields=["other_attendees"])
    _audit(user, AuditAction.UPDATE, f"neighbourhoods.mdt:{meeting.pk}:attendance")
    return meeting


@transaction.atomic
def agenda_add(*, user: User, meeting_id: int, person_id: uuid.UUID, detail: str) -> MdtItem:
    meeting = _meeting_for(user, meeting_id)
    person = people_services.person_open(
        user=user, person_id=person_id, resource="neighbourhoods.mdt.agenda"
    )
    position = (
        MdtItem.objects.for_system("mdt agenda: next position").filter(meeting=meeting).count()
    )
    item = MdtItem.objects.create(
        meeting=meeting,
        person=person,
        position=position + 1,
        reason=AgendaReason.ADDED,
        detail=detail.strip()[:300],
    )
    _audit(user, AuditAction.UPDATE, f"neighbourhoods.mdt:{meeting.pk}:agenda", person.id)
    return item


@dataclass(frozen=True)
class DecisionInput:
    text: str
    owner_id: int | None
    due_on: date | None
    task_title: str = ""


@transaction.atomic
def item_record(
    *, user: User, item_id: int, discussion: str, decision: DecisionInput | None
) -> MdtItem:
    """Record the discussion of one agenda item and, if made, a decision with its task."""
    item = (
        MdtItem.objects.visible_to(user)
        .filter(id=item_id)
        .select_related("meeting__team", "person", "referral")
        .first()
    )
    if item is None:
        raise NotFound("there is no such agenda item that you can see")
    team = item.meeting.team
    require_member(user, team)
    problems = []
    if not discussion.strip():
        problems.append(("discussion", "Summarise the discussion"))
    owner = None
    if decision is not None:
        owner = team.members.filter(id=decision.owner_id).first() if decision.owner_id else None
        if owner is None:
            problems.append(("owner", f"Choose who will do it, from {team.name}"))
        if decision.due_on is None:
            problems.append(("due_on", "Enter the date the task is due"))
    if problems:
        raise FieldProblems(problems)
    item.discussion = discussion.strip()
    item.discussed = True
    item.save(update_fields=["discussion", "discussed"])
    if decision is not None and owner is not None:
        made = MdtDecision.objects.create(
            item=item, text=decision.text.strip(), recorded_at=timezone.now(), recorded_by=user
        )
        task_create(
            user=user,
            team=team,
            owner=owner,
            title=decision.task_title.strip() or decision.text.strip()[:200],
            due_on=decision.due_on,
            person=item.person,
            detail=f"MDT decision of {timezone.localtime(item.meeting.starts_at):%d %b %Y}",
            decision=made,
        )
    _audit(user, AuditAction.UPDATE, f"neighbourhoods.mdt:{item.meeting_id}:item", item.person_id)
    return item


@transaction.atomic
def meeting_finish(*, user: User, meeting_id: int) -> MdtMeeting:
    """Mark the meeting held: its minutes then show on each discussed person's timeline."""
    meeting = _meeting_for(user, meeting_id)
    if meeting.status == MeetingStatus.HELD:
        raise TransitionRefused("the minutes of this meeting are already written", where="status")
    meeting.status = MeetingStatus.HELD
    meeting.held_at = timezone.now()
    meeting.save(update_fields=["status", "held_at"])
    discussed = MdtItem.objects.visible_to(user).filter(meeting=meeting, discussed=True)
    for person_id in discussed.exclude(person__isnull=True).values_list("person_id", flat=True):
        _audit(user, AuditAction.CREATE, f"neighbourhoods.mdt:{meeting.pk}:minutes", person_id)
    _audit(user, AuditAction.UPDATE, f"neighbourhoods.mdt:{meeting.pk}:held")
    return meeting


# ---------------------------------------------------------------------- reference data


@transaction.atomic
def postcodes_load(*, folder: Path) -> int:
    """Postcode to neighbourhood, from a borough's ``reference/postcodes.csv`` and
    ``reference/lsoas.csv`` (postcode -> LSOA -> neighbourhood). Adds and updates; returns
    how many postcodes it read. Unknown neighbourhoods or LSOAs are errors with the line."""
    reference = folder / "reference"
    hoods = {n.name: n for n in Neighbourhood.objects.all()}
    lsoa_hood: dict[str, Neighbourhood] = {}
    with (reference / "lsoas.csv").open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            name = row.get("neighbourhood", "").strip()
            if name not in hoods:
                raise InvalidInput(f"unknown neighbourhood {name!r}", where=f"lsoas.csv:{line}")
            lsoa_hood[row["lsoa_code"].strip()] = hoods[name]
    known = dict(PostcodeArea.objects.values_list("postcode", "neighbourhood_id"))
    new: list[PostcodeArea] = []
    changed: list[PostcodeArea] = []
    count = 0
    with (reference / "postcodes.csv").open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            hood = lsoa_hood.get(row.get("lsoa_code", "").strip())
            if hood is None:
                raise InvalidInput("postcode in an unknown LSOA", where=f"postcodes.csv:{line}")
            code = forms.normalise_postcode(row["postcode"])
            count += 1
            if code not in known:
                new.append(PostcodeArea(postcode=code, neighbourhood=hood))
            elif known[code] != hood.pk:
                changed.append(PostcodeArea(postcode=code, neighbourhood=hood))
    PostcodeArea.objects.bulk_create(new, batch_size=2000)
    for area in changed:
        PostcodeArea.objects.filter(postcode=area.postcode).update(neighbourhood=area.neighbourhood)
    _audit(
        None,
        AuditAction.ADMIN,
        "neighbourhoods.postcodes",
        reason=f"{count} read, {len(new)} added",
    )
    return count

"""Writes: board decisions with their actions, risk reviews and mitigations, and the
programmes' projects and milestones.

Each write is atomic, checks every field (all problems reported together, nothing
changed), and records an audit event. Milestones keep no history table, so each change is
an audit event naming the fields that changed and the officer's note of why; the
programme page reads "last updated" back from those events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Organisation, User
from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied, NotFound
from joinedup.portfolio.errors import FormInvalid
from joinedup.portfolio.models import (
    Decision,
    DecisionAction,
    Milestone,
    MilestoneStatus,
    Mitigation,
    Programme,
    Project,
    Rag,
    Risk,
    RiskReview,
)
from joinedup.portfolio.rules import milestone_problems


def _require(user: User) -> None:
    if not user.has_role_permission(Permission.MANAGE_PORTFOLIO):
        raise AccessDenied("only the portfolio office records portfolio changes")


def _date(problems: list[tuple[str, str]], where: str, text: str, *, required: bool) -> date | None:
    text = text.strip()
    if not text:
        if required:
            problems.append((where, "Enter the date"))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append((where, "Enter a real date, like 2026-03-31"))
        return None


def _organisation(problems: list[tuple[str, str]], where: str, code: str) -> Organisation | None:
    found = (
        Organisation.objects.filter(ods_code=code.strip().upper()).first() if code.strip() else None
    )
    if found is None:
        problems.append((where, "Choose the accountable organisation"))
    return found


def _text(problems: list[tuple[str, str]], where: str, value: str, label: str, limit: int) -> str:
    value = value.strip()
    if not value:
        problems.append((where, f"Enter {label}"))
    elif len(value) > limit:
        problems.append(
            (where, f"{label[0].upper()}{label[1:]} must be {limit} characters or fewer")
        )
    return value


@dataclass(frozen=True)
class ActionInput:
    action: str
    owner: str = ""
    due_date: str = ""


def _next_code(
    prefix: str, model: type[Decision] | type[Risk] | type[Project] | type[Milestone]
) -> str:
    numbers = [
        int(m.group(1))
        for code in model.objects.values_list("code", flat=True)
        if (m := re.fullmatch(rf"{prefix}(\d+)", code))
    ]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


N = TypeVar("N", Decision, Project, Milestone)


def _create_numbered(model: type[N], prefix: str, **fields: Any) -> N:
    """Create a row under the next free code. Two officers saving at the same moment can
    both read the same highest code; the unique constraint refuses the second, which
    tries again with the next number (each try in its own savepoint)."""
    for attempt in range(5):
        try:
            with transaction.atomic():
                return model.objects.create(code=_next_code(prefix, model), **fields)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def decision_record(
    *,
    user: User,
    decided_on: str,
    decision: str,
    rationale: str,
    accountable_organisation: str,
    accountable_person: str,
    present: str,
    programme: str = "",
    actions: list[ActionInput] | None = None,
) -> Decision:
    """Record one board decision, who is accountable, who was there, and what follows."""
    _require(user)
    problems: list[tuple[str, str]] = []
    day = _date(problems, "decided_on", decided_on, required=True)
    text = _text(problems, "decision", decision, "the decision", 2000)
    why = _text(problems, "rationale", rationale, "the rationale", 4000)
    org = _organisation(problems, "accountable_organisation", accountable_organisation)
    person = _text(
        problems, "accountable_person", accountable_person, "the accountable person", 200
    )
    if not [p for p in present.splitlines() if p.strip()]:
        problems.append(("present", "Enter who was present, one per line"))
    prog = None
    if programme.strip():
        prog = Programme.objects.filter(code=programme.strip()).first()
        if prog is None:
            problems.append(("programme", "Choose a programme from the list"))
    follow = []
    for n, item in enumerate(actions or [], start=1):
        if not item.action.strip():
            continue
        due = _date(problems, f"action_{n}_due", item.due_date, required=False)
        follow.append((item.action.strip()[:300], item.owner.strip()[:200], due))
    if problems:
        raise FormInvalid(problems)
    assert day is not None
    assert org is not None
    record = _create_numbered(
        Decision,
        "DEC",
        decided_on=day,
        programme=prog,
        decision=text,
        rationale=why,
        accountable_organisation=org,
        accountable_person=person,
        present="\n".join(p.strip() for p in present.splitlines() if p.strip()),
        recorded_by=user,
    )
    DecisionAction.objects.bulk_create(
        DecisionAction(decision=record, action=a, owner=o, due_date=d) for a, o, d in follow
    )
    audit_record(
        actor=user, action=AuditAction.CREATE, resource=f"portfolio.decision:{record.code}"
    )
    return record


def _risk(code: str) -> Risk:
    risk = Risk.objects.filter(code=code).first()
    if risk is None:
        raise NotFound("there is no such risk")
    return risk


def _score(problems: list[tuple[str, str]], where: str, text: str, label: str) -> int:
    if text.strip() not in {"1", "2", "3", "4", "5"}:
        problems.append((where, f"Choose the {label}, from 1 to 5"))
        return 0
    return int(text)


@transaction.atomic
def risk_review_add(
    *, user: User, risk_code: str, reviewed_on: str, likelihood: str, impact: str, note: str
) -> RiskReview:
    """Review a risk: its scores now (after mitigation) join its history."""
    _require(user)
    risk = _risk(risk_code)
    problems: list[tuple[str, str]] = []
    day = _date(problems, "reviewed_on", reviewed_on, required=True)
    lik = _score(problems, "likelihood", likelihood, "likelihood")
    imp = _score(problems, "impact", impact, "impact")
    if len(note) > 4000:
        problems.append(("note", "The note must be 4000 characters or fewer"))
    if problems:
        raise FormInvalid(problems)
    assert day is not None
    review = RiskReview.objects.create(
        risk=risk, reviewed_on=day, reviewed_by=user, likelihood=lik, impact=imp, note=note.strip()
    )
    risk.likelihood_after, risk.impact_after = lik, imp
    risk.save(update_fields=["likelihood_after", "impact_after"])
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource=f"portfolio.risk:{risk.code}",
        reason="reviewed",
    )
    return review


@transaction.atomic
def mitigation_add(
    *, user: User, risk_code: str, action: str, owner: str, owner_organisation: str, due_date: str
) -> Mitigation:
    _require(user)
    risk = _risk(risk_code)
    problems: list[tuple[str, str]] = []
    text = _text(problems, "action", action, "the mitigation", 300)
    who = _text(problems, "owner", owner, "who owns it", 200)
    org = _organisation(problems, "owner_organisation", owner_organisation)
    due = _date(problems, "due_date", due_date, required=True)
    if problems:
        raise FormInvalid(problems)
    made = Mitigation.objects.create(
        risk=risk, action=text, owner=who, owner_organisation=org, due_date=due
    )
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource=f"portfolio.risk:{risk.code}",
        reason="mitigation added",
    )
    return made


# Projects and milestones -------------------------------------------------------------

NOTE_LIMIT = 300
MILESTONE_FORM_ORDER = [
    "title",
    "project",
    "owner",
    "planned_date-day",
    "forecast_date-day",
    "completed_date-day",
    "status",
    "rag",
    "note",
]  # the error summary lists problems in the order the form asks


@dataclass(frozen=True)
class DateParts:
    """A date as typed into the day, month and year boxes."""

    day: str = ""
    month: str = ""
    year: str = ""

    @classmethod
    def of(cls, day: date | None) -> DateParts:
        return cls() if day is None else cls(str(day.day), str(day.month), str(day.year))

    @property
    def blank(self) -> bool:
        return not (self.day.strip() or self.month.strip() or self.year.strip())


@dataclass(frozen=True)
class ProjectInput:
    name: str = ""
    owner: str = ""
    owner_organisation: str = ""  # ODS code, or blank


@dataclass(frozen=True)
class MilestoneInput:
    title: str = ""
    project: str = ""  # a project code of the same programme, or blank
    owner: str = ""
    planned_date: DateParts = DateParts()
    forecast_date: DateParts = DateParts()
    completed_date: DateParts = DateParts()
    status: str = ""
    rag: str = ""
    note: str = ""  # why: kept as the audit event's reason


def _date_parts(
    problems: list[tuple[str, str]], where: str, parts: DateParts, label: str, *, required: bool
) -> date | None:
    """Day, month and year boxes to a date; the error names the day box, as the summary links."""
    anchor = f"{where}-day"
    if parts.blank:
        if required:
            problems.append((anchor, f"Enter the {label}"))
        return None
    try:
        if len(parts.year.strip()) != 4:
            raise ValueError("the year needs 4 digits")
        return date(int(parts.year), int(parts.month), int(parts.day))
    except ValueError:
        problems.append((anchor, f"The {label} must be a real date, like 31 3 2026"))
        return None


def _optional_text(
    problems: list[tuple[str, str]], where: str, value: str, label: str, limit: int
) -> str:
    value = value.strip()
    if len(value) > limit:
        problems.append((where, f"{label} must be {limit} characters or fewer"))
    return value


def _optional_organisation(
    problems: list[tuple[str, str]], where: str, code: str
) -> Organisation | None:
    if not code.strip():
        return None
    found = Organisation.objects.filter(ods_code=code.strip().upper()).first()
    if found is None:
        problems.append((where, "Choose an organisation from the list"))
    return found


def _programme(code: str) -> Programme:
    found = Programme.objects.filter(code=code).first()
    if found is None:
        raise NotFound("there is no such programme")
    return found


def _changed(record: Project | Milestone, fields: dict[str, object]) -> list[str]:
    """The names of the fields whose new value differs from the saved one."""
    return [name for name, value in fields.items() if getattr(record, name) != value]


def _project_fields(data: ProjectInput) -> dict[str, object]:
    problems: list[tuple[str, str]] = []
    fields: dict[str, object] = {
        "name": _text(problems, "name", data.name, "the project's name", 200),
        "owner": _optional_text(problems, "owner", data.owner, "The lead", 200),
        "owner_organisation": _optional_organisation(
            problems, "owner_organisation", data.owner_organisation
        ),
    }
    if problems:
        raise FormInvalid(problems)
    return fields


@transaction.atomic
def project_add(*, user: User, programme_code: str, data: ProjectInput) -> Project:
    """Add a project to a programme, with its lead and the lead's organisation."""
    _require(user)
    programme = _programme(programme_code)
    fields = _project_fields(data)
    made = _create_numbered(Project, "PRJ", programme=programme, **fields)
    audit_record(
        actor=user,
        action=AuditAction.CREATE,
        resource=f"portfolio.project:{made.code}",
        reason=f"added to {programme.code}",
    )
    return made


@transaction.atomic
def project_update(
    *, user: User, programme_code: str, project_code: str, data: ProjectInput
) -> Project:
    """Change a project's name or lead; nothing is written (or audited) if nothing changed."""
    _require(user)
    programme = _programme(programme_code)
    project = (
        Project.objects.select_for_update().filter(programme=programme, code=project_code).first()
    )
    if project is None:
        raise NotFound("this programme has no such project")
    fields = _project_fields(data)
    changed = _changed(project, fields)
    if not changed:
        return project
    for name in changed:
        setattr(project, name, fields[name])
    project.save(update_fields=changed)
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource=f"portfolio.project:{project.code}",
        reason="changed " + ", ".join(changed),
    )
    return project


def _choice(
    problems: list[tuple[str, str]], where: str, value: str, choices: list[str], message: str
) -> str:
    if value not in choices:
        problems.append((where, message))
        return ""
    return value


def _milestone_fields(
    programme: Programme, data: MilestoneInput, *, note_required: bool
) -> tuple[dict[str, object], str]:
    """Every field checked at once; the RAG rules only once the parts they need are sound."""
    problems: list[tuple[str, str]] = []
    title = _text(problems, "title", data.title, "the milestone's title", 200)
    project = None
    if data.project.strip():
        project = Project.objects.filter(programme=programme, code=data.project.strip()).first()
        if project is None:
            problems.append(("project", "Choose one of this programme's projects"))
    planned = _date_parts(
        problems, "planned_date", data.planned_date, "baseline date", required=True
    )
    forecast = _date_parts(
        problems, "forecast_date", data.forecast_date, "forecast date", required=False
    )
    completed = _date_parts(
        problems, "completed_date", data.completed_date, "actual date", required=False
    )
    status = _choice(problems, "status", data.status, MilestoneStatus.values, "Choose the status")
    owner = _optional_text(problems, "owner", data.owner, "Who owns it", 200)
    rag = _choice(problems, "rag", data.rag, Rag.values, "Choose the RAG rating")
    fields: dict[str, object] = {
        "title": title,
        "project": project,
        "owner": owner,
        "planned_date": planned,
        "forecast_date": forecast,
        "completed_date": completed,
        "status": status,
        "rag": rag,
    }
    note = " ".join(data.note.split())
    if note_required and not note:
        problems.append(("note", "Enter a short note of what changed and why"))
    elif len(note) > NOTE_LIMIT:
        problems.append(("note", f"The note must be {NOTE_LIMIT} characters or fewer"))
    if status and rag:
        broken = milestone_problems(
            status=status,
            rag=rag,
            planned=planned,
            forecast=forecast,
            completed=completed,
            today=timezone.localdate(),
        )
        seen = {where for where, _ in problems}
        problems.extend(p for p in broken if p[0] not in seen)
    if problems:
        raise FormInvalid(sorted(problems, key=lambda p: MILESTONE_FORM_ORDER.index(p[0])))
    return fields, note


@transaction.atomic
def milestone_add(*, user: User, programme_code: str, data: MilestoneInput) -> Milestone:
    """Add a milestone to a programme; its note, if any, is the audit event's reason."""
    _require(user)
    programme = _programme(programme_code)
    fields, note = _milestone_fields(programme, data, note_required=False)
    made = _create_numbered(Milestone, "MS", programme=programme, **fields)
    audit_record(
        actor=user,
        action=AuditAction.CREATE,
        resource=f"portfolio.milestone:{made.code}",
        reason=f"added to {programme.code}" + (f": {note}" if note else ""),
    )
    return made


@transaction.atomic
def milestone_update(
    *, user: User, programme_code: str, milestone_code: str, data: MilestoneInput
) -> Milestone:
    """Update a milestone: the audit event names the fields changed and the note says why.

    An update that changes no field still records its note (a review that found the
    milestone as it was), so "last updated" says when someone last looked.
    """
    _require(user)
    programme = _programme(programme_code)
    milestone = (
        Milestone.objects.select_for_update()
        .filter(programme=programme, code=milestone_code)
        .first()
    )
    if milestone is None:
        raise NotFound("this programme has no such milestone")
    fields, note = _milestone_fields(programme, data, note_required=True)
    changed = _changed(milestone, fields)
    for name in changed:
        setattr(milestone, name, fields[name])
    if changed:
        milestone.save(update_fields=changed)
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource=f"portfolio.milestone:{milestone.code}",
        reason=f"changed {', '.join(changed) or 'nothing'}: {note}",
    )
    return milestone

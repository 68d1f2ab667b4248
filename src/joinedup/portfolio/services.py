"""Writes: board decisions with their actions, risk reviews and mitigations.

Each write is atomic, checks every field (all problems reported together, nothing
changed), and records an audit event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Organisation, User
from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied, NotFound
from joinedup.portfolio.errors import FormInvalid
from joinedup.portfolio.models import (
    Decision,
    DecisionAction,
    Mitigation,
    Programme,
    Risk,
    RiskReview,
)


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


def _next_code(prefix: str, model: type[Decision] | type[Risk]) -> str:
    numbers = [
        int(m.group(1))
        for code in model.objects.values_list("code", flat=True)
        if (m := re.fullmatch(rf"{prefix}(\d+)", code))
    ]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


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
    record = Decision.objects.create(
        code=_next_code("DEC", Decision),
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

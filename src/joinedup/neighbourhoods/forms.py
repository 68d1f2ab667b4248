"""Checking what people type: each function returns clean values or raises FieldProblems
listing every wrong field with a message that says what to do (the NHS error pattern).

No database access here, so the rules are unit-tested on their own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from joinedup.core import nhs_number
from joinedup.errors import InvalidInput
from joinedup.neighbourhoods.errors import FieldProblems
from joinedup.neighbourhoods.models import Need, ReferrerKind, Service, Urgency

REFERRAL_FIELDS = (
    "referrer_kind",
    "referrer_name",
    "referrer_contact",
    "given_name",
    "family_name",
    "dob-day",
    "dob-month",
    "dob-year",
    "nhs_number",
    "address",
    "postcode",
    "contact_phone",
    "need",
    "urgency",
    "safeguarding",
    "reason",
    "consent",
    "directory_service",  # a service the referrer chose in the service directory (its id)
)
_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$")
OLDEST = date(1900, 1, 1)


def normalise_postcode(text: str) -> str:
    compact = "".join(text.upper().split())
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def parse_date(text: str) -> date | None:
    """A date typed as YYYY-MM-DD or DD/MM/YYYY; None when empty or not a date."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


def _date_parts(form: Mapping[str, str], prefix: str) -> date | None:
    try:
        return date(
            int(form.get(f"{prefix}-year", "")),
            int(form.get(f"{prefix}-month", "")),
            int(form.get(f"{prefix}-day", "")),
        )
    except ValueError:
        return None


def _text(form: Mapping[str, str], name: str) -> str:
    return " ".join(str(form.get(name, "")).split())


def referral_clean(form: Mapping[str, str], *, professional: bool) -> dict[str, Any]:
    """The referral's typed fields, or every problem with them at once."""
    problems: list[tuple[str, str]] = []
    out: dict[str, Any] = {}
    kind = _text(form, "referrer_kind") or ("professional" if professional else "")
    if kind not in ReferrerKind.values:
        problems.append(("referrer_kind", "Select who is making the referral"))
    out["referrer_kind"] = kind
    for name, message, limit in (
        ("referrer_name", "Enter your name", 200),
        ("referrer_contact", "Enter a telephone number or email address to reach you", 200),
        ("given_name", "Enter the person's first name", 100),
        ("family_name", "Enter the person's last name", 100),
    ):
        out[name] = _text(form, name)[:limit]
        if not out[name]:
            problems.append((name, message))
    out.update(_identity(form, problems))
    out.update(_need(form, problems))
    if problems:
        raise FieldProblems(problems)
    return out


def _identity(form: Mapping[str, str], problems: list[tuple[str, str]]) -> dict[str, Any]:
    born = _date_parts(form, "dob")
    if not any(_text(form, f"dob-{p}") for p in ("day", "month", "year")):
        problems.append(("dob-day", "Enter the person's date of birth"))
    elif born is None:
        problems.append(("dob-day", "Date of birth must be a real date, like 17 5 1940"))
    elif not OLDEST <= born <= date.today():  # noqa: DTZ011 - a calendar comparison
        problems.append(("dob-day", "Date of birth must be in the past"))
    out: dict[str, Any] = {"date_of_birth": born, "nhs_number": ""}
    number = _text(form, "nhs_number").replace(" ", "")
    if number:
        try:
            out["nhs_number"] = nhs_number.parse(number, where="nhs_number")
        except InvalidInput:
            problems.append(("nhs_number", "NHS number must be 10 digits, like 943 476 5919"))
    postcode = normalise_postcode(_text(form, "postcode"))
    if not _POSTCODE.match(postcode.replace(" ", "")):
        problems.append(("postcode", "Enter the person's postcode, like SK1 3XE"))
    out["postcode"] = postcode
    out["address"] = _text(form, "address")[:300]
    out["contact_phone"] = _text(form, "contact_phone")[:40]
    return out


def _need(form: Mapping[str, str], problems: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {"need": _text(form, "need"), "urgency": _text(form, "urgency")}
    if out["need"] not in Need.values:
        problems.append(("need", "Select what the person needs help with"))
    if out["urgency"] not in Urgency.values:
        problems.append(("urgency", "Select how urgent this is"))
    safeguarding = _text(form, "safeguarding")
    if safeguarding not in ("yes", "no"):
        problems.append(("safeguarding", "Select whether you are worried the person is at risk"))
    out["safeguarding"] = safeguarding == "yes"
    out["reason"] = str(form.get("reason", "")).strip()[:4000]
    if len(out["reason"]) < 10:
        problems.append(("reason", "Describe what help is needed and why (10 characters or more)"))
    out["consent"] = _text(form, "consent") == "yes"
    if not out["consent"] and not out["safeguarding"]:
        problems.append(("consent", "Confirm the person agrees to the referral"))
    return out


def _int_or_none(text: str, field: str, problems: list[tuple[str, str]]) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > 130:
        problems.append((field, "Enter an age in whole years between 0 and 130"))
        return None
    return int(text)


def rule_clean(form: Mapping[str, str]) -> dict[str, Any]:
    problems: list[tuple[str, str]] = []
    out: dict[str, Any] = {"name": _text(form, "name")[:200]}
    if not out["name"]:
        problems.append(("name", "Enter a name that says what the rule is for"))
    priority = _text(form, "priority")
    if not priority.isdigit():
        problems.append(("priority", "Enter the priority as a whole number, lowest first"))
    out["priority"] = int(priority) if priority.isdigit() else 0
    out["min_age"] = _int_or_none(_text(form, "min_age"), "min_age", problems)
    out["max_age"] = _int_or_none(_text(form, "max_age"), "max_age", problems)
    if (
        out["min_age"] is not None
        and out["max_age"] is not None
        and out["min_age"] > out["max_age"]
    ):
        problems.append(("max_age", "The oldest age must not be below the youngest"))
    out["need"] = _text(form, "need")
    if out["need"] and out["need"] not in Need.values:
        problems.append(("need", "Select a need, or any need"))
    out["urgency"] = _text(form, "urgency")
    if out["urgency"] and out["urgency"] not in Urgency.values:
        problems.append(("urgency", "Select an urgency, or any urgency"))
    out["safeguarding"] = {"yes": True, "no": False}.get(_text(form, "safeguarding"))
    out["neighbourhood_id"] = _id(_text(form, "neighbourhood"), "neighbourhood", problems)
    out["team_id"] = _id(_text(form, "team"), "team", problems)
    out["active"] = _text(form, "active") != "no"
    if problems:
        raise FieldProblems(problems)
    return out


def _id(text: str, field: str, problems: list[tuple[str, str]]) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        problems.append((field, "Choose from the list"))
        return None
    return int(text)


def careplan_clean(content: Mapping[str, Any]) -> dict[str, Any]:
    """A care plan's content: the person's words, goals, actions, contingency, review date."""
    problems: list[tuple[str, str]] = []
    goals = []
    for n, goal in enumerate(content.get("goals", [])):
        text = " ".join(str(goal.get("text", "")).split())
        if text:
            goals.append({"id": str(goal.get("id") or uuid.uuid4().hex[:12]), "text": text[:500]})
        elif goal.get("id"):
            problems.append((f"goal-{n}", "Enter the goal, or tick remove"))
    actions = []
    for n, action in enumerate(content.get("actions", [])):
        fields = {
            k: " ".join(str(action.get(k, "")).split())
            for k in ("text", "responsible", "organisation")
        }
        if not any(fields.values()):
            continue
        for key, message in (
            ("text", "Enter the action"),
            ("responsible", "Enter the practitioner responsible for the action"),
            ("organisation", "Enter the practitioner's organisation"),
        ):
            if not fields[key]:
                problems.append((f"action-{n}-{key}", message))
        actions.append({"id": str(action.get("id") or uuid.uuid4().hex[:12]), **fields})
    review = content.get("review_on") or None
    if isinstance(review, str) and review and parse_date(review) is None:
        problems.append(("review_on", "Review date must be a real date, like 2026-03-31"))
    what = str(content.get("what_matters", "")).strip()
    if not what:
        problems.append(("what_matters", "Enter what matters to the person, in their own words"))
    if problems:
        raise FieldProblems(problems)
    parsed = parse_date(review) if isinstance(review, str) else None
    return {
        "what_matters": what[:5000],
        "goals": goals,
        "actions": actions,
        "contingency": str(content.get("contingency", "")).strip()[:5000],
        "review_on": parsed.isoformat() if parsed else None,
    }


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "").replace("£", "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def package_clean(form: Mapping[str, str]) -> dict[str, Any]:
    problems: list[tuple[str, str]] = []
    out: dict[str, Any] = {"service": _text(form, "service"), "provider": _text(form, "provider")}
    if out["service"] not in Service.values:
        problems.append(("service", "Select the service"))
    if not out["provider"]:
        problems.append(("provider", "Enter who provides the service"))
    hours = _text(form, "hours_per_week")
    out["hours_per_week"] = _decimal(hours) if hours else None
    if hours and (out["hours_per_week"] is None or not 0 <= out["hours_per_week"] <= 168):
        problems.append(("hours_per_week", "Enter hours a week as a number from 0 to 168"))
    visits = _text(form, "visits_per_week")
    out["visits_per_week"] = int(visits) if visits.isdigit() and int(visits) <= 100 else None
    if visits and out["visits_per_week"] is None:
        problems.append(("visits_per_week", "Enter visits a week as a whole number up to 100"))
    out["starts_on"] = parse_date(_text(form, "starts_on"))
    if out["starts_on"] is None:
        problems.append(("starts_on", "Enter the start date, like 2026-01-31"))
    ends = _text(form, "ends_on")
    out["ends_on"] = parse_date(ends) if ends else None
    if ends and out["ends_on"] is None:
        problems.append(("ends_on", "End date must be a real date, like 2026-06-30"))
    elif out["ends_on"] and out["starts_on"] and out["ends_on"] < out["starts_on"]:
        problems.append(("ends_on", "End date must be on or after the start date"))
    out["weekly_cost"] = _decimal(_text(form, "weekly_cost"))
    if out["weekly_cost"] is None or out["weekly_cost"] < 0:
        problems.append(("weekly_cost", "Enter the weekly cost in pounds, like 245.50"))
    if problems:
        raise FieldProblems(problems)
    return out

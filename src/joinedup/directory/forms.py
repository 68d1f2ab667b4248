"""What a service owner may type when correcting a directory entry, checked field by field.

``service_edit_clean`` turns the edit form's posted text into a ``ServiceEdit`` or a
message per wrong field (keyed by the field's id, for the NHS error summary). The rules
are the ones the ORUK 3.0 API promises its readers: a name, an email and a web address
of the right shape, ages from 0 to 120 with the minimum not above the maximum. It never
touches the database, so it is tested on its own and reused by any other way in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from joinedup.directory.models import Schedule, Service, ServiceStatus

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]*$")
_HOST = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$|^localhost$")
NEW_SCHEDULE = "new"
AGE_LIMITS = (0, 120)
NOTE_LIMIT = 200

# Field id -> the words used for it on the page, in messages and in the audit reason.
LABELS: dict[str, str] = {
    "name": "Name",
    "description": "Description",
    "status": "Status",
    "email": "Email",
    "url": "Website",
    "phone": "Phone",
    "minimum_age": "Minimum age",
    "maximum_age": "Maximum age",
    "fees": "Cost",
}
_LIMITS = {
    "name": 300,
    "description": 10_000,
    "email": 254,
    "url": 500,
    "phone": 40,
    "fees": 2_000,
}
SCHEDULE_LIMIT = 2_000


@dataclass(frozen=True)
class ServiceEdit:
    """A service's editable details, checked; ``schedules`` maps a schedule id to its words."""

    name: str
    description: str
    status: str
    email: str
    url: str
    phone: str
    minimum_age: float | None
    maximum_age: float | None
    fees: str
    schedules: dict[str, str] = field(default_factory=dict)


@dataclass
class EditForm:
    """The text as typed (to show again) and, when every field is right, the checked edit."""

    values: dict[str, str]
    errors: dict[str, str]
    edit: ServiceEdit | None = None


def schedule_field(key: str) -> str:
    """The form field id of a schedule's description."""
    return f"schedule-{key}"


def schedule_keys(schedules: Sequence[Schedule]) -> list[str]:
    """The keys the form offers: each schedule's id, or ``NEW_SCHEDULE`` when it has none."""
    return [str(s.id) for s in schedules] or [NEW_SCHEDULE]


def _text(raw: Mapping[str, str], key: str) -> str:
    return str(raw.get(key, "") or "").strip()


def _length(values: Mapping[str, str], errors: dict[str, str]) -> None:
    for key, limit in _LIMITS.items():
        if len(values[key]) > limit:
            errors[key] = f"{LABELS[key]} must be {limit:,} characters or fewer"


def url_problem(text: str) -> str:
    """Why ``text`` is not a web address a resident can open, or "" when it is one."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not _HOST.match(parts.hostname or ""):
        return "Enter a web address starting with https://, like https://www.example.org"
    if any(c.isspace() for c in text):
        return "Enter a web address without spaces"
    return ""


def _contact(values: Mapping[str, str], errors: dict[str, str]) -> None:
    if values["email"] and not _EMAIL.match(values["email"]):
        errors.setdefault("email", "Enter an email address like name@example.org")
    if values["url"] and (problem := url_problem(values["url"])):
        errors.setdefault("url", problem)
    phone = values["phone"]
    digits = sum(c.isdigit() for c in phone)
    if phone and (not _PHONE.match(phone) or not 7 <= digits <= 15):
        errors.setdefault("phone", "Enter a phone number using digits, like 0161 480 4949")


def _age(text: str, key: str, errors: dict[str, str]) -> float | None:
    if not text:
        return None
    label = LABELS[key]
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors[key] = f"{label} must be a number of years, like 18"
        return None
    low, high = AGE_LIMITS
    if not number.is_finite() or not low <= number <= high:
        errors[key] = f"{label} must be from {low} to {high}"
        return None
    return float(number)


def service_edit_clean(raw: Mapping[str, str], *, schedule_keys: Sequence[str]) -> EditForm:
    """Check the posted form; ``schedule_keys`` are the schedules the page offered."""
    keys = [*LABELS, *(schedule_field(k) for k in schedule_keys)]
    values = {key: _text(raw, key) for key in keys}
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Enter the service's name"
    if values["status"] not in ServiceStatus.values:
        errors["status"] = "Choose whether the service is running"
    _length(values, errors)
    _contact(values, errors)
    low = _age(values["minimum_age"], "minimum_age", errors)
    high = _age(values["maximum_age"], "maximum_age", errors)
    if low is not None and high is not None and low > high:
        errors["maximum_age"] = "Maximum age must be the same as or more than the minimum age"
    for key in schedule_keys:
        if len(values[schedule_field(key)]) > SCHEDULE_LIMIT:
            errors[schedule_field(key)] = (
                f"Opening times must be {SCHEDULE_LIMIT:,} characters or fewer"
            )
    values["note"] = _text(raw, "note")
    if len(values["note"]) > NOTE_LIMIT:
        errors["note"] = f"Note must be {NOTE_LIMIT} characters or fewer"
    if errors:
        order = [*keys, "note"]
        return EditForm(values, dict(sorted(errors.items(), key=lambda e: order.index(e[0]))))
    edit = ServiceEdit(
        name=values["name"],
        description=values["description"],
        status=values["status"],
        email=values["email"],
        url=values["url"],
        phone=values["phone"],
        minimum_age=low,
        maximum_age=high,
        fees=values["fees"],
        schedules={k: values[schedule_field(k)] for k in schedule_keys},
    )
    return EditForm(values, errors, edit)


def _years(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def service_edit_values(service: Service, schedules: Sequence[Schedule]) -> dict[str, str]:
    """A saved service as the edit form shows it (and as an edit's text is compared)."""
    values = {
        "name": service.name,
        "description": service.description,
        "status": service.status,
        "email": service.email,
        "url": service.url,
        "phone": service.phone,
        "minimum_age": _years(service.minimum_age),
        "maximum_age": _years(service.maximum_age),
        "fees": service.fees,
    }
    words = {str(s.id): s.description for s in schedules}
    for key in schedule_keys(schedules):
        values[schedule_field(key)] = words.get(key, "")
    return values

"""What a volunteer's details must look like, checked field by field.

Used by the public sign-up and change pages and by staff imports, so one row of a
spreadsheet and one web form obey the same rules. Returns the cleaned values and a
message per bad field; it never saves anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from joinedup.citizens.households import postcode_normalise
from joinedup.citizens.models import (
    AGE_BANDS,
    INTERESTS,
    Contact,
    Ethnicity,
    GenderSame,
    Sex,
    Tenure,
    YesNo,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{10,20}$")
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")

# (field, label used in messages) for the choices a volunteer makes.
CHOICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "age_band": ("your age", AGE_BANDS),
    "sex": ("your sex", tuple(Sex.values)),
    "gender_same_as_sex": ("whether your gender is the same as your sex", tuple(GenderSame.values)),
    "ethnic_group": ("your ethnic group", tuple(Ethnicity.values)),
    "disability": ("whether you have a disability", tuple(YesNo.values)),
    "carer": ("whether you are a carer", tuple(YesNo.values)),
    "tenure": ("your housing", tuple(Tenure.values)),
    "contact_preference": ("how we should contact you", tuple(Contact.values)),
}
TEXT_FIELDS: tuple[str, ...] = (
    "given_name",
    "family_name",
    "email",
    "phone",
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
)


_REQUIRED = (("given_name", "Enter your first name"), ("family_name", "Enter your last name"))


@dataclass
class Cleaned:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(raw: Mapping[str, Any], name: str, limit: int) -> str:
    value = raw.get(name, "")
    return " ".join(str(value if value is not None else "").split())[:limit]


def volunteer_clean(
    raw: Mapping[str, Any],
    *,
    postcode_known: Callable[[str], bool],
    interests: list[str] | None = None,
    require_consent: bool = True,
) -> Cleaned:
    """Check a volunteer's details; ``postcode_known`` says if a postcode is in the borough."""
    out = Cleaned()
    v = out.values
    for name in TEXT_FIELDS:
        v[name] = _text(raw, name, 200)
    for name, message in _REQUIRED:
        if not v[name]:
            out.errors[name] = message
    _contact(v, out.errors)
    v["postcode"] = postcode_normalise(v["postcode"])
    if not v["postcode"]:
        out.errors["postcode"] = "Enter your postcode"
    elif not _POSTCODE.match(v["postcode"]):
        out.errors["postcode"] = "Enter a real postcode, like SK1 3XE"
    elif not postcode_known(v["postcode"]):
        out.errors["postcode"] = "Enter a postcode in the borough: the register is for residents"
    for name, (label, allowed) in CHOICES.items():
        v[name] = _text(raw, name, 40)
        if v[name] not in allowed:
            out.errors[name] = f"Select {label}"
    _reachable(v, out.errors)
    chosen = interests if interests is not None else []
    unknown = [i for i in chosen if i not in INTERESTS]
    if unknown:
        out.errors["interests"] = f"Choose topics from the list; {unknown[0][:40]!r} is not one"
    v["interests"] = [i for i in INTERESTS if i in chosen]
    if require_consent and raw.get("consent") != "yes":
        out.errors["consent"] = "Confirm that you agree to us keeping your details"
    return out


def _reachable(v: dict[str, Any], errors: dict[str, str]) -> None:
    """The way a volunteer asked to be contacted needs the detail it uses."""
    if v["contact_preference"] == Contact.EMAIL and not v["email"] and "email" not in errors:
        errors["email"] = "Enter your email address, or choose another way to contact you"
    if v["contact_preference"] == Contact.POST and not v["address_line_1"]:
        errors["address_line_1"] = "Enter your address, or choose another way to contact you"
    if v["contact_preference"] == Contact.PHONE and not v["phone"] and "phone" not in errors:
        errors["phone"] = "Enter your phone number, or choose another way to contact you"


def _contact(v: dict[str, Any], errors: dict[str, str]) -> None:
    v["email"] = v["email"].lower()
    if v["email"] and not _EMAIL.match(v["email"]):
        errors["email"] = "Enter an email address in the correct format, like name@example.com"
    if v["phone"] and not _PHONE.match(v["phone"]):
        errors["phone"] = "Enter a phone number, like 0161 496 0000"
    if not v["email"] and not v["phone"] and not v["address_line_1"]:
        errors["email"] = "Give an email address, a phone number or a postal address"

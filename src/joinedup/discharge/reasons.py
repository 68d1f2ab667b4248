"""Delay-reason categories and who owns each: the national acute discharge
situation-report categories for why a patient who no longer meets the criteria to
reside was not discharged, in plain words, each with the side that must act.

Plain data, no Django. A reason arriving from a feed in the source's own words is
mapped here (``code_for_text``); words we cannot map are kept as ``unmapped`` with the
text, never dropped or guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    owner: str  # key into OWNERS


OWNERS: Final[dict[str, str]] = {
    "acute": "Acute trust",
    "community": "Community services",
    "social_care": "Adult social care",
    "hub": "Transfer of care hub",
    "patient": "Patient or family",
    "other": "Other",
}

REASONS: Final[tuple[Reason, ...]] = (
    Reason(
        "medical", "Awaiting a medical decision or intervention, or the discharge summary", "acute"
    ),
    Reason("therapy", "Awaiting a therapy decision or intervention", "acute"),
    Reason("diagnostics", "Awaiting a diagnostic test or its result", "acute"),
    Reason("medicines", "Awaiting medicines to take home", "acute"),
    Reason("transport", "Awaiting transport", "acute"),
    Reason("referral_not_made", "Awaiting referral to the transfer of care hub", "acute"),
    Reason("hub_processing", "Awaiting the transfer of care hub to process the referral", "hub"),
    Reason("assessment", "Awaiting assessment for the discharge pathway", "hub"),
    Reason("p1_capacity", "Pathway 1: awaiting care and support at home to start", "community"),
    Reason(
        "p2_capacity", "Pathway 2: awaiting a rehabilitation or intermediate care bed", "community"
    ),
    Reason("p3_capacity", "Pathway 3: awaiting a care home place", "social_care"),
    Reason("equipment", "Awaiting equipment or adaptations to housing", "community"),
    Reason("funding", "Awaiting a funding decision", "social_care"),
    Reason("choice", "Patient or family choice, or not agreeing the discharge plan", "patient"),
    Reason("safeguarding", "Safeguarding concern or Court of Protection", "social_care"),
    Reason("housing", "Homeless, no place to go, or no recourse to public funds", "social_care"),
    Reason("infection", "Kept in an acute bed because of infection control", "acute"),
    Reason("repatriation", "Awaiting transfer to another hospital", "acute"),
    Reason("unmapped", "A reason in the source's own words, not yet categorised", "other"),
)
BY_CODE: Final[dict[str, Reason]] = {r.code: r for r in REASONS}

# The hospital feed's own words, as the synthetic borough's PAS writes them.
_FEED_TEXT: Final[dict[str, str]] = {
    "awaiting medication to take home": "medicines",
    "awaiting transport": "transport",
    "awaiting test results": "diagnostics",
    "awaiting home care package": "p1_capacity",
    "awaiting reablement start": "p1_capacity",
    "awaiting equipment": "equipment",
    "awaiting assessment": "assessment",
    "awaiting community bed": "p2_capacity",
    "awaiting intermediate care bed": "p2_capacity",
    "awaiting care home placement": "p3_capacity",
    "patient or family choice": "choice",
    "awaiting funding decision": "funding",
}


def code_for_text(text: str) -> str:
    """The category for a source's words: a code itself, a known phrase, or ``unmapped``."""
    key = " ".join(text.split()).lower()
    if key in BY_CODE:
        return key
    return _FEED_TEXT.get(key, "unmapped")


def label(code: str) -> str:
    reason = BY_CODE.get(code)
    return reason.label if reason else code


def owner_label(owner: str) -> str:
    return OWNERS.get(owner, owner)

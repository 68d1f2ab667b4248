"""Set-up for the neighbourhoods tests: two neighbourhoods, each with its INT and postcodes,
and a team of practitioners in the first (like the demo's Stockport Central INT)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from joinedup.core.models import Neighbourhood, Organisation, Team, TeamKind, User
from joinedup.core.roles import Role
from joinedup.neighbourhoods.models import PostcodeArea


@dataclass
class Borough:
    central: Team
    heatons: Team
    nurse: User
    gp: User
    socialworker: User
    coordinator: User
    ot: User
    admin: User


@pytest.fixture
def place(db: None, organisation: Organisation, make_user: Callable[..., User]) -> Borough:
    teams = []
    for code, name, postcode in (
        ("central", "Central", "SK1 3XE"),
        ("heatons", "Heatons", "SK4 1AA"),
    ):
        hood = Neighbourhood.objects.create(code=code, name=name)
        teams.append(
            Team.objects.create(
                name=f"{name} INT", kind=TeamKind.INT, organisation=organisation, neighbourhood=hood
            )
        )
        PostcodeArea.objects.create(postcode=postcode, neighbourhood=hood)
    central, heatons = teams
    return Borough(
        central=central,
        heatons=heatons,
        nurse=make_user(Role.DISTRICT_NURSE, teams=[central], first_name="Nia", last_name="Okafor"),
        gp=make_user(Role.GP, teams=[central]),
        socialworker=make_user(
            Role.SOCIAL_WORKER, teams=[central], first_name="Sam", last_name="Walsh"
        ),
        coordinator=make_user(Role.CARE_COORDINATOR, teams=[central]),
        ot=make_user(Role.OCCUPATIONAL_THERAPIST, teams=[heatons]),
        admin=make_user(Role.ADMINISTRATOR),
    )


@pytest.fixture
def referral_form() -> Callable[..., dict[str, str]]:
    return _referral_form


def _referral_form(**changes: Any) -> dict[str, str]:
    """A complete referral as the front-door form posts it."""
    form = {
        "referrer_kind": "professional",
        "referrer_name": "Dr Grace Patel",
        "referrer_contact": "0161 000 0000",
        "given_name": "Edith",
        "family_name": "Referred",
        "dob-day": "3",
        "dob-month": "4",
        "dob-year": "1936",
        "nhs_number": "",
        "address": "1 Mill Lane",
        "postcode": "SK1 3XE",
        "contact_phone": "",
        "need": "nursing",
        "urgency": "routine",
        "safeguarding": "no",
        "reason": "Leg ulcer needs dressing three times a week at home.",
        "consent": "yes",
    }
    form.update(changes)
    return form

"""The care-home programme walks through the alignment planner; a GP opens a round list.
Every page passes axe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from tests.functional.conftest import serious_violations

from joinedup.carehomes import services
from joinedup.carehomes.models import AlignmentChange, CareHome
from joinedup.core.models import Organisation, OrganisationKind, Team, User
from joinedup.core.reference import organisations_sync
from joinedup.core.roles import Role
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


def _register(borough: Path) -> Organisation:
    """The borough's register, every home aligned to one practice (so the planner has work)."""
    reference = borough / "reference"
    organisations_sync(reference / "organisations.csv")
    organisations_sync(reference / "care_homes.csv")
    services.practice_sites_import(
        path=reference / "organisations.csv", lsoas=reference / "lsoas.csv"
    )
    services.care_homes_import(path=reference / "care_homes.csv")
    practice = Organisation.objects.filter(kind=OrganisationKind.GP_PRACTICE).order_by("ods_code")[
        0
    ]
    for home in CareHome.objects.all():
        services.alignment_set(
            user=None, home_code=home.code, practice_code=practice.ods_code, reason="test"
        )
    return practice


def test_programme_officer_plans_and_adopts_an_alignment(
    borough: Path, live_server: Any, sign_in: Callable[[User], Page], make_user: Callable[..., User]
) -> None:
    _register(borough)
    changes = AlignmentChange.objects.count()
    page = sign_in(make_user(role=Role.PORTFOLIO_OFFICER))

    page.goto(f"{live_server.url}/care-homes/")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Alignment planner").click()
    page.wait_for_url("**/care-homes/planner/")
    assert page.get_by_role("table", name="Totals, current and proposed").is_visible()
    assert (page.locator("svg[role=img] desc").first.text_content() or "").startswith(
        "Care-home beds per 1,000"
    )
    assert serious_violations(page) == []

    page.fill("#balance_weight", "a lot")
    page.get_by_role("button", name="Plan").click()
    summary = page.locator(".nhsuk-error-summary")
    assert summary.get_by_role("link", name="Enter the balance weight as a number").is_visible()
    assert serious_violations(page) == []
    summary.get_by_role("link").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("0.2")
    page.keyboard.press("Enter")
    page.wait_for_url("**/care-homes/planner/?balance_weight=0.2*")
    moves = page.get_by_role("table", name="Alignment by home, current and proposed").get_by_text(
        "Moves"
    )
    assert moves.count() > 0

    page.get_by_role("button", name="Adopt the proposed alignment").click()
    assert page.get_by_text("The proposal is now the register's alignment").is_visible()
    assert AlignmentChange.objects.count() > changes
    assert serious_violations(page) == []

    page.get_by_role("link", name="Back to care homes").click()
    page.get_by_role("row").nth(1).get_by_role("link").first.click()
    assert page.get_by_role("heading", name="Alignment history").is_visible()
    assert serious_violations(page) == []


def test_gp_opens_the_home_round_list(
    borough: Path,
    live_server: Any,
    sign_in: Callable[[User], Page],
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., Any],
) -> None:
    practice = _register(borough)
    home = CareHome.objects.order_by("code").first()
    assert home is not None
    team = make_team()
    relate(
        make_person(family_name="Roundresident", address=home.name, postcode=home.postcode), team
    )
    page = sign_in(make_user(role=Role.GP, teams=[team]))

    page.goto(f"{live_server.url}/care-homes/rounds/")
    assert serious_violations(page) == []
    page.select_option("#practice", practice.ods_code)
    page.get_by_role("button", name="Show the round list").click()
    page.wait_for_url(f"**/care-homes/rounds/{practice.ods_code}/")

    table = page.get_by_role("table", name="Residents to see, most pressing first")
    assert table.get_by_text("ROUNDRESIDENT").is_visible()
    assert serious_violations(page) == []

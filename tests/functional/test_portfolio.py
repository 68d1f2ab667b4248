"""A portfolio officer records a board decision by keyboard and sees a benefit's live value."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from tests.functional.conftest import serious_violations

from joinedup.core.models import User
from joinedup.core.reference import organisations_sync
from joinedup.core.roles import Role
from joinedup.portfolio.demo import demo_load as portfolio_demo
from joinedup.workforce.demo import demo_load as workforce_demo

pytestmark = pytest.mark.django_db(transaction=True)


def test_portfolio_officer_records_a_decision_and_sees_a_live_benefit(
    borough: Path,
    live_server: Any,
    sign_in: Callable[[User], Page],
    make_user: Callable[..., User],
) -> None:
    organisations_sync(borough / "reference" / "organisations.csv")
    workforce_demo(borough, progress=lambda *_: None)  # provides vacancy_rate_percent
    portfolio_demo(borough, progress=lambda *_: None)
    page = sign_in(make_user(role=Role.PORTFOLIO_OFFICER))

    for path in (
        "/portfolio/",
        "/portfolio/programmes/PRG01/",
        "/portfolio/risks/",
        "/portfolio/risks/RSK001/",
        "/portfolio/board-pack/",
    ):
        page.goto(f"{live_server.url}{path}")
        assert serious_violations(page) == [], path

    page.goto(f"{live_server.url}/portfolio/decisions/new/")
    page.get_by_role("button", name="Record the decision").press("Enter")
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    assert serious_violations(page) == []
    page.get_by_label("Date of the decision").fill("2026-04-15")
    page.get_by_label("Decision", exact=True).fill("Fund weekend discharge coordinators")
    page.get_by_label("Rationale").fill("Delays peak after weekends")
    page.get_by_label("Accountable organisation").select_option(
        label="Stockport-like NHS Foundation Trust"
    )
    page.get_by_label("Accountable person").fill("Chief Operating Officer")
    page.get_by_label("Who was present").fill("Chair, Borough Council\nDirector of Nursing")
    page.get_by_label("What will be done").first.fill("Recruit two coordinators")
    page.get_by_role("button", name="Record the decision").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/portfolio/decisions/#DEC*")
    assert page.get_by_text("Fund weekend discharge coordinators").first.is_visible()
    assert page.get_by_text("Chair, Borough Council; Director of Nursing").is_visible()
    assert serious_violations(page) == []

    page.get_by_role("link", name="Benefits").first.click()
    row = page.get_by_role("row").filter(has_text="Vacancy rate across the partnership")
    assert row.get_by_text("%").first.is_visible()
    assert "Not yet measured" not in row.inner_text()
    assert page.get_by_text("Not yet measured").first.is_visible()
    assert serious_violations(page) == []
    # The design system's CSS names the NHS font host; fonts come from 'self' only (ADR 2).
    problems = page.csp_problems  # type: ignore[attr-defined]
    blocked = [
        m for m in problems if "Content Security Policy" in m and "Loading the font" not in m
    ]
    assert blocked == []

"""A workforce lead finds vacancies by neighbourhood and staff group; every page passes axe."""

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
from joinedup.workforce.demo import demo_load

pytestmark = pytest.mark.django_db(transaction=True)


def _load(borough: Path) -> None:
    organisations_sync(borough / "reference" / "organisations.csv")
    demo_load(borough, progress=lambda *_: None)


def test_workforce_lead_sees_vacancies_by_neighbourhood_and_staff_group(
    borough: Path,
    live_server: Any,
    sign_in: Callable[[User], Page],
    make_user: Callable[..., User],
) -> None:
    _load(borough)
    page = sign_in(make_user(role=Role.WORKFORCE_LEAD))

    page.goto(f"{live_server.url}/workforce/?as_at=2026-03-31")
    assert page.get_by_role(
        "heading", name="Vacancies by neighbourhood and staff group"
    ).is_visible()
    assert (page.locator("svg[role=img] desc").first.text_content() or "").startswith(
        "Vacancy rate"
    )
    table = page.get_by_role("table", name="Vacancies by neighbourhood and staff group")
    assert table.get_by_text("Stockport Central").first.is_visible()
    assert table.get_by_text("NHS: Nursing and Midwifery Registered").first.is_visible()
    assert serious_violations(page) == []

    page.get_by_role("link", name="Staff records").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/workforce/staff/")
    assert serious_violations(page) == []

    for path in ("/workforce/teams/", "/workforce/imports/"):
        page.goto(f"{live_server.url}{path}")
        assert serious_violations(page) == [], path
    page.get_by_role("row").filter(has_text="workforce/staff.csv").get_by_role("link").click()
    assert page.get_by_role("heading", name="Import report: workforce/staff.csv").is_visible()
    assert serious_violations(page) == []
    # The design system's CSS names the NHS font host; fonts come from 'self' only (ADR 2).
    problems = page.csp_problems  # type: ignore[attr-defined]
    blocked = [
        m for m in problems if "Content Security Policy" in m and "Loading the font" not in m
    ]
    assert blocked == []


def test_other_staff_see_suppressed_totals(
    borough: Path,
    live_server: Any,
    sign_in: Callable[[User], Page],
    make_user: Callable[..., User],
) -> None:
    _load(borough)
    page = sign_in(make_user(role=Role.GP))

    page.goto(f"{live_server.url}/workforce/?as_at=2026-03-31")

    assert page.get_by_text("You see totals only").is_visible()
    assert page.get_by_role("link", name="Staff records").count() == 0
    assert serious_violations(page) == []

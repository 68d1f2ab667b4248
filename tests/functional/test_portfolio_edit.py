"""A portfolio officer adds a project and a milestone to a programme and updates the
milestone, by keyboard, with axe on every edit page and on each page of errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from tests.functional.conftest import serious_violations

from joinedup.core.models import AuditEvent, User
from joinedup.core.reference import organisations_sync
from joinedup.core.roles import Role
from joinedup.portfolio.demo import demo_load
from joinedup.portfolio.models import Milestone, Project

pytestmark = pytest.mark.django_db(transaction=True)


def _tab_to(page: Page, text: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.innerText")
        if focused and text in focused:
            return
    raise AssertionError(f"could not reach {text!r} by Tab")


def _type(page: Page, selector: str, text: str) -> None:
    page.focus(selector)
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)


def _type_date(page: Page, name: str, day: str, month: str, year: str) -> None:
    for part, value in (("day", day), ("month", month), ("year", year)):
        _type(page, f"#{name}-{part}", value)


def _submit(page: Page, button: str) -> None:
    """Send the form from its button by keyboard, and wait for the page that answers."""
    page.get_by_role("button", name=button).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _errors_shown_accessibly(page: Page) -> None:
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    assert serious_violations(page) == []


def test_portfolio_officer_edits_projects_and_milestones_by_keyboard(
    borough: Path,
    live_server: Any,
    sign_in: Callable[[User], Page],
    make_user: Callable[..., User],
) -> None:
    organisations_sync(borough / "reference" / "organisations.csv")
    demo_load(borough, progress=lambda *_: None)
    page = sign_in(make_user(role=Role.PORTFOLIO_OFFICER, first_name="Priya", last_name="Officer"))
    programme = f"{live_server.url}/portfolio/programmes/PRG01/"
    page.goto(programme)
    assert serious_violations(page) == []

    # A project: the empty form is refused with its errors, then added.
    _tab_to(page, "Add a project")
    page.keyboard.press("Enter")
    page.wait_for_url("**/programmes/PRG01/projects/new/")
    assert serious_violations(page) == []
    _submit(page, "Add the project")
    _errors_shown_accessibly(page)
    page.get_by_role("link", name="Enter the project's name").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.type("Weekend discharge hub")
    _type(page, "#owner", "Sam Jones, Hub manager")
    page.get_by_label("Lead's organisation (optional)").focus()
    page.get_by_label("Lead's organisation (optional)").select_option(
        label="Stockport-like NHS Foundation Trust"
    )
    _submit(page, "Add the project")
    page.wait_for_url(f"{programme}#projects")
    assert page.get_by_role("row").filter(has_text="Weekend discharge hub").is_visible()

    # A milestone in that project, forecast past its baseline so amber.
    _tab_to(page, "Add a milestone")
    page.keyboard.press("Enter")
    page.wait_for_url("**/programmes/PRG01/milestones/new/")
    assert serious_violations(page) == []
    _submit(page, "Add the milestone")
    _errors_shown_accessibly(page)
    _type(page, "#title", "Weekend coordinators in post")
    page.get_by_label("Project (optional)").select_option(label="Weekend discharge hub")
    _type_date(page, "planned_date", "31", "3", "2027")
    _type_date(page, "forecast_date", "30", "4", "2027")
    page.focus("#status-on_track")
    page.keyboard.press("Space")
    page.focus("#rag")
    page.keyboard.press("Space")  # green: refused, the forecast has slipped
    _submit(page, "Add the milestone")
    _errors_shown_accessibly(page)
    assert page.get_by_text("choose At risk or Late").first.is_visible()
    page.focus("#status-at_risk")
    page.keyboard.press("Space")
    page.focus("#rag-amber")
    page.keyboard.press("Space")
    _submit(page, "Add the milestone")
    page.wait_for_url(f"{programme}#milestones")
    row = page.get_by_role("row").filter(has_text="Weekend coordinators in post")
    assert "Amber" in row.inner_text()
    assert "Weekend discharge hub" in row.inner_text()

    # Update it: late and red now, with a note of why.
    page.get_by_role("link", name="Update Weekend coordinators in post").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/programmes/PRG01/milestones/MS*/")
    assert serious_violations(page) == []
    _type_date(page, "forecast_date", "30", "6", "2027")
    page.focus("#status-late")
    page.keyboard.press("Space")
    page.focus("#rag-red")
    page.keyboard.press("Space")
    _submit(page, "Save the update")
    _errors_shown_accessibly(page)  # the note is required on an update
    _type(page, "#note", "Recruitment reopened after no suitable applicants")
    _submit(page, "Save the update")
    page.wait_for_url(f"{programme}#milestones")
    row = page.get_by_role("row").filter(has_text="Weekend coordinators in post")
    assert "Red" in row.inner_text()
    assert "by Priya Officer" in row.inner_text()

    made = Milestone.objects.get(title="Weekend coordinators in post")
    assert made.project == Project.objects.get(name="Weekend discharge hub")
    assert (made.status, made.rag, str(made.forecast_date)) == ("late", "red", "2027-06-30")
    assert AuditEvent.objects.filter(resource=f"portfolio.milestone:{made.code}").count() == 2
    page.goto(f"{live_server.url}/portfolio/board-pack/")
    assert page.get_by_role("row").filter(has_text="Weekend coordinators in post").is_visible()
    # The design system's CSS names the NHS font host; fonts come from 'self' only (ADR 2).
    problems = page.csp_problems  # type: ignore[attr-defined]
    blocked = [
        m for m in problems if "Content Security Policy" in m and "Loading the font" not in m
    ]
    assert blocked == []

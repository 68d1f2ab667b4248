"""The main journeys work by keyboard alone, in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page
from tests.conftest import PASSWORD

from joinedup.core.models import AuditEvent, Team, User
from joinedup.core.roles import Role
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


def _tab_to(page: Page, text: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.innerText")
        if focused and text in focused:
            return
    raise AssertionError(f"could not reach {text!r} by Tab")


def test_sign_in_and_open_a_record_by_keyboard(
    live_server: Any,
    page: Page,
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    make_person: Callable[..., Person],
    relate: Callable[..., object],
) -> None:
    team = make_team()
    person = make_person(family_name="Keyboard")
    relate(person, team)
    nurse = make_user(Role.DISTRICT_NURSE, teams=[team])
    page.goto(live_server.url + "/sign-in/")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.innerText") == "Skip to main content"
    page.focus("#username")
    page.keyboard.type(nurse.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")

    _tab_to(page, "People")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/people/")
    _tab_to(page, "KEYBOARD")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/people/{person.id}/")
    assert page.locator("h1").inner_text() == "Testgiven KEYBOARD"


def test_break_glass_journey_in_the_browser(
    live_server: Any,
    page: Page,
    sign_in: Callable[[User], Page],
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
) -> None:
    person = make_person(family_name="Emergency")
    sign_in(make_user(Role.GP))

    page.goto(f"{live_server.url}/people/{person.id}/")
    assert "You do not have a care relationship" in page.locator("h1").inner_text()
    page.keyboard.press("Tab")
    page.check("input[value='emergency']")
    page.fill("#explanation", "Brought in unconscious, needs medication history")
    page.click("button:has-text('Open the record')")
    page.wait_for_url(f"{live_server.url}/people/{person.id}/")

    assert page.locator("h1").inner_text() == "Testgiven EMERGENCY"
    assert "Break-glass access" in page.content()
    actions = list(
        AuditEvent.objects.filter(person_id=person.id)
        .exclude(resource="population.frailty")  # the header's frailty, for people aged 65+
        .values_list("action", flat=True)
    )
    assert actions == ["deny", "break_glass", "read"]

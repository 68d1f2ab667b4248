"""Neighbourhood teams in a real browser: a referral from the front door to acceptance, a
care plan edit, an MDT meeting from agenda to a task on a colleague's worklist; axe on
every page on the way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page
from tests.conftest import PASSWORD
from tests.functional.conftest import serious_violations

from joinedup.core.models import Neighbourhood, Organisation, Team, TeamKind, User
from joinedup.core.roles import Role
from joinedup.neighbourhoods.models import CaseloadEntry, PostcodeArea
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def teams(organisation: Organisation) -> tuple[Team, Team]:
    made = []
    for code, name, postcode in (("c", "Central", "SK1 3XE"), ("h", "Heatons", "SK4 1AA")):
        hood = Neighbourhood.objects.create(code=code, name=name)
        made.append(
            Team.objects.create(
                name=f"{name} INT", kind=TeamKind.INT, organisation=organisation, neighbourhood=hood
            )
        )
        PostcodeArea.objects.create(postcode=postcode, neighbourhood=hood)
    return made[0], made[1]


@pytest.fixture
def open_as(browser: Browser, live_server: Any) -> Iterator[Callable[[User], Page]]:
    contexts = []

    def go(user: User) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/sign-in/")
        page.fill("#username", user.username)
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Sign in')")
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield go
    for context in contexts:
        context.close()


def _clean(page: Page) -> None:
    assert serious_violations(page) == [], page.url


def test_referral_from_the_front_door_to_acceptance(
    teams: tuple[Team, Team],
    live_server: Any,
    open_as: Callable[[User], Page],
    make_user: Callable[..., User],
) -> None:
    central, _ = teams
    gp = make_user(Role.GP, teams=[central])
    nurse = make_user(Role.DISTRICT_NURSE, teams=[central], first_name="Nia", last_name="Okafor")
    page = open_as(gp)

    page.goto(f"{live_server.url}/neighbourhoods/refer/")
    page.get_by_role("button", name="Send referral").click()
    summary = page.get_by_role("alert")
    assert summary.get_by_text("Enter the person's first name").is_visible()
    _clean(page)
    summary.get_by_role("link", name="Enter the person's first name").click()
    page.keyboard.type("Edith")
    page.fill("#family_name", "Browser")
    page.fill("#dob-day", "3")
    page.fill("#dob-month", "4")
    page.fill("#dob-year", "1936")
    page.fill("#postcode", "SK1 3XE")
    page.fill("#referrer_name", "Dr Grace Patel")
    page.fill("#referrer_contact", "0161 000 0000")
    page.get_by_label("Nursing care at home").check()
    page.get_by_label("Routine").check()
    page.locator("#safeguarding-2").check()
    page.fill("#reason", "Leg ulcer needs dressing three times a week.")
    page.get_by_label("Yes, they agree").check()
    page.get_by_role("button", name="Send referral").click()
    assert page.get_by_text("It is with Central INT").is_visible()
    _clean(page)

    nurse_page = open_as(nurse)
    nurse_page.goto(f"{live_server.url}/neighbourhoods/teams/{central.pk}/")
    _clean(nurse_page)
    nurse_page.get_by_role("link", name="R0").first.click()
    nurse_page.fill("#note", "District nurse visit this week")
    nurse_page.get_by_role("button", name="Mark as triaged").click()
    nurse_page.fill("#caseload_reason", "Leg ulcer care")
    nurse_page.select_option("#key_worker", str(nurse.pk))
    _clean(nurse_page)
    nurse_page.get_by_role("button", name="Accept referral").click()
    assert nurse_page.get_by_text("Accepted").first.is_visible()
    nurse_page.goto(f"{live_server.url}/neighbourhoods/teams/{central.pk}/caseload/")
    assert nurse_page.get_by_role("link", name="Edith BROWSER", exact=True).is_visible()
    _clean(nurse_page)


def _person_on_caseload(
    team: Team, make_person: Callable[..., Person], relate: Any, **extra: Any
) -> Person:
    person = make_person(family_name="Planned")
    relate(person, team)
    CaseloadEntry.objects.create(
        team=team, person=person, reason="Frailty", started_on=timezone.localdate(), **extra
    )
    return person


def test_care_plan_edit(
    teams: tuple[Team, Team],
    live_server: Any,
    open_as: Callable[[User], Page],
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    relate: Any,
) -> None:
    central, _ = teams
    nurse = make_user(Role.DISTRICT_NURSE, teams=[central])
    person = _person_on_caseload(central, make_person, relate)
    page = open_as(nurse)

    page.goto(f"{live_server.url}/neighbourhoods/people/{person.id}/care-plan/")
    page.get_by_role("button", name="Save care plan").click()
    assert page.get_by_role("alert").get_by_text("what matters to the person").is_visible()
    _clean(page)
    page.fill("#what_matters", "Staying at home with my cat.")
    page.fill("#goal-0", "Walk to the shop")
    page.fill("#action-0-text", "Fit a key safe")
    page.fill("#action-0-responsible", "Olu Adeyemi")
    page.fill("#action-0-organisation", "Community services")
    page.get_by_role("button", name="Save care plan").click()

    assert page.get_by_text("Saved as version 1.").is_visible()
    assert page.get_by_role("cell", name="Fit a key safe").is_visible()
    _clean(page)


def test_mdt_meeting_from_agenda_to_a_task_on_a_colleagues_worklist(
    teams: tuple[Team, Team],
    live_server: Any,
    open_as: Callable[[User], Page],
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    relate: Any,
) -> None:
    central, _ = teams
    nurse = make_user(Role.DISTRICT_NURSE, teams=[central], first_name="Nia", last_name="Okafor")
    social = make_user(Role.SOCIAL_WORKER, teams=[central], first_name="Sam", last_name="Walsh")
    _person_on_caseload(central, make_person, relate, next_review_on=timezone.localdate())
    page = open_as(nurse)
    day = timezone.localdate() + timedelta(days=1)

    page.goto(f"{live_server.url}/neighbourhoods/teams/{central.pk}/meetings/")
    _clean(page)
    page.fill("#date", day.isoformat())
    page.fill("#location", "Room 2")
    page.get_by_role("button", name="Schedule and build the agenda").click()
    assert page.get_by_text("Review due").is_visible()
    _clean(page)
    page.get_by_role("link", name="Record discussion and decisions for item 1").click()
    page.fill("#discussion", "Daughter is struggling to cope.")
    page.fill("#decision", "Carers assessment for the daughter")
    page.select_option("#owner", str(social.pk))
    page.fill("#due_on", (day + timedelta(days=7)).isoformat())
    _clean(page)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Finish the meeting and write the minutes").click()
    assert page.get_by_role("heading", name="MDT minutes").first.is_visible()
    assert page.get_by_text("Carers assessment for the daughter").is_visible()
    _clean(page)

    social_page = open_as(social)
    social_page.goto(f"{live_server.url}/neighbourhoods/tasks/")
    assert social_page.get_by_role("link", name="Carers assessment for the daughter").is_visible()
    _clean(social_page)


def test_every_neighbourhood_page_passes_axe(
    teams: tuple[Team, Team],
    live_server: Any,
    open_as: Callable[[User], Page],
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    relate: Any,
) -> None:
    central, _ = teams
    nurse = make_user(Role.DISTRICT_NURSE, teams=[central])
    person = _person_on_caseload(central, make_person, relate)
    page = open_as(nurse)
    for path in (
        "/neighbourhoods/",
        "/neighbourhoods/referrals/",
        f"/neighbourhoods/teams/{central.pk}/case-finding/",
        f"/neighbourhoods/teams/{central.pk}/tasks/",
        f"/neighbourhoods/people/{person.id}/packages/",
        "/neighbourhoods/packages/",
    ):
        page.goto(f"{live_server.url}{path}")
        _clean(page)
    entry = CaseloadEntry.objects.for_system("test").get(person=person)
    page.goto(f"{live_server.url}/neighbourhoods/caseload/{entry.pk}/")
    _clean(page)
    admin = open_as(make_user(Role.ADMINISTRATOR))
    for path in ("/neighbourhoods/routing/", "/neighbourhoods/routing/new/"):
        admin.goto(f"{live_server.url}{path}")
        _clean(admin)

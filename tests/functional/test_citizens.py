"""Citizens in a browser: a resident signs up (and corrects a mistake); an engagement
officer sees the pool against the population, draws a panel with quotas on age, sex,
ethnicity and deprivation, reads the chances and the fairness report, and replays the
draw. Every page passes axe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from tests.functional.conftest import serious_violations

from joinedup.citizens.demo import demo_load
from joinedup.citizens.models import Panel, Postcode
from joinedup.core.models import User
from joinedup.core.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def _axe_clean(page: Page, where: str) -> None:
    assert serious_violations(page) == [], where


def test_resident_signs_up_after_correcting_a_mistake(
    borough: Path, live_server: Any, page: Page
) -> None:
    demo_load(borough, progress=lambda *_: None, volunteers=100)
    postcode = Postcode.objects.order_by("postcode").first()
    assert postcode is not None

    page.goto(f"{live_server.url}/citizens/join/")
    _axe_clean(page, "join")
    page.get_by_label("First name").fill("Rowan")
    page.get_by_role("button", name="Join the register").click()

    summary = page.get_by_role("alert")
    assert summary.get_by_text("Enter your last name").is_visible()
    _axe_clean(page, "join with errors")
    summary.get_by_role("link", name="Enter your last name").click()
    page.keyboard.type("Ashworth")
    page.get_by_label("Email address").fill("rowan.ashworth@example.org")
    page.get_by_label("Postcode").fill(postcode.postcode.lower())
    answers = {
        "How should we contact you?": "Email",
        "How old are you?": "35-44",
        "What is your sex?": "Female",
        "Is the gender you identify with": "Yes",
        "What is your ethnic group?": "Mixed or multiple ethnic groups",
        "Do you have a physical or mental health condition": "No",
        "Do you look after": "Prefer not to say",
        "Do you own or rent your home?": "Rent privately",
    }
    for question, answer in answers.items():
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    page.get_by_label("I agree", exact=False).check()
    page.get_by_role("button", name="Join the register").click()

    assert page.get_by_role("heading", name="Thank you for joining").is_visible()
    _axe_clean(page, "joined")


def test_officer_draws_a_panel_reads_the_chances_and_replays_it(
    borough: Path,
    live_server: Any,
    sign_in: Callable[[User], Page],
    make_user: Callable[..., User],
) -> None:
    demo_load(borough, progress=lambda *_: None, volunteers=200)
    page = sign_in(make_user(role=Role.ENGAGEMENT_OFFICER))

    page.goto(f"{live_server.url}/citizens/")
    assert page.get_by_role("table", name="Age band").is_visible()
    assert page.locator("svg[role=img] desc").first.text_content()
    _axe_clean(page, "register")
    for path in ("/citizens/volunteers/?q=a", "/citizens/import/", "/citizens/panels/"):
        page.goto(f"{live_server.url}{path}")
        _axe_clean(page, path)

    page.goto(f"{live_server.url}/citizens/panels/new/")
    _axe_clean(page, "new panel")
    page.get_by_label("Name of the panel").fill("Urgent care focus group")
    page.get_by_label("Panel size").fill("20")
    page.get_by_role("button", name="Suggest quotas").click()
    assert page.get_by_label("At least, imd_quintile 1").is_visible()
    page.get_by_label("Seed (optional)").fill("2026")
    page.get_by_role("button", name="Draw the panel").click()

    page.wait_for_url("**/citizens/panels/*/")
    assert page.get_by_role("heading", name="Fairness report").is_visible()
    assert page.get_by_role("table", name="Chances of selection").is_visible()
    assert page.get_by_role(
        "table", name="Quotas: the pool, the lottery and the panel"
    ).is_visible()
    _axe_clean(page, "panel")
    page.get_by_role("button", name="Replay the draw").click()
    assert page.get_by_text("Replay verified.").is_visible()
    panel = Panel.objects.get()
    assert panel.members.count() == 20
    assert set(panel.audit["quotas"]["header"]) >= {"feature", "value", "min", "max"}
    features = {q["feature"] for q in panel.audit["quotas"]["quotas"]}
    assert features == {"age_band", "sex", "ethnic_group", "imd_quintile"}

    page.goto(f"{live_server.url}/citizens/you-said-we-did/")
    _axe_clean(page, "outcomes")

"""A resident finds a falls-prevention service near a borough postcode, nearest first, on
the public page without signing in; staff pages and the review list pass axe too."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from tests.functional.conftest import serious_violations

from joinedup.core.models import User
from joinedup.core.roles import Role
from joinedup.directory import geo
from joinedup.directory.demo import demo_load
from joinedup.directory.models import Postcode, Service

pytestmark = pytest.mark.django_db(transaction=True)
MILES = re.compile(r"([0-9.]+) miles|([0-9]+) yards")


def _miles(text: str) -> float:
    found = MILES.search(text)
    assert found is not None, text
    return float(found.group(1)) if found.group(1) else float(found.group(2)) / 1760


def test_resident_finds_falls_prevention_near_a_postcode_nearest_first(
    borough: Path, live_server: Any, page: Page
) -> None:
    demo_load(borough, progress=lambda *_: None)
    postcode = Postcode.objects.order_by("postcode")[7]

    page.goto(f"{live_server.url}/directory/find/")
    assert serious_violations(page) == []
    page.get_by_label("What do you need help with?").fill("falls prevention")
    page.get_by_label("Your postcode").fill(postcode.postcode.lower().replace(" ", ""))
    page.get_by_label("Your postcode").press("Enter")
    page.wait_for_url("**/directory/find/?**")

    results = page.get_by_role("list", name=re.compile("services found"))
    cards = results.get_by_role("listitem")
    assert cards.count() >= 3
    texts = [cards.nth(i).inner_text() for i in range(cards.count())]
    placed = [t for t in texts if "Distance" in t]
    # Services met by phone or online follow the ones with a place, never before them.
    assert texts[: len(placed)] == placed
    distances = [_miles(t) for t in placed]
    assert distances == sorted(distances)
    first = cards.nth(0).get_by_role("heading").inner_text()
    nearest = Service.objects.get(name=first)
    location = nearest.at_locations.first()
    assert location is not None
    metres = geo.distance_m(
        postcode.latitude,
        postcode.longitude,
        location.location.latitude or 0,
        location.location.longitude or 0,
    )
    assert abs(metres / geo.METRES_PER_MILE - distances[0]) < 0.06
    assert serious_violations(page) == []

    cards.nth(0).get_by_role("link", name=first).click()
    assert page.get_by_role("heading", level=1, name=first).is_visible()
    assert page.get_by_text("Falls prevention").first.is_visible()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Back to your search").click()
    assert page.get_by_role("list", name=re.compile("services found")).is_visible()


def test_resident_sees_an_error_that_links_to_the_postcode(live_server: Any, page: Page) -> None:
    page.goto(f"{live_server.url}/directory/find/?need=falls&postcode=nonsense")

    summary = page.get_by_role("alert")
    assert summary.get_by_text("Enter a full postcode").is_visible()
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "postcode"
    assert serious_violations(page) == []


def test_staff_directory_pages_pass_axe_and_work_by_keyboard(
    borough: Path, live_server: Any, sign_in: Callable[[User], Page], make_user: Callable[..., User]
) -> None:
    owner = make_user(role=Role.CARE_COORDINATOR, username="carecoordinator")
    demo_load(borough, progress=lambda *_: None)
    page = sign_in(owner)

    page.goto(f"{live_server.url}/directory/?need=falls&postcode=&return_to=/neighbourhoods/")
    assert serious_violations(page) == []
    page.goto(f"{live_server.url}/directory/review/")
    assert serious_violations(page) == []
    link = page.get_by_role("table").get_by_role("link").first
    name = link.inner_text()
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/directory/services/**")
    assert page.get_by_role("heading", level=1, name=name).is_visible()
    assert serious_violations(page) == []
    page.get_by_role("button", name="These details are right today").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**reviewed=1")
    assert page.get_by_text("marked as checked today").is_visible()

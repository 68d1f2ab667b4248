"""A service's owner corrects its directory entry in Chromium by keyboard alone: from the
service page to the edit page, through the error summary, to a save, and past someone
else's save made meanwhile; axe passes on every state of the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta
from typing import Any, Literal

import pytest
from django.utils import timezone
from playwright.sync_api import Page
from tests.functional.conftest import serious_violations

from joinedup.core.models import User
from joinedup.core.roles import Role
from joinedup.directory.models import Schedule, Service, ServiceStatus

pytestmark = pytest.mark.django_db(transaction=True)


def _service(owner: User) -> Service:
    service = Service.objects.create(
        name="Memory cafe",
        description="A friendly afternoon for people living with dementia and their carers",
        status=ServiceStatus.ACTIVE,
        email="memory@example.org",
        url="https://memory.example.org",
        minimum_age=18,
        last_modified=timezone.now(),
        assured_date=timezone.localdate() - timedelta(days=200),
        owner=owner,
        source="Tameside directory",
    )
    Schedule.objects.create(
        service=service, freq="WEEKLY", byday="TU", opens_at=time(14), closes_at=time(16)
    )
    return service


def _press(page: Page, role: Literal["link", "button"], name: str) -> None:
    """Reach a control by focus and work it with the keyboard, as a keyboard user does."""
    page.get_by_role(role, name=name).first.focus()
    page.keyboard.press("Enter")


def test_owner_corrects_a_service_by_keyboard_with_axe_on_every_state(
    live_server: Any, sign_in: Callable[[User], Page], make_user: Callable[..., User]
) -> None:
    owner = make_user(role=Role.CARE_COORDINATOR, username="carecoordinator")
    service = _service(owner)
    page = sign_in(owner)
    page.goto(f"{live_server.url}/directory/services/{service.pk}/")

    _press(page, "link", "Edit this service")
    page.wait_for_url("**/edit/")
    assert page.get_by_role("heading", level=1, name="Edit Memory cafe").is_visible()
    assert page.get_by_text("Imported from Tameside directory").is_visible()
    assert serious_violations(page) == []

    page.get_by_label("Name").fill("")
    page.get_by_label("Email").fill("memory at example")
    page.get_by_label("Maximum age").fill("12")
    with page.expect_navigation():
        _press(page, "button", "Save changes")
    summary = page.get_by_role("alert")
    assert summary.get_by_role("link").all_inner_texts() == [
        "Enter the service's name",
        "Enter an email address like name@example.org",
        "Maximum age must be the same as or more than the minimum age",
    ]
    assert page.title().startswith("Error: ")
    assert serious_violations(page) == []
    _press(page, "link", "Enter the service's name")
    assert page.evaluate("document.activeElement.id") == "name"

    page.keyboard.type("Memory cafe at the library")
    page.get_by_label("Email").fill("memory.cafe@example.org")
    page.get_by_label("Maximum age").fill("")
    page.get_by_label("Note (optional)").fill("checked with the librarian")
    page.get_by_label("Note (optional)").press("Enter")
    page.wait_for_url("**edited=1")
    assert page.get_by_role("heading", level=1, name="Memory cafe at the library").is_visible()
    assert page.get_by_text("Your changes are saved").is_visible()
    assert serious_violations(page) == []

    _press(page, "link", "Edit this service")
    page.wait_for_url("**/edit/")
    # Someone else saves the entry while this page is open.
    Service.objects.filter(pk=service.pk).update(
        phone="0161 480 4949", last_modified=timezone.now()
    )
    page.get_by_label("Description").fill("Tuesday afternoons for people with dementia")
    with page.expect_navigation():
        _press(page, "button", "Save changes")
    assert page.get_by_text("Someone else changed this service").is_visible()
    assert page.get_by_label("Phone").input_value() == "0161 480 4949"
    assert page.get_by_role("table").get_by_text("Tuesday afternoons").is_visible()
    assert serious_violations(page) == []
    service.refresh_from_db()
    assert service.description.startswith("A friendly afternoon")

"""An analyst sees the life-expectancy gap chart and a neighbourhood scorecard, and
downloads the table behind a chart; every page passes axe and works by keyboard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from playwright.sync_api import Page
from tests.functional.conftest import serious_violations
from tests.unit.population.warehouse_data import make_warehouse

from joinedup.core.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def warehouse_dir(tmp_path: Path) -> Iterator[Path]:
    make_warehouse(tmp_path / "wh", people=3000, seed=8)
    with override_settings(WAREHOUSE_DIR=str(tmp_path / "wh")):
        yield tmp_path / "wh"


def test_population_analyst_journey(
    warehouse_dir: Path,
    live_server: Any,
    make_user: Callable[..., Any],
    sign_in: Callable[..., Page],
) -> None:
    page = sign_in(make_user(role=Role.ANALYST))
    page.goto(f"{live_server.url}/population/")
    assert serious_violations(page) == []

    link = page.get_by_role("link", name="Life expectancy and the gap")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/population/life-expectancy/")
    assert page.locator("svg.ju-chart desc").count() >= 2
    assert page.get_by_role("heading", name="The gap, females").is_visible()
    assert serious_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Download this table as CSV").first.click()
    assert download.value.suggested_filename.endswith(".csv")

    page.goto(f"{live_server.url}/population/scorecards/north/")
    assert page.get_by_role("heading", name="Scorecard: North").is_visible()
    assert serious_violations(page) == []
    for path in ("mortality", "frailty", "vaccines"):
        page.goto(f"{live_server.url}/population/{path}/")
        assert serious_violations(page) == [], path
    # The NHS.UK stylesheet asks for its web font from assets.nhs.uk, which the CSP blocks
    # everywhere; nothing of ours (no script, no inline style) may be blocked.
    problems = [p for p in page.csp_problems if "font" not in p]  # type: ignore[attr-defined]
    assert problems == []

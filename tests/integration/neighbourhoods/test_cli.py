"""`joinedup neighbourhoods`: postcodes from the borough's register, rules, breach counts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from joinedup.core.models import Neighbourhood
from joinedup.core.reference import organisations_sync
from joinedup.neighbourhoods import services
from joinedup.neighbourhoods.cli import app
from joinedup.neighbourhoods.models import PostcodeArea, Referral, RoutingRule

pytestmark = pytest.mark.django_db
runner = CliRunner()


def test_postcodes_load_every_postcode_into_its_neighbourhood(borough: Path) -> None:
    organisations_sync(borough / "reference" / "organisations.csv")

    first = runner.invoke(app, ["postcodes", str(borough)])
    again = runner.invoke(app, ["postcodes", str(borough)])

    lines = (borough / "reference" / "postcodes.csv").read_text().count("\n") - 1
    assert first.exit_code == 0, first.output
    assert f"{lines:,} postcodes read" in first.output
    assert again.exit_code == 0
    assert PostcodeArea.objects.count() == lines
    assert Neighbourhood.objects.filter(name="Stockport Central").exists()


def test_postcodes_missing_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["postcodes", str(tmp_path)])
    assert result.exit_code == 2
    assert "there is no reference/postcodes.csv here" in result.output


def test_rules_print_as_json(place) -> None:
    RoutingRule.objects.create(name="Children", priority=5, max_age=17, team=place.heatons)

    result = runner.invoke(app, ["rules", "--json"])

    assert result.exit_code == 0
    assert json.loads(result.output)["rules"][0] == {
        "priority": 5,
        "name": "Children",
        "active": True,
        "min_age": None,
        "max_age": 17,
        "need": None,
        "urgency": None,
        "safeguarding": None,
        "neighbourhood": None,
        "team": "Heatons INT",
    }


def test_breaches_count_referrals_past_their_service_level(
    place, referral_form: Callable[..., dict[str, str]]
) -> None:
    for _ in range(2):
        draft = services.referral_draft_save(form=referral_form(), user=place.gp)
        services.referral_submit(referral=draft, user=place.gp)
    late = Referral.objects.for_system("test").order_by("id").first()
    assert late is not None
    Referral.objects.for_system("test").filter(id=late.pk).update(
        triage_due_at=timezone.now() - timedelta(minutes=5)
    )

    result = runner.invoke(app, ["breaches"])

    assert result.exit_code == 0
    assert "Central INT: 2 waiting, 1 past the service level" in result.output
    assert "joinedup: 1 referrals past their triage service level" in result.output

"""`joinedup discharge build` through typer's CliRunner: builds what is new, once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from joinedup.core.models import AuditEvent, Team, TeamKind
from joinedup.discharge.cli import app
from joinedup.discharge.models import DeliveryBuild, Stay
from joinedup.people.models import CareRelationship, Person

pytestmark = pytest.mark.django_db
runner = CliRunner()


def test_build_command_builds_new_deliveries_and_prints_one_line(
    hospital_record: Path, hub: Team
) -> None:
    first = runner.invoke(app, ["build"])

    assert first.exit_code == 0, first.output
    stays = Stay.objects.for_system("test").count()
    assert stays > 100
    assert f"joinedup: 1 hospital delivery built: {stays:,} stays new" in first.stdout
    assert DeliveryBuild.objects.count() == 1


def test_build_command_twice_builds_nothing_the_second_time(
    hospital_record: Path, hub: Team
) -> None:
    runner.invoke(app, ["build"])
    events = AuditEvent.objects.count()

    again = runner.invoke(app, ["build"])

    assert again.exit_code == 0, again.output
    assert "joinedup: 0 hospital deliveries built: 0 stays new, 0 updated" in again.stdout
    assert AuditEvent.objects.count() == events


def test_build_command_with_no_hospital_feed_builds_nothing(db: None) -> None:
    done = runner.invoke(app, ["build"])

    assert done.exit_code == 0, done.output
    assert "0 hospital deliveries built: 0 stays new" in done.stdout
    assert Stay.objects.for_system("test").count() == 0


def test_build_command_opens_inpatients_to_a_hub_made_after_the_build(
    make_person: Callable[..., Person], make_team: Callable[..., Team]
) -> None:
    stay = Stay.objects.create(
        spell_id="LATE1", person=make_person(), ward_code="W1", admitted_at=timezone.now()
    )
    first = runner.invoke(app, ["build"])  # no discharge hub yet
    assert "0 inpatients opened to the hub" in first.stdout
    hub = make_team(kind=TeamKind.DISCHARGE_HUB)

    again = runner.invoke(app, ["build"])

    assert again.exit_code == 0, again.output
    assert "1 inpatients opened to the hub" in again.stdout
    assert CareRelationship.objects.filter(team=hub, person_id=stay.person_id).count() == 1
    assert "0 inpatients opened" in runner.invoke(app, ["build"]).stdout

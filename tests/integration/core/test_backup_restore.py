"""A backup restores every table exactly, audit chain included, on either engine."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import models
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.core.audit import verify_chain
from joinedup.core.backup import backed_up_models, backup_restore, backup_write
from joinedup.core.models import AuditEvent, BreakGlassGrant, Team, User
from joinedup.core.roles import Role
from joinedup.errors import InvalidInput
from joinedup.people import services as people_services
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for model in backed_up_models():
        names = [f.attname for f in model._meta.concrete_fields]
        tables[model._meta.label] = list(model._base_manager.order_by("pk").values_list(*names))
    return tables


def _populate(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
) -> None:
    team = make_team()
    gp = make_user(Role.GP, teams=[team])
    for _ in range(3):
        relate(make_person(), team)
    stranger = make_person(date_of_death="2025-02-03", opted_out_secondary_use=True)
    people_services.person_break_glass(
        user=gp, person_id=stranger.id, reason="emergency", explanation="Arrived unconscious"
    )
    people_services.person_open(user=gp, person_id=stranger.id)


def test_round_trip_gives_back_every_table_and_a_valid_chain(
    tmp_path: Path,
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
) -> None:
    _populate(make_user, make_person, make_team, relate)
    file = tmp_path / "joinedup.jsonl.gz"
    summary = backup_write(file)
    before = _snapshot()
    assert summary.rows == sum(len(rows) for rows in before.values())

    with pytest.MonkeyPatch.context():
        Person.objects.for_system("test: wreck the data").delete()
        BreakGlassGrant.objects.all().delete()
    backup_restore(file)
    after = _snapshot()

    audit = AuditEvent._meta.label
    for label, rows in before.items():
        if label in {audit, "core.AuditChainHead"}:
            continue
        assert after[label] == rows, label
    # The restore appends one event of its own after the restored chain.
    assert after[audit][: len(before[audit])] == before[audit]
    assert len(after[audit]) == len(before[audit]) + 1
    assert AuditEvent.objects.order_by("-id").first().resource == "database.restore"
    assert verify_chain().ok


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    file = tmp_path / "not-a-backup.gz"
    with gzip.open(file, "wt") as out:
        out.write('{"hello": "world"}\n')
    with pytest.raises(InvalidInput, match="not a joinedup backup"):
        backup_restore(file)


def test_restore_refuses_a_damaged_file_and_changes_nothing(
    tmp_path: Path, make_person: Callable[..., Person]
) -> None:
    make_person()
    file = tmp_path / "b.jsonl.gz"
    backup_write(file)
    make_person()
    damaged = tmp_path / "damaged.jsonl.gz"
    damaged.write_bytes(file.read_bytes()[:-40])
    with pytest.raises(InvalidInput):
        backup_restore(damaged)
    assert Person.objects.for_system("test").count() == 2


def test_cli_backup_and_restore(tmp_path: Path, make_person: Callable[..., Person]) -> None:
    make_person()
    file = tmp_path / "cli.jsonl.gz"
    runner = CliRunner()
    made = runner.invoke(app, ["backup", str(file)])
    assert made.exit_code == 0, made.output
    refused = runner.invoke(app, ["restore", str(file)])
    assert refused.exit_code == 2
    restored = runner.invoke(app, ["restore", str(file), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "restored" in restored.output


def test_every_model_is_backed_up() -> None:
    labels = {m._meta.label for m in backed_up_models()}
    assert {"core.AuditEvent", "core.User", "people.Person", "core.User_teams"} <= labels
    assert all(issubclass(m, models.Model) for m in backed_up_models())

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.core.models import AuditEvent, Team, User
from joinedup.core.roles import Role
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db
JOINEDUP = Path(sys.executable).with_name("joinedup")


def test_logs_carry_no_person_identifiable_data(
    caplog: pytest.LogCaptureFixture,
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
) -> None:
    team = make_team()
    person = make_person(family_name="Loggable", postcode="SK1 3XE")
    relate(person, team)
    client = signed_in(make_user(Role.GP, teams=[team]))
    with caplog.at_level(logging.DEBUG):
        client.get(f"/people/{person.id}/?q={person.nhs_number}")
        client.get(f"/api/people/{person.id}")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/people/<uuid:person_id>/" in text  # the route pattern, not the path
    for secret in (person.nhs_number, "Loggable", "SK1 3XE", str(person.id)):
        assert secret not in text


def test_createuser_makes_a_user_with_a_role_and_audits_it(make_team: Callable[..., Team]) -> None:
    team = make_team(name="Central INT")
    result = CliRunner().invoke(
        app,
        [
            "createuser",
            "newnurse",
            "--role",
            "district_nurse",
            "--team",
            "Central INT",
            "--password-stdin",
        ],
        input="a-long-enough-password-42\n",
    )
    assert result.exit_code == 0, result.output
    user = User.objects.get(username="newnurse")
    assert (user.role, list(user.teams.all())) == ("district_nurse", [team])
    assert AuditEvent.objects.filter(resource="user.create:newnurse", channel="cli").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["createuser", "x", "--role", "wizard", "--password-stdin"], "unknown role 'wizard'"),
        (
            ["createuser", "x", "--role", "gp", "--team", "Nope", "--password-stdin"],
            "no team is called 'Nope'",
        ),
        (["createuser", "x", "--role", "gp"], "give a password"),
    ],
)
def test_createuser_explains_bad_input(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args, input="a-long-enough-password-42\n")
    assert result.exit_code == 2
    assert message in result.output


def test_signin_gives_an_account_made_elsewhere_a_password_and_audits_it(
    make_user: Callable[..., User],
) -> None:
    from joinedup.core.services import staff_account_create

    admin = make_user(Role.ADMINISTRATOR)
    made = staff_account_create(
        first_name="Ada", last_name="Byrne", email="ada@example.org", created_by=admin
    )
    assert not made.has_usable_password()
    secret = "a-long-enough-password-42"

    result = CliRunner().invoke(app, ["signin", made.username, "--password-stdin"], input=secret)

    assert result.exit_code == 0, result.output
    made.refresh_from_db()
    assert made.check_password(secret)
    event = AuditEvent.objects.get(resource=f"user.sign-in:{made.username}")
    assert (event.channel, event.reason) == ("cli", "set: password")
    assert secret not in f"{event.reason}{event.resource}{result.output}"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["signin", "nobody", "--password-stdin"], "no account called 'nobody'"),
        (["signin", "someone"], "give a password"),
        (["signin", "someone", "--password-stdin"], "too short"),
        (["signin", "gone", "--oidc-subject", "sub-1"], "disabled account"),
        (["signin", "someone", "--oidc-subject", "taken"], "another account"),
    ],
)
def test_signin_explains_what_it_cannot_do(
    make_user: Callable[..., User], args: list[str], says: str
) -> None:
    make_user(Role.GP, username="someone")
    make_user(Role.GP, username="gone", is_active=False)
    User.objects.filter(pk=make_user(Role.GP).pk).update(oidc_subject="taken")

    result = CliRunner().invoke(app, args, input="short\n")

    assert says in result.output
    assert result.exit_code != 0
    assert not AuditEvent.objects.filter(resource__startswith="user.sign-in:").exists()


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["JOINEDUP_SQLITE_PATH"] = str(tmp_path / "cli.sqlite3")
    return subprocess.run(
        [str(JOINEDUP), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_console_script_help_lists_every_command(tmp_path: Path) -> None:
    result = _run("--help", tmp_path=tmp_path)
    assert result.returncode == 0
    for command in (
        "demo",
        "serve",
        "migrate",
        "createuser",
        "signin",
        "audit",
        "backup",
        "restore",
        "synth",
        "ingest",
        "link",
        "people",
        "indicators",
    ):
        assert command in result.stdout


def test_console_script_errors_are_one_line_with_an_exit_code(tmp_path: Path) -> None:
    result = _run("restore", str(tmp_path / "missing.jsonl.gz"), "--yes", tmp_path=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("joinedup: error: no backup file there")
    assert "Traceback" not in result.stderr

"""`joinedup token issue` and `joinedup fhir client-register` (the typer apps, in process)."""

from __future__ import annotations

import pytest
from django.test import Client
from tests.integration.fhir.conftest import Api
from typer.testing import CliRunner

from joinedup.core.models import AuditEvent, User
from joinedup.fhir.cli import app, token_app
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


def test_token_issue_prints_a_working_token(nurse: User, cared_for: Person) -> None:
    result = CliRunner().invoke(
        token_app, ["issue", "--user", nurse.username, "--scope", "user/*.read"]
    )

    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert Api(Client(), token).get(f"Patient/{cared_for.id}").status_code == 200
    assert AuditEvent.objects.filter(resource="fhir.token", channel="cli").exists()


def test_token_issue_errors_are_one_line(nurse: User) -> None:
    unknown = CliRunner().invoke(token_app, ["issue", "--user", "nobody", "--scope", "user/*.read"])
    bad = CliRunner().invoke(token_app, ["issue", "--user", nurse.username, "--scope", "all"])

    assert unknown.exit_code == 4
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output


def test_client_register_prints_id_and_secret_once(nurse: User) -> None:
    result = CliRunner().invoke(
        app,
        [
            "client-register",
            "--name",
            "GP system",
            "--user",
            nurse.username,
            "--scope",
            "system/*.read",
        ],
    )

    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert lines["client_id"].startswith("jdc_")
    assert len(lines["client_secret"]) > 30

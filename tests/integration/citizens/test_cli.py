"""`joinedup citizens`: import from the command line, and purging unconfirmed sign-ups."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from tests.integration.citizens.helpers import everyone
from typer.testing import CliRunner

from joinedup.citizens.cli import register_app
from joinedup.citizens.models import Postcode, RegisterTally, Volunteer
from joinedup.citizens.services import volunteers_purge_unconfirmed
from joinedup.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_cli_import_reports_rows_added_and_kept_back(areas: Path, tmp_path: Path) -> None:
    postcode = Postcode.objects.order_by("postcode").values_list("postcode", flat=True)[0]
    file = tmp_path / "register.csv"
    file.write_text(
        "id,given_name,family_name,email,postcode,age_band,sex,ethnic_group\n"
        f"A1,Ann,Amos,ann@example.org,{postcode},35-44,F,Asian\n"
        f"A2,Bo,Bell,bo@example.org,{postcode},35-44,F,Martian\n"
    )

    result = CliRunner().invoke(register_app, ["import", str(file)])

    assert result.exit_code == 0, result.output
    assert "2 rows read, 1 added, 0 updated, 1 kept back" in result.output
    assert "line 3: ethnic_group: Select your ethnic group" in result.output
    assert everyone().count() == 1


def test_cli_import_of_a_missing_file_is_one_line_and_non_zero(tmp_path: Path) -> None:
    result = CliRunner().invoke(register_app, ["import", str(tmp_path / "none.csv")])

    assert result.exit_code != 0
    assert "no such file" in result.output


def _sign_up(ref: str, *, days_ago: int, confirmed: bool) -> Volunteer:
    when = timezone.now() - timedelta(days=days_ago)
    return Volunteer.objects.create(
        ref=ref,
        given_name="Pat",
        family_name=f"Family{ref}",
        email=f"{ref.lower()}@example.org",
        postcode="SK1 1AA",
        age_band="45-54",
        sex="F",
        ethnic_group="Mixed",
        disability="No",
        contact_preference="Email",
        consent_version="2026-1",
        consented_at=when,
        confirmed_at=when if confirmed else None,
        source="web",
        joined=when.date(),
    )


def test_purge_erases_only_old_unconfirmed_sign_ups(db: None) -> None:
    _sign_up("VOLD", days_ago=40, confirmed=False)
    _sign_up("VNEW", days_ago=3, confirmed=False)
    _sign_up("VYES", days_ago=40, confirmed=True)

    erased = volunteers_purge_unconfirmed(days=30)

    assert erased == 1
    assert set(everyone().values_list("ref", flat=True)) == {"VNEW", "VYES"}
    assert RegisterTally.objects.get(kind="unconfirmed").count == 1
    assert AuditEvent.objects.get(resource="citizens.volunteer:VOLD").reason == (
        "not confirmed: erased"
    )
    result = CliRunner().invoke(register_app, ["purge-unconfirmed", "--days", "2"])
    assert result.exit_code != 0
    assert "at least 14 days" in result.output

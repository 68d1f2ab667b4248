"""Ingestion loses nothing, adds nothing twice, and explains every rejection."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.core.models import User
from joinedup.core.roles import Role
from joinedup.people.models import SourceIdentity
from joinedup.record.ingest import ingest_folder
from joinedup.record.models import Delivery, Fact, QuarantinedRow

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = (
    "mrn,nhs_number,forename,surname,date_of_birth,sex,address_line1,town,postcode,gp_practice_code"
)


def _register(folder: Path) -> None:
    (folder / "reference").mkdir(parents=True, exist_ok=True)
    (folder / "reference" / "organisations.csv").write_text(
        "org_code,name,type,neighbourhood,lsoa_code,list_size\n"
        "Z88001,Test Surgery,GP practice,,,1000\n"
    )


def _hospital(folder: Path, patients: list[bytes], admissions: list[str] | None = None) -> None:
    _register(folder)
    (folder / "hospital").mkdir(parents=True, exist_ok=True)
    (folder / "hospital" / "patients.csv").write_bytes(
        b"\n".join([HEADER.encode(), *patients]) + b"\n"
    )
    if admissions is not None:
        head = (
            "spell_id,mrn,admission_datetime,admission_method,ward_code,specialty,"
            "discharge_ready_date,discharge_date,discharge_pathway,delay_reason,"
            "discharge_destination,died_in_hospital"
        )
        (folder / "hospital" / "admissions.csv").write_text("\n".join([head, *admissions]) + "\n")


GOOD = b"M1,9434765919,Ada,Lovelace,10/12/1935,F,1 Mill Lane,Stockport,SK1 3XE,Z88001"


def test_every_kind_of_broken_row_is_kept_with_its_reason(tmp_path: Path) -> None:
    _hospital(
        tmp_path,
        [
            GOOD,
            b"M2,9434765918,Bad,Check,10/12/1935,F,1 Mill Lane,Stockport,SK1 3XE,Z88001",
            b"M3,,Bad,Date,31/02/1950,F,1 Mill Lane,Stockport,SK1 3XE,Z88001",
            b"M4,,Bad,Code,10/12/1935,Q,1 Mill Lane,Stockport,SK1 3XE,Z88001",
            b"M5,,Cut,Short,10/12/19",
            "M6,,Zoë,Latin1,10/12/1935,F,1 Mill Lane,Stockport,SK1 3XE,Z88001".encode("latin-1"),
            GOOD,
            b"M7,,Unknown,Practice,10/12/1935,F,1 Mill Lane,Stockport,SK1 3XE,X99999",
            b"M8,,,Noname,10/12/1935,F,1 Mill Lane,Stockport,SK1 3XE,Z88001",
        ],
        admissions=[
            "SP1,M1,01/03/2025 10:00,21,AMU1,General Medicine,03/03/2025,05/03/2025,1,,Home,N",
            "SP2,M9,01/03/2025 10:00,21,AMU1,General Medicine,03/03/2025,05/03/2025,1,,Home,N",
            "SP3,M1,01/03/2025 10:00,21,AMU1,General Medicine,03/03/2025,05/03/2025,9,,Home,N",
        ],
    )

    (patients, admissions) = ingest_folder(tmp_path, workers=1)

    assert (patients.rows_in, patients.accepted, patients.quarantined) == (9, 1, 8)
    assert (admissions.rows_in, admissions.accepted, admissions.quarantined) == (3, 1, 2)
    reasons = {
        q.line: (q.field, q.reason)
        for q in QuarantinedRow.objects.all()
        if q.delivery.path == "hospital/patients.csv"
    }
    assert reasons[3][0] == "nhs_number"
    assert "check digit" in reasons[3][1]
    assert reasons[4][0] == "date_of_birth"
    assert "31/02/1950" in reasons[4][1]
    assert reasons[5][0] == "sex"
    assert "'Q'" in reasons[5][1]
    assert reasons[6][0] == "line"
    assert "truncated" in reasons[6][1]
    assert reasons[7][0] == "line"
    assert "UTF-8" in reasons[7][1]
    assert reasons[8][0] == "id"
    assert "duplicate of line 2" in reasons[8][1]
    assert reasons[9][0] == "practice_code"
    assert reasons[10][0] == "given_name"
    assert "required" in reasons[10][1]
    latin = QuarantinedRow.objects.get(line=7, delivery__path="hospital/patients.csv")
    assert "Latin1" in latin.raw
    admission_reasons = {
        q.field for q in QuarantinedRow.objects.filter(delivery__path__endswith="admissions.csv")
    }
    assert admission_reasons == {"person", "discharge_pathway"}


def test_rows_in_equal_accepted_plus_quarantined_for_every_file(borough: Path) -> None:
    reports = ingest_folder(borough, workers=2)
    truth = json.loads((borough / "truth" / "summary.json").read_text())["files"]

    assert len(reports) >= 15
    for report in reports:
        assert report.rows_in == report.accepted + report.quarantined, report
        assert report.rows_in == truth[report.path]["rows"], report.path
        assert report.quarantined >= truth[report.path]["malformed"], report.path
    stored = {d.path: d for d in Delivery.objects.all()}
    for report in reports:
        kept = QuarantinedRow.objects.filter(delivery=stored[report.path]).count()
        assert kept == report.quarantined


def test_every_deliberately_malformed_row_is_quarantined(borough: Path) -> None:
    ingest_folder(borough, workers=2)
    with (borough / "truth" / "malformed.csv").open() as handle:
        # The truth counts data rows from 1; a CSV file's line numbers also count its header.
        broken = [
            (row["file"], int(row["row"]) + (1 if row["file"].endswith(".csv") else 0))
            for row in csv.DictReader(handle)
        ]
    kept = set(QuarantinedRow.objects.values_list("delivery__path", "line"))
    feeds = {d.path for d in Delivery.objects.all()}
    missed = [(f, r) for f, r in broken if f in feeds and (f, r) not in kept]
    assert not missed, missed[:10]


def test_a_second_run_of_the_same_delivery_adds_nothing(borough: Path) -> None:
    first = ingest_folder(borough, workers=2)
    counts = (
        SourceIdentity.objects.for_system("test").count(),
        Fact.objects.for_system("test").count(),
        QuarantinedRow.objects.count(),
        Delivery.objects.count(),
    )
    second = ingest_folder(borough, workers=2)
    assert all(r.status == "already ingested" for r in second)
    assert [r.rows_in for r in second] == [r.rows_in for r in first]
    assert counts == (
        SourceIdentity.objects.for_system("test").count(),
        Fact.objects.for_system("test").count(),
        QuarantinedRow.objects.count(),
        Delivery.objects.count(),
    )


def test_a_corrected_redelivery_updates_without_duplicating(tmp_path: Path) -> None:
    _hospital(tmp_path, [GOOD])
    ingest_folder(tmp_path, workers=1)
    moved = GOOD.replace(b"1 Mill Lane", b"9 New Road")
    _hospital(
        tmp_path, [moved, b"M2,,Grace,Hopper,09/12/1906,F,2 Mill Lane,Stockport,SK1 3XE,Z88001"]
    )

    (report,) = ingest_folder(tmp_path, workers=1)

    assert report.accepted == 2
    identities = SourceIdentity.objects.for_system("test").filter(source="hospital")
    assert identities.count() == 2
    assert identities.get(source_id="M1").address == "9 New Road"
    assert Delivery.objects.count() == 2


def test_cli_ingest_summary_and_json_report(borough: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(borough, folder)
    runner = CliRunner()
    done = runner.invoke(app, ["ingest", str(folder)])
    assert done.exit_code == 0, done.output
    assert done.output.strip().splitlines()[-1].startswith("joinedup: ingested ")
    report = runner.invoke(app, ["ingest", "--report", "--json"])
    rows = json.loads(report.output)
    assert rows
    for row in rows:
        assert row["rows_in"] == row["accepted"] + row["quarantined"]
        assert {"file", "rows_in", "accepted", "quarantined"} <= row.keys()


def test_the_deliveries_page_shows_counts_and_reasons_to_administrators_only(
    tmp_path: Path, make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    _hospital(
        tmp_path,
        [GOOD, b"M2,9434765918,Bad,Check,10/12/1935,F,1 Mill Lane,Stockport,SK1 3XE,Z88001"],
    )
    ingest_folder(tmp_path, workers=1)
    delivery = Delivery.objects.get()
    admin = signed_in(make_user(Role.ADMINISTRATOR))

    listing = admin.get("/deliveries/")
    detail = admin.get(f"/deliveries/{delivery.pk}/")

    assert "hospital/patients.csv" in listing.content.decode()
    body = detail.content.decode()
    assert "check digit" in body
    assert "Lovelace" not in body  # reasons only: raw lines hold person data
    assert signed_in(make_user(Role.GP)).get("/deliveries/").status_code == 403

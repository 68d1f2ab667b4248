"""Importing ORUK feeds (the ORUK examples must import cleanly; bad records are kept with
reasons), exporting ours and reading it back, the command line, and the demo directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from tests.integration.directory.conftest import EXAMPLES, Schemas, require_reference
from typer.testing import CliRunner

from joinedup.directory import demo, services
from joinedup.directory.cli import app
from joinedup.directory.exports import directory_feed
from joinedup.directory.models import (
    ImportBatch,
    ImportProblem,
    Location,
    Postcode,
    Schedule,
    Service,
    TaxonomyTerm,
)

pytestmark = pytest.mark.django_db


def _quiet(_what: str, _done: int, _total: int) -> None:
    return None


@pytest.mark.parametrize(
    "name",
    [
        "service_full.json",
        "service_list.json",
        "service_at_location_full.json",
        "service_at_location_list.json",
        "organization_full.json",
        "organization_list.json",
        "taxonomy.json",
        "taxonomy_list.json",
        "taxonomy_term.json",
        "taxonomy_term_list.json",
        "csv",
    ],
)
def test_every_oruk_example_imports_cleanly(name: str) -> None:
    require_reference()

    summary = services.feed_import_path(path=EXAMPLES / name, source="oruk-example")

    assert summary.rejected == 0
    assert summary.accepted == summary.read
    assert not ImportProblem.objects.filter(batch_id=summary.batch_id, kept_back=True).exists()


def test_importing_twice_changes_nothing() -> None:
    require_reference()
    services.feed_import_path(path=EXAMPLES / "service_full.json", source="a")
    before = (Service.objects.count(), Schedule.objects.count(), Location.objects.count())

    services.feed_import_path(path=EXAMPLES / "service_full.json", source="a")

    assert (Service.objects.count(), Schedule.objects.count(), Location.objects.count()) == before


def test_bad_records_are_kept_back_with_where_and_why(tmp_path: Path) -> None:
    good = {"id": "b3b4f8c6-1f0e-4d43-8d5a-3a0b8a4f1c11", "name": "Good", "status": "active"}
    feed = [
        good | {"schedules": [{"id": "x1", "freq": "DAILY", "byday": "MO,XX"}]},
        {"id": "c1", "status": "sometimes"},
        "not an object",
        good | {"id": "d1", "name": "Bad ages", "minimum_age": 80, "maximum_age": 20},
    ]
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed))

    summary = services.feed_import_path(path=path, source="tameside")

    problems = {p.where: p for p in ImportProblem.objects.filter(batch_id=summary.batch_id)}
    assert summary.read == 4
    assert summary.accepted == 1
    assert Service.objects.get().name == "Good"
    assert Schedule.objects.count() == 0
    assert problems["$[0].schedules[0]"].reasons == [
        "freq 'DAILY' is not one of: WEEKLY, MONTHLY",
        "byday has XX: days are MO, TU, WE, TH, FR, SA, SU",
    ]
    assert problems["$[1]"].reasons == [
        "name is missing",
        "status 'sometimes' is not one of: active, inactive, defunct, temporarily closed",
    ]
    assert problems["$[2]"].reasons == ["not a JSON object"]
    assert problems["$[3]"].reasons == ["minimum_age is above maximum_age"]
    assert '"Bad ages"' in problems["$[3]"].raw


def test_a_feed_that_is_not_json_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text("{not json")

    with pytest.raises(Exception, match="not JSON") as caught:
        services.feed_import_path(path=path, source="x")

    assert getattr(caught.value, "where", "") == "line 1 column 2"


def test_export_reads_back_the_same_and_validates(schemas: Schemas, tmp_path: Path) -> None:
    services.feed_import_path(path=EXAMPLES / "service_full.json", source="oruk-example")
    out = tmp_path / "ours.json"
    result = CliRunner().invoke(app, ["export", str(out)])
    exported = json.loads(out.read_text())
    assert result.exit_code == 0, result.output
    assert all(schemas.errors("service", s) == [] for s in exported)
    Service.objects.all().delete()

    services.feed_import_path(path=out, source="ours")

    assert directory_feed() == exported


def test_cli_import_problems_and_postcodes(tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps([{"id": "c1", "status": "active"}]))
    codes = tmp_path / "postcodes.csv"
    codes.write_text("postcode,latitude,longitude\nsk43qx,53.41,-2.16\nnope,1,2\n")
    runner = CliRunner()

    imported = runner.invoke(app, ["import", str(feed), "--source", "test"])
    batch = ImportBatch.objects.get()
    listed = runner.invoke(app, ["problems", str(batch.pk)])
    loaded = runner.invoke(app, ["postcodes", str(codes)])
    missing = runner.invoke(app, ["import", str(tmp_path / "nothing.json")])

    assert imported.exit_code == 0
    assert "0 stored" in imported.output
    assert "$[0]: kept back: name is missing" in listed.output
    assert "1 postcode centroids loaded, 1 kept back" in loaded.output
    assert Postcode.objects.get().postcode == "SK4 3QX"
    assert missing.exit_code == 2


def test_demo_directory_is_deterministic_idempotent_and_has_falls_services(
    borough: Path, client: Client
) -> None:
    demo.demo_load(borough, progress=_quiet)
    first = sorted(Service.objects.values_list("id", "name"))
    falls = TaxonomyTerm.objects.get(term="falls")

    demo.demo_load(borough, progress=_quiet)

    assert sorted(Service.objects.values_list("id", "name")) == first
    assert 120 <= len(first) <= 170
    assert ImportProblem.objects.filter(kept_back=True).count() == 0
    assert Postcode.objects.count() > 0
    postcode = Postcode.objects.order_by("postcode").first()
    assert postcode is not None
    body = client.get(
        "/openreferral/service_at_locations",
        {"postcode": postcode.postcode, "taxonomy_term_id": str(falls.pk), "per_page": 200},
    ).json()
    assert body["total_items"] >= 10
    assert len({item["service"]["id"] for item in body["contents"]}) == body["total_items"]


def test_demo_feed_is_the_same_for_the_same_borough(borough: Path) -> None:
    from datetime import date

    assert demo.demo_feed(borough, date(2026, 1, 1)) == demo.demo_feed(borough, date(2026, 1, 1))


def test_owners_see_their_demo_services_due(
    borough: Path, make_user: Callable[..., object]
) -> None:
    owner = make_user(username="engagement")
    demo.demo_load(borough, progress=_quiet)

    mine = Service.objects.filter(owner=owner)

    assert mine.exists()

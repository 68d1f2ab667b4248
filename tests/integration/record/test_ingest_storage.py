"""Rows the workers prepare are stored exactly as the ORM would store the same values.

The workers hand back datetimes, dates and the fact's detail already as text for the
database (``fields.prepare_lines``); the writer passes them through. Here each ingested
row is compared, column by column as the database holds it (text on SQLite), with the
same values saved through the ORM. On SQLite the writer's bigger page cache lasts only
while it ingests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from joinedup.people.models import SourceIdentity
from joinedup.record.ingest import ingest_folder
from joinedup.record.models import Fact

pytestmark = pytest.mark.django_db(transaction=True)

PATIENTS = (
    "mrn,nhs_number,forename,surname,date_of_birth,sex,address_line1,town,postcode,"
    "gp_practice_code\n"
    "M1,9434765919,Zoë,Lovelace,10/12/1935,F,1 Mill Lane,Stockport,SK1 3XE,Z88001\r\n"
    "M2,,Grace,Hopper,09/12/1906,F,,Stockport,,\n"
)
ADMISSIONS = (
    "spell_id,mrn,admission_datetime,admission_method,ward_code,specialty,"
    "discharge_ready_date,discharge_date,discharge_pathway,delay_reason,"
    "discharge_destination,died_in_hospital\n"
    'SP1,M1,01/03/2025 10:00,21,"AMU ""1""",General Medicine,03/03/2025,05/03/2025,1,,Hôme,N\n'
    "SP2,M2,02/03/2025 23:59,21,,,,,,,,\n"
)
FACT_COLUMNS = [
    "identity_id",
    "source",
    "kind",
    "occurred_at",
    "ended_at",
    "code_system",
    "code",
    "display",
    "value",
    "value_text",
    "unit",
    "status",
    "organisation",
    "detail",
    "delivery_id",
    "received_at",
]
IDENTITY_COLUMNS = [
    "source",
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "address",
    "postcode",
    "practice_code",
    "date_of_death",
    "ethnic_category",
    "person_id",
    "link_method",
    "link_probability",
    "link_explanation",
    "delivery_id",
    "received_at",
]


def _folder(root: Path) -> Path:
    (root / "reference").mkdir(parents=True)
    (root / "reference" / "organisations.csv").write_text(
        "org_code,name,type,neighbourhood,lsoa_code,list_size\n"
        "Z88001,Test Surgery,GP practice,,,1000\n"
    )
    (root / "hospital").mkdir()
    (root / "hospital" / "patients.csv").write_text(PATIENTS)
    (root / "hospital" / "admissions.csv").write_text(ADMISSIONS)
    return root


def _stored(table: str, columns: list[str], key: str, value: str) -> tuple[Any, ...]:
    """A row as the database holds it (no ORM conversion on the way out)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} "  # noqa: S608
            f"WHERE {quote(key)} = %s",
            [value],
        )
        row = cursor.fetchone()
    assert row is not None, (table, value)
    return tuple(row)


@pytest.mark.parametrize("workers", [1, 2])
def test_ingested_rows_are_stored_as_the_orm_stores_the_same_values(
    tmp_path: Path, workers: int
) -> None:
    ingest_folder(_folder(tmp_path), workers=workers)

    for fact in Fact.objects.for_system("test").all():
        copy = Fact.objects.create(
            **{name: getattr(fact, name) for name in FACT_COLUMNS},
            record_id=f"orm-{fact.record_id}",
        )
        ingested = _stored("record_fact", FACT_COLUMNS, "record_id", fact.record_id)
        assert ingested == _stored("record_fact", FACT_COLUMNS, "record_id", copy.record_id)
    for identity in SourceIdentity.objects.for_system("test").all():
        SourceIdentity.objects.create(
            **{name: getattr(identity, name) for name in IDENTITY_COLUMNS},
            source_id=f"orm-{identity.source_id}",
        )
        ingested = _stored(
            "people_sourceidentity", IDENTITY_COLUMNS, "source_id", identity.source_id
        )
        assert ingested == _stored(
            "people_sourceidentity", IDENTITY_COLUMNS, "source_id", f"orm-{identity.source_id}"
        )
    spell = Fact.objects.for_system("test").get(record_id="SP1")
    assert spell.detail["ward"] == 'AMU "1"'
    assert spell.detail["destination"] == "Hôme"
    assert SourceIdentity.objects.for_system("test").get(source_id="M1").given_name == "Zoë"
    assert Fact.objects.for_system("test").count() == 4  # two ingested, two copies


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a SQLite page cache")
def test_the_bigger_page_cache_lasts_only_while_ingesting(tmp_path: Path) -> None:
    def cache_size() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            return int(cursor.fetchone()[0])

    before = cache_size()
    during: list[int] = []

    ingest_folder(_folder(tmp_path), workers=1, progress=lambda *_: during.append(cache_size()))

    assert during
    assert set(during) == {-65536}
    assert cache_size() == before != -65536


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_delivery_leaves_fresh_planner_statistics(tmp_path: Path) -> None:
    def analysed() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT relname, analyze_count FROM pg_stat_user_tables "
                "WHERE relname IN ('record_fact', 'people_sourceidentity')"
            )
            return {name: int(count) for name, count in cursor.fetchall()}

    folder = _folder(tmp_path)
    before = analysed()

    ingest_folder(folder, workers=1)
    after = analysed()
    ingest_folder(folder, workers=1)  # the same delivery again: nothing new

    assert set(after) == {"record_fact", "people_sourceidentity"}
    assert all(after[name] > before.get(name, 0) for name in after)
    assert analysed() == after

"""The fast paths of ingestion store exactly what the ORM would, and keep the file order.

The bulk writer adapts datetimes and JSON itself (not through the ORM, for speed), and the
ingester opens the next file while the last chunk of the one before is still committing;
these tests hold both to the plain behaviour.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from joinedup.core.bulk import upsert_values
from joinedup.people.models import LinkMethod, SourceIdentity
from joinedup.record.fields import RowError
from joinedup.record.ingest import ingest_folder
from joinedup.record.models import Delivery, DeliveryStatus, Fact

pytestmark = pytest.mark.django_db(transaction=True)

PATIENTS = (
    "mrn,nhs_number,forename,surname,date_of_birth,sex,address_line1,town,postcode,"
    "gp_practice_code\n"
    "M1,9434765919,Ada,Lovelace,10/12/1935,F,1 Mill Lane,Stockport,SK1 3XE,Z88001\n"
    "M2,,Grace,Hopper,09/12/1906,F,2 Mill Lane,Stockport,SK1 3XE,Z88001\n"
)
ADMISSIONS = (
    "spell_id,mrn,admission_datetime,admission_method,ward_code,specialty,"
    "discharge_ready_date,discharge_date,discharge_pathway,delay_reason,"
    "discharge_destination,died_in_hospital\n"
    "SP1,M1,01/03/2025 10:00,21,AMU1,General Medicine,03/03/2025,05/03/2025,1,,Home,N\n"
    "SP2,M2,02/03/2025 11:30,21,AMU1,General Medicine,03/03/2025,06/03/2025,1,,Home,N\n"
)


def _folder(root: Path, admissions: bytes) -> Path:
    (root / "reference").mkdir(parents=True)
    (root / "reference" / "organisations.csv").write_text(
        "org_code,name,type,neighbourhood,lsoa_code,list_size\n"
        "Z88001,Test Surgery,GP practice,,,1000\n"
    )
    (root / "hospital").mkdir()
    (root / "hospital" / "patients.csv").write_text(PATIENTS)
    (root / "hospital" / "admissions.csv").write_bytes(admissions)
    return root


def test_upsert_stores_datetimes_and_json_as_the_orm_reads_them(tmp_path: Path) -> None:
    delivery = Delivery.objects.create(
        feed="hospital",
        path="hospital/patients.csv",
        sha256="0" * 64,
        size=0,
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        status=DeliveryStatus.RUNNING,
    )
    received = datetime(2026, 6, 1, 23, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    blank = {
        "nhs_number": "",
        "family_name": "",
        "sex": "unknown",
        "address": "",
        "postcode": "",
        "practice_code": "",
        "ethnic_category": "",
        "date_of_death": None,
    }
    names = [
        "source",
        "source_id",
        "given_name",
        "date_of_birth",
        "delivery_id",
        "received_at",
        "link_method",
        "link_explanation",
        *blank,
    ]

    def row(source_id: str, given: str, when: datetime, explained: list[Any]) -> list[Any]:
        born = date(1935, 12, 10)
        return [
            "hospital",
            source_id,
            given,
            born,
            delivery.pk,
            when,
            LinkMethod.UNLINKED,
            explained,
            *blank.values(),
        ]

    explanation = [{"field": "name", "weight": 2.5, "note": 'Zoë "quoted"'}]
    upsert_values(
        SourceIdentity,
        names,
        [row("M1", "Ada", received, explanation), row("M2", "Grace", received, [])],
        unique=["source", "source_id"],
        update=["given_name"],
    )
    stored = SourceIdentity.objects.for_system("test").get(source_id="M1")
    assert stored.received_at == received  # the same instant, whatever the zone
    assert stored.date_of_birth == date(1935, 12, 10)
    assert stored.link_explanation == explanation
    assert SourceIdentity.objects.for_system("test").get(source_id="M2").link_explanation == []

    # A clash updates only the named columns.
    later = received + timedelta(days=1)
    upsert_values(
        SourceIdentity,
        names,
        [row("M1", "Augusta", later, [])],
        unique=["source", "source_id"],
        update=["given_name"],
    )
    stored.refresh_from_db()
    assert (stored.given_name, stored.received_at, stored.link_explanation) == (
        "Augusta",
        received,
        explanation,
    )


def test_facts_keep_their_times_and_detail_through_the_bulk_path(tmp_path: Path) -> None:
    ingest_folder(_folder(tmp_path, ADMISSIONS.encode()), workers=1)
    fact = Fact.objects.for_system("test").get(record_id="SP2")
    assert fact.occurred_at == datetime(2025, 3, 2, 11, 30, tzinfo=UTC)
    assert fact.ended_at == datetime(2025, 3, 6, tzinfo=UTC)
    assert (fact.identity.source_id, fact.display) == ("M2", "General Medicine")
    assert fact.detail == {
        "admission_method": "21",
        "ward": "AMU1",
        "discharge_ready_date": "2025-03-03",
        "discharge_pathway": "1",
        "destination": "Home",
        "died_in_hospital": "N",
    }
    assert (fact.value, fact.unit, fact.code, fact.code_system) == (None, "", "", "")
    assert fact.received_at == Fact.objects.for_system("test").get(record_id="SP1").received_at


def test_a_broken_file_stops_the_run_only_after_the_file_before_it_is_complete(
    tmp_path: Path,
) -> None:
    """The next file is opened early (to keep the workers busy), but its failure is raised
    in its turn: the file before it still completes."""
    folder = _folder(tmp_path, "spell_id,mrn\n".encode("utf-16"))  # no readable header

    with pytest.raises(RowError, match="no readable header"):
        ingest_folder(folder, workers=2)

    patients = Delivery.objects.get(path="hospital/patients.csv")
    assert (patients.status, patients.rows_in, patients.accepted) == (DeliveryStatus.COMPLETE, 2, 2)
    assert not Delivery.objects.filter(path="hospital/admissions.csv", status="complete").exists()


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5000])
def test_every_chunking_gives_the_same_result(tmp_path: Path, chunk_size: int) -> None:
    reports = ingest_folder(
        _folder(tmp_path, ADMISSIONS.encode()), workers=2, chunk_size=chunk_size
    )
    assert [(r.path, r.rows_in, r.accepted, r.quarantined) for r in reports] == [
        ("hospital/patients.csv", 2, 2, 0),
        ("hospital/admissions.csv", 2, 2, 0),
    ]
    assert sorted(Fact.objects.for_system("test").values_list("record_id", flat=True)) == [
        "SP1",
        "SP2",
    ]

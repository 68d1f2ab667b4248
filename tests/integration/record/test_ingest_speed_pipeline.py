"""The faster start and the plain insert of new facts change how work is done, not what is
stored.

CSV chunks are validated in the ingesting process until the workers have started (FHIR
chunks always wait for the workers, which hold the models); new facts are inserted plainly
(a COPY on PostgreSQL) and a chunk repeating a stored fact falls back to the upsert.
docs/ingestion.md "Speed" and ADR 27.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from joinedup.core.bulk import adapt_row
from joinedup.record import ingest
from joinedup.record.feeds import load_feeds
from joinedup.record.fields import Context, Storage
from joinedup.record.ingest import ingest_folder
from joinedup.record.models import Fact

pytestmark = pytest.mark.django_db(transaction=True)

PATIENTS = (
    "mrn,nhs_number,forename,surname,date_of_birth,sex,address_line1,town,postcode,"
    "gp_practice_code\n"
    "M1,9434765919,Ada,Lovelace,10/12/1935,F,1 Mill Lane,Stockport,SK1 3XE,Z88001\n"
    "M2,,Grace,Hopper,09/12/1906,F,2 Mill Lane,Stockport,SK1 3XE,Z88001\n"
)
HEAD = (
    "spell_id,mrn,admission_datetime,admission_method,ward_code,specialty,"
    "discharge_ready_date,discharge_date,discharge_pathway,delay_reason,"
    "discharge_destination,died_in_hospital\n"
)


def _spell(spell: str, mrn: str, ward: str) -> str:
    return f"{spell},{mrn},01/03/2025 10:00,21,{ward},General Medicine,,,,,,N\n"


def _deliver(root: Path, spells: list[str]) -> Path:
    (root / "reference").mkdir(parents=True, exist_ok=True)
    (root / "reference" / "organisations.csv").write_text(
        "org_code,name,type,neighbourhood,lsoa_code,list_size\n"
        "Z88001,Test Surgery,GP practice,,,1000\n"
    )
    (root / "hospital").mkdir(exist_ok=True)
    (root / "hospital" / "patients.csv").write_text(PATIENTS)
    (root / "hospital" / "admissions.csv").write_text(HEAD + "".join(spells))
    return root


def _wards() -> dict[str, str]:
    return {
        record_id: detail["ward"]
        for record_id, detail in Fact.objects.for_system("test")
        .filter(kind="admission")
        .values_list("record_id", "detail")
    }


class _Stub:
    """Stands in for ``ingest._Workers``: never ready, and records what it is given."""

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.pool = self

    def start(self) -> None:
        pass

    def ready(self) -> bool:
        return False

    def submit(self, _call: Callable[..., Any], spec: Any, *_args: Any) -> Any:
        self.submitted.append(spec.path)
        return None


def test_csv_waits_for_no_worker_but_fhir_does() -> None:
    specs = {s.path: s for feed in load_feeds().values() for s in feed.files}
    context = Context(practices=frozenset({"Z88001"}))
    storage = Storage(zone=UTC, dates=frozenset(), datetimes=frozenset({"occurred_at"}))
    workers = _Stub()
    admissions = specs["hospital/admissions.csv"]
    lines = ingest._Lines([2], [_spell("SP1", "M1", "AMU1").rstrip("\n").encode()])
    header = HEAD.rstrip("\n").split(",")

    results = ingest._validate(admissions, lines, header, context, storage, workers)  # type: ignore[arg-type]

    assert workers.submitted == []  # validated here, at once
    assert [r[0] for r in results()] == ["SP1"]  # type: ignore[index]
    patient = ingest._Lines([1], [b'{"resourceType": "Patient", "id": "p1"}'])
    ingest._validate(specs["gp/Patient.ndjson"], patient, None, context, storage, workers)  # type: ignore[arg-type]
    assert workers.submitted == ["gp/Patient.ndjson"]


@pytest.mark.parametrize("insert_first", [True, False])
def test_a_chunk_repeating_a_stored_fact_is_upserted_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, insert_first: bool
) -> None:
    """Chunks of two: the corrected delivery's first chunk is a new spell and a stored one,
    so the plain insert is refused whole and the chunk upserted; the same on either path."""
    inserted: list[bool] = []
    real = ingest._insert_new_facts

    def spy(values: list[tuple[Any, ...]]) -> bool:
        inserted.append(real(values) if insert_first else False)
        return inserted[-1]

    monkeypatch.setattr(ingest, "_insert_new_facts", spy)
    ingest_folder(_deliver(tmp_path, [_spell("SP1", "M1", "AMU1"), _spell("SP2", "M2", "AMU1")]))
    first = list(inserted)

    ingest_folder(
        _deliver(
            tmp_path,
            [
                _spell("SP3", "M1", "WARD3"),
                _spell("SP2", "M2", "WARD2"),
                _spell("SP4", "M2", "WARD4"),
            ],
        ),
        chunk_size=2,
    )

    assert _wards() == {"SP1": "AMU1", "SP2": "WARD2", "SP3": "WARD3", "SP4": "WARD4"}
    assert Fact.objects.for_system("test").filter(kind="admission").count() == 4
    if insert_first:
        # The first load went in plainly; the corrected file's first chunk was refused and
        # its later chunk was upserted without trying again.
        assert first == [True]
        assert inserted == [True, False]
    else:
        assert inserted == [False, False]  # tried once a file, then upserted


def test_a_refused_insert_leaves_nothing_behind(tmp_path: Path) -> None:
    ingest_folder(_deliver(tmp_path, [_spell("SP1", "M1", "AMU1")]))
    stored = Fact.objects.for_system("test").get(record_id="SP1")
    # The stored fact's values as the workers would hand them back, under a new record id.
    names = ingest._FACT_WRITTEN
    row = [getattr(stored, name) for name in names]
    row[names.index("record_id")] = "SP9"
    row[names.index("detail")] = "{}"
    times = ["occurred_at", "received_at"]
    adapted = adapt_row(Fact, times, [datetime(2025, 3, 1, tzinfo=UTC), stored.received_at])
    for name, value in zip(times, adapted, strict=True):
        row[names.index(name)] = value
    clash = list(row)
    clash[names.index("record_id")] = "SP1"

    with transaction.atomic():  # as in a chunk's transaction: the savepoint is inside it
        assert ingest._insert_new_facts([tuple(row), tuple(clash)]) is False
        assert not Fact.objects.for_system("test").filter(record_id="SP9").exists()
        assert ingest._insert_new_facts([tuple(row)]) is True
    assert Fact.objects.for_system("test").get(record_id="SP9").occurred_at == datetime(
        2025, 3, 1, tzinfo=UTC
    )


def test_workers_start_only_when_a_chunk_needs_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts: list[int] = []
    real = ingest._Workers.start

    def counted(self: ingest._Workers) -> None:
        starts.append(1)
        real(self)

    monkeypatch.setattr(ingest._Workers, "start", counted)
    folder = _deliver(tmp_path, [_spell("SP1", "M1", "AMU1")])
    first = ingest_folder(folder, workers=2)
    assert starts
    assert [r.accepted for r in first] == [2, 1]
    starts.clear()

    again = ingest_folder(folder, workers=2)  # every file already ingested

    assert starts == []
    assert {r.status for r in again} == {"already ingested"}

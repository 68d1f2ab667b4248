"""The warehouse build: pseudonyms, the National Data Opt-out, incremental rebuilds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from joinedup.people.linking import link_run
from joinedup.people.models import Person
from joinedup.population.pseudonym import Pseudonymiser
from joinedup.population.warehouse import Warehouse
from joinedup.population.warehouse_build import ethnic_group, reference_load, warehouse_build
from joinedup.record.ingest import ingest_folder
from joinedup.record.models import Fact

pytestmark = pytest.mark.django_db
SALT = Pseudonymiser(b"test-salt-for-the-warehouse-0001")


def _quiet(stage: str, done: int, total: int) -> None:
    return None


@pytest.fixture
def record(borough: Path) -> Path:
    ingest_folder(borough, progress=_quiet)
    link_run(progress=_quiet)
    return borough


def _everything(root: Path) -> set[str]:
    """Every pseudonym in every file of the warehouse."""
    found: set[str] = set()
    for path in [root / "persons.parquet", *sorted((root / "events").glob("*.parquet"))]:
        found |= set(pq.read_table(path, columns=["pseudonym"]).column(0).to_pylist())
    return found


def test_warehouse_build_leaves_out_opted_out_people_and_their_events(
    record: Path, tmp_path: Path
) -> None:
    people = Person.objects.for_system("test")
    with_facts = people.filter(identities__facts__isnull=False).distinct()
    opted = list(with_facts.order_by("id")[:25])
    people.filter(id__in=[p.id for p in opted]).update(opted_out_secondary_use=True)
    warehouse = Warehouse(tmp_path / "wh")
    reference_load(warehouse=warehouse, folder=record)

    summary = warehouse_build(warehouse=warehouse, pseudonyms=SALT)

    found = _everything(warehouse.root)
    assert summary.opted_out == 25
    assert not {SALT.of(p.id) for p in opted} & found
    kept = people.filter(opted_out_secondary_use=False).first()
    assert kept is not None
    assert SALT.of(kept.id) in found
    assert summary.persons == people.filter(opted_out_secondary_use=False).count()
    events = warehouse.sql("SELECT count(*) AS n FROM events").column(0)[0].as_py()
    assert (
        events
        == Fact.objects.for_system("test")
        .filter(identity__person__opted_out_secondary_use=False)
        .count()
    )


def test_warehouse_opt_out_after_a_build_purges_the_persons_events(
    record: Path, tmp_path: Path
) -> None:
    warehouse = Warehouse(tmp_path / "wh")
    reference_load(warehouse=warehouse, folder=record)
    warehouse_build(warehouse=warehouse, pseudonyms=SALT)
    person = Person.objects.for_system("test").filter(identities__facts__isnull=False).first()
    assert person is not None
    assert SALT.of(person.id) in _everything(warehouse.root)
    Person.objects.for_system("test").filter(id=person.id).update(opted_out_secondary_use=True)

    summary = warehouse_build(warehouse=warehouse, pseudonyms=SALT)

    assert not summary.full
    assert summary.events_purged > 0
    assert SALT.of(person.id) not in _everything(warehouse.root)


def test_warehouse_rebuild_is_incremental_and_stable(record: Path, tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "wh")
    reference_load(warehouse=warehouse, folder=record)
    first = warehouse_build(warehouse=warehouse, pseudonyms=SALT, as_of=dt.date(2026, 4, 1))
    before = pq.read_table(warehouse.persons_path)

    again = warehouse_build(warehouse=warehouse, pseudonyms=SALT, as_of=dt.date(2026, 4, 1))

    assert first.full
    assert first.deliveries_written > 0
    assert not again.full
    assert again.deliveries_written == 0
    assert again.deliveries_kept == first.deliveries_written
    assert pq.read_table(warehouse.persons_path).equals(before)
    other = warehouse_build(
        warehouse=warehouse, pseudonyms=Pseudonymiser(b"another-salt-entirely-0002")
    )
    assert other.full  # a new salt rewrites everything: old pseudonyms must not linger
    assert not set(before.column("pseudonym").to_pylist()) & _everything(warehouse.root)


def test_warehouse_holds_no_identifiers(record: Path, tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "wh")
    reference_load(warehouse=warehouse, folder=record)
    warehouse_build(warehouse=warehouse, pseudonyms=SALT)
    person = Person.objects.for_system("test").exclude(nhs_number=None).first()
    assert person is not None

    text = b"".join(p.read_bytes() for p in warehouse.root.rglob("*.parquet"))

    for secret in (person.nhs_number, person.family_name, str(person.id), person.postcode):
        assert secret
        assert secret.encode() not in text
    columns = set(pq.read_schema(warehouse.persons_path).names)
    assert not columns & {"nhs_number", "date_of_birth", "postcode", "given_name", "id"}


def test_warehouse_keeps_only_the_broad_ethnic_group(record: Path, tmp_path: Path) -> None:
    people = Person.objects.for_system("test")
    stated = people.exclude(ethnic_category="").exclude(ethnic_category="Z").first()
    assert stated is not None, "the GP extract gives most people an ethnic category"
    warehouse = Warehouse(tmp_path / "wh")
    reference_load(warehouse=warehouse, folder=record)

    warehouse_build(warehouse=warehouse, pseudonyms=SALT)

    groups = warehouse.sql("SELECT DISTINCT ethnic_group FROM persons").column(0).to_pylist()
    assert set(groups) - {None} <= {
        "White",
        "Mixed or multiple",
        "Asian or Asian British",
        "Black or Black British",
        "Other ethnic group",
        "Not stated",
    }
    assert {"White", "Not stated"} <= set(groups)
    table = warehouse.sql("SELECT pseudonym, ethnic_group FROM persons").to_pylist()
    mine = {r["pseudonym"]: r["ethnic_group"] for r in table}[SALT.of(stated.id)]
    assert mine == ethnic_group(stated.ethnic_category)

"""The portable aggregations on DuckDB, checked against plain Python over the same files."""

from __future__ import annotations

from collections import Counter

import pyarrow.parquet as pq
import pytest
from tests.unit.population.warehouse_data import AS_OF, PARAMS, SEASON, make_warehouse

from joinedup.population import aggregations
from joinedup.population.warehouse import Warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return make_warehouse(tmp_path_factory.mktemp("wh"))


def _rows(warehouse: Warehouse) -> tuple[list[dict[str, object]], dict[str, dict[str, object]]]:
    events = [r for p in warehouse.event_files() for r in pq.read_table(p).to_pylist()]
    persons = {r["pseudonym"]: r for r in pq.read_table(warehouse.persons_path).to_pylist()}
    return events, persons


def test_aggregations_every_one_has_parameters_covered() -> None:
    assert set(PARAMS) == set(aggregations.AGGREGATIONS)


@pytest.mark.parametrize("name", sorted(aggregations.AGGREGATIONS))
def test_aggregation_runs_and_is_ordered(warehouse: Warehouse, name: str) -> None:
    rows = warehouse.run(name, **PARAMS[name]).to_pylist()

    assert rows, name
    keys = [tuple("" if v is None else v for v in r.values()) for r in rows]
    assert keys == sorted(keys) or name in {"efi_events"}


def test_aggregation_render_refuses_wrong_parameters() -> None:
    with pytest.raises(ValueError, match="takes"):
        aggregations.render("older_people", "duckdb", {})
    with pytest.raises(ValueError, match="takes"):
        aggregations.render("deaths", "duckdb", {"min_age": 1})


def test_aggregation_flu_uptake_matches_a_plain_count(warehouse: Warehouse) -> None:
    events, persons = _rows(warehouse)
    given = {
        e["pseudonym"]
        for e in events
        if e["kind"] == "immunisation"
        and e["code"] == "822851000000102"
        and SEASON[0] <= e["occurred_on"] < SEASON[1]
    }
    eligible = [p for p in persons.values() if p["alive"] and p["age"] >= 65]

    rows = warehouse.run("uptake_seasonal", **PARAMS["uptake_seasonal"]).to_pylist()

    assert sum(r["eligible"] for r in rows) == len(eligible)
    assert sum(r["vaccinated"] for r in rows) == sum(p["pseudonym"] in given for p in eligible)


def test_aggregation_deaths_count_each_person_once(warehouse: Warehouse) -> None:
    events, persons = _rows(warehouse)
    dead = {e["pseudonym"] for e in events if e["kind"] == "death" and e["pseudonym"] in persons}

    rows = warehouse.run("deaths").to_pylist()

    assert sum(r["deaths"] for r in rows) == len(dead)
    bands = Counter(r["age_start"] for r in rows)
    assert set(bands) <= {0, 1, *range(5, 95, 5)}


def test_aggregation_packages_live_on_the_day(warehouse: Warehouse) -> None:
    events, persons = _rows(warehouse)
    live = [
        e
        for e in events
        if e["kind"] == "package"
        and e["pseudonym"] in persons
        and e["occurred_on"] <= AS_OF
        and (e["ended_on"] is None or e["ended_on"] >= AS_OF)
    ]

    rows = warehouse.run("packages_active", as_of=AS_OF).to_pylist()

    assert sum(r["packages"] for r in rows) == len(live)
    assert sum(r["weekly_cost_pence"] for r in rows) == sum(e["cost_pence"] for e in live)


def test_aggregation_spark_sql_is_rendered_by_sqlglot() -> None:
    spark = aggregations.render("discharge_delays", "spark")
    duck = aggregations.render("discharge_delays", "duckdb")

    assert "DATEDIFF(DAY" in spark
    assert "DATE_DIFF('DAY'" in duck

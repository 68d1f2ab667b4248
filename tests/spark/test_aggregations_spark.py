"""Every warehouse aggregation gives exactly the same rows on Spark as on DuckDB."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.unit.population.warehouse_data import PARAMS, make_warehouse

from joinedup.population import aggregations
from joinedup.population.spark import SparkEngine
from joinedup.population.warehouse import Warehouse


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return make_warehouse(tmp_path_factory.mktemp("wh"), people=800, seed=5)


@pytest.fixture(scope="module")
def engine(spark: Any, warehouse: Warehouse) -> SparkEngine:
    return SparkEngine(spark, warehouse)


def _normalise(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows as tuples; an integral Decimal (a wide integer sum) compared as an int."""
    return [tuple(int(v) if isinstance(v, Decimal) else v for v in row.values()) for row in rows]


@pytest.mark.parametrize("name", sorted(aggregations.AGGREGATIONS))
def test_spark_matches_duckdb_exactly(name: str, warehouse: Warehouse, engine: SparkEngine) -> None:
    duck = warehouse.run(name, **PARAMS[name]).to_pylist()

    spark = engine.run(name, **PARAMS[name])

    assert duck, f"{name} returned nothing: the comparison would prove nothing"
    assert [list(r) for r in spark] == [list(r) for r in duck]  # the same columns, in order
    assert _normalise(spark) == _normalise(duck)

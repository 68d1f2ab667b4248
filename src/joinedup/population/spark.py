"""The warehouse's aggregations on Spark SQL: the scale-out engine behind the same seam.

``SparkEngine`` registers the warehouse's Parquet files as Spark views with the same
names DuckDB uses and runs the same aggregations, rendered for Spark by SQLGlot
(``aggregations.render(name, "spark", ...)``). No aggregation is written twice.

PySpark is imported lazily: nothing else in the platform needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from joinedup.population import aggregations
from joinedup.population.warehouse import REFERENCE_SCHEMAS, Warehouse

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkEngine:
    def __init__(self, session: SparkSession, warehouse: Warehouse) -> None:
        self.session = session
        self.warehouse = warehouse
        self._register()

    def _register(self) -> None:
        reader = self.session.read
        reader.parquet(str(self.warehouse.persons_path)).createOrReplaceTempView("persons")
        files = [str(p) for p in self.warehouse.event_files()]
        reader.parquet(*files).createOrReplaceTempView("events")
        for name in REFERENCE_SCHEMAS:
            reader.parquet(str(self.warehouse.reference_path(name))).createOrReplaceTempView(name)

    def run(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """One named aggregation on Spark, as rows (dicts) in its stated order."""
        sql = aggregations.render(name, "spark", params)
        return [row.asDict() for row in self.session.sql(sql).collect()]

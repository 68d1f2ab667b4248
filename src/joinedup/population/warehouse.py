"""The planning zone's warehouse: pseudonymised Parquet files, read by DuckDB (or Spark).

One class, ``Warehouse``, owns every file and every connection. It knows the layout::

    ROOT/manifest.json              what was built, from which deliveries, when
    ROOT/reference/*.parquet        LSOAs (IMD decile, neighbourhood), postcodes -> LSOA,
                                    mid-year population estimates, vaccine code lists
    ROOT/persons.parquet            one row per person: pseudonym, sex, age, age band,
                                    alive, LSOA, IMD decile, neighbourhood, practice
    ROOT/events/delivery=N.parquet  their events, one file per delivery of the record

It holds no names, NHS numbers, dates of birth, postcodes or record identifiers, and
nothing here can join a row back to a person: that needs the salt, which is never
written. People who opted out of secondary use never reach these files (the build in
``warehouse_build`` leaves them out, and ``purge_missing`` removes any event whose
person is no longer in ``persons``).

Queries are the portable aggregations of ``joinedup.population.aggregations``, rendered
for DuckDB here or for Spark SQL by ``SparkEngine``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from joinedup.population import aggregations

PERSONS_SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("sex", pa.string()),
        ("age", pa.int32()),  # whole years at the build's reference date, 90 means 90+
        ("age_band", pa.string()),
        ("alive", pa.bool_()),
        ("lsoa", pa.string()),
        ("imd_decile", pa.int32()),
        ("neighbourhood", pa.string()),
        ("practice", pa.string()),
        ("ethnic_group", pa.string()),  # the five broad groups, "Not stated", or null
    ]
)

EVENTS_SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("delivery_id", pa.int64()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("occurred_on", pa.date32()),
        ("ended_on", pa.date32()),
        ("age_at_event", pa.int32()),  # whole years, 90 means 90+
        ("code_system", pa.string()),
        ("code", pa.string()),
        ("display", pa.string()),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("status", pa.string()),
        ("organisation", pa.string()),
        ("setting", pa.string()),  # admission method, place of death, package provider type
        ("ready_on", pa.date32()),  # discharge ready date
        ("pathway", pa.string()),
        ("cost_pence", pa.int64()),  # weekly cost of a package of care
    ]
)

REFERENCE_SCHEMAS: dict[str, pa.Schema] = {
    "lsoas": pa.schema(
        [
            ("lsoa", pa.string()),
            ("lsoa_name", pa.string()),
            ("imd_decile", pa.int32()),
            ("neighbourhood", pa.string()),
        ]
    ),
    "postcodes": pa.schema([("postcode", pa.string()), ("lsoa", pa.string())]),
    "population": pa.schema(
        [
            ("year", pa.int32()),
            ("lsoa", pa.string()),
            ("sex", pa.string()),
            ("age_band", pa.string()),
            ("count", pa.int64()),
        ]
    ),
    "vaccine_codes": pa.schema([("programme", pa.string()), ("code", pa.string())]),
}

AGE_BANDS = (*(f"{s}-{s + 4}" for s in range(0, 90, 5)), "90+")


def age_on(born: dt.date | None, day: dt.date) -> int | None:
    """Whole years on `day`, top-coded at 90 (90 means 90 or over)."""
    if born is None:
        return None
    years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return max(0, min(years, 90))


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    return "90+" if age >= 90 else f"{age - age % 5}-{age - age % 5 + 4}"


def normalise_postcode(text: str) -> str:
    compact = "".join(text.split()).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


_PARTITION = re.compile(r"^delivery=(\d+)\.parquet$")


class Warehouse:
    """The pseudonymised warehouse under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- layout ---------------------------------------------------------------------------

    @property
    def events_dir(self) -> Path:
        return self.root / "events"

    @property
    def persons_path(self) -> Path:
        return self.root / "persons.parquet"

    def reference_path(self, name: str) -> Path:
        return self.root / "reference" / f"{name}.parquet"

    def exists(self) -> bool:
        return (self.root / "manifest.json").exists() and self.persons_path.exists()

    def is_current(self) -> bool:
        """True when the files were written with this version's columns (a build by an
        earlier version lacks some; ``joinedup warehouse build`` rewrites them)."""
        if not self.exists():
            return False
        return set(PERSONS_SCHEMA.names) <= set(pq.read_schema(self.persons_path).names)

    def has_reference(self) -> bool:
        return all(self.reference_path(n).exists() for n in REFERENCE_SCHEMAS)

    # -- the manifest ---------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        path = self.root / "manifest.json"
        if not path.exists():
            return {}
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded

    def manifest_save(self, manifest: Mapping[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _atomic_write_text(self.root / "manifest.json", json.dumps(manifest, indent=2))

    # -- writes ---------------------------------------------------------------------------

    def reference_write(self, name: str, table: pa.Table) -> None:
        _atomic_parquet(_conform(table, REFERENCE_SCHEMAS[name]), self.reference_path(name))

    def persons_write(self, table: pa.Table) -> None:
        _atomic_parquet(_conform(table, PERSONS_SCHEMA), self.persons_path)

    def events_write(self, delivery_id: int, table: pa.Table) -> None:
        path = self.events_dir / f"delivery={delivery_id}.parquet"
        _atomic_parquet(_conform(table, EVENTS_SCHEMA), path)

    def events_drop(self, delivery_id: int) -> None:
        (self.events_dir / f"delivery={delivery_id}.parquet").unlink(missing_ok=True)

    def deliveries(self) -> list[int]:
        if not self.events_dir.exists():
            return []
        found = (_PARTITION.match(p.name) for p in self.events_dir.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def purge_missing(self) -> int:
        """Remove every event whose pseudonym is not in ``persons``; returns rows removed.

        This is how a person who opts out after their events were written leaves the
        warehouse: ``persons`` is rewritten without them, then their events go too.
        """
        removed = 0
        persons = pq.read_table(self.persons_path, columns=["pseudonym"]).column(0)
        for delivery_id in self.deliveries():
            path = self.events_dir / f"delivery={delivery_id}.parquet"
            events = pq.read_table(path)
            keep = pc.is_in(events.column("pseudonym"), value_set=persons)
            dropped = len(events) - pc.sum(keep).as_py() if len(events) else 0
            if dropped:
                _atomic_parquet(events.filter(keep), path)
                removed += dropped
        return removed

    # -- reads ----------------------------------------------------------------------------

    def event_files(self) -> list[Path]:
        return [self.events_dir / f"delivery={d}.parquet" for d in self.deliveries()]

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection with a view for every table of the warehouse."""
        con = duckdb.connect(":memory:", config={"threads": os.cpu_count() or 1})
        try:
            tables: dict[str, tuple[list[Path], pa.Schema]] = {
                "persons": ([self.persons_path], PERSONS_SCHEMA),
                "events": (self.event_files(), EVENTS_SCHEMA),
            }
            for name, schema in REFERENCE_SCHEMAS.items():
                tables[name] = ([self.reference_path(name)], schema)
            for name, (paths, schema) in tables.items():
                present = [str(p) for p in paths if p.exists()]
                if present:
                    con.read_parquet(present).create_view(name)
                else:
                    con.register(name, schema.empty_table())
            yield con
        finally:
            con.close()

    def run(self, name: str, **params: Any) -> pa.Table:
        """One named aggregation on DuckDB, as an Arrow table in its stated order."""
        sql = aggregations.render(name, "duckdb", params)
        with self.connect() as con:
            return _whole_numbers(con.sql(sql).to_arrow_table())

    def sql(self, query: str) -> pa.Table:
        """An ad hoc DuckDB query over the warehouse's views (tests and analysts' notebooks)."""
        with self.connect() as con:
            return con.sql(query).to_arrow_table()


def _whole_numbers(table: pa.Table) -> pa.Table:
    """DuckDB sums integers into 128-bit decimals; every sum here fits 64 bits."""
    for i, column in enumerate(table.schema):
        if pa.types.is_decimal(column.type) and column.type.scale == 0:
            table = table.set_column(i, column.name, table.column(i).cast(pa.int64()))
    return table


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    return table.select(schema.names).cast(schema)


def _atomic_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    pq.write_table(table, partial)
    partial.replace(path)


def _atomic_write_text(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)

"""The warehouse knows when its files were written by an earlier version."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from tests.unit.population.warehouse_data import make_warehouse

from joinedup.population.warehouse import Warehouse


def test_a_fresh_build_is_current(tmp_path: Path) -> None:
    assert make_warehouse(tmp_path / "wh", people=50).is_current()


def test_persons_written_without_a_newer_column_are_not_current(tmp_path: Path) -> None:
    wh = make_warehouse(tmp_path / "wh", people=50)
    older = pq.read_table(wh.persons_path).drop_columns(["ethnic_group"])
    pq.write_table(older, wh.persons_path)

    assert wh.exists()
    assert not wh.is_current()


def test_an_empty_folder_is_neither_built_nor_current(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "none")

    assert not wh.exists()
    assert not wh.is_current()

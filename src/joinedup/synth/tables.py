"""Small column-table helpers shared by the history generators.

A table is a dict of equal-length NumPy arrays. These helpers expand per-person
counts into rows, draw dates inside intervals and filter tables, all vectorised.

It must never loop in Python over rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Table = dict[str, npt.NDArray[Any]]
DAY = np.timedelta64(1, "D")
NAT = np.datetime64("NaT", "D")


def repeat_rows(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Row index repeated by count: [2, 0, 1] -> [0, 0, 2]."""
    return np.repeat(np.arange(counts.size), counts)


def date_between(
    rng: np.random.Generator, start: npt.NDArray[Any], end_exclusive: npt.NDArray[Any]
) -> npt.NDArray[Any]:
    """A uniformly random day in [start, end_exclusive) per row (start if empty)."""
    span = np.maximum((end_exclusive - start).astype(np.int64), 1)
    out: npt.NDArray[Any] = start + (rng.random(start.size) * span).astype(np.int64) * DAY
    return out


def take(table: Table, rows: npt.NDArray[Any]) -> Table:
    """Rows of a table by index or boolean mask."""
    return {name: column[rows] for name, column in table.items()}


def concat(*tables: Table) -> Table:
    """Stack tables with the same columns."""
    return {name: np.concatenate([t[name] for t in tables]) for name in tables[0]}


def sort_by(table: Table, *keys: str) -> Table:
    """Table sorted by keys, first key most significant; stable."""
    order = np.lexsort(tuple(table[k] for k in reversed(keys)))
    return take(table, order)


def years(days: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Length of intervals in years."""
    return days.astype("timedelta64[D]").astype(np.float64) / 365.25


def financial_year(dates: npt.NDArray[np.datetime64], first_year: int) -> npt.NDArray[np.int64]:
    """0-based financial year (April-March) counted from April of `first_year`."""
    months = dates.astype("datetime64[M]").astype(np.int64)
    return (months - ((first_year - 1970) * 12 + 3)) // 12

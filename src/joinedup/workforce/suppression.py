"""Small-number suppression for tables of counts, with secondary suppression.

Primary: a count from 1 to 4 (below ``threshold``) is hidden. Secondary: a hidden cell
must not be recoverable from the totals shown. The table is a set of cells (including
its totals) and linear equations (each row and column adds up to its total); the kernel
hides further cells until (a) no equation has exactly one hidden cell, and (b) no hidden
cell is determined by the equations taken together (checked by rank). It prefers to hide
the smallest non-zero visible cell of an offending equation. Pure numpy, no Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

THRESHOLD = 5

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Line:
    """An equation: the members add up to the total (indices into the flat cells)."""

    members: tuple[int, ...]
    total: int

    @property
    def cells(self) -> tuple[int, ...]:
        return (*self.members, self.total)


def primary(values: Ints, threshold: int = THRESHOLD) -> Bools:
    return (values > 0) & (values < threshold)


def _matrix(lines: Sequence[Line], size: int) -> npt.NDArray[np.float64]:
    a = np.zeros((len(lines), size))
    for i, line in enumerate(lines):
        a[i, list(line.members)] = 1.0
        a[i, line.total] = -1.0
    return a


def recoverable(hidden: Bools, lines: Sequence[Line]) -> Ints:
    """Hidden cells whose value follows exactly from the visible cells and the equations."""
    unknown = np.flatnonzero(hidden)
    if unknown.size == 0 or not lines:
        return np.empty(0, dtype=np.int64)
    a = _matrix(lines, hidden.size)[:, unknown]
    rank = np.linalg.matrix_rank(a)
    found = []
    for j, cell in enumerate(unknown):
        probe = np.vstack([a, np.eye(1, unknown.size, j)])
        if np.linalg.matrix_rank(probe) == rank:
            found.append(cell)
    return np.array(found, dtype=np.int64)


def _hide_one_more(values: Ints, hidden: Bools, line: Line) -> bool:
    visible = [c for c in line.cells if not hidden[c]]
    if not visible:
        return False
    members = [c for c in visible if c != line.total]
    pool = [c for c in members if values[c] > 0] or members or visible
    hidden[min(pool, key=lambda c: (values[c], c))] = True
    return True


def suppress(values: Ints, lines: Sequence[Line], threshold: int = THRESHOLD) -> Bools:
    """Which cells to hide so that no small count can be seen or worked out."""
    hidden = primary(values, threshold)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(hidden[c] for c in line.cells) == 1:
                changed |= _hide_one_more(values, hidden, line)
        if changed:
            continue
        exposed = set(recoverable(hidden, lines).tolist())
        for line in lines:
            if exposed & set(line.cells) and _hide_one_more(values, hidden, line):
                changed = True
                break
    return hidden


def suppress_list(counts: Ints, threshold: int = THRESHOLD) -> tuple[Bools, bool]:
    """A one-way table shown with its total: (cells hidden, total hidden)."""
    values = np.append(counts, counts.sum()).astype(np.int64)
    line = Line(tuple(range(counts.size)), counts.size)
    hidden = suppress(values, [line], threshold)
    return hidden[:-1], bool(hidden[-1])


@dataclass(frozen=True)
class Grid:
    cells: Bools  # (rows, columns)
    row_totals: Bools
    column_totals: Bools
    total: bool


def suppress_grid(counts: Ints, threshold: int = THRESHOLD) -> Grid:
    """A two-way table shown with row, column and grand totals."""
    r, c = counts.shape
    values = np.concatenate(
        [counts.ravel(), counts.sum(axis=1), counts.sum(axis=0), [counts.sum()]]
    ).astype(np.int64)
    row_t, col_t, grand = r * c, r * c + r, r * c + r + c
    lines = [Line(tuple(i * c + j for j in range(c)), row_t + i) for i in range(r)]
    lines += [Line(tuple(i * c + j for i in range(r)), col_t + j) for j in range(c)]
    lines += [Line(tuple(range(row_t, row_t + r)), grand)]
    lines += [Line(tuple(range(col_t, col_t + c)), grand)]
    hidden = suppress(values, lines, threshold)
    return Grid(
        cells=hidden[: r * c].reshape(r, c),
        row_totals=hidden[row_t:col_t],
        column_totals=hidden[col_t:grand],
        total=bool(hidden[grand]),
    )

"""Small numbers are hidden, and no hidden number can be worked out from the totals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linprog

from joinedup.workforce.suppression import suppress_grid, suppress_list


def _bounds(
    counts: np.ndarray, hidden: np.ndarray, totals_hidden: np.ndarray
) -> list[tuple[float, float]]:
    """An attacker's view of a grid: for each hidden cell, the least and most it could be,
    given every visible cell and total and that counts are not negative (an LP, solved
    independently of the kernel)."""
    r, c = counts.shape
    cells = counts.ravel()
    values = np.concatenate([cells, counts.sum(1), counts.sum(0), [counts.sum()]]).astype(float)
    mask = np.concatenate([hidden.ravel(), totals_hidden])
    unknown = np.flatnonzero(mask)
    rows = []
    rhs = []
    lines = [[i * c + j for j in range(c)] + [r * c + i] for i in range(r)]
    lines += [[i * c + j for i in range(r)] + [r * c + r + j] for j in range(c)]
    lines += [
        [*range(r * c, r * c + r), r * c + r + c],
        [*range(r * c + r, r * c + r + c), r * c + r + c],
    ]
    for line in lines:
        coef = np.zeros(values.size)
        coef[line[:-1]] = 1.0
        coef[line[-1]] = -1.0
        rows.append(coef[unknown])
        rhs.append(-(coef[~mask] @ values[~mask]))
    out = []
    for k in range(unknown.size):
        obj = np.zeros(unknown.size)
        obj[k] = 1.0
        low = linprog(obj, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=(0, None))
        high = linprog(-obj, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=(0, None))
        assert low.status == 0, "the published table must be consistent"
        out.append((low.fun, np.inf if high.status == 3 else -high.fun))
    return out


def test_a_single_small_count_takes_a_second_cell_with_it() -> None:
    hidden, total_hidden = suppress_list(np.array([3, 40, 12, 60]))

    assert hidden.tolist() == [True, False, True, False]
    assert not total_hidden


def test_zero_is_shown_and_a_small_total_hides_everything() -> None:
    hidden, _ = suppress_list(np.array([0, 20, 30]))
    tiny, tiny_total = suppress_list(np.array([1, 2, 0]))

    assert not hidden.any()
    assert tiny_total
    assert tiny[:2].all()


def test_a_grid_with_one_small_cell_cannot_be_recovered() -> None:
    counts = np.array([[2, 30, 40], [25, 35, 45], [50, 60, 70]])

    grid = suppress_grid(counts)
    totals = np.concatenate([grid.row_totals, grid.column_totals, [grid.total]])
    bounds = _bounds(counts, grid.cells, totals)

    assert grid.cells[0, 0]
    assert grid.cells.sum() >= 4  # the small cell, and a rectangle around it
    assert all(high - low > 0.5 for low, high in bounds)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int64, st.tuples(st.integers(2, 4), st.integers(2, 5)), elements=st.integers(0, 30))
)
def test_every_small_count_is_hidden_and_none_can_be_pinned_down(counts: np.ndarray) -> None:
    grid = suppress_grid(counts)
    totals = np.concatenate([grid.row_totals, grid.column_totals, [grid.total]])
    small = (counts > 0) & (counts < 5)

    assert grid.cells[small].all()
    for row in range(counts.shape[0]):
        assert grid.cells[row].sum() + grid.row_totals[row] != 1
    for col in range(counts.shape[1]):
        assert grid.cells[:, col].sum() + grid.column_totals[col] != 1
    bounds = _bounds(counts, grid.cells, totals)
    flat_hidden = np.flatnonzero(np.concatenate([grid.cells.ravel(), totals]))
    for (low, high), index in zip(bounds, flat_hidden, strict=True):
        if index < counts.size and small.ravel()[index]:
            assert high - low > 0.5, f"cell {index} of {counts.tolist()} is pinned to {low}"


@pytest.mark.parametrize("counts", [[4], [7], [0, 0, 3]])
def test_one_way_tables_never_leave_a_lone_hidden_cell(counts: list[int]) -> None:
    hidden, total_hidden = suppress_list(np.array(counts))

    assert hidden.sum() + total_hidden != 1

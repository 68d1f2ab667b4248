"""Swap local search: a fast way to find good panels before asking the integer program.

Starting from a feasible composition, repeatedly swap one member of a type out for one
member of another type when the swap keeps every quota and the household rule and
raises the weighted count most. It proves nothing (a local optimum need not be the best
panel); the column generation still ends every round with an exact integer program, so
this only saves time and never changes an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from joinedup.citizens.selection.highs import FloatArray, IntArray
from joinedup.citizens.selection.model import Instance

MAX_SWAPS = 500


@dataclass(frozen=True)
class SwapSpace:
    """Per type, the quota row of its value on each feature, and its household row."""

    quota_row: IntArray  # types x features
    lo: IntArray
    hi: IntArray
    household: IntArray  # household index per type, -1 when alone
    upper: IntArray
    removable: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, inst: Instance) -> SwapSpace:
        features = list(dict.fromkeys(q.feature for q in inst.quotas))
        rows = np.zeros((inst.num_types, len(features)), dtype=np.int64)
        for r, (q, types) in enumerate(zip(inst.quotas, inst.quota_types, strict=True)):
            rows[types, features.index(q.feature)] = r
        house = np.full(inst.num_types, -1, dtype=np.int64)
        for h, types in enumerate(inst.households):
            house[types] = h
        return cls(
            quota_row=rows,
            lo=np.asarray([q.min for q in inst.quotas], dtype=np.int64),
            hi=np.asarray([q.max for q in inst.quotas], dtype=np.int64),
            household=house,
            upper=inst.multiplicity.copy(),
            removable=~inst.forced,
        )


def _best_swap(
    space: SwapSpace, c: IntArray, w: FloatArray, keep: int = -1
) -> tuple[int, int, float]:
    """The best improving (out, in) swap from composition ``c``, or gain <= 0.

    Type ``keep`` (if >= 0) is never swapped out.
    """
    outs = np.flatnonzero((c > 0) & space.removable)
    if keep >= 0:
        outs = outs[outs != keep]
    if not len(outs):
        return -1, -1, 0.0
    ins = np.flatnonzero((c < space.upper) & (w > w[outs].min() + 1e-12))
    if not len(outs) or not len(ins):
        return -1, -1, 0.0
    counts = np.bincount(
        space.quota_row.ravel(),
        weights=np.repeat(c, space.quota_row.shape[1]),
        minlength=len(space.lo),
    ).astype(np.int64)
    gain = w[ins][None, :] - w[outs][:, None]
    ok = gain > 1e-12
    for f in range(space.quota_row.shape[1]):
        q_out, q_in = space.quota_row[outs, f], space.quota_row[ins, f]
        can_add = counts[q_in] + 1 <= space.hi[q_in]
        can_remove = counts[q_out] - 1 >= space.lo[q_out]
        ok &= (q_out[:, None] == q_in[None, :]) | (can_remove[:, None] & can_add[None, :])
    used = np.zeros(int(space.household.max()) + 2, dtype=np.int64)
    np.add.at(used, space.household + 1, c)
    h_in, h_out = space.household[ins], space.household[outs]
    busy = (h_in >= 0) & (used[h_in + 1] > 0)
    ok &= ~busy[None, :] | (h_out[:, None] == h_in[None, :])
    if not ok.any():
        return -1, -1, 0.0
    g = np.where(ok, gain, -np.inf)
    i, j = np.unravel_index(int(np.argmax(g)), g.shape)
    return int(outs[i]), int(ins[j]), float(g[i, j])


def local_search(space: SwapSpace, start: IntArray, w: FloatArray, *, keep: int = -1) -> IntArray:
    """Best-improvement swaps from ``start`` until none improves ``w @ c``; type ``keep``
    (if >= 0) stays in."""
    c = start.copy()
    for _ in range(MAX_SWAPS):
        out, into, gain = _best_swap(space, c, w, keep)
        if gain <= 1e-12:
            break
        c[out] -= 1
        c[into] += 1
    return c

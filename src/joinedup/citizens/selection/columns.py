"""Panels found so far, and the pricing integer program that finds the next one.

A column is a panel *composition*: how many members of each type it takes. The pricing
program maximises a weighted count over every composition that meets the panel size,
the quotas, the one-per-household rule and the already-selected volunteers. The same
program, with other weights, finds the volunteers that no feasible panel can contain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from joinedup.citizens.selection.heuristic import SwapSpace, local_search
from joinedup.citizens.selection.highs import FloatArray, IntArray, IntegerProgram, MipResult
from joinedup.citizens.selection.model import Distribution, Instance


@dataclass
class ColumnSet:
    """The growing set of distinct feasible compositions, with the pricing program."""

    instance: Instance
    ip: IntegerProgram
    space: SwapSpace
    columns: list[IntArray] = field(default_factory=list)
    _seen: set[bytes] = field(default_factory=set)
    _matrix: IntArray | None = None
    pricing_calls: int = 0

    @classmethod
    def for_instance(cls, instance: Instance) -> ColumnSet:
        ip = IntegerProgram(instance.matrix(), instance.bounds())
        return cls(instance, ip, SwapSpace.of(instance))

    def add(self, composition: IntArray | FloatArray) -> bool:
        """Add a composition if new; return whether it was."""
        c = np.asarray(np.rint(composition), dtype=np.int64)
        key = c.tobytes()
        if key in self._seen:
            return False
        self._seen.add(key)
        self.columns.append(c)
        self._matrix = None
        return True

    def matrix(self) -> IntArray:
        """Compositions as rows (panels x types)."""
        if self._matrix is None:
            self._matrix = np.vstack(self.columns)
        return self._matrix

    def search(
        self, weights: FloatArray, above: float, *, starts: int = 12, targeted: int = 0
    ) -> int:
        """Local search from the best few panels; add those worth more than ``above``.

        With ``targeted``, also one search per heaviest-weighted type (up to that many),
        from the best panel holding it and never swapping it out: the master gets
        improving panels for many of its tight types at once, so it is re-solved far
        less often (each re-solve of the degenerate master is the expensive step).
        """
        if not self.columns:
            return 0
        mat = self.matrix()
        value = mat @ weights
        added = 0
        for j in np.argsort(-value)[:starts]:
            c = local_search(self.space, mat[j], weights)
            if float(c @ weights) > above and self.add(c):
                added += 1
        heavy = np.flatnonzero(weights > 0)
        for t in heavy[np.argsort(-weights[heavy], kind="stable")][:targeted]:
            holding = np.flatnonzero(mat[:, t] > 0)
            if not len(holding):
                continue
            c = local_search(
                self.space, mat[holding[np.argmax(value[holding])]], weights, keep=int(t)
            )
            if float(c @ weights) > above and self.add(c):
                added += 1
        return added

    def price(self, weights: FloatArray) -> MipResult:
        """The composition with the largest ``weights @ composition``, and a proven bound."""
        self.pricing_calls += 1
        return self.ip.maximize(weights)


def cover(columns: ColumnSet) -> np.ndarray:
    """Seed the column set with panels that together contain every reachable type.

    Returns a boolean mask over types: True where some feasible panel contains the type.
    Assumes at least one feasible panel exists.
    """
    inst = columns.instance
    reached = inst.forced.copy()
    while not reached.all():
        weights = np.where(reached, 0.0, 1.0 / inst.multiplicity)
        if columns.search(weights, 1e-9, starts=1):
            reached |= columns.columns[-1] > 0
            continue
        best = columns.price(weights)
        if not best.feasible or best.value <= 1e-9:
            break
        columns.add(best.x)
        reached |= best.x > 0.5
    return reached


def distribution_from(
    columns: ColumnSet, weights: FloatArray, *, floor: float = 1e-12
) -> Distribution:
    """Keep the panels with weight above ``floor`` and renormalise."""
    w = np.where(weights > floor, weights, 0.0)
    keep = np.flatnonzero(w)
    comp = columns.matrix()[keep]
    return Distribution(compositions=comp, weights=w[keep] / w[keep].sum())

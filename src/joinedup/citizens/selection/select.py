"""``select``: one entry point from a pool, quotas and a panel size to a distribution.

It builds the typed instance, checks the quotas can be met (else raises InfeasibleQuotas
with the relaxation report), finds the volunteers no feasible panel can contain, runs
the chosen method and returns a ``Selection``. ``replacement`` reuses it with the
remaining panel members forced in and the drop-outs left out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from joinedup.citizens.selection.columns import ColumnSet, cover
from joinedup.citizens.selection.draw import sample_panel
from joinedup.citizens.selection.errors import InfeasibleQuotas
from joinedup.citizens.selection.highs import FloatArray
from joinedup.citizens.selection.leximin import leximin
from joinedup.citizens.selection.methods import legacy, nash
from joinedup.citizens.selection.model import (
    METHODS,
    Distribution,
    Instance,
    Method,
    Pool,
    QuotaTable,
    build_instance,
)
from joinedup.citizens.selection.relax import format_report, relaxation_report
from joinedup.citizens.selection.report import fairness
from joinedup.errors import InvalidInput

VERSION = "1.0"  # bump when a method's result for the same input may change


@dataclass(frozen=True)
class Selection:
    """A solved selection: the lottery and everything needed to explain and replay it."""

    pool: Pool
    quotas: QuotaTable
    k: int
    method: Method
    instance: Instance
    distribution: Distribution
    probabilities: FloatArray
    unreachable: tuple[str, ...]
    seconds: float
    selected: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        """The fairness report plus what was run."""
        selectable = self.instance.type_of >= 0
        unreach = set(self.unreachable)
        selectable &= np.asarray([i not in unreach for i in self.pool.ids])
        return {
            **fairness(self.probabilities, self.k, selectable),
            "method": self.method,
            "version": VERSION,
            "seconds": round(self.seconds, 3),
            "pool_size": self.pool.size,
            "panel_size": self.k,
            "types": self.instance.num_types,
            "panels_in_distribution": len(self.distribution.weights),
            "cannot_be_selected": list(self.unreachable),
            **self.stats,
        }

    def draw(self, rng: np.random.Generator) -> tuple[str, ...]:
        """A panel drawn from the distribution (ids in pool order)."""
        ids = self.pool.ids
        return tuple(ids[i] for i in sample_panel(self.instance, self.distribution, rng))


def select(
    pool: Pool,
    quotas: QuotaTable,
    k: int,
    *,
    method: Method = "leximin",
    selected: tuple[str, ...] = (),
    unavailable: tuple[str, ...] = (),
    rng: np.random.Generator | None = None,
) -> Selection:
    """Solve a selection. ``rng`` is used only by LEGACY (its Monte Carlo estimate)."""
    if method not in METHODS:
        raise InvalidInput(
            f"unknown method {method!r}; use one of {', '.join(METHODS)}", where="method"
        )
    started = time.perf_counter()
    inst = build_instance(pool, quotas, k, selected=selected, unavailable=unavailable)
    columns = ColumnSet.for_instance(inst)
    if not columns.price(np.zeros(inst.num_types)).feasible:
        report = relaxation_report(inst)
        raise InfeasibleQuotas(format_report(report), report=report)
    reachable = cover(columns)
    stats: dict[str, Any] = {}
    if method in {"leximin", "maximin"}:
        res = leximin(columns, reachable, rounds=1 if method == "maximin" else None)
        dist = res.distribution
        stats = {"rounds": res.rounds, "master_solves": res.master_solves}
    elif method == "nash":
        dist = nash(columns, reachable)
    else:
        dist = legacy(inst, rng if rng is not None else np.random.default_rng(0))
    stats["pricing_solves"] = columns.pricing_calls
    ids = pool.ids
    unreachable = tuple(ids[int(i)] for t in np.flatnonzero(~reachable) for i in inst.members[t])
    return Selection(
        pool=pool,
        quotas=quotas,
        k=k,
        method=method,
        instance=inst,
        distribution=dist,
        probabilities=dist.agent_probabilities(inst),
        unreachable=unreachable,
        seconds=time.perf_counter() - started,
        selected=selected,
        unavailable=unavailable,
        stats=stats,
    )


def replacement(
    previous: Selection,
    panel: tuple[str, ...],
    dropped: tuple[str, ...],
    rng: np.random.Generator,
    *,
    declined: tuple[str, ...] = (),
) -> tuple[tuple[str, ...], Selection]:
    """Replace the drop-outs: keep the rest of ``panel``, refill to the same size fairly.

    Everyone who dropped out or ``declined`` is left out of the pool. Raises
    InfeasibleQuotas (with the relaxation report) when no replacement keeps the quotas.
    """
    missing = [d for d in dropped if d not in panel]
    if missing:
        raise InvalidInput(f"not on the panel: {', '.join(missing[:5])}", where="dropped")
    keep = tuple(p for p in panel if p not in set(dropped))
    sel = select(
        previous.pool,
        previous.quotas,
        previous.k,
        method=previous.method,
        selected=keep,
        unavailable=tuple(dict.fromkeys((*previous.unavailable, *dropped, *declined))),
        rng=rng,
    )
    return sel.draw(rng), sel

"""Infeasible quotas: which bounds conflict, and the smallest relaxation that fixes them.

``conflicting_bounds`` is a deletion filter: drop one quota bound at a time and keep it
dropped if the rest are still infeasible; what remains is a minimal set of bounds that
cannot all hold (with the pool, the panel size and the household rule). ``relax`` solves
one integer program that moves quota bounds as little as possible in total (never past
``min_flex``/``max_flex`` where given) so that some panel exists.
It never changes the panel size or the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from joinedup.citizens.selection.highs import IntegerProgram, SparseRows
from joinedup.citizens.selection.model import Instance, Quota


@dataclass(frozen=True)
class Relaxation:
    """A relaxed quota set, its total change, and whether the flex limits were kept."""

    quotas: tuple[Quota, ...]
    total_change: int
    within_flex: bool


def feasible(inst: Instance) -> bool:
    """Is there at least one panel meeting size, quotas, households and forced members?"""
    return IntegerProgram(inst.matrix(), inst.bounds()).maximize(np.zeros(inst.num_types)).feasible


def conflicting_bounds(inst: Instance) -> list[tuple[Quota, str]]:
    """A minimal set of (quota, "min"|"max") bounds that cannot all hold at once."""
    ip = IntegerProgram(inst.matrix(), inst.bounds())
    zero = np.zeros(inst.num_types)
    lo = np.asarray([q.min for q in inst.quotas], dtype=np.float64)
    hi = np.asarray([q.max for q in inst.quotas], dtype=np.float64)

    def infeasible() -> bool:
        rows = np.arange(1, len(lo) + 1, dtype=np.int64)
        ip.set_row_bounds(rows, lo, hi)
        return not ip.maximize(zero).feasible

    kept: list[tuple[Quota, str]] = []
    for r, q in enumerate(inst.quotas):
        for side, arr, loose in (("min", lo, 0.0), ("max", hi, float(inst.k))):
            tight = arr[r]
            if tight == loose:
                continue
            arr[r] = loose
            if not infeasible():
                arr[r] = tight
                kept.append((q, side))
    return kept


def relax(inst: Instance, *, respect_flex: bool = True) -> Relaxation | None:
    """The quota bounds closest (in total change) to the given ones that admit a panel."""
    t, nq, k = inst.num_types, len(inst.quotas), inst.k
    base = inst.matrix()
    dense = np.zeros((1 + 2 * nq + len(inst.households), t + 2 * nq))
    full = _dense(base, t)
    dense[0, :t] = full[0]
    for r in range(nq):
        dense[1 + r, :t] = full[1 + r]  # count + down >= min
        dense[1 + r, t + r] = 1.0
        dense[1 + nq + r, :t] = full[1 + r]  # count - up <= max
        dense[1 + nq + r, t + nq + r] = -1.0
    dense[1 + 2 * nq :, :t] = full[1 + nq :]
    down_cap = [q.min - (q.min_flex or 0) if respect_flex else q.min for q in inst.quotas]
    up_cap = [
        (q.max_flex - q.max if q.max_flex is not None else k - q.max) if respect_flex else k
        for q in inst.quotas
    ]
    lo0, hi0, _, _ = inst.bounds()
    col_lo = np.concatenate((lo0, np.zeros(2 * nq)))
    col_hi = np.concatenate((hi0, np.maximum(down_cap, 0), np.maximum(up_cap, 0))).astype(float)
    row_lo = np.concatenate(
        ([k], [q.min for q in inst.quotas], np.full(nq, -np.inf), np.zeros(len(inst.households)))
    )
    row_hi = np.concatenate(
        ([k], np.full(nq, np.inf), [q.max for q in inst.quotas], np.ones(len(inst.households)))
    )
    ip = IntegerProgram(SparseRows.from_dense(dense), (col_lo, col_hi, row_lo, row_hi))
    best = ip.maximize(np.concatenate((np.zeros(t), -np.ones(2 * nq))))
    if not best.feasible:
        return None
    down, up = best.x[t : t + nq].astype(int), best.x[t + nq :].astype(int)
    quotas = tuple(
        Quota(q.feature, q.value, q.min - int(d), q.max + int(u), q.min_flex, q.max_flex)
        for q, d, u in zip(inst.quotas, down, up, strict=True)
    )
    return Relaxation(quotas, int(down.sum() + up.sum()), respect_flex)


def _dense(matrix: SparseRows, num_cols: int) -> np.ndarray:
    out = np.zeros((matrix.num_rows, num_cols))
    for j in range(num_cols):
        sl = slice(matrix.starts[j], matrix.starts[j + 1])
        out[matrix.indices[sl], j] = matrix.values[sl]
    return out


def relaxation_report(inst: Instance) -> dict[str, Any]:
    """What conflicts and what would fix it, as plain data (printed by the CLI)."""
    conflicts = conflicting_bounds(inst)
    fix = relax(inst) or relax(inst, respect_flex=False)
    changes = []
    if fix is not None:
        for old, new in zip(inst.quotas, fix.quotas, strict=True):
            if (old.min, old.max) != (new.min, new.max):
                changes.append(
                    {"quota": old.label, "from": [old.min, old.max], "to": [new.min, new.max]}
                )
    return {
        "panel_size": inst.k,
        "conflicting_bounds": [
            {"quota": q.label, "bound": side, "value": q.min if side == "min" else q.max}
            for q, side in conflicts
        ],
        "relaxation": changes,
        "relaxation_total_change": None if fix is None else fix.total_change,
        "relaxation_within_flex": None if fix is None else fix.within_flex,
        "relaxed_quotas": None
        if fix is None
        else [
            {"feature": q.feature, "value": q.value, "min": q.min, "max": q.max} for q in fix.quotas
        ],
    }


def format_report(report: dict[str, Any]) -> str:
    """The relaxation report as a few readable lines."""
    lines = [f"No panel of {report['panel_size']} meets every quota."]
    if report["conflicting_bounds"]:
        parts = [f"{c['quota']} {c['bound']} {c['value']}" for c in report["conflicting_bounds"]]
        lines.append("These bounds conflict: " + "; ".join(parts) + ".")
    else:
        lines.append("The pool cannot fill the panel even without quotas (households?).")
    if report["relaxation"]:
        flex = "within" if report["relaxation_within_flex"] else "beyond"
        lines.append(
            f"Smallest relaxation ({report['relaxation_total_change']} in total, {flex} the "
            "flex limits): "
            + "; ".join(f"{c['quota']} {c['from']} -> {c['to']}" for c in report["relaxation"])
        )
    elif report["relaxation_total_change"] is None:
        lines.append("No relaxation of the quotas alone makes a panel possible.")
    return "\n".join(lines)

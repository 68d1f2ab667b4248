"""NASH (maximise the sum of log selection probabilities) and LEGACY (the old greedy draw).

NASH uses the same columns and pricing program as LEXIMIN: the master is the concave
program ``max sum_t m_t log(pi_t)`` over the panels found so far, solved by the EM
(multiplicative) update, and the pricing weights are its gradient ``1 / pi_t``.
LEGACY repeats the Sortition Foundation's old greedy draw (fill the category furthest
from its minimum first) and reports the empirical distribution; it is here only so
reports can show how much fairer the optimal methods are. Never use it to select.
"""

from __future__ import annotations

import numpy as np

from joinedup.citizens.selection.columns import ColumnSet, distribution_from
from joinedup.citizens.selection.highs import FloatArray, IntArray
from joinedup.citizens.selection.model import Distribution, Instance

NASH_GAP = 1e-4  # stop when the gradient bound says we are within this share of optimal


def _em(a: FloatArray, mult: IntArray, lam: FloatArray, steps: int) -> FloatArray:
    """EM updates for max sum_t m_t log(a_t . lam) over the simplex."""
    n = float(mult.sum())
    for _ in range(steps):
        pi = a @ lam
        lam = lam * ((mult / pi) @ a) / n
        lam /= lam.sum()
    return lam


def nash(columns: ColumnSet, reachable: np.ndarray, *, max_rounds: int = 200) -> Distribution:
    """Column generation for the Nash-welfare (maximum log-probability) distribution."""
    inst = columns.instance
    active = reachable & ~inst.forced
    mult = np.where(active, inst.multiplicity, 0)
    lam = np.full(len(columns.columns), 1.0 / len(columns.columns))
    for _ in range(max_rounds):
        a = (columns.matrix().T / inst.multiplicity[:, None])[active]
        lam = _em(a, mult[active], lam, 300)
        pi = np.ones(inst.num_types)
        pi[active] = a @ lam
        grad = np.where(active, 1.0 / pi, 0.0)  # per-member weight; d/dlam_j = grad . c_j
        n = float(mult.sum())
        if columns.search(grad, n * (1 + NASH_GAP)):
            lam = np.r_[lam, np.full(len(columns.columns) - len(lam), 1e-3)]
            lam /= lam.sum()
            continue
        best = columns.price(grad)
        if best.bound <= n * (1 + NASH_GAP) or not columns.add(best.x):
            break
        lam = np.r_[lam, 1e-3]
        lam /= lam.sum()
    a = (columns.matrix().T / inst.multiplicity[:, None])[active]
    return distribution_from(columns, _em(a, mult[active], lam, 2000), floor=1e-9)


def _legacy_once(
    inst: Instance, space: tuple[IntArray, IntArray], rng: np.random.Generator
) -> IntArray | None:
    """One greedy draw at type level; None when it paints itself into a corner."""
    quota_of, house = space
    lo = np.asarray([q.min for q in inst.quotas])
    hi = np.asarray([q.max for q in inst.quotas])
    left = inst.multiplicity.copy()
    c = inst.forced.astype(np.int64)
    left[inst.forced] = 0
    for _ in range(inst.k - int(c.sum())):
        counts = np.bincount(quota_of.ravel(), np.repeat(c, quota_of.shape[1]), len(lo))
        ok = (left > 0) & (counts[quota_of] < hi[quota_of]).all(axis=1)
        ok &= ~np.isin(house, house[(c > 0) & (house >= 0)]) | (house < 0)
        supply = np.bincount(
            quota_of.ravel(), np.repeat(np.where(ok, left, 0), quota_of.shape[1]), len(lo)
        )
        ratio = np.where(supply > 0, (lo - counts) / np.maximum(supply, 1), -np.inf)
        if not np.isfinite(ratio).any():
            return None
        q = int(np.argmax(ratio))
        pool = np.flatnonzero(ok & (quota_of == q).any(axis=1))
        t = int(rng.choice(pool, p=left[pool] / left[pool].sum()))
        c[t] += 1
        left[t] -= 1
    return c if inst.composition_ok(c) else None


def legacy(inst: Instance, rng: np.random.Generator, *, draws: int = 1000) -> Distribution:
    """The empirical distribution of ``draws`` successful greedy draws."""
    features = list(dict.fromkeys(q.feature for q in inst.quotas))
    quota_of = np.zeros((inst.num_types, len(features)), dtype=np.int64)
    for r, (q, types) in enumerate(zip(inst.quotas, inst.quota_types, strict=True)):
        quota_of[types, features.index(q.feature)] = r
    house = np.full(inst.num_types, -1, dtype=np.int64)
    for h, types in enumerate(inst.households):
        house[types] = h
    found: dict[bytes, tuple[IntArray, int]] = {}
    got = 0
    for _ in range(draws * 20):
        c = _legacy_once(inst, (quota_of, house), rng)
        if c is None:
            continue
        key = c.tobytes()
        found[key] = (c, found.get(key, (c, 0))[1] + 1)
        got += 1
        if got == draws:
            break
    if not found:
        raise RuntimeError("the legacy greedy draw never produced a valid panel")
    comps = np.vstack([c for c, _ in found.values()])
    weights = np.asarray([n for _, n in found.values()], dtype=np.float64)
    return Distribution(comps, weights / weights.sum())

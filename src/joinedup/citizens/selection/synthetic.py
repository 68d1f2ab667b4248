"""Generated pools and quotas for tests and benchmarks, shaped like real recruitment.

Quotas come from *population* shares; the pool over- or under-represents each value
(self-selection bias), which is what makes some volunteers rare and fair selection hard.
It never reads or writes real people.
"""

from __future__ import annotations

import numpy as np

from joinedup.citizens.selection.model import Pool, Quota, QuotaTable


def generate(
    *,
    people: int,
    values_per_feature: tuple[int, ...],
    k: int,
    rng: np.random.Generator,
    bias: float = 0.5,
    slack: float = 0.15,
    household_share: float = 0.0,
) -> tuple[Pool, QuotaTable]:
    """A pool of ``people`` with one column per feature, and quotas for a panel of ``k``.

    Quota bounds are ``k * population share`` widened by ``slack`` (at least one seat),
    clipped to what the pool can supply. ``household_share`` of people share an address
    with the person before them.
    """
    columns, quotas = [], []
    for f, nvals in enumerate(values_per_feature):
        population = rng.dirichlet(np.full(nvals, 3.0))
        skew = population * np.exp(rng.normal(0.0, bias, nvals))
        values = rng.choice(nvals, size=people, p=skew / skew.sum())
        counts = np.bincount(values, minlength=nvals)
        columns.append(values)
        for v in range(nvals):
            target = k * population[v]
            lo = min(int(np.floor(target * (1 - slack))), int(counts[v]))
            hi = max(int(np.ceil(target * (1 + slack))), lo + 1)
            quotas.append(Quota(f"f{f}", f"v{v}", max(lo, 0), min(hi, k)))
    _ensure_sums(quotas, values_per_feature, k)
    address = np.arange(people)
    shared = rng.random(people) < household_share
    shared[0] = False
    address[shared] = address[np.flatnonzero(shared) - 1]
    for i in np.flatnonzero(shared):
        address[i] = address[i - 1]
    header = ("id", *(f"f{f}" for f in range(len(values_per_feature))), "address")
    rows = tuple(
        (f"p{i}", *(f"v{int(c[i])}" for c in columns), f"{int(address[i])} High Street")
        for i in range(people)
    )
    return Pool(header, rows, "id"), QuotaTable(tuple(quotas))


def _ensure_sums(quotas: list[Quota], values_per_feature: tuple[int, ...], k: int) -> None:
    """Loosen bounds so each feature's mins sum to at most k and maxes to at least k."""
    start = 0
    for nvals in values_per_feature:
        block = quotas[start : start + nvals]
        while sum(q.min for q in block) > k:
            i = max(range(nvals), key=lambda j: block[j].min)
            block[i] = Quota(block[i].feature, block[i].value, block[i].min - 1, block[i].max)
        while sum(q.max for q in block) < k:
            i = min(range(nvals), key=lambda j: block[j].max)
            block[i] = Quota(block[i].feature, block[i].value, block[i].min, block[i].max + 1)
        quotas[start : start + nvals] = block
        start += nvals

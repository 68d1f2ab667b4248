"""Laws that hold for every instance: quotas met in every panel, probabilities sum to k,
one per household; and LEXIMIN's minimum equals a brute-force MAXIMIN over every panel."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from joinedup.citizens.selection import (
    InfeasibleQuotas,
    Pool,
    Quota,
    QuotaTable,
    audit_record,
    draw_rng,
    relax,
    replay,
    select,
)


@st.composite
def instances(draw: st.DrawFn) -> tuple[Pool, QuotaTable, int]:
    n = draw(st.integers(5, 12))
    k = draw(st.integers(1, min(5, n - 1)))
    nvals = [draw(st.integers(2, 3)) for _ in range(2)]
    cols = [[draw(st.integers(0, v - 1)) for _ in range(n)] for v in nvals]
    homes = [draw(st.integers(0, n - 1)) for _ in range(n)]
    rows = tuple((f"p{i}", *(f"v{c[i]}" for c in cols), f"h{homes[i]}") for i in range(n))
    quotas = []
    for f, v in enumerate(nvals):
        for j in range(v):
            lo = draw(st.integers(0, 2))
            quotas.append(Quota(f"f{f}", f"v{j}", lo, lo + draw(st.integers(0, k))))
    pool = Pool(("id", "f0", "f1", "home"), rows, "id", ("home",))
    return pool, QuotaTable(tuple(quotas)), k


def _brute_maximin(sel) -> float:
    """max over distributions of the minimum probability, over every feasible panel."""
    inst = sel.instance
    n, keys = inst.num_agents, sel.pool.household_keys()
    panels = []
    for panel in itertools.combinations(range(n), inst.k):
        counts = np.zeros(inst.num_types, dtype=np.int64)
        np.add.at(counts, inst.type_of[list(panel)], 1)
        if inst.composition_ok(counts) and len({keys[i] for i in panel}) == inst.k:
            panels.append(panel)
    reach = sorted({i for p in panels for i in p})
    a = np.zeros((len(reach), len(panels)))
    for j, p in enumerate(panels):
        for i in p:
            a[reach.index(i), j] = 1
    m = len(panels)
    res = linprog(
        np.r_[np.zeros(m), -1.0],
        A_ub=np.c_[-a, np.ones(len(reach))],
        b_ub=np.zeros(len(reach)),
        A_eq=np.r_[np.ones(m), 0.0][None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * m + [(None, None)],
        method="highs",
    )
    return float(-res.fun)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_selection_laws_hold_on_random_instances(case: tuple[Pool, QuotaTable, int]) -> None:
    pool, quotas, k = case
    try:
        sel = select(pool, quotas, k, method="leximin")
    except InfeasibleQuotas as exc:
        fix = exc.report["relaxed_quotas"]
        if fix is not None:  # the proposed relaxation really admits a panel
            relaxed = QuotaTable(tuple(Quota(**q) for q in fix))
            assert select(pool, relaxed, k, method="maximin").probabilities.sum() == pytest.approx(
                k
            )
        return
    keys = pool.household_keys()
    assert sel.probabilities.sum() == pytest.approx(k, abs=1e-6)
    assert sel.distribution.weights.sum() == pytest.approx(1.0)
    for comp in sel.distribution.compositions:
        assert sel.instance.composition_ok(comp)
    panel = sel.draw(draw_rng(3))
    index = {p: i for i, p in enumerate(pool.ids)}
    assert len({keys[index[p]] for p in panel}) == k  # one per household
    reachable = [i for i, p in enumerate(pool.ids) if p not in set(sel.unreachable)]
    assert sel.probabilities[reachable].min() == pytest.approx(_brute_maximin(sel), abs=1e-6)
    assert replay(audit_record(sel, seed=3, panel=panel)) == panel


@settings(max_examples=25, deadline=None)
@given(instances())
def test_relaxation_is_feasible_and_no_larger_than_needed(
    case: tuple[Pool, QuotaTable, int],
) -> None:
    pool, quotas, k = case
    from joinedup.citizens.selection import build_instance
    from joinedup.citizens.selection.relax import feasible

    inst = build_instance(pool, quotas, k)
    fix = relax(inst, respect_flex=False)

    if fix is None:  # not even free quotas help: the households cannot fill the panel
        assert len(set(pool.household_keys())) < k
        return
    assert (fix.total_change == 0) == feasible(inst)
    for old, new in zip(quotas.quotas, fix.quotas, strict=True):
        assert new.min <= old.min
        assert new.max >= old.max

"""The alignment kernel against independent truths: brute force, SciPy's assignment solver,
and hand-worked distances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

from joinedup.carehomes import alignment
from joinedup.carehomes.alignment import (
    UNALIGNED,
    Rules,
    Sites,
    distances_km,
    objective_of,
    solve,
    summarise,
)
from joinedup.carehomes.errors import AlignmentInfeasible


def _sites(rng: np.random.Generator, n: int, prefix: str, low: int, high: int) -> Sites:
    return Sites.of(
        [f"{prefix}{i}" for i in range(n)],
        list(53.40 + rng.normal(0, 0.03, n)),
        list(-2.15 + rng.normal(0, 0.05, n)),
        list(rng.integers(low, high, n).astype(float)),
    )


def _brute_force(homes: Sites, practices: Sites, rules: Rules) -> float:
    low, high = rules.bounds(len(homes), len(practices))
    best = np.inf
    for choice in itertools.product(range(len(practices)), repeat=len(homes)):
        of = np.array(choice, dtype=np.int64)
        counts = np.bincount(of, minlength=len(practices))
        if counts.min() < low or counts.max() > high:
            continue
        best = min(best, objective_of(homes, practices, of, rules))
    return float(best)


def test_distances_km_match_arcs_worked_by_hand() -> None:
    # One degree along a meridian, and along the equator, is 2 * pi * R / 360 = 111.195 km;
    # a degree of longitude at 60 degrees north spans the central angle
    # 2 * asin(cos 60 * sin 0.5 degrees) = 0.0087266 rad, which is 55.597 km.
    homes = Sites.of(["a", "b"], [53.0, 60.0], [-2.0, 0.0], [1.0, 1.0])
    practices = Sites.of(["p", "q", "r"], [54.0, 0.0, 60.0], [-2.0, 0.0, 1.0], [1.0] * 3)

    d = distances_km(homes, practices)

    assert d.shape == (2, 3)
    assert d[0, 0] == pytest.approx(111.195, abs=0.001)
    assert d[1, 1] == pytest.approx(60 * 111.195, abs=0.01)
    assert d[1, 2] == pytest.approx(55.597, abs=0.001)


@pytest.fixture(params=["patterns", "direct"])
def model(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with each of the two exact models (the direct one when patterns are many)."""
    if request.param == "direct":
        monkeypatch.setattr(alignment, "MAX_PATTERNS", 0)
    return str(request.param)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("weight", [0.0, 0.1, 2.0])
def test_solve_matches_brute_force_on_small_boroughs(seed: int, weight: float, model: str) -> None:
    rng = np.random.default_rng(seed)
    homes, practices = _sites(rng, 6, "H", 10, 90), _sites(rng, 3, "P", 2000, 12000)
    rules = Rules(balance_weight=weight)

    plan = solve(homes, practices, rules)

    assert plan.objective == pytest.approx(_brute_force(homes, practices, rules), abs=1e-6)
    assert objective_of(homes, practices, plan.practice_of, rules) == pytest.approx(plan.objective)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 6),
    m=st.integers(1, 3),
    weight=st.sampled_from([0.0, 0.05, 0.5, 3.0]),
    slack=st.booleans(),
)
def test_solve_is_optimal_and_keeps_its_rules(
    seed: int, n: int, m: int, weight: float, slack: bool
) -> None:
    rng = np.random.default_rng(seed)
    homes, practices = _sites(rng, n, "H", 5, 120), _sites(rng, m, "P", 500, 15000)
    rules = Rules(balance_weight=weight, min_homes=0 if slack else None)

    plan = solve(homes, practices, rules)

    low, high = rules.bounds(n, m)
    counts = np.bincount(plan.practice_of, minlength=m)
    assert counts.min() >= low
    assert counts.max() <= high
    assert plan.objective == pytest.approx(_brute_force(homes, practices, rules), abs=1e-6)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("weight", [0.1, 1.0])
def test_both_models_agree_on_a_larger_borough(seed: int, weight: float) -> None:
    rng = np.random.default_rng(100 + seed)
    homes, practices = _sites(rng, 16, "H", 10, 90), _sites(rng, 7, "P", 1500, 15000)
    rules = Rules(balance_weight=weight)

    by_patterns = solve(homes, practices, rules)
    original = alignment.MAX_PATTERNS
    alignment.MAX_PATTERNS = 0
    try:
        direct = solve(homes, practices, rules)
    finally:
        alignment.MAX_PATTERNS = original

    assert by_patterns.objective == pytest.approx(direct.objective, abs=1e-6)


def test_travel_only_one_to_one_matches_scipy_assignment() -> None:
    rng = np.random.default_rng(3)
    homes, practices = _sites(rng, 12, "H", 10, 90), _sites(rng, 15, "P", 2000, 9000)

    plan = solve(homes, practices, Rules(balance_weight=0.0))

    rows, cols = linear_sum_assignment(distances_km(homes, practices))
    assert plan.summary.travel_km == pytest.approx(distances_km(homes, practices)[rows, cols].sum())
    assert plan.summary.most_homes == 1


def test_balance_weight_trades_travel_for_fairness() -> None:
    rng = np.random.default_rng(5)
    homes, practices = _sites(rng, 14, "H", 10, 90), _sites(rng, 7, "P", 1500, 15000)

    travel_only = solve(homes, practices, Rules(balance_weight=0.0)).summary
    balanced = solve(homes, practices, Rules(balance_weight=5.0)).summary

    assert balanced.off_fair_share <= travel_only.off_fair_share
    assert balanced.travel_km >= travel_only.travel_km
    assert balanced.off_fair_share < travel_only.off_fair_share or (
        balanced.travel_km == pytest.approx(travel_only.travel_km)
    )


def test_homes_per_practice_default_is_as_near_one_to_one_as_the_numbers_allow() -> None:
    rng = np.random.default_rng(8)
    homes, practices = _sites(rng, 11, "H", 10, 90), _sites(rng, 4, "P", 1500, 15000)

    plan = solve(homes, practices)

    assert (plan.min_homes, plan.max_homes) == (2, 3)
    counts = np.bincount(plan.practice_of, minlength=4)
    assert set(counts.tolist()) <= {2, 3}
    assert counts.sum() == 11


def test_summary_counts_unaligned_homes_and_rates() -> None:
    homes = Sites.of(["a", "b", "c"], [53.4] * 3, [-2.1] * 3, [10.0, 20.0, 30.0])
    practices = Sites.of(["p", "q"], [53.4, 53.41], [-2.1, -2.1], [1000.0, 3000.0])

    s = summarise(homes, practices, np.array([0, UNALIGNED, 1], dtype=np.int64))

    assert s.unaligned == 1
    assert s.beds.tolist() == [10.0, 30.0]
    assert s.beds_per_1000.tolist() == pytest.approx([10.0, 10.0])
    assert s.fair_beds.tolist() == pytest.approx([15.0, 45.0])
    assert s.off_fair_share == pytest.approx(20.0)
    assert s.borough_beds_per_1000 == pytest.approx(15.0)


@pytest.mark.parametrize(
    ("rules", "match"),
    [
        (Rules(min_homes=0, max_homes=1), "cannot go"),
        (Rules(min_homes=3), "cannot go"),
        (Rules(min_homes=2, max_homes=1), "between"),
        (Rules(balance_weight=-1.0), "balance weight"),
    ],
)
def test_impossible_rules_are_refused_with_a_reason(rules: Rules, match: str) -> None:
    rng = np.random.default_rng(1)
    homes, practices = _sites(rng, 5, "H", 10, 90), _sites(rng, 2, "P", 1500, 15000)

    with pytest.raises(AlignmentInfeasible, match=match):
        solve(homes, practices, rules)


def test_a_home_without_beds_or_location_is_refused() -> None:
    practices = Sites.of(["p"], [53.4], [-2.1], [1000.0])

    with pytest.raises(AlignmentInfeasible, match="beds"):
        solve(Sites.of(["a"], [53.4], [-2.1], [0.0]), practices)
    with pytest.raises(AlignmentInfeasible, match="location"):
        solve(Sites.of(["a"], [float("nan")], [-2.1], [5.0]), practices)


def test_sites_must_have_one_value_per_site() -> None:
    with pytest.raises(ValueError, match="one value"):
        Sites(("a", "b"), np.zeros(2), np.zeros(1), np.ones(2))

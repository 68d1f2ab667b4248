"""The kernel's own interior-point LP solver (issue 9 speed): it agrees with HiGHS on
random and degenerate LPs, refuses malformed input, and LEXIMIN run through it gives the
same (unique) probabilities as LEXIMIN run through HiGHS alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from joinedup.citizens.selection import leximin as leximin_module
from joinedup.citizens.selection import parse_people, parse_quotas, select
from joinedup.citizens.selection.ipm import solve_standard
from joinedup.citizens.selection.synthetic import generate

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "sortition"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(2, 12), st.integers(3, 30))
def test_matches_highs_on_random_feasible_bounded_lps(seed: int, m: int, extra: int) -> None:
    rng = np.random.default_rng(seed)
    n = m + extra
    a = rng.integers(-3, 4, size=(m, n)).astype(float)
    a[:, :m] += 10 * np.eye(m)  # full row rank
    b = a @ rng.random(n)  # feasible: a positive point exists
    c = rng.random(n) + 0.1  # bounded: positive costs on x >= 0
    ours = solve_standard(scipy.sparse.csc_array(a), b, c)
    ref = linprog(c, A_eq=a, b_eq=b, bounds=[(0, None)] * n, method="highs")
    assert ours.optimal
    assert float(c @ ours.x) == pytest.approx(ref.fun, rel=1e-7, abs=1e-7)
    assert np.abs(a @ ours.x - b).max() <= 1e-7 * (1 + np.abs(b).max())
    assert ours.x.min() >= 0  # interior: primal and dual feasible
    assert ours.s.min() >= 0
    assert float(b @ ours.y) == pytest.approx(ref.fun, rel=1e-7, abs=1e-7)


def test_degenerate_lp_gives_the_central_strictly_complementary_duals() -> None:
    # max z s.t. x_i >= z for i=1..3, x1 + x2 + x3 = 3: every row is tight (z = 1) and
    # by symmetry the analytic centre of the dual face gives each row dual 1/3.
    a = np.array(
        [
            # z   x1   x2   x3   s1   s2   s3
            [-1, 1, 0, 0, -1, 0, 0],
            [-1, 0, 1, 0, 0, -1, 0],
            [-1, 0, 0, 1, 0, 0, -1],
            [0, 1, 1, 1, 0, 0, 0],
        ],
        dtype=float,
    )
    res = solve_standard(
        scipy.sparse.csc_array(a), np.array([0.0, 0.0, 0.0, 3.0]), np.r_[-1.0, np.zeros(6)]
    )
    assert res.optimal
    assert res.x[0] == pytest.approx(1.0, abs=1e-8)
    np.testing.assert_allclose(res.y[:3], 1 / 3, atol=1e-7)


def test_bad_input_is_refused() -> None:
    a = scipy.sparse.csc_array(np.ones((2, 3)))  # two equal rows: not of full row rank
    with pytest.raises(ValueError, match="full row rank"):
        solve_standard(a, np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="shapes"):
        solve_standard(scipy.sparse.csc_array(np.eye(2)), np.ones(3), np.ones(2))


def _leximin_both_ways(pool, quotas, k: int, monkeypatch: pytest.MonkeyPatch):
    """LEXIMIN with HiGHS alone, then with ipm.py for the mostly-fixed masters (counted)."""
    monkeypatch.setattr(leximin_module, "OWN_IPM_FROM", 10**9)
    plain = select(pool, quotas, k)
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return solve_standard(*args, **kwargs)

    monkeypatch.setattr(leximin_module, "solve_standard", counted)
    monkeypatch.setattr(leximin_module, "OWN_IPM_FROM", 0)
    monkeypatch.setattr(leximin_module, "TARGETED_FROM", 0)
    own = select(pool, quotas, k)
    assert calls, "the own interior-point solver never ran"
    return plain, own


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_leximin_through_the_own_ipm_gives_the_same_probabilities(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, quotas = generate(
        people=150, values_per_feature=(2, 3, 3, 2), k=15, rng=np.random.default_rng(seed)
    )
    plain, own = _leximin_both_ways(pool, quotas, 15, monkeypatch)
    assert own.probabilities.sum() == pytest.approx(15, abs=1e-6)
    assert all(own.instance.composition_ok(c) for c in own.distribution.compositions)
    np.testing.assert_allclose(own.probabilities, plain.probabilities, atol=1e-6)


def test_sa_fixture_through_the_own_ipm_keeps_one_eleventh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not FIXTURES.is_dir():
        pytest.skip(f"reference fixtures not present at {FIXTURES}")
    pool = parse_people((FIXTURES / "sa-fixture" / "candidates.csv").read_text())
    quotas = parse_quotas((FIXTURES / "sa-fixture" / "features.csv").read_text())
    plain, own = _leximin_both_ways(pool, quotas, 22, monkeypatch)
    assert own.probabilities.min() == pytest.approx(1 / 11, abs=1e-4)
    np.testing.assert_allclose(own.probabilities, plain.probabilities, atol=1e-6)


def test_a_stalled_own_ipm_falls_back_to_highs(monkeypatch: pytest.MonkeyPatch) -> None:
    from joinedup.citizens.selection import ipm as ipm_module

    pool, quotas = generate(
        people=150, values_per_feature=(2, 3, 3, 2), k=15, rng=np.random.default_rng(3)
    )
    monkeypatch.setattr(ipm_module, "MAX_STEPS", 3)  # never reaches the tolerance
    plain, stalled = _leximin_both_ways(pool, quotas, 15, monkeypatch)
    np.testing.assert_allclose(stalled.probabilities, plain.probabilities, atol=1e-6)

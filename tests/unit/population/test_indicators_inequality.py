"""Quantiles by rank (against the fixture) and the SII/RII (against the method's laws).

There is no SII fixture in the reference set; the SII is checked against an exact
straight line, a plain weighted regression, and a plain simulation that redraws every
quantile's value (the published recipe), within a stated Monte Carlo tolerance.

Quantile fixture quirks documented here:
- Polarity: "RAG - Low is good" and "True" rank the highest value first; "RAG - High is
  good" and "False" the lowest first. In the ungrouped ("None") quartile set every row
  is ranked together, highest value first, whatever its polarity column says.
- A group with fewer areas than quantiles gets no quantiles (blank).
- The BadPolarity rows test an error in the reference's interface (mixed polarity in
  one group); ours takes one direction per call, so they are not applicable.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joinedup.population.inequality import (
    quantiles_by_rank,
    relative_ranks,
    se_from_limits,
    slope_index,
)

PHE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "phe"
COUNTS = {"Decile": 10, "Quartile": 4, "Septile": 7}
GROUPINGS = {"IndSexReg": ["IndicatorID", "Sex", "ParentCode"], "IndSex": ["IndicatorID", "Sex"]}
HIGHEST_FIRST = {
    "RAG - Low is good": True,
    "True": True,
    "RAG - High is good": False,
    "False": False,
}


def _quantiles_fixture() -> pd.DataFrame:
    if not PHE.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the reference fixtures are missing at {PHE} (CI must have them)")
        pytest.skip(f"reference fixtures not found at {PHE}")
    table = pd.read_csv(
        PHE / "testdata_Quantiles__testdata_Quantiles.csv", keep_default_na=False, na_values=[""]
    )
    return table[table.Test != "BadPolarity"]


def test_quantiles_grouped_match_fixture() -> None:
    table = _quantiles_fixture()
    grouped = table[table.GroupSet != "None"]
    for (_, name, grouping, polarity), part in grouped.groupby(
        ["Test", "QuantileNm", "GroupSet", "Polarity"]
    ):
        groups = part[GROUPINGS[grouping]].astype(str).agg("|".join, axis=1)
        result = quantiles_by_rank(
            part.Value, COUNTS[name], groups=groups, highest_first=HIGHEST_FIRST[polarity]
        )
        np.testing.assert_array_equal(result, part.QuantileInGrp.to_numpy(dtype=float))


def test_quantiles_ungrouped_match_fixture() -> None:
    table = _quantiles_fixture()
    part = table[table.GroupSet == "None"]
    result = quantiles_by_rank(part.Value, 4, highest_first=True)
    np.testing.assert_array_equal(result, part.QuantileInGrp.to_numpy(dtype=float))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=10, max_size=200), st.integers(2, 10))
def test_quantiles_are_balanced_and_ordered(values: list[float], n: int) -> None:
    result = quantiles_by_rank(values, n)
    assert set(np.unique(result)) <= set(range(1, n + 1))
    order = np.argsort(-np.asarray(values), kind="stable")
    assert np.all(np.diff(result[order]) >= 0)  # higher value, never a higher quantile


def test_relative_ranks_are_cumulative_midpoints() -> None:
    np.testing.assert_allclose(relative_ranks([[12, 10, 78]]), [[0.06, 0.17, 0.61]])


def _line_data(groups: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    population = np.tile([1200.0, 900, 1000, 1100, 800, 1000, 950, 1050, 1000, 1000], (groups, 1))
    values = 70 + 10 * relative_ranks(population)
    return values, population, np.full(values.shape, 0.5)


def test_sii_of_an_exact_line_is_its_slope() -> None:
    values, population, se = _line_data()
    result = slope_index(values, population, se, rng=np.random.default_rng(1), reps=2000)
    np.testing.assert_allclose(result.sii, 10.0)
    np.testing.assert_allclose(result.rii, 80 / 70)
    assert np.all(result.sii_lower < 10)
    assert np.all(result.sii_upper > 10)


def test_sii_matches_a_plain_weighted_regression() -> None:
    rng = np.random.default_rng(7)
    population = rng.uniform(500, 2000, 10)
    values = rng.uniform(60, 85, 10)
    x = relative_ranks(population)[0]
    design = np.c_[np.ones(10), x] * np.sqrt(population)[:, None]
    intercept, slope = np.linalg.lstsq(design, values * np.sqrt(population), rcond=None)[0]
    result = slope_index(values, population, np.ones(10), rng=rng, reps=100)
    assert result.sii[0] == pytest.approx(slope, rel=1e-10)
    assert result.rii[0] == pytest.approx((intercept + slope) / intercept, rel=1e-10)


@pytest.mark.parametrize("transform", ["none", "log", "logit"])
def test_sii_limits_agree_with_redrawing_every_quantile(transform: str) -> None:
    rng = np.random.default_rng(3)
    population = rng.uniform(500, 2000, 10)
    values = np.sort(rng.uniform(0.2, 0.6, 10))
    se = values * 0.08
    fast = slope_index(
        values, population, se, rng=np.random.default_rng(11), reps=200_000, transform=transform
    )  # type: ignore[arg-type]
    plain = _plain_simulation(
        values, population, se, transform, np.random.default_rng(12), reps=50_000
    )
    # Two independent Monte Carlo runs: their percentiles agree to about 1% of the spread.
    spread = plain[1] - plain[0]
    assert fast.sii_lower[0] == pytest.approx(plain[0], abs=0.02 * spread)
    assert fast.sii_upper[0] == pytest.approx(plain[1], abs=0.02 * spread)


def _plain_simulation(values, population, se, transform, rng, reps):  # type: ignore[no-untyped-def]
    """The published recipe, slowly: redraw each value on the transformed scale, refit."""
    forward = {"none": lambda v: v, "log": np.log, "logit": lambda v: np.log(v / (1 - v))}[
        transform
    ]
    inverse = {"none": lambda t: t, "log": np.exp, "logit": lambda t: 1 / (1 + np.exp(-t))}[
        transform
    ]
    slope = {"none": np.ones_like, "log": lambda v: 1 / v, "logit": lambda v: 1 / (v * (1 - v))}[
        transform
    ]
    x = relative_ranks(population)[0]
    w = np.sqrt(population)
    design = np.c_[np.ones_like(x), x] * w[:, None]
    draws = forward(values) + se * slope(values) * rng.standard_normal((reps, values.size))
    coef = np.linalg.lstsq(design, (draws * w).T, rcond=None)[0]
    sii = inverse(coef[0] + coef[1]) - inverse(coef[0])
    return np.quantile(sii, [0.025, 0.975])


def test_sii_is_reproducible_with_the_same_seed() -> None:
    values, population, se = _line_data()
    first = slope_index(values, population, se, rng=np.random.default_rng(5), reps=1000)
    again = slope_index(values, population, se, rng=np.random.default_rng(5), reps=1000)
    np.testing.assert_array_equal(first.sii_lower, again.sii_lower)


def test_se_from_limits_inverts_symmetric_limits() -> None:
    assert se_from_limits(10.0, 8.04, 11.96)[()] == pytest.approx(1.0, rel=1e-3)
    log_se = se_from_limits(10.0, 10 / np.exp(1.959964), 10 * np.exp(1.959964), transform="log")
    assert log_se[()] == pytest.approx(10.0, rel=1e-6)  # SE 1 on the log scale, 10 on the rate's


def test_sii_refuses_bad_inputs() -> None:
    values, population, se = _line_data(1)
    with pytest.raises(ValueError, match="logit"):
        slope_index(values, population, se, rng=np.random.default_rng(), transform="logit")
    with pytest.raises(ValueError, match="populations"):
        slope_index(values, -population, se, rng=np.random.default_rng())

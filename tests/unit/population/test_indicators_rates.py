"""Byars, exact Poisson, Wilson and t intervals against the official methods' test cases.

Fixture quirks documented here:
- testdata_B_W: Byars' lower limit for 1 event at 99.8% is blank (the cube root goes
  negative); ours is NaN there too.
- testdata_Rate: a blank count gives no method; a blank denominator keeps "Byars" but
  no value (the count alone decides the method).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from joinedup.population import rates

PHE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "phe"


def _fixture(name: str) -> pd.DataFrame:
    if not PHE.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the reference fixtures are missing at {PHE} (CI must have them)")
        pytest.skip(f"reference fixtures not found at {PHE}")
    return pd.read_csv(PHE / name)


def _close(actual: np.ndarray, expected: pd.Series, rel: float = 1e-9) -> None:
    np.testing.assert_allclose(actual, expected.to_numpy(dtype=float), rtol=rel, equal_nan=True)


def _confidence(label: str) -> float:
    return float(label.rstrip("%")) / 100


def test_byars_matches_fixture() -> None:
    table = _fixture("testdata_Byars_Wilson__testdata_B_W.csv")
    byars = table[table.method == "Byars"]
    for _, row in byars.iterrows():
        c = _confidence(row.confidence)
        _close(rates.byars_lower(row.x, c), pd.Series([row.lowercl]))
        _close(rates.byars_upper(row.x, c), pd.Series([row.uppercl]))


def test_wilson_matches_fixture() -> None:
    table = _fixture("testdata_Byars_Wilson__testdata_B_W.csv")
    wilson = table[table.method == "Wilson"]
    for _, row in wilson.iterrows():
        lower, upper = rates.wilson_limits(row.x, row.n, _confidence(row.confidence))
        _close(lower, pd.Series([row.lowercl]))
        _close(upper, pd.Series([row.uppercl]))


@pytest.mark.parametrize(
    ("confidence", "lo", "hi"),
    [(0.95, "lower95_0cl", "upper95_0cl"), (0.998, "lower99_8cl", "upper99_8cl")],
)
def test_crude_rate_matches_fixture(confidence: float, lo: str, hi: str) -> None:
    table = _fixture("testdata_Rate__testdata_Rate.csv")
    result = rates.crude_rate(
        table.Numerator, table.Denominator, multiplier=1, confidence=confidence
    )
    scale = table.multiplier.to_numpy(dtype=float)
    _close(result.value * scale, table.value)
    _close(result.lower * scale, table[lo])
    _close(result.upper * scale, table[hi])
    expected_method = table.method.fillna("").to_numpy()
    assert list(result.method) == list(expected_method)


def test_crude_rate_grouped_fixture() -> None:
    table = _fixture("testdata_Rate__testdata_Rate_g.csv")
    result = rates.crude_rate(table.Numerator, table.Denominator, multiplier=100_000)
    _close(result.value, table.value)
    _close(result.lower, table.lowercl)
    _close(result.upper, table.uppercl)


@pytest.mark.parametrize(
    ("confidence", "lo", "hi"),
    [(0.95, "lower95_0cl", "upper95_0cl"), (0.998, "lower99_8cl", "upper99_8cl")],
)
def test_proportion_matches_fixture(confidence: float, lo: str, hi: str) -> None:
    table = _fixture("testdata_Proportion__testdata_Prop.csv").dropna(
        subset=["Numerator", "Denominator"]
    )
    result = rates.proportion(
        table.Numerator, table.Denominator, multiplier=1, confidence=confidence
    )
    scale = table.multiplier.to_numpy(dtype=float)
    _close(result.value * scale, table.value)
    _close(result.lower * scale, table[lo])
    _close(result.upper * scale, table[hi])


def test_proportion_grouped_fixture() -> None:
    table = _fixture("testdata_Proportion__testdata_Prop_g.csv").dropna(
        subset=["Numerator", "Denominator"]
    )
    result = rates.proportion(table.Numerator, table.Denominator)
    _close(result.lower, table.lowercl)
    _close(result.upper, table.uppercl)


def test_mean_matches_fixture() -> None:
    values = _fixture("testdata_Mean__testdata_Mean.csv")
    expected = _fixture("testdata_Mean__testdata_Mean_results.csv").set_index("area")
    groups = {
        **{a: g["values"] for a, g in values.groupby("area")},
        "No grouping": values["values"],
    }
    for area, group in groups.items():
        row = expected.loc[area]
        for confidence, lo, hi in (
            (0.95, "lower95_0cl", "upper95_0cl"),
            (0.998, "lower99_8cl", "upper99_8cl"),
        ):
            result = rates.mean_of(group, confidence=confidence)
            assert result.value == pytest.approx(row.value, rel=1e-12)
            assert result.lower == pytest.approx(row[lo], rel=1e-9)
            assert result.upper == pytest.approx(row[hi], rel=1e-9)


def test_poisson_limits_switch_from_exact_to_byars_at_ten() -> None:
    _, _, method = rates.poisson_limits([9, 10])
    assert list(method) == ["Exact", "Byars"]


def test_rates_refuse_bad_inputs() -> None:
    with pytest.raises(ValueError, match="negative"):
        rates.crude_rate([-1], [10])
    with pytest.raises(ValueError, match="exceed"):
        rates.proportion([11], [10])
    with pytest.raises(ValueError, match="between 0 and 1"):
        rates.z_value(95)

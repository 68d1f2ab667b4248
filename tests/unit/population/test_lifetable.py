"""Chiang II life tables with Silcocks' variance (joinedup.population.lifetable)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from joinedup.population.lifetable import STANDARD_AGE_STARTS, life_table

# A realistic England-like population and deaths by band (0, 1-4, ..., 85-89, 90+).
POPULATION = (
    np.array(
        [
            3100,
            12800,
            17500,
            17800,
            16100,
            14900,
            16900,
            18200,
            18700,
            17500,
            18900,
            20600,
            20800,
            17900,
            15100,
            15300,
            11300,
            8000,
            4700,
            2300,
        ],
        dtype=float,
    )
    * 5
)
RATES = np.array(
    [
        0.0039,
        0.0001,
        0.00008,
        0.0001,
        0.0003,
        0.0004,
        0.0005,
        0.0007,
        0.001,
        0.0015,
        0.0022,
        0.0035,
        0.0055,
        0.009,
        0.014,
        0.023,
        0.039,
        0.068,
        0.12,
        0.25,
    ]
)
DEATHS = np.round(POPULATION * RATES)


def _reference(deaths: np.ndarray, population: np.ndarray) -> tuple[float, float]:
    """A plain-loop Chiang II + Silcocks implementation, written from the method text."""
    starts = list(STANDARD_AGE_STARTS)
    k = len(starts)
    n = [starts[i + 1] - starts[i] for i in range(k - 1)]
    a = [0.1] + [0.5] * (k - 2)
    m = [deaths[i] / population[i] for i in range(k)]
    q = [n[i] * m[i] / (1 + n[i] * (1 - a[i]) * m[i]) for i in range(k - 1)] + [1.0]
    lx = [100000.0]
    for i in range(k - 1):
        lx.append(lx[i] * (1 - q[i]))
    big_l = [n[i] * (lx[i + 1] + a[i] * lx[i] * q[i]) for i in range(k - 1)] + [lx[-1] / m[-1]]
    t = [sum(big_l[i:]) for i in range(k)]
    e = [t[i] / lx[i] for i in range(k)]
    var = 0.0
    for i in range(k - 1):
        var_q = q[i] ** 2 * (1 - q[i]) / deaths[i] if deaths[i] > 0 else 0.0
        var += lx[i] ** 2 * ((1 - a[i]) * n[i] + e[i + 1]) ** 2 * var_q
    var += lx[-1] ** 2 / m[-1] ** 4 * (m[-1] ** 2 / deaths[-1])
    return e[0], var / lx[0] ** 2


def test_lifetable_matches_plain_loop_reference() -> None:
    table = life_table(DEATHS, POPULATION)
    expected_e, expected_var = _reference(DEATHS, POPULATION)
    assert table.at_birth == pytest.approx(expected_e, rel=1e-12)
    assert table.variance[0] == pytest.approx(expected_var, rel=1e-12)
    half = 1.959963984540054 * math.sqrt(expected_var)
    assert table.lower[0] == pytest.approx(expected_e - half, rel=1e-12)
    assert table.upper[0] == pytest.approx(expected_e + half, rel=1e-12)


def test_lifetable_plausible_england_value() -> None:
    table = life_table(DEATHS, POPULATION)
    assert 75 < table.at_birth < 90
    assert np.all(np.diff(table.survivors) <= 0)
    assert np.all(np.diff(table.expectancy[1:]) < 0)


def test_lifetable_constant_hazard_is_about_its_inverse() -> None:
    population = np.full(20, 100_000.0)
    table = life_table(population * 0.02, population)
    assert table.at_birth == pytest.approx(50.0, abs=0.3)


def test_lifetable_interval_narrows_with_more_deaths() -> None:
    small = life_table(DEATHS, POPULATION)
    big = life_table(DEATHS * 10, POPULATION * 10)
    assert big.at_birth == pytest.approx(small.at_birth)
    assert big.variance[0] == pytest.approx(small.variance[0] / 10, rel=1e-9)


def test_lifetable_open_band_term_is_silcocks() -> None:
    # With no deaths below 90 only the open band contributes: Var = 1 / (M^2 D) at 90.
    population = np.full(20, 1000.0)
    deaths = np.zeros(20)
    deaths[-1] = 250.0
    table = life_table(deaths, population)
    assert table.expectancy[-1] == pytest.approx(4.0)
    assert table.variance[-1] == pytest.approx(1 / (0.25**2 * 250))


@pytest.mark.parametrize(
    ("deaths", "population", "message"),
    [
        (np.zeros(20), np.full(20, 10.0), "open age band"),
        (np.full(20, 5.0), np.r_[np.full(19, 10.0), 0.0], "population > 0"),
        (np.full(20, 50.0), np.full(20, 10.0), "cannot exceed"),
        (np.full(19, 1.0), np.full(19, 10.0), "same length"),
    ],
)
def test_lifetable_rejects_undefined_inputs(
    deaths: np.ndarray, population: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        life_table(deaths, population)

"""Vectorised life tables: same numbers as the one-area table, suppression, 85+ band.

There is no life-expectancy fixture in the reference set; the one-area table is
checked against a plain-loop implementation in test_lifetable.py, and the batch
table is checked against it here.
"""

from __future__ import annotations

import numpy as np
import pytest

from joinedup.population.lifetable import (
    NOTE_DEATHS_EXCEED,
    NOTE_FEW_PERSON_YEARS,
    NOTE_NO_OPEN_DEATHS,
    NOTE_WIDE_INTERVAL,
    OLDER_AGE_STARTS,
    life_table,
    life_tables,
)

RATES = np.array(
    [0.0039, 0.0001, 0.00008, 0.0001, 0.0003, 0.0004, 0.0005, 0.0007, 0.001, 0.0015,
     0.0022, 0.0035, 0.0055, 0.009, 0.014, 0.023, 0.039, 0.068, 0.12, 0.25]
)  # fmt: skip


def _areas(n: int, scale: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    population = rng.uniform(0.5, 1.5, (n, 20)) * scale
    return rng.poisson(population * RATES).astype(float) + np.r_[np.zeros(19), 1], population


def test_life_tables_match_one_area_tables() -> None:
    deaths, population = _areas(5, 20_000)
    batch = life_tables(deaths, population)
    for i in range(5):
        single = life_table(deaths[i], population[i])
        np.testing.assert_allclose(batch.expectancy[i], single.expectancy, rtol=1e-13)
        np.testing.assert_allclose(batch.variance[i], single.variance, rtol=1e-13)
        np.testing.assert_allclose(batch.lower[i], single.lower, rtol=1e-13)
    assert np.all(batch.note == "")


def test_life_tables_suppress_small_populations_by_start_age() -> None:
    deaths, population = _areas(1, 400)  # ~8,000 person-years in all, few in old age
    result = life_tables(deaths, population)
    person_years_from = np.cumsum(population[0][::-1])[::-1]
    few = person_years_from < 5_000
    assert np.all(result.note[0][few] == NOTE_FEW_PERSON_YEARS)
    assert np.all(np.isnan(result.expectancy[0][few]))


def test_life_tables_suppress_wide_intervals() -> None:
    deaths, population = _areas(1, 300)
    population *= 20  # enough person-years, yet too few deaths for a usable interval
    result = life_tables(deaths / 20, population)
    wide = result.note[0] == NOTE_WIDE_INTERVAL
    unsuppressed = life_tables(deaths / 20, population, suppress=False)
    assert np.all(unsuppressed.upper[0][wide] - unsuppressed.lower[0][wide] > 20)
    assert np.all(np.isnan(result.expectancy[0][wide]))


def test_life_tables_blank_undefined_areas_without_stopping() -> None:
    deaths, population = _areas(3, 20_000)
    deaths[1, -1] = 0
    deaths[2, 3] = population[2, 3] + 1
    result = life_tables(deaths, population)
    assert np.all(result.note[1] == NOTE_NO_OPEN_DEATHS)
    assert np.all(result.note[2] == NOTE_DEATHS_EXCEED)
    assert np.all(np.isfinite(result.expectancy[0]))


def test_life_tables_with_an_85_plus_open_band() -> None:
    deaths, population = _areas(2, 20_000)
    d85 = np.c_[deaths[:, :18], deaths[:, 18:].sum(axis=1)]
    p85 = np.c_[population[:, :18], population[:, 18:].sum(axis=1)]
    result = life_tables(d85, p85, age_starts=OLDER_AGE_STARTS)
    assert result.expectancy.shape == (2, 19)
    full = life_tables(deaths, population)
    np.testing.assert_allclose(result.expectancy[:, 0], full.expectancy[:, 0], atol=0.5)


def test_life_tables_refuse_negative_numbers() -> None:
    deaths, population = _areas(1, 20_000)
    with pytest.raises(ValueError, match=">= 0"):
        life_tables(-deaths, population)

"""Years of life lost before 75 (no fixture in the reference set: checked by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from joinedup.population.yll import standardised_yll_rate, years_lost_per_death, years_of_life_lost


def test_yll_per_death_is_limit_minus_band_midpoint() -> None:
    np.testing.assert_allclose(
        years_lost_per_death([0, 60, 75, 90], [4, 64, 79, 120]), [72.5, 12.5, 0, 0]
    )


def test_yll_totals_by_area() -> None:
    result = years_of_life_lost([[2, 1, 5], [0, 0, 9]], [0, 60, 75], [4, 64, 79])
    np.testing.assert_allclose(result, [2 * 72.5 + 12.5, 0])


def test_standardised_yll_rate_of_uniform_rates() -> None:
    # Every band under 75 loses 0.01 years per head: the standardised rate is 100 per 10,000.
    starts, ends = [0, 60, 75], [4, 64, 79]
    deaths = np.array([[0.01 / 72.5 * 1000, 0.01 / 12.5 * 1000, 50]])
    rate = standardised_yll_rate(
        deaths, np.full((1, 3), 1000.0), starts, ends, standard=[5000, 6000, 4000]
    )
    assert rate[0] == pytest.approx(100.0)

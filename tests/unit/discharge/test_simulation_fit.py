"""Fitting inputs from the record: Poisson rates and lengths of stay."""

from __future__ import annotations

import numpy as np
import pytest

from joinedup.discharge.simulation import empirical, fit_exponential, fit_lognormal, poisson_rate
from joinedup.errors import InvalidInput


def test_poisson_rate_is_the_mean_count_with_an_exact_interval() -> None:
    fit = poisson_rate([9, 11, 10, 8, 12], days_per_count=1.0)
    assert fit.per_day == pytest.approx(10.0)
    assert fit.low < 10.0 < fit.high
    # Garwood limits for 50 events over 5 days (published table: 37.11, 65.92).
    assert fit.low * 5 == pytest.approx(37.11, abs=0.01)
    assert fit.high * 5 == pytest.approx(65.92, abs=0.01)


def test_poisson_rate_over_weeks_is_per_day() -> None:
    assert poisson_rate([70, 63], days_per_count=7).per_day == pytest.approx(9.5)


def test_lognormal_fit_recovers_mean_and_cv() -> None:
    rng = np.random.default_rng(8)
    sigma2 = np.log1p(2.0**2)
    stays = rng.lognormal(np.log(10.0) - sigma2 / 2, np.sqrt(sigma2), 200_000)
    fit = fit_lognormal(stays.tolist())
    assert fit.mean_days == pytest.approx(10.0, rel=0.03)
    assert fit.cv == pytest.approx(2.0, rel=0.03)


def test_exponential_and_empirical_fits() -> None:
    assert fit_exponential([1.0, 2.0, 3.0]).mean_days == pytest.approx(2.0)
    dist = empirical([0.0, 2.0, 4.0])
    draws = dist.quantile(np.random.default_rng(1).random(30_000))
    assert set(np.unique(draws).tolist()) == {0.0, 2.0, 4.0}
    assert draws.mean() == pytest.approx(2.0, rel=0.03)


@pytest.mark.parametrize(
    "call",
    [
        lambda: poisson_rate([]),
        lambda: poisson_rate([1.5, 2]),
        lambda: poisson_rate([0, 0]),
        lambda: fit_lognormal([0.0, 3.0]),
        lambda: fit_lognormal([3.0, 3.0]),
        lambda: fit_exponential([1.0]),
        lambda: empirical([-1.0, 2.0]),
    ],
)
def test_fits_reject_nonsense(call: object) -> None:
    with pytest.raises(InvalidInput):
        call()  # type: ignore[operator]

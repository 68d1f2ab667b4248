"""Fitting the simulator's inputs from the record: arrival rates and lengths of stay.

``poisson_rate`` turns counts of referrals per day into a rate with an exact interval;
``fit_lognormal`` and ``fit_exponential`` are maximum-likelihood fits to observed stays;
``empirical`` resamples the stays themselves (no shape assumed). Inputs are plain
numbers (days, counts); reading them from the record is the Django layer's job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaincinv  # type: ignore[import-untyped]

from joinedup.discharge.simulation.stays import Empirical, Exponential, Lognormal
from joinedup.errors import InvalidInput


@dataclass(frozen=True)
class RateFit:
    """Arrivals per day with its exact (Garwood) 95% interval."""

    per_day: float
    low: float
    high: float
    days: float
    events: int


def poisson_rate(counts: Sequence[float], *, days_per_count: float = 1.0) -> RateFit:
    """The Poisson rate per day from counts over equal periods (e.g. referrals a day)."""
    values = np.asarray(counts, dtype=np.float64)
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise InvalidInput("arrival counts must be a non-empty list of counts", where="counts")
    if np.any(values != np.round(values)):
        raise InvalidInput("arrival counts must be whole numbers", where="counts")
    if not days_per_count > 0:
        raise InvalidInput("days_per_count must be positive", where="counts")
    events, days = int(values.sum()), float(values.size * days_per_count)
    if events == 0:
        raise InvalidInput("no arrivals in the counts: the rate would be zero", where="counts")
    # Garwood: chi2(0.025; 2k)/2 and chi2(0.975; 2k+2)/2, as gamma quantiles.
    low = float(gammaincinv(events, 0.025))
    high = float(gammaincinv(events + 1, 0.975))
    return RateFit(events / days, low / days, high / days, days, events)


def fit_exponential(stays_days: Sequence[float]) -> Exponential:
    """Maximum likelihood: the mean stay."""
    values = _stays(stays_days, positive=False)
    return Exponential(float(values.mean()))


def fit_lognormal(stays_days: Sequence[float]) -> Lognormal:
    """Maximum likelihood on log stays, returned as mean and coefficient of variation."""
    values = _stays(stays_days, positive=True)
    logs = np.log(values)
    mu, sigma2 = float(logs.mean()), float(logs.var())
    if sigma2 <= 0:
        raise InvalidInput("every stay is the same: use a fixed or empirical stay", where="stays")
    return Lognormal(math.exp(mu + sigma2 / 2), math.sqrt(math.expm1(sigma2)))


def empirical(stays_days: Sequence[float]) -> Empirical:
    """Resample the observed stays."""
    return Empirical(tuple(_stays(stays_days, positive=False).tolist()))


def _stays(
    stays_days: Sequence[float], *, positive: bool
) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
    values = np.asarray(stays_days, dtype=np.float64).reshape(-1)
    if values.size < 2:
        raise InvalidInput("need at least two stays to fit a distribution", where="stays")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise InvalidInput("stays must be finite and not negative", where="stays")
    if positive and np.any(values <= 0):
        raise InvalidInput(
            "a lognormal needs every stay above zero (use empirical for same-day stays)",
            where="stays",
        )
    if values.sum() <= 0:
        raise InvalidInput("every stay is zero", where="stays")
    return values

"""Years of life lost (YLL) before a limit age, 75 by default.

Each death before the limit counts the years between the middle of its age band
and the limit (a death in band 60-64 loses 75 - 62.5 = 12.5 years); deaths at or
past the limit lose none. The age-standardised YLL rate weights each band's years
lost per head by a standard population (ESP2013) restricted to the bands under the
limit, per 10,000 by convention.

Arrays in (areas x bands), arrays out. This module must never read files or know
about Django.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from joinedup.population.rates import FloatArray

YLL_LIMIT: Final = 75.0


def years_lost_per_death(
    age_starts: npt.ArrayLike, age_ends: npt.ArrayLike, *, limit: float = YLL_LIMIT
) -> FloatArray:
    """Years lost by one death in each band: limit minus the band's midpoint, at least 0.

    `age_ends` is the last whole year in the band (4 for 0-4), so 0-4's midpoint is 2.5.
    """
    start = np.asarray(age_starts, dtype=np.float64)
    end = np.asarray(age_ends, dtype=np.float64)
    if start.shape != end.shape or np.any(end < start):
        raise ValueError("each age band must end at or after it starts")
    return np.asarray(np.clip(limit - (start + end + 1) / 2, 0, None), dtype=np.float64)


def years_of_life_lost(
    deaths: npt.ArrayLike,
    age_starts: npt.ArrayLike,
    age_ends: npt.ArrayLike,
    *,
    limit: float = YLL_LIMIT,
) -> FloatArray:
    """Total years lost before `limit` for each area (row of deaths by band)."""
    d = np.atleast_2d(np.asarray(deaths, dtype=np.float64))
    if np.any(d < 0) or not np.isfinite(d).all():
        raise ValueError("deaths must be numbers >= 0")
    per_death = years_lost_per_death(age_starts, age_ends, limit=limit)
    return np.asarray((d * per_death).sum(axis=1), dtype=np.float64)


def standardised_yll_rate(
    deaths: npt.ArrayLike,
    population: npt.ArrayLike,
    age_starts: npt.ArrayLike,
    age_ends: npt.ArrayLike,
    *,
    standard: npt.ArrayLike,
    limit: float = YLL_LIMIT,
    multiplier: float = 10_000,
) -> FloatArray:
    """Directly age-standardised YLL rate per `multiplier`, bands under the limit only."""
    d = np.atleast_2d(np.asarray(deaths, dtype=np.float64))
    n = np.atleast_2d(np.asarray(population, dtype=np.float64))
    per_death = years_lost_per_death(age_starts, age_ends, limit=limit)
    w = np.where(per_death > 0, np.asarray(standard, dtype=np.float64), 0.0)
    if d.shape != n.shape or w.shape != (d.shape[1],) or np.any(n[:, per_death > 0] <= 0):
        raise ValueError(
            "deaths and population must be areas x bands, population > 0 under the limit"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        band_rate = np.where(per_death > 0, d * per_death / n, 0.0)
    return np.asarray((band_rate * w).sum(axis=1) / w.sum() * multiplier, dtype=np.float64)

"""Abridged life tables by the Chiang II method, with Silcocks' variance.

This is the method OHID (formerly PHE) and ONS use for life expectancy in England:
age bands 0, 1-4, 5-9, ..., 85-89, 90+; the fraction of the interval lived by those
who die is 0.1 in the first year of life and 0.5 elsewhere; the probability of dying
in the open band is 1. The variance sums Chiang's terms over the closed bands and
adds Silcocks' term for the open band, which treats its deaths as Poisson. The
confidence interval is the estimate plus or minus z times the standard error.

Written from the published method descriptions (Chiang 1984; Silcocks, Jenner and
Reza 2001; PHE Technical Guide: Life expectancy and healthy life expectancy).

It must never read or write files or depend on Django: arrays in, a dataclass out.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

STANDARD_AGE_STARTS: tuple[int, ...] = (0, 1, *range(5, 95, 5))
"""Start of each band: 0, 1, 5, 10, ..., 85, 90 (the last band is open, 90+)."""

RADIX = 100_000.0
INFANT_FRACTION = 0.1
OTHER_FRACTION = 0.5


@dataclass(frozen=True)
class LifeTable:
    """Life expectancy at the start of each band, with confidence limits."""

    age_start: npt.NDArray[np.int64]
    expectancy: npt.NDArray[np.float64]
    lower: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    variance: npt.NDArray[np.float64]
    survivors: npt.NDArray[np.float64]  # l_x, per RADIX births
    confidence: float

    @property
    def at_birth(self) -> float:
        """Life expectancy at birth."""
        return float(self.expectancy[0])


def _validate(
    deaths: npt.NDArray[np.float64],
    population: npt.NDArray[np.float64],
    starts: npt.NDArray[np.int64],
) -> None:
    """Refuse inputs the method is not defined for, saying why."""
    if deaths.shape != population.shape or deaths.shape != starts.shape:
        raise ValueError("deaths, population and age bands must have the same length")
    if starts[0] != 0 or np.any(np.diff(starts) <= 0):
        raise ValueError("age bands must start at 0 and increase")
    if np.any(deaths < 0) or np.any(population <= 0):
        raise ValueError("deaths must be >= 0 and population > 0 in every band")
    if np.any(deaths > population):
        raise ValueError("deaths cannot exceed population in a band")
    if deaths[-1] <= 0:
        raise ValueError("the open age band needs at least one death")


def life_table(
    deaths: npt.ArrayLike,
    population: npt.ArrayLike,
    *,
    age_starts: tuple[int, ...] = STANDARD_AGE_STARTS,
    confidence: float = 0.95,
) -> LifeTable:
    """Chiang II abridged life table from deaths and mid-year population by band.

    `population` is person-years at risk (a mid-year population, or the sum of
    several years' mid-year populations when deaths are pooled over those years).
    """
    d = np.asarray(deaths, dtype=np.float64)
    p = np.asarray(population, dtype=np.float64)
    starts = np.asarray(age_starts, dtype=np.int64)
    _validate(d, p, starts)
    width = np.r_[np.diff(starts), 0].astype(np.float64)
    a = np.where(starts == 0, INFANT_FRACTION, OTHER_FRACTION)
    rate = d / p
    q = np.ones_like(rate)
    closed = slice(0, -1)
    q[closed] = width[closed] * rate[closed] / (1 + width[closed] * (1 - a[closed]) * rate[closed])
    survivors = RADIX * np.r_[1.0, np.cumprod(1 - q[:-1])]
    dying = survivors * q
    lived = np.empty_like(rate)
    lived[closed] = width[closed] * (survivors[1:] + a[closed] * dying[closed])
    lived[-1] = survivors[-1] / rate[-1]
    remaining = np.cumsum(lived[::-1])[::-1]
    expectancy = remaining / survivors
    variance = _variance(d, rate, q, width, a, survivors, expectancy)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    half = z * np.sqrt(variance)
    return LifeTable(
        starts, expectancy, expectancy - half, expectancy + half, variance, survivors, confidence
    )


def _variance(
    deaths: npt.NDArray[np.float64],
    rate: npt.NDArray[np.float64],
    q: npt.NDArray[np.float64],
    width: npt.NDArray[np.float64],
    a: npt.NDArray[np.float64],
    survivors: npt.NDArray[np.float64],
    expectancy: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Chiang's variance over closed bands plus Silcocks' term for the open band."""
    with np.errstate(divide="ignore", invalid="ignore"):
        var_q = np.where(deaths > 0, q**2 * (1 - q) / deaths, 0.0)
    closed_terms = (
        survivors[:-1] ** 2 * ((1 - a[:-1]) * width[:-1] + expectancy[1:]) ** 2 * var_q[:-1]
    )
    open_term = survivors[-1] ** 2 / rate[-1] ** 4 * (rate[-1] ** 2 / deaths[-1])
    terms = np.r_[closed_terms, open_term]
    tail = np.cumsum(terms[::-1])[::-1]
    return tail / survivors**2

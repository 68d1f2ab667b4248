"""Estimates across replications: means with 95% confidence intervals, delay bands.

Each replication yields one number per measure (say, its mean delay); replications are
independent, so the interval is the Student-t interval of those numbers. Nothing inside
a replication is treated as independent (waits of successive patients are correlated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.special import stdtrit  # type: ignore[import-untyped]  # scipy.stats is slow to import

FloatArray = NDArray[np.float64]

# Delay bands in whole days (a delay of 2.7 days is in "2-3"): lower edges of each band.
BAND_LABELS: Final[tuple[str, ...]] = ("0", "1", "2-3", "4-6", "7-13", "14-20", "21+")
BAND_EDGES: Final[FloatArray] = np.array([0.0, 1.0, 2.0, 4.0, 7.0, 14.0, 21.0])


@dataclass(frozen=True)
class Estimate:
    """A mean across replications with its standard error and 95% confidence interval."""

    mean: float
    low: float
    high: float
    se: float
    replications: int

    def as_dict(self) -> dict[str, object]:
        return {"mean": self.mean, "ci95": [self.low, self.high], "se": self.se}


def estimate(values: FloatArray) -> Estimate:
    """Mean and t-interval of per-replication values (NaN replications are left out)."""
    finite = values[np.isfinite(values)]
    n = int(finite.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(finite.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, math.nan, 1)
    se = float(finite.std(ddof=1) / math.sqrt(n))
    half = float(stdtrit(n - 1, 0.975)) * se
    return Estimate(mean, mean - half, mean + half, se, n)


def ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Per-replication ratio, NaN where the denominator is zero."""
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def band_index(delays: FloatArray) -> NDArray[np.int64]:
    """The delay band (0..6) of each delay in days."""
    return np.searchsorted(BAND_EDGES, delays, side="right").astype(np.int64) - 1

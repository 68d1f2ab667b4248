"""Counts, crude rates, proportions and means with their confidence intervals.

The building blocks of the official English public-health indicator methods:
exact Poisson limits (chi-squared form) for small counts, Byars' approximation for
counts of 10 or more, Wilson score limits for proportions and Student's t limits for
means. Written from the published descriptions (Breslow & Day 1987 for Byars;
Wilson 1927; the PHE/OHID Technical Guide on confidence intervals).

Everything is vectorised: arrays in, arrays out, any shape. Missing inputs (NaN)
give missing outputs. This module must never read files, print, or know about
areas, Django or the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import stats  # type: ignore[import-untyped]  # no scipy-stubs in the lock yet

FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]

EXACT_BELOW: Final = 10
"""Counts under this use exact Poisson limits; Byars is accurate from here up."""


@dataclass(frozen=True)
class Estimate:
    """An indicator value with its confidence limits (NaN where undefined)."""

    value: FloatArray
    lower: FloatArray
    upper: FloatArray
    confidence: float
    method: StrArray

    def __len__(self) -> int:
        return int(self.value.size)


def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile, e.g. 1.96 for 0.95."""
    _check_confidence(confidence)
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _check_confidence(confidence: float) -> None:
    """Refuse a confidence that is not a probability; 95 instead of 0.95 is common."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}")


def _as_float(values: npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def byars_lower(count: npt.ArrayLike, confidence: float = 0.95) -> FloatArray:
    """Byars' lower limit of a Poisson count; NaN where the cube root goes negative.

    The approximation breaks down for tiny counts at high confidence (1 event at
    99.8%), where the published tables leave the limit blank rather than invent one.
    """
    o = _as_float(count)
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = 1 - 1 / (9 * o) - z / (3 * np.sqrt(o))
    return np.where(base > 0, o * base**3, np.nan)


def byars_upper(count: npt.ArrayLike, confidence: float = 0.95) -> FloatArray:
    """Byars' upper limit of a Poisson count (computed at count + 1)."""
    o1 = _as_float(count) + 1
    z = z_value(confidence)
    return o1 * (1 - 1 / (9 * o1) + z / (3 * np.sqrt(o1))) ** 3


def exact_lower(count: npt.ArrayLike, confidence: float = 0.95) -> FloatArray:
    """Exact (Garwood) Poisson lower limit: half the chi-squared quantile on 2x df."""
    o = _as_float(count)
    alpha = 1 - confidence
    _check_confidence(confidence)
    with np.errstate(invalid="ignore"):
        limit = stats.chi2.ppf(alpha / 2, 2 * o) / 2
    return np.where(o == 0, 0.0, limit)


def exact_upper(count: npt.ArrayLike, confidence: float = 0.95) -> FloatArray:
    """Exact (Garwood) Poisson upper limit: half the chi-squared quantile on 2x+2 df."""
    o = _as_float(count)
    _check_confidence(confidence)
    return np.asarray(stats.chi2.ppf(0.5 + confidence / 2, 2 * o + 2) / 2, dtype=np.float64)


def poisson_limits(
    count: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray, StrArray]:
    """Limits of a Poisson count: exact under 10 events, Byars from 10 up."""
    o = _as_float(count)
    exact = o < EXACT_BELOW
    safe = np.where(exact, EXACT_BELOW, o)  # keeps Byars away from 0 where unused
    lower = np.where(
        exact, exact_lower(np.where(exact, o, 0), confidence), byars_lower(safe, confidence)
    )
    upper = np.where(
        exact, exact_upper(np.where(exact, o, 0), confidence), byars_upper(safe, confidence)
    )
    method = np.where(np.isnan(o), "", np.where(exact, "Exact", "Byars"))
    missing = np.isnan(o)
    return np.where(missing, np.nan, lower), np.where(missing, np.nan, upper), method


def _check_counts(name: str, values: FloatArray) -> None:
    if np.any(values < 0):
        raise ValueError(f"{name} must not be negative")


def crude_rate(
    count: npt.ArrayLike,
    denominator: npt.ArrayLike,
    *,
    multiplier: float = 100_000,
    confidence: float = 0.95,
) -> Estimate:
    """Events per `multiplier` population, with exact/Byars Poisson limits.

    The count may exceed the denominator (repeat events, person-years); a zero or
    missing denominator gives a missing rate rather than an infinite one.
    """
    o, n = _as_float(count), _as_float(denominator)
    _check_counts("counts", o)
    _check_counts("denominators", n)
    lower, upper, method = poisson_limits(o, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 0, multiplier / n, np.nan)
    return Estimate(o * scale, lower * scale, upper * scale, confidence, method)


def wilson_limits(
    numerator: npt.ArrayLike, denominator: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score limits of the proportion numerator/denominator (as a fraction)."""
    x, n = _as_float(numerator), _as_float(denominator)
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        centre = 2 * x + z**2
        spread = z * np.sqrt(z**2 + 4 * x * (1 - p))
        scale = 2 * (n + z**2)
        return (centre - spread) / scale, (centre + spread) / scale


def proportion(
    numerator: npt.ArrayLike,
    denominator: npt.ArrayLike,
    *,
    multiplier: float = 1,
    confidence: float = 0.95,
) -> Estimate:
    """A proportion (times `multiplier`, e.g. 100 for a percentage) with Wilson limits."""
    x, n = _as_float(numerator), _as_float(denominator)
    _check_counts("numerators", x)
    if np.any(n <= 0):
        raise ValueError("denominators must be greater than 0")
    if np.any(x > n):
        raise ValueError("a numerator cannot exceed its denominator")
    lower, upper = wilson_limits(x, n, confidence)
    method = np.full(x.shape, "Wilson")
    return Estimate(x / n * multiplier, lower * multiplier, upper * multiplier, confidence, method)


def mean(
    value_sum: npt.ArrayLike,
    value_count: npt.ArrayLike,
    stdev: npt.ArrayLike,
    *,
    confidence: float = 0.95,
) -> Estimate:
    """Means from per-group sums, counts and sample SDs, with Student's t limits."""
    total, n, sd = _as_float(value_sum), _as_float(value_count), _as_float(stdev)
    if np.any(n < 2):
        raise ValueError("a mean's interval needs at least 2 values")
    _check_confidence(confidence)
    t = stats.t.ppf(0.5 + confidence / 2, n - 1)
    half = t * sd / np.sqrt(n)
    value = total / n
    return Estimate(value, value - half, value + half, confidence, np.full(n.shape, "t"))


def mean_of(values: npt.ArrayLike, *, confidence: float = 0.95) -> Estimate:
    """The mean of one group's raw values, with Student's t limits."""
    v = _as_float(values)
    v = v[~np.isnan(v)]
    return mean(v.sum(), v.size, v.std(ddof=1) if v.size > 1 else np.nan, confidence=confidence)

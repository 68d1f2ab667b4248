"""Funnel-plot control limits and each area's significance against them.

Spiegelhalter's funnel plot (2005) draws, for every size of area, the range an
area's indicator would fall in by chance if its true value were the baseline: about
2 standard deviations (95%, "2s") and 3 (99.8%, "3s"). For proportions the limits
use the normal approximation to the binomial about the baseline, clipped to 0..1.
For rates and ratios they use exact Poisson limits: at each number of events on the
axis, the population (or expected count) at which that count would sit exactly on
the 95% or 99.8% limit. Area significance is read from the same limits.

Arrays in, arrays out. This module must never draw, read files or know about Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from joinedup.population.rates import FloatArray, exact_lower, exact_upper, z_value

TWO_SIGMA: Final = 0.95
THREE_SIGMA: Final = 0.998


@dataclass(frozen=True)
class Limits:
    """Lower and upper control limits at 95% (2s) and 99.8% (3s)."""

    lower_2s: FloatArray
    upper_2s: FloatArray
    lower_3s: FloatArray
    upper_3s: FloatArray


def proportion_limits(
    denominators: npt.ArrayLike, baseline: float, *, multiplier: float = 100
) -> Limits:
    """Limits for a proportion `baseline` (a fraction) at each denominator on the axis."""
    n = np.asarray(denominators, dtype=np.float64)
    if not 0 <= baseline <= 1:
        raise ValueError("the baseline proportion must be between 0 and 1")

    def limit(confidence: float, sign: float) -> FloatArray:
        spread = z_value(confidence) * np.sqrt(baseline * (1 - baseline) / n)
        return np.asarray(np.clip(baseline + sign * spread, 0, 1) * multiplier, dtype=np.float64)

    return Limits(
        limit(TWO_SIGMA, -1), limit(TWO_SIGMA, 1), limit(THREE_SIGMA, -1), limit(THREE_SIGMA, 1)
    )


@dataclass(frozen=True)
class RateLimits:
    """Rate limits at each event count, and the population that puts it there."""

    limits: Limits
    populations: Limits  # per year of data: population / years


def rate_limits(
    events: npt.ArrayLike, baseline: float, *, multiplier: float = 100_000, years: float = 1
) -> RateLimits:
    """Exact Poisson limits for a rate `baseline` (per `multiplier`) at each event count.

    The lower limit at x events is where x is the top of the chance range of a
    population expected to have more: population = upper(x) / baseline rate.
    """
    x = np.asarray(events, dtype=np.float64)
    rate = baseline / multiplier
    pops = {
        (c, side): bound(x, c) / rate
        for c in (TWO_SIGMA, THREE_SIGMA)
        for side, bound in (("lower", exact_upper), ("upper", exact_lower))
    }
    keys = [
        (TWO_SIGMA, "lower"),
        (TWO_SIGMA, "upper"),
        (THREE_SIGMA, "lower"),
        (THREE_SIGMA, "upper"),
    ]
    with np.errstate(divide="ignore"):
        limits = [x / pops[k] * multiplier for k in keys]
    return RateLimits(Limits(*limits), Limits(*(pops[k] / years for k in keys)))


def ratio_limits(observed: npt.ArrayLike) -> Limits:
    """Expected counts at which each observed count sits on the 2s and 3s limits.

    Divide observed by these (times 100) for the ISR-style limits of the plot.
    """
    o = np.asarray(observed, dtype=np.float64)
    return Limits(
        exact_upper(o, TWO_SIGMA),
        exact_lower(o, TWO_SIGMA),
        exact_upper(o, THREE_SIGMA),
        exact_lower(o, THREE_SIGMA),
    )


def significance(value: npt.ArrayLike, limits: Limits) -> npt.NDArray[np.str_]:
    """ "High (0.001)", "High (0.025)", "Low (...)" or "Not significant" per area.

    `limits` are each area's own limits (at its own denominator or expected count).
    """
    v = np.asarray(value, dtype=np.float64)
    out = np.full(v.shape, "Not significant", dtype="<U16")
    out[v > limits.upper_2s] = "High (0.025)"
    out[v < limits.lower_2s] = "Low (0.025)"
    out[v > limits.upper_3s] = "High (0.001)"
    out[v < limits.lower_3s] = "Low (0.001)"
    return out


def proportion_significance(
    numerator: npt.ArrayLike, denominator: npt.ArrayLike, baseline: float | None = None
) -> npt.NDArray[np.str_]:
    """Each area's proportion against the limits at its own denominator.

    The baseline defaults to the pooled proportion of all areas.
    """
    x, n = np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)
    p = float(x.sum() / n.sum()) if baseline is None else baseline
    return significance(x / n, proportion_limits(n, p, multiplier=1))


def ratio_significance(observed: npt.ArrayLike, expected: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Each area's observed count against the exact limits of its expected count.

    An area is high at 99.8% when its expected count is below the smallest expected
    count for which its observed count would still be within chance.
    """
    o, e = np.asarray(observed, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    edges = ratio_limits(o)
    flipped = Limits(-edges.lower_2s, -edges.upper_2s, -edges.lower_3s, -edges.upper_3s)
    return significance(-e, flipped)

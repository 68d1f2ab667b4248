"""Inequality across deprivation: quantiles by rank, and the slope and relative indices.

`quantiles_by_rank` assigns areas to deprivation (or any) quantiles the way the
OHID fingertips tools do: rank within each group (ties share the lowest rank), then
quantile = n + 1 - ceil((N + 1 - rank) x n / N) for n quantiles of N ranked areas.

`slope_index` is the slope index of inequality (SII) and relative index (RII) of
Low & Low (2004) as used by OHID: each quantile sits at the midpoint of its share
of the cumulative population (quantile 1, the most deprived, nearest 0); a
population-weighted least-squares line through the (optionally log or logit
transformed) values gives the SII as the fitted difference from rank 0 to rank 1
(positive when the least deprived end is higher) and the RII as their ratio.
Confidence limits are simulated: every quantile's value is redrawn from a normal
distribution with its standard error and the line refitted, `reps` times.

Because the fitted intercept and slope are linear in the values, each replicate's
(intercept, slope) pair is drawn directly from its exact bivariate normal
distribution: the same distribution as refitting redrawn values, at a fraction of
the cost. Randomness only through the caller's `numpy.random.Generator`; this
module must never seed a global generator, read files or know about Django.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from joinedup.population.rates import FloatArray, z_value

Transform = Literal["none", "log", "logit"]
_Fn = Callable[[FloatArray], FloatArray]
TRANSFORMS: Final = ("none", "log", "logit")
GROUPS_PER_BATCH: Final = 16  # bounds memory at about 16 x reps x 8 bytes per array


def quantiles_by_rank(
    values: npt.ArrayLike,
    nquantiles: int,
    *,
    groups: npt.ArrayLike | None = None,
    highest_first: bool = True,
) -> FloatArray:
    """Quantile 1..n of each value within its group; NaN where the value is missing.

    A group with fewer values than quantiles gets none (NaN): some quantiles would
    be empty and the others would not mean what their number says.

    `highest_first` (the default, for e.g. IMD scores where higher is more deprived)
    gives the highest value rank 1 and so quantile 1.
    """
    v = np.asarray(values, dtype=np.float64)
    g = np.zeros(v.shape, dtype=np.int64) if groups is None else _codes(groups)
    if nquantiles < 1:
        raise ValueError("the number of quantiles must be at least 1")
    out = np.full(v.shape, np.nan)
    for code in np.unique(g):
        members = np.flatnonzero((g == code) & ~np.isnan(v))
        if members.size >= nquantiles:  # too few areas to fill every quantile: none
            out[members] = _quantile_of(v[members], nquantiles, highest_first)
    return out


def _codes(groups: npt.ArrayLike) -> npt.NDArray[np.int64]:
    _, codes = np.unique(np.asarray(groups), return_inverse=True)
    return np.asarray(codes, dtype=np.int64).reshape(-1)


def _quantile_of(values: FloatArray, nquantiles: int, highest_first: bool) -> FloatArray:
    """Min-rank the values, then map ranks to quantiles in exact integer arithmetic."""
    key = -values if highest_first else values
    order = np.sort(key)
    rank = np.searchsorted(order, key, side="left") + 1  # ties take the lowest rank
    n = values.size
    steps = -((-(n + 1 - rank) * nquantiles) // n)  # ceil without floating error
    return (nquantiles + 1 - steps).astype(np.float64)


@dataclass(frozen=True)
class Inequality:
    """SII and RII per group, with simulated confidence limits."""

    sii: FloatArray
    sii_lower: FloatArray
    sii_upper: FloatArray
    rii: FloatArray
    rii_lower: FloatArray
    rii_upper: FloatArray
    confidence: float
    reps: int


def relative_ranks(population: npt.ArrayLike) -> FloatArray:
    """Midpoint of each quantile's share of the cumulative population, per row."""
    p = np.atleast_2d(np.asarray(population, dtype=np.float64))
    share = p / p.sum(axis=1, keepdims=True)
    return np.asarray(np.cumsum(share, axis=1) - share / 2, dtype=np.float64)


def se_from_limits(
    value: npt.ArrayLike,
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    transform: Transform = "none",
) -> FloatArray:
    """Standard error on the value's own scale recovered from its confidence limits.

    For log and logit the limits are symmetric on the transformed scale, so the SE
    is found there and mapped back by the delta method (what `slope_index` undoes).
    """
    v, lo, hi = (np.asarray(a, dtype=np.float64) for a in (value, lower, upper))
    z = z_value(confidence)
    forward, _, slope = _link(transform)
    return np.asarray((forward(hi) - forward(lo)) / (2 * z) / slope(v), dtype=np.float64)


def _link(transform: str) -> tuple[_Fn, _Fn, _Fn]:
    """(transform, inverse, derivative of the transform) for a transform name."""
    if transform == "log":
        return _log, _exp, _reciprocal
    if transform == "logit":
        return (
            lambda v: np.log(v / (1 - v)),
            lambda t: 1 / (1 + np.exp(-t)),
            lambda v: 1 / (v * (1 - v)),
        )
    if transform == "none":
        return _same, _same, _ones
    raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")


def _log(v: FloatArray) -> FloatArray:
    return np.log(v)


def _exp(t: FloatArray) -> FloatArray:
    return np.exp(t)


def _reciprocal(v: FloatArray) -> FloatArray:
    return 1 / v


def _same(v: FloatArray) -> FloatArray:
    return v


def _ones(v: FloatArray) -> FloatArray:
    return np.ones_like(v)


def slope_index(
    values: npt.ArrayLike,
    population: npt.ArrayLike,
    se: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    reps: int = 100_000,
    confidence: float = 0.95,
    transform: Transform = "none",
) -> Inequality:
    """SII and RII for each group (row of groups x quantiles, quantile 1 first)."""
    v, p, s = _inequality_inputs(values, population, se, transform)
    if reps < 10:
        raise ValueError("at least 10 simulations are needed for an interval")
    forward, inverse, slope = _link(transform)
    y, sd = forward(v), s * slope(v)
    c, d = _coefficients(relative_ranks(p), p)
    b, a = (c * y).sum(axis=1), (d * y).sum(axis=1)
    sii, rii = _indices(a, b, inverse)
    limits = _simulate(a, b, c, d, sd, rng=rng, reps=reps, confidence=confidence, inverse=inverse)
    return Inequality(sii, limits[0], limits[1], rii, limits[2], limits[3], confidence, reps)


def _inequality_inputs(
    values: npt.ArrayLike, population: npt.ArrayLike, se: npt.ArrayLike, transform: str
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Refuse inputs the regression is not defined for, saying which and why."""
    v, p, s = (np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in (values, population, se))
    if not (v.shape == p.shape == s.shape) or v.shape[1] < 2:
        raise ValueError("values, population and se must be groups x quantiles (2 or more)")
    if not (np.isfinite(v).all() and np.isfinite(p).all() and np.isfinite(s).all()):
        raise ValueError("values, population and se must all be present")
    if np.any(p <= 0) or np.any(s < 0):
        raise ValueError("populations must be > 0 and standard errors >= 0")
    if transform == "log" and np.any(v <= 0):
        raise ValueError("a log transform needs values > 0")
    if transform == "logit" and np.any((v <= 0) | (v >= 1)):
        raise ValueError("a logit transform needs proportions strictly between 0 and 1")
    return v, p, s


def _coefficients(x: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Weights c, d with slope = c . y and intercept = d . y for weighted least squares."""
    share = w / w.sum(axis=1, keepdims=True)
    x_bar = (share * x).sum(axis=1, keepdims=True)
    centred = x - x_bar
    c = share * centred / (share * centred**2).sum(axis=1, keepdims=True)
    return c, share - x_bar * c


def _indices(a: FloatArray, b: FloatArray, inverse: _Fn) -> tuple[FloatArray, FloatArray]:
    """SII and RII from the fitted line at rank 0 (most deprived) and rank 1."""
    low, high = inverse(a), inverse(a + b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return high - low, high / low


def _simulate(
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    d: FloatArray,
    sd: FloatArray,
    *,
    rng: np.random.Generator,
    reps: int,
    confidence: float,
    inverse: _Fn,
) -> FloatArray:
    """Percentile limits of SII and RII over `reps` simulated refits, per group."""
    var_b, var_a, cov = ((c * sd) ** 2).sum(1), ((d * sd) ** 2).sum(1), (c * d * sd**2).sum(1)
    # Cholesky of [[var_a, cov], [cov, var_b]]; clip guards rounding to a tiny negative.
    l11 = np.sqrt(var_a)
    l21 = np.divide(cov, l11, out=np.zeros_like(cov), where=l11 > 0)
    l22 = np.sqrt(np.clip(var_b - l21**2, 0, None))
    probs = np.array([0.5 - confidence / 2, 0.5 + confidence / 2])
    out = np.empty((4, a.size))
    for start in range(0, a.size, GROUPS_PER_BATCH):
        rows = slice(start, start + GROUPS_PER_BATCH)
        z = rng.standard_normal((2, a[rows].size, reps))
        sim_a = a[rows, None] + l11[rows, None] * z[0]
        sim_b = b[rows, None] + l21[rows, None] * z[0] + l22[rows, None] * z[1]
        sii, rii = _indices(sim_a, sim_b, inverse)
        out[0:2, rows] = np.quantile(sii, probs, axis=1)
        out[2:4, rows] = np.quantile(rii, probs, axis=1)
    return out

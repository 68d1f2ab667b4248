"""Directly and indirectly standardised rates, with their confidence intervals.

Directly standardised rates (DSRs) weight each age band's crude rate by a standard
population (ESP2013 by default); their limits use Dobson et al. (1991), which scales
Byars' limits of the total count by the DSR's standard error. When one person can
have several events (admissions, say) the variance is inflated by the events per
person, following the OHID technical guidance on non-independent events. A DSR is
not published from fewer than 10 events.

Indirect standardisation compares an area's observed events with those expected
at a reference population's band rates: the ratio (SMR-style) and the rate (the
ratio times the reference crude rate), with exact/Byars limits on the observed.

Arrays in (areas x bands), dataclasses out. This module must never read files or
know about areas' names, Django or the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from joinedup.population.esp2013 import ESP2013_WEIGHTS
from joinedup.population.rates import Estimate, FloatArray, byars_lower, byars_upper, poisson_limits

DSR_MIN_EVENTS: Final = 10
"""DSRs from fewer events are suppressed: too unstable to publish."""

SUPPRESSED_NOTE: Final = "dsr NA for total count < 10"


def _two_d(name: str, values: npt.ArrayLike) -> FloatArray:
    """Areas x bands; a single area's 1-D bands become one row."""
    array = np.atleast_2d(np.asarray(values, dtype=np.float64))
    if array.ndim != 2:
        raise ValueError(f"{name} must be areas x age bands")
    if np.any(np.isnan(array)):
        raise ValueError(f"{name} has missing values")
    if np.any(array < 0):
        raise ValueError(f"{name} must not be negative")
    return array


def dsr(
    events: npt.ArrayLike,
    population: npt.ArrayLike,
    *,
    standard: npt.ArrayLike = ESP2013_WEIGHTS,
    multiplier: float = 100_000,
    confidence: float = 0.95,
    event_frequencies: npt.ArrayLike | None = None,
) -> Estimate:
    """DSR per `multiplier` for each area (row), with Dobson limits.

    `event_frequencies`, when given, is areas x bands x k: how many people had
    exactly 1, 2, ..., k events in the band. It switches on the adjustment for
    non-independent events; without it every event is assumed to be a different person.
    """
    o, n = _two_d("events", events), _two_d("population", population)
    w = np.asarray(standard, dtype=np.float64)
    _check_shapes(o, n, w)
    if np.any(n <= 0):
        raise ValueError("population must be greater than 0 in every age band")
    weight = w / w.sum()
    value = (weight * o / n).sum(axis=1)
    event_variance = o if event_frequencies is None else _repeat_variance(event_frequencies, o)
    variance = (weight**2 * event_variance / n**2).sum(axis=1)
    return _dobson(value, variance, o.sum(axis=1), multiplier, confidence, event_frequencies)


def _check_shapes(o: FloatArray, n: FloatArray, w: FloatArray) -> None:
    if o.shape != n.shape:
        raise ValueError("events and population must have the same shape")
    if w.shape != (o.shape[1],) or np.any(w < 0) or not np.isfinite(w).all():
        raise ValueError(f"the standard population needs {o.shape[1]} weights, none negative")


def _repeat_variance(event_frequencies: npt.ArrayLike, events: FloatArray) -> FloatArray:
    """Sum over people of their events squared: the variance of a band's event count.

    A person with k events contributes k^2 rather than k, which widens the interval
    when events cluster in fewer people.
    """
    f = np.nan_to_num(np.asarray(event_frequencies, dtype=np.float64))
    if f.ndim == 2:
        f = f[np.newaxis]
    if f.shape[:2] != events.shape or np.any(f < 0):
        raise ValueError("event frequencies must be areas x bands x k and not negative")
    k = np.arange(1, f.shape[2] + 1, dtype=np.float64)
    if not np.allclose((f * k).sum(axis=2), events):
        raise ValueError("event frequencies do not add up to the events in each band")
    return np.asarray((f * k**2).sum(axis=2), dtype=np.float64)


def _dobson(
    value: FloatArray,
    variance: FloatArray,
    total: FloatArray,
    multiplier: float,
    confidence: float,
    event_frequencies: npt.ArrayLike | None,
) -> Estimate:
    """Dobson limits: DSR + sqrt(var / O) x (Byars limit of O - O); suppressed under 10."""
    shown = total >= DSR_MIN_EVENTS
    safe_total = np.where(shown, total, DSR_MIN_EVENTS)
    scale = np.sqrt(variance / safe_total)
    lower = value + scale * (byars_lower(safe_total, confidence) - safe_total)
    upper = value + scale * (byars_upper(safe_total, confidence) - safe_total)
    method = "Dobson" if event_frequencies is None else "Dobson, non-independent events"
    labels = np.where(shown, method, SUPPRESSED_NOTE)

    def out(values: FloatArray) -> FloatArray:
        return np.where(shown, values * multiplier, np.nan)

    return Estimate(out(value), out(lower), out(upper), confidence, labels)


@dataclass(frozen=True)
class Indirect:
    """Indirect standardisation of each area against a reference population."""

    observed: FloatArray
    expected: FloatArray
    reference_rate: FloatArray  # reference events per `multiplier` population
    ratio: Estimate  # observed / expected, times the ratio multiplier
    rate: Estimate  # ratio x reference crude rate, per `multiplier`


def indirect(
    observed: npt.ArrayLike,
    population: npt.ArrayLike,
    reference_events: npt.ArrayLike,
    reference_population: npt.ArrayLike,
    *,
    multiplier: float = 100_000,
    ratio_multiplier: float = 1,
    confidence: float = 0.95,
) -> Indirect:
    """Indirectly standardised ratio and rate per area (row) from band populations.

    `observed` is each area's total events (or areas x bands, which is summed).
    A band with zero population is allowed and simply expects no events.
    """
    n = _two_d("population", population)
    obs = np.asarray(observed, dtype=np.float64)
    o = obs.reshape(n.shape).sum(axis=1) if obs.size == n.size and n.shape[1] > 1 else obs
    ref_o, ref_n = _reference(reference_events, reference_population, n.shape[1])
    expected = (n * ref_o / ref_n).sum(axis=1)
    lower, upper, method = poisson_limits(o, confidence)
    ref_rate = np.full(o.shape, ref_o.sum() / ref_n.sum())

    def estimate(scale: FloatArray) -> Estimate:
        return Estimate(
            o / expected * scale,
            lower / expected * scale,
            upper / expected * scale,
            confidence,
            method,
        )

    return Indirect(
        o,
        expected,
        ref_rate * multiplier,
        estimate(np.full(o.shape, float(ratio_multiplier))),
        estimate(ref_rate * multiplier),
    )


def _reference(
    events: npt.ArrayLike, population: npt.ArrayLike, bands: int
) -> tuple[FloatArray, FloatArray]:
    ref_o = np.asarray(events, dtype=np.float64)
    ref_n = np.asarray(population, dtype=np.float64)
    if ref_o.shape != (bands,) or ref_n.shape != (bands,):
        raise ValueError(f"the reference needs {bands} bands of events and population")
    if np.any(ref_o < 0) or np.any(ref_n <= 0):
        raise ValueError("reference events must be >= 0 and population > 0 in every band")
    return ref_o, ref_n

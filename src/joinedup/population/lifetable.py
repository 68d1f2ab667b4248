"""Abridged life tables by the Chiang II method, with Silcocks' variance.

This is the method OHID (formerly PHE) and ONS use for life expectancy in England:
age bands 0, 1-4, 5-9, ..., 85-89, 90+ (or the older 85+ open band); the fraction
of the interval lived by those who die is 0.1 in the first year of life and 0.5
elsewhere; the probability of dying in the open band is 1. The variance sums
Chiang's terms over the closed bands and adds Silcocks' term for the open band,
which treats its deaths as Poisson. The confidence interval is the estimate plus
or minus z times the standard error.

`life_tables` is vectorised over many areas at once (areas x bands) and gives life
expectancy at every band's start age. It applies the published suppression rules:
no value where the person-years from that age up are under 5,000, or where the
interval is wider than 20 years; an area whose data cannot make a life table (a
band with no population, more deaths than population, no deaths in the open band)
gets blanks with a note rather than stopping the whole batch.

Written from the published method descriptions (Chiang 1984; Silcocks, Jenner and
Reza 2001; PHE Technical Guide: Life expectancy and healthy life expectancy).

It must never read or write files or depend on Django: arrays in, a dataclass out.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Final

import numpy as np
import numpy.typing as npt

STANDARD_AGE_STARTS: tuple[int, ...] = (0, 1, *range(5, 95, 5))
"""Start of each band: 0, 1, 5, 10, ..., 85, 90 (the last band is open, 90+)."""

OLDER_AGE_STARTS: tuple[int, ...] = (0, 1, *range(5, 90, 5))
"""The older layout with an 85+ open band, still used for some historical series."""

RADIX = 100_000.0
INFANT_FRACTION = 0.1
OTHER_FRACTION = 0.5

MIN_PERSON_YEARS: Final = 5_000.0
"""Below this many person-years from an age upward, LE at that age is not published."""
MAX_INTERVAL_WIDTH: Final = 20.0
"""An interval wider than this many years is too imprecise to publish."""

NOTE_FEW_PERSON_YEARS: Final = "fewer than 5,000 person-years from this age"
NOTE_WIDE_INTERVAL: Final = "confidence interval wider than 20 years"
NOTE_NO_POPULATION: Final = "an age band has no population"
NOTE_DEATHS_EXCEED: Final = "deaths exceed population in an age band"
NOTE_NO_OPEN_DEATHS: Final = "no deaths in the open age band"

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LifeTable:
    """Life expectancy at the start of each band, with confidence limits."""

    age_start: npt.NDArray[np.int64]
    expectancy: FloatArray
    lower: FloatArray
    upper: FloatArray
    variance: FloatArray
    survivors: FloatArray  # l_x, per RADIX births
    confidence: float

    @property
    def at_birth(self) -> float:
        """Life expectancy at birth."""
        return float(self.expectancy[0])


@dataclass(frozen=True)
class LifeTables:
    """Life tables for many areas: every array is areas x bands except `age_start`.

    Suppressed or undefined cells are NaN in `expectancy`, `lower` and `upper`, and
    `note` says why ("" where the value is published).
    """

    age_start: npt.NDArray[np.int64]
    expectancy: FloatArray
    lower: FloatArray
    upper: FloatArray
    variance: FloatArray
    survivors: FloatArray
    note: npt.NDArray[np.str_]
    confidence: float


def _validate(
    deaths: FloatArray,
    population: FloatArray,
    starts: npt.NDArray[np.int64],
) -> None:
    """Refuse inputs the method is not defined for, saying why."""
    if deaths.shape != population.shape or deaths.shape != starts.shape:
        raise ValueError("deaths, population and age bands must have the same length")
    _validate_layout(starts)
    if np.any(deaths < 0) or np.any(population <= 0):
        raise ValueError("deaths must be >= 0 and population > 0 in every band")
    if np.any(deaths > population):
        raise ValueError("deaths cannot exceed population in a band")
    if deaths[-1] <= 0:
        raise ValueError("the open age band needs at least one death")


def _validate_layout(starts: npt.NDArray[np.int64]) -> None:
    if starts.ndim != 1 or starts.size < 2 or starts[0] != 0 or np.any(np.diff(starts) <= 0):
        raise ValueError("age bands must start at 0 and increase")


def life_table(
    deaths: npt.ArrayLike,
    population: npt.ArrayLike,
    *,
    age_starts: tuple[int, ...] = STANDARD_AGE_STARTS,
    confidence: float = 0.95,
) -> LifeTable:
    """Chiang II abridged life table for one area, refusing undefined inputs.

    `population` is person-years at risk (a mid-year population, or the sum of
    several years' mid-year populations when deaths are pooled over those years).
    No suppression is applied: this is the plain method, for modelling.
    """
    d = np.asarray(deaths, dtype=np.float64)
    p = np.asarray(population, dtype=np.float64)
    starts = np.asarray(age_starts, dtype=np.int64)
    _validate(d, p, starts)
    core = _chiang(d[np.newaxis], p[np.newaxis], starts, confidence)
    e, lower, upper, variance, survivors = (a[0] for a in core)
    return LifeTable(starts, e, lower, upper, variance, survivors, confidence)


def life_tables(
    deaths: npt.ArrayLike,
    population: npt.ArrayLike,
    *,
    age_starts: tuple[int, ...] = STANDARD_AGE_STARTS,
    confidence: float = 0.95,
    suppress: bool = True,
) -> LifeTables:
    """Chiang II life tables for many areas at once (rows), LE at every band start.

    Negative or missing numbers are refused outright (they are input errors); data
    that merely cannot make a life table blanks that area with a note.
    """
    d = np.atleast_2d(np.asarray(deaths, dtype=np.float64))
    p = np.atleast_2d(np.asarray(population, dtype=np.float64))
    starts = np.asarray(age_starts, dtype=np.int64)
    _validate_layout(starts)
    if d.shape != p.shape or d.ndim != 2 or d.shape[1] != starts.size:
        raise ValueError(f"deaths and population must both be areas x {starts.size} age bands")
    if not (np.isfinite(d).all() and np.isfinite(p).all()) or np.any(d < 0) or np.any(p < 0):
        raise ValueError("deaths and population must be numbers >= 0")
    note = _undefined_notes(d, p)
    bad = note != ""
    # A harmless table for blanked areas (no deaths but one in the open band), discarded below.
    safe_d = np.where(bad, 0.0, d)
    safe_d[bad[:, 0], -1] = 1.0
    safe_p = np.where(bad, 1.0, p)
    e, lower, upper, variance, survivors = _chiang(safe_d, safe_p, starts, confidence)
    notes = np.broadcast_to(note, e.shape).copy()
    if suppress:
        notes = _suppression_notes(notes, p, lower, upper)
    blank = notes != ""
    nan = np.nan
    return LifeTables(
        starts,
        np.where(blank, nan, e),
        np.where(blank, nan, lower),
        np.where(blank, nan, upper),
        np.where(bad, nan, variance),
        np.where(bad, nan, survivors),
        notes,
        confidence,
    )


def _undefined_notes(d: FloatArray, p: FloatArray) -> npt.NDArray[np.str_]:
    """Per area (as an areas x 1 column): why no life table can be made, or ""."""
    note = np.full((d.shape[0], 1), "", dtype="<U64")
    note[d[:, -1] <= 0] = NOTE_NO_OPEN_DEATHS
    note[np.any(d > p, axis=1)] = NOTE_DEATHS_EXCEED
    note[np.any(p <= 0, axis=1)] = NOTE_NO_POPULATION
    return note


def _suppression_notes(
    notes: npt.NDArray[np.str_], p: FloatArray, lower: FloatArray, upper: FloatArray
) -> npt.NDArray[np.str_]:
    """Apply the publication rules cell by cell, keeping an earlier, weightier note."""
    person_years = np.cumsum(p[:, ::-1], axis=1)[:, ::-1]
    free = notes == ""
    notes = np.where(free & (person_years < MIN_PERSON_YEARS), NOTE_FEW_PERSON_YEARS, notes)
    free = notes == ""
    return np.where(free & ~(upper - lower <= MAX_INTERVAL_WIDTH), NOTE_WIDE_INTERVAL, notes)


def _chiang(
    d: FloatArray, p: FloatArray, starts: npt.NDArray[np.int64], confidence: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """The life table proper, row-wise; inputs are already known to be valid."""
    width = np.r_[np.diff(starts), 0].astype(np.float64)
    a = np.where(starts == 0, INFANT_FRACTION, OTHER_FRACTION)
    rate = d / p
    q = np.ones_like(rate)
    wc, ac, rc = width[:-1], a[:-1], rate[:, :-1]
    q[:, :-1] = wc * rc / (1 + wc * (1 - ac) * rc)
    survivors = np.asarray(
        RADIX * np.cumprod(np.c_[np.ones(len(d)), 1 - q[:, :-1]], axis=1), dtype=np.float64
    )
    lived = np.empty_like(rate)
    lived[:, :-1] = wc * (survivors[:, 1:] + ac * survivors[:, :-1] * q[:, :-1])
    lived[:, -1] = survivors[:, -1] / rate[:, -1]
    expectancy: FloatArray = _reverse_cumsum(lived) / survivors
    variance = _variance(d, rate, q, width, a, survivors, expectancy)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}")
    # Tiny areas (deaths near or above the population of a band) can give a negative
    # variance: their interval is NaN, and the interval-width rule suppresses them.
    with np.errstate(invalid="ignore"):
        half = NormalDist().inv_cdf(0.5 + confidence / 2) * np.sqrt(variance)
    return expectancy, expectancy - half, expectancy + half, variance, survivors


def _reverse_cumsum(values: FloatArray) -> FloatArray:
    """Sum from each band to the open band: the 'from age x onward' totals."""
    return np.cumsum(values[:, ::-1], axis=1)[:, ::-1]


def _variance(
    deaths: FloatArray,
    rate: FloatArray,
    q: FloatArray,
    width: FloatArray,
    a: FloatArray,
    survivors: FloatArray,
    expectancy: FloatArray,
) -> FloatArray:
    """Chiang's variance over closed bands plus Silcocks' term for the open band."""
    with np.errstate(divide="ignore", invalid="ignore"):
        var_q = np.where(deaths > 0, q**2 * (1 - q) / deaths, 0.0)
    closed_terms = (
        survivors[:, :-1] ** 2
        * ((1 - a[:-1]) * width[:-1] + expectancy[:, 1:]) ** 2
        * var_q[:, :-1]
    )
    # Silcocks: the open band's LE is 1/M with Var(M) = M^2 / D, so Var = 1 / (M^2 D).
    open_term = survivors[:, -1] ** 2 / (rate[:, -1] ** 2 * deaths[:, -1])
    terms = np.c_[closed_terms, open_term]
    return _reverse_cumsum(terms) / survivors**2

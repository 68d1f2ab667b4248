"""The mortality model: hazards by age, sex and deprivation, calibrated to targets.

Hazard for sex s, age x and IMD decile d is exp(level_s + slope_s * z_d) * base_s(x),
with base_s a Gompertz-Makeham curve above childhood. `calibrate` finds level and
slope so that the model's life expectancy at birth hits the borough target and the
gap between deciles 1 and 10 hits the gap target, given the borough's age structure
by decile, both measured the way OHID measures them (Chiang II abridged life tables
on the generator's own age structure). `simulate_deaths` then draws each person's
date of death in the window.

It must never read the generated data to tune itself: the calibration uses only the
configured structure, so the written data are an independent check of the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from joinedup.population.lifetable import STANDARD_AGE_STARTS, life_table
from joinedup.synth import config
from joinedup.synth.population import age_probabilities, deprivation_z

FloatArray = npt.NDArray[np.float64]
_H80 = {"M": 0.060, "F": 0.045}


@dataclass(frozen=True)
class MortalityModel:
    """Calibrated log-level and deprivation slope per sex ('M', 'F')."""

    level: dict[str, float]
    slope: dict[str, float]

    def hazard(self, sex: str, age: FloatArray, z: FloatArray) -> FloatArray:
        """Annual hazard at exact (fractional) age for deprivation z."""
        return np.exp(self.level[sex] + self.slope[sex] * z) * base_hazard(sex, age)


def base_hazard(sex: str, age: FloatArray) -> FloatArray:
    """Unscaled hazard: infant rate, a child floor, then Gompertz-Makeham from 15."""
    adult = config.MAKEHAM_CONSTANT[sex] + _H80[sex] * np.exp(
        config.GOMPERTZ_SLOPE[sex] * (age - 80.0)
    )
    child = np.maximum(config.CHILD_HAZARD, adult)
    return np.where(age < 1, config.INFANT_MORTALITY[sex], np.where(age < 15, child, adult))


def life_expectancy(hazard_by_year: FloatArray) -> float:
    """Life expectancy at birth from hazards constant within single years of age."""
    survive = np.exp(-hazard_by_year)
    alive = np.r_[1.0, np.cumprod(survive)[:-1]]
    lived = alive * (1 - survive) / hazard_by_year
    lived[-1] = alive[-1] / hazard_by_year[-1]
    return float(lived.sum())


def _band_rates(sex: str, level: float, slope: float, z: float) -> tuple[FloatArray, FloatArray]:
    """Expected deaths and population by life-table band for an area with deprivation z.

    The population has the generator's own age structure, so the life expectancy the
    official method finds in the generated data is what calibration aims at.
    """
    probs = age_probabilities(z)
    ages = np.arange(probs.size, dtype=np.float64)
    deaths = probs * np.exp(level + slope * z) * base_hazard(sex, ages + 0.5)
    band = np.searchsorted(np.array(STANDARD_AGE_STARTS), ages, side="right") - 1
    deaths_by_band = np.bincount(band, deaths, minlength=20).astype(np.float64)
    return deaths_by_band, np.bincount(band, probs, minlength=20).astype(np.float64)


def _decile_le(sex: str, level: float, slope: float, z: float) -> float:
    """Chiang II life expectancy the data should show in an area with deprivation z."""
    deaths, population = _band_rates(sex, level, slope, z)
    return life_table(deaths * 1e6, population * 1e6).at_birth


def _borough_le(sex: str, level: float, slope: float, weights: FloatArray) -> float:
    """Chiang II life expectancy of the whole borough (deciles weighted by residents)."""
    deaths = np.zeros(20)
    population = np.zeros(20)
    for decile in range(1, 11):
        z = float(deprivation_z(np.array([decile]))[0])
        d, p = _band_rates(sex, level, slope, z)
        deaths += d * weights[decile - 1]
        population += p * weights[decile - 1]
    return life_table(deaths * 1e6, population * 1e6).at_birth


def _bisect(func: Callable[[float], float], lo: float, hi: float, steps: int = 40) -> float:
    """Root of a monotone scalar function on [lo, hi] by bisection."""
    f_lo = func(lo)
    for _ in range(steps):
        mid = (lo + hi) / 2
        if (func(mid) > 0) == (f_lo > 0):
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _gap_error(sex: str, level: float) -> Callable[[float], float]:
    """Model decile gap minus its calibration target, as a function of the slope."""

    def error(slope: float) -> float:
        gap = _decile_le(sex, level, slope, -1.0) - _decile_le(sex, level, slope, 1.0)
        return gap - config.LE_GAP_CALIBRATION[sex]

    return error


def _level_error(sex: str, slope: float, weights: FloatArray) -> Callable[[float], float]:
    """Model borough LE minus its calibration target, as a function of the level."""

    def error(level: float) -> float:
        return _borough_le(sex, level, slope, weights) - config.LE_CALIBRATION[sex]

    return error


def calibrate(decile_weights: FloatArray) -> MortalityModel:
    """Find level and slope per sex that meet the borough LE and decile-gap targets."""
    level: dict[str, float] = {}
    slope: dict[str, float] = {}
    for sex in ("M", "F"):
        lv, sl = 0.0, 0.4
        for _ in range(6):
            sl = _bisect(_gap_error(sex, lv), 0.0, 1.5)
            lv = _bisect(_level_error(sex, sl, decile_weights), -2.0, 2.0)
        level[sex], slope[sex] = lv, sl
    return MortalityModel(level=level, slope=slope)


def model_life_expectancy(model: MortalityModel, sex: str, decile: int | None = None) -> float:
    """Chiang II life expectancy the model implies for one decile, or the borough (None)."""
    if decile is None:
        raise ValueError("use borough_life_expectancy for the whole borough")
    z = float(deprivation_z(np.array([decile]))[0])
    return _decile_le(sex, model.level[sex], model.slope[sex], z)


def borough_life_expectancy(model: MortalityModel, sex: str, weights: FloatArray) -> float:
    """Chiang II life expectancy the model implies for the borough."""
    return _borough_le(sex, model.level[sex], model.slope[sex], weights)


def simulate_deaths(
    rng: np.random.Generator,
    model: MortalityModel,
    *,
    sex: npt.NDArray[np.str_],
    dob: npt.NDArray[np.datetime64],
    entry: npt.NDArray[np.datetime64],
    z: FloatArray,
    frailty: FloatArray,
) -> npt.NDArray[np.datetime64]:
    """Date of death within the window for each person, or NaT if they survive it."""
    death = np.full(sex.size, np.datetime64("NaT", "D"))
    frail_mult = np.exp(
        config.FRAILTY_HAZARD_EFFECT * frailty - config.FRAILTY_HAZARD_EFFECT**2 / 2
    )
    for year in range(config.YEARS):
        y0 = np.datetime64(f"{config.WINDOW_START.year + year}-04-01", "D")
        y1 = np.datetime64(f"{config.WINDOW_START.year + year + 1}-04-01", "D")
        begin = np.maximum(entry, y0)
        alive = np.isnat(death) & (begin < y1)
        span = np.where(alive, (y1 - begin).astype(np.float64) / 365.25, 0.0)
        mid_age = ((begin - dob).astype(np.float64) / 365.25) + span / 2
        hazard = np.empty(sex.size)
        for s in ("M", "F"):
            rows = sex == s
            hazard[rows] = model.hazard(s, mid_age[rows], z[rows])
        hazard = hazard * np.where(mid_age >= 65, frail_mult, 1.0)
        p_die = 1 - np.exp(-hazard * span)
        u = rng.random(sex.size)
        dies = alive & (u < p_die)
        t = -np.log1p(-u[dies]) / hazard[dies]  # u < p_die: time to death within the span
        offset = np.minimum(
            (t * 365.25).astype(np.int64), ((y1 - begin[dies]).astype(np.int64) - 1)
        )
        death[dies] = begin[dies] + offset.astype("timedelta64[D]")
    return death

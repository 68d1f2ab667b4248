"""Discharge delay metrics as NHS England publishes them: a plain NumPy kernel.

Input is one row per discharge (discharge date, discharge ready date, pathway, ward)
and one row per time a patient did not meet the criteria to reside (from its DRD to
its end). Output is aggregates only. No Django, no database, no names.

Definitions (NHS England, Discharge Ready Date metrics):

- **delay**: whole days from the discharge ready date (DRD) to the discharge date; a
  patient discharged on their DRD has a delay of 0.
- **discharges**: discharges with a DRD (deaths in hospital have none and are left out).
- **share discharged on their DRD**: discharges with delay 0 / discharges.
- **delay bands**: 0, 1, 2-3, 4-6, 7-13, 14-20, 21+ days.
- **delayed bed-days**: the sum of the delays.
- **average delay including zero-day delays**: delayed bed-days / discharges.
- **average delay excluding zero-day delays**: delayed bed-days / discharges delayed
  1 day or more (the figure NHS England headlines, and the synthetic borough's truth).
- **census**: patients not meeting the criteria to reside at the end of a day: those with
  DRD <= day < the day the episode ended (discharge or meeting the criteria again).

Little's law ties them: over a period, the mean census ~ discharges a day x the
average delay including zero-day delays (``littles_law``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

BAND_LABELS: Final[tuple[str, ...]] = ("0", "1", "2-3", "4-6", "7-13", "14-20", "21+")
BAND_EDGES: Final = np.array([0, 1, 2, 4, 7, 14, 21])
Period = Literal["week", "month", "year"]
PERIODS: Final[dict[str, str]] = {
    "week": "Week beginning",
    "month": "Month",
    "year": "Financial year",
}
Days = npt.NDArray[np.datetime64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DelaySummary:
    """The published measures for one group of discharges."""

    key: str
    discharges: int
    on_drd: int
    bands: tuple[int, ...]
    delayed_bed_days: int

    @property
    def delayed(self) -> int:
        return self.discharges - self.on_drd

    @property
    def share_on_drd(self) -> float | None:
        return self.on_drd / self.discharges if self.discharges else None

    @property
    def mean_delay_including_zero(self) -> float | None:
        return self.delayed_bed_days / self.discharges if self.discharges else None

    @property
    def mean_delay_excluding_zero(self) -> float | None:
        return self.delayed_bed_days / self.delayed if self.delayed else None


def delays(discharged: Days, ready: Days) -> Ints:
    """Whole days from DRD to discharge; a DRD after the discharge is an error upstream
    (``services`` refuses it), so it is counted as 0 here rather than as negative."""
    days = (discharged.astype("datetime64[D]") - ready.astype("datetime64[D]")).astype(np.int64)
    out: Ints = np.maximum(days, 0)
    return out


def band_index(delay: Ints) -> Ints:
    out: Ints = np.searchsorted(BAND_EDGES, delay, side="right") - 1
    return out


def summarise(
    delay: Ints, keys: Sequence[str] | npt.NDArray[np.str_] | None = None
) -> list[DelaySummary]:
    """One summary per distinct key (sorted), or one for everything when keys is None."""
    delay = np.asarray(delay, dtype=np.int64)
    labels = np.full(delay.size, "all") if keys is None else np.asarray(keys, dtype=np.str_)
    if delay.size == 0:
        return [] if keys is not None else [DelaySummary("all", 0, 0, (0,) * 7, 0)]
    unique, group = np.unique(labels, return_inverse=True)
    n = unique.size
    counts = np.bincount(group, minlength=n)
    zero = np.bincount(group, weights=(delay == 0), minlength=n)
    total = np.bincount(group, weights=delay, minlength=n)
    bands = np.zeros((n, len(BAND_LABELS)), dtype=np.int64)
    np.add.at(bands, (group, band_index(delay)), 1)
    return [
        DelaySummary(
            key=str(unique[i]),
            discharges=int(counts[i]),
            on_drd=int(zero[i]),
            bands=tuple(int(b) for b in bands[i]),
            delayed_bed_days=round(total[i]),
        )
        for i in range(n)
    ]


def period_keys(days: Days, period: Period) -> npt.NDArray[np.str_]:
    """A sortable label per date: ISO date of the Monday, ``YYYY-MM``, or ``YYYY/YY``."""
    d = days.astype("datetime64[D]")
    if period == "week":
        # 1970-01-01 was a Thursday: shift so weeks start on Monday.
        monday = d - ((d.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
        weeks: npt.NDArray[np.str_] = np.datetime_as_string(monday, unit="D")
        return weeks
    if period == "month":
        months_text: npt.NDArray[np.str_] = np.datetime_as_string(
            d.astype("datetime64[M]"), unit="M"
        )
        return months_text
    months = d.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    start = 1970 + (months - 3) // 12  # April starts the financial year
    return np.char.add(
        np.char.add(start.astype(str), "/"), np.char.zfill(((start + 1) % 100).astype(str), 2)
    )


def daily_census(starts: Days, ends: Days, first: date, last: date) -> Ints:
    """Patients not meeting the criteria to reside at the end of each day, first..last.

    An episode counts on the days ``start <= day < end``; an open one (NaT end) counts
    to ``last``."""
    lo, hi = np.datetime64(first, "D"), np.datetime64(last, "D")
    span = int((hi - lo).astype(np.int64)) + 1
    if span <= 0:
        return np.zeros(0, dtype=np.int64)
    s = starts.astype("datetime64[D]")
    e = np.where(np.isnat(ends), hi + 1, ends.astype("datetime64[D]"))
    s_i = np.clip((s - lo).astype(np.int64), 0, span)
    e_i = np.clip((e - lo).astype(np.int64), 0, span)
    keep = e_i > s_i
    change = np.zeros(span + 1, dtype=np.int64)
    np.add.at(change, s_i[keep], 1)
    np.add.at(change, e_i[keep], -1)
    out: Ints = np.cumsum(change)[:span]
    return out


@dataclass(frozen=True)
class LittlesLaw:
    """Both sides of L = lambda W over a period."""

    days: int
    mean_census: float  # L
    discharges_per_day: float  # lambda
    mean_delay_including_zero: float  # W

    @property
    def predicted_census(self) -> float:
        return self.discharges_per_day * self.mean_delay_including_zero


def littles_law(
    discharged: Days, ready: Days, starts: Days, ends: Days, first: date, last: date
) -> LittlesLaw:
    """Mean census over first..last against discharges in it a day x their mean delay."""
    census = daily_census(starts, ends, first, last)
    d = discharged.astype("datetime64[D]")
    inside = (d >= np.datetime64(first, "D")) & (d <= np.datetime64(last, "D"))
    delay = delays(discharged[inside], ready[inside])
    days = census.size
    return LittlesLaw(
        days=days,
        mean_census=float(census.mean()) if days else 0.0,
        discharges_per_day=delay.size / days if days else 0.0,
        mean_delay_including_zero=float(delay.mean()) if delay.size else 0.0,
    )

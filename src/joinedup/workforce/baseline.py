"""The workforce baseline's measures, computed from arrays: pure, vectorised, no Django.

Definitions (published in docs/adr/0016 and on the baseline page):

- **Staff in post**: substantive staff (permanent and fixed-term contracts) in post on a
  date: started on or before it and not left on or before it. Bank and agency staff are
  counted separately and never against the establishment.
- **Headcount**: staff records in post (a person with posts at two employers counts at
  each). **WTE**: the sum of their whole-time equivalents.
- **Vacancies**: establishment (funded WTE) minus WTE in post; **vacancy rate** =
  vacancies / establishment x 100. Negative means more staff in post than funded.
- **Turnover** (NHS Digital): leavers in the period / average headcount x 100, where the
  average is of the headcounts at the start and at the end of the period.
- **Stability**: staff in post at the start still in post at the end / staff in post at
  the start x 100.
- **Aged 55 and over**: share of headcount whose age band starts at 55 or more.

When the establishment is funded at a coarser level than a table's rows (for example per
organisation and staff group, shown by neighbourhood), it is shared out in proportion to
the WTE in post under that funding line, and the row is marked as apportioned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Dates = npt.NDArray[np.datetime64]


@dataclass(frozen=True)
class Staff:
    """One element per staff record."""

    wte: Floats
    substantive: Bools
    start: Dates  # datetime64[D]
    leave: Dates  # datetime64[D]; NaT while in post
    aged_55_plus: Bools
    line: Ints  # the establishment line the post is funded under, or -1


@dataclass(frozen=True)
class Dimension:
    """How staff and establishment lines fall into a table's rows."""

    labels: tuple[str, ...]
    staff_code: Ints  # per staff record: index into labels
    line_code: Ints  # per establishment line: index, or -1 when it must be apportioned
    # The row for funding that cannot be placed (no one in post under it): one row, or
    # one per establishment line.
    unknown: int | Ints


@dataclass(frozen=True)
class Period:
    start: np.datetime64
    end: np.datetime64


@dataclass(frozen=True)
class Measures:
    """One value per row of a table."""

    labels: tuple[str, ...]
    headcount: Ints
    wte: Floats
    bank_agency_headcount: Ints
    funded_wte: Floats
    vacancy_wte: Floats
    vacancy_rate: Floats  # percent; NaN without establishment
    leavers: Ints
    average_headcount: Floats
    turnover: Floats  # percent; NaN when the average headcount is 0
    starters_in_post: Ints  # in post at the start of the period
    stayers: Ints  # of those, still in post at the end
    stability: Floats  # percent
    aged_55_plus: Ints
    aged_55_plus_share: Floats  # percent
    apportioned: Bools


def in_post_on(staff: Staff, day: np.datetime64) -> Bools:
    """In post on ``day``: started on or before it, and not left on or before it."""
    still = np.isnat(staff.leave) | (staff.leave > day)
    return (staff.start <= day) & still


def _sum(codes: Ints, weights: npt.NDArray[np.generic] | None, n: int) -> Floats:
    return np.bincount(codes, weights=weights, minlength=n).astype(np.float64)


def _rate(numerator: Floats, denominator: Floats) -> Floats:
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out * 100.0


def funded_by_row(
    staff: Staff, funded: Floats, dim: Dimension, weights: Floats
) -> tuple[Floats, Bools]:
    """Each row's establishment: lines placed where the dimension says, the rest shared
    out by ``weights`` (WTE in post) across the rows of the staff funded under them."""
    n = len(dim.labels)
    out = _sum(dim.line_code[dim.line_code >= 0], funded[dim.line_code >= 0], n)
    floating = np.flatnonzero(dim.line_code < 0)
    apportioned = np.zeros(n, dtype=np.bool_)
    if floating.size == 0:
        return out, apportioned
    position = np.full(funded.size, -1, dtype=np.int64)
    position[floating] = np.arange(floating.size)
    on_line = (staff.line >= 0) & (position[np.maximum(staff.line, 0)] >= 0)
    pair = position[staff.line[on_line]] * n + dim.staff_code[on_line]
    counts = np.bincount(pair, weights=weights[on_line], minlength=floating.size * n)
    share = counts.astype(np.float64).reshape(floating.size, n)
    totals = share.sum(axis=1)
    placed = totals > 0
    share[placed] /= totals[placed, None]
    unknown = np.broadcast_to(np.asarray(dim.unknown, dtype=np.int64), funded.shape)[floating]
    share[np.flatnonzero(~placed), unknown[~placed]] = 1.0  # no one in post under the line
    out += funded[floating] @ share
    apportioned |= (share > 0).any(axis=0)
    return out, apportioned


def measures(staff: Staff, funded: Floats, dim: Dimension, period: Period) -> Measures:
    """Every baseline measure for each row of ``dim``, on the period's end date."""
    n = len(dim.labels)
    code = dim.staff_code
    now = in_post_on(staff, period.end)
    then = in_post_on(staff, period.start)
    sub_now, sub_then = now & staff.substantive, then & staff.substantive
    headcount = _sum(code[sub_now], None, n).astype(np.int64)
    wte = _sum(code[sub_now], staff.wte[sub_now], n)
    weights = np.where(sub_now, staff.wte, 0.0)
    establishment, apportioned = funded_by_row(staff, funded, dim, weights)
    left = (
        staff.substantive
        & ~np.isnat(staff.leave)
        & (staff.leave > period.start)
        & (staff.leave <= period.end)
    )
    leavers = _sum(code[left], None, n).astype(np.int64)
    at_start = _sum(code[sub_then], None, n).astype(np.int64)
    average = (at_start + headcount) / 2.0
    stayers = _sum(code[sub_then & now], None, n).astype(np.int64)
    older = _sum(code[sub_now & staff.aged_55_plus], None, n).astype(np.int64)
    vacancy = establishment - wte
    return Measures(
        labels=dim.labels,
        headcount=headcount,
        wte=wte,
        bank_agency_headcount=_sum(code[now & ~staff.substantive], None, n).astype(np.int64),
        funded_wte=establishment,
        vacancy_wte=vacancy,
        vacancy_rate=_rate(vacancy, establishment),
        leavers=leavers,
        average_headcount=average,
        turnover=_rate(leavers.astype(np.float64), average),
        starters_in_post=at_start,
        stayers=stayers,
        stability=_rate(stayers.astype(np.float64), at_start.astype(np.float64)),
        aged_55_plus=older,
        aged_55_plus_share=_rate(older.astype(np.float64), headcount.astype(np.float64)),
        apportioned=apportioned,
    )


def whole(staff: Staff, lines: int) -> Dimension:
    """The one-row dimension: the total of every table."""
    return Dimension(
        labels=("All staff",),
        staff_code=np.zeros(staff.wte.size, dtype=np.int64),
        line_code=np.zeros(lines, dtype=np.int64),
        unknown=0,
    )


def age_band_lower(band: str) -> int | None:
    """The lower bound of an age band ("55-64", "65+", "55 to 59"), or None."""
    digits = ""
    for char in band.strip():
        if char.isdigit():
            digits += char
        elif digits:
            break
    return int(digits) if digits else None

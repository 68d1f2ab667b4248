"""What the baseline pages show: formatted rows, hidden cells and chart points.

Readers without ``Permission.VIEW_WORKFORCE`` get every table through ``suppression``:
a row whose headcount is hidden shows none of its person-derived numbers (headcount,
WTE, vacancies, rates); the establishment, being posts and not people, stays visible.
The neighbourhood and staff group tables are the margins of the neighbourhood x staff
group grid and take their hidden cells from it, so the three tables agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from joinedup.web.tables import Cell, Table
from joinedup.workforce import baseline as kernel
from joinedup.workforce import suppression
from joinedup.workforce.selectors import (
    DIMENSIONS,
    BaselineData,
    dimension,
    grid_dimension,
)

HIDDEN = "[c]"


@dataclass(frozen=True)
class Row:
    label: str
    headcount: int
    wte: float
    bank_agency: int
    funded: float
    vacancy: float
    vacancy_rate: float
    turnover: float
    stability: float
    aged_55_share: float
    apportioned: bool
    hidden: bool
    group: str = ""  # the staff group, in the neighbourhood x staff group table

    def cells(self) -> list[Cell]:
        """Plain values for a download; hidden cells as [c], missing rates empty."""

        def rate(v: float) -> Cell:
            return None if math.isnan(v) else round(v, 1)

        if self.hidden:
            person: list[Cell] = [HIDDEN] * 4
            derived: list[Cell] = [HIDDEN] * 5
        else:
            person = [self.headcount, round(self.wte, 2), self.bank_agency, None]
            derived = [
                round(self.vacancy, 2),
                rate(self.vacancy_rate),
                rate(self.turnover),
                rate(self.stability),
                rate(self.aged_55_share),
            ]
        return [
            *([self.label, self.group] if self.group else [self.label]),
            person[0],
            person[1],
            person[2],
            round(self.funded, 2),
            *derived,
            "yes" if self.apportioned else "",
        ]


COLUMNS = (
    "Headcount",
    "WTE in post",
    "Bank and agency headcount",
    "Establishment WTE",
    "Vacancies WTE",
    "Vacancy rate %",
    "Turnover %",
    "Stability %",
    "Aged 55 and over %",
    "Establishment apportioned",
)


@dataclass(frozen=True)
class BaselineTable:
    key: str
    title: str
    heading: str
    rows: list[Row]
    total: Row

    @property
    def any_hidden(self) -> bool:
        return self.total.hidden or any(r.hidden for r in self.rows)

    def export(self, note: str) -> Table:
        headings = [self.heading, "Staff group"] if self.key == "grid" else [self.heading]
        return Table(
            title=self.title,
            columns=[*headings, *COLUMNS],
            rows=[r.cells() for r in [*self.rows, self.total]],
            note=note,
        )


def _row(m: kernel.Measures, i: int, hidden: bool, label: str = "", group: str = "") -> Row:
    return Row(
        label=label or m.labels[i],
        group=group,
        headcount=int(m.headcount[i]),
        wte=float(m.wte[i]),
        bank_agency=int(m.bank_agency_headcount[i]),
        funded=float(m.funded_wte[i]),
        vacancy=float(m.vacancy_wte[i]),
        vacancy_rate=float(m.vacancy_rate[i]),
        turnover=float(m.turnover[i]),
        stability=float(m.stability[i]),
        aged_55_share=float(m.aged_55_plus_share[i]),
        apportioned=bool(m.apportioned[i]),
        hidden=hidden,
    )


def _occupied(m: kernel.Measures) -> np.ndarray:
    return (
        (m.headcount > 0)
        | (m.funded_wte > 0)
        | (m.bank_agency_headcount > 0)
        | (m.leavers > 0)
        | (m.starters_in_post > 0)
    )


@dataclass(frozen=True)
class BaselineView:
    total: Row
    tables: dict[str, BaselineTable]
    exact: bool

    def chart_points(self, key: str) -> list[tuple[str, float | None]]:
        return [
            (r.label, None if r.hidden or math.isnan(r.vacancy_rate) else r.vacancy_rate)
            for r in self.tables[key].rows
            if r.funded > 0
        ]


def baseline_view(data: BaselineData, period: kernel.Period, *, exact: bool) -> BaselineView:
    """Every table of the baseline page; ``exact`` (workforce leads) skips suppression."""
    whole = kernel.measures(
        data.staff, data.funded, kernel.whole(data.staff, data.funded.size), period
    )
    grid_dim, n_rows, n_cols = grid_dimension(data)
    grid = kernel.measures(data.staff, data.funded, grid_dim, period)
    counts = grid.headcount.reshape(n_rows, n_cols)
    hidden = suppression.suppress_grid(counts) if not exact else None
    total_hidden = bool(hidden.total) if hidden is not None else False
    tables: dict[str, BaselineTable] = {}
    for key in DIMENSIONS:
        m = kernel.measures(data.staff, data.funded, dimension(data, key), period)
        keep = np.flatnonzero(_occupied(m))
        if hidden is not None and key == "neighbourhood":
            mask = hidden.row_totals
        elif hidden is not None and key == "staff_group":
            mask = hidden.column_totals
        elif hidden is not None:
            mask, _ = suppression.suppress_list(m.headcount[keep])
            mask = _spread(mask, keep, m.headcount.size)
        else:
            mask = np.zeros(m.headcount.size, dtype=np.bool_)
        tables[key] = BaselineTable(
            key=key,
            title=f"Baseline by {DIMENSIONS[key].lower()}",
            heading=DIMENSIONS[key],
            rows=[_row(m, int(i), bool(mask[i])) for i in keep],
            total=_row(whole, 0, total_hidden, label="All staff"),
        )
    flat = hidden.cells.ravel() if hidden is not None else np.zeros(counts.size, dtype=np.bool_)
    keep = np.flatnonzero(_occupied(grid))
    tables["grid"] = BaselineTable(
        key="grid",
        title="Vacancies by neighbourhood and staff group",
        heading="Neighbourhood",
        rows=[_row(grid, int(i), bool(flat[i]), *grid.labels[int(i)].split("|", 1)) for i in keep],
        total=_row(whole, 0, total_hidden, label="All staff", group="All staff groups"),
    )
    return BaselineView(total=tables["organisation"].total, tables=tables, exact=exact)


def _spread(mask: np.ndarray, keep: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=np.bool_)
    out[keep] = mask
    return out


def fmt_number(value: float, places: int = 1) -> str:
    if math.isnan(value):
        return "\u2013"
    return f"{value:,.{places}f}"


def fmt_rate(value: float) -> str:
    return "\u2013" if math.isnan(value) else f"{value:.1f}%"

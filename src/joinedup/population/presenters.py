"""What each population page shows: blocks of chart, description, table and downloads.

Presenters turn the report's tables into view models the templates render as they are;
the figures are never recomputed here.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from openpyxl import Workbook

from joinedup.population import charts
from joinedup.population import indicators as ind
from joinedup.population.scorecard import AIMS, Scorecard
from joinedup.population.selectors import Report


@dataclass(frozen=True)
class Block:
    heading: str
    table: ind.Table
    chart: Markup = field(default_factory=Markup)
    description: str = ""


@dataclass
class Page:
    title: str
    intro: str
    as_of: str
    blocks: list[Block] = field(default_factory=list)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (url name, arg, text)
    headline: list[tuple[str, str]] = field(default_factory=list)


def cell(value: Any) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _as_of(report: Report) -> str:
    return f"Data as at {report.as_of:%-d %B %Y}; latest period {ind.period_label(report.period)}."


def _points(
    rows: list[dict[str, Any]], label: str = "area", value: str = "value"
) -> list[charts.Point]:
    return [charts.Point(str(r[label]), r.get(value), r.get("lower"), r.get("upper")) for r in rows]


def _borough(rows: list[dict[str, Any]], value: str = "value") -> float | None:
    return next((r.get(value) for r in rows if r.get("area") == "Borough"), None)


def home(report: Report) -> Page:
    page = Page(
        "Population health",
        "Life expectancy, inequalities, frailty and vaccine uptake "
        "in the borough, from pseudonymised data. No figure here identifies anyone.",
        _as_of(report),
    )
    le = report.table("life-expectancy").rows
    for row in le:
        if row["level"] == "borough" and row["age"] == 0:
            page.headline.append(
                (f"Life expectancy at birth, {row['sex'].lower()}", f"{cell(row['value'])} years")
            )
    for gap in report.gaps:
        page.headline.append(
            (
                f"Gap across deprivation deciles, {ind.SEX_LABELS[gap.sex].lower()}",
                f"{gap.sii:.1f} years (95% interval {gap.lower:.1f} to {gap.upper:.1f})",
            )
        )
    page.links = [
        ("population:life-expectancy", "", "Life expectancy and the gap"),
        ("population:mortality", "", "Premature mortality, years of life lost and causes of death"),
        ("population:frailty", "", "Frailty"),
        ("population:vaccines", "", "Vaccine uptake"),
    ]
    page.links += [
        ("population:scorecard", slug, f"Scorecard: {card.neighbourhood}")
        for slug, card in sorted(report.scorecards.items())
    ]
    return page


def life_expectancy(report: Report) -> Page:
    page = Page(
        "Life expectancy and the gap",
        "How long people can expect to live in each "
        "neighbourhood and deprivation decile, and the gap between the most and least "
        "deprived.",
        _as_of(report),
    )
    gap_rows = {g.sex: g for g in report.gaps}
    for sex in ind.SEXES:
        gap = gap_rows.get(sex)
        if gap is None:
            continue
        label = ind.SEX_LABELS[sex]
        points = [
            charts.Point(
                f"Decile {i + 1}{' (most deprived)' if i == 0 else ''}", _r(v), _r(lo), _r(up)
            )
            for i, (v, lo, up) in enumerate(
                zip(gap.decile_values, gap.decile_lower, gap.decile_upper, strict=False)
            )
        ]
        chart = charts.interval_chart(
            f"gap-{sex}",
            f"Life expectancy at birth by deprivation decile, {label.lower()}",
            points,
            unit="years",
        )
        description = (
            f"{label}: life expectancy at birth rises from {gap.decile_values[0]:.1f} years in the "
            f"most deprived decile to {gap.decile_values[-1]:.1f} in the least deprived. "
            f"The slope index of inequality puts the gap at {gap.sii:.1f} years "
            f"(95% interval {gap.lower:.1f} to {gap.upper:.1f})."
        )
        page.blocks.append(
            Block(
                f"The gap, {label.lower()}", report.table("life-expectancy-gap"), chart, description
            )
        )
    le = report.table("life-expectancy")
    for sex in ind.SEXES:
        label = ind.SEX_LABELS[sex]
        rows = [
            r
            for r in le.rows
            if r["sex"] == label and r["age"] == 0 and r["level"] == "neighbourhood"
        ]
        borough = next(
            (
                r["value"]
                for r in le.rows
                if r["sex"] == label and r["age"] == 0 and r["level"] == "borough"
            ),
            None,
        )
        chart = charts.interval_chart(
            f"le-{sex}",
            f"Life expectancy at birth by neighbourhood, {label.lower()}",
            _points(rows),
            unit="years",
            reference=borough,
            reference_label="Borough",
        )
        page.blocks.append(
            Block(
                f"Neighbourhoods, {label.lower()}",
                le,
                chart,
                charts.describe(
                    _points(rows), unit="years", reference=borough, reference_label="Borough"
                ),
            )
        )
    trend = report.table("life-expectancy-trend")
    series = {
        ind.SEX_LABELS[s]: [
            charts.Point(r["period"], r["value"])
            for r in trend.rows
            if r["sex"] == ind.SEX_LABELS[s]
        ]
        for s in ind.SEXES
    }
    chart = charts.line_chart(
        "trend", "Life expectancy at birth in the borough over time", series, unit="years"
    )
    page.blocks.append(
        Block(
            "Trend",
            trend,
            chart,
            "Borough life expectancy at birth for each rolling three-year period.",
        )
    )
    return page


def _r(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 2)


def mortality(report: Report) -> Page:
    page = Page(
        "Premature mortality and years of life lost",
        "Deaths before 75, the years of "
        "life they cost, and their main causes, by neighbourhood and deprivation.",
        _as_of(report),
    )
    table = report.table("premature-mortality")
    rows = [r for r in table.rows if r["level"] == "decile"]
    borough = next((r["dsr"] for r in table.rows if r["level"] == "borough"), None)
    points = _points(rows, value="dsr")
    chart = charts.interval_chart(
        "premature",
        "Deaths under 75 per 100,000 by deprivation decile",
        points,
        unit="per 100,000",
        reference=borough,
        reference_label="Borough",
    )
    page.blocks.append(
        Block(
            "Deaths under 75 by deprivation",
            table,
            chart,
            charts.describe(
                points, unit="per 100,000", reference=borough, reference_label="Borough"
            ),
        )
    )
    page.blocks.append(
        Block("Main causes of death by deprivation", report.table("causes-of-death"))
    )
    return page


def frailty(report: Report) -> Page:
    page = Page(
        "Frailty",
        "The electronic Frailty Index of people aged 65 and over, from coded records.",
        _as_of(report),
    )
    if report.frailty is None:
        page.intro += (
            " The eFI code lists are not installed on this server, so frailty cannot be shown."
        )
        return page
    f = report.frailty
    page.headline = [
        (c.capitalize(), f"{n:,} ({100 * n / f.people:.1f}%)" if f.people else "\u2013")
        for c, n in f.categories.items()
    ]
    rows = [r for r in f.by_neighbourhood.rows if r["area"] != "Borough"]
    borough = _borough(f.by_neighbourhood.rows)
    points = _points(rows)
    chart = charts.interval_chart(
        "frailty",
        "Moderate or severe frailty among people 65+ by neighbourhood",
        points,
        unit="%",
        reference=borough,
        reference_label="Borough",
    )
    page.blocks.append(
        Block(
            "By neighbourhood",
            f.by_neighbourhood,
            chart,
            charts.describe(points, unit="%", reference=borough, reference_label="Borough"),
        )
    )
    page.blocks.append(Block("By GP practice", f.by_practice))
    return page


def vaccines(report: Report) -> Page:
    page = Page(
        "Vaccine uptake",
        "Uptake of flu, COVID-19 and MMR vaccines by neighbourhood, "
        "deprivation, age, sex and ethnic group, and the groups with the lowest uptake. "
        "Ethnic group is the broad group of the category people gave their GP practice.",
        _as_of(report),
    )
    for u in report.uptake:
        decile = u.tables["imd_decile"]
        points = [
            charts.Point(f"Decile {p.label}", p.value, p.lower, p.upper)
            for p in _points(decile.rows)
        ]
        chart = charts.interval_chart(
            f"uptake-{u.programme.key}",
            f"{u.programme.name} by deprivation decile",
            points,
            unit="%",
        )
        page.blocks.append(
            Block(
                f"{u.programme.name}, {u.period}", decile, chart, charts.describe(points, unit="%")
            )
        )
        page.blocks.append(Block("Lowest uptake", u.lowest))
        for dim in ("neighbourhood", "age_band", "sex", "ethnic_group"):
            page.blocks.append(Block(u.tables[dim].title, u.tables[dim]))
    return page


def scorecard(report: Report, card: Scorecard) -> Page:
    page = Page(
        f"Scorecard: {card.neighbourhood}",
        "How the neighbourhood compares with the "
        "borough on the partnership's three aims. Higher or lower only where the 95% "
        "interval excludes the borough's value.",
        _as_of(report),
    )
    table = card.table()
    for aim in AIMS:
        rows = [r for r in table.rows if r["aim"] == aim]
        aim_table = ind.Table(table.slug, aim, table.columns, rows, table.notes)
        page.blocks.append(Block(aim, aim_table))
    page.blocks.append(
        Block(
            "Measures not included",
            ind.Table(
                table.slug,
                "",
                [],
                [],
                [
                    (
                        "Demand against capacity is not shown: the warehouse holds no capacity "
                        "data. "
                        "Inequality within a neighbourhood is not shown: a neighbourhood spans "
                        "too few "
                        "deciles for a reliable slope index."
                    )
                ],
            ),
        )
    )
    return page


def xlsx(table: ind.Table) -> bytes:
    book = Workbook(write_only=False)
    sheet = book.create_sheet(index=0)
    book.remove(book.worksheets[1])
    sheet.title = table.slug[:31]
    sheet.append([table.title])
    sheet.append([heading for _, heading in table.columns])
    for row in table.rows:
        sheet.append([row.get(k) for k, _ in table.columns])
    for note in table.notes:
        sheet.append([])
        sheet.append([note])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

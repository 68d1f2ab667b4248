"""The population module's live outcome measures for the portfolio's benefits.

Each reads the analysts' report of the current warehouse build (aggregates only, from the
planning zone) and answers ``None`` when no warehouse has been built yet, so a benefit shows
"not yet measured" rather than a made-up number.
"""

from __future__ import annotations

from collections.abc import Callable

from joinedup.errors import NotFound
from joinedup.population import selectors
from joinedup.portfolio.measures import MeasureValue, register_measure


def _report() -> selectors.Report | None:
    try:
        return selectors.population_report()
    except NotFound:
        return None


def life_expectancy_gap_male() -> MeasureValue | None:
    """The slope index of inequality in male life expectancy at birth across deciles."""
    report = _report()
    gap = next((g for g in report.gaps if g.sex == "male"), None) if report else None
    if report is None or gap is None:
        return None
    years = f"{gap.years[0]}-{gap.years[-1]}" if len(gap.years) > 1 else str(gap.years[0])
    return MeasureValue(
        round(gap.sii, 1),
        as_of=report.as_of,
        note=f"slope index of inequality across local deprivation deciles, {years} "
        f"(95% CI {gap.lower:.1f} to {gap.upper:.1f})",
    )


def _borough_value(name: str) -> MeasureValue | None:
    """The borough's value of one scorecard measure (every scorecard carries it)."""
    report = _report()
    if report is None or not report.scorecards:
        return None
    card = next(iter(report.scorecards.values()))
    measure = next((m for m in card.measures if m.name == name), None)
    if measure is None or measure.borough is None:
        return None
    return MeasureValue(
        round(measure.borough, 1), as_of=report.as_of, note=f"borough, {measure.period}"
    )


def emergency_admissions_65plus() -> MeasureValue | None:
    return _borough_value("Emergency admissions, people 65+")


def deaths_in_usual_residence() -> MeasureValue | None:
    return _borough_value("Deaths in the usual place of residence")


def flu_uptake_gap_deciles() -> MeasureValue | None:
    """Percentage points between the highest and lowest flu uptake (65+) of the deciles."""
    report = _report()
    flu = next((u for u in report.uptake if u.programme.key == "flu65"), None) if report else None
    if report is None or flu is None:
        return None
    values = [r["value"] for r in flu.tables["imd_decile"].rows if r.get("value") is not None]
    if len(values) < 2:
        return None
    return MeasureValue(
        round(max(values) - min(values), 1),
        as_of=report.as_of,
        note=f"{flu.programme.name}, {flu.period}: highest minus lowest decile",
    )


MEASURES: tuple[tuple[str, str, str, Callable[[], MeasureValue | None]], ...] = (
    (
        "life_expectancy_gap_years_male",
        "Life expectancy gap, males",
        "years",
        life_expectancy_gap_male,
    ),
    (
        "emergency_admissions_per_1000_65plus",
        "Emergency admissions of people 65+",
        "per 1,000",
        emergency_admissions_65plus,
    ),
    (
        "deaths_in_usual_residence_percent",
        "Deaths in the usual place of residence",
        "%",
        deaths_in_usual_residence,
    ),
    (
        "flu_uptake_65plus_gap_deciles",
        "Gap in flu vaccine uptake (65+) between deprivation deciles",
        "percentage points",
        flu_uptake_gap_deciles,
    ),
)


def register() -> None:
    for code, label, unit, compute in MEASURES:
        register_measure(code, label, unit, compute)

"""One scorecard per neighbourhood against the partnership's three aims.

Each measure says what it is (definition), how it is worked out (method), for when
(period), its value and 95% interval, the borough's value, and how the neighbourhood
compares: "higher" or "lower" only when the interval excludes the borough's value,
"similar" otherwise, with whether that is better or worse where a direction is clear.
Only measures the record can support honestly are included: there is no capacity data
in the warehouse, so demand against capacity is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from django.utils.text import slugify

from joinedup.population import indicators as ind
from joinedup.population import vaccines
from joinedup.population.warehouse import Warehouse

if TYPE_CHECKING:
    from joinedup.population.selectors import Report

AIMS = ("Healthier people", "Quality services", "Sustainable system")
Figure = tuple[float, float | None, float | None, int]  # value, lower, upper, count


@dataclass(frozen=True)
class Measure:
    aim: str
    name: str
    definition: str
    method: str
    period: str
    unit: str
    value: float | None
    lower: float | None
    upper: float | None
    borough: float | None
    higher_is_better: bool | None

    @property
    def comparison(self) -> str:
        if self.value is None or self.borough is None:
            return "Not compared"
        if self.lower is None or self.upper is None:
            return "Not compared (a count of everyone, no interval)"
        if self.lower > self.borough:
            side = "Higher than the borough"
            better = self.higher_is_better
        elif self.upper < self.borough:
            side = "Lower than the borough"
            better = None if self.higher_is_better is None else not self.higher_is_better
        else:
            return "Similar to the borough"
        if better is None:
            return side
        return f"{side} (better)" if better else f"{side} (worse)"


@dataclass
class Scorecard:
    neighbourhood: str
    slug: str
    measures: list[Measure] = field(default_factory=list)

    def table(self) -> ind.Table:
        table = ind.Table(
            f"scorecard-{self.slug}",
            f"Scorecard: {self.neighbourhood}",
            [
                ("aim", "Aim"),
                ("measure", "Measure"),
                ("period", "Period"),
                ("value", "Value"),
                ("lower", "Lower 95% limit"),
                ("upper", "Upper 95% limit"),
                ("borough", "Borough"),
                ("comparison", "Compared with the borough"),
                ("definition", "Definition"),
                ("method", "Method"),
            ],
        )
        for m in self.measures:
            table.rows.append(
                {
                    "aim": m.aim,
                    "measure": f"{m.name} ({m.unit})",
                    "period": m.period,
                    "value": _round(m.value),
                    "lower": _round(m.lower),
                    "upper": _round(m.upper),
                    "borough": _round(m.borough),
                    "comparison": m.comparison,
                    "definition": m.definition,
                    "method": m.method,
                }
            )
        return table


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def scorecards(wh: Warehouse, report: Report) -> dict[str, Scorecard]:
    hoods = ind.area_keys(report.inputs, "neighbourhood")
    period = ind.period_label(report.period)
    fy = report.period[-1]
    fy_text = f"financial year {ind.fy_label(fy)}"
    per_area: list[tuple[str, str, str, str, str, str, bool | None, dict[str, Any]]] = []
    le = {(r["area"], r["sex"], r["age"]): r for r in report.table("life-expectancy").rows}
    for sex in ind.SEXES:
        label = ind.SEX_LABELS[sex]
        per_area.append(
            (
                AIMS[0],
                f"Life expectancy at birth, {label.lower()}",
                "years",
                "Average number of years a baby would live at current death rates in the area.",
                "Chiang II abridged life table (Silcocks' variance for 90+), three years pooled.",
                period,
                True,
                {a: _from_row(le.get((a, label, 0))) for a in [*hoods, "Borough"]},
            )
        )
    premature = {r["area"]: r for r in report.table("premature-mortality").rows}
    per_area.append(
        (
            AIMS[0],
            "Deaths under 75, all causes",
            "per 100,000",
            "Deaths before the age of 75 per 100,000 people, age-standardised.",
            "Directly standardised rate (ESP2013, ages 0-74) with Dobson limits.",
            period,
            False,
            {a: _from_dsr(premature.get(a)) for a in [*hoods, "Borough"]},
        )
    )
    per_area.append(
        (
            AIMS[0],
            "Years of life lost before 75",
            "per 10,000",
            "Years lost by deaths before 75 per 10,000 people, age-standardised.",
            "75 minus the middle of each death's age band, standardised to ESP2013 (no interval).",
            period,
            False,
            {a: _plain(premature.get(a), "yll") for a in [*hoods, "Borough"]},
        )
    )
    if report.frailty is not None:
        frail = {r["area"]: r for r in report.frailty.by_neighbourhood.rows}
        per_area.append(
            (
                AIMS[0],
                "Moderate or severe frailty, people 65+",
                "%",
                "People aged 65 or over whose electronic Frailty Index is moderate or severe.",
                "eFI from coded records (9+ of 36 deficits); Wilson limits.",
                f"as at {report.as_of:%-d %B %Y}",
                False,
                {a: _from_row(frail.get(a)) for a in [*hoods, "Borough"]},
            )
        )
    per_area.append(
        (
            AIMS[1],
            "Emergency admissions, people 65+",
            "per 1,000 people 65+",
            "Emergency hospital admissions of people aged 65 or over per 1,000 residents 65+.",
            "Crude rate; exact Poisson limits under 10 events, Byars above.",
            fy_text,
            False,
            ind.emergency_admissions(wh, report.inputs, fy),
        )
    )
    per_area.append(
        (
            AIMS[1],
            "Discharge delay",
            "days",
            "Average days from the discharge ready date to discharge, among delayed discharges.",
            "Mean with Student's t limits.",
            fy_text,
            False,
            ind.discharge_delay(wh, fy),
        )
    )
    per_area.append(
        (
            AIMS[1],
            "Deaths in the usual place of residence",
            "%",
            "Deaths at home or in a care home, as a share of all deaths.",
            "Proportion with Wilson limits.",
            period,
            True,
            ind.usual_residence_deaths(wh, report.period),
        )
    )
    flu = next((u for u in report.uptake if u.programme.key == vaccines.PROGRAMMES[0].key), None)
    if flu is not None:
        rows: dict[str, dict[str, Any] | None] = {
            r["area"]: r for r in flu.tables["neighbourhood"].rows
        }
        total = [sum(c["vaccinated"] for c in flu.cells), sum(c["eligible"] for c in flu.cells)]
        rows["Borough"] = _borough_proportion(*total)
        per_area.append(
            (
                AIMS[1],
                "Flu vaccine uptake, people 65+",
                "%",
                flu.programme.definition,
                "Proportion with Wilson limits.",
                flu.period,
                True,
                {a: _from_row(rows.get(a)) for a in [*hoods, "Borough"]},
            )
        )
    per_area.append(
        (
            AIMS[2],
            "Weekly cost of packages of care per adult",
            "£ per adult resident",
            (
                "Weekly cost of the adult social care packages live on the day, "
                "per resident aged 15+ "
                "(the population bands do not separate 18 and 19)."
            ),
            "Total of every live package (a census, so no interval).",
            f"as at {report.as_of:%-d %B %Y}",
            None,
            ind.packages_cost(wh, report.inputs, report.as_of),
        )
    )
    return {slugify(h): _card(h, per_area) for h in hoods}


def _card(
    hood: str, specs: list[tuple[str, str, str, str, str, str, bool | None, dict[str, Any]]]
) -> Scorecard:
    card = Scorecard(hood, slugify(hood))
    for aim, name, unit, definition, method, period, better, figures in specs:
        mine, borough = figures.get(hood), figures.get("Borough")
        card.measures.append(
            Measure(
                aim,
                name,
                definition,
                method,
                period,
                unit,
                mine[0] if mine else None,
                mine[1] if mine else None,
                mine[2] if mine else None,
                borough[0] if borough else None,
                better,
            )
        )
    return card


def _from_row(row: dict[str, Any] | None) -> Figure | None:
    if not row or row.get("value") is None:
        return None
    return (row["value"], row.get("lower"), row.get("upper"), 0)


def _from_dsr(row: dict[str, Any] | None) -> Figure | None:
    if not row or row.get("dsr") is None:
        return None
    return (row["dsr"], row.get("lower"), row.get("upper"), row.get("deaths") or 0)


def _plain(row: dict[str, Any] | None, key: str) -> Figure | None:
    if not row or row.get(key) is None:
        return None
    return (row[key], None, None, 0)


def _borough_proportion(x: int, n: int) -> dict[str, Any] | None:
    if n < ind.SMALL:
        return None
    rows = ind.proportion_rows(
        ["Borough"],
        *map(_array, (x, n)),
        area_key="area",
        count_key="vaccinated",
        base_key="eligible",
    )
    return rows[0]


def _array(v: int) -> npt.NDArray[np.float64]:
    return np.array([v], dtype=np.float64)

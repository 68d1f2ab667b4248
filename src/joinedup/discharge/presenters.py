"""What the discharge pages show: metrics tables and charts, the planner form and a
saved scenario's results, as plain values for the templates and the downloads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from markupsafe import Markup

from joinedup.discharge import charts, metrics, selectors
from joinedup.discharge.models import PlannerScenario
from joinedup.errors import InvalidInput
from joinedup.web.tables import Table

PATHWAY_NAMES = {-1: "Not recorded", 0: "Pathway 0", 1: "Pathway 1", 2: "Pathway 2", 3: "Pathway 3"}
COLUMNS = (
    "Discharges",
    "Discharged on their DRD",
    "% on DRD",
    *(f"Delay {b} days" for b in metrics.BAND_LABELS),
    "Delayed bed-days",
    "Average delay, including zero-day delays (days)",
    "Average delay, excluding zero-day delays (days)",
)


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def summary_row(s: metrics.DelaySummary) -> list[Any]:
    share = s.share_on_drd
    return [
        s.discharges,
        s.on_drd,
        None if share is None else round(100 * share, 1),
        *s.bands,
        s.delayed_bed_days,
        _r(s.mean_delay_including_zero),
        _r(s.mean_delay_excluding_zero),
    ]


@dataclass
class MetricsView:
    period: str
    since: date | None
    until: date | None
    total: metrics.DelaySummary
    by_period: list[metrics.DelaySummary]
    by_pathway: list[metrics.DelaySummary]
    by_ward: list[metrics.DelaySummary]
    ward_names: dict[str, str]
    census: list[tuple[str, float]]
    trend: list[metrics.DelaySummary]
    law: metrics.LittlesLaw | None

    def pathway_label(self, key: str) -> str:
        return PATHWAY_NAMES.get(int(key), key)

    def ward_label(self, key: str) -> str:
        name = self.ward_names.get(key, "")
        return f"{name} ({key})" if name else key

    @property
    def trend_chart(self) -> Markup:
        return charts.trend_chart(
            "chart-trend",
            "Average delay from discharge ready date to discharge, "
            "excluding zero-day delays, by month",
            [(s.key, s.mean_delay_excluding_zero) for s in self.trend],
            unit="days",
            what="average delay excluding zero-day delays",
        )

    @property
    def census_chart(self) -> Markup:
        return charts.trend_chart(
            "chart-census",
            f"Patients not meeting the criteria to reside, daily average by {self.period}",
            [(k, v) for k, v in self.census],
            unit="patients",
            what="the daily census of patients not meeting the criteria to reside",
        )

    @property
    def bands_chart(self) -> Markup:
        n = self.total.discharges or 1
        return charts.bands_chart(
            "chart-bands",
            "Discharges by days of delay",
            [(b, 100 * c / n) for b, c in zip(metrics.BAND_LABELS, self.total.bands, strict=True)],
        )

    def note(self) -> str:
        return (
            f"Discharges from {self.since} to {self.until} with a discharge ready date "
            "(deaths in hospital left out). Delay = days from the discharge ready date to "
            "discharge. NHS England definitions."
        )

    def tables(self) -> dict[str, Table]:
        note = self.note()
        heading = metrics.PERIODS[self.period]
        return {
            "by-period": Table(
                f"By {self.period}",
                (heading, *COLUMNS),
                [[s.key, *summary_row(s)] for s in self.by_period],
                note,
            ),
            "by-pathway": Table(
                "By pathway",
                ("Pathway", *COLUMNS),
                [[self.pathway_label(s.key), *summary_row(s)] for s in self.by_pathway],
                note,
            ),
            "by-ward": Table(
                "By ward",
                ("Ward", *COLUMNS),
                [[self.ward_label(s.key), *summary_row(s)] for s in self.by_ward],
                note,
            ),
            "census": Table(
                "Census",
                (heading, "Patients not meeting the criteria to reside (daily average)"),
                [[k, round(v, 2)] for k, v in self.census],
                "Patients not meeting the criteria to reside at the end of each day, averaged.",
            ),
            "trend": Table(
                "Monthly trend",
                ("Month", *COLUMNS),
                [[s.key, *summary_row(s)] for s in self.trend],
                "Every month in the tracker. " + note,
            ),
        }


def metrics_view(*, period: str, since: date | None, until: date | None) -> MetricsView:
    everything = selectors.discharges()
    data = selectors.discharges(since=since, until=until) if since else everything
    delay = data.delay
    starts, ends = selectors.episodes_spans(since=since)
    census: list[tuple[str, float]] = []
    law = None
    if since and until and since <= until:
        daily = metrics.daily_census(starts, ends, since, until)
        days = np.arange(np.datetime64(since, "D"), np.datetime64(until, "D") + 1)
        keys = metrics.period_keys(days, period)  # type: ignore[arg-type]
        census = [(k, float(daily[keys == k].mean())) for k in sorted(set(keys.tolist()))]
        law = metrics.littles_law(data.discharged, data.ready, starts, ends, since, until)
    return MetricsView(
        period=period,
        since=since,
        until=until,
        total=metrics.summarise(delay)[0],
        by_period=metrics.summarise(delay, metrics.period_keys(data.discharged, period)),  # type: ignore[arg-type]
        by_pathway=metrics.summarise(delay, data.pathway.astype(str)),
        by_ward=metrics.summarise(delay, data.ward),
        ward_names=selectors.ward_names(),
        census=census,
        trend=metrics.summarise(
            everything.delay, metrics.period_keys(everything.discharged, "month")
        ),
        law=law,
    )


# --- the planner -------------------------------------------------------------------------

_GLOBAL = ("target_mean_delay_days", "replications", "horizon_days", "seed", "bed_day_cost")


def planner_form_values(fitted: dict[str, Any]) -> dict[str, str]:
    values = {"name": "", "description": ""}
    values.update({k: f"{fitted[k]:g}" for k in _GLOBAL})
    for p in fitted["pathways"]:
        k = p["pathway"]
        values[f"p{k}_arrivals"] = f"{p['arrivals_per_day']:g}"
        values[f"p{k}_capacity"] = f"{p['capacity']:g}"
        values[f"p{k}_distribution"] = p["distribution"]
        values[f"p{k}_mean"] = f"{p['mean_stay_days']:g}"
        values[f"p{k}_cv"] = f"{p['stay_cv']:g}"
    return values


def _number(data: Any, name: str, label: str, low: float, high: float) -> float:
    text = str(data.get(name, "")).strip().replace(",", "")
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"enter {label} as a number", where=name) from None
    if not (math.isfinite(value) and low <= value <= high):
        raise InvalidInput(f"{label} must be between {low:g} and {high:g}", where=name)
    return value


def planner_inputs_from_form(fitted: dict[str, Any], data: Any) -> tuple[dict[str, Any], str, str]:
    """The fitted inputs with the planner's edits, checked; and the name to save under."""
    name = " ".join(str(data.get("name", "")).split())
    if not name:
        raise InvalidInput(
            "give the scenario a name, so it can be found and compared", where="name"
        )
    inputs = dict(fitted)
    inputs["target_mean_delay_days"] = _number(
        data, "target_mean_delay_days", "the target", 0.1, 60
    )
    inputs["replications"] = int(
        _number(data, "replications", "the number of replications", 2, 500)
    )
    inputs["horizon_days"] = int(_number(data, "horizon_days", "the days to simulate", 30, 3650))
    inputs["seed"] = int(_number(data, "seed", "the seed", 0, 2**31))
    inputs["bed_day_cost"] = _number(data, "bed_day_cost", "the bed-day cost", 0, 100000)
    pathways = []
    for p in fitted["pathways"]:
        k = p["pathway"]
        edited = dict(p)
        edited["arrivals_per_day"] = _number(data, f"p{k}_arrivals", "arrivals a day", 0, 1000)
        edited["capacity"] = _number(data, f"p{k}_capacity", "the capacity", 0, 10**6)
        distribution = data.get(f"p{k}_distribution", p["distribution"])
        if distribution not in ("empirical", "lognormal") or (
            distribution == "empirical" and not p["stay_samples"]
        ):
            raise InvalidInput(
                "choose lognormal: there are too few finished stays to resample",
                where=f"p{k}_distribution",
            )
        edited["distribution"] = distribution
        edited["mean_stay_days"] = _number(data, f"p{k}_mean", "the mean stay", 0.1, 5000)
        edited["stay_cv"] = _number(data, f"p{k}_cv", "the spread (CV)", 0.05, 10)
        if edited["arrivals_per_day"] > 0 and edited["capacity"] < edited["units_per_place"]:
            raise InvalidInput(
                "the capacity must be at least one place "
                f"({edited['units_per_place']:g} {edited['unit']})",
                where=f"p{k}_capacity",
            )
        pathways.append(edited)
    inputs["pathways"] = pathways
    return inputs, name, str(data.get("description", ""))


@dataclass
class ScenarioView:
    scenario: PlannerScenario
    inputs: dict[str, Any]
    results: dict[str, Any]
    charts: list[Markup]

    @property
    def target(self) -> float:
        return float(self.inputs["target_mean_delay_days"])


def scenario_view(found: PlannerScenario) -> ScenarioView:
    target = float(found.inputs["target_mean_delay_days"])
    drawn = []
    for p in found.results["pathways"]:
        points = [
            (
                c["capacity"],
                c["mean_delay_days"]["mean"] or 0.0,
                c["mean_delay_days"]["low"] or 0.0,
                c["mean_delay_days"]["high"] or 0.0,
            )
            for c in p["curve"]
        ]
        drawn.append(
            charts.curve_chart(
                f"chart-{found.pk}-{p['name'].replace(' ', '-')}",
                f"{p['label']}: mean delay against capacity",
                points,
                target=target,
                least=p["least"]["capacity"],
                current=p["capacity"],
                x_label=p["unit"],
            )
        )
    return ScenarioView(found, found.inputs, found.results, drawn)


def _ci(e: dict[str, Any] | None) -> tuple[Any, Any, Any]:
    if not e:
        return (None, None, None)
    return (e.get("mean"), e.get("low"), e.get("high"))


def scenario_tables(found: PlannerScenario) -> list[Table]:
    target = found.inputs["target_mean_delay_days"]
    note = f"Scenario '{found.name}', target mean delay {target:g} days."
    inputs = Table(
        "Inputs",
        ("Pathway", "Arrivals a day", "Capacity", "Unit", "Units per place", "Stay distribution",
         "Mean stay (days)", "Stay CV", "In service now", "Waiting in hospital now"),
        [
            [p["label"], p["arrivals_per_day"], p["capacity"], p["unit"], p["units_per_place"],
             p["distribution"], p["mean_stay_days"], p["stay_cv"], p["in_service"],
             len(p["waiting_days"])]
            for p in found.inputs["pathways"]
        ],
        note,
    )  # fmt: skip
    results = Table(
        "Results",
        ("Pathway", "Capacity", "Places", "Mean delay (days)", "95% CI low", "95% CI high",
         "Share delayed", "Delayed bed-days a year", "Utilisation",
         "Least capacity for target", "Mean delay there (days)", "Capacity cost a year"),
        [
            [p["label"], p["capacity"], p["places"], *_ci(p["mean_delay_days"]),
             p["share_delayed"]["mean"], p["delayed_bed_days_per_year"]["mean"],
             p["utilisation"]["mean"], p["least"]["capacity"],
             p["least"]["mean_delay_days"]["mean"],
             p["capacity_cost_per_year"]]
            for p in found.results["pathways"]
        ],
        note,
    )  # fmt: skip
    curve = Table(
        "Trade-off curve",
        ("Pathway", "Capacity", "Places", "Mean delay (days)", "95% CI low", "95% CI high",
         "Share delayed", "Capacity cost a year", "Delay cost a year", "Total cost a year"),
        [
            [p["label"], c["capacity"], c["places"], *_ci(c["mean_delay_days"]),
             c["share_delayed"]["mean"], c["capacity_cost_per_year"], c["delay_cost_per_year"],
             c["total_cost_per_year"]]
            for p in found.results["pathways"]
            for c in p["curve"]
        ],
        note,
    )  # fmt: skip
    return [inputs, results, curve]

"""The capacity planner: inputs fitted from the record, questions put to the simulator.

``planner_inputs`` fits, per pathway 1-3, Poisson arrivals (patients becoming ready a
day, from their DRDs), lengths of stay in the pathway's service (empirical, or a
lognormal with the same mean and spread) and today's census (in service now; waiting in
hospital now, with days waited). ``plan_run`` builds a ``simulation.Scenario`` from the
(possibly edited) inputs and asks the kernel three things: the delays at the given
capacity, the least capacity keeping the mean delay under the target, and the
delay-capacity-cost curve. Inputs and results are plain JSON (aggregates only), so a
scenario is saved, compared and exported as it was run.

It never re-implements the simulation: that is ``joinedup.discharge.simulation``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from joinedup.discharge import selectors, sources
from joinedup.discharge.simulation import (
    BAND_LABELS,
    Census,
    Lognormal,
    Pathway,
    Run,
    Scenario,
    StayDistribution,
    empirical,
    poisson_rate,
    simulate_scenario,
    smallest_capacity,
    sweep_pathway,
)
from joinedup.discharge.simulation.stats import Estimate
from joinedup.errors import InvalidInput

FIT_DAYS = 182  # arrivals are fitted from the last six months of DRDs
STAY_YEARS = 2  # stays from services that ended in the last two years
MAX_SAMPLES = 400  # an empirical stay keeps at most this many quantiles


@dataclass(frozen=True)
class PathwayDefaults:
    label: str
    unit: str
    units_per_place: float
    cost_per_unit_per_day: float


PATHWAYS: dict[int, PathwayDefaults] = {
    1: PathwayDefaults("Pathway 1: home with support", "home-care hours a week", 14.0, 4.0),
    2: PathwayDefaults("Pathway 2: community bed", "community beds", 1.0, 250.0),
    3: PathwayDefaults("Pathway 3: care home", "care-home places", 1.0, 150.0),
}
BED_DAY_COST = 395.0


def planner_inputs(*, today: date) -> dict[str, Any]:
    """Everything the planner form starts from, fitted from the tracker and the record."""
    first = today - timedelta(days=FIT_DAYS)
    counts = selectors.ready_counts_by_pathway(first=first, last=today - timedelta(days=1))
    waiting = selectors.waiting_now(today=today)
    pathways = []
    for k, defaults in PATHWAYS.items():
        use = sources.service_use(k, since=today - timedelta(days=365 * STAY_YEARS), today=today)
        pathways.append(_pathway_inputs(k, defaults, counts[k], use, waiting[k]))
    return {
        "fitted_on": today.isoformat(),
        "fit_days": FIT_DAYS,
        "target_mean_delay_days": 4.0,
        "horizon_days": 365,
        "replications": 40,
        "seed": 1,
        "bed_day_cost": BED_DAY_COST,
        "pathways": pathways,
    }


def _pathway_inputs(
    k: int,
    defaults: PathwayDefaults,
    counts: list[int],
    use: sources.ServiceUse,
    waiting_days: list[float],
) -> dict[str, Any]:
    events = sum(counts)
    rate = poisson_rate(counts).per_day if events else 0.0
    notes = [f"{events} patients became ready in the last {len(counts)} days"]
    stays = sorted(s for s in use.stays_days if s > 0)
    if len(stays) >= 20:
        samples = _quantiles(stays)
        mean = float(np.mean(stays))
        cv = float(np.std(stays) / mean) if mean > 0 else 0.5
        notes.append(f"stays fitted from {len(stays)} finished episodes of the service")
        distribution = "empirical"
    else:
        # Too few finished stays: Little's law gives the mean (in service / arrivals).
        mean = use.in_service / rate if rate > 0 and use.in_service > 0 else 21.0
        cv, samples, distribution = 1.0, [], "lognormal"
        notes.append("too few finished stays: mean stay from Little's law, spread assumed")
    places = max(use.in_service, math.ceil(rate * mean), 1)
    return {
        "pathway": k,
        "label": defaults.label,
        "unit": defaults.unit,
        "units_per_place": defaults.units_per_place,
        "cost_per_unit_per_day": defaults.cost_per_unit_per_day,
        "arrivals_per_day": round(rate, 4),
        "arrivals_ci95": list(_rate_interval(counts)),
        "distribution": distribution,
        "mean_stay_days": round(mean, 2),
        "stay_cv": round(max(cv, 0.05), 3),
        "stay_samples": samples,
        "capacity": places * defaults.units_per_place,
        "in_service": use.in_service,
        "waiting_days": sorted(waiting_days, reverse=True),
        "notes": notes,
    }


def _rate_interval(counts: list[int]) -> tuple[float, float]:
    if not sum(counts):
        return (0.0, 0.0)
    fit = poisson_rate(counts)
    return (round(fit.low, 4), round(fit.high, 4))


def _quantiles(stays: list[float]) -> list[float]:
    """The stays themselves, or evenly spaced quantiles of them when there are many."""
    if len(stays) <= MAX_SAMPLES:
        return [round(s, 3) for s in stays]
    q = (np.arange(MAX_SAMPLES) + 0.5) / MAX_SAMPLES
    return [round(float(v), 3) for v in np.quantile(np.array(stays), q)]


def stay_of(p: dict[str, Any]) -> StayDistribution:
    if p["distribution"] == "empirical" and p.get("stay_samples"):
        return empirical(p["stay_samples"])
    return Lognormal(float(p["mean_stay_days"]), float(p["stay_cv"]))


def scenario_of(inputs: dict[str, Any]) -> Scenario:
    """The kernel's scenario from the planner's inputs (refusing what cannot be run)."""
    run = Run(
        horizon_days=float(inputs["horizon_days"]),
        replications=int(inputs["replications"]),
        seed=int(inputs["seed"]),
    )
    pathways = tuple(
        Pathway(
            name=f"pathway {p['pathway']}",
            label=p["label"],
            arrivals_per_day=float(p["arrivals_per_day"]),
            stay=stay_of(p),
            capacity=float(p["capacity"]),
            unit=p["unit"],
            units_per_place=float(p["units_per_place"]),
            cost_per_unit_per_day=float(p["cost_per_unit_per_day"]),
            census=Census(occupied=int(p["in_service"]), waiting_days=tuple(p["waiting_days"])),
        )
        for p in inputs["pathways"]
        if float(p["arrivals_per_day"]) > 0
    )
    if not pathways:
        raise InvalidInput("no pathway has any arrivals to simulate", where="arrivals_per_day")
    return Scenario(
        name="planner",
        pathways=pathways,
        run=run,
        bed_day_cost=float(inputs["bed_day_cost"]),
        target_mean_delay_days=float(inputs["target_mean_delay_days"]),
    )


def plan_run(inputs: dict[str, Any], *, levels: int = 12) -> dict[str, Any]:
    """Delays at today's capacity, the least capacity for the target, and the curve."""
    scenario = scenario_of(inputs)
    target = float(inputs["target_mean_delay_days"])
    result = simulate_scenario(scenario)
    out: dict[str, Any] = {
        "system": {
            "mean_delay_days": _est(result.mean_delay_days),
            "share_delayed": _est(result.share_delayed),
            "delayed_bed_days_per_year": _est(result.delayed_bed_days_per_year),
            "capacity_cost_per_year": result.capacity_cost_per_year,
            "total_cost_per_year": _est(result.total_cost_per_year),
        },
        "pathways": [],
    }
    for pathway, pr in zip(scenario.pathways, result.pathways, strict=True):
        answer = smallest_capacity(pathway, scenario.run, target)
        levels_for = _levels(pathway, answer.places, levels)
        curve = sweep_pathway(pathway, levels_for, scenario.run, bed_day_cost=scenario.bed_day_cost)
        s = pr.summary
        out["pathways"].append(
            {
                "name": pathway.name,
                "label": pathway.label,
                "unit": pathway.unit,
                "capacity": pr.capacity,
                "places": pr.places,
                "offered_load_places": pathway.offered_load,
                "mean_delay_days": _est(s.mean_wait_days),
                "share_delayed": _est(s.share_delayed),
                "bands": {b: _est(e) for b, e in zip(BAND_LABELS, s.band_shares, strict=True)},
                "mean_waiting_in_hospital": _est(s.mean_waiting),
                "delayed_bed_days_per_year": _est(s.wait_days_per_year),
                "utilisation": _est(s.utilisation),
                "capacity_cost_per_year": pr.capacity_cost_per_year,
                "least": {
                    "places": answer.places,
                    "capacity": answer.capacity,
                    "mean_delay_days": _est(answer.mean_delay_days),
                    "below": _est(answer.below) if answer.below else None,
                    "capacity_cost_per_year": pathway.capacity_cost_per_year(answer.capacity),
                },
                "curve": [
                    {
                        "capacity": c.capacity,
                        "places": c.places,
                        "mean_delay_days": _est(c.mean_delay_days),
                        "share_delayed": _est(c.share_delayed),
                        "capacity_cost_per_year": c.capacity_cost_per_year,
                        "delay_cost_per_year": c.delay_cost_per_year,
                        "total_cost_per_year": c.total_cost_per_year,
                    }
                    for c in curve
                ],
            }
        )
    out["seconds"] = result.seconds
    return out


def _levels(pathway: Pathway, least: int, count: int) -> list[float]:
    """Capacities around today's and the least one, so both show on the curve."""
    low = max(1, min(pathway.places, least) - max(2, least // 10))
    high = max(pathway.places, least) + max(2, least // 10)
    places = np.unique(np.round(np.linspace(low, high, count)).astype(int))
    return [float(p) * pathway.units_per_place for p in places.tolist()]


def _est(value: Estimate) -> dict[str, float | None]:
    def num(x: float) -> float | None:
        return None if not math.isfinite(x) else round(x, 6)

    return {"mean": num(value.mean), "low": num(value.low), "high": num(value.high)}

"""The discharge pathway model: pathways 1-3, each a queue in front of its own capacity.

A patient who no longer meets the criteria to reside is referred to a pathway on their
discharge-ready date (Poisson arrivals per pathway). If the pathway has a free place
(home-care package slot, community bed, care-home place) they leave hospital that day;
otherwise they wait in hospital, first come first served, and every day waited is a
discharge delay and a hospital bed-day lost. Pathways do not share capacity, so each is
simulated as its own queue (``queue.simulate_queue``) from today's census, on its own
named random streams; replication ``r`` of every pathway forms replication ``r`` of the
system, so system totals get intervals too.

Capacity is given in the pathway's own unit (say, home-care hours a week) and turned
into places with ``units_per_place`` (say, 14 hours a week per package).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from joinedup.discharge.simulation.queue import (
    Census,
    Progress,
    Queue,
    QueueRuns,
    QueueSummary,
    Run,
    simulate_queue,
    summarise,
)
from joinedup.discharge.simulation.stats import Estimate, FloatArray, estimate, ratio
from joinedup.discharge.simulation.stays import StayDistribution
from joinedup.errors import InvalidInput

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Pathway:
    """One discharge pathway: demand, stays, capacity (in its own unit), cost and census."""

    name: str
    arrivals_per_day: float
    stay: StayDistribution
    capacity: float
    unit: str = "places"
    units_per_place: float = 1.0
    cost_per_unit_per_day: float = 0.0
    census: Census = field(default_factory=Census)
    label: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("a pathway needs a name", where="pathway")
        if not (math.isfinite(self.units_per_place) and self.units_per_place > 0):
            raise InvalidInput("units_per_place must be positive", where=self.name)
        if not (math.isfinite(self.cost_per_unit_per_day) and self.cost_per_unit_per_day >= 0):
            raise InvalidInput("cost_per_unit_per_day must not be negative", where=self.name)
        self.places_for(self.capacity)

    @property
    def places(self) -> int:
        return self.places_for(self.capacity)

    @property
    def offered_load(self) -> float:
        """Places busy on average if no one ever waited: arrivals a day x mean stay."""
        return self.arrivals_per_day * self.stay.mean_days

    def places_for(self, capacity: float) -> int:
        """Whole places a capacity in units buys (at least one)."""
        places = math.floor(capacity / self.units_per_place + 1e-9)
        if not math.isfinite(capacity) or places < 1:
            raise InvalidInput(
                f"capacity {capacity:g} {self.unit} is less than one place "
                f"({self.units_per_place:g} {self.unit} each)",
                where=self.name,
            )
        return places

    def queue(self) -> Queue:
        """The pathway as a delay queue on its own named streams."""
        return Queue(self.arrivals_per_day, self.stay, self.census, loss=False, key=self.name)

    def capacity_cost_per_year(self, capacity: float) -> float:
        return capacity * self.cost_per_unit_per_day * DAYS_PER_YEAR


@dataclass(frozen=True)
class Scenario:
    """A named what-if: the pathways, how long and how often to simulate, costs, target."""

    name: str
    pathways: tuple[Pathway, ...]
    run: Run
    bed_day_cost: float = 0.0  # cost of a hospital bed-day occupied by a delayed patient
    target_mean_delay_days: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        names = [p.name for p in self.pathways]
        if not names:
            raise InvalidInput("a scenario needs at least one pathway", where=self.name)
        if len(set(names)) != len(names):
            raise InvalidInput("pathway names must be distinct", where=self.name)


@dataclass(frozen=True)
class PathwayResult:
    """One pathway at one capacity."""

    pathway: Pathway
    capacity: float
    places: int
    summary: QueueSummary
    capacity_cost_per_year: float
    delay_cost_per_year: Estimate


@dataclass(frozen=True)
class ScenarioResult:
    """Every pathway, and the system totals with intervals across replications."""

    scenario: Scenario
    pathways: tuple[PathwayResult, ...]
    mean_delay_days: Estimate
    share_delayed: Estimate
    mean_delayed_in_hospital: Estimate  # hospital beds held by delayed patients, on average
    delayed_bed_days_per_year: Estimate
    capacity_cost_per_year: float
    total_cost_per_year: Estimate  # capacity plus delayed bed-days
    seconds: float


def pathway_runs(
    pathway: Pathway, capacities: Sequence[float], run: Run, *, progress: Progress | None = None
) -> QueueRuns:
    """Simulate one pathway at several capacities (in units) on the same patients."""
    places = [pathway.places_for(c) for c in capacities]
    return simulate_queue(pathway.queue(), places, run, progress=progress)


def pathway_result(
    pathway: Pathway, capacity: float, runs: QueueRuns, index: int, bed_day_cost: float
) -> PathwayResult:
    """Summarise capacity ``runs.capacities[index]`` of a pathway, with its costs."""
    summary = summarise(runs, index)
    return PathwayResult(
        pathway=pathway,
        capacity=capacity,
        places=summary.capacity,
        summary=summary,
        capacity_cost_per_year=pathway.capacity_cost_per_year(capacity),
        delay_cost_per_year=_scaled(summary.wait_days_per_year, bed_day_cost),
    )


def simulate_scenario(scenario: Scenario, *, progress: Progress | None = None) -> ScenarioResult:
    """Run every pathway at its capacity and add up the system."""
    began = time.perf_counter()
    runs = [
        pathway_runs(p, [p.capacity], scenario.run, progress=progress) for p in scenario.pathways
    ]
    results = tuple(
        pathway_result(p, p.capacity, r, 0, scenario.bed_day_cost)
        for p, r in zip(scenario.pathways, runs, strict=True)
    )
    arrivals = _total(runs, "arrivals")
    wait_days = _total(runs, "wait_days")
    per_year = DAYS_PER_YEAR / scenario.run.window_days
    capacity_cost = sum(r.capacity_cost_per_year for r in results)
    return ScenarioResult(
        scenario=scenario,
        pathways=results,
        mean_delay_days=estimate(ratio(wait_days, arrivals)),
        share_delayed=estimate(ratio(_total(runs, "delayed"), arrivals)),
        mean_delayed_in_hospital=estimate(_total(runs, "waiting_days") / scenario.run.window_days),
        delayed_bed_days_per_year=estimate(wait_days * per_year),
        capacity_cost_per_year=capacity_cost,
        total_cost_per_year=estimate(capacity_cost + wait_days * per_year * scenario.bed_day_cost),
        seconds=time.perf_counter() - began,
    )


def _total(runs: Sequence[QueueRuns], name: str) -> FloatArray:
    """Per-replication sum over pathways of one total (first capacity of each run)."""
    return np.sum([getattr(r, name)[0] for r in runs], axis=0)  # type: ignore[no-any-return]


def _scaled(value: Estimate, factor: float) -> Estimate:
    return Estimate(
        value.mean * factor,
        value.low * factor,
        value.high * factor,
        value.se * factor,
        value.replications,
    )

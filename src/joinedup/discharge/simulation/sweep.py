"""Capacity questions: the delay-capacity-cost trade-off curve, and the least capacity.

Both evaluate many capacities of one pathway in a single vectorised run on the same
patients (common random numbers), so the curve is smooth and its differences are
mostly signal. With first-come-first-served queues an extra place never lengthens
anyone's wait on the same patients, so the mean delay falls with capacity in every
replication, and the search can bracket the answer and narrow it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from joinedup.discharge.simulation.pathways import (
    Pathway,
    Scenario,
    pathway_result,
    pathway_runs,
)
from joinedup.discharge.simulation.queue import Progress, Run
from joinedup.discharge.simulation.stats import Estimate
from joinedup.errors import InvalidInput

Criterion = Literal["mean", "upper"]
GRID = 16  # capacities tried at once while narrowing the search
MAX_PLACES = 1_000_000


@dataclass(frozen=True)
class SweepPoint:
    """One point of a trade-off curve: a capacity, its delays and its costs."""

    pathway: str
    capacity: float
    places: int
    mean_delay_days: Estimate
    share_delayed: Estimate
    delayed_bed_days_per_year: Estimate
    capacity_cost_per_year: float
    delay_cost_per_year: float
    total_cost_per_year: float


@dataclass(frozen=True)
class CapacityAnswer:
    """The least capacity meeting a target, and the delay there and one place below."""

    pathway: str
    target_mean_delay_days: float
    criterion: Criterion
    places: int
    capacity: float
    mean_delay_days: Estimate
    below: Estimate | None  # one place fewer (None if the answer is one place)


def default_levels(pathway: Pathway, count: int = 20) -> list[float]:
    """``count`` capacities (in units) spanning 90% of the lesser of load and capacity
    to the greater of 130% of the load and 110% of today's capacity."""
    current = pathway.places
    low = max(1, math.floor(0.9 * min(pathway.offered_load, current)))
    high = max(math.ceil(1.3 * pathway.offered_load), math.ceil(1.1 * current), low + count - 1)
    places = np.unique(np.round(np.linspace(low, high, count)).astype(int))
    return [float(p) * pathway.units_per_place for p in places.tolist()]


def sweep_pathway(
    pathway: Pathway,
    capacities: Sequence[float],
    run: Run,
    *,
    bed_day_cost: float = 0.0,
    progress: Progress | None = None,
) -> list[SweepPoint]:
    """The trade-off curve of one pathway over ``capacities`` (in its units)."""
    runs = pathway_runs(pathway, capacities, run, progress=progress)
    points = []
    for i, capacity in enumerate(capacities):
        result = pathway_result(pathway, capacity, runs, i, bed_day_cost)
        points.append(
            SweepPoint(
                pathway=pathway.name,
                capacity=capacity,
                places=result.places,
                mean_delay_days=result.summary.mean_wait_days,
                share_delayed=result.summary.share_delayed,
                delayed_bed_days_per_year=result.summary.wait_days_per_year,
                capacity_cost_per_year=result.capacity_cost_per_year,
                delay_cost_per_year=result.delay_cost_per_year.mean,
                total_cost_per_year=result.capacity_cost_per_year + result.delay_cost_per_year.mean,
            )
        )
    return points


def sweep_scenario(
    scenario: Scenario,
    *,
    levels: int = 20,
    capacities: Mapping[str, Sequence[float]] | None = None,
    progress: Progress | None = None,
) -> dict[str, list[SweepPoint]]:
    """Every pathway's trade-off curve (``capacities`` by pathway name, else defaults)."""
    chosen = dict(capacities or {})
    unknown = set(chosen) - {p.name for p in scenario.pathways}
    if unknown:
        raise InvalidInput(f"no such pathway: {', '.join(sorted(unknown))}", where="sweep")
    return {
        p.name: sweep_pathway(
            p,
            chosen.get(p.name) or default_levels(p, levels),
            scenario.run,
            bed_day_cost=scenario.bed_day_cost,
            progress=progress,
        )
        for p in scenario.pathways
    }


def smallest_capacity(
    pathway: Pathway,
    run: Run,
    target_mean_delay_days: float,
    *,
    criterion: Criterion = "upper",
    progress: Progress | None = None,
) -> CapacityAnswer:
    """The fewest places keeping the mean delay under the target.

    ``criterion="upper"`` (the default) asks that the upper end of the 95% interval be
    under the target, so the answer does not hang on simulation noise; ``"mean"`` asks
    it of the estimate itself.
    """
    if not (math.isfinite(target_mean_delay_days) and target_mean_delay_days > 0):
        raise InvalidInput(
            "the target mean delay must be a positive number of days", where="target"
        )

    def evaluate(places: Sequence[int]) -> list[Estimate]:
        units = [p * pathway.units_per_place for p in places]
        runs = pathway_runs(pathway, units, run, progress=progress)
        return [pathway_result(pathway, u, runs, i, 0.0).summary.mean_wait_days
                for i, u in enumerate(units)]  # fmt: skip

    def meets(value: Estimate) -> bool:
        bound = value.high if criterion == "upper" else value.mean
        return bool(bound < target_mean_delay_days)

    places, at = _narrow(*_bracket(pathway, evaluate, meets), evaluate, meets)
    below = evaluate([places - 1])[0] if places > 1 else None
    return CapacityAnswer(
        pathway=pathway.name,
        target_mean_delay_days=target_mean_delay_days,
        criterion=criterion,
        places=places,
        capacity=places * pathway.units_per_place,
        mean_delay_days=at,
        below=below,
    )


Evaluate = Callable[[Sequence[int]], list[Estimate]]
Meets = Callable[[Estimate], bool]


def _bracket(pathway: Pathway, evaluate: Evaluate, meets: Meets) -> tuple[int, int]:
    """(low, high) places: ``high`` meets the target, none below ``low`` is known to."""
    low, high = 1, max(1, math.ceil(pathway.offered_load) + 1)
    while not meets(evaluate([high])[0]):
        if high >= MAX_PLACES:
            raise InvalidInput(
                "no capacity up to a million places meets the target", where="target"
            )
        low, high = high + 1, min(2 * high, MAX_PLACES)
    return low, high


def _narrow(low: int, high: int, evaluate: Evaluate, meets: Meets) -> tuple[int, Estimate]:
    """The least places in [low, high] meeting the target (``high`` does), by grids."""
    while True:
        grid = _grid(low, high)
        values = evaluate(grid)
        first = next(i for i, v in enumerate(values) if meets(v) or grid[i] == high)
        if first == 0 or len(grid) == high - low + 1:
            return grid[first], values[first]
        low, high = grid[first - 1] + 1, grid[first]


def _grid(low: int, high: int) -> list[int]:
    """All of [low, high] if few, else GRID evenly spaced places ending at ``high``."""
    if high - low + 1 <= GRID:
        return list(range(low, high + 1))
    return [int(p) for p in np.unique(np.round(np.linspace(low, high, GRID)))]

"""The pathway model, the trade-off sweep and the least-capacity search."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from joinedup.discharge.simulation import (
    Census,
    Exponential,
    Lognormal,
    Pathway,
    Run,
    Scenario,
    default_levels,
    mmc_smallest_servers,
    scenario_load,
    simulate_scenario,
    smallest_capacity,
    sweep_pathway,
)
from joinedup.discharge.simulation.scenario import EXAMPLE, scenario_result_dict
from joinedup.errors import InvalidInput

SHORT = Run(horizon_days=180, replications=12, seed=3)


def make_pathway(name: str = "pathway 2", **overrides: object) -> Pathway:
    values: dict[str, object] = {
        "name": name,
        "arrivals_per_day": 1.6,
        "stay": Lognormal(24.0, 0.7),
        "capacity": 42.0,
        "census": Census(occupied=40, waiting_days=(3.0, 1.0)),
        "cost_per_unit_per_day": 250.0,
    }
    values.update(overrides)
    return Pathway(**values)  # type: ignore[arg-type]


def test_scenario_system_delay_pools_every_pathway() -> None:
    scenario = Scenario(
        "two",
        (make_pathway("p1", arrivals_per_day=3.0), make_pathway("p2")),
        SHORT,
        bed_day_cost=400.0,
    )
    result = simulate_scenario(scenario)
    patients = [p.summary.patients_per_replication for p in result.pathways]
    delays = [p.summary.mean_wait_days.mean for p in result.pathways]
    assert min(delays) <= result.mean_delay_days.mean <= max(delays)
    assert sum(patients) > 0
    expected_capacity_cost = 2 * 42 * 250 * 365
    assert result.capacity_cost_per_year == pytest.approx(expected_capacity_cost)
    assert result.total_cost_per_year.mean == pytest.approx(
        expected_capacity_cost + 400 * result.delayed_bed_days_per_year.mean
    )


def test_pathway_alone_equals_pathway_in_a_scenario() -> None:
    p1, p2 = make_pathway("p1"), make_pathway("p2", arrivals_per_day=2.0)
    together = simulate_scenario(Scenario("both", (p1, p2), SHORT))
    alone = simulate_scenario(Scenario("one", (p1,), SHORT))
    assert together.pathways[0].summary == alone.pathways[0].summary


def test_capacity_in_units_buys_whole_places() -> None:
    pathway = make_pathway(capacity=2100.0, units_per_place=14.0, unit="home-care hours a week")
    assert pathway.places == 150
    with pytest.raises(InvalidInput):
        pathway.places_for(10.0)


def test_sweep_delay_falls_and_capacity_cost_rises_with_capacity() -> None:
    pathway = make_pathway()
    levels = default_levels(pathway, 8)
    points = sweep_pathway(pathway, levels, SHORT, bed_day_cost=395.0)
    delays = [p.mean_delay_days.mean for p in points]
    costs = [p.capacity_cost_per_year for p in points]
    assert len(points) == len(levels) == 8
    assert all(a >= b for a, b in itertools.pairwise(delays))
    assert all(a < b for a, b in itertools.pairwise(costs))


def test_search_finds_101_beds_for_a_one_day_mean_wait_in_mmc() -> None:
    pathway = Pathway("beds", 9.5, Exponential(10.0), capacity=100)
    run = Run(horizon_days=365 * 10, warmup_days=365, replications=30, seed=4)
    answer = smallest_capacity(pathway, run, 1.0)
    assert answer.places == mmc_smallest_servers(9.5, 10.0, 1.0) == 101
    assert answer.mean_delay_days.high < 1.0
    assert answer.below is not None
    assert answer.below.high >= 1.0


def test_search_answer_is_the_first_capacity_meeting_the_target() -> None:
    pathway = make_pathway()
    answer = smallest_capacity(pathway, SHORT, 2.0, criterion="mean")
    assert answer.mean_delay_days.mean < 2.0
    assert answer.below is None or answer.below.mean >= 2.0


def test_example_scenario_loads_and_runs() -> None:
    scenario = scenario_load(EXAMPLE)
    assert [p.name for p in scenario.pathways] == ["pathway 1", "pathway 2", "pathway 3"]
    assert scenario.pathways[0].places == 150
    assert scenario.pathways[1].census.waiting_days == (6.0, 3.0, 2.0, 1.0)
    quick = dataclasses.replace(scenario, run=SHORT)
    result = scenario_result_dict(simulate_scenario(quick))
    assert len(result["pathways"]) == 3
    assert np.isfinite(result["system"]["mean_delay_days"]["mean"])
    assert set(result["pathways"][0]["delay_bands"]) == {
        "0", "1", "2-3", "4-6", "7-13", "14-20", "21+"
    }  # fmt: skip


def test_scenario_rejects_duplicate_pathways() -> None:
    with pytest.raises(InvalidInput):
        Scenario("dup", (make_pathway("a"), make_pathway("a")), SHORT)

"""The discharge capacity simulator: a plain, vectorised NumPy kernel (no Django).

Build -> run -> read:

    queue = Queue(arrivals_per_day=9.5, stay=Exponential(10.0))
    runs = simulate_queue(queue, [100], Run(horizon_days=3650, replications=40, seed=1))
    summarise(runs).mean_wait_days          # Estimate(mean, low, high, se, replications)

``queue`` is the kernel (delay and loss systems, warm start from a census); ``pathways``
the three-pathway model; ``sweep`` the trade-off curve and the least capacity; ``fit``
the inputs from the record; ``theory`` Erlang B and C; ``scenario`` the file format.
It must never import Django, read the database or use a global random seed.
"""

from joinedup.discharge.simulation.fit import (
    RateFit,
    empirical,
    fit_exponential,
    fit_lognormal,
    poisson_rate,
)
from joinedup.discharge.simulation.pathways import (
    Pathway,
    PathwayResult,
    Scenario,
    ScenarioResult,
    simulate_scenario,
)
from joinedup.discharge.simulation.queue import (
    Census,
    Queue,
    QueueRuns,
    QueueSummary,
    Run,
    simulate_queue,
    summarise,
)
from joinedup.discharge.simulation.scenario import scenario_load
from joinedup.discharge.simulation.stats import BAND_LABELS, Estimate
from joinedup.discharge.simulation.stays import Empirical, Exponential, Lognormal, StayDistribution
from joinedup.discharge.simulation.sweep import (
    CapacityAnswer,
    SweepPoint,
    default_levels,
    smallest_capacity,
    sweep_pathway,
    sweep_scenario,
)
from joinedup.discharge.simulation.theory import (
    erlang_b,
    erlang_c,
    mmc_mean_wait,
    mmc_smallest_servers,
    mmc_wait_exceeds,
)

__all__ = [
    "BAND_LABELS",
    "CapacityAnswer",
    "Census",
    "Empirical",
    "Estimate",
    "Exponential",
    "Lognormal",
    "Pathway",
    "PathwayResult",
    "Queue",
    "QueueRuns",
    "QueueSummary",
    "RateFit",
    "Run",
    "Scenario",
    "ScenarioResult",
    "StayDistribution",
    "SweepPoint",
    "default_levels",
    "empirical",
    "erlang_b",
    "erlang_c",
    "fit_exponential",
    "fit_lognormal",
    "mmc_mean_wait",
    "mmc_smallest_servers",
    "mmc_wait_exceeds",
    "poisson_rate",
    "scenario_load",
    "simulate_queue",
    "simulate_scenario",
    "smallest_capacity",
    "summarise",
    "sweep_pathway",
    "sweep_scenario",
]

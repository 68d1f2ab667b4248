"""Benchmark the discharge simulator against Ciw, and time a capacity sweep.

1. The same M/M/c queue (9.5 arrivals a day, exponential stays of mean 10 days, 100
   places) in Ciw (a per-event object simulator; test-only dependency), in a plain
   Python event loop (heapq Kiefer-Wolfowitz, one replication at a time) and in our
   vectorised kernel at several numbers of replications run together. Reports
   simulated patients per second and the ratio to Ciw. Each timing is the best of
   ``--repeats`` (the machine is shared; best-of is the least noisy).
2. The trade-off sweep: 20 capacity levels x 3 pathways x 200 replications of a year,
   on the example scenario (joinedup/discharge/simulation/example_scenario.toml).

Prints markdown tables. Never gates on time.

    .venv/bin/python benchmarks/bench_simulator.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import heapq
import os
import platform
import time
from collections.abc import Callable

import ciw  # type: ignore[import-untyped]
import numpy as np

from joinedup.discharge.simulation import (
    Exponential,
    Queue,
    Run,
    scenario_load,
    simulate_queue,
    sweep_scenario,
)
from joinedup.discharge.simulation.scenario import EXAMPLE

RATE, MEAN_STAY, PLACES = 9.5, 10.0, 100


def best(measure: Callable[[], tuple[float, float]], repeats: int) -> tuple[float, float]:
    """(patients, seconds) of the fastest of ``repeats`` runs."""
    runs = [measure() for _ in range(repeats)]
    return min(runs, key=lambda r: r[1] / r[0])


def ciw_run(days: float) -> tuple[float, float]:
    ciw.seed(1)  # Ciw's own global seed; our kernel never uses one
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=RATE)],
        service_distributions=[ciw.dists.Exponential(rate=1 / MEAN_STAY)],
        number_of_servers=[PLACES],
    )
    sim = ciw.Simulation(network)
    began = time.perf_counter()
    sim.simulate_until_max_time(days)
    seconds = time.perf_counter() - began
    patients = len(sim.get_all_records()) + len(sim.nodes[1].all_individuals)
    return patients, seconds


def plain_loop_run(days: float) -> tuple[float, float]:
    """One replication, one arrival at a time: heapq of the places' free times."""
    rng = np.random.default_rng(1)
    n = int(RATE * days * 1.2) + 100
    arrivals = np.cumsum(rng.exponential(1 / RATE, n))
    arrivals = arrivals[arrivals < days].tolist()
    stays = rng.exponential(MEAN_STAY, len(arrivals)).tolist()
    began = time.perf_counter()
    free, total = [0.0] * PLACES, 0.0
    for arrival, stay in zip(arrivals, stays, strict=True):
        start = max(arrival, free[0])
        heapq.heapreplace(free, start + stay)
        total += start - arrival
    return len(arrivals), time.perf_counter() - began


def kernel_run(replications: int, days: float) -> tuple[float, float]:
    queue = Queue(RATE, Exponential(MEAN_STAY))
    run = Run(horizon_days=days, replications=max(2, replications), seed=1)
    began = time.perf_counter()
    runs = simulate_queue(queue, [PLACES], run)
    return float(runs.arrived.sum()), time.perf_counter() - began


def sweep_run() -> tuple[float, float]:
    scenario = scenario_load(EXAMPLE)  # 200 replications of 365 days
    began = time.perf_counter()
    curves = sweep_scenario(scenario, levels=20)
    seconds = time.perf_counter() - began
    points = sum(len(c) for c in curves.values())
    return points, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cpus = os.cpu_count()
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, Ciw {ciw.__version__}")
    print(f"{cpus} CPUs; load average {os.getloadavg()[0]:.1f} at start\n")
    rows = [
        ("Ciw, 1 replication x 2 years", best(lambda: ciw_run(730), args.repeats)),
        ("plain heapq loop, 1 x 20 years", best(lambda: plain_loop_run(7300), args.repeats)),
        ("kernel, 2 replications x 10 years", best(lambda: kernel_run(2, 3650), args.repeats)),
        ("kernel, 40 replications x 5 years", best(lambda: kernel_run(40, 1825), args.repeats)),
        ("kernel, 200 replications x 2 years", best(lambda: kernel_run(200, 730), args.repeats)),
        ("kernel, 1000 replications x 1 year", best(lambda: kernel_run(1000, 365), args.repeats)),
    ]
    ciw_rate = rows[0][1][0] / rows[0][1][1]
    print("| M/M/c (9.5/day, mean stay 10 days, 100 places) | patients | seconds "
          "| patients/s | x Ciw |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    for label, (patients, seconds) in rows:
        rate = patients / seconds
        print(
            f"| {label} | {patients:,.0f} | {seconds:.2f} | {rate:,.0f} | {rate / ciw_rate:.0f} |"
        )
    points, seconds = sweep_run()
    print("\n| sweep | capacity points | replications | days | seconds |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| 20 levels x 3 pathways (example scenario) | {points:.0f} | 200 | 365 | {seconds:.1f} |"
    )


if __name__ == "__main__":
    main()

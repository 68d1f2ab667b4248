"""Benchmark the indicator kernels at national scale; prints a markdown table.

Life expectancy with intervals for every LSOA in England (33,755 areas x 2 sexes x
20 age bands) and an SII with 100,000 simulations for 300 area-by-sex groups.
Targets (never gated on in tests): under 2 s and under 10 s.

Run: .venv/bin/python benchmarks/bench_indicators.py
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

from joinedup.population.inequality import slope_index
from joinedup.population.lifetable import life_tables

LSOAS = 33_755
RATES = np.array(
    [0.0039, 0.0001, 0.00008, 0.0001, 0.0003, 0.0004, 0.0005, 0.0007, 0.001, 0.0015,
     0.0022, 0.0035, 0.0055, 0.009, 0.014, 0.023, 0.039, 0.068, 0.12, 0.25]
)  # fmt: skip


def _best_of(runs: int, action: object) -> float:
    """Best wall time of a few runs: the machine's floor, not its noise."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(2026)
    population = rng.uniform(20, 120, (LSOAS * 2, 20)) * 5  # 5 pooled years
    deaths = rng.poisson(population * RATES).astype(float)
    deaths[:, -1] = np.maximum(deaths[:, -1], 1)
    le = _best_of(3, lambda: life_tables(deaths, population))

    quantile_pop = rng.uniform(20_000, 40_000, (300, 10))
    values = np.sort(rng.uniform(74, 84, (300, 10)), axis=1)
    se = rng.uniform(0.2, 0.6, (300, 10))
    sii = _best_of(
        2, lambda: slope_index(values, quantile_pop, se, rng=np.random.default_rng(1), reps=100_000)
    )
    machine = platform.processor() or platform.machine()
    print(f"Machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print()
    print("| benchmark | size | seconds | target |")
    print("|---|---|---|---|")
    size = f"{LSOAS:,} LSOAs x 2 sexes x 20 bands"
    print(f"| life expectancy with 95% CIs, every start age | {size} | {le:.2f} | < 2 |")
    print(f"| SII + RII, 100,000 simulations | 300 groups x 10 deciles | {sii:.2f} | < 10 |")


if __name__ == "__main__":
    main()

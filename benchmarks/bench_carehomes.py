"""Benchmark the care-home alignment planner at the borough's full size: about 60 homes
and 35 practices, placed by the synthetic borough's own generator.

Run: .venv/bin/python benchmarks/bench_carehomes.py [--repeat 3] [--seeds 5]
Target (issue 6): the planner runs on the borough's ~60 care homes in under a second.
Prints a markdown table for docs/benchmarks.md: each solve is exact (relative gap 0).
"""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Callable

import numpy as np

from joinedup.carehomes.alignment import Plan, Rules, Sites, solve
from joinedup.synth.geography import build_geography
from joinedup.synth.organisations import build_organisations
from joinedup.synth.streams import stream
from timing import table_row, time_ms

PEOPLE = 295_000


def borough_sites(seed: int) -> tuple[Sites, Sites]:
    """The full-size borough's homes and practices; list sizes share out the population."""
    geo = build_geography(PEOPLE, stream(seed, "geography"))
    orgs = build_organisations(PEOPLE, geo, stream(seed, "organisations"))
    homes = Sites.of(
        list(orgs.home_code),
        list(geo.postcode_lat[orgs.home_postcode]),
        list(geo.postcode_lon[orgs.home_postcode]),
        list(orgs.home_beds.astype(float)),
    )
    rng = np.random.default_rng(seed)
    share = rng.lognormal(0.0, 0.4, orgs.practice_code.size)
    sizes = np.round(PEOPLE * share / share.sum())
    practices = Sites.of(
        list(orgs.practice_code), list(orgs.practice_lat), list(orgs.practice_lon), list(sizes)
    )
    return homes, practices


def _run(homes: Sites, practices: Sites, weight: float) -> Callable[[], Plan]:
    return lambda: solve(homes, practices, Rules(balance_weight=weight))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print("| case | runs | median ms | p95 ms |")
    print("|---|---|---|---|")
    for weight in (0.0, 0.1, 0.5):
        samples: list[float] = []
        for seed in range(1, args.seeds + 1):
            homes, practices = borough_sites(seed)
            samples += time_ms(_run(homes, practices, weight), args.repeat)
        name = f"{len(homes)} homes x {len(practices)} practices, weight {weight:g}"
        print(table_row(name, samples, digits=0))


if __name__ == "__main__":
    main()

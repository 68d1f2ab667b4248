"""Benchmark panel selection: the two speed targets on generated pools, the two reference
fixtures, and the sortition-algorithms package's MAXIMIN (HiGHS) on the same inputs.

Run: .venv/bin/python benchmarks/bench_panel.py [--timeout 900] [--only NAME]
Each run is its own subprocess with a time limit and one BLAS thread (the kernel's
interior-point master factorises with BLAS; two BLAS threads on a shared, loaded 2-core
machine make it 100 times slower). Prints a markdown table for docs/panel-selection.md.
sortition-algorithms is GPL-3: it is imported here (a test-only dependency), never by the
platform.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "sortition"
CASES = {
    "sa-fixture (150, k=22)": (
        "fixture",
        "sa-fixture/features.csv",
        "sa-fixture/candidates.csv",
        22,
    ),
    "opendlp-fixture (100, k=30)": (
        "fixture",
        "opendlp-fixture/categories.csv",
        "opendlp-fixture/respondents.csv",
        30,
    ),
    "generated 2,000 x 2 features, k=200": ("generated", (5, 8), 2000, 200),
    "generated 1,000 x 7 features, k=40": ("generated", (2, 4, 5, 3, 4, 2, 3), 1000, 40),
}


def _inputs(case: tuple) -> tuple[str, str, int]:
    """(quota CSV text, people CSV text, k) in the newer dialect."""
    import numpy as np

    from joinedup.citizens.selection import format_people, format_quotas

    if case[0] == "fixture":
        return (FIXTURES / case[1]).read_text(), (FIXTURES / case[2]).read_text(), case[3]
    from joinedup.citizens.selection.synthetic import generate

    pool, quotas = generate(
        people=case[2], values_per_feature=case[1], k=case[3], rng=np.random.default_rng(1)
    )
    return format_quotas(quotas), format_people(pool, range(pool.size)), case[3]


def _ours(name: str, method: str) -> dict:
    from joinedup.citizens.selection import parse_people, parse_quotas, select

    quotas, people, k = _inputs(CASES[name])
    sel = select(parse_people(people), parse_quotas(quotas), k, method=method)  # type: ignore[arg-type]
    rep = sel.report()
    return {
        "min": rep["min_probability"],
        "gini": rep["gini"],
        "seconds": sel.seconds,
        "extra": f"{rep['types']} types, {rep.get('rounds', '-')} rounds",
    }


def _theirs(name: str) -> dict:
    from sortition_algorithms import adapters, settings
    from sortition_algorithms.committee_generation import find_distribution_maximin

    quotas, people, k = _inputs(CASES[name])
    from joinedup.citizens.selection import Quota, QuotaTable, format_quotas, parse_quotas

    # The package reads the newer dialect and wants every flex value filled.
    table = parse_quotas(quotas)
    quotas = format_quotas(
        QuotaTable(
            tuple(
                Quota(
                    q.feature,
                    q.value,
                    q.min,
                    q.max,
                    0 if q.min_flex is None else q.min_flex,
                    k if q.max_flex is None else q.max_flex,
                )
                for q in table.quotas
            )
        )
    )
    from joinedup.citizens.selection.dialects import guess_id_column

    id_col = guess_id_column(people.splitlines()[0].split(","))
    started = time.perf_counter()
    data = adapters.SelectionData(adapters.CSVStringDataSource(quotas, people))
    features, _ = data.load_features(k)
    pool, _ = data.load_people(settings.Settings(id_column=id_col, columns_to_keep=[]), features)
    committees, probs, _ = find_distribution_maximin(features, pool, k, [])
    marg: dict[str, float] = {}
    for committee, p in zip(committees, probs, strict=True):
        for person in committee:
            marg[person] = marg.get(person, 0.0) + p
    lowest = min(marg.get(pid, 0.0) for pid in pool)
    return {
        "min": lowest,
        "gini": float("nan"),
        "seconds": time.perf_counter() - started,
        "extra": f"{len(committees)} panels",
    }


def _child(name: str, who: str) -> None:
    out = _theirs(name) if who == "sortition-algorithms maximin" else _ours(name, who)
    print(json.dumps(out))


def _run(name: str, who: str, timeout: float) -> str:
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", name, who],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        )
    except subprocess.TimeoutExpired:
        return f"| {name} | {who} | - | - | > {timeout:.0f} (stopped) | |"
    if done.returncode != 0:
        return f"| {name} | {who} | - | - | failed: {done.stderr.strip().splitlines()[-1][:60]} | |"
    r = json.loads(done.stdout.strip().splitlines()[-1])
    wall = time.perf_counter() - started
    return (
        f"| {name} | {who} | {r['min']:.6f} | {r['gini']:.3f} | {r['seconds']:.1f} "
        f"({wall:.1f} wall) | {r['extra']} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--only", default="")
    parser.add_argument("--methods", default="leximin,maximin,sortition-algorithms maximin")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    print("| instance | method | min probability | Gini | seconds | notes |")
    print("|---|---|---|---|---|---|")
    for name in CASES:
        if args.only and args.only not in name:
            continue
        for who in args.methods.split(","):
            print(_run(name, who, args.timeout), flush=True)


if __name__ == "__main__":
    main()

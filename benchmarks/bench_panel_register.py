"""Benchmark the register's draws: the "done when" focus group (30 people, quotas on age,
sex, ethnicity and deprivation) in each neighbourhood of the demo register, and the same
panel from the whole borough.

Run: .venv/bin/python benchmarks/bench_panel_register.py [--people 30000] [--size 30]
Builds the synthetic borough (seed 1) in a temporary folder and the demo register from it
(``citizens.demo.volunteers_csv``: 3,000 volunteers), then runs the kernel exactly as the
staff page does: pool = ref, the four features, a household token; quotas = each value's
share of the pool times the panel size, give or take one. No database is touched.
Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

FEATURES = ("age_band", "sex", "ethnic_group", "imd_quintile")


def _areas(borough: Path) -> dict[str, tuple[str, int]]:
    """Postcode -> (neighbourhood, IMD quintile), from the reference files."""
    from joinedup.citizens.households import postcode_normalise

    with (borough / "reference" / "lsoas.csv").open(newline="") as handle:
        lsoas = {
            r["lsoa_code"]: (r["neighbourhood"], int(r["imd_decile"]))
            for r in csv.DictReader(handle)
        }
    with (borough / "reference" / "postcodes.csv").open(newline="") as handle:
        return {
            postcode_normalise(r["postcode"]): (
                lsoas[r["lsoa_code"]][0],
                (lsoas[r["lsoa_code"]][1] + 1) // 2,
            )
            for r in csv.DictReader(handle)
            if r["lsoa_code"] in lsoas
        }


def _register(borough: Path) -> list[dict[str, str]]:
    from joinedup.citizens.demo import volunteers_csv
    from joinedup.citizens.households import household_key

    areas = _areas(borough)
    rows = list(csv.DictReader(io.StringIO(volunteers_csv(borough).decode())))
    for r in rows:
        r["neighbourhood"], quintile = areas[r["postcode"]]
        r["imd_quintile"] = str(quintile)
        r["household"] = household_key(r["address_line_1"], r["postcode"])
    return rows


def _inputs(rows: list[dict[str, str]], k: int) -> tuple[object, object]:
    from joinedup.citizens import selection as kernel

    header = ("ref", *FEATURES, "household")
    pool = kernel.Pool(
        header,
        tuple((r["citizen_id"], *(r[f] for f in FEATURES), r["household"]) for r in rows),
        "ref",
        ("household",),
    )
    quotas = []
    for feature in FEATURES:
        counts = Counter(r[feature] for r in rows)
        for value in sorted(counts):
            expected = counts[value] / len(rows) * k
            low = min(max(0, math.floor(expected) - 1), counts[value])
            high = min(max(low, math.ceil(expected) + 1), counts[value], k)
            quotas.append(kernel.Quota(feature, value, low, high))
    table = kernel.QuotaTable(tuple(quotas), "features", ("feature", "value", "min", "max"))
    return pool, table


class _TimeUp(Exception):
    pass


def _time_up(*_: object) -> None:
    raise _TimeUp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--size", type=int, default=30)
    parser.add_argument("--skip-borough", action="store_true", help="neighbourhoods only")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per draw")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _time_up)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "joinedup.settings")
    import django

    django.setup()
    from joinedup.citizens import selection as kernel
    from joinedup.synth import generate_borough

    with tempfile.TemporaryDirectory() as tmp:
        borough = Path(tmp) / "b"
        generate_borough(people=args.people, seed=1, out=borough)
        started = time.perf_counter()
        rows = _register(borough)
        made = time.perf_counter() - started
    print(f"register: {len(rows)} volunteers from {args.people:,} people in {made:.1f} s\n")
    print("| pool | volunteers | types | k/n | min probability | Gini | seconds |")
    print("|---|---|---|---|---|---|---|")
    groups = sorted({r["neighbourhood"] for r in rows})
    cases = [(g, [r for r in rows if r["neighbourhood"] == g]) for g in groups]
    if not args.skip_borough:
        cases.append(("whole borough", rows))
    for name, members in cases:
        pool, table = _inputs(members, args.size)
        signal.alarm(args.timeout)
        try:
            sel = kernel.select(pool, table, args.size, method="leximin")  # type: ignore[arg-type]
        except kernel.InfeasibleQuotas:
            print(f"| {name} | {len(members)} | - | - | infeasible | - | - |")
            continue
        except _TimeUp:
            print(f"| {name} | {len(members)} | - | - | - | - | > {args.timeout} (stopped) |")
            continue
        finally:
            signal.alarm(0)
        rep = sel.report()
        print(
            f"| {name} | {len(members)} | {rep['types']} | {rep['equal_share']:.4f} | "
            f"{rep['min_probability']:.4f} | {rep['gini']:.3f} | {rep['seconds']:.1f} |"
        )


if __name__ == "__main__":
    main()

"""Benchmark `joinedup synth`: wall seconds and peak memory at several borough sizes.

Each size runs in its own subprocess (so peak RSS is that run's alone, read with
resource.getrusage(RUSAGE_CHILDREN)) and writes to a scratch directory that is
removed afterwards. Prints a markdown table. Benchmarks never gate on time.

    .venv/bin/python benchmarks/bench_synth.py --sizes 30000,100000,295000,1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SIZES = (30_000, 100_000, 295_000, 1_000_000)
CHILD = (
    "import sys; from pathlib import Path; from joinedup.synth import generate_borough; "
    "s = generate_borough(people=int(sys.argv[1]), seed=1, out=Path(sys.argv[2])); "
    "print(s.rows, sum(s.malformed.values()))"
)


def measure(people: int, scratch: Path) -> dict[str, float]:
    """Run one generation in a child process; return seconds, peak RSS and output size."""
    out = scratch / f"borough-{people}"
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(people), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - began
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    rows, malformed = (int(x) for x in result.stdout.split())
    shutil.rmtree(out)
    return {
        "people": people,
        "seconds": seconds,
        "peak_rss_mib": peak_kib / 1024,
        "rows": rows,
        "malformed": malformed,
        "output_mib": size / 2**20,
    }


def run_isolated(people: int, scratch: Path) -> dict[str, float]:
    """Measure in a fresh process so RUSAGE_CHILDREN covers only this size."""
    result = subprocess.run(
        [sys.executable, __file__, "--measure", str(people), "--scratch", str(scratch)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, float] = json.loads(result.stdout)
    return figures


def main() -> None:
    """Parse options, run each size, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.scratch)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print()
    print("| people | seconds | peak RSS (MiB) | rows written | malformed rows | output (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as scratch:
        for people in sizes:
            r = run_isolated(people, Path(scratch))
            print(
                f"| {people:,} | {r['seconds']:.1f} | {r['peak_rss_mib']:,.0f} | {r['rows']:,} | "
                f"{r['malformed']:,} | {r['output_mib']:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

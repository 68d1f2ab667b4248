"""Timing helpers shared by the benchmark scripts: repeat a call, report median and p95."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def time_ms(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall milliseconds of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def table_row(name: str, samples: list[float], digits: int = 2) -> str:
    """A markdown row: name, runs, median and 95th percentile in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    median = statistics.median(samples)
    return f"| {name} | {len(samples)} | {median:.{digits}f} | {p95:.{digits}f} |"


def on_scratch_sqlite(run: Callable[[Path], list[str]]) -> None:
    """Run a page benchmark on a fresh SQLite file in a temporary folder and print its
    table (``run`` gets the folder and returns the rows from ``table_row``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "joinedup.settings")
    os.environ.pop("DATABASE_URL", None)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["JOINEDUP_SQLITE_PATH"] = str(Path(tmp) / "bench.sqlite3")
        rows = run(Path(tmp))
    print("| operation | runs | median ms | p95 ms |")
    print("|---|---|---|---|")
    print("\n".join(rows))

"""Timing helpers shared by the benchmark scripts: repeat a call, report median and p95."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


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

"""Benchmark ingestion end to end against the parse-only ceiling of the same files.

Run: .venv/bin/python benchmarks/bench_ingest.py [--people 2000 20000] [--engines sqlite postgresql]

For each borough size it generates the synthetic extracts once (kept under var/bench/),
then measures
- the ceiling: every row of every file parsed and validated (FHIR with the R4B models, CSV
  with the feed's field rules) in two worker processes, nothing written;
- end to end: `joinedup.record.ingest.ingest_folder` into a fresh database (a new SQLite
  file, or a new PostgreSQL database on 127.0.0.1:5432), workers=2,
and prints a markdown table for docs/benchmarks.md. Each end-to-end run is its own
process, so Django is configured once per engine.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PART = 500


def borough(people: int) -> Path:
    from joinedup.synth import generate_borough

    out = ROOT / "var" / "bench" / f"borough-{people}"
    if not (out / "truth" / "summary.json").exists():
        generate_borough(people=people, seed=1, out=out, progress=None, overwrite=True)
    return out


def ceiling(folder: Path, workers: int = 2) -> tuple[int, float]:
    """Rows and seconds to parse and validate every file, writing nothing."""
    from joinedup.record.feeds import load_feeds
    from joinedup.record.fields import Context, csv_header, fhir_modules, validate_lines

    with (folder / "reference" / "organisations.csv").open(newline="") as handle:
        practices = frozenset(
            row["org_code"] for row in csv.DictReader(handle) if row["type"] == "GP practice"
        )
    context = Context(practices=practices)
    started = time.perf_counter()
    rows = 0
    # Workers started as the ingester starts them: forked from a server that has imported
    # the validators and models (see joinedup.record.ingest).
    specs = [spec for feed in load_feeds().values() for spec in feed.files]
    mp = multiprocessing.get_context("forkserver")
    mp.set_forkserver_preload(["joinedup.record.fields", *fhir_modules(specs)])
    with ProcessPoolExecutor(workers, mp_context=mp) as pool:
        jobs: list[Future[Any]] = []
        for spec in specs:
            path = folder / spec.path
            if not path.exists():
                continue
            raw = [line for line in path.read_bytes().split(b"\n") if line.strip()]
            lines: list[str | None] = [line.decode("utf-8", "replace") for line in raw]
            header = None
            if spec.format == "csv":
                header = csv_header(lines[0] or "")
                lines = lines[1:]
            rows += len(lines)
            jobs.extend(
                pool.submit(validate_lines, spec, lines[i : i + PART], header, context)
                for i in range(0, len(lines), PART)
            )
        for job in jobs:
            job.result()
    return rows, time.perf_counter() - started


def end_to_end(folder: Path) -> dict[str, float]:
    """Run in a child process with DATABASE_URL set (or not): ingest into a fresh database."""
    import django

    django.setup()
    from django.core.management import call_command

    from joinedup.record.ingest import ingest_folder

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    reports = ingest_folder(folder, workers=2)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": sum(r.rows_in for r in reports), "seconds": seconds, "peak_mb": peak_mb}


def run_engine(folder: Path, engine: str) -> dict[str, float]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="joinedup.settings")
    with tempfile.TemporaryDirectory() as var:
        env["JOINEDUP_VAR_DIR"] = var
        database = None
        if engine == "postgresql":
            database = f"ju_bench_{uuid.uuid4().hex[:8]}"
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
            env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{database}"
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(folder)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
        finally:
            if database:
                subprocess.run(
                    ["dropdb", "-h", "127.0.0.1", "-U", "postgres", database], check=False
                )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(end_to_end(args.child)))
        return
    print(
        "| people | rows | ceiling rows/s | engine | seconds | rows/s | of ceiling | peak MB "
        "| load |\n|---:|---:|---:|---|---:|---:|---:|---:|---:|"
    )
    for people in args.people:
        folder = borough(people)
        rows, seconds = ceiling(folder)
        limit = rows / seconds
        for engine in args.engines:
            got = run_engine(folder, engine)
            rate = got["rows"] / got["seconds"]
            print(
                f"| {people:,} | {int(got['rows']):,} | {limit:,.0f} | {engine} | "
                f"{got['seconds']:.1f} | {rate:,.0f} | {rate / limit:.0%} | "
                f"{got['peak_mb']:,.0f} | {os.getloadavg()[0]:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

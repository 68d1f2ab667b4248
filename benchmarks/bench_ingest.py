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
import threading
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
    """Rows and seconds to parse, validate and prepare every file's rows (as the ingester's
    workers do, for SQLite), writing nothing."""
    from datetime import UTC

    from joinedup.record.feeds import load_feeds
    from joinedup.record.fields import (
        Context,
        Storage,
        csv_header,
        fhir_modules,
        line_text,
        prepare_lines,
    )

    with (folder / "reference" / "organisations.csv").open(newline="") as handle:
        practices = frozenset(
            row["org_code"] for row in csv.DictReader(handle) if row["type"] == "GP practice"
        )
    context = Context(practices=practices)
    storage = Storage(
        zone=UTC,
        dates=frozenset({"date_of_birth", "date_of_death"}),
        datetimes=frozenset({"occurred_at", "ended_at", "received_at"}),
    )
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
            lines = [line for line in path.read_bytes().split(b"\n") if line.strip()]
            header = None
            if spec.format == "csv":
                header = csv_header(line_text(lines[0]) or "")
                lines = lines[1:]
            rows += len(lines)
            jobs.extend(
                pool.submit(prepare_lines, spec, lines[i : i + PART], header, context, storage)
                for i in range(0, len(lines), PART)
            )
        for job in jobs:
            job.result()
    return rows, time.perf_counter() - started


class Descendants:
    """CPU seconds used by this process's descendants, read from /proc while they run: the
    fork server and the resource tracker (its children, ``servers``) and the validating
    workers forked by the server (``workers``). They are not this process's own waited-for
    children, so ``RUSAGE_CHILDREN`` never sees them. Polled every 200 ms and the last
    reading kept, so at most a worker's last 200 ms are missed (it is idle then, waiting on
    the last commit). The polling thread's own CPU is reported (``own``) so that it can be
    taken off the main process's."""

    def __init__(self) -> None:
        self.cpu: dict[int, tuple[int, float]] = {}  # pid -> (depth, seconds)
        self.tick = os.sysconf("SC_CLK_TCK")
        self.done = threading.Event()
        self.own = 0.0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self) -> Descendants:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.poll()
        self.poll()
        self.own = time.thread_time()

    def poll(self) -> None:
        pending = [(os.getpid(), 0)]
        while pending:
            pid, depth = pending.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                pending.append((child, depth + 1))
                try:
                    fields = Path(f"/proc/{child}/stat").read_bytes().rsplit(b")", 1)[1].split()
                except OSError:
                    continue
                self.cpu[child] = (depth + 1, (int(fields[11]) + int(fields[12])) / self.tick)

    @property
    def servers(self) -> float:
        return sum(seconds for depth, seconds in self.cpu.values() if depth == 1)

    @property
    def workers(self) -> float:
        return sum(seconds for depth, seconds in self.cpu.values() if depth > 1)


def _backend_pid() -> int | None:
    """The PostgreSQL server process serving this process's connection (None on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _cpu_of(pid: int | None) -> float:
    """CPU seconds of a process on this machine (0 when there is none, or it cannot be read)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def end_to_end(folder: Path) -> dict[str, float]:
    """Run in a child process with DATABASE_URL set (or not): ingest into a fresh database.

    Besides wall time it reports CPU: the main (writing) process's own, the validating
    workers', and the fork server's (mostly its one-off import of the models)."""
    import django

    django.setup()
    from django.core.management import call_command

    from joinedup.record.ingest import ingest_folder

    call_command("migrate", verbosity=0)
    backend = _backend_pid()
    db_cpu = _cpu_of(backend)
    started = time.perf_counter()
    cpu = time.process_time()
    with Descendants() as others:
        reports = ingest_folder(folder, workers=2)
    main_cpu = time.process_time() - cpu - others.own
    db_cpu = _cpu_of(backend) - db_cpu
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows": sum(r.rows_in for r in reports),
        "seconds": seconds,
        "peak_mb": peak_mb,
        "main_cpu": main_cpu,
        "workers_cpu": others.workers,
        "server_cpu": others.servers,
        "db_cpu": db_cpu,
    }


def run_engine(folder: Path, engine: str, prefix: str = "ju_bench") -> dict[str, float]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="joinedup.settings")
    with tempfile.TemporaryDirectory() as var:
        env["JOINEDUP_VAR_DIR"] = var
        database = None
        if engine == "postgresql":
            database = f"{prefix}_{uuid.uuid4().hex[:8]}"
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
            env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{database}"
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(folder)],
                env=env,
                check=False,
                capture_output=True,
                text=True,
            )
            if done.returncode:
                sys.exit(f"the {engine} run failed:\n{done.stderr}")
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
    parser.add_argument(
        "--database-prefix",
        default="ju_bench",
        help="name prefix of the scratch PostgreSQL databases (default ju_bench)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(end_to_end(args.child)))
        return
    print(
        "| people | rows | ceiling rows/s | engine | seconds | rows/s | of ceiling | peak MB "
        "| CPU µs/row main | workers | server | total | PostgreSQL | load |\n"
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for people in args.people:
        folder = borough(people)
        rows, seconds = ceiling(folder)
        limit = rows / seconds
        for engine in args.engines:
            got = run_engine(folder, engine, args.database_prefix)
            rate = got["rows"] / got["seconds"]
            main_us = got["main_cpu"] / got["rows"] * 1e6
            workers_us = got["workers_cpu"] / got["rows"] * 1e6
            server_us = got["server_cpu"] / got["rows"] * 1e6
            db_us = got["db_cpu"] / got["rows"] * 1e6
            print(
                f"| {people:,} | {int(got['rows']):,} | {limit:,.0f} | {engine} | "
                f"{got['seconds']:.1f} | {rate:,.0f} | {rate / limit:.0%} | "
                f"{got['peak_mb']:,.0f} | {main_us:.0f} | {workers_us:.0f} | {server_us:.0f} | "
                f"{main_us + workers_us + server_us:.0f} | {db_us:.0f} | "
                f"{os.getloadavg()[0]:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""Benchmark the discharge tracker on a synthetic borough: the build, the metrics, the pages.

Run: .venv/bin/python benchmarks/bench_discharge.py [--people 30000] [--repeat 5]

Generates the borough once under var/bench/borough-N (seed 1), then, once, ingests the
files the tracker and the planner read (reference, hospital, community, adult social
care) into a fresh SQLite file under var/bench/discharge-N/ and links it (a few minutes
at 30,000 people); that file is kept as ``prepared.sqlite3``. Each run copies it and, in a
child process on the copy, times
- the tracker build (first run: every admission; second run: nothing to do),
- the metrics (the page's whole computation, ``presenters.metrics_view``, over the
  tracker's whole span), and the metrics and board pages through Django's test client
  (server time only, signed in as a discharge coordinator),
and prints markdown tables for docs/benchmarks.md, with the mean delay by financial year
(the trend the synthetic borough is built to show: about 12 days to about 4).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from timing import table_row, time_ms

ROOT = Path(__file__).resolve().parents[1]
PARTS = (
    "reference",
    "hospital",
    "community/patients.csv",
    "community/referrals.csv",
    "socialcare/adults/clients.csv",
    "socialcare/adults/packages.csv",
)


def _quiet(*_: object) -> None:
    return None


def borough(people: int) -> Path:
    from joinedup.synth import generate_borough

    out = ROOT / "var" / "bench" / f"borough-{people}"
    if not (out / "truth" / "summary.json").exists():
        generate_borough(people=people, seed=1, out=out, progress=None, overwrite=True)
    return out


def _feed_folder(source: Path, out: Path) -> Path:
    """The tracker's part of the borough, copied so ingest reads nothing else."""
    if out.exists():
        shutil.rmtree(out)
    for part in PARTS:
        src, dst = source / part, out / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy(src, dst)
    return out


def prepare(folder: Path) -> dict[str, Any]:
    """Child process: ingest and link into the SQLite file of JOINEDUP_SQLITE_PATH."""
    import django

    django.setup()
    from django.core.management import call_command

    from joinedup.people.linking import link_run
    from joinedup.record.ingest import ingest_folder

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    reports = ingest_folder(folder, progress=_quiet, workers=2)
    ingested = time.perf_counter() - started
    link_run(progress=_quiet)
    from django.db import connection

    with connection.cursor() as cursor:  # everything into the main file before it is kept
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {
        "rows": sum(r.rows_in for r in reports),
        "ingest_seconds": ingested,
        "link_seconds": time.perf_counter() - started - ingested,
    }


def _coordinator() -> Any:
    from joinedup.core.models import Organisation, OrganisationKind, Team, TeamKind, User
    from joinedup.core.roles import Role

    trust, _ = Organisation.objects.get_or_create(
        ods_code="RBENCH", defaults={"name": "Bench trust", "kind": OrganisationKind.ACUTE_TRUST}
    )
    hub, _ = Team.objects.get_or_create(
        name="Bench discharge hub", kind=TeamKind.DISCHARGE_HUB, organisation=trust
    )
    user = User.objects.create_user(
        username="bench-coordinator",
        password=secrets.token_urlsafe(24),
        role=Role.DISCHARGE_COORDINATOR,
        organisation=trust,
    )
    user.teams.set([hub])
    return user


def _yearly() -> list[dict[str, Any]]:
    from joinedup.discharge import metrics, selectors

    data = selectors.discharges()
    rows = metrics.summarise(data.delay, metrics.period_keys(data.discharged, "year"))
    return [
        {
            "year": s.key,
            "discharges": s.discharges,
            "share_on_drd": s.share_on_drd,
            "mean_including_zero": s.mean_delay_including_zero,
            "mean_excluding_zero": s.mean_delay_excluding_zero,
        }
        for s in rows
    ]


def measure(repeat: int, source: Path) -> dict[str, Any]:
    """Child process, on a copy of the prepared file: the timings and the yearly figures."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from joinedup.carehomes.services import care_homes_import
    from joinedup.discharge import presenters, selectors, services
    from joinedup.discharge.models import Stay

    call_command("migrate", verbosity=0)  # the prepared file may predate a migration
    user = _coordinator()
    care_homes_import(path=source / "reference" / "care_homes.csv")  # for the care-home flag
    started = time.perf_counter()
    summary = services.tracker_build(progress=_quiet)
    build = time.perf_counter() - started
    again = time_ms(lambda: services.tracker_build(progress=_quiet), 1)
    span = selectors.data_span()
    assert span is not None, "the build made no discharges"
    first, last = span
    metrics_ms = time_ms(
        lambda: presenters.metrics_view(period="month", since=first, until=last), repeat
    )
    client = Client()
    client.force_login(user)

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    query = f"?period=month&from={first}&to={last}"
    metrics_page = time_ms(lambda: get(f"/discharge/metrics/{query}"), repeat)
    board_ms = time_ms(lambda: get("/discharge/board/?show=all"), repeat)
    board = selectors.board(user=user)
    flagged = {
        "care home": sum(r.stay.care_home_resident for r in board),
        "package paused": sum(r.stay.package_status == "paused" for r in board),
        "package lapsed": sum(r.stay.package_status == "lapsed" for r in board),
    }
    return {
        "flags": flagged,
        "stays": Stay.objects.for_system("benchmark").count(),
        "build_seconds": build,
        "build_line": summary.one_line(),
        "rebuild_ms": again,
        "metrics_ms": metrics_ms,
        "metrics_page_ms": metrics_page,
        "board_ms": board_ms,
        "inpatients": len(board),
        "span": [str(first), str(last)],
        "yearly": _yearly(),
    }


def _child(args: list[str], sqlite: Path, var: Path) -> dict[str, Any]:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="joinedup.settings",
        JOINEDUP_VAR_DIR=str(var),
        JOINEDUP_SQLITE_PATH=str(sqlite),
    )
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, __file__, *args], env=env, check=False, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"the child process failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def report(people: int, prepared: dict[str, Any] | None, got: dict[str, Any]) -> None:
    if prepared:
        print(
            f"Prepared once: {prepared['rows']:,} rows ingested in "
            f"{prepared['ingest_seconds']:.0f} s, linked in {prepared['link_seconds']:.0f} s.\n"
        )
    print(
        f"{people:,} people, {got['stays']:,} stays (discharges {got['span'][0]} to "
        f"{got['span'][1]}), {got['inpatients']} inpatients on the hub's board.\n"
        f"Build: {got['build_line']}.\n"
        f"Inpatients flagged from the record: "
        + ", ".join(f"{k} {v}" for k, v in got["flags"].items())
        + ".\n"
    )
    print("| step | runs | median ms | p95 ms |\n|---|---:|---:|---:|")
    print(table_row("tracker build, every delivery", [got["build_seconds"] * 1000], 0))
    print(table_row("tracker build, nothing new", got["rebuild_ms"], 1))
    print(table_row("metrics (metrics_view, whole span)", got["metrics_ms"], 1))
    print(table_row("metrics page (GET, whole span by month)", got["metrics_page_ms"], 1))
    print(table_row("board page (GET, every inpatient)", got["board_ms"], 1))
    print(
        "\n| financial year | discharges | on their DRD | mean delay incl. zero-day "
        "| mean delay excl. zero-day |\n|---|---:|---:|---:|---:|"
    )
    for y in got["yearly"]:
        share = y["share_on_drd"]
        print(
            f"| {y['year']} | {y['discharges']:,} | "
            f"{'-' if share is None else f'{100 * share:.1f}%'} | "
            f"{_fmt(y['mean_including_zero'])} | {_fmt(y['mean_excluding_zero'])} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=30000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        print(json.dumps(prepare(args.prepare)))
        return
    if args.measure:
        print(json.dumps(measure(args.repeat, args.measure)))
        return
    source = borough(args.people)
    home = ROOT / "var" / "bench" / f"discharge-{args.people}"
    home.mkdir(parents=True, exist_ok=True)
    prepared_file = home / "prepared.sqlite3"
    prepared = None
    if not prepared_file.exists():
        folder = _feed_folder(source, home / "feed")
        partial = home / "preparing.sqlite3"
        partial.unlink(missing_ok=True)
        prepared = _child(["--prepare", str(folder)], partial, home)
        partial.rename(prepared_file)
        (home / "prepared.json").write_text(json.dumps(prepared), encoding="utf-8")
    elif (home / "prepared.json").exists():
        prepared = json.loads((home / "prepared.json").read_text(encoding="utf-8"))
    work = home / "work.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copy(prepared_file, work)
    got = _child(["--measure", str(source), "--repeat", str(args.repeat)], work, home)
    report(args.people, prepared, got)


if __name__ == "__main__":
    main()

"""Killing ingestion at any moment and running it again gives the uninterrupted result."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

JOINEDUP = Path(sys.executable).with_name("joinedup")

_TABLES = {
    "facts": "SELECT f.source, f.kind, f.record_id, i.source_id, f.occurred_at, f.code, f.display,"
    " f.value, f.detail, d.path FROM record_fact f JOIN people_sourceidentity i"
    " ON i.id = f.identity_id JOIN record_delivery d ON d.id = f.delivery_id",
    "identities": "SELECT source, source_id, nhs_number, given_name, family_name, date_of_birth,"
    " sex, postcode FROM people_sourceidentity",
    "quarantine": "SELECT d.path, q.line, q.field, q.reason FROM record_quarantinedrow q"
    " JOIN record_delivery d ON d.id = q.delivery_id",
    "deliveries": "SELECT feed, path, sha256, status, rows_in, accepted, quarantined, next_line"
    " FROM record_delivery",
}


def _env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["JOINEDUP_SQLITE_PATH"] = str(database)
    return env


def _joinedup(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(JOINEDUP), *args],
        env=_env(database),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )


def _state(database: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(database) as db:
        return {name: sorted(db.execute(sql).fetchall(), key=repr) for name, sql in _TABLES.items()}


def _session(sid: int) -> list[int]:
    """The processes still running in a session (Linux /proc; none elsewhere)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != b"Z":
            alive.append(int(stat.parent.name))
    return alive


def _committed_rows(database: Path) -> int:
    try:
        with sqlite3.connect(database, timeout=1) as db:
            row = db.execute("SELECT COALESCE(SUM(next_line), 0) FROM record_delivery").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0])


@pytest.mark.timeout_sensitive
def test_sigkill_mid_run_then_rerun_matches_an_uninterrupted_run(
    borough: Path, tmp_path: Path
) -> None:
    clean, crashed = tmp_path / "clean.sqlite3", tmp_path / "crashed.sqlite3"
    for database in (clean, crashed):
        _joinedup(database, "migrate")
    _joinedup(clean, "ingest", str(borough), "--chunk-size", "300")

    victim = subprocess.Popen(
        [str(JOINEDUP), "ingest", str(borough), "--chunk-size", "300"],
        env=_env(crashed),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so its worker processes can be found afterwards
    )
    deadline = time.monotonic() + 300
    while _committed_rows(crashed) < 3000 and victim.poll() is None:
        assert time.monotonic() < deadline, "ingestion made no progress"
        time.sleep(0.05)
    assert victim.poll() is None, "ingestion finished before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    partial = _committed_rows(crashed)
    # The validating workers (and the server they were forked from) end with the ingester.
    deadline = time.monotonic() + 20
    while _session(victim.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _session(victim.pid), "worker processes outlived the killed ingester"

    _joinedup(crashed, "ingest", str(borough), "--chunk-size", "300")

    assert partial > 0
    assert _state(crashed) == _state(clean)

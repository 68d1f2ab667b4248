"""The validating workers start without running the ingester's main script.

multiprocessing runs the parent's ``__main__`` file again in each process it starts; for the
``joinedup`` command that is the whole command line, about 2 s of CPU a worker. These tests
stand in a main script that leaves a mark when it runs, and start a worker both ways.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import types
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from joinedup.record.fields import WorkerContext


@contextmanager
def _main_script(tmp_path: Path) -> Iterator[Path]:
    """A ``__main__`` module whose file, when run, writes a mark (one file per process)."""
    marks = tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "ingester_main.py"
    script.write_text(
        f"import os, pathlib\npathlib.Path({str(marks)!r}, str(os.getpid())).write_text('ran')\n"
    )
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    main.__spec__ = None
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = main
    try:
        yield marks
    finally:
        sys.modules["__main__"] = saved


def _worker_pid(context: multiprocessing.context.BaseContext) -> int:
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(os.getpid).result(timeout=60)


def test_a_plain_forkserver_worker_runs_the_main_script(tmp_path: Path) -> None:
    # The cost the ingester's workers avoid: without it, the mark is left.
    with _main_script(tmp_path) as marks:
        pid = _worker_pid(multiprocessing.get_context("forkserver"))
    assert (marks / str(pid)).exists()


def test_an_ingest_worker_does_not_run_the_main_script(tmp_path: Path) -> None:
    with _main_script(tmp_path) as marks:
        pid = _worker_pid(WorkerContext())
        assert sys.modules["__main__"].__file__.endswith("ingester_main.py")  # put back
    assert pid != os.getpid()
    assert list(marks.iterdir()) == []

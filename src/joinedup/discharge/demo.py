"""Demo data for the discharge tracker: the build from the hospital feed already ingested.

Called by ``joinedup demo`` after ingestion and linkage. Idempotent: the build skips
every delivery it has built, so a second call writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from joinedup.discharge.services import tracker_build


def demo_load(borough: Path, *, progress: Callable[[str, int, int], None]) -> None:  # noqa: ARG001
    summary = tracker_build(progress=progress)
    progress("discharge tracker", 1, 1)
    del summary

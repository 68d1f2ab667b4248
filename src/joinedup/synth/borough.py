"""Build a whole synthetic borough and write it to disk, atomically.

The steps run in order (geography, organisations, people, history, then one writer
per source), each with its own random stream. Files go to a temporary sibling of
the output directory, which is renamed into place only when everything is written,
so an interrupted run leaves nothing half-written and a re-run simply starts again.

It must never write outside the output directory and its temporary sibling, and
never overwrite a non-empty directory unless asked to.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from joinedup.synth import config
from joinedup.synth.citizens import write_citizens
from joinedup.synth.directory import write_directory
from joinedup.synth.extracts import (
    World,
    identity_table,
    write_community,
    write_deaths,
    write_gp,
    write_hospice,
    write_hospital,
    write_population,
    write_social_care,
)
from joinedup.synth.formats import Ledger
from joinedup.synth.geography import build_geography
from joinedup.synth.history import build_history
from joinedup.synth.organisations import build_organisations
from joinedup.synth.population import build_persons
from joinedup.synth.portfolio import write_portfolio
from joinedup.synth.streams import stream
from joinedup.synth.truth import true_counts, write_reference, write_truth
from joinedup.synth.workforce import write_workforce

Progress = Callable[[str, int, int], None]
STEPS = (
    "geography",
    "people",
    "history",
    "gp",
    "hospital",
    "community",
    "social care",
    "hospice",
    "deaths",
    "population",
    "reference",
    "workforce",
    "directory",
    "citizens",
    "portfolio",
    "truth",
)


class SynthError(ValueError):
    """The generator was asked for something it will not do (bad size, occupied output)."""


@dataclass(frozen=True)
class SynthSummary:
    """What a run produced."""

    people: int
    seed: int
    files: dict[str, int]
    malformed: dict[str, int]
    seconds: float
    out: Path

    @property
    def rows(self) -> int:
        """Rows written across every file."""
        return sum(self.files.values())


def _check(people: int, out: Path, overwrite: bool) -> None:
    """Refuse sizes out of range and occupied output directories, saying why."""
    if not config.MIN_PEOPLE <= people <= config.MAX_PEOPLE:
        raise SynthError(
            f"people must be between {config.MIN_PEOPLE:,} and {config.MAX_PEOPLE:,}; "
            f"got {people:,}"
        )
    if out.exists() and not out.is_dir():
        raise SynthError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise SynthError(f"{out} is not empty; choose another directory or pass overwrite=True")


def generate_borough(
    *,
    people: int = config.DEFAULT_PEOPLE,
    seed: int,
    out: Path,
    progress: Progress | None = None,
    overwrite: bool = False,
) -> SynthSummary:
    """Generate a borough of `people` residents from `seed` and write it under `out`."""
    out = Path(out)
    _check(people, out, overwrite)
    began = time.perf_counter()
    tick = _ticker(progress)
    staging = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        ledger = _build(people, seed, staging, tick)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return SynthSummary(
        people,
        seed,
        dict(sorted(ledger.rows.items())),
        dict(sorted(ledger.malformed.items())),
        round(time.perf_counter() - began, 2),
        out,
    )


def _ticker(progress: Progress | None) -> Callable[[str], None]:
    """Report each finished step as (name, done, total)."""
    done = [0]

    def tick(name: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(name, done[0], len(STEPS))

    return tick


def _build(people: int, seed: int, root: Path, tick: Callable[[str], None]) -> Ledger:
    """Every generation and writing step, in order."""
    geo = build_geography(people, stream(seed, "geography"))
    orgs = build_organisations(people, geo, stream(seed, "organisations"))
    tick("geography")
    persons = build_persons(people, geo, orgs, stream(seed, "persons"))
    tick("people")
    history = build_history(seed, people, persons, geo, orgs)
    tick("history")
    world = World(seed, persons, geo, orgs, history)
    ledger = Ledger(root)
    identities = {}
    for name, writer in (
        ("gp", write_gp),
        ("hospital", write_hospital),
        ("community", write_community),
        ("social care", write_social_care),
        ("hospice", write_hospice),
        ("deaths", write_deaths),
    ):
        identities.update(writer(world, ledger))
        tick(name)
    write_population(world, ledger)
    tick("population")
    write_reference(world, ledger)
    tick("reference")
    write_workforce(ledger, orgs, people, stream(seed, "workforce"))
    tick("workforce")
    write_directory(ledger, geo, orgs, people, stream(seed, "directory"))
    tick("directory")
    identities["citizens"] = write_citizens(
        ledger, persons, geo, history, people, stream(seed, "citizens")
    )
    tick("citizens")
    write_portfolio(ledger, stream(seed, "portfolio"))
    tick("portfolio")
    write_truth(world, ledger, identity_table(identities))
    extract_rows = {k: v for k, v in ledger.rows.items() if not k.startswith("truth/")}
    ledger.write_json(
        "truth/summary.json",
        {
            "people": people,
            "seed": seed,
            "extract_date": str(config.EXTRACT_DATE),
            "window": [str(config.WINDOW_START), str(config.WINDOW_END)],
            "files": {
                k: {"rows": v, "malformed": ledger.malformed.get(k, 0)}
                for k, v in sorted(extract_rows.items())
            },
            "true_counts": true_counts(world),
        },
    )
    tick("truth")
    return ledger

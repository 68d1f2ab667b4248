"""Scenario files (TOML or JSON) for the pathway model, and results as plain dicts.

A scenario file names a what-if: the run (horizon, warm-up, replications, seed), the
costs, an optional target mean delay, and one ``[[pathways]]`` table per pathway with
its demand, stays, capacity and census. The format is documented with an example in
docs/discharge-simulator.md; ``example_scenario.toml`` beside this module is that
example. Every problem is an InvalidInput naming the file and the key. This module
reads files and shapes dicts; it never simulates.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joinedup.discharge.simulation.fit import (
    empirical,
    fit_exponential,
    fit_lognormal,
    poisson_rate,
)
from joinedup.discharge.simulation.pathways import Pathway, PathwayResult, Scenario, ScenarioResult
from joinedup.discharge.simulation.queue import Census, QueueSummary, Run
from joinedup.discharge.simulation.stats import BAND_LABELS, Estimate
from joinedup.discharge.simulation.stays import Exponential, Lognormal, StayDistribution
from joinedup.discharge.simulation.sweep import CapacityAnswer, SweepPoint
from joinedup.errors import InvalidInput

EXAMPLE = Path(__file__).with_name("example_scenario.toml")
_TOP = {
    "name",
    "description",
    "horizon_days",
    "warmup_days",
    "replications",
    "seed",
    "hospital_bed_day_cost",
    "target_mean_delay_days",
    "pathways",
}
_PATHWAY = {
    "name",
    "label",
    "arrivals_per_day",
    "daily_arrival_counts",
    "capacity",
    "unit",
    "units_per_place",
    "cost_per_unit_per_day",
    "stay",
    "census",
}
_STAY = {"distribution", "mean_days", "cv", "samples_days", "samples_file"}
_CENSUS = {"occupied", "remaining_stay_days", "waiting", "waiting_days"}


@dataclass(frozen=True)
class _Reader:
    """Typed access to one table of the file, naming ``file: key`` in every error."""

    table: Mapping[str, Any]
    where: str
    base: Path

    def child(self, key: str, allowed: set[str]) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a table")
        reader = _Reader(value, f"{self.where}.{key}", self.base)
        reader.only(allowed)
        return reader

    def only(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.table) - allowed)
        if unknown:
            raise InvalidInput(f"unknown key(s): {', '.join(unknown)}", where=self.where)

    def number(self, key: str, default: float | None = None, *, minimum: float = 0.0) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, "must be a number")
        if not math.isfinite(value) or value < minimum:
            raise self.error(key, f"must be a number of at least {minimum:g}")
        return float(value)

    def integer(self, key: str, default: int | None = None, *, minimum: int = 0) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"must be a whole number of at least {minimum}")
        return int(value)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, "must be text")
        return value

    def numbers(self, key: str) -> list[float]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        ):
            raise self.error(key, "must be a list of numbers")
        return [float(v) for v in value]

    def error(self, key: str, message: str) -> InvalidInput:
        return InvalidInput(f"{key} {message}", where=f"{self.where}.{key}")


def scenario_load(path: Path) -> Scenario:
    """Read and check a scenario file (``.toml`` or ``.json``)."""
    table = _parse(path)
    top = _Reader(table, path.name, path.parent)
    top.only(_TOP)
    pathways = table.get("pathways")
    if not isinstance(pathways, list) or not pathways:
        raise InvalidInput("needs at least one [[pathways]] table", where=f"{path.name}")
    horizon = top.number("horizon_days", 365.0, minimum=1.0)
    target = table.get("target_mean_delay_days")
    return Scenario(
        name=top.text("name", path.stem),
        description=top.text("description", ""),
        pathways=tuple(_pathway(top, i, p) for i, p in enumerate(pathways)),
        run=Run(
            horizon_days=horizon,
            warmup_days=top.number("warmup_days", 0.0),
            replications=top.integer("replications", 100, minimum=2),
            seed=top.integer("seed", 1),
        ),
        bed_day_cost=top.number("hospital_bed_day_cost", 0.0),
        target_mean_delay_days=None if target is None else top.number("target_mean_delay_days"),
    )


def _parse(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError:
        raise InvalidInput("cannot read the scenario file", where=str(path)) from None
    try:
        if path.suffix.lower() == ".json":
            loaded = json.loads(raw)
        elif path.suffix.lower() == ".toml":
            loaded = tomllib.loads(raw.decode("utf-8"))
        else:
            raise InvalidInput("a scenario file ends in .toml or .json", where=str(path))
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"not a valid scenario file: {exc}", where=path.name) from None
    if not isinstance(loaded, dict):
        raise InvalidInput("the scenario must be a table (object)", where=path.name)
    return loaded


def _pathway(top: _Reader, index: int, table: object) -> Pathway:
    if not isinstance(table, Mapping):
        raise InvalidInput("each pathway must be a table", where=f"{top.where}.pathways[{index}]")
    p = _Reader(table, f"{top.where}.pathways[{index}]", top.base)
    p.only(_PATHWAY)
    return Pathway(
        name=p.text("name"),
        label=p.text("label", ""),
        arrivals_per_day=_arrivals(p),
        stay=_stay(p.child("stay", _STAY)),
        capacity=p.number("capacity"),
        unit=p.text("unit", "places"),
        units_per_place=p.number("units_per_place", 1.0),
        cost_per_unit_per_day=p.number("cost_per_unit_per_day", 0.0),
        census=_census(p.child("census", _CENSUS)),
    )


def _arrivals(p: _Reader) -> float:
    if ("arrivals_per_day" in p.table) == ("daily_arrival_counts" in p.table):
        raise p.error("arrivals_per_day", "or daily_arrival_counts: give exactly one")
    if "arrivals_per_day" in p.table:
        return p.number("arrivals_per_day")
    return poisson_rate(p.numbers("daily_arrival_counts")).per_day


def _stay(s: _Reader) -> StayDistribution:
    kind = s.text("distribution", "lognormal")
    samples = _samples(s)
    if kind == "empirical":
        if not samples:
            raise s.error("samples_days", "(or samples_file) is needed for an empirical stay")
        return empirical(samples)
    if kind == "exponential":
        return fit_exponential(samples) if samples else Exponential(s.number("mean_days"))
    if kind == "lognormal":
        return (
            fit_lognormal(samples) if samples else Lognormal(s.number("mean_days"), s.number("cv"))
        )
    raise s.error("distribution", "must be exponential, lognormal or empirical")


def _samples(s: _Reader) -> list[float]:
    """Stays listed in the file, or read from a text file (one per line, # comments)."""
    if "samples_file" not in s.table:
        return s.numbers("samples_days")
    path = s.base / s.text("samples_file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise s.error("samples_file", f"cannot be read ({path})") from None
    values = []
    for number, line in enumerate(lines, start=1):
        cell = line.split("#", 1)[0].strip().split(",", 1)[0].strip()
        if not cell:
            continue
        try:
            values.append(float(cell))
        except ValueError:
            if values or number > 1:  # a header line is allowed, nothing else
                raise InvalidInput(
                    f"not a number: {cell!r}", where=f"{path.name}:{number}"
                ) from None
    return values


def _census(c: _Reader) -> Census:
    waiting_days = c.numbers("waiting_days")
    if "waiting" in c.table and waiting_days and c.integer("waiting") != len(waiting_days):
        raise c.error("waiting", "does not match the length of waiting_days")
    if not waiting_days:
        waiting_days = [0.0] * c.integer("waiting", 0)
    return Census(
        remaining_stay_days=tuple(c.numbers("remaining_stay_days")),
        occupied=c.integer("occupied", 0),
        waiting_days=tuple(sorted(waiting_days, reverse=True)),
    )


# ---- results as plain dicts (for --json and the later web layer) -----------------------


def estimate_dict(value: Estimate) -> dict[str, Any]:
    return {"mean": _num(value.mean), "ci95": [_num(value.low), _num(value.high)]}


def summary_dict(summary: QueueSummary) -> dict[str, Any]:
    """A queue's measures, one JSON object."""
    return {
        "capacity": summary.capacity,
        "patients_per_replication": summary.patients_per_replication,
        "mean_wait_days": _num(summary.mean_wait_days.mean),
        "mean_wait_ci95": [_num(summary.mean_wait_days.low), _num(summary.mean_wait_days.high)],
        "share_delayed": _num(summary.share_delayed.mean),
        "share_delayed_ci95": [_num(summary.share_delayed.low), _num(summary.share_delayed.high)],
        "delay_bands": {
            label: _num(share.mean)
            for label, share in zip(BAND_LABELS, summary.band_shares, strict=True)
        },
        "mean_waiting": estimate_dict(summary.mean_waiting),
        "wait_days_per_year": estimate_dict(summary.wait_days_per_year),
        "utilisation": estimate_dict(summary.utilisation),
        "census_mean_wait_days": estimate_dict(summary.census_mean_wait_days),
    }


def pathway_dict(result: PathwayResult) -> dict[str, Any]:
    p = result.pathway
    return {
        "name": p.name,
        "label": p.label,
        "capacity": result.capacity,
        "unit": p.unit,
        "places": result.places,
        "arrivals_per_day": p.arrivals_per_day,
        "stay": p.stay.describe(),
        "offered_load_places": p.offered_load,
        "capacity_cost_per_year": result.capacity_cost_per_year,
        "delay_cost_per_year": estimate_dict(result.delay_cost_per_year),
        **summary_dict(result.summary),
    }


def scenario_result_dict(result: ScenarioResult) -> dict[str, Any]:
    """The whole pathway model's answer, one JSON object."""
    s = result.scenario
    return {
        "scenario": s.name,
        "description": s.description,
        "horizon_days": s.run.horizon_days,
        "warmup_days": s.run.warmup_days,
        "replications": s.run.replications,
        "seed": s.run.seed,
        "pathways": [pathway_dict(p) for p in result.pathways],
        "system": {
            "mean_delay_days": estimate_dict(result.mean_delay_days),
            "share_delayed": estimate_dict(result.share_delayed),
            "mean_delayed_in_hospital": estimate_dict(result.mean_delayed_in_hospital),
            "delayed_bed_days_per_year": estimate_dict(result.delayed_bed_days_per_year),
            "capacity_cost_per_year": result.capacity_cost_per_year,
            "total_cost_per_year": estimate_dict(result.total_cost_per_year),
        },
        "seconds": result.seconds,
    }


def answer_dict(answer: CapacityAnswer) -> dict[str, Any]:
    return {
        "pathway": answer.pathway,
        "target_mean_delay_days": answer.target_mean_delay_days,
        "criterion": answer.criterion,
        "places": answer.places,
        "capacity": answer.capacity,
        "mean_delay_days": estimate_dict(answer.mean_delay_days),
        "one_place_fewer": None if answer.below is None else estimate_dict(answer.below),
    }


def sweep_point_dict(point: SweepPoint) -> dict[str, Any]:
    return {
        "capacity": point.capacity,
        "places": point.places,
        "mean_delay_days": estimate_dict(point.mean_delay_days),
        "share_delayed": _num(point.share_delayed.mean),
        "delayed_bed_days_per_year": _num(point.delayed_bed_days_per_year.mean),
        "capacity_cost_per_year": point.capacity_cost_per_year,
        "delay_cost_per_year": _num(point.delay_cost_per_year),
        "total_cost_per_year": _num(point.total_cost_per_year),
    }


def _num(value: float) -> float | None:
    """JSON has no NaN: an undefined measure (no patients) is null."""
    return value if math.isfinite(value) else None

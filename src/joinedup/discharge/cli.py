"""`joinedup discharge`: the tracker build and the capacity simulator from the command line.

`joinedup discharge build` builds the tracker from every hospital delivery not built yet
(``services.tracker_build``; a second run does nothing) and ends with its one-line
summary.

`joinedup discharge simulate` has two forms. With options only, it runs one queue (the
building block of the pathway model) and can be checked against Erlang B and C. With
SCENARIO_FILE (TOML or JSON, see docs/discharge-simulator.md) it runs the three-pathway
model from today's census, and optionally the least capacity per pathway for a target
mean delay and the trade-off curve. ``--json`` prints one JSON object on stdout;
progress and the one-line summary go to stderr. ``app`` is registered as
``joinedup discharge``.

It must hold no simulation logic (that is ``joinedup.discharge.simulation``) and never
show a traceback for bad input: errors are InvalidInput, one line and exit code 2.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from joinedup.cli_errors import django_command, one_line_errors
from joinedup.discharge.simulation import (
    BAND_LABELS,
    Exponential,
    Lognormal,
    Queue,
    Run,
    Scenario,
    StayDistribution,
    erlang_b,
    erlang_c,
    mmc_mean_wait,
    scenario_load,
    simulate_queue,
    simulate_scenario,
    smallest_capacity,
    summarise,
    sweep_scenario,
)
from joinedup.discharge.simulation.scenario import (
    answer_dict,
    scenario_result_dict,
    summary_dict,
    sweep_point_dict,
)
from joinedup.errors import InvalidInput
from joinedup.progress import RichProgress

app = typer.Typer(
    help="Discharge to Assess: build the tracker; simulate pathway capacity and delays.",
    no_args_is_help=True,
)
_err = Console(stderr=True, soft_wrap=True, highlight=False)
_out = Console(soft_wrap=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])
DAYS_PER_YEAR = 365.0
_SHOWN = 20  # values kept back printed one per line; the rest are counted


class StayKind(StrEnum):
    exponential = "exponential"
    lognormal = "lognormal"


class Criterion(StrEnum):
    upper_bound = "upper"
    mean = "mean"


@app.callback()
def discharge() -> None:
    """Discharge to Assess: build the tracker; simulate pathway capacity and delays."""


@app.command("build")
@django_command
def build() -> None:
    """Build the tracker from the hospital deliveries not built yet (safe to re-run)."""
    from joinedup.discharge import services

    progress = RichProgress(_err) if _err.is_terminal else None
    summary = services.tracker_build(progress=progress)
    for spell_id, reason in summary.kept_back[:_SHOWN]:
        _err.print(f"kept back: spell {spell_id}: {reason}")
    if len(summary.kept_back) > _SHOWN:
        _err.print(f"... and {len(summary.kept_back) - _SHOWN:,} more values kept back")
    typer.echo(f"joinedup: {summary.one_line()}")


@app.command()
@one_line_errors
def simulate(
    scenario_file: Annotated[
        Path | None, typer.Argument(help="A scenario file (.toml or .json): the pathway model.")
    ] = None,
    arrivals_per_day: Annotated[
        float | None, typer.Option(help="One queue: Poisson arrivals a day.")
    ] = None,
    mean_stay_days: Annotated[float | None, typer.Option(help="One queue: mean stay.")] = None,
    stay_distribution: Annotated[
        StayKind, typer.Option(help="One queue: the stay distribution.")
    ] = StayKind.exponential,
    stay_cv: Annotated[
        float, typer.Option(help="One queue: lognormal coefficient of variation.")
    ] = 1.0,
    capacity: Annotated[int | None, typer.Option(help="One queue: places (servers).")] = None,
    no_queue: Annotated[
        bool, typer.Option("--no-queue", help="One queue: arrivals finding it full are lost.")
    ] = False,
    years: Annotated[
        float | None, typer.Option(help="Simulated years (one queue: default 10).")
    ] = None,
    warmup_days: Annotated[
        float | None,
        typer.Option(help="Days left out of the statistics (one queue: default a tenth)."),
    ] = None,
    replications: Annotated[int | None, typer.Option(help="Replications (default 40).")] = None,
    seed: Annotated[int | None, typer.Option(help="The seed of the random streams.")] = None,
    target_mean_delay_days: Annotated[
        float | None, typer.Option(help="Scenario: find the least capacity for this target.")
    ] = None,
    criterion: Annotated[
        Criterion, typer.Option(help="Scenario search: 'upper' 95% bound or 'mean' under target.")
    ] = Criterion.upper_bound,
    sweep: Annotated[
        int, typer.Option(help="Scenario: also the trade-off curve at this many capacities.")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulate one queue (options) or the pathway model (SCENARIO_FILE)."""
    began = time.perf_counter()
    progress = RichProgress(_err) if _err.is_terminal and not as_json else None
    if scenario_file is None:
        if arrivals_per_day is None or mean_stay_days is None or capacity is None:
            raise InvalidInput(
                "give SCENARIO_FILE, or --arrivals-per-day, --mean-stay-days and --capacity",
                where="discharge simulate",
            )
        stay = _stay(stay_distribution, mean_stay_days, stay_cv)
        horizon = DAYS_PER_YEAR * (10.0 if years is None else years)
        run = _run(horizon, warmup_days, replications, seed)
        result = _one_queue(arrivals_per_day, stay, capacity, run, loss=no_queue, progress=progress)
        if not as_json:
            _print_queue(result)
    else:
        loaded = scenario_load(scenario_file)
        scenario = _override(loaded, years, warmup_days, replications, seed)
        result = _scenario(
            scenario, target_mean_delay_days, criterion.value, sweep, progress=progress
        )
        if not as_json:
            _print_scenario(result)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    _err.print(
        f"joinedup: simulated {result['patients_simulated']:,.0f} patients "
        f"in {time.perf_counter() - began:.1f} s"
    )


# ---- one queue -------------------------------------------------------------------------


def _stay(kind: StayKind, mean_days: float, cv: float) -> StayDistribution:
    return Exponential(mean_days) if kind is StayKind.exponential else Lognormal(mean_days, cv)


def _run(horizon: float, warmup: float | None, replications: int | None, seed: int | None) -> Run:
    return Run(
        horizon_days=horizon,
        warmup_days=horizon / 10 if warmup is None else warmup,
        replications=40 if replications is None else replications,
        seed=1 if seed is None else seed,
    )


def _one_queue(
    arrivals_per_day: float,
    stay: StayDistribution,
    capacity: int,
    run: Run,
    *,
    loss: bool,
    progress: RichProgress | None,
) -> dict[str, Any]:
    """Simulate one queue; the answer with exact values where theory has them."""
    began = time.perf_counter()
    runs = simulate_queue(
        Queue(arrivals_per_day, stay, loss=loss), [capacity], run, progress=progress
    )
    seconds = time.perf_counter() - began
    summary = summarise(runs)
    load = arrivals_per_day * stay.mean_days
    out: dict[str, Any] = {
        "model": {
            "arrivals_per_day": arrivals_per_day,
            "stay": stay.describe(),
            "capacity": capacity,
            "queue": not loss,
            "offered_load": load,
            "horizon_days": run.horizon_days,
            "warmup_days": run.warmup_days,
            "replications": run.replications,
            "seed": run.seed,
        },
        **summary_dict(summary),
    }
    if loss:
        out["blocked_share"] = summary.blocked_share.mean
        out["blocked_share_ci95"] = [summary.blocked_share.low, summary.blocked_share.high]
    out["exact"] = _exact(load, capacity, stay, loss=loss)
    out["patients_simulated"] = float(runs.arrived.sum())
    out["seconds"] = seconds
    out["patients_per_second"] = float(runs.arrived.sum()) / seconds if seconds > 0 else None
    return out


def _exact(load: float, capacity: int, stay: StayDistribution, *, loss: bool) -> dict[str, Any]:
    """Erlang B holds for any stay distribution; Erlang C needs exponential stays."""
    if loss:
        return {"blocked_share": erlang_b(capacity, load), "formula": "Erlang B"}
    if isinstance(stay, Exponential) and load < capacity:
        return {
            "mean_wait_days": mmc_mean_wait(capacity, load / stay.mean_days, stay.mean_days),
            "share_delayed": erlang_c(capacity, load),
            "formula": "Erlang C",
        }
    return {}


def _print_queue(result: dict[str, Any]) -> None:
    table = Table(title="One queue", show_header=True)
    table.add_column("measure")
    table.add_column("simulated (95% CI)", justify="right")
    table.add_column("exact", justify="right")
    exact = result["exact"]
    table.add_row(
        "mean wait (days)",
        _ci(result["mean_wait_days"], result["mean_wait_ci95"], 4),
        _fmt(exact.get("mean_wait_days"), 5),
    )
    table.add_row(
        "share delayed",
        _ci(result["share_delayed"], result["share_delayed_ci95"], 4),
        _fmt(exact.get("share_delayed"), 5),
    )
    if "blocked_share" in result:
        table.add_row(
            "share blocked (lost)",
            _ci(result["blocked_share"], result["blocked_share_ci95"], 5),
            _fmt(exact.get("blocked_share"), 6),
        )
    table.add_row("utilisation", _ci_dict(result["utilisation"], 3), "")
    _out.print(table)
    _print_bands(result["delay_bands"])


# ---- the pathway model -----------------------------------------------------------------


def _override(
    scenario: Scenario,
    years: float | None,
    warmup: float | None,
    replications: int | None,
    seed: int | None,
) -> Scenario:
    run = scenario.run
    run = Run(
        horizon_days=run.horizon_days if years is None else years * DAYS_PER_YEAR,
        warmup_days=run.warmup_days if warmup is None else warmup,
        replications=run.replications if replications is None else replications,
        seed=run.seed if seed is None else seed,
    )
    return dataclasses.replace(scenario, run=run)


def _scenario(
    scenario: Scenario,
    target: float | None,
    criterion: str,
    levels: int,
    *,
    progress: RichProgress | None,
) -> dict[str, Any]:
    """Run the model; then the search and the sweep if asked."""
    result = scenario_result_dict(simulate_scenario(scenario, progress=progress))
    patients = sum(p["patients_per_replication"] for p in result["pathways"])
    result["patients_simulated"] = patients * scenario.run.replications
    target = scenario.target_mean_delay_days if target is None else target
    if target is not None:
        result["least_capacity"] = [
            answer_dict(
                smallest_capacity(
                    p,
                    scenario.run,
                    target,
                    criterion="upper" if criterion == "upper" else "mean",
                    progress=progress,
                )
            )
            for p in scenario.pathways
        ]
    if levels:
        curves = sweep_scenario(scenario, levels=levels, progress=progress)
        result["trade_off"] = {
            name: [sweep_point_dict(point) for point in points] for name, points in curves.items()
        }
    return result


def _print_scenario(result: dict[str, Any]) -> None:
    table = Table(title=f"Scenario: {result['scenario']}")
    for column in ("pathway", "capacity", "places", "mean delay (days, 95% CI)", "share delayed"):
        table.add_column(column, justify="left" if column == "pathway" else "right")
    table.add_column("delayed bed-days a year", justify="right")
    table.add_column("utilisation", justify="right")
    for p in result["pathways"]:
        table.add_row(
            p["name"],
            f"{p['capacity']:g} {p['unit']}",
            str(p["places"]),
            _ci(p["mean_wait_days"], p["mean_wait_ci95"], 2),
            _fmt(p["share_delayed"], 3),
            _fmt(p["wait_days_per_year"]["mean"], 0),
            _fmt(p["utilisation"]["mean"], 3),
        )
    system = result["system"]
    table.add_row(
        "all pathways",
        "",
        "",
        _ci_dict(system["mean_delay_days"], 2),
        _fmt(system["share_delayed"]["mean"], 3),
        _fmt(system["delayed_bed_days_per_year"]["mean"], 0),
        "",
    )
    _out.print(table)
    _out.print(
        f"capacity cost a year: {system['capacity_cost_per_year']:,.0f}; with delayed "
        f"bed-days: {_ci_dict(system['total_cost_per_year'], 0)}"
    )
    for answer in result.get("least_capacity", []):
        _out.print(
            f"{answer['pathway']}: least capacity for a mean delay under "
            f"{answer['target_mean_delay_days']:g} days ({answer['criterion']}): "
            f"{answer['capacity']:g} ({answer['places']} places), mean delay "
            f"{_ci_dict(answer['mean_delay_days'], 2)}"
        )
    for name, points in result.get("trade_off", {}).items():
        curve = Table(title=f"Trade-off: {name}")
        for column in ("capacity", "places", "mean delay", "capacity cost", "total cost"):
            curve.add_column(column, justify="right")
        for point in points:
            curve.add_row(
                f"{point['capacity']:g}",
                str(point["places"]),
                _ci_dict(point["mean_delay_days"], 2),
                f"{point['capacity_cost_per_year']:,.0f}",
                _fmt(point["total_cost_per_year"], 0),
            )
        _out.print(curve)


# ---- formatting ------------------------------------------------------------------------


def _print_bands(bands: dict[str, float | None]) -> None:
    cells = ", ".join(f"{label}: {_fmt(bands[label], 3)}" for label in BAND_LABELS)
    _out.print(f"delay bands (days): {cells}")


def _fmt(value: float | None, digits: int) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:,.{digits}f}"


def _ci(mean: float | None, interval: list[float | None], digits: int) -> str:
    return f"{_fmt(mean, digits)} ({_fmt(interval[0], digits)} to {_fmt(interval[1], digits)})"


def _ci_dict(value: dict[str, Any], digits: int) -> str:
    return _ci(value["mean"], value["ci95"], digits)

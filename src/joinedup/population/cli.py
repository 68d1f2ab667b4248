"""`joinedup indicators`: the official indicator methods over analysts' own CSV files.

The lead registers `app` as `joinedup indicators`. Each command reads one CSV,
checks every cell it needs (a bad one is an InvalidInput naming file:line:column),
calls a kernel and writes one CSV. Commands end with a one-line summary on stderr.

It must never hold method logic (that lives in the kernels) nor show a traceback
for bad input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the lock yet
import typer
from rich.console import Console

from joinedup.cli_errors import one_line_errors
from joinedup.errors import InvalidInput
from joinedup.population.esp2013 import ESP2013_BANDS, ESP2013_WEIGHTS
from joinedup.population.inequality import TRANSFORMS, Transform, se_from_limits, slope_index
from joinedup.population.lifetable import OLDER_AGE_STARTS, STANDARD_AGE_STARTS, life_tables
from joinedup.population.standardisation import dsr

app = typer.Typer(
    help="Public-health indicators: life expectancy, SII/RII and DSRs from CSV files.",
    no_args_is_help=True,
)
_console = Console(stderr=True, soft_wrap=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])
OutOption = Annotated[Path, typer.Option("-o", "--out", help="Where to write the results CSV.")]
InArgument = Annotated[Path, typer.Argument(help="The input CSV file.")]


# ---- reading and checking -------------------------------------------------------------


def _read(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """Every cell as text, so each can be checked and reported by line and column."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise InvalidInput("file not found", where=str(path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"not a readable CSV file ({type(exc).__name__})", where=str(path)
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InvalidInput(f"missing column(s): {', '.join(missing)}", where=f"{path.name}:1")
    if frame.empty:
        raise InvalidInput("the file has no data rows", where=f"{path.name}:2")
    return frame


def _where(path: Path, row: int, column: str) -> str:
    return f"{path.name}:{row + 2}:{column}"  # line 1 is the header


def _numbers(
    frame: pd.DataFrame, path: Path, column: str, *, minimum: float = 0.0, above: bool = False
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """A numeric column, every value present and >= minimum (> minimum if `above`)."""
    parsed = pd.to_numeric(frame[column].str.strip(), errors="coerce")
    values = np.asarray(parsed, dtype=np.float64)
    bad_number = ~np.isfinite(values)
    too_small = (values <= minimum) if above else (values < minimum)
    for mask, reason in ((bad_number, "is not a number"), (too_small, "is too small")):
        if mask.any():
            row = int(np.flatnonzero(mask)[0])
            limit = f"must be {'>' if above else '>='} {minimum:g}"
            detail = f"{frame[column].iloc[row]!r} {reason}" + (
                "" if reason == "is not a number" else f": {limit}"
            )
            raise InvalidInput(detail, where=_where(path, row, column))
    return values


def _band_starts(
    frame: pd.DataFrame, path: Path, column: str, labels: dict[str, int]
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Map band labels ("05-09" and "5-9" alike) to their position in the layout."""
    clean = frame[column].map(_normalise_band)
    known = clean.map(labels)
    if known.isna().any():
        row = int(np.flatnonzero(known.isna().to_numpy())[0])
        expected = ", ".join(labels)
        raise InvalidInput(
            f"unknown age band {frame[column].iloc[row]!r}; expected one of {expected}",
            where=_where(path, row, column),
        )
    return np.asarray(known, dtype=np.int64)


def _normalise_band(label: str) -> str:
    return re.sub(r"\b0+(\d)", r"\1", label.strip().replace(" ", ""))


def _grid(
    frame: pd.DataFrame,
    path: Path,
    keys: list[str],
    position: np.ndarray[Any, np.dtype[np.int64]],
    width: int,
    band_column: str,
) -> tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.int64]]]:
    """Unique key rows, and each input row's flat index into a keys x bands grid.

    Every key needs every band exactly once; the first gap or repeat is reported.
    """
    codes = frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    flat = codes * width + position
    counts = np.bincount(flat, minlength=(codes.max() + 1) * width)
    if np.any(counts > 1):
        row = int(np.flatnonzero(pd.Series(flat).duplicated().to_numpy())[0])
        raise InvalidInput(
            "this age band appears twice for the same group", where=_where(path, row, band_column)
        )
    if np.any(counts == 0):
        group = int(np.flatnonzero(counts == 0)[0] // width)
        row = int(np.flatnonzero(codes == group)[0])
        raise InvalidInput(
            f"this group lacks {width - int(np.count_nonzero(counts.reshape(-1, width)[group]))}"
            " band(s)",
            where=_where(path, row, keys[0]),
        )
    first = frame.drop_duplicates(keys)[keys].reset_index(drop=True)
    return first, flat


def _fill(
    flat: np.ndarray[Any, np.dtype[np.int64]],
    values: np.ndarray[Any, np.dtype[np.float64]],
    shape: tuple[int, int],
) -> np.ndarray[Any, np.dtype[np.float64]]:
    grid = np.empty(shape[0] * shape[1])
    grid[flat] = values
    return grid.reshape(shape)


def _write(frame: pd.DataFrame, out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False, float_format="%.10g")
    except OSError as exc:
        raise InvalidInput(f"cannot write the output ({exc.strerror})", where=str(out)) from None


# ---- commands -------------------------------------------------------------------------


def _life_expectancy_layout(open_band: int) -> tuple[tuple[int, ...], dict[str, int]]:
    if open_band not in (85, 90):
        raise InvalidInput("--open-band must be 90 or 85", where="--open-band")
    starts = STANDARD_AGE_STARTS if open_band == 90 else OLDER_AGE_STARTS
    labels = ["0", "1-4", *(f"{s}-{s + 4}" for s in starts[2:-1]), f"{open_band}+"]
    return starts, {label: i for i, label in enumerate(labels)}


@app.command("life-expectancy")
@one_line_errors
def life_expectancy_command(
    infile: InArgument,
    out: OutOption,
    open_band: Annotated[int, typer.Option(help="Start of the open age band: 90 or 85.")] = 90,
    confidence: Annotated[float, typer.Option(help="Confidence level, e.g. 0.95.")] = 0.95,
) -> None:
    """Life expectancy (Chiang II, Silcocks) at every band's start age, per area and sex.

    Input columns: area,sex,age_band,deaths,population; bands 0,1-4,5-9,...,85-89,90+
    (or ...,80-84,85+ with --open-band 85). Output: area,sex,age,value,lowercl,uppercl,note.
    """
    _check_confidence(confidence)
    starts, labels = _life_expectancy_layout(open_band)
    frame = _read(infile, ["area", "sex", "age_band", "deaths", "population"])
    position = _band_starts(frame, infile, "age_band", labels)
    deaths = _numbers(frame, infile, "deaths")
    population = _numbers(frame, infile, "population")
    keys, flat = _grid(frame, infile, ["area", "sex"], position, len(starts), "age_band")
    shape = (len(keys), len(starts))
    tables = life_tables(
        _fill(flat, deaths, shape),
        _fill(flat, population, shape),
        age_starts=starts,
        confidence=confidence,
    )
    result = pd.DataFrame(
        {
            "area": np.repeat(keys["area"].to_numpy(), len(starts)),
            "sex": np.repeat(keys["sex"].to_numpy(), len(starts)),
            "age": np.tile(tables.age_start, len(keys)),
            "value": tables.expectancy.ravel(),
            "lowercl": tables.lower.ravel(),
            "uppercl": tables.upper.ravel(),
            "note": tables.note.ravel(),
        }
    )
    _write(result, out)
    blank = int((tables.note != "").sum())
    _console.print(
        f"joinedup: life expectancy for {len(keys)} area-sex groups, "
        f"{result.shape[0]} rows ({blank} suppressed) to {out}"
    )


@app.command("sii")
@one_line_errors
def sii_command(
    infile: InArgument,
    out: OutOption,
    reps: Annotated[int, typer.Option(help="Simulations for the confidence limits.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Seed of the simulations; same seed, same limits.")] = 1,
    transform: Annotated[
        str, typer.Option(help="none, log (rates) or logit (proportions in 0-1).")
    ] = "none",
    confidence: Annotated[float, typer.Option(help="Confidence level, e.g. 0.95.")] = 0.95,
) -> None:
    """Slope and relative index of inequality per group, with simulated limits.

    Input columns: group,quantile,population,value and either se or lowercl,uppercl
    (quantile 1 = most deprived).
    Output: group,sii,sii_lowercl,sii_uppercl,rii,rii_lowercl,rii_uppercl.
    """
    _check_confidence(confidence)
    if transform not in TRANSFORMS:
        raise InvalidInput(
            f"--transform must be one of {', '.join(TRANSFORMS)}", where="--transform"
        )
    if reps < 10:
        raise InvalidInput("--reps must be at least 10", where="--reps")
    frame = _read(infile, ["group", "quantile", "population", "value"])
    kind: Transform = transform  # type: ignore[assignment]
    value, se = _sii_values(frame, infile, kind, confidence)
    population = _numbers(frame, infile, "population", above=True)
    quantile = _numbers(frame, infile, "quantile", minimum=1).astype(np.int64)
    n = int(quantile.max())
    keys, flat = _grid(frame, infile, ["group"], quantile - 1, n, "quantile")
    shape = (len(keys), n)
    try:
        result = slope_index(
            _fill(flat, value, shape),
            _fill(flat, population, shape),
            _fill(flat, se, shape),
            rng=np.random.default_rng(seed),
            reps=reps,
            confidence=confidence,
            transform=kind,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc), where=str(infile)) from None
    table = pd.DataFrame(
        {
            "group": keys["group"],
            "sii": result.sii,
            "sii_lowercl": result.sii_lower,
            "sii_uppercl": result.sii_upper,
            "rii": result.rii,
            "rii_lowercl": result.rii_lower,
            "rii_uppercl": result.rii_upper,
        }
    )
    _write(table, out)
    _console.print(
        f"joinedup: SII and RII for {len(keys)} groups ({reps} simulations, seed {seed}) to {out}"
    )


def _sii_values(
    frame: pd.DataFrame, path: Path, transform: Transform, confidence: float
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """Values and their standard errors, from an se column or from the limits."""
    positive = transform != "none"
    value = _numbers(frame, path, "value", minimum=0.0 if positive else -np.inf, above=positive)
    if "se" in frame.columns:
        return value, _numbers(frame, path, "se")
    if not {"lowercl", "uppercl"} <= set(frame.columns):
        raise InvalidInput(
            "give either an se column or both lowercl and uppercl", where=f"{path.name}:1"
        )
    lower = _numbers(frame, path, "lowercl", minimum=0.0 if positive else -np.inf, above=positive)
    upper = _numbers(frame, path, "uppercl", minimum=-np.inf)
    order = (lower <= value) & (value <= upper)
    if not order.all():
        row = int(np.flatnonzero(~order)[0])
        raise InvalidInput(
            "limits must satisfy lowercl <= value <= uppercl", where=_where(path, row, "value")
        )
    if transform == "logit" and np.any(upper >= 1):
        row = int(np.flatnonzero(upper >= 1)[0])
        raise InvalidInput(
            "a logit transform needs proportions below 1", where=_where(path, row, "uppercl")
        )
    return value, se_from_limits(value, lower, upper, confidence=confidence, transform=transform)


@app.command("dsr")
@one_line_errors
def dsr_command(
    infile: InArgument,
    out: OutOption,
    multiplier: Annotated[float, typer.Option(help="Rate per this many people.")] = 100_000,
    confidence: Annotated[float, typer.Option(help="Confidence level, e.g. 0.95.")] = 0.95,
) -> None:
    """Directly standardised rate (ESP2013) per area with Dobson limits.

    Input columns: area,age_band,events,population with the 19 bands 0-4 ... 85-89, 90+.
    Output: area,value,lowercl,uppercl (blank under 10 events).
    """
    _check_confidence(confidence)
    frame = _read(infile, ["area", "age_band", "events", "population"])
    position = _band_starts(frame, infile, "age_band", {b: i for i, b in enumerate(ESP2013_BANDS)})
    events = _numbers(frame, infile, "events")
    population = _numbers(frame, infile, "population", above=True)
    keys, flat = _grid(frame, infile, ["area"], position, len(ESP2013_BANDS), "age_band")
    shape = (len(keys), len(ESP2013_BANDS))
    result = dsr(
        _fill(flat, events, shape),
        _fill(flat, population, shape),
        standard=ESP2013_WEIGHTS,
        multiplier=multiplier,
        confidence=confidence,
    )
    table = pd.DataFrame(
        {
            "area": keys["area"],
            "value": result.value,
            "lowercl": result.lower,
            "uppercl": result.upper,
        }
    )
    _write(table, out)
    blank = int(np.isnan(result.value).sum())
    _console.print(
        f"joinedup: DSRs for {len(keys)} areas ({blank} blank: fewer than 10 events) to {out}"
    )


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise InvalidInput("--confidence must be between 0 and 1, e.g. 0.95", where="--confidence")

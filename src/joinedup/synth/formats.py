"""Turning column arrays into the bytes a source system would send.

Values become Arrow strings (dates in each system's own format), rows become CSV or
NDJSON lines built by Arrow's vectorised string kernels, a few rows are deliberately
broken, and the file is written in one go from the Arrow buffer. Every file written
is counted, and every broken row is recorded, for the ground truth.

It must never break a row without recording it, and never loop in Python over rows
(only over the handful of rows chosen for breaking).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from joinedup.synth import config

Column: TypeAlias = "pa.Array | npt.NDArray[Any]"
CsvColumn: TypeAlias = (
    "pa.Array | npt.NDArray[Any] | tuple[npt.NDArray[Any], npt.NDArray[np.int64]]"
)
"""A column, or (lookup, index) meaning lookup[index], resolved a chunk at a time."""
NdjsonBuilder = Callable[[int, int], tuple[pa.Array, pa.Array, pa.Array]]
"""(start, stop) -> (JSON lines, each line's date text, each line's code text)."""
BAD_DATES = ("2023-02-30", "31/13/2022", "2022-13-01", "00/00/0000", "2021-04-31")
CHUNK = 100_000


def text(values: Column) -> pa.Array:
    """Any column as Arrow strings; nulls (NaT, NaN) become empty strings."""
    if isinstance(values, pa.Array):
        arr = values
    elif values.dtype.kind == "M":
        arr = pa.array(values.astype("datetime64[D]")).cast(pa.string())
    elif values.dtype.kind == "f":
        arr = pa.array(values, from_pandas=True).cast(pa.string())
    else:
        arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    return pc.fill_null(arr, "")


def _length(column: CsvColumn) -> int:
    """Rows in a column (or in the index of a lookup column)."""
    return len(column[1]) if isinstance(column, tuple) else len(column)


def _resolve(column: CsvColumn, start: int, stop: int) -> pa.Array:
    """Rows start..stop of a column as Arrow strings."""
    if isinstance(column, tuple):
        lookup, index = column
        return text(lookup[index[start:stop]])
    return text(column[start:stop])


def date_text(values: npt.NDArray[np.datetime64], fmt: str) -> pa.Array:
    """Dates (or datetimes) in a strftime format, empty where NaT."""
    arr = pa.array(values.astype("datetime64[s]"))
    return pc.fill_null(pc.strftime(arr, format=fmt), "")


def number_text(values: npt.NDArray[np.float64], decimals: int) -> pa.Array:
    """Floats rounded to `decimals`, integers without a trailing '.0'; NaN empty."""
    rounded = np.round(values, decimals)
    if decimals == 0:
        return _int_or_empty(rounded)
    return text(rounded)


def _int_or_empty(values: npt.NDArray[np.float64]) -> pa.Array:
    """Whole numbers as integers, empty for NaN."""
    mask = np.isnan(values)
    arr = pa.array(np.where(mask, 0, values).astype(np.int64), mask=mask)
    return pc.fill_null(arr.cast(pa.string()), "")


def csv_field(values: pa.Array) -> pa.Array:
    """Quote a CSV field when it contains a comma, quote or newline."""
    needs = pc.match_substring_regex(values, '[,"\\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, values)


def json_string(values: pa.Array) -> pa.Array:
    """A JSON string literal per value (values never contain quotes or backslashes)."""
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    return pc.binary_join_element_wise('"', escaped, '"', "")


def concat_text(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literals."""
    return pc.binary_join_element_wise(*parts, "")


def optional(condition: pa.Array | npt.NDArray[np.bool_], fragment: pa.Array) -> pa.Array:
    """The fragment where the condition holds, else an empty string."""
    cond = condition if isinstance(condition, pa.Array) else pa.array(condition)
    return pc.if_else(cond, fragment, "")


@dataclass(frozen=True)
class FileSpec:
    """How to break rows of one file: which columns hold dates and codes."""

    date_columns: tuple[str, ...] = ()
    code_columns: tuple[str, ...] = ()
    unknown_code: str = "XX99"
    malform: bool = True


@dataclass
class Ledger:
    """What has been written: rows per file, and each deliberately broken row."""

    root: Path
    rows: dict[str, int] = field(default_factory=dict)
    malformed: dict[str, int] = field(default_factory=dict)
    broken: list[tuple[str, int, str]] = field(default_factory=list)

    def write_csv(
        self,
        name: str,
        columns: dict[str, CsvColumn],
        rng: np.random.Generator,
        spec: FileSpec = FileSpec(),
    ) -> None:
        """Write a CSV extract (header + rows) chunk by chunk, breaking a few rows as the
        spec allows. A column may be (lookup, index) to be resolved per chunk."""
        n = _length(next(iter(columns.values())))
        picks = self._pick(name, n, rng, spec)
        faults = self._field_faults(picks, spec, rng)
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            handle.write((",".join(columns) + "\n").encode("utf-8"))
            for start in range(0, max(n, 1), CHUNK):
                stop = min(n, start + CHUNK)
                if stop <= start:
                    break
                cols = {k: _resolve(v, start, stop) for k, v in columns.items()}
                for column, rows, values in faults:
                    local = (rows >= start) & (rows < stop)
                    if local.any():
                        mask = np.zeros(stop - start, dtype=bool)
                        mask[rows[local] - start] = True
                        cols[column] = pc.replace_with_mask(
                            cols[column],
                            pa.array(mask),
                            pa.array(values[local].tolist(), pa.string()),
                        )
                line = pc.binary_join_element_wise(*[csv_field(c) for c in cols.values()], ",")
                trunc = picks.get("truncated", np.empty(0, np.int64))
                trunc = trunc[(trunc >= start) & (trunc < stop)] - start
                _write_lines(handle, self._truncate(line, trunc, rng))
        self.rows[name] = n

    @staticmethod
    def _field_faults(
        picks: dict[str, npt.NDArray[np.int64]], spec: FileSpec, rng: np.random.Generator
    ) -> list[tuple[str, npt.NDArray[np.int64], npt.NDArray[np.str_]]]:
        """For impossible dates and unknown codes: the column, rows and bad values."""
        faults = []
        for kind, names, value in (
            ("impossible_date", spec.date_columns, None),
            ("unknown_code", spec.code_columns, spec.unknown_code),
        ):
            rows = picks.get(kind, np.empty(0, np.int64))
            if rows.size == 0:
                continue
            column = names[int(rng.integers(0, len(names)))]
            bad = np.array(
                [
                    value or BAD_DATES[int(i)]
                    for i in rng.integers(0, len(BAD_DATES), size=rows.size)
                ]
            )
            faults.append((column, rows, bad))
        return faults

    def write_ndjson(
        self, name: str, n: int, build: NdjsonBuilder, rng: np.random.Generator
    ) -> None:
        """Write NDJSON built chunk by chunk; broken rows get an impossible date, an
        unknown code, or are truncated."""
        picks = self._pick(name, n, rng, FileSpec(("date",), ("code",)))
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            for start in range(0, n, CHUNK):
                stop = min(n, start + CHUNK)
                lines, good_date, good_code = build(start, stop)
                local = {k: v[(v >= start) & (v < stop)] - start for k, v in picks.items()}
                for kind, good in (("impossible_date", good_date), ("unknown_code", good_code)):
                    rows = local.get(kind, np.empty(0, np.int64))
                    if rows.size:
                        lines = self._splice(lines, rows, good, _bad_value(kind, rng))
                lines = self._truncate(lines, local.get("truncated", np.empty(0, np.int64)), rng)
                _write_lines(handle, lines)
        self.rows[name] = n

    def write_json(self, name: str, payload: object) -> None:
        """A small JSON document (summary), not counted as an extract."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def _pick(
        self, name: str, n: int, rng: np.random.Generator, spec: FileSpec
    ) -> dict[str, npt.NDArray[np.int64]]:
        """Choose which rows to break and how (deterministic given the stream)."""
        if not spec.malform or n < 100:
            return {}
        count = max(1, round(n * config.MALFORMED_SHARE))
        rows = np.sort(rng.choice(n, size=count, replace=False))
        kinds = (
            ["truncated"]
            + (["impossible_date"] if spec.date_columns else [])
            + (["unknown_code"] if spec.code_columns else [])
        )
        which = rng.integers(0, len(kinds), size=count)
        picks = {k: rows[which == i] for i, k in enumerate(kinds)}
        for kind, chosen in picks.items():
            self.broken.extend((name, int(r) + 1, kind) for r in chosen.tolist())
        self.malformed[name] = count
        return picks

    @staticmethod
    def _splice(lines: pa.Array, rows: npt.NDArray[np.int64], good: pa.Array, bad: str) -> pa.Array:
        """Replace the first occurrence of each chosen row's good value with a bad one."""
        old = lines.take(pa.array(rows)).to_pylist()
        values = good.take(pa.array(rows)).to_pylist()
        new = [line.replace(g, bad, 1) for line, g in zip(old, values, strict=True)]
        mask = np.zeros(len(lines), dtype=bool)
        mask[rows] = True
        return pc.replace_with_mask(lines, pa.array(mask), pa.array(new, lines.type))

    @staticmethod
    def _truncate(
        lines: pa.Array, rows: npt.NDArray[np.int64], rng: np.random.Generator
    ) -> pa.Array:
        """Cut the chosen lines short, as an interrupted transfer would."""
        if rows.size == 0:
            return lines
        old = lines.take(pa.array(rows)).to_pylist()
        cut = rng.uniform(0.3, 0.7, size=rows.size)
        new = [s[: max(1, int(len(s) * c))] for s, c in zip(old, cut.tolist(), strict=True)]
        mask = np.zeros(len(lines), dtype=bool)
        mask[rows] = True
        return pc.replace_with_mask(lines, pa.array(mask), pa.array(new, pa.string()))

    def _write(self, name: str, header: str, lines: pa.Array, n: int) -> None:
        """Write header and lines, newline-terminated."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            handle.write(header.encode("utf-8"))
            for start in range(0, n, CHUNK):
                _write_lines(handle, lines.slice(start, CHUNK))
        self.rows[name] = n


def _write_lines(handle: BinaryIO, lines: pa.Array) -> None:
    """Write lines with newlines straight from Arrow's value buffer."""
    if len(lines) == 0:
        return
    chunk = pc.binary_join_element_wise(lines, "\n", "").cast(pa.large_string())
    if isinstance(chunk, pa.ChunkedArray):
        chunk = chunk.combine_chunks()
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    handle.write(memoryview(chunk.buffers()[2])[int(offsets[0]) : int(offsets[-1])])


def _bad_value(kind: str, rng: np.random.Generator) -> str:
    """An impossible ISO date or an unknown SNOMED code to splice into a JSON line."""
    if kind == "impossible_date":
        return ("2023-02-30", "2022-13-01", "2021-04-31")[int(rng.integers(0, 3))]
    return "999999999999"

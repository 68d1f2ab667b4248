"""Read and write the two CSV dialects that sortition tools use, unchanged.

Quotas: ``feature,value,min,max[,min_flex,max_flex]`` (the newer, "features" dialect) or
``category,name,...,min,max`` (the older, "categories" dialect, whose extra columns are
kept). People: an id column and one column per feature; address columns give households.
This module only parses and formats; it never decides anything about a selection.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from joinedup.citizens.selection.model import Dialect, Pool, Quota, QuotaTable
from joinedup.errors import InvalidInput

ID_COLUMNS = ("id", "unique_id", "nationbuilder_id", "person_id", "volunteer_id")


def _read_rows(text: str, where: str) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = tuple(h.strip() for h in next(reader))
    except StopIteration:
        raise InvalidInput("the file is empty", where=where) from None
    rows = [tuple(r) + ("",) * (len(header) - len(r)) for r in reader if any(c.strip() for c in r)]
    return header, rows


def _int(value: str, where: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(float(value))
    except ValueError:
        raise InvalidInput(f"{value!r} is not a whole number", where=where) from None


def _dialect(header: tuple[str, ...]) -> tuple[Dialect, str, str]:
    lower = [h.lower() for h in header]
    if {"feature", "value"} <= set(lower):
        return "features", "feature", "value"
    if {"category", "name"} <= set(lower):
        return "categories", "category", "name"
    raise InvalidInput(
        "a quota file needs columns feature,value,min,max or category,name,...,min,max",
        where="quotas",
    )


def parse_quotas(text: str) -> QuotaTable:
    """Parse a quota file of either dialect."""
    header, rows = _read_rows(text, "quotas")
    dialect, fcol, vcol = _dialect(header)
    col = {h.lower(): i for i, h in enumerate(header)}
    if "min" not in col or "max" not in col:
        raise InvalidInput("a quota file needs min and max columns", where="quotas")
    quotas = []
    for n, row in enumerate(rows, start=2):
        where = f"quotas line {n}"
        lo, hi = _int(row[col["min"]], where), _int(row[col["max"]], where)
        if lo is None or hi is None or lo < 0 or hi < lo:
            raise InvalidInput(f"min and max must be 0 <= min <= max, got {row}", where=where)
        flex = [_int(row[col[c]], where) if c in col else None for c in ("min_flex", "max_flex")]
        quotas.append(
            Quota(row[col[fcol]].strip(), row[col[vcol]].strip(), lo, hi, flex[0], flex[1])
        )
    labels = [q.label for q in quotas]
    if len(set(labels)) != len(labels):
        raise InvalidInput("a feature value is listed twice", where="quotas")
    return QuotaTable(tuple(quotas), dialect, header, tuple(rows))


def format_quotas(table: QuotaTable) -> str:
    """Write quotas in the dialect they were read in (extra columns kept as they were)."""
    header = table.header or ("feature", "value", "min", "max", "min_flex", "max_flex")
    col = {h.lower(): i for i, h in enumerate(header)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for n, q in enumerate(table.quotas):
        row = list(table.rows[n]) if n < len(table.rows) else [""] * len(header)
        names = ("feature", "value") if "feature" in col else ("category", "name")
        values = {names[0]: q.feature, names[1]: q.value, "min": q.min, "max": q.max}
        values |= {"min_flex": q.min_flex, "max_flex": q.max_flex}
        for key, value in values.items():
            if key in col:
                row[col[key]] = "" if value is None else str(value)
        writer.writerow(row)
    return out.getvalue()


def guess_id_column(header: Sequence[str]) -> str:
    """The id column: a well-known name if present, else the first column."""
    lower = {h.lower(): h for h in header}
    for name in ID_COLUMNS:
        if name in lower:
            return lower[name]
    return header[0]


def parse_people(text: str, *, id_column: str | None = None, household: Iterable[str] = ()) -> Pool:
    """Parse a people file; ``household`` names the address columns that define a home."""
    header, rows = _read_rows(text, "people")
    id_col = id_column or guess_id_column(header)
    pool = Pool(header, tuple(rows), id_col, tuple(household))
    for name in (id_col, *pool.household_columns):
        pool.column(name)  # fails with InvalidInput if absent
    if any(not x for x in pool.ids):
        raise InvalidInput(f"some people have an empty {id_col!r}", where="people")
    return pool


def format_people(pool: Pool, indices: Iterable[int]) -> str:
    """Write some of the pool's rows with the pool's own header (e.g. the drawn panel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(pool.header)
    writer.writerows(pool.rows[i] for i in indices)
    return out.getvalue()


def format_probabilities(ids: Sequence[str], probabilities: Sequence[float]) -> str:
    """``id,probability`` for every volunteer, in pool order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("id", "probability"))
    writer.writerows((i, f"{p:.10f}") for i, p in zip(ids, probabilities, strict=True))
    return out.getvalue()


def read_text(path: Path, where: str) -> str:
    """A file's text, or InvalidInput naming it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", where=where) from None

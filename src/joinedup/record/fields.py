"""Turning one source row into canonical values, or saying exactly why it cannot be.

Pure functions over plain data (no Django), so that worker processes can validate
rows in parallel. A row either becomes a dict of typed values, or a ``RowError``
naming the field and the reason, which the ingester keeps in quarantine.

The ingester's workers go one step further (``prepare_lines``): each valid row comes back
as the values of its database row, already in the form the database stores (datetimes and
dates as text, the fact's detail as JSON text), so the single writing process only looks
up the row's identity, checks for duplicates and writes.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import cache, lru_cache
from json.encoder import encode_basestring_ascii
from multiprocessing.context import ForkServerContext, ForkServerProcess
from operator import itemgetter
from typing import Any

from pydantic_core import from_json

from joinedup.core import nhs_number
from joinedup.record.feeds import FACT_COLUMNS, IDENTITY_FIELDS, FieldSpec, FileSpec

_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")
_PATH_PART = re.compile(r"([^.\[]+)((?:\[[^\]]*\])*)")
_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


class RowError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple[type[RowError], tuple[str, str]]:
        return (RowError, (self.field, self.reason))  # crosses process boundaries intact


@dataclass(frozen=True)
class Context:
    """What validation needs to know beyond the row: the borough's GP practices."""

    practices: frozenset[str]


@lru_cache(maxsize=65536)
def is_sctid(value: str) -> bool:
    """A SNOMED CT concept id: 6 to 18 digits, no leading zero, a concept partition
    (00 core, 10 extension) before the check digit, and a valid Verhoeff check digit.

    Remembered per exact value (a feed repeats the same few thousand codes on hundreds
    of thousands of rows; the answer for a string never changes)."""
    if not (6 <= len(value) <= 18 and value.isascii() and value.isdigit()) or value[0] == "0":
        return False
    if value[-3:-1] not in {"00", "10"}:
        return False
    check = 0
    for i, digit in enumerate(reversed(value)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[i % 8][int(digit)]]
    return check == 0


@cache
def _steps(path: str) -> tuple[tuple[str, tuple[int | tuple[str, str], ...]], ...]:
    """A FHIR path parsed once: each name with its selectors (an index, or key=value)."""
    steps = []
    for name, selectors in _PATH_PART.findall(path):
        picks: list[int | tuple[str, str]] = []
        for selector in re.findall(r"\[([^\]]*)\]", selectors):
            if selector.isdigit():
                picks.append(int(selector))
            else:
                key, _, wanted = selector.partition("=")
                picks.append((key, wanted))
        steps.append((name, tuple(picks)))
    return tuple(steps)


def fhir_path(resource: Any, path: str) -> Any:
    """Follow ``a.b[0].c[system=URL].d`` into a parsed FHIR resource; None where absent."""
    return _path_getter(path)(resource)


@cache
def _path_getter(path: str) -> Callable[[Any], Any]:
    """``fhir_path`` for one path, built once as a chain of lookups, one for each name
    with its selectors: the walk every row of a file repeats, without re-reading the path."""
    get: Callable[[Any], Any] | None = None
    for name, picks in reversed(_steps(path)):
        get = _path_step(name, picks, get)
    assert get is not None, path
    return get


def _path_step(
    name: str, picks: tuple[int | tuple[str, str], ...], rest: Callable[[Any], Any] | None
) -> Callable[[Any], Any]:
    """One name of a path with its selectors, then the rest of the path. The two common
    shapes (a name alone; a name and one index) get their own step."""
    if not picks:

        def plain(node: Any) -> Any:
            if not isinstance(node, dict):
                return None
            node = node.get(name)
            return node if node is None or rest is None else rest(node)

        return plain
    if len(picks) == 1 and isinstance(picks[0], int):
        index = picks[0]

        def indexed(node: Any) -> Any:
            if not isinstance(node, dict):
                return None
            node = node.get(name)
            if not isinstance(node, list) or index >= len(node):
                return None
            node = node[index]
            return node if node is None or rest is None else rest(node)

        return indexed

    def step(node: Any) -> Any:
        if not isinstance(node, dict):
            return None
        node = node.get(name)
        for pick in picks:
            if not isinstance(node, list):
                return None
            if isinstance(pick, int):
                node = node[pick] if pick < len(node) else None
            else:
                key, wanted = pick
                node = next((n for n in node if isinstance(n, dict) and n.get(key) == wanted), None)
        return node if node is None or rest is None else rest(node)

    return step


# Dates and times repeat across a file's rows (the same days, the same appointment slots),
# and parsing one with ``strptime`` costs several microseconds, so each parse is remembered
# for its exact text and format (a failed parse is not remembered: it raises every time).
@lru_cache(maxsize=65536)
def _parse_date(text: str, fmt: str | None) -> date:
    if fmt:
        return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date has no zone
    return date.fromisoformat(text[:10])


@lru_cache(maxsize=65536)
def _parse_datetime(text: str, fmt: str | None) -> datetime:
    if fmt:
        parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 - local times, zoned below
    else:
        parsed = datetime.fromisoformat(text) if "T" in text else datetime.fromisoformat(text[:10])
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def convert(spec: FieldSpec, raw: Any, context: Context) -> Any:
    """One field's typed value; RowError when it is present but wrong, or required and absent."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        if spec.required:
            raise RowError(spec.name, f"{spec.source} is required")
        return None
    try:
        return _convert(spec, text, context)
    except RowError:
        raise
    except (ValueError, TypeError):
        expected = f" ({spec.format})" if spec.format else ""
        raise RowError(spec.name, f"{text!r} is not a valid {spec.type}{expected}") from None


def _nhs(spec: FieldSpec, text: str, _context: Context) -> str:
    reason = nhs_number.invalid_reason(text)
    if reason:
        raise RowError(spec.name, f"{text!r} is not a valid NHS number: {reason}")
    return nhs_number.normalise(text)


def _code(spec: FieldSpec, text: str, _context: Context) -> str:
    assert spec.codes is not None
    if text not in spec.codes:
        raise RowError(spec.name, f"{text!r} is not a known code for {spec.source}")
    return spec.codes[text]


def _sctid(spec: FieldSpec, text: str, _context: Context) -> str:
    if not is_sctid(text):
        raise RowError(spec.name, f"{text!r} is not a SNOMED CT identifier")
    return text


def _practice(spec: FieldSpec, text: str, context: Context) -> str:
    if text.upper() not in context.practices:
        raise RowError(spec.name, f"{text!r} is not a known GP practice")
    return text.upper()


def _postcode(spec: FieldSpec, text: str, _context: Context) -> str:
    if not _POSTCODE.match(text.upper()):
        raise RowError(spec.name, f"{text!r} is not a UK postcode")
    return text.upper()


_CONVERTERS: dict[str, Callable[[FieldSpec, str, Context], Any]] = {
    "text": lambda _s, text, _c: text,
    "nhs_number": _nhs,
    "date": lambda spec, text, _c: _parse_date(text, spec.format),
    "datetime": lambda spec, text, _c: _parse_datetime(text, spec.format),
    "int": lambda _s, text, _c: int(text),
    "float": lambda _s, text, _c: float(text),
    "code": _code,
    "sctid": _sctid,
    "practice": _practice,
    "postcode": _postcode,
    "reference": lambda _s, text, _c: text.rsplit("/", 1)[-1],
}


def _convert(spec: FieldSpec, text: str, context: Context) -> Any:
    return _CONVERTERS[spec.type](spec, text, context)


def csv_header(first_line: str) -> list[str]:
    return next(csv.reader([first_line]))


def parse_csv_line(line: str, header: list[str]) -> dict[str, str]:
    """One CSV line as column -> text; RowError if it is cut short or has extra values."""
    return dict(zip(header, _csv_values(line, len(header)), strict=True))


def _csv_values(line: str, expected: int) -> list[str]:
    try:
        values = next(csv.reader([line], strict=True))
    except (csv.Error, StopIteration):
        raise RowError("line", "the line is not valid CSV") from None
    if len(values) != expected:
        raise RowError(
            "line", f"expected {expected} values, found {len(values)} (truncated or extra)"
        )
    return values


def parse_ndjson_line(line: str, spec: FileSpec) -> dict[str, Any]:
    """One FHIR resource, parsed and validated with the R4B models (which accept R4)."""
    resource = _json_loads(line)
    if not isinstance(resource, dict) or resource.get("resourceType") != spec.resource:
        raise RowError("resourceType", f"expected a {spec.resource} resource")
    _validate_fhir(resource, spec.resource or "")
    return resource


def _json_loads(line: str) -> Any:
    """What ``json.loads`` gives, read by pydantic-core's parser (about twice as fast on
    a FHIR resource). It reads numbers exactly as ``json.loads`` does (big integers stay
    integers, NaN and Infinity are read), and where it refuses a line (a lone surrogate
    escape, nesting deeper than it allows) the standard parser decides, so the lines
    accepted and the values read are those of ``json.loads``."""
    try:
        return from_json(line)
    except ValueError:
        pass
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        raise RowError("line", "not valid JSON (truncated?)") from None


def _validate_fhir(resource: dict[str, Any], resource_type: str) -> None:
    from pydantic import ValidationError

    model = _r4b_model(resource_type)
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise RowError(
            where or "resource", f"invalid FHIR {resource_type}: {first['msg']}"
        ) from None


_MODELS: dict[str, Any] = {}


def fhir_modules(specs: Iterable[FileSpec]) -> list[str]:
    """The modules of the R4B models that validate these files (imported ahead of need)."""
    return sorted({_r4b_module(s.resource) for s in specs if s.format == "ndjson" and s.resource})


def _r4b_module(resource_type: str) -> str:
    return f"fhir.resources.R4B.{resource_type.lower()}"


def _r4b_model(resource_type: str) -> Any:
    if resource_type not in _MODELS:
        import importlib

        module = importlib.import_module(_r4b_module(resource_type))
        _MODELS[resource_type] = getattr(module, resource_type)
    return _MODELS[resource_type]


def canonical_row(
    spec: FileSpec, line: str, header: list[str] | None, context: Context
) -> dict[str, Any]:
    """The canonical values of one line of a file, or RowError."""
    return _Reader(spec, header, context).row(line)


class _Reader:
    """One file's rows read with the work that is the same for every row done once: each
    field's path parsed and its column found, its converter chosen. A file's rows are
    hundreds of thousands of calls of ``row``, so this is where validation spends its
    time outside the FHIR models."""

    def __init__(self, spec: FileSpec, header: list[str] | None, context: Context) -> None:
        self.spec = spec
        self.header = header
        self.context = context
        self.fields = [(f, _CONVERTERS[f.type], self._picker(f)) for f in spec.all_fields]

    def _picker(self, field: FieldSpec) -> Callable[[Any], Any]:
        if self.spec.format == "ndjson":
            steps = _steps(field.source)
            if len(steps) == 1 and not steps[0][1]:
                name = steps[0][0]
                return lambda source: source.get(name)
            return _path_getter(field.source)
        assert self.header is not None
        if field.source not in self.header:

            def missing(_values: Any) -> Any:
                raise RowError(field.name, f"the file has no column {field.source}")

            return missing
        # The last column of that name, as a dict of the row's columns would keep.
        return itemgetter(len(self.header) - 1 - self.header[::-1].index(field.source))

    def row(self, line: str) -> dict[str, Any]:
        if self.spec.format == "ndjson":
            source: Any = parse_ndjson_line(line, self.spec)
        else:
            assert self.header is not None
            source = _csv_values(line, len(self.header))
        context = self.context
        out: dict[str, Any] = {}
        for spec, convert_text, pick in self.fields:
            raw = pick(source)
            text = "" if raw is None else (raw if type(raw) is str else str(raw)).strip()
            if not text:
                if spec.required:
                    raise RowError(spec.name, f"{spec.source} is required")
                out[spec.name] = None
                continue
            try:
                out[spec.name] = convert_text(spec, text, context)
            except RowError:
                raise
            except (ValueError, TypeError):
                expected = f" ({spec.format})" if spec.format else ""
                raise RowError(
                    spec.name, f"{text!r} is not a valid {spec.type}{expected}"
                ) from None
        return out


def raw_text(line: str) -> str:
    """What quarantine keeps of a line: all of it, up to a sane size."""
    return line if len(line) <= 20_000 else line[:20_000] + "…"


def end_with(pid: int) -> None:
    """Worker initializer: end this worker once process ``pid`` (the ingester) has ended.

    A worker otherwise waits on its queue for ever when the ingester is killed (SIGKILL
    gives it no chance to stop its workers), and with it the server it was forked from."""

    def watch() -> None:
        while _running(pid):
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="end-with-ingester", daemon=True).start()


class WorkerProcess(ForkServerProcess):
    """A worker started without the ingester's main module.

    multiprocessing runs the parent's main script again in each new process (as
    ``__mp_main__``) so that functions defined there can be unpickled. The workers only
    run functions of ``joinedup.record.fields``, and the ``joinedup`` command's script
    imports the whole command line (every app's CLI: about 2 s of CPU a worker, more than
    validating a 2,000-person borough's CSV rows), so the main module is hidden while the
    worker is started: its start data then names no main module to run."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:  # noqa: N802 - multiprocessing's name
        with _main_module_hidden():
            return ForkServerProcess._Popen(process_obj)


class WorkerContext(ForkServerContext):
    """The fork server's context, its processes started as ``WorkerProcess``. (The
    process class lives here, not in the ingester, because it is pickled to each worker,
    which must be able to import it without Django.)"""

    Process = WorkerProcess


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:  # noqa: PTH123 - a hot, tiny read
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"  # a zombie has ended
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel whether the process exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def validate_lines(
    spec: FileSpec, texts: list[str | None], header: list[str] | None, context: Context
) -> list[dict[str, Any] | RowError]:
    """Each line's canonical values or its error (runs in worker processes)."""
    reader = _Reader(spec, header, context)
    out: list[dict[str, Any] | RowError] = []
    for text in texts:
        if text is None:
            out.append(RowError("line", "the line is not UTF-8 text (wrong encoding?)"))
            continue
        try:
            out.append(reader.row(text))
        except RowError as error:
            out.append(error)
    return out


# What the workers hand back for the database: the columns of each row that the feed
# decides, in these orders. The writer puts its own columns (identity, delivery, received
# time) in front. Identity and fact columns a feed does not give are written blank.
IDENTITY_COLUMNS = ("source", "source_id", *sorted(IDENTITY_FIELDS))
FACT_VALUE_COLUMNS = ("source", "record_id", "kind", "code_system", "detail", *sorted(FACT_COLUMNS))
_NULLABLE = frozenset({"date_of_birth", "date_of_death", "occurred_at", "ended_at", "value"})

# One valid line, prepared: its record id, the record id of its identity (facts), its
# database values (IDENTITY_COLUMNS or FACT_VALUE_COLUMNS) and, for an identity file whose
# rows are also facts (deaths), the fact's values.
Prepared = tuple[str, str | None, tuple[Any, ...], tuple[Any, ...] | None]


@dataclass(frozen=True)
class Storage:
    """How the database stores what the workers hand back, so that they can hand it back
    in that form: exactly what Django's adapters would write.

    ``zone`` is SQLite's: an aware datetime is written as naive text in that zone (what
    ``adapt_datetimefield_value`` does); None means PostgreSQL, where the text keeps its
    UTC offset and the server reads the same instant. ``dates`` and ``datetimes`` name the
    columns of those types (from the models); a date is written as ISO text."""

    zone: tzinfo | None
    dates: frozenset[str]
    datetimes: frozenset[str]


def _datetime_text(zone: tzinfo | None) -> Callable[[Any], str]:
    if zone is None:
        return str

    def text(value: Any) -> str:
        if value.tzinfo is zone:  # already in the zone: only the offset goes
            return str(value.replace(tzinfo=None))
        if value.utcoffset() is not None:  # aware (Django's is_aware)
            value = value.astimezone(zone).replace(tzinfo=None)
        return str(value)

    return text


def json_text(value: Any) -> str:
    """One JSON value as ``json.dumps`` writes it (the text Django stores for a JSONField
    on SQLite), written directly for the types a field converts to."""
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is float:
        if math.isfinite(value):
            return float.__repr__(value)
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if kind is int:
        return int.__repr__(value)
    return json.dumps(value)


def json_object(items: Iterable[tuple[str, Any]]) -> str:
    """A JSON object of (key, value) pairs, byte for byte as ``json.dumps`` of the dict."""
    return "{" + ", ".join(f"{encode_basestring_ascii(k)}: {json_text(v)}" for k, v in items) + "}"


class _Columns:
    """Some of a row's database columns, in order: a blank where the feed gives nothing
    (None, "", or "unknown" for sex), the rest from the row, adapted for the database."""

    def __init__(
        self,
        fields: Sequence[FieldSpec],
        columns: Sequence[str],
        adapt: dict[str, Callable[[Any], Any]],
    ) -> None:
        given = {f.name for f in fields}
        self.blanks = [_blank(name) for name in columns]
        self.given = [(i, name, adapt.get(name)) for i, name in enumerate(columns) if name in given]

    def of(self, row: dict[str, Any]) -> list[Any]:
        out = self.blanks.copy()
        for i, name, adapt in self.given:
            value = row[name]
            if value is not None:
                out[i] = value if adapt is None else adapt(value)
        return out


def _blank(name: str) -> Any:
    if name in _NULLABLE:
        return None
    return "unknown" if name == "sex" else ""


class _Layout:
    """Where each column of a file's database rows comes from, worked out once a file."""

    def __init__(self, spec: FileSpec, storage: Storage) -> None:
        datetime_text = _datetime_text(storage.zone)
        self.adapt: dict[str, Callable[[Any], Any]] = {
            **dict.fromkeys(storage.dates, str),
            **dict.fromkeys(storage.datetimes, datetime_text),
        }
        self.feed = spec.feed
        self.identity: _Columns | None = None
        self.facts: _Facts | None = None
        if spec.role == "identity":
            self.identity = _Columns(spec.fields, IDENTITY_COLUMNS[2:], self.adapt)
            if spec.fact_kind:
                self.facts = _Facts(spec, spec.fact_kind, spec.fact_fields, self.adapt)
        else:
            self.facts = _Facts(spec, spec.kind or "", spec.fields, self.adapt)

    def prepared(self, row: dict[str, Any]) -> Prepared:
        key = row["id"]
        facts = self.facts
        if self.identity is None:
            assert facts is not None
            return (key, row["person"], facts.values(key, row), None)
        values = (self.feed, key, *self.identity.of(row))
        return (key, None, values, facts.values(key, row) if facts else None)


class _Facts:
    """A file's fact rows: the fact columns the feed gives (``FACT_VALUE_COLUMNS``), and
    every other field of the feed in the detail, as JSON text."""

    def __init__(
        self,
        spec: FileSpec,
        kind: str,
        fields: Sequence[FieldSpec],
        adapt: dict[str, Callable[[Any], Any]],
    ) -> None:
        self.feed = spec.feed
        self.kind = kind
        self.code_system = spec.code_system
        self.columns = _Columns(fields, FACT_VALUE_COLUMNS[5:], adapt)
        self.detail = [
            (f.name, encode_basestring_ascii(f.name)) for f in fields if f.name not in FACT_COLUMNS
        ]
        self.has_code = any(f.name == "code" for f in fields)

    def values(self, key: str, row: dict[str, Any]) -> tuple[Any, ...]:
        items = []
        for name, encoded in self.detail:
            value = row[name]
            if value is None:
                continue
            if type(value) is not str and hasattr(value, "isoformat"):  # a date or datetime
                value = value.isoformat()
            items.append(f"{encoded}: {json_text(value)}")
        code_system = self.code_system if self.has_code and row["code"] else ""
        detail = "{" + ", ".join(items) + "}"
        return (self.feed, key, self.kind, code_system, detail, *self.columns.of(row))


def line_text(raw: bytes) -> str | None:
    """A line as read (without its newline) as text: a trailing carriage return dropped,
    and None when the bytes are not UTF-8."""
    try:
        return raw.rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        return None


def prepare_lines(
    spec: FileSpec,
    raws: list[bytes],
    header: list[str] | None,
    context: Context,
    storage: Storage,
) -> list[Prepared | RowError]:
    """Each line's database values (see ``Prepared``) or its error (in worker processes):
    every line is decoded (``line_text``) and validated exactly as ``validate_lines``
    validates it."""
    layout = _Layout(spec, storage)
    texts = [line_text(raw) for raw in raws]
    return [
        row if isinstance(row, RowError) else layout.prepared(row)
        for row in validate_lines(spec, texts, header, context)
    ]

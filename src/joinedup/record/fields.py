"""Turning one source row into canonical values, or saying exactly why it cannot be.

Pure functions over plain data (no Django), so that worker processes can validate
rows in parallel. A row either becomes a dict of typed values, or a ``RowError``
naming the field and the reason, which the ingester keeps in quarantine.
"""

from __future__ import annotations

import csv
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from operator import itemgetter
from typing import Any

from joinedup.core import nhs_number
from joinedup.record.feeds import FieldSpec, FileSpec

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


def is_sctid(value: str) -> bool:
    """A SNOMED CT concept id: 6 to 18 digits, no leading zero, a concept partition
    (00 core, 10 extension) before the check digit, and a valid Verhoeff check digit."""
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
    node = resource
    for name, picks in _steps(path):
        node = node.get(name) if isinstance(node, dict) else None
        for pick in picks:
            if not isinstance(node, list):
                return None
            if isinstance(pick, int):
                node = node[pick] if pick < len(node) else None
            else:
                key, wanted = pick
                node = next((n for n in node if isinstance(n, dict) and n.get(key) == wanted), None)
        if node is None:
            return None
    return node


def _parse_date(text: str, fmt: str | None) -> date:
    if fmt:
        return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date has no zone
    return date.fromisoformat(text[:10])


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
    try:
        resource = json.loads(line)
    except json.JSONDecodeError:
        raise RowError("line", "not valid JSON (truncated?)") from None
    if not isinstance(resource, dict) or resource.get("resourceType") != spec.resource:
        raise RowError("resourceType", f"expected a {spec.resource} resource")
    _validate_fhir(resource, spec.resource or "")
    return resource


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
            path = field.source
            return lambda source: fhir_path(source, path)
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

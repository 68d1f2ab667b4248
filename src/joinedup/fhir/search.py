"""FHIR search parameters turned into Django query conditions.

Pure parsing and query building, no HTTP: a provider declares its parameters
(``SearchParam``), and ``parse_search`` turns a request's parameters into a
``SearchRequest`` of ``Q`` conditions, a sort, a page size and the result options.
Repeated parameters are ANDed, comma-separated values ORed (FHIR search rules).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from django.db import models
from django.db.models import Q
from django.utils import timezone

from joinedup.errors import InvalidInput

ParamType = Literal["token", "string", "date", "reference", "number"]
NOTHING = Q(pk__in=[])

DEFAULT_COUNT = 50
MAX_COUNT = 1000


@dataclass(frozen=True)
class SearchParam:
    """One search parameter of one resource type, and where its values live in the database.

    ``fields`` are ORM paths (ORed). A token with ``system`` matches only that system (an
    identifier's naming system); ``system_field`` holds the system per row instead.
    ``code_map`` turns a FHIR code into the stored value (None: matches nothing).
    A reference's ``fields`` hold the target's logical id. ``build``, when given, makes the
    whole condition from (modifier, value, where) instead, for values that no ORM path
    reaches directly (e.g. inside a JSON detail); ``fields`` then only name the column for
    ``:missing`` documentation and are never filtered on.
    """

    name: str
    type: ParamType
    fields: tuple[str, ...]
    description: str
    system: str | None = None
    system_field: str | None = None
    code_map: Callable[[str], Iterable[str] | None] | None = None
    targets: tuple[str, ...] = ()
    sortable: bool = True
    build: Callable[[str, str, str], Q] | None = None


@dataclass(frozen=True)
class Include:
    source: str  # the resource type holding the reference
    param: str  # its reference parameter, or "*"
    target: str | None  # the referenced type, when named


@dataclass
class SearchRequest:
    conditions: list[Q] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (ORM path, descending)
    count: int = DEFAULT_COUNT
    cursor: list[Any] | None = None
    includes: list[Include] = field(default_factory=list)
    revincludes: list[Include] = field(default_factory=list)
    summary_count: bool = False
    total: bool = True
    ignored: list[str] = field(default_factory=list)
    # The parameters that took effect, for the Bundle's self link.
    used: list[tuple[str, str]] = field(default_factory=list)


RESULT_PARAMS = {"_count", "_sort", "_include", "_revinclude", "_summary", "_total", "_cursor"}
IGNORED_ALWAYS = {"_format", "_pretty"}


def parse_search(
    pairs: Iterable[tuple[str, str]],
    params: Mapping[str, SearchParam],
    *,
    model: type[models.Model],
    strict: bool,
) -> SearchRequest:
    """The request's search; unknown parameters are errors when ``strict``, else ignored."""
    request = SearchRequest()
    for raw_name, value in pairs:
        if "\x00" in raw_name or "\x00" in value:
            raise InvalidInput("a search parameter holds a NUL character", where="query")
        name, _, modifier = raw_name.partition(":")
        if name in IGNORED_ALWAYS:
            continue
        if name in RESULT_PARAMS:
            _result_param(request, name, modifier, value, params)
            request.used.append((raw_name, value))
            continue
        param = params.get(name)
        if param is None:
            if strict:
                raise InvalidInput(
                    f"this server does not support the search parameter '{name}' here "
                    "(send Prefer: handling=lenient to have unknown parameters ignored)",
                    where=raw_name,
                )
            request.ignored.append(raw_name)
            continue
        request.conditions.append(condition(param, modifier, value, model=model, where=raw_name))
        request.used.append((raw_name, value))
    return request


def _result_param(
    request: SearchRequest,
    name: str,
    modifier: str,
    value: str,
    params: Mapping[str, SearchParam],
) -> None:
    if modifier and name not in {"_include", "_revinclude"}:
        raise InvalidInput(f"{name} takes no modifier", where=f"{name}:{modifier}")
    if name in {"_include", "_revinclude"}:
        if modifier:
            raise InvalidInput(f"{name}:{modifier} is not supported", where=name)
        target = request.includes if name == "_include" else request.revincludes
        target.append(_include(value, name))
    elif name == "_count":
        if not value.isdigit():
            raise InvalidInput("_count must be a whole number", where="_count")
        request.count = min(int(value), MAX_COUNT)
    elif name == "_sort":
        request.sort = _sort(value, params)
    elif name == "_summary":
        if value not in {"count", "false"}:
            raise InvalidInput("_summary supports count and false only", where="_summary")
        request.summary_count = value == "count"
    elif name == "_total":
        if value not in {"none", "estimate", "accurate"}:
            raise InvalidInput("_total must be none, estimate or accurate", where="_total")
        request.total = value != "none"
    elif name == "_cursor":
        request.cursor = decode_cursor(value)


def _sort(value: str, params: Mapping[str, SearchParam]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for part in value.split(","):
        descending = part.startswith("-")
        name = part.removeprefix("-")
        param = params.get(name)
        if param is None or not param.sortable or param.type == "reference":
            raise InvalidInput(f"cannot sort by '{name}'", where="_sort")
        out.append((param.fields[0], descending))
    return out


def _include(value: str, where: str) -> Include:
    if value == "*":
        return Include("*", "*", None)
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidInput("write it as Type:parameter or Type:parameter:Target", where=where)
    return Include(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def condition(
    param: SearchParam, modifier: str, value: str, *, model: type[models.Model], where: str
) -> Q:
    """One parameter's condition: its comma-separated values ORed."""
    if param.build is not None:
        return param.build(modifier, value, where)
    if modifier == "missing":
        if value not in {"true", "false"}:
            raise InvalidInput(":missing takes true or false", where=where)
        return _missing(param, missing=value == "true", model=model)
    values = _split(value)
    if not values:
        raise InvalidInput("give a value to search for", where=where)
    builder = _BUILDERS[param.type]
    combined = NOTHING
    for one in values:
        combined |= builder(param, modifier, one, model, where)
    if param.type == "token" and modifier == "not":
        return ~_positive_token(param, values, model)
    return combined


def _split(value: str) -> list[str]:
    parts = re.split(r"(?<!\\),", value)
    return [part.replace("\\,", ",") for part in parts if part != ""]


def _missing(param: SearchParam, *, missing: bool, model: type[models.Model]) -> Q:
    combined = Q()
    for path in param.fields:
        target = field_of(model, path)
        blank = Q(**{f"{path}__isnull": True})
        if isinstance(target, models.CharField | models.TextField):
            blank |= Q(**{path: ""})
        combined &= blank
    return combined if missing else ~combined


def _any_field(param: SearchParam, lookup: str, value: object) -> Q:
    if isinstance(value, _NoMatch):
        return NOTHING
    combined = NOTHING
    for path in param.fields:
        combined |= Q(**{f"{path}{lookup}": value})
    return combined


def _string(
    param: SearchParam,
    modifier: str,
    value: str,
    model: type[models.Model],  # noqa: ARG001 - one signature for every type
    where: str,
) -> Q:
    lookups = {"": "__istartswith", "exact": "", "contains": "__icontains"}
    if modifier not in lookups:
        raise InvalidInput(
            f"string parameters take :exact or :contains, not :{modifier}", where=where
        )
    return _any_field(param, lookups[modifier], value)


def _token(
    param: SearchParam, modifier: str, value: str, model: type[models.Model], where: str
) -> Q:
    if modifier not in {"", "not"}:
        raise InvalidInput(f"token parameters take :not or :missing, not :{modifier}", where=where)
    return _token_value(param, value, model)


def _positive_token(param: SearchParam, values: list[str], model: type[models.Model]) -> Q:
    combined = NOTHING
    for one in values:
        combined |= _token_value(param, one, model)
    return combined


def _token_value(param: SearchParam, value: str, model: type[models.Model]) -> Q:
    system, bar, code = value.rpartition("|") if "|" in value else ("", "", value)
    if bar and param.system is not None and system and system != param.system:
        return NOTHING
    codes: Iterable[str] | None = [code]
    if param.code_map is not None and code:
        codes = param.code_map(code)
        if codes is None:
            return NOTHING
    condition_ = NOTHING
    if code:
        for one in codes or ():
            condition_ |= _any_field(param, "", _typed(model, param.fields[0], one))
    else:
        condition_ = ~_missing(param, missing=True, model=model)
    if bar and param.system_field is not None:
        condition_ &= Q(**{param.system_field: system})
    return condition_


def _typed(model: type[models.Model], path: str, value: str) -> object:
    """A value as the column's type, so a malformed id is 'no match', never a crash."""
    target = field_of(model, path)
    if isinstance(target, models.UUIDField):
        try:
            return uuid.UUID(value)
        except ValueError:
            return _NO_MATCH
    if isinstance(target, models.AutoField | models.BigAutoField | models.IntegerField):
        return int(value) if value.isdigit() and len(value) < 18 else _NO_MATCH
    return value


class _NoMatch:
    """A value no row can hold; the condition built from it is replaced by NOTHING."""


_NO_MATCH = _NoMatch()


def _reference(
    param: SearchParam, modifier: str, value: str, model: type[models.Model], where: str
) -> Q:
    if modifier and modifier not in param.targets:
        raise InvalidInput(
            f"reference parameter {param.name} can point to {', '.join(param.targets)}",
            where=where,
        )
    parts = value.rstrip("/").split("/")
    if len(parts) >= 2:
        if parts[-2] not in param.targets:
            return NOTHING
        value = parts[-1]
    return _any_field(param, "", _typed(model, param.fields[0], value))


_DATE = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?"
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def date_range(value: str, where: str) -> tuple[str, datetime, datetime]:
    """A FHIR date search value as its prefix and the half-open range [low, high) it means."""
    match = _DATE.match(value)
    if match is None:
        raise InvalidInput(
            "dates are YYYY, YYYY-MM, YYYY-MM-DD or a date and time, with an optional prefix "
            "(eq, ne, gt, lt, ge, le, sa, eb, ap)",
            where=where,
        )
    g = match.groupdict()
    prefix = g["prefix"] or "eq"
    try:
        low, high = _bounds(g)
    except (ValueError, OverflowError):
        raise InvalidInput("that date does not exist", where=where) from None
    return prefix, low, high


def _bounds(g: dict[str, str | None]) -> tuple[datetime, datetime]:
    tz = _tz(g["tz"])
    year, month, day = int(g["y"] or 0), int(g["m"] or 1), int(g["d"] or 1)
    low = datetime(
        year, month, day, int(g["H"] or 0), int(g["M"] or 0), int(g["S"] or 0), tzinfo=tz
    )
    if g["S"]:
        high = low + timedelta(seconds=1)
    elif g["M"]:
        high = low + timedelta(minutes=1)
    elif g["d"]:
        high = low + timedelta(days=1)
    elif g["m"]:
        high = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    else:
        high = datetime(year + 1, 1, 1, tzinfo=tz)
    return low, high


def _tz(text: str | None) -> Any:
    if text is None:
        return timezone.get_current_timezone()
    if text == "Z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    from datetime import timezone as dt_timezone

    return dt_timezone(sign * timedelta(hours=hours, minutes=minutes))


def _date(
    param: SearchParam, modifier: str, value: str, model: type[models.Model], where: str
) -> Q:
    if modifier:
        raise InvalidInput(f"date parameters take no :{modifier} modifier", where=where)
    prefix, low, high = date_range(value, where)
    try:
        return _date_condition(param, prefix, low, high, model)
    except (ValueError, OverflowError):
        raise InvalidInput("that date is out of range", where=where) from None


def _date_condition(
    param: SearchParam, prefix: str, low: datetime, high: datetime, model: type[models.Model]
) -> Q:
    is_date = not isinstance(field_of(model, param.fields[0]), models.DateTimeField)
    lo: date | datetime = low
    hi: date | datetime = high
    if is_date:
        lo, hi = _day(low, up=False), _day(high, up=True)
    if prefix == "ap":
        span = max(abs(timezone.now() - low) * 0.1, timedelta(days=1))
        lo, hi = lo - span, hi + span
    bounds = {
        "eq": [("__gte", lo), ("__lt", hi)],
        "ap": [("__gte", lo), ("__lt", hi)],
        "ge": [("__gte", lo)],
        "gt": [("__gte", hi)],
        "sa": [("__gte", hi)],
        "le": [("__lt", hi)],
        "lt": [("__lt", lo)],
        "eb": [("__lt", lo)],
        "ne": [("__gte", lo), ("__lt", hi)],
    }[prefix]
    combined = NOTHING
    for path in param.fields:
        one = Q()
        for lookup, bound in bounds:
            one &= Q(**{f"{path}{lookup}": bound})
        combined |= ~one & Q(**{f"{path}__isnull": False}) if prefix == "ne" else one
    return combined


def _day(moment: datetime, *, up: bool) -> date:
    local = timezone.localtime(moment) if moment.tzinfo is not None else moment
    day = local.date()
    if up and local.time() != time(0):
        day += timedelta(days=1)
    return day


def _number(
    param: SearchParam,
    modifier: str,
    value: str,
    model: type[models.Model],  # noqa: ARG001 - one signature for every type
    where: str,
) -> Q:
    match = re.match(r"^(eq|ne|gt|lt|ge|le)?(-?\d+(?:\.\d+)?)$", value)
    if match is None or modifier:
        raise InvalidInput("numbers are written like 42 or ge7.5", where=where)
    prefix, number = match.group(1) or "eq", float(match.group(2))
    lookup = {"eq": "", "ne": "", "gt": "__gt", "lt": "__lt", "ge": "__gte", "le": "__lte"}
    found = _any_field(param, lookup[prefix], number)
    return ~found if prefix == "ne" else found


_BUILDERS: dict[str, Callable[[SearchParam, str, str, type[models.Model], str], Q]] = {
    "string": _string,
    "token": _token,
    "reference": _reference,
    "date": _date,
    "number": _number,
}


def field_of(model: type[models.Model], path: str) -> Any:
    """The model field at the end of an ORM path such as ``identity__person_id``."""
    current: Any = model
    target: Any = None
    for part in path.split("__"):
        target = current._meta.get_field(part)
        if target.is_relation and target.related_model is not None:
            current = target.related_model
            target = target.target_field if hasattr(target, "target_field") else target
    return target


# Paging: the cursor is the last row's sort values; the next page starts after it, so a
# row added or removed meanwhile never shifts rows between pages (no repeats, no gaps).


def encode_cursor(values: list[Any]) -> str:
    plain = [_plain(v) for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def decode_cursor(text: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "the paging cursor is not one this server made", where="_cursor"
        ) from None
    if not isinstance(values, list):
        raise InvalidInput("the paging cursor is not one this server made", where="_cursor")
    return values


def after(
    model: type[models.Model], order: list[tuple[str, bool]], cursor: list[Any], where: str
) -> Q:
    """Rows after the cursor row in ``order`` (nulls last; the last key is unique)."""
    if len(cursor) != len(order):
        raise InvalidInput("the paging cursor does not fit this search", where=where)
    values = []
    for (path, _), raw in zip(order, cursor, strict=True):
        try:
            values.append(None if raw is None else field_of(model, path).to_python(raw))
        except Exception:  # noqa: BLE001 - any malformed value is the client's error
            raise InvalidInput("the paging cursor does not fit this search", where=where) from None
    combined = NOTHING
    equal_so_far = Q()
    for (path, descending), value in zip(order, values, strict=True):
        if value is None:
            beyond = NOTHING
            same = Q(**{f"{path}__isnull": True})
        else:
            beyond = Q(**{f"{path}__{'lt' if descending else 'gt'}": value}) | Q(
                **{f"{path}__isnull": True}
            )
            same = Q(**{path: value})
        combined |= equal_so_far & beyond
        equal_so_far &= same
    return combined

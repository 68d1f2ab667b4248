"""Writes that keep everything or nothing: a written resource is read into the domain's
fields, rendered back with the same mapping reads use, and compared with what was sent.
The first element that would not come back as sent is refused (422) by name, so a client
never believes a value was kept that was not (ADR 24). Every writable type uses this one
comparison; no list of "elements we keep" has to follow the read mappings by hand.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from joinedup.fhir.errors import Unprocessable

JSON = dict[str, Any]

# The elements the server sets or checks itself: never compared with what is kept.
SERVER_ELEMENTS = frozenset({"resourceType", "id", "meta"})
META_KEPT = frozenset({"versionId", "lastUpdated", "profile", "source"})

_REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64})$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$")


def moment_of(value: Any, where: str) -> datetime | None:
    """A FHIR date or dateTime as the record keeps it: in UTC to the second, a date as
    midnight UTC. A year or a year and month alone cannot be kept (a fact's time is a
    point in time)."""
    if value in (None, ""):
        return None
    text = str(value)
    if len(text) < 10:
        raise Unprocessable(
            "the record keeps a full date (YYYY-MM-DD) or a date and time, not a year or month",
            where=where,
        )
    try:
        parsed = datetime.fromisoformat(text) if "T" in text else datetime.fromisoformat(text[:10])
    except ValueError:
        raise Unprocessable("not a date or date and time", where=where) from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0)


def refuse_labels(resource_type: str, body: JSON) -> None:
    """Security labels and tags cannot be kept: refuse them before anything is read."""
    for key in sorted((body.get("meta") or {}).keys() - META_KEPT):
        raise Unprocessable(
            "the record keeps no security labels or tags: leave them out",
            where=f"{resource_type}.meta.{key}",
        )


def require_lossless(resource_type: str, sent: JSON, kept: JSON) -> None:
    """Refuse (422, naming the element) the first element of ``sent`` that ``kept`` (the
    resource as the record would give it back) does not give back as sent."""
    compared = {k: v for k, v in sent.items() if k not in SERVER_ELEMENTS}
    lost = _first_loss(compared, kept, resource_type)
    if lost is None:
        return
    where, missing = lost
    raise Unprocessable(
        f"the record has no place for {where}: leave it out (docs/fhir.md lists what "
        "a written resource may hold)"
        if missing
        else f"the record cannot keep {where} as sent (it would read back differently)",
        where=where,
    )


def _first_loss(sent: Any, kept: Any, where: str) -> tuple[str, bool] | None:
    """The first element of ``sent`` that ``kept`` does not give back, and whether it is
    missing altogether (True) or there but different (False)."""
    if isinstance(sent, dict | list):
        if type(kept) is not type(sent):
            return where, False
        if isinstance(sent, dict):
            pairs = [(f"{where}.{k}", v, k in kept, kept.get(k)) for k, v in sent.items()]
        else:
            pairs = [
                (f"{where}[{i}]", item, i < len(kept), kept[i] if i < len(kept) else None)
                for i, item in enumerate(sent)
            ]
        for path, value, present, back in pairs:
            if present and path.endswith(".reference") and _relative(value) == _relative(back):
                continue  # an absolute reference to this server is kept as a relative one
            lost = _first_loss(value, back, path) if present else (path, True)
            if lost is not None:
                return lost
        return None
    return None if _same(sent, kept) else (where, False)


def _relative(reference: Any) -> str | None:
    """``Type/id`` of a literal reference, relative or absolute; None for anything else."""
    if not isinstance(reference, str):
        return None
    found = _REFERENCE.search(reference)
    return found.group(1) if found else None


def _same(sent: Any, kept: Any) -> bool:
    if sent == kept and type(sent) is type(kept):
        return True
    if isinstance(sent, int | float) and isinstance(kept, int | float):
        return not isinstance(sent, bool) and not isinstance(kept, bool) and sent == kept
    dates = isinstance(sent, str) and isinstance(kept, str)
    if dates and _DATE_TIME.match(sent) and _DATE_TIME.match(kept):
        return moment_of(sent, "") == moment_of(kept, "")
    return False


def text_element(body: Any, key: str, where: str, *, limit: int, required: bool = True) -> str:
    """A string element of a written resource ("" when absent and not required)."""
    value = body.get(key) if isinstance(body, dict) else None
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise Unprocessable(f"give the {key}", where=where)
    if len(value) > limit:
        raise Unprocessable(f"at most {limit} characters are kept", where=where)
    return value

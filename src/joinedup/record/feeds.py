"""Feed descriptions: read once from feeds.toml, checked, and handed to the ingester.

Adding a source system, or a file to one, is a change to feeds.toml, not to code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from joinedup.errors import ConfigurationError

FEEDS_FILE = Path(__file__).with_name("feeds.toml")
FIELD_TYPES = frozenset(
    {
        "text",
        "nhs_number",
        "date",
        "datetime",
        "int",
        "float",
        "code",
        "sctid",
        "practice",
        "postcode",
        "reference",
    }
)
ROLES = frozenset({"identity", "fact"})
IDENTITY_FIELDS = frozenset(
    {
        "nhs_number",
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "address",
        "postcode",
        "practice_code",
        "date_of_death",
        "ethnic_category",
    }
)
# Fact fields with a column of their own; any other field is kept in the fact's detail.
FACT_COLUMNS = frozenset(
    {
        "occurred_at",
        "ended_at",
        "code",
        "display",
        "value",
        "value_text",
        "unit",
        "status",
        "organisation",
    }
)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    source: str
    type: str = "text"
    format: str | None = None
    codes: dict[str, str] | None = None
    required: bool = False


@dataclass(frozen=True)
class FileSpec:
    feed: str
    path: str
    format: str
    role: str
    id: FieldSpec
    fields: tuple[FieldSpec, ...]
    kind: str | None = None  # the fact kind, for role "fact"
    person: FieldSpec | None = None  # a fact's identity reference
    resource: str | None = None  # the FHIR resource type, for ndjson
    code_system: str = ""
    fact_kind: str | None = None  # an identity file whose rows are also facts (deaths)
    fact_fields: tuple[FieldSpec, ...] = field(default_factory=tuple)

    @property
    def all_fields(self) -> tuple[FieldSpec, ...]:
        extra = (self.person,) if self.person else ()
        return (self.id, *extra, *self.fields, *self.fact_fields)


@dataclass(frozen=True)
class Feed:
    name: str
    organisation: str
    files: tuple[FileSpec, ...]


def _field(name: str, raw: Any, where: str) -> FieldSpec:
    if not isinstance(raw, dict) or "from" not in raw:
        raise ConfigurationError(f"field {name} needs a 'from'", where=where)
    kind = raw.get("type", "text")
    if kind not in FIELD_TYPES:
        raise ConfigurationError(f"field {name} has unknown type {kind!r}", where=where)
    codes = raw.get("codes")
    if isinstance(codes, list):
        codes = {str(c): str(c) for c in codes}
    if kind == "code" and not codes:
        raise ConfigurationError(f"code field {name} needs its codes", where=where)
    return FieldSpec(name, raw["from"], kind, raw.get("format"), codes, bool(raw.get("required")))


def _file(feed: str, defaults: dict[str, Any], raw: dict[str, Any]) -> FileSpec:
    where = f"feeds.toml [{feed}] {raw.get('path', '?')}"
    role = raw.get("role")
    if role not in ROLES:
        raise ConfigurationError(f"role must be one of {sorted(ROLES)}", where=where)
    fields = tuple(_field(n, f, where) for n, f in raw.get("fields", {}).items())
    if role == "identity" and not {f.name for f in fields} <= IDENTITY_FIELDS:
        unknown = {f.name for f in fields} - IDENTITY_FIELDS
        raise ConfigurationError(
            f"identity files cannot have fields {sorted(unknown)}", where=where
        )
    if role == "fact" and ("person" not in raw or "kind" not in raw):
        raise ConfigurationError("a fact file needs 'kind' and 'person'", where=where)
    return FileSpec(
        feed=feed,
        path=raw["path"],
        format=raw.get("format", defaults.get("format", "csv")),
        role=role,
        id=_field("id", raw.get("id"), where),
        fields=fields,
        kind=raw.get("kind"),
        person=_field("person", raw["person"], where) if "person" in raw else None,
        resource=raw.get("resource"),
        code_system=raw.get("code_system", defaults.get("code_system", "")),
        fact_kind=raw.get("fact_kind"),
        fact_fields=tuple(_field(n, f, where) for n, f in raw.get("fact_fields", {}).items()),
    )


@cache
def load_feeds(path: Path = FEEDS_FILE) -> dict[str, Feed]:
    """Every feed in feeds.toml, checked; a mistake stops with where it is."""
    with path.open("rb") as handle:
        document = tomllib.load(handle)
    feeds = {}
    for name, raw in document.get("feeds", {}).items():
        files = tuple(_file(name, raw, f) for f in raw.get("files", []))
        feeds[name] = Feed(name, raw.get("organisation", name), files)
    return feeds

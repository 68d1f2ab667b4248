"""Reading an Open Referral UK 3.0 feed: its shapes, and checking every record in it.

Pure Python (no Django): a payload goes in, and out come checked, typed records ready to
store plus every problem found, each saying where it was and why. A service that fails
its own checks is kept back whole; a nested record that fails (a schedule with an
unknown frequency, say) is kept back alone and the service is accepted without it.
Something odd but harmless (coordinates off the globe, as in ORUK's own example) is
accepted with a warning. Nothing is dropped without a problem saying so.

Feeds come as JSON, in any of the API's shapes: one fully nested service, a list of
them, a page (``contents``), an organisation with its ``services``, a service at a
location, a taxonomy with its terms; or as the ORUK tabular package (a folder or .zip of
CSV files, ``datapackage.json``'s tables), which is first assembled into the same
nested shape.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from joinedup.directory.geo import coordinates_valid

Raw = dict[str, Any]
Fields = dict[str, Any]
NAMESPACE = uuid.UUID("6f0d7a52-4c61-4b8e-9a55-0a9e3c1b7d21")  # for ids that are not UUIDs

SERVICE_STATUSES = ("active", "inactive", "defunct", "temporarily closed")
LOCATION_TYPES = ("physical", "postal", "virtual")
FREQUENCIES = ("WEEKLY", "MONTHLY")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BYDAY = re.compile(r"^([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
# The ORUK 3.0 data package's tables (datapackage.json) and what each is called here.
TABLES = {
    "organizations.csv": "organization",
    "services.csv": "service",
    "attribute.csv": "attribute",
    "service_at_location.csv": "service_at_location",
    "locations.csv": "location",
    "phones.csv": "phone",
    "contacts.csv": "contact",
    "address.csv": "address",
    "schedule.csv": "schedule",
    "funding.csv": "funding",
    "service_areas.csv": "service_area",
    "languages.csv": "language",
    "accessibility.csv": "accessibility",
    "taxonomy_terms.csv": "taxonomy_term",
    "cost_options.csv": "cost_option",
    "organization_identifiers.csv": "organization_identifier",
    "taxonomies.csv": "taxonomy",
}


class FeedUnreadable(ValueError):
    """The payload as a whole cannot be read (not JSON, not a known shape, no tables)."""

    def __init__(self, detail: str, where: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.where = where


@dataclass
class Problem:
    where: str
    entity: str
    reasons: list[str]
    raw: str
    kept_back: bool = True


@dataclass
class TermRecord:
    fields: Fields


@dataclass
class AttributeRecord:
    fields: Fields  # id, link_id, link_entity, link_type, taxonomy_term_id
    term: TermRecord


@dataclass
class LocationRecord:
    sal_id: uuid.UUID
    fields: Fields
    addresses: list[Fields] = field(default_factory=list)
    accessibility: list[Fields] = field(default_factory=list)


@dataclass
class OrganizationRecord:
    fields: Fields
    identifiers: list[Fields] = field(default_factory=list)
    attributes: list[AttributeRecord] = field(default_factory=list)


@dataclass
class ServiceRecord:
    where: str
    fields: Fields
    organization: OrganizationRecord | None
    children: dict[str, list[Fields]]  # schedules, service_areas, languages, funding, ...
    locations: list[LocationRecord]
    attributes: list[AttributeRecord]
    raw: str


@dataclass
class TaxonomyRecord:
    where: str
    fields: Fields
    terms: list[TermRecord]


@dataclass
class Feed:
    """What a payload held: records to store, and every problem found reading it."""

    services: list[ServiceRecord] = field(default_factory=list)
    taxonomies: list[TaxonomyRecord] = field(default_factory=list)
    terms: list[TermRecord] = field(default_factory=list)
    organizations: list[OrganizationRecord] = field(default_factory=list)
    attributes: list[AttributeRecord] = field(default_factory=list)  # linked to nothing yet
    problems: list[Problem] = field(default_factory=list)
    read: int = 0

    @property
    def rejected(self) -> int:
        return sum(1 for p in self.problems if p.kept_back)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if not p.kept_back)


def _dump(raw: object) -> str:
    return json.dumps(raw, ensure_ascii=False, default=str)[:20_000]


class Checker:
    """Reads one record's fields, collecting every reason it is unusable."""

    def __init__(self, raw: object, where: str, source: str, entity: str) -> None:
        self.raw: Raw = raw if isinstance(raw, dict) else {}
        self.original = raw  # kept as it came, for the problem report
        self.where = where
        self.source = source
        self.entity = entity
        self.reasons: list[str] = []
        self.warnings: list[str] = []
        if not isinstance(raw, dict):
            self.reasons.append(f"a {entity} must be a JSON object, not {type(raw).__name__}")

    def _get(self, key: str) -> Any:
        value = self.raw.get(key)
        if isinstance(value, str):
            value = value.strip()
        return None if value in ("", None) else value

    def id(self, key: str = "id", *, entity: str | None = None, required: bool = True) -> Any:
        value = self._get(key)
        if value is None:
            if required:
                self.reasons.append(f"{key} is missing")
            return None
        return feed_uuid(str(value), source=self.source, entity=entity or self.entity)

    def text(self, key: str, *, required: bool = False, limit: int = 0) -> str:
        value = self._get(key)
        if value is None:
            if required:
                self.reasons.append(f"{key} is missing")
            return ""
        if not isinstance(value, str | int | float):
            self.reasons.append(f"{key} must be text")
            return ""
        text = str(value)
        if limit and len(text) > limit:
            self.reasons.append(f"{key} is longer than {limit} characters")
        return text

    def choice(self, key: str, options: tuple[str, ...], *, required: bool = False) -> str:
        text = self.text(key, required=required)
        if text and text not in options:
            self.reasons.append(f"{key} {text!r} is not one of: {', '.join(options)}")
        return text

    def email(self, key: str) -> str:
        text = self.text(key, limit=254)
        if text and not _EMAIL.match(text):
            self.reasons.append(f"{key} {text!r} is not an email address")
        return text

    def number(self, key: str, *, low: float | None = None, high: float | None = None) -> Any:
        value = self._get(key)
        if value is None:
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.reasons.append(f"{key} {value!r} is not a number")
            return None
        if not number.is_finite() or (low is not None and number < low):
            self.reasons.append(f"{key} {value!r} is out of range")
            return None
        if high is not None and number > high:
            self.reasons.append(f"{key} {value!r} is out of range")
            return None
        return number

    def day(self, key: str) -> date | None:
        value = self._get(key)
        if value is None:
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            self.reasons.append(f"{key} {value!r} is not a date (YYYY-MM-DD)")
            return None

    def clock(self, key: str) -> time | None:
        value = self._get(key)
        if value is None:
            return None
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            self.reasons.append(f"{key} {value!r} is not a time (HH:MM or HH:MM:SS)")
            return None

    def moment(self, key: str) -> datetime | None:
        value = self._get(key)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.reasons.append(f"{key} {value!r} is not a date and time (ISO 8601)")
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def items(self, key: str) -> list[Any]:
        value = self.raw.get(key)
        if value in (None, ""):
            return []
        if not isinstance(value, list):
            self.reasons.append(f"{key} must be a list")
            return []
        return value

    def problem(self) -> Problem | None:
        if self.reasons:
            # Not an object at all: its missing fields would only repeat that.
            shapeless = self.reasons[0].startswith(f"a {self.entity} must be a JSON object")
            reasons = self.reasons[:1] if shapeless else self.reasons
            return Problem(self.where, self.entity, reasons, _dump(self.original))
        if self.warnings:
            return Problem(self.where, self.entity, self.warnings, _dump(self.original), False)
        return None


def feed_uuid(value: str, *, source: str, entity: str) -> uuid.UUID:
    """The feed's id when it is a UUID; otherwise one derived from it, the same every time."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.uuid5(NAMESPACE, f"{source}:{entity}:{value}")


class FeedReader:
    """Turns a parsed payload into a ``Feed``, checking each record as it goes."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.feed = Feed()

    def _check(self, raw: object, where: str, entity: str) -> Checker:
        return Checker(raw, where, self.source, entity)

    def _keep(self, checker: Checker) -> bool:
        """Record the checker's problem if any; whether the record may be stored."""
        problem = checker.problem()
        if problem is not None:
            self.feed.problems.append(problem)
        return not checker.reasons

    def read(self, payload: object, where: str = "$") -> Feed:
        self._walk(payload, where, parent_org=None)
        return self.feed

    def _walk(self, payload: object, where: str, parent_org: Raw | None) -> None:
        if isinstance(payload, list):
            for n, item in enumerate(payload):
                self._walk(item, f"{where}[{n}]", parent_org)
            return
        if not isinstance(payload, dict):
            self.feed.read += 1
            self.feed.problems.append(
                Problem(where, "unknown", ["not a JSON object"], _dump(payload))
            )
            return
        kind = payload_kind(payload)
        if kind == "page":
            self._walk(payload["contents"], f"{where}.contents", parent_org)
        elif kind == "organization":
            self._organization_with_services(payload, where)
        elif kind == "taxonomy":
            self.feed.read += 1
            self._taxonomy(payload, where)
        elif kind == "taxonomy_term":
            self.feed.read += 1
            term = self._term(payload, where)
            if term is not None:
                self.feed.terms.append(term)
        elif kind == "service_at_location":
            service = dict(payload.get("service") or {})
            service.setdefault("service_at_locations", [])
            sal = {k: payload[k] for k in ("id", "location", "location_id") if k in payload}
            service["service_at_locations"] = [*service["service_at_locations"], sal]
            self.feed.read += 1
            self._service(service, f"{where}.service", parent_org)
        else:
            self.feed.read += 1
            self._service(payload, where, parent_org)

    def _organization_with_services(self, payload: Raw, where: str) -> None:
        services = payload.get("services") or []
        organization = {k: v for k, v in payload.items() if k != "services"}
        if not services:
            self.feed.read += 1
            holder = self._check(organization, where, "organization")
            record = self._organization(organization, where, holder)
            self._keep(holder)
            if record is not None:
                self.feed.organizations.append(record)
            return
        self._walk(services, f"{where}.services", organization)

    def _service(self, raw: Raw, where: str, parent_org: Raw | None) -> None:
        c = self._check(raw, where, "service")
        fields: Fields = {
            "id": c.id(),
            "name": c.text("name", required=True, limit=300),
            "status": c.choice("status", SERVICE_STATUSES, required=True),
            "description": c.text("description"),
            "url": c.text("url", limit=500),
            "email": c.email("email"),
            "fees": c.text("fees"),
            "accreditations": c.text("accreditations"),
            "minimum_age": c.number("minimum_age", low=0, high=150),
            "maximum_age": c.number("maximum_age", low=0, high=150),
            "assured_date": c.day("assured_date"),
            "assurer_email": c.email("assurer_email"),
            "alert": c.text("alert"),
            "last_modified": c.moment("last_modified"),
            "phone": _first_phone(raw),
        }
        low, high = fields["minimum_age"], fields["maximum_age"]
        if low is not None and high is not None and low > high:
            c.reasons.append("minimum_age is above maximum_age")
        org_raw = raw.get("organization") or parent_org
        organization = None
        if org_raw is not None:
            organization = self._organization(org_raw, f"{where}.organization", c)
        if organization is not None:
            fields["organization_id"] = organization.fields["id"]
        elif raw.get("organization_id"):
            fields["organization_id"] = c.id("organization_id", entity="organization")
        if not self._keep(c):
            return
        sid = fields["id"]
        record = ServiceRecord(
            where=where,
            fields=fields,
            organization=organization,
            children=self._children(c),
            locations=[],
            attributes=self._attributes(
                c.items("attributes"), f"{where}.attributes", "service", sid
            ),
            raw=_dump(raw),
        )
        if organization is not None:
            record.attributes += organization.attributes
        for n, sal in enumerate(c.items("service_at_locations")):
            location = self._location(sal, f"{where}.service_at_locations[{n}]", record)
            if location is not None:
                record.locations.append(location)
        for n, contact in enumerate(c.items("contacts")):
            cid = _contact_id(contact, self.source)
            if cid is not None and isinstance(contact, dict):
                record.attributes += self._attributes(
                    contact.get("attributes") or [],
                    f"{where}.contacts[{n}].attributes",
                    "contact",
                    cid,
                )
        self.feed.services.append(record)

    def _organization(self, raw: object, where: str, service: Checker) -> OrganizationRecord | None:
        c = self._check(raw, where, "organization")
        fields: Fields = {
            "id": c.id(),
            "name": c.text("name", required=True, limit=300),
            "description": c.text("description"),
            "email": c.email("email"),
            "website": c.text("website", limit=500),
            "logo": c.text("logo", limit=500),
            "uri": c.text("uri", limit=500),
            "parent_organization_id": c.id("parent_organization_id", required=False),
        }
        if c.reasons:
            service.reasons.append(f"its organization cannot be used: {'; '.join(c.reasons)}")
            return None
        record = OrganizationRecord(fields)
        for n, item in enumerate(c.items("organization_identifiers")):
            ic = self._check(item, f"{where}.organization_identifiers[{n}]", "identifier")
            ident = {
                "id": ic.id(),
                "identifier_scheme": ic.text("identifier_scheme", limit=50),
                "identifier_type": ic.text("identifier_type", required=True, limit=100),
                "identifier": ic.text("identifier", required=True, limit=100),
            }
            if self._keep(ic):
                record.identifiers.append(ident)
        record.attributes = self._attributes(
            c.items("attributes"), f"{where}.attributes", "organization", fields["id"]
        )
        return record

    def _children(self, c: Checker) -> dict[str, list[Fields]]:
        where = c.where
        out: dict[str, list[Fields]] = {
            "schedules": [],
            "service_areas": [],
            "languages": [],
            "funding": [],
            "cost_options": [],
            "contacts": [],
        }
        for n, raw in enumerate(c.items("schedules")):
            schedule = self._schedule(raw, f"{where}.schedules[{n}]")
            if schedule is not None:
                out["schedules"].append(schedule)
        readers: dict[str, Callable[[Checker], Fields]] = {
            "service_areas": lambda x: {
                "name": x.text("name"),
                "extent": x.text("extent"),
                "extent_type": x.text("extent_type", limit=30),
                "uri": x.text("uri", limit=500),
                "service_area": x.text("service_area"),
            },
            "languages": lambda x: {"phone_id": x.id("phone_id", entity="phone", required=False)},
            "funding": lambda x: {"source": x.text("source")},
            "cost_options": lambda x: {
                "valid_from": x.day("valid_from"),
                "valid_to": x.day("valid_to"),
                "option": x.text("option", limit=300),
                "amount": x.number("amount", low=0, high=99_999_999),
                "amount_description": x.text("amount_description", limit=300),
            },
            "contacts": lambda x: {
                "name": x.text("name", limit=200),
                "title": x.text("title", limit=200),
            },
        }
        for key, read in readers.items():
            for n, raw in enumerate(c.items(key)):
                x = self._check(raw, f"{where}.{key}[{n}]", key.rstrip("s"))
                values = {"id": x.id(), **read(x)}
                if self._keep(x):
                    out[key].append(values)
        return out

    def _schedule(self, raw: object, where: str) -> Fields | None:
        x = self._check(raw, where, "schedule")
        values: Fields = {
            "id": x.id(),
            "service_at_location_id": x.id(
                "service_at_location_id", entity="service_at_location", required=False
            ),
            "valid_from": x.day("valid_from"),
            "valid_to": x.day("valid_to"),
            "dtstart": x.day("dtstart"),
            "freq": x.choice("freq", FREQUENCIES),
            "interval": x.number("interval", low=1, high=1000),
            "byday": x.text("byday", limit=40).replace(" ", "").upper(),
            "bymonthday": x.text("bymonthday", limit=100),
            "description": x.text("description"),
            "opens_at": x.clock("opens_at"),
            "closes_at": x.clock("closes_at"),
            "schedule_link": x.text("schedule_link", limit=500),
            "attending_type": x.text("attending_type", limit=300),
            "notes": x.text("notes"),
        }
        bad = [d for d in values["byday"].split(",") if d and not _BYDAY.match(d)]
        if bad:
            x.reasons.append(f"byday has {', '.join(bad)}: days are MO, TU, WE, TH, FR, SA, SU")
        if values["interval"] is not None:
            values["interval"] = int(values["interval"])
        return values if self._keep(x) else None

    def _location(self, raw: object, where: str, service: ServiceRecord) -> LocationRecord | None:
        sal = self._check(raw, where, "service_at_location")
        sal_id = sal.id()
        loc_raw = sal.raw.get("location")
        if loc_raw is None:
            sal.reasons.append("location is missing (a location_id alone cannot be placed)")
        if not self._keep(sal):
            return None
        lwhere = f"{where}.location"
        x = self._check(loc_raw, lwhere, "location")
        fields: Fields = {
            "id": x.id(),
            "location_type": x.choice("location_type", LOCATION_TYPES, required=True),
            "name": x.text("name", limit=300),
            "description": x.text("description"),
            "latitude": x.number("latitude"),
            "longitude": x.number("longitude"),
            "external_identifier": x.text("external_identifier", limit=100),
            "external_identifier_type": x.text("external_identifier_type", limit=50),
        }
        lat, lon = fields["latitude"], fields["longitude"]
        if (lat is None) != (lon is None):
            x.warnings.append("only one of latitude and longitude: left out of distances")
            fields["latitude"] = fields["longitude"] = None
        elif lat is not None and not coordinates_valid(float(lat), float(lon)):
            x.warnings.append(
                f"latitude {lat}, longitude {lon} are not on the globe: "
                "kept as sent, left out of distances"
            )
        record = LocationRecord(sal_id, fields)
        for n, item in enumerate(x.items("addresses")):
            a = self._check(item, f"{lwhere}.addresses[{n}]", "address")
            values = {
                "id": a.id(),
                "attention": a.text("attention", limit=200),
                "address_1": a.text("address_1", required=True, limit=300),
                "city": a.text("city", required=True, limit=100),
                "region": a.text("region", limit=100),
                "state_province": a.text("state_province", limit=100),
                "postal_code": a.text("postal_code", required=True, limit=20),
                "country": a.text("country", required=True, limit=2),
                "address_type": a.choice("address_type", LOCATION_TYPES, required=True),
            }
            if self._keep(a):
                record.addresses.append(values)
        for n, item in enumerate(x.items("accessibility")):
            a = self._check(item, f"{lwhere}.accessibility[{n}]", "accessibility")
            values = {
                "id": a.id(),
                "description": a.text("description"),
                "details": a.text("details"),
                "url": a.text("url", limit=500),
                "accessibility": a.text("accessibility"),
            }
            if self._keep(a):
                record.accessibility.append(values)
        if not self._keep(x):
            return None
        service.attributes += self._attributes(
            x.items("attributes"), f"{lwhere}.attributes", "location", fields["id"]
        )
        return record

    def _term(self, raw: object, where: str) -> TermRecord | None:
        t = self._check(raw, where, "taxonomy_term")
        fields: Fields = {
            "id": t.id(),
            "name": t.text("name", required=True, limit=200),
            "description": t.text("description"),
            "parent_id": t.id("parent_id", required=False),
            "taxonomy_name": t.text("taxonomy", limit=200),
            "taxonomy_id": t.id("taxonomy_id", entity="taxonomy", required=False),
            "term_uri": t.text("term_uri", limit=500),
            "term": t.text("term", limit=200),
        }
        return TermRecord(fields) if self._keep(t) else None

    def _attributes(
        self, items: list[Any], where: str, entity: str, link_id: uuid.UUID
    ) -> list[AttributeRecord]:
        out: list[AttributeRecord] = []
        for n, raw in enumerate(items):
            a = self._check(raw, f"{where}[{n}]", "attribute")
            term_raw = a.raw.get("taxonomy_term")
            if term_raw is None:
                a.reasons.append("taxonomy_term is missing: an attribute names a term")
            fields: Fields = {
                "id": a.id(),
                "link_id": link_id,
                "link_entity": entity,
                "link_type": a.text("link_type", limit=100),
            }
            if not self._keep(a):
                continue
            term = self._term(term_raw, f"{where}[{n}].taxonomy_term")
            if term is not None:
                fields["taxonomy_term_id"] = term.fields["id"]
                out.append(AttributeRecord(fields, term))
        return out

    def _taxonomy(self, raw: Raw, where: str) -> None:
        t = self._check(raw, where, "taxonomy")
        fields: Fields = {
            "id": t.id(),
            "name": t.text("name", required=True, limit=200),
            "description": t.text("description"),
            "uri": t.text("uri", limit=500),
            "version": t.text("version", limit=50),
        }
        if not self._keep(t):
            return
        terms = []
        for n, item in enumerate(t.items("taxonomy_terms")):
            term = self._term(item, f"{where}.taxonomy_terms[{n}]")
            if term is not None:
                term.fields["taxonomy_id"] = term.fields["taxonomy_id"] or fields["id"]
                terms.append(term)
        self.feed.taxonomies.append(TaxonomyRecord(where, fields, terms))


def _first_phone(raw: Raw) -> str:
    """HSDS (not ORUK 3.0) nests phones in a service: keep the first number to show."""
    phones = raw.get("phones")
    if isinstance(phones, list):
        for phone in phones:
            if isinstance(phone, dict) and phone.get("number"):
                return str(phone["number"]).strip().strip('"')[:40]
    return ""


def _contact_id(raw: object, source: str) -> uuid.UUID | None:
    if isinstance(raw, dict) and raw.get("id"):
        return feed_uuid(str(raw["id"]), source=source, entity="contact")
    return None


# The first rule whose keys a JSON object has says which shape it is ("status" marks a
# service, which settles the ambiguous cases: a service also has a uri, an organization).
_SHAPES: tuple[tuple[str, frozenset[str]], ...] = (
    ("service", frozenset({"status", "service_at_locations", "organization"})),
    (
        "organization",
        frozenset(
            {"services", "website", "logo", "parent_organization_id", "organization_identifiers"}
        ),
    ),
    ("taxonomy", frozenset({"taxonomy_terms", "version"})),
    ("taxonomy_term", frozenset({"term", "parent_id", "taxonomy", "taxonomy_id", "term_uri"})),
)


def payload_kind(item: Raw) -> str:
    """Which ORUK shape a JSON object is (a service when nothing else fits)."""
    if isinstance(item.get("contents"), list):
        return "page"
    if "location" in item and "service" in item:
        return "service_at_location"
    keys = item.keys()
    return next((kind for kind, marks in _SHAPES if marks & keys), "service")


def feed_read_json(text: str, *, source: str) -> Feed:
    """A JSON feed, read and checked."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FeedUnreadable(
            f"the feed is not JSON: {exc.msg}", f"line {exc.lineno} column {exc.colno}"
        ) from None
    return FeedReader(source).read(payload)


# --- the tabular package ----------------------------------------------------------------


def _tables_from(path: Path) -> dict[str, list[dict[str, str]]]:
    """Each CSV file's rows by file name, from a folder or a .zip."""
    files: dict[str, str] = {}
    if path.is_dir():
        for file in sorted(path.glob("*.csv")):
            files[file.name] = file.read_text(encoding="utf-8-sig")
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                if name.endswith(".csv"):
                    files[Path(name).name] = archive.read(name).decode("utf-8-sig")
    else:
        raise FeedUnreadable("a tabular feed is a folder or .zip of CSV files", str(path))
    return {name: list(csv.DictReader(io.StringIO(text))) for name, text in files.items()}


def _numbered(rows: list[dict[str, str]]) -> Iterator[tuple[int, dict[str, str]]]:
    return enumerate(rows, start=2)  # line 1 is the heading


def tabular_assemble(
    tables: dict[str, list[dict[str, str]]],
) -> tuple[list[Raw], list[Problem], set[int]]:
    """The package's tables joined into nested services; rows that join nothing are problems."""
    problems = [
        Problem(
            name,
            "table",
            ["not a table of the ORUK 3.0 data package (datapackage.json): not read"],
            "",
            kept_back=False,
        )
        for name in sorted(tables)
        if name not in TABLES
    ]
    t = {name: tables.get(name, []) for name in TABLES}
    used: dict[str, set[int]] = defaultdict(set)

    def rows_for(name: str, key: str, value: str) -> list[Raw]:
        out = []
        for n, row in enumerate(t[name]):
            if (row.get(key) or "").strip() == value and value:
                used[name].add(n)
                out.append(_plain(row, drop=(key,)))
        return out

    terms = {r.get("id", "").strip(): r for r in t["taxonomy_terms.csv"]}

    def attributes(link: str) -> list[Raw]:
        out = []
        for n, row in enumerate(t["attribute.csv"]):
            if (row.get("link_id") or "").strip() != link or not link:
                continue
            used["attribute.csv"].add(n)
            item: Raw = _plain(row, drop=("link_id",))
            term = terms.get((row.get("taxonomy_term_id") or "").strip())
            if term is not None:
                item["taxonomy_term"] = _plain(term)
            out.append(item)
        return out

    organizations = {r.get("id", "").strip(): r for r in t["organizations.csv"]}
    locations = {r.get("id", "").strip(): r for r in t["locations.csv"]}
    services: list[Raw] = []
    for line, row in _numbered(t["services.csv"]):
        used["organizations.csv"].update(
            n
            for n, org in enumerate(t["organizations.csv"])
            if org.get("id", "").strip() == (row.get("organization_id") or "").strip()
        )
        sid = (row.get("id") or "").strip()
        service: Raw = _plain(row)
        service["_where"] = f"services.csv line {line}"
        org = organizations.get((row.get("organization_id") or "").strip())
        if org is not None:
            oid = org["id"].strip()
            service["organization"] = {
                **_plain(org),
                "organization_identifiers": rows_for(
                    "organization_identifiers.csv", "organization_id", oid
                ),
                "attributes": attributes(oid),
            }
        for key, name in (
            ("schedules", "schedule.csv"),
            ("service_areas", "service_areas.csv"),
            ("languages", "languages.csv"),
            ("funding", "funding.csv"),
            ("cost_options", "cost_options.csv"),
            ("contacts", "contacts.csv"),
        ):
            service[key] = rows_for(name, "service_id", sid)
        for contact in service["contacts"]:
            contact["attributes"] = attributes(contact.get("id", ""))
            for n, phone in enumerate(t["phones.csv"]):
                if (phone.get("contact_id") or "").strip() == contact.get("id", ""):
                    used["phones.csv"].add(n)
                    service.setdefault("phones", []).append(_plain(phone))
        service["attributes"] = attributes(sid)
        sals = []
        for sal in rows_for("service_at_location.csv", "service_id", sid):
            location = locations.get(str(sal.get("location_id", "")))
            if location is not None:
                lid = location["id"].strip()
                used["locations.csv"].add(t["locations.csv"].index(location))
                sal["location"] = {
                    **_plain(location),
                    "addresses": rows_for("address.csv", "location_id", lid),
                    "accessibility": rows_for("accessibility.csv", "location_id", lid),
                    "attributes": attributes(lid),
                }
            sals.append(sal)
        service["service_at_locations"] = sals
        services.append(service)
    problems += _orphans(t, used)
    services += [
        {**_plain(org), "_where": f"organizations.csv line {n + 2}", "_organization": True}
        for n, org in enumerate(t["organizations.csv"])
        if n not in used["organizations.csv"]
    ]
    loose = set(range(len(t["attribute.csv"]))) - used["attribute.csv"]
    return services, problems, loose


def _orphans(t: dict[str, list[dict[str, str]]], used: dict[str, set[int]]) -> list[Problem]:
    """Child rows that belong to no service in the package: kept back, with the reason."""
    parents = {
        "schedule.csv": "service_id",
        "service_areas.csv": "service_id",
        "languages.csv": "service_id",
        "funding.csv": "service_id",
        "cost_options.csv": "service_id",
        "contacts.csv": "service_id",
        "service_at_location.csv": "service_id",
        "address.csv": "location_id",
        "accessibility.csv": "location_id",
        "organization_identifiers.csv": "organization_id",
        "phones.csv": "contact_id",
        "locations.csv": "id",
    }
    out = []
    for name, key in parents.items():
        for n, row in enumerate(t[name]):
            if n not in used[name]:
                out.append(
                    Problem(
                        f"{name} line {n + 2}",
                        TABLES[name],
                        [
                            "no service at a location names this location"
                            if name == "locations.csv"
                            else f"{key} {row.get(key, '')!r} matches nothing in the package"
                        ],
                        _dump(row),
                    )
                )
    return out


def _plain(row: dict[str, str], drop: tuple[str, ...] = ()) -> Raw:
    return {k: v for k, v in row.items() if k and k not in drop and v not in ("", None)}


def feed_read_tabular(path: Path, *, source: str) -> Feed:
    """The ORUK tabular package (a folder or .zip of CSV files), read and checked."""
    tables = _tables_from(path)
    if "services.csv" not in tables:
        raise FeedUnreadable("the package has no services.csv", str(path))
    services, problems, loose = tabular_assemble(tables)
    terms = {r.get("id", "").strip(): r for r in tables.get("taxonomy_terms.csv", [])}
    reader = FeedReader(source)
    for service in services:
        where = service.pop("_where")
        if service.pop("_organization", False):
            reader._walk({**service, "services": []}, where, None)
            continue
        reader.feed.read += 1
        reader._service(service, where, None)
    for line, row in _numbered(tables.get("taxonomies.csv", [])):
        reader.feed.read += 1
        reader._taxonomy(_plain(row), f"taxonomies.csv line {line}")
    for line, row in _numbered(tables.get("taxonomy_terms.csv", [])):
        reader.feed.read += 1
        term = reader._term(_plain(row), f"taxonomy_terms.csv line {line}")
        if term is not None:
            reader.feed.terms.append(term)
    for n, row in enumerate(tables.get("attribute.csv", [])):
        link = (row.get("link_id") or "").strip()
        if n in loose and link:
            reader.feed.read += 1
            term_row = terms.get((row.get("taxonomy_term_id") or "").strip())
            item = {**_plain(row), **({"taxonomy_term": _plain(term_row)} if term_row else {})}
            where = f"attribute.csv line {n + 2}"
            found = reader._attributes([item], where, "", feed_uuid(link, source=source, entity=""))
            reader.feed.attributes += found
            if found:
                reader.feed.problems.append(
                    Problem(
                        where,
                        "attribute",
                        [
                            (
                                f"link_id {link!r} names nothing in the package: stored, "
                                "and used when a record with that id arrives"
                            )
                        ],
                        _dump(row),
                        kept_back=False,
                    )
                )
    reader.feed.problems[:0] = problems
    reader.feed.read += sum(1 for p in problems if p.kept_back)
    return reader.feed


def feed_read_path(path: Path, *, source: str) -> Feed:
    """A feed file (.json), or a tabular package (a folder, a .zip)."""
    if path.is_dir() or path.suffix.lower() == ".zip":
        return feed_read_tabular(path, source=source)
    if not path.is_file():
        raise FeedUnreadable("there is no such file", str(path))
    return feed_read_json(path.read_text(encoding="utf-8-sig"), source=source)

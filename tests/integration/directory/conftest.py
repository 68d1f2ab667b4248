"""The directory's test set-up: ORUK's own schemas as validators, and a small directory.

The schemas are the upstream ORUK 3.0 files in ``../shared/reference/openreferral`` (see
its README): the compiled ones as they are, the others resolved through their relative
``$ref``s, and the page envelope from ORUK's OpenAPI document, exactly as the ORUK
validator's Level 1 and Level 2 checks use them.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from joinedup.directory.models import (
    Attribute,
    Location,
    LocationType,
    Organization,
    Postcode,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    Taxonomy,
    TaxonomyTerm,
)

ORUK = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "openreferral"
SCHEMA = ORUK / "oruk-3.0" / "schema"
EXAMPLES = ORUK / "oruk-3.0" / "examples"
BASE = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"


def require_reference() -> None:
    if not (SCHEMA / "compiled" / "service.json").exists():
        message = f"the ORUK 3.0 reference schemas are not at {SCHEMA}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _registry() -> Registry:
    resources = []
    for path in [*SCHEMA.glob("*.json"), *SCHEMA.glob("compiled/*.json")]:
        if path.name == "openapi.json":
            continue
        relative = path.relative_to(SCHEMA).as_posix()
        resources.append(
            (
                BASE + relative,
                Resource.from_contents(_load(path), default_specification=DRAFT202012),
            )
        )
    return Registry().with_resources(resources)


def _page(item_ref: str) -> dict[str, Any]:
    page = _load(SCHEMA / "openapi.json")["components"]["schemas"]["Page"]
    return {
        "allOf": [page],
        "type": "object",
        "required": [
            "total_items",
            "total_pages",
            "page_number",
            "size",
            "first_page",
            "last_page",
            "empty",
            "contents",
        ],
        "properties": {"contents": {"type": "array", "items": {"$ref": BASE + item_ref}}},
    }


class Schemas:
    """Validators by the validator profile's names; ``errors(name, data)`` lists problems."""

    def __init__(self) -> None:
        registry = _registry()
        root = _load(ORUK / "oruk-validator" / "api_details.json")
        self._schemas: dict[str, dict[str, Any]] = {
            "api_details": root,
            "service": {"$ref": BASE + "compiled/service.json"},
            "service_list": _page("compiled/service_list.json"),
            "service_at_location": {"$ref": BASE + "compiled/service_at_location.json"},
            "service_at_location_list": _page("compiled/service_at_location_list.json"),
            "taxonomy": {"$ref": BASE + "taxonomy.json"},
            "taxonomy_list": _page("taxonomy.json"),
            "taxonomy_term": {"$ref": BASE + "taxonomy_term.json"},
            "taxonomy_term_list": _page("taxonomy_term.json"),
        }
        self._validators = {
            name: Draft202012Validator(
                schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            for name, schema in self._schemas.items()
        }

    def errors(self, name: str, data: object) -> list[str]:
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in self._validators[name].iter_errors(data)
        ]


@pytest.fixture(scope="session")
def schemas() -> Schemas:
    require_reference()
    return Schemas()


# --- a small directory ---------------------------------------------------------------

# Three places on a line east of a postcode: about 0 m, 1.4 km and 4.2 km away.
HOME = ("SK4 3QX", 53.4100, -2.1600)


@pytest.fixture
def home_postcode(db: None) -> Postcode:
    code, lat, lon = HOME
    Postcode.objects.create(postcode="SK1 1AA", latitude=53.4000, longitude=-2.1500)
    return Postcode.objects.create(
        postcode=code, latitude=lat, longitude=lon, lsoa_code="E01000001"
    )


@pytest.fixture
def taxonomy(db: None) -> Taxonomy:
    return Taxonomy.objects.create(name="Borough needs", description="What people need help with")


@pytest.fixture
def make_term(taxonomy: Taxonomy) -> Callable[..., TaxonomyTerm]:
    def make(name: str, code: str = "") -> TaxonomyTerm:
        return TaxonomyTerm.objects.create(
            name=name,
            description=f"Services for {name.lower()}",
            taxonomy_id=taxonomy.id,
            taxonomy_name=taxonomy.name,
            term=code or name.lower().replace(" ", "-"),
        )

    return make


@pytest.fixture
def make_service(db: None) -> Callable[..., Service]:
    organisation = Organization.objects.create(name="Borough Council", description="The council")

    def make(
        name: str,
        *,
        lat: float | None = None,
        lon: float | None = None,
        terms: tuple[TaxonomyTerm, ...] = (),
        status: str = ServiceStatus.ACTIVE,
        ages: tuple[float | None, float | None] = (None, None),
        days: str = "MO,TU,WE,TH,FR",
        hours: tuple[time, time] = (time(9), time(17)),
        assured: date | None = None,
        owner: Any = None,
    ) -> Service:
        service = Service.objects.create(
            name=name,
            description=f"{name}: a service for the borough",
            status=status,
            organization=organisation,
            minimum_age=ages[0],
            maximum_age=ages[1],
            last_modified=timezone.now(),
            assured_date=assured,
            owner=owner,
            email="help@example.org",
        )
        if lat is not None and lon is not None:
            location = Location.objects.create(
                name=f"{name} venue",
                location_type=LocationType.PHYSICAL,
                latitude=lat,
                longitude=lon,
            )
            ServiceAtLocation.objects.create(service=service, location=location)
        Schedule.objects.create(
            service=service, freq="WEEKLY", byday=days, opens_at=hours[0], closes_at=hours[1]
        )
        for term in terms:
            Attribute.objects.create(
                link_id=service.id, link_entity="service", link_type="need", taxonomy_term=term
            )
        return service

    return make


def new_id() -> str:
    return str(uuid.uuid4())

"""Directory rows as Open Referral UK 3.0 JSON: the API's and the export's one projection.

ORUK 3.0's JSON Schemas give every field a single type (never null), so an empty
optional field is left out rather than sent as null or "", while a required one is always
present. The shapes follow the compiled schemas: ``service_full`` is
``compiled/service.json``, ``service_list`` is ``compiled/service_list.json``, and so on.
This module only reads the rows it is given; which rows a caller may see is the
selectors' business.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from joinedup.directory.geo import coordinates_valid
from joinedup.directory.models import (
    Attribute,
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

Json = dict[str, Any]
VERSION = "HSDS-UK-3.0"
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md"
OPENAPI_URL = "https://openreferraluk.org/specifications/3.0/openapi.json"


def _value(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Decimal | float):
        number = float(value)
        return int(number) if number.is_integer() else number
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _object(required: Mapping[str, object], optional: Mapping[str, object]) -> Json:
    """Required fields always; optional ones only when they hold something."""
    out: Json = {k: _value(v) for k, v in required.items()}
    for key, value in optional.items():
        if value is None or value in ("", []):
            continue
        out[key] = _value(value)
    return out


class Attributes:
    """Each linked row's attributes, fetched in one query for a batch of ids."""

    def __init__(self, link_ids: Iterable[object]) -> None:
        self._by_link: dict[str, list[Attribute]] = defaultdict(list)
        ids = list(link_ids)
        if ids:
            query = Attribute.objects.filter(link_id__in=ids).select_related("taxonomy_term")
            for attribute in query.order_by("id"):
                self._by_link[str(attribute.link_id)].append(attribute)

    def of(self, link_id: object) -> list[Json]:
        return [attribute_json(a) for a in self._by_link.get(str(link_id), [])]

    def terms_of(self, link_id: object) -> list[TaxonomyTerm]:
        return [a.taxonomy_term for a in self._by_link.get(str(link_id), [])]


def attributes_for(service: Service) -> Attributes:
    """The attributes of a service and of everything nested in it, in one query."""
    ids: list[object] = [service.id, *(c.id for c in service.contacts.all())]
    ids += [sal.location_id for sal in service.at_locations.all()]
    if service.organization_id:
        ids.append(service.organization_id)
    return Attributes(ids)


def taxonomy_term_json(term: TaxonomyTerm) -> Json:
    return _object(
        {"id": term.id, "name": term.name, "description": term.description},
        {
            "parent_id": term.parent_id,
            "taxonomy": term.taxonomy_name,
            "taxonomy_id": term.taxonomy_id,
            "term_uri": term.term_uri,
            "term": term.term,
        },
    )


def taxonomy_json(taxonomy: Taxonomy, terms: Sequence[TaxonomyTerm] = ()) -> Json:
    return _object(
        {"id": taxonomy.id, "name": taxonomy.name, "description": taxonomy.description},
        {
            "uri": taxonomy.uri,
            "version": taxonomy.version,
            "taxonomy_terms": [taxonomy_term_json(t) for t in terms],
        },
    )


def attribute_json(attribute: Attribute) -> Json:
    return _object(
        {"id": attribute.id},
        {
            "link_id": attribute.link_id,
            "taxonomy_term_id": attribute.taxonomy_term_id,
            "link_type": attribute.link_type,
            "taxonomy_term": taxonomy_term_json(attribute.taxonomy_term),
        },
    )


def organization_json(org: Organization, attributes: Attributes | None = None) -> Json:
    """The organisation as nested in a service; with attributes, the full form."""
    optional: dict[str, object] = {
        "email": org.email,
        "website": org.website,
        "logo": org.logo,
        "uri": org.uri,
        "parent_organization_id": org.parent_organization_id,
    }
    if attributes is not None:
        optional["organization_identifiers"] = [
            _object(
                {"id": i.id, "identifier_type": i.identifier_type, "identifier": i.identifier},
                {"organization_id": org.id, "identifier_scheme": i.identifier_scheme},
            )
            for i in org.identifiers.all()
        ]
        optional["attributes"] = attributes.of(org.id)
    return _object({"id": org.id, "name": org.name, "description": org.description}, optional)


def location_json(location: Location, attributes: Attributes | None = None) -> Json:
    valid = coordinates_valid(location.latitude, location.longitude)
    optional: dict[str, object] = {
        "name": location.name,
        "description": location.description,
        "latitude": location.latitude if valid else None,
        "longitude": location.longitude if valid else None,
        "external_identifier": location.external_identifier,
        "external_identifier_type": location.external_identifier_type,
    }
    if attributes is not None:
        optional["addresses"] = [
            _object(
                {
                    "id": a.id,
                    "address_1": a.address_1,
                    "city": a.city,
                    "state_province": a.state_province,
                    "postal_code": a.postal_code,
                    "country": a.country,
                    "address_type": a.address_type,
                },
                {"location_id": location.id, "attention": a.attention, "region": a.region},
            )
            for a in location.addresses.all()
        ]
        optional["accessibility"] = [
            _object(
                {"id": a.id},
                {
                    "location_id": location.id,
                    "description": a.description,
                    "details": a.details,
                    "url": a.url,
                    "accessibility": a.accessibility,
                },
            )
            for a in location.accessibility.all()
        ]
        optional["attributes"] = attributes.of(location.id)
    return _object({"id": location.id, "location_type": location.location_type}, optional)


def _service_fields(service: Service) -> dict[str, object]:
    return {
        "organization_id": service.organization_id,
        "description": service.description,
        "url": service.url,
        "email": service.email,
        "fees": service.fees,
        "accreditations": service.accreditations,
        "minimum_age": service.minimum_age,
        "maximum_age": service.maximum_age,
        "assured_date": service.assured_date,
        "assurer_email": service.assurer_email,
        "alert": service.alert,
        "last_modified": service.last_modified,
    }


def _required(service: Service) -> dict[str, object]:
    return {"id": service.id, "name": service.name, "status": service.status}


def service_list_json(service: Service) -> Json:
    """One item of the ``/services`` page: one-to-one fields and the organisation."""
    optional = _service_fields(service)
    if service.organization is not None:
        optional["organization"] = organization_json(service.organization)
    return _object(_required(service), optional)


def _schedule_json(schedule: Any) -> Json:
    return _object(
        {"id": schedule.id},
        {
            "service_id": schedule.service_id,
            "service_at_location_id": schedule.service_at_location_id,
            "valid_from": schedule.valid_from,
            "valid_to": schedule.valid_to,
            "dtstart": schedule.dtstart,
            "freq": schedule.freq,
            "interval": schedule.interval,
            "byday": schedule.byday,
            "bymonthday": schedule.bymonthday,
            "description": schedule.description,
            "opens_at": schedule.opens_at,
            "closes_at": schedule.closes_at,
            "schedule_link": schedule.schedule_link,
            "attending_type": schedule.attending_type,
            "notes": schedule.notes,
        },
    )


def _service_children(service: Service, attributes: Attributes) -> dict[str, object]:
    sid = service.id
    return {
        "schedules": [_schedule_json(s) for s in service.schedules.all()],
        "service_areas": [
            _object(
                {"id": a.id},
                {
                    "service_id": sid,
                    "name": a.name,
                    "extent": a.extent,
                    "extent_type": a.extent_type,
                    "uri": a.uri,
                    "service_area": a.service_area,
                },
            )
            for a in service.service_areas.all()
        ],
        "languages": [
            _object({"id": x.id}, {"service_id": sid, "phone_id": x.phone_id})
            for x in service.languages.all()
        ],
        "funding": [
            _object({"id": f.id}, {"service_id": sid, "source": f.source})
            for f in service.funding.all()
        ],
        "cost_options": [
            _object(
                {"id": c.id},
                {
                    "service_id": sid,
                    "valid_from": c.valid_from,
                    "valid_to": c.valid_to,
                    "option": c.option,
                    "amount": c.amount,
                    "amount_description": c.amount_description,
                },
            )
            for c in service.cost_options.all()
        ],
        "contacts": [
            _object(
                {"id": c.id},
                {
                    "service_id": sid,
                    "name": c.name,
                    "title": c.title,
                    "attributes": attributes.of(c.id),
                },
            )
            for c in service.contacts.all()
        ],
        "attributes": attributes.of(sid),
    }


def service_full_json(service: Service, attributes: Attributes) -> Json:
    """The fully nested service of ``/services/{id}`` (``compiled/service.json``)."""
    optional = _service_fields(service)
    optional.update(_service_children(service, attributes))
    optional["service_at_locations"] = [
        _object(
            {"id": sal.id},
            {
                "service_id": service.id,
                "location_id": sal.location_id,
                "location": location_json(sal.location, attributes),
            },
        )
        for sal in service.at_locations.all()
    ]
    if service.organization is not None:
        optional["organization"] = organization_json(service.organization, attributes)
    return _object(_required(service), optional)


def service_at_location_list_json(sal: ServiceAtLocation) -> Json:
    """One item of ``/service_at_locations``: the location and the service, one-to-one."""
    return _object(
        {"id": sal.id},
        {
            "service_id": sal.service_id,
            "location_id": sal.location_id,
            "location": location_json(sal.location),
            "service": service_list_json(sal.service),
        },
    )


def service_at_location_full_json(sal: ServiceAtLocation, attributes: Attributes) -> Json:
    """``/service_at_locations/{id}`` as ``compiled/service_at_location.json`` shapes it."""
    service = sal.service
    nested = _service_fields(service)
    nested.update(_service_children(service, attributes))
    if service.organization is not None:
        nested["organization"] = organization_json(service.organization, attributes)
    return _object(
        {"id": sal.id},
        {
            "service_id": service.id,
            "location_id": sal.location_id,
            "location": location_json(sal.location, attributes),
            "service": _object(_required(service), nested),
        },
    )


def page_json(contents: list[Json], *, total: int, page: int, per_page: int) -> Json:
    """ORUK's page envelope (``#/components/schemas/Page``) around one page of items."""
    pages = max(1, -(-total // per_page)) if per_page else 1
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": len(contents) == 0,
        "contents": contents,
    }


def root_json() -> Json:
    return {"version": VERSION, "profile": PROFILE_URL, "openapi_url": OPENAPI_URL}

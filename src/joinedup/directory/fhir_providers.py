"""The service directory's locations on the FHIR facade, as Location.

The directory is public (Open Referral UK), so any caller whose token may read Location
sees every location; no person data is involved and nothing is audited per person. The
mapping keeps to what ORUK stores: name, description, the feed's external identifier,
one address (the physical one when there are several) and the position. ORUK 3.0 locations
carry no owning organisation in this model, so there is no ``managingOrganization``.
Registered when the app is ready, after the FHIR app's own providers.

Administrators may create a location (through ``directory.services``) and update the
ones created here. Every other location came from a directory feed, which stays
authoritative for it (ADR 17): an update is refused with 409.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from joinedup.directory import services
from joinedup.directory.models import Address, Location, LocationType
from joinedup.fhir import providers
from joinedup.fhir import search as fs
from joinedup.fhir.errors import Unprocessable
from joinedup.fhir.providers import UnstampedProvider
from joinedup.fhir.roundtrip import text_element
from joinedup.fhir.versions import require_created_here

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from joinedup.core.models import User

P = fs.SearchParam
JSON = dict[str, Any]
VIRTUAL = "Virtual location (online or by telephone)"


def _locations(user: User) -> QuerySet[Location]:  # noqa: ARG001 - the interface
    """Every location: the directory is public."""
    return Location.objects.prefetch_related("addresses")


def _address(address: Address) -> JSON:
    kind = "postal" if address.address_type == LocationType.POSTAL else "physical"
    out: JSON = {
        "use": "work",
        "type": kind,
        "line": [address.address_1],
        "city": address.city,
        "district": address.region,
        "state": address.state_province,
        "postalCode": address.postal_code,
        "country": address.country,
    }
    return {k: v for k, v in out.items() if v}


def _best_address(location: Location) -> Address | None:
    """The physical address if there is one, else the first (FHIR allows one)."""
    addresses = list(location.addresses.all())
    physical = [a for a in addresses if a.address_type == LocationType.PHYSICAL]
    chosen = physical or addresses
    return chosen[0] if chosen else None


def location_to_fhir(location: Location) -> JSON:
    resource: JSON = {
        "resourceType": "Location",
        "id": str(location.id),
        "status": "active",
        "mode": "instance",
    }
    if location.external_identifier:
        identifier: JSON = {"value": location.external_identifier}
        if location.external_identifier_type:
            identifier["type"] = {"text": location.external_identifier_type}
        resource["identifier"] = [identifier]
    if location.name:
        resource["name"] = location.name
    if location.description:
        resource["description"] = location.description
    if location.location_type == LocationType.VIRTUAL:
        resource["type"] = [{"text": VIRTUAL}]
    address = _best_address(location)
    if address is not None:
        resource["address"] = _address(address)
    if location.latitude is not None and location.longitude is not None:
        resource["position"] = {"latitude": location.latitude, "longitude": location.longitude}
    return resource


# -- writing


def _address_fields(body: JSON) -> services.LocationAddress | None:
    address = body.get("address")
    if address is None:
        return None
    if not isinstance(address, dict):
        raise Unprocessable("give one address", where="Location.address")
    lines = address.get("line")
    first = lines[0] if isinstance(lines, list) and lines else None
    kind = address.get("type", "physical")
    if not isinstance(kind, str) or kind not in {"physical", "postal"}:
        raise Unprocessable("an address is physical or postal", where="Location.address.type")
    where = "Location.address."
    return services.LocationAddress(
        address_1=text_element({"line": first}, "line", where + "line[0]", limit=300),
        city=text_element(address, "city", where + "city", limit=100),
        region=text_element(address, "district", where + "district", limit=100, required=False),
        state_province=text_element(address, "state", where + "state", limit=100, required=False),
        postal_code=text_element(address, "postalCode", where + "postalCode", limit=20),
        country=text_element(address, "country", where + "country", limit=2, required=False),
        address_type=kind,
    )


def _position(body: JSON) -> tuple[float | None, float | None]:
    position = body.get("position")
    if position is None:
        return None, None
    values = [
        position.get(k) if isinstance(position, dict) else None for k in ("latitude", "longitude")
    ]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) != 2 or not (-90 <= numbers[0] <= 90 and -180 <= numbers[1] <= 180):
        raise Unprocessable("give a latitude and longitude on the globe", where="Location.position")
    return numbers[0], numbers[1]


def _identifier(body: JSON) -> tuple[str, str]:
    """The external identifier and its kind (``identifier[0]``: value, type.text)."""
    identifiers = body.get("identifier")
    if not identifiers:
        return "", ""
    first = identifiers[0] if isinstance(identifiers, list) else None
    where = "Location.identifier[0]"
    value = text_element(first, "value", where + ".value", limit=100)
    kind = first.get("type") if isinstance(first, dict) else None
    return value, text_element(kind, "text", where + ".type.text", limit=50, required=False)


def location_fields(body: JSON) -> services.LocationFields:
    """What the directory keeps of a written Location (the loss check refuses the rest)."""
    address = _address_fields(body)
    types = body.get("type")
    virtual = isinstance(types, list) and any(
        isinstance(t, dict) and t.get("text") == VIRTUAL for t in types
    )
    kind = LocationType.VIRTUAL if virtual else (address.address_type if address else "physical")
    latitude, longitude = _position(body)
    identifier, identifier_type = _identifier(body)
    return services.LocationFields(
        location_type=kind,
        name=text_element(body, "name", "Location.name", limit=300),
        description=text_element(
            body, "description", "Location.description", limit=10_000, required=False
        ),
        latitude=latitude,
        longitude=longitude,
        external_identifier=identifier,
        external_identifier_type=identifier_type,
        address=address,
    )


class LocationWriter:
    """Locations through the directory's services; only those created here change here."""

    def create(self, ctx: providers.Context, body: JSON) -> Location:
        made = services.location_create(user=ctx.user, fields=location_fields(body))
        return _locations(ctx.user).get(id=made.id)

    def update(self, ctx: providers.Context, row: Location, body: JSON) -> Location:
        require_created_here("Location", str(row.id), "a directory feed")
        services.location_update(user=ctx.user, location_id=row.id, fields=location_fields(body))
        return _locations(ctx.user).get(id=row.id)


class LocationProvider(UnstampedProvider):
    """Locations carry no change time: lastUpdated is when the server started, or the
    last write (as for Organization). Address conditions are matched through a subquery,
    so a location with two matching addresses is still one result. Writes are checked
    for the administrator's role before their transaction, so a refusal stays audited."""

    def __init__(self) -> None:
        address = "addresses__"
        super().__init__(
            resource_type="Location",
            model=Location,
            queryset=_locations,
            to_fhir=location_to_fhir,
            last_updated_field="",
            params={
                "name": P("name", "string", ("name",), "Name"),
                "address": P(
                    "address",
                    "string",
                    tuple(
                        address + f
                        for f in ("address_1", "city", "region", "state_province", "postal_code")
                    ),
                    "Any part of the address",
                    sortable=False,
                ),
                "address-city": P(
                    "address-city", "string", (address + "city",), "Town or city", sortable=False
                ),
                "address-postalcode": P(
                    "address-postalcode",
                    "string",
                    (address + "postal_code",),
                    "Postcode",
                    sortable=False,
                ),
            },
            id_field="id",
            writer=LocationWriter(),
            documentation="Places where the directory's services are delivered (Open Referral "
            "UK locations). Administrators may create one (name, description, one identifier, "
            "one address, position; type only to mark it virtual) and update the ones created "
            "here; a feed's location is read-only (409). lastUpdated is when the server "
            "started, or the last write.",
        )

    def create(self, ctx: providers.Context, body: JSON) -> providers.Resource:
        ctx.grant.require(self.resource_type, "c")
        services.location_manager_require(ctx.user)
        return super().create(ctx, body)

    def update(
        self, ctx: providers.Context, logical_id: str, body: JSON, if_match: int | None
    ) -> providers.Resource:
        ctx.grant.require(self.resource_type, "u")
        services.location_manager_require(ctx.user)
        return super().update(ctx, logical_id, body, if_match)

    def search(self, ctx: providers.Context, request: fs.SearchRequest) -> providers.SearchPage:
        one_row_each = [
            Q(pk__in=Location.objects.filter(condition).values("pk"))
            for condition in request.conditions
        ]
        return super().search(ctx, dataclasses.replace(request, conditions=one_row_each))


def register() -> None:
    providers.registered()  # the FHIR app's own first: the registry loads them when empty
    providers.register(LocationProvider())

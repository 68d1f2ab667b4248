"""The service directory's locations on the FHIR facade, as Location (read and search).

The directory is public (Open Referral UK), so any caller whose token may read Location
sees every location; no person data is involved and nothing is audited per person. The
mapping keeps to what ORUK stores: name, description, the feed's external identifier,
one address (the physical one when there are several) and the position. ORUK 3.0 locations
carry no owning organisation in this model, so there is no ``managingOrganization``.
Registered when the app is ready, after the FHIR app's own providers.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from joinedup.directory.models import Address, Location, LocationType
from joinedup.fhir import providers
from joinedup.fhir import search as fs

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from joinedup.core.models import User

P = fs.SearchParam
JSON = dict[str, Any]


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
        resource["type"] = [{"text": "Virtual location (online or by telephone)"}]
    address = _best_address(location)
    if address is not None:
        resource["address"] = _address(address)
    if location.latitude is not None and location.longitude is not None:
        resource["position"] = {"latitude": location.latitude, "longitude": location.longitude}
    return resource


class LocationProvider(providers.ModelProvider):
    """Locations carry no change time: lastUpdated is when the server started (as for
    Organization). Address conditions are matched through a subquery, so a location
    with two matching addresses is still one result."""

    STARTED = datetime.now().astimezone()

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
            documentation="Places where the directory's services are delivered (Open Referral "
            "UK locations); read-only. lastUpdated is when the server started.",
        )

    def render_rows(self, rows: list[Any]) -> list[providers.Resource]:
        out = []
        for row in rows:
            body = self.to_fhir(row)
            body["meta"] = providers.meta(1, self.STARTED, None)
            out.append(providers.Resource("Location", body["id"], body, 1, self.STARTED))
        return out

    def search(self, ctx: providers.Context, request: fs.SearchRequest) -> providers.SearchPage:
        one_row_each = [
            Q(pk__in=Location.objects.filter(condition).values("pk"))
            for condition in request.conditions
        ]
        return super().search(ctx, dataclasses.replace(request, conditions=one_row_each))


def register() -> None:
    providers.registered()  # the FHIR app's own first: the registry loads them when empty
    providers.register(LocationProvider())

"""Location: the service directory's places over FHIR (public data, any reader of the type)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from tests.integration.fhir.conftest import Api, valid

from joinedup.core.models import User
from joinedup.core.roles import Role
from joinedup.directory.models import Address, Location

pytestmark = pytest.mark.django_db


def _address(location: Location, kind: str, line: str, postcode: str = "SK4 3QX") -> Address:
    return Address.objects.create(
        location=location,
        address_1=line,
        city="Stockport",
        state_province="Greater Manchester",
        postal_code=postcode,
        country="GB",
        address_type=kind,
    )


@pytest.fixture
def library() -> Location:
    location = Location.objects.create(
        location_type="physical",
        name="Heaton Moor Library",
        description="Step-free, with a hearing loop.",
        latitude=53.4239,
        longitude=-2.1852,
        external_identifier="LIB-07",
        external_identifier_type="council asset",
    )
    _address(location, "postal", "PO Box 12")  # same postcode: still one search result
    _address(location, "physical", "1 Thornfield Road")
    return location


def _ids(api: Api, query: str) -> list[str]:
    response = api.get(query)
    assert response.status_code == 200, response.content
    bundle: dict[str, Any] = response.json()
    valid(bundle)
    assert bundle["total"] == len(bundle.get("entry", []))
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def test_location_read_has_physical_address_and_position(api: Api, library: Location) -> None:
    response = api.get(f"Location/{library.id}")

    assert response.status_code == 200, response.content
    location = valid(response.json())
    assert location.name == "Heaton Moor Library"
    assert location.address.line == ["1 Thornfield Road"]
    assert location.address.postalCode == "SK4 3QX"
    assert location.address.type == "physical"
    assert float(location.position.latitude) == pytest.approx(53.4239)
    assert float(location.position.longitude) == pytest.approx(-2.1852)
    assert location.identifier[0].value == "LIB-07"
    assert location.managingOrganization is None  # ORUK locations name no owner here


def test_virtual_location_without_address_is_valid(api: Api) -> None:
    online = Location.objects.create(location_type="virtual", name="Online sessions")

    location = valid(api.get(f"Location/{online.id}").json())

    assert location.address is None
    assert location.position is None
    assert location.type[0].text.startswith("Virtual")


def test_location_search_by_name_postcode_city_and_id(api: Api, library: Location) -> None:
    elsewhere = Location.objects.create(location_type="physical", name="Reddish Baths")
    _address(elsewhere, "physical", "Gorton Road", postcode="SK5 6RN")
    one, other = str(library.id), str(elsewhere.id)

    assert _ids(api, "Location?name=heaton") == [one]
    assert _ids(api, "Location?address-postalcode=SK4") == [one]
    assert _ids(api, "Location?address-postalcode:exact=SK5 6RN") == [other]
    assert sorted(_ids(api, "Location?address-city=stock")) == sorted([one, other])
    assert _ids(api, "Location?address:contains=thornfield") == [one]
    assert _ids(api, f"Location?_id={other}") == [other]
    assert _ids(api, "Location?address-postalcode=M1") == []
    assert api.get("Location?near=53.4|-2.1|5|km").status_code == 400  # not supported


def test_location_is_readable_by_any_reader_of_the_type_only(
    make_user: Callable[..., User], library: Location, issue: Callable[..., str]
) -> None:
    engagement = make_user(Role.ENGAGEMENT_OFFICER)
    reader = Api(Client(), issue(engagement, "user/Location.rs"))
    other_scope = Api(Client(), issue(engagement, "user/Organization.rs"))

    assert reader.get(f"Location/{library.id}").status_code == 200
    assert other_scope.get(f"Location/{library.id}").status_code == 403
    assert reader.get("Location/not-a-uuid").status_code == 404

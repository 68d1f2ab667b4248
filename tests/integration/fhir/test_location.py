"""Location: the service directory's places over FHIR (public data, any reader of the type)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from tests.integration.fhir.conftest import Api, valid

from joinedup.core.models import AuditEvent, User
from joinedup.core.roles import Role
from joinedup.directory.models import Address, Location, Service, ServiceAtLocation

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


# -- writes (administrators only; a feed's locations are the feed's)


@pytest.fixture
def admin_api(make_user: Callable[..., User], issue: Callable[..., str]) -> Api:
    return Api(Client(), issue(make_user(Role.ADMINISTRATOR)))


def _outcome(response: Any) -> Any:
    assert response.json()["resourceType"] == "OperationOutcome", response.content
    return valid(response.json()).issue[0]


def _location(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Location",
        "status": "active",
        "mode": "instance",
        "identifier": [{"value": "HALL-3", "type": {"text": "council asset"}}],
        "name": "Brinnington Community Hall",
        "description": "Ramp at the side door.",
        "address": {
            "use": "work",
            "type": "physical",
            "line": ["12 Northumberland Road"],
            "city": "Stockport",
            "postalCode": "SK5 8LS",
            "country": "GB",
        },
        "position": {"latitude": 53.4305, "longitude": -2.1201},
    }
    body.update(extra)
    return body


def test_location_create_read_update_412_vread_and_history(admin_api: Api) -> None:
    created = admin_api.post("Location", _location())

    assert created.status_code == 201, created.content
    assert created["ETag"] == 'W/"1"'
    location_id = created.json()["id"]
    assert created["Location"].endswith(f"/Location/{location_id}/_history/1")
    row = Location.objects.get(id=location_id)
    assert (row.name, row.location_type, row.external_identifier) == (
        "Brinnington Community Hall",
        "physical",
        "HALL-3",
    )
    assert [a.postal_code for a in row.addresses.all()] == ["SK5 8LS"]
    read = admin_api.get(f"Location/{location_id}")
    assert read.json() == created.json()
    assert read["ETag"] == 'W/"1"'

    changed = read.json()
    changed["name"] = "Brinnington Hall"
    changed["address"]["postalCode"] = "SK5 8LT"
    updated = admin_api.put(f"Location/{location_id}", changed, HTTP_IF_MATCH='W/"1"')
    stale = admin_api.put(f"Location/{location_id}", changed, HTTP_IF_MATCH='W/"1"')

    assert updated.status_code == 200, updated.content
    assert updated["ETag"] == 'W/"2"'
    assert [a.postal_code for a in row.addresses.all()] == ["SK5 8LT"]
    assert stale.status_code == 412
    first = admin_api.get(f"Location/{location_id}/_history/1")
    assert valid(first.json()).name == "Brinnington Community Hall"
    history = valid(admin_api.get(f"Location/{location_id}/_history").json())
    assert [e.resource.meta.versionId for e in history.entry] == ["2", "1"]
    assert _ids(admin_api, "Location?address-postalcode:exact=SK5 8LT") == [location_id]


def test_virtual_location_is_written_by_its_type(admin_api: Api) -> None:
    body = _location(type=[{"text": "Virtual location (online or by telephone)"}])
    del body["address"], body["position"]

    created = admin_api.post("Location", body)

    assert created.status_code == 201, created.content
    assert Location.objects.get(id=created.json()["id"]).location_type == "virtual"


def test_location_write_refuses_what_the_directory_cannot_keep(admin_api: Api) -> None:
    two_lines = _location()
    two_lines["address"]["line"] = ["Flat 2", "12 Northumberland Road"]
    cases = {
        "Location.telecom": _location(telecom=[{"system": "phone", "value": "0161 000 0000"}]),
        "Location.managingOrganization": _location(
            managingOrganization={"reference": "Organization/X1"}
        ),
        "Location.address.line[1]": two_lines,
        "Location.position.altitude": _location(
            position={"latitude": 53.43, "longitude": -2.12, "altitude": 40}
        ),
        "Location.status": _location(status="suspended"),
        "Location.type": _location(type=[{"text": "Clinic"}]),
        "Location.identifier[0].system": _location(
            identifier=[{"system": "https://example.org", "value": "HALL-3"}]
        ),
        "Location.address.country": _location(
            address={
                "line": ["1 Road"],
                "city": "Stockport",
                "postalCode": "SK5 8LS",
                "country": "England",
            }
        ),
        "Location.name": _location(name=None),
    }
    before = Location.objects.count()
    for where, sent in cases.items():
        body = {k: v for k, v in sent.items() if v is not None}
        response = admin_api.post("Location", body)
        assert response.status_code == 422, (where, response.content)
        assert _outcome(response).expression[0] == where
    assert Location.objects.count() == before


def test_only_administrators_write_locations_and_refusals_are_audited(
    api: Api, nurse: User
) -> None:
    response = api.post("Location", _location())

    assert response.status_code == 403
    assert not Location.objects.filter(name="Brinnington Community Hall").exists()
    assert AuditEvent.objects.filter(
        actor_id=nurse.pk, action="deny", resource="directory.location"
    ).exists()


def test_a_feeds_location_is_read_only(admin_api: Api, library: Location) -> None:
    body = admin_api.get(f"Location/{library.id}").json() | {"name": "Renamed"}

    response = admin_api.put(f"Location/{library.id}", body)

    assert response.status_code == 409, response.content
    assert _outcome(response).code == "business-rule"
    library.refresh_from_db()
    assert library.name == "Heaton Moor Library"


def test_a_location_where_a_feeds_service_is_delivered_is_the_feeds(admin_api: Api) -> None:
    made = admin_api.post("Location", _location()).json()
    service = Service.objects.create(
        name="Warm space", status="active", last_modified=timezone.now(), source="council-oruk"
    )
    ServiceAtLocation.objects.create(service=service, location_id=made["id"])

    response = admin_api.put(f"Location/{made['id']}", made | {"name": "Renamed"})

    assert response.status_code == 409, response.content
    assert "feed" in _outcome(response).diagnostics
    assert Location.objects.get(id=made["id"]).name == "Brinnington Community Hall"

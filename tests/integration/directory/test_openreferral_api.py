"""The ORUK 3.0 API: every endpoint's response against ORUK's schemas, paging, filters,
distances, CORS and errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from django.test import Client
from tests.integration.directory.conftest import EXAMPLES, HOME, Schemas, require_reference

from joinedup.directory import geo, services
from joinedup.directory.feeds import feed_read_path
from joinedup.directory.models import Postcode, Service, TaxonomyTerm

pytestmark = pytest.mark.django_db
BASE = "/openreferral"


def _get(client: Client, path: str, **params: Any) -> Any:
    response = client.get(BASE + path, params)
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()


@pytest.fixture
def examples(db: None) -> None:
    """ORUK's own example feed, imported through the importer."""
    require_reference()
    for name in ("service_full.json", "taxonomy.json", "taxonomy_term.json"):
        feed = feed_read_path(EXAMPLES / name, source="oruk-example")
        services.feed_import(feed=feed, source="oruk-example", filename=name)


@pytest.fixture
def borough_services(
    home_postcode: Postcode,
    make_service: Callable[..., Service],
    make_term: Callable[..., TaxonomyTerm],
) -> dict[str, Service]:
    falls = make_term("Falls prevention")
    money = make_term("Money advice")
    _, lat, lon = HOME
    return {
        "near": make_service(
            "Strength and balance class", lat=lat, lon=lon + 0.0005, terms=(falls,)
        ),
        "middle": make_service(
            "Falls clinic", lat=lat, lon=lon + 0.02, terms=(falls,), ages=(60, 120)
        ),
        "far": make_service("Steady steps", lat=lat, lon=lon + 0.06, terms=(falls,)),
        "money": make_service(
            "Debt advice",
            lat=lat,
            lon=lon + 0.01,
            terms=(money,),
            days="SA",
            hours=(time(10), time(12)),
        ),
        "closed": make_service(
            "Old falls group", lat=lat, lon=lon, terms=(falls,), status="defunct"
        ),
        "phone": make_service("Carers helpline"),
    }


def test_root_says_hsds_uk_3_0_and_validates(client: Client, schemas: Schemas) -> None:
    body = _get(client, "/")

    assert body["version"] == "HSDS-UK-3.0"
    assert schemas.errors("api_details", body) == []


def test_every_endpoint_validates_with_the_oruk_example_imported(
    client: Client, schemas: Schemas, examples: None, borough_services: dict[str, Service]
) -> None:
    listed = _get(client, "/services", per_page=3)
    assert schemas.errors("service_list", listed) == []
    for item in listed["contents"]:
        assert schemas.errors("service", _get(client, f"/services/{item['id']}")) == []
    example = _get(client, "/services/ac148810-d857-441c-9679-408f346de14b")
    assert schemas.errors("service", example) == []
    sals = _get(client, "/service_at_locations")
    assert schemas.errors("service_at_location_list", sals) == []
    for item in sals["contents"]:
        one = _get(client, f"/service_at_locations/{item['id']}")
        assert schemas.errors("service_at_location", one) == []
    near = _get(client, "/service_at_locations", postcode="SK4 3QX", proximity="5000")
    assert schemas.errors("service_at_location_list", near) == []
    taxonomies = _get(client, "/taxonomies")
    assert schemas.errors("taxonomy_list", taxonomies) == []
    for item in taxonomies["contents"]:
        assert schemas.errors("taxonomy", _get(client, f"/taxonomies/{item['id']}")) == []
    terms = _get(client, "/taxonomy_terms")
    assert schemas.errors("taxonomy_term_list", terms) == []
    for item in terms["contents"]:
        assert schemas.errors("taxonomy_term", _get(client, f"/taxonomy_terms/{item['id']}")) == []


def test_the_example_service_comes_back_as_it_went_in(client: Client, examples: None) -> None:
    sent = json.loads((EXAMPLES / "service_full.json").read_text())

    body = _get(client, f"/services/{sent['id']}")

    for key in ("name", "status", "email", "fees", "assured_date", "minimum_age", "maximum_age"):
        assert body[key] == sent[key]
    assert body["schedules"][0]["byday"] == "TH,FR"
    assert body["schedules"][0]["opens_at"] == "10:00:00"
    assert body["cost_options"][0]["amount"] == 35
    assert body["organization"]["organization_identifiers"][0]["identifier"] == "1234567"
    location = body["service_at_locations"][0]["location"]
    assert location["addresses"][0]["postal_code"] == "ABC 1234"
    # 100, 101 is not on the globe: stored, but not offered as coordinates.
    assert "latitude" not in location
    assert body["attributes"][0]["taxonomy_term"]["id"] == "3f7b145d-84af-42d7-8fae-eaca714b02b2"


def test_the_schemas_catch_a_broken_response(
    client: Client, schemas: Schemas, examples: None
) -> None:
    body = _get(client, "/services/ac148810-d857-441c-9679-408f346de14b")
    del body["status"]
    body["service_at_locations"][0]["location"]["location_type"] = "spaceship"
    body["email"] = "not an email"

    errors = schemas.errors("service", body)

    assert len(errors) == 3


def test_paging_walks_every_service_exactly_once(
    client: Client, schemas: Schemas, borough_services: dict[str, Service]
) -> None:
    first = _get(client, "/services", per_page=2)
    seen: list[str] = []
    for page in range(1, first["total_pages"] + 1):
        body = _get(client, "/services", per_page=2, page=page)
        assert schemas.errors("service_list", body) == []
        assert body["page_number"] == page
        assert body["first_page"] is (page == 1)
        assert body["last_page"] is (page == first["total_pages"])
        assert body["size"] == len(body["contents"])
        seen += [s["id"] for s in body["contents"]]

    assert first["total_items"] == Service.objects.count() == 6
    assert first["total_pages"] == 3
    assert sorted(seen) == sorted(str(s.pk) for s in Service.objects.all())
    beyond = _get(client, "/services", per_page=2, page=4)
    assert beyond["empty"] is True
    assert beyond["contents"] == []


def test_service_filters_search_taxonomy_age_day_and_time(
    client: Client, borough_services: dict[str, Service]
) -> None:
    falls = TaxonomyTerm.objects.get(name="Falls prevention")

    def names(**params: Any) -> set[str]:
        return {s["name"] for s in _get(client, "/services", **params)["contents"]}

    assert names(search="falls") == {
        "Falls clinic",
        "Old falls group",
        "Strength and balance class",
        "Steady steps",
    }
    assert names(search="debt advice") == {"Debt advice"}
    assert names(taxonomy_term_id=str(falls.pk)) == {
        "Strength and balance class",
        "Falls clinic",
        "Steady steps",
        "Old falls group",
    }
    assert names(taxonomy_id=str(falls.taxonomy_id), search="debt") == {"Debt advice"}
    assert names(minimum_age=60) == {"Falls clinic"}
    assert "Falls clinic" not in names(maximum_age=100)
    assert names(day="SA") == {"Debt advice"}
    assert names(start_time="10:00") == {"Debt advice"}
    assert "Debt advice" not in names(end_time="11:00")


def test_service_at_locations_are_nearest_first_with_proximity_in_metres(
    client: Client, borough_services: dict[str, Service]
) -> None:
    _, lat, lon = HOME
    expected = {
        name: geo.distance_m(
            lat,
            lon,
            s.at_locations.get().location.latitude,
            s.at_locations.get().location.longitude,
        )
        for name, s in borough_services.items()
        if s.at_locations.exists()
    }

    body = _get(
        client, "/service_at_locations", postcode="sk43qx", proximity="3000", search="falls"
    )

    names = [item["service"]["name"] for item in body["contents"]]
    assert names == ["Old falls group", "Strength and balance class", "Falls clinic"]
    assert expected["middle"] < 3000 < expected["far"]
    assert body["total_items"] == 3


@pytest.mark.parametrize(
    ("path", "params", "status", "where"),
    [
        ("/services", {"page": "two"}, 400, "page"),
        ("/services", {"per_page": "0"}, 400, "per_page"),
        ("/services", {"taxonomy_term_id": "falls"}, 400, "taxonomy_term_id"),
        ("/services", {"day": "someday"}, 400, "day"),
        ("/services", {"start_time": "9am"}, 400, "start_time"),
        ("/service_at_locations", {"postcode": "not a postcode"}, 400, "postcode"),
        ("/service_at_locations", {"postcode": "ZZ9 9ZZ"}, 400, "postcode"),
        ("/service_at_locations", {"proximity": "500"}, 400, "proximity"),
        ("/services/not-a-uuid", {}, 404, None),
        ("/services/6a1b63a0-8b1b-4c1e-9f55-2f0b1b8d7a10", {}, 404, None),
        ("/taxonomies/6a1b63a0-8b1b-4c1e-9f55-2f0b1b8d7a10", {}, 404, None),
    ],
)
def test_bad_requests_get_a_problem_that_says_where(
    client: Client,
    home_postcode: Postcode,
    path: str,
    params: dict[str, str],
    status: int,
    where: str | None,
) -> None:
    response = client.get(BASE + path, params)

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert body["status"] == status
    if where:
        assert body["where"] == where


def test_cors_preflight_and_read_only(client: Client) -> None:
    preflight = client.options(
        BASE + "/services",
        headers={"Origin": "https://other.example.org", "Access-Control-Request-Method": "GET"},
    )
    posted = client.post(BASE + "/services", {})

    assert preflight.status_code == 204
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert posted.status_code == 405
    assert posted["Allow"] == "GET, HEAD, OPTIONS"
    assert posted["Access-Control-Allow-Origin"] == "*"


def test_the_api_is_open_without_signing_in_and_embeddable(client: Client) -> None:
    response = client.get(BASE + "/services")

    assert response.status_code == 200
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"

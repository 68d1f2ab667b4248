"""Search: parameter types, modifiers, prefixes, includes, paging and handling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from tests.integration.fhir.conftest import Api, valid

from joinedup.core.models import Organisation, Team
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(
    make_person: Callable[..., Person], relate: Callable[..., object], team: Team
) -> list[Person]:
    found = [
        make_person(given_name="Ada", family_name="Smithson", date_of_birth=date(1940, 1, 5)),
        make_person(
            given_name="Bea",
            family_name="Smith",
            date_of_birth=date(1950, 6, 1),
            sex="male",
            postcode="SK1 3AA",
        ),
        make_person(given_name="Cy", family_name="Goldsmith", date_of_birth=date(1960, 12, 31)),
    ]
    for person in found:
        relate(person, team)
    return found


def _names(response: Any) -> list[str]:
    bundle = valid(response.json())
    return sorted(e.resource.name[0].family for e in bundle.entry or [] if e.search.mode == "match")


def test_string_default_exact_and_contains(api: Api, people: list[Person]) -> None:
    assert _names(api.get("Patient?family=smith")) == ["Smith", "Smithson"]
    assert _names(api.get("Patient?family:exact=Smith")) == ["Smith"]
    assert _names(api.get("Patient?name:contains=smith")) == ["Goldsmith", "Smith", "Smithson"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("birthdate=1950", ["Smith"]),
        ("birthdate=1950-06", ["Smith"]),
        ("birthdate=gt1950-06-01", ["Goldsmith"]),
        ("birthdate=ge1950-06-01", ["Goldsmith", "Smith"]),
        ("birthdate=lt1950-06-01", ["Smithson"]),
        ("birthdate=le1950", ["Smith", "Smithson"]),
        ("birthdate=ne1950-06-01", ["Goldsmith", "Smithson"]),
        ("birthdate=sa1955&birthdate=eb1961", ["Goldsmith"]),
        ("birthdate=ge1940,le1939", ["Goldsmith", "Smith", "Smithson"]),
    ],
)
def test_date_prefixes(api: Api, people: list[Person], query: str, expected: list[str]) -> None:
    assert _names(api.get(f"Patient?{query}")) == expected


def test_token_reference_and_missing(
    api: Api, people: list[Person], organisation: Organisation
) -> None:
    assert _names(api.get("Patient?gender=male")) == ["Smith"]
    assert _names(api.get("Patient?gender:not=male")) == ["Goldsmith", "Smithson"]
    assert _names(api.get(f"Patient?identifier={people[0].nhs_number}")) == ["Smithson"]
    assert _names(api.get("Patient?identifier=urn:other|" + people[0].nhs_number)) == []
    assert _names(api.get("Patient?address-postalcode=SK1")) == ["Smith"]
    practice = f"Patient?general-practitioner=Organization/{organisation.ods_code}"
    assert len(_names(api.get(practice))) == 3
    assert _names(api.get("Patient?death-date:missing=false")) == []
    assert _names(api.get(f"Patient?_id={people[2].id}")) == ["Goldsmith"]


def test_unknown_parameters_strict_and_lenient(api: Api, people: list[Person]) -> None:
    strict = api.get("Patient?nonsense=1")
    lenient = api.get("Patient?nonsense=1", HTTP_PREFER="handling=lenient")

    assert strict.status_code == 400
    assert valid(strict.json()).issue[0].expression == ["nonsense"]
    bundle = valid(lenient.json())
    assert bundle.total == 3
    assert bundle.entry[-1].search.mode == "outcome"
    assert "nonsense" not in bundle.link[0].url


def test_sort_summary_total_and_count(api: Api, people: list[Person]) -> None:
    ordered = valid(api.get("Patient?_sort=-birthdate").json())
    counted = valid(api.get("Patient?_summary=count").json())
    no_total = api.get("Patient?_total=none").json()

    assert [e.resource.name[0].family for e in ordered.entry] == ["Goldsmith", "Smith", "Smithson"]
    assert counted.total == 3
    assert counted.entry is None
    assert "total" not in no_total
    assert api.get("Patient?_sort=nonsense").status_code == 400


def test_paging_follows_next_links_and_survives_inserts(
    api: Api,
    people: list[Person],
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    team: Team,
) -> None:
    first = api.get("Patient?_count=2&_sort=family").json()
    assert [e["resource"]["name"][0]["family"] for e in first["entry"]] == ["Goldsmith", "Smith"]
    relate(make_person(family_name="Aaron"), team)  # sorts before the page already seen

    link = next(x["url"] for x in first["link"] if x["relation"] == "next")
    second = api.get(link.split("/fhir/R4/")[1]).json()

    assert [e["resource"]["name"][0]["family"] for e in second["entry"]] == ["Smithson"]
    assert all(x["relation"] != "next" for x in second["link"])
    assert api.get("Patient?_cursor=garbage!").status_code == 400


def test_post_search_equals_get(api: Api, people: list[Person]) -> None:
    posted = api.client.post(
        "/fhir/R4/Patient/_search",
        "family=smith",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert _names(posted) == ["Smith", "Smithson"]


def test_clinical_search_include_and_revinclude(
    api: Api, people: list[Person], make_fact: Callable[..., Any]
) -> None:
    make_fact(people[0], code="271649006", value=150.0)
    make_fact(people[1], code="271650006", value=80.0)
    make_fact(
        people[1],
        kind="condition",
        code="38341003",
        display="Hypertension",
        status="active",
        value=None,
        unit="",
    )

    by_code = valid(api.get("Observation?code=http://snomed.info/sct|271649006").json())
    over = valid(api.get("Observation?value-quantity=gt100").json())
    included = valid(api.get("Observation?_include=Observation:patient").json())
    reverse = valid(api.get(f"Patient?_id={people[1].id}&_revinclude=*").json())
    conditions = valid(api.get(f"Condition?subject=Patient/{people[1].id}").json())

    assert by_code.total == 1
    assert over.total == 1
    assert {
        e.resource.get_resource_type() for e in included.entry if e.search.mode == "include"
    } == {"Patient"}
    included_types = [
        e.resource.get_resource_type() for e in reverse.entry if e.search.mode == "include"
    ]
    assert sorted(included_types) == [
        "Condition",
        "Observation",
        "Provenance",
        "Provenance",
    ]
    assert conditions.entry[0].resource.clinicalStatus.coding[0].code == "active"

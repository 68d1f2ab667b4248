"""Bundles, conditional create, $everything, $match, negotiation and every resource type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.integration.fhir.conftest import Api, patient_body, valid

from joinedup.fhir.mapping import FACT_TYPES
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db

NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _entry(method: str, url: str, resource: Any = None, **request: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"request": {"method": method, "url": url, **request}}
    if resource is not None:
        entry["resource"] = resource
    return entry


def test_transaction_with_a_type_not_stored_saves_nothing(api: Api) -> None:
    device = {"resourceType": "Device", "status": "active", "patient": {"reference": "Patient/x"}}
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            _entry("POST", "Patient", patient_body()),
            _entry("POST", "Device", device),
        ],
    }

    response = api.post("", bundle)

    assert response.status_code == 400
    issue = valid(response.json()).issue[0]
    assert "Device" in issue.diagnostics
    assert "entry[1]" in issue.expression[0]
    assert api.get("Patient?family=Fhirtest").json()["total"] == 0


def test_batch_fails_only_the_bad_entry(api: Api, cared_for: Person) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            _entry("POST", "Patient", patient_body()),
            _entry("POST", "Foo", patient_body()),
            _entry("GET", f"Patient/{cared_for.id}"),
        ],
    }

    reply = valid(api.post("", bundle).json())

    assert [e.response.status[:3] for e in reply.entry] == ["201", "400", "200"]
    assert reply.entry[1].response.outcome is not None
    assert api.get("Patient?family=Fhirtest").json()["total"] == 1


def test_conditional_create_finds_the_existing_patient(api: Api) -> None:
    body = patient_body(identifier=[{"system": NHS, "value": "9434765870"}])
    first = api.post("Patient", body, HTTP_IF_NONE_EXIST=f"identifier={NHS}|9434765870")
    again = api.post("Patient", body, HTTP_IF_NONE_EXIST=f"identifier={NHS}|9434765870")

    assert first.status_code == 201
    assert first["Location"].endswith("/_history/1")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


def test_invalid_patient_is_refused_with_where(api: Api) -> None:
    bad_number = api.post(
        "Patient", patient_body(identifier=[{"system": NHS, "value": "1234567890"}])
    )
    bad_fhir = api.post("Patient", patient_body(birthDate="1950-13-01"))
    bad_code = api.post("Patient", patient_body(gender="sometimes"))

    assert bad_number.status_code == 422
    assert valid(bad_number.json()).issue[0].expression == ["Patient.identifier"]
    assert bad_fhir.status_code == 400
    assert "birthDate" in valid(bad_fhir.json()).issue[0].expression[0]
    assert bad_code.status_code == 400
    assert valid(bad_code.json()).issue[0].expression == ["Patient.gender"]


def test_negotiation_and_methods(api: Api, cared_for: Person) -> None:
    assert api.get(f"Patient/{cared_for.id}", HTTP_ACCEPT="application/fhir+xml").status_code == 406
    assert api.get(f"Patient/{cared_for.id}?_format=json").status_code == 200
    wrong_type = api.client.post(
        "/fhir/R4/Patient",
        "<Patient/>",
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    deleted = api.client.delete(f"/fhir/R4/Patient/{cared_for.id}", HTTP_AUTHORIZATION="Bearer x")
    assert wrong_type.status_code == 415
    assert deleted.status_code == 405
    assert "GET" in deleted["Allow"]
    assert api.get(f"Patient/{cared_for.id}/_history/7").status_code == 404


def test_prefer_return_minimal(api: Api) -> None:
    response = api.post("Patient", patient_body(), HTTP_PREFER="return=minimal")
    assert response.status_code == 201
    assert response.content == b""
    assert response["ETag"] == 'W/"1"'


def test_every_clinical_type_reads_as_valid_fhir(
    api: Api, cared_for: Person, make_fact: Callable[..., Any]
) -> None:
    for resource_type, kinds in FACT_TYPES.items():
        for kind in kinds:
            fact = make_fact(cared_for, kind=kind, detail={"systolic": 140, "diastolic": 90})
            response = api.get(f"{resource_type}/{fact.id}")
            assert response.status_code == 200, (kind, response.content)
            assert valid(response.json()).id == str(fact.id)
            provenance = valid(api.get(f"Provenance/{fact.id}").json())
            assert provenance.target[0].reference == f"{resource_type}/{fact.id}"
    flag = make_fact(cared_for, kind="child_referral", display="Child protection plan")
    assert valid(api.get(f"Flag/{flag.id}").json()).status == "active"
    assert api.get(f"Condition/{flag.id}").status_code == 404


def test_everything_returns_the_compartment(
    api: Api, cared_for: Person, make_fact: Callable[..., Any]
) -> None:
    for kind in ("observation", "condition", "medication", "immunisation", "admission"):
        make_fact(cared_for, kind=kind)

    bundle = valid(api.get(f"Patient/{cared_for.id}/$everything").json())

    kinds = sorted(e.resource.get_resource_type() for e in bundle.entry)
    assert kinds == sorted(
        ["Patient", "Observation", "Condition", "MedicationStatement", "Immunization", "Encounter"]
        + ["MedicationRequest"]  # the medicine's authorisation, from the same fact
        + ["Provenance"] * 5
    )


def test_match_scores_and_grades(api: Api, cared_for: Person) -> None:
    def ask(patient: dict[str, Any]) -> Any:
        body = {
            "resourceType": "Parameters",
            "parameter": [{"name": "resource", "resource": patient}],
        }
        return valid(api.post("Patient/$match", body).json())

    by_number = ask(
        {"resourceType": "Patient", "identifier": [{"system": NHS, "value": cared_for.nhs_number}]}
    )
    by_demographics = ask(
        {
            "resourceType": "Patient",
            "birthDate": "1940-05-17",
            "name": [{"family": cared_for.family_name, "given": ["Testgiven"]}],
        }
    )

    assert by_number.entry[0].search.score == 1.0
    assert by_number.entry[0].search.extension[0].valueCode == "certain"
    assert by_demographics.entry[0].search.extension[0].valueCode == "probable"
    assert by_demographics.entry[0].resource.id == str(cared_for.id)

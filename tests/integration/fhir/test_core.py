"""The working core: metadata, read, search, transaction, If-Match and history."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.fhir.conftest import Api, patient_body, valid

from joinedup.core.models import AuditEvent
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


def test_metadata_is_a_valid_capability_statement_without_a_token(client: Any) -> None:
    response = client.get("/fhir/R4/metadata")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    statement = valid(response.json())
    types = {r.type for r in statement.rest[0].resource}
    assert {"Patient", "Observation", "Condition", "AuditEvent"} <= types


def test_patient_read_returns_uk_core_patient_and_audits(api: Api, cared_for: Person) -> None:
    response = api.get(f"Patient/{cared_for.id}")

    assert response.status_code == 200, response.content
    patient = valid(response.json())
    assert patient.identifier[0].system == "https://fhir.nhs.uk/Id/nhs-number"
    assert patient.identifier[0].value == cared_for.nhs_number
    assert response["ETag"] == 'W/"1"'
    assert AuditEvent.objects.filter(person_id=cared_for.id, action="read", channel="fhir").exists()


def test_transaction_search_update_412_and_history(api: Api) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:0b8f7a54-7d0e-4b53-9d1e-2d1f4c7e9a10",
                "resource": patient_body(
                    identifier=[
                        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}
                    ]
                ),
                "request": {"method": "POST", "url": "Patient"},
            }
        ],
    }
    created = api.post("", bundle)
    assert created.status_code == 200, created.content
    reply = valid(created.json())
    assert reply.type == "transaction-response"
    assert reply.entry[0].response.status.startswith("201")

    found = api.get("Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919")
    assert found.status_code == 200, found.content
    searchset = valid(found.json())
    assert searchset.total == 1
    patient = found.json()["entry"][0]["resource"]
    pid = patient["id"]

    patient["name"][0]["family"] = "Renamed"
    patient["extension"] = [
        {
            "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland",
                        "code": "M",
                    }
                ]
            },
        }
    ]
    updated = api.put(f"Patient/{pid}", patient, HTTP_IF_MATCH='W/"1"')
    assert updated.status_code == 200, updated.content
    assert updated["ETag"] == 'W/"2"'
    assert valid(updated.json()).extension[0].valueCodeableConcept.coding[0].code == "M"

    stale = api.put(f"Patient/{pid}", patient, HTTP_IF_MATCH='W/"1"')
    assert stale.status_code == 412
    assert valid(stale.json()).issue[0].code == "conflict"

    history = api.get(f"Patient/{pid}/_history")
    assert history.status_code == 200
    versions = valid(history.json())
    assert versions.type == "history"
    assert [e.resource.meta.versionId for e in versions.entry] == ["2", "1"]
    assert versions.entry[1].resource.name[0].family == "Fhirtest"
    old = api.get(f"Patient/{pid}/_history/1")
    assert valid(old.json()).name[0].family == "Fhirtest"

"""AllergyIntolerance, DiagnosticReport and MedicationRequest over the record's facts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from tests.integration.fhir.conftest import Api, valid

from joinedup.core.models import AuditEvent
from joinedup.people.models import Person
from joinedup.record.models import Fact

pytestmark = pytest.mark.django_db

PENICILLIN = "91936005"


def _ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    valid(bundle)
    return sorted(
        e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode
    )


@pytest.fixture
def allergy(make_fact: Callable[..., Fact], cared_for: Person) -> Fact:
    return make_fact(
        cared_for,
        kind="allergy",
        code=PENICILLIN,
        display="Allergy to penicillin (finding)",
        status="active",
        value=None,
        unit="",
        detail={
            "verification": "confirmed",
            "category": "medication",
            "criticality": "high",
            "reaction_code": "39579001",
            "reaction": "Anaphylaxis (disorder)",
        },
    )


def test_allergy_reads_as_valid_fhir_with_its_statuses(api: Api, allergy: Fact) -> None:
    body = api.get(f"AllergyIntolerance/{allergy.id}").json()

    resource = valid(body)
    assert resource.clinicalStatus.coding[0].code == "active"
    assert resource.verificationStatus.coding[0].code == "confirmed"
    assert resource.category == ["medication"]
    assert resource.criticality == "high"
    assert resource.code.coding[0].code == PENICILLIN
    assert resource.patient.reference == f"Patient/{allergy.identity.person_id}"
    assert resource.reaction[0].manifestation[0].coding[0].code == "39579001"


def test_allergy_search_by_each_parameter(
    api: Api, allergy: Fact, make_fact: Callable[..., Fact], cared_for: Person
) -> None:
    food = make_fact(
        cared_for,
        kind="allergy",
        code="91935009",
        display="Allergy to peanut (finding)",
        status="resolved",
        occurred_at=allergy.occurred_at - timedelta(days=400),
        detail={"category": "food", "criticality": "low", "verification": "unconfirmed"},
    )
    make_fact(cared_for, kind="condition", code=PENICILLIN)  # not an allergy
    mine, theirs = str(allergy.id), str(food.id)

    def search(query: str) -> list[str]:
        response = api.get(f"AllergyIntolerance?{query}")
        assert response.status_code == 200, response.content
        return _ids(response.json())

    assert search(f"patient=Patient/{cared_for.id}") == sorted([mine, theirs])
    assert search("clinical-status=active") == [mine]
    assert search(f"code=http://snomed.info/sct|{PENICILLIN}") == [mine]
    assert search("criticality=high") == [mine]
    assert search("criticality=low,high") == sorted([mine, theirs])
    assert search("criticality:not=high") == [theirs]
    assert search("category=food") == [theirs]
    assert search("verification-status=unconfirmed") == [theirs]
    assert search("category:missing=true") == []
    assert search(f"date=ge{allergy.occurred_at.date().isoformat()}") == [mine]
    assert search(f"date=lt{allergy.occurred_at.date().isoformat()}") == [theirs]
    assert api.get("AllergyIntolerance?_sort=criticality").status_code == 400


def test_diagnostic_report_resolves_results_and_includes_them(
    api: Api, make_fact: Callable[..., Fact], cared_for: Person
) -> None:
    observation = make_fact(cared_for, kind="observation", code="999791000000106", value=48.0)
    other = make_fact(cared_for, kind="observation", code="999791000000106", value=50.0)
    report = make_fact(
        cared_for,
        kind="diagnostic_report",
        identity=observation.identity,
        code="43396009",
        display="Hemoglobin A1c measurement (procedure)",
        status="final",
        organisation="RZ9",
        value=None,
        unit="",
        detail={
            "category": "LAB",
            "issued": "2025-03-04T10:30:00+00:00",
            "result_0": observation.record_id,
            "result_1": "obs-never-received",
        },
    )

    body = valid(api.get(f"DiagnosticReport/{report.id}").json())

    assert body.status == "final"
    assert body.category[0].coding[0].code == "LAB"
    assert body.performer[0].reference == "Organization/RZ9"
    assert body.result[0].reference == f"Observation/{observation.id}"
    assert body.result[1].reference is None
    assert body.result[1].identifier.value == "obs-never-received"

    bundle = api.get("DiagnosticReport?category=LAB&_include=DiagnosticReport:result").json()
    assert _ids(bundle) == [str(report.id)]
    assert _ids(bundle, "include") == [str(observation.id)]

    def search(query: str) -> list[str]:
        response = api.get(f"DiagnosticReport?{query}")
        assert response.status_code == 200, response.content
        return _ids(response.json())

    assert search(f"result=Observation/{observation.id}") == [str(report.id)]
    assert search(f"result={other.id}") == []
    assert search("result=Observation/not-a-number") == []
    assert search(f"subject=Patient/{cared_for.id}&status=final&code=43396009") == [str(report.id)]
    assert search("performer=Organization/RZ9") == [str(report.id)]
    assert search("category=RAD") == []
    revinclude = api.get(
        f"Observation?_id={observation.id}&_revinclude=DiagnosticReport:result"
    ).json()
    assert _ids(revinclude, "include") == [str(report.id)]


def test_medication_request_is_the_authorisation_of_each_statement(
    api: Api, make_fact: Callable[..., Fact], cared_for: Person
) -> None:
    active = make_fact(
        cared_for,
        kind="medication",
        code="776713006",
        display="Metformin",
        status="active",
        value=None,
        unit="",
    )
    stopped = make_fact(cared_for, kind="medication", code="774557006", status="completed")
    active.identity.practice_code = cared_for.registered_practice.ods_code  # type: ignore[union-attr]
    active.identity.save()

    request = valid(api.get(f"MedicationRequest/{active.id}").json())
    statement = valid(api.get(f"MedicationStatement/{active.id}").json())

    assert request.intent == "plan"
    assert request.status == "active"
    assert request.medicationCodeableConcept.coding[0].code == "776713006"
    assert request.requester.identifier.value == active.identity.practice_code
    assert request.authoredOn is not None
    assert statement.basedOn[0].reference == f"MedicationRequest/{active.id}"
    provenance = valid(api.get(f"Provenance/{active.id}").json())
    assert provenance.target[0].reference == f"MedicationStatement/{active.id}"

    def search(query: str) -> list[str]:
        response = api.get(f"MedicationRequest?{query}")
        assert response.status_code == 200, response.content
        return _ids(response.json())

    assert search(f"patient={cared_for.id}&intent=plan") == sorted(
        [str(active.id), str(stopped.id)]
    )
    assert search("intent=order") == []
    assert search("status=completed") == [str(stopped.id)]
    assert search("status=draft") == []
    assert search("code=776713006") == [str(active.id)]
    assert search(f"authoredon=le{active.occurred_at.date().isoformat()}")
    assert api.get("MedicationRequest?date=2024").status_code == 400


def test_everything_carries_the_new_types(
    api: Api, allergy: Fact, make_fact: Callable[..., Fact], cared_for: Person
) -> None:
    make_fact(cared_for, kind="medication")
    make_fact(cared_for, kind="diagnostic_report", detail={"category": "LAB"})

    bundle = valid(api.get(f"Patient/{cared_for.id}/$everything").json())

    types = {e.resource.get_resource_type() for e in bundle.entry}
    assert {"AllergyIntolerance", "DiagnosticReport", "MedicationRequest"} <= types
    assert {"MedicationStatement", "Provenance"} <= types


def test_someone_elses_allergy_is_refused_and_the_refusal_audited(
    api: Api, make_fact: Callable[..., Fact], make_person: Callable[..., Person]
) -> None:
    stranger = make_fact(make_person(), kind="allergy", code=PENICILLIN)
    report = make_fact(make_person(), kind="diagnostic_report")

    assert api.get(f"AllergyIntolerance/{stranger.id}").status_code == 403
    assert api.get(f"DiagnosticReport/{report.id}").status_code == 403
    assert _ids(api.get("AllergyIntolerance").json()) == []
    assert AuditEvent.objects.filter(action="deny", resource="fhir.AllergyIntolerance").exists()


def test_reading_an_allergy_is_audited_against_the_person(api: Api, allergy: Fact) -> None:
    api.get(f"AllergyIntolerance/{allergy.id}")

    assert AuditEvent.objects.filter(
        action="read",
        resource="fhir.AllergyIntolerance",
        person_id=allergy.identity.person_id,
    ).exists()

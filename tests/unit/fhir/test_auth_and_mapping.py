"""Scopes, the mappings to FHIR (validated with the R4B models), $match scoring, urn rewriting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from joinedup.errors import InvalidInput
from joinedup.fhir import auth, bundles, mapping, matching


def _valid(body: dict[str, Any]) -> Any:
    return get_fhir_model_class(body["resourceType"]).model_validate(body)


@pytest.mark.parametrize(
    ("scopes", "resource_type", "action", "allowed"),
    [
        ("user/*.read", "Patient", "r", True),
        ("user/*.read", "Patient", "c", False),
        ("user/Observation.rs", "Observation", "s", True),
        ("user/Observation.rs", "Patient", "r", False),
        ("system/*.write", "Patient", "u", True),
        ("system/*.write", "Patient", "r", False),
        ("patient/*.* openid fhirUser launch/patient", "Condition", "d", True),
    ],
)
def test_scopes_allow_what_they_say(
    scopes: str, resource_type: str, action: str, allowed: bool
) -> None:
    parsed = auth.parse_scopes(scopes)
    assert any(s.covers(resource_type, action) for s in parsed) is allowed


@pytest.mark.parametrize(
    "scopes", ["", "openid", "user/*", "admin/*.read", "user/patient.read", "user/*.x"]
)
def test_bad_scopes_are_refused(scopes: str) -> None:
    with pytest.raises(InvalidInput):
        auth.parse_scopes(scopes)


def test_token_hash_is_not_the_token() -> None:
    token = auth.new_token()
    assert token.startswith(auth.TOKEN_PREFIX)
    assert auth.token_hash(token) != token
    assert len(auth.token_hash(token)) == 64


PRACTICE = SimpleNamespace(ods_code="P81001", name="Test Practice")
PERSON = SimpleNamespace(
    id="7b0e1f0c-2f4a-4b8e-9d7e-1f2a3b4c5d6e",
    nhs_number="9434765919",
    given_name="Ada May",
    family_name="Lovelace",
    date_of_birth=date(1940, 5, 17),
    sex="female",
    address="1 Mill Lane",
    postcode="SK1 3AA",
    registered_practice=PRACTICE,
    date_of_death=None,
    ethnic_category="A",
)


def test_patient_mapping_is_uk_core_shaped() -> None:
    patient = _valid(mapping.patient_to_fhir(PERSON))
    assert patient.identifier[0].system == mapping.NHS_NUMBER
    assert patient.identifier[0].extension[0].url == mapping.VERIFICATION_EXTENSION
    assert patient.name[0].given == ["Ada", "May"]
    assert patient.generalPractitioner[0].identifier.system == mapping.ODS
    assert mapping.ethnic_category_of(mapping.patient_to_fhir(PERSON)) == "A"


def _fact(kind: str, **extra: Any) -> SimpleNamespace:
    fields: dict[str, Any] = {
        "pk": 7,
        "kind": kind,
        "identity": SimpleNamespace(person_id=PERSON.id),
        "occurred_at": datetime(2024, 3, 1, 9, tzinfo=UTC),
        "ended_at": None,
        "code_system": "",
        "code": "",
        "display": "",
        "value": None,
        "value_text": "",
        "unit": "",
        "status": "",
        "organisation": "",
        "detail": {},
        "source": "gp",
        "delivery_id": 3,
        "record_id": "r1",
        "received_at": datetime(2024, 3, 2, tzinfo=UTC),
        "get_kind_display": kind.title,
    }
    fields.update(extra)
    return SimpleNamespace(**fields)


@pytest.mark.parametrize("kind", sorted(mapping.TYPE_OF_KIND))
def test_every_fact_kind_maps_to_valid_fhir_even_when_sparse(kind: str) -> None:
    resource = _valid(mapping.fact_to_fhir(_fact(kind)))
    assert resource.get_resource_type() == mapping.TYPE_OF_KIND[kind]
    _valid(mapping.provenance_to_fhir(_fact(kind), source_label="GP practice"))


def test_blood_pressure_components() -> None:
    fact = _fact("observation", detail={"systolic": 141.0, "diastolic": 92.0}, status="final")
    observation = _valid(mapping.observation_to_fhir(fact))
    assert [c.valueQuantity.value for c in observation.component] == [141.0, 92.0]


def test_match_score_grades() -> None:
    exact = {"identifier": [{"system": mapping.NHS_NUMBER, "value": "9434765919"}]}
    demographics = {
        "name": [{"family": "lovelace", "given": ["Ada"]}],
        "birthDate": "1940-05-17",
        "address": [{"postalCode": "sk13aa"}],
        "gender": "female",
    }
    assert matching.grade(matching.score(exact, PERSON)) == "certain"
    assert matching.grade(matching.score(demographics, PERSON)) == "probable"
    assert matching.score({**demographics, "birthDate": "1941-05-17"}, PERSON) == 0.0


def test_urn_references_are_rewritten_everywhere() -> None:
    created = {"urn:uuid:a": "Patient/1"}
    body = {"subject": {"reference": "urn:uuid:a"}, "x": [{"reference": "urn:uuid:b"}]}
    assert bundles._rewrite(body, created) == {
        "subject": {"reference": "Patient/1"},
        "x": [{"reference": "urn:uuid:b"}],
    }


# -- writes of Procedure, DiagnosticReport, EpisodeOfCare, MedicationRequest and Flag

_SUBJECT = {"reference": f"Patient/{PERSON.id}"}


@pytest.mark.parametrize(
    ("resource_type", "body", "kind", "columns"),
    [
        (
            "Procedure",
            {
                "status": "completed",
                "category": {"text": "Social care assessment"},
                "code": {"text": "Review"},
                "subject": _SUBJECT,
                "performedDateTime": "2025-05-06",
                "outcome": {"text": "Package continued"},
            },
            "assessment",
            {"display": "Review", "status": "Package continued"},
        ),
        (
            "DiagnosticReport",
            {
                "status": "final",
                "category": [{"coding": [{"system": mapping.DIAGNOSTIC_SERVICE, "code": "LAB"}]}],
                "code": {"text": "Full blood count"},
                "subject": _SUBJECT,
                "issued": "2025-03-01T15:30:00Z",
                "result": [{"reference": "Observation/12"}, {"reference": "Observation/13"}],
            },
            "diagnostic_report",
            {
                "status": "final",
                "detail": {
                    "category": "LAB",
                    "issued": "2025-03-01T15:30:00+00:00",
                    "result_0": "12",
                    "result_1": "13",
                },
            },
        ),
        (
            "EpisodeOfCare",
            {
                "status": "finished",
                "type": [{"text": "Early help"}, {"text": "School nurse"}],
                "patient": _SUBJECT,
                "period": {"start": "2024-01-02", "end": "2024-06-30"},
            },
            "early_help",
            {"display": "School nurse", "ended_at": datetime(2024, 6, 30, tzinfo=UTC)},
        ),
        (
            "MedicationRequest",
            {
                "status": "cancelled",
                "intent": "plan",
                "medicationCodeableConcept": {"text": "Amlodipine 5mg"},
                "subject": _SUBJECT,
                "authoredOn": "2025-01-10",
            },
            "medication",
            {"status": "not-taken", "display": "Amlodipine 5mg"},
        ),
        (
            "Flag",
            {
                "status": "active",
                "code": {"text": "Child in need"},
                "subject": _SUBJECT,
                "period": {"start": "2025-06-01"},
            },
            "child_referral",
            {"display": "Child in need", "ended_at": None},
        ),
    ],
)
def test_written_types_become_the_facts_their_reads_come_from(
    resource_type: str, body: dict[str, Any], kind: str, columns: dict[str, Any]
) -> None:
    fields = mapping.fact_fields(resource_type, {"resourceType": resource_type, **body})

    assert fields.kind == kind
    assert fields.subject == PERSON.id
    for name, value in columns.items():
        assert getattr(fields, name) == value, name


@pytest.mark.parametrize(
    ("resource_type", "body", "where"),
    [
        ("Procedure", {"status": "completed", "code": {"text": "x"}}, "Procedure.category"),
        (
            "DiagnosticReport",
            {"status": "final", "code": {"text": "x"}, "result": [{"reference": "Observation/²"}]},
            "DiagnosticReport.result[0]",
        ),
        (
            "EpisodeOfCare",
            {"status": "active", "type": [{"text": "Package of care"}]},
            "EpisodeOfCare.type[0]",
        ),
        (
            "MedicationRequest",
            {"status": "active", "intent": "proposal"},
            "MedicationRequest.intent",
        ),
        ("Flag", {"status": "active", "code": {"text": "Safeguarding enquiry"}}, "Flag.code.text"),
    ],
)
def test_written_types_refuse_what_is_not_theirs(
    resource_type: str, body: dict[str, Any], where: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        mapping.fact_fields(resource_type, {"resourceType": resource_type, **body})
    assert refused.value.where == where


def test_every_request_status_is_kept_and_read_back() -> None:
    for status in {*mapping.REQUEST_STATUS.values(), "unknown"}:
        body = {
            "resourceType": "MedicationRequest",
            "status": status,
            "intent": "plan",
            "medicationCodeableConcept": {"text": "Amlodipine"},
            "subject": _SUBJECT,
        }
        fields = mapping.fact_fields("MedicationRequest", body)
        assert mapping.REQUEST_STATUS.get(fields.status, "unknown") == status


def test_views_of_a_fact_share_its_versions() -> None:
    assert mapping.views_of("medication", "") == ("MedicationStatement", "MedicationRequest")
    assert mapping.views_of("assessment", "Safeguarding enquiry") == ("Procedure", "Flag")
    assert mapping.views_of("assessment", "Review") == ("Procedure",)
    assert mapping.views_of("child_referral", "Child protection plan") == ("Flag",)
    assert mapping.views_of("child_referral", "No further action") == ()
    assert set(mapping.FACT_READERS) == set(mapping.WRITABLE_TYPES)

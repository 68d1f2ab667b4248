"""Consent: the National Data Opt-out, person-scoped, audited and read-only."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from tests.integration.fhir.conftest import Api, valid

from joinedup.core.models import AuditEvent, Team, User
from joinedup.core.roles import Role
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def opted_out(
    make_person: Callable[..., Person], relate: Callable[..., object], team: Team
) -> Person:
    person = make_person(opted_out_secondary_use=True)
    relate(person, team)
    return person


def _total(api: Api, query: str) -> int:
    response = api.get(query)
    assert response.status_code == 200, response.content
    bundle = valid(response.json())
    return int(bundle.total)


def test_opt_out_is_an_active_deny_consent_and_the_read_is_audited(
    api: Api, nurse: User, opted_out: Person
) -> None:
    response = api.get(f"Consent/{opted_out.id}")

    assert response.status_code == 200, response.content
    consent = valid(response.json())
    assert consent.status == "active"
    assert consent.provision.type == "deny"
    assert consent.patient.reference == f"Patient/{opted_out.id}"
    assert consent.scope.coding[0].code == "patient-privacy"
    assert consent.category[0].coding[0].code == "59284-0"
    assert api.get(consent.patient.reference).status_code == 200
    assert AuditEvent.objects.filter(
        actor_id=nurse.id, person_id=opted_out.id, action="read", resource="fhir.Consent"
    ).exists()


def test_a_person_who_did_not_opt_out_has_no_consent(api: Api, cared_for: Person) -> None:
    assert api.get(f"Consent/{cared_for.id}").status_code == 404
    assert _total(api, f"Consent?patient={cared_for.id}") == 0


def test_stranger_is_refused_and_audited_and_finds_nothing(
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    opted_out: Person,
    issue: Callable[..., str],
) -> None:
    stranger = make_user(Role.GP, teams=[make_team()])
    api = Api(Client(), issue(stranger))

    response = api.get(f"Consent/{opted_out.id}")

    assert response.status_code == 403
    assert valid(response.json()).issue[0].code == "forbidden"
    assert AuditEvent.objects.filter(actor_id=stranger.id, action="deny").exists()
    assert _total(api, f"Consent?patient={opted_out.id}") == 0
    assert _total(api, "Consent") == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=active", 1),
        ("status=inactive", 0),
        ("status:not=active", 0),
        ("status:not=inactive", 1),
        ("status:missing=true", 0),
        ("category=59284-0", 1),
        ("category=http://loinc.org|59284-0", 1),
        ("category=OPTOUT", 1),
        ("category=research", 0),
        ("scope=patient-privacy", 1),
        ("scope=treatment", 0),
        ("_lastUpdated=ge2000-01-01", 1),
    ],
)
def test_consent_search_parameters(
    api: Api, opted_out: Person, cared_for: Person, query: str, expected: int
) -> None:
    assert _total(api, f"Consent?patient={opted_out.id}&{query}") == expected
    assert _total(api, f"Consent?patient={cared_for.id}&{query}") == 0


def test_consent_is_in_the_patient_compartment_and_a_patient_token_sees_only_its_own(
    nurse: User,
    opted_out: Person,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    team: Team,
    issue: Callable[..., str],
) -> None:
    other = make_person(opted_out_secondary_use=True)
    relate(other, team)
    api = Api(Client(), issue(nurse, "patient/*.read", patient_id=opted_out.id))

    everything = api.get(f"Patient/{opted_out.id}/$everything").json()
    found = api.get("Consent").json()

    valid(everything)
    assert "Consent" in {e["resource"]["resourceType"] for e in everything["entry"]}
    assert [e["resource"]["id"] for e in found["entry"]] == [str(opted_out.id)]
    assert api.get(f"Consent/{other.id}").status_code in (403, 404)


# -- writes: an opt-out recorded on the person's behalf by someone who may see them

POLICY = "https://digital.nhs.uk/services/national-data-opt-out"


def _opt_out(person: Person, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        # One coding of the two reads give, in the other order: still the same category.
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}
                ]
            }
        ],
        "patient": {"reference": f"Patient/{person.id}"},
        "policy": [{"uri": POLICY}],
        "provision": {"type": "deny"},
    }
    body.update(extra)
    return body


def _outcome(response: Any) -> Any:
    assert response.json()["resourceType"] == "OperationOutcome", response.content
    return valid(response.json()).issue[0]


def _opted_out_now(person: Person) -> bool:
    return bool(
        Person.objects.for_system("test")
        .filter(id=person.id)
        .values_list("opted_out_secondary_use", flat=True)[0]
    )


def test_opt_out_created_read_withdrawn_412_vread_and_history(
    api: Api, nurse: User, cared_for: Person
) -> None:
    created = api.post("Consent", _opt_out(cared_for))

    assert created.status_code == 201, created.content
    assert created["ETag"] == 'W/"1"'
    assert created["Location"].endswith(f"/Consent/{cared_for.id}/_history/1")
    consent = valid(created.json())
    assert (consent.id, consent.status) == (str(cared_for.id), "active")
    assert _opted_out_now(cared_for)
    read = api.get(f"Consent/{cared_for.id}")
    assert read.json() == created.json()
    assert AuditEvent.objects.filter(
        actor_id=nurse.pk, person_id=cared_for.id, action="create", resource="fhir.Consent"
    ).exists()
    assert AuditEvent.objects.filter(
        actor_id=nurse.pk, person_id=cared_for.id, resource="person.opt_out"
    ).exists()

    withdrawn = read.json() | {"status": "inactive"}
    updated = api.put(f"Consent/{cared_for.id}", withdrawn, HTTP_IF_MATCH='W/"1"')
    stale = api.put(f"Consent/{cared_for.id}", withdrawn, HTTP_IF_MATCH='W/"1"')

    assert updated.status_code == 200, updated.content
    assert updated["ETag"] == 'W/"2"'
    assert not _opted_out_now(cared_for)
    assert stale.status_code == 412
    assert api.get(f"Consent/{cared_for.id}").json()["status"] == "inactive"
    assert _total(api, f"Consent?patient={cared_for.id}&status=inactive") == 1
    assert _total(api, f"Consent?patient={cared_for.id}&status=active") == 0
    first = api.get(f"Consent/{cared_for.id}/_history/1")
    assert valid(first.json()).status == "active"
    history = valid(api.get(f"Consent/{cared_for.id}/_history").json())
    assert [e.resource.meta.versionId for e in history.entry] == ["2", "1"]
    again = api.post("Consent", _opt_out(cared_for))
    assert again.status_code == 409  # one Consent per person: update it


def test_consent_the_record_cannot_express_is_refused_by_element(
    api: Api, cared_for: Person
) -> None:
    cases = {
        "Consent.dateTime": _opt_out(cared_for, dateTime="2026-11-01"),
        "Consent.performer": _opt_out(
            cared_for, performer=[{"reference": f"Patient/{cared_for.id}"}]
        ),
        "Consent.provision.type": _opt_out(cared_for, provision={"type": "permit"}),
        "Consent.provision.period": _opt_out(
            cared_for, provision={"type": "deny", "period": {"start": "2026-01-01"}}
        ),
        "Consent.scope": _opt_out(
            cared_for,
            scope={
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "treatment",
                    }
                ]
            },
        ),
        "Consent.policy": _opt_out(cared_for, policy=[{"uri": "https://example.org/p"}]),
        "Consent.status": _opt_out(cared_for, status="proposed"),
        "Consent.category[1]": _opt_out(
            cared_for,
            category=[
                {"coding": [{"system": "http://loinc.org", "code": "59284-0"}]},
                {"text": "x"},
            ],
        ),
    }
    for where, body in cases.items():
        response = api.post("Consent", body)
        assert response.status_code == 422, (where, response.content)
        assert _outcome(response).expression[0] == where
    withdrawn_at_birth = api.post("Consent", _opt_out(cared_for, status="inactive"))
    assert withdrawn_at_birth.status_code == 422
    assert not _opted_out_now(cared_for)


def test_opt_out_about_a_stranger_is_refused_audited_and_not_kept(
    api: Api, nurse: User, make_person: Callable[..., Person]
) -> None:
    stranger = make_person()

    created = api.post("Consent", _opt_out(stranger))
    updated = api.put(f"Consent/{stranger.id}", _opt_out(stranger, id=str(stranger.id)))
    nobody = api.post(
        "Consent", _opt_out(stranger, patient={"reference": f"Patient/{uuid.uuid4()}"})
    )

    assert (created.status_code, updated.status_code) == (403, 403)
    assert nobody.status_code == 422
    assert not _opted_out_now(stranger)
    denied = AuditEvent.objects.filter(
        actor_id=nurse.pk, action="deny", outcome="denied", resource="fhir.Consent"
    )
    assert denied.count() == 2


def test_a_role_without_care_access_cannot_record_an_opt_out(
    make_user: Callable[..., User], cared_for: Person, issue: Callable[..., str]
) -> None:
    admin = make_user(Role.ADMINISTRATOR)
    api = Api(Client(), issue(admin))

    response = api.post("Consent", _opt_out(cared_for))

    assert response.status_code == 403
    assert not _opted_out_now(cared_for)
    assert AuditEvent.objects.filter(actor_id=admin.pk, action="deny").exists()


def test_an_opt_out_from_the_person_index_is_read_only(api: Api, opted_out: Person) -> None:
    body = api.get(f"Consent/{opted_out.id}").json() | {"status": "inactive"}

    response = api.put(f"Consent/{opted_out.id}", body)

    assert response.status_code == 409, response.content
    assert _outcome(response).code == "business-rule"
    assert _opted_out_now(opted_out)


def test_a_patient_token_records_only_its_own_patients_opt_out(
    nurse: User, cared_for: Person, opted_out: Person, issue: Callable[..., str]
) -> None:
    api = Api(Client(), issue(nurse, "patient/*.write patient/*.read", patient_id=opted_out.id))

    response = api.post("Consent", _opt_out(cared_for))

    assert response.status_code == 403
    assert not _opted_out_now(cared_for)


def test_the_capability_statement_lists_consent_writes(api: Api) -> None:
    statement = valid(api.get("metadata").json())

    consent = next(r for r in statement.rest[0].resource if r.type == "Consent")
    assert {i.code for i in consent.interaction} >= {"create", "update", "read", "vread"}
    assert "on their behalf" in consent.documentation


def test_a_consent_cannot_move_to_another_patient(
    api: Api,
    cared_for: Person,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    team: Team,
) -> None:
    other = make_person()
    relate(other, team)
    body = api.post("Consent", _opt_out(cared_for)).json()

    moved = api.put(
        f"Consent/{cared_for.id}", body | {"patient": {"reference": f"Patient/{other.id}"}}
    )

    assert moved.status_code == 422, moved.content
    assert _outcome(moved).expression[0] == "Consent.patient"
    assert _opted_out_now(cared_for)
    assert not _opted_out_now(other)

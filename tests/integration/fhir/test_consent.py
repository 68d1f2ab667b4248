"""Consent: the National Data Opt-out, person-scoped, audited and read-only."""

from __future__ import annotations

from collections.abc import Callable

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


def test_consent_cannot_be_written_and_the_capability_statement_says_so(
    api: Api, opted_out: Person
) -> None:
    body = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"text": "x"},
        "category": [{"text": "x"}],
        "patient": {"reference": f"Patient/{opted_out.id}"},
        "policyRule": {"text": "x"},
    }

    created = api.post("Consent", body)
    statement = valid(api.get("metadata").json())

    assert created.status_code == 400
    assert valid(created.json()).issue[0].code == "not-supported"
    consent = next(r for r in statement.rest[0].resource if r.type == "Consent")
    assert [i.code for i in consent.interaction] == [
        "history-instance",
        "read",
        "search-type",
        "vread",
    ]
    assert "not written through this API" in consent.documentation

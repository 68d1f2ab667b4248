"""Tokens, scopes and the access boundary: the same rules as the web, and every read audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from tests.integration.fhir.conftest import Api, valid

from joinedup.core.models import AuditEvent, Team, User
from joinedup.core.roles import Role
from joinedup.fhir import services
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


def test_no_token_is_401_with_a_bearer_challenge(cared_for: Person) -> None:
    response = Client().get(f"/fhir/R4/Patient/{cared_for.id}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert valid(response.json()).issue[0].code == "login"


def test_revoked_and_expired_tokens_are_refused(
    nurse: User, cared_for: Person, issue: Callable[..., str]
) -> None:
    revoked = issue(nurse)
    expired = services.token_issue(
        user=nurse, scopes="user/*.read", lifetime=timedelta(seconds=-1)
    ).token
    live = issue(nurse)
    services.token_revoke(token=revoked)

    for token, status in ((revoked, 401), (expired, 401), (live, 200)):
        assert Api(Client(), token).get(f"Patient/{cared_for.id}").status_code == status


def test_stranger_is_refused_and_the_refusal_audited(
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    cared_for: Person,
    issue: Callable[..., str],
) -> None:
    stranger = make_user(Role.GP, teams=[make_team()])
    api = Api(Client(), issue(stranger))

    response = api.get(f"Patient/{cared_for.id}")
    found = api.get(f"Patient?identifier={cared_for.nhs_number}")

    assert response.status_code == 403
    assert cared_for.family_name not in response.content.decode()
    assert AuditEvent.objects.filter(actor_id=stranger.id, action="deny").exists()
    assert found.json()["total"] == 0
    assert not AuditEvent.objects.filter(person_id=cared_for.id, action="read").exists()


def test_unknown_patient_is_404_outcome(api: Api) -> None:
    response = api.get("Patient/this-id-cannot-exist")
    assert response.status_code == 404
    assert valid(response.json()).issue[0].code == "not-found"


def test_scope_limits_resource_types(
    nurse: User, cared_for: Person, issue: Callable[..., str], make_fact: Callable[..., object]
) -> None:
    make_fact(cared_for)
    api = Api(Client(), issue(nurse, "user/Observation.rs"))

    assert api.get(f"Patient/{cared_for.id}").status_code == 403
    assert api.get(f"Observation?patient={cared_for.id}").json()["total"] == 1
    assert api.post("Patient", {"resourceType": "Patient"}).status_code == 403


def test_patient_token_opens_only_its_patient(
    nurse: User,
    cared_for: Person,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    team: Team,
    issue: Callable[..., str],
    make_fact: Callable[..., object],
) -> None:
    other = make_person()
    relate(other, team)
    make_fact(cared_for)
    make_fact(other)
    api = Api(Client(), issue(nurse, "patient/*.read", patient_id=cared_for.id))

    assert api.get(f"Patient/{cared_for.id}").status_code == 200
    assert api.get(f"Patient/{other.id}").status_code in {403, 404}
    assert api.get("Observation").json()["total"] == 1


def test_system_scopes_are_for_clients_only(nurse: User) -> None:
    from joinedup.errors import InvalidInput

    with pytest.raises(InvalidInput, match="clients"):
        services.token_issue(user=nurse, scopes="system/*.read")


def test_client_credentials_token_endpoint(nurse: User, cared_for: Person) -> None:
    registered = services.client_register(name="GP system", user=nurse, scopes="system/*.read")
    client = Client()

    refused = client.post(
        "/fhir/R4/auth/token",
        f"grant_type=client_credentials&client_id={registered.client.client_id}&client_secret=no",
        content_type="application/x-www-form-urlencoded",
    )
    beyond = client.post(
        "/fhir/R4/auth/token",
        f"grant_type=client_credentials&client_id={registered.client.client_id}"
        f"&client_secret={registered.secret}&scope=system/*.write",
        content_type="application/x-www-form-urlencoded",
    )
    granted = client.post(
        "/fhir/R4/auth/token",
        f"grant_type=client_credentials&client_id={registered.client.client_id}"
        f"&client_secret={registered.secret}&scope=system/*.read",
        content_type="application/x-www-form-urlencoded",
    )

    assert refused.status_code == 401
    assert beyond.status_code == 400
    assert granted.status_code == 200
    token = granted.json()["access_token"]
    assert Api(client, token).get(f"Patient/{cared_for.id}").status_code == 200
    assert Api(client, token).put(f"Patient/{cared_for.id}", {}).status_code in {400, 403}


def test_tokens_are_stored_hashed(nurse: User) -> None:
    from joinedup.fhir.models import AccessToken

    token = services.token_issue(user=nurse, scopes="user/*.read").token
    stored = AccessToken.objects.get()
    assert token not in stored.token_hash
    assert len(stored.token_hash) == 64


def test_audit_events_are_exposed_to_auditors_only(
    api: Api,
    cared_for: Person,
    make_user: Callable[..., User],
    issue: Callable[..., str],
) -> None:
    api.get(f"Patient/{cared_for.id}")
    auditor = Api(Client(), issue(make_user(Role.ADMINISTRATOR)))

    seen = auditor.get(f"AuditEvent?patient={cared_for.id}&action=R")
    hidden = api.get("AuditEvent")

    bundle = valid(seen.json())
    assert bundle.total >= 1
    assert bundle.entry[0].resource.entity[0].what.reference == f"Patient/{cared_for.id}"
    assert hidden.json()["total"] == 0

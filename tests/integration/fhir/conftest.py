"""Fixtures for the FHIR API tests: a caring clinician, a token, and a FHIR client."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from joinedup.core.models import Team, User
from joinedup.core.roles import Role
from joinedup.fhir import services
from joinedup.people.models import Person, SourceIdentity
from joinedup.record.models import Delivery, Fact

FHIR = "application/fhir+json"


def valid(body: dict[str, Any]) -> Any:
    """The body parsed by the R4B model of its type: fails the test if it is not valid FHIR."""
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(body["resourceType"]).model_validate(body)


@dataclass
class Api:
    client: Client
    token: str

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}", "HTTP_ACCEPT": FHIR, **extra}

    def get(self, url: str, **headers: str) -> Any:
        return self.client.get("/fhir/R4/" + url, **self._headers(headers))

    def post(self, url: str, body: Any, **headers: str) -> Any:
        return self.client.post(
            "/fhir/R4/" + url, json.dumps(body), content_type=FHIR, **self._headers(headers)
        )

    def put(self, url: str, body: Any, **headers: str) -> Any:
        return self.client.put(
            "/fhir/R4/" + url, json.dumps(body), content_type=FHIR, **self._headers(headers)
        )


@pytest.fixture
def team(make_team: Callable[..., Team]) -> Team:
    return make_team()


@pytest.fixture
def nurse(make_user: Callable[..., User], team: Team) -> User:
    return make_user(Role.DISTRICT_NURSE, teams=[team])


@pytest.fixture
def issue() -> Callable[..., str]:
    def make(user: User, scopes: str = "user/*.read user/*.write", **extra: Any) -> str:
        return services.token_issue(user=user, scopes=scopes, **extra).token

    return make


@pytest.fixture
def api(nurse: User, issue: Callable[..., str]) -> Api:
    return Api(Client(), issue(nurse))


@pytest.fixture
def cared_for(
    make_person: Callable[..., Person], relate: Callable[..., object], team: Team
) -> Person:
    person = make_person()
    relate(person, team)
    return person


_records = iter(range(1, 10**9))


@pytest.fixture
def make_fact() -> Callable[..., Fact]:
    """A fact in the record about ``person``, as a feed would have delivered it."""

    def make(person: Person, kind: str = "observation", **extra: Any) -> Fact:
        n = next(_records)
        delivery = Delivery.objects.create(
            feed="gp",
            path=f"gp/{n}.ndjson",
            sha256=f"{n:064d}",
            size=1,
            received_at=timezone.now(),
            status="complete",
        )
        identity = SourceIdentity.objects.create(
            source="gp",
            source_id=f"id{n}",
            person=person,
            delivery_id=delivery.id,
            received_at=timezone.now(),
            link_method="nhs_number",
        )
        fields: dict[str, Any] = {
            "identity": identity,
            "source": "gp",
            "record_id": f"r{n}",
            "kind": kind,
            "occurred_at": timezone.now() - timedelta(days=n % 300),
            "code_system": "http://snomed.info/sct",
            "code": "271649006",
            "display": "Systolic blood pressure",
            "value": 120.0,
            "unit": "mm[Hg]",
            "status": "final",
            "organisation": "",
            "delivery": delivery,
            "received_at": timezone.now(),
        }
        fields.update(extra)
        return Fact.objects.create(**fields)

    return make


def patient_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Fhirtest", "given": ["Ada"]}],
        "gender": "female",
        "birthDate": "1950-03-04",
        "address": [{"line": ["2 Mill Lane"], "postalCode": "SK1 3AA"}],
    }
    body.update(extra)
    return body

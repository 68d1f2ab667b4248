"""Shared test set-up: factories for the platform's core rows, and signed-in clients."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.test import Client

from joinedup.core.models import Neighbourhood, Organisation, OrganisationKind, Team, TeamKind, User
from joinedup.core.nhs_number import synthetic_batch
from joinedup.core.roles import Role
from joinedup.people.models import CareRelationship, Person, RelationshipKind, Sex

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)
_numbers = iter(synthetic_batch(np.random.default_rng(7), 5000))


@pytest.fixture(autouse=True)
def _own_warehouse(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Never read or write the developer's warehouse under var/: each test session has its
    own (empty until a test builds one; tests that build one point at their own folder)."""
    settings.WAREHOUSE_DIR = str(tmp_path_factory.getbasetemp() / "warehouse")


@pytest.fixture
def organisation(db: None) -> Organisation:
    return Organisation.objects.create(
        ods_code=f"T{next(_counter):05d}", name="Test Practice", kind=OrganisationKind.GP_PRACTICE
    )


@pytest.fixture
def make_team(db: None, organisation: Organisation) -> Callable[..., Team]:
    def make(name: str | None = None, kind: str = TeamKind.INT) -> Team:
        n = next(_counter)
        hood = Neighbourhood.objects.create(code=f"n{n}", name=f"Neighbourhood {n}")
        return Team.objects.create(
            name=name or f"Team {n}", kind=kind, organisation=organisation, neighbourhood=hood
        )

    return make


@pytest.fixture
def make_user(db: None, organisation: Organisation) -> Callable[..., User]:
    def make(role: Role = Role.GP, teams: list[Team] | None = None, **extra: Any) -> User:
        user = User.objects.create_user(
            username=extra.pop("username", f"user{next(_counter)}"),
            password=PASSWORD,
            role=role,
            organisation=organisation,
            **extra,
        )
        if teams:
            user.teams.set(teams)
        return user

    return make


@pytest.fixture
def make_person(db: None, organisation: Organisation) -> Callable[..., Person]:
    def make(**extra: Any) -> Person:
        n = next(_counter)
        fields: dict[str, Any] = {
            "nhs_number": next(_numbers),
            "given_name": "Testgiven",
            "family_name": f"Familyname{n}",
            "date_of_birth": date(1940, 5, 17),
            "sex": Sex.FEMALE,
            "postcode": "ZZ9 9ZZ",
            "address": "1 Test Street",
            "registered_practice": organisation,
        }
        fields.update(extra)
        return Person.objects.create(**fields)

    return make


@pytest.fixture
def relate() -> Callable[..., CareRelationship]:
    def make(
        person: Person, team: Team, kind: str = RelationshipKind.CASELOAD, **extra: Any
    ) -> CareRelationship:
        return CareRelationship.objects.create(person=person, team=team, kind=kind, **extra)

    return make


@pytest.fixture
def signed_in() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(scope="session")
def borough(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic borough (1,000 people), generated once for the whole session."""
    from joinedup.synth import generate_borough

    out = tmp_path_factory.mktemp("borough") / "b"
    generate_borough(people=1000, seed=11, out=out)
    return out

"""Practitioner and PractitionerRole: the staff directory over FHIR (active staff only)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client
from tests.integration.fhir.conftest import Api, valid

from joinedup.core.models import Organisation, Team, User
from joinedup.core.roles import Role
from joinedup.fhir import services
from joinedup.fhir.practitioners import ROLE_SYSTEM, USER_SYSTEM
from joinedup.neighbourhoods import services as neighbourhood_services
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db

SNOMED = "http://snomed.info/sct"


@pytest.fixture
def ada(make_user: Callable[..., User], team: Team) -> User:
    return make_user(
        Role.DISTRICT_NURSE,
        teams=[team],
        first_name="Ada",
        last_name="Okafor",
        email="ada.okafor@example.nhs.uk",
    )


def _ids(bundle: dict[str, object]) -> list[str]:
    valid(bundle)
    entries = bundle.get("entry", [])
    assert isinstance(entries, list)
    return [e["resource"]["id"] for e in entries if e["search"]["mode"] == "match"]


def test_practitioner_read_is_the_person_with_local_identifier(api: Api, ada: User) -> None:
    response = api.get(f"Practitioner/{ada.pk}")

    assert response.status_code == 200, response.content
    practitioner = valid(response.json())
    assert practitioner.identifier[0].system == USER_SYSTEM
    assert practitioner.identifier[0].value == str(ada.pk)
    assert practitioner.name[0].family == "Okafor"
    assert practitioner.name[0].given == ["Ada"]
    assert practitioner.telecom[0].value == "ada.okafor@example.nhs.uk"
    assert practitioner.meta.profile == [
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Practitioner"
    ]


def test_practitionerrole_codes_the_role_at_the_organisation(
    api: Api, ada: User, team: Team, organisation: Organisation
) -> None:
    response = api.get(f"PractitionerRole/{ada.pk}")

    assert response.status_code == 200, response.content
    role = valid(response.json())
    codings = {(c.system, c.code) for c in role.code[0].coding}
    assert codings == {(SNOMED, "106292003"), (ROLE_SYSTEM, "district_nurse")}
    assert role.organization.reference == f"Organization/{organisation.ods_code}"
    assert role.practitioner.reference == f"Practitioner/{ada.pk}"
    assert [s.display for s in role.healthcareService] == [team.name]
    assert api.get(role.practitioner.reference).status_code == 200
    assert api.get(role.organization.reference).status_code == 200


def test_practitioner_search_by_name_identifier_and_id(
    api: Api, ada: User, make_user: Callable[..., User]
) -> None:
    other = make_user(Role.GP, first_name="Ben", last_name="Adeyemi")

    assert _ids(api.get("Practitioner?family=okaf").json()) == [str(ada.pk)]
    assert _ids(api.get("Practitioner?given:exact=Ben").json()) == [str(other.pk)]
    assert set(_ids(api.get("Practitioner?name=ad").json())) == {str(ada.pk), str(other.pk)}
    assert _ids(api.get(f"Practitioner?identifier={USER_SYSTEM}|{ada.pk}").json()) == [str(ada.pk)]
    assert _ids(api.get(f"Practitioner?identifier=http://other|{ada.pk}").json()) == []
    assert _ids(api.get(f"Practitioner?_id={other.pk}").json()) == [str(other.pk)]


def test_practitionerrole_search_by_practitioner_organisation_and_role(
    api: Api,
    ada: User,
    nurse: User,
    make_user: Callable[..., User],
    organisation: Organisation,
) -> None:
    gp = make_user(Role.GP, first_name="Ben", last_name="Adeyemi")

    assert _ids(api.get(f"PractitionerRole?practitioner=Practitioner/{gp.pk}").json()) == [
        str(gp.pk)
    ]
    assert _ids(api.get(f"PractitionerRole?role={SNOMED}|62247001").json()) == [str(gp.pk)]
    nurses = {str(nurse.pk), str(ada.pk)}
    assert set(_ids(api.get("PractitionerRole?role=district_nurse").json())) == nurses
    assert _ids(api.get("PractitionerRole?role=999999").json()) == []
    by_org = _ids(api.get(f"PractitionerRole?organization={organisation.ods_code}").json())
    assert {str(ada.pk), str(gp.pk)} <= set(by_org)
    assert _ids(api.get("PractitionerRole?organization=NOPE1").json()) == []


def test_practitionerrole_include_and_practitioner_revinclude(api: Api, ada: User) -> None:
    included = api.get(
        f"PractitionerRole?_id={ada.pk}&_include=PractitionerRole:practitioner"
    ).json()
    reverse = api.get(f"Practitioner?_id={ada.pk}&_revinclude=PractitionerRole:practitioner").json()

    assert {(e["resource"]["resourceType"], e["search"]["mode"]) for e in included["entry"]} == {
        ("PractitionerRole", "match"),
        ("Practitioner", "include"),
    }
    valid(reverse)
    assert [e["resource"]["resourceType"] for e in reverse["entry"]] == [
        "Practitioner",
        "PractitionerRole",
    ]


def test_disabled_roleless_and_service_accounts_are_not_practitioners(
    api: Api, ada: User, make_user: Callable[..., User]
) -> None:
    disabled = make_user(Role.GP, last_name="Gone", is_active=False)
    roleless = make_user(Role.GP, last_name="Nobody")
    User.objects.filter(pk=roleless.pk).update(role="")
    robot = make_user(Role.GP, last_name="Robot")
    services.client_register(name="GP system", user=robot, scopes="system/*.read")

    for user in (disabled, roleless, robot):
        assert api.get(f"Practitioner/{user.pk}").status_code == 404
        assert api.get(f"PractitionerRole/{user.pk}").status_code == 404
    everyone = set(_ids(api.get("Practitioner?_count=1000").json()))
    assert str(ada.pk) in everyone
    assert not {str(u.pk) for u in (disabled, roleless, robot)} & everyone


def test_any_reader_of_the_type_may_read_staff_but_scopes_still_bind(
    make_user: Callable[..., User], ada: User, issue: Callable[..., str]
) -> None:
    analyst = make_user(Role.ANALYST)  # no care relationships, no person access at all
    reader = Api(Client(), issue(analyst, "user/Practitioner.rs"))

    assert reader.get(f"Practitioner/{ada.pk}").status_code == 200
    assert reader.get(f"PractitionerRole/{ada.pk}").status_code == 403
    assert reader.get("Practitioner/not-a-number").status_code == 404


def test_task_owner_and_care_team_members_resolve_to_practitioners(
    api: Api, nurse: User, team: Team, cared_for: Person
) -> None:
    neighbourhood_services.task_create(
        user=nurse,
        team=team,
        owner=nurse,
        title="Dressing change",
        due_on=date(2026, 12, 1),
        person=cared_for,
    )
    neighbourhood_services.caseload_add(
        user=nurse, team=team, person_id=cared_for.id, reason="Wound care"
    )

    task = valid(api.get(f"Task?patient={cared_for.id}").json()).entry[0].resource
    care_team = valid(api.get(f"CareTeam?patient={cared_for.id}").json()).entry[0].resource

    assert task.owner.reference == f"Practitioner/{nurse.pk}"
    assert api.get(task.owner.reference).status_code == 200
    members = [p.member.reference for p in care_team.participant]
    assert f"Practitioner/{nurse.pk}" in members
    for member in members:
        assert api.get(member).status_code == 200

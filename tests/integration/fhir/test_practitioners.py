"""Practitioner and PractitionerRole: the staff directory over FHIR (active staff only)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from tests.integration.fhir.conftest import Api, valid

from joinedup.core.models import AuditEvent, Organisation, Team, User
from joinedup.core.roles import Role
from joinedup.fhir import services
from joinedup.fhir.models import ResourceVersion
from joinedup.fhir.practitioners import ROLE_SYSTEM, TEAM_SYSTEM, USER_SYSTEM
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


def test_disabled_superuser_and_service_accounts_are_not_practitioners(
    api: Api, ada: User, make_user: Callable[..., User]
) -> None:
    disabled = make_user(Role.GP, last_name="Gone", is_active=False)
    superuser = make_user(Role.GP, last_name="Root", is_superuser=True)
    User.objects.filter(pk=superuser.pk).update(role="")
    robot = make_user(Role.GP, last_name="Robot")
    services.client_register(name="GP system", user=robot, scopes="system/*.read")

    for user in (disabled, superuser, robot):
        assert api.get(f"Practitioner/{user.pk}").status_code == 404
        assert api.get(f"PractitionerRole/{user.pk}").status_code == 404
    everyone = set(_ids(api.get("Practitioner?_count=1000").json()))
    assert str(ada.pk) in everyone
    assert not {str(u.pk) for u in (disabled, superuser, robot)} & everyone


def test_an_account_without_a_role_yet_is_a_practitioner_without_a_role(
    api: Api, make_user: Callable[..., User]
) -> None:
    waiting = make_user(Role.GP, last_name="Waiting")
    User.objects.filter(pk=waiting.pk).update(role="")

    assert api.get(f"Practitioner/{waiting.pk}").status_code == 200
    assert api.get(f"PractitionerRole/{waiting.pk}").status_code == 404
    roles = _ids(api.get("PractitionerRole?_count=1000").json())
    assert str(waiting.pk) not in roles


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


# -- writes (administrators only)


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMINISTRATOR, first_name="Ola", last_name="Admin")


@pytest.fixture
def admin_api(admin: User, issue: Callable[..., str]) -> Api:
    return Api(Client(), issue(admin))


def _outcome(response: Any) -> Any:
    assert response.json()["resourceType"] == "OperationOutcome", response.content
    return valid(response.json()).issue[0]


def _practitioner(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Practitioner",
        "active": True,
        "name": [{"use": "official", "family": "Mensah", "given": ["Kofi", "Ama"]}],
        "telecom": [{"system": "email", "value": "kofi.mensah@example.nhs.uk", "use": "work"}],
    }
    body.update(extra)
    return body


def _role(user: User, code: str = "social_worker", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "active": True,
        "practitioner": {"reference": f"Practitioner/{user.pk}"},
        "code": [{"coding": [{"system": ROLE_SYSTEM, "code": code}]}],
    }
    body.update(extra)
    return body


def test_practitioner_create_makes_an_account_that_cannot_sign_in(
    admin_api: Api, admin: User
) -> None:
    created = admin_api.post("Practitioner", _practitioner())

    assert created.status_code == 201, created.content
    assert created["ETag"] == 'W/"1"'
    practitioner = valid(created.json())
    assert created["Location"].endswith(f"/Practitioner/{practitioner.id}/_history/1")
    user = User.objects.get(pk=int(practitioner.id))
    assert (user.username, user.first_name, user.last_name) == (
        "kofi-ama.mensah",
        "Kofi Ama",
        "Mensah",
    )
    assert (user.role, user.email, user.is_active) == ("", "kofi.mensah@example.nhs.uk", True)
    assert not user.has_usable_password()
    assert user.oidc_subject is None
    assert authenticate(username=user.username, password="") is None
    assert practitioner.identifier[0].value == str(user.pk)
    read = admin_api.get(f"Practitioner/{user.pk}")
    assert read.status_code == 200
    assert read.json() == created.json()
    assert AuditEvent.objects.filter(
        actor_id=admin.pk, action="create", resource="fhir.Practitioner"
    ).exists()
    assert AuditEvent.objects.filter(resource=f"user.create:{user.username}").exists()
    again = admin_api.post("Practitioner", _practitioner())
    assert User.objects.get(pk=int(again.json()["id"])).username == "kofi-ama.mensah-2"


def test_practitioner_update_changes_name_and_email_with_versions(
    admin_api: Api, ada: User
) -> None:
    body = admin_api.get(f"Practitioner/{ada.pk}").json()
    body["name"] = [{"family": "Okafor-Bello", "given": ["Ada"]}]
    body["telecom"] = [{"system": "email", "value": "ada@example.nhs.uk", "use": "work"}]

    updated = admin_api.put(f"Practitioner/{ada.pk}", body, HTTP_IF_MATCH='W/"1"')
    stale = admin_api.put(f"Practitioner/{ada.pk}", body, HTTP_IF_MATCH='W/"1"')

    assert updated.status_code == 200, updated.content
    assert updated["ETag"] == 'W/"2"'
    ada.refresh_from_db()
    assert (ada.last_name, ada.email, ada.role) == (
        "Okafor-Bello",
        "ada@example.nhs.uk",
        Role.DISTRICT_NURSE,
    )
    assert stale.status_code == 412
    old = admin_api.get(f"Practitioner/{ada.pk}/_history/1")
    assert valid(old.json()).name[0].family == "Okafor"
    history = valid(admin_api.get(f"Practitioner/{ada.pk}/_history").json())
    assert [e.resource.meta.versionId for e in history.entry] == ["2", "1"]
    assert admin_api.get(f"Practitioner/{ada.pk}").json()["meta"]["versionId"] == "2"


def test_practitioner_write_refuses_what_an_account_cannot_keep(admin_api: Api, ada: User) -> None:
    cases = {
        "Practitioner.name[0].prefix": _practitioner(
            name=[{"family": "Mensah", "given": ["Kofi"], "prefix": ["Dr"]}]
        ),
        "Practitioner.qualification": _practitioner(
            qualification=[{"code": {"text": "GMC 1234567"}}]
        ),
        "Practitioner.telecom": _practitioner(
            telecom=[{"system": "phone", "value": "0161 000 0000"}]
        ),
        "Practitioner.active": _practitioner(active=False),
        "Practitioner.identifier": _practitioner(identifier=[{"value": "123"}]),
        "Practitioner.telecom[0].value": _practitioner(
            telecom=[{"system": "email", "value": "not an address"}]
        ),
    }
    accounts = User.objects.count()
    for where, body in cases.items():
        response = admin_api.post("Practitioner", body)
        assert response.status_code == 422, (where, response.content)
        assert _outcome(response).expression[0] == where
    assert User.objects.count() == accounts

    disabled = admin_api.get(f"Practitioner/{ada.pk}").json() | {"active": False}
    response = admin_api.put(f"Practitioner/{ada.pk}", disabled)
    assert response.status_code == 422
    assert _outcome(response).expression[0] == "Practitioner.active"
    ada.refresh_from_db()
    assert ada.is_active


def test_only_administrators_write_staff_and_refusals_are_audited(
    api: Api, nurse: User, ada: User
) -> None:
    accounts = User.objects.count()

    made = api.post("Practitioner", _practitioner())
    changed = api.put(f"PractitionerRole/{ada.pk}", _role(ada, id=str(ada.pk)))

    assert (made.status_code, changed.status_code) == (403, 403)
    assert User.objects.count() == accounts
    ada.refresh_from_db()
    assert ada.role == Role.DISTRICT_NURSE
    assert AuditEvent.objects.filter(actor_id=nurse.pk, action="deny").count() == 2


def test_disabled_and_service_accounts_are_never_written(
    admin_api: Api, make_user: Callable[..., User]
) -> None:
    disabled = make_user(Role.GP, last_name="Gone", is_active=False)
    robot = make_user(Role.GP, last_name="Robot")
    services.client_register(name="GP system", user=robot, scopes="system/*.read")

    for user in (disabled, robot):
        body = _practitioner(id=str(user.pk))
        assert admin_api.put(f"Practitioner/{user.pk}", body).status_code == 404
        role = _role(user, id=str(user.pk))
        assert admin_api.put(f"PractitionerRole/{user.pk}", role).status_code == 404
        assert admin_api.post("PractitionerRole", _role(user)).status_code == 422
    robot.refresh_from_db()
    assert (robot.last_name, robot.role) == ("Robot", Role.GP)


def test_practitionerrole_create_gives_a_new_account_its_role_and_teams(
    admin_api: Api, team: Team, make_team: Callable[..., Team], organisation: Organisation
) -> None:
    kofi = User.objects.get(pk=int(admin_api.post("Practitioner", _practitioner()).json()["id"]))
    later_team = make_team(name="Zephyr Team")
    body = _role(
        kofi,
        "gp",
        organization={"reference": f"Organization/{organisation.ods_code}"},
        healthcareService=[  # not in the order reads give them, and one coding of two
            {"identifier": {"system": TEAM_SYSTEM, "value": str(later_team.pk)}},
            {"identifier": {"system": TEAM_SYSTEM, "value": str(team.pk)}},
        ],
    )

    created = admin_api.post("PractitionerRole", body)

    assert created.status_code == 201, created.content
    assert created["Location"].endswith(f"/PractitionerRole/{kofi.pk}/_history/1")
    role = valid(created.json())
    assert {(c.system, c.code) for c in role.code[0].coding} == {
        (SNOMED, "62247001"),
        (ROLE_SYSTEM, "gp"),
    }
    assert [s.display for s in role.healthcareService] == sorted([team.name, later_team.name])
    kofi.refresh_from_db()
    assert (kofi.role, kofi.organisation) == (Role.GP, organisation)
    assert set(kofi.teams.all()) == {team, later_team}
    assert admin_api.get(f"PractitionerRole/{kofi.pk}").json() == created.json()
    again = admin_api.post("PractitionerRole", body)
    assert again.status_code == 409


def test_practitionerrole_update_versions_and_what_it_refuses(
    admin_api: Api, ada: User, team: Team
) -> None:
    body = admin_api.get(f"PractitionerRole/{ada.pk}").json()
    body["code"] = [{"coding": [{"system": SNOMED, "code": "80546007"}]}]
    body.pop("healthcareService")

    updated = admin_api.put(f"PractitionerRole/{ada.pk}", body, HTTP_IF_MATCH='W/"1"')
    stale = admin_api.put(f"PractitionerRole/{ada.pk}", body, HTTP_IF_MATCH='W/"1"')

    assert updated.status_code == 200, updated.content
    assert updated["ETag"] == 'W/"2"'
    ada.refresh_from_db()
    assert (ada.role, list(ada.teams.all())) == (Role.OCCUPATIONAL_THERAPIST, [])
    assert stale.status_code == 412
    old = valid(admin_api.get(f"PractitionerRole/{ada.pk}/_history/1").json())
    assert old.healthcareService[0].display == team.name
    history = valid(admin_api.get(f"PractitionerRole/{ada.pk}/_history").json())
    assert [e.resource.meta.versionId for e in history.entry] == ["2", "1"]

    current = updated.json()
    refusals = {
        "PractitionerRole.code[0]": current
        | {"code": [{"coding": [{"system": ROLE_SYSTEM, "code": "administrator"}]}]},
        "PractitionerRole.period": current | {"period": {"start": "2026-01-01"}},
        "PractitionerRole.code[1]": current | {"code": [*current["code"], {"text": "Lead"}]},
        "PractitionerRole.practitioner": current
        | {"practitioner": {"reference": "Practitioner/999999"}},
        "PractitionerRole.organization": current
        | {"organization": {"reference": "Organization/NOPE1"}},
    }
    for where, sent in refusals.items():
        response = admin_api.put(f"PractitionerRole/{ada.pk}", sent)
        assert response.status_code == 422, (where, response.content)
        assert _outcome(response).expression[0] == where
    ada.refresh_from_db()
    assert ada.role == Role.OCCUPATIONAL_THERAPIST
    stored = ResourceVersion.objects.for_system("test").filter(resource_type="PractitionerRole")
    assert stored.count() == 2


def test_nobody_changes_their_own_role(admin_api: Api, admin: User) -> None:
    body = _role(admin, "gp", id=str(admin.pk))

    response = admin_api.put(f"PractitionerRole/{admin.pk}", body)

    assert response.status_code == 403
    admin.refresh_from_db()
    assert admin.role == Role.ADMINISTRATOR
    assert AuditEvent.objects.filter(actor_id=admin.pk, action="deny", reason="own role").exists()

"""Writes of the neighbourhood teams' resources through FHIR: CarePlan, CareTeam, Task and
ServiceRequest made and changed by the app's own services, with versions, the loss check,
access refusals (audited) and Bundles. Goal writes are in test_goal.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from tests.integration.fhir.conftest import Api, patient_body, valid

from joinedup.core.models import AuditEvent, Team, User
from joinedup.core.roles import Role
from joinedup.fhir.models import ResourceVersion
from joinedup.neighbourhoods import services
from joinedup.neighbourhoods.fhir_mapping import NEED_SYSTEM
from joinedup.neighbourhoods.models import (
    CarePlan,
    CarePlanVersion,
    CaseloadEntry,
    PostcodeArea,
    Referral,
    ReferralStatus,
    Task,
    TaskStatus,
)
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


def _outcome(response: Any) -> Any:
    assert response.json()["resourceType"] == "OperationOutcome", response.content
    return valid(response.json()).issue[0]


def _created(api: Api, resource_type: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(resource_type, body)
    assert response.status_code == 201, response.content
    assert response["ETag"] == 'W/"1"'
    created: dict[str, Any] = response.json()
    valid(created)
    assert response["Location"].endswith(f"/{resource_type}/{created['id']}/_history/1")
    assert api.get(f"{resource_type}/{created['id']}").json() == created
    return created


def _versions_round(
    api: Api, resource_type: str, created: dict[str, Any], change: Callable[[Any], None]
) -> dict[str, Any]:
    """Update with If-Match 1 (version 2), a stale If-Match (412), vread 1 and _history."""
    url = f"{resource_type}/{created['id']}"
    body = api.get(url).json()
    change(body)
    updated = api.put(url, body, HTTP_IF_MATCH='W/"1"')
    assert updated.status_code == 200, updated.content
    assert updated["ETag"] == 'W/"2"'
    valid(updated.json())
    stale = api.put(url, body, HTTP_IF_MATCH='W/"1"')
    assert stale.status_code == 412
    assert _outcome(stale).code == "conflict"
    first = api.get(f"{url}/_history/1")
    assert first.status_code == 200
    assert {k: v for k, v in first.json().items() if k != "meta"} == {
        k: v for k, v in created.items() if k != "meta"
    }
    history = valid(api.get(f"{url}/_history").json())
    assert [e.resource.meta.versionId for e in history.entry] == ["2", "1"]
    read = api.get(url)
    assert read.json()["meta"]["versionId"] == "2"
    result: dict[str, Any] = updated.json()
    return result


def _refused(response: Any, status: int, where: str) -> Any:
    assert response.status_code == status, response.content
    issue = _outcome(response)
    assert issue.expression is not None
    assert issue.expression[0].startswith(where), issue.expression
    return issue


def _denied(actor: User, resource_type: str) -> bool:
    return AuditEvent.objects.filter(
        actor_id=actor.id, action="deny", outcome="denied", resource=f"fhir.{resource_type}"
    ).exists()


@pytest.fixture
def stranger_api(
    make_user: Callable[..., User], make_team: Callable[..., Team], issue: Callable[..., str]
) -> tuple[User, Api]:
    stranger = make_user(Role.DISTRICT_NURSE, teams=[make_team()])
    return stranger, Api(Client(), issue(stranger))


# -- CarePlan


def _care_plan(person: Person, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": f"Patient/{person.id}"},
        "note": [
            {"text": "What matters to me: Staying in my own home"},
            {"text": "Contingency plan: Call the district nurses"},
        ],
        "goal": [{"display": "Walk to the park"}],
        "activity": [
            {
                "detail": {
                    "status": "in-progress",
                    "description": "Fit a grab rail",
                    "performer": [{"display": "Sam Walsh, Stockport Council"}],
                }
            }
        ],
        "period": {"end": "2027-03-31"},
    }
    body.update(extra)
    return body


def test_care_plan_create_update_versions_and_the_app_sees_it(
    api: Api, nurse: User, cared_for: Person
) -> None:
    created = _created(api, "CarePlan", _care_plan(cared_for))

    plan = CarePlan.objects.for_system("test").get(id=created["id"])
    assert plan.what_matters == "Staying in my own home"
    assert [g["text"] for g in plan.goals] == ["Walk to the park"]
    assert plan.actions[0]["responsible"] == "Sam Walsh"
    assert plan.actions[0]["organisation"] == "Stockport Council"
    assert str(plan.review_on) == "2027-03-31"
    goal_ref = created["goal"][0]["reference"]
    assert api.get(goal_ref).status_code == 200
    assert AuditEvent.objects.filter(
        action="create", resource="fhir.CarePlan", person_id=cared_for.id
    ).exists()
    assert AuditEvent.objects.filter(resource="neighbourhoods.careplan", action="update").exists()

    def change(body: Any) -> None:
        body["goal"].append({"display": "Cook a meal"})
        body["note"][0]["text"] = "What matters to me: Seeing my grandchildren"

    updated = _versions_round(api, "CarePlan", created, change)

    plan.refresh_from_db()
    assert plan.version == 2  # the app's own version moved with it
    assert CarePlanVersion.objects.filter(plan=plan).count() == 2
    assert [g["text"] for g in plan.goals] == ["Walk to the park", "Cook a meal"]
    assert updated["goal"][0]["reference"] == goal_ref  # the kept goal keeps its id
    assert (
        plan.actions[0]["id"]
        == CarePlanVersion.objects.get(plan=plan, version=1).content["actions"][0]["id"]
    )


def test_care_plan_saved_on_the_web_after_a_fhir_write_is_a_new_version(
    api: Api, nurse: User, cared_for: Person
) -> None:
    created = _created(api, "CarePlan", _care_plan(cared_for))
    plan = CarePlan.objects.for_system("test").get(id=created["id"])

    services.careplan_save(
        user=nurse,
        person_id=cared_for.id,
        base_version=plan.version,
        content={**services.plan_content(plan), "contingency": "Call 111"},
    )

    read = api.get(f"CarePlan/{plan.pk}")
    assert read["ETag"] == 'W/"2"'
    assert api.put(f"CarePlan/{plan.pk}", read.json(), HTTP_IF_MATCH='W/"1"').status_code == 412


@pytest.mark.parametrize(
    ("change", "status", "where"),
    [
        ({"note": [{"text": "Likes tea"}]}, 422, "CarePlan.note[0].text"),
        ({"note": [{"text": "Contingency plan: Call 111"}]}, 422, "CarePlan.note"),
        ({"description": "A plan"}, 422, "CarePlan.description"),
        ({"status": "draft"}, 422, "CarePlan.status"),
        ({"goal": [{"reference": "Goal/999-x"}]}, 422, "CarePlan.goal[0].reference"),
        (
            {"activity": [{"detail": {"status": "in-progress", "description": "Rail"}}]},
            422,
            "CarePlan.activity",
        ),
        ({"period": {"end": "2027"}}, 422, "CarePlan.period.end"),
    ],
)
def test_care_plan_what_the_plan_cannot_hold_is_refused(
    api: Api, cared_for: Person, change: dict[str, Any], status: int, where: str
) -> None:
    _refused(api.post("CarePlan", _care_plan(cared_for, **change)), status, where)

    assert not CarePlan.objects.for_system("test").exists()


def test_care_plan_second_plan_is_a_conflict(api: Api, cared_for: Person) -> None:
    _created(api, "CarePlan", _care_plan(cared_for))

    issue = _refused(api.post("CarePlan", _care_plan(cared_for)), 409, "CarePlan.subject")

    assert issue.code == "business-rule"


def test_care_plan_about_a_stranger_or_by_a_stranger_is_refused_and_audited(
    api: Api,
    nurse: User,
    cared_for: Person,
    make_person: Callable[..., Person],
    stranger_api: tuple[User, Api],
) -> None:
    other = make_person()
    refused = api.post("CarePlan", _care_plan(other))
    created = _created(api, "CarePlan", _care_plan(cared_for))
    stranger, outsider = stranger_api

    changed = outsider.put(f"CarePlan/{created['id']}", created)

    assert refused.status_code == 403
    assert _denied(nurse, "CarePlan")
    assert not CarePlan.objects.for_system("test").filter(person=other).exists()
    assert changed.status_code == 404  # not theirs to see: as if it did not exist (as reads)
    assert outsider.post("CarePlan", _care_plan(cared_for)).status_code == 403
    assert _denied(stranger, "CarePlan")


# -- CareTeam


def _care_team(person: Person, team: Team, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "CareTeam",
        "status": "active",
        "name": team.name,
        "subject": {"reference": f"Patient/{person.id}"},
        "reasonCode": [{"text": "Frailty and falls"}],
    }
    body.update(extra)
    return body


def test_care_team_create_key_worker_end_and_versions(
    api: Api, nurse: User, team: Team, make_person: Callable[..., Person], relate: Any
) -> None:
    person = make_person()
    relate(person, team, kind="referral")
    key = {
        "role": [{"text": f"{nurse.role_label} (key worker)"}],
        "member": {"reference": f"Practitioner/{nurse.pk}"},
    }

    created = _created(api, "CareTeam", _care_team(person, team))

    entry = CaseloadEntry.objects.for_system("test").get(id=created["id"])
    assert (entry.team_id, entry.person_id, entry.reason) == (
        team.pk,
        person.id,
        "Frailty and falls",
    )
    assert entry.key_worker_id is None

    updated = _versions_round(api, "CareTeam", created, lambda b: b.update(participant=[key]))

    entry.refresh_from_db()
    assert entry.key_worker_id == nurse.pk
    assert updated["participant"][0]["member"]["reference"] == f"Practitioner/{nurse.pk}"
    ended = {**updated, "status": "inactive", "note": [{"text": "Left the caseload: Moved away"}]}
    response = api.put(f"CareTeam/{entry.pk}", ended, HTTP_IF_MATCH='W/"2"')
    assert response.status_code == 200, response.content
    assert response["ETag"] == 'W/"3"'
    entry.refresh_from_db()
    assert (entry.ended_on is not None, entry.end_reason) == (True, "Moved away")
    reopened = {**response.json(), "status": "active"}
    reopened.pop("note")
    _refused(api.put(f"CareTeam/{entry.pk}", reopened), 409, "CareTeam.status")


@pytest.mark.parametrize(
    ("change", "status", "where"),
    [
        (
            {"reasonCode": [{"text": "Frailty", "coding": [{"code": "x"}]}]},
            422,
            "CareTeam.reasonCode[0].coding",
        ),
        ({"reasonCode": []}, 422, "CareTeam.reasonCode"),
        ({"name": "No such team"}, 422, "CareTeam.name"),
        ({"status": "proposed"}, 422, "CareTeam.status"),
        ({"telecom": [{"system": "phone", "value": "0161"}]}, 422, "CareTeam.telecom"),
    ],
)
def test_care_team_what_the_caseload_cannot_hold_is_refused(
    api: Api, cared_for: Person, team: Team, change: dict[str, Any], status: int, where: str
) -> None:
    body = _care_team(cared_for, team, **change)
    if body["reasonCode"] == []:
        body.pop("reasonCode")

    _refused(api.post("CareTeam", body), status, where)

    assert not CaseloadEntry.objects.for_system("test").exists()


def test_care_team_of_another_team_is_refused_and_audited(
    api: Api, nurse: User, cared_for: Person, make_team: Callable[..., Team]
) -> None:
    other = make_team()

    refused = api.post("CareTeam", _care_team(cared_for, other))

    assert refused.status_code == 403
    assert _denied(nurse, "CareTeam")
    assert not CaseloadEntry.objects.for_system("test").exists()


def test_care_team_for_a_role_without_care_access_is_refused_and_audited(
    make_user: Callable[..., User], team: Team, cared_for: Person, issue: Callable[..., str]
) -> None:
    admin = make_user(Role.ADMINISTRATOR, teams=[team])
    api = Api(Client(), issue(admin))

    refused = api.post("CareTeam", _care_team(cared_for, team))

    assert refused.status_code == 403
    assert _denied(admin, "CareTeam")


# -- Task


def _task(who: User, person: Person | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "description": "Check the stairlift",
        "owner": {"reference": f"Practitioner/{who.pk}"},
        "restriction": {"period": {"end": "2027-01-15"}},
        "note": [{"text": "Ring first"}],
    }
    if person is not None:
        body["for"] = {"reference": f"Patient/{person.id}"}
    body.update(extra)
    return body


def test_task_create_reassign_complete_and_versions(
    api: Api, nurse: User, team: Team, cared_for: Person, make_user: Callable[..., User]
) -> None:
    colleague = make_user(Role.SOCIAL_WORKER, teams=[team])

    created = _created(api, "Task", _task(nurse, cared_for))

    task = Task.objects.for_system("test").get(id=created["id"])
    assert (task.team_id, task.owner_id, task.person_id, task.detail) == (
        team.pk,
        nurse.pk,
        cared_for.id,
        "Ring first",
    )

    def reassign(body: Any) -> None:
        body["owner"] = {"reference": f"Practitioner/{colleague.pk}"}

    _versions_round(api, "Task", created, reassign)
    task.refresh_from_db()
    assert task.owner_id == colleague.pk

    done = api.get(f"Task/{task.pk}").json()
    done["status"] = "completed"
    response = api.put(f"Task/{task.pk}", done, HTTP_IF_MATCH='W/"2"')
    assert response.status_code == 200, response.content
    assert response.json()["executionPeriod"]["end"]
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert AuditEvent.objects.filter(resource=f"neighbourhoods.task:{task.pk}:done").exists()
    reopened = {**response.json(), "status": "requested"}
    _refused(api.put(f"Task/{task.pk}", reopened), 409, "Task.status")
    cancelled = {**response.json(), "status": "cancelled"}
    _refused(api.put(f"Task/{task.pk}", cancelled), 409, "Task.status")


def test_task_web_change_moves_its_version(api: Api, nurse: User, cared_for: Person) -> None:
    created = _created(api, "Task", _task(nurse, cared_for))

    services.task_complete(user=nurse, task_id=int(created["id"]))

    assert api.get(f"Task/{created['id']}")["ETag"] == 'W/"2"'


@pytest.mark.parametrize(
    ("change", "status", "where"),
    [
        ({"status": "completed"}, 422, "Task.status"),
        ({"authoredOn": "2020-01-01T00:00:00+00:00"}, 422, "Task.authoredOn"),
        ({"priority": "urgent"}, 422, "Task.priority"),
        ({"description": None}, 422, "Task.description"),
        ({"restriction": {"period": {"end": "2027"}}}, 422, "Task.restriction.period.end"),
        ({"note": [{"text": "a"}, {"text": "b"}]}, 422, "Task.note[1]"),
        ({"owner": {"reference": "Organization/X1"}}, 422, "Task.owner"),
    ],
)
def test_task_what_the_app_cannot_hold_is_refused(
    api: Api, nurse: User, change: dict[str, Any], status: int, where: str
) -> None:
    body = {k: v for k, v in _task(nurse, **change).items() if v is not None}

    _refused(api.post("Task", body), status, where)

    assert not Task.objects.for_system("test").exists()


def test_task_changes_the_app_has_no_service_for_are_refused(
    api: Api, nurse: User, cared_for: Person
) -> None:
    created = _created(api, "Task", _task(nurse, cared_for))

    retitled = api.put(f"Task/{created['id']}", {**created, "description": "Other"})

    _refused(retitled, 422, "Task.description")


def test_task_for_someone_outside_my_teams_or_about_a_stranger_is_refused(
    api: Api,
    nurse: User,
    make_person: Callable[..., Person],
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
) -> None:
    outsider = make_user(Role.GP, teams=[make_team()])

    _refused(api.post("Task", _task(outsider)), 422, "Task.owner")
    about_stranger = api.post("Task", _task(nurse, make_person()))

    assert about_stranger.status_code == 403
    assert _denied(nurse, "Task")
    assert not Task.objects.for_system("test").exists()


# -- ServiceRequest


@pytest.fixture
def routed(team: Team, cared_for: Person) -> Person:
    """The person's postcode lies in the team's neighbourhood: their referrals go there."""
    assert team.neighbourhood is not None
    PostcodeArea.objects.create(postcode=cared_for.postcode, neighbourhood=team.neighbourhood)
    return cared_for


def _service_request(person: Person, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{person.id}"},
        "priority": "routine",
        "code": {"coding": [{"system": NEED_SYSTEM, "code": "nursing"}]},
        "reasonCode": [{"text": "Leg ulcer needs dressing three times a week."}],
        "requester": {"display": "Dr Grace Patel"},
        "note": [{"text": "The person agrees to the referral"}],
    }
    body.update(extra)
    return body


def test_service_request_is_sent_routed_triaged_and_closed(
    api: Api, nurse: User, team: Team, routed: Person
) -> None:
    created = _created(api, "ServiceRequest", _service_request(routed))

    referral = Referral.objects.for_system("test").get(id=created["id"])
    assert (referral.status, referral.team_id, referral.person_id) == (
        ReferralStatus.RECEIVED,
        team.pk,
        routed.id,
    )
    assert created["performer"] == [{"display": team.name}]
    assert referral.events.count() == 1

    def triage(body: Any) -> None:
        body["note"].append({"text": "Triage note: District nurses to visit on Monday"})

    updated = _versions_round(api, "ServiceRequest", created, triage)
    referral.refresh_from_db()
    assert (referral.status, referral.triage_note) == (
        ReferralStatus.TRIAGED,
        "District nurses to visit on Monday",
    )

    closing = {**updated, "status": "completed"}
    closing["note"] = [*updated["note"], {"text": "Outcome: Healed"}]
    early = api.put(f"ServiceRequest/{referral.pk}", closing)
    _refused(early, 409, "ServiceRequest.status")  # only an accepted referral closes

    services.referral_accept(user=nurse, referral_id=referral.pk)
    closed = api.put(f"ServiceRequest/{referral.pk}", closing)
    assert closed.status_code == 200, closed.content
    assert closed["ETag"] == 'W/"4"'  # 3 was the acceptance on the web
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == (ReferralStatus.CLOSED, "Healed")


@pytest.mark.parametrize(
    ("change", "status", "where"),
    [
        ({"status": "draft"}, 422, "ServiceRequest.status"),
        ({"priority": "stat"}, 422, "ServiceRequest.priority"),
        (
            {"code": {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]}},
            422,
            "ServiceRequest.code",
        ),
        ({"reasonCode": [{"text": "Help"}]}, 422, "ServiceRequest.reasonCode"),
        ({"note": []}, 422, "ServiceRequest.note"),
        ({"note": [{"text": "Please hurry"}]}, 422, "ServiceRequest.note[0].text"),
        ({"occurrenceDateTime": "2027-01-01"}, 422, "ServiceRequest.occurrenceDateTime"),
        ({"performer": [{"display": "Some other team"}]}, 422, "ServiceRequest.performer"),
    ],
)
def test_service_request_what_the_front_door_cannot_hold_is_refused(
    api: Api, routed: Person, change: dict[str, Any], status: int, where: str
) -> None:
    body = _service_request(routed, **change)
    if body["note"] == []:
        body.pop("note")

    _refused(api.post("ServiceRequest", body), status, where)

    assert not Referral.objects.for_system("test").exists()  # not even a draft


def test_service_request_about_a_stranger_is_refused_and_audited(
    api: Api, nurse: User, make_person: Callable[..., Person]
) -> None:
    refused = api.post("ServiceRequest", _service_request(make_person()))

    assert refused.status_code == 403
    assert _denied(nurse, "ServiceRequest")
    assert not Referral.objects.for_system("test").exists()


def test_service_request_triage_by_another_team_is_refused(
    api: Api,
    routed: Person,
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    relate: Any,
    issue: Callable[..., str],
) -> None:
    created = _created(api, "ServiceRequest", _service_request(routed))
    other_team = make_team()
    relate(routed, other_team)
    colleague = make_user(Role.DISTRICT_NURSE, teams=[other_team])
    outsider = Api(Client(), issue(colleague))
    created["note"].append({"text": "Triage note: mine"})

    assert outsider.put(f"ServiceRequest/{created['id']}", created).status_code == 404


# -- Bundles and the CapabilityStatement


def test_transaction_creates_a_patient_and_their_care_plan_and_task(
    api: Api, nurse: User, team: Team
) -> None:
    patient_url = "urn:uuid:7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    plan = _care_plan_for(patient_url)
    task = {**_task(nurse), "for": {"reference": patient_url}}
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": plan, "request": {"method": "POST", "url": "CarePlan"}},
            {
                "fullUrl": patient_url,
                "resource": patient_body(),
                "request": {"method": "POST", "url": "Patient"},
            },
            {"resource": task, "request": {"method": "POST", "url": "Task"}},
        ],
    }

    response = api.post("", bundle)

    assert response.status_code == 200, response.content
    reply = valid(response.json())
    assert [e.response.status[:3] for e in reply.entry] == ["201", "201", "201"]
    person_id = reply.entry[1].resource.id
    assert reply.entry[0].resource.subject.reference == f"Patient/{person_id}"
    assert CarePlan.objects.for_system("test").filter(person_id=person_id).exists()
    assert Task.objects.for_system("test").filter(person_id=person_id).exists()


def _care_plan_for(subject: str) -> dict[str, Any]:
    return {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": subject},
        "note": [{"text": "What matters to me: My garden"}],
    }


def test_transaction_with_a_refused_care_write_keeps_nothing(
    api: Api, nurse: User, cared_for: Person
) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": _care_plan(cared_for), "request": {"method": "POST", "url": "CarePlan"}},
            {
                "resource": _task(nurse, cared_for, priority="urgent"),
                "request": {"method": "POST", "url": "Task"},
            },
        ],
    }

    response = api.post("", bundle)

    assert response.status_code == 422, response.content
    assert not CarePlan.objects.for_system("test").exists()
    assert not ResourceVersion.objects.for_system("test").exists()


def test_capability_statement_lists_writes_for_the_care_types(client: Any) -> None:
    statement = valid(client.get("/fhir/R4/metadata").json())
    interactions = {r.type: {i.code for i in r.interaction} for r in statement.rest[0].resource}

    for name in ("CarePlan", "CareTeam", "Goal", "ServiceRequest", "Task"):
        assert {"create", "update", "vread", "history-instance"} <= interactions[name], name


# -- malformed bodies: always a clear 4xx, never a 5xx

_MANGLED = [
    ("CarePlan", {"note": [{"text": 3}], "goal": [{"reference": 5}]}),
    ("CarePlan", {"goal": [{"reference": "Goal/"}], "activity": [{"detail": {}}]}),
    ("CarePlan", {"subject": {"reference": "Patient/not-a-uuid"}}),
    ("CareTeam", {"participant": [{"role": [{"text": "x (key worker)"}]}], "name": 7}),
    ("CareTeam", {"subject": {"display": "Somebody"}}),
    ("Task", {"owner": {"reference": "Practitioner/99999999999999999999"}, "status": "draft"}),
    ("Task", {"restriction": {"period": {"end": "2026-02-30"}}, "for": {}}),
    ("ServiceRequest", {"code": {"coding": [{}]}, "reasonCode": [{}], "requester": {}}),
    ("ServiceRequest", {"subject": {"reference": "Group/1"}, "priority": None}),
    ("Goal", {"description": {}, "subject": None}),
]


@pytest.mark.parametrize(("resource_type", "mangle"), _MANGLED)
def test_malformed_care_writes_are_client_errors(
    api: Api, nurse: User, team: Team, cared_for: Person, resource_type: str, mangle: Any
) -> None:
    bodies = {
        "CarePlan": _care_plan(cared_for),
        "CareTeam": _care_team(cared_for, team),
        "Task": _task(nurse, cared_for),
        "ServiceRequest": _service_request(cared_for),
        "Goal": {"resourceType": "Goal", "lifecycleStatus": "active"},
    }
    body = {k: v for k, v in {**bodies[resource_type], **mangle}.items() if v is not None}

    created = api.post(resource_type, body)
    updated = api.put(f"{resource_type}/1", {**body, "id": "1"})

    for response in (created, updated):
        assert 400 <= response.status_code < 500, response.content
        valid(response.json())

"""The neighbourhoods JSON API (through ninja's test client on the router) and the FHIR
R4 mappings, each validated with fhir.resources R4B."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from fhir.resources.R4B.careplan import CarePlan as FhirCarePlan
from fhir.resources.R4B.careteam import CareTeam as FhirCareTeam
from fhir.resources.R4B.servicerequest import ServiceRequest as FhirServiceRequest
from fhir.resources.R4B.task import Task as FhirTask
from ninja.testing import TestClient

from joinedup.core.errors import NoRelationship
from joinedup.neighbourhoods import fhir_mapping, services
from joinedup.neighbourhoods.api import router
from joinedup.neighbourhoods.errors import FieldProblems
from joinedup.neighbourhoods.models import Referral
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db

api = TestClient(router)
API_REFERRAL = {
    "referrer_name": "Dr Patel",
    "referrer_contact": "0161 000 0000",
    "given_name": "Edith",
    "family_name": "Api",
    "date_of_birth": "1936-04-03",
    "postcode": "SK1 3XE",
    "need": "nursing",
    "urgency": "urgent",
    "reason": "Catheter problem since this morning.",
    "consent": True,
}


def test_api_front_door_routes_and_reports_history(place) -> None:
    made = api.post("/referrals", json=API_REFERRAL, user=place.gp)
    assert made.status_code == 201
    body = made.json()
    assert body["team"] == "Central INT"
    assert body["status"] == "received"

    api.post(f"/referrals/{body['id']}/triage", json={"note": "DN today"}, user=place.nurse)
    redirected = api.post(
        f"/referrals/{body['id']}/redirect",
        json={"team_id": place.heatons.pk, "reason": "Moved to Heatons"},
        user=place.nurse,
    )

    assert redirected.json()["team"] == "Heatons INT"
    seen = api.get(f"/referrals/{body['id']}", user=place.gp).json()
    assert [e["status"] for e in seen["history"]] == ["received", "triaged", "redirected"]


def test_api_bad_referral_names_the_field_and_keeps_a_draft(place) -> None:
    with pytest.raises(FieldProblems) as caught:
        api.post("/referrals", json={**API_REFERRAL, "postcode": "nowhere"}, user=place.gp)
    assert caught.value.where == "postcode"
    assert Referral.objects.for_system("test").get().status == "draft"


def test_api_care_plan_conflict_returns_the_merge(
    place, make_person: Callable[..., Person], relate: Callable[..., object]
) -> None:
    person = make_person()
    relate(person, place.central)
    url = f"/people/{person.id}/care-plan"
    plan = {"version": 0, "what_matters": "My garden", "goals": [{"text": "Plant bulbs"}]}

    first = api.put(url, json=plan, user=place.nurse)
    second = api.put(url, json={**plan, "version": 1, "contingency": "Call Ann"}, user=place.nurse)
    stale = api.put(url, json={**plan, "version": 1, "what_matters": "My roses"}, user=place.gp)

    assert first.status_code == 200
    assert first.json()["version"] == 1
    assert second.json()["version"] == 2
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert stale.json()["merged"]["what_matters"] == "My roses"
    assert stale.json()["merged"]["contingency"] == "Call Ann"
    assert api.get(url, user=place.nurse).json()["contingency"] == "Call Ann"


def test_api_care_plan_refuses_a_stranger(place, make_person: Callable[..., Person]) -> None:
    person = make_person()
    with pytest.raises(NoRelationship):
        api.get(f"/people/{person.id}/care-plan", user=place.nurse)


def test_api_worklist_and_reassign(place) -> None:
    task = services.task_create(
        user=place.nurse,
        team=place.central,
        owner=place.nurse,
        title="Visit",
        due_on=date(2026, 1, 1),
    )
    assert [t["title"] for t in api.get("/tasks", user=place.nurse).json()] == ["Visit"]
    moved = api.post(
        f"/tasks/{task.pk}/reassign", json={"owner_id": place.socialworker.pk}, user=place.nurse
    )
    assert moved.json()["owner_id"] == place.socialworker.pk


def test_fhir_mappings_validate_as_r4(
    place, make_person: Callable[..., Person], relate: Callable[..., object]
) -> None:
    person = make_person()
    relate(person, place.central)
    plan = services.careplan_save(
        user=place.nurse,
        person_id=person.id,
        base_version=0,
        content={
            "what_matters": "Seeing my grandchildren",
            "goals": [{"text": "Walk to the park"}],
            "actions": [
                {
                    "text": "Physio twice a week",
                    "responsible": "Olu Adeyemi",
                    "organisation": "Community services",
                }
            ],
            "contingency": "Call the district nurses",
            "review_on": "2026-06-01",
        },
    )
    task = services.task_create(
        user=place.nurse,
        team=place.central,
        owner=place.socialworker,
        title="Carers assessment",
        due_on=date(2026, 2, 1),
        person=person,
    )
    draft = services.referral_draft_save(
        form={
            "given_name": "Edith",
            "family_name": "Fhir",
            "dob-day": "3",
            "dob-month": "4",
            "dob-year": "1936",
            "postcode": "SK1 3XE",
            "need": "frailty",
            "urgency": "routine",
            "safeguarding": "yes",
            "reason": "Falls and weight loss",
            "consent": "no",
            "referrer_name": "Jo",
            "referrer_contact": "x",
        },
        user=place.gp,
    )
    referral = services.referral_submit(referral=draft, user=place.gp)

    careplan = FhirCarePlan.model_validate(fhir_mapping.careplan_to_fhir(plan))
    careteam = FhirCareTeam.model_validate(
        fhir_mapping.careteam_to_fhir(
            person_id=person.id,
            team=place.central,
            members=[place.nurse, place.socialworker],
            key_worker=place.nurse,
        )
    )
    fhir_task = FhirTask.model_validate(fhir_mapping.task_to_fhir(task))
    request = FhirServiceRequest.model_validate(fhir_mapping.servicerequest_to_fhir(referral))

    assert careplan.subject.reference == f"Patient/{person.id}"
    assert careplan.meta.versionId == "1"
    assert len(careplan.activity) == 1
    assert careplan.goal[0].reference == f"Goal/{plan.pk}-{plan.goals[0]['id']}"
    assert careplan.goal[0].display == "Walk to the park"
    assert careplan.contributor[0].reference == f"Practitioner/{place.nurse.pk}"
    assert careteam.participant[0].role[0].text.endswith("(key worker)")
    assert careteam.participant[0].member.reference == f"Practitioner/{place.nurse.pk}"
    assert fhir_task.status == "requested"
    assert fhir_task.owner.display == "Sam Walsh"
    assert fhir_task.owner.reference == f"Practitioner/{place.socialworker.pk}"
    assert request.priority == "routine"
    assert request.performer[0].display == "Central INT"
    assert request.subject.display == "Edith FHIR"


def test_fhir_facade_serves_care_plans_and_tasks_to_the_care_team_only(
    place, make_person: Callable[..., Person], relate: Callable[..., object]
) -> None:
    from django.test import Client

    from joinedup.fhir.services import token_issue

    person = make_person()
    relate(person, place.central)
    plan = services.careplan_save(
        user=place.nurse,
        person_id=person.id,
        base_version=0,
        content={
            "what_matters": "Staying at home",
            "goals": [],
            "actions": [],
            "contingency": "",
            "review_on": "2026-06-01",
        },
    )
    services.task_create(
        user=place.nurse,
        team=place.central,
        owner=place.socialworker,
        title="Check the stairlift",
        due_on=date(2026, 2, 1),
        person=person,
    )

    def fhir(user: object, url: str) -> dict[str, object]:
        token = token_issue(user=user, scopes="user/*.read").token
        response = Client().get(
            f"/fhir/R4/{url}",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_ACCEPT="application/fhir+json",
        )
        body: dict[str, object] = response.json()
        body["_status"] = response.status_code
        return body

    entry = services.caseload_add(
        user=place.nurse, team=place.central, person_id=person.id, reason="Frailty"
    )
    care_team = fhir(place.nurse, f"CareTeam?patient={person.id}")
    read = fhir(place.nurse, f"CarePlan/{plan.pk}")
    tasks = fhir(place.nurse, f"Task?patient={person.id}&status=requested")
    types = {r["type"] for r in fhir(place.nurse, "metadata")["rest"][0]["resource"]}  # type: ignore[index]
    stranger = fhir(place.ot, f"CarePlan/{plan.pk}")  # in the other neighbourhood's team

    assert read["_status"] == 200
    assert FhirCarePlan.model_validate({k: v for k, v in read.items() if k != "_status"})
    entries = tasks["entry"]
    assert isinstance(entries, list)
    assert [e["resource"]["description"] for e in entries] == ["Check the stairlift"]
    assert {"CarePlan", "CareTeam", "Task", "ServiceRequest"} <= types
    teams = care_team["entry"]
    assert isinstance(teams, list)
    assert [e["resource"]["id"] for e in teams] == [str(entry.pk)]
    assert FhirCareTeam.model_validate(teams[0]["resource"])
    assert teams[0]["resource"]["name"] == place.central.name
    assert stranger["_status"] == 404  # not hers to see: as if it did not exist

"""Goal: each goal of a shared care plan, scoped and audited as the plan is, and paged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from tests.integration.fhir.conftest import Api, valid

from joinedup.core.models import AuditEvent, Team, User
from joinedup.core.roles import Role
from joinedup.fhir.search import encode_cursor
from joinedup.neighbourhoods import services
from joinedup.neighbourhoods.models import CarePlan
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


def _plan(user: User, person: Person, goals: list[dict[str, str]], version: int = 0) -> CarePlan:
    return services.careplan_save(
        user=user,
        person_id=person.id,
        base_version=version,
        content={
            "what_matters": "Staying at home",
            "goals": goals,
            "actions": [],
            "contingency": "",
            "review_on": None,
        },
    )


@pytest.fixture
def plan(nurse: User, cared_for: Person) -> CarePlan:
    return _plan(
        nurse,
        cared_for,
        [{"id": "walk", "text": "Walk to the park"}, {"id": "cook", "text": "Cook a meal"}],
    )


def _matches(api: Api, query: str) -> dict[str, Any]:
    response = api.get(query)
    assert response.status_code == 200, response.content
    bundle: dict[str, Any] = response.json()
    valid(bundle)
    return bundle


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def test_care_plan_goal_references_resolve_to_goals_and_reads_are_audited(
    api: Api, nurse: User, cared_for: Person, plan: CarePlan
) -> None:
    care_plan = valid(api.get(f"CarePlan/{plan.pk}").json())

    references = [g.reference for g in care_plan.goal]
    goals = [api.get(reference) for reference in references]

    assert references == [f"Goal/{plan.pk}-walk", f"Goal/{plan.pk}-cook"]
    assert [r.status_code for r in goals] == [200, 200]
    first = valid(goals[0].json())
    assert first.lifecycleStatus == "active"
    assert first.description.text == "Walk to the park"
    assert first.subject.reference == f"Patient/{cared_for.id}"
    assert AuditEvent.objects.filter(
        actor_id=nurse.id, person_id=cared_for.id, action="read", resource="fhir.Goal"
    ).exists()


def test_stranger_is_refused_audited_and_finds_no_goals(
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    cared_for: Person,
    plan: CarePlan,
    issue: Callable[..., str],
) -> None:
    stranger = make_user(Role.GP, teams=[make_team()])
    api = Api(Client(), issue(stranger))

    response = api.get(f"Goal/{plan.pk}-walk")

    assert response.status_code == 403
    assert "Walk to the park" not in response.content.decode()
    assert AuditEvent.objects.filter(actor_id=stranger.id, action="deny").exists()
    assert _matches(api, f"Goal?patient={cared_for.id}")["total"] == 0
    assert _matches(api, "Goal")["total"] == 0
    assert not AuditEvent.objects.filter(
        actor_id=stranger.id, person_id=cared_for.id, action="read"
    ).exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lifecycle-status=active", ["walk", "cook"]),
        ("lifecycle-status=http://hl7.org/fhir/goal-status|active", ["walk", "cook"]),
        ("lifecycle-status=completed", []),
        ("lifecycle-status:not=active", []),
        ("lifecycle-status:missing=false", ["walk", "cook"]),
        ("_id={plan}-cook", ["cook"]),
        ("_id:not={plan}-cook", ["walk"]),
        ("_id=nonsense", []),
        ("subject=Patient/{person}", ["walk", "cook"]),
        ("_lastUpdated=ge2000-01-01", ["walk", "cook"]),
        ("_lastUpdated=lt2000-01-01", []),
    ],
)
def test_goal_search_parameters(
    api: Api, cared_for: Person, plan: CarePlan, query: str, expected: list[str]
) -> None:
    found = _matches(
        api, f"Goal?patient={cared_for.id}&" + query.format(plan=plan.pk, person=cared_for.id)
    )

    assert _ids(found) == [f"{plan.pk}-{key}" for key in expected]
    assert found["total"] == len(expected)


def test_goal_pages_cross_plans_without_repeats_or_gaps(
    api: Api,
    nurse: User,
    cared_for: Person,
    plan: CarePlan,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    team: Team,
) -> None:
    other = make_person()
    relate(other, team)
    second = _plan(nurse, other, [{"id": f"g{n}", "text": f"Goal {n}"} for n in range(3)])

    seen: list[str] = []
    page = _matches(api, "Goal?_count=2")
    while True:
        seen += _ids(page)
        assert page["total"] == 5
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        page = _matches(api, following[0].split("/fhir/R4/", 1)[1])

    assert seen == [f"{plan.pk}-walk", f"{plan.pk}-cook"] + [f"{second.pk}-g{n}" for n in range(3)]


def test_goal_taken_out_of_the_plan_is_gone_and_odd_ids_stay_readable(
    api: Api, nurse: User, cared_for: Person, plan: CarePlan
) -> None:
    _plan(nurse, cared_for, [{"id": "a goal/with spaces", "text": "Sleep well"}], version=1)

    care_plan = valid(api.get(f"CarePlan/{plan.pk}").json())
    reference = care_plan.goal[0].reference

    assert api.get(f"Goal/{plan.pk}-walk").status_code == 404
    assert reference.startswith(f"Goal/{plan.pk}-sha-")
    assert valid(api.get(reference).json()).description.text == "Sleep well"
    assert api.get("Goal/not-a-goal").status_code == 404


def test_goals_are_in_everything_and_include_their_patient(
    api: Api, cared_for: Person, plan: CarePlan
) -> None:
    everything = _matches(api, f"Patient/{cared_for.id}/$everything")
    included = _matches(api, f"Goal?_id={plan.pk}-walk&_include=Goal:patient")
    reverse = _matches(api, f"Patient?_id={cared_for.id}&_revinclude=Goal:subject")

    types = [e["resource"]["resourceType"] for e in everything["entry"]]
    assert types.count("Goal") == 2
    assert [e["resource"]["resourceType"] for e in included["entry"]] == ["Goal", "Patient"]
    assert sorted(e["resource"]["id"] for e in reverse["entry"][1:]) == sorted(
        [f"{plan.pk}-walk", f"{plan.pk}-cook"]
    )


def test_goal_pages_sorted_by_last_updated_resume_inside_a_plan(
    api: Api,
    nurse: User,
    plan: CarePlan,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    team: Team,
) -> None:
    other = make_person()
    relate(other, team)
    newer = _plan(nurse, other, [{"id": f"g{n}", "text": f"Goal {n}"} for n in range(3)])

    seen: list[str] = []
    query = "Goal?_count=1&_sort=-_lastUpdated"
    while query:
        page = _matches(api, query)
        seen += _ids(page)
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        query = following[0].split("/fhir/R4/", 1)[1] if following else ""

    assert seen == [f"{newer.pk}-g{n}" for n in range(3)] + [f"{plan.pk}-walk", f"{plan.pk}-cook"]


@pytest.mark.parametrize(
    "cursor",
    [[], [1], ["x", 0], [1, -1], [1, True], [1.5, 0], [None, 0], ["2024-01-01", 1, 0], [1, "0"]],
)
def test_forged_goal_cursor_is_a_clear_400(api: Api, plan: CarePlan, cursor: list[Any]) -> None:
    response = api.get(f"Goal?_cursor={encode_cursor(cursor)}")

    assert response.status_code == 400, response.content
    assert valid(response.json()).issue[0].expression == ["_cursor"]


# -- writes: a Goal is written by saving its care plan


def _goal(person: Person, text: str = "Sleep through the night", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Goal",
        "lifecycleStatus": "active",
        "description": {"text": text},
        "subject": {"reference": f"Patient/{person.id}"},
    }
    body.update(extra)
    return body


def test_goal_create_update_versions_and_the_plan_follows(
    api: Api, nurse: User, cared_for: Person, plan: CarePlan
) -> None:
    created = api.post("Goal", _goal(cared_for))

    assert created.status_code == 201, created.content
    goal = created.json()
    valid(goal)
    url = f"Goal/{goal['id']}"
    assert created["ETag"] == 'W/"1"'
    assert created["Location"].endswith(f"/{url}/_history/1")
    assert goal["id"].startswith(f"{plan.pk}-")
    assert api.get(url).json() == goal
    plan.refresh_from_db()
    assert [g["text"] for g in plan.goals] == [
        "Walk to the park",
        "Cook a meal",
        "Sleep through the night",
    ]
    assert plan.version == 2
    assert AuditEvent.objects.filter(
        action="create", resource="fhir.Goal", person_id=cared_for.id
    ).exists()

    changed = {**goal, "description": {"text": "Sleep well"}}
    updated = api.put(url, changed, HTTP_IF_MATCH='W/"1"')
    stale = api.put(url, changed, HTTP_IF_MATCH='W/"1"')

    assert updated.status_code == 200, updated.content
    assert updated["ETag"] == 'W/"2"'
    assert stale.status_code == 412
    plan.refresh_from_db()
    assert plan.goals[2]["text"] == "Sleep well"
    assert valid(api.get(f"{url}/_history/1").json()).description.text == "Sleep through the night"
    history = valid(api.get(f"{url}/_history").json())
    assert [e.resource.meta.versionId for e in history.entry] == ["2", "1"]
    found = _matches(api, f"Goal?_id={goal['id']}")
    assert found["entry"][0]["resource"]["meta"]["versionId"] == "2"  # searches show it too


def test_goal_never_written_gets_its_first_version_kept_on_update(
    api: Api, cared_for: Person, plan: CarePlan
) -> None:
    url = f"Goal/{plan.pk}-walk"
    body = {**api.get(url).json(), "description": {"text": "Walk to the river"}}

    updated = api.put(url, body, HTTP_IF_MATCH='W/"1"')

    assert updated.status_code == 200, updated.content
    assert updated["ETag"] == 'W/"2"'
    assert valid(api.get(f"{url}/_history/1").json()).description.text == "Walk to the park"
    assert api.get(f"Goal/{plan.pk}-cook")["ETag"] == 'W/"1"'  # never written: version 1


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"lifecycleStatus": "completed"}, "Goal.lifecycleStatus"),
        ({"description": {"text": "x", "coding": [{"code": "1"}]}}, "Goal.description.coding"),
        ({"priority": {"text": "high"}}, "Goal.priority"),
        ({"note": [{"text": "Said on the phone"}]}, "Goal.note"),
        ({"description": {"text": "  "}}, "Goal.description.text"),
    ],
)
def test_goal_what_the_plan_cannot_hold_is_refused(
    api: Api, cared_for: Person, plan: CarePlan, change: dict[str, Any], where: str
) -> None:
    refused = api.post("Goal", _goal(cared_for, **change))

    assert refused.status_code == 422, refused.content
    assert valid(refused.json()).issue[0].expression[0].startswith(where)
    plan.refresh_from_db()
    assert plan.version == 1


def test_goal_for_a_person_without_a_plan_is_refused(api: Api, cared_for: Person) -> None:
    refused = api.post("Goal", _goal(cared_for))

    assert refused.status_code == 422
    assert valid(refused.json()).issue[0].expression == ["Goal.subject"]


def test_goal_write_by_a_stranger_is_refused_and_audited(
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    cared_for: Person,
    plan: CarePlan,
    issue: Callable[..., str],
) -> None:
    stranger = make_user(Role.DISTRICT_NURSE, teams=[make_team()])
    api = Api(Client(), issue(stranger))
    body = {**_goal(cared_for), "id": f"{plan.pk}-walk"}

    created = api.post("Goal", _goal(cared_for))
    updated = api.put(f"Goal/{plan.pk}-walk", body)

    assert (created.status_code, updated.status_code) == (403, 403)
    assert (
        AuditEvent.objects.filter(actor_id=stranger.id, action="deny", resource="fhir.Goal").count()
        >= 2
    )
    plan.refresh_from_db()
    assert [g["text"] for g in plan.goals] == ["Walk to the park", "Cook a meal"]


def test_goal_in_a_transaction_with_its_care_plan_edit(
    api: Api, cared_for: Person, plan: CarePlan
) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": _goal(cared_for, "Garden again"),
                "request": {"method": "POST", "url": "Goal"},
            },
            {
                "resource": _goal(cared_for, "Go to church"),
                "request": {"method": "POST", "url": "Goal"},
            },
        ],
    }

    response = api.post("", bundle)

    assert response.status_code == 200, response.content
    reply = valid(response.json())
    assert [e.response.status[:3] for e in reply.entry] == ["201", "201"]
    plan.refresh_from_db()
    assert [g["text"] for g in plan.goals][-2:] == ["Garden again", "Go to church"]

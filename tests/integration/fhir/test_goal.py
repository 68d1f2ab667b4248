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

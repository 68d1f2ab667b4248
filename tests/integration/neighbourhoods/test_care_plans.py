"""Care plans: versioned saves, conflicts with a three-way merge, never a silent overwrite,
proved with 50 practitioners saving at once (threads, real transactions)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from joinedup.core.models import User
from joinedup.neighbourhoods import services
from joinedup.neighbourhoods.errors import FieldProblems, PlanConflict
from joinedup.neighbourhoods.models import CarePlan, CarePlanVersion
from joinedup.people.models import Person

BASE: dict[str, Any] = {
    "what_matters": "Staying in my own home with my cat.",
    "goals": [{"id": "g1", "text": "Walk to the shop"}],
    "actions": [],
    "contingency": "Call my daughter",
    "review_on": "2026-06-01",
}


def _plan(user: User, person: Person) -> CarePlan:
    return services.careplan_save(user=user, person_id=person.id, base_version=0, content=BASE)


@pytest.mark.django_db
def test_care_plan_saves_new_versions_and_keeps_history(
    place, make_person: Callable[..., Person], relate: Callable[..., object]
) -> None:
    person = make_person()
    relate(person, place.central)
    plan = _plan(place.nurse, person)

    again = services.careplan_save(
        user=place.gp,
        person_id=person.id,
        base_version=1,
        content={**BASE, "contingency": "Call 111"},
    )

    assert again.version == 2
    assert again.contingency == "Call 111"
    versions = CarePlanVersion.objects.filter(plan=plan).order_by("version")
    assert [v.content["contingency"] for v in versions] == ["Call my daughter", "Call 111"]


@pytest.mark.django_db
def test_second_editor_gets_a_conflict_with_a_merge_not_an_overwrite(
    place, make_person: Callable[..., Person], relate: Callable[..., object]
) -> None:
    person = make_person()
    relate(person, place.central)
    _plan(place.nurse, person)
    services.careplan_save(
        user=place.nurse,
        person_id=person.id,
        base_version=1,
        content={**BASE, "contingency": "Call 111"},
    )

    with pytest.raises(PlanConflict) as caught:
        services.careplan_save(
            user=place.gp,
            person_id=person.id,
            base_version=1,
            content={**BASE, "what_matters": "My cat and my garden.", "contingency": "Call the GP"},
        )

    merge = caught.value.merge
    assert caught.value.current_version == 2
    assert merge.merged["what_matters"] == "My cat and my garden."  # only the GP changed it
    assert [c.field for c in merge.clashes] == ["contingency"]  # both changed it
    assert CarePlan.objects.for_system("test").get(person=person).contingency == "Call 111"


@pytest.mark.django_db
def test_care_plan_page_shows_the_conflict_and_saves_the_chosen_merge(
    place,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
) -> None:
    person = make_person()
    relate(person, place.central)
    _plan(place.nurse, person)
    services.careplan_save(
        user=place.nurse,
        person_id=person.id,
        base_version=1,
        content={**BASE, "contingency": "Call 111"},
    )
    url = f"/neighbourhoods/people/{person.id}/care-plan/"
    form = {
        "version": "1",
        "clashes": "[]",
        "what_matters": BASE["what_matters"],
        "goal_count": "1",
        "goal-0-id": "g1",
        "goal-0": "Walk to the shop",
        "action_count": "1",
        "action-0-id": "",
        "action-0-text": "Fit a key safe",
        "action-0-responsible": "Olu Adeyemi",
        "action-0-organisation": "Community services",
        "contingency": "Call the GP",
        "review_on": "2026-06-01",
    }
    client = signed_in(place.gp)

    conflict = client.post(url, form)
    body = conflict.content.decode()
    assert conflict.status_code == 409
    assert "Someone else saved this plan" in body
    assert "Use my version: Call the GP" in body
    clashes = body.split('name="clashes" value="')[1].split('"')[0].replace("&#34;", '"')
    resolved = client.post(url, {**form, "version": "2", "clashes": clashes, "clash-0": "mine"})

    assert resolved.status_code == 200
    plan = CarePlan.objects.for_system("test").get(person=person)
    assert plan.version == 3
    assert plan.contingency == "Call the GP"
    assert [a["text"] for a in plan.actions] == ["Fit a key safe"]


@pytest.mark.django_db
def test_care_plan_needs_what_matters_and_complete_actions(
    place, make_person: Callable[..., Person], relate: Callable[..., object]
) -> None:
    person = make_person()
    relate(person, place.central)
    with pytest.raises(FieldProblems) as caught:
        services.careplan_save(
            user=place.nurse,
            person_id=person.id,
            base_version=0,
            content={**BASE, "what_matters": " ", "actions": [{"text": "Key safe"}]},
        )
    fields = [f for f, _ in caught.value.problems]
    assert fields == ["action-0-responsible", "action-0-organisation", "what_matters"]
    assert not CarePlan.objects.for_system("test").exists()


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_updates_lose_nothing(
    place, make_person: Callable[..., Person], relate: Callable[..., object]
) -> None:
    person = make_person()
    relate(person, place.central)
    _plan(place.nurse, person)
    writers = 50
    start = threading.Barrier(writers)
    first_round_conflicts: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def save(content: dict[str, Any], version: int) -> None:
        """One save; SQLite's shared-cache in-memory test database reports a table lock at
        once instead of waiting, so only there is a locked attempt tried again."""
        while True:
            try:
                services.careplan_save(
                    user=place.nurse, person_id=person.id, base_version=version, content=content
                )
                return
            except OperationalError as exc:
                if connection.vendor != "sqlite" or "locked" not in str(exc):
                    raise
                time.sleep(random.uniform(0.001, 0.02))

    def write(n: int) -> None:
        try:
            plan = CarePlan.objects.for_system("test").get(person=person)
            content = services.plan_content(plan)
            mine = {
                "id": f"a{n}",
                "text": f"Action {n}",
                "responsible": f"P{n}",
                "organisation": "Org",
            }
            content["actions"] = [*content["actions"], mine]
            version = plan.version
            start.wait(timeout=60)
            for attempt in range(writers + 1):
                try:
                    save(content, version)
                    return
                except PlanConflict as conflict:
                    if attempt == 0:
                        with lock:
                            first_round_conflicts.append(n)
                    if not conflict.merge.clean:  # distinct actions always merge cleanly
                        raise AssertionError(f"writer {n}: {conflict.merge.clashes}") from None
                    content, version = conflict.merge.merged, conflict.current_version
            raise AssertionError(f"writer {n} never saved")
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert failures == []
    assert len(first_round_conflicts) == writers - 1  # all read version 1: one wins, 49 merge
    plan = CarePlan.objects.for_system("test").get(person=person)
    assert plan.version == writers + 1
    assert sorted(a["id"] for a in plan.actions) == sorted(f"a{n}" for n in range(writers))
    assert CarePlanVersion.objects.filter(plan=plan).count() == writers + 1
    assert plan.goals == BASE["goals"]
    assert plan.what_matters == BASE["what_matters"]


@pytest.mark.django_db
def test_care_plan_page_refuses_a_tampered_merge_without_saving(
    place,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
) -> None:
    person = make_person()
    relate(person, place.central)
    url = f"/neighbourhoods/people/{person.id}/care-plan/"
    form = {"version": "0", "what_matters": "Home", "goal_count": "x", "action_count": "0"}

    response = signed_in(place.nurse).post(url, {**form, "clashes": '{"not": "a list"}'})

    assert response.status_code == 400
    assert not CarePlan.objects.for_system("test").exists()

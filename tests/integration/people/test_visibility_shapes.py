"""The access rule gives the same people in both of its SQL shapes.

``PersonQuerySet.visible_to`` writes the rule as ``id IN (caseload)`` for lists and as
correlated ``EXISTS`` probes when the query pins one person or a few (see
``people.models.VisibleTo``). These tests build every case the rule distinguishes and
check both shapes against the rule worked out in Python from the rows themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from joinedup.core.models import BreakGlassGrant, User
from joinedup.core.roles import Role
from joinedup.people.models import (
    CareRelationship,
    Person,
    SourceIdentity,
    person_visibility,
)

pytestmark = pytest.mark.django_db


@dataclass
class Cases:
    user: User
    people: dict[str, Person]
    visible: set[uuid.UUID]


def _expected(user: User) -> set[uuid.UUID]:
    """The rule in Python over every row: live relationship with a team or the user, or a
    live grant."""
    today, now = timezone.localdate(), timezone.now()
    teams = set(user.teams.values_list("id", flat=True))
    out = {
        r.person_id
        for r in CareRelationship.objects.all()
        if r.started_on <= today
        and (r.ended_on is None or r.ended_on >= today)
        and (r.team_id in teams or r.user_id == user.pk)
    }
    out |= {
        g.person_id
        for g in BreakGlassGrant.objects.all()
        if g.user_id == user.pk and g.expires_at > now
    }
    return out


@pytest.fixture
def cases(
    make_user: Callable[..., Any],
    make_team: Callable[..., Any],
    make_person: Callable[..., Any],
    relate: Callable[..., Any],
) -> Cases:
    mine, theirs, also_mine = make_team(), make_team(), make_team()
    nurse = make_user(Role.DISTRICT_NURSE, teams=[mine, also_mine])
    colleague = make_user(Role.DISTRICT_NURSE, teams=[theirs])
    today = timezone.localdate()
    day = timedelta(days=1)
    people = {name: make_person() for name in _NAMES}
    relate(people["team"], mine)
    relate(people["second team"], also_mine)
    relate(people["ends today"], mine, ended_on=today)
    relate(people["ended yesterday"], mine, ended_on=today - day)
    relate(people["starts tomorrow"], mine, started_on=today + day)
    relate(people["started long ago"], mine, started_on=today - 900 * day)
    relate(people["other team"], theirs)
    relate(people["named to me"], theirs, user=nurse)
    relate(people["named to colleague"], mine, user=colleague, ended_on=today - day)
    relate(people["ended, then again"], mine, ended_on=today - 10 * day)
    relate(people["ended, then again"], mine, started_on=today - 2 * day)
    now = timezone.now()
    grant = {"reason": "emergency", "explanation": "test"}
    for name, who, expires in (
        ("live grant", nurse, now + timedelta(hours=1)),
        ("expired grant", nurse, now - timedelta(minutes=1)),
        ("colleague's grant", colleague, now + timedelta(hours=1)),
    ):
        BreakGlassGrant.objects.create(
            user=who, person_id=people[name].id, expires_at=expires, **grant
        )
    return Cases(nurse, people, _expected(nurse))


_NAMES = (
    "team",
    "second team",
    "ends today",
    "ended yesterday",
    "starts tomorrow",
    "started long ago",
    "other team",
    "named to me",
    "named to colleague",
    "ended, then again",
    "live grant",
    "expired grant",
    "colleague's grant",
    "nobody's",
)


def test_visibility_expected_cases_are_the_rule(cases: Cases) -> None:
    seen = {name for name, person in cases.people.items() if person.id in cases.visible}

    assert seen == {
        "team",
        "second team",
        "ends today",
        "started long ago",
        "named to me",
        "ended, then again",
        "live grant",
    }


def test_visibility_list_shape_gives_the_rule(cases: Cases) -> None:
    listed = Person.objects.visible_to(cases.user)

    ids = set(listed.values_list("id", flat=True))

    assert "EXISTS" not in str(listed.query)
    assert ids == cases.visible
    assert listed.count() == len(cases.visible)


def test_visibility_single_shape_gives_the_rule_for_each_person(cases: Cases) -> None:
    for name, person in cases.people.items():
        one = Person.objects.visible_to(cases.user).filter(id=person.id)
        by_number = Person.objects.visible_to(cases.user).filter(nhs_number=person.nhs_number)

        assert "EXISTS" in str(one.query), name
        assert "EXISTS" in str(by_number.query), name
        assert one.exists() == (person.id in cases.visible), name
        assert [p.id for p in by_number] == ([person.id] if person.id in cases.visible else [])


def test_visibility_few_ids_use_the_single_shape_and_many_the_list(cases: Cases) -> None:
    everyone = [p.id for p in cases.people.values()]
    many = everyone + [uuid.uuid4() for _ in range(200)]

    few_query = Person.objects.visible_to(cases.user).filter(id__in=everyone)
    many_query = Person.objects.visible_to(cases.user).filter(id__in=many)

    assert "EXISTS" in str(few_query.query)
    assert "EXISTS" not in str(many_query.query)
    assert set(few_query.values_list("id", flat=True)) == cases.visible
    assert set(many_query.values_list("id", flat=True)) == cases.visible


def test_visibility_or_and_excluded_ids_keep_the_list_shape(cases: Cases) -> None:
    person = cases.people["team"]
    other = cases.people["other team"]

    either = Person.objects.visible_to(cases.user).filter(id=person.id) | (
        Person.objects.visible_to(cases.user).filter(id=other.id)
    )
    without = Person.objects.visible_to(cases.user).exclude(id=person.id)

    assert set(either.values_list("id", flat=True)) == {person.id}
    assert "EXISTS" not in str(without.query)
    assert set(without.values_list("id", flat=True)) == cases.visible - {person.id}


def test_visibility_through_a_relation_gives_the_rule(cases: Cases) -> None:
    now = timezone.now()
    identities = {
        person.id: SourceIdentity.objects.for_system("test").create(
            source="gp", source_id=name, person=person, delivery_id=1, received_at=now
        )
        for name, person in cases.people.items()
    }
    rule = person_visibility(cases.user, via="person_id")
    scoped = SourceIdentity.objects.for_system("test").filter(rule)

    listed = {i.person_id for i in scoped}
    one_by_one = {
        pid for pid, identity in identities.items() if scoped.filter(id=identity.id).exists()
    }
    by_person = {pid for pid in identities if scoped.filter(person_id=pid).exists()}
    nested = set(SourceIdentity.objects.visible_to(cases.user).values_list("person_id", flat=True))

    assert "EXISTS" in str(scoped.filter(person_id=cases.people["team"].id).query)
    assert listed == one_by_one == by_person == nested == cases.visible


def test_visibility_without_the_role_is_nothing_in_either_shape(
    cases: Cases, make_user: Callable[..., Any]
) -> None:
    analyst = make_user(Role.ANALYST, teams=list(cases.user.teams.all()))
    person = cases.people["team"]
    SourceIdentity.objects.for_system("test").create(
        source="gp", source_id="one", person=person, delivery_id=1, received_at=timezone.now()
    )

    rule = person_visibility(analyst, via="person_id")

    assert not Person.objects.visible_to(analyst).exists()
    assert not Person.objects.visible_to(analyst).filter(id=person.id).exists()
    assert not SourceIdentity.objects.for_system("test").filter(rule).exists()
    assert Person.objects.visible_to(cases.user).filter(id=person.id).exists()

"""Ending a care relationship closes the record to the team, once, and is audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from joinedup.core.models import AuditEvent
from joinedup.core.roles import Role
from joinedup.people import services
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


def test_ending_a_relationship_closes_the_record_after_its_last_day(
    make_user: Callable[..., Any],
    make_team: Callable[..., Any],
    make_person: Callable[..., Any],
    relate: Callable[..., Any],
) -> None:
    team = make_team()
    nurse = make_user(Role.DISTRICT_NURSE, teams=[team])
    person = make_person()
    kept = make_person()
    ending = relate(person, team)
    relate(kept, team)
    today = timezone.localdate()

    closed = services.relationships_end(relationship_ids=[ending.pk], ended_on=today)
    still_today = set(Person.objects.visible_to(nurse).values_list("id", flat=True))
    again = services.relationships_end(
        relationship_ids=[ending.pk], ended_on=today - timedelta(days=1)
    )

    assert (closed, again) == (1, 0)
    assert still_today == {person.id, kept.id}  # the last day still counts
    ending.refresh_from_db()
    assert ending.ended_on == today
    assert AuditEvent.objects.filter(person_id=person.id, action="update").count() == 1
    services.relationships_end(relationship_ids=[], ended_on=today)
    ending.ended_on = today - timedelta(days=1)
    ending.save()
    assert set(Person.objects.visible_to(nurse).values_list("id", flat=True)) == {kept.id}

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from joinedup.core.models import AuditEvent, BreakGlassGrant, Team, User
from joinedup.core.roles import Role
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


def test_related_user_sees_the_record_and_the_read_is_audited(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
) -> None:
    team = make_team()
    person = make_person()
    relate(person, team)
    nurse = make_user(Role.DISTRICT_NURSE, teams=[team])

    response = signed_in(nurse).get(reverse("people:detail", kwargs={"person_id": person.id}))

    assert response.status_code == 200
    body = response.content.decode()
    assert person.family_name.upper() in body
    assert "943" in body or person.nhs_number[:3] in body
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(person_id=person.id, action="read", resource="person.record")
    assert (event.actor_id, event.actor_role, event.channel) == (nurse.pk, "district_nurse", "web")
    assert event.request_id == response["X-Request-ID"]


def test_stranger_gets_403_with_break_glass_offer_and_the_denial_is_audited(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    signed_in: Callable[[User], Client],
) -> None:
    person = make_person()
    gp = make_user(Role.GP)

    response = signed_in(gp).get(reverse("people:detail", kwargs={"person_id": person.id}))

    assert response.status_code == 403
    body = response.content.decode()
    assert "Break-glass access" in body
    assert person.family_name not in body
    denial = AuditEvent.objects.get(person_id=person.id, action="deny")
    assert denial.outcome == "denied"
    assert denial.reason == "no legitimate relationship"


def test_break_glass_needs_a_reason_then_opens_the_record_and_is_audited(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    signed_in: Callable[[User], Client],
) -> None:
    person = make_person()
    gp = make_user(Role.GP)
    client = signed_in(gp)
    url = reverse("people:break-glass", kwargs={"person_id": person.id})

    refused = client.post(url, {"reason": "emergency", "explanation": ""})
    assert refused.status_code == 400
    assert not BreakGlassGrant.objects.exists()

    granted = client.post(url, {"reason": "emergency", "explanation": "Collapsed in surgery"})
    assert granted.status_code == 302
    page = client.get(granted["Location"])
    assert page.status_code == 200
    assert "You opened this record without a care relationship" in page.content.decode()
    actions = list(AuditEvent.objects.filter(person_id=person.id).values_list("action", "resource"))
    # the record, then the frailty category read from it for the header (the person is 65+)
    assert actions == [
        ("break_glass", "person.record"),
        ("read", "person.record"),
        ("read", "population.frailty"),
    ]
    assert "Collapsed in surgery" in AuditEvent.objects.get(action="break_glass").reason


def test_roles_without_break_glass_are_not_offered_it(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    signed_in: Callable[[User], Client],
) -> None:
    person = make_person()
    analyst = make_user(Role.ANALYST)
    client = signed_in(analyst)
    page = client.get(reverse("people:detail", kwargs={"person_id": person.id}))
    assert page.status_code == 403
    assert "Break-glass" not in page.content.decode()
    attempt = client.post(
        reverse("people:break-glass", kwargs={"person_id": person.id}),
        {"reason": "emergency", "explanation": "I would like to look"},
    )
    assert attempt.status_code == 403
    assert not BreakGlassGrant.objects.exists()


def test_break_glass_review_by_an_administrator(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    signed_in: Callable[[User], Client],
) -> None:
    person = make_person()
    gp = make_user(Role.GP)
    signed_in(gp).post(
        reverse("people:break-glass", kwargs={"person_id": person.id}),
        {"reason": "safeguarding", "explanation": "Safeguarding strategy meeting"},
    )
    grant = BreakGlassGrant.objects.get()
    admin = make_user(Role.ADMINISTRATOR)
    client = signed_in(admin)

    listing = client.get(reverse("core:break-glass-reviews"))
    assert "Safeguarding strategy meeting" in listing.content.decode()
    done = client.post(
        reverse("core:break-glass-review", kwargs={"grant_id": grant.id}),
        {"outcome": "appropriate", "note": "Checked with the safeguarding lead"},
    )

    assert done.status_code == 302
    grant.refresh_from_db()
    assert (grant.outcome, grant.reviewed_by) == ("appropriate", admin)
    assert AuditEvent.objects.filter(action="review", person_id=person.id).exists()


def test_caseload_lists_only_related_people(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
) -> None:
    team = make_team()
    mine, other = make_person(), make_person()
    relate(mine, team)
    response = signed_in(make_user(Role.GP, teams=[team])).get(reverse("people:list"))
    body = response.content.decode()
    assert mine.family_name.upper() in body
    assert other.family_name.upper() not in body
    assert AuditEvent.objects.filter(action="search", resource="person.caseload").exists()


def test_api_person_summary_is_scoped_and_audited_as_api(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
) -> None:
    team = make_team()
    person, stranger = make_person(), make_person()
    relate(person, team)
    client = signed_in(make_user(Role.SOCIAL_WORKER, teams=[team]))

    ok = client.get(f"/api/people/{person.id}")
    refused = client.get(f"/api/people/{stranger.id}")

    assert ok.status_code == 200
    assert ok.json()["nhs_number"] == person.nhs_number
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert AuditEvent.objects.get(person_id=person.id, action="read").channel == "api"
    assert AuditEvent.objects.get(person_id=stranger.id, action="deny").channel == "api"

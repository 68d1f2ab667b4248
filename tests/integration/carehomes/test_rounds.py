"""The weekly home round list: residents behind the access boundary, audited, prioritised;
and the care-home flag for the person header."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from joinedup.carehomes.models import CareHome
from joinedup.carehomes.selectors import LIVES_IN_CARE_HOME, care_home_residents, round_list
from joinedup.core.models import AuditEvent, Organisation, Team, User
from joinedup.core.roles import Role
from joinedup.errors import AccessDenied
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(
    make_home: Callable[..., CareHome],
    make_practice: Callable[..., Organisation],
    make_resident: Callable[..., Person],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    make_user: Callable[..., User],
    relate: Callable[..., Any],
) -> dict[str, Any]:
    practice = make_practice()
    home = make_home(practice=practice, name="Primrose Court")
    other_home = make_home(name="Other Home")
    team = make_team()
    quiet = make_resident(home, family_name="Quietresident")
    fallen = make_resident(home, family_name="Fallenresident")
    stranger = make_resident(home, family_name="Strangerresident")
    elsewhere = make_resident(other_home, family_name="Elsewhereresident")
    neighbour = make_person(family_name="Neighbour", postcode=home.postcode, address="2 Lane")
    for person in (quiet, fallen, elsewhere, neighbour):
        relate(person, team)
    gp = make_user(Role.GP, teams=[team])
    return {
        "practice": practice,
        "home": home,
        "quiet": quiet,
        "fallen": fallen,
        "stranger": stranger,
        "elsewhere": elsewhere,
        "neighbour": neighbour,
        "gp": gp,
    }


def test_round_list_shows_only_visible_residents_of_aligned_homes(scene: dict[str, Any]) -> None:
    listing = round_list(
        user=scene["gp"], practice_code=scene["practice"].ods_code, on=timezone.localdate()
    )

    ids = {e.person_id for e in listing.entries}
    assert ids == {scene["quiet"].id, scene["fallen"].id}
    assert listing.hidden == 1  # the stranger: counted, never shown


def test_round_list_puts_recent_events_first_and_says_why(
    scene: dict[str, Any], add_fact: Callable[..., Any]
) -> None:
    fallen, quiet = scene["fallen"], scene["quiet"]
    add_fact(fallen, "condition", 10, code="1912002")
    add_fact(fallen, "condition", 5, code=LIVES_IN_CARE_HOME)
    add_fact(fallen, "admission", 8, ended_at=timezone.now() - dt.timedelta(days=3))
    add_fact(fallen, "encounter", 3)
    add_fact(quiet, "encounter", 20)

    listing = round_list(
        user=scene["gp"], practice_code=scene["practice"].ods_code, on=timezone.localdate()
    )

    first, second = listing.entries
    assert first.person_id == fallen.id
    assert first.score == 5 + 4 + 3
    assert any("Discharged from hospital" in r for r in first.reasons)
    assert any("New to the home" in r for r in first.reasons)
    assert any("Fall recorded" in r for r in first.reasons)
    assert second.person_id == quiet.id
    assert second.reasons == []


def test_round_list_flags_overdue_reviews(
    scene: dict[str, Any], add_fact: Callable[..., Any]
) -> None:
    add_fact(scene["quiet"], "encounter", 400)

    listing = round_list(
        user=scene["gp"], practice_code=scene["practice"].ods_code, on=timezone.localdate()
    )

    quiet = next(e for e in listing.entries if e.person_id == scene["quiet"].id)
    assert any("Review overdue" in r for r in quiet.reasons)


def test_round_list_audits_each_resident_shown(scene: dict[str, Any]) -> None:
    round_list(user=scene["gp"], practice_code=scene["practice"].ods_code, on=timezone.localdate())

    read = set(
        AuditEvent.objects.filter(resource="carehomes.round_list", action="read").values_list(
            "person_id", flat=True
        )
    )
    assert read == {scene["quiet"].id, scene["fallen"].id}
    assert AuditEvent.objects.filter(resource="carehomes.round_list", action="search").count() == 1


def test_round_list_page_and_download(
    scene: dict[str, Any], signed_in: Callable[[User], Client]
) -> None:
    client = signed_in(scene["gp"])
    url = f"/care-homes/rounds/{scene['practice'].ods_code}/"

    page = client.get(url)
    download = client.get(url + "?format=csv")
    bad = client.get(url + "?on=yesterday")

    body = page.content.decode()
    assert page.status_code == 200
    assert "QUIETRESIDENT" in body
    assert "STRANGERRESIDENT" not in body
    assert "1 more residents" in body
    assert "QUIETRESIDENT" in download.content.decode("utf-8-sig")
    assert AuditEvent.objects.filter(resource="carehomes.round_list", action="export").exists()
    assert bad.status_code == 400
    assert 'href="#on"' in bad.content.decode()
    picker = client.get(f"/care-homes/rounds/?practice={scene['practice'].ods_code}")
    assert picker.status_code == 302
    assert client.get("/care-homes/rounds/?practice=a/b").status_code == 404
    assert client.get("/care-homes/rounds/NOSUCH1/").status_code == 404


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ADMINISTRATOR, Role.PORTFOLIO_OFFICER])
def test_round_list_is_refused_to_roles_without_direct_care(
    role: Role,
    scene: dict[str, Any],
    make_user: Callable[..., User],
    signed_in: Callable[[User], Client],
) -> None:
    user = make_user(role)

    response = signed_in(user).get(f"/care-homes/rounds/{scene['practice'].ods_code}/")

    assert response.status_code == 403
    assert "QUIETRESIDENT" not in response.content.decode()
    with pytest.raises(AccessDenied):
        round_list(user=user, practice_code=scene["practice"].ods_code, on=timezone.localdate())


def test_care_home_residents_names_the_home_of_residents_only(scene: dict[str, Any]) -> None:
    ids = [scene[k].id for k in ("quiet", "elsewhere", "neighbour")]

    found = care_home_residents(ids)

    assert found == {scene["quiet"].id: "Primrose Court", scene["elsewhere"].id: "Other Home"}
    assert care_home_residents([]) == {}


def test_round_list_warns_when_the_record_is_behind(
    scene: dict[str, Any], add_fact: Callable[..., Any], signed_in: Callable[[User], Client]
) -> None:
    add_fact(scene["quiet"], "encounter", 30)
    url = f"/care-homes/rounds/{scene['practice'].ods_code}/"

    behind = signed_in(scene["gp"]).get(url).content.decode()
    as_then = signed_in(scene["gp"]).get(
        url + f"?on={timezone.localdate() - dt.timedelta(days=30)}"
    )

    assert "The record is not up to date" in behind
    assert "The record is not up to date" not in as_then.content.decode()

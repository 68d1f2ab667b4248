"""The discharge JSON API through ninja's test client on the router: the board and a
stay's live updates, with the web pages' access rules and audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from ninja.testing import TestClient

from joinedup.core.models import AuditEvent, Team, User
from joinedup.core.roles import Role
from joinedup.discharge import services
from joinedup.discharge.api import router
from joinedup.discharge.models import Stay
from joinedup.errors import AccessDenied, InvalidInput
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db
api = TestClient(router)


@pytest.fixture
def inpatient(make_person: Callable[..., Person], hub: Team) -> Stay:
    stay = Stay.objects.create(
        spell_id="API1",
        person=make_person(family_name="Apiwaiting"),
        ward_code="W7",
        ward_name="Frailty unit",
        admitted_at=timezone.now() - timedelta(days=9),
    )
    services._hub_access_start([stay], [hub])
    return stay


def test_api_updates_a_stay_and_the_board_shows_it(coordinator: User, inpatient: Stay) -> None:
    ready = (timezone.localdate() - timedelta(days=4)).isoformat()
    url = f"/stays/{inpatient.pk}"

    assert api.get("/board", user=coordinator).json() == []  # nobody ready yet
    api.post(f"{url}/criteria", json={"on": ready, "meets": False}, user=coordinator)
    api.post(f"{url}/pathway", json={"pathway": 3, "on": ready}, user=coordinator)
    done = api.post(
        f"{url}/delay-reasons",
        json={"code": "p3_capacity", "started_on": ready, "note": "two homes asked"},
        user=coordinator,
    )

    assert done.status_code == 200
    stay = done.json()
    assert (stay["ready_on"], stay["pathway"]) == (ready, 3)
    assert [r["code"] for r in stay["reasons"]] == ["p3_capacity"]
    rows = api.get("/board?ward=W7", user=coordinator).json()
    assert [r["stay_id"] for r in rows] == [inpatient.pk]
    row = rows[0]
    assert row["days_waiting"] == 4
    assert row["reason"]["owner_label"] == "Adult social care"
    assert row["community_referral"] == "sent"  # through the neighbourhood front door
    assert row["name"] == "Testgiven APIWAITING"
    assert AuditEvent.objects.filter(
        person_id=inpatient.person_id, resource="discharge.stay.api"
    ).exists()
    assert AuditEvent.objects.filter(resource="discharge.board").count() == 2


def test_api_progress_and_discharge_end_the_stay(coordinator: User, inpatient: Stay) -> None:
    today = timezone.localdate()
    url = f"/stays/{inpatient.pk}"
    api.post(
        f"{url}/criteria",
        json={"on": (today - timedelta(days=1)).isoformat(), "meets": False},
        user=coordinator,
    )
    progress = api.put(
        f"{url}/progress",
        json={"assessed_on": today.isoformat(), "provider": "Hilltop", "package_status": "paused"},
        user=coordinator,
    ).json()
    assert progress["progress"]["provider"] == "Hilltop"
    assert progress["flags"] == {
        "care_home_resident": False,
        "package_status": "paused",
        "source": "board",
    }

    out = api.post(
        f"{url}/discharge", json={"on": today.isoformat(), "destination": "Home"}, user=coordinator
    ).json()

    assert (out["discharged_on"], out["destination"]) == (today.isoformat(), "Home")
    assert api.get("/board?show=all", user=coordinator).json() == []


def test_api_bad_update_names_the_field(coordinator: User, inpatient: Stay) -> None:
    with pytest.raises(InvalidInput) as caught:
        api.post(
            f"/stays/{inpatient.pk}/pathway",
            json={"pathway": 7, "on": timezone.localdate().isoformat()},
            user=coordinator,
        )
    assert caught.value.where == "pathway"


def test_api_refuses_a_user_outside_the_hub_and_other_roles(
    inpatient: Stay,
    hub: Team,
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
) -> None:
    stranger = make_user(Role.DISCHARGE_COORDINATOR, teams=[make_team()])
    gp = make_user(Role.GP, teams=[hub])

    assert api.get("/board?show=all", user=stranger).json() == []
    with pytest.raises(AccessDenied):
        api.get(f"/stays/{inpatient.pk}", user=stranger)
    with pytest.raises(AccessDenied):
        api.get("/board", user=gp)
    with pytest.raises(AccessDenied):
        api.post(
            f"/stays/{inpatient.pk}/discharge",
            json={"on": timezone.localdate().isoformat(), "destination": "x"},
            user=gp,
        )
    inpatient.refresh_from_db()
    assert inpatient.discharged_on is None

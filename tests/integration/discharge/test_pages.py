"""The discharge pages through the Django client: access, audit, the coordinator's
journey (board -> record a delay reason -> metrics), and the planner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from joinedup.core.models import AuditEvent, Team, User
from joinedup.core.roles import Role
from joinedup.discharge import planner, services
from joinedup.discharge.models import CommunityReferral, DelayReason, PlannerScenario, Stay
from joinedup.neighbourhoods.models import Referral
from joinedup.people.models import CareRelationship, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def inpatient(make_person: Callable[..., Person], hub: Team) -> Stay:
    """A patient admitted ten days ago, opened to the hub as the build would."""
    person = make_person(family_name="Bedwaiting")
    today = timezone.localdate()
    stay = Stay.objects.create(
        spell_id="SP1",
        person=person,
        ward_code="W1",
        ward_name="Acute medicine",
        admitted_at=timezone.now() - timedelta(days=10),
    )
    services._hub_access_start([stay], [hub])
    assert CareRelationship.objects.filter(person=person, team=hub).exists()
    stay.refresh_from_db()
    assert today
    return stay


def _post(client: Client, stay: Stay, **data: Any) -> Any:
    return client.post(f"/discharge/stays/{stay.id}/", data)


def test_coordinator_records_readiness_pathway_and_delay_and_it_shows_everywhere(
    coordinator: User, inpatient: Stay, signed_in: Callable[[User], Client]
) -> None:
    client = signed_in(coordinator)
    today = timezone.localdate()
    ready = (today - timedelta(days=3)).isoformat()

    assert (
        _post(client, inpatient, action="pathway", pathway="1", pathway_on=ready).status_code == 302
    )
    assert (
        _post(client, inpatient, action="criteria", meets="no", criteria_on=ready).status_code
        == 302
    )
    response = _post(client, inpatient, action="reason", code="p1_capacity", reason_on=ready)
    assert response.status_code == 302

    board = client.get("/discharge/board/").content.decode()
    assert "BEDWAITING" in board
    assert "Pathway 1: awaiting care and support at home to start" in board
    assert CommunityReferral.objects.filter(stay=inpatient, pathway=1).count() == 1
    owed = CommunityReferral.objects.get(stay=inpatient, pathway=1)
    front_door = Referral.objects.for_system("test").get(person_id=inpatient.person_id)
    assert (owed.status, owed.front_door_reference) == ("sent", front_door.reference)
    assert (front_door.status, front_door.urgency) == ("received", "urgent")
    assert front_door.reason.startswith("Discharge to Assess, pathway 1")
    reason = DelayReason.objects.get(stay=inpatient)
    assert (reason.owner, reason.recorded_by) == ("community", coordinator)
    assert AuditEvent.objects.filter(
        person_id=inpatient.person_id, resource="discharge.stay:delay-reason:p1_capacity"
    ).exists()

    assert (
        _post(
            client,
            inpatient,
            action="discharge",
            discharge_on=today.isoformat(),
            destination="Home",
        ).status_code
        == 302
    )
    metrics = client.get(
        f"/discharge/metrics/?from={ready}&to={today}&period=week"
    ).content.decode()
    assert "3.00" in metrics  # one discharge delayed 3 days
    xlsx = client.get(f"/discharge/metrics/all.xlsx?from={ready}&to={today}")
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert not CareRelationship.objects.filter(
        person=inpatient.person, ended_on__isnull=True
    ).exists()


def test_a_bad_date_is_an_error_linked_to_its_field(
    coordinator: User, inpatient: Stay, signed_in: Callable[[User], Client]
) -> None:
    response = _post(
        signed_in(coordinator), inpatient, action="criteria", meets="no", criteria_on="31/02/2026"
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert 'href="#criteria_on"' in body
    assert "YYYY-MM-DD" in body


def test_a_delay_reason_needs_a_ready_patient(
    coordinator: User, inpatient: Stay, signed_in: Callable[[User], Client]
) -> None:
    today = timezone.localdate().isoformat()
    response = _post(
        signed_in(coordinator), inpatient, action="reason", code="transport", reason_on=today
    )
    assert response.status_code == 400
    assert not DelayReason.objects.exists()


def test_a_coordinator_outside_the_hub_cannot_open_the_stay(
    inpatient: Stay,
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    signed_in: Callable[[User], Client],
) -> None:
    stranger = make_user(Role.DISCHARGE_COORDINATOR, teams=[make_team()])
    client = signed_in(stranger)

    page = client.get(f"/discharge/stays/{inpatient.id}/")
    post = _post(client, inpatient, action="discharge", discharge_on="2020-01-01", destination="x")
    board = client.get("/discharge/board/").content.decode()

    assert page.status_code == post.status_code == 403
    assert "BEDWAITING" not in board
    assert AuditEvent.objects.filter(person_id=inpatient.person_id, action="deny").count() == 2
    inpatient.refresh_from_db()
    assert inpatient.discharged_on is None


@pytest.mark.parametrize("role", [Role.GP, Role.ANALYST, Role.ADMINISTRATOR])
def test_other_roles_cannot_use_the_discharge_pages(
    role: Role,
    hub: Team,
    inpatient: Stay,
    make_user: Callable[..., User],
    signed_in: Callable[[User], Client],
) -> None:
    client = signed_in(make_user(role, teams=[hub]))
    for url in (
        "/discharge/",
        "/discharge/board/",
        f"/discharge/stays/{inpatient.id}/",
        "/discharge/planner/",
        "/discharge/metrics/",
    ):
        assert client.get(url).status_code == 403, url


def test_the_board_read_is_audited(
    coordinator: User, inpatient: Stay, signed_in: Callable[[User], Client]
) -> None:
    signed_in(coordinator).get("/discharge/board/?show=all")
    event = AuditEvent.objects.filter(resource="discharge.board").get()
    assert event.reason == "1 patients listed"


def test_planner_finds_the_capacity_for_a_target_and_saves_it(
    coordinator: User, signed_in: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    fitted = {
        "fitted_on": "2026-03-31",
        "fit_days": 182,
        "target_mean_delay_days": 4.0,
        "horizon_days": 120,
        "replications": 8,
        "seed": 1,
        "bed_day_cost": 395.0,
        "pathways": [
            {
                "pathway": 2,
                "label": "Pathway 2: community bed",
                "unit": "community beds",
                "units_per_place": 1.0,
                "cost_per_unit_per_day": 250.0,
                "arrivals_per_day": 1.0,
                "arrivals_ci95": [0.9, 1.1],
                "distribution": "lognormal",
                "mean_stay_days": 20.0,
                "stay_cv": 0.7,
                "stay_samples": [],
                "capacity": 20.0,
                "in_service": 18,
                "waiting_days": [3.0, 1.0],
                "notes": ["test"],
            }
        ],
    }
    monkeypatch.setattr(planner, "planner_inputs", lambda **_: fitted)
    client = signed_in(coordinator)
    form = {
        "name": "winter",
        "target_mean_delay_days": "4",
        "horizon_days": "120",
        "replications": "8",
        "seed": "1",
        "bed_day_cost": "395",
        "p2_arrivals": "1",
        "p2_capacity": "20",
        "p2_distribution": "lognormal",
        "p2_mean": "20",
        "p2_cv": "0.7",
    }

    response = client.post("/discharge/planner/", form)

    assert response.status_code == 302
    saved = PlannerScenario.objects.get(name="winter")
    least = saved.results["pathways"][0]["least"]
    assert least["mean_delay_days"]["high"] < 4
    assert least["places"] >= 20
    page = client.get(response["Location"]).content.decode()
    assert "<svg" in page
    assert "least meeting target" in page
    assert client.get(f"/discharge/planner/{saved.pk}.xlsx").status_code == 200
    bad = client.post("/discharge/planner/", {**form, "p2_capacity": "lots"})
    assert bad.status_code == 400
    assert 'href="#p2_capacity"' in bad.content.decode()


def test_home_and_metrics_pages_render_without_data(
    coordinator: User, signed_in: Callable[[User], Client]
) -> None:
    client = signed_in(coordinator)
    assert client.get("/discharge/").status_code == 200
    assert client.get("/discharge/metrics/").status_code == 200
    assert client.get("/discharge/metrics/?from=nonsense").status_code == 400


def test_portfolio_measure_is_registered_and_reads_the_tracker(
    coordinator: User, inpatient: Stay, signed_in: Callable[[User], Client]
) -> None:
    from joinedup.portfolio.measures import measure_current

    assert measure_current("discharge_mean_delay_days").state == "not_measured"
    client = signed_in(coordinator)
    today = timezone.localdate()
    _post(
        client,
        inpatient,
        action="criteria",
        meets="no",
        criteria_on=(today - timedelta(days=2)).isoformat(),
    )
    _post(client, inpatient, action="discharge", discharge_on=today.isoformat(), destination="Home")

    reading = measure_current("discharge_mean_delay_days")

    assert reading.value is not None
    assert reading.value.value == 2.0

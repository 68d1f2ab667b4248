"""The person page's timeline across organisations, and person search, inside the boundary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from joinedup.core.models import AuditEvent, Team, User
from joinedup.core.roles import Role
from joinedup.people.models import LinkMethod, Person, SourceIdentity
from joinedup.record.models import Delivery, Fact

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(db: None) -> Delivery:
    return Delivery.objects.create(
        feed="test",
        path="x.csv",
        sha256="0" * 64,
        size=1,
        received_at=timezone.now(),
        status="complete",
    )


@pytest.fixture
def add_fact(delivery: Delivery) -> Callable[..., Fact]:
    counter = iter(range(1, 10_000))

    def make(person: Person, source: str, kind: str, when: datetime, **extra: object) -> Fact:
        identity, _ = SourceIdentity.objects.for_system("test").get_or_create(
            source=source,
            source_id=f"{source}-{person.id}",
            defaults={
                "person": person,
                "link_method": LinkMethod.NHS_NUMBER,
                "delivery_id": delivery.pk,
                "received_at": timezone.now(),
            },
        )
        return Fact.objects.for_system("test").create(
            identity=identity,
            source=source,
            record_id=f"r{next(counter)}",
            kind=kind,
            occurred_at=when,
            delivery=delivery,
            received_at=timezone.now(),
            **extra,
        )

    return make


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


def test_timeline_joins_four_organisations_newest_first(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
    add_fact: Callable[..., Fact],
) -> None:
    team = make_team()
    person = make_person()
    relate(person, team)
    add_fact(
        person,
        "gp",
        "condition",
        _at(2020, 1, 5),
        display="Heart failure",
        status="active",
        code="84114007",
    )
    add_fact(
        person,
        "hospital",
        "admission",
        _at(2025, 3, 1),
        display="Respiratory",
        detail={"discharge_pathway": "1"},
    )
    add_fact(person, "community", "community_contact", _at(2025, 3, 9), display="Home visit")
    add_fact(
        person, "socialcare_adults", "package", _at(2025, 3, 8), display="Reablement", value=10.5
    )
    add_fact(make_person(), "gp", "condition", _at(2024, 1, 1), display="Someone else's")

    response = signed_in(make_user(Role.DISTRICT_NURSE, teams=[team])).get(
        reverse("people:detail", kwargs={"person_id": person.id})
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Records from 4 organisations" in body
    timeline = body[body.index('id="timeline"') :]
    order = [
        timeline.index(t) for t in ("Home visit", "Reablement", "Respiratory", "Heart failure")
    ]
    assert order == sorted(order)
    assert "Someone else" not in body
    assert "pathway: 1" in body


def test_timeline_filters_by_source(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
    add_fact: Callable[..., Fact],
) -> None:
    team = make_team()
    person = make_person()
    relate(person, team)
    add_fact(person, "gp", "observation", _at(2024, 5, 1), display="Body mass index")
    add_fact(person, "hospital", "admission", _at(2025, 3, 1), display="Respiratory")
    url = reverse("people:detail", kwargs={"person_id": person.id})

    body = signed_in(make_user(Role.GP, teams=[team])).get(url, {"source": "hospital"})

    text = body.content.decode()
    assert "Respiratory" in text
    assert "Body mass index" not in text


@pytest.mark.parametrize(
    ("query_of", "by"),
    [
        (lambda p: p.nhs_number, "nhs_number"),
        (lambda p: f"{p.nhs_number[:3]} {p.nhs_number[3:6]} {p.nhs_number[6:]}", "nhs_number"),
        (lambda p: f"{p.family_name.lower()} {p.date_of_birth:%d/%m/%Y}", "name_and_date_of_birth"),
        (lambda p: p.postcode.replace(" ", "").lower(), "postcode"),
    ],
)
def test_search_finds_only_visible_people_and_audits_without_the_query(
    query_of: Callable[[Person], str],
    by: str,
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
) -> None:
    team = make_team()
    mine = make_person(postcode="SK7 1AB", date_of_birth=date(1941, 2, 3))
    make_person(postcode="SK7 1AB", family_name=mine.family_name, date_of_birth=date(1941, 2, 3))
    relate(mine, team)
    query = query_of(mine)

    response = signed_in(make_user(Role.GP, teams=[team])).get(
        reverse("people:search"), {"q": query}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "1 person found" in body
    event = AuditEvent.objects.get(action="search", resource="person.search")
    assert event.reason.startswith(f"by {by}: 1 found")
    assert mine.nhs_number not in event.reason
    assert mine.family_name not in event.reason


def test_search_by_nhs_number_offers_break_glass_for_a_record_outside_care(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    signed_in: Callable[[User], Client],
) -> None:
    stranger = make_person()
    response = signed_in(make_user(Role.GP)).get(
        reverse("people:search"), {"q": stranger.nhs_number}
    )
    body = response.content.decode()
    assert "0 people found" in body
    assert "break-glass" in body
    assert stranger.family_name not in body


def test_search_explains_a_query_it_cannot_use(
    make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    response = signed_in(make_user(Role.GP)).get(reverse("people:search"), {"q": "just a name"})
    assert response.status_code == 400
    assert "search by nhs number" in response.content.decode().lower()


def test_header_shows_the_practice_neighbourhood_and_a_safeguarding_flag(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
    add_fact: Callable[..., Fact],
) -> None:
    from joinedup.core.models import Neighbourhood

    team = make_team()
    person = make_person()
    practice = person.registered_practice
    assert practice is not None
    practice.neighbourhood = Neighbourhood.objects.create(code="heatons", name="Heatons & Reddish")
    practice.save()
    relate(person, team)
    add_fact(
        person,
        "socialcare_children",
        "child_referral",
        _at(2025, 1, 9),
        display="Child protection plan",
    )

    body = (
        signed_in(make_user(Role.SOCIAL_WORKER, teams=[team]))
        .get(reverse("people:detail", kwargs={"person_id": person.id}))
        .content.decode()
    )

    assert "Heatons &amp; Reddish" in body
    assert "Safeguarding: Child protection plan" in body


def test_a_safeguarding_plan_that_has_ended_is_no_flag(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
    add_fact: Callable[..., Fact],
) -> None:
    team = make_team()
    person = make_person()
    relate(person, team)
    plan = add_fact(
        person,
        "socialcare_children",
        "child_referral",
        _at(2025, 1, 9),
        display="Child protection plan",
    )
    add_fact(
        person, "socialcare_children", "child_referral", _at(2024, 6, 1), display="Child in need"
    )
    page = reverse("people:detail", kwargs={"person_id": person.id})
    client = signed_in(make_user(Role.SOCIAL_WORKER, teams=[team]))
    assert "Safeguarding: Child protection plan" in client.get(page).content.decode()

    plan.ended_at = _at(2025, 6, 30)
    plan.save(update_fields=["ended_at"])
    body = client.get(page).content.decode()

    assert "Safeguarding: Child protection plan" not in body
    assert "Safeguarding: Child in need" in body


def test_allergies_show_in_the_header_and_lab_reports_on_the_timeline(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    make_team: Callable[..., Team],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
    add_fact: Callable[..., Fact],
) -> None:
    team = make_team()
    person = make_person()
    relate(person, team)
    allergy = {"category": "medication", "criticality": "high", "reaction": "Anaphylaxis"}
    add_fact(person, "gp", "allergy", _at(2019, 6, 1), display="Allergy to penicillin",
             code="91936005", status="active", detail=allergy)  # fmt: skip
    add_fact(person, "gp", "allergy", _at(2018, 1, 1), display="Allergy to peanut",
             code="91935009", status="resolved", detail={"category": "food"})  # fmt: skip
    add_fact(person, "gp", "diagnostic_report", _at(2025, 3, 1), display="HbA1c measurement",
             code="43396009", status="final", organisation="RZ9",
             detail={"result_0": "obs-1", "issued": "2025-03-03T11:00:00+00:00"})  # fmt: skip
    add_fact(person, "gp", "condition", _at(2020, 1, 5), display="Heart failure", status="active")
    nurse = signed_in(make_user(Role.DISTRICT_NURSE, teams=[team]))
    page = reverse("people:detail", kwargs={"person_id": person.id})

    body = nurse.get(page).content.decode()
    filtered = nurse.get(page, {"kind": "diagnostic_report"}).content.decode()

    header = body[body.index("<h2>Allergies</h2>") : body.index("<h2>Active problems</h2>")]
    assert "Allergy to penicillin" in header
    assert "High criticality" in header
    assert "Allergy to peanut" not in header  # resolved
    timeline = body[body.index('id="timeline"') :]
    assert "Lab report</strong>: HbA1c measurement" in timeline
    assert "1 result; issued 2025-03-03; final" in timeline
    assert "(RZ9)" in timeline
    assert "medication; high criticality; reaction: Anaphylaxis; active" in timeline
    shown = filtered[filtered.index('id="timeline"') :]
    assert "HbA1c measurement" in shown
    assert "Allergy to penicillin" not in shown
    assert AuditEvent.objects.filter(person_id=person.id, action="read").exists()

"""Directory pages: the public search without signing in, the staff search with a referral
hand-off, a service's page, and reviewing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from tests.integration.directory.conftest import HOME

from joinedup.core.models import AuditEvent, User
from joinedup.core.roles import Role
from joinedup.directory import selectors
from joinedup.directory.models import Postcode, Service, TaxonomyTerm

pytestmark = pytest.mark.django_db


@pytest.fixture
def falls_services(
    home_postcode: Postcode,
    make_service: Callable[..., Service],
    make_term: Callable[..., TaxonomyTerm],
) -> list[Service]:
    falls = make_term("Falls prevention")
    _, lat, lon = HOME
    return [
        make_service("Steady steps", lat=lat, lon=lon + 0.05, terms=(falls,)),
        make_service("Strength and balance class", lat=lat, lon=lon + 0.001, terms=(falls,)),
        make_service("Falls clinic", lat=lat + 0.01, lon=lon, terms=(falls,), ages=(65, None)),
        make_service("Benefits advice", lat=lat, lon=lon),
    ]


def test_public_search_lists_falls_services_nearest_first_without_signing_in(
    client: Client, falls_services: list[Service]
) -> None:
    response = client.get("/directory/find/", {"need": "falls", "postcode": "sk4 3qx"})

    assert response.status_code == 200
    text = response.content.decode()
    order = [
        text.index(name) for name in ("Strength and balance class", "Falls clinic", "Steady steps")
    ]
    assert order == sorted(order)
    assert "Benefits advice" not in text
    assert "3 services found" in text
    assert "miles" in text


def test_public_search_explains_a_postcode_it_does_not_know(
    client: Client, falls_services: list[Service]
) -> None:
    response = client.get("/directory/find/", {"need": "falls", "postcode": "M1 1AA"})

    assert response.status_code == 400
    text = response.content.decode()
    assert "There is a problem" in text
    assert 'href="#postcode"' in text
    assert "M1 1AA is not a postcode we know" in text


def test_public_service_page_shows_how_to_get_in_touch(
    client: Client, falls_services: list[Service]
) -> None:
    service = falls_services[2]

    response = client.get(f"/directory/find/{service.pk}/")

    assert response.status_code == 200
    assert "Aged 65 and over" in response.content.decode()
    assert "Monday to Friday, 9am to 5pm" in response.content.decode()
    assert client.get("/directory/find/not-an-id/").status_code == 404


def test_staff_search_needs_the_directory_permission(
    client: Client,
    signed_in: Callable[[User], Client],
    make_user: Callable[..., User],
    falls_services: list[Service],
) -> None:
    assert client.get("/directory/").status_code == 302  # to sign in
    gp = signed_in(make_user(Role.GP))

    response = gp.get(
        "/directory/", {"need": "falls", "postcode": "SK4 3QX", "within": "1609", "age": "70"}
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "Strength and balance class" in text
    assert "Falls clinic" in text
    assert "Steady steps" not in text  # about 3.3 km away: beyond one mile


def test_staff_search_hands_the_chosen_service_back_to_the_referral(
    signed_in: Callable[[User], Client],
    make_user: Callable[..., User],
    falls_services: list[Service],
) -> None:
    gp = signed_in(make_user(Role.GP))
    back = "/neighbourhoods/referrals/new/?person=abc"

    page = gp.get("/directory/", {"need": "falls", "return_to": back}).content.decode()
    evil = gp.get(
        "/directory/", {"need": "falls", "return_to": "https://evil.example/"}
    ).content.decode()

    assert f"{back}&amp;directory_service={falls_services[0].pk}" in page
    assert "evil.example" not in evil
    assert "for this referral" not in evil


def test_the_owner_sees_stale_services_and_reviews_one(
    signed_in: Callable[[User], Client],
    make_user: Callable[..., User],
    make_service: Callable[..., Service],
) -> None:
    owner = make_user(Role.CARE_COORDINATOR)
    other = make_user(Role.GP)
    today = timezone.localdate()
    stale = make_service("Memory cafe", owner=owner, assured=today - timedelta(days=120))
    make_service("Fresh group", owner=owner, assured=today - timedelta(days=10))
    make_service("Never checked", owner=owner)
    make_service("Someone else's", owner=other, assured=today - timedelta(days=400))
    client = signed_in(owner)

    listed = client.get("/directory/review/").content.decode()
    denied = signed_in(other).post(f"/directory/services/{stale.pk}/review/")
    reviewed = client.post(f"/directory/services/{stale.pk}/review/")

    assert "Memory cafe" in listed
    assert "Never checked" in listed
    assert "Fresh group" not in listed
    assert "Someone else" not in listed
    assert denied.status_code == 403
    assert reviewed.status_code == 302
    stale.refresh_from_db()
    assert stale.assured_date == today
    assert [s.name for s in selectors.services_due_review(user=owner)] == ["Never checked"]
    assert (
        AuditEvent.objects.filter(resource=f"directory.service:{stale.pk}", action="review").count()
        == 1
    )
    assert (
        AuditEvent.objects.filter(resource=f"directory.service:{stale.pk}", action="deny").count()
        == 1
    )


def test_an_administrator_downloads_every_service_due(
    signed_in: Callable[[User], Client],
    make_user: Callable[..., User],
    make_service: Callable[..., Service],
) -> None:
    make_service("Lunch club", owner=make_user(Role.GP))
    admin = signed_in(make_user(Role.ADMINISTRATOR))

    csv_body = admin.get("/directory/review/", {"all": "1", "format": "csv"})
    xlsx = admin.get("/directory/review/", {"all": "1", "format": "xlsx"})

    assert "Lunch club" in csv_body.content.decode("utf-8-sig")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_service_page_offers_review_only_to_its_owner(
    signed_in: Callable[[User], Client],
    make_user: Callable[..., User],
    make_service: Callable[..., Service],
) -> None:
    owner = make_user(Role.SOCIAL_WORKER)
    service = make_service("Carers group", owner=owner)

    mine = signed_in(owner).get(f"/directory/services/{service.pk}/").content.decode()
    theirs = (
        signed_in(make_user(Role.GP)).get(f"/directory/services/{service.pk}/").content.decode()
    )

    assert "These details are right today" in mine
    assert "These details are right today" not in theirs
    assert "Review due" in mine

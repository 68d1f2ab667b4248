"""The public forms' rate limits: counted per client across processes (in the database),
refused with 429 and Retry-After past the limit, never storing an address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client, override_settings

from joinedup.core import throttle
from joinedup.core.models import RateWindow, User
from joinedup.core.roles import Role

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 30, 12, 10, tzinfo=UTC)


@override_settings(PUBLIC_FORM_POSTS_PER_HOUR=3)
def test_hit_refuses_past_the_limit_and_says_how_long_to_wait() -> None:
    for _ in range(3):
        throttle.hit("citizens-join", "192.0.2.7", now=NOON)

    with pytest.raises(throttle.RateLimited) as refused:
        throttle.hit("citizens-join", "192.0.2.7", now=NOON)

    assert refused.value.status == 429
    assert refused.value.retry_after == 50 * 60  # the hour's window ends at 13:00
    assert "try again in 50 minutes" in refused.value.detail
    throttle.hit("citizens-join", "192.0.2.8", now=NOON)  # another client is counted apart
    throttle.hit("front-door", "192.0.2.7", now=NOON)  # and so is another form


@override_settings(PUBLIC_FORM_POSTS_PER_HOUR=1)
def test_a_new_window_starts_afresh_and_old_windows_are_cleared() -> None:
    throttle.hit("front-door", "192.0.2.7", now=NOON - timedelta(days=2))
    throttle.hit("front-door", "192.0.2.7", now=NOON)
    with pytest.raises(throttle.RateLimited):
        throttle.hit("front-door", "192.0.2.7", now=NOON)

    throttle.hit("front-door", "192.0.2.7", now=NOON + timedelta(hours=1))

    starts = set(RateWindow.objects.values_list("window_start", flat=True))
    assert starts == {NOON.replace(minute=0), NOON.replace(minute=0) + timedelta(hours=1)}


def test_the_table_never_holds_an_address() -> None:
    throttle.hit("citizens-link", "192.0.2.7", now=NOON)
    throttle.hit("citizens-link-email", "Someone@Example.org", now=NOON)

    stored = " ".join(RateWindow.objects.values_list("client", flat=True))
    assert "192.0.2.7" not in stored
    assert "example.org" not in stored.lower()
    assert all(len(client) == 64 for client in stored.split())


@override_settings(PUBLIC_FORM_POSTS_PER_HOUR=2)
def test_the_front_door_refuses_a_flood_from_one_address_but_not_from_staff(
    make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    public = Client(REMOTE_ADDR="198.51.100.4")
    answers = [public.post("/neighbourhoods/refer/", {}).status_code for _ in range(3)]

    refused = public.post("/neighbourhoods/refer/", {})
    other = Client(REMOTE_ADDR="198.51.100.5").post("/neighbourhoods/refer/", {})
    staff = signed_in(make_user(Role.GP))
    staff_answers = {staff.post("/neighbourhoods/refer/", {}).status_code for _ in range(4)}

    assert answers[:2] == [400, 400]  # counted, then the form's own problems
    assert answers[2] == 429
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "try again in" in refused.content.decode()
    assert other.status_code == 400
    assert 429 not in staff_answers


@override_settings(PUBLIC_FORM_POSTS_PER_HOUR=2)
def test_the_register_sign_up_is_limited_per_address() -> None:
    public = Client(REMOTE_ADDR="198.51.100.4")

    answers = [public.post("/citizens/join/", {}).status_code for _ in range(3)]

    assert answers == [400, 400, 429]
    assert public.get("/citizens/join/").status_code == 200  # reading the form is never limited


def test_one_inbox_gets_at_most_three_links_an_hour_from_any_number_of_addresses() -> None:
    answers = [
        Client(REMOTE_ADDR=f"198.51.100.{i}")
        .post("/citizens/join/manage/", {"email": "target@example.org"})
        .status_code
        for i in range(1, 5)
    ]

    assert answers == [200, 200, 200, 429]


@override_settings(PUBLIC_FORM_POSTS_PER_HOUR=1, BEHIND_PROXY=True)
def test_behind_a_proxy_the_client_is_the_address_the_proxy_added() -> None:
    def post(forwarded: str) -> int:
        client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
        return client.post("/citizens/join/", {}).status_code

    first = post("203.0.113.9")
    spoofed = post("1.2.3.4, 203.0.113.9")  # a made-up first hop does not make a new client
    another = post("203.0.113.10")

    assert (first, spoofed, another) == (400, 429, 400)

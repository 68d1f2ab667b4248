"""A service's owner corrects its directory entry: the ORUK API shows the change and still
validates, others are refused and audited, bad input is explained field by field and saves
nothing, a save made meanwhile by someone else is never overwritten, and an imported
entry warns that the next import replaces it (which it does)."""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone
from tests.integration.directory.conftest import Schemas

from joinedup.core.models import AuditEvent, User
from joinedup.core.roles import Role
from joinedup.directory import forms, selectors, services
from joinedup.directory.feeds import FeedReader
from joinedup.directory.models import Schedule, Service

pytestmark = pytest.mark.django_db
VERSION = re.compile(r'name="version" value="([^"]+)"')


def _edit_url(service: Service) -> str:
    return f"/directory/services/{service.pk}/edit/"


def _opened(client: Client, service: Service) -> dict[str, str]:
    """Open the edit page as a browser would, and return the form as it would post it."""
    page = client.get(_edit_url(service))
    assert page.status_code == 200
    found = VERSION.search(page.content.decode())
    assert found is not None
    service.refresh_from_db()
    values = forms.service_edit_values(service, selectors.service_schedules(service))
    return {**values, "version": found.group(1), "note": ""}


def _events(service: Service, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(resource=f"directory.service:{service.pk}", action=action)
    )


@pytest.fixture
def owner(make_user: Callable[..., User]) -> User:
    return make_user(Role.CARE_COORDINATOR)


@pytest.fixture
def stale(make_service: Callable[..., Service], owner: User) -> Service:
    service = make_service(
        "Memory cafe",
        owner=owner,
        assured=timezone.localdate() - timedelta(days=200),
        ages=(50, None),
    )
    service.url = "https://memorycafe.example.org"
    service.save(update_fields=["url"])
    return service


def test_owner_edits_a_service_and_the_api_shows_it(
    signed_in: Callable[[User], Client], owner: User, stale: Service, schemas: Schemas
) -> None:
    client = signed_in(owner)
    before = stale.last_modified
    form = _opened(client, stale)
    schedule = Schedule.objects.get(service=stale)
    form.update(
        {
            "name": "Memory cafe at the library",
            "email": "memory.cafe@example.org",
            "url": "https://library.example.org/memory-cafe",
            "phone": "0161 480 4949",
            "minimum_age": "18",
            "maximum_age": "110",
            "fees": "£2 a session, carers free",
            forms.schedule_field(str(schedule.id)): "Not on bank holidays",
            "note": "checked with the librarian",
        }
    )

    saved = client.post(_edit_url(stale), form)
    api = client.get(f"/openreferral/services/{stale.pk}").json()
    page = client.get(f"/directory/services/{stale.pk}/?edited=1").content.decode()

    assert saved.status_code == 302
    assert saved["Location"].endswith("?edited=1")
    stale.refresh_from_db()
    assert stale.assured_date == timezone.localdate()
    assert stale.last_modified > before
    assert (api["name"], api["email"], api["url"]) == (
        "Memory cafe at the library",
        "memory.cafe@example.org",
        "https://library.example.org/memory-cafe",
    )
    assert (api["minimum_age"], api["maximum_age"], api["fees"]) == (
        18,
        110,
        "£2 a session, carers free",
    )
    assert api["schedules"][0]["description"] == "Not on bank holidays"
    assert api["assured_date"] == timezone.localdate().isoformat()
    assert schemas.errors("service", api) == []
    # ORUK 3.0 has no phones: the number is ours, shown on the service's page.
    assert "0161 480 4949" in page
    assert "Your changes are saved" in page
    [event] = _events(stale, "update")
    assert event.actor_id == owner.pk
    assert event.reason == (
        "edited: Name, Email, Website, Phone, Minimum age, Maximum age, Cost, Opening times; "
        "note: checked with the librarian"
    )
    assert "example.org" not in event.reason
    assert selectors.services_due_review(user=owner).filter(pk=stale.pk).count() == 0


def test_a_save_with_nothing_changed_still_counts_as_a_review(
    signed_in: Callable[[User], Client], owner: User, stale: Service
) -> None:
    client = signed_in(owner)

    saved = client.post(_edit_url(stale), _opened(client, stale))

    assert saved.status_code == 302
    stale.refresh_from_db()
    assert stale.assured_date == timezone.localdate()
    assert [e.reason for e in _events(stale, "update")] == ["edited: no changes, details confirmed"]


def test_a_service_without_opening_times_gets_them_in_words(
    signed_in: Callable[[User], Client], owner: User, stale: Service
) -> None:
    Schedule.objects.filter(service=stale).delete()
    client = signed_in(owner)
    form = _opened(client, stale)
    form[forms.schedule_field(forms.NEW_SCHEDULE)] = "First Tuesday of the month, 2pm"

    saved = client.post(_edit_url(stale), form)

    assert saved.status_code == 302
    assert [s.description for s in Schedule.objects.filter(service=stale)] == [
        "First Tuesday of the month, 2pm"
    ]


def test_a_non_owner_is_refused_and_audited(
    signed_in: Callable[[User], Client],
    make_user: Callable[..., User],
    owner: User,
    stale: Service,
) -> None:
    other = signed_in(make_user(Role.GP))
    form = _opened(signed_in(owner), stale)

    looked = other.get(_edit_url(stale))
    posted = other.post(_edit_url(stale), {**form, "name": "Taken over"})
    page = other.get(f"/directory/services/{stale.pk}/").content.decode()

    assert looked.status_code == 403
    assert posted.status_code == 403
    stale.refresh_from_db()
    assert stale.name == "Memory cafe"
    denials = _events(stale, "deny")
    assert len(denials) == 2
    assert all(e.outcome == "denied" for e in denials)
    assert _events(stale, "update") == []
    assert _edit_url(stale) not in page
    assert (
        _edit_url(stale)
        in signed_in(owner).get(f"/directory/services/{stale.pk}/").content.decode()
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {
                "name": "  ",
                "email": "memory cafe at example",
                "url": "javascript:alert(1)",
                "minimum_age": "130",
            },
            {
                "name": "Enter the service's name",
                "email": "Enter an email address like name@example.org",
                "url": "Enter a web address starting with https://, like https://www.example.org",
                "minimum_age": "Minimum age must be from 0 to 120",
            },
        ),
        (
            {"minimum_age": "70", "maximum_age": "18"},
            {"maximum_age": "Maximum age must be the same as or more than the minimum age"},
        ),
        (
            {"minimum_age": "ten", "maximum_age": "-1", "status": "closed for good"},
            {
                "status": "Choose whether the service is running",
                "minimum_age": "Minimum age must be a number of years, like 18",
                "maximum_age": "Maximum age must be from 0 to 120",
            },
        ),
        (
            {"url": "www.example.org", "phone": "call us"},
            {
                "url": "Enter a web address starting with https://, like https://www.example.org",
                "phone": "Enter a phone number using digits, like 0161 480 4949",
            },
        ),
    ],
)
def test_bad_input_shows_each_error_and_saves_nothing(
    signed_in: Callable[[User], Client],
    owner: User,
    stale: Service,
    changes: dict[str, str],
    expected: dict[str, str],
) -> None:
    client = signed_in(owner)
    form = _opened(client, stale)
    before = (stale.name, stale.email, stale.url, stale.minimum_age, stale.last_modified)

    answer = client.post(_edit_url(stale), {**form, **changes})
    page = answer.content.decode()

    assert answer.status_code == 400
    assert "<title>Error: " in page
    start = page.index('class="nhsuk-error-summary"')
    summary = page[start : page.index("</ul>", start)]
    links = re.findall(r'<a href="#([\w-]+)"[^>]*>\s*([^<]+?)\s*</a>', summary)
    escaped = {k: v.replace("'", "&#39;") for k, v in expected.items()}
    assert links == list(escaped.items())
    for key in expected:
        assert f'id="{key}-error"' in page
    # What was typed is shown again, and the version is still the one the user started from.
    assert f'value="{form["version"]}"' in page
    stale.refresh_from_db()
    assert (stale.name, stale.email, stale.url, stale.minimum_age, stale.last_modified) == before
    assert _events(stale, "update") == []


def test_a_concurrent_edit_is_detected_and_never_overwritten(
    signed_in: Callable[[User], Client],
    make_user: Callable[..., User],
    owner: User,
    stale: Service,
) -> None:
    mine = signed_in(owner)
    theirs = signed_in(make_user(Role.ADMINISTRATOR))
    my_form = _opened(mine, stale)
    their_form = _opened(theirs, stale)
    theirs.post(_edit_url(stale), {**their_form, "email": "bookings@example.org"})

    clash = mine.post(_edit_url(stale), {**my_form, "phone": "0161 000 1111"})
    page = clash.content.decode()

    assert clash.status_code == 409
    assert "Someone else changed this service" in page
    assert "not saved" in page
    assert 'value="bookings@example.org"' in page  # the form now holds their version
    assert "0161 000 1111" in page  # and lists what this user typed, to re-apply
    stale.refresh_from_db()
    assert (stale.email, stale.phone) == ("bookings@example.org", "")
    assert len(_events(stale, "update")) == 1

    found = VERSION.search(page)
    assert found is not None
    again = mine.post(
        _edit_url(stale),
        {**my_form, "email": "bookings@example.org", "phone": "0161 000 1111", "version": found[1]},
    )

    assert again.status_code == 302
    stale.refresh_from_db()
    assert (stale.email, stale.phone) == ("bookings@example.org", "0161 000 1111")


def test_a_stale_or_missing_version_is_a_conflict_in_the_service(
    owner: User, stale: Service
) -> None:
    edit = forms.service_edit_clean(
        forms.service_edit_values(stale, selectors.service_schedules(stale)),
        schedule_keys=[str(s.id) for s in selectors.service_schedules(stale)],
    ).edit
    assert edit is not None

    for version in ("", "not a time", (stale.last_modified - timedelta(seconds=1)).isoformat()):
        with pytest.raises(services.ServiceEditConflict):
            services.service_edit(user=owner, service_id=stale.pk, edit=edit, version=version)
    done = services.service_edit(
        user=owner, service_id=stale.pk, edit=edit, version=selectors.service_version(stale)
    )

    assert done.changed == []


@pytest.mark.django_db(transaction=True)
def test_simultaneous_saves_from_one_version_let_exactly_one_through(
    owner: User, stale: Service
) -> None:
    writers = 10
    schedules = selectors.service_schedules(stale)
    version = selectors.service_version(stale)
    start = threading.Barrier(writers)
    saved: list[str] = []
    refused: list[str] = []
    failures: list[BaseException] = []

    def write(n: int) -> None:
        phone = f"0161 480 00{n:02d}"
        raw = {**forms.service_edit_values(stale, schedules), "phone": phone}
        edit = forms.service_edit_clean(raw, schedule_keys=forms.schedule_keys(schedules)).edit
        try:
            assert edit is not None
            start.wait(timeout=60)
            while True:
                try:
                    services.service_edit(
                        user=owner, service_id=stale.pk, edit=edit, version=version
                    )
                    saved.append(phone)
                    return
                except services.ServiceEditConflict:
                    refused.append(phone)
                    return
                except OperationalError as exc:
                    # SQLite's shared in-memory test database reports a lock at once.
                    if connection.vendor != "sqlite" or "locked" not in str(exc):
                        raise
                    time.sleep(random.uniform(0.001, 0.02))
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
    assert len(saved) == 1
    assert len(refused) == writers - 1
    stale.refresh_from_db()
    assert stale.phone == saved[0]
    assert len(_events(stale, "update")) == 1


def test_an_administrator_can_edit_any_service(
    signed_in: Callable[[User], Client],
    make_user: Callable[..., User],
    make_service: Callable[..., Service],
    stale: Service,
) -> None:
    admin = signed_in(make_user(Role.ADMINISTRATOR))
    orphan = make_service("Lunch club")

    for service in (stale, orphan):
        form = _opened(admin, service)
        saved = admin.post(_edit_url(service), {**form, "description": "Checked by the admin"})
        assert saved.status_code == 302
        service.refresh_from_db()
        assert service.description == "Checked by the admin"
        assert len(_events(service, "update")) == 1


def test_the_review_list_links_to_each_edit_page(
    signed_in: Callable[[User], Client], owner: User, stale: Service
) -> None:
    listed = signed_in(owner).get("/directory/review/").content.decode()

    assert _edit_url(stale) in listed


def _feed(service_id: str, name: str) -> list[dict[str, Any]]:
    return [
        {
            "id": service_id,
            "name": name,
            "status": "active",
            "email": "hello@tameside.example.org",
        }
    ]


def test_an_imported_service_warns_that_the_next_import_overwrites_it(
    signed_in: Callable[[User], Client], owner: User
) -> None:
    sid = "9a4c2e8e-7f0e-4c83-9d5e-2f4d1f9b7c11"
    source = "Tameside directory"
    services.feed_import(
        feed=FeedReader(source).read(_feed(sid, "Walking group")), source=source, filename="a"
    )
    service = Service.objects.get(pk=sid)
    services.service_owner_set(service_id=service.pk, owner=owner, by=None)
    client = signed_in(owner)
    form = _opened(client, service)

    page = client.get(_edit_url(service)).content.decode()
    client.post(_edit_url(service), {**form, "name": "Walking group (Tuesdays)"})
    service.refresh_from_db()
    edited = service.name
    services.feed_import(
        feed=FeedReader(source).read(_feed(sid, "Walking group")), source=source, filename="b"
    )
    service.refresh_from_db()

    assert "Imported from Tameside directory" in page
    assert "replace the ones here" in page
    assert edited == "Walking group (Tuesdays)"
    assert service.name == "Walking group"  # just as the page warned

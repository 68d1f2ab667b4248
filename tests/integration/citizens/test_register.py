"""The public register: sign-up, confirmation by a signed link, change, and erasure."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from joinedup.citizens.models import Lsoa, Postcode, RegisterTally, Volunteer
from joinedup.core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _postcode(borough: Path) -> str:
    return Postcode.objects.order_by("postcode").first().postcode  # type: ignore[union-attr]


def _form(postcode: str, **extra: Any) -> dict[str, Any]:
    data = {
        "given_name": "Zebedee",
        "family_name": "Quixotewright",
        "email": "zebedee.q@example.org",
        "phone": "0161 496 0123",
        "address_line_1": "Flat 2, 10 Larkspur St",
        "town": "Stockport",
        "postcode": postcode.lower().replace(" ", ""),
        "contact_preference": "Email",
        "age_band": "35-44",
        "sex": "F",
        "gender_same_as_sex": "yes",
        "ethnic_group": "Asian",
        "disability": "No",
        "carer": "Yes",
        "tenure": "Social rent",
        "interests": ["Carers", "Mental health"],
        "consent": "yes",
    }
    data.update(extra)
    return data


def _link(kind: str) -> str:
    body = mail.outbox[-1].body
    match = re.search(rf"http://testserver(/citizens/join/{kind}/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


def test_sign_up_derives_neighbourhood_and_quintile_and_emails_a_link(areas: Path) -> None:
    postcode = _postcode(areas)
    client = Client()

    response = client.post("/citizens/join/", _form(postcode))

    assert response.status_code == 302
    volunteer = Volunteer.objects.for_system("test").get()
    lsoa = Lsoa.objects.get(postcodes__postcode=postcode)
    assert volunteer.postcode == postcode
    assert volunteer.neighbourhood == lsoa.neighbourhood
    assert volunteer.imd_quintile == (lsoa.imd_decile + 1) // 2
    assert volunteer.confirmed_at is None
    assert volunteer.household_key.endswith("|2|10|larkspur street")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["zebedee.q@example.org"]


def test_sign_up_confirms_by_link_and_rejects_a_tampered_one(areas: Path) -> None:
    client = Client()
    client.post("/citizens/join/", _form(_postcode(areas)))
    link = _link("confirm")

    tampered = client.get(link[:-3] + "xx/")
    ok = client.get(link)

    assert tampered.status_code == 400
    assert ok.status_code == 200
    assert Volunteer.objects.for_system("test").get().confirmed_at is not None


def test_sign_up_with_problems_shows_each_field_and_saves_nothing(areas: Path) -> None:
    bad = _form("ZZ9 9ZZ", email="not-an-email", sex="", consent="")

    response = Client().post("/citizens/join/", bad)

    assert response.status_code == 400
    text = response.content.decode()
    assert "Enter a postcode in the borough" in text
    assert "Enter an email address in the correct format" in text
    assert "Select your sex" in text
    assert "Confirm that you agree" in text
    assert Volunteer.objects.for_system("test").count() == 0


def test_volunteer_sees_and_changes_their_details_by_a_signed_link(areas: Path) -> None:
    client = Client()
    client.post("/citizens/join/", _form(_postcode(areas)))
    manage = _link("manage")

    page = client.get(manage)
    changed = client.post(manage, _form(_postcode(areas), given_name="Zeb", tenure="Owned"))

    assert "Zebedee" in page.content.decode()
    assert changed.status_code == 302
    volunteer = Volunteer.objects.for_system("test").get()
    assert (volunteer.given_name, volunteer.tenure) == ("Zeb", "Owned")
    assert Client().get("/citizens/join/manage/nonsense/").status_code == 400


def _everything_in_the_database() -> str:
    """Every row of every table as text (the proof that nothing is left behind)."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the schema
            parts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(parts).lower()


def test_erasure_leaves_nothing_identifiable_even_in_the_audit_trail(areas: Path) -> None:
    client = Client()
    postcode = _postcode(areas)
    client.post("/citizens/join/", _form(postcode))
    client.get(_link("confirm"))
    manage = _link("manage")
    client.post(manage, _form(postcode))
    before = _everything_in_the_database()
    assert "quixotewright" in before  # the check below can see a name when there is one

    response = client.post(manage + "delete/")

    assert response.status_code == 200
    after = _everything_in_the_database()
    for secret in ("zebedee", "quixotewright", "zebedee.q@example.org", "496 0123", "larkspur"):
        assert secret not in after, secret
    assert postcode.lower() not in " ".join(AuditEvent.objects.values_list("reason", flat=True))
    assert Volunteer.objects.for_system("test").count() == 0
    assert RegisterTally.objects.get(kind="erased").count == 1
    assert client.get(manage).status_code == 404


def test_sign_up_stands_when_the_mail_server_is_down(
    areas: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(*_: object) -> None:
        raise ConnectionRefusedError

    monkeypatch.setattr("joinedup.citizens.mail.send_mail", refuse)

    response = Client().post("/citizens/join/", _form(_postcode(areas)))

    assert response.status_code == 302
    assert Volunteer.objects.for_system("test").count() == 1
    assert "confirmation email not sent (ConnectionRefusedError)" in caplog.text
    assert "zebedee" not in caplog.text.lower()

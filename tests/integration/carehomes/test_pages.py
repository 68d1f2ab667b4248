"""The register, home and planner pages: who may see and change what, errors and downloads."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from joinedup.carehomes import planner
from joinedup.carehomes.models import AlignmentChange, CareHome
from joinedup.core.models import Organisation, User
from joinedup.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(
    make_home: Callable[..., CareHome], make_practice: Callable[..., Organisation]
) -> dict[str, Any]:
    west = make_practice(latitude=53.40, longitude=-2.25)
    east = make_practice(latitude=53.40, longitude=-2.05)
    home = make_home(latitude=53.401, longitude=-2.051, practice=west, name="Foxglove House")
    make_home(latitude=53.399, longitude=-2.249, practice=west)
    return {"west": west, "east": east, "home": home}


def test_register_and_home_pages_for_any_signed_in_role(
    register: dict[str, Any], make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    client = signed_in(make_user(Role.ANALYST))

    listing = client.get("/care-homes/")
    detail = client.get(f"/care-homes/homes/{register['home'].code}/")

    assert listing.status_code == detail.status_code == 200
    assert "Foxglove House" in listing.content.decode()
    assert register["west"].name in detail.content.decode()
    assert "Change the aligned practice" not in detail.content.decode()
    assert client.get("/care-homes/homes/NOSUCH/").status_code == 404
    assert Client().get("/care-homes/").status_code in {302, 401}


def test_register_downloads_as_csv_and_xlsx(
    register: dict[str, Any], make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    client = signed_in(make_user(Role.GP))

    csv_text = client.get("/care-homes/register.csv").content.decode("utf-8-sig")
    book = load_workbook(io.BytesIO(client.get("/care-homes/register.xlsx").content))

    assert csv_text.startswith("Code,CQC location,Name")
    assert "Foxglove House" in csv_text
    assert book.active is not None
    assert book.active.max_row == 3
    assert client.get("/care-homes/register.pdf").status_code == 404


def test_planner_page_shows_both_alignments_chart_and_tables(
    register: dict[str, Any], make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    client = signed_in(make_user(Role.GP))

    body = client.get("/care-homes/planner/?balance_weight=0").content.decode()

    assert "<svg" in body
    assert "<desc" in body
    assert "Balance by practice" in body
    assert "Alignment by home, current and proposed" in body
    assert "Moves" in body
    assert "Adopt the proposed alignment" not in body  # a GP cannot adopt


def test_planner_bad_input_is_a_field_error(
    register: dict[str, Any], make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    client = signed_in(make_user(Role.GP))

    response = client.get("/care-homes/planner/?balance_weight=lots")

    body = response.content.decode()
    assert response.status_code == 400
    assert 'href="#balance_weight"' in body
    assert "Enter the balance weight as a number" in body
    assert client.get("/care-homes/planner/?max_homes=-1").status_code == 400


def test_planner_downloads(
    register: dict[str, Any], make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    client = signed_in(make_user(Role.GP))

    homes = client.get("/care-homes/planner/homes.csv?balance_weight=0")
    workbook = load_workbook(io.BytesIO(client.get("/care-homes/planner/all.xlsx").content))

    assert homes.status_code == 200
    assert homes.content.decode("utf-8-sig").startswith("Home code,Home,Type,Beds")
    assert workbook.sheetnames == ["Alignment by home", "Balance by practice", "Totals"]
    assert client.get("/care-homes/planner/nothing.csv").status_code == 404


def test_only_the_programme_may_adopt_or_change_alignments(
    register: dict[str, Any], make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    fingerprint = planner.compare().fingerprint
    gp = signed_in(make_user(Role.GP))
    officer = signed_in(make_user(Role.PORTFOLIO_OFFICER))

    refused = gp.post("/care-homes/planner/adopt/", {"fingerprint": fingerprint})
    assert refused.status_code == 403
    assert not AlignmentChange.objects.exists()

    page = officer.get("/care-homes/planner/").content.decode()
    adopted = officer.post("/care-homes/planner/adopt/", {"fingerprint": fingerprint})

    assert "Adopt the proposed alignment" in page
    assert adopted.status_code == 302
    assert AlignmentChange.objects.count() == 1
    assert "1 homes moved" in officer.get(adopted["Location"]).content.decode()
    stale = officer.post("/care-homes/planner/adopt/", {"fingerprint": fingerprint})
    assert stale.status_code == 409


def test_home_alignment_form_validates_and_saves(
    register: dict[str, Any], make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    home, east = register["home"], register["east"]
    url = f"/care-homes/homes/{home.code}/"
    officer = signed_in(make_user(Role.PORTFOLIO_OFFICER))

    missing = officer.post(url, {"practice": east.ods_code, "reason": ""})
    saved = officer.post(url, {"practice": east.ods_code, "reason": "nearer"})
    gp_try = signed_in(make_user(Role.GP)).post(url, {"practice": "", "reason": "x"})

    assert missing.status_code == 400
    assert 'href="#reason"' in missing.content.decode()
    assert saved.status_code == 302
    home.refresh_from_db()
    assert home.aligned_practice == east
    assert gp_try.status_code == 404
    assert AlignmentChange.objects.count() == 1


def test_planner_on_an_empty_register_explains_why_it_cannot_plan(
    make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    response = signed_in(make_user(Role.GP)).get("/care-homes/planner/")

    assert response.status_code == 200
    assert "The planner cannot propose an alignment" in response.content.decode()
    assert "register is empty" in response.content.decode()


def test_person_header_flags_a_care_home_resident_only(
    make_home: Callable[..., CareHome],
    make_resident: Callable[..., Any],
    make_person: Callable[..., Any],
    make_team: Callable[..., Any],
    make_user: Callable[..., User],
    relate: Callable[..., Any],
    signed_in: Callable[[User], Client],
) -> None:
    home = make_home()
    team = make_team()
    client = signed_in(make_user(Role.DISTRICT_NURSE, teams=[team]))
    resident = make_resident(home)
    neighbour = make_person(address="4 Holly Road", postcode=home.postcode)
    for person in (resident, neighbour):
        relate(person, team)

    resident_page = client.get(f"/people/{resident.id}/").content.decode()
    neighbour_page = client.get(f"/people/{neighbour.id}/").content.decode()

    assert f"Lives in a care home: {home.name}" in resident_page
    assert "Lives in a care home" not in neighbour_page


def test_caseload_rows_flag_the_care_home_residents_and_export_the_home(
    make_home: Callable[..., CareHome],
    make_resident: Callable[..., Any],
    make_person: Callable[..., Any],
    make_team: Callable[..., Any],
    make_user: Callable[..., User],
    relate: Callable[..., Any],
    signed_in: Callable[[User], Client],
) -> None:
    from datetime import date

    from joinedup.neighbourhoods.models import CaseloadEntry

    home = make_home()
    team = make_team()
    client = signed_in(make_user(Role.DISTRICT_NURSE, teams=[team]))
    resident = make_resident(home)
    neighbour = make_person(address="4 Holly Road", postcode=home.postcode)
    for person in (resident, neighbour):
        relate(person, team)
        CaseloadEntry.objects.create(
            team=team, person=person, reason="Frailty review", started_on=date(2026, 1, 5)
        )

    page = client.get(f"/neighbourhoods/teams/{team.pk}/caseload/").content.decode()
    export = client.get(f"/neighbourhoods/teams/{team.pk}/caseload/?format=csv")

    assert page.count(">Care home</strong>") == 1
    assert home.name in page
    lines = export.content.decode("utf-8-sig").splitlines()
    assert "Care home" in lines[0]
    assert sum(home.name in line for line in lines[1:]) == 1


def test_portfolio_measure_is_the_share_of_homes_aligned(
    make_home: Callable[..., CareHome], make_practice: Callable[..., Organisation]
) -> None:
    from joinedup.carehomes.measures import register
    from joinedup.portfolio.measures import measure_current

    register()  # as the app does when it starts (other tests may have emptied the registry)
    assert measure_current("care_homes_aligned_percent").state == "not_measured"
    practice = make_practice()
    make_home(practice=practice)
    make_home(practice=practice)
    make_home()

    reading = measure_current("care_homes_aligned_percent")

    assert reading.value is not None
    assert reading.value.value == 66.7
    assert reading.value.note == "2 of 3 care homes in the register"

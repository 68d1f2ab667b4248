"""Analysts' pages (planning zone) and the direct-care list of frail people."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from openpyxl import load_workbook
from tests.unit.population.warehouse_data import make_warehouse

from joinedup.core.models import AuditEvent
from joinedup.core.roles import Role
from joinedup.people.models import RelationshipKind, SourceIdentity
from joinedup.population import selectors, services
from joinedup.record.models import Delivery, Fact

pytestmark = pytest.mark.django_db
PAGES = (
    "/population/",
    "/population/life-expectancy/",
    "/population/mortality/",
    "/population/frailty/",
    "/population/vaccines/",
)


@pytest.fixture
def warehouse_dir(tmp_path: Path) -> Any:
    make_warehouse(tmp_path / "wh", people=3000, seed=8)
    with override_settings(WAREHOUSE_DIR=str(tmp_path / "wh")):
        yield tmp_path / "wh"


def test_population_pages_show_charts_tables_and_downloads(
    warehouse_dir: Path, make_user: Callable[..., Any], signed_in: Callable[..., Any]
) -> None:
    client = signed_in(make_user(role=Role.ANALYST))

    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
    body = client.get("/population/life-expectancy/").content.decode()
    assert "<svg" in body
    assert "<desc" in body
    assert "nhsuk-table" in body
    assert "/population/tables/life-expectancy-gap.csv" in body


def test_population_scorecard_for_each_neighbourhood(
    warehouse_dir: Path, make_user: Callable[..., Any], signed_in: Callable[..., Any]
) -> None:
    client = signed_in(make_user(role=Role.ANALYST))

    response = client.get("/population/scorecards/north/")

    body = response.content.decode()
    assert response.status_code == 200
    for aim in ("Healthier people", "Quality services", "Sustainable system"):
        assert aim in body
    assert "Compared with the borough" in body
    assert client.get("/population/scorecards/nowhere/").status_code == 404


def test_population_tables_download_as_csv_and_xlsx(
    warehouse_dir: Path, make_user: Callable[..., Any], signed_in: Callable[..., Any]
) -> None:
    user = make_user(role=Role.ANALYST)
    client = signed_in(user)

    csv_response = client.get("/population/tables/life-expectancy.csv")
    xlsx_response = client.get("/population/tables/premature-mortality.xlsx")

    assert csv_response.status_code == 200
    assert csv_response.content.decode().startswith("Area type,Area,Sex,At age,Life expectancy")
    book = load_workbook(io.BytesIO(xlsx_response.content))
    assert book.active["A2"].value == "Area type"
    assert client.get("/population/tables/life-expectancy.pdf").status_code == 404
    assert AuditEvent.objects.filter(actor_id=user.pk, action="export").count() == 2


def test_population_pages_refuse_direct_care_roles(
    warehouse_dir: Path, make_user: Callable[..., Any], signed_in: Callable[..., Any]
) -> None:
    client = signed_in(make_user(role=Role.GP))

    assert client.get("/population/").status_code == 403
    assert client.get("/population/tables/life-expectancy.csv").status_code == 403


def test_population_without_a_warehouse_says_so(
    tmp_path: Path, make_user: Callable[..., Any], signed_in: Callable[..., Any]
) -> None:
    with override_settings(WAREHOUSE_DIR=str(tmp_path / "none")):
        response = signed_in(make_user(role=Role.ANALYST)).get("/population/")
    assert response.status_code == 404
    assert "joinedup warehouse build" in response.content.decode()


# -- direct care ---------------------------------------------------------------------------


def _findings(person: Any, codes: list[str]) -> None:
    now = timezone.now()
    delivery = Delivery.objects.create(
        feed="gp", path=f"x{person.pk}", sha256="0" * 64, size=1, received_at=now, status="complete"
    )
    identity = SourceIdentity.objects.create(
        source="gp",
        source_id=str(person.pk),
        person=person,
        delivery_id=delivery.pk,
        received_at=now,
    )
    for n, code in enumerate(codes):
        Fact.objects.create(
            identity=identity,
            source="gp",
            record_id=f"{person.pk}-{n}",
            kind="condition",
            code=code,
            occurred_at=now - dt.timedelta(days=30),
            delivery=delivery,
            received_at=now,
        )


def _codes(count: int) -> list[str]:
    reference = selectors.efi_reference()
    if reference is None:
        pytest.skip("the eFI reference tables are not installed")
    by_deficit: dict[int, str] = {}
    for code, deficits in reference.code_deficits.items():
        if len(deficits) == 1 and deficits[0] not in by_deficit:
            by_deficit[deficits[0]] = code
    return [by_deficit[d] for d in sorted(by_deficit)[:count]]


def test_frail_people_not_on_caseload_for_direct_care(
    make_user: Callable[..., Any],
    make_team: Callable[..., Any],
    make_person: Callable[..., Any],
    relate: Callable[..., Any],
    signed_in: Callable[..., Any],
) -> None:
    team = make_team()
    user = make_user(role=Role.DISTRICT_NURSE, teams=[team])
    severe, moderate, fit, stranger, on_caseload = (
        make_person(date_of_birth=dt.date(1935, 1, 1)) for _ in range(5)
    )
    for person, count in ((severe, 13), (moderate, 9), (fit, 2), (stranger, 14), (on_caseload, 13)):
        _findings(person, _codes(count))
    for person in (severe, moderate, fit):
        relate(person, team, kind=RelationshipKind.CARE_TEAM)
    relate(on_caseload, team, kind=RelationshipKind.CASELOAD)

    listed = services.frail_not_on_caseload(user=user)
    page = signed_in(user).get("/population/frail-people/")

    assert [(p.id, p.category) for p in listed] == [
        (severe.id, "severe"),
        (moderate.id, "moderate"),
    ]
    assert page.status_code == 200
    assert severe.family_name.upper() in page.content.decode()
    assert stranger.family_name.upper() not in page.content.decode()
    assert AuditEvent.objects.filter(resource="population.frail_not_on_caseload").exists()
    assert (
        signed_in(make_user(role=Role.ANALYST)).get("/population/frail-people/").status_code == 403
    )


def test_frailty_category_answers_only_for_visible_people_and_audits(
    make_user: Callable[..., Any],
    make_team: Callable[..., Any],
    make_person: Callable[..., Any],
    relate: Callable[..., Any],
) -> None:
    team = make_team()
    user = make_user(role=Role.GP, teams=[team])
    mine, other, young = (
        make_person(date_of_birth=d)
        for d in (dt.date(1940, 3, 3), dt.date(1940, 3, 3), dt.date(1990, 1, 1))
    )
    _findings(mine, _codes(10))
    _findings(other, _codes(10))
    relate(mine, team, kind=RelationshipKind.CASELOAD)
    relate(young, team, kind=RelationshipKind.CASELOAD)

    answer = services.frailty_category([mine.id, other.id, young.id], user=user)

    assert answer == {mine.id: "moderate"}
    assert AuditEvent.objects.filter(resource="population.frailty", person_id=mine.id).count() == 1
    assert not AuditEvent.objects.filter(resource="population.frailty", person_id=other.id).exists()


def test_person_header_shows_the_frailty_category_only_for_65_and_over(
    make_user: Callable[..., Any],
    make_team: Callable[..., Any],
    make_person: Callable[..., Any],
    relate: Callable[..., Any],
    signed_in: Callable[..., Any],
) -> None:
    team = make_team()
    client = signed_in(make_user(role=Role.DISTRICT_NURSE, teams=[team]))
    older = make_person(date_of_birth=dt.date(1938, 5, 5))
    younger = make_person(date_of_birth=dt.date(1988, 5, 5))
    _findings(older, _codes(13))
    _findings(younger, _codes(13))
    for person in (older, younger):
        relate(person, team, kind=RelationshipKind.CASELOAD)

    older_page = client.get(f"/people/{older.id}/").content.decode()
    younger_page = client.get(f"/people/{younger.id}/").content.decode()

    assert "Severe frailty" in older_page
    assert "Not assessed (under 65)" in younger_page
    assert "frailty" not in younger_page.replace("Frailty (eFI)", "").lower()
    assert AuditEvent.objects.filter(resource="population.frailty", person_id=older.id).exists()


def test_portfolio_measures_come_from_the_current_build_or_not_at_all(
    warehouse_dir: Path, tmp_path: Path
) -> None:
    from joinedup.population import measures as population_measures
    from joinedup.population import selectors as population_selectors
    from joinedup.portfolio.measures import measure_current as reading

    population_measures.register()  # as the app does when it starts
    report = population_selectors.population_report()
    male_gap = next(g for g in report.gaps if g.sex == "male")

    gap = reading("life_expectancy_gap_years_male")
    flu = reading("flu_uptake_65plus_gap_deciles")
    admissions = reading("emergency_admissions_per_1000_65plus")
    with override_settings(WAREHOUSE_DIR=str(tmp_path / "none")):
        nothing = [compute() for _, _, _, compute in population_measures.MEASURES]

    assert gap.value is not None
    assert gap.value.value == round(male_gap.sii, 1)
    assert flu.value is not None
    assert flu.value.value >= 0
    assert admissions.state == "measured"
    assert nothing == [None, None, None, None]

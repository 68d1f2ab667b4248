"""The borough's workforce loads through the importer, and every page serves each reader."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from joinedup.core.models import Neighbourhood, Organisation, User
from joinedup.core.reference import organisations_sync
from joinedup.core.roles import Role
from joinedup.workforce.demo import demo_load
from joinedup.workforce.models import Establishment, ImportBatch, ImportProblem, StaffRecord

pytestmark = pytest.mark.django_db


def _quiet(_what: str, _done: int, _total: int) -> None:
    return None


@pytest.fixture
def loaded(borough: Path) -> Path:
    organisations_sync(borough / "reference" / "organisations.csv")
    demo_load(borough, progress=_quiet)
    return borough


def test_demo_load_accepts_or_keeps_every_row_and_is_idempotent(loaded: Path) -> None:
    with (loaded / "workforce" / "staff.csv").open() as handle:
        rows = sum(1 for _ in handle) - 1
    batch = ImportBatch.objects.get(filename="workforce/staff.csv")
    kept = ImportProblem.objects.filter(batch=batch).values("line").distinct().count()
    assert batch.rows_read == rows
    assert batch.accepted + kept == rows
    assert StaffRecord.objects.count() == batch.accepted
    before = (
        StaffRecord.objects.count(),
        Establishment.objects.count(),
        ImportBatch.objects.count(),
    )

    demo_load(loaded, progress=_quiet)

    after = (
        StaffRecord.objects.count(),
        Establishment.objects.count(),
        ImportBatch.objects.count(),
    )
    assert after == before


def test_demo_establishment_is_funded_for_every_borough_line(loaded: Path) -> None:
    with (loaded / "workforce" / "establishment.csv").open() as handle:
        funded = sum(float(r["funded_wte"]) for r in csv.DictReader(handle))
    held = sum(float(e.funded_wte) for e in Establishment.objects.all())
    assert held == pytest.approx(funded, abs=0.05)
    assert Establishment.objects.filter(pooled_kind="gp_practice").exists()


def test_workforce_lead_sees_vacancies_by_neighbourhood_and_staff_group(
    loaded: Path, make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    lead = signed_in(make_user(role=Role.WORKFORCE_LEAD))

    page = lead.get("/workforce/?as_at=2026-03-31")

    text = page.content.decode()
    assert page.status_code == 200
    assert "Vacancies by neighbourhood and staff group" in text
    hood = Neighbourhood.objects.filter(name="Stockport Central").first()
    assert hood is not None
    assert hood.name.replace("&", "&amp;") in text
    assert "NHS: Nursing and Midwifery Registered" in text
    assert "[c]<span" not in text
    assert "<svg" in text
    assert "<desc" in text


def test_other_roles_see_suppressed_aggregates_only(
    loaded: Path, make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    gp = signed_in(make_user(role=Role.GP))

    page = gp.get("/workforce/?as_at=2026-03-31")
    staff = gp.get("/workforce/staff/")
    export = gp.get("/workforce/staff/?format=xlsx")

    assert page.status_code == 200
    assert "[c]<span" in page.content.decode()
    assert "S100" not in page.content.decode()  # no staff references
    assert staff.status_code == 403
    assert export.status_code == 403


def test_downloads_are_csv_and_xlsx(
    loaded: Path, make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    lead = signed_in(make_user(role=Role.WORKFORCE_LEAD))

    csv_page = lead.get("/workforce/baseline/neighbourhood.csv?as_at=2026-03-31")
    xlsx_page = lead.get("/workforce/baseline/all.xlsx?as_at=2026-03-31")
    bad = lead.get("/workforce/baseline/neighbourhood.pdf")

    assert csv_page["Content-Type"].startswith("text/csv")
    assert "Neighbourhood,Headcount" in csv_page.content.decode("utf-8-sig")
    assert xlsx_page.content[:2] == b"PK"
    assert bad.status_code == 404


def test_staff_list_is_audited_for_the_lead(
    loaded: Path, make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    from joinedup.core.models import AuditEvent

    lead = make_user(role=Role.WORKFORCE_LEAD)

    page = signed_in(lead).get("/workforce/staff/")

    assert page.status_code == 200
    assert "S100" in page.content.decode()
    assert AuditEvent.objects.filter(actor_id=lead.pk, resource="workforce.staff").exists()


def test_team_directory_lists_teams_with_contacts(
    loaded: Path,
    make_user: Callable[..., User],
    make_team: Callable[..., object],
    signed_in: Callable[[User], Client],
) -> None:
    team = make_team(name="Marple INT")
    lead = signed_in(make_user(role=Role.WORKFORCE_LEAD))

    bad = lead.post(f"/workforce/teams/{team.pk}/contact/", {"phone": "call me", "email": ""})  # type: ignore[attr-defined]
    good = lead.post(
        f"/workforce/teams/{team.pk}/contact/",  # type: ignore[attr-defined]
        {"phone": "0161 496 0999", "email": "marple@example.org", "hours": "", "base": ""},
    )
    listing = signed_in(make_user(role=Role.GP)).get("/workforce/teams/")

    assert bad.status_code == 400
    assert good.status_code == 302
    assert "0161 496 0999" in listing.content.decode()
    assert Organisation.objects.exists()


def test_demo_turnover_is_realistic_and_the_page_defaults_to_the_data_date(
    loaded: Path, make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    from datetime import date

    from joinedup.workforce import selectors
    from joinedup.workforce.presenters import baseline_view

    data = selectors.baseline_data()
    view = baseline_view(data, selectors.period_ending(date(2026, 3, 31)), exact=True)
    total = next(iter(view.tables.values())).total
    leavers = StaffRecord.objects.filter(leaving_date__isnull=False)

    page = signed_in(make_user(role=Role.WORKFORCE_LEAD)).get("/workforce/")

    assert 8 < total.turnover < 25  # NHS about 11% a year, care workers about 26%
    assert leavers.exists()
    assert not leavers.filter(leaving_date__gt=date(2026, 3, 31)).exists()
    latest = selectors.latest_data_date()
    assert latest is not None
    assert date(2026, 3, 1) <= latest <= date(2026, 3, 31)  # the extract's last weeks
    assert f"on {latest:%-d %B %Y}, the latest date in the staff records" in page.content.decode()

"""The engagement officers' register pages: make-up against the population, search, export,
and the access rules around them."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from markupsafe import escape
from openpyxl import load_workbook
from tests.integration.citizens.helpers import everyone

from joinedup.citizens import selectors
from joinedup.citizens.models import PopulationCount, Volunteer
from joinedup.core.access import UnscopedQuery
from joinedup.core.models import AuditEvent, User
from joinedup.core.roles import Role

pytestmark = pytest.mark.django_db

STAFF_PAGES = (
    "/citizens/",
    "/citizens/volunteers/?q=a",
    "/citizens/volunteers/export.csv",
    "/citizens/import/",
    "/citizens/panels/",
    "/citizens/panels/new/",
    "/citizens/you-said-we-did/",
)


@pytest.mark.parametrize("role", [Role.GP, Role.ANALYST, Role.ADMINISTRATOR])
def test_staff_pages_refuse_roles_that_do_not_manage_the_register(
    role: Role,
    register: Path,
    make_user: Callable[..., User],
    signed_in: Callable[[User], Client],
) -> None:
    client = signed_in(make_user(role))
    name = everyone().order_by("ref").first().family_name  # type: ignore[union-attr]

    for url in STAFF_PAGES:
        response = client.get(url)
        assert response.status_code == 403, url
        assert name not in response.content.decode()


def test_staff_pages_send_anonymous_users_to_sign_in(register: Path) -> None:
    for url in STAFF_PAGES:
        assert Client().get(url).status_code in {302, 401}, url


def test_volunteers_are_never_read_without_a_scope(register: Path) -> None:
    with pytest.raises(UnscopedQuery):
        list(Volunteer.objects.all())
    with pytest.raises(UnscopedQuery):
        Volunteer.objects.filter(sex="F").count()


def test_visible_to_gives_nobody_to_a_role_without_the_register(
    register: Path, make_user: Callable[..., User], officer: User
) -> None:
    assert Volunteer.objects.visible_to(make_user(Role.GP)).count() == 0
    assert Volunteer.objects.visible_to(officer).count() == everyone().count() > 0


def test_makeup_compares_the_pool_with_the_adult_population(register: Path, officer: User) -> None:
    sexes = Counter(everyone().values_list("sex", flat=True))
    women = sum(PopulationCount.objects.filter(sex="F").values_list("count", flat=True), start=0.0)
    adults = sum(PopulationCount.objects.values_list("count", flat=True), start=0.0)

    table = {m.feature: m for m in selectors.makeup(user=officer)}

    female = next(s for s in table["sex"].shares if s.value == "F")
    assert female.pool == sexes["F"]
    assert female.pool_share == pytest.approx(sexes["F"] / sexes.total())
    assert female.population_share == pytest.approx(women / adults)
    bands = [s.value for s in table["age_band"].shares]
    assert bands == ["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
    young = table["age_band"].shares[0]
    assert young.under  # the synthetic register leans old, like real ones
    assert all(s.population_share is None for s in table["ethnic_group"].shares)


def test_home_page_shows_the_gaps_for_one_neighbourhood(
    register: Path, officer_client: Client
) -> None:
    hood = everyone().exclude(neighbourhood=None).first().neighbourhood  # type: ignore[union-attr]
    assert hood is not None

    response = officer_client.get(f"/citizens/?neighbourhood={hood.code}")

    text = response.content.decode()
    assert response.status_code == 200
    assert f"in {hood.name}" in text.replace("&amp;", "&")
    assert "Under-represented" in text
    assert "<svg" in text  # the chart, with its table beside it
    assert officer_client.get("/citizens/?neighbourhood=nowhere").status_code == 400


def test_search_finds_by_name_postcode_or_reference_and_is_audited(
    register: Path, officer_client: Client
) -> None:
    someone = everyone().order_by("ref")[3]

    by_name = officer_client.get(f"/citizens/volunteers/?q={someone.family_name}")
    by_ref = officer_client.get(f"/citizens/volunteers/?q={someone.ref.lower()}")

    assert someone.ref in by_name.content.decode()
    assert escape(someone.family_name) in by_ref.content.decode()
    searches = AuditEvent.objects.filter(resource="citizens.volunteers", action="search")
    assert searches.count() == 2


def test_search_with_no_words_lists_nobody_and_audits_nothing(
    register: Path, officer_client: Client
) -> None:
    response = officer_client.get("/citizens/volunteers/?q=")

    assert response.status_code == 200
    assert not AuditEvent.objects.filter(resource="citizens.volunteers").exists()


def test_export_as_csv_and_xlsx_lists_every_volunteer_and_is_audited(
    register: Path, officer_client: Client
) -> None:
    csv_response = officer_client.get("/citizens/volunteers/export.csv")
    xlsx_response = officer_client.get("/citizens/volunteers/export.xlsx")

    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["ref", "external_id", "given_name", "family_name"]
    assert {r[0] for r in rows[1:]} == set(everyone().values_list("ref", flat=True))
    sheet = load_workbook(io.BytesIO(xlsx_response.content)).worksheets[0]
    assert sheet.max_row == len(rows)
    assert [c.value for c in sheet[1]][:2] == ["ref", "external_id"]
    exports = AuditEvent.objects.filter(resource="citizens.volunteers", action="export")
    assert exports.count() == 2
    assert officer_client.get("/citizens/volunteers/export.pdf").status_code == 404

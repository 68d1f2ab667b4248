"""Staff imports from CSV and XLSX: every row accepted or kept back with its reason."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook
from tests.integration.citizens.helpers import everyone

from joinedup.citizens.imports import volunteers_import
from joinedup.citizens.models import ImportBatch, Postcode
from joinedup.core.models import AuditEvent, User
from joinedup.errors import InvalidInput

pytestmark = pytest.mark.django_db

HEADER = "Citizen ID,First name,Surname,Email,Address,Postcode,Age band,Sex,Ethnicity,Disability"


def _postcodes(n: int) -> list[str]:
    return list(Postcode.objects.order_by("postcode").values_list("postcode", flat=True)[:n])


def _csv(*rows: str) -> bytes:
    return ("\n".join((HEADER, *rows)) + "\n").encode()


def test_import_accepts_good_rows_and_keeps_each_bad_row_with_its_reason(
    areas: Path, officer: User
) -> None:
    a, b = _postcodes(2)
    content = _csv(
        f"C1,Ann,Amos,ann@example.org,1 Mill Lane,{a},35-44,F,Asian,No",
        f"C2,Bob,Bell,bob@example.org,2 Mill Lane,{b.lower().replace(' ', '')},75+,M,Black,",
        f"C3,Cy,Cole,not-an-email,3 Mill Lane,{a},35-44,F,Asian,No",
        "C4,Di,Dee,di@example.org,4 Mill Lane,ZZ9 9ZZ,35-44,F,Asian,No",
        f"C5,Ed,Eyre,ed@example.org,5 Mill Lane,{a},ninety,F,Asian,No",
        f"C1,Fay,Ford,fay@example.org,6 Mill Lane,{a},35-44,F,Asian,No",
        ",,,,,,,,,",
    )

    result = volunteers_import(name="register.csv", content=content, user=officer)

    batch = ImportBatch.objects.get()
    kept = {(p.line, p.field) for p in batch.problems.all()}
    assert (batch.rows_read, batch.rows_accepted, result.added) == (6, 2, 2)
    assert kept == {(4, "email"), (5, "postcode"), (6, "age_band"), (7, "external_id")}
    assert {p.line for p in batch.problems.all()} | {2, 3} == set(range(2, 8))
    assert "line 2" in batch.problems.get(line=7).reason
    bob = everyone().get(external_id="C2")
    assert (bob.postcode, bob.disability) == (b, "Prefer not to say")
    assert bob.neighbourhood is not None
    assert bob.imd_quintile in {1, 2, 3, 4, 5}


def test_import_report_never_quotes_personal_details(areas: Path, officer: User) -> None:
    (a,) = _postcodes(1)
    content = _csv(f"C1,Ann,Zanzibarova,bad@@example,1 Mill Lane,{a},35-44,F,Asian,No")

    volunteers_import(name="register.csv", content=content, user=officer)

    reasons = " ".join(ImportBatch.objects.get().problems.values_list("reason", flat=True))
    assert "Enter an email address" in reasons
    assert "bad@@example" not in reasons
    assert "Zanzibarova" not in reasons


def test_import_updates_a_volunteer_with_the_same_id(areas: Path, officer: User) -> None:
    a, b = _postcodes(2)
    volunteers_import(
        name="one.csv",
        content=_csv(f"C1,Ann,Amos,ann@example.org,1 Mill Lane,{a},35-44,F,Asian,No"),
        user=officer,
    )

    result = volunteers_import(
        name="two.csv",
        content=_csv(f"C1,Ann,Amos-Berry,ann@example.org,9 Kiln Road,{b},45-54,F,Asian,No"),
        user=officer,
    )

    assert (result.added, result.updated) == (0, 1)
    ann = everyone().get()
    assert (ann.family_name, ann.postcode, ann.age_band) == ("Amos-Berry", b, "45-54")
    assert ann.household_key.startswith(f"{b}||9|")


def test_import_reads_xlsx_with_dates_and_numbers(areas: Path, officer: User) -> None:
    (a,) = _postcodes(1)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    header = ["citizen_id", "given_name", "family_name", "email", "postcode", "age_band"]
    sheet.append([*header, "sex", "ethnic_group", "joined_date"])
    sheet.append(
        [1001, "Gil", "Grey", "gil@example.org", a, "55-64", "M", "Mixed", date(2024, 5, 6)]
    )
    sheet.append([1002, "Hal", "Hart", "", a, "55-64", "M", "Mixed", date(2024, 5, 6)])
    buffer = io.BytesIO()
    book.save(buffer)

    result = volunteers_import(name="register.xlsx", content=buffer.getvalue(), user=officer)

    assert result.added == 1
    gil = everyone().get()
    assert (gil.external_id, gil.joined) == ("1001", date(2024, 5, 6))
    problems = ImportBatch.objects.get().problems.all()
    assert {(p.line, p.field) for p in problems} == {(3, "email"), (3, "address_line_1")}


def test_import_refuses_a_file_that_is_not_csv_or_xlsx(areas: Path, officer: User) -> None:
    with pytest.raises(InvalidInput, match=r"\.csv or \.xlsx"):
        volunteers_import(name="register.pdf", content=b"%PDF", user=officer)
    with pytest.raises(InvalidInput, match="not a readable XLSX"):
        volunteers_import(name="register.xlsx", content=b"not a zip", user=officer)


def test_import_page_uploads_and_shows_the_row_report(areas: Path, officer_client: Client) -> None:
    (a,) = _postcodes(1)
    content = _csv(
        f"C1,Ann,Amos,ann@example.org,1 Mill Lane,{a},35-44,F,Asian,No",
        f"C2,Bo,Bell,bo@example.org,2 Mill Lane,{a},35-44,Q,Asian,No",
    )

    response = officer_client.post(
        "/citizens/import/", {"file": SimpleUploadedFile("register.csv", content)}
    )

    assert response.status_code == 302
    report = officer_client.get(response["Location"]).content.decode()
    assert "Select your sex" in report
    assert ">3<" in report  # the line number of the kept-back row
    assert AuditEvent.objects.filter(resource__startswith="citizens.import:").exists()
    download = officer_client.get(response["Location"] + "report.csv")
    assert download.content.decode("utf-8-sig").splitlines() == [
        "line,field,reason",
        "3,sex,Select your sex",
    ]


def test_import_page_says_what_is_wrong_with_no_file(officer_client: Client) -> None:
    response = officer_client.post("/citizens/import/", {})

    assert response.status_code == 400
    assert "Choose a CSV or XLSX file" in response.content.decode()

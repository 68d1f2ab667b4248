"""Extract imports: every row accepted or kept back with its reasons, idempotent, by CLI too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from joinedup.core.models import Neighbourhood, Organisation, OrganisationKind, User
from joinedup.core.roles import Role
from joinedup.workforce.cli import app
from joinedup.workforce.models import Establishment, ImportProblem, StaffRecord
from joinedup.workforce.selectors import sees_people
from joinedup.workforce.services import establishment_import_file, staff_import_file

pytestmark = pytest.mark.django_db

ESR_HEAD = (
    "Assignment Number,"
    "Organisation Code,"
    "Team,"
    "Neighbourhood,"
    "Staff Group,"
    "Job Role,"
    "Occupation Code,"
    "Pay Band,"
    "Assignment Category,"
    "Contracted Hours,"
    "FTE,"
    "Age Band,"
    "Gender,"
    "Ethnic Origin,"
    "Start Date,"
    "Termination Date"
)
SC_HEAD = (
    "Worker ID,"
    "Employer Code,"
    "Team,"
    "Neighbourhood,"
    "Job Role Category,"
    "Main Job Role,"
    "Pay Grade,"
    "Contract Type,"
    "Contracted Hours,"
    "Full-time Hours,"
    "WTE,"
    "Age Band,"
    "Sex,"
    "Ethnicity,"
    "Start Date,"
    "Leaving Date"
)


@pytest.fixture
def employers(db: None) -> None:
    hood = Neighbourhood.objects.create(code="tame", name="Tame Valley")
    Organisation.objects.create(ods_code="RZ9", name="Trust", kind=OrganisationKind.ACUTE_TRUST)
    Organisation.objects.create(
        ods_code="LA901A", name="Adult Social Care", kind=OrganisationKind.LOCAL_AUTHORITY
    )
    Organisation.objects.create(
        ods_code="Z88001",
        name="Oak Practice",
        kind=OrganisationKind.GP_PRACTICE,
        neighbourhood=hood,
    )


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_esr_extract_accepts_good_rows_and_keeps_each_bad_one_with_every_reason(
    employers: None, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "esr.csv",
        [
            ESR_HEAD,
            (
                "A1,RZ9,,Tame Valley,03,Staff Nurse,N0A,Band 5,Permanent,37.5,1,25-34,F,"
                "White British,2020-04-01,"
            ),
            (
                "A2,RZ9,,,Nursing and Midwifery Registered,Ward Sister,,Band 7,Fixed Term Temp,30,,"
                "55-64,Female,,01/06/2015,31/12/2025"
            ),
            "A3,XX1,,,03,Staff Nurse,,,,,1,,,,2020-04-01,",
            "A4,RZ9,,,99,,TOOLONG,,Weekly,,,old,Q,,2020-02-30,",
            "A5,Z88001,,,gp,Salaried GP,,,,,0.6,45-54,M,,2019-09-01,",
            "A1,RZ9,,,03,Staff Nurse,,,,,1,,,,2020-04-01,",
            "A6,RZ9,only three",
        ],
    )

    summary = staff_import_file(path=path, fmt="esr")

    assert (summary.rows_read, summary.accepted, summary.rejected) == (7, 3, 4)
    a2 = StaffRecord.objects.get(staff_ref="A2")
    assert str(a2.wte) == "0.80"
    assert a2.contract == "fixed_term"
    assert a2.sex == "Female"
    assert StaffRecord.objects.get(staff_ref="A5").neighbourhood is not None  # from the practice
    reasons = {p.line: [] for p in ImportProblem.objects.all()}
    for p in ImportProblem.objects.all():
        reasons[p.line].append(p.field)
    assert reasons[4] == ["organisation"]
    assert {
        "staff_group",
        "role",
        "occupation_code",
        "contract",
        "age_band",
        "sex",
        "start_date",
    } <= set(reasons[5])
    assert reasons[7] == ["staff_ref"]
    assert reasons[8] == [""]


def test_reimporting_an_extract_updates_and_adds_nothing(employers: None, tmp_path: Path) -> None:
    first = _write(
        tmp_path, "esr.csv", [ESR_HEAD, "A1,RZ9,,,03,Staff Nurse,,Band 5,,,1,,,,2020-04-01,"]
    )
    staff_import_file(path=first, fmt="esr")
    again = _write(
        tmp_path,
        "esr.csv",
        [ESR_HEAD, "A1,RZ9,,,03,Staff Nurse,,Band 6,,,1,,,,2020-04-01,2026-01-31"],
    )

    staff_import_file(path=again, fmt="esr")

    record = StaffRecord.objects.get()
    assert record.pay_band == "Band 6"
    assert str(record.leaving_date) == "2026-01-31"


def test_social_care_extract_checks_roles_against_the_classification(
    employers: None, tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(SC_HEAD.split(","))
    sheet.append(
        [
            "W1",
            "LA901A",
            "",
            "",
            "",
            "Care worker",
            "Grade 5",
            "Permanent",
            30,
            37,
            None,
            "35-44",
            "F",
            "",
            "2021-01-04",
            "",
        ]
    )
    sheet.append(
        [
            "W2",
            "LA901A",
            "",
            "",
            "Regulated profession",
            "Care worker",
            "",
            "",
            None,
            None,
            1,
            "",
            "",
            "",
            "2021-01-04",
            "",
        ]
    )
    sheet.append(
        ["W3", "LA901A", "", "", "", "Wizard", "", "", None, None, 1, "", "", "", "2021-01-04", ""]
    )
    path = tmp_path / "sc.xlsx"
    book.save(path)

    summary = staff_import_file(path=path, fmt="socialcare")

    assert (summary.accepted, summary.rejected) == (1, 2)
    w1 = StaffRecord.objects.get(staff_ref="W1")
    assert w1.staff_group.name == "Direct care"
    assert str(w1.wte) == "0.81"
    messages = list(ImportProblem.objects.values_list("message", flat=True))
    assert any("does not match the role's group" in m for m in messages)
    assert any("not a Social care job role" in m for m in messages)


def test_establishment_lines_replace_the_employers_they_name(
    employers: None, tmp_path: Path
) -> None:
    head = "Organisation Code,Organisation Kind,Team,Staff Group,Role,Funded WTE"
    establishment_import_file(
        path=_write(
            tmp_path,
            "e.csv",
            [head, "RZ9,,,03,,40", ",gp_practice,,gp,,12.5", "RZ9,,,03,,2", ",,,03,,1"],
        )
    )
    assert Establishment.objects.count() == 2
    assert ImportProblem.objects.count() == 2  # the repeated line and the line with no owner

    establishment_import_file(path=_write(tmp_path, "e.csv", [head, "RZ9,,,03,,44"]))

    assert sorted(float(e.funded_wte) for e in Establishment.objects.all()) == [12.5, 44.0]


def test_cli_imports_and_reports_in_one_line(employers: None, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "esr.csv",
        [
            ESR_HEAD,
            "A1,RZ9,,,03,Staff Nurse,,,,,1,,,,2020-04-01,",
            "A2,RZ9,,,03,,,,,,1,,,,2020-04-01,",
        ],
    )
    runner = CliRunner()

    done = runner.invoke(app, ["import", str(path), "--format", "esr"])
    wrong = runner.invoke(app, ["import", str(path), "--format", "payroll"])
    missing = runner.invoke(app, ["import", str(tmp_path / "none.csv"), "--format", "esr"])

    assert done.exit_code == 0, done.output
    assert "2 rows read, 1 accepted, 1 kept back" in done.stdout
    assert wrong.exit_code == 2
    assert missing.exit_code == 2


def test_a_file_without_the_formats_columns_is_refused_whole(
    employers: None, tmp_path: Path
) -> None:
    from joinedup.errors import InvalidInput

    with pytest.raises(InvalidInput, match="needs the column"):
        staff_import_file(path=_write(tmp_path, "x.csv", ["a,b", "1,2"]), fmt="esr")
    assert StaffRecord.objects.count() == 0


def test_only_workforce_leads_and_administrators_see_people(make_user: Callable[..., User]) -> None:
    assert sees_people(make_user(role=Role.WORKFORCE_LEAD))
    assert sees_people(make_user(role=Role.ADMINISTRATOR))
    assert not sees_people(make_user(role=Role.ANALYST))
    assert not sees_people(make_user(role=Role.PORTFOLIO_OFFICER))


def test_aggregates_hide_small_counts_and_a_second_cell_so_totals_do_not_reveal_them(
    employers: None,
    tmp_path: Path,
    make_user: Callable[..., User],
) -> None:
    from django.test import Client

    Organisation.objects.create(
        ods_code="RZ7", name="Mental Health Trust", kind=OrganisationKind.MENTAL_HEALTH_TRUST
    )
    rows = [ESR_HEAD]
    for org, n in (("RZ9", 12), ("RZ7", 9), ("Z88001", 3)):
        group = "gp" if org == "Z88001" else "03"
        role = "Salaried GP" if org == "Z88001" else "Staff Nurse"
        rows += [f"{org}-{i},{org},,,{group},{role},,,,,1,,,,2020-04-01," for i in range(n)]
    staff_import_file(path=_write(tmp_path, "esr.csv", rows), fmt="esr")
    gp, lead = Client(), Client()
    gp.force_login(make_user(role=Role.GP))
    lead.force_login(make_user(role=Role.WORKFORCE_LEAD))

    hidden = gp.get("/workforce/baseline/organisation.csv?as_at=2026-03-31").content.decode(
        "utf-8-sig"
    )
    exact = lead.get("/workforce/baseline/organisation.csv?as_at=2026-03-31").content.decode(
        "utf-8-sig"
    )

    lines = {line.split(",")[0]: line.split(",")[1] for line in hidden.splitlines()[1:]}
    assert lines == {
        "Mental Health Trust": "[c]",
        "Oak Practice": "[c]",
        "Trust": "12",
        "All staff": "24",
    }
    assert "Oak Practice,3," in exact

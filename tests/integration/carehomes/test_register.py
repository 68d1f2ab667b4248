"""Reading register files (every row accepted or kept back with its reasons) and aligning."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from joinedup.carehomes import services
from joinedup.carehomes.errors import RegisterFileInvalid
from joinedup.carehomes.models import AlignmentChange, CareHome, PracticeSite, RegisterImport
from joinedup.core.models import AuditEvent, Organisation, OrganisationKind, User
from joinedup.core.reference import organisations_sync
from joinedup.errors import InvalidInput

pytestmark = pytest.mark.django_db

HEADING = (
    "org_code,cqc_location_id,name,type,beds,postcode,latitude,longitude,lsoa_code,"
    "neighbourhood,aligned_practice"
)


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "care_homes.csv"
    path.write_text("\n".join([HEADING, *lines]) + "\n", encoding="utf-8")
    return path


def test_care_homes_import_accepts_good_rows_and_keeps_each_bad_one(
    tmp_path: Path, make_practice: Callable[..., Organisation]
) -> None:
    practice = make_practice()
    path = _write(
        tmp_path,
        f"VX001,1-1,Ash House,Residential,30,SK1 1AA,53.41,-2.15,E1,,{practice.ods_code}",
        "VX002,1-2,Birch Court,Nursing home,55,SK2 2BB,53.39,-2.12,E2,,",
        "VX003,1-3,Cedar,Hotel,0,NOT A PC,91,-2.1,E3,,",
        "VX001,1-4,Ash House again,Residential,30,SK1 1AA,53.41,-2.15,E1,,",
        "VX004,1-5,Damson,Residential,20,SK3 3CC,53.4,-2.1,E4,,Z99999",
        "VX005,short row",
    )

    summary = services.care_homes_import(path=path)

    assert (summary.rows_read, summary.accepted, summary.rejected) == (6, 2, 4)
    batch = RegisterImport.objects.get(pk=summary.import_id)
    by_line = {p["line"]: p["reasons"] for p in batch.problems}
    assert set(by_line) == {4, 5, 6, 7}
    assert any("type" in r for r in by_line[4])
    assert any("beds" in r for r in by_line[4])
    assert any("postcode" in r for r in by_line[4])
    assert any("latitude" in r for r in by_line[4])
    assert any("earlier in the file" in r for r in by_line[5])
    assert any("aligned_practice" in r for r in by_line[6])
    assert any("values for" in r for r in by_line[7])
    ash = CareHome.objects.get(code="VX001")
    assert (ash.beds, ash.aligned_practice, ash.kind) == (30, practice, "residential")
    assert CareHome.objects.get(code="VX002").kind == "nursing"
    assert AuditEvent.objects.filter(resource="carehomes.import.care_homes").exists()


def test_care_homes_import_twice_changes_nothing(
    tmp_path: Path, make_practice: Callable[..., Organisation]
) -> None:
    practice = make_practice()
    path = _write(
        tmp_path, f"VX001,1-1,Ash House,Residential,30,SK1 1AA,53.41,-2.15,E1,,{practice.ods_code}"
    )
    services.care_homes_import(path=path)
    before = (CareHome.objects.count(), AlignmentChange.objects.count())

    services.care_homes_import(path=path)

    assert (CareHome.objects.count(), AlignmentChange.objects.count()) == before == (1, 1)


def test_care_homes_import_without_a_needed_column_says_which(tmp_path: Path) -> None:
    path = tmp_path / "homes.csv"
    path.write_text("org_code,name,type,postcode\nVX1,A,Residential,SK1 1AA\n", encoding="utf-8")

    with pytest.raises(RegisterFileInvalid, match="beds, latitude, longitude") as caught:
        services.care_homes_import(path=path)

    assert caught.value.where == "homes.csv"
    assert not CareHome.objects.exists()


def test_care_homes_import_links_the_home_to_its_organisation(tmp_path: Path) -> None:
    path = _write(tmp_path, "VX009,1-9,Elm House,Residential,25,SK1 1AA,53.41,-2.15,E1,,")
    organisations_sync(path)

    services.care_homes_import(path=path)

    home = CareHome.objects.get(code="VX009")
    assert home.organisation is not None
    assert home.organisation.kind == OrganisationKind.CARE_HOME


def test_practice_sites_import_reads_the_borough_register(borough: Path) -> None:
    reference = borough / "reference"
    organisations_sync(reference / "organisations.csv")
    with (reference / "organisations.csv").open() as handle:
        practices = sum(1 for line in handle if ",GP practice," in line)

    summary = services.practice_sites_import(
        path=reference / "organisations.csv", lsoas=reference / "lsoas.csv"
    )

    assert summary.accepted == practices == PracticeSite.objects.count()
    assert summary.rejected == 0
    assert summary.skipped == summary.rows_read - practices
    assert all(53 < s.latitude < 54 and s.list_size > 0 for s in PracticeSite.objects.all())


def test_practice_sites_import_keeps_back_unknown_practices(tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text(
        "org_code,name,type,list_size,latitude,longitude\n"
        "Z00001,Nowhere Surgery,GP practice,5000,53.4,-2.1\n",
        encoding="utf-8",
    )

    summary = services.practice_sites_import(path=path)

    assert (summary.accepted, summary.rejected) == (0, 1)
    problem = RegisterImport.objects.get(pk=summary.import_id).problems[0]
    assert "organisation register" in problem["reasons"][0]


def test_alignment_set_records_the_change_and_audits_it(
    make_home: Callable[..., CareHome],
    make_practice: Callable[..., Organisation],
    make_user: Callable[..., User],
) -> None:
    home, practice = make_home(), make_practice()
    user = make_user()

    services.alignment_set(
        user=user, home_code=home.code, practice_code=practice.ods_code, reason="agreed at board"
    )

    home.refresh_from_db()
    assert home.aligned_practice == practice
    change = AlignmentChange.objects.get(home=home)
    assert (change.from_practice, change.to_practice, change.reason) == (
        None,
        practice,
        "agreed at board",
    )
    assert AuditEvent.objects.filter(resource=f"carehomes.alignment:{home.code}").exists()


@pytest.mark.parametrize(
    ("code", "reason", "where"), [("Q1", "", "reason"), ("NOPE1", "why", "practice")]
)
def test_alignment_set_refuses_bad_input_and_changes_nothing(
    code: str, reason: str, where: str, make_home: Callable[..., CareHome]
) -> None:
    home = make_home()

    with pytest.raises(InvalidInput) as caught:
        services.alignment_set(user=None, home_code=home.code, practice_code=code, reason=reason)

    assert caught.value.where == where
    assert not AlignmentChange.objects.exists()

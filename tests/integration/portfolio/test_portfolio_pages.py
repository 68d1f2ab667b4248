"""The portfolio office: the borough's portfolio loads, decisions are recorded with every
field checked, risks reviewed, benefits show live values or say honestly they have none."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import Client

from joinedup.core.models import AuditEvent, User
from joinedup.core.reference import organisations_sync
from joinedup.core.roles import Role
from joinedup.portfolio import measures
from joinedup.portfolio.demo import demo_load
from joinedup.portfolio.models import Benefit, Decision, Milestone, Programme, Risk

pytestmark = pytest.mark.django_db


def _quiet(_what: str, _done: int, _total: int) -> None:
    return None


@pytest.fixture
def loaded(borough: Path) -> Path:
    organisations_sync(borough / "reference" / "organisations.csv")
    demo_load(borough, progress=_quiet)
    return borough


@pytest.fixture
def officer(make_user: Callable[..., User], signed_in: Callable[[User], Client]) -> Client:
    return signed_in(make_user(role=Role.PORTFOLIO_OFFICER))


@pytest.fixture
def delay_measure() -> Iterator[None]:
    measures.register_measure(
        "discharge_mean_delay_days",
        "Average discharge delay",
        "days",
        lambda: measures.MeasureValue(7.5),
        replace=True,
    )
    yield
    measures.unregister_measure("discharge_mean_delay_days")


def test_demo_load_reads_every_file_once(loaded: Path) -> None:
    counts = (
        Programme.objects.count(),
        Milestone.objects.count(),
        Decision.objects.count(),
        Risk.objects.count(),
        Benefit.objects.count(),
    )

    demo_load(loaded, progress=_quiet)

    assert counts == (12, 72, 24, 12, 12)
    assert (
        Programme.objects.count(),
        Milestone.objects.count(),
        Decision.objects.count(),
        Risk.objects.count(),
        Benefit.objects.count(),
    ) == counts
    second = Milestone.objects.get(code="MS002")
    assert [m.code for m in second.depends_on.all()] == ["MS001"]


def test_every_page_serves_the_portfolio_officer_and_no_one_else(
    loaded: Path,
    officer: Client,
    make_user: Callable[..., User],
    signed_in: Callable[[User], Client],
) -> None:
    gp = signed_in(make_user(role=Role.GP))
    pages = [
        "/portfolio/",
        "/portfolio/programmes/PRG01/",
        "/portfolio/decisions/",
        "/portfolio/decisions/new/",
        "/portfolio/risks/",
        "/portfolio/risks/RSK001/",
        "/portfolio/benefits/",
        "/portfolio/board-pack/",
    ]

    for page in pages:
        assert officer.get(page).status_code == 200, page
        assert gp.get(page).status_code == 403, page
    timeline = officer.get("/portfolio/").content.decode()
    assert "<svg" in timeline
    assert "2024/25" in timeline


def test_recording_a_decision_checks_every_field_and_changes_nothing_when_wrong(
    loaded: Path, officer: Client
) -> None:
    before = Decision.objects.count()

    bad = officer.post("/portfolio/decisions/new/", {"decided_on": "31/02/2026", "decision": ""})

    text = bad.content.decode()
    assert bad.status_code == 400
    assert "Enter a real date" in text
    assert "Enter the decision" in text
    assert "Enter who was present" in text
    assert Decision.objects.count() == before


def test_a_recorded_decision_keeps_accountability_attendance_and_actions(
    loaded: Path, officer: Client
) -> None:
    response = officer.post(
        "/portfolio/decisions/new/",
        {
            "decided_on": "2026-04-15",
            "decision": "Extend the discharge hub to weekends",
            "rationale": "Delays peak on Mondays",
            "accountable_organisation": "RZ9",
            "accountable_person": "Chief Operating Officer",
            "present": "Chair, Borough Council\nDirector of Nursing, RZ9\n",
            "programme": "PRG01",
            "action_1": "Recruit weekend coordinators",
            "action_1_owner": "Hub manager",
            "action_1_due": "2026-06-30",
        },
    )

    made = Decision.objects.get(decision="Extend the discharge hub to weekends")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#{made.code}")
    assert made.attendees == ["Chair, Borough Council", "Director of Nursing, RZ9"]
    assert made.accountable_organisation.ods_code == "RZ9"
    assert [a.action for a in made.actions.all()] == ["Recruit weekend coordinators"]
    assert AuditEvent.objects.filter(resource=f"portfolio.decision:{made.code}").exists()
    assert made.code == "DEC025"


def test_a_risk_review_joins_the_history_and_sets_the_residual_score(
    loaded: Path, officer: Client
) -> None:
    bad = officer.post(
        "/portfolio/risks/RSK001/",
        {"form": "review", "reviewed_on": "2026-04-01", "likelihood": "9", "impact": "2"},
    )
    good = officer.post(
        "/portfolio/risks/RSK001/",
        {
            "form": "review",
            "reviewed_on": "2026-04-01",
            "likelihood": "2",
            "impact": "3",
            "note": "Winter plan agreed",
        },
    )
    mitigation = officer.post(
        "/portfolio/risks/RSK001/",
        {
            "form": "mitigation",
            "action": "Weekend cover",
            "owner": "Hub manager",
            "owner_organisation": "RZ9",
            "due_date": "2026-05-01",
        },
    )

    risk = Risk.objects.get(code="RSK001")
    assert bad.status_code == 400
    assert good.status_code == 302
    assert mitigation.status_code == 302
    assert risk.score_after == 6
    assert risk.reviews.count() == 1
    assert risk.mitigations.count() == 1


def test_benefits_show_a_live_value_or_say_not_yet_measured(
    loaded: Path, officer: Client, delay_measure: None
) -> None:
    page = officer.get("/portfolio/benefits/").content.decode()

    assert "Average discharge delay" in page
    assert "7.5 days" in page
    assert "56% of the way" in page  # (7.5 - 12) / (4 - 12)
    assert "Not yet measured" in page  # e.g. the frailty admissions rate: no app registers it


def test_a_failing_measure_is_reported_not_invented(loaded: Path, officer: Client) -> None:
    def broken() -> measures.MeasureValue:
        raise RuntimeError("warehouse offline")

    measures.register_measure(
        "care_homes_aligned_percent", "Care homes aligned", "%", broken, replace=True
    )
    try:
        page = officer.get("/portfolio/benefits/").content.decode()
    finally:
        measures.unregister_measure("care_homes_aligned_percent")

    assert "Could not be measured just now" in page


def test_board_pack_downloads_as_a_workbook(loaded: Path, officer: Client) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    response = officer.get("/portfolio/board-pack.xlsx")

    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["Programmes", "Milestones", "Decisions", "Risks", "Benefits"]
    assert book["Milestones"].max_row == 73

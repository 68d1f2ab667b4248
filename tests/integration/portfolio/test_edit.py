"""The portfolio office edits a programme's projects and milestones from the web: every
field checked at once, the RAG rules kept, nothing saved when anything is wrong, every
change audited with the fields it changed and why, and the board pack showing the result."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from joinedup.core.models import AuditEvent, User
from joinedup.core.reference import organisations_sync
from joinedup.core.roles import Role
from joinedup.portfolio.demo import demo_load
from joinedup.portfolio.models import Milestone, Programme, Project

pytestmark = pytest.mark.django_db

PROGRAMME = "/portfolio/programmes/PRG01/"


@pytest.fixture
def loaded(borough: Path) -> Path:
    organisations_sync(borough / "reference" / "organisations.csv")
    demo_load(borough, progress=lambda *_: None)
    return borough


@pytest.fixture
def officer_user(make_user: Callable[..., User]) -> User:
    return make_user(role=Role.PORTFOLIO_OFFICER, first_name="Priya", last_name="Officer")


@pytest.fixture
def officer(officer_user: User, signed_in: Callable[[User], Client]) -> Client:
    return signed_in(officer_user)


def _when(name: str, day: date | None) -> dict[str, str]:
    if day is None:
        return {f"{name}-day": "", f"{name}-month": "", f"{name}-year": ""}
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


def _milestone(
    *,
    title: str = "Weekend coordinators in post",
    planned: date | None = date(2027, 3, 31),
    forecast: date | None = None,
    completed: date | None = None,
    status: str = "on_track",
    rag: str = "green",
    **rest: str,
) -> dict[str, str]:
    return {
        "title": title,
        "owner": "Hub manager",
        **_when("planned_date", planned),
        **_when("forecast_date", forecast),
        **_when("completed_date", completed),
        "status": status,
        "rag": rag,
        **rest,
    }


def _events(resource: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(resource=resource).order_by("id"))


def _first_milestone() -> Milestone:
    """PRG01's first open milestone: late and red in the borough's data."""
    found = Milestone.objects.filter(programme__code="PRG01", completed_date=None).first()
    assert found is not None
    assert (found.status, found.rag) == ("late", "red")
    return found


def test_a_project_is_added_then_changed_and_each_change_is_audited(
    loaded: Path, officer: Client
) -> None:
    added = officer.post(
        f"{PROGRAMME}projects/new/",
        {"name": "Weekend discharge hub", "owner": "Sam Jones, Hub manager"},
    )
    made = Project.objects.get(name="Weekend discharge hub")
    changed = officer.post(
        f"{PROGRAMME}projects/{made.code}/",
        {"name": "Seven-day discharge hub", "owner": "Sam Jones", "owner_organisation": "RZ9"},
    )
    unchanged = officer.post(
        f"{PROGRAMME}projects/{made.code}/",
        {"name": "Seven-day discharge hub", "owner": "Sam Jones", "owner_organisation": "RZ9"},
    )

    made.refresh_from_db()
    page = officer.get(PROGRAMME).content.decode()
    events = _events(f"portfolio.project:{made.code}")
    assert added.status_code == changed.status_code == unchanged.status_code == 302
    assert added["Location"] == f"{PROGRAMME}#projects"
    assert made.programme.code == "PRG01"
    assert made.code == "PRJ001"
    assert (made.name, made.owner, made.owner_organisation.ods_code) == (  # type: ignore[union-attr]
        "Seven-day discharge hub",
        "Sam Jones",
        "RZ9",
    )
    assert "Seven-day discharge hub" in page
    assert [(e.action, e.reason) for e in events] == [
        ("create", "added to PRG01"),
        ("update", "changed name, owner, owner_organisation"),
    ]  # the post that changed nothing wrote nothing


def test_a_project_form_reports_every_problem_and_saves_nothing(
    loaded: Path, officer: Client
) -> None:
    before = AuditEvent.objects.count()

    response = officer.post(
        f"{PROGRAMME}projects/new/",
        {"name": "  ", "owner": "x" * 201, "owner_organisation": "NOPE"},
    )

    text = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in text
    assert 'href="#name"' in text
    assert "Enter the project&#39;s name" in text
    assert "The lead must be 200 characters or fewer" in text
    assert "Choose an organisation from the list" in text
    assert Project.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_a_new_milestone_appears_on_the_programme_page_and_in_both_board_packs(
    loaded: Path, officer: Client
) -> None:
    officer.post(f"{PROGRAMME}projects/new/", {"name": "Weekend discharge hub"})
    project = Project.objects.get(name="Weekend discharge hub")
    count = Milestone.objects.count()

    response = officer.post(
        f"{PROGRAMME}milestones/new/",
        _milestone(
            title="Weekend coordinators in post",
            project=project.code,
            forecast=date(2027, 5, 31),
            status="at_risk",
            rag="amber",
            note="Recruitment opened late",
        ),
    )

    made = Milestone.objects.get(title="Weekend coordinators in post")
    page = officer.get(PROGRAMME).content.decode()
    pack = officer.get("/portfolio/board-pack/").content.decode()
    book = load_workbook(BytesIO(officer.get("/portfolio/board-pack.xlsx").content))
    rows = [r for r in book["Milestones"].iter_rows(values_only=True) if r[1] == made.title]
    assert response.status_code == 302
    assert Milestone.objects.count() == count + 1
    assert (made.programme.code, made.project, made.code) == ("PRG01", project, "MS073")
    assert "Weekend coordinators in post" in page
    assert "Weekend discharge hub" in page  # its project, in the milestones table
    assert "Weekend coordinators in post" in pack
    assert len(rows) == 1
    assert rows[0][2].date() == date(2027, 3, 31)  # type: ignore[union-attr]
    assert rows[0][3].date() == date(2027, 5, 31)  # type: ignore[union-attr]
    assert rows[0][5:7] == ("At risk", "Amber")
    assert [e.reason for e in _events(f"portfolio.milestone:{made.code}")] == [
        "added to PRG01: Recruitment opened late"
    ]


def test_a_milestone_update_audits_the_changed_fields_and_note_and_shows_last_updated(
    loaded: Path, officer: Client, officer_user: User
) -> None:
    milestone = _first_milestone()
    planned = milestone.planned_date

    response = officer.post(
        f"{PROGRAMME}milestones/{milestone.code}/",
        _milestone(
            title=milestone.title,
            planned=planned,
            forecast=planned + timedelta(days=45),
            status="at_risk",
            rag="amber",
            owner="Director of Operations",
            note="Supplier delay: new forecast agreed at the programme board",
        ),
    )

    milestone.refresh_from_db()
    events = _events(f"portfolio.milestone:{milestone.code}")
    page = officer.get(PROGRAMME).content.decode()
    form = officer.get(f"{PROGRAMME}milestones/{milestone.code}/").content.decode()
    pack = load_workbook(BytesIO(officer.get("/portfolio/board-pack.xlsx").content))
    row = next(r for r in pack["Milestones"].iter_rows(values_only=True) if r[1] == milestone.title)
    assert response.status_code == 302
    assert (milestone.forecast_date, milestone.status, milestone.rag) == (
        planned + timedelta(days=45),
        "at_risk",
        "amber",
    )
    assert [(e.action, e.reason) for e in events] == [
        (
            "update",
            (
                "changed owner, forecast_date, status, rag: "
                "Supplier delay: new forecast agreed at the programme board"
            ),
        )
    ]
    assert events[0].actor_id == officer_user.pk
    when = timezone.localtime(events[0].occurred_at).strftime("%-d %b %Y %H:%M")
    assert f"{when} by Priya Officer" in page
    assert "Last updated" in form
    assert "Supplier delay: new forecast agreed at the programme board" in form
    assert row[6] == "Amber"


def test_a_milestone_update_needs_a_note_and_records_a_review_that_changed_nothing(
    loaded: Path, officer: Client
) -> None:
    milestone = _first_milestone()
    same = _milestone(
        title=milestone.title,
        planned=milestone.planned_date,
        forecast=milestone.forecast_date,
        status=milestone.status,
        rag=milestone.rag,
        owner=milestone.owner,
    )

    without_note = officer.post(f"{PROGRAMME}milestones/{milestone.code}/", same)
    with_note = officer.post(
        f"{PROGRAMME}milestones/{milestone.code}/", {**same, "note": "Reviewed: no change"}
    )

    assert without_note.status_code == 400
    assert "Enter a short note of what changed and why" in without_note.content.decode()
    assert with_note.status_code == 302
    assert [e.reason for e in _events(f"portfolio.milestone:{milestone.code}")] == [
        "changed nothing: Reviewed: no change"
    ]


def test_a_forecast_past_the_baseline_cannot_stay_green_or_on_track(
    loaded: Path, officer: Client
) -> None:
    milestone = _first_milestone()
    before = (milestone.forecast_date, milestone.status, milestone.rag)
    slipped = milestone.planned_date + timedelta(days=30)

    green = officer.post(
        f"{PROGRAMME}milestones/{milestone.code}/",
        _milestone(
            title=milestone.title,
            planned=milestone.planned_date,
            forecast=slipped,
            status="not_started",
            rag="green",
            note="Slipped",
        ),
    )
    on_track = officer.post(
        f"{PROGRAMME}milestones/{milestone.code}/",
        _milestone(
            title=milestone.title,
            planned=milestone.planned_date,
            forecast=slipped,
            status="on_track",
            rag="green",
            note="Slipped",
        ),
    )
    amber = officer.post(
        f"{PROGRAMME}milestones/{milestone.code}/",
        _milestone(
            title=milestone.title,
            planned=milestone.planned_date,
            forecast=slipped,
            status="not_started",
            rag="amber",
            note="Slipped",
        ),
    )

    milestone.refresh_from_db()
    assert green.status_code == on_track.status_code == 400
    assert "Choose amber or red: the forecast date is after the baseline date" in (
        green.content.decode()
    )
    assert "so the milestone is not on track: choose At risk or Late" in (on_track.content.decode())
    assert before != (slipped, "not_started", "amber")
    assert amber.status_code == 302
    assert (milestone.forecast_date, milestone.status, milestone.rag) == (
        slipped,
        "not_started",
        "amber",
    )
    assert len(_events(f"portfolio.milestone:{milestone.code}")) == 1


def test_the_rag_must_match_the_status(loaded: Path, officer: Client) -> None:
    response = officer.post(
        f"{PROGRAMME}milestones/new/", _milestone(status="late", rag="amber", note="")
    )

    assert response.status_code == 400
    assert "Choose red: a milestone that is late is red" in response.content.decode()


def test_complete_needs_an_actual_date_that_is_not_in_the_future(
    loaded: Path, officer: Client
) -> None:
    today = timezone.localdate()
    count = Milestone.objects.count()

    no_date = officer.post(
        f"{PROGRAMME}milestones/new/", _milestone(status="complete", rag="complete")
    )
    future = officer.post(
        f"{PROGRAMME}milestones/new/",
        _milestone(status="complete", rag="complete", completed=today + timedelta(days=1)),
    )
    date_but_open = officer.post(
        f"{PROGRAMME}milestones/new/",
        _milestone(status="on_track", rag="green", completed=today),
    )
    done = officer.post(
        f"{PROGRAMME}milestones/new/",
        _milestone(status="complete", rag="complete", completed=today),
    )

    assert no_date.status_code == future.status_code == date_but_open.status_code == 400
    assert "Enter the actual date: a complete milestone needs it" in no_date.content.decode()
    assert "The actual date cannot be in the future" in future.content.decode()
    assert "A milestone with an actual date is complete" in date_but_open.content.decode()
    assert done.status_code == 302
    assert Milestone.objects.count() == count + 1
    assert Milestone.objects.get(completed_date=today, title="Weekend coordinators in post")


def test_a_milestone_form_reports_every_problem_and_saves_nothing(
    loaded: Path, officer: Client
) -> None:
    other = Project.objects.create(
        programme=Milestone.objects.exclude(programme__code="PRG01").first().programme,  # type: ignore[union-attr]
        code="PRJ900",
        name="Another programme's project",
    )
    milestones = Milestone.objects.count()
    events = AuditEvent.objects.count()

    response = officer.post(
        f"{PROGRAMME}milestones/new/",
        {
            "title": "",
            "project": other.code,
            "planned_date-day": "31",
            "planned_date-month": "2",
            "planned_date-year": "2027",
            "forecast_date-day": "1",
            "forecast_date-month": "4",
            "forecast_date-year": "27",
            "status": "finished",
            "rag": "",
        },
    )

    text = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in text
    for anchor, message in [
        ("title", "Enter the milestone&#39;s title"),
        ("project", "Choose one of this programme&#39;s projects"),
        ("planned_date-day", "The baseline date must be a real date, like 31 3 2026"),
        ("forecast_date-day", "The forecast date must be a real date, like 31 3 2026"),
        ("status", "Choose the status"),
        ("rag", "Choose the RAG rating"),
    ]:
        assert f'<a href="#{anchor}">{message}</a>' in text, anchor
        assert f'id="{anchor}"' in text, anchor
    assert 'value="27"' in text  # what was typed is kept
    assert Milestone.objects.count() == milestones
    assert AuditEvent.objects.count() == events


def test_only_the_portfolio_office_may_see_or_use_the_edit_pages(
    loaded: Path,
    officer: Client,
    make_user: Callable[..., User],
    signed_in: Callable[[User], Client],
) -> None:
    gp = signed_in(make_user(role=Role.GP))
    officer.post(f"{PROGRAMME}projects/new/", {"name": "Weekend discharge hub"})
    project = Project.objects.get()
    milestone = _first_milestone()
    pages = [
        f"{PROGRAMME}projects/new/",
        f"{PROGRAMME}projects/{project.code}/",
        f"{PROGRAMME}milestones/new/",
        f"{PROGRAMME}milestones/{milestone.code}/",
    ]
    events = AuditEvent.objects.exclude(action="deny").count()

    for page in pages:
        assert officer.get(page).status_code == 200, page
        assert gp.get(page).status_code == 403, page
        assert gp.post(page, {"name": "Taken over", **_milestone(note="x")}).status_code == 403

    project.refresh_from_db()
    assert project.name == "Weekend discharge hub"
    assert not Milestone.objects.filter(title="Weekend coordinators in post").exists()
    assert AuditEvent.objects.exclude(action="deny").count() == events


def test_an_unknown_programme_project_or_milestone_is_not_found(
    loaded: Path, officer: Client
) -> None:
    elsewhere = Milestone.objects.exclude(programme__code="PRG01").first()
    assert elsewhere is not None

    assert officer.get("/portfolio/programmes/NOPE/milestones/new/").status_code == 404
    assert officer.get(f"{PROGRAMME}projects/PRJ999/").status_code == 404
    assert officer.get(f"{PROGRAMME}milestones/{elsewhere.code}/").status_code == 404


def test_two_officers_adding_at_once_both_get_a_code(
    loaded: Path, officer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from joinedup.portfolio import services

    real = services._next_code
    programme = Programme.objects.get(code="PRG01")
    first = Project.objects.create(programme=programme, code="PRJ001", name="Already saved")
    stale = iter(["PRJ001"])  # the other officer's save landed between read and write

    def racing(prefix: str, model: type) -> str:  # type: ignore[type-arg]
        return next(stale, None) or real(prefix, model)

    monkeypatch.setattr(services, "_next_code", racing)

    response = officer.post(f"{PROGRAMME}projects/new/", {"name": "Weekend discharge hub"})

    assert response.status_code == 302
    made = Project.objects.get(name="Weekend discharge hub")
    assert made.code == "PRJ002"
    assert Project.objects.get(code="PRJ001") == first

"""Working with a drawn panel: invitations, mail merge, replies, attendance, reminders,
surveys with results by demographic, and "you said, we did" linked to portfolio decisions."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from tests.integration.citizens.helpers import everyone

from joinedup.citizens import engagement, panels
from joinedup.citizens.models import Contact, MemberStatus, Outcome, Panel, SurveyResponse
from joinedup.core.models import AuditEvent, Organisation, User
from joinedup.core.roles import Role
from joinedup.errors import Conflict, InvalidInput
from joinedup.portfolio import services as portfolio

pytestmark = pytest.mark.django_db

SIZE = 12
FEATURES = ("age_band", "sex")


@pytest.fixture
def panel(register: Path, officer: User) -> Panel:
    pool = panels.pool_build(user=officer, neighbourhood=None, features=FEATURES)
    table = panels.quotas_suggest(pool=pool, features=FEATURES, size=SIZE, neighbourhood=None)
    rows = [(q.feature, q.value, str(q.min), str(q.max)) for q in table.quotas]
    request = panels.DrawRequest(
        name="Walk-in centre survey",
        kind="survey",
        neighbourhood=None,
        features=FEATURES,
        quotas_csv=panels.quotas_from_table(rows),
        size=SIZE,
        method="maximin",
        seed=11,
    )
    return panels.panel_draw(user=officer, request=request)


def _by_email(panel: Panel) -> set[str]:
    members = panel.members.select_related("volunteer")
    return {
        m.volunteer.email
        for m in members
        if m.volunteer and m.volunteer.contact_preference == Contact.EMAIL
    }


def test_invitations_email_those_who_chose_email_and_mail_merge_the_rest(
    panel: Panel,
    officer_client: Client,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    emails = _by_email(panel)

    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            f"/citizens/panels/{panel.pk}/do/invite/",
            {"details": "Tuesday 3 March, 6pm, Stockport Town Hall"},
            follow=True,
        )

    assert f"Invitations: {len(emails)} emailed, {SIZE - len(emails)}" in response.content.decode()
    assert {m.to[0] for m in mail.outbox} == emails
    assert all("Stockport Town Hall" in m.body for m in mail.outbox)
    assert set(panel.members.values_list("status", flat=True)) == {MemberStatus.INVITED}
    merge = officer_client.get(f"/citizens/panels/{panel.pk}/download/mail-merge.csv")
    rows = list(csv.DictReader(io.StringIO(merge.content.decode("utf-8-sig"))))
    assert {r["ref"] for r in rows} == set(panel.members.values_list("ref", flat=True))
    assert all(r["status"] == "Invited" for r in rows)
    assert AuditEvent.objects.filter(action="export", reason__startswith="mail merge").exists()


def test_invitations_need_the_when_and_where(panel: Panel, officer: User) -> None:
    with pytest.raises(InvalidInput, match="when and where"):
        engagement.invitations_send(user=officer, panel=panel, details="  ")


def test_reminders_go_only_to_those_who_have_not_replied(panel: Panel, officer: User) -> None:
    engagement.invitations_send(user=officer, panel=panel, details="Online, 7pm")
    refs = list(panel.members.values_list("ref", flat=True))
    engagement.member_update(user=officer, panel=panel, ref=refs[0], reply="accepted")
    engagement.member_update(user=officer, panel=panel, ref=refs[1], reply="declined")

    reminded = engagement.reminders_send(user=officer, panel=panel)

    assert reminded == SIZE - 2
    assert panel.members.get(ref=refs[0]).reminders == 0
    assert panel.members.get(ref=refs[2]).reminders == 1


def test_replies_and_attendance_are_recorded_and_checked(panel: Panel, officer: User) -> None:
    ref = panel.members.first().ref  # type: ignore[union-attr]

    engagement.member_update(user=officer, panel=panel, ref=ref, reply="accepted", attended="yes")

    member = panel.members.get(ref=ref)
    assert (member.status, member.attended) == (MemberStatus.ACCEPTED, True)
    with pytest.raises(InvalidInput):
        engagement.member_update(user=officer, panel=panel, ref=ref, reply="maybe")


def test_survey_results_by_demographic_merge_small_groups(
    panel: Panel, officer: User, officer_client: Client
) -> None:
    officer_client.post(
        f"/citizens/panels/{panel.pk}/do/survey/",
        {"title": "Walk-in centre", "questions": "Is it easy to reach? | Yes; No; Not sure"},
    )
    survey = panel.surveys.get()
    refs = list(panel.members.values_list("ref", flat=True))
    for n, ref in enumerate(refs):
        answer = "Yes" if n % 3 else "No"
        officer_client.post(f"/citizens/surveys/{survey.pk}/", {"ref": ref, "q0": answer})

    by_sex = engagement.survey_results(survey=survey, by="sex")
    page = officer_client.get(f"/citizens/surveys/{survey.pk}/?by=sex").content.decode()

    assert SurveyResponse.objects.filter(survey=survey).count() == SIZE
    (result,) = by_sex
    assert result.total == (8, 4, 0)
    assert sum(sum(counts) for _, counts in result.groups) == SIZE
    assert all(
        sum(counts) >= engagement.SMALL or label.startswith("Groups under")
        for label, counts in result.groups
    )
    assert "Is it easy to reach?" in page
    response = SurveyResponse.objects.first()
    assert response is not None
    assert set(response.demographics) == {"age_band", "sex"}
    with pytest.raises(Conflict):
        engagement.survey_response_record(user=officer, survey=survey, ref=refs[0], answers=["No"])


def test_survey_questions_need_options(panel: Panel, officer: User) -> None:
    with pytest.raises(InvalidInput, match="line 1"):
        engagement.survey_create(user=officer, panel=panel, title="T", questions="Why?")


def test_you_said_we_did_links_to_a_portfolio_decision(
    panel: Panel,
    officer: User,
    officer_client: Client,
    make_user: Callable[..., User],
    organisation: Organisation,
) -> None:
    decision = portfolio.decision_record(
        user=make_user(Role.PORTFOLIO_OFFICER),
        decided_on="2026-03-01",
        decision="Open the walk-in centre until 10pm",
        rationale="Residents asked for evening access",
        accountable_organisation=organisation.ods_code,
        accountable_person="Director of operations",
        present="Chair\nDirector of operations",
    )

    officer_client.post(
        f"/citizens/panels/{panel.pk}/do/outcome/",
        {
            "you_said": "The walk-in centre shuts too early",
            "we_did": "Opening hours extended",
            "decision_code": decision.code,
        },
    )
    page = officer_client.get("/citizens/you-said-we-did/").content.decode()

    outcome = Outcome.objects.get()
    assert (outcome.panel, outcome.decision_code) == (panel, decision.code)
    assert f"/portfolio/decisions/#{decision.code}" in page
    assert "Open the walk-in centre until 10pm" in page
    with pytest.raises(InvalidInput, match="no portfolio decision"):
        engagement.outcome_record(
            user=officer, panel=panel, you_said="a", we_did="b", decision_code="DEC999"
        )


def test_erasing_a_panel_member_keeps_the_draw_verifiable(panel: Panel, officer: User) -> None:
    from joinedup.citizens.services import volunteer_erase

    member = panel.members.select_related("volunteer").first()
    assert member is not None
    assert member.volunteer is not None
    name = member.volunteer.family_name

    volunteer_erase(volunteer=member.volunteer, actor=officer)

    member.refresh_from_db()
    assert member.volunteer is None
    assert not everyone().filter(family_name=name, ref=member.ref).exists()
    assert panels.panel_replay(user=officer, panel=panel, resolve=False) == []


def test_survey_page_links_a_missing_answer_to_its_question(
    panel: Panel, officer: User, officer_client: Client
) -> None:
    survey = engagement.survey_create(
        user=officer, panel=panel, title="Parking", questions="Is parking easy? | Yes; No"
    )
    ref = panel.members.first().ref  # type: ignore[union-attr]

    response = officer_client.post(f"/citizens/surveys/{survey.pk}/", {"ref": ref})

    text = response.content.decode()
    assert response.status_code == 400
    assert '<a href="#q0">Choose an answer to question 1</a>' in text
    assert not SurveyResponse.objects.exists()

"""Caseloads (risk, filters, exports, case finding), tasks and worklists, MDT meetings from
agenda to tasks and minutes, packages of care and their totals."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from joinedup.core.models import AuditEvent, User
from joinedup.neighbourhoods import selectors, services
from joinedup.neighbourhoods.models import CaseloadEntry, MdtItem, MdtMeeting, Task
from joinedup.people.models import Person, SourceIdentity
from joinedup.record.models import Delivery, Fact

pytestmark = pytest.mark.django_db


def _on_caseload(
    place, person: Person, relate: Callable[..., object], **extra: object
) -> CaseloadEntry:
    relate(person, place.central)
    return CaseloadEntry.objects.create(
        team=place.central,
        person=person,
        reason="Frailty",
        started_on=timezone.localdate(),
        **extra,
    )


def _admissions(person: Person, count: int) -> None:
    now = timezone.now()
    delivery = Delivery.objects.create(
        feed="hospital",
        path=f"a-{uuid.uuid4().hex}.csv",
        sha256=uuid.uuid4().hex,
        size=1,
        received_at=now,
        status="complete",
    )
    identity = SourceIdentity.objects.create(
        source="hospital",
        source_id=uuid.uuid4().hex,
        person=person,
        delivery_id=delivery.pk,
        received_at=now,
    )
    for n in range(count):
        Fact.objects.create(
            identity=identity,
            source="hospital",
            record_id=uuid.uuid4().hex,
            kind="admission",
            occurred_at=now - timedelta(days=30 * (n + 1)),
            detail={"admission_method": "21"},
            delivery=delivery,
            received_at=now,
        )


def test_caseload_lists_filters_sorts_and_exports(
    place,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
) -> None:
    today = timezone.localdate()
    ann = make_person(given_name="Ann", family_name="Alpha")
    bob = make_person(given_name="Bob", family_name="Bravo")
    _on_caseload(
        place, ann, relate, next_review_on=today - timedelta(days=3), key_worker=place.nurse
    )
    _on_caseload(place, bob, relate, next_review_on=today + timedelta(days=60))
    _admissions(bob, 3)
    services.caseload_risk_refresh(user=place.nurse, team=place.central)
    client = signed_in(place.nurse)
    url = f"/neighbourhoods/teams/{place.central.pk}/caseload/"

    page = client.get(url).content.decode()
    mine = client.get(url + "?key_worker=me").content.decode()
    by_admissions = selectors.caseload(
        user=place.nurse,
        team=place.central,
        only=selectors.CaseloadFilter(sort="admissions", descending=True),
    )
    csv = client.get(url + "?format=csv")
    xlsx = client.get(url + "?format=xlsx")

    assert "ALPHA" in page
    assert "BRAVO" in page
    assert "Overdue" in page
    assert "ALPHA" in mine
    assert "BRAVO" not in mine
    assert [r.name for r in by_admissions] == ["Bob BRAVO", "Ann ALPHA"]
    assert by_admissions[0].admissions == 3
    assert by_admissions[0].high_risk
    assert b"Bob BRAVO" in csv.content
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet.max_row >= 4
    assert (
        AuditEvent.objects.filter(
            action="export", resource=f"neighbourhoods.caseload:{place.central.pk}"
        ).count()
        == 2
    )


def test_caseload_is_for_the_team_only(place, signed_in: Callable[[User], Client]) -> None:
    assert (
        signed_in(place.ot).get(f"/neighbourhoods/teams/{place.central.pk}/caseload/").status_code
        == 404
    )
    assert (
        signed_in(place.admin)
        .get(f"/neighbourhoods/teams/{place.central.pk}/caseload/")
        .status_code
        == 403
    )


def test_case_finding_proposes_frail_people_with_repeated_admissions(
    place,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frail, fit, quiet, already = (
        make_person(family_name=n) for n in ("Frailbusy", "Fitbusy", "Quiet", "Already")
    )
    for person, n in ((frail, 2), (fit, 3), (quiet, 1)):
        relate(person, place.central, kind="care_team")
        _admissions(person, n)
    _on_caseload(place, already, relate)
    _admissions(already, 4)
    categories = {frail.id: "moderate", fit.id: "fit", quiet.id: "severe", already.id: "severe"}
    monkeypatch.setattr(
        selectors,
        "frailty_of",
        lambda *, user, person_ids: {p: categories[p] for p in person_ids if user},
    )
    client = signed_in(place.nurse)
    url = f"/neighbourhoods/teams/{place.central.pk}/case-finding/"

    page = client.get(url).content.decode().upper()
    added = client.post(url, {"person": str(frail.id), "reason": "Case finding"})

    assert "FRAILBUSY" in page
    assert "FITBUSY" not in page
    assert "QUIET" not in page
    assert "ALREADY" not in page
    assert added.status_code == 302
    assert (
        CaseloadEntry.objects.for_system("test").filter(person=frail, team=place.central).exists()
    )


def test_case_finding_uses_admissions_alone_without_the_efi_code_lists(
    place,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    settings: object,
    tmp_path: object,
) -> None:
    settings.EFI_REFERENCE_DIR = str(tmp_path)  # type: ignore[attr-defined]
    busy, quiet = make_person(family_name="Busy"), make_person(family_name="Quiet")
    for person, n in ((busy, 2), (quiet, 1)):
        relate(person, place.central, kind="care_team")
        _admissions(person, n)

    found = selectors.case_finding(user=place.nurse, team=place.central)

    assert [p.person_id for p in found] == [busy.id]
    assert "frailty not known" in found[0].why


def test_mdt_from_agenda_to_a_task_on_the_social_workers_worklist(
    place,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
) -> None:
    person = make_person(family_name="Agenda")
    _on_caseload(place, person, relate, next_review_on=timezone.localdate())
    nurse = signed_in(place.nurse)
    when = timezone.localdate() + timedelta(days=1)

    scheduled = nurse.post(
        f"/neighbourhoods/teams/{place.central.pk}/meetings/",
        {"date": when.isoformat(), "time": "10:00", "location": "Room 2"},
    )
    meeting = MdtMeeting.objects.get()
    assert scheduled["Location"].endswith(f"/meetings/{meeting.pk}/")
    item = MdtItem.objects.for_system("test").get(meeting=meeting)
    assert item.person == person
    assert item.reason == "review_due"
    nurse.post(
        f"/neighbourhoods/meetings/{meeting.pk}/",
        {
            "action": "attendance",
            "attendees": [place.nurse.pk, place.socialworker.pk],
            "others": "Pharmacist",
        },
    )
    missing = nurse.post(
        f"/neighbourhoods/meetings/items/{item.pk}/",
        {"discussion": "Carer struggling", "decision": "Carers assessment"},
    )
    assert missing.status_code == 400
    assert 'href="#owner"' in missing.content.decode()
    nurse.post(
        f"/neighbourhoods/meetings/items/{item.pk}/",
        {
            "discussion": "Carer struggling",
            "decision": "Carers assessment",
            "owner": str(place.socialworker.pk),
            "due_on": (when + timedelta(days=7)).isoformat(),
        },
    )
    nurse.post(f"/neighbourhoods/meetings/{meeting.pk}/", {"action": "finish"})

    worklist = signed_in(place.socialworker).get("/neighbourhoods/tasks/").content.decode()
    assert "Carers assessment" in worklist
    assert "AGENDA" in worklist
    minutes = nurse.get(f"/neighbourhoods/meetings/{meeting.pk}/minutes/").content.decode()
    assert "Carer struggling" in minutes
    assert "Pharmacist" in minutes
    pdf = nurse.get(f"/neighbourhoods/meetings/{meeting.pk}/minutes.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    person.opened_for = place.nurse.pk
    rows = selectors.timeline_rows(user=place.nurse, person=person)
    assert len(rows) == 1
    assert "Carers assessment" in rows[0]["display"]
    assert AuditEvent.objects.filter(
        person_id=person.id, resource=f"neighbourhoods.mdt:{meeting.pk}:minutes"
    ).exists()
    record = nurse.get(f"/people/{person.id}/").content.decode()
    only_gp = nurse.get(f"/people/{person.id}/?source=gp").content.decode()
    assert "MDT discussion" in record
    assert "Neighbourhood team" in record
    assert "Carers assessment" in record
    assert "MDT discussion" not in only_gp  # a source filter shows only that source's records


def test_tasks_are_reassigned_within_the_team_and_overdue_come_first(
    place, signed_in: Callable[[User], Client]
) -> None:
    today = timezone.localdate()
    later = services.task_create(
        user=place.nurse,
        team=place.central,
        owner=place.nurse,
        title="Later",
        due_on=today + timedelta(days=5),
    )
    overdue = services.task_create(
        user=place.nurse,
        team=place.central,
        owner=place.nurse,
        title="Overdue",
        due_on=today - timedelta(days=2),
    )
    nurse = signed_in(place.nurse)

    assert [t.title for t in selectors.worklist(user=place.nurse)] == ["Overdue", "Later"]
    outside = nurse.post(
        f"/neighbourhoods/tasks/{later.pk}/", {"action": "reassign", "owner": str(place.ot.pk)}
    )
    moved = nurse.post(
        f"/neighbourhoods/tasks/{later.pk}/",
        {"action": "reassign", "owner": str(place.socialworker.pk)},
    )

    assert outside.status_code == 400
    assert moved.status_code == 302
    assert Task.objects.for_system("test").get(id=later.pk).owner == place.socialworker
    assert [t.title for t in selectors.worklist(user=place.socialworker)] == ["Later"]
    nurse.post(f"/neighbourhoods/tasks/{overdue.pk}/", {"action": "done"})
    assert selectors.worklist(user=place.nurse) == []


def test_packages_of_care_and_their_totals(
    place,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    signed_in: Callable[[User], Client],
) -> None:
    person = make_person(family_name="Package")
    _on_caseload(place, person, relate)
    client = signed_in(place.nurse)
    url = f"/neighbourhoods/people/{person.id}/packages/"
    form = {
        "team": str(place.central.pk),
        "service": "home_care",
        "provider": "Helping Hands",
        "hours_per_week": "10.5",
        "starts_on": "2026-01-05",
        "weekly_cost": "250.00",
    }

    bad = client.post(url, {**form, "weekly_cost": "lots", "starts_on": ""})
    good = client.post(url, form)
    client.post(url, {**form, "service": "equipment", "hours_per_week": "", "weekly_cost": "12.50"})
    by_team, by_hood = selectors.package_totals(today=date(2026, 2, 1))

    assert bad.status_code == 400
    assert 'href="#weekly_cost"' in bad.content.decode()
    assert good.status_code == 302
    assert [(t.label, t.people, t.packages, t.weekly_cost) for t in by_team] == [
        ("Central INT", 1, 2, 262.5)
    ]
    assert by_hood[0].label == "Central"
    assert by_hood[0].hours == 10.5
    assert "PACKAGE" not in client.get("/neighbourhoods/packages/").content.decode()


def test_taking_someone_off_the_caseload_keeps_the_reason_and_ends_access_after_today(
    place, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    from joinedup.people.models import CareRelationship, RelationshipKind

    person = make_person()
    CareRelationship.objects.create(person=person, team=place.central, kind="care_team")
    entry = services.caseload_add(
        user=place.nurse, team=place.central, person_id=person.id, reason="Wound care"
    )
    nurse = signed_in(place.nurse)
    url = f"/neighbourhoods/caseload/{entry.pk}/"

    refused = nurse.post(url, {"action": "end", "end_reason": ""})
    done = nurse.post(url, {"action": "end", "end_reason": "Goals met: wound healed"})

    assert refused.status_code == 400
    assert "Say why the person is leaving the caseload" in refused.content.decode()
    assert done.status_code == 302
    entry.refresh_from_db()
    assert (entry.ended_on, entry.end_reason) == (timezone.localdate(), "Goals met: wound healed")
    relationship = CareRelationship.objects.get(
        person=person, team=place.central, kind=RelationshipKind.CASELOAD
    )
    assert relationship.ended_on == timezone.localdate()
    assert AuditEvent.objects.filter(
        person_id=person.id, resource=f"neighbourhoods.caseload:{place.central.pk}:end"
    ).exists()
    caseload = nurse.get(f"/neighbourhoods/teams/{place.central.pk}/caseload/").content.decode()
    assert person.family_name.upper() not in caseload.upper()
    again = services.caseload_add(
        user=place.nurse, team=place.central, person_id=person.id, reason="New wound"
    )
    assert again.pk != entry.pk

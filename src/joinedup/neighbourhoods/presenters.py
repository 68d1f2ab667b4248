"""What the neighbourhood pages show, computed once: referral rows with their service-level
state, form errors as the NHS error summary wants them, caseload tables for download."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from joinedup.neighbourhoods import selectors, sla
from joinedup.neighbourhoods.models import WAITING_FOR_TRIAGE, Referral, ReferralStatus
from joinedup.neighbourhoods.selectors import CaseloadRow
from joinedup.web.tables import Table


def field_errors(problems: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The first message for each field (the summary lists them all)."""
    out: dict[str, str] = {}
    for name, message in problems:
        out.setdefault(name, message)
    return out


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 8:
        days, hours = divmod(hours, 8)
        return f"{days} working day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@dataclass(frozen=True)
class ReferralRow:
    id: int
    reference: str
    name: str
    need: str
    urgency: str
    urgent: bool
    safeguarding: bool
    status: str
    status_key: str
    team: str
    received_at: datetime | None
    due_at: datetime | None
    breached: bool
    sla_text: str

    @classmethod
    def of(cls, referral: Referral, *, now: datetime | None = None) -> ReferralRow:
        now = now or timezone.now()
        breached = selectors.breached(referral, now)
        return cls(
            id=referral.pk,
            reference=referral.reference,
            name=referral.display_name,
            need=referral.get_need_display(),
            urgency=referral.get_urgency_display().split(":")[0],
            urgent=referral.urgency == "urgent",
            safeguarding=referral.safeguarding,
            status=referral.get_status_display(),
            status_key=referral.status,
            team=referral.team.name if referral.team else "Not yet routed",
            received_at=referral.received_at,
            due_at=referral.triage_due_at,
            breached=breached,
            sla_text=_sla_text(referral, now, breached),
        )


def _sla_text(referral: Referral, now: datetime, breached: bool) -> str:
    due = referral.triage_due_at
    if due is None:
        return ""
    local = timezone.localtime
    if referral.triaged_at is not None:
        taken = sla.working_time_between(
            local(referral.arrived_at_team or due), local(referral.triaged_at)
        )
        verdict = "late" if breached else "in time"
        return f"Triaged {verdict}, after {_span(taken)} of working time"
    if referral.status not in WAITING_FOR_TRIAGE:
        return ""
    if breached:
        late = sla.working_time_between(local(due), local(now))
        return f"Triage overdue by {_span(late)} (was due {local(due):%-d %b %H:%M})"
    left = sla.working_time_between(local(now), local(due))
    return f"Triage due by {local(due):%-d %b %H:%M} ({_span(left)} of working time left)"


STATUS_COLOURS = {
    ReferralStatus.DRAFT: "grey",
    ReferralStatus.RECEIVED: "blue",
    ReferralStatus.REDIRECTED: "orange",
    ReferralStatus.TRIAGED: "purple",
    ReferralStatus.ACCEPTED: "green",
    ReferralStatus.CLOSED: "grey",
}

CASELOAD_COLUMNS = (
    "Name",
    "NHS number",
    "Age",
    "Why on the caseload",
    "Key worker",
    "Frailty (eFI)",
    "Emergency admissions in 12 months",
    "Living situation",
    "Care home",
    "Last contact",
    "Next review",
    "Open tasks",
)


def caseload_table(team_name: str, rows: Sequence[CaseloadRow]) -> Table:
    return Table(
        title=f"Caseload {team_name}",
        columns=CASELOAD_COLUMNS,
        rows=[
            (
                r.name,
                r.nhs_number,
                r.age,
                r.reason,
                r.key_worker,
                r.frailty,
                r.admissions,
                r.lives_alone,
                r.care_home,
                r.last_contact_on,
                r.next_review_on,
                r.open_tasks,
            )
            for r in rows
        ],
        note=f"Caseload of {team_name} on {timezone.localdate():%-d %B %Y}: confidential.",
    )


_SENTINEL = "00000000-0000-4000-8000-000000000000"


class Link:
    """A URL pattern reversed once per page and filled per row: reversing a URL for
    each of 2,000 rows costs more than the rest of a caseload page."""

    def __init__(self, name: str, kwarg: str, *, numeric: bool = False) -> None:
        sentinel = 987654321 if numeric else _SENTINEL
        url = reverse(name, kwargs={kwarg: sentinel})
        self.head, self.tail = url.split(str(sentinel), 1)

    def __call__(self, value: object) -> str:
        return f"{self.head}{value}{self.tail}"


def row_links() -> dict[str, Link]:
    return {
        "person": Link("people:detail", "person_id"),
        "careplan": Link("neighbourhoods:careplan", "person_id"),
        "packages": Link("neighbourhoods:packages", "person_id"),
        "entry": Link("neighbourhoods:entry", "entry_id", numeric=True),
        "task": Link("neighbourhoods:task", "task_id", numeric=True),
        "referral": Link("neighbourhoods:referral", "referral_id", numeric=True),
        "item": Link("neighbourhoods:item", "item_id", numeric=True),
    }


@dataclass(frozen=True)
class CaseloadLine:
    """One caseload row with its text and links ready: the page only places them."""

    name: str
    person_url: str
    entry_url: str
    details: str
    reason: str
    key_worker: str
    high_risk: bool
    frailty: str
    admissions: str
    lives_alone: str
    care_home: str
    last_contact: str
    next_review: str
    overdue: bool
    open_tasks: int


def _day(value: date | None, empty: str) -> str:
    return value.strftime("%-d %b %Y") if value else empty


def caseload_lines(rows: Sequence[CaseloadRow], links: dict[str, Link]) -> list[CaseloadLine]:
    person, entry = links["person"], links["entry"]
    return [
        CaseloadLine(
            name=r.name,
            person_url=person(r.person_id),
            entry_url=entry(r.entry_id),
            details=r.nhs_number + (f", {r.age} years" if r.age is not None else ""),
            reason=r.reason,
            key_worker=r.key_worker or "None",
            high_risk=r.high_risk,
            frailty=r.frailty or "not known",
            admissions=str(r.admissions) if r.admissions is not None else "not known",
            lives_alone=r.lives_alone,
            care_home=r.care_home,
            last_contact=_day(r.last_contact_on, "None recorded"),
            next_review=_day(r.next_review_on, "Not set"),
            overdue=r.review_overdue,
            open_tasks=r.open_tasks,
        )
        for r in rows
    ]

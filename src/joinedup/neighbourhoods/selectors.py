"""Reads of the neighbourhoods app, always scoped to the user asking (or, for aggregates
that name nobody, to a named system purpose).

Reads that show person data are audited by the view that shows them (one event per page,
naming how many people it listed), like ``people.views.people_list``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from joinedup.carehomes.selectors import care_home_residents
from joinedup.core.models import Team, User
from joinedup.core.nhs_number import format_for_display
from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied, JoinedUpError, NotFound
from joinedup.neighbourhoods.models import (
    WAITING_FOR_TRIAGE,
    AgendaReason,
    CarePackage,
    CarePlan,
    CaseloadEntry,
    LivesAlone,
    MdtItem,
    MdtMeeting,
    MeetingStatus,
    Referral,
    ReferralStatus,
    Task,
    TaskStatus,
    Urgency,
)
from joinedup.people.models import Person
from joinedup.record.models import Fact, FactKind

FRAILTY_RANK = {"severe": 4, "moderate": 3, "mild": 2, "fit": 1, "": 0}
HIGH_RISK_FRAILTY = ("moderate", "severe")
HIGH_RISK_ADMISSIONS = 2
ADMISSION_WINDOW = timedelta(days=365)


def user_teams(user: User) -> QuerySet[Team]:
    return user.teams.select_related("neighbourhood").order_by("name")


def team_for(*, user: User, team_id: int) -> Team:
    """One of the user's own teams (and the user must work in direct care)."""
    if not user.has_role_permission(Permission.VIEW_PERSON):
        raise AccessDenied("your role does not give access to care records")
    team = user.teams.select_related("neighbourhood").filter(id=team_id).first()
    if team is None:
        raise NotFound("there is no such team that you are a member of")
    return team


def all_teams() -> QuerySet[Team]:
    """Every team a referral can be sent to (names only: no person data)."""
    return Team.objects.select_related("neighbourhood").order_by("name")


# ------------------------------------------------------------------------------- risk


def frailty_of(*, user: User, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The population module's eFI category, or nothing if its code lists are missing."""
    from joinedup.population.services import frailty_category

    if not person_ids:
        return {}
    try:
        return frailty_category(person_ids, user=user)
    except JoinedUpError:
        return {}


def emergency_admissions(
    *, user: User, person_ids: Sequence[uuid.UUID], today: date | None = None
) -> dict[uuid.UUID, int]:
    """Emergency admissions (admission method 2x) in the last year, per person."""
    since = timezone.now() - ADMISSION_WINDOW if today is None else _start(today)
    found: Counter[uuid.UUID] = Counter()
    ids = list(person_ids)
    for start in range(0, len(ids), 900):
        rows = (
            Fact.objects.visible_to(user)
            .filter(
                identity__person_id__in=ids[start : start + 900],
                kind=FactKind.ADMISSION,
                occurred_at__gte=since,
            )
            .values_list("identity__person_id", "detail")
        )
        for person_id, detail in rows:
            if str((detail or {}).get("admission_method", "")).startswith("2"):
                found[person_id] += 1
    return dict(found)


def _start(today: date) -> datetime:
    moment = datetime.combine(today - ADMISSION_WINDOW, datetime.min.time())
    return timezone.make_aware(moment)


def high_risk(frailty: str, admissions: int | None) -> bool:
    return frailty in HIGH_RISK_FRAILTY or (admissions or 0) >= HIGH_RISK_ADMISSIONS


# --------------------------------------------------------------------------- caseloads


@dataclass(frozen=True)
class CaseloadRow:
    entry_id: int
    person_id: uuid.UUID
    name: str
    nhs_number: str
    age: int | None
    reason: str
    key_worker: str
    key_worker_id: int | None
    frailty: str
    admissions: int | None
    lives_alone: str
    last_contact_on: date | None
    next_review_on: date | None
    open_tasks: int
    review_overdue: bool
    care_home: str = ""  # the care home the person lives in, if any

    @property
    def high_risk(self) -> bool:
        return high_risk(self.frailty, self.admissions)


@dataclass(frozen=True)
class CaseloadFilter:
    key_worker: str = ""  # "", "me", "none"
    frailty: str = ""  # "", "fit", "mild", "moderate", "severe", "frail" (moderate+severe)
    review: str = ""  # "", "overdue", "month"
    lives_alone: str = ""  # "", "yes", "no", "unknown"
    sort: str = "next_review"
    descending: bool = False


SORTS = {
    "name": lambda r: (r.name.split(" ")[-1], r.name),
    "age": lambda r: r.age if r.age is not None else -1,
    "frailty": lambda r: FRAILTY_RANK.get(r.frailty, 0),
    "admissions": lambda r: r.admissions or 0,
    "last_contact": lambda r: r.last_contact_on or date.min,
    "next_review": lambda r: r.next_review_on or date.max,
    "open_tasks": lambda r: r.open_tasks,
}


_CASELOAD_COLUMNS = (
    "id",
    "person_id",
    "person__given_name",
    "person__family_name",
    "person__nhs_number",
    "person__date_of_birth",
    "person__date_of_death",
    "reason",
    "key_worker_id",
    "key_worker__first_name",
    "key_worker__last_name",
    "key_worker__username",
    "frailty",
    "emergency_admissions",
    "lives_alone",
    "last_contact_on",
    "next_review_on",
)


def caseload(
    *, user: User, team: Team, only: CaseloadFilter = CaseloadFilter(), today: date | None = None
) -> list[CaseloadRow]:
    """The team's open caseload, as rows, filtered and sorted (two queries, plain rows:
    a 2,000-person caseload must render in well under 300 ms)."""
    today = today or timezone.localdate()
    entries: QuerySet[CaseloadEntry] = CaseloadEntry.objects.visible_to(user).filter(
        team=team, ended_on__isnull=True
    )
    entries = _filter_entries(entries, user, only, today)
    rows = list(entries.values(*_CASELOAD_COLUMNS))
    tasks = open_tasks_by_person(
        user=user, person_ids=entries.values("person_id"), wanted={r["person_id"] for r in rows}
    )
    homes = care_home_residents(r["person_id"] for r in rows)
    out = [_row(r, tasks.get(r["person_id"], 0), today, homes) for r in rows]
    key = SORTS.get(only.sort, SORTS["next_review"])
    return sorted(out, key=key, reverse=only.descending)


def _filter_entries(
    entries: QuerySet[CaseloadEntry], user: User, only: CaseloadFilter, today: date
) -> QuerySet[CaseloadEntry]:
    if only.key_worker == "me":
        entries = entries.filter(key_worker=user)
    elif only.key_worker == "none":
        entries = entries.filter(key_worker__isnull=True)
    if only.frailty == "frail":
        entries = entries.filter(frailty__in=HIGH_RISK_FRAILTY)
    elif only.frailty in FRAILTY_RANK and only.frailty:
        entries = entries.filter(frailty=only.frailty)
    if only.review == "overdue":
        entries = entries.filter(next_review_on__lt=today)
    elif only.review == "month":
        entries = entries.filter(next_review_on__lte=today + timedelta(days=31))
    if only.lives_alone in LivesAlone.values:
        entries = entries.filter(lives_alone=only.lives_alone)
    return entries


_LIVES_ALONE = dict(LivesAlone.choices)


def _age(born: date | None, died: date | None, today: date) -> int | None:
    if born is None:
        return None
    end = died if died and died < today else today
    return end.year - born.year - ((end.month, end.day) < (born.month, born.day))


def _row(
    r: dict[str, Any], open_tasks: int, today: date, homes: dict[uuid.UUID, str]
) -> CaseloadRow:
    number = r["person__nhs_number"]
    worker = f"{r['key_worker__first_name']} {r['key_worker__last_name']}".strip()
    review = r["next_review_on"]
    return CaseloadRow(
        entry_id=r["id"],
        person_id=r["person_id"],
        name=f"{r['person__given_name']} {r['person__family_name'].upper()}",
        nhs_number=format_for_display(number) if number else "Not known",
        age=_age(r["person__date_of_birth"], r["person__date_of_death"], today),
        reason=r["reason"],
        key_worker=(worker or r["key_worker__username"]) if r["key_worker_id"] else "",
        key_worker_id=r["key_worker_id"],
        frailty=r["frailty"],
        admissions=r["emergency_admissions"],
        lives_alone=_LIVES_ALONE.get(r["lives_alone"], r["lives_alone"]),
        last_contact_on=r["last_contact_on"],
        next_review_on=review,
        open_tasks=open_tasks,
        review_overdue=bool(review and review < today),
        care_home=homes.get(r["person_id"], ""),
    )


def open_tasks_by_person(
    *, user: User, person_ids: Iterable[uuid.UUID] | QuerySet[Any, Any], wanted: set[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Open tasks (of the user's teams, or the user's own) per person."""
    if not wanted:
        return {}
    rows = (
        Task.objects.visible_to(user)
        .filter(status=TaskStatus.OPEN, person_id__in=person_ids)
        .values("person_id")
        .annotate(n=Count("id"))
        .values_list("person_id", "n")
    )
    return {pid: n for pid, n in rows if pid in wanted}


def caseload_entry(*, user: User, entry_id: int) -> CaseloadEntry:
    entry = (
        CaseloadEntry.objects.visible_to(user)
        .select_related("person", "team", "key_worker")
        .filter(id=entry_id, team__in=user.teams.all())
        .first()
    )
    if entry is None:
        raise NotFound("there is no such caseload entry that you can see")
    return entry


@dataclass(frozen=True)
class Proposal:
    person_id: uuid.UUID
    name: str
    nhs_number: str
    age: int | None
    frailty: str
    admissions: int
    why: str


def case_finding(*, user: User, team: Team, today: date | None = None) -> list[Proposal]:
    """People the user may see who are not on the team's caseload and should be:
    moderate or severe frailty with 2+ emergency admissions in a year; where the eFI is
    not available (no code lists installed), 2+ emergency admissions alone."""
    today = today or timezone.localdate()
    on_caseload = (
        CaseloadEntry.objects.visible_to(user)
        .filter(team=team, ended_on__isnull=True)
        .values("person_id")
    )
    people = list(
        Person.objects.visible_to(user)
        .filter(date_of_death__isnull=True)
        .exclude(id__in=on_caseload)
        .only("id", "given_name", "family_name", "nhs_number", "date_of_birth", "date_of_death")
    )
    ids = [p.id for p in people]
    admissions = emergency_admissions(user=user, person_ids=ids)
    busy = [p for p in people if admissions.get(p.id, 0) >= HIGH_RISK_ADMISSIONS]
    frailty = frailty_of(user=user, person_ids=[p.id for p in busy])
    out = []
    for person in busy:
        category = frailty.get(person.id, "")
        if frailty and category not in HIGH_RISK_FRAILTY:
            continue
        n = admissions[person.id]
        why = (
            f"{category.capitalize()} frailty and {n} emergency admissions in a year"
            if category
            else f"{n} emergency admissions in a year (frailty not known)"
        )
        out.append(
            Proposal(
                person.id,
                person.display_name,
                format_for_display(person.nhs_number) if person.nhs_number else "Not known",
                person.age_on(today),
                category,
                n,
                why,
            )
        )
    return sorted(out, key=lambda p: (-FRAILTY_RANK.get(p.frailty, 0), -p.admissions, p.name))


# ---------------------------------------------------------------------------- referrals


def referrals_for_team(*, user: User, team: Team) -> list[Referral]:
    """Referrals with the team: waiting, triaged and recently accepted, oldest due first."""
    recent = timezone.now() - timedelta(days=30)
    return list(
        Referral.objects.visible_to(user)
        .filter(team=team)
        .filter(
            Q(status__in=(*WAITING_FOR_TRIAGE, ReferralStatus.TRIAGED))
            | Q(status=ReferralStatus.ACCEPTED, accepted_at__gte=recent)
        )
        .select_related("team")
        .order_by("triage_due_at", "id")
    )


def referrals_made_by(*, user: User) -> list[Referral]:
    return list(
        Referral.objects.visible_to(user)
        .filter(created_by=user)
        .exclude(status=ReferralStatus.DRAFT)
        .select_related("team")
        .order_by("-received_at")[:100]
    )


def referrals_unrouted(*, user: User) -> list[Referral]:
    return list(
        Referral.objects.visible_to(user)
        .filter(team__isnull=True, status__in=WAITING_FOR_TRIAGE)
        .order_by("received_at")
    )


def referral_detail(*, user: User, referral_id: int) -> Referral:
    referral = (
        Referral.objects.visible_to(user)
        .select_related("team", "rule", "neighbourhood")
        .filter(id=referral_id)
        .first()
    )
    if referral is None:
        raise NotFound("there is no referral with this number that you can see")
    return referral


def referrals_to_discuss(*, user: User, team: Team) -> list[Referral]:
    """Triaged referrals, and urgent or safeguarding ones still waiting, at the team."""
    return list(
        Referral.objects.visible_to(user)
        .filter(team=team)
        .filter(
            Q(status=ReferralStatus.TRIAGED)
            | Q(status__in=WAITING_FOR_TRIAGE) & (Q(urgency=Urgency.URGENT) | Q(safeguarding=True))
        )
        .order_by("received_at")
    )


def breached(referral: Referral, now: datetime | None = None) -> bool:
    """Triage later than its service level, or still waiting past it."""
    due = referral.triage_due_at
    if due is None:
        return False
    if referral.triaged_at is not None:
        return referral.triaged_at > due
    if referral.status in WAITING_FOR_TRIAGE:
        return (now or timezone.now()) > due
    return False


# ------------------------------------------------------------------------------- tasks


def worklist(*, user: User, include_done: bool = False) -> list[Task]:
    """The user's own tasks across all their teams: overdue first, then by due date."""
    tasks = (
        Task.objects.visible_to(user)
        .filter(owner=user)
        .select_related("person", "team", "decision")
    )
    if not include_done:
        tasks = tasks.filter(status=TaskStatus.OPEN)
    today = timezone.localdate()
    return sorted(
        tasks, key=lambda t: (t.status != TaskStatus.OPEN, t.due_on >= today, t.due_on, t.pk)
    )


def team_tasks(*, user: User, team: Team) -> list[Task]:
    return list(
        Task.objects.visible_to(user)
        .filter(team=team, status=TaskStatus.OPEN)
        .select_related("person", "owner")
        .order_by("due_on", "id")
    )


def task_for(*, user: User, task_id: int) -> Task:
    task = (
        Task.objects.visible_to(user)
        .select_related("person", "team", "owner")
        .filter(id=task_id)
        .first()
    )
    if task is None:
        raise NotFound("there is no such task that you can see")
    return task


# -------------------------------------------------------------------------------- MDT


def agenda_candidates(*, user: User, team: Team, day: date) -> list[CaseloadEntry]:
    """Open caseload entries due for review by ``day``, or new and at high risk."""
    window_start = day - timedelta(days=28)
    risky = Q(frailty__in=HIGH_RISK_FRAILTY) | Q(emergency_admissions__gte=HIGH_RISK_ADMISSIONS)
    return list(
        CaseloadEntry.objects.visible_to(user)
        .filter(team=team, ended_on__isnull=True)
        .filter(Q(next_review_on__lte=day) | Q(started_on__gte=window_start) & risky)
        .order_by("next_review_on", "id")
    )


def agenda_reason(entry: CaseloadEntry, *, day: date) -> tuple[str, str]:
    if entry.next_review_on is not None and entry.next_review_on <= day:
        return AgendaReason.REVIEW_DUE, f"Review due {entry.next_review_on:%-d %b %Y}"
    parts = []
    if entry.frailty in HIGH_RISK_FRAILTY:
        parts.append(f"{entry.frailty} frailty")
    if (entry.emergency_admissions or 0) >= HIGH_RISK_ADMISSIONS:
        parts.append(f"{entry.emergency_admissions} emergency admissions in a year")
    started = f"on the caseload since {entry.started_on:%-d %b %Y}"
    return AgendaReason.HIGH_RISK, "; ".join([*parts, started])[:300]


def meetings_for(*, user: User, team: Team) -> list[MdtMeeting]:
    return list(
        MdtMeeting.objects.filter(team=team, team__in=user.teams.all()).order_by("-starts_at")[:50]
    )


def meeting_for(*, user: User, meeting_id: int) -> MdtMeeting:
    meeting = (
        MdtMeeting.objects.select_related("team")
        .filter(id=meeting_id, team__in=user.teams.all())
        .first()
    )
    if meeting is None or not user.has_role_permission(Permission.VIEW_PERSON):
        raise NotFound("there is no such meeting of your teams")
    return meeting


def meeting_items(*, user: User, meeting: MdtMeeting) -> list[MdtItem]:
    return list(
        MdtItem.objects.visible_to(user)
        .filter(meeting=meeting)
        .select_related("person", "referral")
        .prefetch_related(decision_tasks(user))
        .order_by("position")
    )


def decision_tasks(user: User) -> Prefetch[Any]:
    """Each decision's tasks, read through the user's scope (for prefetch_related)."""
    return Prefetch(
        "decisions__tasks", queryset=Task.objects.visible_to(user).select_related("owner")
    )


def item_for(*, user: User, item_id: int) -> MdtItem:
    item = (
        MdtItem.objects.visible_to(user)
        .select_related("meeting__team", "person", "referral")
        .filter(id=item_id)
        .first()
    )
    if item is None:
        raise NotFound("there is no such agenda item that you can see")
    return item


def timeline_rows(*, user: User, person: Person) -> list[dict[str, Any]]:
    """MDT minutes about the person, as rows shaped like ``record.selectors.timeline``'s,
    for the person's timeline (the caller has opened the person with person_open)."""
    items = (
        MdtItem.objects.visible_to(user)
        .filter(person=person, discussed=True, meeting__status=MeetingStatus.HELD)
        .select_related("meeting__team")
        .prefetch_related("decisions")
    )
    rows = []
    for item in items:
        decisions = "; ".join(d.text for d in item.decisions.all())
        text = f"MDT discussion: {item.discussion}"
        if decisions:
            text += f" Decided: {decisions}"
        rows.append(
            {
                "occurred_at": item.meeting.starts_at,
                "ended_at": None,
                "kind": "mdt_minutes",
                "code": "",
                "display": text[:300],
                "value": None,
                "unit": "",
                "status": "",
                "source": "neighbourhoods",
                "organisation": "",
                "detail": {"team": item.meeting.team.name},
            }
        )
    return rows


# ---------------------------------------------------------------------------- packages


def careplan_for(*, user: User, person_id: uuid.UUID) -> CarePlan | None:
    """The person's plan (the caller has opened the person with person_open)."""
    return CarePlan.objects.visible_to(user).filter(person_id=person_id).first()


def packages_of(*, user: User, person_id: uuid.UUID) -> list[CarePackage]:
    return list(
        CarePackage.objects.visible_to(user).filter(person_id=person_id).select_related("team")
    )


def team_packages(*, user: User, team: Team) -> list[CarePackage]:
    today = timezone.localdate()
    return list(
        CarePackage.objects.visible_to(user)
        .filter(team=team)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .select_related("person")
        .order_by("person__family_name", "service")
    )


@dataclass(frozen=True)
class Totals:
    label: str
    people: int
    packages: int
    hours: Decimal
    weekly_cost: Decimal


def package_totals(*, today: date | None = None) -> tuple[list[Totals], list[Totals]]:
    """Live packages of care by team and by neighbourhood: counts and sums, no names."""
    today = today or timezone.localdate()
    live = (
        CarePackage.objects.for_system("package of care totals (aggregates only)")
        .filter(starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    )

    def by(field: str) -> list[Totals]:
        rows = (
            live.values(field)
            .annotate(
                people=Count("person", distinct=True),
                packages=Count("id"),
                hours=Sum("hours_per_week"),
                cost=Sum("weekly_cost"),
            )
            .order_by(field)
        )
        return [
            Totals(
                r[field] or "Not known",
                r["people"],
                r["packages"],
                r["hours"] or Decimal(0),
                r["cost"] or Decimal(0),
            )
            for r in rows
        ]

    return by("team__name"), by("team__neighbourhood__name")


def triage_breaches(now: datetime | None = None) -> list[tuple[str, int, int]]:
    """Per team: referrals waiting for triage, and how many are past their service level
    (counts only)."""
    now = now or timezone.now()
    waiting = (
        Referral.objects.for_system("service level counts (no person data)")
        .filter(status__in=WAITING_FOR_TRIAGE)
        .values("team__name")
        .annotate(waiting=Count("id"), late=Count("id", filter=Q(triage_due_at__lt=now)))
        .order_by("team__name")
    )
    return [(r["team__name"] or "Not routed", r["waiting"], r["late"]) for r in waiting]

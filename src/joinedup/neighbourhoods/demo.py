"""Demonstration data for the neighbourhood teams, built on the synthetic borough.

Called by ``joinedup demo`` once the borough is ingested and linked and the demo teams
have their caseload relationships. It loads the postcodes, a few routing rules, caseload
entries (key workers, reviews, risk) for the demo INTs, tasks, care plans, packages of
care, an MDT meeting with its agenda, and referrals at the front door, one of them sent to
the wrong team. Idempotent: each part is skipped when it is already there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils import timezone

from joinedup.core.models import Team, User
from joinedup.demo import HOME_TEAM, OTHER_TEAM
from joinedup.neighbourhoods import services, sla
from joinedup.neighbourhoods.models import (
    CarePackage,
    CarePlan,
    CaseloadEntry,
    LivesAlone,
    MdtMeeting,
    PostcodeArea,
    Referral,
    RoutingRule,
    Service,
    Task,
)
from joinedup.people.models import Person, RelationshipKind

Progress = Callable[[str, int, int], None]
_SYSTEM = "neighbourhoods demonstration data"
REASONS = (
    "Frailty and falls",
    "Leg ulcer care",
    "Heart failure: monitoring at home",
    "Carer under strain",
    "Diabetes: insulin at home",
    "After a hospital stay",
)


def demo_load(borough: Path, *, progress: Progress) -> None:
    if not PostcodeArea.objects.exists():
        count = services.postcodes_load(folder=borough)
        progress("neighbourhood postcodes", count, count)
    _rules()
    users = {u.username: u for u in User.objects.filter(username__in=_USERNAMES)}
    rng = np.random.default_rng(6)
    for name, owner, other in ((HOME_TEAM, "nurse", "socialworker"), (OTHER_TEAM, "ot", "ot")):
        team = Team.objects.filter(name=name).first()
        if team is None or owner not in users:
            continue
        _caseload(team, users[owner], users[other], rng, progress)
    home = Team.objects.filter(name=HOME_TEAM).first()
    if home is not None and {"nurse", "socialworker", "gp"} <= users.keys():
        _team_work(home, users, rng)
        _referrals(home, users)
    progress("neighbourhood teams", 1, 1)


_USERNAMES = ("nurse", "socialworker", "gp", "ot", "carecoordinator")


def _rules() -> None:
    if RoutingRule.objects.exists():
        return
    RoutingRule.objects.create(
        name="Children and families: the neighbourhood team's family practitioners",
        priority=10,
        max_age=17,
    )
    RoutingRule.objects.create(
        name="Safeguarding concerns: the neighbourhood team, as urgent",
        priority=20,
        safeguarding=True,
    )
    RoutingRule.objects.create(name="Everyone else: the neighbourhood team", priority=100)


def _caseload(
    team: Team, owner: User, other: User, rng: np.random.Generator, progress: Progress
) -> None:
    """A caseload entry for each person the demo put on the team's caseload."""
    if CaseloadEntry.objects.for_system(_SYSTEM).filter(team=team).exists():
        return
    people = list(
        Person.objects.for_system(_SYSTEM)
        .filter(
            relationships__team=team,
            relationships__kind=RelationshipKind.CASELOAD,
            relationships__ended_on__isnull=True,
        )
        .distinct()
        .order_by("id")
    )
    today = timezone.localdate()
    entries = []
    for n, person in enumerate(people):
        entries.append(
            CaseloadEntry(
                team=team,
                person=person,
                reason=REASONS[n % len(REASONS)],
                key_worker=owner if n % 3 else other,
                lives_alone=(LivesAlone.YES, LivesAlone.NO, LivesAlone.UNKNOWN)[
                    int(rng.integers(3))
                ],
                last_contact_on=today - timedelta(days=int(rng.integers(1, 60))),
                next_review_on=today + timedelta(days=int(rng.integers(-10, 50))),
                started_on=today - timedelta(days=int(rng.integers(0, 200))),
            )
        )
    with transaction.atomic():
        CaseloadEntry.objects.bulk_create(entries)
    services.caseload_risk_refresh(user=owner, team=team)
    progress(f"caseload of {team.name}", len(entries), len(entries))


def _team_work(team: Team, users: dict[str, User], rng: np.random.Generator) -> None:
    nurse, social = users["nurse"], users["socialworker"]
    entries = list(
        CaseloadEntry.objects.for_system(_SYSTEM)
        .filter(team=team, ended_on__isnull=True)
        .select_related("person")
        .order_by("id")
    )
    if not entries or Task.objects.for_system(_SYSTEM).filter(team=team).exists():
        return
    today = timezone.localdate()
    for n, entry in enumerate(entries[:6]):
        services.task_create(
            user=nurse,
            team=team,
            owner=nurse if n % 2 == 0 else social,
            title=("Review medicines", "Check the key safe", "Book a carers assessment")[n % 3],
            due_on=today + timedelta(days=int(rng.integers(-5, 14))),
            person=entry.person,
        )
    for entry in entries[:3]:
        if not CarePlan.objects.for_system(_SYSTEM).filter(person=entry.person).exists():
            services.careplan_save(
                user=nurse,
                person_id=entry.person_id,
                base_version=0,
                content={
                    "what_matters": (
                        "To stay at home with my dog and see my grandchildren on Sundays."
                    ),
                    "goals": [{"text": "Walk to the corner shop with a frame"}],
                    "actions": [
                        {
                            "text": "Dress the leg ulcer three times a week",
                            "responsible": "Nia Okafor",
                            "organisation": "Community services",
                        },
                        {
                            "text": "Carers assessment for my daughter",
                            "responsible": "Sam Walsh",
                            "organisation": "Adult social care",
                        },
                    ],
                    "contingency": "If I fall, press my pendant alarm; my daughter has a key.",
                    "review_on": (today + timedelta(days=42)).isoformat(),
                },
            )
    for n, entry in enumerate(entries[:12]):
        service = (
            Service.HOME_CARE,
            Service.DISTRICT_NURSING,
            Service.EQUIPMENT,
            Service.REABLEMENT,
        )[n % 4]
        CarePackage.objects.create(
            person=entry.person,
            team=team,
            service=service,
            provider=(
                "Helping Hands Stockport",
                "Community nursing",
                "Borough equipment store",
                "Reablement team",
            )[n % 4],
            hours_per_week=Decimal(7 + 3 * (n % 4)) if service == Service.HOME_CARE else None,
            visits_per_week=3 if service == Service.DISTRICT_NURSING else None,
            starts_on=today - timedelta(days=30 + n),
            weekly_cost=Decimal(("182.00", "96.50", "12.75", "240.00")[n % 4]),
            created_by=nurse,
        )
    if not MdtMeeting.objects.filter(team=team).exists():
        day = sla.add_working_time(timezone.localtime(), timedelta(hours=8)).date()
        start = datetime(
            day.year, day.month, day.day, 13, 0, tzinfo=timezone.get_current_timezone()
        )
        services.meeting_schedule(
            user=nurse, team=team, starts_at=start, location="Heaton Lane Health Centre, room 3"
        )


def _referrals(team: Team, users: dict[str, User]) -> None:
    """Three referrals at the front door; the last gives an old address, so it lands with
    the wrong team and the nurse sends it on."""
    if Referral.objects.for_system(_SYSTEM).exists():
        return
    central = (
        PostcodeArea.objects.filter(neighbourhood=team.neighbourhood).order_by("postcode").first()
    )
    if central is None:
        return
    base = {
        "referrer_kind": "professional",
        "referrer_name": "Dr Grace Patel",
        "referrer_contact": "0161 555 0101",
        "address": "12 Mill Lane",
        "postcode": central.postcode,
        "safeguarding": "no",
        "consent": "yes",
    }
    for given, family, born, need, urgency, reason in (
        (
            "Edith",
            "Marsden",
            ("3", "4", "1936"),
            "nursing",
            "urgent",
            "Catheter blocked since this morning; lives alone.",
        ),
        (
            "Harold",
            "Quayle",
            ("19", "11", "1941"),
            "mobility",
            "routine",
            "Two falls this month; struggling with the stairs.",
        ),
        (
            "Maureen",
            "Oldroyd",
            ("8", "2", "1944"),
            "personal_care",
            "routine",
            "Needs help washing and dressing. Moved in March to a flat in Reddish.",
        ),
    ):
        form = {
            **base,
            "given_name": given,
            "family_name": family,
            "dob-day": born[0],
            "dob-month": born[1],
            "dob-year": born[2],
            "need": need,
            "urgency": urgency,
            "reason": reason,
        }
        draft = services.referral_draft_save(form=form, user=users["gp"])
        services.referral_submit(referral=draft, user=users["gp"])

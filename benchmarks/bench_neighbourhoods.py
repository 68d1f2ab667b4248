"""Benchmark the neighbourhood team pages: a 2,000-person caseload and an MDT agenda.

Run: .venv/bin/python benchmarks/bench_neighbourhoods.py [--people 295000]
Builds a throwaway SQLite database with N people, one Integrated Neighbourhood Team with
2,000 of them on its caseload (risk already computed, as the caseload page expects), 3,000
open tasks, 40 referrals waiting, and an MDT meeting whose agenda is built from the
caseload (people due for review and new high-risk people) and the referrals. Then times,
in process with Django's test client (server time only): the caseload page, the caseload
sorted by frailty, its CSV and XLSX downloads, the team's referrals with service-level
timers, scheduling a meeting (building its agenda), the agenda page and the minutes PDF.
Prints a markdown table for docs/benchmarks.md. Target: caseload and agenda under 300 ms.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import date, timedelta

from timing import on_scratch_sqlite, table_row, time_ms

CASELOAD = 2000


def _row(name: str, samples: list[float]) -> str:
    return table_row(name, samples, digits=1)


def _build(people: int) -> dict[str, object]:
    import numpy as np
    from django.utils import timezone

    from joinedup.core.models import Neighbourhood, Organisation, Team, User
    from joinedup.core.nhs_number import synthetic_batch
    from joinedup.neighbourhoods import services
    from joinedup.neighbourhoods.models import CaseloadEntry, PostcodeArea, Task
    from joinedup.people.models import CareRelationship, Person

    rng = np.random.default_rng(3)
    org = Organisation.objects.create(ods_code="B0001", name="Bench", kind="community_provider")
    hood = Neighbourhood.objects.create(code="b", name="Bench")
    team = Team.objects.create(name="Bench INT", kind="int", organisation=org, neighbourhood=hood)
    PostcodeArea.objects.create(postcode="SK1 3XE", neighbourhood=hood)
    persons = [
        Person(
            id=uuid.uuid4(),
            nhs_number=n,
            given_name=f"G{i % 500}",
            family_name=f"F{i % 997}",
            date_of_birth=date(1930 + i % 80, 1 + i % 12, 1 + i % 28),
            sex="female",
            postcode="SK1 3XE",
        )
        for i, n in enumerate(synthetic_batch(rng, people))
    ]
    Person.objects.for_system("benchmark").bulk_create(persons, batch_size=5000)
    members = [
        User.objects.create_user(username=f"u{n}", password="x" * 20, role=role)
        for n, role in enumerate(("district_nurse", "social_worker", "gp", "care_coordinator"))
    ]
    for member in members:
        member.teams.set([team])
    on = persons[:CASELOAD]
    CareRelationship.objects.bulk_create(
        [CareRelationship(person=p, team=team, kind="caseload") for p in on]
    )
    today = timezone.localdate()
    frailty = ("fit", "mild", "moderate", "severe", "")
    CaseloadEntry.objects.bulk_create(
        [
            CaseloadEntry(
                team=team,
                person=p,
                reason="Frailty",
                key_worker=members[i % 2],
                frailty=frailty[i % 5],
                emergency_admissions=int(rng.integers(0, 4)),
                risk_updated_at=timezone.now(),
                last_contact_on=today - timedelta(days=i % 60),
                # About 40 due by the meeting: a realistic weekly agenda.
                next_review_on=today + timedelta(days=int(rng.integers(1, 100))),
                started_on=today - timedelta(days=int(rng.integers(0, 600))),
            )
            for i, p in enumerate(on)
        ],
        batch_size=2000,
    )
    Task.objects.bulk_create(
        [
            Task(
                title="Visit",
                person=on[i % CASELOAD],
                team=team,
                owner=members[i % 2],
                due_on=today + timedelta(days=int(rng.integers(-10, 30))),
            )
            for i in range(3000)
        ],
        batch_size=2000,
    )
    form = {
        "referrer_name": "Bench",
        "referrer_contact": "x",
        "given_name": "Ref",
        "family_name": "Erral",
        "dob-day": "1",
        "dob-month": "2",
        "dob-year": "1940",
        "postcode": "SK1 3XE",
        "need": "nursing",
        "urgency": "urgent",
        "safeguarding": "no",
        "reason": "A benchmark referral.",
        "consent": "yes",
    }
    for _ in range(40):
        draft = services.referral_draft_save(form=form, user=members[2])
        services.referral_submit(referral=draft, user=members[2])
    return {"team": team, "nurse": members[0]}


def run(people: int) -> list[str]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from joinedup.neighbourhoods import services
    from joinedup.neighbourhoods.models import MdtItem

    built = _build(people)
    team, nurse = built["team"], built["nurse"]
    client = Client()
    client.force_login(nurse)  # type: ignore[arg-type]
    base = f"/neighbourhoods/teams/{team.pk}/"  # type: ignore[attr-defined]
    assert client.get(base + "caseload/").status_code == 200
    when = timezone.now() + timedelta(days=14)

    def schedule() -> object:
        return services.meeting_schedule(user=nurse, team=team, starts_at=when, location="B")  # type: ignore[arg-type]

    build_times = time_ms(schedule, 5)
    meeting = schedule()
    items = MdtItem.objects.for_system("benchmark").filter(meeting=meeting).count()
    agenda = f"/neighbourhoods/meetings/{meeting.pk}/"  # type: ignore[attr-defined]
    assert client.get(agenda).status_code == 200
    rows = [
        _row(
            f"caseload page, {CASELOAD:,} people (GET)",
            time_ms(lambda: client.get(base + "caseload/"), 20),
        ),
        _row(
            "caseload sorted by frailty, filtered to moderate or severe",
            time_ms(
                lambda: client.get(base + "caseload/?sort=frailty&order=desc&frailty=frail"), 20
            ),
        ),
        _row(
            "caseload download, CSV", time_ms(lambda: client.get(base + "caseload/?format=csv"), 10)
        ),
        _row(
            "caseload download, XLSX",
            time_ms(lambda: client.get(base + "caseload/?format=xlsx"), 5),
        ),
        _row(
            "team referrals with service-level timers (40)", time_ms(lambda: client.get(base), 20)
        ),
        _row("schedule a meeting and build its agenda", build_times),
        _row(f"MDT agenda page ({items} items)", time_ms(lambda: client.get(agenda), 20)),
        _row(
            "MDT minutes PDF",
            time_ms(lambda: client.get(agenda + "../" + f"{meeting.pk}/minutes.pdf"), 10),
        ),  # type: ignore[attr-defined]
        _row(
            "your tasks (about 1,500 open)",
            time_ms(lambda: client.get("/neighbourhoods/tasks/"), 20),
        ),
    ]
    print(f"people: {people:,}; agenda items: {items}", file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=295_000)
    args = parser.parse_args()
    on_scratch_sqlite(lambda _folder: run(args.people))


if __name__ == "__main__":
    main()

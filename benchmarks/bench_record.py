"""Benchmark the shared record's pages: a 500-event timeline and person search.

Run: .venv/bin/python benchmarks/bench_record.py [--people 100000]
Builds a throwaway SQLite database with N people (one team caring for 2,000 of them),
gives one person 500 facts from four organisations, then times the person page and
searches by NHS number, by name and date of birth, and by postcode (Django test client,
in process; server time only). Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, date, datetime, timedelta

from timing import on_scratch_sqlite, table_row, time_ms


def _row(name: str, samples: list[float]) -> str:
    return table_row(name, samples, digits=1)


def run(people: int) -> list[str]:
    import django

    django.setup()
    import numpy as np
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from joinedup.core.models import Neighbourhood, Organisation, Team, User
    from joinedup.core.nhs_number import synthetic_batch
    from joinedup.people.models import CareRelationship, Person, SourceIdentity
    from joinedup.record.models import Delivery, Fact

    org = Organisation.objects.create(ods_code="B0001", name="Bench", kind="gp_practice")
    hood = Neighbourhood.objects.create(code="b", name="Bench")
    team = Team.objects.create(name="T", kind="int", organisation=org, neighbourhood=hood)
    numbers = synthetic_batch(np.random.default_rng(1), people)
    persons = [
        Person(
            id=uuid.uuid4(),
            nhs_number=n,
            given_name=f"G{i % 500}",
            family_name=f"F{i % 997}",
            date_of_birth=date(1930 + i % 80, 1 + i % 12, 1 + i % 28),
            sex="female",
            postcode=f"SK{i % 9} {i % 10}A{chr(65 + i % 26)}",
        )
        for i, n in enumerate(numbers)
    ]
    Person.objects.for_system("benchmark").bulk_create(persons, batch_size=5000)
    CareRelationship.objects.bulk_create(
        [CareRelationship(person=p, team=team, kind="caseload") for p in persons[:2000]]
    )
    nurse = User.objects.create_user(username="bench", password="x" * 20, role="district_nurse")
    nurse.teams.set([team])
    subject = persons[0]
    delivery = Delivery.objects.create(
        feed="bench",
        path="b",
        sha256="0" * 64,
        size=0,
        received_at=timezone.now(),
        status="complete",
    )
    sources = ("gp", "hospital", "community", "socialcare_adults")
    identities = {
        s: SourceIdentity.objects.for_system("bench").create(
            source=s,
            source_id=f"{s}-1",
            person=subject,
            delivery_id=delivery.pk,
            received_at=timezone.now(),
        )
        for s in sources
    }
    start = datetime(2021, 1, 1, tzinfo=UTC)
    Fact.objects.for_system("bench").bulk_create(
        [
            Fact(
                identity=identities[sources[i % 4]],
                source=sources[i % 4],
                record_id=str(i),
                kind="observation",
                occurred_at=start + timedelta(days=3 * i),
                code="75367002",
                display="Blood pressure",
                detail={"systolic": 120, "diastolic": 80},
                delivery=delivery,
                received_at=timezone.now(),
            )
            for i in range(500)
        ]
    )
    client = Client()
    client.force_login(nurse)
    page = f"/people/{subject.id}/"
    assert client.get(page).status_code == 200
    rows = [
        _row("person page with a 500-event timeline (GET)", time_ms(lambda: client.get(page), 30)),
        _row(
            f"search by NHS number ({people:,} people)",
            time_ms(lambda: client.get("/people/search/", {"q": subject.nhs_number}), 50),
        ),
        _row(
            "search by name and date of birth",
            time_ms(
                lambda: client.get(
                    "/people/search/",
                    {"q": f"{subject.family_name} {subject.date_of_birth:%d/%m/%Y}"},
                ),
                50,
            ),
        ),
        _row(
            "search by postcode",
            time_ms(lambda: client.get("/people/search/", {"q": subject.postcode}), 50),
        ),
    ]
    print(f"people: {people:,}", file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    args = parser.parse_args()
    on_scratch_sqlite(lambda _folder: run(args.people))


if __name__ == "__main__":
    main()

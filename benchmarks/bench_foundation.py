"""Benchmark the foundation's hot paths: audit appends, the scoped person query, a person page.

Run: .venv/bin/python benchmarks/bench_foundation.py [--people 20000] [--postgres URL]
Builds a throwaway database (a temporary SQLite file, or a fresh PostgreSQL database made
from the server in --postgres and dropped afterwards), so it never touches var/.
Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path

from timing import table_row, time_ms


def run(people: int) -> list[str]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    import numpy as np

    from joinedup.core.audit import audit_record, verify_chain
    from joinedup.core.models import AuditAction, Neighbourhood, Organisation, Team, User
    from joinedup.core.nhs_number import synthetic_batch
    from joinedup.people.models import CareRelationship, Person

    org = Organisation.objects.create(ods_code="B0001", name="Bench", kind="gp_practice")
    hood = Neighbourhood.objects.create(code="b", name="Bench")
    teams = [
        Team.objects.create(name=f"T{i}", kind="int", organisation=org, neighbourhood=hood)
        for i in range(10)
    ]
    numbers = synthetic_batch(np.random.default_rng(1), people)
    persons = [
        Person(
            id=uuid.uuid4(),
            nhs_number=n,
            given_name="Bench",
            family_name=f"P{i}",
            date_of_birth=date(1950, 1, 1 + i % 28),
            sex="female",
        )
        for i, n in enumerate(numbers)
    ]
    Person.objects.for_system("benchmark").bulk_create(persons, batch_size=2000)
    CareRelationship.objects.bulk_create(
        [
            CareRelationship(person=p, team=teams[i % 10], kind="caseload")
            for i, p in enumerate(persons)
        ],
        batch_size=2000,
    )
    nurse = User.objects.create_user(username="bench", password="x" * 20, role="district_nurse")
    nurse.teams.set([teams[0]])
    client = Client()
    client.force_login(nurse)
    mine = persons[0]

    rows = [
        table_row(
            "audit append (one event, own transaction)",
            time_ms(
                lambda: audit_record(
                    actor=nurse, action=AuditAction.READ, resource="bench", person_id=mine.id
                ),
                500,
            ),
        ),
        table_row(
            f"caseload query: visible_to(user), first 500 of {people // 10:,}",
            time_ms(lambda: list(Person.objects.visible_to(nurse)[:500]), 50),
        ),
        table_row(
            "person page (GET, scoped read, audit, render)",
            time_ms(lambda: client.get(f"/people/{mine.id}/"), 100),
        ),
        table_row(
            "caseload page (GET, 500 people listed)", time_ms(lambda: client.get("/people/"), 20)
        ),
    ]
    events = verify_chain().events
    rows.append(table_row(f"audit verify ({events:,} events)", time_ms(verify_chain, 3)))
    print(f"engine: {connection.vendor}, people: {people:,}", file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--postgres", help="a postgresql:// URL of a server to make a database on")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "joinedup.settings")
    dropdb: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            name = f"joinedup_bench_{os.getpid()}"
            base = args.postgres.rstrip("/")
            host = base.split("@")[-1].split("/")[0].split(":")[0]
            subprocess.run(["createdb", "-h", host, "-U", "postgres", name], check=True)
            dropdb = ["dropdb", "-h", host, "-U", "postgres", name]
            os.environ["DATABASE_URL"] = f"{base.rsplit('/', 1)[0]}/{name}"
        else:
            os.environ.pop("DATABASE_URL", None)
            os.environ["JOINEDUP_SQLITE_PATH"] = str(Path(tmp) / "bench.sqlite3")
        try:
            rows = run(args.people)
        finally:
            if dropdb:
                from django.db import connections

                connections.close_all()
                subprocess.run(dropdb, check=False)
    print("| operation | runs | median ms | p95 ms |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

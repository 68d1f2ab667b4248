"""Demonstration data: the borough's organisations, teams, a user for every role, and people.

Used by `joinedup demo` only, never in production (it refuses there). Running
it again changes nothing: what exists is kept. Until the synthetic borough
is loaded by ingestion, a small set of synthetic people stands in for it,
each with a valid NHS number from the synthetic 999 range.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count

from joinedup.core import services as core_services
from joinedup.core.models import Neighbourhood, Organisation, OrganisationKind, Team, TeamKind, User
from joinedup.core.nhs_number import synthetic_batch
from joinedup.core.roles import Role
from joinedup.errors import ConfigurationError
from joinedup.people import services as people_services
from joinedup.people.linking import link_run
from joinedup.people.models import CareRelationship, Person, RelationshipKind, Sex, SourceIdentity
from joinedup.record.ingest import ingest_folder
from joinedup.synth import generate_borough

DEMO_SEED = 1

NEIGHBOURHOODS = (
    ("central", "Central"),
    ("north", "North"),
    ("east", "East"),
    ("south", "South"),
    ("west", "West"),
    ("hills", "Hills"),
    ("valley", "Valley"),
    ("heath", "Heath"),
)
ORGANISATIONS = (
    ("JU001", "Joinedup Partnership", OrganisationKind.PARTNERSHIP),
    ("RJU", "Borough Hospital NHS Foundation Trust", OrganisationKind.ACUTE_TRUST),
    ("RJV", "Borough Community Services", OrganisationKind.COMMUNITY_PROVIDER),
    ("RJW", "Borough and District Mental Health Trust", OrganisationKind.MENTAL_HEALTH_TRUST),
    ("LA001", "Borough Council Adult Social Care", OrganisationKind.LOCAL_AUTHORITY),
    ("HS001", "Borough Hospice", OrganisationKind.HOSPICE),
    ("P81001", "Market Street Surgery", OrganisationKind.GP_PRACTICE),
    ("P81002", "Hillside Medical Practice", OrganisationKind.GP_PRACTICE),
    ("P81003", "Valley Health Centre", OrganisationKind.GP_PRACTICE),
)
# Each demo user: sign-in name, role, first and last name, organisation's ODS code, teams.
DEMO_USERS = (
    ("admin", Role.ADMINISTRATOR, "Alex", "Admin", "JU001", ()),
    ("gp", Role.GP, "Grace", "Patel", "P81001", ("Central INT",)),
    ("nurse", Role.DISTRICT_NURSE, "Nia", "Okafor", "RJV", ("Central INT",)),
    ("socialworker", Role.SOCIAL_WORKER, "Sam", "Walsh", "LA001", ("North INT",)),
    ("ot", Role.OCCUPATIONAL_THERAPIST, "Olu", "Adeyemi", "RJV", ("North INT",)),
    ("carecoordinator", Role.CARE_COORDINATOR, "Chris", "Byrne", "RJV", ("Central INT",)),
    ("discharge", Role.DISCHARGE_COORDINATOR, "Dana", "Hughes", "RJU", ("Discharge hub",)),
    ("analyst", Role.ANALYST, "Ade", "Nowak", "LA001", ()),
    ("engagement", Role.ENGAGEMENT_OFFICER, "Eve", "Lloyd", "JU001", ()),
    ("workforce", Role.WORKFORCE_LEAD, "Wes", "Khan", "JU001", ()),
    ("portfolio", Role.PORTFOLIO_OFFICER, "Pat", "Riley", "JU001", ()),
)
GIVEN = {
    Sex.FEMALE: ("Margaret", "Olivia", "Amira", "Jean", "Priya", "Ellie", "Doreen", "Zofia"),
    Sex.MALE: ("Arthur", "Mohammed", "George", "Tomasz", "Kwame", "Harry", "Dennis", "Liam"),
}
FAMILY = (
    "Smith",
    "Jones",
    "Hussain",
    "Taylor",
    "Brown",
    "Kowalski",
    "Wilson",
    "Mensah",
    "Shaw",
    "Evans",
    "Begum",
    "Walker",
)
STREETS = ("Mersey Road", "Wellington Street", "Chestnut Avenue", "Mill Lane", "Church Walk")


def demo_prepare(
    *, people: int, progress: Callable[[str, int, int], None]
) -> list[tuple[str, str, str]]:
    """Migrate, load the demo data if it is missing, and return the sign-ins to print."""
    if settings.PRODUCTION:
        raise ConfigurationError("demo data is never loaded in production", where="JOINEDUP_ENV")
    call_command("migrate", interactive=False, verbosity=0)
    progress("database ready", 1, 1)
    password = _demo_password()
    if not User.objects.filter(username="admin").exists():
        _load(password=password, progress=progress)
    borough = borough_prepare(people=people, progress=progress)
    ingest_folder(borough, progress=progress)
    if SourceIdentity.objects.for_system("demo").filter(person__isnull=True).exists():
        link_run(progress=progress)
    _demo_caseloads()
    return [(Role(role).label, username, password) for username, role, *_ in DEMO_USERS]


def _demo_caseloads(per_team: int = 40) -> None:
    """Give the demo teams caseloads of people whose records come from four or more sources."""
    teams = [Team.objects.get(name=n) for n in ("Central INT", "North INT", "Discharge hub")]
    if CareRelationship.objects.filter(team__in=teams, kind=RelationshipKind.CASELOAD).count() > 24:
        return
    rich = (
        SourceIdentity.objects.for_system("demo")
        .filter(person__isnull=False)
        .values("person_id")
        .annotate(sources=Count("source", distinct=True))
        .filter(sources__gte=4)
        .order_by("person_id")
        .values_list("person_id", flat=True)[: per_team * len(teams)]
    )
    people = list(Person.objects.for_system("demo").filter(id__in=list(rich)))
    for index, person in enumerate(people):
        people_services.relationship_start(
            person=person, team=teams[index % len(teams)], kind=RelationshipKind.CASELOAD
        )


def borough_prepare(*, people: int, progress: Callable[[str, int, int], None]) -> Path:
    """The synthetic borough's source extracts under var/, generated once per size."""
    out = settings.VAR_DIR / f"borough-{people}"
    if not (out / "truth" / "summary.json").exists():
        generate_borough(people=people, seed=DEMO_SEED, out=out, progress=progress, overwrite=True)
    return out


def _demo_password() -> str:
    """One password for every demo account, made on first run and kept in var/."""
    path = settings.VAR_DIR / "demo-password"
    if not path.exists():
        path.write_text(f"demo-{secrets.token_urlsafe(9)}")
        path.chmod(0o600)
    return path.read_text().strip()


@transaction.atomic
def _load(*, password: str, progress: Callable[[str, int, int], None]) -> None:
    neighbourhoods = {
        code: Neighbourhood.objects.create(code=code, name=name) for code, name in NEIGHBOURHOODS
    }
    orgs = {
        ods: Organisation.objects.create(ods_code=ods, name=name, kind=kind)
        for ods, name, kind in ORGANISATIONS
    }
    teams = {
        f"{n.name} INT": Team.objects.create(
            name=f"{n.name} INT", kind=TeamKind.INT, organisation=orgs["RJV"], neighbourhood=n
        )
        for n in neighbourhoods.values()
    }
    teams["Discharge hub"] = Team.objects.create(
        name="Discharge hub", kind=TeamKind.DISCHARGE_HUB, organisation=orgs["RJU"]
    )
    for username, role, first, last, ods, team_names in DEMO_USERS:
        core_services.user_create(
            username=username,
            password=password,
            role=role,
            organisation=orgs[ods],
            teams=[teams[t] for t in team_names],
            first_name=first,
            last_name=last,
            check_password=False,
        )
    progress("demo users", len(DEMO_USERS), len(DEMO_USERS))
    _load_people(orgs=orgs, teams=teams, progress=progress)


def _load_people(
    *,
    orgs: dict[str, Organisation],
    teams: dict[str, Team],
    progress: Callable[[str, int, int], None],
) -> list[Person]:
    rng = np.random.default_rng(20261122)
    count = 24
    numbers = synthetic_batch(rng, count)
    practices = [o for o in orgs.values() if o.kind == OrganisationKind.GP_PRACTICE]
    int_teams = [teams["Central INT"], teams["North INT"], teams["Discharge hub"]]
    created = []
    for i in range(count):
        sex = Sex.FEMALE if i % 2 == 0 else Sex.MALE
        person = people_services.person_create(
            given_name=GIVEN[sex][int(rng.integers(len(GIVEN[sex])))],
            family_name=FAMILY[int(rng.integers(len(FAMILY)))],
            date_of_birth=date(
                1930 + int(rng.integers(80)), 1 + int(rng.integers(12)), 1 + int(rng.integers(28))
            ),
            sex=sex,
            nhs_number=numbers[i],
            address=f"{1 + int(rng.integers(120))} {STREETS[int(rng.integers(len(STREETS)))]}",
            postcode=f"ZZ{1 + i % 9} {int(rng.integers(10))}AA",
            registered_practice=practices[i % len(practices)],
            opted_out_secondary_use=i % 7 == 3,
        )
        if i % 4 != 3:  # one in four has no relationship: break-glass is needed to see them
            people_services.relationship_start(
                person=person,
                team=int_teams[i % 3],
                kind=(RelationshipKind.CASELOAD, RelationshipKind.REFERRAL)[i % 2],
            )
        created.append(person)
        progress("demo people", i + 1, count)
    return created

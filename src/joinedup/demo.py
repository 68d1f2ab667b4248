"""Demonstration data: the borough's organisations, teams, a user for every role, and people.

Used by `joinedup demo` only, never in production (it refuses there). Running
it again changes nothing: what exists is kept. The organisations, neighbourhoods and
people are the synthetic borough's (``joinedup synth``), loaded by ingestion and linked;
the demo adds the partnership, a team per neighbourhood, the discharge hub, a user for
every role and caseloads for three teams. Each module adds its own demonstration data
with its ``demo_load`` function.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count

from joinedup.core import services as core_services
from joinedup.core.models import Neighbourhood, Organisation, OrganisationKind, Team, TeamKind, User
from joinedup.core.reference import organisations_sync
from joinedup.core.roles import Role
from joinedup.errors import ConfigurationError
from joinedup.people import services as people_services
from joinedup.people.linking import link_run
from joinedup.people.models import CareRelationship, Person, RelationshipKind, SourceIdentity
from joinedup.record.ingest import ingest_folder
from joinedup.synth import generate_borough

DEMO_SEED = 1

# The partnership itself is not in the borough's organisation register; the demo adds it.
PARTNERSHIP = ("JU001", "Joinedup Partnership")
HOME_TEAM = "Stockport Central INT"
OTHER_TEAM = "Heatons & Reddish INT"
HUB = "Discharge hub"
COMMUNITY_PROVIDER = "RZ8"
HOSPITAL_TRUST = "RZ9"
# Each demo user: sign-in name, role, first and last name, organisation's ODS code, teams.
# Organisation codes are the synthetic borough's register (reference/organisations.csv).
DEMO_USERS = (
    ("admin", Role.ADMINISTRATOR, "Alex", "Admin", "JU001", ()),
    ("gp", Role.GP, "Grace", "Patel", "Z88001", (HOME_TEAM,)),
    ("nurse", Role.DISTRICT_NURSE, "Nia", "Okafor", COMMUNITY_PROVIDER, (HOME_TEAM,)),
    ("socialworker", Role.SOCIAL_WORKER, "Sam", "Walsh", "LA901A", (HOME_TEAM,)),
    ("ot", Role.OCCUPATIONAL_THERAPIST, "Olu", "Adeyemi", COMMUNITY_PROVIDER, (OTHER_TEAM,)),
    ("carecoordinator", Role.CARE_COORDINATOR, "Chris", "Byrne", COMMUNITY_PROVIDER, (HOME_TEAM,)),
    ("discharge", Role.DISCHARGE_COORDINATOR, "Dana", "Hughes", HOSPITAL_TRUST, (HUB,)),
    ("analyst", Role.ANALYST, "Ade", "Nowak", "LA901", ()),
    ("engagement", Role.ENGAGEMENT_OFFICER, "Eve", "Lloyd", "JU001", ()),
    ("workforce", Role.WORKFORCE_LEAD, "Wes", "Khan", "JU001", ()),
    ("portfolio", Role.PORTFOLIO_OFFICER, "Pat", "Riley", "JU001", ()),
)


def demo_prepare(
    *, people: int, progress: Callable[[str, int, int], None]
) -> list[tuple[str, str, str]]:
    """Migrate, load the demo data if it is missing, and return the sign-ins to print."""
    if settings.PRODUCTION:
        raise ConfigurationError("demo data is never loaded in production", where="JOINEDUP_ENV")
    call_command("migrate", interactive=False, verbosity=0)
    progress("database ready", 1, 1)
    password = _demo_password()
    borough = borough_prepare(people=people, progress=progress)
    organisations_sync(borough / "reference" / "organisations.csv")
    if not User.objects.filter(username="admin").exists():
        _load(password=password, progress=progress)
    ingest_folder(borough, progress=progress)
    if SourceIdentity.objects.for_system("demo").filter(person__isnull=True).exists():
        link_run(progress=progress)
    _demo_caseloads()
    for load in _module_demos():
        load(borough, progress=progress)
    return [(Role(role).label, username, password) for username, role, *_ in DEMO_USERS]


def _module_demos() -> list[Callable[..., None]]:
    """Each module's own demonstration data, loaded once the people and teams exist.

    In this order: the care-home register needs the homes' organisations (workforce syncs
    them), and the discharge build flags care-home residents from the register."""
    from joinedup.carehomes.demo import demo_load as carehomes
    from joinedup.citizens.demo import demo_load as citizens
    from joinedup.directory.demo import demo_load as directory
    from joinedup.discharge.demo import demo_load as discharge
    from joinedup.neighbourhoods.demo import demo_load as neighbourhoods
    from joinedup.population.demo import demo_load as population
    from joinedup.portfolio.demo import demo_load as portfolio
    from joinedup.workforce.demo import demo_load as workforce

    return [
        population,
        neighbourhoods,
        directory,
        workforce,
        carehomes,
        discharge,
        portfolio,
        citizens,
    ]


def _demo_caseloads(per_team: int = 40) -> None:
    """Give the demo teams caseloads of people whose records come from four or more sources."""
    teams = [Team.objects.get(name=n) for n in (HOME_TEAM, OTHER_TEAM, HUB)]
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
    """A team for each neighbourhood, the discharge hub, and a user for every role."""
    code, name = PARTNERSHIP
    Organisation.objects.get_or_create(
        ods_code=code, defaults={"name": name, "kind": OrganisationKind.PARTNERSHIP}
    )
    orgs = {o.ods_code: o for o in Organisation.objects.all()}
    teams = {
        f"{n.name} INT": Team.objects.create(
            name=f"{n.name} INT",
            kind=TeamKind.INT,
            organisation=orgs[COMMUNITY_PROVIDER],
            neighbourhood=n,
        )
        for n in Neighbourhood.objects.order_by("name")
    }
    teams[HUB] = Team.objects.create(
        name=HUB, kind=TeamKind.DISCHARGE_HUB, organisation=orgs[HOSPITAL_TRUST]
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

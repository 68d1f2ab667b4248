"""Demonstration data: a directory of about 150 services for the synthetic borough.

Built from the borough's published reference files (``reference/organisations.csv`` and
``reference/postcodes.csv``): each partner and voluntary organisation runs the kinds of
service such organisations run, neighbourhood services meet at a venue on a real borough
postcode, and the postcode centroids are loaded so residents can search by distance. The
catalogue is written as an ORUK 3.0 feed and imported through the same importer as any
other feed. Everything is derived from fixed seeds and names, so two loads of one borough
give the same directory; a second run adds nothing.

It must never publish a real phone number or e-mail address: numbers are in Ofcom's
drama range (0161 496 0xxx) and addresses use the reserved example.org domain.
"""

from __future__ import annotations

import csv
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from joinedup.core.models import User
from joinedup.directory import feeds, services
from joinedup.directory.models import Service

SOURCE = "joinedup demo"
SEED = 20_240_601
NAMESPACE = uuid.UUID("2b0f4c1e-7a3d-4e55-9d0a-6c8e1f2a3b4c")
TAXONOMY = ("Borough needs", "What residents and professionals search the directory for")

# Need code, name, description.
NEEDS = (
    ("falls", "Falls prevention", "Help to stay steady on your feet and avoid falls"),
    ("memory", "Memory and dementia", "Support for people living with memory loss and dementia"),
    ("carers", "Support for carers", "Help for people who look after a relative or friend"),
    ("mental-health", "Mental health and wellbeing", "Talking therapies and emotional support"),
    ("activity", "Physical activity", "Exercise and movement for every ability"),
    ("loneliness", "Social groups and befriending", "Company, friendship and things to do"),
    ("money", "Money and debt advice", "Benefits, budgeting and debt"),
    ("food", "Food support", "Food banks, pantries and community meals"),
    ("housing", "Housing advice", "Staying in your home, repairs and housing options"),
    ("home-care", "Home care and reablement", "Help at home after illness or a hospital stay"),
    ("equipment", "Equipment and adaptations", "Aids and changes that make home safer"),
    ("transport", "Community transport", "Door-to-door transport for people who cannot use buses"),
    ("end-of-life", "End of life care", "Care and support at the end of life, and bereavement"),
    ("families", "Children and families", "Early help and support for families"),
    ("primary-care", "GP and primary care", "GP practices and community health services"),
    ("healthy-living", "Healthy living", "Stopping smoking, weight and blood pressure checks"),
)


@dataclass(frozen=True)
class Template:
    """A kind of service: which need, who runs it, for whom, when."""

    name: str
    need: str
    runs: str  # an organisation type in reference/organisations.csv
    description: str
    ages: tuple[int | None, int | None] = (18, None)
    days: str = "MO,TU,WE,TH,FR"
    hours: tuple[str, str] = ("09:00", "17:00")
    cost: str = ""
    place: bool = True  # meets somewhere (else by phone or online)


# Run once in every neighbourhood.
LOCAL: tuple[Template, ...] = (
    Template(
        "Strength and balance class",
        "falls",
        "voluntary organisation",
        "A weekly, gentle exercise class proven to build strength and balance and to "
        "cut the risk of falling. Chairs provided; come as you are.",
        (60, None),
        "TU",
        ("10:00", "11:30"),
    ),
    Template(
        "Steady steps walking group",
        "falls",
        "voluntary organisation",
        "Short, flat, led walks for people who have had a fall or worry about falling.",
        (55, None),
        "TH",
        ("10:30", "12:00"),
    ),
    Template(
        "Memory cafe",
        "memory",
        "voluntary organisation",
        "A relaxed monthly cafe for people with memory problems and the people who care for them.",
        (18, None),
        "WE",
        ("14:00", "16:00"),
    ),
    Template(
        "Carers' support group",
        "carers",
        "voluntary organisation",
        "Meet other carers, get information and take a break.",
        (16, None),
        "MO",
        ("13:00", "15:00"),
    ),
    Template(
        "Lunch club",
        "loneliness",
        "voluntary organisation",
        "A hot two-course lunch and good company.",
        (60, None),
        "FR",
        ("12:00", "14:00"),
        "£4.50 a meal",
    ),
    Template(
        "Community pantry",
        "food",
        "voluntary organisation",
        "Choose good food each week for a small membership fee.",
        (18, None),
        "WE,SA",
        ("10:00", "13:00"),
        "£5 a week",
    ),
    Template(
        "Benefits and money advice drop-in",
        "money",
        "voluntary organisation",
        "Free, confidential advice on benefits, debt and budgeting.",
        (16, None),
        "TU,TH",
        ("09:30", "12:30"),
    ),
    Template(
        "Chair-based exercise",
        "activity",
        "voluntary organisation",
        "Seated exercise to music for people with limited mobility.",
        (50, None),
        "MO",
        ("11:00", "12:00"),
        "£2 a session",
    ),
    Template(
        "Wellbeing walk",
        "mental-health",
        "voluntary organisation",
        "A friendly walk and a talk, led by trained volunteers.",
        (18, None),
        "SA",
        ("10:00", "11:30"),
    ),
    Template(
        "Stop smoking clinic",
        "healthy-living",
        "community services provider",
        "Free stop smoking support with medicines and a weekly check-in.",
        (12, None),
        "WE",
        ("16:00", "19:00"),
    ),
    Template(
        "Family hub",
        "families",
        "children's social care",
        "Early help, parenting support and activities for families with children.",
        (0, 18),
        "MO,TU,WE,TH,FR",
        ("09:00", "17:00"),
    ),
    Template(
        "Neighbourhood health clinic",
        "primary-care",
        "community services provider",
        "Nurse-led clinic for dressings, blood tests and long-term conditions, by appointment.",
        (18, None),
        "MO,TU,WE,TH,FR",
        ("08:30", "18:00"),
    ),
)
LOCAL += (
    Template(
        "Tai chi for better balance",
        "falls",
        "voluntary organisation",
        "Slow, flowing tai chi movements that improve balance and confidence.",
        (50, None),
        "WE",
        ("10:00", "11:00"),
        "£3 a session",
    ),
    Template(
        "Coffee morning",
        "loneliness",
        "voluntary organisation",
        "Drop in for a cuppa, a chat and local information.",
        (18, None),
        "TH",
        ("10:00", "12:00"),
    ),
)
# Run once for the whole borough.
BOROUGH = (
    Template(
        "Falls prevention service",
        "falls",
        "community services provider",
        "Assessment by a physiotherapist and an occupational therapist after a fall, "
        "with a programme to prevent the next one. Referral by a professional or self "
        "referral.",
        (65, None),
    ),
    Template(
        "Falls response service",
        "falls",
        "adult social care",
        "Someone to help you up and check you over if you fall at home and cannot get "
        "up, day or night.",
        (18, None),
        "MO,TU,WE,TH,FR,SA,SU",
        ("00:00", "23:59"),
        "£3.80 a week with a pendant alarm",
        False,
    ),
    Template(
        "Home safety check",
        "falls",
        "local authority",
        "A free visit to spot trip hazards, fit grab rails and check lighting.",
        (60, None),
    ),
    Template(
        "Memory assessment service",
        "memory",
        "mental health trust",
        "Assessment and diagnosis of memory problems, and support after diagnosis.",
        (18, None),
    ),
    Template(
        "Dementia support line",
        "memory",
        "voluntary organisation",
        "Advice and a listening ear for anyone affected by dementia.",
        (18, None),
        "MO,TU,WE,TH,FR,SA,SU",
        ("08:00", "20:00"),
        "",
        False,
    ),
    Template(
        "Carers' centre",
        "carers",
        "voluntary organisation",
        "Carers' assessments, breaks and training.",
        (16, None),
    ),
    Template(
        "Talking therapies",
        "mental-health",
        "mental health trust",
        "Free NHS talking therapies for anxiety and depression. Refer yourself.",
        (16, None),
        "MO,TU,WE,TH,FR",
        ("08:00", "20:00"),
    ),
    Template(
        "Crisis line",
        "mental-health",
        "mental health trust",
        "Urgent mental health help, any time.",
        (18, None),
        "MO,TU,WE,TH,FR,SA,SU",
        ("00:00", "23:59"),
        "",
        False,
    ),
    Template(
        "Befriending by phone",
        "loneliness",
        "voluntary organisation",
        "A weekly friendly call from a trained volunteer.",
        (60, None),
        "MO,TU,WE,TH,FR",
        ("10:00", "16:00"),
        "",
        False,
    ),
    Template(
        "Reablement service",
        "home-care",
        "adult social care",
        "Up to six weeks of help at home to regain confidence and skills after illness "
        "or a hospital stay.",
        (18, None),
        "MO,TU,WE,TH,FR,SA,SU",
        ("07:00", "22:00"),
        "",
        False,
    ),
    Template(
        "Home care",
        "home-care",
        "adult social care",
        "Support with washing, dressing and meals at home, after an assessment.",
        (18, None),
        "MO,TU,WE,TH,FR,SA,SU",
        ("07:00", "22:00"),
        "Means-tested",
        False,
    ),
    Template(
        "Community equipment service",
        "equipment",
        "local authority",
        "Equipment to help you live safely at home: bath seats, walking aids, beds.",
        (0, None),
    ),
    Template(
        "Disabled facilities grants",
        "equipment",
        "local authority",
        "Grants for adaptations such as stairlifts and level-access showers.",
        (0, None),
    ),
    Template(
        "Dial-a-ride",
        "transport",
        "voluntary organisation",
        "Door-to-door minibus for people who find public transport hard.",
        (18, None),
        "MO,TU,WE,TH,FR",
        ("08:00", "18:00"),
        "£2.50 a journey",
        False,
    ),
    Template(
        "Hospice at home",
        "end-of-life",
        "hospice",
        "Nursing and care at home in the last weeks of life.",
        (18, None),
        "MO,TU,WE,TH,FR,SA,SU",
        ("00:00", "23:59"),
        "",
        False,
    ),
    Template(
        "Bereavement support",
        "end-of-life",
        "hospice",
        "One-to-one and group support after the death of someone close.",
        (16, None),
    ),
    Template(
        "Housing options",
        "housing",
        "local authority",
        "Advice if you are at risk of losing your home or need to move.",
        (16, None),
    ),
    Template(
        "Handyperson service",
        "housing",
        "voluntary organisation",
        "Small repairs and safety jobs for older and disabled residents.",
        (60, None),
        "MO,TU,WE,TH,FR",
        ("09:00", "16:00"),
        "Labour free; you pay for materials",
    ),
    Template(
        "Blood pressure checks",
        "healthy-living",
        "community services provider",
        "Free walk-in blood pressure checks.",
        (40, None),
        "SA",
        ("10:00", "14:00"),
    ),
    Template(
        "GP out-of-hours service",
        "primary-care",
        "out-of-hours GP service",
        "Urgent GP care when your practice is closed. Call NHS 111 first.",
        (0, None),
        "MO,TU,WE,TH,FR,SA,SU",
        ("18:30", "23:59"),
        "",
        False,
    ),
    Template(
        "Social prescribing",
        "loneliness",
        "GP federation",
        "A link worker helps you find activities and support that matter to you.",
        (18, None),
    ),
    Template(
        "Young carers project",
        "carers",
        "children's social care",
        "Activities, breaks and support for carers aged 8 to 17.",
        (8, 17),
    ),
    Template(
        "Adult social care front door",
        "home-care",
        "adult social care",
        "Ask for a care needs assessment or advice about care and support.",
        (18, None),
        "MO,TU,WE,TH,FR",
        ("08:30", "17:00"),
        "",
        False,
    ),
    Template(
        "Food bank",
        "food",
        "voluntary organisation",
        "Emergency food parcels with a voucher from a referral agency.",
        (0, None),
        "TU,TH,SA",
        ("10:00", "13:00"),
    ),
)
VENUES = ("Community Centre", "Library", "Methodist Church Hall", "Health Centre", "Leisure Centre")
STREETS = ("High Street", "Church Road", "Park Lane", "Station Road", "Mill Lane", "Victoria Road")


def _id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Borough:
    organisations: list[dict[str, str]]
    postcodes_by_hood: dict[str, list[dict[str, str]]]

    @classmethod
    def read(cls, borough: Path) -> Borough:
        hood_of = {
            r["lsoa_code"]: r["neighbourhood"] for r in _read(borough / "reference" / "lsoas.csv")
        }
        by_hood: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in _read(borough / "reference" / "postcodes.csv"):
            by_hood[hood_of.get(row["lsoa_code"], "")].append(row)
        by_hood.pop("", None)
        return cls(
            _read(borough / "reference" / "organisations.csv"), dict(sorted(by_hood.items()))
        )


def _organisation(row: dict[str, str]) -> dict[str, Any]:
    code = row["org_code"]
    return {
        "id": _id("organization", code),
        "name": row["name"],
        "description": f"{row['name']} ({row['type']}), a partner in the borough.",
        "email": f"info@{code.lower()}.example.org",
        "website": f"https://{code.lower()}.example.org",
        "organization_identifiers": [
            {
                "id": _id("identifier", code),
                "identifier_scheme": "GB-NHS" if row["type"] != "voluntary organisation" else "",
                "identifier_type": "ODS code",
                "identifier": code,
            }
        ],
    }


def _term(code: str) -> dict[str, Any]:
    _, name, description = next(n for n in NEEDS if n[0] == code)
    return {
        "id": _id("term", code),
        "name": name,
        "description": description,
        "taxonomy": TAXONOMY[0],
        "taxonomy_id": _id("taxonomy"),
        "term": code,
    }


def _place(
    key: str, hood: str, postcode: dict[str, str], rng: np.random.Generator
) -> dict[str, Any]:
    venue = f"{hood} {VENUES[int(rng.integers(len(VENUES)))]}"
    number, street = int(rng.integers(1, 200)), STREETS[int(rng.integers(len(STREETS)))]
    return {
        "id": _id("sal", key),
        "location": {
            "id": _id("location", hood, venue),
            "location_type": "physical",
            "name": venue,
            "latitude": float(postcode["latitude"]),
            "longitude": float(postcode["longitude"]),
            "addresses": [
                {
                    "id": _id("address", hood, venue),
                    "address_1": f"{number} {street}",
                    "city": "Stockport",
                    "state_province": "Greater Manchester",
                    "postal_code": postcode["postcode"],
                    "country": "GB",
                    "address_type": "physical",
                }
            ],
            "accessibility": [
                {
                    "id": _id("access", hood, venue),
                    "description": "Step-free entrance, accessible toilet and a hearing loop.",
                }
            ],
        },
    }


def _service(
    template: Template,
    key: str,
    n: int,
    org: dict[str, str],
    place: dict[str, Any] | None,
    assured: date,
    hood: str = "",
) -> dict[str, Any]:
    low, high = template.ages
    name = f"{template.name}, {hood}" if hood else template.name
    service: dict[str, Any] = {
        "id": _id("service", key),
        "name": name,
        "description": template.description,
        "status": "active",
        "email": f"{template.need}.{n:03d}@example.org",
        "phones": [{"number": f"0161 496 0{n % 1000:03d}"}],
        "assured_date": assured.isoformat(),
        "organization": _organisation(org),
        "schedules": [
            {
                "id": _id("schedule", key),
                "freq": "WEEKLY",
                "interval": 1,
                "byday": template.days,
                "opens_at": template.hours[0],
                "closes_at": template.hours[1],
            }
        ],
        "service_at_locations": [place] if place else [],
        "attributes": [
            {
                "id": _id("attribute", key),
                "link_type": "need",
                "taxonomy_term": _term(template.need),
            }
        ],
        "contacts": [{"id": _id("contact", key), "name": "Duty team", "title": "Enquiries"}],
    }
    if low is not None:
        service["minimum_age"] = low
    if high is not None:
        service["maximum_age"] = high
    if template.cost:
        service["fees"] = template.cost
        service["cost_options"] = [
            {"id": _id("cost", key), "option": "Standard", "amount_description": template.cost}
        ]
    else:
        service["fees"] = "Free"
    return service


def demo_feed(borough: Path, today: date) -> list[dict[str, Any]]:
    """The borough's directory as ORUK 3.0 services (deterministic for one borough)."""
    world = Borough.read(borough)
    rng = np.random.default_rng(SEED)
    by_type: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in world.organisations:
        by_type[row["type"]].append(row)
    hoods = list(world.postcodes_by_hood)
    out: list[dict[str, Any]] = []

    def assured() -> date:
        # About a quarter were last checked more than 3 months ago.
        return today - timedelta(days=int(rng.integers(0, 125)))

    for hood in hoods:
        postcodes = world.postcodes_by_hood[hood]
        local_orgs = [r for r in by_type["voluntary organisation"] if r["neighbourhood"] == hood]
        for template in LOCAL:
            pool = (
                local_orgs
                if template.runs == "voluntary organisation" and local_orgs
                else by_type[template.runs]
            )
            org = pool[int(rng.integers(len(pool)))] if pool else world.organisations[0]
            postcode = postcodes[int(rng.integers(len(postcodes)))]
            key = f"{template.name}:{hood}"
            out.append(
                _service(
                    template, key, len(out), org, _place(key, hood, postcode, rng), assured(), hood
                )
            )
        for practice in [r for r in by_type["GP practice"] if r["neighbourhood"] == hood]:
            template = Template(
                practice["name"],
                "primary-care",
                "GP practice",
                "NHS GP practice: appointments, repeat prescriptions and health checks for "
                "registered patients.",
                (0, None),
                "MO,TU,WE,TH,FR",
                ("08:00", "18:30"),
            )
            postcode = postcodes[int(rng.integers(len(postcodes)))]
            key = f"practice:{practice['org_code']}"
            out.append(
                _service(
                    template, key, len(out), practice, _place(key, hood, postcode, rng), assured()
                )
            )
    for template in BOROUGH:
        pool = by_type[template.runs] or world.organisations
        org = pool[int(rng.integers(len(pool)))]
        place = None
        if template.place:
            hood = hoods[int(rng.integers(len(hoods)))]
            postcode = world.postcodes_by_hood[hood][0]
            place = _place(template.name, hood, postcode, rng)
        out.append(_service(template, template.name, len(out), org, place, assured()))
    return out


def _taxonomy() -> dict[str, Any]:
    return {
        "id": _id("taxonomy"),
        "name": TAXONOMY[0],
        "description": TAXONOMY[1],
        "version": "1",
        "taxonomy_terms": [_term(code) for code, _, _ in NEEDS],
    }


# Who looks after each organisation type's entries in the demo (demo sign-in names).
OWNERS = {
    "community services provider": "carecoordinator",
    "adult social care": "socialworker",
    "local authority": "socialworker",
    "children's social care": "socialworker",
    "voluntary organisation": "engagement",
}


def _owners(feed: list[dict[str, Any]], by_org_type: dict[str, str]) -> None:
    users = {u.username: u for u in User.objects.filter(username__in=[*OWNERS.values(), "admin"])}
    for item in feed:
        kind = by_org_type.get(item["organization"]["name"], "")
        owner = users.get(OWNERS.get(kind, "admin"))
        if owner is not None:
            Service.objects.filter(id=item["id"], owner__isnull=True).update(owner=owner)


def demo_load(borough: Path, *, progress: Callable[[str, int, int], None]) -> None:
    """Postcode centroids and the demo directory, once."""
    if Service.objects.filter(source=SOURCE).exists():
        progress("directory", 2, 2)
        return
    services.postcodes_load(path=borough / "reference" / "postcodes.csv")
    progress("directory postcodes", 1, 2)
    feed_items = demo_feed(borough, timezone.localdate())
    feed = feeds.FeedReader(SOURCE).read([_taxonomy(), *feed_items])
    with transaction.atomic():
        services.feed_import(feed=feed, source=SOURCE, filename="demo")
        by_org_type = {r["name"]: r["type"] for r in Borough.read(borough).organisations}
        _owners(feed_items, by_org_type)
    progress("directory services", 2, 2)

"""The borough's service directory, in the shape of Open Referral UK (ORUK) tables.

About 500 services run by the partners, GP practices, care homes and voluntary
organisations, each with a location, a taxonomy term, eligibility by age, contact
details and opening hours, so the directory module can serve the ORUK API.

It must never publish a real phone number or e-mail address: numbers are in Ofcom's
drama range (0161 496 0xxx) and addresses use the reserved example.org domain.
"""

from __future__ import annotations

import numpy as np

from joinedup.synth import config
from joinedup.synth.formats import FileSpec, Ledger
from joinedup.synth.geography import Geography
from joinedup.synth.organisations import SINGLE_ORGS, Organisations

TAXONOMY = (
    ("health.gp", "GP practice"),
    ("health.community-nursing", "Community nursing"),
    ("health.mental-health", "Mental health"),
    ("health.therapy", "Therapy and rehabilitation"),
    ("care.home-care", "Home care"),
    ("care.care-home", "Care home"),
    ("care.carers", "Support for carers"),
    ("wellbeing.social", "Social groups and befriending"),
    ("wellbeing.activity", "Physical activity"),
    ("money.advice", "Money and debt advice"),
    ("food.support", "Food support"),
    ("children.family", "Children and families"),
    ("housing.advice", "Housing advice"),
    ("transport.community", "Community transport"),
    ("end-of-life", "End of life care"),
)
_SERVICE_WORDS = (
    "Drop-in",
    "Clinic",
    "Group",
    "Service",
    "Support",
    "Helpline",
    "Club",
    "Advice session",
)


def write_directory(
    ledger: Ledger, geo: Geography, orgs: Organisations, people: int, rng: np.random.Generator
) -> None:
    """ORUK organizations, locations, services, service_at_location, taxonomy, schedules."""
    org_id = np.r_[
        np.array([c for c, _, _ in SINGLE_ORGS]),
        orgs.practice_code,
        orgs.home_code,
        orgs.voluntary_code,
    ]
    org_name = np.r_[
        np.array([n for _, n, _ in SINGLE_ORGS]),
        orgs.practice_name,
        orgs.home_name,
        orgs.voluntary_name,
    ]
    org_lsoa = np.r_[
        rng.integers(0, geo.lsoa_code.size, len(SINGLE_ORGS)),
        orgs.practice_lsoa,
        orgs.home_lsoa,
        orgs.voluntary_lsoa,
    ]
    n_org = org_id.size
    none = FileSpec(malform=False)
    ledger.write_csv(
        "directory/organizations.csv",
        {
            "id": org_id,
            "name": org_name,
            "url": np.strings.add(
                "https://", np.strings.add(np.strings.lower(org_id), ".example.org")
            ),
            "email": np.strings.add(
                "info@", np.strings.add(np.strings.lower(org_id), ".example.org")
            ),
        },
        rng,
        none,
    )
    ledger.write_csv(
        "directory/locations.csv",
        {
            "id": np.strings.add("L", org_id),
            "organization_id": org_id,
            "name": org_name,
            "latitude": np.round(geo.lat[org_lsoa] + rng.normal(0, 0.002, n_org), 5),
            "longitude": np.round(geo.lon[org_lsoa] + rng.normal(0, 0.003, n_org), 5),
            "neighbourhood": np.array(config.NEIGHBOURHOODS)[geo.neighbourhood[org_lsoa]],
            "lsoa_code": geo.lsoa_code[org_lsoa],
        },
        rng,
        none,
    )
    n = config.scaled_count("services", people)
    owner = np.r_[np.arange(n_org), rng.integers(0, n_org, max(0, n - n_org))][:n]
    term = rng.integers(0, len(TAXONOMY), n)
    term_names = np.array([t for _, t in TAXONOMY])[term]
    word = np.array(_SERVICE_WORDS)[rng.integers(0, len(_SERVICE_WORDS), n)]
    service_id = np.strings.add("SVC", (1000 + np.arange(n)).astype(np.str_))
    min_age = np.where(
        np.char.startswith(np.array([t for t, _ in TAXONOMY])[term], "children"),
        0,
        np.where(rng.random(n) < 0.3, 65, 18),
    )
    ledger.write_csv(
        "directory/services.csv",
        {
            "id": service_id,
            "organization_id": org_id[owner],
            "name": np.strings.add(np.strings.add(term_names, " "), word),
            "description": np.strings.add(np.strings.add(term_names, " from "), org_name[owner]),
            "status": np.where(rng.random(n) < 0.95, "active", "inactive"),
            "minimum_age": min_age,
            "maximum_age": np.where(min_age == 0, 18, 120),
            "phone": np.strings.add(
                "0161 496 0", np.char.zfill((np.arange(n) % 1000).astype(np.str_), 3)
            ),
            "referral_route": np.array(["Self-referral", "Professional referral", "Either"])[
                rng.integers(0, 3, n)
            ],
        },
        rng,
        FileSpec((), ("status",), "unknown"),
    )
    ledger.write_csv(
        "directory/service_at_location.csv",
        {
            "id": np.strings.add("SAL", service_id),
            "service_id": service_id,
            "location_id": np.strings.add("L", org_id[owner]),
        },
        rng,
        none,
    )
    ledger.write_csv(
        "directory/taxonomy.csv",
        {
            "id": np.array([t for t, _ in TAXONOMY]),
            "name": np.array([n for _, n in TAXONOMY]),
            "vocabulary": np.full(len(TAXONOMY), "joinedup-borough"),
        },
        rng,
        none,
    )
    ledger.write_csv(
        "directory/service_taxonomy.csv",
        {
            "service_id": service_id,
            "taxonomy_id": np.array([t for t, _ in TAXONOMY])[term],
        },
        rng,
        none,
    )
    days = np.tile(np.array(["MO", "TU", "WE", "TH", "FR"]), n)
    ledger.write_csv(
        "directory/schedules.csv",
        {
            "service_id": np.repeat(service_id, 5),
            "byday": days,
            "opens_at": np.full(5 * n, "09:00"),
            "closes_at": np.where(rng.random(5 * n) < 0.7, "17:00", "13:00"),
        },
        rng,
        none,
    )

"""The register of volunteer citizens who offered to take part in engagement.

About 3,000 residents, drawn with the biases real registers have (older, more
female, less deprived, fewer from ethnic minorities), with the attributes panel
selection stratifies on: age band, sex, ethnic group, disability, neighbourhood,
deprivation quintile. Each volunteer is a real synthetic resident, so the truth
maps them.

It must never include a resident who has died before joining.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from joinedup.synth import config
from joinedup.synth.formats import FileSpec, Ledger
from joinedup.synth.geography import Geography
from joinedup.synth.history import History
from joinedup.synth.population import Persons, age_on

EXTRACT = np.datetime64(config.EXTRACT_DATE, "D")
INTERESTS = (
    "Urgent care",
    "Mental health",
    "Ageing well",
    "Children and families",
    "Carers",
    "Neighbourhood services",
    "Digital services",
    "Health inequalities",
)


def write_citizens(
    ledger: Ledger,
    persons: Persons,
    geo: Geography,
    history: History,
    people: int,
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.int64]]:
    """Write citizens/volunteers.csv; return (citizen ids, true person rows)."""
    age = age_on(persons, np.full(persons.count, EXTRACT))
    alive = (history.cohort.exit == EXTRACT) & (age >= 16)
    decile = geo.imd_decile[persons.lsoa]
    weight = (
        np.where(alive, 1.0, 0.0) * np.exp(0.015 * (age - 40)) * (1 + 0.25 * (persons.sex == "F"))
    )
    weight *= 0.6 + 0.08 * decile
    weight *= np.where(persons.ethnicity == "A", 1.0, 0.7)
    n = min(config.scaled_count("citizens", people), int(alive.sum()))
    rows = np.sort(rng.choice(persons.count, size=n, replace=False, p=weight / weight.sum()))
    ids = np.strings.add("CIT", (10_000 + np.arange(n)).astype(np.str_))
    eth = persons.ethnicity[rows]
    group = np.select(
        [
            eth == "A",
            np.isin(eth, ("B", "C")),
            np.isin(eth, ("D", "E", "F", "G")),
            np.isin(eth, ("H", "J", "K", "L")),
            np.isin(eth, ("M", "N", "P")),
        ],
        ["White British", "White other", "Mixed", "Asian", "Black"],
        "Other",
    )
    a = age[rows]
    ledger.write_csv(
        "citizens/volunteers.csv",
        {
            "citizen_id": ids,
            "given_name": persons.given[rows],
            "family_name": persons.family[rows],
            "email": np.strings.add(np.strings.lower(ids), "@volunteer.example.org"),
            "age_band": np.array(["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"])[
                np.digitize(a, [25, 35, 45, 55, 65, 75])
            ],
            "sex": persons.sex[rows],
            "ethnic_group": group,
            "disability": np.where(
                rng.random(n) < 0.12 + 0.004 * np.maximum(a - 50, 0), "Yes", "No"
            ),
            "neighbourhood": np.array(config.NEIGHBOURHOODS)[geo.neighbourhood[persons.lsoa[rows]]],
            "imd_quintile": (decile[rows] + 1) // 2,
            "postcode": geo.postcode[persons.postcode[rows]],
            "joined_date": (np.datetime64("2022-01-01") + rng.integers(0, 1500, n)).astype(
                "datetime64[D]"
            ),
            "interests": np.array(INTERESTS)[rng.integers(0, len(INTERESTS), n)],
            "contact_preference": np.array(["Email", "Phone", "Post"])[
                rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
            ],
        },
        rng,
        FileSpec(("joined_date",), ("sex",), "X"),
    )
    return ids, rows

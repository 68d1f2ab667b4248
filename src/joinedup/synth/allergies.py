"""Recorded allergies and the lab reports that group the GP's pathology results.

Allergies: each resident has, independently, a chance of a recorded drug allergy (rising
with age, higher in women, penicillin the commonest by far), a food allergy (commoner in
children) and an environmental one; a minority have two of a kind. Rates follow UK
primary care (about 8.5% of registered patients carry a drug allergy label, about 6% a
penicillin one); the exact figures are in docs/synthetic-borough.md.

Lab reports: the HbA1c and eGFR observations the history already holds, grouped into one
report per person, day and panel (at most ``MAX_RESULTS`` results each), issued by the
acute trust's laboratory a day or three after the sample.

Both draw from their own named streams, so every existing file stays byte-for-byte the
same for a seed. It must never loop in Python over people or events.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from joinedup.synth import config
from joinedup.synth.clinical import Cohort
from joinedup.synth.tables import DAY, Table, concat

EXTRACT = np.datetime64(config.EXTRACT_DATE, "D")

# (SNOMED CT code, term, share among allergies of the category).
DRUG_ALLERGENS = (
    ("91936005", "Allergy to penicillin (finding)", 0.62),
    ("294505008", "Amoxicillin allergy (finding)", 0.08),
    ("293586001", "Allergy to aspirin (finding)", 0.09),
    ("91939003", "Allergy to sulfonamide (finding)", 0.06),
    ("416098002", "Allergy to drug (finding)", 0.15),
)
FOOD_ALLERGENS = (
    ("91935009", "Allergy to peanut (finding)", 0.35),
    ("91934008", "Allergy to nut (finding)", 0.20),
    ("300913006", "Shellfish allergy (finding)", 0.15),
    ("91930004", "Allergy to eggs (finding)", 0.15),
    ("425525006", "Allergy to dairy product (finding)", 0.15),
)
ENVIRONMENT_ALLERGENS = (
    ("300910009", "Allergy to pollen (finding)", 0.35),
    ("418689008", "Allergy to grass pollen (finding)", 0.25),
    ("232350006", "House dust mite allergy (disorder)", 0.15),
    ("300916003", "Latex allergy (disorder)", 0.15),
    ("424213003", "Allergy to bee venom (finding)", 0.10),
)
CATEGORIES = (
    ("medication", DRUG_ALLERGENS),
    ("food", FOOD_ALLERGENS),
    ("environment", ENVIRONMENT_ALLERGENS),
)
MANIFESTATIONS = (
    ("271807003", "Eruption of skin (disorder)"),
    ("126485001", "Urticaria (disorder)"),
    ("39579001", "Anaphylaxis (disorder)"),
)
CRITICALITIES = ("low", "high", "unable-to-assess")
SECOND_ALLERGY_SHARE = 0.15  # of people with one allergy of a category, a second of it
RESOLVED_SHARE = 0.04  # labels later removed (e.g. penicillin de-labelling after testing)
UNCONFIRMED_SHARE = 0.2

# Lab panels made from observation kinds: kind -> (SNOMED CT code, term).
LAB_PANELS = {
    "hba1c": ("43396009", "Hemoglobin A1c measurement (procedure)"),
    "egfr": ("444164000", "Urea, electrolytes and creatinine measurement (procedure)"),
}
MAX_RESULTS = 4


def _drug_rate(age: npt.NDArray[np.float64], female: npt.NDArray[np.bool_]) -> Any:
    """Drug allergy labels accumulate with age; women carry more of them."""
    return np.clip(0.023 + 0.0014 * np.clip(age, 0, 90), 0, 1) * np.where(female, 1.2, 0.8)


def _food_rate(age: npt.NDArray[np.float64]) -> Any:
    return np.where(age < 18, 0.04, 0.018)


def _environment_rate(age: npt.NDArray[np.float64]) -> Any:
    return np.where((age >= 5) & (age < 60), 0.025, 0.012)


def allergies(rng: np.random.Generator, cohort: Cohort) -> Table:
    """Recorded allergies: person, category, code, term, criticality, clinical and
    verification status, manifestation (index into MANIFESTATIONS) and recorded date."""
    age = cohort.age_at(cohort.exit - DAY)
    female = cohort.sex == "F"
    rates = (_drug_rate(age, female), _food_rate(age), _environment_rate(age))
    tables = []
    for (category, allergens), rate in zip(CATEGORIES, rates, strict=True):
        first = np.flatnonzero(rng.random(age.size) < rate)
        second = first[rng.random(first.size) < SECOND_ALLERGY_SHARE]
        person = np.sort(np.r_[first, second])
        tables.append(_recorded(rng, cohort, person, category, allergens))
    table = concat(*tables)
    # A person never has the same allergen twice: keep the first of each pair.
    key = table["person"] * 10_000 + table["allergen"]
    _, keep = np.unique(key, return_index=True)
    keep.sort()
    return {name: column[keep] for name, column in table.items()}


def _recorded(
    rng: np.random.Generator,
    cohort: Cohort,
    person: npt.NDArray[np.int64],
    category: str,
    allergens: tuple[tuple[str, str, float], ...],
) -> Table:
    n = person.size
    weights = np.array([w for _, _, w in allergens])
    pick = rng.choice(len(allergens), size=n, p=weights / weights.sum())
    high = 0.4 if category == "food" else 0.15
    criticality = rng.choice(3, size=n, p=[0.85 - high, high, 0.15])
    anaphylaxis = (criticality == 1) & (rng.random(n) < 0.5)
    manifestation = np.where(anaphylaxis, 2, rng.integers(0, 2, size=n))
    resolved = rng.random(n) < RESOLVED_SHARE
    unconfirmed = rng.random(n) < UNCONFIRMED_SHARE
    # Recorded at some point in the person's life, often long before the window.
    last = cohort.exit[person] - DAY
    back = (rng.exponential(9.0, size=n) * 365.25).astype(np.int64) * DAY
    earliest = cohort.dob[person] + 180 * DAY
    recorded = np.minimum(np.maximum(last - back, earliest), last)
    codes = np.array([c for c, _, _ in allergens])
    terms = np.array([t for _, t, _ in allergens])
    return {
        "person": person,
        "category": np.full(n, category),
        "allergen": pick + 100 * [c for c, _ in CATEGORIES].index(category),
        "code": codes[pick],
        "term": terms[pick],
        "criticality": np.array(CRITICALITIES)[criticality],
        "manifestation": manifestation,
        "clinical": np.where(resolved, "resolved", "active"),
        "verification": np.where(unconfirmed, "unconfirmed", "confirmed"),
        "recorded": recorded,
    }


def lab_reports(rng: np.random.Generator, observations: Table) -> tuple[Table, Table]:
    """Reports grouping lab observations, and each report's results.

    Returns (reports: person, panel, date, issued; results: report, observation row),
    reports in date order, results in report order.
    """
    kinds = list(LAB_PANELS)
    lab = np.flatnonzero(np.isin(observations["kind"], kinds))
    panel = np.zeros(lab.size, dtype=np.int64)
    for index, kind in enumerate(kinds):
        panel[observations["kind"][lab] == kind] = index
    person, date = observations["person"][lab], observations["date"][lab]
    order = np.lexsort((lab, panel, person, date))
    lab, panel, person, date = lab[order], panel[order], person[order], date[order]
    new_group = np.r_[True, (np.diff(person) != 0) | (np.diff(panel) != 0) | (np.diff(date) != 0)]
    group = np.cumsum(new_group) - 1
    start_of_group = np.flatnonzero(new_group)[group]
    rank = np.arange(lab.size) - start_of_group
    new_report = new_group | (rank % MAX_RESULTS == 0)
    report = np.cumsum(new_report) - 1
    heads = np.flatnonzero(new_report)
    lag = rng.integers(1, 4, size=heads.size) * DAY
    day = date[heads]
    issued = np.maximum(day, np.minimum(day + lag, EXTRACT - DAY))
    minute = rng.integers(9 * 60, 18 * 60, size=heads.size)
    reports = {
        "person": person[heads],
        "panel": panel[heads],
        "date": day,
        "issued": issued.astype("datetime64[m]") + minute.astype("timedelta64[m]"),
    }
    return reports, {"report": report, "observation": lab}

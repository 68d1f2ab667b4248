"""Secondary, community and social care history: emergency admissions and discharge,
care homes, community contacts, adult social care, hospice, children's services,
and causes of death.

Admissions depend on age, deprivation and frailty. Discharge pathways are assigned
by need (older and frailer people need more support) in the national 50/45/4/1
split; delays shrink year by year as the borough improved. Discharges on pathways
1-3 flow on into community, reablement and care home placements, so the same
person is seen by several organisations.

It must never loop in Python over people or events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from joinedup.synth import config
from joinedup.synth.clinical import Cohort
from joinedup.synth.tables import (
    DAY,
    NAT,
    Table,
    concat,
    date_between,
    financial_year,
    repeat_rows,
    sort_by,
    take,
    years,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
START = np.datetime64(config.WINDOW_START, "D")
END = np.datetime64(config.WINDOW_END, "D")
EXTRACT = np.datetime64(config.EXTRACT_DATE, "D")

DELAY_REASONS = (
    ("Awaiting medication to take home", "Awaiting transport", "Awaiting test results"),
    (
        "Awaiting home care package",
        "Awaiting reablement start",
        "Awaiting equipment",
        "Awaiting assessment",
    ),
    ("Awaiting community bed", "Awaiting intermediate care bed", "Awaiting assessment"),
    ("Awaiting care home placement", "Patient or family choice", "Awaiting funding decision"),
)
CAUSES = (
    # ICD-10, description, weight under 50, 50-74, 75+, sex ('' any), deprivation effect
    ("C34.9", "Malignant neoplasm of bronchus or lung", 3, 7, 5, "", 0.5),
    ("C18.9", "Malignant neoplasm of colon", 1, 3, 3, "", 0.1),
    ("C50.9", "Malignant neoplasm of breast", 3, 4, 2, "F", 0.0),
    ("C61", "Malignant neoplasm of prostate", 0, 2, 3, "M", 0.0),
    ("C25.9", "Malignant neoplasm of pancreas", 1, 2, 2, "", 0.1),
    ("C80.9", "Malignant neoplasm, primary site unspecified", 3, 6, 6, "", 0.2),
    ("I21.9", "Acute myocardial infarction", 2, 4, 3, "", 0.4),
    ("I25.1", "Atherosclerotic heart disease", 2, 6, 7, "", 0.5),
    ("I64", "Stroke, not specified as haemorrhage or infarction", 1, 3, 6, "", 0.3),
    ("I50.9", "Heart failure, unspecified", 0, 1, 3, "", 0.2),
    ("F03", "Unspecified dementia", 0, 1, 10, "", 0.0),
    ("G30.9", "Alzheimer disease, unspecified", 0, 1, 4, "", 0.0),
    ("J44.9", "Chronic obstructive pulmonary disease, unspecified", 0.5, 4, 5, "", 0.8),
    ("J18.9", "Pneumonia, unspecified", 1, 2, 5, "", 0.3),
    ("K70.3", "Alcoholic cirrhosis of liver", 5, 3, 0.3, "", 1.0),
    ("X42", "Accidental poisoning by narcotics and psychodysleptics", 8, 1, 0.05, "", 1.2),
    ("X70", "Intentional self-harm by hanging", 6, 1, 0.2, "", 0.5),
    ("W19", "Unspecified fall", 0.5, 0.5, 1.5, "", 0.1),
    ("N18.9", "Chronic kidney disease, unspecified", 0, 0.5, 1.5, "", 0.2),
    ("E11.9", "Type 2 diabetes mellitus without complications", 0.3, 1, 1, "", 0.4),
    ("G20", "Parkinson disease", 0, 0.5, 1.5, "", 0.0),
    ("U07.1", "COVID-19, virus identified", 0.5, 2, 3, "", 0.4),
    ("R54", "Senility", 0, 0, 1.5, "", 0.0),
    ("P07.3", "Other preterm infants", 4, 0, 0, "", 0.5),
)
CANCER_CAUSES = 6  # the first six causes are cancers


@dataclass(frozen=True)
class CareHomeStays:
    """Care home residence: person, home, start date, and whether the council funds it."""

    person: IntArray
    home: IntArray
    start: npt.NDArray[Any]
    la_funded: BoolArray


def causes_of_death(rng: np.random.Generator, cohort: Cohort, died: IntArray) -> IntArray:
    """Index into CAUSES for each death, by age group, sex and deprivation."""
    age = years(cohort.exit[died] - DAY - cohort.dob[died])
    group = np.where(age < 1, 3, np.where(age < 50, 0, np.where(age < 75, 1, 2)))
    weights = np.array([[c[2], c[3], c[4], 0.0] for c in CAUSES])
    weights[:, 3] = 0.0
    weights[-1, 3] = 1.0  # infant deaths: perinatal causes
    w = weights[:, group].T
    sex_ok = np.array([[c[5] in ("", s) for c in CAUSES] for s in ("M", "F")])
    w = w * sex_ok[(cohort.sex[died] == "F").astype(np.int64)]
    w = w * np.exp(np.array([c[6] for c in CAUSES])[None, :] * cohort.z[died][:, None])
    cum = np.cumsum(w, axis=1)
    u = rng.random(died.size) * cum[:, -1]
    out: IntArray = (cum < u[:, None]).sum(axis=1)
    return out


def care_homes_at_start(
    rng: np.random.Generator, cohort: Cohort, home_beds: IntArray, home_nursing: BoolArray
) -> CareHomeStays:
    """Fill care home beds at the window start with the oldest, frailest residents."""
    places = int(home_beds.sum() * config.CARE_HOME_OCCUPANCY * 0.85)
    age = cohort.age_at(np.full(cohort.sex.size, START))
    score = (age - 80) / 6 + 1.2 * cohort.frailty + rng.normal(0, 0.8, age.size)
    candidates = np.flatnonzero((age >= 65) & (cohort.entry <= START))
    person = candidates[np.argsort(-score[candidates], kind="stable")[:places]]
    home = _home_for(rng, person.size, home_beds, home_nursing, score[person])
    start = START - rng.integers(30, 1500, size=person.size) * DAY
    return CareHomeStays(
        person, home, start, rng.random(person.size) < config.SOCIAL_CARE_LA_FUNDED_SHARE
    )


def _home_for(
    rng: np.random.Generator, count: int, beds: IntArray, nursing: BoolArray, need: FloatArray
) -> IntArray:
    """A home per resident, in proportion to beds; the neediest go to nursing homes."""
    slots = repeat_rows(beds)
    rng.shuffle(slots)
    slots = np.resize(slots, count) if count > slots.size else slots[:count]
    by_need = np.argsort(-need, kind="stable")
    nursing_slots = np.sort(nursing[slots])[::-1]
    home = np.empty(count, dtype=np.int64)
    n_nursing = int(nursing_slots.sum())
    nursing_pool = slots[nursing[slots]]
    residential_pool = slots[~nursing[slots]]
    home[by_need[:n_nursing]] = nursing_pool
    home[by_need[n_nursing:]] = residential_pool
    return home


def admissions(
    rng: np.random.Generator, cohort: Cohort, people: int, in_hospital_death: BoolArray
) -> Table:
    """Emergency admissions with DRD, pathway, delay and discharge; terminal stays end in death."""
    begin = np.maximum(cohort.entry, START)
    exposure = np.maximum(years(cohort.exit - begin), 0)
    age = cohort.age_at(begin)
    dep = np.log(config.ADMISSION_DEPRIVATION_RR) * cohort.z / 2
    rate = np.exp(config.ADMISSION_AGE_SLOPE * np.maximum(age - 40, 0) + dep)
    rate *= np.where(age >= 65, np.exp(config.ADMISSION_FRAILTY_EFFECT * cohort.frailty), 1.0)
    rate *= np.where(age < 5, 2.0, 1.0)
    target = config.ADMISSIONS_PER_YEAR_AT_DEFAULT * people / config.DEFAULT_PEOPLE * config.YEARS
    rate *= target / float((rate * exposure).sum())
    person = repeat_rows(rng.poisson(rate * exposure))
    admit = date_between(rng, begin[person], cohort.exit[person])
    age_adm = years(admit - cohort.dob[person])
    median = np.where(
        age_adm < 18, 1.0, np.where(age_adm < 65, 2.5, np.where(age_adm < 80, 5.0, 7.0))
    )
    los = np.floor(rng.lognormal(np.log(median), 0.9)).astype(np.int64)
    drd = admit + los * DAY
    table = {"person": person, "admit": admit, "drd": drd, "died": np.zeros(person.size, bool)}
    table = _drop_overlaps(sort_by(table, "person", "admit"))
    table = _assign_discharge(rng, table, cohort)
    terminal = _terminal_stays(rng, cohort, in_hospital_death)
    exit_ = cohort.exit[table["person"]]
    still_in = (exit_ == EXTRACT) & (table["discharge"] >= EXTRACT)
    table = take(table, (table["discharge"] < exit_ - DAY) | still_in)
    open_spell = table["discharge"] >= EXTRACT
    table["discharge"] = np.where(open_spell, NAT, table["discharge"])
    table["drd"] = np.where(table["drd"] >= EXTRACT, NAT, table["drd"])
    table["delay"] = np.where(open_spell, 0, table["delay"])
    table["pathway"] = np.where(np.isnat(table["drd"]), -1, table["pathway"])
    return _drop_overlaps(sort_by(concat(table, terminal), "person", "admit"))


def _terminal_stays(rng: np.random.Generator, cohort: Cohort, in_hospital: BoolArray) -> Table:
    """Final admissions of people who die in hospital."""
    person = np.flatnonzero(in_hospital)
    death = cohort.exit[person] - DAY
    los = np.floor(rng.lognormal(np.log(8.0), 0.8, person.size)).astype(np.int64)
    admit = np.maximum(death - los * DAY, cohort.entry[person])
    n = person.size
    return {
        "person": person,
        "admit": admit,
        "drd": np.full(n, NAT),
        "died": np.ones(n, bool),
        "pathway": np.full(n, -1),
        "delay": np.zeros(n, dtype=np.int64),
        "discharge": death,
        "reason": np.full(n, ""),
    }


def _drop_overlaps(table: Table) -> Table:
    """Remove stays that start before the same person's previous stay ends."""
    for _ in range(6):
        end = table["discharge"] if "discharge" in table else table["drd"]
        end = np.where(np.isnat(end), EXTRACT, end)
        same = np.r_[False, table["person"][1:] == table["person"][:-1]]
        clash = same & (table["admit"] <= np.r_[table["admit"][:1], end[:-1]])
        if not clash.any():
            break
        table = take(table, ~clash)
    return table


def _assign_discharge(rng: np.random.Generator, table: Table, cohort: Cohort) -> Table:
    """Pathway by need, then delay by pathway and year, then the discharge date."""
    person = table["person"]
    n = person.size
    age = years(table["admit"] - cohort.dob[person])
    need = (age - 60) / 12 + 0.7 * cohort.frailty[person] + rng.normal(0, 0.9, n)
    rank = np.argsort(np.argsort(need, kind="stable"), kind="stable") / max(n, 1)
    cuts = np.cumsum(config.PATHWAY_SPLIT)[:-1]
    pathway = np.searchsorted(cuts, rank, side="right")
    delayed = rng.random(n) < np.array(config.DELAYED_SHARE_BY_PATHWAY)[pathway]
    year = np.clip(financial_year(table["drd"], config.WINDOW_START.year), 0, config.YEARS - 1)
    weights = np.array(config.PATHWAY_SPLIT) * np.array(config.DELAYED_SHARE_BY_PATHWAY)
    factor = np.array(config.DELAY_PATHWAY_FACTOR)
    norm = float((weights * factor).sum() / weights.sum())
    mean = np.array(config.MEAN_DELAY_BY_YEAR)[year] * factor[pathway] / norm
    extra = rng.gamma(
        config.DELAY_GAMMA_SHAPE, np.maximum(mean - 1, 0.1) / config.DELAY_GAMMA_SHAPE
    )
    delay = np.where(
        delayed, np.minimum(1 + np.round(extra).astype(np.int64), config.MAX_DELAY_DAYS), 0
    )
    options = np.array([len(r) for r in DELAY_REASONS])[pathway]
    pick = (rng.random(n) * options).astype(np.int64)
    flat = np.array([r for group in DELAY_REASONS for r in group])
    offset = np.r_[0, np.cumsum([len(r) for r in DELAY_REASONS])[:-1]]
    reason = np.where(delayed, flat[offset[pathway] + pick], "")
    return {
        **table,
        "pathway": pathway,
        "delay": delay,
        "discharge": table["drd"] + delay * DAY,
        "reason": reason,
    }


def discharge_to_care_homes(
    rng: np.random.Generator,
    adm: Table,
    home_beds: IntArray,
    home_nursing: BoolArray,
    cohort: Cohort,
) -> CareHomeStays:
    """People discharged on pathway 3 move into a care home on their discharge day."""
    rows = np.flatnonzero((adm["pathway"] == 3) & (adm["discharge"] <= END))
    person, first = np.unique(adm["person"][rows], return_index=True)
    start = adm["discharge"][rows][first]
    home = _home_for(rng, person.size, home_beds, home_nursing, cohort.frailty[person])
    return CareHomeStays(
        person, home, start, rng.random(person.size) < config.SOCIAL_CARE_LA_FUNDED_SHARE
    )


def community(
    rng: np.random.Generator, cohort: Cohort, adm: Table, caseload: BoolArray, falls: BoolArray
) -> tuple[Table, Table]:
    """Community referrals and contacts: district nursing, intermediate care, therapy."""
    refs: list[Table] = []
    begin = np.maximum(cohort.entry, START)
    dn = np.flatnonzero(caseload & (cohort.exit > begin))
    refs.append(
        _referrals(
            dn,
            "District nursing",
            begin[dn] - rng.integers(0, 400, dn.size) * DAY,
            cohort.exit[dn],
            "GP",
        )
    )
    p1 = (adm["pathway"] == 1) & (adm["discharge"] <= END)
    p2 = (adm["pathway"] == 2) & (adm["discharge"] <= END)
    for mask, service, weeks in (
        (p1, "Home-based intermediate care", 6),
        (p2, "Intermediate care bed", 3),
    ):
        start = adm["discharge"][mask]
        refs.append(
            _referrals(
                adm["person"][mask],
                service,
                start,
                np.minimum(start + weeks * 7 * DAY, cohort.exit[adm["person"][mask]]),
                "Hospital discharge team",
            )
        )
    fall_people = np.flatnonzero(falls & (cohort.exit > begin))
    start = date_between(rng, begin[fall_people], cohort.exit[fall_people])
    refs.append(
        _referrals(
            fall_people,
            "Falls and therapy",
            start,
            np.minimum(start + 84 * DAY, cohort.exit[fall_people]),
            "GP",
        )
    )
    referrals = concat(*refs)
    referrals["referral"] = np.arange(referrals["person"].size)
    return referrals, _contacts(rng, referrals)


def _referrals(
    person: IntArray,
    service: str,
    start: npt.NDArray[Any],
    end: npt.NDArray[Any],
    source: str,
) -> Table:
    """Referral rows; `end` at or after the extract date means still open."""
    n = person.size
    return {
        "person": person,
        "service": np.full(n, service),
        "start": start,
        "end": np.where(end >= EXTRACT, NAT, end),
        "source": np.full(n, source),
    }


def _contacts(rng: np.random.Generator, referrals: Table) -> Table:
    """Contacts inside each referral's active part of the window."""
    service = referrals["service"]
    per_year = np.select(
        [
            service == "District nursing",
            service == "Home-based intermediate care",
            service == "Falls and therapy",
        ],
        [config.DN_CASELOAD_CONTACTS_PER_YEAR, 70.0, 18.0],
        0.0,
    )
    begin = np.maximum(referrals["start"], START)
    end = np.where(np.isnat(referrals["end"]), EXTRACT, referrals["end"])
    span = np.maximum(years(end - begin), 0)
    counts = rng.poisson(per_year * span)
    row = repeat_rows(counts)
    date = date_between(rng, begin[row], end[row])
    minutes = np.clip(rng.gamma(3.0, 12.0, row.size), 5, 120).astype(np.int64)
    kind = np.where(rng.random(row.size) < 0.8, "Face to face - home", "Telephone")
    return {
        "referral": row,
        "person": referrals["person"][row],
        "date": date,
        "minutes": minutes,
        "kind": kind,
    }


def social_care_adults(
    rng: np.random.Generator,
    cohort: Cohort,
    adm: Table,
    homes: CareHomeStays,
    home_nursing: BoolArray,
    frail_home: BoolArray,
) -> tuple[Table, Table]:
    """Assessments and packages: reablement after discharge, home care, placements."""
    packages: list[Table] = []
    p1 = np.flatnonzero(
        (adm["pathway"] == 1) & (adm["discharge"] <= END) & (rng.random(adm["person"].size) < 0.55)
    )
    start = adm["discharge"][p1]
    person = adm["person"][p1]
    packages.append(
        _package(
            person, "Reablement", start, start + 42 * DAY, rng.uniform(6, 12, p1.size), 0.0, cohort
        )
    )
    cont = rng.random(p1.size) < 0.3
    packages.append(
        _package(
            person[cont],
            "Home care",
            start[cont] + 42 * DAY,
            cohort.exit[person[cont]],
            rng.gamma(4.0, 3.2, int(cont.sum())),
            25.0,
            cohort,
        )
    )
    frail = np.flatnonzero(frail_home)
    fstart = date_between(rng, np.full(frail.size, START - 700 * DAY), cohort.exit[frail])
    packages.append(
        _package(
            frail,
            "Home care",
            fstart,
            cohort.exit[frail],
            rng.gamma(4.0, 3.2, frail.size),
            25.0,
            cohort,
        )
    )
    funded = homes.la_funded
    nursing = home_nursing[homes.home[funded]]
    placement = _package(
        homes.person[funded],
        "Care home placement",
        homes.start[funded],
        cohort.exit[homes.person[funded]],
        np.zeros(int(funded.sum())),
        0.0,
        cohort,
    )
    placement["service"] = np.where(nursing, "Nursing care placement", "Residential care placement")
    placement["cost"] = np.where(nursing, 985.0, 790.0)
    placement["home"] = homes.home[funded]
    for table in packages:
        table["home"] = np.full(table["person"].size, -1)
    pk = concat(*packages, placement)
    pk = take(pk, pk["start"] < pk["end_exclusive"])
    pk["package"] = np.arange(pk["person"].size)
    return _assessments(rng, pk, cohort), pk


def _package(
    person: IntArray,
    service: str,
    start: npt.NDArray[Any],
    end_exclusive: npt.NDArray[Any],
    hours: FloatArray,
    rate: float,
    cohort: Cohort,
) -> Table:
    """Package rows; weekly cost from hours (home care) or a flat placement fee."""
    end_exclusive = np.minimum(end_exclusive, cohort.exit[person])
    cost = np.round(hours * rate, 2)
    return {
        "person": person,
        "service": np.full(person.size, service),
        "start": start,
        "end_exclusive": end_exclusive,
        "hours": np.round(hours, 1),
        "cost": cost,
    }


def _assessments(rng: np.random.Generator, packages: Table, cohort: Cohort) -> Table:
    """A Care Act assessment before each package, and annual reviews while it lasts."""
    person = packages["person"]
    first = packages["start"] - rng.integers(1, 21, person.size) * DAY
    span = years(
        np.minimum(packages["end_exclusive"], np.datetime64(config.EXTRACT_DATE))
        - packages["start"]
    )
    reviews = np.floor(np.maximum(span, 0)).astype(np.int64)
    review_row = repeat_rows(reviews)
    review_no = np.arange(review_row.size) - np.repeat(np.r_[0, np.cumsum(reviews)[:-1]], reviews)
    review_date = packages["start"][review_row] + ((review_no + 1) * 365) * DAY
    table = concat(
        {
            "person": person,
            "date": first,
            "kind": np.full(person.size, "Care Act assessment"),
            "package": packages["package"],
        },
        {
            "person": person[review_row],
            "date": review_date,
            "kind": np.full(review_row.size, "Review"),
            "package": packages["package"][review_row],
        },
    )
    keep = (table["date"] >= START - 1500 * DAY) & (table["date"] < cohort.exit[table["person"]])
    outcome = np.where(rng.random(int(keep.sum())) < 0.92, "Eligible needs", "No eligible needs")
    result = take(table, keep)
    result["outcome"] = outcome
    return result


def hospice(rng: np.random.Generator, cohort: Cohort, died: IntArray, cause: IntArray) -> Table:
    """Hospice episodes in the last months of life, mostly for people dying of cancer."""
    cancer = cause < CANCER_CAUSES
    share = np.where(
        cancer, config.HOSPICE_SHARE_OF_CANCER_DEATHS, config.HOSPICE_SHARE_OF_OTHER_DEATHS
    )
    chosen = rng.random(died.size) < share
    person = died[chosen]
    death = cohort.exit[person] - DAY
    referral = np.maximum(
        death - (rng.gamma(1.5, 45.0, person.size).astype(np.int64) + 3) * DAY, cohort.entry[person]
    )
    setting = np.array(["Community", "Inpatient", "Day hospice"])[
        rng.choice(3, size=person.size, p=[0.6, 0.3, 0.1])
    ]
    died_there = (setting == "Inpatient") & (rng.random(person.size) < 0.7)
    end = np.where(
        died_there | (setting == "Community"), death, death - rng.integers(3, 30, person.size) * DAY
    )
    end = np.maximum(end, referral)
    return {
        "person": person,
        "referral": referral,
        "start": referral + rng.integers(0, 7, person.size) * DAY,
        "end": end,
        "setting": setting,
        "died_there": died_there,
    }


def children(rng: np.random.Generator, cohort: Cohort) -> tuple[Table, Table]:
    """Referrals to children's social care, and early help episodes."""
    begin = np.maximum(cohort.entry, START)
    adult_on = cohort.dob + int(18 * 365.25) * DAY
    end = np.minimum(cohort.exit, adult_on)
    exposure = np.maximum(years(end - begin), 0)
    weight = np.exp(0.9 * cohort.z)
    weight /= float((weight * exposure).sum()) / max(float(exposure.sum()), 1.0)
    refs = repeat_rows(rng.poisson(config.CHILD_REFERRAL_RATE * weight * exposure))
    date = date_between(rng, begin[refs], end[refs])
    outcome = np.array(
        [
            "No further action",
            "Early help",
            "Child in need",
            "Child protection plan",
            "Assessment - no services",
        ]
    )[rng.choice(5, size=refs.size, p=[0.3, 0.22, 0.25, 0.08, 0.15])]
    source = np.array(
        ["Police", "School", "Health services", "Local authority", "Individual", "Anonymous"]
    )[rng.choice(6, size=refs.size, p=[0.3, 0.2, 0.15, 0.15, 0.15, 0.05])]
    referrals = {"person": refs, "date": date, "source": source, "outcome": outcome}
    helped = repeat_rows(rng.poisson(config.EARLY_HELP_RATE * weight * exposure))
    start = date_between(rng, begin[helped], end[helped])
    close = start + rng.integers(60, 300, helped.size) * DAY
    early = {
        "person": helped,
        "start": start,
        "end": np.where(close >= EXTRACT, NAT, np.minimum(close, cohort.exit[helped] - DAY)),
        "lead": np.array(["School", "Health visitor", "Family hub", "Voluntary sector"])[
            rng.choice(4, size=helped.size)
        ],
    }
    return referrals, early

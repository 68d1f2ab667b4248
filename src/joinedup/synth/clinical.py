"""Primary-care history: conditions and eFI findings, medicines, encounters,
observations and immunisations, each depending on age, sex, deprivation and frailty.

A latent frailty per person makes deficits cluster, so that moderate and severe
frailty arise as they do in real eFI data. Medicines follow from conditions, so
polypharmacy (eFI deficit 26) emerges from multimorbidity rather than being drawn.

It must never loop in Python over people or events.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from joinedup.synth import config
from joinedup.synth.tables import DAY, NAT, Table, concat, date_between, repeat_rows, years

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DateArray = npt.NDArray[Any]

START = np.datetime64(config.WINDOW_START, "D")
EXTRACT = np.datetime64(config.EXTRACT_DATE, "D")

# (code, term): non-eFI conditions the platform's registers also need.
EXTRA_CONDITIONS = {
    "depression": ("35489007", "Depressive disorder (disorder)", 0.10),
    "obesity": ("414916001", "Obesity (disorder)", 0.16),
    "smi": ("58214004", "Schizophrenia (disorder)", 0.008),
    "ld": ("110359009", "Intellectual disability (disorder)", 0.005),
}
CANCER = ("363346000", "Malignant neoplastic disease (disorder)")

# dm+d virtual therapeutic moieties (VTM) used by the synthetic formulary.
DRUGS = (
    ("774557006", "Amlodipine"),
    ("777395009", "Ramipril"),
    ("776550005", "Lisinopril"),
    ("774880006", "Bisoprolol"),
    ("774685003", "Atenolol"),
    ("775314005", "Clopidogrel"),
    ("776713006", "Metformin"),
    ("776108001", "Gliclazide"),
    ("777541003", "Sitagliptin"),
    ("775447002", "Dapagliflozin"),
    ("775752008", "Empagliflozin"),
    ("776908002", "Nifedipine"),
    ("775923000", "Felodipine"),
    ("775077004", "Carvedilol"),
    ("777344007", "Propranolol"),
    ("777766002", "Ticagrelor"),
    ("776541008", "Linagliptin"),
    ("775712006", "Dulaglutide"),
    ("775603003", "Diltiazem"),
    ("777597000", "Sotalol"),
    ("775646000", "Dipyridamole"),
    ("776548002", "Liraglutide"),
    ("777205002", "Pioglitazone"),
    ("775758007", "Enalapril"),
)
_DRUG_INDEX = {name: i for i, (_, name) in enumerate(DRUGS)}
PRESCRIBING = {
    17: (
        ("Amlodipine", 0.5),
        ("Ramipril", 0.4),
        ("Lisinopril", 0.15),
        ("Felodipine", 0.06),
        ("Nifedipine", 0.05),
        ("Atenolol", 0.08),
        ("Enalapril", 0.05),
    ),
    19: (("Bisoprolol", 0.7), ("Clopidogrel", 0.6), ("Ramipril", 0.5), ("Ticagrelor", 0.1)),
    4: (("Bisoprolol", 0.6), ("Diltiazem", 0.15), ("Sotalol", 0.05)),
    14: (
        ("Bisoprolol", 0.6),
        ("Carvedilol", 0.2),
        ("Ramipril", 0.6),
        ("Empagliflozin", 0.3),
        ("Dapagliflozin", 0.3),
    ),
    7: (
        ("Metformin", 0.85),
        ("Gliclazide", 0.3),
        ("Sitagliptin", 0.2),
        ("Dapagliflozin", 0.2),
        ("Empagliflozin", 0.2),
        ("Linagliptin", 0.15),
        ("Dulaglutide", 0.08),
        ("Liraglutide", 0.04),
        ("Pioglitazone", 0.03),
    ),
    5: (("Clopidogrel", 0.8), ("Dipyridamole", 0.1)),
    25: (("Clopidogrel", 0.7),),
    6: (("Ramipril", 0.3), ("Dapagliflozin", 0.3)),
    23: (("Propranolol", 0.3),),
    8: (("Propranolol", 0.05),),
}
"""Deficit number -> (drug, probability a person with it is prescribed it); assumed,
after NICE pathways. Only cardiovascular and diabetes VTMs are included (see docs)."""

ENCOUNTER_TYPES = (
    ("185345009", "Encounter for symptom (procedure)", 0.55),
    ("185317003", "Telephone encounter (procedure)", 0.30),
    ("390906007", "Follow-up encounter (procedure)", 0.15),
)
HOME_VISIT = ("439708006", "Home visit (procedure)")

VACCINES = {
    "flu65": (
        "822851000000102",
        "Seasonal influenza vaccination (procedure)",
        "35727511000001100",
        "Influvac sub-unit Tetra vaccine suspension for injection",
    ),
    "covid": (
        "1362591000000103",
        "Administration of booster dose of severe acute respiratory syndrome coronavirus 2 vaccine",
        "39114911000001105",
        "COVID-19 Vaccine Comirnaty 30micrograms/0.3ml dose",
    ),
    "mmr1": (
        "38598009",
        (
            "Administration of vaccine product containing only Measles morbillivirus and Mumps "
            "orthorubulavirus and Rubella virus antigens (procedure)"
        ),
        "10384511000001108",
        "MMRvaxPRO powder and solvent for suspension for injection",
    ),
    "mmr2": (
        "170433008",
        (
            "Administration of second dose of vaccine product containing only Measles "
            "morbillivirus "
            "and Mumps orthorubulavirus and Rubella virus antigens (procedure)"
        ),
        "10384511000001108",
        "MMRvaxPRO powder and solvent for suspension for injection",
    ),
}


@dataclass(frozen=True)
class FindingCodes:
    """The shipped eFI code subset: deficit number, SNOMED code and term per row."""

    deficit: IntArray
    code: npt.NDArray[np.str_]
    term: npt.NDArray[np.str_]


def load_finding_codes() -> FindingCodes:
    """Read the curated eFI SNOMED subset shipped in `synth/data/efi_findings.csv`."""
    text = resources.files("joinedup.synth").joinpath("data/efi_findings.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return FindingCodes(
        deficit=np.array([int(r["deficit_number"]) for r in rows], dtype=np.int64),
        code=np.array([r["snomed_code"] for r in rows]),
        term=np.array([r["term"] for r in rows]),
    )


@dataclass(frozen=True)
class Cohort:
    """What the history generators need to know about each person."""

    sex: npt.NDArray[np.str_]
    dob: DateArray
    entry: DateArray
    exit: DateArray  # first day no longer in the borough's records (death+1 or extract)
    z: FloatArray
    frailty: FloatArray  # standard normal latent frailty

    def age_at(self, when: DateArray) -> FloatArray:
        """Exact age in years at a date per person."""
        return years(when - self.dob)


def _logit(p: FloatArray) -> FloatArray:
    return np.log(p / (1 - p))


def _sigmoid(x: FloatArray) -> FloatArray:
    return 1 / (1 + np.exp(-x))


def deficits(rng: np.random.Generator, cohort: Cohort, codes: FindingCodes) -> Table:
    """Coded eFI findings: person, deficit, code, term, first-recorded date."""
    ref = cohort.exit - DAY
    age = cohort.age_at(ref)
    adult = age >= config.EFI_MIN_AGE
    tables: list[Table] = []
    for deficit, prev in config.EFI_PREVALENCE_75.items():
        sex_shift = np.where(cohort.sex == "F", 0.7, -0.7) if deficit == 22 else 0.0
        logit = (
            _logit(np.array(prev))
            + config.EFI_INTERCEPT_SHIFT
            + config.EFI_AGE_SLOPE * (age - 75) / 10
            + config.EFI_DEPRIVATION_SLOPE * cohort.z
            + config.EFI_LATENT_SD * cohort.frailty
            + sex_shift
        )
        has = adult & (rng.random(age.size) < _sigmoid(logit))
        if deficit == 28:  # childhood asthma
            has |= (~adult) & (age >= 2) & (rng.random(age.size) < 0.08)
        person = np.flatnonzero(has)
        tables.append(_coded(rng, cohort, codes, person, deficit))
    return concat(*tables)


def _coded(
    rng: np.random.Generator, cohort: Cohort, codes: FindingCodes, person: IntArray, deficit: int
) -> Table:
    """Rows for people with one deficit: a code from its list, onset before the reference."""
    options = np.flatnonzero(codes.deficit == deficit)
    weights = 0.6 ** np.arange(options.size)
    pick = options[rng.choice(options.size, size=person.size, p=weights / weights.sum())]
    ref = cohort.exit[person] - DAY
    earliest = cohort.dob[person] + np.where(deficit == 28, 2 * 365, 18 * 365) * DAY
    back = (rng.exponential(6.0, size=person.size) * 365.25).astype(np.int64) * DAY
    onset = np.maximum(ref - back, np.minimum(earliest, ref))
    return {
        "person": person,
        "deficit": np.full(person.size, deficit, dtype=np.int64),
        "code": codes.code[pick],
        "term": codes.term[pick],
        "onset": onset,
    }


def extra_conditions(rng: np.random.Generator, cohort: Cohort) -> Table:
    """Depression, obesity, serious mental illness and learning disability registers."""
    age = cohort.age_at(cohort.exit - DAY)
    tables: list[Table] = []
    for code, term, prev in EXTRA_CONDITIONS.values():
        p = prev * np.exp(0.3 * cohort.z)
        person = np.flatnonzero((age >= 18) & (rng.random(age.size) < p))
        ref = cohort.exit[person] - DAY
        onset = np.maximum(
            ref - (rng.exponential(8.0, person.size) * 365.25).astype(np.int64) * DAY,
            cohort.dob[person] + 16 * 365 * DAY,
        )
        tables.append(
            {
                "person": person,
                "deficit": np.zeros(person.size, dtype=np.int64),
                "code": np.full(person.size, code),
                "term": np.full(person.size, term),
                "onset": np.minimum(onset, ref),
            }
        )
    return concat(*tables)


def medications(rng: np.random.Generator, conditions: Table, cohort: Cohort) -> Table:
    """Medication statements implied by conditions: person, drug, start, end (or NaT)."""
    tables: list[Table] = []
    for deficit, drugs in PRESCRIBING.items():
        rows = np.flatnonzero(conditions["deficit"] == deficit)
        person = conditions["person"][rows]
        onset = conditions["onset"][rows]
        for name, prob in drugs:
            on = rng.random(person.size) < prob
            start = onset[on] + rng.integers(0, 120, size=int(on.sum())) * DAY
            tables.append(
                {
                    "person": person[on],
                    "drug": np.full(int(on.sum()), _DRUG_INDEX[name]),
                    "start": start,
                }
            )
    meds = concat(*tables)
    # A drug prescribed for two conditions is one statement: keep the earliest start.
    key = meds["person"] * len(DRUGS) + meds["drug"]
    order = np.lexsort((meds["start"], key))
    first = np.r_[True, np.diff(key[order]) != 0]
    keep = order[first]
    person, start = meds["person"][keep], meds["start"][keep]
    end_of_record = cohort.exit[person] - DAY
    stopped = rng.random(keep.size) < 0.08
    stop = start + (rng.exponential(700, keep.size).astype(np.int64) + 30) * DAY
    end = np.where(cohort.exit[person] < EXTRACT, end_of_record, NAT)
    end = np.where(stopped & (stop < end_of_record), stop, end)
    valid = start <= end_of_record
    return {
        "person": person[valid],
        "drug": meds["drug"][keep][valid],
        "start": np.minimum(start, end_of_record)[valid],
        "end": end[valid],
    }


def polypharmacy(meds: Table, cohort: Cohort) -> npt.NDArray[np.bool_]:
    """eFI deficit 26: >= 5 distinct medicines active in the 12 months before the reference."""
    ref = cohort.exit[meds["person"]] - DAY
    window_start = ref - 365 * DAY
    end = np.where(np.isnat(meds["end"]), ref, meds["end"])
    active = (meds["start"] <= ref) & (end >= window_start)
    counts = np.bincount(meds["person"][active], minlength=cohort.sex.size)
    return counts >= config.POLYPHARMACY_MIN_MEDS


def efi_scores(
    conditions: Table, poly: npt.NDArray[np.bool_], n: int
) -> tuple[FloatArray, npt.NDArray[np.str_]]:
    """eFI score (deficits / 36) and category per person at their reference date."""
    rows = conditions["deficit"] > 0
    key = np.unique(conditions["person"][rows] * 64 + conditions["deficit"][rows])
    count = np.bincount(key // 64, minlength=n) + poly.astype(np.int64)
    score = count / config.EFI_DEFICIT_COUNT
    category = np.array(config.EFI_CATEGORIES)[np.searchsorted(config.EFI_CUTS, score, side="left")]
    return score, category


def encounters(
    rng: np.random.Generator, cohort: Cohort, housebound: npt.NDArray[np.bool_]
) -> Table:
    """GP encounters in the window: person, date, code, term."""
    begin = np.maximum(cohort.entry, START)
    exposure = np.maximum(years(cohort.exit - begin), 0)
    age = cohort.age_at(begin)
    rate = config.GP_ENCOUNTERS_BASE * np.exp(0.022 * (age - 40)) * np.exp(0.25 * cohort.frailty)
    rate = np.where(age < 5, 1.4, rate) * (1 + 0.1 * cohort.z)
    counts = rng.poisson(rate * exposure)
    person = repeat_rows(counts)
    date = date_between(rng, begin[person], cohort.exit[person])
    kinds = np.array([k for _, _, k in ENCOUNTER_TYPES])
    kind = rng.choice(kinds.size, size=person.size, p=kinds / kinds.sum())
    code = np.array([c for c, _, _ in ENCOUNTER_TYPES])[kind]
    term = np.array([t for _, t, _ in ENCOUNTER_TYPES])[kind]
    home = housebound[person] & (rng.random(person.size) < 0.6)
    return {
        "person": person,
        "date": date,
        "code": np.where(home, HOME_VISIT[0], code),
        "term": np.where(home, HOME_VISIT[1], term),
    }


def observations(rng: np.random.Generator, cohort: Cohort, conditions: Table) -> Table:
    """Blood pressure, BMI, HbA1c and eGFR readings in the window."""
    n = cohort.sex.size
    has = deficit_lookup(conditions, n)
    begin = np.maximum(cohort.entry, START)
    exposure = np.maximum(years(cohort.exit - begin), 0)
    age = cohort.age_at(begin)
    adult = age >= 18
    htn, dm, ckd = has(17), has(7), has(6)
    plans = (
        ("bp", np.where(adult & (age >= 40), np.where(htn, 1.0, 0.3), np.where(adult, 0.1, 0))),
        ("bmi", np.where(adult, 0.2, 0.0)),
        ("hba1c", np.where(dm, 2.0, np.where(adult & (age >= 40), 0.08, 0.0))),
        ("egfr", np.where(ckd | dm | (htn & (age >= 65)), 1.0, 0.0)),
    )
    tables = []
    for kind, rate in plans:
        counts = rng.poisson(rate * exposure)
        person = repeat_rows(counts)
        date = date_between(rng, begin[person], cohort.exit[person])
        value, value2 = _values(rng, kind, person, age, cohort.z, htn, dm, ckd)
        tables.append(
            {
                "person": person,
                "date": date,
                "kind": np.full(person.size, kind),
                "value": value,
                "value2": value2,
            }
        )
    return concat(*tables)


DeficitLookup = Callable[[int], npt.NDArray[np.bool_]]


def deficit_lookup(conditions: Table, n: int) -> DeficitLookup:
    """A lookup: deficit number -> whether each person has it recorded."""

    def has(deficit: int) -> npt.NDArray[np.bool_]:
        flag = np.zeros(n, dtype=bool)
        flag[conditions["person"][conditions["deficit"] == deficit]] = True
        return flag

    return has


def _values(
    rng: np.random.Generator,
    kind: str,
    person: IntArray,
    age: FloatArray,
    z: FloatArray,
    htn: npt.NDArray[np.bool_],
    dm: npt.NDArray[np.bool_],
    ckd: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Plausible readings for one observation kind (second value: diastolic BP)."""
    size = person.size
    a, h = age[person], htn[person]
    if kind == "bp":
        sys = rng.normal(124 + 0.35 * np.maximum(a - 40, 0) + 8 * h, 13, size)
        dia = rng.normal(76 + 5 * h, 9, size)
        return np.round(np.clip(sys, 85, 220)), np.round(np.clip(dia, 45, 130))
    if kind == "bmi":
        return np.round(
            np.clip(rng.lognormal(np.log(27 + 1.2 * z[person]), 0.17, size), 15, 60), 1
        ), np.full(size, np.nan)
    if kind == "hba1c":
        mean = np.where(dm[person], 58.0, 38.0)
        return np.round(np.clip(rng.normal(mean, np.where(dm[person], 12, 4)), 25, 140)), np.full(
            size, np.nan
        )
    mean = np.where(ckd[person], 44.0, 76.0) - 0.3 * np.maximum(a - 60, 0)
    return np.round(np.clip(rng.normal(mean, 11, size), 8, 120)), np.full(size, np.nan)


def _uptake(programme: str, z: FloatArray) -> FloatArray:
    """Uptake by deprivation: linear in decile between the decile-1 and decile-10 targets."""
    low, high = config.UPTAKE_BY_PROGRAMME[programme]
    decile = 5.5 - 4.5 * z
    return low + (high - low) * (decile - 1) / 9


def immunisations(
    rng: np.random.Generator, cohort: Cohort, care_home: npt.NDArray[np.bool_]
) -> Table:
    """Flu (65+), COVID-19 boosters and childhood MMR: person, date, programme."""
    propensity = rng.random(cohort.sex.size)
    tables = [_seasonal(rng, cohort, propensity, "flu65", season) for season in range(config.YEARS)]
    tables += [
        _seasonal(rng, cohort, propensity, "covid", season, care_home)
        for season in range(config.YEARS)
    ]
    tables += [_mmr(rng, cohort, propensity, dose) for dose in (1, 2)]
    return concat(*tables)


def _seasonal(
    rng: np.random.Generator,
    cohort: Cohort,
    propensity: FloatArray,
    programme: str,
    season: int,
    care_home: npt.NDArray[np.bool_] | None = None,
) -> Table:
    """One autumn campaign: eligible by age on 31 March; a habitual propensity decides."""
    year = config.WINDOW_START.year + season
    opens = np.datetime64(f"{year}-09-01", "D")
    age = cohort.age_at(np.full(cohort.sex.size, np.datetime64(f"{year + 1}-03-31", "D")))
    min_age = 65 if (programme == "flu65" or season < 3) else 75
    eligible = (age >= min_age) & (cohort.entry < opens) & (cohort.exit > opens)
    if care_home is not None:
        eligible |= care_home & (cohort.entry < opens) & (cohort.exit > opens)
    u = np.mod(propensity + config.UPTAKE_PERSISTENCE * rng.standard_normal(propensity.size), 1.0)
    given = eligible & (u < _uptake(programme, cohort.z))
    person = np.flatnonzero(given)
    delay = np.minimum(rng.gamma(2.0, 22.0, size=person.size).astype(np.int64), 170)
    date = opens + delay * DAY
    date = np.minimum(date, cohort.exit[person] - DAY)
    ok = date >= opens
    return {"person": person[ok], "date": date[ok], "programme": np.full(int(ok.sum()), programme)}


def _mmr(rng: np.random.Generator, cohort: Cohort, propensity: FloatArray, dose: int) -> Table:
    """MMR dose 1 at 12-13 months, dose 2 at 3 years 4 months, for under-18s."""
    programme = f"mmr{dose}"
    due = cohort.dob + (int(365 * 1.02) if dose == 1 else int(365 * 3.34)) * DAY
    under_18 = cohort.age_at(np.full(cohort.sex.size, EXTRACT)) < 18
    u = np.mod(propensity + 0.05 * rng.standard_normal(propensity.size), 1.0)
    delay = rng.exponential(35, size=u.size).astype(np.int64) * DAY
    date = due + delay
    given = under_18 & (date < cohort.exit) & (u < _uptake(programme, cohort.z))
    person = np.flatnonzero(given)
    return {"person": person, "date": date[person], "programme": np.full(person.size, programme)}

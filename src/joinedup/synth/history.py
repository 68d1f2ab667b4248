"""Five years of the borough's life, assembled in dependency order.

Frailty first (it shapes everything), then deaths, admissions and care homes, then
the conditions, medicines and eFI that follow, then immunisations, GP activity,
community and social care, hospice and children's services. Each step draws from
its own named random stream, so changing one step leaves the others' draws intact.

It must never write files: it returns arrays for the extract writers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from joinedup.synth import care, clinical, config, mortality
from joinedup.synth.geography import Geography
from joinedup.synth.organisations import Organisations
from joinedup.synth.population import Persons, deprivation_z
from joinedup.synth.streams import stream
from joinedup.synth.tables import DAY, NAT, Table, concat

EXTRACT = np.datetime64(config.EXTRACT_DATE, "D")
START = np.datetime64(config.WINDOW_START, "D")


@dataclass(frozen=True)
class History:
    """Everything that happened to the residents, as column tables."""

    cohort: clinical.Cohort
    model: mortality.MortalityModel
    death: npt.NDArray[np.datetime64]
    cause: npt.NDArray[np.int64]  # index into care.CAUSES, -1 if alive
    place_of_death: npt.NDArray[np.str_]
    conditions: Table
    medications: Table
    polypharmacy: npt.NDArray[np.bool_]
    efi_score: npt.NDArray[np.float64]
    efi_category: npt.NDArray[np.str_]
    encounters: Table
    observations: Table
    immunisations: Table
    admissions: Table
    care_home: Table  # person, home, start, la_funded
    community_referrals: Table
    community_contacts: Table
    assessments: Table
    packages: Table
    hospice: Table
    child_referrals: Table
    early_help: Table


def decile_weights(geo: Geography) -> npt.NDArray[np.float64]:
    """Share of residents living in each IMD decile (for calibrating mortality)."""
    weights = np.bincount(geo.imd_decile - 1, weights=geo.weight, minlength=10)
    out: npt.NDArray[np.float64] = weights / weights.sum()
    return out


def _cohort(
    seed: int, persons: Persons, geo: Geography
) -> tuple[clinical.Cohort, mortality.MortalityModel, npt.NDArray[np.datetime64]]:
    """Latent frailty, calibrated mortality and each person's date of death."""
    z = deprivation_z(geo.imd_decile[persons.lsoa])
    frailty = stream(seed, "frailty").standard_normal(persons.count)
    model = mortality.calibrate(decile_weights(geo))
    death = mortality.simulate_deaths(
        stream(seed, "deaths"),
        model,
        sex=persons.sex,
        dob=persons.dob,
        entry=persons.entry,
        z=z,
        frailty=frailty,
    )
    exit_ = np.where(np.isnat(death), EXTRACT, death + DAY)
    cohort = clinical.Cohort(persons.sex, persons.dob, persons.entry, exit_, z, frailty)
    return cohort, model, death


def _care_home_table(*stays: care.CareHomeStays) -> Table:
    """Combine care home stays; a person keeps their first stay."""
    table = {
        "person": np.concatenate([s.person for s in stays]),
        "home": np.concatenate([s.home for s in stays]),
        "start": np.concatenate([s.start for s in stays]),
        "la_funded": np.concatenate([s.la_funded for s in stays]),
    }
    _, first = np.unique(table["person"], return_index=True)
    return {k: v[first] for k, v in table.items()}


def _place_of_death(
    rng: np.random.Generator,
    died: npt.NDArray[np.int64],
    adm: Table,
    hosp: Table,
    home_resident: npt.NDArray[np.bool_],
) -> npt.NDArray[np.str_]:
    """Where each death happened, consistent with the hospital and hospice records."""
    place = np.where(rng.random(died.size) < 0.85, "Home", "Elsewhere").astype("<U16")
    place = np.where(home_resident[died], "Care home", place)
    in_hospice = np.isin(died, hosp["person"][hosp["died_there"]])
    place = np.where(in_hospice, "Hospice", place)
    in_hospital = np.isin(died, adm["person"][adm["died"]])
    return np.where(in_hospital, "Hospital", place)


def build_history(
    seed: int, people: int, persons: Persons, geo: Geography, orgs: Organisations
) -> History:
    """Run every history step in order and collect the results."""
    cohort, model, death = _cohort(seed, persons, geo)
    n = persons.count
    died = np.flatnonzero(~np.isnat(death))
    start_homes = care.care_homes_at_start(
        stream(seed, "care_homes"), cohort, orgs.home_beds, orgs.home_nursing
    )
    resident_at_start = np.zeros(n, dtype=bool)
    resident_at_start[start_homes.person] = True
    rng = stream(seed, "in_hospital_death")
    share = np.where(resident_at_start, 0.25, config.IN_HOSPITAL_DEATH_SHARE)
    in_hospital = np.zeros(n, dtype=bool)
    in_hospital[died] = rng.random(died.size) < share[died]
    adm = care.admissions(stream(seed, "admissions"), cohort, people, in_hospital)
    p3_homes = care.discharge_to_care_homes(
        stream(seed, "p3_homes"), adm, orgs.home_beds, orgs.home_nursing, cohort
    )
    homes = _care_home_table(start_homes, p3_homes)
    resident = np.zeros(n, dtype=bool)
    resident[homes["person"]] = True

    cause = np.full(n, -1, dtype=np.int64)
    cause[died] = care.causes_of_death(stream(seed, "causes"), cohort, died)
    conditions = _conditions(seed, cohort, homes, died, cause)
    meds = clinical.medications(stream(seed, "medications"), conditions, cohort)
    poly = clinical.polypharmacy(meds, cohort)
    score, category = clinical.efi_scores(conditions, poly, n)

    has = _flags(conditions, n)
    housebound = has(16) | resident
    hosp = care.hospice(stream(seed, "hospice"), cohort, died, cause[died])
    caseload = (has(16) | has(29)) & ~resident & (cohort.age_at(cohort.exit - DAY) >= 50)
    falls = (
        has(10) & (cohort.age_at(cohort.exit - DAY) >= 65) & (stream(seed, "falls").random(n) < 0.5)
    )
    refs, contacts = care.community(stream(seed, "community"), cohort, adm, caseload, falls)
    frail_home = (
        ~resident
        & (cohort.age_at(cohort.exit - DAY) >= 65)
        & (
            stream(seed, "home_care").random(n)
            < np.select([category == "severe", category == "moderate"], [0.45, 0.12], 0.01)
        )
    )
    assessments, packages = care.social_care_adults(
        stream(seed, "social_care"),
        cohort,
        adm,
        care.CareHomeStays(homes["person"], homes["home"], homes["start"], homes["la_funded"]),
        orgs.home_nursing,
        frail_home,
    )
    child_refs, early = care.children(stream(seed, "children"), cohort)
    return History(
        cohort=cohort,
        model=model,
        death=death,
        cause=cause,
        place_of_death=_place_of_death(stream(seed, "place_of_death"), died, adm, hosp, resident),
        conditions=conditions,
        medications=meds,
        polypharmacy=poly,
        efi_score=score,
        efi_category=category,
        encounters=clinical.encounters(stream(seed, "encounters"), cohort, housebound),
        observations=clinical.observations(stream(seed, "observations"), cohort, conditions),
        immunisations=clinical.immunisations(stream(seed, "immunisations"), cohort, resident),
        admissions=adm,
        care_home=homes,
        community_referrals=refs,
        community_contacts=contacts,
        assessments=assessments,
        packages=packages,
        hospice=hosp,
        child_referrals=child_refs,
        early_help=early,
    )


def _conditions(
    seed: int,
    cohort: clinical.Cohort,
    homes: Table,
    died: npt.NDArray[np.int64],
    cause: npt.NDArray[np.int64],
) -> Table:
    """eFI findings, other registers, 'lives in care home' and cancers behind cancer deaths."""
    codes = clinical.load_finding_codes()
    found = clinical.deficits(stream(seed, "deficits"), cohort, codes)
    extra = clinical.extra_conditions(stream(seed, "extra_conditions"), cohort)
    in_home = homes["start"] < cohort.exit[homes["person"]]
    person = homes["person"][in_home]
    care_row = int(np.flatnonzero(codes.code == "248171000000108")[0])
    lives = {
        "person": person,
        "deficit": np.full(person.size, 27, dtype=np.int64),
        "code": np.full(person.size, codes.code[care_row]),
        "term": np.full(person.size, codes.term[care_row]),
        "onset": np.maximum(homes["start"][in_home], cohort.dob[person]),
    }
    rng = stream(seed, "cancer_onset")
    cancer_dead = died[cause[died] < care.CANCER_CAUSES]
    back = (rng.gamma(2.0, 200.0, cancer_dead.size).astype(np.int64) + 30) * DAY
    cancer = {
        "person": cancer_dead,
        "deficit": np.zeros(cancer_dead.size, dtype=np.int64),
        "code": np.full(cancer_dead.size, clinical.CANCER[0]),
        "term": np.full(cancer_dead.size, clinical.CANCER[1]),
        "onset": np.maximum(cohort.exit[cancer_dead] - DAY - back, cohort.dob[cancer_dead]),
    }
    return concat(found, extra, lives, cancer)


def _flags(conditions: Table, n: int) -> clinical.DeficitLookup:
    """Deficit number -> boolean per person."""
    return clinical.deficit_lookup(conditions, n)


__all__ = ["NAT", "History", "build_history"]

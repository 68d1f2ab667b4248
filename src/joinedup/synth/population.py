"""The borough's residents: age, sex, ethnicity, names, households, addresses, GP.

Residents at the start of the window are drawn from a Stockport-like age structure
(younger in deprived LSOAs), grouped into households at synthetic addresses, and
registered with a nearby practice. Babies born during the window join their
mother's household. Some households move to a new address in the same LSOA.

It must never loop in Python over people, and never read real registers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from joinedup.synth import config, names
from joinedup.synth.geography import Geography
from joinedup.synth.identifiers import nhs_numbers
from joinedup.synth.organisations import Organisations

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
DateArray = npt.NDArray[np.datetime64]
StrArray = npt.NDArray[np.str_]

DAY = np.timedelta64(1, "D")
START = np.datetime64(config.WINDOW_START, "D")
END = np.datetime64(config.WINDOW_END, "D")


@dataclass(frozen=True)
class Persons:
    """One row per resident (baseline residents first, then babies born in the window)."""

    sex: StrArray
    dob: DateArray
    entry: DateArray
    lsoa: IntArray
    household: IntArray
    postcode: IntArray
    house_number: IntArray
    moved_on: DateArray
    new_postcode: IntArray
    new_house_number: IntArray
    ethnicity: StrArray
    given: StrArray
    family: StrArray
    former_family: StrArray
    practice: IntArray
    nhs_number: IntArray

    @property
    def count(self) -> int:
        """Number of people ever resident during the window."""
        return int(self.sex.size)


def deprivation_z(decile: IntArray) -> FloatArray:
    """+1 for IMD decile 1 (most deprived) to -1 for decile 10."""
    return (5.5 - decile.astype(np.float64)) / 4.5


def mean_deprivation_z() -> float:
    """Average z across the borough's LSOAs, so the age tilt leaves the borough mix intact."""
    counts = np.array(config.LSOAS_PER_DECILE, dtype=np.float64)
    return float((deprivation_z(np.arange(1, 11)) * counts).sum() / counts.sum())


def age_probabilities(z: float) -> FloatArray:
    """Probability of each single year of age 0..MAX_AGE in an area with deprivation z."""
    share = np.array(config.AGE_SHARE_5Y, dtype=np.float64)
    mid = np.arange(19) * 5 + 2.0
    tilt = np.clip((45 - mid) / 35, -1, 1)
    share = share * np.exp(config.AGE_DEPRIVATION_TILT * (z - mean_deprivation_z()) * tilt)
    ages = np.arange(config.MAX_AGE + 1)
    band = np.minimum(ages // 5, 18)
    within = np.where(band < 18, 1 / 5, 0.0)
    old = ages >= 90
    decay = 0.80 ** (ages - 90)
    within = np.where(old, decay / decay[old].sum(), within)
    probs = share[band] * within
    out: FloatArray = probs / probs.sum()
    return out


def male_probability(age: IntArray) -> FloatArray:
    """Chance a resident of this age is male."""
    return np.array(config.MALE_SHARE_5Y)[np.minimum(age // 5, 18)]


def _ages(rng: np.random.Generator, z_person: FloatArray) -> IntArray:
    """Draw single-year ages, one decile-specific distribution per distinct z."""
    ages = np.empty(z_person.size, dtype=np.int64)
    for z in np.unique(z_person):
        rows = np.flatnonzero(z_person == z)
        ages[rows] = rng.choice(config.MAX_AGE + 1, size=rows.size, p=age_probabilities(float(z)))
    return ages


def _ethnicity(rng: np.random.Generator, z: FloatArray) -> StrArray:
    """NHS ethnic category per row, more diverse in deprived areas."""
    codes = np.array([c for c, _, _ in config.ETHNIC_CATEGORIES])
    base = np.array([p for _, _, p in config.ETHNIC_CATEGORIES])
    out = np.empty(z.size, dtype="<U1")
    for value in np.unique(z):
        rows = np.flatnonzero(z == value)
        weights = base * np.where(codes == "A", 1.0, 2.0**value)
        out[rows] = codes[rng.choice(codes.size, size=rows.size, p=weights / weights.sum())]
    return out


def _households(rng: np.random.Generator, lsoa: IntArray, age: IntArray) -> IntArray:
    """Group people into households: children with adults of parenting age, elders together."""
    stratum = np.where(age >= 65, 2, np.where((age < 18) | ((age >= 25) & (age <= 55)), 0, 1))
    key = np.where(age < 18, age + 28, age) + rng.normal(0, 4, size=age.size)
    order = np.lexsort((key, stratum, lsoa))
    mean_size = np.array([3.1, 1.7, 1.55])[stratum[order]]
    brk = rng.random(age.size) < 1 / mean_size
    group_change = np.r_[True, (np.diff(lsoa[order]) != 0) | (np.diff(stratum[order]) != 0)]
    brk = brk | group_change
    hh_sorted = np.cumsum(brk) - 1
    # A household of children only joins the household before it.
    has_adult = np.zeros(hh_sorted[-1] + 1, dtype=bool)
    np.logical_or.at(has_adult, hh_sorted, age[order] >= 18)
    lonely_start = brk & ~has_adult[hh_sorted] & ~group_change
    brk = brk & ~lonely_start
    hh_sorted = np.cumsum(brk) - 1
    household = np.empty(age.size, dtype=np.int64)
    household[order] = hh_sorted
    return household


def _rank_within(groups: IntArray) -> IntArray:
    """0-based position of each row within its group (groups need not be sorted)."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_groups)) + 1]
    counts = np.diff(np.r_[starts, groups.size])
    rank = np.empty(groups.size, dtype=np.int64)
    rank[order] = np.arange(groups.size) - np.repeat(starts, counts)
    return rank


def _addresses(
    rng: np.random.Generator, geo: Geography, hh_lsoa: IntArray
) -> tuple[IntArray, IntArray]:
    """A postcode in the household's LSOA and a house number unique within it."""
    per_lsoa = np.bincount(geo.postcode_lsoa, minlength=geo.lsoa_code.size)
    first = np.r_[0, np.cumsum(per_lsoa)[:-1]]
    postcode = first[hh_lsoa] + (rng.random(hh_lsoa.size) * per_lsoa[hh_lsoa]).astype(np.int64)
    number = 1 + 2 * _rank_within(postcode) + rng.integers(0, 2, size=postcode.size)
    return postcode, number


def _practices(
    rng: np.random.Generator, geo: Geography, orgs: Organisations, hh_lsoa: IntArray
) -> IntArray:
    """Register each household with its LSOA's nearest practice (70%), next (20%) or any."""
    dy = (geo.lat[:, None] - orgs.practice_lat[None, :]) * config.KM_PER_DEG_LAT
    dx = (geo.lon[:, None] - orgs.practice_lon[None, :]) * config.KM_PER_DEG_LON
    nearest = np.argsort(np.hypot(dx, dy), axis=1, kind="stable")
    u = rng.random(hh_lsoa.size)
    anywhere = rng.integers(0, orgs.practice_code.size, size=hh_lsoa.size)
    second = nearest[:, min(1, nearest.shape[1] - 1)]
    return np.where(u < 0.7, nearest[hh_lsoa, 0], np.where(u < 0.9, second[hh_lsoa], anywhere))


def _births(
    rng: np.random.Generator, people: int, sex: StrArray, age: IntArray
) -> tuple[IntArray, DateArray]:
    """Mothers (row indices) and birth dates for babies born during the window."""
    n_births = rng.poisson(config.CRUDE_BIRTH_RATE * people * config.YEARS)
    candidates = np.flatnonzero((sex == "F") & (age >= 18) & (age <= 42))
    weight = np.exp(-0.5 * ((age[candidates] - 31) / 6.0) ** 2)
    mothers = rng.choice(candidates, size=n_births, p=weight / weight.sum())
    days = int((END - START) / DAY) + 1
    born = START + rng.integers(0, days, size=n_births) * DAY
    return np.sort(mothers), born


def _moves(rng: np.random.Generator, n_households: int) -> DateArray:
    """The date each household moves, or NaT."""
    moved = rng.random(n_households) < config.MOVE_SHARE
    days = int((END - START) / DAY)
    when = START + rng.integers(30, days, size=n_households) * DAY
    return np.where(moved, when, np.datetime64("NaT", "D"))


def build_persons(
    people: int, geo: Geography, orgs: Organisations, rng: np.random.Generator
) -> Persons:
    """Draw the residents of the borough and the babies born to them."""
    lsoa = rng.choice(geo.lsoa_code.size, size=people, p=geo.weight / geo.weight.sum())
    z = deprivation_z(geo.imd_decile[lsoa])
    age = _ages(rng, z)
    sex = np.where(rng.random(people) < male_probability(age), "M", "F")
    dob = START - (age * 365.25 + rng.integers(0, 365, size=people)).astype(np.int64) * DAY
    household = _households(rng, lsoa, age)
    n_hh = int(household.max()) + 1
    hh_lsoa = np.zeros(n_hh, dtype=np.int64)
    hh_lsoa[household] = lsoa
    hh_eth = _ethnicity(rng, deprivation_z(geo.imd_decile[hh_lsoa]))
    own_eth = _ethnicity(rng, z)
    ethnicity = np.where(rng.random(people) < 0.9, hh_eth[household], own_eth)

    mothers, born = _births(rng, people, sex, age)
    n_babies = mothers.size
    rows = np.r_[np.arange(people), mothers]
    sex_all = np.r_[sex, np.where(rng.random(n_babies) < 0.512, "M", "F")]
    dob_all = np.r_[dob, born]
    household_all = household[rows]
    ethnicity_all = ethnicity[rows]
    culture_hh = names.culture_of_ethnicity(hh_eth)
    hh_surname = names.pick(rng, "S", culture_hh)
    culture = names.culture_of_ethnicity(ethnicity_all)
    own_surname = names.pick(rng, "S", culture)
    family = np.where(rng.random(rows.size) < 0.85, hh_surname[household_all], own_surname)
    family[people:] = family[mothers]
    given = np.where(sex_all == "M", names.pick(rng, "M", culture), names.pick(rng, "F", culture))
    age_all = np.r_[age, np.zeros(n_babies, dtype=np.int64)]
    married_woman = (sex_all == "F") & (age_all >= 22) & (age_all <= 50)
    changed = married_woman & (rng.random(rows.size) < config.SURNAME_CHANGE_SHARE)
    former = np.where(changed, own_surname, "")
    former = np.where(former == family, names.pick(rng, "S", culture), former)

    hh_postcode, hh_number = _addresses(rng, geo, hh_lsoa)
    moved_on = _moves(rng, n_hh)
    new_postcode, new_number = _addresses(rng, geo, hh_lsoa)
    hh_practice = _practices(rng, geo, orgs, hh_lsoa)
    return Persons(
        sex=sex_all,
        dob=dob_all,
        entry=np.r_[np.full(people, START), born],
        lsoa=lsoa[rows],
        household=household_all,
        postcode=hh_postcode[household_all],
        house_number=hh_number[household_all],
        moved_on=moved_on[household_all],
        new_postcode=new_postcode[household_all],
        new_house_number=new_number[household_all] + 500,
        ethnicity=ethnicity_all,
        given=given,
        family=family,
        former_family=former,
        practice=hh_practice[household_all],
        nhs_number=nhs_numbers(rng, rows.size),
    )


def age_on(persons: Persons, when: DateArray | np.datetime64) -> IntArray:
    """Completed years of age on a date (or one date per person)."""
    dob = persons.dob.astype("datetime64[D]")
    years = dob.astype("datetime64[Y]").astype(np.int64) + 1970
    when_arr = np.broadcast_to(np.asarray(when, dtype="datetime64[D]"), dob.shape)
    when_years = when_arr.astype("datetime64[Y]").astype(np.int64) + 1970
    birthday_passed = _month_day(when_arr) >= _month_day(dob)
    return when_years - years - np.where(birthday_passed, 0, 1)


def _month_day(dates: DateArray) -> IntArray:
    """Month*100 + day, for comparing anniversaries."""
    months = dates.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    out: IntArray = month * 100 + day
    return out

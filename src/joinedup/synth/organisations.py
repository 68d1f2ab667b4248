"""The partnership's organisations: practices, hospital and wards, care homes and more.

Codes are shaped like ODS codes (practices letter+5 digits, trusts 3 characters,
sites 5, care homes V+4) but use a 'Z'/'9' pattern no real organisation holds.

It must never use a real organisation's code or name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from joinedup.synth import config
from joinedup.synth.geography import Geography

ACUTE_TRUST = ("RZ9", "Stockport-like NHS Foundation Trust", "NHS trust")
HOSPITAL_SITE = ("RZ901", "Stepping Stones Hospital", "hospital site")
COMMUNITY = ("RZ8", "Borough Community Health Services", "community services provider")
MENTAL_HEALTH = ("RZ7", "Pennine Valleys Mental Health NHS Trust", "mental health trust")
COUNCIL = ("LA901", "Borough Council", "local authority")
ADULT_SOCIAL_CARE = ("LA901A", "Borough Council Adult Social Care", "adult social care")
CHILDREN_SOCIAL_CARE = ("LA901C", "Borough Council Children's Services", "children's social care")
HOSPICE = ("8Z901", "Goyt Valley Hospice", "hospice")
OUT_OF_HOURS = ("NZ902", "Borough Out of Hours GP Service", "out-of-hours GP service")
GP_FEDERATION = ("Z8F01", "Borough GP Federation", "GP federation")
SINGLE_ORGS = (
    ACUTE_TRUST,
    HOSPITAL_SITE,
    COMMUNITY,
    MENTAL_HEALTH,
    COUNCIL,
    ADULT_SOCIAL_CARE,
    CHILDREN_SOCIAL_CARE,
    HOSPICE,
    OUT_OF_HOURS,
    GP_FEDERATION,
)

WARD_SPECIALTIES = (
    ("AMU", "Acute Medical Unit", "general"),
    ("EC", "Elderly Care", "elderly"),
    ("GM", "General Medicine", "general"),
    ("RS", "Respiratory", "general"),
    ("CA", "Cardiology", "general"),
    ("SU", "Stroke Unit", "elderly"),
    ("OR", "Trauma & Orthopaedics", "general"),
    ("GS", "General Surgery", "general"),
)
PAEDIATRIC_WARD = ("PA", "Paediatrics", "children")

_PRACTICE_WORDS = (
    "Heaton",
    "Mersey",
    "Vale",
    "Brook",
    "Castle",
    "Park",
    "Bridge",
    "Hollow",
    "Moor",
    "Grange",
    "Station",
    "Chapel",
    "Meadow",
    "Kingsway",
    "Bramble",
    "Cherry",
    "Lark",
    "Willow",
    "Oak",
    "Priory",
    "Alder",
    "Ridge",
    "Beacon",
    "Valley",
)
_PRACTICE_KINDS = ("Medical Practice", "Surgery", "Health Centre", "Family Practice")
_HOME_WORDS = (
    "Oakwood",
    "Beechfield",
    "Rosemount",
    "Hollybank",
    "Ashlea",
    "Meadowcroft",
    "Elmhurst",
    "Brookside",
    "Larkfield",
    "Willowmere",
    "Greenacres",
    "Heathfield",
    "Fairview",
    "Cherry Tree",
    "Laurel Bank",
    "Hazelmere",
    "Rowan",
    "Maple Court",
    "Kingsley",
    "Parkside",
)
_HOME_KINDS = ("House", "Lodge", "Court", "Manor", "Grange", "Care Home", "Nursing Home")
_VOLUNTARY = (
    "Age Well",
    "Carers Centre",
    "Food Bank",
    "Befriending Scheme",
    "Men's Shed",
    "Dementia Friends",
    "Citizens Advice",
    "Mind",
    "Home-Start",
    "Walking Group",
    "Lunch Club",
    "Young Carers",
    "Sight Support",
    "Deaf Centre",
    "Hospice at Home Volunteers",
    "Wellbeing Café",
    "Community Transport",
    "Good Neighbours",
    "Credit Union",
    "Sports Club",
)


@dataclass(frozen=True)
class Organisations:
    """Practices, wards, care homes and voluntary organisations, plus the single orgs."""

    practice_code: npt.NDArray[np.str_]
    practice_name: npt.NDArray[np.str_]
    practice_lsoa: npt.NDArray[np.int64]
    practice_lat: npt.NDArray[np.float64]
    practice_lon: npt.NDArray[np.float64]
    ward_code: npt.NDArray[np.str_]
    ward_name: npt.NDArray[np.str_]
    ward_kind: npt.NDArray[np.str_]
    ward_beds: npt.NDArray[np.int64]
    home_code: npt.NDArray[np.str_]
    home_cqc: npt.NDArray[np.str_]
    home_name: npt.NDArray[np.str_]
    home_nursing: npt.NDArray[np.bool_]
    home_beds: npt.NDArray[np.int64]
    home_lsoa: npt.NDArray[np.int64]
    home_postcode: npt.NDArray[np.int64]
    voluntary_code: npt.NDArray[np.str_]
    voluntary_name: npt.NDArray[np.str_]
    voluntary_lsoa: npt.NDArray[np.int64]


def _place(rng: np.random.Generator, geo: Geography, count: int) -> npt.NDArray[np.int64]:
    """LSOAs for `count` sites: one per neighbourhood first, the rest by population."""
    n_nb = len(config.NEIGHBOURHOODS)
    first = [int(rng.choice(np.flatnonzero(geo.neighbourhood == nb))) for nb in range(n_nb)]
    rest = rng.choice(
        geo.lsoa_code.size, size=max(0, count - n_nb), p=geo.weight / geo.weight.sum()
    )
    out: npt.NDArray[np.int64] = np.r_[np.array(first[:count], dtype=np.int64), rest]
    return out


def _names(
    rng: np.random.Generator, words: tuple[str, ...], kinds: tuple[str, ...], count: int
) -> npt.NDArray[np.str_]:
    """Distinct-looking names 'Word Kind', numbered if the pool repeats."""
    w = np.array(words)[rng.integers(0, len(words), size=count)]
    k = np.array(kinds)[rng.integers(0, len(kinds), size=count)]
    name = np.strings.add(np.strings.add(w, " "), k)
    _, first, inverse = np.unique(name, return_index=True, return_inverse=True)
    duplicate = np.arange(count) != first[inverse]
    return np.where(
        duplicate, np.strings.add(name, np.strings.add(" ", np.arange(count).astype(np.str_))), name
    )


def _wards(people: int) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.str_], npt.NDArray[np.str_]]:
    """Ward codes, names and kinds: the specialties repeated to the scaled ward count."""
    count = config.scaled_count("wards", people) - 1
    rows = [WARD_SPECIALTIES[i % len(WARD_SPECIALTIES)] for i in range(count)]
    rows.append(PAEDIATRIC_WARD)
    codes = [f"{code}{i // len(WARD_SPECIALTIES) + 1}" for i, (code, _, _) in enumerate(rows)]
    labels = [f"{name} {i // len(WARD_SPECIALTIES) + 1}" for i, (_, name, _) in enumerate(rows)]
    return np.array(codes), np.array(labels), np.array([kind for _, _, kind in rows])


def build_organisations(people: int, geo: Geography, rng: np.random.Generator) -> Organisations:
    """Place practices, care homes and voluntary groups; size the hospital's wards."""
    n_pr = config.scaled_count("practices", people)
    pr_lsoa = _place(rng, geo, n_pr)
    n_home = config.scaled_count("care_homes", people)
    home_lsoa = _place(rng, geo, n_home)
    per_lsoa = np.bincount(geo.postcode_lsoa, minlength=geo.lsoa_code.size)
    first = np.r_[0, np.cumsum(per_lsoa)[:-1]]
    home_pc = first[home_lsoa] + rng.integers(0, per_lsoa[home_lsoa])
    n_vol = config.scaled_count("voluntary_orgs", people)
    ward_code, ward_name, ward_kind = _wards(people)
    return Organisations(
        practice_code=np.strings.add("Z8", (8001 + np.arange(n_pr)).astype(np.str_)),
        practice_name=_names(rng, _PRACTICE_WORDS, _PRACTICE_KINDS, n_pr),
        practice_lsoa=pr_lsoa,
        practice_lat=geo.lat[pr_lsoa],
        practice_lon=geo.lon[pr_lsoa],
        ward_code=ward_code,
        ward_name=ward_name,
        ward_kind=ward_kind,
        ward_beds=np.full(ward_code.size, 28, dtype=np.int64),
        home_code=np.strings.add("VZ", np.char.zfill((np.arange(n_home) + 1).astype(np.str_), 3)),
        home_cqc=np.strings.add(
            "1-9", rng.choice(10**9, size=n_home, replace=False).astype(np.str_)
        ),
        home_name=_names(rng, _HOME_WORDS, _HOME_KINDS, n_home),
        home_nursing=rng.random(n_home) < config.NURSING_HOME_SHARE,
        home_beds=np.clip(rng.normal(config.CARE_HOME_BEDS_MEAN, 14, n_home), 10, 110).astype(
            np.int64
        ),
        home_lsoa=home_lsoa,
        home_postcode=home_pc,
        voluntary_code=np.strings.add("8Z", (100 + np.arange(n_vol)).astype(np.str_)),
        voluntary_name=np.array(
            [
                f"Borough {_VOLUNTARY[i % len(_VOLUNTARY)]}"
                + (f" {i // len(_VOLUNTARY) + 1}" if i >= len(_VOLUNTARY) else "")
                for i in range(n_vol)
            ]
        ),
        voluntary_lsoa=rng.integers(0, geo.lsoa_code.size, size=n_vol),
    )

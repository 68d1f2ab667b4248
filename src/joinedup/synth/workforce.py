"""The partnership's workforce baseline: staff in post and the funded establishment.

About 12,000 staff in post, and those who left in the two years before the extract,
across the acute trust, community services, mental health trust, GP practices, council
social care, hospice and care homes, by staff group, role, band, contract, WTE and
demographics; and per organisation and staff group the funded WTE, so the workforce
module can show gaps (vacancies) and turnover.

It must never describe a real member of staff: names are not generated at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from joinedup.synth import config
from joinedup.synth.formats import FileSpec, Ledger
from joinedup.synth.organisations import (
    ACUTE_TRUST,
    ADULT_SOCIAL_CARE,
    CHILDREN_SOCIAL_CARE,
    COMMUNITY,
    HOSPICE,
    MENTAL_HEALTH,
    Organisations,
)

# (organisation share of staff, {staff group: share})
ORG_MIX = (
    (
        ACUTE_TRUST[0],
        0.46,
        {
            "Medical and dental": 0.12,
            "Nursing and midwifery": 0.33,
            "Allied health professionals": 0.08,
            "Scientific and technical": 0.07,
            "Support to clinical staff": 0.18,
            "Administrative and clerical": 0.17,
            "Estates and ancillary": 0.05,
        },
    ),
    (
        COMMUNITY[0],
        0.08,
        {
            "Nursing and midwifery": 0.5,
            "Allied health professionals": 0.25,
            "Support to clinical staff": 0.15,
            "Administrative and clerical": 0.1,
        },
    ),
    (
        MENTAL_HEALTH[0],
        0.06,
        {
            "Medical and dental": 0.08,
            "Nursing and midwifery": 0.4,
            "Allied health professionals": 0.1,
            "Scientific and technical": 0.12,
            "Support to clinical staff": 0.18,
            "Administrative and clerical": 0.12,
        },
    ),
    (
        "GP",
        0.08,
        {
            "Medical and dental": 0.3,
            "Nursing and midwifery": 0.15,
            "Direct patient care": 0.15,
            "Administrative and clerical": 0.4,
        },
    ),
    (
        ADULT_SOCIAL_CARE[0],
        0.08,
        {
            "Social work": 0.25,
            "Occupational therapy": 0.1,
            "Care and support": 0.45,
            "Administrative and clerical": 0.2,
        },
    ),
    (
        CHILDREN_SOCIAL_CARE[0],
        0.04,
        {"Social work": 0.55, "Family support": 0.25, "Administrative and clerical": 0.2},
    ),
    (
        HOSPICE[0],
        0.02,
        {
            "Medical and dental": 0.08,
            "Nursing and midwifery": 0.45,
            "Support to clinical staff": 0.25,
            "Administrative and clerical": 0.22,
        },
    ),
    (
        "CARE_HOME",
        0.18,
        {"Care and support": 0.75, "Nursing and midwifery": 0.1, "Estates and ancillary": 0.15},
    ),
)
ROLES = {
    "Medical and dental": (
        "Consultant",
        "Specialty doctor",
        "Resident doctor",
        "GP partner",
        "Salaried GP",
    ),
    "Nursing and midwifery": (
        "Registered nurse",
        "Ward sister",
        "District nurse",
        "Advanced nurse practitioner",
        "Midwife",
    ),
    "Allied health professionals": (
        "Physiotherapist",
        "Occupational therapist",
        "Speech and language therapist",
        "Dietitian",
    ),
    "Scientific and technical": (
        "Pharmacist",
        "Biomedical scientist",
        "Psychologist",
        "Radiographer",
    ),
    "Support to clinical staff": ("Healthcare assistant", "Nursing associate", "Therapy assistant"),
    "Administrative and clerical": (
        "Receptionist",
        "Medical secretary",
        "Manager",
        "Data analyst",
        "Care coordinator",
    ),
    "Estates and ancillary": ("Porter", "Domestic", "Catering assistant", "Maintenance technician"),
    "Direct patient care": (
        "Clinical pharmacist",
        "Social prescribing link worker",
        "Physician associate",
        "Care coordinator",
    ),
    "Social work": ("Social worker", "Senior social worker", "Team manager"),
    "Occupational therapy": ("Occupational therapist", "OT assistant"),
    "Care and support": ("Care worker", "Senior care worker", "Reablement worker"),
    "Family support": ("Family support worker", "Early help practitioner"),
}
VACANCY_RATE = {
    "Nursing and midwifery": 0.09,
    "Medical and dental": 0.07,
    "Care and support": 0.11,
    "Social work": 0.12,
}
"""Assumed vacancy rates (NHS England vacancy statistics 2024: nursing ~8%; Skills
for Care 2023/24: care workers ~10%); others 5%."""


LEAVER_RATE = {"Care and support": 0.26, "Social work": 0.15, "Family support": 0.15}
"""Leavers a year as a share of staff in post (NHS England's leaver rate is about 11% a
year, the assumed rate for every other group; Skills for Care 2023/24: care workers about
26%; local authority social workers about 15%)."""
LEAVER_YEARS = 2
"""How far back the extract reaches for leavers (two years, so a year-on-year turnover
comparison has data)."""
EXTRACT_DATE = np.datetime64("2026-03-31")


def _leavers(rng: np.random.Generator, group: npt.NDArray[np.str_]) -> npt.NDArray[np.int64]:
    """For each leaver, the in-post row whose post they left (same organisation, group and
    role): a post's holder is replaced, so establishment and staff in post stay as drawn."""
    rate = np.array([LEAVER_RATE.get(g, 0.11) for g in group.tolist()])
    return np.flatnonzero(rng.random(group.size) < rate * LEAVER_YEARS)


def write_workforce(
    ledger: Ledger, orgs: Organisations, people: int, rng: np.random.Generator
) -> None:
    """Staff in post, leavers of the last two years, and the establishment by organisation
    and staff group."""
    total = config.scaled_count("staff", people)
    org_share = np.array([share for _, share, _ in ORG_MIX])
    per_org = rng.multinomial(total, org_share / org_share.sum())
    columns: dict[str, list[npt.NDArray[Any]]] = {k: [] for k in ("org", "group", "role")}
    est_rows: list[tuple[str, str, float]] = []
    for (org_code, _, groups), n in zip(ORG_MIX, per_org.tolist(), strict=True):
        names = list(groups)
        shares = np.array(list(groups.values()))
        group = np.array(names)[rng.choice(len(names), size=n, p=shares / shares.sum())]
        codes = _org_codes(rng, org_code, orgs, n)
        role = np.empty(n, dtype="<U40")
        for g in names:
            rows = np.flatnonzero(group == g)
            role[rows] = np.array(ROLES[g])[rng.integers(0, len(ROLES[g]), size=rows.size)]
            est_rows.append((org_code, g, float(rows.size)))
        columns["org"].append(codes)
        columns["group"].append(group)
        columns["role"].append(role)
    posts = np.concatenate(columns["group"])
    holders = np.concatenate([np.arange(posts.size), _leavers(rng, posts)])
    org = np.concatenate(columns["org"])[holders]
    group = posts[holders]
    role = np.concatenate(columns["role"])[holders]
    n = org.size
    left = np.arange(n) >= posts.size
    leaving = EXTRACT_DATE - rng.integers(0, 365 * LEAVER_YEARS, n).astype("timedelta64[D]")
    start = np.where(
        left,
        leaving - (1 + rng.exponential(4 * 365, n)).astype("timedelta64[D]"),
        EXTRACT_DATE - (rng.exponential(7 * 365, n)).astype("timedelta64[D]"),
    )
    wte = np.where(rng.random(n) < 0.68, 1.0, np.round(rng.uniform(0.2, 0.9, n), 2))
    age = np.clip(rng.normal(43, 11, n), 18, 70).astype(np.int64)
    ledger.write_csv(
        "workforce/staff.csv",
        {
            "staff_id": np.strings.add("S", (100_000 + np.arange(n)).astype(np.str_)),
            "organisation_code": org,
            "staff_group": group,
            "role": role,
            "band": _bands(rng, group, role),
            "contract": np.array(["Permanent", "Fixed term", "Bank", "Agency"])[
                rng.choice(4, size=n, p=[0.82, 0.07, 0.08, 0.03])
            ],
            "wte": wte,
            "start_date": start.astype("datetime64[D]"),
            "leaving_date": np.where(left, leaving.astype("datetime64[D]").astype(np.str_), ""),
            "age_band": np.array(["16-24", "25-34", "35-44", "45-54", "55-64", "65+"])[
                np.digitize(age, [25, 35, 45, 55, 65])
            ],
            "sex": np.where(
                rng.random(n)
                < np.where(
                    np.isin(group, ("Medical and dental", "Estates and ancillary")), 0.5, 0.8
                ),
                "F",
                "M",
            ),
            "ethnic_group": np.array(["White", "Asian", "Black", "Mixed", "Other", "Not stated"])[
                rng.choice(6, size=n, p=[0.78, 0.1, 0.05, 0.02, 0.02, 0.03])
            ],
            "disability": np.where(
                rng.random(n) < 0.05, "Yes", np.where(rng.random(n) < 0.1, "Not declared", "No")
            ),
            "neighbourhood": np.array(config.NEIGHBOURHOODS)[
                rng.integers(0, len(config.NEIGHBOURHOODS), n)
            ],
        },
        rng,
        FileSpec(("start_date",), ("staff_group",), "Unknown"),
    )
    est_org = np.array([o for o, _, _ in est_rows])
    est_group = np.array([g for _, g, _ in est_rows])
    in_post = np.array([w for _, _, w in est_rows]) * float(wte.mean())
    vacancy = np.array([VACANCY_RATE.get(g, 0.05) for g in est_group])
    ledger.write_csv(
        "workforce/establishment.csv",
        {
            "organisation": est_org,
            "staff_group": est_group,
            "funded_wte": np.round(in_post / (1 - vacancy), 1),
            "in_post_wte": np.round(in_post, 1),
        },
        rng,
        FileSpec(malform=False),
    )


def _org_codes(rng: np.random.Generator, org: str, orgs: Organisations, n: int) -> npt.NDArray[Any]:
    """Individual practice or care home codes for the pooled sectors."""
    if org == "GP":
        return orgs.practice_code[rng.integers(0, orgs.practice_code.size, n)]
    if org == "CARE_HOME":
        return orgs.home_code[rng.integers(0, orgs.home_code.size, n)]
    return np.full(n, org)


def _bands(
    rng: np.random.Generator, group: npt.NDArray[Any], role: npt.NDArray[Any]
) -> npt.NDArray[Any]:
    """Agenda for Change band (NHS), or a grade label for doctors and council staff."""
    bands = np.array(["Band 2", "Band 3", "Band 4", "Band 5", "Band 6", "Band 7", "Band 8a"])
    agenda = bands[np.clip(rng.poisson(2.4, group.size), 0, 6)]
    band = np.where(
        group == "Medical and dental",
        np.where(
            np.isin(role, ("Consultant", "GP partner")), "Consultant/Partner", "Medical grade"
        ),
        agenda,
    )
    return np.where(
        np.isin(
            group, ("Social work", "Care and support", "Family support", "Occupational therapy")
        ),
        np.array(["Grade 5", "Grade 6", "Grade 7", "Grade 8"])[rng.integers(0, 4, group.size)],
        band,
    )

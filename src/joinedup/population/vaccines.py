"""The vaccine programmes whose uptake the partnership tracks, as data.

Each programme names the SNOMED CT vaccination procedure codes that count as a dose,
who is eligible and when. The code lists are deliberately short: the procedure codes
GP systems record for these programmes (UK Core vaccination procedure). Add codes here
when a practice system records another; nothing else changes.

Definitions (as UKHSA and the COVER programme publish them, simplified to what the
record holds):

* flu 65+: people alive and registered at the end of the season, aged 65 or over then,
  vaccinated between 1 September and 31 March;
* COVID-19 autumn booster: the same for people aged 75 or over (the autumn 2024 and
  2025 eligibility; care home residents under 75 are not identifiable in the warehouse,
  so they are not counted);
* MMR: children aged 2 with at least one dose recorded (COVER's "MMR1 at 24 months"),
  and children aged 5 with two doses (COVER's "MMR2 at 5 years").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

FLU_CODES: Final = ("822851000000102",)  # seasonal influenza vaccination
COVID_CODES: Final = (
    "1362591000000103",  # booster dose of SARS-CoV-2 vaccine
    "1324681000000101",  # first dose of SARS-CoV-2 vaccine
    "1324691000000104",  # second dose of SARS-CoV-2 vaccine
)
MMR_CODES: Final = ("38598009", "170433008")  # MMR, and the second dose of MMR


@dataclass(frozen=True)
class Programme:
    key: str
    name: str
    kind: Literal["seasonal", "childhood"]
    codes: tuple[str, ...]
    min_age: int = 0  # seasonal: eligible at or over this age
    age: int = 0  # childhood: children of exactly this age
    doses: int = 1
    definition: str = ""


PROGRAMMES: Final = (
    Programme(
        "flu65",
        "Flu vaccine, people aged 65 and over",
        "seasonal",
        FLU_CODES,
        min_age=65,
        definition="People aged 65 or over, alive at the end of the season, vaccinated "
        "between 1 September and 31 March.",
    ),
    Programme(
        "covid75",
        "COVID-19 autumn booster, people aged 75 and over",
        "seasonal",
        COVID_CODES,
        min_age=75,
        definition="People aged 75 or over, alive at the end of the season, given a COVID-19 "
        "vaccine dose between 1 September and 31 March.",
    ),
    Programme(
        "mmr1_2y",
        "MMR first dose, children aged 2",
        "childhood",
        MMR_CODES,
        age=2,
        doses=1,
        definition="Children aged 2 with at least one MMR dose recorded.",
    ),
    Programme(
        "mmr2_5y",
        "MMR two doses, children aged 5",
        "childhood",
        MMR_CODES,
        age=5,
        doses=2,
        definition="Children aged 5 with two MMR doses recorded on different days.",
    ),
)

BY_KEY: Final = {p.key: p for p in PROGRAMMES}


def code_rows() -> list[tuple[str, str]]:
    """(programme, code) rows for the warehouse's ``vaccine_codes`` table."""
    return [(p.key, code) for p in PROGRAMMES for code in p.codes]


def latest_season(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """[1 September, 1 April) of the latest season that has ended by `as_of`."""
    end_year = as_of.year if as_of >= dt.date(as_of.year, 4, 1) else as_of.year - 1
    return dt.date(end_year - 1, 9, 1), dt.date(end_year, 4, 1)

"""Every assumption behind the synthetic borough, as typed and sourced constants.

This module is the one place a reader goes to ask "why does the borough look like
this?". Figures marked *target* are what the generator is tuned to reproduce; the
sources are public statistics (ONS, OHID Fingertips, NHS England), quoted as facts
about a Stockport-like English borough, rounded. Figures marked *assumed* are
modelling choices with no single published source.

It must never hold code that draws random numbers or reads files: constants only,
plus tiny pure helpers that derive a constant from others.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

# --- Size and time --------------------------------------------------------------------

DEFAULT_PEOPLE: Final = 295_000
"""Residents at the start of the window (ONS mid-2021 estimate for Stockport: 294,800)."""
MIN_PEOPLE: Final = 1_000
MAX_PEOPLE: Final = 3_000_000

WINDOW_START: Final = dt.date(2021, 4, 1)
"""First day of the five years of history (financial years 2021/22 to 2025/26)."""
WINDOW_END: Final = dt.date(2026, 3, 31)
"""Last day of history, inclusive."""
EXTRACT_DATE: Final = dt.date(2026, 4, 1)
"""The day every source system 'ran' its extract."""
YEARS: Final = 5

# --- Geography ------------------------------------------------------------------------

LSOAS_AT_DEFAULT: Final = 190
"""LSOAs in the borough at 295,000 people (Stockport has 191 LSOAs, 2021 census)."""
MIN_LSOAS: Final = 20
"""Below this, not every IMD decile could be represented."""

LSOAS_PER_DECILE: Final = (16, 12, 12, 14, 14, 16, 20, 24, 28, 34)
"""Share of LSOAs in IMD deciles 1..10 (assumed from Stockport's IMD 2019 profile:
a deprived cluster of about 16 LSOAs in the national most-deprived decile, and a
large affluent majority). Scaled to the actual LSOA count."""

NEIGHBOURHOODS: Final = (
    "Stockport Central",
    "Heatons & Reddish",
    "Tame Valley",
    "Werneth & Bredbury",
    "Marple & High Lane",
    "Hazel Grove & Bramhall",
    "Cheadle Hulme & Bramhall West",
    "Cheadle & Gatley",
)
"""Eight neighbourhoods (synthetic names in the style of Stockport's places)."""

POSTCODE_DISTRICTS: Final = ("SK1", "SK4", "SK5", "SK6", "SK6", "SK7", "SK8", "SK8")
"""Postcode district per neighbourhood (same order as NEIGHBOURHOODS)."""

CENTRE_LAT: Final = 53.4083
CENTRE_LON: Final = -2.1494
"""Borough centre (Stockport town centre)."""
EXTENT_KM: Final = 13.0
"""Side of the square the LSOA grid is laid on."""
KM_PER_DEG_LAT: Final = 111.2
KM_PER_DEG_LON: Final = 66.3
"""At 53.4 degrees north."""

HOUSEHOLDS_PER_POSTCODE: Final = 16
"""Assumed: a unit postcode covers about 15-17 addresses."""

HOUSEHOLD_SIZE_PROBS: Final = (0.31, 0.34, 0.15, 0.13, 0.05, 0.02)
"""Households of 1..6 people (ONS Census 2021, England, rounded)."""

MOVE_SHARE: Final = 0.08
"""Households that move to a new address during the window (assumed; moves are
to another address in the same LSOA so deprivation stays well defined)."""

# --- Population structure ---------------------------------------------------------------

AGE_BANDS: Final = (
    "0",
    "1-4",
    "5-9",
    "10-14",
    "15-19",
    "20-24",
    "25-29",
    "30-34",
    "35-39",
    "40-44",
    "45-49",
    "50-54",
    "55-59",
    "60-64",
    "65-69",
    "70-74",
    "75-79",
    "80-84",
    "85-89",
    "90+",
)
"""Life-table bands (Chiang II needs the infant band separate)."""

FIVE_YEAR_BANDS: Final = ("0-4", *AGE_BANDS[2:])
"""ONS mid-year estimate bands."""

AGE_SHARE_5Y: Final = (
    5.5,
    6.1,
    6.3,
    5.5,
    4.6,
    5.6,
    6.5,
    6.7,
    6.4,
    6.3,
    7.0,
    7.2,
    6.2,
    5.0,
    5.2,
    3.9,
    2.6,
    1.5,
    0.7,
)
"""Percent of residents in each five-year band at April 2021 (Stockport-like, after ONS
mid-year estimates; 18.9% aged 65+ at the start, ageing to about 20% by mid-2023).
*target*: 65+ ~20% (ONS mid-2022, Stockport 20.4%)."""

MALE_SHARE_5Y: Final = (
    0.512,
    0.512,
    0.512,
    0.512,
    0.505,
    0.495,
    0.492,
    0.490,
    0.490,
    0.490,
    0.490,
    0.488,
    0.485,
    0.480,
    0.470,
    0.455,
    0.430,
    0.380,
    0.290,
)
"""Share male by band (ONS mid-year estimates, England, rounded)."""

MAX_AGE: Final = 104

AGE_DEPRIVATION_TILT: Final = 0.35
"""Assumed: deprived areas are younger. Weight of band b in decile d is multiplied by
exp(tilt * z_d * y_b) where z_d runs from +1 (decile 1) to -1 (decile 10) and y_b is
+1 for children, 0 at 45 and -1 for 85+."""

CRUDE_BIRTH_RATE: Final = 0.0105
"""Births per resident per year (ONS births 2021-23, Stockport ~3,100 a year)."""

ETHNIC_CATEGORIES: Final = (
    ("A", "White - British", 84.5),
    ("B", "White - Irish", 1.0),
    ("C", "White - Any other White background", 3.5),
    ("D", "Mixed - White and Black Caribbean", 0.6),
    ("E", "Mixed - White and Black African", 0.3),
    ("F", "Mixed - White and Asian", 0.9),
    ("G", "Mixed - Any other mixed background", 0.6),
    ("H", "Asian or Asian British - Indian", 1.5),
    ("J", "Asian or Asian British - Pakistani", 2.6),
    ("K", "Asian or Asian British - Bangladeshi", 0.3),
    ("L", "Asian or Asian British - Any other Asian background", 1.2),
    ("M", "Black or Black British - Caribbean", 0.3),
    ("N", "Black or Black British - African", 0.8),
    ("P", "Black or Black British - Any other Black background", 0.1),
    ("R", "Other Ethnic Groups - Chinese", 0.8),
    ("S", "Other Ethnic Groups - Any other ethnic group", 1.1),
)
"""NHS Data Dictionary ethnic category codes with Stockport-like percentages (ONS
Census 2021: 88.9% White, 6.5% Asian). Non-White-British shares are doubled in decile 1
and halved in decile 10 before renormalising (assumed)."""

ETHNICITY_NOT_STATED_SHARE: Final = 0.03
"""GP records with ethnicity 'Z - Not stated' (assumed)."""

# --- Mortality --------------------------------------------------------------------------

LE_TARGET: Final = {"M": 79.0, "F": 83.0}
"""*target*: borough life expectancy at birth (OHID Fingertips, Stockport 2020-22:
men 78.9, women 82.6)."""
LE_GAP_TARGET: Final = {"M": 10.0, "F": 8.0}
"""*target*: gap between IMD decile 1 and decile 10 (Stockport JSNA: about 10 years
for men and 8 for women between the most and least deprived areas)."""

LE_CALIBRATION: Final = {"M": 78.7, "F": 82.65}
LE_GAP_CALIBRATION: Final = {"M": 10.6, "F": 8.0}
"""What the mortality model is calibrated to. The generated data come out about 0.3
years above the borough figure and about 0.6 years below the men's gap, because frail
people die first and the population ages during the window (measured over seeds
1-3 at 295,000 people); calibrating here makes the data show LE_TARGET and
LE_GAP_TARGET."""

GOMPERTZ_SLOPE: Final = {"M": 0.092, "F": 0.100}
"""Assumed rate of ageing of mortality (English life tables 2020-22 fit, ages 40-95)."""
MAKEHAM_CONSTANT: Final = {"M": 0.00025, "F": 0.00015}
"""Age-independent background hazard (accidents, etc.; assumed)."""
INFANT_MORTALITY: Final = {"M": 0.0042, "F": 0.0035}
"""Deaths under one per live birth (ONS child mortality, England 2021-22)."""
CHILD_HAZARD: Final = 0.00010
"""Hazard at ages 1-14 (ONS, England)."""

FRAILTY_HAZARD_EFFECT: Final = 0.35
"""Log-hazard per SD of the latent frailty among people aged 65+ (assumed; mean-one
normalised so it redistributes deaths without changing the calibrated level)."""

# --- Frailty (eFI) ------------------------------------------------------------------------

EFI_DEFICIT_COUNT: Final = 36
EFI_CUTS: Final = (0.12, 0.24, 0.36)
"""fit <= 0.12 < mild <= 0.24 < moderate <= 0.36 < severe (Clegg 2016). We compare the
unrounded score: 13 deficits (0.361) is severe."""
EFI_CATEGORIES: Final = ("fit", "mild", "moderate", "severe")

EFI_PREVALENCE_75: Final = {
    1: 0.06,
    2: 0.14,
    3: 0.38,
    4: 0.10,
    5: 0.09,
    6: 0.16,
    7: 0.17,
    8: 0.12,
    9: 0.10,
    10: 0.13,
    11: 0.10,
    12: 0.07,
    13: 0.17,
    14: 0.05,
    15: 0.05,
    16: 0.04,
    17: 0.50,
    18: 0.08,
    19: 0.14,
    20: 0.08,
    21: 0.07,
    22: 0.09,
    23: 0.03,
    24: 0.06,
    25: 0.04,
    27: 0.06,
    28: 0.20,
    29: 0.05,
    30: 0.10,
    31: 0.10,
    32: 0.11,
    33: 0.10,
    34: 0.14,
    35: 0.22,
    36: 0.05,
}
"""Probability a person aged 75 has ever had the deficit coded (assumed, shaped on
Clegg 2016 Table 2 prevalences). Deficit 26 (polypharmacy) comes from prescribing."""
EFI_AGE_SLOPE: Final = 0.55
"""Log-odds change per decade of age (assumed)."""
EFI_DEPRIVATION_SLOPE: Final = 0.35
"""Log-odds at decile 1 minus decile 10, halved (assumed)."""
EFI_LATENT_SD: Final = 0.95
"""SD of the person-level latent frailty shared across deficits (assumed; it makes
deficits cluster, which is what produces moderate and severe frailty)."""
EFI_INTERCEPT_SHIFT: Final = -0.22
"""Calibration shift so that moderate+severe frailty among 65+ is ~12.5% (*target*:
NHS England eFI distribution, 10-15% of 65+ moderate or severe)."""
EFI_MIN_AGE: Final = 18

POLYPHARMACY_MIN_MEDS: Final = 5
"""eFI deficit 26: >= 5 distinct medications in 12 months (gm-sde, after Clegg)."""

# --- Emergency admissions and discharge -----------------------------------------------

ADMISSIONS_PER_YEAR_AT_DEFAULT: Final = 30_000
"""*target*: emergency admissions per year for 295,000 residents (NHS England HES,
about 100 per 1,000 a year)."""
ADMISSION_AGE_SLOPE: Final = 0.030
"""Log-rate per year of age above 40 (assumed from HES age profile)."""
ADMISSION_DEPRIVATION_RR: Final = 1.8
"""Rate ratio, decile 1 vs decile 10 (OHID Fingertips, emergency admissions)."""
ADMISSION_FRAILTY_EFFECT: Final = 0.45

PATHWAY_SPLIT: Final = (0.50, 0.45, 0.04, 0.01)
"""*target*: discharges on pathways 0/1/2/3 (NHS England, Hospital discharge and
community support guidance, 2022)."""

DELAYED_SHARE_BY_PATHWAY: Final = (0.10, 0.45, 0.70, 0.80)
"""Share of discharges on each pathway that leave after their discharge ready date
(assumed, shaped on NHS England discharge delays publication)."""
DELAY_PATHWAY_FACTOR: Final = (0.35, 1.0, 1.5, 1.9)
"""Relative length of delay by pathway (assumed)."""
MEAN_DELAY_BY_YEAR: Final = (12.5, 11.5, 8.5, 6.0, 4.0)
"""*target*: mean days from discharge ready date to discharge, among delayed
discharges, by financial year (Stockport: around 12 days in 2021-23, about 4 by
2025/26; NHS England discharge delays (acute) publication)."""
DELAY_GAMMA_SHAPE: Final = 1.3
MAX_DELAY_DAYS: Final = 120

IN_HOSPITAL_DEATH_SHARE: Final = 0.44
"""Deaths in hospital (ONS deaths by place of occurrence, England 2022)."""

# --- Immunisation -----------------------------------------------------------------------

UPTAKE_BY_PROGRAMME: Final = {
    "flu65": (0.60, 0.85),
    "covid": (0.50, 0.78),
    "mmr1": (0.80, 0.95),
    "mmr2": (0.70, 0.90),
}
"""*target*: (decile 1, decile 10) uptake; linear in decile between (UKHSA seasonal
flu and COVID-19 vaccine uptake, COVER programme; OHID Fingertips)."""
UPTAKE_PERSISTENCE: Final = 0.12
"""Year-to-year noise on a person's propensity (smaller = more habitual)."""

# --- Mess -------------------------------------------------------------------------------

MALFORMED_SHARE: Final = 0.002
"""Share of rows in every file deliberately malformed (truncated, impossible date,
unknown code)."""
NHS_MISSING_SHARE: Final = {
    "gp": 0.0,
    "hospital": 0.02,
    "community": 0.05,
    "socialcare_adults": 0.40,
    "socialcare_children": 0.30,
    "hospice": 0.03,
    "deaths": 0.01,
    "citizens": 1.0,
}
"""Identities without an NHS number, by source (*target*: social care ~40%)."""
NHS_WRONG_SHARE: Final = 0.003
"""Identities with a wrong NHS number (half a typo, half someone else's)."""
TYPO_SHARE: Final = 0.02
NICKNAME_SHARE: Final = 0.05
DOB_SWAP_SHARE: Final = 0.01
SURNAME_CHANGE_SHARE: Final = 0.25
"""Of women aged 20-45, the share known by a former surname in a non-GP source."""
STALE_ADDRESS_SHARE: Final = 0.5
"""Of movers, the share a non-GP source still holds at the old address."""

# --- Other services ---------------------------------------------------------------------

SCALED_COUNTS: Final = {
    "practices": (35, 8),
    "care_homes": (60, 4),
    "wards": (24, 6),
    "staff": (12_000, 200),
    "services": (500, 60),
    "citizens": (3_000, 100),
    "voluntary_orgs": (40, 8),
}
"""(count at 295,000 people, minimum) for organisations and registers."""

CARE_HOME_BEDS_MEAN: Final = 40
CARE_HOME_OCCUPANCY: Final = 0.88
NURSING_HOME_SHARE: Final = 0.4

COMMUNITY_CONTACTS_PER_P1: Final = 8
DN_CASELOAD_CONTACTS_PER_YEAR: Final = 26
SOCIAL_CARE_LA_FUNDED_SHARE: Final = 0.55
"""Care home residents funded by the council (assumed)."""
CHILD_REFERRAL_RATE: Final = 0.050
"""Referrals to children's social care per child per year (DfE Children in need
2023: 544 per 10,000 in England)."""
EARLY_HELP_RATE: Final = 0.030
HOSPICE_SHARE_OF_CANCER_DEATHS: Final = 0.55
HOSPICE_SHARE_OF_OTHER_DEATHS: Final = 0.06

GP_ENCOUNTERS_BASE: Final = 0.55
"""Recorded GP encounters per person-year at age 40 (kept below real consultation
rates to keep files reasonable; assumed)."""


def scaled_count(name: str, people: int) -> int:
    """Return an organisation or register size scaled to `people`, with a floor."""
    at_default, floor = SCALED_COUNTS[name]
    return max(floor, round(at_default * people / DEFAULT_PEOPLE))

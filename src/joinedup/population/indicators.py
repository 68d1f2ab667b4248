"""Population-health indicators for the planning zone, from the warehouse's aggregations.

Every figure here is computed from counts the portable aggregations return (deaths,
populations, vaccinated and eligible people...) by the pure kernels (life tables,
SII, DSR, YLL, Wilson, Byars). Nothing here reads the record or knows a person: the
finest grain is a neighbourhood or a deprivation decile, and small numbers are
suppressed before any table leaves this module (``suppress_small``).

Pure Python over the ``Warehouse`` seam: no Django.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from joinedup.population import efi as efi_kernel
from joinedup.population import vaccines
from joinedup.population.esp2013 import ESP2013_WEIGHTS
from joinedup.population.inequality import slope_index
from joinedup.population.lifetable import OLDER_AGE_STARTS, STANDARD_AGE_STARTS, life_tables
from joinedup.population.rates import crude_rate, mean, proportion, wilson_limits
from joinedup.population.standardisation import dsr
from joinedup.population.warehouse import Warehouse
from joinedup.population.yll import standardised_yll_rate

SEXES: Final = ("female", "male")
SEX_LABELS: Final = {"female": "Females", "male": "Males"}
SMALL: Final = 10  # denominators under 10 and numerators of 1 to 4 are not shown
SII_REPS: Final = 100_000
SII_SEED: Final = 20_240_401
PERIOD_YEARS: Final = 3
FIVE_YEAR_STARTS: Final = tuple(range(0, 95, 5))  # 0-4 ... 85-89, 90+
UNDER_75: Final = 15  # the first 15 five-year bands: 0-4 ... 70-74
CAUSES: Final = (
    ("C", "Cancer"),
    ("I", "Circulatory disease"),
    ("J", "Respiratory disease"),
    ("FG", "Dementia and nervous system"),
    ("K", "Digestive disease"),
    ("VWXY", "External causes (injury, poisoning)"),
    ("U", "COVID-19"),
)


def fy_label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def period_label(years: Sequence[int]) -> str:
    return f"{fy_label(years[0])} to {fy_label(years[-1])}"


@dataclass(frozen=True)
class Row:
    """One line of an indicator table: the area and the figure, ready to present."""

    cells: dict[str, Any]


@dataclass
class Table:
    slug: str
    title: str
    columns: list[tuple[str, str]]  # (key, heading)
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MortalityInputs:
    """Deaths and person-years by financial year, area and life-table band."""

    years: tuple[int, ...]
    deaths: dict[tuple[int, str, str, str], npt.NDArray[np.float64]]  # (fy, level, area, sex)
    population: dict[tuple[int, str, str, str], npt.NDArray[np.float64]]
    causes: dict[tuple[int, int, str], int]  # (fy, decile, letter) -> deaths (all ages)
    causes_premature: dict[tuple[int, int, str], int]


def _band_index(age_start: int) -> int:
    return STANDARD_AGE_STARTS.index(int(age_start))


def _areas(row: dict[str, Any]) -> list[tuple[str, str]]:
    areas = [("borough", "Borough")]
    if row.get("neighbourhood"):
        areas.append(("neighbourhood", str(row["neighbourhood"])))
    if row.get("imd_decile") is not None:
        areas.append(("decile", str(row["imd_decile"])))
    return areas


def mortality_inputs(warehouse: Warehouse) -> MortalityInputs:
    nbands = len(STANDARD_AGE_STARTS)
    deaths: dict[tuple[int, str, str, str], npt.NDArray[np.float64]] = defaultdict(
        lambda: np.zeros(nbands)
    )
    causes: dict[tuple[int, int, str], int] = defaultdict(int)
    premature: dict[tuple[int, int, str], int] = defaultdict(int)
    for row in warehouse.run("deaths").to_pylist():
        if row["sex"] not in SEXES:
            continue
        fy, band = int(row["fy"]), _band_index(row["age_start"])
        for level, area in _areas(row):
            deaths[(fy, level, area, row["sex"])][band] += row["deaths"]
            deaths[(fy, level, area, "persons")][band] += row["deaths"]
        if row.get("imd_decile") is not None:
            letter = str(row["icd_letter"] or "")
            causes[(fy, int(row["imd_decile"]), letter)] += row["deaths"]
            if row["age_start"] < 75:
                premature[(fy, int(row["imd_decile"]), letter)] += row["deaths"]
    population: dict[tuple[int, str, str, str], npt.NDArray[np.float64]] = defaultdict(
        lambda: np.zeros(nbands)
    )
    for row in warehouse.run("population").to_pylist():
        start = 90 if row["age_band"] == "90+" else int(str(row["age_band"]).split("-")[0])
        for level, area in _areas(row):
            for sex in (row["sex"], "persons"):
                cells = population[(int(row["year"]), level, area, sex)]
                if start == 0:
                    # Mid-year estimates come in 0-4: one fifth is taken as under 1.
                    cells[0] += row["population"] / 5
                    cells[1] += row["population"] * 4 / 5
                else:
                    cells[_band_index(start)] += row["population"]
    years = tuple(sorted({k[0] for k in population} & {k[0] for k in deaths}))
    return MortalityInputs(years, dict(deaths), dict(population), dict(causes), dict(premature))


def periods(inputs: MortalityInputs) -> list[tuple[int, ...]]:
    """Rolling three-year periods of consecutive financial years, oldest first."""
    ys = inputs.years
    return [
        tuple(ys[i : i + PERIOD_YEARS])
        for i in range(len(ys) - PERIOD_YEARS + 1)
        if ys[i + PERIOD_YEARS - 1] - ys[i] == PERIOD_YEARS - 1
    ]


def _pooled(
    inputs: MortalityInputs, years: Iterable[int], keys: list[tuple[str, str, str]]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    n = len(STANDARD_AGE_STARTS)
    d = np.array(
        [sum((inputs.deaths.get((y, *k), np.zeros(n)) for y in years), np.zeros(n)) for k in keys]
    )
    p = np.array(
        [
            sum((inputs.population.get((y, *k), np.zeros(n)) for y in years), np.zeros(n))
            for k in keys
        ]
    )
    return d, p


def area_keys(inputs: MortalityInputs, level: str) -> list[str]:
    found = {k[2] for k in inputs.population if k[1] == level}
    if level == "decile":
        return sorted(found, key=int)
    return sorted(found)


# -- life expectancy -----------------------------------------------------------------------


def life_expectancy(inputs: MortalityInputs, years: Sequence[int]) -> Table:
    table = Table(
        "life-expectancy",
        f"Life expectancy at birth and at 65, {period_label(years)}",
        [
            ("level", "Area type"),
            ("area", "Area"),
            ("sex", "Sex"),
            ("age", "At age"),
            ("value", "Life expectancy (years)"),
            ("lower", "Lower 95% limit"),
            ("upper", "Upper 95% limit"),
            ("note", "Note"),
        ],
    )
    for level in ("borough", "neighbourhood", "decile"):
        areas = area_keys(inputs, level)
        for sex in SEXES:
            d, p = _pooled(inputs, years, [(level, a, sex) for a in areas])
            lt = life_tables(d, p)
            for i, area in enumerate(areas):
                for age in (0, 65):
                    j = STANDARD_AGE_STARTS.index(age)
                    table.rows.append(
                        {
                            "level": level,
                            "area": _area_name(level, area),
                            "sex": SEX_LABELS[sex],
                            "age": age,
                            "value": _num(lt.expectancy[i, j]),
                            "lower": _num(lt.lower[i, j]),
                            "upper": _num(lt.upper[i, j]),
                            "note": str(lt.note[i, j]),
                        }
                    )
    table.notes.append(
        "Chiang II abridged life tables with Silcocks' variance for the 90+ band, from "
        "deaths in the record and mid-year population estimates pooled over three "
        "financial years. Values are not published where the person-years from that age "
        "are under 5,000 or the interval is wider than 20 years."
    )
    return table


def _area_name(level: str, area: str) -> str:
    return f"Decile {area}" if level == "decile" else area


def _num(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 2)


@dataclass(frozen=True)
class Gap:
    sex: str
    years: tuple[int, ...]
    sii: float
    lower: float
    upper: float
    decile_values: list[float]
    decile_lower: list[float]
    decile_upper: list[float]
    open_band: int = 90


def life_expectancy_gap(inputs: MortalityInputs, years: Sequence[int]) -> list[Gap]:
    """The SII in life expectancy at birth across local deprivation deciles, by sex.

    Decile life tables are used unsuppressed here (the SII weighs each decile by its
    variance); intervals by 100,000 simulations from a fixed seed.
    """
    deciles = area_keys(inputs, "decile")
    gaps = []
    for sex in SEXES:
        d, p = _pooled(inputs, years, [("decile", a, sex) for a in deciles])
        open_band = 90
        if np.any(d[:, -1] <= 0):
            # A decile with no deaths at 90+ has no life table; the older 85+ open band
            # (still published for small areas) gives every decile one.
            d, p, open_band = _fold_85(d), _fold_85(p), 85
        lt = life_tables(
            d,
            p,
            suppress=False,
            age_starts=STANDARD_AGE_STARTS if open_band == 90 else OLDER_AGE_STARTS,
        )
        value, se = lt.expectancy[:, 0], np.sqrt(lt.variance[:, 0])
        if len(deciles) < 2 or not (np.isfinite(value).all() and np.isfinite(se).all()):
            continue
        result = slope_index(
            value[np.newaxis],
            p.sum(axis=1)[np.newaxis],
            se[np.newaxis],
            rng=np.random.default_rng(SII_SEED),
            reps=SII_REPS,
        )
        gaps.append(
            Gap(
                sex,
                tuple(years),
                float(result.sii[0]),
                float(result.sii_lower[0]),
                float(result.sii_upper[0]),
                value.tolist(),
                lt.lower[:, 0].tolist(),
                lt.upper[:, 0].tolist(),
                open_band,
            )
        )
    return gaps


def _fold_85(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Life-table bands ending 85-89, 90+ folded into one open 85+ band."""
    return np.concatenate([values[:, :-2], values[:, -2:].sum(axis=1, keepdims=True)], axis=1)


def gap_table(gaps: list[Gap]) -> Table:
    table = Table(
        "life-expectancy-gap",
        "Inequality in life expectancy at birth: "
        "slope index of inequality across deprivation deciles",
        [
            ("sex", "Sex"),
            ("period", "Period"),
            ("sii", "Gap (SII, years)"),
            ("lower", "Lower 95% limit"),
            ("upper", "Upper 95% limit"),
            ("open_band", "Open age band"),
        ],
    )
    for gap in gaps:
        table.rows.append(
            {
                "sex": SEX_LABELS[gap.sex],
                "period": period_label(gap.years),
                "sii": round(gap.sii, 2),
                "lower": round(gap.lower, 2),
                "upper": round(gap.upper, 2),
                "open_band": f"{gap.open_band}+",
            }
        )
    table.notes.append(
        "The slope index of inequality is the modelled gap in years between the most and "
        "least deprived ends of the borough, from a population-weighted regression of "
        "decile life expectancy on the deciles' cumulative rank; 95% limits from 100,000 "
        "simulations (seeded)."
    )
    return table


def trend_table(inputs: MortalityInputs) -> Table:
    table = Table(
        "life-expectancy-trend",
        "Life expectancy at birth in the borough, rolling three-year periods",
        [
            ("period", "Period"),
            ("sex", "Sex"),
            ("value", "Life expectancy (years)"),
            ("lower", "Lower 95% limit"),
            ("upper", "Upper 95% limit"),
            ("gap", "Gap (SII, years)"),
        ],
    )
    for years in periods(inputs):
        gaps = {g.sex: g for g in life_expectancy_gap(inputs, years)}
        for sex in SEXES:
            d, p = _pooled(inputs, years, [("borough", "Borough", sex)])
            lt = life_tables(d, p)
            gap = gaps.get(sex)
            table.rows.append(
                {
                    "period": period_label(years),
                    "sex": SEX_LABELS[sex],
                    "value": _num(lt.expectancy[0, 0]),
                    "lower": _num(lt.lower[0, 0]),
                    "upper": _num(lt.upper[0, 0]),
                    "gap": round(gap.sii, 2) if gap else None,
                }
            )
    return table


# -- mortality -----------------------------------------------------------------------------


def _five_year(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Life-table bands (0, 1-4, 5-9, ...) folded to ESP2013's 0-4, 5-9, ..., 90+."""
    return np.concatenate([values[:, :2].sum(axis=1, keepdims=True), values[:, 2:]], axis=1)


def premature_mortality(inputs: MortalityInputs, years: Sequence[int]) -> Table:
    table = Table(
        "premature-mortality",
        f"Premature mortality and years of life lost, {period_label(years)}",
        [
            ("level", "Area type"),
            ("area", "Area"),
            ("deaths", "Deaths under 75"),
            ("dsr", "Deaths under 75 per 100,000 (age-standardised)"),
            ("lower", "Lower 95% limit"),
            ("upper", "Upper 95% limit"),
            ("yll", "Years of life lost per 10,000 (age-standardised)"),
        ],
    )
    starts = np.array(FIVE_YEAR_STARTS[:UNDER_75])
    weights = np.array(ESP2013_WEIGHTS[:UNDER_75])
    for level in ("borough", "neighbourhood", "decile"):
        areas = area_keys(inputs, level)
        d, p = _pooled(inputs, years, [(level, a, "persons") for a in areas])
        d5, p5 = _five_year(d)[:, :UNDER_75], _five_year(p)[:, :UNDER_75]
        if np.any(p5 <= 0):
            continue
        rate = dsr(d5, p5, standard=weights)
        yll = standardised_yll_rate(d5, p5, starts, starts + 4, standard=weights)
        for i, area in enumerate(areas):
            count = int(d5[i].sum())
            small = count < SMALL
            table.rows.append(
                {
                    "level": level,
                    "area": _area_name(level, area),
                    "deaths": None if 0 < count < 5 else count,
                    "dsr": None if small else _num(rate.value[i]),
                    "lower": None if small else _num(rate.lower[i]),
                    "upper": None if small else _num(rate.upper[i]),
                    "yll": None if small else _num(yll[i]),
                }
            )
    table.notes.append(
        "Directly standardised to the 2013 European Standard Population (ages 0-74), with "
        "Dobson 95% limits; years of life lost count 75 minus the middle of the age band "
        "of each death under 75. Fewer than 10 deaths: rates not shown; 1 to 4: count not shown."
    )
    return table


def causes_by_deprivation(inputs: MortalityInputs, years: Sequence[int]) -> Table:
    quintiles = {q: [2 * q - 1, 2 * q] for q in range(1, 6)}
    table = Table(
        "causes-of-death",
        f"Main causes of death under 75 by deprivation quintile, {period_label(years)}",
        [
            ("cause", "Underlying cause"),
            *(
                (
                    f"q{q}",
                    f"Quintile {q}{_QUINTILE_ENDS.get(q, '')}",
                )
                for q in quintiles
            ),
        ],
    )
    totals = {
        q: sum(v for (y, dec, _), v in inputs.causes_premature.items() if y in years and dec in ds)
        for q, ds in quintiles.items()
    }
    groups = [*CAUSES, ("", "Other causes")]
    for letters, label in groups:
        row: dict[str, Any] = {"cause": label}
        for q, ds in quintiles.items():
            n = sum(
                v
                for (y, dec, letter), v in inputs.causes_premature.items()
                if y in years and dec in ds and _cause_of(letter) == letters
            )
            share = 100 * n / totals[q] if totals[q] else None
            row[f"q{q}"] = (
                None if 0 < n < 5 else (f"{n} ({share:.0f}%)" if share is not None else "0")
            )
        table.rows.append(row)
    table.notes.append(
        "Deaths under 75 (number and share of each quintile's deaths). 1 to 4 deaths are not shown."
    )
    return table


_QUINTILE_ENDS: Final = {1: " (most deprived)", 5: " (least deprived)"}


def _cause_of(letter: str) -> str:
    for letters, _ in CAUSES:
        if letter and letter in letters:
            return letters
    return ""


# -- frailty -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frailty:
    people: int
    categories: dict[str, int]
    by_neighbourhood: Table
    by_practice: Table


def frailty(warehouse: Warehouse, reference: efi_kernel.EfiReference, as_of: dt.date) -> Frailty:
    older = warehouse.run("older_people", min_age=efi_kernel.MIN_AGE).to_pylist()
    index = {r["pseudonym"]: i for i, r in enumerate(older)}
    events = warehouse.run(
        "efi_events",
        min_age=efi_kernel.MIN_AGE,
        as_of=as_of,
        window_start=as_of - dt.timedelta(days=efi_kernel.POLYPHARMACY_WINDOW_DAYS),
    ).to_pylist()
    result = efi_kernel.efi(len(older), reference=reference, **efi_inputs(events, index, older))
    categories = {c: int((result.category == c).sum()) for c in efi_kernel.CATEGORIES}
    frail = np.isin(result.category, ("moderate", "severe"))
    return Frailty(
        len(older),
        categories,
        _prevalence_table("frailty-neighbourhood", "neighbourhood", "Neighbourhood", older, frail),
        _prevalence_table("frailty-practice", "practice", "GP practice", older, frail),
    )


def efi_inputs(
    events: list[dict[str, Any]], index: dict[Any, int], people: list[dict[str, Any]]
) -> dict[str, Any]:
    """The kernel's arrays from coded events (planning or direct care: the same shape)."""
    finding_p, finding_c, meas_p, meas_c, meas_v, med_p, med_c = [], [], [], [], [], [], []
    for e in events:
        i = index.get(e["pseudonym"])
        if i is None:
            continue
        if e["kind"] == "medication":
            med_p.append(i)
            med_c.append(e["code"])
            continue
        finding_p.append(i)
        finding_c.append(e["code"])
        if e["kind"] == "observation" and e["value"] is not None:
            meas_p.append(i)
            meas_c.append(e["code"])
            meas_v.append(e["value"])
    sex = [{"female": "F", "male": "M"}.get(str(p.get("sex")), "") for p in people]
    return {
        "finding_person": np.array(finding_p, dtype=np.int64),
        "finding_code": np.array(finding_c, dtype=str),
        "measurement_person": np.array(meas_p, dtype=np.int64),
        "measurement_code": np.array(meas_c, dtype=str),
        "measurement_value": np.array(meas_v, dtype=np.float64),
        "person_sex": np.array(sex, dtype=str),
        "medicine_person": np.array(med_p, dtype=np.int64),
        "medicine_code": np.array(med_c, dtype=str),
    }


def _prevalence_table(
    slug: str, key: str, heading: str, people: list[dict[str, Any]], frail: npt.NDArray[np.bool_]
) -> Table:
    table = Table(
        slug,
        f"Moderate or severe frailty among people aged 65 and over, by {heading.lower()}",
        [
            ("area", heading),
            ("people", "People aged 65+"),
            ("frail", "Moderately or severely frail"),
            ("value", "Per cent"),
            ("lower", "Lower 95% limit"),
            ("upper", "Upper 95% limit"),
        ],
    )
    groups: dict[str, list[int]] = defaultdict(list)
    for i, person in enumerate(people):
        groups[str(person.get(key) or "Not known")].append(i)
    names = sorted(groups)
    n = np.array([len(groups[g]) for g in names], dtype=np.float64)
    x = np.array([int(frail[groups[g]].sum()) for g in names], dtype=np.float64)
    table.rows = proportion_rows(names, x, n, area_key="area", count_key="frail", base_key="people")
    total = frail.size
    if total:
        borough = proportion(frail.sum(), total, multiplier=100)
        table.rows.append(
            {
                "area": "Borough",
                "people": total,
                "frail": int(frail.sum()),
                "value": _num(float(borough.value)),
                "lower": _num(float(borough.lower)),
                "upper": _num(float(borough.upper)),
            }
        )
    table.notes.append(
        "The electronic Frailty Index (36 deficits from coded records): moderate is 9 to 12 "
        "deficits, severe 13 or more (13/36 = 0.361 is above the 0.36 cut-point). Wilson 95% "
        "limits. Groups of fewer than 10 people, or with 1 to 4 frail people, are not shown."
    )
    return table


def proportion_rows(
    names: list[str],
    x: npt.NDArray[np.float64],
    n: npt.NDArray[np.float64],
    *,
    area_key: str,
    count_key: str,
    base_key: str,
) -> list[dict[str, Any]]:
    rows = []
    lower, upper = wilson_limits(x, n) if n.size else (np.array([]), np.array([]))
    for i, name in enumerate(names):
        hidden = n[i] < SMALL or 0 < x[i] < 5
        rows.append(
            {
                area_key: name,
                base_key: int(n[i]),
                count_key: None if hidden else int(x[i]),
                "value": None if hidden or n[i] == 0 else round(100 * float(x[i] / n[i]), 1),
                "lower": None if hidden or n[i] == 0 else round(100 * float(lower[i]), 1),
                "upper": None if hidden or n[i] == 0 else round(100 * float(upper[i]), 1),
            }
        )
    return rows


# -- vaccine uptake ------------------------------------------------------------------------


@dataclass(frozen=True)
class Uptake:
    programme: vaccines.Programme
    period: str
    cells: list[dict[str, Any]]  # the aggregation's rows: neighbourhood, decile, age band, sex,
    # ethnic group
    tables: dict[str, Table]
    lowest: Table


def uptake(warehouse: Warehouse, programme: vaccines.Programme, as_of: dt.date) -> Uptake:
    if programme.kind == "seasonal":
        start, end = vaccines.latest_season(as_of)
        cells = warehouse.run(
            "uptake_seasonal",
            programme=programme.key,
            season_start=start,
            season_end=end,
            min_age=programme.min_age,
        ).to_pylist()
        period = f"season {start.year}/{end.year % 100:02d}"
    else:
        cells = warehouse.run(
            "uptake_childhood",
            programme=programme.key,
            as_of=as_of,
            age=programme.age,
            doses=programme.doses,
        ).to_pylist()
        period = f"as at {as_of:%-d %B %Y}"
    tables = {
        dim: _uptake_table(programme, period, cells, dim, heading)
        for dim, heading in (
            ("neighbourhood", "Neighbourhood"),
            ("imd_decile", "Deprivation decile"),
            ("age_band", "Age band"),
            ("sex", "Sex"),
            ("ethnic_group", "Ethnic group"),
        )
    }
    return Uptake(programme, period, cells, tables, _lowest(programme, period, cells))


def _uptake_table(
    programme: vaccines.Programme, period: str, cells: list[dict[str, Any]], dim: str, heading: str
) -> Table:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in cells:
        key = "Not known" if c[dim] is None else str(c[dim])
        totals[key][0] += c["vaccinated"]
        totals[key][1] += c["eligible"]
    names = sorted(totals, key=lambda k: (len(k), k) if dim == "imd_decile" else k)
    x = np.array([totals[k][0] for k in names], dtype=np.float64)
    n = np.array([totals[k][1] for k in names], dtype=np.float64)
    table = _uptake_rows(
        f"uptake-{programme.key}-{dim.replace('_', '-')}",
        f"{programme.name}: uptake by {heading.lower()}, {period}",
        heading,
        names,
        x,
        n,
    )
    table.notes.append(f"{programme.definition} Wilson 95% limits. Small numbers are not shown.")
    return table


def _uptake_rows(
    key: str,
    title: str,
    heading: str,
    names: list[str],
    vaccinated: np.ndarray,
    eligible: np.ndarray,
) -> Table:
    """A table of uptake per group with Wilson limits (small numbers hidden)."""
    table = Table(
        key,
        title,
        [
            ("area", heading),
            ("eligible", "Eligible"),
            ("vaccinated", "Vaccinated"),
            ("value", "Per cent"),
            ("lower", "Lower 95% limit"),
            ("upper", "Upper 95% limit"),
        ],
    )
    table.rows = proportion_rows(
        names, vaccinated, eligible, area_key="area", count_key="vaccinated", base_key="eligible"
    )
    return table


def _lowest(programme: vaccines.Programme, period: str, cells: list[dict[str, Any]]) -> Table:
    """Neighbourhood-by-decile groups with the lowest uptake (at least 20 eligible)."""
    groups: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for c in cells:
        if c["neighbourhood"] is not None and c["imd_decile"] is not None:
            groups[(c["neighbourhood"], c["imd_decile"])][0] += c["vaccinated"]
            groups[(c["neighbourhood"], c["imd_decile"])][1] += c["eligible"]
    big = sorted(
        (k for k, (x, n) in groups.items() if n >= 20), key=lambda k: groups[k][0] / groups[k][1]
    )
    names = [f"{hood}, decile {decile}" for hood, decile in big[:5]]
    x = np.array([groups[k][0] for k in big[:5]], dtype=np.float64)
    n = np.array([groups[k][1] for k in big[:5]], dtype=np.float64)
    table = _uptake_rows(
        f"uptake-{programme.key}-lowest",
        f"{programme.name}: the five groups with the lowest uptake, {period}",
        "Neighbourhood and deprivation decile",
        names,
        x,
        n,
    )
    table.notes.append("Groups of at least 20 eligible people, lowest uptake first.")
    return table


# -- services and system -------------------------------------------------------------------


def emergency_admissions(warehouse: Warehouse, inputs: MortalityInputs, fy: int) -> dict[str, Any]:
    """Emergency admissions of people 65+ per 1,000 people 65+, by neighbourhood and borough."""
    counts: dict[str, int] = defaultdict(int)
    for r in warehouse.run("emergency_admissions", min_age=65).to_pylist():
        if r["fy"] == fy:
            counts[r["neighbourhood"] or "Not known"] += r["admissions"]
            counts["Borough"] += r["admissions"]
    over65 = STANDARD_AGE_STARTS.index(65)
    out = {}
    for area in [*area_keys(inputs, "neighbourhood"), "Borough"]:
        level = "borough" if area == "Borough" else "neighbourhood"
        pop = inputs.population.get((fy, level, area, "persons"))
        if pop is None or pop[over65:].sum() <= 0:
            continue
        rate = crude_rate(counts.get(area, 0), pop[over65:].sum(), multiplier=1000)
        out[area] = (float(rate.value), float(rate.lower), float(rate.upper), counts.get(area, 0))
    return out


def discharge_delay(warehouse: Warehouse, fy: int) -> dict[str, Any]:
    """Mean delay (days past the discharge ready date) of delayed discharges, with t limits."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for r in warehouse.run("discharge_delays").to_pylist():
        if r["fy"] != fy:
            continue
        for area in (r["neighbourhood"] or "Not known", "Borough"):
            sums[area][0] += r["delayed"]
            sums[area][1] += r["delay_days"]
            sums[area][2] += r["delay_days_sq"]
    out = {}
    for area, (n, total, squares) in sums.items():
        if n < SMALL:
            continue
        sd = np.sqrt(max(squares - total**2 / n, 0.0) / (n - 1))
        est = mean(total, n, sd)
        out[area] = (float(est.value), float(est.lower), float(est.upper), int(n))
    return out


def usual_residence_deaths(warehouse: Warehouse, years: Sequence[int]) -> dict[str, Any]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in warehouse.run("place_of_death").to_pylist():
        if r["fy"] in years:
            for area in (r["neighbourhood"] or "Not known", "Borough"):
                sums[area][0] += r["usual_residence"]
                sums[area][1] += r["deaths"]
    out = {}
    for area, (x, n) in sums.items():
        if n >= SMALL:
            est = proportion(x, n, multiplier=100)
            out[area] = (float(est.value), float(est.lower), float(est.upper), n)
    return out


def packages_cost(warehouse: Warehouse, inputs: MortalityInputs, as_of: dt.date) -> dict[str, Any]:
    """Weekly cost of live packages of care per adult (18+) resident, by neighbourhood."""
    year = max(y for y in inputs.years if y <= as_of.year) if inputs.years else as_of.year
    adult = STANDARD_AGE_STARTS.index(20) - 1  # bands from 15-19: 18-19 are not separable
    out = {}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in warehouse.run("packages_active", as_of=as_of).to_pylist():
        for area in (r["neighbourhood"] or "Not known", "Borough"):
            totals[area][0] += r["weekly_cost_pence"]
            totals[area][1] += r["people"]
    for area, (pence, people) in totals.items():
        level = "borough" if area == "Borough" else "neighbourhood"
        pop = inputs.population.get((year, level, area, "persons"))
        if pop is None or people < SMALL:
            continue
        adults = float(pop[adult:].sum())
        out[area] = (pence / 100 / adults, None, None, people)
    return out

"""The warehouse's aggregations, written once in one SQL dialect and run on any engine.

Each aggregation is SQL in DuckDB's dialect over the warehouse's tables (``persons``,
``events``, ``lsoas``, ``postcodes``, ``population``, ``vaccine_codes``), with named
parameters (``:as_of``). ``render`` parses it with SQLGlot, puts typed literals in
place of the parameters and writes it for the engine asked for: "duckdb" for the
default warehouse, "spark" for Spark SQL. Dialect differences live in SQLGlot, not here.

The aggregations return counts and integer sums only (never averages or floating sums),
so every engine gives exactly the same numbers; rates, intervals and life tables are
computed from those counts by the pure kernels. Every result has a total order
(``ORDER BY`` on all its keys), so engines can be compared row for row.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Final

import sqlglot
from sqlglot import exp

SOURCE_DIALECT: Final = "duckdb"


@dataclass(frozen=True)
class Aggregation:
    sql: str
    params: tuple[str, ...] = ()
    doc: str = ""


# Financial year (April to March) of a date, named by the year it starts in.
_FY = (
    "CASE WHEN EXTRACT(MONTH FROM {x}) >= 4 THEN EXTRACT(YEAR FROM {x}) "
    "ELSE EXTRACT(YEAR FROM {x}) - 1 END"
)
# Life-table band start of an age: 0, 1, 5, 10, ..., 85, 90 (open).
_LE_BAND = (
    "CASE WHEN {x} < 1 THEN 0 WHEN {x} < 5 THEN 1 WHEN {x} >= 90 THEN 90 ELSE {x} - ({x} % 5) END"
)

# One death per person: the first registration, should a person have two.
_DEATHS = """
WITH ranked AS (
  SELECT e.pseudonym, e.occurred_on, e.age_at_event, e.code, e.setting,
         ROW_NUMBER() OVER (PARTITION BY e.pseudonym ORDER BY e.occurred_on, e.code) AS n
  FROM events AS e
  WHERE e.kind = 'death' AND e.occurred_on IS NOT NULL AND e.age_at_event IS NOT NULL
), deaths AS (
  SELECT r.*, p.sex, p.imd_decile, p.neighbourhood, p.practice
  FROM ranked AS r JOIN persons AS p ON p.pseudonym = r.pseudonym
  WHERE r.n = 1
)
"""

AGGREGATIONS: Final[dict[str, Aggregation]] = {
    "deaths": Aggregation(
        _DEATHS
        + """
SELECT [fy occurred_on] AS fy, imd_decile, neighbourhood, sex,
       [band age_at_event] AS age_start,
       SUBSTRING(code, 1, 1) AS icd_letter, COUNT(*) AS deaths
FROM deaths
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 4, 5, 6
""",
        doc="Deaths by financial year, IMD decile, neighbourhood, sex, life-table band "
        "and ICD-10 chapter letter.",
    ),
    "population": Aggregation(
        """
SELECT m.year, l.imd_decile, l.neighbourhood, m.sex, m.age_band, SUM(m.count) AS population
FROM population AS m JOIN lsoas AS l ON l.lsoa = m.lsoa
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4, 5
""",
        doc="Mid-year population estimates by year, IMD decile, neighbourhood, sex and age band.",
    ),
    "place_of_death": Aggregation(
        _DEATHS
        + """
SELECT [fy occurred_on] AS fy, neighbourhood, imd_decile, COUNT(*) AS deaths,
       SUM(CASE WHEN setting IN ('Home', 'Care home') THEN 1 ELSE 0 END) AS usual_residence
FROM deaths
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
""",
        doc="Deaths, and deaths at home or in a care home (usual place of residence).",
    ),
    "older_people": Aggregation(
        """
SELECT pseudonym, sex, age, neighbourhood, imd_decile, practice
FROM persons
WHERE alive AND age >= :min_age
ORDER BY pseudonym
""",
        params=("min_age",),
        doc="Living people at or over an age at the reference date (the eFI's population).",
    ),
    "efi_events": Aggregation(
        """
SELECT e.pseudonym, e.kind, e.code, e.value, e.unit
FROM events AS e JOIN persons AS p ON p.pseudonym = e.pseudonym
WHERE p.alive AND p.age >= :min_age AND e.code IS NOT NULL AND e.code <> ''
  AND e.occurred_on < :as_of
  AND (e.kind IN ('condition', 'observation', 'encounter', 'community_referral')
       OR (e.kind = 'medication' AND e.occurred_on < :as_of
           AND (e.ended_on IS NULL OR e.ended_on >= :window_start)))
ORDER BY 1, 2, 3, 4, 5
""",
        params=("min_age", "as_of", "window_start"),
        doc="Coded records of living older people before the reference date; "
        "medicines active in the window.",
    ),
    "uptake_seasonal": Aggregation(
        """
WITH given AS (
  SELECT DISTINCT e.pseudonym
  FROM events AS e JOIN vaccine_codes AS v ON v.code = e.code
  WHERE e.kind = 'immunisation' AND v.programme = :programme
    AND e.occurred_on >= :season_start AND e.occurred_on < :season_end
)
SELECT p.neighbourhood, p.imd_decile, p.age_band, p.sex, p.ethnic_group, COUNT(*) AS eligible,
       SUM(CASE WHEN g.pseudonym IS NULL THEN 0 ELSE 1 END) AS vaccinated
FROM persons AS p LEFT JOIN given AS g ON g.pseudonym = p.pseudonym
WHERE p.alive AND p.age >= :min_age
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4, 5
""",
        params=("programme", "season_start", "season_end", "min_age"),
        doc="A seasonal programme: living people of eligible age, and those vaccinated "
        "in the season.",
    ),
    "uptake_childhood": Aggregation(
        """
WITH doses AS (
  SELECT e.pseudonym, COUNT(DISTINCT e.occurred_on) AS doses
  FROM events AS e JOIN vaccine_codes AS v ON v.code = e.code
  WHERE e.kind = 'immunisation' AND v.programme = :programme AND e.occurred_on < :as_of
  GROUP BY 1
)
SELECT p.neighbourhood, p.imd_decile, p.age_band, p.sex, p.ethnic_group, COUNT(*) AS eligible,
       SUM(CASE WHEN COALESCE(d.doses, 0) >= :doses THEN 1 ELSE 0 END) AS vaccinated
FROM persons AS p LEFT JOIN doses AS d ON d.pseudonym = p.pseudonym
WHERE p.alive AND p.age = :age
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4, 5
""",
        params=("programme", "as_of", "age", "doses"),
        doc="Children of one age with at least the given number of doses recorded.",
    ),
    "emergency_admissions": Aggregation(
        """
SELECT [fy e.occurred_on] AS fy, p.neighbourhood, p.imd_decile,
       COUNT(*) AS admissions
FROM events AS e JOIN persons AS p ON p.pseudonym = e.pseudonym
WHERE e.kind = 'admission' AND SUBSTRING(e.setting, 1, 1) = '2' AND e.age_at_event >= :min_age
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
""",
        params=("min_age",),
        doc="Emergency admissions (admission method 2x) of people at or over an age.",
    ),
    "discharge_delays": Aggregation(
        """
SELECT [fy e.ended_on] AS fy, p.neighbourhood, COUNT(*) AS discharges,
       SUM(CASE WHEN e.ended_on > e.ready_on THEN 1 ELSE 0 END) AS delayed,
       SUM(CASE WHEN e.ended_on > e.ready_on THEN DATE_DIFF('day', e.ready_on, e.ended_on)
                ELSE 0 END) AS delay_days,
       SUM(CASE WHEN e.ended_on > e.ready_on
                THEN DATE_DIFF('day', e.ready_on, e.ended_on)
                     * DATE_DIFF('day', e.ready_on, e.ended_on)
                ELSE 0 END) AS delay_days_sq
FROM events AS e JOIN persons AS p ON p.pseudonym = e.pseudonym
WHERE e.kind = 'admission' AND e.ready_on IS NOT NULL AND e.ended_on IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
""",
        doc="Discharges with a discharge ready date, those delayed past it, and the days of delay.",
    ),
    "packages_active": Aggregation(
        """
SELECT p.neighbourhood, COUNT(*) AS packages, COUNT(DISTINCT e.pseudonym) AS people,
       SUM(COALESCE(e.cost_pence, 0)) AS weekly_cost_pence
FROM events AS e JOIN persons AS p ON p.pseudonym = e.pseudonym
WHERE e.kind = 'package' AND e.occurred_on <= :as_of
  AND (e.ended_on IS NULL OR e.ended_on >= :as_of)
GROUP BY 1
ORDER BY 1
""",
        params=("as_of",),
        doc="Packages of care live on a day, the people receiving them and their weekly cost.",
    ),
}


def render(name: str, dialect: str, params: dict[str, Any] | None = None) -> str:
    """The named aggregation as SQL for `dialect`, with its parameters as literals."""
    aggregation = AGGREGATIONS[name]
    given = dict(params or {})
    missing = set(aggregation.params) - set(given)
    extra = set(given) - set(aggregation.params)
    if missing or extra:
        raise ValueError(f"{name} takes {sorted(aggregation.params)}; got {sorted(given)}")
    tree = sqlglot.parse_one(_expand(aggregation.sql), read=SOURCE_DIALECT)

    def fill(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name in given:
            return _literal(given[node.name])
        return node

    return tree.transform(fill).sql(dialect=dialect)


_MACRO = re.compile(r"\[(fy|band) ([a-z_.]+)\]")


def _expand(sql: str) -> str:
    """Write out the shared fragments: [fy column] and [band column]."""
    return _MACRO.sub(
        lambda m: (_FY if m.group(1) == "fy" else _LE_BAND).replace("{x}", m.group(2)), sql
    )


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TypeError(f"no SQL literal for {type(value).__name__}")

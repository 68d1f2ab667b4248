"""The linkage kernel on Spark (local mode) gives what it gives on DuckDB: the same model,
the same pairs in the same bands with the same weights (to 1e-9 in log2 units), the same
clusters. See tests/unit/people/test_linkage_backends.py for why that tolerance, and why the
data is kept under 1,414 identities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.unit.people.test_linkage_backends import (
    assert_same_linkage,
    febrl_sample,
    small_borough,
)

from joinedup.people import linkage
from joinedup.people.linkage import Backend, link_identities, link_new_identities


@pytest.fixture(scope="module")
def backend(spark: Any) -> Backend:
    return Backend("spark", spark_session=spark)


def test_spark_borough_full_and_incremental_like_duckdb(backend: Backend, borough: Path) -> None:
    identities = small_borough(borough, people=250)
    duck = link_identities(identities, seed=1)

    on_spark = link_identities(identities, seed=1, backend=backend)

    assert on_spark.backend_api == "SparkAPI"
    assert on_spark.stats["deterministic_pairs"] > 0
    assert_same_linkage(on_spark, duck)
    # The stored (DuckDB-dialect) model links a new delivery on Spark as on DuckDB.
    late = identities["identity_id"].str.endswith(("1", "7"))
    args = (identities[late], identities[~late], {i: i for i in identities[~late]["identity_id"]})
    duck_new = link_new_identities(*args, model_json=duck.model_json)
    spark_new = link_new_identities(*args, model_json=duck.model_json, backend=backend)
    assert spark_new.backend_api == "SparkAPI"
    assert spark_new.clusters == duck_new.clusters
    assert {(p.left_id, p.right_id, p.method) for p in spark_new.auto_links} == {
        (p.left_id, p.right_id, p.method) for p in duck_new.auto_links
    }


def test_spark_functions_agree_with_duckdb(backend: Backend) -> None:
    """The Python Jaro-Winkler and "one edit apart" against DuckDB's built-ins, including the
    typo pairs on which the jar Splink ships disagrees (it counts half a transposition)."""
    import duckdb

    frame = linkage.normalise_identities(febrl_sample(400))
    words = sorted(set(frame["given_name"].dropna()) | set(frame["family_name"].dropna()))
    pairs = [(a, b) for a, b in zip(words, words[1:] + words[:1], strict=True)]
    pairs += [(w, w[::-1]) for w in words[:200]]
    pairs += [("rawlings", "riwlings"), ("burleigh", "berleigh"), ("campbell", "caepbell")]
    pairs = sorted({*pairs, ("1956-11-06", "1956-11-09"), ("1956-11-06", "1965-11-06")})
    values = ", ".join(f"('{a}', '{b}')" for a, b in pairs)
    splink = linkage._open_splink({"all": frame}, backend)
    try:
        sql = f"SELECT a, b, {_functions('spark')} FROM VALUES {values} AS p(a, b)"  # noqa: S608
        got = splink.query(sql)
    finally:
        splink.close()
    duck_sql = f"SELECT a, b, {_functions('duckdb')} FROM (VALUES {values}) AS p(a, b)"  # noqa: S608
    want = duckdb.connect().execute(duck_sql).df()
    merged = got.merge(want, on=["a", "b"], suffixes=("_spark", "_duck"))
    assert len(merged) == len(pairs)
    assert (merged["jw_spark"] - merged["jw_duck"]).abs().max() <= 1e-12
    assert (merged["one_spark"].astype(bool) == merged["one_duck"].astype(bool)).all()


def _functions(dialect: str) -> str:
    jw = linkage._sql(dialect, "jaro_winkler", "a", "b")
    one = linkage._sql(dialect, "one_edit", "a", "b")
    return f"{jw} AS jw, {one} AS one"

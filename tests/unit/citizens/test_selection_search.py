"""The targeted local search (issue 9 speed work): it keeps the type it targets, only
ever proposes valid panels, and switching it on does not change the LEXIMIN answer."""

from __future__ import annotations

import numpy as np
import pytest

from joinedup.citizens.selection import build_instance, select
from joinedup.citizens.selection import leximin as leximin_module
from joinedup.citizens.selection.columns import ColumnSet, cover
from joinedup.citizens.selection.heuristic import local_search
from joinedup.citizens.selection.synthetic import generate


def _instance(seed: int = 3):
    pool, quotas = generate(
        people=120,
        values_per_feature=(2, 3, 3, 2),
        k=12,
        rng=np.random.default_rng(seed),
        household_share=0.1,
    )
    pool = type(pool)(pool.header, pool.rows, pool.id_column, ("address",))
    return pool, quotas, build_instance(pool, quotas, 12)


def test_local_search_never_swaps_out_the_kept_type() -> None:
    _, _, inst = _instance()
    columns = ColumnSet.for_instance(inst)
    cover(columns)
    rng = np.random.default_rng(0)
    start = columns.matrix()[0]
    for t in np.flatnonzero(start > 0):
        weights = rng.random(inst.num_types)
        weights[t] = 0.0  # the search would drop it first if it could
        free = local_search(columns.space, start, weights)
        kept = local_search(columns.space, start, weights, keep=int(t))
        assert inst.composition_ok(kept)
        assert inst.composition_ok(free)
        assert kept[t] >= start[t]
        assert free @ weights >= start @ weights - 1e-12


def test_targeted_search_adds_only_valid_new_panels() -> None:
    _, _, inst = _instance()
    columns = ColumnSet.for_instance(inst)
    cover(columns)
    before = len(columns.columns)
    weights = np.random.default_rng(1).random(inst.num_types)
    added = columns.search(weights, -1.0, starts=1, targeted=20)
    assert added == len(columns.columns) - before
    assert added > 0
    assert all(inst.composition_ok(c) for c in columns.columns)
    assert len({c.tobytes() for c in columns.columns}) == len(columns.columns)


@pytest.mark.parametrize("seed", [3, 4])
def test_targeted_search_does_not_change_the_leximin_probabilities(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, quotas, _ = _instance(seed)
    monkeypatch.setattr(leximin_module, "TARGETED", 0)
    plain = select(pool, quotas, 12).probabilities
    monkeypatch.setattr(leximin_module, "TARGETED", 36)
    monkeypatch.setattr(leximin_module, "TARGETED_FROM", 0)
    targeted = select(pool, quotas, 12).probabilities
    assert abs(targeted.sum() - 12) < 1e-6
    np.testing.assert_allclose(targeted, plain, atol=1e-6)

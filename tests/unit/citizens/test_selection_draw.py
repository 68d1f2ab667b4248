"""Drawing, the public lottery, replay, replacement, and the other methods."""

from __future__ import annotations

import json

import numpy as np
import pytest

from joinedup.citizens.selection import (
    InfeasibleQuotas,
    Pool,
    Quota,
    QuotaTable,
    audit_record,
    draw_rng,
    gini,
    lottery_digest,
    lottery_probabilities,
    public_draw,
    public_lottery,
    replacement,
    replay,
    select,
    verify,
)
from joinedup.citizens.selection.synthetic import generate
from joinedup.errors import IntegrityFailure, InvalidInput


def make_case(people: int = 60, k: int = 8, seed: int = 2) -> tuple[Pool, QuotaTable]:
    return generate(people=people, values_per_feature=(2, 3), k=k, rng=np.random.default_rng(seed))


def test_draw_meets_quotas_and_replays_from_json() -> None:
    pool, quotas = make_case()
    sel = select(pool, quotas, 8)
    panel = sel.draw(draw_rng(11))

    record = json.loads(json.dumps(audit_record(sel, seed=11, panel=panel)))

    assert replay(record) == panel
    assert verify(record) == []
    assert len(panel) == 8


def test_replay_refuses_a_tampered_pool() -> None:
    pool, quotas = make_case()
    sel = select(pool, quotas, 8)
    record = audit_record(sel, seed=1, panel=sel.draw(draw_rng(1)))
    record["pool"]["rows"][0][1] = "v1" if record["pool"]["rows"][0][1] == "v0" else "v0"

    with pytest.raises(IntegrityFailure):
        replay(record)


def test_public_lottery_is_close_to_the_distribution() -> None:
    pool, quotas = make_case()
    sel = select(pool, quotas, 8)

    panels = public_lottery(sel.instance, sel.distribution, np.random.default_rng(0), size=1000)
    ids = [tuple(pool.ids[i] for i in p) for p in panels]

    assert len(panels) == 1000
    assert all(len(set(p)) == 8 for p in panels)
    drift = np.abs(lottery_probabilities(pool.size, panels) - sel.probabilities).max()
    assert drift < 0.02
    assert public_draw(ids, 1) == ids[0]
    assert len(lottery_digest(ids)) == 64
    with pytest.raises(InvalidInput):
        public_draw(ids, 1001)


def test_replacement_keeps_the_rest_and_the_quotas() -> None:
    pool, quotas = make_case()
    sel = select(pool, quotas, 8)
    panel = sel.draw(draw_rng(5))

    new_panel, again = replacement(sel, panel, dropped=(panel[0],), rng=np.random.default_rng(5))

    assert set(panel[1:]) <= set(new_panel)
    assert panel[0] not in new_panel
    assert len(new_panel) == 8
    assert all(again.instance.composition_ok(c) for c in again.distribution.compositions)


@pytest.mark.parametrize("method", ["maximin", "nash", "legacy"])
def test_other_methods_give_valid_lotteries(method: str) -> None:
    pool, quotas = make_case(people=30, k=5)

    sel = select(pool, quotas, 5, method=method, rng=np.random.default_rng(1))

    assert sel.probabilities.sum() == pytest.approx(5, abs=1e-6)
    assert all(sel.instance.composition_ok(c) for c in sel.distribution.compositions)
    leximin = select(pool, quotas, 5)
    assert sel.probabilities.min() <= leximin.probabilities.min() + 1e-6


def test_people_no_panel_can_hold_are_named() -> None:
    rows = tuple((f"p{i}", "a" if i < 5 else "b") for i in range(6))
    pool = Pool(("id", "g"), rows, "id")
    quotas = QuotaTable((Quota("g", "a", 2, 2), Quota("g", "b", 0, 0)))

    sel = select(pool, quotas, 2)

    assert sel.unreachable == ("p5",)
    assert sel.report()["min_probability"] == pytest.approx(0.4)


def test_infeasible_quotas_report_conflict_and_relaxation() -> None:
    rows = tuple((f"p{i}", "a" if i < 3 else "b") for i in range(10))
    pool = Pool(("id", "g"), rows, "id")
    quotas = QuotaTable((Quota("g", "a", 4, 5, 3, 5), Quota("g", "b", 1, 2)))

    with pytest.raises(InfeasibleQuotas) as caught:
        select(pool, quotas, 5)

    report = caught.value.report
    assert {c["quota"] for c in report["conflicting_bounds"]} >= {"g=a"}
    assert report["relaxation_within_flex"] is True
    assert caught.value.exit_code == 4


def test_gini_of_equal_and_concentrated() -> None:
    assert gini(np.full(10, 0.3)) == pytest.approx(0.0)
    assert gini(np.r_[np.zeros(9), 1.0]) == pytest.approx(0.9)

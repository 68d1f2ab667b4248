"""The two published reference instances, in both CSV dialects, against their optima."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from joinedup.citizens.selection import format_quotas, parse_people, parse_quotas, select

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "sortition"


def _need_fixtures() -> None:
    if FIXTURES.is_dir():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"reference fixtures missing at {FIXTURES}")
    pytest.skip(f"reference fixtures not present at {FIXTURES}")


def _load(folder: str, quotas: str, people: str, household: tuple[str, ...] = ()):
    _need_fixtures()
    pool = parse_people((FIXTURES / folder / people).read_text(), household=household)
    return pool, parse_quotas((FIXTURES / folder / quotas).read_text())


def test_sa_fixture_leximin_minimum_is_one_eleventh() -> None:
    pool, quotas = _load("sa-fixture", "features.csv", "candidates.csv")

    sel = select(pool, quotas, 22, method="leximin")

    assert pool.id_column == "nationbuilder_id"
    assert sel.probabilities.min() == pytest.approx(1 / 11, abs=1e-4)
    assert sel.probabilities.sum() == pytest.approx(22, abs=1e-6)
    assert all(sel.instance.composition_ok(c) for c in sel.distribution.compositions)


@pytest.mark.parametrize("method", ["leximin", "maximin"])
def test_opendlp_fixture_minimum_matches_published(method: str) -> None:
    pool, quotas = _load("opendlp-fixture", "categories.csv", "respondents.csv")

    sel = select(pool, quotas, 30, method=method)

    assert quotas.dialect == "categories"
    assert sel.probabilities.min() == pytest.approx(0.296703, abs=1e-4)
    assert sel.probabilities.sum() == pytest.approx(30, abs=1e-6)


def test_opendlp_fixture_with_households_keeps_one_per_address() -> None:
    pool, quotas = _load(
        "opendlp-fixture", "categories.csv", "respondents.csv", ("address_line_1",)
    )

    sel = select(pool, quotas, 30, method="leximin")

    keys = pool.household_keys()
    for comp in sel.distribution.compositions:
        chosen = [
            keys[int(m)]
            for t in np.flatnonzero(comp)
            for m in sel.instance.members[t]
            if sel.instance.multiplicity[t] == 1
        ]
        assert len(chosen) == len(set(chosen))
    assert sel.probabilities.min() == pytest.approx(0.296703, abs=1e-4)


@pytest.mark.parametrize(
    ("folder", "name"), [("sa-fixture", "features.csv"), ("opendlp-fixture", "categories.csv")]
)
def test_quota_files_round_trip_unchanged(folder: str, name: str) -> None:
    _need_fixtures()
    text = (FIXTURES / folder / name).read_text()

    again = format_quotas(parse_quotas(text))

    assert again.splitlines() == text.strip().splitlines()

"""The demo register: drawn deterministically from the synthetic borough, loaded once."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest
from tests.integration.citizens.helpers import REGISTER_SIZE, everyone

from joinedup.citizens.demo import demo_load, volunteers_csv
from joinedup.citizens.models import ImportBatch, Lsoa, PopulationCount, Postcode

pytestmark = pytest.mark.django_db


def test_demo_register_is_the_same_file_for_the_same_borough(borough: Path) -> None:
    first = volunteers_csv(borough, count=150)

    assert volunteers_csv(borough, count=150) == first
    assert volunteers_csv(borough, count=150, seed=2) != first


def test_demo_register_leans_like_a_real_one_and_keeps_households_small(borough: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(volunteers_csv(borough, count=REGISTER_SIZE).decode())))

    assert len(rows) == REGISTER_SIZE
    bands = Counter(r["age_band"] for r in rows)
    assert bands["65-74"] + bands["75+"] > bands["16-24"] + bands["25-34"]
    homes = Counter(
        (" ".join(r["address_line_1"].lower().replace(",", " ").split()), r["postcode"])
        for r in rows
    )
    assert max(homes.values()) <= 2
    assert len({r["citizen_id"] for r in rows}) == REGISTER_SIZE


def test_demo_load_imports_every_row_and_a_second_run_changes_nothing(register: Path) -> None:
    batch = ImportBatch.objects.get()
    counts = (
        everyone().count(),
        Lsoa.objects.count(),
        Postcode.objects.count(),
        PopulationCount.objects.count(),
    )
    refs = set(everyone().values_list("ref", flat=True))

    demo_load(register, progress=lambda *_: None, volunteers=REGISTER_SIZE)

    assert (batch.rows_read, batch.rows_accepted) == (REGISTER_SIZE, REGISTER_SIZE)
    assert ImportBatch.objects.count() == 1
    assert set(everyone().values_list("ref", flat=True)) == refs
    assert (
        everyone().count(),
        Lsoa.objects.count(),
        Postcode.objects.count(),
        PopulationCount.objects.count(),
    ) == counts
    assert counts[0] == REGISTER_SIZE
    assert not everyone().filter(neighbourhood=None).exists()
    assert not everyone().filter(imd_quintile=None).exists()

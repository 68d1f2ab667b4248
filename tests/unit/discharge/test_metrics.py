"""The delay metrics kernel on hand-worked cases, and Little's law as a property."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from joinedup.discharge import metrics


def _d(*days: str) -> np.ndarray:
    return np.array(days, dtype="datetime64[D]")


def test_summarise_counts_bands_and_both_averages() -> None:
    delay = np.array([0, 0, 1, 3, 5, 10, 21, 30])

    s = metrics.summarise(delay)[0]

    assert (s.discharges, s.on_drd, s.delayed_bed_days) == (8, 2, 70)
    assert s.bands == (2, 1, 1, 1, 1, 0, 2)
    assert s.mean_delay_including_zero == 70 / 8
    assert s.mean_delay_excluding_zero == 70 / 6
    assert s.share_on_drd == 0.25


def test_summarise_by_key_keeps_groups_apart() -> None:
    out = metrics.summarise(np.array([0, 4, 2]), ["b", "a", "b"])
    assert [(s.key, s.discharges, s.delayed_bed_days) for s in out] == [("a", 1, 4), ("b", 2, 2)]


def test_no_delayed_discharges_has_no_average_excluding_zero() -> None:
    s = metrics.summarise(np.array([0, 0]))[0]
    assert s.mean_delay_excluding_zero is None
    assert s.mean_delay_including_zero == 0


def test_period_keys_week_month_and_financial_year() -> None:
    days = _d("2025-03-31", "2025-04-01", "2025-04-06", "2026-03-31")
    assert metrics.period_keys(days, "week").tolist() == [
        "2025-03-31",
        "2025-03-31",
        "2025-03-31",
        "2026-03-30",
    ]
    assert metrics.period_keys(days, "month").tolist() == [
        "2025-03",
        "2025-04",
        "2025-04",
        "2026-03",
    ]
    assert metrics.period_keys(days, "year").tolist() == [
        "2024/25",
        "2025/26",
        "2025/26",
        "2025/26",
    ]


def test_daily_census_counts_start_to_the_day_before_the_end() -> None:
    starts = _d("2026-01-01", "2026-01-02")
    ends = np.array(["2026-01-03", "NaT"], dtype="datetime64[D]")
    census = metrics.daily_census(starts, ends, date(2026, 1, 1), date(2026, 1, 4))
    assert census.tolist() == [1, 2, 1, 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 40)), min_size=1, max_size=60))
def test_littles_law_is_exact_when_every_episode_lies_inside_the_period(
    spells: list[tuple[int, int]],
) -> None:
    base = np.datetime64("2026-01-01", "D")
    ready = np.array([base + 10 + s for s, _ in spells])
    gone = np.array([r + d for r, (_, d) in zip(ready, spells, strict=True)])
    first, last = date(2026, 1, 1), date(2026, 12, 31)

    law = metrics.littles_law(gone, ready, ready, gone, first, last)

    assert np.isclose(law.mean_census, law.predicted_census)

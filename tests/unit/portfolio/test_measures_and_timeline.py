"""The measure registry's contract, and the timeline's financial years."""

from __future__ import annotations

from datetime import date

import pytest

from joinedup.portfolio import measures
from joinedup.portfolio.timeline import Lane, Mark, financial_year, fy_label, timeline_svg


def test_a_registered_measure_is_read_live_and_an_unknown_one_is_not_measured() -> None:
    calls = []

    def compute() -> measures.MeasureValue:
        calls.append(1)
        return measures.MeasureValue(4.2, as_of=date(2026, 4, 1))

    measures.register_measure("test_live_measure", "Test", "days", compute, replace=True)
    try:
        reading = measures.measure_current("test_live_measure")
        again = measures.measure_current("test_live_measure")
    finally:
        measures.unregister_measure("test_live_measure")

    assert reading.state == "measured"
    assert reading.value == measures.MeasureValue(4.2, date(2026, 4, 1))
    assert again.value is not None
    assert len(calls) == 2
    assert measures.measure_current("test_live_measure").state == "not_measured"


def test_codes_are_checked_and_owned_once() -> None:
    def first() -> None:
        return None

    def second() -> None:
        return None

    with pytest.raises(ValueError, match="lower-case"):
        measures.register_measure("Bad Code", "x", "", first)
    measures.register_measure("test_owned_once", "x", "", first)
    try:
        with pytest.raises(ValueError, match="already registered"):
            measures.register_measure("test_owned_once", "x", "", second)
    finally:
        measures.unregister_measure("test_owned_once")


def test_nothing_to_measure_and_not_a_number_are_both_not_measured() -> None:
    measures.register_measure("test_nan", "x", "", lambda: measures.MeasureValue(float("nan")))
    measures.register_measure("test_none", "x", "", lambda: None)
    try:
        assert measures.measure_current("test_nan").state == "not_measured"
        assert measures.measure_current("test_none").state == "not_measured"
    finally:
        measures.unregister_measure("test_nan")
        measures.unregister_measure("test_none")


@pytest.mark.parametrize(
    ("day", "label"),
    [(date(2026, 3, 31), "2025/26"), (date(2026, 4, 1), "2026/27"), (date(2099, 12, 1), "2099/00")],
)
def test_financial_years_start_on_the_first_of_april(day: date, label: str) -> None:
    assert fy_label(financial_year(day)) == label


def test_timeline_labels_every_year_and_escapes_names() -> None:
    lane = Lane(
        "A & B <programme>",
        date(2024, 5, 1),
        date(2026, 6, 1),
        [Mark("Go live", date(2025, 1, 1), date(2025, 3, 1), "red")],
    )

    svg = str(timeline_svg("t", [lane], today=date(2025, 6, 1)))

    assert all(fy in svg for fy in ("2024/25", "2025/26", "2026/27"))
    assert "A &amp; B &lt;programme&gt;" in svg
    assert "<rect" in svg
    assert 'aria-labelledby="t-title t-desc"' in svg
    assert "1 red" in svg

"""The baseline's published definitions, on hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from joinedup.workforce.baseline import Dimension, Period, Staff, age_band_lower, measures, whole

D = "datetime64[D]"


def _staff(**overrides: object) -> Staff:
    n = 6
    fields: dict[str, object] = {
        "wte": np.array([1.0, 0.5, 1.0, 1.0, 0.8, 1.0]),
        "substantive": np.array([True, True, True, True, True, False]),
        "start": np.array(["2020-01-01"] * 4 + ["2025-09-01", "2024-01-01"], dtype=D),
        "leave": np.array(["NaT", "NaT", "2025-06-30", "NaT", "NaT", "NaT"], dtype=D),
        "aged_55_plus": np.array([True, False, False, True, False, False]),
        "line": np.array([0, 0, 0, 1, 1, 1]),
    }
    fields.update(overrides)
    assert all(np.asarray(v).size == n for v in fields.values())
    return Staff(**fields)  # type: ignore[arg-type]


PERIOD = Period(np.datetime64("2025-03-31", "D"), np.datetime64("2026-03-31", "D"))


def test_headcount_wte_and_vacancies_follow_the_definitions() -> None:
    staff = _staff()
    funded = np.array([3.0, 2.0])

    m = measures(staff, funded, whole(staff, 2), PERIOD)

    # In post on 2026-03-31: records 0, 1, 3, 4 (2 left; 5 is bank).
    assert m.headcount[0] == 4
    assert m.wte[0] == pytest.approx(3.3)
    assert m.bank_agency_headcount[0] == 1
    assert m.vacancy_wte[0] == pytest.approx(5.0 - 3.3)
    assert m.vacancy_rate[0] == pytest.approx((5.0 - 3.3) / 5.0 * 100)


def test_turnover_is_leavers_over_average_headcount_and_stability_stayers_over_start() -> None:
    staff = _staff()

    m = measures(staff, np.zeros(2), whole(staff, 2), PERIOD)

    # At the start: 0, 1, 2, 3 (4 staff); at the end: 4 staff; one leaver.
    assert m.leavers[0] == 1
    assert m.average_headcount[0] == pytest.approx(4.0)
    assert m.turnover[0] == pytest.approx(25.0)
    assert m.stability[0] == pytest.approx(75.0)
    assert m.aged_55_plus_share[0] == pytest.approx(50.0)


def test_establishment_funded_above_the_rows_is_apportioned_by_wte_in_post() -> None:
    staff = _staff()
    hoods = Dimension(
        labels=("North", "South", "Not known"),
        staff_code=np.array([0, 1, 0, 0, 1, 1]),
        line_code=np.array([-1, 1]),
        unknown=2,
    )

    m = measures(staff, np.array([3.0, 2.0]), hoods, PERIOD)

    # Line 0 (3 WTE) funds records 0 and 1 in post: 1.0 North, 0.5 South.
    assert m.funded_wte[0] == pytest.approx(2.0)
    assert m.funded_wte[1] == pytest.approx(1.0 + 2.0)
    assert m.apportioned.tolist() == [True, True, False]
    assert m.funded_wte.sum() == pytest.approx(5.0)


def test_funding_with_no_one_in_post_goes_to_not_known() -> None:
    staff = _staff(line=np.array([1, 1, 1, 1, 1, 1]))
    hoods = Dimension(("North", "Not known"), np.zeros(6, dtype=np.int64), np.array([-1, 0]), 1)

    m = measures(staff, np.array([3.0, 2.0]), hoods, PERIOD)

    assert m.funded_wte.tolist() == pytest.approx([2.0, 3.0])


def test_rates_are_not_a_number_without_a_denominator() -> None:
    staff = _staff(substantive=np.zeros(6, dtype=bool))

    m = measures(staff, np.zeros(2), whole(staff, 2), PERIOD)

    assert np.isnan(m.vacancy_rate[0])
    assert np.isnan(m.turnover[0])
    assert np.isnan(m.stability[0])


@pytest.mark.parametrize(
    ("band", "lower"), [("55-64", 55), ("65+", 65), ("16-24", 16), ("55 to 59", 55), ("", None)]
)
def test_age_band_lower_bound(band: str, lower: int | None) -> None:
    assert age_band_lower(band) == lower

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from joinedup.core import nhs_number
from joinedup.errors import InvalidInput


@pytest.mark.parametrize("value", ["9434765919", "943 476 5919", "943-476-5919", "4010232137"])
def test_is_valid_accepts_real_shape_numbers(value: str) -> None:
    assert nhs_number.is_valid(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("9434765918", "check digit"),
        ("943476591", "exactly 10 digits"),
        ("94347659190", "exactly 10 digits"),
        ("94347659l9", "exactly 10 digits"),
        ("０１２３４５６７８９", "exactly 10 digits"),  # full-width digits are not ASCII digits
        ("0000000000", "placeholder"),
        ("1111111111", "placeholder"),
        ("9999999999", "placeholder"),
    ],
)
def test_invalid_reason_names_the_problem(value: str, reason: str) -> None:
    assert reason in (nhs_number.invalid_reason(value) or "")


def test_check_digit_of_remainder_ten_does_not_exist() -> None:
    # 123456789: 10*1+9*2+...+2*9 = 210, 210 % 11 = 1, check digit 10: never issued.
    assert nhs_number.check_digit("123456789") is None


def test_parse_error_says_where() -> None:
    with pytest.raises(InvalidInput) as caught:
        nhs_number.parse("123", where="patients.csv:7:nhs_number")
    assert caught.value.where == "patients.csv:7:nhs_number"


def test_format_for_display_groups_three_three_four() -> None:
    assert nhs_number.format_for_display("9434765919") == "943 476 5919"


@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 300))
def test_synthetic_batch_is_valid_distinct_and_synthetic(seed: int, count: int) -> None:
    numbers = nhs_number.synthetic_batch(np.random.default_rng(seed), count)
    assert len(numbers) == count
    assert len(set(numbers)) == count
    assert all(nhs_number.is_valid(n) and nhs_number.is_synthetic(n) for n in numbers)


@given(seed=st.integers(0, 2**32 - 1), position=st.integers(0, 9), delta=st.integers(1, 9))
def test_any_single_digit_error_is_detected(seed: int, position: int, delta: int) -> None:
    valid = nhs_number.synthetic_batch(np.random.default_rng(seed), 1)[0]
    digits = list(valid)
    digits[position] = str((int(digits[position]) + delta) % 10)
    assert not nhs_number.is_valid("".join(digits))


def test_synthetic_batch_is_deterministic_by_seed() -> None:
    first = nhs_number.synthetic_batch(np.random.default_rng(1), 50)
    again = nhs_number.synthetic_batch(np.random.default_rng(1), 50)
    other = nhs_number.synthetic_batch(np.random.default_rng(2), 50)
    assert first == again
    assert first != other

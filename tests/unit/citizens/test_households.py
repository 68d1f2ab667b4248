"""Household keys: every spelling of one dwelling gives one key; different dwellings differ."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joinedup.citizens.households import household_key, postcode_normalise

POSTCODE = "SK4 1AA"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sk41aa", "SK4 1AA"),
        (" Sk4  1aA ", "SK4 1AA"),
        ("M1 1AE", "M1 1AE"),
        ("nonsense", "NONSENSE"),
    ],
)
def test_postcode_normalise_spaces_and_cases(text: str, expected: str) -> None:
    assert postcode_normalise(text) == expected


@pytest.mark.parametrize(
    "spelling",
    [
        "Flat 2, 10 High Street",
        "Flat 2 10 High St.",
        "2/10 HIGH STREET",
        "10 High Street, Flat 2",
        "apartment 2, 10 high st",
        "Flat 2, 10, The High Street",
    ],
)
def test_household_key_is_the_same_for_every_spelling_of_one_flat(spelling: str) -> None:
    assert household_key(spelling, POSTCODE) == household_key("Flat 2, 10 High Street", POSTCODE)


@pytest.mark.parametrize(
    "other",
    [
        "Flat 3, 10 High Street",
        "12 High Street",
        "10 High Road",
        "10a High Street",
    ],
)
def test_household_key_differs_for_a_different_dwelling(other: str) -> None:
    assert household_key(other, POSTCODE) != household_key("Flat 2, 10 High Street", POSTCODE)


def test_household_key_tells_a_saint_from_a_street() -> None:
    assert household_key("4 St Mary's Road", POSTCODE) == household_key(
        "4 Saint Marys Rd", POSTCODE
    )
    assert household_key("4 Mary St", POSTCODE) != household_key("4 St Mary Road", POSTCODE)


def test_household_key_includes_the_postcode() -> None:
    assert household_key("10 High Street", "SK4 1AA") != household_key("10 High Street", "SK4 1AB")
    assert household_key("10 High Street", "sk41aa") == household_key("10 High Street", "SK4 1AA")


def test_household_key_joins_a_number_and_its_letter() -> None:
    assert household_key("10 a High Street", POSTCODE) == household_key("10A High St", POSTCODE)


words = st.sampled_from(["Mill", "Kiln", "Brook", "Heaton", "Lark"])
kinds = st.sampled_from([("Street", "St"), ("Road", "Rd"), ("Avenue", "Ave"), ("Lane", "Ln")])


@given(number=st.integers(1, 400), name=words, kind=kinds, style=st.integers(0, 3))
def test_household_key_ignores_case_punctuation_spacing_and_abbreviation(
    number: int, name: str, kind: tuple[str, str], style: int
) -> None:
    plain = f"{number} {name} {kind[0]}"
    variant = [
        f"{number} {name} {kind[1]}",
        f"{number}, {name.upper()} {kind[0].upper()}",
        f"  {number}   {name.lower()} {kind[1].lower()}.",
        f"No. {number} {name} {kind[0]}",
    ][style]
    assert household_key(variant, POSTCODE) == household_key(plain, POSTCODE)

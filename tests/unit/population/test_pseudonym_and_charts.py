"""Keyed pseudonyms, and the SVG charts' escaping and descriptions."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joinedup.population import charts
from joinedup.population.pseudonym import Pseudonymiser
from joinedup.population.warehouse_build import ethnic_group


@given(st.uuids())
def test_pseudonym_is_stable_for_a_salt_and_differs_across_salts(person: uuid.UUID) -> None:
    one, again, other = (Pseudonymiser(s) for s in (b"a" * 16, b"a" * 16, b"b" * 16))

    assert one.of(person) == again.of(person)
    assert one.of(person) != other.of(person)
    assert str(person).replace("-", "") not in one.of(person)


def test_pseudonym_refuses_a_short_salt() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        Pseudonymiser(b"short")


def test_pseudonym_salt_fingerprint_reveals_nothing_of_the_salt() -> None:
    salt = b"a-very-secret-salt-value"
    assert Pseudonymiser(salt).fingerprint != Pseudonymiser(b"x" * 24).fingerprint
    assert salt.hex() not in Pseudonymiser(salt).fingerprint


def test_chart_escapes_labels_and_describes_the_extremes() -> None:
    points = [
        charts.Point("<script>", 80.0, 79.0, 81.0),
        charts.Point("B & C", 75.5, 74.0, 77.0),
        charts.Point("Small", None),
    ]

    svg = charts.interval_chart(
        "t", "Title", points, unit="years", reference=78.0, reference_label="Borough"
    )

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert 'aria-labelledby="t-title t-desc"' in svg
    text = charts.describe(points, unit="years", reference=78.0, reference_label="Borough")
    assert "Highest: <script>, 80 years" in text
    assert "Lowest: B & C, 75.5 years" in text
    assert "1 not shown" in text


@pytest.mark.parametrize(
    ("category", "group"),
    [
        ("A", "White"),
        ("c", "White"),
        ("F", "Mixed or multiple"),
        ("J", "Asian or Asian British"),
        ("N", "Black or Black British"),
        ("R", "Other ethnic group"),
        ("Z", "Not stated"),
        ("", None),
        ("Q", None),
    ],
)
def test_ethnic_group_of_each_category(category: str, group: str | None) -> None:
    assert ethnic_group(category) == group

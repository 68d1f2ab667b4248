"""Postcodes and distances: the haversine against known distances and its laws."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joinedup.directory import geo

lat = st.floats(min_value=49.0, max_value=61.0)
lon = st.floats(min_value=-8.0, max_value=2.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sk43qx", "SK4 3QX"),
        (" SK4  3QX ", "SK4 3QX"),
        ("m1 1aa", "M1 1AA"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("SK4", None),
        ("not a postcode", None),
        ("", None),
    ],
)
def test_postcode_normalise_cases(text: str, expected: str | None) -> None:
    assert geo.postcode_normalise(text) == expected


def test_distance_matches_a_known_distance() -> None:
    # One degree of latitude on the mean-radius sphere is 111,195 m.
    assert geo.distance_m(53.0, -2.0, 54.0, -2.0) == pytest.approx(111_195, abs=1)
    # London (51.5074, -0.1278) to Manchester (53.4808, -2.2426): about 262 km.
    assert geo.distance_m(51.5074, -0.1278, 53.4808, -2.2426) == pytest.approx(262_000, rel=0.01)


@given(lat, lon, lat, lon)
def test_distance_is_symmetric_and_never_negative(a: float, b: float, c: float, d: float) -> None:
    there = geo.distance_m(a, b, c, d)
    assert there >= 0
    assert there == pytest.approx(geo.distance_m(c, d, a, b), abs=1e-6)


@given(lat, lon, st.floats(min_value=1, max_value=50_000), st.floats(0, 2 * math.pi))
def test_bounding_box_holds_every_point_within_the_radius(
    a: float, b: float, radius: float, bearing: float
) -> None:
    # A point `radius` metres away on `bearing` (spherical destination formula).
    d = radius / geo.EARTH_RADIUS_M
    p1, l1 = math.radians(a), math.radians(b)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    box = geo.bounding_box(a, b, radius * 1.000001)

    assert box.south <= math.degrees(p2) <= box.north
    assert box.west <= math.degrees(l2) <= box.east


@pytest.mark.parametrize(
    ("metres", "text"), [(50, "50 yards"), (1609.344, "1.0 miles"), (4828, "3.0 miles")]
)
def test_distance_text_reads_as_a_resident_would(metres: float, text: str) -> None:
    assert geo.distance_text(metres) == text


def test_coordinates_off_the_globe_are_not_valid() -> None:
    assert geo.coordinates_valid(53.4, -2.1)
    assert not geo.coordinates_valid(100, 101)
    assert not geo.coordinates_valid(None, 1.0)

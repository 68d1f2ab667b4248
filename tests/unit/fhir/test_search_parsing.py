"""FHIR search values parsed into ranges and conditions (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joinedup.errors import InvalidInput
from joinedup.fhir import search as fs
from joinedup.people.models import Person


@pytest.mark.parametrize(
    ("value", "prefix", "low", "high"),
    [
        ("2024", "eq", datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
        ("ge2024-12", "ge", datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
        ("lt2024-02-29", "lt", datetime(2024, 2, 29, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)),
        (
            "ap2024-01-01T10:30Z",
            "ap",
            datetime(2024, 1, 1, 10, 30, tzinfo=UTC),
            datetime(2024, 1, 1, 10, 31, tzinfo=UTC),
        ),
    ],
)
def test_date_range_follows_precision(
    value: str, prefix: str, low: datetime, high: datetime, settings: object
) -> None:
    settings.TIME_ZONE = "UTC"  # type: ignore[attr-defined]
    assert fs.date_range(value, "birthdate") == (prefix, low, high)


@pytest.mark.parametrize("value", ["2024-13", "2023-02-29", "yesterday", "gt", "0000", "9999x"])
def test_date_range_rejects_impossible_dates(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        fs.date_range(value, "birthdate")
    assert caught.value.where == "birthdate"


@given(st.text(max_size=20))
def test_date_range_never_crashes(value: str) -> None:
    try:
        prefix, low, high = fs.date_range(value, "date")
    except InvalidInput:
        return
    assert low < high
    assert prefix in {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}


def test_cursor_round_trips_and_rejects_garbage() -> None:
    values = [datetime(2024, 1, 1, tzinfo=UTC), "Smith", None, 3]
    decoded = fs.decode_cursor(fs.encode_cursor(values))
    assert decoded == ["2024-01-01T00:00:00+00:00", "Smith", None, 3]
    with pytest.raises(InvalidInput):
        fs.decode_cursor("!!!")
    with pytest.raises(InvalidInput):
        fs.decode_cursor(fs.encode_cursor([]).replace("", "") + "e30")  # "{}": not a list


PARAMS = {
    "family": fs.SearchParam("family", "string", ("family_name",), "x"),
    "identifier": fs.SearchParam("identifier", "token", ("nhs_number",), "x", system="urn:nhs"),
    "birthdate": fs.SearchParam("birthdate", "date", ("date_of_birth",), "x"),
    "_id": fs.SearchParam("_id", "token", ("id",), "x"),
}


def _parse(pairs: list[tuple[str, str]], *, strict: bool = True) -> fs.SearchRequest:
    return fs.parse_search(pairs, PARAMS, model=Person, strict=strict)


def test_unknown_parameter_strict_or_ignored() -> None:
    with pytest.raises(InvalidInput) as caught:
        _parse([("colour", "blue")])
    assert caught.value.where == "colour"
    assert _parse([("colour", "blue")], strict=False).ignored == ["colour"]


def test_result_parameters_are_understood() -> None:
    request = _parse(
        [
            ("_count", "5000"),
            ("_sort", "-birthdate,family"),
            ("_summary", "count"),
            ("_total", "none"),
            ("_include", "Patient:general-practitioner"),
        ]
    )
    assert request.count == fs.MAX_COUNT
    assert request.sort == [("date_of_birth", True), ("family_name", False)]
    assert request.summary_count
    assert not request.total
    assert request.includes == [fs.Include("Patient", "general-practitioner", None)]


@pytest.mark.parametrize(
    "pair",
    [
        ("_count", "-1"),
        ("_sort", "colour"),
        ("family:below", "x"),
        ("_summary", "text"),
        ("birthdate", "soon"),
        ("family", ""),
        ("_include", "Patient"),
        ("identifier:exact", "1"),
    ],
)
def test_malformed_parameters_are_400(pair: tuple[str, str]) -> None:
    with pytest.raises(InvalidInput):
        _parse([pair])


def _matches_nothing(condition: object) -> bool:
    """Every leaf is the empty-set condition the builders use for 'no match'."""
    children = getattr(condition, "children", None)
    if children is None:
        return condition == ("pk__in", [])
    return all(_matches_nothing(child) for child in children)


def test_token_with_another_system_matches_nothing() -> None:
    condition = _parse([("identifier", "urn:other|123")]).conditions[0]
    assert _matches_nothing(condition)
    assert not _matches_nothing(_parse([("identifier", "urn:nhs|123")]).conditions[0])


def test_malformed_uuid_id_matches_nothing_instead_of_crashing() -> None:
    assert _matches_nothing(_parse([("_id", "not-a-uuid")]).conditions[0])

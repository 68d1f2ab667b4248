"""The workers hand back rows ready for the database; nothing about validation changes.

``prepare_lines`` must accept and refuse exactly the lines ``validate_lines`` does, for the
same field and reason, and lay each accepted row out as the writer stores it: JSON text
byte for byte as ``json.dumps`` writes it, datetimes as Django's SQLite adapter writes
them, blanks where a feed gives no value. The faster JSON parser must read what
``json.loads`` reads.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joinedup.record.feeds import FieldSpec, FileSpec, load_feeds
from joinedup.record.fields import (
    FACT_VALUE_COLUMNS,
    IDENTITY_COLUMNS,
    Context,
    Prepared,
    RowError,
    Storage,
    _json_loads,
    fhir_path,
    json_object,
    line_text,
    prepare_lines,
    validate_lines,
)

CONTEXT = Context(practices=frozenset({"Z88001"}))
SQLITE = Storage(
    zone=UTC,
    dates=frozenset({"date_of_birth", "date_of_death"}),
    datetimes=frozenset({"occurred_at", "ended_at", "received_at"}),
)
POSTGRESQL = Storage(zone=None, dates=SQLITE.dates, datetimes=SQLITE.datetimes)

scalars = st.one_of(
    st.text(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
)


@given(st.dictionaries(st.text(), scalars))
def test_json_object_is_byte_for_byte_what_json_dumps_writes(values: dict[str, Any]) -> None:
    assert json_object(values.items()) == json.dumps(values)


json_values = st.recursive(
    st.none() | st.booleans() | scalars,
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 is not 1.0; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


@given(json_values)
def test_the_json_reader_reads_what_json_loads_reads(value: Any) -> None:
    text = json.dumps(value)
    assert _same(_json_loads(text), json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        '{"value": 123456789012345678901234567890}',  # beyond 64 bits: still an int
        '{"value": -9355859230547610073}',
        '{"value": NaN, "other": -Infinity}',
        '{"value": 1E400}',
        '{"text": "\\ud800"}',  # a lone surrogate escape
        '{"text": "\\ud83d\\ude00 Zo\\u00eb"}',
        '{"a": 1, "a": 2}',
        "[" * 300 + "]" * 300,  # deeper than pydantic-core parses
        '{"value": 1.0, "n": -0, "f": -0.0, "e": 1e5}',
    ],
)
def test_the_json_reader_agrees_with_json_loads_at_the_edges(text: str) -> None:
    assert _same(_json_loads(text), json.loads(text))


@pytest.mark.parametrize("text", ['{"a": 1', '{"a": 1}x', "[1,]", "{'a': 1}", "nan", ""])
def test_the_json_reader_refuses_what_json_loads_refuses(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(RowError, match="not valid JSON"):
        _json_loads(text)


def test_a_line_is_decoded_without_its_carriage_return_or_not_at_all() -> None:
    assert line_text(b"a,b\r") == "a,b"
    assert line_text("Zoë".encode()) == "Zoë"
    assert line_text("Zoë".encode("latin-1")) is None


PATIENTS = FileSpec(
    feed="hospital",
    path="hospital/patients.csv",
    format="csv",
    role="identity",
    id=FieldSpec("id", "mrn", required=True),
    fields=(
        FieldSpec("given_name", "forename", required=True),
        FieldSpec("date_of_birth", "dob", "date", "%d/%m/%Y"),
        FieldSpec("postcode", "postcode", "postcode"),
    ),
)
ADMISSIONS = FileSpec(
    feed="hospital",
    path="hospital/admissions.csv",
    format="csv",
    role="fact",
    kind="admission",
    code_system="http://snomed.info/sct",
    id=FieldSpec("id", "spell", required=True),
    person=FieldSpec("person", "mrn", required=True),
    fields=(
        FieldSpec("occurred_at", "admitted", "datetime", "%d/%m/%Y %H:%M", required=True),
        FieldSpec("code", "code", "sctid"),
        FieldSpec("ward", "ward"),
        FieldSpec("ready", "ready", "date", "%d/%m/%Y"),
        FieldSpec("value", "hours", "float"),
    ),
)


def _one(results: list[Prepared | RowError]) -> Prepared:
    (result,) = results
    assert not isinstance(result, RowError), result
    return result


def test_an_identity_row_comes_back_in_the_identity_columns_with_blanks() -> None:
    key, person, values, fact = _one(
        prepare_lines(
            PATIENTS,
            [b"M1,Zo\xc3\xab,10/12/1935,"],
            ["mrn", "forename", "dob", "postcode"],
            CONTEXT,
            SQLITE,
        )
    )
    row = dict(zip(IDENTITY_COLUMNS, values, strict=True))
    assert (key, person, fact) == ("M1", None, None)
    assert row == {
        "source": "hospital",
        "source_id": "M1",
        "address": "",
        "date_of_birth": "1935-12-10",
        "date_of_death": None,
        "ethnic_category": "",
        "family_name": "",
        "given_name": "Zoë",
        "nhs_number": "",
        "postcode": "",
        "practice_code": "",
        "sex": "unknown",
    }


HEADER = ["spell", "mrn", "admitted", "code", "ward", "ready", "hours"]


def test_a_fact_row_has_its_columns_its_detail_as_json_text_and_sqlite_datetimes() -> None:
    key, person, values, fact = _one(
        prepare_lines(
            ADMISSIONS,
            [b"SP1,M1,01/03/2025 10:30,38341003,AMU \xe2\x80\x9c1\xe2\x80\x9d,03/03/2025,"],
            HEADER,
            CONTEXT,
            SQLITE,
        )
    )
    row = dict(zip(FACT_VALUE_COLUMNS, values, strict=True))
    assert (key, person, fact) == ("SP1", "M1", None)
    assert row["detail"] == json.dumps({"ward": "AMU “1”", "ready": "2025-03-03"})
    assert (row["occurred_at"], row["ended_at"], row["value"]) == (
        "2025-03-01 10:30:00",
        None,
        None,
    )
    assert (row["code"], row["code_system"], row["kind"]) == (
        "38341003",
        "http://snomed.info/sct",
        "admission",
    )
    assert (row["display"], row["status"], row["unit"]) == ("", "", "")


def test_a_fact_without_a_code_has_no_code_system() -> None:
    _, _, values, _ = _one(
        prepare_lines(ADMISSIONS, [b"SP1,M1,01/03/2025 10:30,,AMU1,,7.5"], HEADER, CONTEXT, SQLITE)
    )
    row = dict(zip(FACT_VALUE_COLUMNS, values, strict=True))
    assert (row["code"], row["code_system"], row["value"]) == ("", "", 7.5)
    assert row["detail"] == '{"ward": "AMU1"}'


def test_datetimes_are_written_as_the_sqlite_adapter_and_for_postgresql_keep_their_offset() -> None:
    spec = FileSpec(
        feed="gp",
        path="gp/Encounter.ndjson",
        format="ndjson",
        role="fact",
        kind="encounter",
        resource="Encounter",
        id=FieldSpec("id", "id", required=True),
        person=FieldSpec("person", "subject.reference", "reference", required=True),
        fields=(FieldSpec("occurred_at", "period.start", "datetime", required=True),),
    )
    line = (
        b'{"resourceType": "Encounter", "id": "E1", "status": "finished", '
        b'"class": {"code": "AMB"}, "subject": {"reference": "Patient/P1"}, '
        b'"period": {"start": "2025-06-01T23:30:15.5+01:00"}}'
    )
    (sqlite,) = prepare_lines(spec, [line], None, CONTEXT, SQLITE)
    (postgresql,) = prepare_lines(spec, [line], None, CONTEXT, POSTGRESQL)
    assert not isinstance(sqlite, RowError)
    assert not isinstance(postgresql, RowError)
    at = FACT_VALUE_COLUMNS.index("occurred_at")
    assert sqlite[1] == "P1"
    assert sqlite[2][at] == "2025-06-01 22:30:15.500000"  # naive UTC, as Django writes it
    assert postgresql[2][at] == "2025-06-01 23:30:15.500000+01:00"
    instant = datetime(2025, 6, 1, 23, 30, 15, 500000, tzinfo=timezone(timedelta(hours=1)))
    assert datetime.fromisoformat(postgresql[2][at]) == instant


def test_every_line_is_refused_exactly_as_validate_lines_refuses_it() -> None:
    lines = [
        b"SP1,M1,01/03/2025 10:30,38341003,AMU1,03/03/2025,7.5",
        b"SP2,M1,31/02/2025 10:30,,AMU1,,",
        b"SP3,M1,01/03/2025 10:30,38341004,AMU1,,",
        b"SP4,,01/03/2025 10:30,,AMU1,,",
        b"SP5,M1,01/03/2025",
        "SP6,M1,01/03/2025 10:30,,Zoë,,".encode("latin-1"),
        b"SP7,M1,01/03/2025 10:30,,AMU1,,many",
        b"SP8,M1,01/03/2025 10:30,,AMU1,,\r",
    ]
    checked = validate_lines(ADMISSIONS, [line_text(raw) for raw in lines], HEADER, CONTEXT)
    prepared = prepare_lines(ADMISSIONS, lines, HEADER, CONTEXT, SQLITE)
    assert len(prepared) == len(checked) == len(lines)
    for before, after in zip(checked, prepared, strict=True):
        if isinstance(before, RowError):
            assert isinstance(after, RowError)
            assert (after.field, after.reason) == (before.field, before.reason)
        else:
            assert not isinstance(after, RowError)
            assert (after[0], after[1]) == (before["id"], before["person"])
    assert [isinstance(r, RowError) for r in prepared] == [
        False,
        True,
        True,
        True,
        True,
        True,
        True,
        False,
    ]


def test_every_configured_file_lays_out_its_rows() -> None:
    """Each file of feeds.toml gets a layout (a death registration is an identity and a fact)."""
    for feed in load_feeds().values():
        for spec in feed.files:
            assert prepare_lines(spec, [], ["x"], CONTEXT, SQLITE) == []
    deaths = next(s for s in load_feeds()["deaths"].files if s.fact_kind)
    header = [
        "registration_id",
        "nhs_number",
        "forename",
        "surname",
        "date_of_birth",
        "sex",
        "usual_residence_postcode",
        "date_of_death",
        "underlying_cause_icd10",
        "cause_description",
        "place_of_death",
    ]
    line = b"D1,,Ada,King,1935-12-10,F,SK1 3XE,2025-01-02,I21.9,Heart attack,Home"
    key, person, identity, fact = _one(prepare_lines(deaths, [line], header, CONTEXT, SQLITE))
    assert (key, person) == ("D1", None)
    assert dict(zip(IDENTITY_COLUMNS, identity, strict=True))["date_of_death"] == "2025-01-02"
    assert fact is not None
    death = dict(zip(FACT_VALUE_COLUMNS, fact, strict=True))
    assert (death["kind"], death["code"], death["code_system"]) == (
        "death",
        "I21.9",
        "http://hl7.org/fhir/sid/icd-10",
    )
    assert death["occurred_at"] == "2025-01-02 00:00:00"
    assert death["detail"] == '{"place": "Home"}'


def _walk(node: Any, steps: list[tuple[str, list[int | tuple[str, str]]]]) -> Any:
    """The path walk written plainly, to hold the compiled one to."""
    for name, picks in steps:
        node = node.get(name) if isinstance(node, dict) else None
        for pick in picks:
            if not isinstance(node, list):
                return None
            if isinstance(pick, int):
                node = node[pick] if pick < len(node) else None
            else:
                key, wanted = pick
                node = next((n for n in node if isinstance(n, dict) and n.get(key) == wanted), None)
        if node is None:
            return None
    return node


names = st.sampled_from(["a", "b", "system"])
picks = st.one_of(
    st.integers(min_value=0, max_value=2), st.tuples(st.just("system"), st.sampled_from("xy"))
)
paths = st.lists(st.tuples(names, st.lists(picks, max_size=2)), min_size=1, max_size=4)
trees = st.recursive(
    st.none() | st.integers() | st.sampled_from("xy"),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=3),
    max_leaves=25,
)


resources = st.fixed_dictionaries(
    {"a": st.lists(trees, max_size=4), "b": trees, "system": st.sampled_from("xy")}
)


@settings(max_examples=600)
@given(resources, paths)
def test_a_compiled_fhir_path_finds_what_the_plain_walk_finds(
    resource: dict[str, Any], steps: list[tuple[str, list[int | tuple[str, str]]]]
) -> None:
    for end in range(1, len(steps) + 1):  # the path and each of its beginnings
        path = ".".join(
            name + "".join(f"[{p}]" if isinstance(p, int) else f"[{p[0]}={p[1]}]" for p in chosen)
            for name, chosen in steps[:end]
        )
        assert fhir_path(resource, path) == _walk(resource, steps[:end]), path

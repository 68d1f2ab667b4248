from __future__ import annotations

import pytest

from joinedup.record.feeds import FieldSpec, FileSpec, load_feeds
from joinedup.record.fields import (
    Context,
    RowError,
    convert,
    fhir_modules,
    fhir_path,
    is_sctid,
    validate_lines,
)

CONTEXT = Context(practices=frozenset({"Z88001"}))


@pytest.mark.parametrize("code", ["38341003", "999791000000106", "1011481000000105", "84114007"])
def test_real_snomed_concept_ids_pass(code: str) -> None:
    assert is_sctid(code)


@pytest.mark.parametrize("code", ["999999999999", "38341004", "0123456", "XX99", "12345"])
def test_impossible_snomed_ids_fail(code: str) -> None:
    assert not is_sctid(code)


def test_fhir_path_follows_indexes_and_selectors() -> None:
    patient = {
        "identifier": [
            {"system": "other", "value": "1"},
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"},
        ],
        "name": [{"given": ["Ada", "Augusta"], "family": "King"}],
    }
    assert fhir_path(patient, "identifier[system=https://fhir.nhs.uk/Id/nhs-number].value") == (
        "9434765919"
    )
    assert fhir_path(patient, "name[0].given[1]") == "Augusta"
    assert fhir_path(patient, "name[3].given[0]") is None
    assert fhir_path(patient, "address[0].postalCode") is None


@pytest.mark.parametrize(
    ("spec", "raw", "reason"),
    [
        (FieldSpec("dob", "dob", "date", "%d/%m/%Y", required=True), "", "required"),
        (FieldSpec("dob", "dob", "date", "%d/%m/%Y"), "31/02/1950", "not a valid date"),
        (FieldSpec("nhs", "nhs", "nhs_number"), "1111111111", "placeholder"),
        (FieldSpec("sex", "sex", "code", codes={"F": "female"}), "Q", "not a known code"),
        (FieldSpec("gp", "gp", "practice"), "X99999", "not a known GP practice"),
        (FieldSpec("pc", "pc", "postcode"), "NOT A PC", "not a UK postcode"),
        (FieldSpec("n", "n", "int"), "twelve", "not a valid int"),
    ],
)
def test_convert_names_the_field_and_the_reason(spec: FieldSpec, raw: str, reason: str) -> None:
    with pytest.raises(RowError) as caught:
        convert(spec, raw, CONTEXT)
    assert caught.value.field == spec.name
    assert reason in caught.value.reason


def test_every_feed_in_the_configuration_loads() -> None:
    feeds = load_feeds()
    assert {
        "gp",
        "hospital",
        "community",
        "socialcare_adults",
        "socialcare_children",
        "hospice",
        "deaths",
    } <= feeds.keys()
    for feed in feeds.values():
        for spec in feed.files:
            assert spec.id.required, spec.path
            assert spec.role == "identity" or spec.person is not None, spec.path


CSV_SPEC = FileSpec(
    feed="test",
    path="test.csv",
    format="csv",
    role="identity",
    id=FieldSpec("id", "ref", required=True),
    fields=(
        FieldSpec("given_name", "name", required=True),
        FieldSpec("postcode", "postcode", "postcode"),
    ),
)


def test_a_csv_row_reads_columns_by_name_and_a_repeated_column_by_its_last_place() -> None:
    rows = validate_lines(
        CSV_SPEC,
        ["R1,Ada,sk1 3xe,Augusta", "R2,Ada,SK1 3XE,", "R3,Ann,NOWHERE,Ann", "R4,Bo", None],
        ["ref", "name", "postcode", "name"],
        CONTEXT,
    )
    named_last, blank_last, bad_postcode, short, not_text = rows
    assert named_last == {"id": "R1", "given_name": "Augusta", "postcode": "SK1 3XE"}
    assert isinstance(blank_last, RowError)
    assert (blank_last.field, blank_last.reason) == ("given_name", "name is required")
    assert isinstance(bad_postcode, RowError)
    assert bad_postcode.field == "postcode"
    assert isinstance(short, RowError)
    assert "expected 4 values, found 2" in short.reason
    assert isinstance(not_text, RowError)
    assert "UTF-8" in not_text.reason


def test_a_required_field_whose_column_is_absent_names_the_column() -> None:
    (row,) = validate_lines(CSV_SPEC, ["R1,SK1 3XE"], ["ref", "postcode"], CONTEXT)
    assert isinstance(row, RowError)
    assert (row.field, row.reason) == ("given_name", "the file has no column name")


def test_the_fhir_models_of_the_configured_files_are_named_for_preloading() -> None:
    specs = [spec for feed in load_feeds().values() for spec in feed.files]
    modules = fhir_modules(specs)
    assert "fhir.resources.R4B.patient" in modules
    assert "fhir.resources.R4B.observation" in modules
    assert all(m.startswith("fhir.resources.R4B.") for m in modules)
    assert len(modules) == len({s.resource for s in specs if s.format == "ndjson"})

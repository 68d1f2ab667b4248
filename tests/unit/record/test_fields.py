from __future__ import annotations

import pytest

from joinedup.record.feeds import FieldSpec, load_feeds
from joinedup.record.fields import Context, RowError, convert, fhir_path, is_sctid

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

"""The one loss check every FHIR write goes through, and the version rule every type reads by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from joinedup.fhir import roundtrip, versions
from joinedup.fhir.errors import Unprocessable

KEPT = {
    "resourceType": "Task",
    "status": "requested",
    "for": {"reference": "Patient/5b0d1c3e-0000-4000-8000-000000000001"},
    "authoredOn": "2026-11-30T09:15:00+00:00",
    "note": [{"text": "Call before visiting"}],
}


def test_what_comes_back_as_sent_passes() -> None:
    sent = {**KEPT, "id": "12", "meta": {"versionId": "3"}}  # the server's own elements
    roundtrip.require_lossless("Task", sent, KEPT)


def test_an_element_with_no_place_is_refused_by_name() -> None:
    sent = {**KEPT, "priority": "urgent"}
    with pytest.raises(Unprocessable) as refused:
        roundtrip.require_lossless("Task", sent, KEPT)
    assert refused.value.where == "Task.priority"
    assert "no place" in str(refused.value.detail)


def test_an_element_kept_differently_is_refused_at_its_path() -> None:
    sent = {**KEPT, "note": [{"text": "Call before visiting"}, {"text": "Dog in the house"}]}
    with pytest.raises(Unprocessable) as refused:
        roundtrip.require_lossless("Task", sent, KEPT)
    assert refused.value.where == "Task.note[1]"

    changed = {**KEPT, "status": "ready"}
    with pytest.raises(Unprocessable) as refused:
        roundtrip.require_lossless("Task", changed, KEPT)
    assert refused.value.where == "Task.status"
    assert "read back differently" in str(refused.value.detail)


def test_times_compare_as_instants_and_references_as_type_and_id() -> None:
    sent = {
        **KEPT,
        "authoredOn": "2026-11-30T10:15:00+01:00",
        "for": {
            "reference": "https://example.org/fhir/R4/Patient/5b0d1c3e-0000-4000-8000-000000000001"
        },
    }
    roundtrip.require_lossless("Task", sent, KEPT)
    other = {**KEPT, "for": {"reference": "Patient/another"}}
    with pytest.raises(Unprocessable) as refused:
        roundtrip.require_lossless("Task", other, KEPT)
    assert refused.value.where == "Task.for.reference"


def test_security_labels_are_refused_before_anything_is_read() -> None:
    roundtrip.refuse_labels("Task", {"meta": {"versionId": "1", "profile": ["x"]}})
    with pytest.raises(Unprocessable) as refused:
        roundtrip.refuse_labels("Task", {"meta": {"tag": [{"code": "x"}], "security": []}})
    assert refused.value.where == "Task.meta.security"


def test_a_year_alone_cannot_be_kept_as_a_moment() -> None:
    with pytest.raises(Unprocessable):
        roundtrip.moment_of("2026", "Task.authoredOn")
    assert roundtrip.moment_of("2026-11-30", "x") == datetime(2026, 11, 30, tzinfo=UTC)


def test_the_current_version_moves_when_the_row_changed_outside_fhir() -> None:
    written = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert versions.current_version(None, written) == 1
    assert versions.current_version((3, written), written) == 3
    assert versions.current_version((3, written), written + timedelta(seconds=1)) == 4
    assert versions.current_version((3, written), None) == 3

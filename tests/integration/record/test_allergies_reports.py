"""The GP feed's allergies and lab reports: every row accepted or quarantined with a reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from joinedup.record.ingest import ingest_folder
from joinedup.record.models import Fact, QuarantinedRow

pytestmark = pytest.mark.django_db(transaction=True)

SNOMED = "http://snomed.info/sct"
PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
    "name": [{"family": "Lovelace", "given": ["Ada"]}],
    "gender": "female",
    "birthDate": "1935-12-10",
    "generalPractitioner": [{"identifier": {"value": "Z88001"}}],
}
OBSERVATION = {
    "resourceType": "Observation",
    "id": "obs-1",
    "status": "final",
    "code": {"coding": [{"system": SNOMED, "code": "999791000000106", "display": "HbA1c"}]},
    "subject": {"reference": "Patient/p1"},
    "effectiveDateTime": "2025-03-01",
    "valueQuantity": {"value": 48, "unit": "mmol/mol"},
}


def _allergy(record_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": record_id,
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "type": "allergy",
        "category": ["medication"],
        "criticality": "high",
        "code": {"coding": [{"system": SNOMED, "code": "91936005", "display": "Penicillin"}]},
        "patient": {"reference": "Patient/p1"},
        "recordedDate": "2019-06-01",
        "reaction": [{"manifestation": [{"coding": [{"code": "39579001", "display": "Ana"}]}]}],
    }
    body.update(changes)
    return body


def _report(record_id: str, results: list[str], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": record_id,
        "status": "final",
        "category": [{"coding": [{"code": "LAB"}]}],
        "code": {"coding": [{"system": SNOMED, "code": "43396009", "display": "HbA1c"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2025-03-01",
        "issued": "2025-03-03T11:00:00+00:00",
        "performer": [{"identifier": {"value": "RZ9"}}],
        "result": [{"reference": f"Observation/{r}"} for r in results],
    }
    body.update(changes)
    return body


def _write(folder: Path, name: str, lines: list[str]) -> None:
    (folder / "gp").mkdir(parents=True, exist_ok=True)
    (folder / "gp" / name).write_text("\n".join(lines) + "\n")


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "organisations.csv").write_text(
        "org_code,name,type,neighbourhood,lsoa_code,list_size\n"
        "Z88001,Test Surgery,GP practice,,,1000\n"
    )
    _write(tmp_path, "Patient.ndjson", [json.dumps(PATIENT)])
    _write(tmp_path, "Observation.ndjson", [json.dumps(OBSERVATION)])
    good = json.dumps(_allergy("alg-1"))
    _write(
        tmp_path,
        "AllergyIntolerance.ndjson",
        [
            good,
            json.dumps(_allergy("alg-2", criticality="severe")),  # not a FHIR criticality
            json.dumps(_allergy("alg-3", recordedDate="2023-02-30")),
            json.dumps(_allergy("alg-4", patient={"reference": "Patient/nobody"})),
            json.dumps(_allergy("alg-5", category=["drug"])),
            good,  # a duplicate
            good[:90],  # cut short
            json.dumps(
                _allergy(
                    "alg-6",
                    code={"coding": [{"system": SNOMED, "code": "999999999999"}]},
                )
            ),
        ],
    )
    _write(
        tmp_path,
        "DiagnosticReport.ndjson",
        [
            json.dumps(_report("rep-1", ["obs-1", "obs-9"])),
            json.dumps(_report("rep-2", ["obs-1"], effectiveDateTime="2025-13-01")),
        ],
    )
    return tmp_path


def test_broken_allergy_rows_are_quarantined_and_nothing_is_lost(delivery: Path) -> None:
    reports = {r.path: r for r in ingest_folder(delivery, workers=1)}

    allergies = reports["gp/AllergyIntolerance.ndjson"]
    assert (allergies.rows_in, allergies.accepted, allergies.quarantined) == (8, 1, 7)
    for report in reports.values():
        assert report.rows_in == report.accepted + report.quarantined, report
    fields = dict(
        QuarantinedRow.objects.filter(delivery__path="gp/AllergyIntolerance.ndjson").values_list(
            "line", "field"
        )
    )
    assert fields[2] == "criticality"
    assert fields[4] == "person"
    assert fields[6] == "id"
    assert fields[7] == "line"
    assert fields[8] == "code"


def test_an_accepted_allergy_keeps_its_statuses_in_the_fact(delivery: Path) -> None:
    ingest_folder(delivery, workers=1)

    fact = Fact.objects.for_system("test").get(kind="allergy")
    assert (fact.code, fact.status, fact.source) == ("91936005", "active", "gp")
    assert fact.occurred_at is not None
    assert fact.occurred_at.date().isoformat() == "2019-06-01"
    assert fact.detail == {
        "verification": "confirmed",
        "category": "medication",
        "criticality": "high",
        "reaction_code": "39579001",
        "reaction": "Ana",
    }


def test_a_report_keeps_its_result_record_ids(delivery: Path) -> None:
    reports = {r.path: r for r in ingest_folder(delivery, workers=1)}

    assert reports["gp/DiagnosticReport.ndjson"].accepted == 1
    assert reports["gp/DiagnosticReport.ndjson"].quarantined == 1
    fact = Fact.objects.for_system("test").get(kind="diagnostic_report")
    assert fact.organisation == "RZ9"
    assert fact.detail["result_0"] == "obs-1"
    assert fact.detail["result_1"] == "obs-9"
    assert "result_2" not in fact.detail
    assert fact.detail["category"] == "LAB"
    assert fact.detail["issued"].startswith("2025-03-03T11:00")

"""The GP extract's allergies and lab reports: valid R4, realistic rates, sound references."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from joinedup.synth import allergies
from joinedup.synth.clinical import Cohort
from joinedup.synth.streams import stream


def _resources(borough: Path, name: str) -> dict[int, dict[str, Any]]:
    """Line number -> resource, leaving out the rows the truth says were broken on purpose."""
    with (borough / "truth" / "malformed.csv").open() as handle:
        broken = {int(r["row"]) for r in csv.DictReader(handle) if r["file"] == name}
    out = {}
    with (borough / name).open() as handle:
        for number, line in enumerate(handle, start=1):
            if number not in broken:
                out[number] = json.loads(line)
    return out


@pytest.mark.parametrize("resource", ["AllergyIntolerance", "DiagnosticReport"])
def test_every_unbroken_row_is_valid_r4(borough: Path, resource: str) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    rows = _resources(borough, f"gp/{resource}.ndjson")

    assert len(rows) > 50
    model = get_fhir_model_class(resource)
    for body in rows.values():
        model.model_validate(body)


def test_reports_group_lab_observations_of_the_same_person_and_day(borough: Path) -> None:
    observations = {
        body["id"]: body for body in _resources(borough, "gp/Observation.ndjson").values()
    }
    lab_codes = {"999791000000106", "1011481000000105"}
    reports = _resources(borough, "gp/DiagnosticReport.ndjson").values()
    with (borough / "gp/DiagnosticReport.ndjson").open() as handle:
        broken_reports = sum(1 for _ in handle) - len(reports)

    checked = 0
    for report in reports:
        assert report["status"] == "final"
        assert report["category"][0]["coding"][0]["code"] == "LAB"
        assert report["performer"][0]["identifier"]["value"] == "RZ9"
        assert report["issued"][:10] >= report["effectiveDateTime"]
        assert 1 <= len(report["result"]) <= allergies.MAX_RESULTS
        for result in report["result"]:
            observation = observations.get(result["reference"].removeprefix("Observation/"))
            if observation is None:  # that observation's row was broken on purpose
                continue
            checked += 1
            assert observation["subject"] == report["subject"]
            assert observation["effectiveDateTime"] == report["effectiveDateTime"]
            assert observation["code"]["coding"][0]["code"] in lab_codes
    lab_rows = sum(o["code"]["coding"][0]["code"] in lab_codes for o in observations.values())
    # Every lab observation is a result of some report (bar those of broken report rows).
    assert lab_rows - allergies.MAX_RESULTS * broken_reports <= checked <= lab_rows


def _cohort(n: int, seed: int) -> Cohort:
    rng = np.random.default_rng(seed)
    extract = np.datetime64("2026-03-31", "D")
    age_days = (rng.random(n) * 95 * 365.25).astype(np.int64)
    return Cohort(
        sex=np.where(rng.random(n) < 0.5, "F", "M"),
        dob=extract - age_days * np.timedelta64(1, "D"),
        entry=np.full(n, np.datetime64("2021-04-01", "D")),
        exit=np.full(n, extract),
        z=rng.standard_normal(n),
        frailty=rng.standard_normal(n),
    )


def test_allergy_rates_are_those_of_uk_primary_care() -> None:
    n = 200_000
    cohort = _cohort(n, 3)

    table = allergies.allergies(stream(7, "allergies"), cohort)

    def share(mask: Any) -> float:
        return np.unique(table["person"][mask]).size / n

    drug = table["category"] == "medication"
    assert 0.06 <= share(drug) <= 0.10
    assert 0.04 <= share(table["code"] == "91936005") <= 0.07
    by_code = Counter(table["code"][drug].tolist())
    assert by_code.most_common(1)[0][0] == "91936005"  # penicillin, by far
    assert 0.01 <= share(table["category"] == "food") <= 0.04
    assert 0.01 <= share(table["category"] == "environment") <= 0.04
    per_person = np.bincount(table["person"])
    assert 0.005 <= (per_person > 1).sum() / n <= 0.03  # one or more, for a minority
    keys = table["person"] * 10_000 + table["allergen"]
    assert np.unique(keys).size == keys.size  # never the same allergen twice
    assert set(table["clinical"]) == {"active", "resolved"}
    assert (table["recorded"] >= cohort.dob[table["person"]]).all()
    assert (table["recorded"] < cohort.exit[table["person"]]).all()


def test_allergies_are_deterministic_and_drawn_from_their_own_stream() -> None:
    cohort = _cohort(20_000, 5)

    first = allergies.allergies(stream(7, "allergies"), cohort)
    again = allergies.allergies(stream(7, "allergies"), cohort)
    other = allergies.allergies(stream(8, "allergies"), cohort)

    for name in first:
        assert np.array_equal(first[name], again[name])
    assert not np.array_equal(first["person"], other["person"])


def test_lab_reports_split_at_most_four_results_per_report() -> None:
    day = np.datetime64("2024-05-01", "D")
    observations = {
        "person": np.array([1, 1, 1, 1, 1, 1, 2, 2]),
        "date": np.array([day] * 8),
        "kind": np.array(["hba1c"] * 5 + ["egfr", "bp", "egfr"]),
    }

    reports, results = allergies.lab_reports(stream(1, "lab_reports"), observations)

    assert reports["person"].tolist() == [1, 1, 1, 2]
    assert reports["panel"].tolist() == [0, 0, 1, 1]
    assert np.bincount(results["report"]).tolist() == [4, 1, 1, 1]
    assert 6 not in results["observation"].tolist()  # blood pressure is not a lab result
    assert (reports["issued"].astype("datetime64[D]") >= reports["date"]).all()

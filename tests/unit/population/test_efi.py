"""The eFI kernel: the reference tables, the value rules, the 13-deficit boundary, and
agreement with the synthetic borough's own eFI computed from its written GP export."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from joinedup.population import efi

EFI = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "efi"


@pytest.fixture(scope="module")
def reference() -> efi.EfiReference:
    if not (EFI / "efi_codes.csv").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the eFI reference tables are missing at {EFI}")
        pytest.skip(f"the eFI reference tables are not at {EFI}")
    return efi.EfiReference.load(EFI)


def test_efi_categories_treat_13_deficits_as_severe() -> None:
    counts = np.arange(0, 37)

    category = efi.categorise(counts)

    assert list(category[[0, 4, 5, 8, 9, 12, 13, 36]]) == [
        "fit",
        "fit",
        "mild",
        "mild",
        "moderate",
        "moderate",
        "severe",
        "severe",
    ]
    assert 13 / 36 > 0.36  # the reason: the exact score is above the cut-point


def test_efi_categorise_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="0 to 36"):
        efi.categorise([37])


def test_efi_reference_loads_36_deficits_and_combination_codes(reference: efi.EfiReference) -> None:
    assert len(reference.labels) == 36
    assert len(reference.rules) == 22
    assert any(len(d) == 2 for d in reference.code_deficits.values())  # combination codes
    assert reference.code_deficits["21134002"] == (1,)  # Disability (finding): activity limitation


def test_efi_counts_each_deficit_once_and_combination_codes_twice(
    reference: efi.EfiReference,
) -> None:
    combo = next(c for c, d in reference.code_deficits.items() if len(d) == 2)
    single = next(c for c, d in reference.code_deficits.items() if d == (1,))

    result = efi.efi(
        2,
        reference=reference,
        finding_person=[0, 0, 0, 1],
        finding_code=[single, single, "not-a-code", combo],
    )

    assert result.count.tolist() == [1, 2]
    assert result.score[1] == pytest.approx(2 / 36)


def test_efi_value_rules_need_the_value_and_the_sex(reference: efi.EfiReference) -> None:
    # eGFR 451E. below 60 is CKD (deficit 6); Hb 423.. at 12 g/dL is anaemia for men only.
    result = efi.efi(
        3,
        reference=reference,
        finding_person=[],
        finding_code=[],
        measurement_person=[0, 1, 2, 2],
        measurement_code=["451E.", "451E.", "423..", "423.."],
        measurement_value=[45.0, 75.0, 12.0, 12.0],
        person_sex=["F", "F", "M"],
    )

    assert result.deficits[0, 5]
    assert not result.deficits[1, 5]
    assert result.deficits[2, 1]
    female = efi.efi(
        1,
        reference=reference,
        finding_person=[],
        finding_code=[],
        measurement_person=[0],
        measurement_code=["423.."],
        measurement_value=[12.0],
        person_sex=["F"],
    )
    assert not female.deficits[0, 1]


def test_efi_polypharmacy_needs_five_distinct_medicines(reference: efi.EfiReference) -> None:
    result = efi.efi(
        2,
        reference=reference,
        finding_person=[],
        finding_code=[],
        medicine_person=[0] * 5 + [1] * 6,
        medicine_code=list("abcde") + list("aabbcd"),
    )

    assert result.deficits[:, efi.POLYPHARMACY_DEFICIT - 1].tolist() == [True, False]


def _gp_export(folder: Path) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    findings: dict[str, list[str]] = {}
    medicines: dict[str, set[str]] = {}
    window = ("2025-03-31", "2026-03-31")  # the 12 months before the extract's reference day
    for line in (folder / "gp" / "Condition.ndjson").read_text().splitlines():
        try:
            r = json.loads(line)
            findings.setdefault(r["subject"]["reference"][8:], []).append(
                r["code"]["coding"][0]["code"]
            )
        except (ValueError, KeyError):
            continue  # a deliberately broken row of the synthetic export
    for line in (folder / "gp" / "MedicationStatement.ndjson").read_text().splitlines():
        try:
            r = json.loads(line)
            start, end = r["effectivePeriod"]["start"], r["effectivePeriod"].get("end", "9999")
            if start <= window[1] and end >= window[0]:
                medicines.setdefault(r["subject"]["reference"][8:], set()).add(
                    r["medicationCodeableConcept"]["coding"][0]["code"]
                )
        except (ValueError, KeyError):
            continue
    return findings, medicines


def test_efi_agrees_with_the_synthetic_borough(reference: efi.EfiReference, borough: Path) -> None:
    with (borough / "truth" / "persons.csv").open() as handle:
        truth = {r["true_person_id"]: r for r in csv.DictReader(handle)}
    with (borough / "truth" / "identities.csv").open() as handle:
        gp = {
            r["source_id"]: r["true_person_id"]
            for r in csv.DictReader(handle)
            if r["source"] == "gp"
        }
    findings, medicines = _gp_export(borough)
    people = [
        sid
        for sid, pid in gp.items()
        if truth[pid]["efi_category"]
        and not truth[pid]["date_of_death"]
        and truth[pid]["date_of_birth"] <= "1961-04-01"
    ]
    index = {sid: i for i, sid in enumerate(people)}
    fp = [(index[s], c) for s in people for c in findings.get(s, [])]
    mp = [(index[s], c) for s in people for c in medicines.get(s, set())]

    result = efi.efi(
        len(people),
        reference=reference,
        finding_person=[p for p, _ in fp],
        finding_code=[c for _, c in fp],
        medicine_person=[p for p, _ in mp],
        medicine_code=[c for _, c in mp],
    )

    expected = np.array([truth[gp[s]]["efi_category"] for s in people])
    agreement = float((result.category == expected).mean())
    assert len(people) > 100
    assert agreement >= 0.97, agreement

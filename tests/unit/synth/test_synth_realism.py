"""Realism targets, asserted on a generated 60,000-person borough (built once per session).

Tolerances are wider than at full size where numbers are small: life expectancy by
deprivation compares pooled extreme quintiles over the five years; the exact decile
gap is asserted on the mortality model in test_synth_units.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from joinedup.population.lifetable import STANDARD_AGE_STARTS, life_table
from joinedup.synth import generate_borough

PEOPLE = 60_000


@pytest.fixture(scope="session")
def borough(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "borough"
    generate_borough(people=PEOPLE, seed=1, out=out)
    return out


def read(path: Path) -> pa.Table:
    """Read a CSV as strings, skipping the deliberately truncated rows."""
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(invalid_row_handler=lambda _row: "skip"),
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=False,
            column_types={},
            check_utf8=True,
            auto_dict_encode=False,
            include_missing_columns=False,
            timestamp_parsers=[],
        ),
        read_options=pacsv.ReadOptions(use_threads=True),
    )


def strings(table: pa.Table, name: str) -> np.ndarray[Any, Any]:
    column = pc.fill_null(table.column(name).cast(pa.string()), "")
    return np.asarray(column.to_numpy(zero_copy_only=False))


def dates(table: pa.Table, name: str, fmt: str = "%Y-%m-%d") -> np.ndarray[Any, Any]:
    """Parse a date column; impossible or empty dates become NaT."""
    parsed = pc.strptime(
        table.column(name).cast(pa.string()), format=fmt, unit="s", error_is_null=True
    )
    return np.asarray(parsed.to_numpy(zero_copy_only=False)).astype("datetime64[D]")


def test_synth_65_plus_share(borough: Path) -> None:
    mye = read(borough / "population/mid_year_estimates.csv")
    year = strings(mye, "year") == "2023"
    band = strings(mye, "age_band")[year]
    count = np.asarray(mye.column("count").to_numpy()).astype(float)[year]
    older = np.isin(band, ["65-69", "70-74", "75-79", "80-84", "85-89", "90+"])
    assert 0.18 <= count[older].sum() / count.sum() <= 0.22


def _life_tables(borough: Path) -> dict[tuple[str, str], float]:
    """Borough and extreme-quintile LE from the true persons, deaths pooled over five years."""
    persons = read(borough / "truth/persons.csv")
    dob = dates(persons, "date_of_birth")
    entered = dates(persons, "date_entered")
    died = dates(persons, "date_of_death")
    decile = np.asarray(persons.column("imd_decile").to_numpy())
    sex = strings(persons, "sex")
    starts = np.array(STANDARD_AGE_STARTS)
    out: dict[tuple[str, str], float] = {}
    groups = {"borough": decile > 0, "q1": decile <= 2, "q5": decile >= 9}
    for s in ("M", "F"):
        for name, member in groups.items():
            pop = np.zeros(20)
            for year in range(2021, 2026):
                day = np.datetime64(f"{year}-06-30")
                alive = member & (sex == s) & (entered <= day) & (np.isnat(died) | (died >= day))
                age = ((day - dob[alive]).astype(int) / 365.25).astype(int)
                pop += np.bincount(np.searchsorted(starts, age, side="right") - 1, minlength=20)
            dead = member & (sex == s) & ~np.isnat(died)
            age = ((died[dead] - dob[dead]).astype(int) / 365.25).astype(int)
            deaths = np.bincount(np.searchsorted(starts, age, side="right") - 1, minlength=20)
            out[(s, name)] = life_table(deaths, pop).at_birth
    return out


def test_synth_life_expectancy_and_gap(borough: Path) -> None:
    le = _life_tables(borough)
    assert 77.5 <= le[("M", "borough")] <= 80.5
    assert 81.5 <= le[("F", "borough")] <= 84.5
    # Quintiles (pooling two deciles) narrow the decile gap by about a fifth.
    assert 5.5 <= le[("M", "q5")] - le[("M", "q1")] <= 12.5
    assert 3.5 <= le[("F", "q5")] - le[("F", "q1")] <= 10.5


def test_synth_deaths_registered_match_truth(borough: Path) -> None:
    summary = json.loads((borough / "truth/summary.json").read_text())
    assert summary["files"]["deaths/registrations.csv"]["rows"] == summary["true_counts"]["deaths"]


def test_synth_frailty_prevalence(borough: Path) -> None:
    persons = read(borough / "truth/persons.csv")
    dob = dates(persons, "date_of_birth")
    died = dates(persons, "date_of_death")
    age = (np.datetime64("2026-04-01") - dob).astype(int) / 365.25
    older = np.isnat(died) & (age >= 65)
    category = strings(persons, "efi_category")[older]
    assert 0.10 <= np.isin(category, ["moderate", "severe"]).mean() <= 0.15


def _gp_flu_by_decile(borough: Path) -> dict[int, float]:
    """Flu uptake among 65+ by decile, read from the GP FHIR export and linked via truth."""
    patient_decile: dict[str, int] = {}
    truth_ids = read(borough / "truth/identities.csv")
    persons = read(borough / "truth/persons.csv")
    decile_of = dict(
        zip(
            strings(persons, "true_person_id"),
            np.asarray(persons.column("imd_decile").to_numpy()),
            strict=True,
        )
    )
    gp = strings(truth_ids, "source") == "gp"
    for sid, pid in zip(
        strings(truth_ids, "source_id")[gp], strings(truth_ids, "true_person_id")[gp], strict=True
    ):
        patient_decile[sid] = int(decile_of[pid])
    eligible: dict[str, str] = {}
    with (borough / "gp/Patient.ndjson").open() as handle:
        for line in handle:
            try:
                res = json.loads(line)
            except json.JSONDecodeError:
                continue
            if res["birthDate"] <= "1959-03-31" and "deceasedDateTime" not in res:
                eligible[res["id"]] = res["birthDate"]
    vaccinated: set[str] = set()
    with (borough / "gp/Immunization.ndjson").open() as handle:
        for line in handle:
            try:
                res = json.loads(line)
            except json.JSONDecodeError:
                continue
            day = res["occurrenceDateTime"]
            if (
                res["extension"][0]["valueCodeableConcept"]["coding"][0]["code"]
                == "822851000000102"
                and "2025-09-01" <= day < "2026-04-01"
            ):
                vaccinated.add(res["patient"]["reference"].split("/")[1])
    rates = {}
    for d in (1, 10):
        ids = [p for p in eligible if patient_decile.get(p) == d]
        rates[d] = sum(p in vaccinated for p in ids) / len(ids)
    return rates


def test_synth_flu_uptake_gradient(borough: Path) -> None:
    rates = _gp_flu_by_decile(borough)
    assert abs(rates[10] - 0.85) <= 0.04
    assert abs(rates[1] - 0.60) <= 0.05


def _admissions(
    borough: Path,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    adm = read(borough / "hospital/admissions.csv")
    pathway = strings(adm, "discharge_pathway")
    drd = dates(adm, "discharge_ready_date", "%d/%m/%Y")
    discharge = dates(adm, "discharge_date", "%d/%m/%Y")
    ok = np.isin(pathway, ["0", "1", "2", "3"]) & ~np.isnat(drd) & ~np.isnat(discharge)
    return pathway[ok].astype(int), drd[ok], discharge[ok]


def test_synth_pathway_split(borough: Path) -> None:
    pathway, _, _ = _admissions(borough)
    share = np.bincount(pathway, minlength=4) / pathway.size
    assert np.allclose(share, [0.50, 0.45, 0.04, 0.01], atol=0.03)


def test_synth_discharge_delay_falls(borough: Path) -> None:
    _, drd, discharge = _admissions(borough)
    delay = (discharge - drd).astype(int)
    months = discharge.astype("datetime64[M]").astype(int)
    fy = (months - ((2021 - 1970) * 12 + 3)) // 12
    first_two = delay[(fy <= 1) & (delay > 0)].mean()
    last = delay[(fy == 4) & (delay > 0)].mean()
    assert 10 <= first_two <= 14
    assert 3 <= last <= 5


def test_synth_admissions_per_year(borough: Path) -> None:
    summary = json.loads((borough / "truth/summary.json").read_text())
    per_year = summary["true_counts"]["emergency_admissions"] / 5
    assert per_year == pytest.approx(30_000 * PEOPLE / 295_000, rel=0.1)


def test_synth_social_care_lacks_nhs_numbers(borough: Path) -> None:
    clients = read(borough / "socialcare/adults/clients.csv")
    missing = (strings(clients, "nhs_number") == "").mean()
    assert 0.35 <= missing <= 0.45


def test_synth_identities_cover_every_source_identity(borough: Path) -> None:
    ids = read(borough / "truth/identities.csv")
    source = strings(ids, "source")
    source_id = strings(ids, "source_id")
    expected = {
        "hospital": ("hospital/patients.csv", "mrn"),
        "community": ("community/patients.csv", "patient_id"),
        "socialcare_adults": ("socialcare/adults/clients.csv", "person_id"),
        "socialcare_children": ("socialcare/children/children.csv", "child_id"),
        "hospice": ("hospice/patients.csv", "patient_id"),
        "deaths": ("deaths/registrations.csv", "registration_id"),
        "citizens": ("citizens/volunteers.csv", "citizen_id"),
    }
    for name, (path, column) in expected.items():
        written = set(strings(read(borough / path), column))
        known = set(source_id[source == name])
        assert written <= known, name
        assert len(known) - len(written) <= max(3, len(known) // 100), name
    assert (source == "gp").sum() > PEOPLE


def test_synth_summary_counts_rows_and_malformed(borough: Path) -> None:
    summary = json.loads((borough / "truth/summary.json").read_text())
    for name, info in summary["files"].items():
        lines = (borough / name).read_bytes().count(b"\n")
        header = 0 if name.endswith(".ndjson") else 1
        assert lines - header == info["rows"], name
        if (
            name.split("/")[0] in {"gp", "hospital", "community", "socialcare", "hospice", "deaths"}
            and info["rows"] >= 100
        ):
            assert info["malformed"] >= 1, name
    malformed = read(borough / "truth/malformed.csv")
    assert malformed.num_rows == sum(info["malformed"] for info in summary["files"].values())

"""`joinedup indicators`: the three commands' contracts and their one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from joinedup.population.cli import app
from joinedup.population.esp2013 import ESP2013_BANDS

RUNNER = CliRunner()
LE_BANDS = ["0", "1-4", *(f"{s}-{s + 4}" for s in range(5, 90, 5)), "90+"]
RATES = np.array(
    [0.0039, 0.0001, 0.00008, 0.0001, 0.0003, 0.0004, 0.0005, 0.0007, 0.001, 0.0015,
     0.0022, 0.0035, 0.0055, 0.009, 0.014, 0.023, 0.039, 0.068, 0.12, 0.25]
)  # fmt: skip


def _le_input(path: Path) -> Path:
    rows = [
        (area, sex, band, round(pop * rate) + (band == "90+"), pop)
        for area, pop in (("E01000001", 20_000), ("E01000002", 200))
        for sex in ("F", "M")
        for band, rate in zip(LE_BANDS, RATES, strict=True)
    ]
    pd.DataFrame(rows, columns=["area", "sex", "age_band", "deaths", "population"]).to_csv(
        path, index=False
    )
    return path


def test_life_expectancy_command_writes_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = RUNNER.invoke(
        app, ["life-expectancy", str(_le_input(tmp_path / "in.csv")), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns) == ["area", "sex", "age", "value", "lowercl", "uppercl", "note"]
    assert len(table) == 2 * 2 * 20
    small = table[table.area == "E01000002"]
    assert (small.value == "").all()
    assert (small.note != "").all()


def test_life_expectancy_bad_cell_is_named(tmp_path: Path) -> None:
    path = _le_input(tmp_path / "in.csv")
    lines = path.read_text().splitlines()
    lines[6] = lines[6].rsplit(",", 1)[0] + ",lots"
    path.write_text("\n".join(lines))
    result = RUNNER.invoke(app, ["life-expectancy", str(path), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "in.csv:7:population" in result.output
    assert "Traceback" not in result.output


def test_life_expectancy_missing_band_is_named(tmp_path: Path) -> None:
    path = _le_input(tmp_path / "in.csv")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:5] + lines[6:]))
    result = RUNNER.invoke(app, ["life-expectancy", str(path), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "in.csv:2:area" in result.output


def test_sii_command_from_limits(tmp_path: Path) -> None:
    rows = [("E08000007", q, 1000 + 10 * q, 70 + q, 69 + q, 71 + q) for q in range(1, 11)]
    path = tmp_path / "sii.csv"
    pd.DataFrame(
        rows, columns=["group", "quantile", "population", "value", "lowercl", "uppercl"]
    ).to_csv(path, index=False)
    out = tmp_path / "out.csv"
    result = RUNNER.invoke(app, ["sii", str(path), "-o", str(out), "--reps", "5000", "--seed", "3"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == [
        "group",
        "sii",
        "sii_lowercl",
        "sii_uppercl",
        "rii",
        "rii_lowercl",
        "rii_uppercl",
    ]
    assert 9 < table.sii[0] < 11
    assert table.sii_lowercl[0] < table.sii[0] < table.sii_uppercl[0]


def test_sii_command_needs_se_or_limits(tmp_path: Path) -> None:
    path = tmp_path / "sii.csv"
    path.write_text("group,quantile,population,value\nA,1,10,1\nA,2,10,2\n")
    result = RUNNER.invoke(app, ["sii", str(path), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "se" in result.output


def test_dsr_command(tmp_path: Path) -> None:
    rows = [("big", band, 50, 1000) for band in ESP2013_BANDS] + [
        ("tiny", band, 0, 1000) for band in ESP2013_BANDS
    ]
    path = tmp_path / "dsr.csv"
    pd.DataFrame(rows, columns=["area", "age_band", "events", "population"]).to_csv(
        path, index=False
    )
    out = tmp_path / "out.csv"
    result = RUNNER.invoke(app, ["dsr", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["area", "value", "lowercl", "uppercl"]
    assert table.value[0] == 5000.0
    assert np.isnan(table.value[1])


def test_dsr_unknown_band_is_named(tmp_path: Path) -> None:
    path = tmp_path / "dsr.csv"
    path.write_text("area,age_band,events,population\nA,0-5,1,10\n")
    result = RUNNER.invoke(app, ["dsr", str(path), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "dsr.csv:2:age_band" in result.output

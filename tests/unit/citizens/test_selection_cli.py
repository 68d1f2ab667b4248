"""`joinedup panel select` on generated CSV files: the output contract and exit codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from joinedup.citizens.cli import app
from joinedup.citizens.selection import format_people, format_quotas
from joinedup.citizens.selection.synthetic import generate


def _files(tmp_path: Path, *, k: int) -> tuple[Path, Path]:
    pool, quotas = generate(people=40, values_per_feature=(2, 3), k=k, rng=np.random.default_rng(4))
    people, quota_file = tmp_path / "people.csv", tmp_path / "quotas.csv"
    people.write_text(format_people(pool, range(pool.size)))
    quota_file.write_text(format_quotas(quotas))
    return people, quota_file


def test_cli_select_writes_the_contract_files(tmp_path: Path) -> None:
    people, quotas = _files(tmp_path, k=6)
    out = tmp_path / "out"

    result = CliRunner().invoke(
        app,
        [
            "select",
            "--people",
            str(people),
            "--quotas",
            str(quotas),
            "--size",
            "6",
            "--seed",
            "9",
            "--household",
            "address",
            "-o",
            str(out),
        ],
    )

    assert result.exit_code == 0, result.output
    with (out / "probabilities.csv").open() as fh:
        probs = list(csv.DictReader(fh))
    assert sum(float(r["probability"]) for r in probs) == pytest_approx(6)
    report = json.loads((out / "report.json").read_text())
    assert {"min_probability", "max_probability", "gini", "seconds", "method", "seed"} <= set(
        report
    )
    assert len((out / "panel.csv").read_text().strip().splitlines()) == 7
    replayed = CliRunner().invoke(app, ["replay", str(out / "audit.json")])
    assert replayed.exit_code == 0, replayed.output


def test_cli_infeasible_quotas_exit_4_with_report(tmp_path: Path) -> None:
    people, quotas = _files(tmp_path, k=6)
    text = quotas.read_text().splitlines()
    text[1] = ",".join([*text[1].split(",")[:2], "30", "30", "", ""])
    quotas.write_text("\n".join(text) + "\n")

    result = CliRunner().invoke(
        app,
        [
            "select",
            "--people",
            str(people),
            "--quotas",
            str(quotas),
            "--size",
            "6",
            "-o",
            str(tmp_path / "out"),
        ],
    )

    assert result.exit_code == 4
    assert "conflict" in result.output


def test_cli_bad_method_exits_2(tmp_path: Path) -> None:
    people, quotas = _files(tmp_path, k=6)

    result = CliRunner().invoke(
        app,
        [
            "select",
            "--people",
            str(people),
            "--quotas",
            str(quotas),
            "--size",
            "6",
            "--method",
            "best",
            "-o",
            str(tmp_path),
        ],
    )

    assert result.exit_code == 2


def pytest_approx(value: float) -> object:
    import pytest

    return pytest.approx(value, abs=1e-6)

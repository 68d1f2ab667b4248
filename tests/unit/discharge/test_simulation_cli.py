"""`joinedup discharge simulate`: the contract for checks (one queue) and the scenario form."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from joinedup.discharge.cli import app
from joinedup.discharge.simulation.scenario import EXAMPLE

runner = CliRunner()
QUEUE = ["simulate", "--arrivals-per-day", "9.5", "--mean-stay-days", "10", "--capacity", "100"]


def test_simulate_one_queue_json_has_the_contract_keys() -> None:
    result = runner.invoke(app, [*QUEUE, "--years", "6", "--replications", "16", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    low, high = out["mean_wait_ci95"]
    assert low < out["mean_wait_days"] < high
    assert 0 < out["share_delayed"] < 1
    assert out["exact"]["mean_wait_days"] > 1.0129
    assert "blocked_share" not in out


def test_simulate_loss_system_reports_blocked_share() -> None:
    args = [*QUEUE, "--stay-distribution", "lognormal", "--stay-cv", "2", "--no-queue"]
    result = runner.invoke(app, [*args, "--years", "6", "--replications", "16", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    low, high = out["blocked_share_ci95"]
    assert low < out["blocked_share"] < high
    assert out["exact"]["blocked_share"] == 0.04880420617867782
    assert out["mean_wait_days"] == 0.0


def test_simulate_scenario_file_with_search_and_sweep() -> None:
    args = ["simulate", str(EXAMPLE), "--replications", "6", "--years", "0.25", "--sweep", "3"]
    result = runner.invoke(app, [*args, "--target-mean-delay-days", "3", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [p["name"] for p in out["pathways"]] == ["pathway 1", "pathway 2", "pathway 3"]
    assert len(out["least_capacity"]) == 3
    assert all(len(points) == 3 for points in out["trade_off"].values())


def test_simulate_prints_a_table_without_json() -> None:
    result = runner.invoke(app, [*QUEUE, "--years", "1", "--replications", "4"])
    assert result.exit_code == 0, result.output
    assert "mean wait" in result.stdout


def test_simulate_bad_input_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["simulate", "--capacity", "3"])
    assert missing.exit_code == 2
    assert "give SCENARIO_FILE" in missing.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"pathways": [{"name": "p"}]}', encoding="utf-8")
    result = runner.invoke(app, ["simulate", str(bad)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output

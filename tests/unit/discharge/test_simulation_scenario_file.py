"""Scenario files: TOML and JSON, every mistake named by file and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from joinedup.discharge.simulation import Empirical, Exponential, Lognormal, scenario_load
from joinedup.errors import InvalidInput

BASE = {
    "name": "test",
    "horizon_days": 90,
    "replications": 5,
    "seed": 7,
    "pathways": [
        {
            "name": "pathway 3",
            "arrivals_per_day": 1.0,
            "capacity": 38,
            "stay": {"distribution": "lognormal", "mean_days": 35, "cv": 1.0},
            "census": {"occupied": 36, "waiting": 2},
        }
    ],
}


def write(tmp_path: Path, data: object, name: str = "s.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_json_scenario_loads(tmp_path: Path) -> None:
    scenario = scenario_load(write(tmp_path, BASE))
    pathway = scenario.pathways[0]
    assert scenario.run.replications == 5
    assert pathway.stay == Lognormal(35.0, 1.0)
    assert pathway.census.waiting_days == (0.0, 0.0)


def test_toml_scenario_loads_with_counts_and_a_stays_file(tmp_path: Path) -> None:
    (tmp_path / "los.csv").write_text("los_days\n3\n5\n8\n# a comment\n13\n", encoding="utf-8")
    (tmp_path / "s.toml").write_text(
        """
name = "toml"
[[pathways]]
name = "p"
daily_arrival_counts = [2, 4, 3, 3]
capacity = 10
[pathways.stay]
distribution = "empirical"
samples_file = "los.csv"
""",
        encoding="utf-8",
    )
    pathway = scenario_load(tmp_path / "s.toml").pathways[0]
    assert pathway.arrivals_per_day == pytest.approx(3.0)
    assert isinstance(pathway.stay, Empirical)
    assert pathway.stay.mean_days == pytest.approx(7.25)


def test_stay_fitted_from_samples(tmp_path: Path) -> None:
    data = json.loads(json.dumps(BASE))
    data["pathways"][0]["stay"] = {"distribution": "exponential", "samples_days": [2, 4, 6]}
    assert scenario_load(write(tmp_path, data)).pathways[0].stay == Exponential(4.0)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.update(colour="red"), "s.json"),
        (lambda d: d["pathways"][0].update(capacity="many"), "s.json.pathways[0].capacity"),
        (lambda d: d["pathways"][0]["stay"].update(distribution="gamma"), "distribution"),
        (lambda d: d["pathways"][0]["census"].update(occupied=-1), "census.occupied"),
        (lambda d: d.update(replications=1), "s.json.replications"),
        (lambda d: d.update(pathways=[]), "s.json"),
    ],
)
def test_bad_scenarios_are_named(tmp_path: Path, change: object, where: str) -> None:
    data = json.loads(json.dumps(BASE))
    change(data)  # type: ignore[operator]
    with pytest.raises(InvalidInput) as caught:
        scenario_load(write(tmp_path, data))
    assert where in (caught.value.where or "")


def test_unreadable_files_are_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        scenario_load(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("name = ", encoding="utf-8")
    with pytest.raises(InvalidInput):
        scenario_load(tmp_path / "bad.toml")
    with pytest.raises(InvalidInput):
        scenario_load(write(tmp_path, BASE, "s.yaml"))

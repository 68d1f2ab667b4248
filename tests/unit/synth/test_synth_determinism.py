"""Determinism by seed, and the generator's refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from joinedup.synth import SynthError, generate_borough


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_synth_same_seed_gives_identical_files(tmp_path: Path) -> None:
    first = generate_borough(people=2_000, seed=11, out=tmp_path / "a")
    second = generate_borough(people=2_000, seed=11, out=tmp_path / "b")
    assert first.files == second.files
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")


def test_synth_different_seed_differs(tmp_path: Path) -> None:
    generate_borough(people=2_000, seed=11, out=tmp_path / "a")
    generate_borough(people=2_000, seed=12, out=tmp_path / "b")
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert a.keys() == b.keys()
    assert sum(a[k] != b[k] for k in a) > len(a) // 2


@pytest.mark.parametrize("people", [999, 3_000_001])
def test_synth_rejects_people_out_of_range(tmp_path: Path, people: int) -> None:
    with pytest.raises(SynthError, match="between"):
        generate_borough(people=people, seed=1, out=tmp_path / "x")


def test_synth_refuses_non_empty_out_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "borough"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(SynthError, match="not empty"):
        generate_borough(people=1_000, seed=1, out=out)
    summary = generate_borough(people=1_000, seed=1, out=out, overwrite=True)
    assert not (out / "keep.txt").exists()
    assert summary.people == 1_000
    assert not list(tmp_path.glob(".borough.partial-*"))


def test_synth_cli_reports_errors_with_exit_code_2(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from joinedup.synth.cli import synth

    app = typer.Typer()
    app.command()(synth)
    result = CliRunner().invoke(app, ["--people", "5", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    ok = CliRunner().invoke(app, ["--people", "1000", "--out", str(tmp_path / "y")])
    assert ok.exit_code == 0
    assert "1,000 people" in ok.output

from __future__ import annotations

import re
from pathlib import Path

import pytest

from joinedup import config
from joinedup.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[3]


def test_env_bool_rejects_a_value_that_is_not_yes_or_no(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOINEDUP_X", "maybe")
    with pytest.raises(ConfigurationError) as caught:
        config.env_bool("JOINEDUP_X", default=False)
    assert caught.value.where == "JOINEDUP_X"


def test_env_int_enforces_its_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOINEDUP_X", "0")
    with pytest.raises(ConfigurationError, match="at least 1"):
        config.env_int("JOINEDUP_X", default=5, minimum=1)


def test_production_refuses_to_start_without_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JOINEDUP_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="must be set in production"):
        config.secret_key(environment="production", var_dir=tmp_path)


def test_development_generates_and_keeps_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JOINEDUP_SECRET_KEY", raising=False)
    first = config.secret_key(environment="development", var_dir=tmp_path)
    assert len(first) >= 50
    assert config.secret_key(environment="development", var_dir=tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_every_variable_read_is_documented() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "src" / "joinedup").rglob("*.py"))
    read = set(re.findall(r"\"((?:JOINEDUP_[A-Z_]+)|DATABASE_URL)\"", source))
    documented = (ROOT / "docs" / "configuration.md").read_text()
    missing = sorted(name for name in read if f"`{name}`" not in documented)
    assert not missing, f"add these to docs/configuration.md: {missing}"

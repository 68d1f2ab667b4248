"""Read joinedup's configuration from environment variables.

Every setting the platform takes comes through the functions here, and every
variable they read is listed in docs/configuration.md (a test keeps the two in
step). A value that is present but wrong stops start-up with a message naming
the variable and what it expects: the platform never runs on a guess.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from joinedup.errors import ConfigurationError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

ENVIRONMENTS = ("development", "test", "production")


def env_str(name: str, default: str | None = None) -> str | None:
    """The variable's text, or the default when it is unset."""
    return os.environ.get(name, default)


def env_required(name: str, hint: str) -> str:
    """The variable's text; stop with the hint when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} must be set: {hint}", where=name)
    return value


def env_bool(name: str, *, default: bool) -> bool:
    """A yes/no variable: 1/true/yes/on or 0/false/no/off."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(
        f"{name}={raw!r} is not a yes/no value: use 1/true/yes/on or 0/false/no/off", where=name
    )


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    """A whole-number variable no smaller than ``minimum``."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number", where=name) from None
    if value < minimum:
        raise ConfigurationError(f"{name}={value} must be at least {minimum}", where=name)
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated variable, blanks dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    """A variable that must be one of ``choices``."""
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ConfigurationError(f"{name}={value!r} is not one of {', '.join(choices)}", where=name)
    return value


def secret_key(*, environment: str, var_dir: Path) -> str:
    """The signing key: from JOINEDUP_SECRET_KEY, or (outside production) one kept in var/.

    Production refuses to start without an explicit key, so a deployment can
    never run on a key that was generated on one machine and lost with it.
    """
    explicit = os.environ.get("JOINEDUP_SECRET_KEY", "").strip()
    if explicit:
        if len(explicit) < 50:
            raise ConfigurationError(
                "JOINEDUP_SECRET_KEY is too short: use at least 50 random characters",
                where="JOINEDUP_SECRET_KEY",
            )
        return explicit
    if environment == "production":
        raise ConfigurationError(
            "JOINEDUP_SECRET_KEY must be set in production: generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`",
            where="JOINEDUP_SECRET_KEY",
        )
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()

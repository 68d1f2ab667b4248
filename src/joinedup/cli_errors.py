"""The command line's one error mapping, shared by every command module.

A platform error (``joinedup.errors.JoinedUpError``) leaves a command as one line on
stderr, ``joinedup: error: what (at where)``, and the error's exit code; never a
traceback. Command modules wrap their commands with ``one_line_errors`` (or turn a caught
error into an exit with ``error_exit``) and catch nothing else themselves. A command
that needs the database is wrapped with ``django_command`` instead, which sets Django up
and marks what it does as done through the command line, for the audit trail.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console

from joinedup.errors import JoinedUpError

F = TypeVar("F", bound=Callable[..., Any])
console = Console(stderr=True, soft_wrap=True, highlight=False)


def error_exit(exc: JoinedUpError) -> typer.Exit:
    """Print the error's one line and give the exit to raise."""
    console.print(f"joinedup: error: {exc.one_line()}", style="red")
    return typer.Exit(exc.exit_code)


def one_line_errors(func: F) -> F:
    """Run a command, turning any platform error into its one line and exit code."""

    @wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except JoinedUpError as exc:
            raise error_exit(exc) from None

    return wrapped  # type: ignore[return-value]


def setup_django() -> None:
    """Configure Django for a command (settings from the environment, as the web uses)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "joinedup.settings")
    import django

    django.setup()


def django_command(func: F) -> F:
    """Run the command with Django set up, in the CLI channel, with errors mapped."""

    @wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        setup_django()
        from joinedup.core import context

        with context.acting(via="cli"):
            return func(*args, **kwargs)

    return one_line_errors(wrapped)  # type: ignore[return-value]

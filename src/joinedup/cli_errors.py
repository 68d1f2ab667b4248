"""The command line's one error mapping, shared by every command module.

A platform error (``joinedup.errors.JoinedUpError``) leaves a command as one line on
stderr, ``joinedup: error: what (at where)``, and the error's exit code; never a
traceback. Command modules wrap their commands with ``one_line_errors`` (or turn a caught
error into an exit with ``error_exit``) and catch nothing else themselves.
"""

from __future__ import annotations

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

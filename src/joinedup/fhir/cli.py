"""`joinedup fhir` and `joinedup token`: register API clients, issue and revoke tokens.

These are administrators' commands: whoever can run them can already reach the database.
Each prints what it made on stdout (the token or secret once; only hashes are stored).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import typer

from joinedup.cli_errors import django_command

if TYPE_CHECKING:
    from joinedup.core.models import User

app = typer.Typer(help="The FHIR R4 API: clients and tokens.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for the FHIR API.", no_args_is_help=True)
app.add_typer(token_app, name="token")

_SCOPE_HELP = "Space-separated SMART scopes, e.g. 'user/*.read' or 'system/Patient.rs'."


def _user(username: str) -> User:
    from joinedup.core.models import User
    from joinedup.errors import NotFound

    user: User | None = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound("there is no user with this username", where="--user")
    return user


@token_app.command("issue")
@django_command
def token_issue(
    user: Annotated[str, typer.Option("--user", help="The username the token acts for.")],
    scope: Annotated[str, typer.Option("--scope", help=_SCOPE_HELP)],
    patient: Annotated[
        str | None, typer.Option("--patient", help="The Patient id, for patient/ scopes.")
    ] = None,
    hours: Annotated[int, typer.Option("--hours", min=1, max=24, help="Lifetime.")] = 8,
) -> None:
    """Print a bearer token for USER with SCOPE (the token itself is never stored)."""
    from datetime import timedelta

    from joinedup.errors import InvalidInput
    from joinedup.fhir import services

    patient_id = None
    if patient is not None:
        try:
            patient_id = uuid.UUID(patient)
        except ValueError:
            raise InvalidInput("a Patient id is a UUID", where="--patient") from None
    issued = services.token_issue(
        user=_user(user), scopes=scope, patient_id=patient_id, lifetime=timedelta(hours=hours)
    )
    typer.echo(issued.token)
    typer.echo(f"joinedup: token for {user} ({issued.scopes}), valid {hours} h", err=True)


@token_app.command("revoke")
@django_command
def token_revoke(token: Annotated[str, typer.Argument(help="The token to revoke.")]) -> None:
    """Revoke a token at once."""
    from joinedup.errors import NotFound
    from joinedup.fhir import services

    if not services.token_revoke(token=token):
        raise NotFound("no live token matches", where="token")
    typer.echo("joinedup: token revoked")


@app.command("client-register")
@django_command
def client_register(
    name: Annotated[str, typer.Option("--name", help="What the client is, e.g. 'GP system'.")],
    user: Annotated[str, typer.Option("--user", help="Its service account's username.")],
    scope: Annotated[str, typer.Option("--scope", help=_SCOPE_HELP)],
) -> None:
    """Register a system for client credentials; prints its id and secret once."""
    from joinedup.fhir import services

    registered = services.client_register(name=name, user=_user(user), scopes=scope)
    typer.echo(f"client_id={registered.client.client_id}")
    typer.echo(f"client_secret={registered.secret}")
    typer.echo(
        f"joinedup: client registered; it gets tokens from /fhir/R4/auth/token ({scope})",
        err=True,
    )

"""The `joinedup` command: every operation on the platform, with --help everywhere.

Errors leave here as one line on stderr and an exit code from the error
hierarchy (joinedup.errors); a stack trace is shown only with JOINEDUP_DEBUG=1.
Every command runs in the CLI channel, so what it does is audited as such.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from joinedup.carehomes.cli import app as carehomes_app
from joinedup.citizens.cli import app as panel_app
from joinedup.citizens.cli import register_app as citizens_app
from joinedup.cli_errors import console, django_command, error_exit, one_line_errors, setup_django
from joinedup.directory.cli import app as directory_app
from joinedup.discharge.cli import app as discharge_app
from joinedup.errors import JoinedUpError
from joinedup.fhir.cli import app as fhir_app
from joinedup.fhir.cli import token_app
from joinedup.neighbourhoods.cli import app as neighbourhoods_app
from joinedup.population.cli import app as indicators_app
from joinedup.population.warehouse_cli import app as warehouse_app
from joinedup.synth.cli import synth as synth_command
from joinedup.workforce.cli import app as workforce_app

app = typer.Typer(
    name="joinedup",
    help="joinedup: the health and social care partnership's platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
audit_app = typer.Typer(help="Check the audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
people_app = typer.Typer(help="The person index.", no_args_is_help=True)
app.add_typer(people_app, name="people")
app.add_typer(indicators_app, name="indicators")
app.add_typer(discharge_app, name="discharge")
app.add_typer(panel_app, name="panel")
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(workforce_app, name="workforce")
app.add_typer(directory_app, name="directory")
app.add_typer(fhir_app, name="fhir")
app.add_typer(carehomes_app, name="carehomes")
app.add_typer(citizens_app, name="citizens")
app.add_typer(neighbourhoods_app, name="neighbourhoods")
app.add_typer(token_app, name="token")


@app.command()
@django_command
def migrate() -> None:
    """Create or update the database tables."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
    typer.echo("joinedup: database is up to date")


@app.command()
@django_command
def createuser(
    username: Annotated[str, typer.Argument(help="The sign-in name.")],
    role: Annotated[
        str,
        typer.Option(
            help="One of: "
            + ", ".join(
                [
                    "gp",
                    "district_nurse",
                    "social_worker",
                    "occupational_therapist",
                    "care_coordinator",
                    "discharge_coordinator",
                    "analyst",
                    "engagement_officer",
                    "workforce_lead",
                    "portfolio_officer",
                    "administrator",
                ]
            )
        ),
    ],
    organisation: Annotated[str | None, typer.Option(help="The organisation's ODS code.")] = None,
    team: Annotated[list[str] | None, typer.Option(help="A team name; repeat for more.")] = None,
    first_name: Annotated[str, typer.Option()] = "",
    last_name: Annotated[str, typer.Option()] = "",
    oidc_subject: Annotated[
        str | None, typer.Option(help="The identity provider's subject for this user.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a user with a role (a password, an identity-provider subject, or both)."""
    from joinedup.core.management import create_user_from_cli

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    user = create_user_from_cli(
        username=username,
        role=role,
        organisation=organisation,
        teams=team or [],
        first_name=first_name,
        last_name=last_name,
        oidc_subject=oidc_subject,
        password=password,
    )
    typer.echo(f"joinedup: created {user.username} ({user.role_label})")


@app.command()
@django_command
def signin(
    username: Annotated[str, typer.Argument(help="The account's sign-in name.")],
    oidc_subject: Annotated[
        str | None, typer.Option(help="The identity provider's subject for this user.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the new password from standard input.")
    ] = False,
) -> None:
    """Give an account a way to sign in (a password, an identity-provider subject, or both),
    audited: e.g. a staff account another system made through the FHIR API."""
    from joinedup.core.services import user_sign_in_set

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    user = user_sign_in_set(username=username, password=password, oidc_subject=oidc_subject)
    typer.echo(f"joinedup: {user.username} can now sign in")


@audit_app.command("verify")
@django_command
def audit_verify() -> None:
    """Recompute the audit trail's hash chain and report the first break, if any."""
    from joinedup.core.audit import verify_chain
    from joinedup.errors import IntegrityFailure

    report = verify_chain()
    if not report.ok:
        where = f"event {report.broken_at}" if report.broken_at else "the end of the chain"
        raise IntegrityFailure(
            f"audit chain broken at {where}: {report.problem} "
            f"({report.events} events verified before it)"
        )
    typer.echo(f"joinedup: audit chain intact: {report.events} events, head {report.head[:16]}")


@app.command()
@django_command
def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (.jsonl.gz).")],
) -> None:
    """Write every table, audit trail included, to one file."""
    from joinedup.core.backup import backup_write

    summary = backup_write(file, progress=_progress())
    typer.echo(f"joinedup: backed up {summary.rows} rows from {summary.tables} tables to {file}")


@app.command()
@django_command
def restore(
    file: Annotated[Path, typer.Argument(help="A backup written by `joinedup backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace the database's contents.")] = False,
) -> None:
    """Replace the database's contents with a backup (the schema must match)."""
    from joinedup.core.backup import backup_restore
    from joinedup.errors import InvalidInput

    if not yes:
        raise InvalidInput("restore replaces everything in the database: add --yes to go ahead")
    summary = backup_restore(file, progress=_progress())
    typer.echo(f"joinedup: restored {summary.rows} rows into {summary.tables} tables from {file}")


@app.command()
@django_command
def ingest(
    folder: Annotated[
        Path | None, typer.Argument(help="A delivery folder (as `joinedup synth` writes).")
    ] = None,
    report: Annotated[bool, typer.Option("--report", help="Report every delivery so far.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --report: print JSON.")] = False,
    chunk_size: Annotated[int, typer.Option(help="Rows committed together.")] = 5000,
) -> None:
    """Ingest every source extract in FOLDER; or --report what was delivered and rejected."""
    from joinedup.errors import InvalidInput
    from joinedup.record import reports
    from joinedup.record.ingest import ingest_folder

    if folder is not None:
        if not folder.is_dir():
            raise InvalidInput("no delivery folder there", where=str(folder))
        files = ingest_folder(folder, progress=_progress(), chunk_size=chunk_size)
        typer.echo(reports.summary_line(files))
    if report:
        typer.echo(reports.delivery_report(as_json=as_json))
    if folder is None and not report:
        raise InvalidInput("give a delivery folder, or --report")


@app.command()
@django_command
def link(
    seed: Annotated[int, typer.Option(help="Seed for training the model.")] = 1,
    backend: Annotated[
        str, typer.Option(help="Where Splink runs: duckdb, postgres or spark.")
    ] = "duckdb",
    backend_url: Annotated[
        str | None,
        typer.Option(help="postgres: the database to work in (default: DATABASE_URL)."),
    ] = None,
) -> None:
    """Link every source identity not yet linked to a person (Splink; see docs/linkage.md)."""
    from joinedup.people.linking import link_backend, link_run

    chosen = link_backend(backend, url=backend_url)
    done = link_run(seed=seed, progress=_progress(), backend=chosen)
    kind = "incremental" if done.incremental else "full"
    typer.echo(
        f"joinedup: {kind} linkage run {done.run_id}: {done.linked:,} identities linked, "
        f"{done.people_created:,} new people, {done.review:,} possible matches for review "
        f"({done.seconds:.1f}s)"
    )


@people_app.command("export-links")
@django_command
def export_links(
    output: Annotated[Path, typer.Option("-o", "--output", help="The CSV file to write.")],
) -> None:
    """Write source,source_id,person_id for every source identity."""
    import csv

    from joinedup.core.audit import audit_record
    from joinedup.core.models import AuditAction
    from joinedup.people.linking import export_links as rows

    links = rows()
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "source_id", "person_id"])
        writer.writerows(links)
    audit_record(
        actor=None,
        action=AuditAction.EXPORT,
        resource="person_index.links",
        reason=f"{len(links)} rows to {output}",
    )
    typer.echo(f"joinedup: wrote {len(links):,} links to {output}")


@app.command()
@django_command
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 2,
) -> None:
    """Serve the site and APIs with a production server (gunicorn)."""
    from joinedup.web.server import run

    run(host=host, port=port, workers=workers)


@app.command()
@django_command
def demo(
    people: Annotated[int, typer.Option(help="Size of the synthetic borough.")] = 30_000,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    serve_site: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
) -> None:
    """Set up a demonstration: the database, demo users and people; then serve the site."""
    from joinedup.demo import demo_prepare

    credentials = demo_prepare(people=people, progress=_progress())
    _print_sign_ins(credentials, host=host, port=port)
    if serve_site:
        from joinedup.web.server import run

        run(host=host, port=port, workers=2)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Run a Django management command (for developers)."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["joinedup manage", *ctx.args])


def _progress() -> Callable[[str, int, int], None]:
    from joinedup.progress import RichProgress

    return RichProgress(console)


def _print_sign_ins(credentials: list[tuple[str, str, str]], *, host: str, port: int) -> None:
    from rich.table import Table

    table = Table(title=f"Demo sign-ins for http://{host}:{port}/")
    for column in ("role", "username", "password"):
        table.add_column(column)
    for role, username, password in credentials:
        table.add_row(role, username, password)
    Console().print(table)


app.command(name="synth", help="Generate a synthetic borough and its source systems' extracts.")(
    one_line_errors(synth_command)
)


def main() -> None:
    try:
        app()
    except JoinedUpError as exc:  # raised outside a command, e.g. by settings at start-up
        sys.exit(error_exit(exc).exit_code)
    except KeyboardInterrupt:
        console.print("joinedup: interrupted; run the command again to carry on")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("JOINEDUP_DEBUG") == "1":
            raise
        console.print(
            f"joinedup: unexpected error: {type(exc).__name__}: {exc} "
            "(set JOINEDUP_DEBUG=1 to see the trace)",
            highlight=False,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()

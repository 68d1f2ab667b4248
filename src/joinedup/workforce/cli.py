"""`joinedup workforce`: import staff and establishment extracts from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from joinedup.cli_errors import django_command

app = typer.Typer(help="The workforce baseline: import extracts.", no_args_is_help=True)


@app.command("import")
@django_command
def import_extract(
    file: Annotated[Path, typer.Argument(help="The extract: a .csv or .xlsx file.")],
    format: Annotated[  # noqa: A002 - the option's name on the command line
        str,
        typer.Option("--format", help="esr, socialcare or establishment (see the guide)."),
    ],
) -> None:
    """Import an extract; every row is accepted or kept back with its reasons."""
    from joinedup.errors import InvalidInput
    from joinedup.workforce import services

    if not file.is_file():
        raise InvalidInput("there is no such file", where=str(file))
    typer.echo(f"joinedup: reading {file.name}", err=True)
    if format == "establishment":
        summary = services.establishment_import_file(path=file)
    else:
        summary = services.staff_import_file(path=file, fmt=format)
    typer.echo(f"joinedup: {summary.one_line()}")
    if summary.rejected:
        typer.echo(
            "joinedup: see the rows kept back with "
            f"`joinedup workforce problems {summary.batch_id}`",
            err=True,
        )


@app.command("problems")
@django_command
def problems(batch: Annotated[int, typer.Argument(help="The import's number.")]) -> None:
    """Print the rows an import kept back, one line each with every reason."""
    from joinedup.workforce import selectors

    found, rows = selectors.import_problems(batch)
    for line, _raw, reasons in rows:
        typer.echo(f"line {line}: {'; '.join(reasons)}")
    typer.echo(
        f"joinedup: import {found.pk}: {found.rejected:,} rows kept back of {found.rows_read:,}"
    )

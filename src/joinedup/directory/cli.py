"""`joinedup directory`: import an Open Referral UK feed, export ours, load postcodes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from joinedup.cli_errors import django_command

app = typer.Typer(help="The service directory (Open Referral UK 3.0).", no_args_is_help=True)


@app.command("import")
@django_command
def import_feed(
    feed: Annotated[
        Path, typer.Argument(help="A JSON feed, or a folder or .zip of ORUK CSV tables.")
    ],
    source: Annotated[
        str, typer.Option(help="Who the feed is from, e.g. 'Tameside directory'.")
    ] = "",
) -> None:
    """Import a feed; every record is stored or kept back with its reasons."""
    from joinedup.directory import services

    typer.echo(f"joinedup: reading {feed.name}", err=True)
    summary = services.feed_import_path(path=feed, source=source or feed.stem)
    typer.echo(f"joinedup: {summary.one_line()}")
    if summary.rejected or summary.warnings:
        typer.echo(
            f"joinedup: see why with `joinedup directory problems {summary.batch_id}`", err=True
        )


@app.command("problems")
@django_command
def problems(batch: Annotated[int, typer.Argument(help="The import's number.")]) -> None:
    """Print what an import kept back or warned about, one line each."""
    from joinedup.directory.models import ImportBatch
    from joinedup.errors import NotFound

    found = ImportBatch.objects.filter(pk=batch).first()
    if found is None:
        raise NotFound("there is no import with that number", where=str(batch))
    for problem in found.problems.all():
        label = "kept back" if problem.kept_back else "warning"
        typer.echo(f"{problem.where}: {label}: {'; '.join(problem.reasons)}")
    typer.echo(
        f"joinedup: import {found.pk}: {found.rejected:,} kept back, "
        f"{found.warnings:,} warnings, {found.accepted:,} of {found.records_read:,} records stored"
    )


@app.command("export")
@django_command
def export(
    out: Annotated[Path, typer.Argument(help="The JSON file to write.")],
) -> None:
    """Write every service, fully nested as ORUK 3.0's /services/{id}, as one JSON list."""
    from joinedup.directory.exports import directory_export

    count = directory_export(path=out)
    typer.echo(f"joinedup: {count:,} services written to {out}")


@app.command("postcodes")
@django_command
def postcodes(
    file: Annotated[Path, typer.Argument(help="CSV: postcode, latitude, longitude[, lsoa_code].")],
) -> None:
    """Load postcode centroids, used to put the nearest services first."""
    from joinedup.directory import services

    done = services.postcodes_load(path=file)
    for line, reason in done.problems[:20]:
        typer.echo(f"line {line}: {reason}", err=True)
    typer.echo(
        f"joinedup: {done.loaded:,} postcode centroids loaded, {len(done.problems):,} kept back"
    )

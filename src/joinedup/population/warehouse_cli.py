"""The `joinedup warehouse` commands: load reference data, build, and describe the warehouse.

The lead registers ``app`` as ``joinedup warehouse``. Commands only parse options and
call ``warehouse_build``; the pseudonymising, the opt-out and the incremental rules live
there. The salt comes from JOINEDUP_WAREHOUSE_SALT (outside production, one is made once
under var/).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from joinedup.cli_errors import django_command
from joinedup.errors import InvalidInput

app = typer.Typer(
    help="The pseudonymised analytical warehouse (planning zone).", no_args_is_help=True
)
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def _root(path: Path | None) -> Path:
    from joinedup.population.warehouse_build import warehouse_root

    return path or warehouse_root()


@app.command()
@django_command
def reference(
    folder: Annotated[Path, typer.Argument(help="Borough folder with reference/ and population/.")],
    root: Annotated[
        Path | None, typer.Option(help="Warehouse folder (default var/warehouse).")
    ] = None,
) -> None:
    """Load LSOAs (IMD decile, neighbourhood), postcodes and mid-year estimates."""
    from joinedup.population.warehouse import Warehouse
    from joinedup.population.warehouse_build import reference_load

    counts = reference_load(warehouse=Warehouse(_root(root)), folder=folder)
    out.print(
        f"reference loaded: {counts['lsoas']} LSOAs, {counts['postcodes']} postcodes, "
        f"{counts['estimates']} population estimates"
    )


@app.command()
@django_command
def build(
    full: Annotated[bool, typer.Option("--full", help="Rebuild every delivery.")] = False,
    as_of: Annotated[
        str | None, typer.Option(help="Reference date YYYY-MM-DD (default: the extract date).")
    ] = None,
    root: Annotated[
        Path | None, typer.Option(help="Warehouse folder (default var/warehouse).")
    ] = None,
) -> None:
    """Pseudonymise the shared record into the warehouse, leaving out opted-out people."""
    from joinedup.population.warehouse import Warehouse
    from joinedup.population.warehouse_build import pseudonymiser, warehouse_build
    from joinedup.progress import RichProgress

    day = _date(as_of) if as_of else None
    summary = warehouse_build(
        warehouse=Warehouse(_root(root)),
        pseudonyms=pseudonymiser(),
        full=full,
        as_of=day,
        progress=RichProgress(err),
    )
    out.print(summary.line())


@app.command()
@django_command
def status(
    root: Annotated[
        Path | None, typer.Option(help="Warehouse folder (default var/warehouse).")
    ] = None,
) -> None:
    """What the warehouse holds and when it was built."""
    from joinedup.population.warehouse import Warehouse

    warehouse = Warehouse(_root(root))
    manifest = warehouse.manifest()
    if not manifest:
        raise InvalidInput("no warehouse has been built here", where=str(warehouse.root))
    out.print(
        f"build {manifest['build']} at {manifest['built_at']}, as of {manifest['as_of']}: "
        f"{manifest['persons']} people, {len(manifest['deliveries'])} deliveries"
    )


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)", where="--as-of") from None

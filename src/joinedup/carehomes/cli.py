"""`joinedup carehomes`: import the register, and run the alignment planner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from joinedup.cli_errors import django_command

app = typer.Typer(
    help="Care homes aligned to GP practices: the register and the planner.",
    no_args_is_help=True,
)

BalanceOption = Annotated[
    float,
    typer.Option(
        "--balance-weight",
        help="Km of travel worth one bed away from a practice's fair share (0 = travel only).",
    ),
]


@app.command("import-homes")
@django_command
def import_homes(
    file: Annotated[Path, typer.Argument(help="The care-home register CSV.")],
) -> None:
    """Add or update the care homes; each bad row is kept back with its reasons."""
    from joinedup.carehomes import services
    from joinedup.errors import InvalidInput

    if not file.is_file():
        raise InvalidInput("there is no such file", where=str(file))
    summary = services.care_homes_import(path=file)
    typer.echo(f"joinedup: care homes {summary.one_line()}")


@app.command("import-practices")
@django_command
def import_practices(
    file: Annotated[Path, typer.Argument(help="The organisation register CSV.")],
    lsoas: Annotated[
        Path | None,
        typer.Option(help="LSOA centroids CSV, for practices listed without a location."),
    ] = None,
) -> None:
    """Record each GP practice's location and list size from the organisation register."""
    from joinedup.carehomes import services
    from joinedup.errors import InvalidInput

    for path in (file, lsoas):
        if path is not None and not path.is_file():
            raise InvalidInput("there is no such file", where=str(path))
    summary = services.practice_sites_import(path=file, lsoas=lsoas)
    typer.echo(f"joinedup: practices {summary.one_line()}")


@app.command("problems")
@django_command
def problems(number: Annotated[int, typer.Argument(help="The import's number.")]) -> None:
    """Print the rows an import kept back, one line each with every reason."""
    from joinedup.carehomes import selectors

    found = selectors.import_problems(number)
    for problem in found.problems:
        typer.echo(f"line {problem['line']}: {'; '.join(problem['reasons'])}")
    typer.echo(
        f"joinedup: import {found.pk}: {found.rejected:,} rows kept back of {found.rows_read:,}"
    )


@app.command("align")
@django_command
def align(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    balance_weight: BalanceOption = 0.1,
    min_homes: Annotated[
        int | None,
        typer.Option(help="Fewest homes per practice (default: homes / practices, rounded down)."),
    ] = None,
    max_homes: Annotated[
        int | None,
        typer.Option(help="Most homes per practice (default: homes / practices, rounded up)."),
    ] = None,
) -> None:
    """Propose the best alignment of care homes to practices, beside the current one."""
    from joinedup.carehomes import planner
    from joinedup.carehomes.alignment import Rules

    comparison = planner.compare(
        Rules(balance_weight=balance_weight, min_homes=min_homes, max_homes=max_homes)
    )
    if as_json:
        typer.echo(json.dumps(planner.contract(comparison), indent=2))
        return
    for row in comparison.rows:
        mark = "*" if row.changed else " "
        typer.echo(
            f"{mark} {row.home_code:<8} {row.home_name[:34]:<34} "
            f"{row.current_code or '-':<8} -> {row.proposed_code:<8} {row.proposed_km:6.2f} km"
        )
    c, p = comparison.current, comparison.proposed
    typer.echo(
        f"joinedup: {comparison.moves} of {len(comparison.rows)} homes change practice; travel "
        f"{c.travel_km:.1f} km -> {p.travel_km:.1f} km; beds off fair share "
        f"{c.off_fair_share:.0f} -> {p.off_fair_share:.0f} ({comparison.seconds:.2f} s); "
        f"adopt with `joinedup carehomes adopt {comparison.fingerprint}`"
    )


@app.command("adopt")
@django_command
def adopt(
    fingerprint: Annotated[
        str,
        typer.Argument(help="The proposal's fingerprint, from `align` (guards against change)."),
    ],
    balance_weight: BalanceOption = 0.1,
) -> None:
    """Make the planner's proposal the register's alignment."""
    from joinedup.carehomes import services
    from joinedup.carehomes.alignment import Rules

    moved = services.alignment_adopt(
        user=None, rules=Rules(balance_weight=balance_weight), fingerprint=fingerprint
    )
    typer.echo(f"joinedup: proposal adopted, {moved} homes moved practice")

"""`joinedup neighbourhoods`: the front door's reference data and its service levels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from joinedup.cli_errors import django_command

app = typer.Typer(
    help="Integrated Neighbourhood Teams: postcodes, routing rules, referral service levels.",
    no_args_is_help=True,
)


@app.command("postcodes")
@django_command
def postcodes(
    borough: Annotated[Path, typer.Argument(help="A borough folder with reference/ in it.")],
) -> None:
    """Load which neighbourhood each postcode is in (for routing referrals)."""
    from joinedup.errors import InvalidInput
    from joinedup.neighbourhoods import services

    if not (borough / "reference" / "postcodes.csv").is_file():
        raise InvalidInput("there is no reference/postcodes.csv here", where=str(borough))
    count = services.postcodes_load(folder=borough)
    typer.echo(f"joinedup: {count:,} postcodes read")


@app.command("rules")
@django_command
def rules(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the routing rules in the order the front door tries them."""
    from joinedup.neighbourhoods.models import RoutingRule

    found = list(RoutingRule.objects.select_related("team", "neighbourhood"))
    rows = [
        {
            "priority": r.priority,
            "name": r.name,
            "active": r.active,
            "min_age": r.min_age,
            "max_age": r.max_age,
            "need": r.need or None,
            "urgency": r.urgency or None,
            "safeguarding": r.safeguarding,
            "neighbourhood": r.neighbourhood.name if r.neighbourhood else None,
            "team": r.team.name if r.team else None,
        }
        for r in found
    ]
    if as_json:
        typer.echo(json.dumps({"rules": rows}, indent=2))
        return
    for row in rows:
        team = row["team"] or "the neighbourhood's team"
        typer.echo(f"{row['priority']:>4}  {row['name']}  -> {team}")
    typer.echo(f"joinedup: {len(rows)} routing rules")


@app.command("breaches")
@django_command
def breaches() -> None:
    """Count referrals waiting for triage, and those past their service level, by team."""
    from joinedup.neighbourhoods import selectors

    counts = selectors.triage_breaches()
    for team, waiting, late in counts:
        typer.echo(f"{team}: {waiting} waiting, {late} past the service level")
    total = sum(late for _, _, late in counts)
    typer.echo(f"joinedup: {total} referrals past their triage service level")

"""The `joinedup panel` commands: fair panel selection from the borough's CSV files.

The lead registers ``app`` as ``joinedup panel`` and ``register_app`` as
``joinedup citizens`` (imports and housekeeping of the register). This module only parses options,
calls the kernel (joinedup.citizens.selection) and writes files; it holds no selection
logic. Errors: InvalidInput -> one line, exit 2; InfeasibleQuotas -> the relaxation
report on stderr, exit 4.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from joinedup.cli_errors import django_command, error_exit
from joinedup.errors import JoinedUpError

app = typer.Typer(help="Select citizens' panels fairly (sortition).", no_args_is_help=True)


@app.command()
def select(
    people: Annotated[Path, typer.Option(help="People CSV: an id column and one per feature.")],
    quotas: Annotated[
        Path, typer.Option(help="Quota CSV (feature,value,min,max or category,name,...).")
    ],
    size: Annotated[int, typer.Option(help="Panel size k.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory for the results.")],
    method: Annotated[str, typer.Option(help="leximin | maximin | nash | legacy.")] = "leximin",
    id_column: Annotated[str | None, typer.Option(help="Id column (default: guessed).")] = None,
    household: Annotated[
        str, typer.Option(help="Comma-separated address columns: one per household.")
    ] = "",
    seed: Annotated[
        int, typer.Option(help="Seed of the draw (announce it for a public draw).")
    ] = 0,
    selected: Annotated[str, typer.Option(help="Comma-separated ids already selected.")] = "",
) -> None:
    """Compute the lottery, draw a panel, write probabilities, panel, report and audit."""
    from joinedup.citizens.selection import audit as audit_mod
    from joinedup.citizens.selection import dialects
    from joinedup.citizens.selection.errors import InfeasibleQuotas
    from joinedup.citizens.selection.select import select as run_select

    try:
        pool = dialects.parse_people(
            dialects.read_text(people, "people"),
            id_column=id_column,
            household=tuple(c.strip() for c in household.split(",") if c.strip()),
        )
        table = dialects.parse_quotas(dialects.read_text(quotas, "quotas"))
        chosen = tuple(s.strip() for s in selected.split(",") if s.strip())
        import numpy as np

        result = run_select(
            pool,
            table,
            size,
            method=method,  # type: ignore[arg-type]
            selected=chosen,
            rng=np.random.default_rng([seed, 1]),
        )
    except InfeasibleQuotas as exc:
        typer.echo(exc.detail, err=True)
        out.mkdir(parents=True, exist_ok=True)
        (out / "relaxation.json").write_text(json.dumps(exc.report, indent=1))
        raise typer.Exit(exc.exit_code) from None
    except JoinedUpError as exc:
        raise error_exit(exc) from None
    panel = result.draw(audit_mod.draw_rng(seed))
    out.mkdir(parents=True, exist_ok=True)
    ids = pool.ids
    (out / "probabilities.csv").write_text(
        dialects.format_probabilities(ids, result.probabilities.tolist())
    )
    index = {pid: i for i, pid in enumerate(ids)}
    (out / "panel.csv").write_text(dialects.format_people(pool, sorted(index[p] for p in panel)))
    report = {**result.report(), "seed": seed}
    (out / "report.json").write_text(json.dumps(report, indent=1))
    record = audit_mod.audit_record(result, seed=seed, panel=panel)
    (out / "audit.json").write_text(audit_mod.dumps(record))
    typer.echo(
        f"joinedup panel: {method} over {pool.size} volunteers, panel {size}: min probability "
        f"{report['min_probability']:.6f} (k/n {report['equal_share']:.6f}), max "
        f"{report['max_probability']:.6f}, Gini {report['gini']:.3f} in {report['seconds']:.1f} s "
        f"-> {out}"
    )


@app.command()
def replay(audit: Annotated[Path, typer.Argument(help="An audit.json written by select.")]) -> None:
    """Re-derive the drawn panel from an audit record and check it matches."""
    from joinedup.citizens.selection import audit as audit_mod

    try:
        record = json.loads(audit.read_text())
        problems = audit_mod.verify(record)
    except JoinedUpError as exc:
        raise error_exit(exc) from None
    if problems:
        typer.echo("joinedup panel: " + "; ".join(problems), err=True)
        raise typer.Exit(7)
    typer.echo(f"joinedup panel: replayed and verified {len(record['panel'])} members")


# `joinedup citizens`: the register's housekeeping (the lead registers ``register_app``).
register_app = typer.Typer(
    help="The citizens' register: imports and housekeeping.", no_args_is_help=True
)


@register_app.command("import")
@django_command
def register_import(
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file with a header row.")],
) -> None:
    """Import volunteers; every row is accepted or kept back with its reason."""
    from joinedup.citizens.imports import volunteers_import
    from joinedup.errors import InvalidInput

    if not file.is_file():
        raise InvalidInput("there is no such file", where=str(file))
    result = volunteers_import(name=file.name, content=file.read_bytes(), user=None)
    for problem in result.problems:
        typer.echo(f"line {problem.line}: {problem.field}: {problem.reason}", err=True)
    batch = result.batch
    typer.echo(
        f"joinedup citizens: import {batch.pk}: {batch.rows_read:,} rows read, "
        f"{result.added:,} added, {result.updated:,} updated, "
        f"{batch.rows_read - batch.rows_accepted:,} kept back"
    )


@register_app.command("purge-unconfirmed")
@django_command
def purge_unconfirmed(
    days: Annotated[int, typer.Option(help="Erase online sign-ups unconfirmed this long.")] = 30,
) -> None:
    """Erase online sign-ups never confirmed (the confirmation email promises it)."""
    from joinedup.citizens.services import volunteers_purge_unconfirmed

    erased = volunteers_purge_unconfirmed(days=days)
    typer.echo(f"joinedup citizens: erased {erased:,} sign-ups unconfirmed after {days} days")


@register_app.command("draw")
@django_command
def register_draw(
    name: Annotated[str, typer.Option(help="The panel's name.")],
    quotas: Annotated[Path, typer.Option(help="Quota CSV in either dialect.")],
    size: Annotated[int, typer.Option(help="Panel size k.")],
    user: Annotated[str, typer.Option(help="The engagement officer drawing it (username).")],
    neighbourhood: Annotated[
        str, typer.Option(help="Neighbourhood code; empty for the whole borough.")
    ] = "",
    kind: Annotated[str, typer.Option(help="focus_group, survey or representation.")] = (
        "focus_group"
    ),
    method: Annotated[str, typer.Option(help="leximin | maximin | nash | legacy.")] = "leximin",
    seed: Annotated[
        int | None, typer.Option(help="Seed of the draw (random if not given).")
    ] = None,
    public: Annotated[bool, typer.Option(help="Publish 1,000 panels for a public draw.")] = False,
) -> None:
    """Draw a panel from the register, as the staff page does, for pools too large to
    solve within a web request; the panel then appears on the Panels page."""
    from joinedup.citizens import panels
    from joinedup.citizens.selection.dialects import read_text
    from joinedup.core.models import Neighbourhood, User
    from joinedup.errors import InvalidInput

    officer = User.objects.filter(username=user, is_active=True).first()
    if officer is None:
        raise InvalidInput("there is no active user with that name", where="--user")
    hood = None
    if neighbourhood:
        hood = Neighbourhood.objects.filter(code=neighbourhood).first()
        if hood is None:
            raise InvalidInput("there is no neighbourhood with that code", where="--neighbourhood")
    text = read_text(quotas, "quotas")
    from joinedup.citizens.selection import parse_quotas

    request = panels.DrawRequest(
        name=name,
        kind=kind,
        neighbourhood=hood,
        features=tuple(parse_quotas(text).features),
        quotas_csv=text,
        size=size,
        method=method,
        seed=seed,
        public=public,
    )
    panel = panels.panel_draw(user=officer, request=request)
    report = panel.report
    typer.echo(
        f"joinedup citizens: panel {panel.pk} drawn: {report['method']} over "
        f"{report['pool_size']:,} volunteers, min probability {report['min_probability']:.6f} "
        f"(k/n {report['equal_share']:.6f}) in {report['seconds']:.1f} s"
    )

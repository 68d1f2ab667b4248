"""The `joinedup panel` commands: fair panel selection from the borough's CSV files.

The lead registers ``app`` as ``joinedup panel``. This module only parses options,
calls the kernel (joinedup.citizens.selection) and writes files; it holds no selection
logic. Errors: InvalidInput -> one line, exit 2; InfeasibleQuotas -> the relaxation
report on stderr, exit 4.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from joinedup.cli_errors import error_exit
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

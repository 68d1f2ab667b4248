"""The `joinedup synth` command: generate a synthetic borough with a progress bar.

The lead's CLI registers `synth` on the main `joinedup` app. It shows progress per
step, ends with a one-line summary, and maps SynthError to exit code 2.

It must never hold generation logic: it only parses options and reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from joinedup.synth import config
from joinedup.synth.borough import SynthError, generate_borough


def synth(
    people: Annotated[
        int, typer.Option(help="Residents at the start of the window (1,000 to 3,000,000).")
    ] = config.DEFAULT_PEOPLE,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives identical files.")
    ] = 1,
    out: Annotated[Path, typer.Option(help="Directory to write the borough to.")] = Path(
        "var/borough"
    ),
    overwrite: Annotated[bool, typer.Option(help="Replace a non-empty output directory.")] = False,
) -> None:
    """Generate a synthetic borough and the files its organisations' systems would send."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]synth[/bold] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=16)

        def report(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        try:
            summary = generate_borough(
                people=people, seed=seed, out=out, progress=report, overwrite=overwrite
            )
        except SynthError as error:
            bar.stop()
            typer.echo(f"joinedup synth: {error}", err=True)
            raise typer.Exit(2) from error
    typer.echo(
        f"Synthetic borough: {summary.people:,} people, {len(summary.files)} files, "
        f"{summary.rows:,} rows ({sum(summary.malformed.values()):,} malformed) "
        f"in {summary.seconds:.1f} s -> {summary.out}"
    )


def main() -> None:  # pragma: no cover - convenience entry point until the lead wires the app
    """Run `synth` as a stand-alone command."""
    typer.run(synth)

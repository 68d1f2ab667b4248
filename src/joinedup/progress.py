"""Progress reporting for long commands: one callable, shown with rich in a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class RichProgress:
    """``progress(stage, done, total)``: advances one bar per stage."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self._started = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self._started:
            self._progress.start()
            self._started = True
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(task, completed=done, total=total)
        if all(t.finished for t in self._progress.tasks):
            self._progress.stop()
            self._started = False

    def __del__(self) -> None:
        if self._started:
            self._progress.stop()

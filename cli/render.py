"""Output: the API's JSON with --json (or tables and bars for a person at a terminal). No bars or
colour when stdout is not a terminal; errors go to stderr as one line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

out = Console(highlight=False)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def fail(message: str) -> None:
    """One plain line on stderr (no Rich: it must also work while a bar is being torn down)."""
    sys.stderr.write(f"error: {' '.join(message.split())}\n")
    sys.stderr.flush()


def table(rows: list[dict[str, Any]], columns: list[str], title: str | None = None) -> None:
    if not rows:
        out.print("(none)")
        return
    grid = Table(title=title)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    out.print(grid)


class Bytes:
    """A byte bar (size, speed, time left) — drawn only on a terminal."""

    def __init__(self, progress: Progress, label: str) -> None:
        self.progress, self.label = progress, label
        self.task: TaskID | None = None

    def start(self, total: int, done: int) -> None:
        if self.task is None:
            self.task = self.progress.add_task(self.label, total=total, completed=done)
        else:
            self.progress.update(self.task, total=total, completed=done)

    def advance(self, n: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)


@contextmanager
def byte_bar(label: str, quiet: bool) -> Iterator[Bytes]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=out, disable=quiet or not out.is_terminal) as progress:
        yield Bytes(progress, label)


def describe(state: dict[str, Any]) -> str:
    status = state["status"]
    parts = [status]
    if state.get("queue_position"):
        parts.append(f"#{state['queue_position']} in line")
    if state.get("eta_seconds") is not None:
        minutes, seconds = divmod(int(state["eta_seconds"]), 60)
        parts.append(f"ETA {minutes}:{seconds:02d}")
    return " · ".join(parts)


class JobBar:
    """The processing bar: queue position and ETA as its label, progress % as its fill."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("waiting", total=100)

    def __call__(self, state: dict[str, Any]) -> None:
        self.progress.update(
            self.task, completed=state.get("progress", 0), description=describe(state)
        )


@contextmanager
def job_bar(quiet: bool) -> Iterator[JobBar]:
    columns = (
        TextColumn("{task.description:<34}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
    )
    with Progress(*columns, console=out, disable=quiet or not out.is_terminal) as progress:
        yield JobBar(progress)

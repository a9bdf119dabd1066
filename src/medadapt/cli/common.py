"""Helpers shared by the command modules: progress display and tables on the terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=True)
stdout = Console()


@contextlib.contextmanager
def status_progress(title: str, total: int | None = None) -> Iterator[Any]:
    """A progress bar (or spinner without ``total``); yields ``step(message)``."""
    columns = [
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(title, total=total, message="")

        def step(message: str, advance: int | None = None) -> None:
            if advance is None:  # epoch updates on a spinner change the message only
                advance = 1 if total is not None and not message.startswith("epoch ") else 0
            progress.update(task, advance=advance, message=message)

        yield step
        progress.update(task, completed=total if total is not None else None, message="done")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*["–" if v is None else str(v) for v in row])
    stdout.print(table)


def split_list(value: str | None) -> list[str]:
    """``"A,B"`` -> ``["A", "B"]`` (spaces around names trimmed)."""
    if not value:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def small_model_threads() -> None:
    """One torch thread for the small tabular models (faster than two: no sync overhead);
    ``MEDADAPT_THREADS`` overrides."""
    import os

    import torch

    torch.set_num_threads(int(os.environ.get("MEDADAPT_THREADS", "1")))

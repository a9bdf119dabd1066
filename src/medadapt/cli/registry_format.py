"""How the ``medadapt registry`` commands print: sizes, table cells, JSON, the console.

Imported by :mod:`medadapt.cli.registry`; like the other registry command modules, cheap to
import (no torch).
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

from medadapt.registry import AdapterVersion
from medadapt.registry.diff import flatten


def table_console() -> Console:
    """The console the registry commands print their tables on (no highlighting, soft wrap)."""
    return Console(highlight=False, soft_wrap=True)


def human_size(n: int) -> str:
    """``n`` bytes as B, KB, MB or GB."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def headline_metric(v: AdapterVersion) -> str:
    """The first performance metric of ``v`` with its interval (never a count), or ``-``."""
    scores = [m for m in v.metric_list() if not m.is_count]
    return f"{scores[0].name} {scores[0].format()}" if scores else "-"


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def cell(value: Any) -> str:
    """A value for a table cell: ``-`` for None, JSON for a dict or list."""
    if value is None:
        return "-"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def config_items(config: dict[str, Any]) -> list[tuple[str, Any]]:
    """The method config as dotted keys, without the unset ones and the method itself."""
    items = flatten(config).items()
    return [(k, c) for k, c in items if k != "method" and c is not None and c != {} and c != []]

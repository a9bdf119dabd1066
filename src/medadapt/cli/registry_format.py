"""How the ``medadapt registry`` commands print: sizes, table cells, data summaries, JSON,
the console.

Imported by :mod:`medadapt.cli.registry`; like the other registry command modules, cheap to
import (no torch).
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

from medadapt.registry import AdapterVersion
from medadapt.registry.card import is_sample_size, sample_size_rows
from medadapt.registry.diff import flatten
from medadapt.registry.records import WHOLE_RESULT, metric_notes


def table_console() -> Console:
    """The console the registry commands print their tables on (no highlighting, soft wrap)."""
    return Console(highlight=False, soft_wrap=True)


def human_size(n: int) -> str:
    """``n`` bytes as B, KiB, MiB or GiB (powers of 1024, named as such: 35,908 bytes are
    35.1 KiB, not 35.1 KB)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


#: marks a headline metric that carries a warning (see :func:`headline_metric`)
WARNED = " (!)"


def headline_metric(v: AdapterVersion) -> str:
    """The first performance metric of ``v`` with its interval (never a count), or ``-``;
    marked :data:`WARNED` when a note concerns it or the whole result (an accuracy of 0.946
    from calling every patient positive, an AUROC too good to be true)."""
    scores = [m for m in v.metric_list() if not m.is_count]
    if not scores:
        return "-"
    notes = metric_notes(v.metrics)
    warned = scores[0].name in notes or any(key in notes for key in WHOLE_RESULT)
    return f"{scores[0].name} {scores[0].format()}{WARNED if warned else ''}"


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


def _text(value: Any) -> str:
    """A summary value in words: a list as its items, never Python's repr of it."""
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def pairs(value: dict[str, Any]) -> str:
    """A nested summary as ``key: value`` pairs (``0: 6, 1: 80``; deeper keys dotted)."""
    return ", ".join(f"{k}: {_text(v)}" for k, v in flatten(value).items())


def summary_rows(data_summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The data summary as ``show`` prints it: ``(field, text)`` rows, a nested summary as
    ``key: value`` pairs and the sample-size entry in words (counts and figures only)."""
    rows = []
    for key, value in data_summary.items():
        if key == "sample_size" and is_sample_size(value):
            rows += [(f"data: {field}", text) for field, text in sample_size_rows(value)]
        elif isinstance(value, dict):
            rows.append((f"data: {key}", pairs(value) or "none"))
        else:
            rows.append((f"data: {key}", _text(value)))
    return rows

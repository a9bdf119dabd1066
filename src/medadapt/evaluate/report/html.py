"""A small HTML report builder: sections, tables, embedded matplotlib figures.

The page is one file: CSS inline, images as ``data:`` URIs, no script, no external resource,
so it opens offline and can be attached to an e-mail. Text is escaped; only counts and
summaries are ever passed in.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

import medadapt
from medadapt.evaluate.report.formatting import fmt, fmt_ci  # noqa: F401
from medadapt.fileio import atomic_write_bytes, make_parent

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1d2730;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.1em}h2{border-bottom:2px solid #dde3e8;padding-bottom:.2em;
margin-top:1.8em}h3{margin-bottom:.3em}.sub{color:#5b6b78;margin-top:0}
.summary{background:#f1f6fa;border-left:5px solid #2f6f9f;padding:.6em 1.2em;margin:1em 0}
.warn{background:#fff6e5;border-left:5px solid #d68a00;padding:.5em 1.2em;margin:.8em 0}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.92em}
th,td{border:1px solid #d5dde3;padding:.3em .6em;text-align:right}
th{background:#eef2f5}td:first-child,th:first-child{text-align:left}
caption{caption-side:bottom;color:#5b6b78;font-size:.88em;padding-top:.3em;text-align:left}
p.note{color:#5b6b78;font-size:.88em;margin:-.8em 0 .3em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #e3e8ec}
figcaption{color:#5b6b78;font-size:.9em}.card{border:1px solid #cfd8df;border-radius:6px;
padding:.5em 1.2em;background:#fbfcfd}.foot{color:#7a8893;font-size:.85em;margin-top:3em}
"""


class Report:
    """Collects blocks of HTML and writes one self-contained file."""

    def __init__(self, *, title: str, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle
        self.blocks: list[str] = []
        self.n_figures = 0
        self.notes: list[str] = []  # the report's footnotes, numbered across its tables

    def summary(self, lines: Sequence[str], *, heading: str = "Summary") -> None:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        self.blocks.append(
            f'<div class="summary"><h2>{html.escape(heading)}</h2><ul>{items}</ul></div>'
        )

    def warnings(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.blocks.append(f'<div class="warn">{html.escape(line)}</div>')

    def section(self, title: str, text: str | None = None) -> None:
        self.blocks.append(f"<h2>{html.escape(title)}</h2>")
        if text:
            self.paragraph(text)

    def subsection(self, title: str) -> None:
        self.blocks.append(f"<h3>{html.escape(title)}</h3>")

    def paragraph(self, text: str) -> None:
        self.blocks.append(f"<p>{html.escape(text)}</p>")

    def table(
        self, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, caption: str | None = None
    ) -> None:
        rows, below = self._footnoted(columns, rows)
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>"
            for row in rows
        )
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        notes = "".join(f'<p class="note">[{self.notes.index(text) + 1}] {html.escape(text)}</p>'
                        for text in below)  # fmt: skip
        self.blocks.append(
            f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}"
        )

    def _footnoted(
        self, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> tuple[list[list[Any]], list[str]]:
        """A "note" column's text that several rows share, said once below the table with
        the rows pointing to it (``[1]``), numbered across the report as the terminal numbers
        a command's (a trial's report repeated one paragraph in every row); returns the rows
        and the notes new to this table."""
        rows = [list(row) for row in rows]
        if "note" not in columns:
            return rows, []
        at = list(columns).index("note")
        counts = Counter(row[at] for row in rows if isinstance(row[at], str) and row[at])
        shared = [text for text, n in counts.items() if n > 1]
        below = [text for text in shared if text not in self.notes]
        self.notes += below
        for row in rows:  # a note said under an earlier table: its number, even in one row
            if isinstance(row[at], str) and row[at] in self.notes:
                row[at] = f"[{self.notes.index(row[at]) + 1}]"
        return rows, below

    def figure(self, figure: Figure, *, caption: str, alt: str | None = None) -> None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        plt.close(figure)
        data = base64.b64encode(buffer.getvalue()).decode()
        self.n_figures += 1
        self.blocks.append(
            f'<figure><img alt="{html.escape(alt or caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def card(self, title: str, fields: Sequence[tuple[str, str]]) -> None:
        rows = "".join(
            f"<dt><b>{html.escape(k)}</b></dt><dd>{html.escape(v)}</dd>" for k, v in fields
        )
        self.blocks.append(f'<div class="card"><h3>{html.escape(title)}</h3><dl>{rows}</dl></div>')

    def render(self) -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f'<h1>{html.escape(self.title)}</h1><p class="sub">{html.escape(self.subtitle)}</p>'
            + "".join(self.blocks)
            + f'<p class="foot">Written by medadapt {medadapt.__version__} on {stamp}. '
            "The report holds counts and summary metrics only, never patient rows.</p>"
            "</body></html>"
        )

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        make_parent(path)
        atomic_write_bytes(path, self.render().encode())
        return path

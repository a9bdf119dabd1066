"""Self-contained HTML reports a clinician can read (plots embedded, no network needed).

``Report`` is loaded on first use (it brings matplotlib): the command line's ``--help`` and
the modules that only format numbers (:mod:`.formatting`) do not pay for it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Report"]


def __getattr__(name: str) -> Any:
    if name == "Report":
        from medadapt.evaluate.report.html import Report

        return Report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

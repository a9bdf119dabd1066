"""Self-contained HTML reports a clinician can read (plots embedded, no network needed)."""

from medadapt.evaluate.report.html import Report

__all__ = ["Report"]

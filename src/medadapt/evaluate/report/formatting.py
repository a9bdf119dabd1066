"""Number formatting for tables (no heavy imports, so the CLI can use it at start-up)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def fmt(value: Any, digits: int = 3) -> str:
    """A metric for a table cell: numbers rounded, None as an en dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_ci(value: Any, ci: Sequence[float] | None, digits: int = 2) -> str:
    """``0.81 (0.72–0.89)``, or the reason it is missing."""
    if value is None:
        return "n/a"
    text = f"{value:.{digits}f}"
    if ci:
        text += f" ({ci[0]:.{digits}f}–{ci[1]:.{digits}f})"
    return text


METRIC_LABELS = {  # how reports name each metric
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "sensitivity": "sensitivity",
    "specificity": "specificity",
    "brier": "Brier score",
    "ece": "calibration error (ECE)",
    "mae": "MAE",
    "rmse": "RMSE",
    "r2": "R²",
}

"""Metrics overall, per group (site, region) and per subgroup (sex, age band).

Subgroups are read from the table when present: the group column, a sex/gender column, and an
age band made from an ``age`` column (<50, 50-64, >=65). Only counts and metrics come out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.tables import group_labels
from medadapt.evaluate.metrics import compute_metrics

AGE_BANDS = ((0, 50, "<50"), (50, 65, "50-64"), (65, 200, ">=65"))
_SEX_NAMES = ("sex", "gender")


def age_band(age: Any) -> str:
    try:
        value = float(age)
    except (TypeError, ValueError):
        return "unknown"
    if np.isnan(value):
        return "unknown"
    for low, high, label in AGE_BANDS:
        if low <= value < high:
            return label
    return "unknown"


def subgroup_columns(
    frame: pd.DataFrame, *, group_column: str | None = None, extra: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """``{subgroup name: label per row}`` for the subgroups present in ``frame``."""
    out: dict[str, np.ndarray] = {}
    if group_column is not None and group_column in frame:
        out[group_column] = group_labels(frame[group_column])
    for column in frame.columns:
        if column.lower() in _SEX_NAMES:
            out[column] = group_labels(frame[column])
            break
    for column in frame.columns:
        if column.lower() == "age":
            out["age band"] = np.array([age_band(a) for a in frame[column]])
            break
    for column in extra:
        out[column] = group_labels(frame[column])
    return out


def evaluate_groups(
    task: str,
    y_true: np.ndarray,
    scores: np.ndarray,
    subgroups: dict[str, np.ndarray],
    **metric_options: Any,
) -> dict[str, Any]:
    """``{"overall": metrics, "subgroups": {name: {value: metrics}}}``."""
    result: dict[str, Any] = {"overall": compute_metrics(task, y_true, scores, **metric_options)}
    per: dict[str, dict[str, Any]] = {}
    for name, labels in subgroups.items():
        per[name] = {}
        for value in sorted(set(labels.tolist())):
            rows = labels == value
            per[name][value] = compute_metrics(task, y_true[rows], scores[rows], **metric_options)
    result["subgroups"] = per
    return result

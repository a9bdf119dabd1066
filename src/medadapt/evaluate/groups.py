"""Metrics overall, per group (site, region) and per subgroup (sex, age band).

Which subgroups a sample belongs to is the modality's to say (tables:
:func:`medadapt.modalities.tabular.samples.subgroup_columns`). Only counts and metrics come out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medadapt.evaluate.metrics import compute_metrics
from medadapt.evaluate.report.formatting import natural_order


def evaluate_groups(
    task: str,
    y_true: np.ndarray,
    scores: np.ndarray,
    subgroups: dict[str, np.ndarray],
    patients: Any = None,
    **metric_options: Any,
) -> dict[str, Any]:
    """``{"overall": metrics, "subgroups": {name: {value: metrics}}}``; ``patients``: each
    sample's patient, where one may have several (resampled together, in every subgroup)."""
    result: dict[str, Any] = {
        "overall": compute_metrics(task, y_true, scores, patients=patients, **metric_options)
    }
    per: dict[str, dict[str, Any]] = {}
    for name, labels in subgroups.items():
        per[name] = {}
        for value in natural_order(set(labels.tolist())):  # <50, 50-64, >=65: as read
            rows = labels == value
            of = None if patients is None else np.asarray(patients)[rows]
            per[name][value] = compute_metrics(task, y_true[rows], scores[rows], patients=of,
                                               **metric_options)  # fmt: skip
    result["subgroups"] = per
    return result

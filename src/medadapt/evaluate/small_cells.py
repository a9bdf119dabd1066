"""Small-cell suppression: subgroup counts below 5 are shown as ``"<5"``.

A subgroup report such as "sex: Female, 1 patient, 1 with disease" tells anyone who knows
that patient her diagnosis. Reports and ``study.json`` therefore never show a count of 1 to 4
patients, positives or negatives in a subgroup (nor the complement that would give it away,
nor a prevalence computed from it). Metrics of such subgroups are already not reported (too
few patients or events); only how counts are shown changes, never how metrics are computed.

>>> mask_counts({"n": 12, "n_positive": 1, "prevalence": 0.083, "auroc": None})
{'n': 12, 'n_positive': '<5', 'prevalence': None, 'auroc': None}
"""

from __future__ import annotations

import re
from typing import Any

SMALL_CELL = 5
_SMALL_COUNT = re.compile(r"\b(?:only )?[1-4] (patient|positive|negative|row)s?\b")


def _small(count: Any) -> bool:
    return isinstance(count, int) and 0 < count < SMALL_CELL


def mask_note(note: str) -> str:
    """``"only 3 patients"`` -> ``"fewer than 5 patients"``; other numbers are kept."""
    return _SMALL_COUNT.sub(lambda m: f"fewer than {SMALL_CELL} {m.group(1)}s", note)


def mask_counts(metrics: dict[str, Any]) -> dict[str, Any]:
    """A copy of one subgroup's metrics with its small counts suppressed."""
    out = dict(metrics)
    n = metrics.get("n")
    masked = False
    if _small(n):
        out["n"], masked = f"<{SMALL_CELL}", True
    if isinstance(metrics.get("n_positive"), int) and isinstance(n, int):
        positives, negatives = metrics["n_positive"], n - metrics["n_positive"]
        if masked or _small(positives):
            out["n_positive"], masked = f"<{SMALL_CELL}", True
        elif _small(negatives):  # the complement would give the negatives away
            out["n_positive"], masked = f">{n - SMALL_CELL}", True
    if isinstance(metrics.get("class_counts"), list):
        counts = metrics["class_counts"]
        if masked or any(_small(c) for c in counts):  # no exact count gives a small one away
            out["class_counts"] = [
                f"<{SMALL_CELL}" if masked or _small(c) else f">={SMALL_CELL}" for c in counts
            ]
            masked = True
    if masked and "prevalence" in out:
        out["prevalence"] = None
    if isinstance(metrics.get("notes"), dict):
        out["notes"] = {k: mask_note(v) for k, v in metrics["notes"].items()}
    return out


def mask_subgroups(subgroups: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """``{name: {value: metrics}}`` with every subgroup's small counts suppressed."""
    return {
        name: {value: mask_counts(metrics) for value, metrics in groups.items()}
        for name, groups in subgroups.items()
    }

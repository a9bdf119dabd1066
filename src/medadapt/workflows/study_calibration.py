"""The study report's calibration table: each strategy's calibration slope and observed/
expected ratio (a measured value's: slope and mean observed − predicted) at the largest
training size, beside the metric the strategies are ranked by.

A trial: the study named a "best" strategy by AUROC and computed every point's calibration,
but showed none of it; the base and both adapters had slopes near 0.3 (risks far too extreme)
while the strategy called best had 0.4-0.8, and no reader could know.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from medadapt.evaluate.report import Report
from medadapt.evaluate.report.formatting import METRIC_LABELS, fmt_ci, metric_digits
from medadapt.workflows.labels import label, order

#: what the table shows, by task (multiclass: no calibration slope is reported)
CALIBRATION = {
    "binary": ("calibration_slope", "oe_ratio"),
    "regression": ("calibration_slope", "calibration_in_the_large"),
}
#: the value each figure has for a perfectly calibrated model
IDEAL = {"calibration_slope": 1.0, "oe_ratio": 1.0, "calibration_in_the_large": 0.0}
#: what a test interval wholly on one side of the ideal says, per figure: (below, above)
READINGS = {
    ("binary", "calibration_slope"): ("risks too extreme", "risks too moderate"),
    ("binary", "oe_ratio"): ("too many events predicted", "too few events predicted"),
    ("regression", "calibration_slope"): (
        "predictions spread too wide",
        "predictions squeezed to the average",
    ),
    ("regression", "calibration_in_the_large"): ("predicted too high", "predicted too low"),
}


#: what a slope's test interval wholly below 0 says instead of its "below" reading (a
#: trial's -7.3 (-15.3 to -2.9) read "too extreme": a ranking run backwards)
OPPOSITE = {"binary": "risks run opposite to the outcomes",
            "regression": "predictions run opposite to the outcomes"}  # fmt: skip


def calibration_rows(points: list[dict[str, Any]], task: str) -> list[list[str]]:
    """Per strategy (in the report's order): each figure's mean over seeds with the mean of
    the seeds' 95% intervals over the test patients, and what an interval wholly off the
    ideal says (in every seed)."""
    names = CALIBRATION[task]
    by_strategy: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for point in points:
        by_strategy[point["strategy"]].append(point["metrics"])
    rows = []
    for strategy in sorted(by_strategy, key=order):
        seeds, cells, said = by_strategy[strategy], [], []
        for name in names:
            values = [m.get(name) for m in seeds if m.get(name) is not None]
            intervals = [m[f"{name}_ci"] for m in seeds if m.get(f"{name}_ci")]
            if not values:  # why, as the points recorded it (a trial's report: "n/a" alone)
                cells.append("n/a")
                said.append(f"{METRIC_LABELS[name]} n/a: {_why_none(seeds, name)}")
                continue
            mean = float(np.mean(values))
            ci = list(np.mean(intervals, axis=0)) if len(intervals) == len(seeds) else None
            cells.append(fmt_ci(mean, ci, metric_digits(name, mean, 2)))  # 14.2, not 14.20
            below, above = READINGS[(task, name)]
            ideal = IDEAL[name]
            if len(intervals) != len(seeds):
                continue
            opposite = sum(high < 0 for _, high in intervals) if name == "calibration_slope" else 0
            for reading, off in ((OPPOSITE.get(task, below), opposite),
                                 (below, sum(high < ideal for _, high in intervals) - opposite),
                                 (above, sum(low > ideal for low, _ in intervals))):  # fmt: skip
                if off == len(seeds):
                    said.append(reading)
                elif off:  # a trial read a base's O/E of 1.28 (1.07-1.54) left unflagged
                    said.append(f"{reading} (in {off} of {len(seeds)} seeds)")
        rows.append([label(strategy), *cells, "; ".join(said)])
    return rows


def _why_none(seeds: list[dict[str, Any]], name: str) -> str:
    """Why no seed reports ``name``: its points' note (the first), or that none recorded one.

    >>> _why_none([{"notes": {"calibration_slope": "not reported: the predictions separate "
    ...             "these patients perfectly, so no slope can be fitted"}}], "calibration_slope")
    'the predictions separate these patients perfectly, so no slope can be fitted'
    """
    notes = (m.get("notes") for m in seeds)
    why = next((str(n[name]) for n in notes if isinstance(n, dict) and n.get(name)), None)
    return "not reported for any seed" if why is None else why.removeprefix("not reported: ")


#: what the metric a study ranks by says of a model (:func:`calibration_section`)
_RANKED_BY = {
    "auroc": "how well a model orders the patients",
    "mae": "how far a model's predictions are from the measured values on average",
    "accuracy": "how often a model's call at its threshold is right",
}


def calibration_section(
    report: Report, points: list[dict[str, Any]], task: str, size: str, metric: str
) -> None:
    """The section: a table of :func:`calibration_rows` for the ``points`` at the largest
    ``size``, saying that the strategies were ranked by ``metric`` alone."""
    if task not in CALIBRATION or not points:
        return
    names = CALIBRATION[task]
    report.section(
        f"Calibration with {size}",
        f"The strategies above are ranked by {METRIC_LABELS[metric]} alone, which says "
        f"{_RANKED_BY.get(metric, _RANKED_BY['auroc'])}, not whether its predictions can be "
        "taken at face value: read these before using a strategy's predictions as they are.",
    )
    report.table(
        ["strategy", *(f"{METRIC_LABELS[n]} (95% CI)" for n in names), "the seeds' intervals"],
        calibration_rows(points, task),
        caption=(
            "Mean over seeds (the mean of each seed's 95% interval over the test patients). "
            f"Ideal: {METRIC_LABELS[names[0]]} {IDEAL[names[0]]:g}, {METRIC_LABELS[names[1]]} "
            f"{IDEAL[names[1]]:g}. 'The seeds' intervals': what a seed's interval wholly on "
            "one side of the ideal says, unqualified where every seed's does, else in how "
            "many seeds."
        ),
    )

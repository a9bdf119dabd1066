"""Sections of the HTML reports that only some results have: one row per class, the old
classes' retention (adapter vs full fine-tuning), one-vs-rest ROC curves, and an adapter beside
another model on the same samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from medadapt.evaluate.report import Report
from medadapt.evaluate.report.formatting import METRIC_LABELS, fmt_ci, fmt_metric
from medadapt.evaluate.report.plots import roc_figure
from medadapt.evaluate.retention import (
    OLD_CALLED_NEW_LIMIT,
    RETENTION_TOLERANCE,
    auroc_change,
    old_classes_kept,
)
from medadapt.results import auroc_reading

_TRICKS = {
    "distill": "adapter + extended head; class-weighted cross-entropy on old and new images, "
    "plus distillation of the base model's old-class outputs",
    "none": "plain cross-entropy on the same images (no retention measure)",
}


def auroc_line(metrics: dict[str, Any], what: str) -> str | None:
    note = metrics.get("notes", {}).get("auroc") or metrics.get("notes", {}).get("all")
    if metrics.get("auroc") is None:
        return f"{what}: AUROC {note}." if note else None
    if not metrics.get("auroc_ci"):  # no interval: the note says why (never "between x and x")
        return f"{what}: AUROC {metrics['auroc']:.2f}, {note or 'no interval'}."
    low, high = metrics["auroc_ci"]
    reading, read = auroc_reading(metrics)
    likely = f"; the true value is likely between {low:.2f} and {high:.2f}" if read else ""
    return (  # in words too, as evaluate's report says it (a trial's adapter 0.63 (0.46-0.80))
        f"{what}: AUROC {fmt_ci(metrics['auroc'], metrics['auroc_ci'])}: {reading}{likely}."
    )


def retention_rows(entries: list[tuple[str, str, dict[str, Any] | None]]) -> list[list[Any]]:
    rows = []
    for label, trick, r in entries:
        if not r:
            continue
        rows.append(
            [
                label,
                _TRICKS.get(trick, trick),
                r["n_images"],
                fmt_ci(r["auroc_before"], r["auroc_before_ci"], 3),
                fmt_ci(r["auroc_after"], r["auroc_after_ci"], 3),
                _change_cell(r),
                _called_new_cell(r),
                {None: "n/a", True: "yes", False: "NO"}[old_classes_kept(r)],
            ]
        )
    return rows


def _change_cell(r: dict[str, Any]) -> str:
    """'gain 0.044 (-0.010 to +0.090)': the AUROC change (after - before) with its CI."""
    if r["drop"] is None:
        return "n/a"
    if not r["drop_ci"]:
        return auroc_change(-r["drop"])
    low, high = 0.0 - r["drop_ci"][1], 0.0 - r["drop_ci"][0]  # never -0.0
    return f"{auroc_change(-r['drop'])} ({low:+.3f} to {high:+.3f})"


def _called_new_cell(r: dict[str, Any]) -> str:
    """'14% (7% of the 58 the base got right)': old-class samples now called a new class."""
    if r["old_predicted_as_new"] is None:
        return "n/a"
    overall = f"{r['old_predicted_as_new']:.0%}"
    if r.get("base_correct_predicted_as_new") is None:
        return overall
    share, n_right = r["base_correct_predicted_as_new"], r["n_base_correct"]
    return f"{overall} ({share:.0%} of the {n_right} the base got right)"


#: the metrics an adapter is shown beside another model with: a measured value (regression)
#: has no AUROC or accuracy
SIDE_BY_SIDE = ("auroc", "auprc", "accuracy", "balanced_accuracy", "sensitivity", "specificity",
                "brier", "ece", "oe_ratio", "calibration_slope")  # fmt: skip
SIDE_BY_SIDE_REGRESSION = ("mae", "rmse", "r2", "calibration_slope", "calibration_in_the_large")


def side_by_side(
    report: Report, adapter: dict[str, Any], other: dict[str, Any], label: str
) -> None:
    regression = "mae" in adapter
    shown = SIDE_BY_SIDE_REGRESSION if regression else SIDE_BY_SIDE
    report.table(
        ["metric", "adapter", label],
        [
            [
                METRIC_LABELS[m],
                fmt_metric(adapter, m),
                fmt_metric(other, m),
            ]
            for m in shown
            if m in adapter or m in other
        ],
    )


def retention_section(report: Report, retentions: list, noun: str) -> None:
    rows = retention_rows(retentions)
    if not rows:
        return
    report.section(
        "Retention of the old classes",
        f"Old-class AUROC (one-vs-rest among the old classes, their probabilities "
        f"renormalised) on the held-out {noun} of the old classes, before (base model) and "
        f"after, and the share of old-class {noun} the model now assigns to a new class. The old "
        f"classes count as kept when the AUROC drops by at most {RETENTION_TOLERANCE:g} and, of "
        f"the old-class {noun} the base model classified correctly, at most "
        f"{OLD_CALLED_NEW_LIMIT:.0%} are now called a new class.",
    )
    report.table(
        ["model", "how old classes were kept", f"old-class {noun}", "AUROC before (95% CI)",
         "AUROC after (95% CI)", "AUROC change (95% CI)", f"old {noun} called new",
         "old classes kept"],
        rows,
        caption=f"Paired bootstrap over {noun} for the change's interval.",
    )  # fmt: skip


def per_class_section(report: Report, per_class: list[dict[str, Any]] | None, noun: str) -> None:
    if not per_class:
        return
    report.section("Per class", "One-vs-rest AUROC; sensitivity and precision of the top class, "
                   "with exact binomial 95% CIs.")  # fmt: skip
    report.table(
        ["class", noun, "AUROC (95% CI)", "sensitivity (95% CI)", "precision (95% CI)", "note"],
        [
            [
                r["class"],
                r["n"],
                fmt_ci(r["auroc"], r["auroc_ci"], 3),
                fmt_ci(r["sensitivity"], r.get("sensitivity_ci"), 3),
                fmt_ci(r["precision"], r.get("precision_ci"), 3),
                r["note"],
            ]
            for r in per_class
        ],
    )


def one_vs_rest_roc(report: Report, classes: list[str], curves: dict[str, Any], noun: str) -> None:
    """ROC curves of every class against the rest (from the (N, K) probabilities)."""
    y, proba = np.asarray(curves["y"]), np.asarray(curves["proba"])
    pairs = {f"{c} vs rest": ((y == i).astype(int), proba[:, i]) for i, c in enumerate(classes)}
    report.figure(roc_figure(pairs, title="ROC"), caption=f"ROC curves on the scored {noun}.")


def _guide_entries(
    threshold: float, prevalence: float | None, counted: str = "patients"
) -> dict[str, str]:
    """What each metric means, in words a clinician who is not an ML expert can use;
    ``counted``: what the shares are of ("rows" where patients have several)."""
    base_rate = (
        f" (here {prevalence:.0%}, the share of {counted} with the outcome)"
        if prevalence is not None
        else ""
    )
    whom = "whom" if counted == "patients" else "that"
    at = f"at a risk threshold of {threshold:g}"
    return {
        "auroc": "AUROC (C-statistic): the chance that the model gives a higher risk to a "
        "patient with the outcome than to one without it. 0.5 is a coin toss, 1.0 a perfect "
        "ranking; it does not depend on a threshold.",
        "auprc": "AUPRC (the area under the precision-recall curve, as average precision: "
        "scikit-learn's step-wise sum, not a trapezoid): how well the highest risks "
        "pick out patients with the outcome. A model with no skill scores the prevalence"
        f"{base_rate}, not 0.5: compare it with that.",
        "accuracy": f"accuracy: the share of {counted} classified correctly {at}. When one "
        "outcome is common, calling everyone that outcome already scores high.",
        "balanced_accuracy": "balanced accuracy: the average of sensitivity and specificity; "
        "0.5 is no better than chance, whatever the prevalence.",
        "sensitivity": f"sensitivity: the share of {counted} with the outcome {whom} the model "
        f"flags, {at}.",
        "specificity": f"specificity: the share of {counted} without the outcome {whom} the "
        f"model does not flag, {at}.",
        "brier": "Brier score: the mean squared gap between the predicted risk and what "
        "happened (0 or 1); 0 is perfect, lower is better. Compare models on the same patients "
        "only: it also depends on the prevalence.",
        "ece": "calibration error (ECE): the average gap between predicted risk and the "
        "observed rate of the outcome among patients with similar predicted risks; 0.10 means "
        "risks off by about 10 percentage points. Lower is better.",
        "mae": "MAE (mean absolute error): the typical size of a prediction's error, in the "
        "outcome's own unit. Lower is better.",
        "rmse": "RMSE (root mean squared error): like MAE, in the outcome's unit, but large "
        "errors count more. Lower is better.",
        "r2": "R²: the share of the outcome's variation the model explains; 1 is perfect, 0 is "
        "no better than predicting the average for everyone, below 0 is worse than that.",
        "oe_ratio": "observed/expected events: the patients with the outcome divided by the sum "
        "of their predicted risks (the events the model expected); 1 is ideal, above 1 the "
        "risks are too low on average, below 1 too high.",
        "calibration_slope": "Calibration slope: the outcomes regressed on the predictions (for "
        "risks, on their log-odds); 1 is ideal. Above 1, the predictions are squeezed toward "
        "the average (low ones too high, high ones too low); below 1, they spread too wide "
        "(risks too extreme, as a model fitted too closely to its training patients gives, or "
        "one applied to patients unlike them: another site or case mix).",
        "calibration_in_the_large": "Mean observed − predicted (calibration-in-the-large): "
        "the average outcome minus the average prediction, in the outcome's unit; 0 is ideal, "
        "above 0 the model predicts too low on average, below 0 too high.",
    }


#: what else too few of leaves a subgroup without a figure (a measured value: nothing else)
_OR_TOO_FEW = {"binary": " or events", "multiclass": " or of one class"}


def too_few_for(task: str, units: str = "patients") -> str:
    """Why a subgroup has no figure, in the outcome's words: ``too few patients or events``
    (a yes/no outcome), ``... or of one class`` (several), ``too few patients`` (a measured
    value has no events)."""
    return f"too few {units}{_OR_TOO_FEW.get(task, '')}"


#: the calibration slope of a measured value (no risk, no log-odds)
REGRESSION_SLOPE = (
    "Calibration slope: the measured outcomes regressed on the predicted values; 1 is ideal. "
    "Above 1, the predictions are squeezed toward the average (low ones too high, high ones "
    "too low); below 1, they spread too wide (extreme predictions overstate how extreme the "
    "outcome is, as a model fitted too closely to its training patients gives, or one applied "
    "to patients unlike them: another site or case mix)."
)

#: the same metrics over several classes: no risk, threshold or sensitivity/specificity
MULTICLASS_GUIDE = {
    "auroc": "AUROC (C-statistic), averaged over the classes: for each class, the chance that "
    "the model gives a higher probability of that class to a patient who has it than to one who "
    "has not. 0.5 is a coin toss, 1.0 a perfect ranking; it does not depend on a threshold.",
    "accuracy": "accuracy: the share of patients whose most likely class, by the model, is "
    "their own. When one class is common, calling everyone that class already scores high.",
    "balanced_accuracy": "balanced accuracy: the share of each class's patients classified "
    "correctly, averaged over the classes; guessing scores one over the number of classes, "
    "whatever their shares.",
    "brier": "Brier score: the squared gap between the predicted probabilities and what "
    "happened (1 for the patient's class, 0 for the others), summed over the classes; 0 is "
    "perfect, 2 the worst, lower is better. Compare models on the same patients only: it also "
    "depends on how common each class is.",
    "ece": "calibration error (ECE): the average gap between the model's confidence in the "
    "class it predicts and how often that class is right, among patients with similar "
    "confidence; 0.10 means about 10 percentage points off. Lower is better.",
}


def reading_guide(metrics: Any, *, threshold: float = 0.5, prevalence: float | None = None,
                  noun: str = "patients", task: str = "binary") -> list[str]:  # fmt: skip
    """One plain sentence per metric in ``metrics`` (names, in the order given), then how to
    read the intervals; ``task`` "multiclass" tells the class-averaged metrics."""
    entries = _guide_entries(threshold, prevalence, noun)
    if task == "multiclass":
        entries.update(MULTICLASS_GUIDE)
    if task == "regression":  # no risks: a measured value's slope
        entries["calibration_slope"] = REGRESSION_SLOPE
    lines = [entries[m] for m in dict.fromkeys(metrics) if m in entries]
    lines.append(
        f"95% CI (in brackets): the range of values compatible with these {noun}. A wide "
        f"interval means few {noun}, not necessarily a poor model. When the intervals of two "
        "models overlap, do not conclude that one is better unless a paired comparison (in the "
        "summary, where given) says so."
    )
    return lines


def guide_section(report: Report, metrics: Any, **kwargs: Any) -> None:
    """A "How to read these numbers" section: what every metric shown means."""
    report.section("How to read these numbers")
    for line in reading_guide(metrics, **kwargs):
        report.paragraph(line)

"""Sections of the HTML reports that only some results have: one row per class, the old
classes' retention (adapter vs full fine-tuning), one-vs-rest ROC curves, and an adapter beside
another model on the same samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from medadapt.evaluate.report import Report
from medadapt.evaluate.report.formatting import METRIC_LABELS, fmt_ci
from medadapt.evaluate.report.plots import roc_figure
from medadapt.evaluate.retention import (
    OLD_CALLED_NEW_LIMIT,
    RETENTION_TOLERANCE,
    auroc_change,
    old_classes_kept,
)

_TRICKS = {
    "distill": "adapter + extended head; class-weighted cross-entropy on old and new images, "
    "plus distillation of the base model's old-class outputs",
    "none": "plain cross-entropy on the same images (no retention measure)",
}


def auroc_line(metrics: dict[str, Any], what: str) -> str | None:
    if metrics.get("auroc") is None:
        note = metrics.get("notes", {}).get("auroc") or metrics.get("notes", {}).get("all")
        return f"{what}: AUROC {note}." if note else None
    low, high = metrics["auroc_ci"] or (metrics["auroc"], metrics["auroc"])
    return (
        f"{what}: AUROC {fmt_ci(metrics['auroc'], metrics['auroc_ci'])}; the true value is "
        f"likely between {low:.2f} and {high:.2f}."
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


def side_by_side(
    report: Report, adapter: dict[str, Any], other: dict[str, Any], label: str
) -> None:
    report.table(
        ["metric", "adapter", label],
        [
            [
                METRIC_LABELS[m],
                fmt_ci(adapter.get(m), adapter.get(f"{m}_ci"), 3),
                fmt_ci(other.get(m), other.get(f"{m}_ci"), 3),
            ]
            for m in ("auroc", "accuracy", "balanced_accuracy")
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

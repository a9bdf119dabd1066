"""HTML reports for image models: summary first, then metrics, per-class table, ROC curves,
the retention table of a new-class adapter (adapter vs full fine-tuning), and subgroups."""

from __future__ import annotations

from typing import Any

import numpy as np

from medadapt.evaluate.report import Report
from medadapt.evaluate.report.formatting import METRIC_LABELS, fmt_ci
from medadapt.evaluate.report.plots import metric_bars, roc_figure
from medadapt.workflows.image_eval import retention_sentence
from medadapt.workflows.reports import too_good_lines

_TRICKS = {
    "distill": "adapter + extended head; class-weighted cross-entropy on old and new images, "
    "plus distillation of the base model's old-class outputs",
    "none": "plain cross-entropy on the same images (no retention measure)",
}


def _auroc_line(metrics: dict[str, Any], what: str) -> str | None:
    if metrics.get("auroc") is None:
        note = metrics.get("notes", {}).get("auroc") or metrics.get("notes", {}).get("all")
        return f"{what}: AUROC {note}." if note else None
    low, high = metrics["auroc_ci"] or (metrics["auroc"], metrics["auroc"])
    return (
        f"{what}: AUROC {fmt_ci(metrics['auroc'], metrics['auroc_ci'])}; the true value is "
        f"likely between {low:.2f} and {high:.2f}."
    )


def _retention_rows(entries: list[tuple[str, str, dict[str, Any] | None]]) -> list[list[Any]]:
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
                "n/a"
                if r["drop"] is None
                else f"{r['drop']:+.4f}"
                + (f" ({r['drop_ci'][0]:+.3f} to {r['drop_ci'][1]:+.3f})" if r["drop_ci"] else ""),
                "n/a" if r["passed"] is None else ("yes" if r["passed"] else "NO"),
                "n/a" if r["old_predicted_as_new"] is None else f"{r['old_predicted_as_new']:.0%}",
            ]
        )
    return rows


def _side_by_side(
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


def _body(
    report: Report,
    result: dict[str, Any],
    curves: dict[str, np.ndarray],
    retentions: list[tuple[str, str, dict[str, Any] | None]],
    comparison: dict[str, Any] | None,
) -> None:
    classes = result["classes"]
    rows = _retention_rows(retentions)
    if rows:
        report.section(
            "Retention of the old classes",
            "Old-class AUROC (one-vs-rest among the old classes, their probabilities "
            "renormalised) on the held-out images of the old classes, before (base model) and "
            "after. The check passes when the drop is at most 0.01. The last column counts "
            "old-class images the model now assigns to a new class.",
        )
        report.table(
            [
                "model",
                "how old classes were kept",
                "old-class images",
                "AUROC before (95% CI)",
                "AUROC after (95% CI)",
                "drop (95% CI)",
                "drop <= 0.01",
                "old images called new",
            ],
            rows,
            caption="Paired bootstrap over images for the drop's interval.",
        )
    report.section("Metrics")
    shown = [m for m in METRIC_LABELS if m in result]
    report.table(
        ["metric", "value (95% CI)", "note"],
        [
            [
                METRIC_LABELS[m],
                fmt_ci(result[m], result.get(f"{m}_ci"), 3),
                result["notes"].get(m, ""),
            ]
            for m in shown
        ],
    )
    report.section("Per class", "One-vs-rest AUROC; sensitivity and precision of the top class.")
    per_class = [
        [
            row["class"],
            row["n"],
            fmt_ci(row["auroc"], row["auroc_ci"], 3),
            row["sensitivity"],
            row["precision"],
            row["note"],
        ]
        for row in result["per_class"]
    ]
    report.table(
        ["class", "images", "AUROC (95% CI)", "sensitivity", "precision", "note"], per_class
    )
    y, proba = curves["y"], curves["proba"]
    if len(classes) == 2:
        pairs = {"model": (y, proba[:, 1])}
    else:
        pairs = {f"{c} vs rest": ((y == i).astype(int), proba[:, i]) for i, c in enumerate(classes)}
    report.figure(roc_figure(pairs, title="ROC"), caption="ROC curves on the scored images.")
    if comparison is not None:
        report.section(
            "Full fine-tuning on the same images",
            f"All {comparison['trainable_params']} weights trained, head extended the same way.",
        )
        _side_by_side(report, result, comparison["overall"], "full fine-tuning")
    if result.get("base_metrics"):
        report.section("Base model on the same images", "Before (base) and after (adapter).")
        _side_by_side(report, result, result["base_metrics"], "base model")
    for name, groups in result.get("subgroups", {}).items():
        report.section(f"By {name}")
        report.table(
            [name, "images", "AUROC (95% CI)", "note"],
            [
                [
                    v,
                    m["n"],
                    fmt_ci(m.get("auroc"), m.get("auroc_ci")),
                    "; ".join(m["notes"].values()),
                ]
                for v, m in groups.items()
            ],
        )
        report.figure(
            metric_bars({v: {"model": m} for v, m in groups.items()}, metric="auroc", title=name),
            caption=f"AUROC by {name} with 95% CIs ('n/a': too few images).",
        )


def adapt_report(summary: dict[str, Any], curves: dict[str, np.ndarray]) -> Report:
    """The report ``medadapt adapt --report`` writes."""
    metrics = summary["metrics"]
    new = summary["new_classes"]
    target = summary["data_summary"].get("group") or "the new images"
    what = f"adds classes {', '.join(new)}" if new else f"adapts to {target}"
    report = Report(
        title=f"Adapter {summary['name']} ({summary['method']})",
        subtitle=f"{what}; {summary['data_summary']['n_test']} held-out images",
    )
    lines = too_good_lines(metrics)
    lines.append(
        f"Trained {summary['trainable_params']} parameters on "
        f"{summary['data_summary']['n_train']} images; scored on "
        f"{summary['data_summary']['n_test']} held-out images."
    )
    line = _auroc_line(metrics, "All classes")
    if line:
        lines.append(line)
    retentions: list[tuple[str, str, dict[str, Any] | None]] = []
    if summary.get("retention"):
        lines.append(retention_sentence("This adapter", summary["retention"]))
        retentions.append(("this adapter", summary["retention"]["trick"], summary["retention"]))
    full = summary.get("full_finetune")
    if full:
        lines.append(retention_sentence("Full fine-tuning", full["retention"]))
        retentions.append(("full fine-tuning", full["trick"], full["retention"]))
    if summary.get("feature_cache"):
        cache = summary["feature_cache"]
        lines.append(
            f"Trained on cached frozen features: blocks below {cache['split_block']} ran once."
        )
    lines.append("Brackets are 95% bootstrap confidence intervals over images.")
    report.summary(lines)
    _body(report, {**metrics, **summary}, curves, retentions, full)
    return report


def evaluation_report(result: dict[str, Any], curves: dict[str, np.ndarray]) -> Report:
    """The report ``medadapt evaluate --report`` writes for images."""
    who = f"adapter '{result['adapter']}'" if result.get("adapter") else "the base model"
    report = Report(title="Image model evaluation", subtitle=result["images_used"])
    lines = too_good_lines(result)
    lines.append(f"Scored {who} on {result['n']} images ({result['images_used']}).")
    line = _auroc_line(result, "All classes")
    if line:
        lines.append(line)
    retentions = []
    recorded = result.get("recorded_retention")
    if result.get("retention"):
        lines.append(retention_sentence("On these images", result["retention"]))
        trick = (recorded or {}).get("trick", "")
        retentions.append(("adapter, these images", trick, result["retention"]))
    if recorded:
        retentions.append(("adapter, at training", recorded.get("trick", ""), recorded))
    full = result.get("full_finetune")
    if full:
        retentions.append(("full fine-tuning, at training", full["trick"], full["retention"]))
    lines.append("Brackets are 95% bootstrap confidence intervals over images.")
    report.summary(lines)
    _body(report, result, curves, retentions, None)
    return report

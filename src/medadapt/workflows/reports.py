"""The report written by ``medadapt evaluate``: one model (and adapter) on one data set."""

from __future__ import annotations

from typing import Any

import numpy as np

from medadapt.evaluate.report import Report
from medadapt.evaluate.report.formatting import METRIC_LABELS, fmt_ci
from medadapt.evaluate.report.plots import calibration_figure, metric_bars, roc_figure


def summary_lines(result: dict[str, Any]) -> list[str]:
    """Plain-language sentences for the top of a report."""
    n = result["n"]
    who = f"adapter '{result['adapter']}'" if result.get("adapter") else "the base model"
    lines = [f"Scored {who} on {n} patients ({result['rows_used']})."]
    if result["task"] == "binary":
        lines.append(
            f"{result['n_positive']} of them are positive (prevalence "
            f"{result['n_positive'] / n:.0%})."
        )
        if result.get("auroc") is not None:
            low, high = result["auroc_ci"]
            quality = "good" if low >= 0.8 else "moderate" if low >= 0.7 else "uncertain"
            lines.append(
                f"Discrimination (AUROC) {fmt_ci(result['auroc'], result['auroc_ci'])}: "
                f"{quality}; the true value is likely between {low:.2f} and {high:.2f}."
            )
    elif result["task"] == "regression":
        lines.append(
            f"Mean absolute error {fmt_ci(result['mae'], result['mae_ci'], 1)} "
            "(in the label's unit)."
        )
    for metric, note in result.get("notes", {}).items():
        lines.append(f"{METRIC_LABELS.get(metric, metric)}: {note}.")
    if result.get("unseen_categories"):
        described = ", ".join(f"{k} ({v} rows)" for k, v in result["unseen_categories"].items())
        lines.append(f"Values never seen in training were treated as 'unseen': {described}.")
    lines.append("Brackets are 95% bootstrap confidence intervals over patients.")
    return lines


def evaluation_report(result: dict[str, Any], curves: dict[str, np.ndarray]) -> Report:
    report = Report(title="Model evaluation", subtitle=result["rows_used"])
    report.summary(summary_lines(result))
    report.section("Metrics")
    metrics = [m for m in METRIC_LABELS if m in result]
    report.table(
        ["metric", "value (95% CI)", "note"],
        [
            [
                METRIC_LABELS[m],
                fmt_ci(result[m], result.get(f"{m}_ci"), 3),
                result["notes"].get(m, ""),
            ]
            for m in metrics
        ],
    )
    if result["task"] == "binary" and len(np.unique(curves["y"])) == 2:
        pair = {"model": (curves["y"], curves["scores"])}
        report.figure(roc_figure(pair, title="ROC curve"), caption="ROC curve.")
        report.figure(
            calibration_figure(pair, title="Calibration"),
            caption="Predicted risk against observed frequency.",
        )
    main = "auroc" if result["task"] != "regression" else "mae"
    for name, groups in result.get("subgroups", {}).items():
        report.section(f"By {name}")
        report.table(
            [name, "patients", f"{METRIC_LABELS[main]} (95% CI)", "note"],
            [
                [
                    value,
                    m["n"],
                    fmt_ci(m.get(main), m.get(f"{main}_ci")),
                    "; ".join(m.get("notes", {}).values()),
                ]
                for value, m in groups.items()
            ],
        )
        report.figure(
            metric_bars(
                {v: {"model": m} for v, m in groups.items()},
                metric=main,
                title=f"{METRIC_LABELS[main]} by {name}",
            ),
            caption=f"{METRIC_LABELS[main]} by {name} with 95% CIs ('n/a': too few patients).",
        )
    report.section("Data summary")
    report.table(
        ["feature", "missing values"],
        sorted(result.get("missing_values", {}).items()),
        caption="Counts only. Missing values are modelled, not imputed.",
    )
    if result.get("adapter"):
        report.card(
            f"Adapter {result['adapter']}",
            [
                ("Trainable parameters", str(result["trainable_params"])),
                ("File size", f"{result['adapter_bytes']} bytes"),
                (
                    "Limitations",
                    "Valid for the population it was trained on; re-validate on local "
                    "data and watch calibration over time.",
                ),
            ],
        )
    return report

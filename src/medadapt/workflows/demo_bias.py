"""The demo report's bias view: every centre scored with the model it would be served, the
new centres' subgroups before and after their adapter, and what adapting does to the source
centres."""

from __future__ import annotations

from typing import Any

from medadapt.evaluate.report import Report
from medadapt.evaluate.report.formatting import METRIC_LABELS, fmt_ci, natural_order
from medadapt.evaluate.report.plots import metric_bars
from medadapt.evaluate.small_cells import (
    SUPPRESSED,
    digits_for,
    mask_subgroups,
    small_cells_caption,
    withheld_note,
)
from medadapt.workflows.labels import STRATEGY_LABELS


def bias_section(report: Report, results: dict[str, Any]) -> None:
    """Per centre and per subgroup, before and after adapting; and the source centres."""
    report.section(
        "Per-site and per-subgroup view (the bias view)",
        "Each centre is scored with the model it would be served: the base model for the "
        "source centres, the base alone and the base with that centre's adapter for the new "
        "centres. Bars show 95% confidence intervals; 'n/a' means too few events to estimate; "
        "'no adapter' marks the source centres, which are served by the base model alone.",
    )
    _centre_bars(report, results)
    _subgroup_table(report, results["centres"])
    _source_centres(report, results)


def _centre_bars(report: Report, results: dict[str, Any]) -> None:
    """AUROC and accuracy per centre, before and after the centre's adapter."""
    groups: dict[str, dict[str, Any]] = {}
    for centre, metrics in results["base"]["source_test"]["subgroups"].get("dataset", {}).items():
        groups[centre] = {"base model": metrics}
    for centre, strategies in results["centres"].items():
        groups[centre] = {
            "base model": strategies["base_only"],
            "with its adapter": strategies["bottleneck"],
        }
    everyone = {  # the accuracy of calling every patient the commoner class
        centre: max(m["n_positive"], m["n"] - m["n_positive"]) / m["n"]
        for centre, series in groups.items()
        for m in [series["base model"]]
        if isinstance(m.get("n"), int) and isinstance(m.get("n_positive"), int) and m["n"]
    }
    dashed = (" Dashed: the accuracy of calling every patient the centre's commoner class; a "
              "bar at or below it shows no skill, whatever its height.")  # fmt: skip
    for metric in ("auroc", "accuracy"):
        accuracy = metric == "accuracy"
        report.figure(
            metric_bars(
                groups,
                metric=metric,
                title=f"{METRIC_LABELS[metric]} per centre",
                absent="no adapter",
                reference=("everyone called the commoner class", everyone) if accuracy else None,
            ),
            caption=f"{METRIC_LABELS[metric]} per centre before and after the centre's adapter."
            + (dashed if accuracy else ""),
        )


def _subgroup_table(report: Report, centres: dict[str, Any]) -> None:
    """The new centres' subgroups (sex, age band) before and after the adapter; small counts
    masked, and a subgroup whose table is withheld one row, why said below the table."""
    rows, withheld = [], set()
    for centre, strategies in centres.items():
        befores = mask_subgroups(strategies["base_only"]["subgroups"])
        afters = mask_subgroups(strategies["bottleneck"]["subgroups"])
        for name in ("sex", "age band"):
            said = withheld_note(befores.get(name, {})) or withheld_note(afters.get(name, {}))
            if said:
                withheld.add(f"{centre}: {said}.")
                rows.append([centre, f"{name}: table withheld", SUPPRESSED, SUPPRESSED,
                             *[fmt_ci(None, None)] * 4])  # fmt: skip
                continue
            for value in natural_order(befores.get(name, {})):
                before, after = befores[name][value], afters[name][value]
                rows.append(
                    [
                        centre,
                        f"{name}: {value}",
                        before["n"],
                        before.get("n_positive"),
                        *[
                            fmt_ci(m.get(k), m.get(f"{k}_ci"), digits_for(m, 2))
                            for k in ("auroc", "accuracy")
                            for m in (before, after)
                        ],
                    ]
                )
    report.table(
        [
            "centre",
            "subgroup",
            "patients",
            "with disease",
            "AUROC before",
            "AUROC after",
            "accuracy before",
            "accuracy after",
        ],
        rows,
        caption="Subgroups of the new centres' test patients; small subgroups give "
        f"wide intervals or none. {small_cells_caption('binary')}"
        + "".join(f" {said}" for said in sorted(withheld)),
    )


def _source_centres(report: Report, results: dict[str, Any]) -> None:
    """The model each strategy leaves the source patients with, scored on them."""
    forget_rows = []
    source = results["base"]["source_test"]["overall"]
    for centre, strategies in results["forgetting"].items():
        for name, metrics in strategies.items():
            forget_rows.append(
                [
                    centre,
                    STRATEGY_LABELS[name],
                    fmt_ci(metrics.get("auroc"), metrics.get("auroc_ci")),
                    fmt_ci(metrics.get("accuracy"), metrics.get("accuracy_ci")),
                ]
            )
    report.subsection("Does adapting to a new centre harm the source centres?")
    report.paragraph(
        f"Source test patients: {source['n']}. The base model scores AUROC "
        f"{fmt_ci(source.get('auroc'), source.get('auroc_ci'))}. Adapters are routed per "
        "patient, so source patients keep exactly this model; a fine-tuned or re-trained copy "
        "replaces it for everyone."
    )
    report.table(["adapted for", "model used on source patients", "AUROC", "accuracy"], forget_rows)

"""The federated run's HTML report (the style of medadapt's other reports): what each site
gets from the federated adapter, beside the base alone, an adapter trained on its own rows
only, and one trained on every site's rows pooled; per-round curves per site; what crossed
the network."""

from __future__ import annotations

import math
from typing import Any

from matplotlib import pyplot as plt

from medadapt.evaluate.report.formatting import fmt, fmt_ci
from medadapt.evaluate.report.html import Report

SHOWN = ("accuracy", "auroc", "balanced_accuracy")
LABELS = {"accuracy": "accuracy at 0.5", "auroc": "AUROC", "balanced_accuracy": "balanced accuracy"}
COLUMNS = (("federated", "federated"), ("personalised", "personalised"), ("local", "local only"),
           ("pooled", "pooled"), ("base", "base alone"))  # fmt: skip


def federated_report(results: dict[str, Any]) -> Report:
    config, sites = results["config"], results["sites"]
    report = Report(
        title=f"Federated {config['method']} adapter over {len(sites)} sites",
        subtitle=f"{config['strategy']}, {config['rounds']} rounds of {config['local_epochs']} "
        f"local epoch(s); only adapter weights, counts and metrics left the sites",
    )
    report.summary(summary_lines(results))
    for metric in SHOWN:
        report.section(f"Per site: {LABELS[metric]}")
        report.table(*site_table(results, metric))
    report.section("Per round")
    report.figure(round_figure(results["rounds"], config["sites"]),
                  caption="Each site's AUROC and accuracy on its own held-out patients after "
                  "each round (no intervals: the final round's are in the tables).")  # fmt: skip
    report.section("What crossed the network", bytes_text(results["bytes"]))
    if results["failures"]:
        report.warnings([f"round {f['round']}: {f['error']}" for f in results["failures"]])
    return report


def summary_lines(results: dict[str, Any]) -> list[str]:
    average, config = results["average"], results["config"]
    lines = []
    for key, label in COLUMNS:
        accuracy = average.get(key, {}).get("accuracy")
        if accuracy is None:
            continue
        auroc = average[key].get("auroc")
        lines.append(
            f"{label.capitalize()}: mean accuracy {fmt(accuracy)} over "
            f"{average[key]['accuracy_sites']} sites; mean AUROC {fmt(auroc)} over "
            f"{average[key]['auroc_sites']} sites."
        )
    undefined = [n for n, s in results["sites"].items() if _missing(s["federated"].get("auroc"))]
    if undefined:
        lines.append(
            f"AUROC is not defined at {', '.join(undefined)}: its held-out patients are all of "
            "one class, so only accuracy is reported there."
        )
    share = results["bytes"].get("share_of_full_model")
    if share is not None:
        lines.append(f"Each round sent each site {share:.1%} of what full-model FedAvg sends.")
    if config.get("noise_multiplier"):
        lines.append(
            f"Differential privacy: updates clipped to norm {config['clipping_norm']}, Gaussian "
            f"noise multiplier {config['noise_multiplier']} (Flower's server-side fixed "
            "clipping); compare with a run without it to see the cost in accuracy."
        )
    lines.append(
        "Brackets are 95% bootstrap intervals over each site's held-out patients; averages are "
        "unweighted means over sites (FLamby's convention). Pooled is what sharing the data "
        "would give: a federation cannot train it."
    )
    return lines


def site_table(results: dict[str, Any], metric: str) -> tuple[list[str], list[list[str]]]:
    shown = [(key, label) for key, label in COLUMNS
             if any(s.get(key) for s in results["sites"].values())]  # fmt: skip
    header = ["site", "test patients"] + [label for _key, label in shown]
    rows = []
    for name, site in results["sites"].items():
        row = [name, str(site["n_test"])]
        for key, _label in shown:
            values = site.get(key) or {}
            low, high = values.get(f"{metric}_low"), values.get(f"{metric}_high")
            interval = None if _missing(low) or _missing(high) else (low, high)
            value = values.get(metric)
            row.append("n/a" if _missing(value) else fmt_ci(value, interval, 3))
        rows.append(row)
    return header, rows


def round_figure(rounds: list[dict[str, Any]], sites: list[str]):
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
    for ax, metric in zip(axes, ("auroc", "accuracy"), strict=True):
        for site in sites:
            points = [(e["round"], e.get(metric)) for e in rounds if e["site"] == site]
            points = [(r, v) for r, v in points if not _missing(v)]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=site)
        ax.set_xlabel("round")
        ax.set_ylabel(LABELS[metric])
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def bytes_text(sizes: dict[str, Any]) -> str:
    share = sizes.get("share_of_full_model")
    return (
        f"Per training round, each site received {sizes['adapter_to_site']:,.0f} bytes of adapter "
        f"weights and sent back {sizes['adapter_from_site']:,.0f} ({sizes['dtype']}, counted by "
        f"Flower); full-model FedAvg on the same base would send {sizes['full_model_fedavg']:,} "
        f"bytes each way ({'' if share is None else f'{share:.1%}; '}records on the wire: "
        f"{', '.join(sizes['record_keys'])})."
    )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))

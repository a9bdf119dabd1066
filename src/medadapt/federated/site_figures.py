"""The federated report's per-site figures: a table of one metric for each compared model at
each site (with its 95% interval), and each site's curves over the rounds."""

from __future__ import annotations

from typing import Any

from matplotlib import pyplot as plt
from matplotlib.ticker import MaxNLocator

from medadapt.evaluate.report.formatting import fmt_ci, metric_digits
from medadapt.federated.compared import (
    LABELS,
    missing,
    scored_sites,
    shown_columns,
    test_patients,
    training_patients,
)

#: the per-round panels: a classifier's (False) and a regression's (True)
ROUND_PANELS = {False: ("auroc", "accuracy"), True: ("mae", "r2")}


def site_table(results: dict[str, Any], metric: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of ``metric`` per site (after its training and held-out test
    patients), one column per compared model shown."""
    shown = shown_columns(results)
    header = ["site", "training patients", "test patients"] + [label for _key, label in shown]
    rows = []
    for name, site in scored_sites(results).items():
        row = [name, str(training_patients(site)), str(test_patients(site))]
        row += [figure_cell(site.get(key) or {}, metric) for key, _label in shown]
        rows.append(row)
    return header, rows


def figure_cell(values: dict[str, Any], metric: str, absent: str = "n/a") -> str:
    """One compared model's ``metric`` at one site with its 95% interval (``values``: the
    site's figures of that model, ``metric_low``/``metric_high`` its ends), as the report's
    and the terminal's tables print it; ``absent`` where the site has no figure."""
    low, high = values.get(f"{metric}_low"), values.get(f"{metric}_high")
    interval = None if missing(low) or missing(high) else (low, high)
    value = values.get(metric)
    if missing(value):  # NaN: a site of too few held-out rows for any figure
        return absent
    return fmt_ci(value, interval, metric_digits(metric, value))  # MAE 48.9, not 48.912


def round_figure(rounds: list[dict[str, Any]], sites: list[str],
                 metrics: tuple[str, str] = ROUND_PANELS[False],
                 labels: list[str] | None = None):  # fmt: skip
    """Each site's ``metrics`` after each round, one panel each (``labels``: their names,
    default :data:`LABELS`'), a site in one colour; one legend for both, below them (inside
    a panel it hid a site's points)."""
    labels = labels or [LABELS[metric] for metric in metrics]
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.9))
    colours = {site: f"C{i}" for i, site in enumerate(sites)}  # a site keeps its colour
    for ax, metric, named in zip(axes, metrics, labels, strict=True):
        for site in sites:
            points = [(e["round"], e.get(metric)) for e in rounds if e["site"] == site]
            points = [(r, v) for r, v in points if not missing(v)]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=site, color=colours[site])
        ax.set_xlabel("round")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # rounds: 1, 2, 3, not 1.5
        ax.set_ylabel(named)
        ax.grid(alpha=0.3)
        if not ax.lines:
            ax.text(0.5, 0.5, "no site has enough held-out\npatients for it", ha="center",
                    va="center", transform=ax.transAxes, color="0.4")  # fmt: skip
    drawn = {line.get_label(): line for ax in axes for line in ax.lines}
    shown = [site for site in sites if site in drawn]  # the sites' order, each once
    if shown:  # none: matplotlib would warn of an empty legend, in the user's terminal
        fig.legend([drawn[site] for site in shown], shown, loc="lower center", fontsize=8,
                   ncol=min(len(shown), 5), frameon=False)  # fmt: skip
    rows = -(-len(shown) // 5) if shown else 0
    fig.tight_layout(rect=(0, 0.06 * rows, 1, 1))
    return fig

"""Report figures (matplotlib): ROC curves, calibration, metric bars with CIs, learning curves.

Every function returns a ``Figure``; :meth:`Report.figure` embeds and closes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

PALETTE = ["#2f6f9f", "#d68a00", "#3d9a50", "#b5403a", "#7b5ea7", "#8a6d3b", "#5b6b78", "#c26fa8"]


def roc_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, title: str) -> Figure:
    """ROC curves; ``curves``: label -> (y_true, P(positive))."""
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=1, ls="--")
    for i, (label, (y, score)) in enumerate(curves.items()):
        if len(np.unique(y)) < 2:
            continue
        fpr, tpr, _ = roc_curve(y, score)
        ax.plot(fpr, tpr, color=PALETTE[i % len(PALETTE)], lw=1.6, label=label)
    ax.set(xlabel="1 − specificity", ylabel="sensitivity", title=title, xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="lower right", fontsize=7.5, frameon=False)
    return fig


def calibration_figure(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, title: str, n_bins: int = 5
) -> Figure:
    """Observed vs predicted risk (quantile bins); the diagonal is perfect calibration."""
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=1, ls="--")
    for i, (label, (y, score)) in enumerate(curves.items()):
        if len(np.unique(y)) < 2 or len(y) < 2 * n_bins:
            continue
        observed, predicted = calibration_curve(y, score, n_bins=n_bins, strategy="quantile")
        ax.plot(
            predicted,
            observed,
            marker="o",
            ms=3.5,
            color=PALETTE[i % len(PALETTE)],
            lw=1.3,
            label=label,
        )
    ax.set(
        xlabel="predicted risk", ylabel="observed frequency", title=title, xlim=(0, 1), ylim=(0, 1)
    )
    ax.legend(loc="upper left", fontsize=7.5, frameon=False)
    return fig


def metric_bars(
    groups: Mapping[str, Mapping[str, Mapping[str, Any]]],
    *,
    metric: str,
    title: str,
    ylabel: str | None = None,
) -> Figure:
    """Grouped bars with 95 % CI whiskers: ``groups[group][series] = metrics dict``.

    A series without the metric (too few events) is drawn as an empty slot marked "n/a".
    """
    group_names = list(groups)
    series = list(dict.fromkeys(s for g in groups.values() for s in g))
    width = 0.8 / max(len(series), 1)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 + 0.55 * len(group_names) * len(series)), 3.8))
    for j, name in enumerate(series):
        for i, group in enumerate(group_names):
            entry = groups[group].get(name, {})
            value, ci = entry.get(metric), entry.get(f"{metric}_ci")
            x = i + (j - (len(series) - 1) / 2) * width
            if value is None:
                ax.text(x, 0.02, "n/a", ha="center", va="bottom", fontsize=6, rotation=90)
                continue
            err = None if not ci else [[value - ci[0]], [ci[1] - value]]
            ax.bar(
                x,
                value,
                width * 0.92,
                color=PALETTE[j % len(PALETTE)],
                label=name if i == 0 or name not in ax.get_legend_handles_labels()[1] else None,
            )
            if err is not None:
                ax.errorbar(x, value, yerr=err, color="#222222", lw=0.9, capsize=2)
    ax.set_xticks(range(len(group_names)), group_names, fontsize=8)
    ax.set(ylabel=ylabel or metric, title=title)
    if metric in ("auroc", "accuracy", "balanced_accuracy", "auprc", "sensitivity", "specificity"):
        ax.set_ylim(0, 1.05)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    ax.legend(
        unique.values(),
        unique.keys(),
        fontsize=7,
        frameon=False,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    return fig


def learning_curve_figure(
    curves: Mapping[str, Sequence[tuple[float, float, float, float]]],
    *,
    title: str,
    ylabel: str,
    xlabel: str = "target training rows used",
) -> Figure:
    """Mean and 95 % CI band per strategy; ``curves[strategy] = [(x, mean, low, high), ...]``."""
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    for i, (label, points) in enumerate(curves.items()):
        if not points:
            continue
        xs, means, lows, highs = (np.array(v, dtype=float) for v in zip(*points, strict=True))
        color = PALETTE[i % len(PALETTE)]
        ax.plot(xs, means, marker="o", ms=3.5, color=color, lw=1.5, label=label)
        ax.fill_between(xs, lows, highs, color=color, alpha=0.15, lw=0)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7.5, frameon=False, loc="lower right")
    else:
        ax.text(0.5, 0.5, "not estimable at any size", ha="center", transform=ax.transAxes)
    ax.grid(alpha=0.25)
    return fig

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

from medadapt.evaluate.metrics import MIN_PER_CLASS
from medadapt.evaluate.report.formatting import METRIC_LABELS

_Points = Sequence[tuple[float, float, float, float]]  # (x, mean, low, high) per size
PALETTE = ["#2f6f9f", "#d68a00", "#3d9a50", "#b5403a", "#7b5ea7", "#8a6d3b", "#5b6b78", "#c26fa8"]


def roc_figure(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    title: str,
    min_per_class: int = MIN_PER_CLASS,
) -> Figure:
    """ROC curves; ``curves``: label -> (y_true, P(positive)). A curve whose smaller class has
    fewer than ``min_per_class`` patients (AUROC "n/a") is not drawn; the plot says so."""
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=1, ls="--")
    skipped = []
    for i, (label, (y, score)) in enumerate(curves.items()):
        y = np.asarray(y)
        n_pos = int((y == 1).sum())
        if min(n_pos, len(y) - n_pos) < max(min_per_class, 1):
            skipped.append(label)
            continue
        fpr, tpr, _ = roc_curve(y, score)
        ax.plot(fpr, tpr, color=PALETTE[i % len(PALETTE)], lw=1.6, label=label)
    ax.set(xlabel="1 − specificity", ylabel="sensitivity", title=title, xlim=(0, 1), ylim=(0, 1))
    if skipped:
        ax.text(
            0.5,
            0.5,
            f"not estimable: fewer than {min_per_class} patients\nin a class "
            f"({', '.join(skipped)})",
            ha="center",
            va="center",
            fontsize=8,
            transform=ax.transAxes,
            color="#5b6b78",
        )
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=7.5, frameon=False)
    return fig


def calibration_figure(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    title: str,
    n_bins: int = 5,
    noun: str = "patients",
) -> Figure:
    """Observed vs predicted risk (quantile bins); the diagonal is perfect calibration. A
    curve from too few ``noun`` (:func:`calibration_too_few`) is not drawn; the plot says
    why (as the ROC's does)."""
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=1, ls="--")
    skipped: dict[str, list[str]] = {}
    for i, (label, (y, score)) in enumerate(curves.items()):
        why = calibration_too_few(np.asarray(y), n_bins, noun)
        if why is not None:
            skipped.setdefault(why, []).append(label)
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
    if skipped:
        said = "\n".join(
            f"not estimable: {why}\n({', '.join(labels)})" for why, labels in skipped.items()
        )
        ax.text(0.5, 0.5, said, ha="center", va="center", fontsize=8,
                transform=ax.transAxes, color="#5b6b78")  # fmt: skip
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=7.5, frameon=False)
    return fig


CALIBRATION_PER_BIN = 10
"""The fewest ``noun`` per quantile bin a calibration curve is drawn from (5 bins: 50 in
all): an observed frequency of fewer is one or two patients' outcomes, not how well the
predicted risks match. The same minimum in every report (evaluate, demo, study)."""


def calibration_too_few(y: np.ndarray, n_bins: int = 5, noun: str = "patients") -> str | None:
    """Why a calibration curve is not drawn for outcomes ``y`` (one outcome only, fewer than
    :data:`~medadapt.evaluate.metrics.MIN_PER_CLASS` with or without it, fewer than
    :data:`CALIBRATION_PER_BIN` per bin), or None.

    >>> print(calibration_too_few(np.array([0] * 3 + [1] * 47)))
    only 3 of the 50 patients without the outcome
    (at least 5 with it and 5 without needed)
    >>> print(calibration_too_few(np.array([0, 1] * 12)))
    only 24 patients
    (at least 50 needed for 5 bins of 10)
    >>> calibration_too_few(np.array([0, 1] * 25)) is None
    True
    """
    counts = np.bincount(np.asarray(y, dtype=int), minlength=2)
    if np.count_nonzero(counts) < 2:
        return "one outcome only"
    if counts.min() < MIN_PER_CLASS:
        side = "with" if counts[1] < counts[0] else "without"
        return (f"only {counts.min()} of the {len(y)} {noun} {side} the outcome\n(at least "
                f"{MIN_PER_CLASS} "
                f"with it and {MIN_PER_CLASS} without needed)")  # fmt: skip
    if len(y) < CALIBRATION_PER_BIN * n_bins:
        return (f"only {len(y)} {noun}\n(at least {CALIBRATION_PER_BIN * n_bins} needed for "
                f"{n_bins} bins of {CALIBRATION_PER_BIN})")  # fmt: skip
    return None


def metric_bars(
    groups: Mapping[str, Mapping[str, Mapping[str, Any]]],
    *,
    metric: str,
    title: str,
    ylabel: str | None = None,
    absent: str = "not run",
    reference: tuple[str, Mapping[str, float]] | None = None,
) -> Figure:
    """Grouped bars with 95 % CI whiskers: ``groups[group][series] = metrics dict``.

    A series without the metric (too few events) is an empty slot marked "n/a"; a series that
    was not run for a group (no entry) is marked ``absent`` instead. Marks stay inside the axes.
    ``reference``: ``(label, {group: value})``, a dashed line across each group's bars (what
    calling everyone the commoner class scores, beside an accuracy).
    """
    group_names = list(groups)
    series = list(dict.fromkeys(s for g in groups.values() for s in g))
    width = 0.8 / max(len(series), 1)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 + 0.55 * len(group_names) * len(series)), 3.8))
    marks = ax.get_xaxis_transform()  # x in data units, y in axes units: always inside
    for j, name in enumerate(series):
        for i, group in enumerate(group_names):
            x = i + (j - (len(series) - 1) / 2) * width
            if name not in groups[group]:
                _slot_text(ax, x, absent, marks, color="#5b6b78")
                continue
            _bar(ax, x, groups[group][name], metric=metric, name=name, first=i == 0,
                 width=width, color=PALETTE[j % len(PALETTE)], marks=marks)  # fmt: skip
    if reference is not None:
        label, values = reference
        for i, group in enumerate(group_names):
            if group in values:
                ax.hlines(values[group], i - 0.45, i + 0.45, colors="#333333", linestyles="--",
                          linewidth=1, label=label)  # fmt: skip
    _finish_bar_axes(ax, group_names, metric=metric, title=title, ylabel=ylabel)
    return fig


def _slot_text(ax, x: float, text: str, marks, **style: Any) -> None:
    """A small upright note at the foot of an empty bar slot."""
    ax.text(
        x,
        0.02,
        text,
        ha="center",
        va="bottom",
        fontsize=6,
        rotation=90,
        transform=marks,
        **style,
    )


def _bar(
    ax,
    x: float,
    entry: Mapping[str, Any],
    *,
    metric: str,
    name: str,
    first: bool,
    width: float,
    color: str,
    marks,
) -> None:
    """One series' bar with its CI whisker, or "n/a" when the metric was not estimable."""
    value, ci = entry.get(metric), entry.get(f"{metric}_ci")
    if value is None:
        _slot_text(ax, x, "n/a", marks)
        return
    err = None if not ci else [[max(value - ci[0], 0)], [max(ci[1] - value, 0)]]
    ax.bar(
        x,
        value,
        width * 0.92,
        color=color,
        label=name if first or name not in ax.get_legend_handles_labels()[1] else None,
    )
    if err is not None:
        ax.errorbar(x, value, yerr=err, color="#222222", lw=0.9, capsize=2)


def _finish_bar_axes(
    ax, group_names: list[str], *, metric: str, title: str, ylabel: str | None
) -> None:
    """Group ticks, labels, a 0-1 scale for proportions, and one legend entry per series."""
    ax.set_xticks(range(len(group_names)), group_names, fontsize=8)
    ax.set_xlim(-0.5, len(group_names) - 0.5)
    ax.set(ylabel=ylabel or METRIC_LABELS.get(metric, metric), title=title)
    if metric in ("auroc", "accuracy", "balanced_accuracy", "auprc", "sensitivity", "specificity"):
        ax.set_ylim(0, 1.05)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    if unique:
        ax.legend(
            unique.values(),
            unique.keys(),
            fontsize=7,
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
        )


def learning_curve_figure(
    curves: Mapping[str, _Points],
    *,
    title: str,
    ylabel: str,
    xlabel: str = "target training rows used (log scale)",
    limits: tuple[float | None, float | None] = (None, None),
    reference: str | None = None,
) -> Figure:
    """Mean and 95 % CI band per strategy; ``curves[strategy] = [(x, mean, low, high), ...]``.

    One small panel per strategy (six overlapping bands cannot be read), sharing a log-scaled
    x axis and a y axis held to the metric's ``limits``; the ``reference`` series (the base
    model) is drawn dashed in every panel.
    """
    drawn, ref = _panels(curves, reference)
    fig, axes = _panel_grid(len(drawn))
    for i, ax in enumerate(axes.flat):
        if i >= len(drawn):
            ax.set_visible(i == 0)
            if i == 0:
                ax.text(0.5, 0.5, "not estimable at any size", ha="center", transform=ax.transAxes)
            continue
        label, points = list(drawn.items())[i]
        color = PALETTE[(list(curves).index(label)) % len(PALETTE)]
        _curve_panel(ax, label, points, color=color, ref=ref, reference=reference, legend=i == 0)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel, fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel, fontsize=8)
    _log_x_axis(axes.flat[0], curves)
    _y_limits(axes.flat[0], curves, limits)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _panels(
    curves: Mapping[str, _Points], reference: str | None
) -> tuple[dict[str, _Points], _Points | None]:
    """The curves with a panel each, and the reference curve drawn in every panel (None:
    none; a reference alone gets a panel of its own instead)."""
    drawn = {k: v for k, v in curves.items() if v and k != reference}
    ref = curves.get(reference) if reference else None
    if not drawn and ref:
        drawn, ref = {reference: ref}, None
    return drawn, ref


def _panel_grid(n_panels: int) -> tuple[Figure, np.ndarray]:
    """Up to three panels a row, sharing both axes."""
    n = max(n_panels, 1)
    ncols = min(3, n)
    nrows = -(-n // ncols)
    return plt.subplots(
        nrows,
        ncols,
        figsize=(3.3 * ncols, 2.6 * nrows + 0.6),
        sharex=True,
        sharey=True,
        squeeze=False,
    )


def _curve_panel(
    ax,
    label: str,
    points: _Points,
    *,
    color: str,
    ref: _Points | None,
    reference: str | None,
    legend: bool,
) -> None:
    """One strategy's band, over the dashed reference band when there is one."""
    if ref:
        _band(ax, ref, color="#7a8893", dashed=True, label=reference)
    _band(ax, points, color=color, dashed=False, label=label)
    ax.set_title(label, fontsize=9)
    ax.grid(alpha=0.25)
    if ref and legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False, loc="best")


def _log_x_axis(ax, curves: Mapping[str, _Points]) -> None:
    """A log x axis ticked at the training sizes (when every size is positive)."""
    xs_all = sorted({p[0] for points in curves.values() for p in points if p[0] > 0})
    if xs_all and min(xs_all) > 0:
        ax.set_xscale("log")
        ax.set_xticks(xs_all, [f"{x:.0f}" for x in xs_all])
        ax.minorticks_off()
        ax.set_xlim(min(xs_all) / 1.25, max(xs_all) * 1.25)


def _y_limits(ax, curves: Mapping[str, _Points], limits: tuple[float | None, float | None]) -> None:
    """The data's span, padded, never further past what the metric can take (``limits``) than
    a margin: a curve or a base line at exactly 1.000 (or 0) stays visible, not cut by the
    frame (a trial's AUROC panel)."""
    values = [v for points in curves.values() for p in points for v in p[1:]]
    if not values:
        return
    span = max(max(values) - min(values), 0.02)
    low = min(values) - 0.08 * span
    high = max(values) + 0.08 * span
    if limits[0] is not None:
        low = max(low, limits[0] - 0.02 * span)
    if limits[1] is not None:
        high = min(high, limits[1] + 0.02 * span)
    ax.set_ylim(low, high)


def _band(ax, points, *, color: str, dashed: bool, label: str | None) -> None:
    xs, means, lows, highs = (np.array(v, dtype=float) for v in zip(*points, strict=True))
    ax.plot(
        xs,
        means,
        marker=None if dashed else "o",
        ms=3.5,
        color=color,
        lw=1.3,
        ls="--" if dashed else "-",
        label=label,
    )
    ax.fill_between(xs, lows, highs, color=color, alpha=0.12 if dashed else 0.2, lw=0)

"""The calibration plot of a measured value (regression): the mean measured value against the
mean prediction in quantile bins of the predictions, as a yes/no outcome's plot bins the
predicted risks, with each model's calibration slope drawn through the points.

Bins, not one point per patient: a report holds summaries, never a patient's own values.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from medadapt.evaluate.report.plots import CALIBRATION_PER_BIN, PALETTE

#: quantile bins of the predictions (the binary plot's five)
N_BINS = 5


def too_few_for_bins(n: int, noun: str, n_bins: int = N_BINS) -> str | None:
    """Why no curve is drawn from ``n`` scored ``noun``, or None (the binary plot's minimum:
    :data:`~medadapt.evaluate.report.plots.CALIBRATION_PER_BIN` per bin)."""
    if n < CALIBRATION_PER_BIN * n_bins:
        return (f"only {n} {noun} (at least {CALIBRATION_PER_BIN * n_bins} needed for "
                f"{n_bins} bins of {CALIBRATION_PER_BIN})")  # fmt: skip
    return None


def binned_means(
    measured: np.ndarray, predicted: np.ndarray, n_bins: int = N_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per quantile bin of ``predicted``: the mean prediction, the mean measured value and
    the half-width of its 95% interval (1.96 standard errors), in bins whose sizes differ by
    one at most."""
    order = np.argsort(predicted, kind="stable")
    bins = np.array_split(order, n_bins)
    mean_predicted = np.array([predicted[b].mean() for b in bins])
    mean_measured = np.array([measured[b].mean() for b in bins])
    half_width = np.array([1.96 * measured[b].std(ddof=1) / np.sqrt(len(b)) for b in bins])
    return mean_predicted, mean_measured, half_width


def measured_calibration_figure(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    slopes: Mapping[str, float | None],
    *,
    title: str,
    noun: str = "patients",
) -> Figure:
    """Mean measured against mean predicted value per quantile bin (with 95% intervals of
    the bin's mean), for each model of ``curves`` (label -> (measured, predicted)); the
    diagonal is perfect calibration, and a model's line through its mean at ``slopes[label]``
    (the calibration slope, where reported) shows predictions squeezed toward the average
    (steeper than the diagonal) or spread wider than the outcomes (flatter). Too few
    ``noun`` for the bins: nothing drawn, the plot says why."""
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    low, high = np.inf, -np.inf
    skipped = []
    for i, (label, (measured, predicted)) in enumerate(curves.items()):
        measured, predicted = np.asarray(measured, float), np.asarray(predicted, float)
        why = too_few_for_bins(len(measured), noun)
        if why is not None:
            skipped.append(why)
            continue
        x, y, half = binned_means(measured, predicted)
        color = PALETTE[i % len(PALETTE)]
        ax.errorbar(x, y, yerr=half, marker="o", ms=3.5, lw=1.3, capsize=2, color=color,
                    label=label)  # fmt: skip
        slope = slopes.get(label)
        if slope is not None:  # the outcomes regressed on the predictions, through the means
            ends = np.array([x.min(), x.max()])
            centre_x, centre_y = predicted.mean(), measured.mean()
            ax.plot(ends, centre_y + slope * (ends - centre_x), color=color, lw=1, ls=":",
                    label=f"{label}: slope {slope:.2f}")  # fmt: skip
        low = min(low, x.min(), (y - half).min())
        high = max(high, x.max(), (y + half).max())
    if np.isfinite(low):
        pad = 0.05 * (high - low or 1.0)
        ax.plot([low - pad, high + pad], [low - pad, high + pad], color="#bbbbbb", lw=1, ls="--")
        ax.set(xlim=(low - pad, high + pad), ylim=(low - pad, high + pad))
    ax.set(xlabel="mean predicted value", ylabel="mean measured value", title=title)
    if skipped:
        ax.text(0.5, 0.5, f"not estimable: {skipped[0]}", ha="center", va="center", fontsize=8,
                transform=ax.transAxes, color="#5b6b78", wrap=True)  # fmt: skip
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=7.5, frameon=False)
    return fig


def caption(noun: str) -> str:
    """What the plot shows, for a reader who has seen the yes/no outcome's calibration plot."""
    return (
        f"Calibration: the scored {noun} in {N_BINS} bins of the predictions (fifths), each "
        "bin's mean measured value (with its 95% interval) against its mean prediction; the "
        "dashed diagonal is perfect calibration, the dotted line the calibration slope (steeper "
        "than the diagonal: predictions squeezed toward the average; flatter: spread wider "
        "than the outcomes)."
    )

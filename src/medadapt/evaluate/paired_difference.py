"""The paired difference of a metric between two models scored on the same patients.

Both models are scored on the same bootstrap resamples, so the interval is for the
*difference* (much tighter than comparing two separate intervals).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medadapt.errors import ConfigError, DataError
from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.difference import Difference
from medadapt.evaluate.metrics import MIN_PER_CLASS, N_BOOT, checked_inputs


def _metric_samples(metric: str, W: np.ndarray, y: np.ndarray, s: np.ndarray, threshold: float):
    if s.ndim == 2 and metric == "brier":  # (N, K): the squared gaps summed over the classes
        return bs.weighted_mean(W, ((s - np.eye(s.shape[1])[y.astype(int)]) ** 2).sum(axis=1))
    if s.ndim == 2:  # (N, K) probabilities (AUROC): each class against the rest, averaged
        per_class = [bs.weighted_auroc(W, (y == c).astype(int), s[:, c]) for c in range(s.shape[1])]
        return np.mean(per_class, axis=0)
    if metric == "auroc":
        return bs.weighted_auroc(W, y, s)
    if metric == "auprc":
        return bs.weighted_average_precision(W, y, s)
    if metric == "brier":
        return bs.weighted_mean(W, (s - y) ** 2)
    pred = (s >= threshold).astype(int)
    if metric == "accuracy":
        return bs.weighted_mean(W, (pred == y).astype(float))
    if metric == "balanced_accuracy":
        return (bs.weighted_recall(W, y, pred, 1) + bs.weighted_recall(W, y, pred, 0)) / 2
    if metric == "mae":
        return bs.weighted_mean(W, np.abs(y - s))
    if metric == "rmse":
        return np.sqrt(bs.weighted_mean(W, (y - s) ** 2))
    raise ValueError(f"no paired comparison for metric {metric!r}")  # checked by the caller


PAIRED_METRICS = ("auroc", "auprc", "accuracy", "balanced_accuracy", "brier", "mae", "rmse")
"""The metrics :func:`paired_difference` compares (``mae`` and ``rmse``: measured outcomes)."""


def checked_pair(
    metric: str, y_true: Any, score_a: Any, score_b: Any, unit: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and both models' scores, checked as :func:`~medadapt.evaluate.metrics.
    binary_metrics` checks them (regression's for ``mae``/``rmse``; AUROC and AUPRC take any
    finite scores, as they rank): a score list one patient short, text labels or a NaN score
    were compared without a word. A refusal about the scores names the argument."""
    if metric not in PAIRED_METRICS:
        raise ConfigError(f"metric must be one of {', '.join(PAIRED_METRICS)}; got {metric!r}")
    task = "regression" if metric in ("mae", "rmse") else "binary"
    placeholder = np.full(np.shape(y_true)[:1], 0.5)  # a valid score per label
    several = metric in ("auroc", "brier") and np.ndim(score_a) == 2  # class probabilities
    if several:
        task, placeholder = "multiclass", np.full(np.shape(score_a), 1 / np.shape(score_a)[1])
    try:
        y, _ = checked_inputs(task, y_true, placeholder, unit)  # the labels alone
    except DataError as error:  # the metric report's advice is not this function's
        said = str(error)
        if task != "binary" or ": for a measured outcome" not in said:
            raise
        raise DataError(
            f"{said.split(': for a measured outcome')[0]}: metric={metric!r} compares two "
            "models on a binary outcome; for a measured outcome pass metric='mae' or "
            "metric='rmse'; turn other codes into 0/1 first"
        ) from None
    ranks = metric in ("auroc", "auprc") and not several
    scores = []
    for name, given in (("score_a", score_a), ("score_b", score_b)):
        try:
            scores.append(checked_inputs("regression" if ranks else task, y, given, unit)[1])
        except DataError as error:
            raise DataError(f"{name}: {error}") from None
    return y, scores[0], scores[1]


def paired_difference(
    y_true: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    *,
    metric: str = "auroc",
    threshold: float = 0.5,
    n_boot: int = N_BOOT,
    seed: int = 0,
    min_per_class: int = MIN_PER_CLASS,
    unit: str = "patient",
    patients: Any = None,
) -> Difference:
    """Difference ``metric(a) - metric(b)`` on the same patients with a paired bootstrap CI
    (``unit``: what the note counts, "patient" or "image"). Scores of shape (N, K) are class
    probabilities, compared on the macro one-vs-rest AUROC (scikit-learn's
    ``roc_auc_score(multi_class="ovr")``) or the Brier score summed over the classes.
    ``patients``: each sample's patient, where one may have several (their samples are
    resampled together). An adapter against its base model: :func:`~medadapt.evaluate.
    versus_base.versus_base` (``ma.versus_base``) says what ``adapt`` says, for a measured
    value the change in mean observed − predicted too (a shift MAE alone hides)."""
    y, a, b = checked_pair(metric, y_true, score_a, score_b, unit)
    if metric in ("auroc", "auprc", "balanced_accuracy"):
        if a.ndim == 2:
            fewest, which = int(np.bincount(y.astype(int), minlength=a.shape[1]).min()), "smallest"
        else:
            n_pos = int((y == 1).sum())
            fewest, which = min(n_pos, len(y) - n_pos), "smaller"
        if fewest < min_per_class:
            units = unit if fewest == 1 else f"{unit}s"
            return Difference(metric, None, None, f"{fewest} {units} in the {which} class",
                              of_classes=a.ndim == 2)  # fmt: skip
    W = bs.resample_weights(len(y), n_boot, seed, bs.cluster_index(patients, len(y)))
    ones = np.ones((1, len(y)))
    point = float(
        _metric_samples(metric, ones, y, a, threshold)[0]
        - _metric_samples(metric, ones, y, b, threshold)[0]
    )
    samples = _metric_samples(metric, W, y, a, threshold) - _metric_samples(
        metric, W, y, b, threshold
    )
    interval = bs.percentile_interval(samples)
    return Difference(metric, point, None if interval is None else tuple(interval),
                      of_classes=np.ndim(a) == 2, units=f"{unit}s")  # fmt: skip

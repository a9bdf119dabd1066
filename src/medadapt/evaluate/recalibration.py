"""Recalibration in the large: a model's predictions shifted so that, on a site's own
patients, their mean equals what was observed there. The first and most robust step of
updating a clinical prediction model for a new setting (Steyerberg, *Clinical Prediction
Models*, 2nd ed. 2019, ch. 20; Vergouwe et al., Stat Med 2017;36:4529-39): the ranking of
patients (AUROC) is unchanged, only the baseline risk moves.

- binary (P(positive), shape (N,)): one intercept ``a`` on the logit scale,
  ``p' = expit(logit(p) + a)`` with ``mean(p') = observed rate``;
- classes (probabilities, shape (N, K)): one offset per class on the log scale (a prior
  shift, solved by Saerens et al.'s fixed point, Neural Comput 2002;14:21-41),
  ``p' = softmax(log p + a)`` with ``mean(p'_k) = observed share of class k``;
- regression (values): ``y' = y + mean(observed - predicted)``.

Observed rates are smoothed by half a patient per class (``(events + 0.5) / (n + 0.5 K)``),
so that a site where every training patient had the outcome gets a large but finite shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, logit, softmax

from medadapt.errors import DataError

_EPS = 1e-7
_MAX_ITER = 500


@dataclass(frozen=True)
class Shift:
    """What recalibration in the large adds: on the logit (binary), log-probability (classes)
    or value (regression) scale."""

    task: str  # binary | classes | regression
    offset: np.ndarray  # () binary and regression, (K,) classes

    def apply(self, scores: np.ndarray) -> np.ndarray:
        """``scores`` (as the model gave them) recalibrated."""
        scores = np.asarray(scores, dtype=float)
        if self.task == "binary":
            return expit(logit(np.clip(scores, _EPS, 1 - _EPS)) + self.offset)
        if self.task == "classes":
            return softmax(np.log(np.clip(scores, _EPS, 1.0)) + self.offset, axis=1)
        return scores + self.offset


def fit_in_the_large(scores: np.ndarray, labels: np.ndarray, task: str) -> Shift:
    """The shift that makes the mean prediction on ``scores`` equal to the outcome observed in
    ``labels`` (0/1 for binary, class codes for probabilities, values for regression)."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    if len(scores) == 0:
        raise DataError("recalibration needs at least one patient with an outcome")
    if not np.isfinite(scores).all():
        raise DataError("recalibration got predictions that are not numbers (NaN or infinite)")
    if task == "regression":
        return Shift("regression", np.asarray(float(np.mean(labels - scores))))
    if scores.ndim == 1:
        rate = (labels.sum() + 0.5) / (len(labels) + 1.0)
        logits = logit(np.clip(scores, _EPS, 1 - _EPS))

        def gap(a: float) -> float:
            return float(expit(logits + a).mean() - rate)

        return Shift("binary", np.asarray(brentq(gap, -50.0, 50.0, xtol=1e-10)))
    k = scores.shape[1]
    counts = np.bincount(labels.astype(int), minlength=k)[:k]
    shares = (counts + 0.5) / (len(labels) + 0.5 * k)
    log_p = np.log(np.clip(scores, _EPS, 1.0))
    offset = np.zeros(k)
    for _ in range(_MAX_ITER):
        mean = softmax(log_p + offset, axis=1).mean(axis=0)
        step = np.log(shares / mean)
        offset += step
        if np.abs(step).max() < 1e-10:
            break
    return Shift("classes", offset - offset.mean())

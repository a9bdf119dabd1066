"""The old-class retention check of a classifier extended with new classes.

On the test samples of the *old* classes, the probabilities of the old classes are
renormalised among themselves and scored one-vs-rest (macro AUROC; AUROC of the second class
for two old classes), before (base model) and after (extended model), on the same samples.
``drop = before - after`` with a paired bootstrap 95 % CI; the check passes when
``drop <= tolerance`` (0.01). Also reported: the share of old-class samples the extended
model now assigns to a new class (a forgetting the AUROC does not show).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.metrics import N_BOOT, compute_metrics
from medadapt.evaluate.scoring import task_of, task_scores

RETENTION_TOLERANCE = 0.01


def _renormalised(proba: np.ndarray, n_old: int) -> np.ndarray:
    old = proba[:, :n_old]
    return old / np.clip(old.sum(axis=1, keepdims=True), 1e-12, None)


def _bootstrap_auroc(W: np.ndarray, y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Macro one-vs-rest AUROC per bootstrap row (AUROC of class 1 for two classes)."""
    if proba.shape[1] == 2:
        return bs.weighted_auroc(W, (y == 1).astype(int), proba[:, 1])
    per_class = [
        bs.weighted_auroc(W, (y == c).astype(int), proba[:, c]) for c in range(proba.shape[1])
    ]
    return np.mean(per_class, axis=0)


def old_class_retention(
    y: np.ndarray,
    proba_before: np.ndarray,
    proba_after: np.ndarray,
    old_classes: Sequence[str],
    *,
    tolerance: float = RETENTION_TOLERANCE,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> dict[str, Any]:
    """The retention check (see the module docstring). ``proba_before``: (N, n_old) from the
    base model; ``proba_after``: (N, n_old + n_new) from the extended model; ``y`` indexes
    the extended class list (old classes first)."""
    y = np.asarray(y).astype(int)
    n_old = len(old_classes)
    mask = y < n_old
    y_old = y[mask]
    before = _renormalised(proba_before[mask], n_old)
    after = _renormalised(proba_after[mask], n_old)
    task = task_of(n_old)
    m_before = compute_metrics(task, y_old, task_scores(before), n_boot=n_boot, seed=seed)
    m_after = compute_metrics(task, y_old, task_scores(after), n_boot=n_boot, seed=seed)
    out: dict[str, Any] = {
        "old_classes": list(old_classes),
        "n_images": int(mask.sum()),
        "class_counts": np.bincount(y_old, minlength=n_old).tolist(),
        "auroc_before": m_before["auroc"],
        "auroc_before_ci": m_before["auroc_ci"],
        "auroc_after": m_after["auroc"],
        "auroc_after_ci": m_after["auroc_ci"],
        "drop": None,
        "drop_ci": None,
        "tolerance": tolerance,
        "passed": None,
        "old_predicted_as_new": float((proba_after[mask].argmax(axis=1) >= n_old).mean())
        if mask.any()
        else None,
        "note": "",
    }
    if m_before["auroc"] is None or m_after["auroc"] is None:
        notes = m_before.get("notes", {})
        reason = notes.get("auroc") or notes.get("all") or "too few old-class test images"
        reason = reason.removeprefix("not reported: ")
        out["note"] = (
            f"retention not measurable ({reason}): pass the base model's training images as "
            "--old-data, or add old-class images to the data"
        )
        return out
    W = bs.resample_weights(len(y_old), n_boot, seed)
    samples = _bootstrap_auroc(W, y_old, before) - _bootstrap_auroc(W, y_old, after)
    drop = float(m_before["auroc"] - m_after["auroc"])
    out.update(drop=drop, drop_ci=bs.percentile_interval(samples), passed=drop <= tolerance)
    return out


def retention_sentence(name: str, retention: dict[str, Any]) -> str:
    """One plain-language line for a report or the terminal."""
    if retention.get("drop") is None:
        return f"{name}: {retention.get('note') or 'retention not measurable'}."
    verdict = "kept" if retention["passed"] else "NOT kept"
    low, high = retention["drop_ci"] or (float("nan"), float("nan"))
    where = retention.get("test_set") or f"{retention['n_images']} old-class test images"
    text = (
        f"{name}: old-class AUROC {retention['auroc_before']:.3f} -> "
        f"{retention['auroc_after']:.3f} (drop {retention['drop']:+.4f}, 95% CI {low:+.3f} to "
        f"{high:+.3f}) on {where}: old classes {verdict} (tolerance {retention['tolerance']}); "
        f"{retention['old_predicted_as_new']:.0%} of the old-class images are now called a new "
        "class."
    )
    if retention["passed"] and high > retention["tolerance"]:
        text += (
            " The interval still allows a larger drop: more old-class test images would confirm it."
        )
    return text

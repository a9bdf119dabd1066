"""The old-class retention check of a classifier extended with new classes.

On the test samples of the *old* classes, the probabilities of the old classes are
renormalised among themselves and scored one-vs-rest (macro AUROC; AUROC of the second class
for two old classes), before (base model) and after (extended model), on the same samples.
``drop = before - after`` with a paired bootstrap 95 % CI. The AUROC alone does not show an
old-class sample the extended model now calls a new class, so the old classes count as kept
only when both hold: ``drop <= tolerance`` (0.01), and of the old-class samples the base model
classified correctly at most ``OLD_CALLED_NEW_LIMIT`` (10 %) are now assigned to a new class.
The share of all old-class samples assigned to a new class is reported beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.metrics import (
    MIN_PER_CLASS,
    N_BOOT,
    compute_metrics,
    flat_spread,
    spread_text,
)
from medadapt.evaluate.scoring import task_of, task_scores
from medadapt.results import FORGOT_OLD_CLASSES, digits_apart

RETENTION_TOLERANCE = 0.01
# Of the old-class samples the base model classified correctly, the largest share the extended
# model may now call a new class while the old classes still count as kept. The base calls no
# sample new (it has no new class), so each such call is a correct answer lost to the extension;
# samples the base already got wrong are left out (they were lost before). 10 % lost is a
# ten-point fall in accuracy on them, far more than an AUROC tolerance of 0.01 stands for, yet
# it leaves room for the occasional old-class sample that does look like the new class.
OLD_CALLED_NEW_LIMIT = 0.10
NO_OLD_DATA_FIX = (
    "pass the base model's training images as --old-data, or add old-class images to the data"
)
#: what ``evaluate`` (which has no --old-data) advises
EVALUATE_FIX = "evaluate on data holding old-class images neither model trained on"
OLD_DATA_FIX = (
    f"pass more old-class images as --old-data (at least {MIN_PER_CLASS} of each old class that "
    "neither the base model nor the extended model trained on)"
)


def _renormalised(proba: np.ndarray, n_old: int) -> np.ndarray:
    """The old classes' probabilities, each row rescaled to sum to 1; a row the extended
    model gives the old classes (almost) nothing, in float64 too, is even across them (a
    review's image whose new-class logit was 28 above them summed to 0, refused as no
    probabilities)."""
    old = np.asarray(proba[:, :n_old], dtype=np.float64)
    total = old.sum(axis=1, keepdims=True)
    even = np.full_like(old, 1.0 / n_old)
    return np.where(total > 1e-12, old / np.clip(total, 1e-12, None), even)


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
    called_new_limit: float = OLD_CALLED_NEW_LIMIT,
    n_boot: int = N_BOOT,
    seed: int = 0,
    fix: str = NO_OLD_DATA_FIX,
) -> dict[str, Any]:
    """The retention check (see the module docstring). ``proba_before``: (N, n_old) from the
    base model; ``proba_after``: (N, n_old + n_new) from the extended model; ``y`` indexes
    the extended class list (old classes first); ``fix``: what to do when the old-class AUROC
    cannot be measured (the data behind it is the caller's to name)."""
    y = np.asarray(y).astype(int)
    n_old = len(old_classes)
    mask = y < n_old
    y_old = y[mask]
    base_correct = proba_before[mask].argmax(axis=1) == y_old
    called_new = proba_after[mask].argmax(axis=1) >= n_old
    before = _renormalised(proba_before[mask], n_old)
    after = _renormalised(proba_after[mask], n_old)
    task = task_of(n_old)
    named = {"unit": "image", "class_names": list(old_classes)}  # notes name the classes
    m_before = compute_metrics(task, y_old, task_scores(before), n_boot=n_boot, seed=seed,
                               **named)  # fmt: skip
    m_after = compute_metrics(task, y_old, task_scores(after), n_boot=n_boot, seed=seed,
                              **named)  # fmt: skip
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
        "old_predicted_as_new": float(called_new.mean()) if mask.any() else None,
        "n_base_correct": int(base_correct.sum()),
        "base_correct_predicted_as_new": float(called_new[base_correct].mean())
        if base_correct.any()
        else None,
        "predicted_as_new_limit": called_new_limit,
        "n_new_images": int((~mask).sum()),
        "new_called_new": float((proba_after[~mask].argmax(axis=1) >= n_old).mean())
        if (~mask).any()
        else None,
        "passed": None,
        "verdict": "",
        "note": "",
    }
    if m_before["auroc"] is None or m_after["auroc"] is None:
        notes = m_before.get("notes", {})
        reason = notes.get("auroc") or notes.get("all") or "too few old-class test images"
        reason = reason.removeprefix("not reported: ")
        out["note"] = f"old-class AUROC not measurable ({reason}): {fix}"
    else:
        W = bs.resample_weights(len(y_old), n_boot, seed)
        samples = _bootstrap_auroc(W, y_old, before) - _bootstrap_auroc(W, y_old, after)
        drop = float(m_before["auroc"] - m_after["auroc"])
        out.update(drop=drop, drop_ci=bs.percentile_interval(samples))
    flat = flat_spread(task_scores(before)) if mask.sum() >= 3 else None
    if flat is not None:  # a stalled base's ranking: keeping it shows little (a trial's
        out["before_flat"] = spread_text(*flat)  # "old classes kept" of one)
    out.update(passed=old_classes_kept(out), verdict=retention_verdict(out))
    return out


def old_classes_kept(retention: dict[str, Any]) -> bool | None:
    """Both criteria, from the recorded numbers (None: not measurable). Too many old-class
    samples called a new class fails the check even when the AUROC cannot be measured."""
    if _called_new_too_often(retention):
        return False
    if retention.get("drop") is None:
        return None
    return retention["drop"] <= retention["tolerance"]


def retention_verdict(retention: dict[str, Any]) -> str:
    """'old classes kept: ...' or 'old classes NOT kept: ...', each criterion with its limit,
    failed ones first ('' when not measurable)."""
    kept = old_classes_kept(retention)
    if kept is None:
        return ""
    checks = [(_called_new_too_often(retention), _called_new_clause(retention))]
    if retention.get("drop") is not None:
        checks.append((retention["drop"] > retention["tolerance"], _auroc_clause(retention)))
    failed_first = sorted(checks, key=lambda check: not check[0])
    return f"old classes {'kept' if kept else 'NOT kept'}: " + "; ".join(
        clause for _, clause in failed_first
    )


AMONG_THEMSELVES = "the old classes told apart among themselves (not the per-class AUROCs)"
"""What the old-class AUROC measures, said where it is given: the old classes' probabilities
renormalised among themselves on old-class samples, which is not any per-class one-vs-rest
figure of the same table (a trial read 0.182 beside per-class AUROCs near 0.5)."""


def retention_sentence(name: str, retention: dict[str, Any]) -> str:
    """One plain-language line for a report or the terminal."""
    verdict = retention_verdict(retention)
    if retention.get("drop") is None:
        note = retention.get("note") or "old-class AUROC not measurable"
        return f"{name}: {verdict or 'retention not measured'}; {note}.{never_learnt(retention)}"
    drop_low, drop_high = retention["drop_ci"] or (float("nan"), float("nan"))
    change_low, change_high = 0.0 - drop_high, 0.0 - drop_low  # after - before; never -0.0
    where = retention.get("test_set") or f"{retention['n_images']} old-class test images"
    interval = f"95% CI of the change {change_low:+.3f} to {change_high:+.3f}"
    if change_low == change_high == 0:  # not certainty: the old classes' order is untouched
        interval = "the old classes are ranked exactly as before in every bootstrap resample"
    text = (
        f"{name}: old-class AUROC {retention['auroc_before']:.3f} -> "
        f"{retention['auroc_after']:.3f} ({auroc_change(-retention['drop'])}, {interval}) on "
        f"{where}, {AMONG_THEMSELVES}: {verdict}."
    )
    if retention.get("base_correct_predicted_as_new") is not None:
        text += f" Of all old-class images, {retention['old_predicted_as_new']:.0%} are called new."
    if retention.get("before_flat") and retention.get("passed"):  # (not kept: said already)
        text += (
            " But the base model gives nearly the same probability to every old-class image "
            f"(the middle 90% between {retention['before_flat']}): its old-class AUROC rests on "
            "differences too small to act on, so keeping it shows little."
        )
    return text + never_learnt(retention)


def never_learnt(retention: dict[str, Any]) -> str:
    """A sentence when the extended model calls none of the new-class images a new class: it
    has not learnt the new class, and keeping the old ones is then no achievement (nothing is
    ever taken from them). Empty otherwise, and for checks recorded before it was counted."""
    n_new = retention.get("n_new_images")
    if not n_new or retention.get("new_called_new") != 0:
        return ""
    return (
        f" But none of the {n_new} new-class images is called a new class: the new class is "
        "not learnt, so the old classes are kept only because nothing is ever called new."
    )


def auroc_change(change: float) -> str:
    """'gain 0.044', 'drop 0.044' or 'no change', to three decimals (``change``: after -
    before)."""
    if round(change, 3) > 0:
        return f"gain {change:.3f}"
    if round(change, 3) < 0:
        return f"drop {-change:.3f}"
    return "no change"


def _called_new_too_often(retention: dict[str, Any]) -> bool:
    share, _ = _called_new_share(retention)
    return share is not None and share > _called_new_limit(retention)


def _called_new_share(retention: dict[str, Any]) -> tuple[float | None, str]:
    """The share the limit applies to, and the old-class images it counts: those the base
    model classified correctly, or all of them (the base got none right, or a record written
    before that share was kept)."""
    share = retention.get("base_correct_predicted_as_new")
    if share is None:
        return retention.get("old_predicted_as_new"), "the old-class images"
    n_right = retention["n_base_correct"]
    return share, f"the {n_right} old-class images the base model classified correctly"


def _called_new_limit(retention: dict[str, Any]) -> float:
    """The recorded limit (records written before it existed: the current one)."""
    return retention.get("predicted_as_new_limit", OLD_CALLED_NEW_LIMIT)


def _called_new_clause(retention: dict[str, Any]) -> str:
    (share, counted), limit = _called_new_share(retention), _called_new_limit(retention)
    bound = "more than" if share > limit else "at most"
    return (
        f"{share:.{digits_apart(share * 100, limit * 100, 0)}%} of {counted} are now called a new "
        f"class ({bound} {limit:.0%})"
    )


def _auroc_clause(retention: dict[str, Any]) -> str:
    drop, tolerance = retention["drop"], retention["tolerance"]
    if drop > tolerance:
        shown = f"{drop:.{digits_apart(drop, tolerance, 3)}f}"
        return f"the AUROC dropped {shown} (more than {tolerance:g})"
    high = (retention.get("drop_ci") or (None, None))[1]
    # a gain is no drop (a trial read "gain 0.023 ... AUROC drop within 0.01 as estimated")
    within = f"AUROC drop within {tolerance:g}"
    if drop <= -0.0005:  # a rise that shows at three decimals
        within = f"the AUROC rose {-drop:.3f}"
    elif drop <= 0:
        within = "no AUROC drop"
    if high is not None and high > tolerance:  # a trial's "within 0.01" beside -0.067 to +0.042
        return (f"{within} as estimated, though its interval reaches a drop of {high:.3f}: more "
                "old-class test images would settle it")  # fmt: skip
    return within


def with_forgetting(metrics: dict[str, Any], retention: dict[str, Any] | None) -> dict[str, Any]:
    """``metrics`` with a note (:data:`~medadapt.results.FORGOT_OLD_CLASSES`) where the
    adapter did not keep the old classes (:func:`forgetting_warning`): the registry, its
    cards, ``promote`` and ``serve`` show it beside the figures, as "too good to be true"."""
    said = forgetting_warning(retention)
    if said is None:
        return metrics
    notes = {**(metrics.get("notes") or {}), FORGOT_OLD_CLASSES: said}
    return {**metrics, "notes": notes}


def forgetting_warning(retention: dict[str, Any] | None, who: str = "the adapter") -> str | None:
    """That ``who`` did not keep the old classes when it learnt new ones, with the measured
    criteria (None where it kept them, or nothing was measured)."""
    if not retention or old_classes_kept(retention) is not False:
        return None
    return (
        f"{who} did not keep the old classes when it learnt the new ones "
        f"({retention_verdict(retention)}): {'; '.join(_consequences(retention))}; keep the "
        "base model for the old classes, or adapt again"
    )


def _consequences(retention: dict[str, Any]) -> list[str]:
    """What each failed criterion means for the old classes' patients (a trial was told its
    calls "may name a new one" where 0% were called new: the AUROC had failed)."""
    said = []
    if _called_new_too_often(retention):
        said.append("its calls of patients of an old class may name a new one")
    drop = retention.get("drop")
    if drop is not None and drop > retention["tolerance"]:
        low, high = retention.get("drop_ci") or (None, None)
        said.append(
            "it tells the old classes apart less well than the base model did"
            + (f" (95% CI of the change {0.0 - high:+.3f} to {0.0 - low:+.3f}: the interval "
               "includes zero, no change at all, so more old-class images would tell whether "
               "the drop is real)"
               if low is not None and low <= 0 else "")
        )  # fmt: skip
    return said

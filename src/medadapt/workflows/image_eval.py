"""Scoring image models: overall and per-class metrics, and the old-class retention check.

All functions are pure (arrays in, JSON-ready dicts out), so ``evaluate``, ``adapt`` and a
study share them.

Retention of a model extended with new classes: on the test images of the *old* classes, the
probabilities of the old classes are renormalised among themselves and scored one-vs-rest
(macro AUROC; AUROC of the second class for two old classes), before (base model) and after
(extended model), on the same images. ``drop = before - after`` with a paired bootstrap
95 % CI; the check passes when ``drop <= tolerance`` (0.01). Also reported: the share of old-class
images the extended model now assigns to a new class (a forgetting the AUROC does not show).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from medadapt.errors import ConfigError
from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.groups import evaluate_groups
from medadapt.evaluate.metrics import N_BOOT, binary_metrics, compute_metrics

if TYPE_CHECKING:
    from medadapt.data.images import ImageDataset
    from medadapt.train.bundle import BaseModel

RETENTION_TOLERANCE = 0.01


def task_of(n_classes: int) -> str:
    return "binary" if n_classes == 2 else "multiclass"


def task_scores(proba: np.ndarray) -> np.ndarray:
    """P(second class) for two classes, else the (N, K) probabilities."""
    return proba[:, 1] if proba.shape[1] == 2 else proba


def per_class_metrics(
    y: np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per class: images, one-vs-rest AUROC (95 % CI), sensitivity and precision of
    the top-1 prediction, and a note when the class is too small for an AUROC."""
    y = np.asarray(y).astype(int)
    pred = proba.argmax(axis=1)
    rows = []
    for c, name in enumerate(classes):
        member = y == c
        m = binary_metrics(member.astype(int), proba[:, c], n_boot=n_boot, seed=seed)
        called = pred == c
        rows.append(
            {
                "class": name,
                "n": int(member.sum()),
                "auroc": m["auroc"],
                "auroc_ci": m["auroc_ci"],
                "sensitivity": float((called & member).sum() / member.sum())
                if member.any()
                else None,
                "precision": float((called & member).sum() / called.sum())
                if called.any()
                else None,
                "note": m["notes"].get("auroc") or m["notes"].get("all", ""),
            }
        )
    return rows


def score_images(
    y: np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    groups: Sequence[str] | None = None,
    group_name: str = "group",
    threshold: float = 0.5,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> dict[str, Any]:
    """``{"overall", "per_class", "subgroups"}`` for probabilities ``proba`` (N, K)."""
    y = np.asarray(y).astype(int)
    subgroups = {} if groups is None else {group_name: np.asarray(groups, dtype=str)}
    with warnings.catch_warnings():  # a class predicted but absent here is expected
        warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
        result = evaluate_groups(
            task_of(len(classes)),
            y,
            task_scores(proba),
            subgroups,
            n_boot=n_boot,
            seed=seed,
            threshold=threshold,
        )
    result["overall"]["task"] = task_of(len(classes))
    result["per_class"] = per_class_metrics(y, proba, classes, n_boot=n_boot, seed=seed)
    return result


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


def retention_of(
    model, adapter: str | None, base: BaseModel, old: tuple[ImageDataset, str], **options: Any
) -> dict[str, Any]:
    """Old-class retention of ``model`` (through ``adapter``) against ``base`` on ``old``
    (images, a sentence saying which), via :func:`old_class_retention`."""
    from medadapt.train.images import predict_proba

    images, described = old
    before = predict_proba(base.model, images.images)
    after = predict_proba(model, images.images, adapter=adapter)
    out = old_class_retention(images.y.numpy(), before, after, base.schema.classes, **options)
    out["test_set"] = described
    return out


def full_finetune_comparison(
    base: BaseModel,
    train: ImageDataset,
    test: ImageDataset,
    *,
    new_classes: Sequence[str],
    old: tuple[ImageDataset, str],
    train_config: Any = None,
    seed: int = 0,
    n_boot: int = N_BOOT,
    on_epoch: Any = None,
) -> dict[str, Any]:
    """Full fine-tuning with an extended head on ``train`` (plain cross-entropy, no retention
    measure: what one would do without adapters), scored on ``test`` and on the old classes'
    test images ``old``."""
    from medadapt.train.images import adapt, predict_proba

    full = adapt(
        base,
        train,
        method="full",
        name="full",
        new_classes=new_classes,
        train_config=train_config,
        seed=seed,
        retention="none",
        on_epoch=on_epoch,
    )
    proba = predict_proba(full.model, test.images)
    return {
        "method": "full",
        "trick": "none",
        "trainable_params": full.trainable_params,
        "train_seconds": round(full.fit.seconds, 2),
        "retention": retention_of(full.model, None, base, old, n_boot=n_boot, seed=seed),
        **score_images(test.y.numpy(), proba, full.classes, n_boot=n_boot, seed=seed),
    }


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


def adapt_and_score(
    base: Any,
    train: Any,
    test: Any,
    *,
    method: str,
    new_classes: Sequence[str] = (),
    top_blocks: int | None = None,
    train_config: Any = None,
    seed: int = 0,
    n_boot: int = N_BOOT,
) -> dict[str, Any]:
    """One point of a study: adapt ``base`` (a BaseModel) on the ImageDataset ``train`` with
    ``method`` (or ``base_only``: no training) and score it on ``test``. Pure: no file is
    read or written. With ``new_classes``, the retention check runs on ``test``'s old-class
    images."""
    from medadapt.train.images import adapt, predict_proba

    if method == "base_only":
        if new_classes:
            raise ConfigError("base_only cannot score new classes: pick an adapter method")
        proba = predict_proba(base.model, test.images)
        scores = score_images(test.y.numpy(), proba, test.classes, n_boot=n_boot, seed=seed)
        return {
            "method": method,
            "n_train": 0,
            "trainable_params": 0,
            "train_seconds": 0.0,
            "retention": None,
            **scores,
        }
    result = adapt(
        base,
        train,
        method=method,
        name="study",
        new_classes=new_classes,
        top_blocks=top_blocks,
        train_config=train_config,
        seed=seed,
    )
    adapter = None if method == "full" else "study"
    proba = predict_proba(result.model, test.images, adapter=adapter)
    y = test.y.numpy()
    retention = None
    if result.new_classes:
        before = predict_proba(base.model, test.images)
        retention = old_class_retention(
            y, before, proba, base.schema.classes, n_boot=n_boot, seed=seed
        )
    return {
        "method": method,
        "n_train": len(train),
        "trainable_params": result.trainable_params,
        "train_seconds": round(result.fit.seconds, 2),
        "retention": retention,
        **score_images(y, proba, result.classes, n_boot=n_boot, seed=seed),
    }

"""A model (through an adapter, or alone) scored on samples: metrics with CIs, for every
modality (overall, per subgroup, and per class for classifiers that list classes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from medadapt.evaluate.metrics import ONE_PER_PATIENT, headline_metric
from medadapt.evaluate.scoring import score, task_of
from medadapt.modalities.base import Modality, Samples
from medadapt.train.fitting import predict


def task_for(modality: Modality, schema: Any, classes: Sequence[str]) -> str:
    """The task of a model that may have grown new classes."""
    if modality.can_grow() and len(classes) != len(modality.classes(schema)):
        return task_of(len(classes))
    return modality.task(schema)


def evaluate_model(
    modality: Modality,
    model: Any,
    schema: Any,
    samples: Samples,
    *,
    adapter: str | None = None,
    classes: Sequence[str] | None = None,
    group_column: str | None = None,
    by_group: bool = True,
    threshold: float = 0.5,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[dict[str, Any], np.ndarray]:
    """``({"overall", "subgroups"[, "per_class"]}, scores)`` of ``model`` on ``samples``."""
    classes = list(classes if classes is not None else modality.classes(schema))
    scores = predict(modality, model, schema, samples, adapter=adapter)
    result = score_samples(
        modality, schema, samples, scores, classes=classes, group_column=group_column,
        by_group=by_group, threshold=threshold, n_boot=n_boot, seed=seed,
    )  # fmt: skip
    return result, scores


def score_samples(
    modality: Modality,
    schema: Any,
    samples: Samples,
    scores: np.ndarray,
    *,
    classes: Sequence[str],
    group_column: str | None = None,
    by_group: bool = True,
    subgroups: Sequence[str] = (),
    threshold: float = 0.5,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Metrics of given ``scores`` (as :func:`medadapt.train.fitting.predict` returns); a row
    per class for a modality that lists them, and for every outcome of several classes;
    ``subgroups``: columns to report by too (:meth:`Modality.chosen_subgroups`)."""
    task = task_for(modality, schema, classes)
    result = score(
        task,
        samples.labels,
        modality.task_scores(schema, scores),
        subgroups=modality.subgroups(samples, group_column, by_group=by_group, extra=subgroups),
        classes=classes,
        proba=scores if modality.per_class() or task == "multiclass" else None,
        threshold=threshold,
        n_boot=n_boot,
        seed=seed,
        unit=modality.unit,
        patients=samples.known_patients(),
    )
    overall = result.get("overall") or {}
    if overall.get("n") and "n_patients" not in overall and modality.names_every_patient(samples):
        overall[ONE_PER_PATIENT] = "yes"  # each patient named, one sample each
    return result


def versus_base_on(
    modality: Modality,
    schema: Any,
    samples: Samples,
    metrics: dict[str, Any],
    scores: np.ndarray,
    base_scores: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """The adapter against the base alone on the same ``samples`` (``scores`` and
    ``base_scores``: each model's predictions), paired on AUROC (binary; macro one-vs-rest
    for several classes) or MAE (regression): :func:`medadapt.evaluate.versus_base.versus_base`,
    withheld where ``metrics`` (the adapter's) withheld that metric. A classifier's classes
    are named as its metrics name them (a table's two: negatives and positives), its calls
    made at the threshold ``metrics`` were measured at. A gain beside an adapter's result too
    good to be true is said with a caution (:func:`~medadapt.evaluate.versus_base.
    too_good_caveat`)."""
    from medadapt.evaluate.versus_base import too_good_caveat, versus_base

    task = modality.task(schema)
    metric = headline_metric(task)  # never accuracy: a threshold's count of a few patients
    notes = metrics.get("notes", {})
    withheld = None
    if metrics.get(metric) is None:
        withheld = notes.get(metric) or notes.get("all") or "not reported on these samples"
    named = task != "binary" or modality.per_class()  # as score_samples names them
    paired = versus_base(
        np.asarray(samples.labels), modality.task_scores(schema, scores),
        modality.task_scores(schema, base_scores), metric=metric, unit=modality.unit,
        n_boot=n_boot, seed=seed, withheld=withheld, patients=samples.known_patients(),
        classes=modality.classes(schema) if named else None,
        threshold=metrics.get("threshold") or 0.5,
    )  # fmt: skip
    return too_good_caveat(paired, notes)  # a gain beside a leak's figure: no skill

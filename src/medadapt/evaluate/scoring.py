"""Scoring a model's predictions: overall, per subgroup and (classifiers) per class.

Pure functions (arrays in, JSON-ready dicts out) that every verb and the study share.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from medadapt.errors import DataError
from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.groups import evaluate_groups
from medadapt.evaluate.metrics import (
    MIN_PER_CLASS,
    N_BOOT,
    binary_metrics,
    count_units,
    proportion_interval,
)
from medadapt.wording import plural


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
    unit: str = "image",
    patients: Any = None,
) -> list[dict[str, Any]]:
    """One row per class: images, one-vs-rest AUROC (95 % CI), sensitivity and precision of
    the top-1 prediction with exact binomial 95 % CIs, and a note for what is not reported.

    The overall table's rules hold here too: nothing on fewer than ``MIN_PATIENTS`` samples,
    and a proportion only over at least ``MIN_PER_CLASS`` members (sensitivity) or calls
    (precision): "precision 1.000" on 2 calls is not a finding. ``patients``: each sample's
    patient, where one may have several (see :func:`~medadapt.evaluate.metrics.binary_metrics`)."""
    y = np.asarray(y).astype(int)
    pred = proba.argmax(axis=1)
    clusters = bs.cluster_index(patients, len(y))
    rows = []
    for c, name in enumerate(classes):
        member = y == c  # one against the rest
        m = binary_metrics(member.astype(int), proba[:, c], n_boot=n_boot, seed=seed, unit=unit,
                           class_names=[None, name], patients=patients)  # fmt: skip
        called = pred == c
        hits = int((called & member).sum())
        row = {"class": name, "n": int(member.sum()), "auroc": m["auroc"],
               "auroc_ci": m["auroc_ci"]}  # fmt: skip
        # too few members for a sensitivity: the AUROC's note already counts them
        notes = [m["notes"].get("all") or m["notes"].get("auroc") or _chance_note(m, name)]
        for key, among in (("sensitivity", member), ("precision", called)):
            trials, units = int(among.sum()), count_units(among, clusters)
            shown = "all" not in m["notes"] and units >= MIN_PER_CLASS
            row[key] = hits / trials if shown else None
            of = None if patients is None else np.asarray(patients)[among]
            row[f"{key}_ci"] = proportion_interval((called & member)[among], of) if shown else None
            many = _how_many(trials, units, unit, clusters)
            needed = f"at least {MIN_PER_CLASS}{'' if clusters is None else ' patients'} needed"
            if key == "sensitivity" and not shown and "all" not in m["notes"] and not notes[0]:
                notes.append(f"no sensitivity: {many} of {name!r} ({needed})")
            if key == "precision" and not shown and "all" not in m["notes"]:
                notes.append(f"no precision: {many} called {name!r} ({needed})")
            if key == "precision" and shown and not member.any():  # a trial's cavity row:
                if notes[0] and notes[0].startswith("not reported: "):  # "not reported" beside
                    notes[0] = "no AUROC or sensitivity: " + notes[0].removeprefix(
                        "not reported: ")  # a precision of 0.000  # fmt: skip
                notes.append(f"the precision is of the {many} called {name!r}, every one "
                             f"wrongly: no {unit} here is of that class")  # fmt: skip
        rows.append({**row, "note": "; ".join(n for n in notes if n)})
    return rows


def _chance_note(metrics: dict[str, Any], name: str) -> str | None:
    """Where a class's one-vs-rest AUROC interval reaches 0.5, that the model is not shown to
    tell it from the other classes (an AUROC of 0.62 whose interval spans 0.41 to 0.80 reads as
    a weak finding, and is none); where the whole interval is below 0.5, that it ranks it
    backwards."""
    interval = metrics.get("auroc_ci")
    if metrics.get("auroc") is None or not interval:
        return None
    if interval[1] < 0.5:
        return f"the interval is below 0.50: {name!r} is ranked backwards, worse than chance"
    if interval[0] <= 0.5:
        return f"the interval reaches 0.50: not shown to tell {name!r} from the rest"
    return None


def _how_many(n: int, n_patients: int, unit: str, clusters: np.ndarray | None) -> str:
    """``n`` samples in the table's unit (``3 images``); where patients have several, with
    the patients the minimum counts (``7 images (3 patients)``)."""
    if clusters is None or n == 0:
        return plural(n, unit)
    sample = "row" if unit == "patient" else unit  # a table's rows of one patient
    return f"{plural(n, sample)} ({plural(n_patients, 'patient')})"


def score_classifier(
    y: np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    groups: Sequence[str] | None = None,
    group_name: str = "group",
    threshold: float = 0.5,
    n_boot: int = N_BOOT,
    seed: int = 0,
    patients: Sequence[str] | None = None,
) -> dict[str, Any]:
    """``{"overall", "per_class", "subgroups"}`` for probabilities ``proba`` (N, K);
    ``patients``: each image's patient, where one may have several (resampled together)."""
    proba = np.asarray(proba)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise DataError(
            f"proba must be (N, K) probabilities, a column per class in classes (K = "
            f"{len(classes)}); got shape {proba.shape}"
        )
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
            unit="image",
            class_names=classes,
            patients=patients,
        )
    result["overall"]["task"] = task_of(len(classes))
    result["per_class"] = per_class_metrics(y, proba, classes, n_boot=n_boot, seed=seed,
                                            patients=patients)  # fmt: skip
    return result


def score(
    task: str,
    y: np.ndarray,
    scores: np.ndarray,
    *,
    subgroups: dict[str, np.ndarray],
    classes: Sequence[str] = (),
    proba: np.ndarray | None = None,
    threshold: float = 0.5,
    n_boot: int = N_BOOT,
    seed: int = 0,
    unit: str = "patient",
    patients: Any = None,
) -> dict[str, Any]:
    """``{"overall", "subgroups"}`` (+ ``"per_class"`` when ``proba`` (N, K) is given) for
    the task scores ``scores`` (P(positive), (N, K) probabilities, or values); ``unit``: what
    the notes count ("patient", "image"). The notes name the classes, except a binary task's
    without per-class figures (a table's outcome): its classes are positives and negatives.
    ``patients``: each sample's patient, where one may have several (resampled together)."""
    named = list(classes) if classes and (task != "binary" or proba is not None) else None
    with warnings.catch_warnings():  # a class predicted but absent here is expected
        warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
        result = evaluate_groups(
            task, y, scores, subgroups, n_boot=n_boot, seed=seed, threshold=threshold, unit=unit,
            class_names=named, patients=patients,
        )  # fmt: skip
    if proba is not None:
        result["overall"]["task"] = task
        result["per_class"] = per_class_metrics(y, proba, classes, n_boot=n_boot, seed=seed,
                                                unit=unit, patients=patients)  # fmt: skip
    return result

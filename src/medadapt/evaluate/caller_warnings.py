"""What the public metric functions say to a Python caller as a ``UserWarning``.

The command line prints a result's notes itself (``warning:`` lines, the report's summary), so
a metric function called from within medadapt says nothing more; called from a user's code, it
repeats the notes that must not be missed (a result too good to be true, an AUROC from hard
predictions, a model that calls nearly everyone one class, one that ranks patients backwards)
as warnings at the user's line, each once.

>>> import numpy as np, warnings
>>> y = np.array([0, 1] * 10)
>>> two_values_note(np.where(y == 1, 0.9, 0.1), 1.0)[:41]
'the scores take only two distinct values,'
>>> two_values_note(np.linspace(0, 1, 20), 0.6) is None
True
>>> two_values_note(np.eye(3)[[0, 1, 2, 0]], 0.8)[:77]
'the class probabilities take only two distinct values, as one-hot predictions'
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from medadapt.results import METRIC_LABELS, SAID_AS_WARNINGS, counts_behind, metric_digits

TWO_VALUES = "take only two distinct values"
"""What the note on an AUROC from hard predictions says (it is kept under ``auroc``)."""


def two_values_note(scores: np.ndarray, auroc: float | None) -> str | None:
    """Why an AUROC from scores of two distinct values (hard 0/1 predictions, or any two;
    one-hot rows of class probabilities) says little: it is then the balanced accuracy at one
    threshold (each class's, averaged), not how the model ranks patients (None when the
    scores take more values, or no AUROC was reported)."""
    if auroc is None or np.unique(scores).size != 2:
        return None
    if np.ndim(scores) == 2:
        return (
            f"the class probabilities {TWO_VALUES}, as one-hot predictions do: this AUROC "
            f"({auroc:.3f}) averages, over the classes, a one-vs-rest balanced accuracy at one "
            "threshold, not the model's discrimination; pass the predicted probabilities of "
            "every class instead"
        )
    return (
        f"the scores {TWO_VALUES}, as hard 0/1 predictions do: this AUROC ({auroc:.3f}) is the "
        "balanced accuracy at one threshold, not the model's discrimination; pass the predicted "
        "probabilities (P(positive)) instead"
    )


def said_to_caller(metrics: dict[str, Any]) -> list[str]:
    """The notes of ``metrics`` that a Python caller is warned about, each once: those the
    command line prints as ``warning:`` lines (too good to be true, one class for everyone,
    ranked backwards), and the two-values note."""
    notes = metrics.get("notes") or {}
    said = [notes.get(key) for key in SAID_AS_WARNINGS]
    said += [note for note in notes.values() if isinstance(note, str) and TWO_VALUES in note]
    said.append(_withheld_note(metrics, notes))
    return list(dict.fromkeys(note for note in said if note))


def _withheld_note(metrics: dict[str, Any], notes: dict[str, Any]) -> str | None:
    """Why the leading figure (AUROC; MAE for a measured value) is None, where it is: a
    trial's notebook read None in a format string and saw a TypeError, the reason kept in
    ``notes`` only.

    >>> _withheld_note({"auroc": None}, {"auroc": "not reported: 4 negatives among 20"})
    "metrics['auroc'] is None: 4 negatives among 20 (its reason is in metrics['notes'])"
    """
    key = next((k for k in ("auroc", "mae") if k in metrics), None)
    if key is None or metrics[key] is not None:
        return None
    why = notes.get(key) or notes.get("all")
    if not isinstance(why, str):
        return None
    return (f"metrics[{key!r}] is None: {why.removeprefix('not reported: ')} (its reason is in "
            "metrics['notes'])")  # fmt: skip


def _from_medadapt(frame: Any) -> bool:
    """Whether ``frame`` runs medadapt's own code (the command line, a workflow)."""
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    return module == "medadapt" or module.startswith("medadapt.")


def yes_no_as_measured(task: Any, y_true: Any, *_: Any, **__: Any) -> str | None:
    """Why regression figures of an outcome of 0s and 1s mislead (a trial's notebook scored a
    yes/no outcome's probabilities as measured values: MAE 0.39, R² 0.232, no word), as
    ``TableSchema.infer(task="regression")`` warns of such a label; None otherwise.

    >>> yes_no_as_measured("regression", [0, 1, 1, 0])[:48]
    'y_true takes only the values 0 and 1, a yes/no o'
    >>> yes_no_as_measured("regression", [0.5, 1, 2]) is None
    True
    """
    if task != "regression":
        return None
    try:
        values = np.asarray(y_true, dtype=float)
    except (TypeError, ValueError):
        return None
    if set(np.unique(values[~np.isnan(values)]).tolist()) != {0.0, 1.0}:
        return None
    return (
        "y_true takes only the values 0 and 1, a yes/no outcome: scored as a measured value it "
        "gets a mean error and an R-squared, not a risk's figures (AUROC, calibration); for "
        "predicted probabilities use compute_metrics('binary', y_true, probabilities)"
    )


class Metrics(dict):
    """The dict a metric function returns to a Python caller, printed as a clinician reads
    it (a trial's notebook printed 16-digit floats: ``'auroc_ci': [0.7223960561347444, ...]``):
    each reported figure with its interval, then the notes; keys and values are the dict's.
    ``unit``: what each value was measured on (the function's ``unit``).

    >>> Metrics({"n": 40, "auroc": 0.8123, "auroc_ci": [0.70, 0.91], "mae": None,
    ...          "notes": {"mae": "not reported"}})
    Metrics of 40 patients (a dict; keys as printed in brackets):
      AUROC ['auroc']: 0.812 (0.700–0.910)
      note ['mae']: not reported
    >>> Metrics({"n": 60, "n_patients": 20}, unit="image")
    Metrics of 60 images of 20 patients (a dict; keys as printed in brackets):
    """

    def __init__(self, metrics: dict[str, Any], unit: str = "patient") -> None:
        super().__init__(metrics)
        self.unit = unit

    def __repr__(self) -> str:
        n, patients = self.get("n"), self.get("n_patients")
        head = f"Metrics of {n} {self.unit}s" if isinstance(n, int) else "Metrics"
        if isinstance(patients, int) and self.unit != "patient":
            head += f" of {patients} patients"
        elif isinstance(patients, int):
            head = f"Metrics of {patients} patients ({n} samples)"
        lines = [f"{head} (a dict; keys as printed in brackets):"]
        lines += [f"  {label} [{key!r}]: {_figure(self, key)}"
                  for key, label in METRIC_LABELS.items() if self.get(key) is not None]  # fmt: skip
        notes = self.get("notes") if isinstance(self.get("notes"), dict) else {}
        lines += [f"  note [{key!r}]: {text}" for key, text in notes.items()]
        return "\n".join(lines)


def _figure(metrics: dict[str, Any], key: str) -> str:
    """``0.812 (0.700–0.910); 44 of 45``: the value, its interval and the count behind it."""
    value, ci = metrics[key], metrics.get(f"{key}_ci")
    digits = metric_digits(key, value)
    text = f"{value:.{digits}f}"
    if isinstance(ci, list | tuple) and len(ci) == 2 and None not in ci:
        text += f" ({ci[0]:.{digits}f}–{ci[1]:.{digits}f})"
    counts = counts_behind(metrics, key)
    return f"{text}; {counts}" if counts else text


def warns_its_caller(
    metric_function: Callable[..., dict[str, Any]],
    about_inputs: Callable[..., str | None] | None = None,
) -> Callable[..., dict]:
    """``metric_function``, which also warns a caller outside medadapt about the notes of
    :func:`said_to_caller`, at the caller's line (``stacklevel=2``: the line calling it), and
    what ``about_inputs`` (called with the same arguments) finds in its inputs."""

    @functools.wraps(metric_function)
    def warning(*args: Any, **kwargs: Any) -> dict[str, Any]:
        metrics = metric_function(*args, **kwargs)
        if not _from_medadapt(sys._getframe(1)):
            first = about_inputs(*args, **kwargs) if about_inputs is not None else None
            for note in ([first] if first else []) + said_to_caller(metrics):
                warnings.warn(note, UserWarning, stacklevel=2)
            return Metrics(metrics, kwargs.get("unit", "patient"))  # printed readably
        return metrics

    return warning

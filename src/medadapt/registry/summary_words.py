"""A recorded data summary and its sample counts in words, for the card, ``show`` and ``diff``.

An adapter's ``data_summary`` keeps code keys (``n_train``, ``train_class_counts``); readers
get words ("training images", "test rows per class") counting what the adapter was trained
on: the ``unit`` the registry records beside the summary (``rows`` for tables, ``images``;
``rows`` for versions registered before it was kept).

>>> summary_rows({"n_train": 1400, "unit": "images", "train_class_counts": {"a": 3, "b": 1040}})
[('training images', '1,400'), ('training images per class', 'a: 3, b: 1,040')]
>>> count_label("n_positive", "rows")
'positive test rows'
"""

from __future__ import annotations

import math
from typing import Any

from medadapt.registry.diff import flatten
from medadapt.registry.records import UNIT_KEY
from medadapt.results import (
    ADAPTED_READING,
    METRIC_LABELS,
    TRAINING_WARNINGS,
    VALIDATION_WORDS,
    grouped,
    needed_text,
    parameters_text,
    r2_text,
)

DATA_WORDS = {
    "n_train": "training {unit}",
    "n_val": "validation {unit}",
    "n_test": "test {unit}",
    "n_positive": "positive training {unit}",
    "n_negative": "negative training {unit}",
    "prevalence": "training prevalence",
    "train_class_counts": "training {unit} per class",
    "test_class_counts": "test {unit} per class",
    "n_seen_by_base": "{unit} given to adapt that the base model trained on",
    "n_seen_training": "adapter training {unit} the base model also trained on",
    "n_kept_out": "{unit} kept out (the base model's test {unit})",
    "train_fraction": "share of the training {unit} used",
    "group": "group",
    "group_column": "group column",
    "site": "site",
    "sites": "sites",
}
"""The data summary's keys in words (what ``adapt``, ``federate`` and ``personalise`` record),
in the order they are told; the others follow in the order recorded."""

TEST_COUNTS = {
    "n": "test {unit}",
    "n_test": "test {unit}",
    "n_positive": "positive test {unit}",
    "n_negative": "negative test {unit}",
    "n_patients": "test patients (their {unit} resampled together)",
}
"""The sample sizes recorded with the metrics: counts of the test samples they were measured
on."""


def recorded_unit(data_summary: dict[str, Any]) -> str:
    """The unit a data summary counts (``rows`` when it does not say)."""
    unit = data_summary.get(UNIT_KEY)
    return unit if isinstance(unit, str) and unit else "rows"


def words(key: str) -> str:
    """A key no table names, in words: ``n_skipped_files`` -> ``number of skipped files``."""
    text = key.replace("_", " ").strip()
    return f"number of {text[2:]}" if text.startswith("n ") else text


def data_label(key: str, unit: str = "rows") -> str:
    """A data summary's key in words (``n_kept_out`` -> ``rows kept out (...)``)."""
    return DATA_WORDS[key].format(unit=unit) if key in DATA_WORDS else words(key)


#: a table's outcome has positives; two image findings (normal, mass) do not: their counts
#: read by class, the second being the one a binary model scores (its index in the classes)
_BY_CLASS = {"n_positive": 1, "n_negative": 0}
_POSITIVE_ONLY = ("n_positive", "n_negative", "prevalence")


def count_label(
    name: str, unit: str = "rows", classes: list[str] | tuple[str, ...] | None = None
) -> str | None:
    """A sample size recorded with the metrics as the test samples it counts (None: not one);
    an image adapter's two classes by name (``classes``: those it scores, in its order).

    >>> count_label("n_positive", "images", ["normal", "mass"])
    "test images of class 'mass'"
    """
    if unit != "rows" and name in _BY_CLASS:
        index = _BY_CLASS[name]
        if classes is not None and len(classes) == 2:
            return f"test {unit} of class {str(classes[index])!r}"
        return f"test {unit} of the {('first', 'second')[index]} class"
    return TEST_COUNTS[name].format(unit=unit) if name in TEST_COUNTS else None


#: the metrics the reports do not name (:data:`~medadapt.results.METRIC_LABELS`)
_MORE_LABELS = {
    "f1": "F1 score",
    "ppv": "PPV",
    "npv": "NPV",
    "mse": "MSE",
    "log_loss": "log loss",
    "c_index": "C-index",
}


def metric_label(
    name: str, unit: str = "rows", classes: list[str] | tuple[str, ...] | None = None
) -> str:
    """A metric's name as the reports print it (``balanced_accuracy`` -> ``balanced
    accuracy``, ``r2`` -> ``R²``, ``f1`` -> ``F1 score``); a sample size as the test samples
    it counts (``unit``: rows, images; ``classes``: an image adapter's, to name its two): the
    registry's commands and the card name them so."""
    counted = count_label(name, unit, classes)
    if counted:
        return counted
    return METRIC_LABELS.get(name) or _MORE_LABELS.get(name) or words(name)


def text(value: Any) -> str:
    """A summary value in words: a list as its items, never Python's repr of it; a count
    grouped (1,040)."""
    return ", ".join(map(grouped, value)) if isinstance(value, list | tuple) else grouped(value)


def pairs(value: dict[str, Any], unit: str = "rows") -> str:
    """A nested summary as ``key: value`` pairs (``0: 6, 1: 80``; deeper keys joined, known
    ones in words: ``A training rows: 50``)."""

    def part(key: str) -> str:  # a site's n_train in words; a class or a site as it is
        return DATA_WORDS[key].format(unit=unit) if key in DATA_WORDS else key

    return ", ".join(
        f"{' '.join(map(part, k.split('.')))}: {text(v)}" for k, v in flatten(value).items()
    )


def summary_rows(data_summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The data summary as ``(field, text)`` rows: its keys in words (:data:`DATA_WORDS`, in
    that order, then the others; none for a value not recorded), a nested summary as ``key:
    value`` pairs and the sample-size entry in words (counts and figures only)."""
    unit = recorded_unit(data_summary)
    keys = [k for k in DATA_WORDS if k in data_summary]
    keys += [
        k for k in data_summary if k not in DATA_WORDS and k not in (UNIT_KEY, TRAINING_WARNINGS)
    ]  # the warnings: lines of their own (training_warning_lines)
    if unit != "rows" and "train_class_counts" in data_summary:  # said by class name there
        keys = [k for k in keys if k not in _POSITIVE_ONLY]
    rows = []
    for key in keys:
        value = data_summary[key]
        if value is None:  # not recorded (no group column: adapted on every row): no row
            continue
        if key == "sample_size" and is_sample_size(value):
            rows += sample_size_rows(value, unit)
        elif isinstance(value, dict):
            rows.append((data_label(key, unit), pairs(value, unit) or "none"))
        elif key == "prevalence" and isinstance(value, float) and 0 <= value <= 1:
            rows.append((data_label(key, unit), proportion_text(_exact_share(data_summary, value))))
        else:
            rows.append((data_label(key, unit), text(value)))
    return rows


def _exact_share(data_summary: dict[str, Any], recorded: float) -> float:
    """The training prevalence from its counts where recorded (the stored share is rounded to
    4 digits: 5 of 87, 0.0575, printed 0.058 beside the sample-size line's 0.057 in a
    trial's card); the recorded share otherwise."""
    positives, n = data_summary.get("n_positive"), data_summary.get("n_train")
    if isinstance(positives, int) and isinstance(n, int) and 0 <= positives <= n > 0:
        return positives / n
    return recorded


def training_warning_lines(data_summary: dict[str, Any]) -> list[str]:
    """The warnings ``adapt`` said about the adapter's data, as recorded, one line each
    (``at training: ...``); none for an adapter that recorded none (or was saved before)."""
    said = data_summary.get(TRAINING_WARNINGS)
    if not isinstance(said, list):
        return []
    return [f"at training: {' '.join(str(w).split())}" for w in said if str(w).strip()]


def proportion_text(value: float) -> str:
    """A share of the data with two significant figures, what a few dozen patients support
    (``0.74``, not ``0.7429``; a rare outcome ``0.0040``, never ``0.00``).

    >>> [proportion_text(v) for v in (0.7429, 0.004, 0.5, 1.0, 0.0)]
    ['0.74', '0.0040', '0.50', '1.00', '0']
    """
    if value <= 0:
        return f"{value:g}"
    return f"{value:.{max(2, 1 - math.floor(math.log10(value)))}f}"


def positive_class_words(schema: dict[str, Any] | None) -> str | None:
    """What a binary table model's positive class means, from its base's ``schema``: ``1
    means num > 0`` (``--positive-above 0``), ``'M' of diagnosis`` (a two-valued label);
    None for another task, or when the base is not at hand.

    >>> positive_class_words({"task": "binary", "label": "num", "positive_above": 0.0})
    '1 means num > 0'
    """
    if not isinstance(schema, dict) or schema.get("task") != "binary":
        return None
    label, above = schema.get("label"), schema.get("positive_above")
    if not isinstance(label, str) or not label:
        return None
    if isinstance(above, int | float) and not isinstance(above, bool):
        return f"1 means {label} > {above:g}"
    classes = schema.get("classes")
    if isinstance(classes, list) and len(classes) == 2:
        return f"{label} = {str(classes[-1])!r}"
    return None


def in_order(needs: dict[str, Any]) -> list[str]:
    """The recorded validation estimates in the papers' order (O/E, slope, C), then others."""
    return [
        *(k for k in VALIDATION_WORDS if k in needs),
        *(k for k in needs if k not in VALIDATION_WORDS),
    ]


def _enough_here(supported: bool | None, reported: bool | None) -> str:
    """Whether the test samples were enough for a precise estimate, in the words a card's
    row ends with: nothing where not recorded, and "to report at all" where ``evaluate``
    reports none (too few patients, or of a class)."""
    if supported is None:
        return ""
    if supported:
        return " (enough here)"
    return " (too few here to report at all)" if reported is False else " (too few here)"


def is_sample_size(entry: Any) -> bool:
    """Whether a data summary's ``sample_size`` is what ``adapt`` records (Riley et al.)."""
    return isinstance(entry, dict) and all(
        k in entry for k in ("parameters", "n_needed", "criterion", "n_train", "met")
    )


def sample_size_rows(entry: dict[str, Any], unit: str = "patients") -> list[tuple[str, str]]:
    """What ``adapt`` recorded of Riley et al.'s criteria, as ``(field, sentence)`` rows (the
    card's and ``registry show``'s), counted as ``adapt`` printed them: in patients where a
    patient has several samples, else in the samples' ``unit`` (rows, images)."""
    met = "met" if entry["met"] else "not met"
    # as adapt counted them: patients where an id column names them (a trial's adapt said
    # "71,642 patients", registry show "71,642 rows")
    counted = entry.get("counted") if isinstance(entry.get("counted"), str) else None
    noun = "patients" if entry.get("n_train_patients") is not None else counted or unit
    trained = grouped(entry["n_train"])
    if entry.get("n_train_patients") is not None:  # repeat visits: the criteria count patients
        patients = grouped(entry["n_train_patients"])
        trained += f" {entry.get('unit', 'samples')} from {patients} patients"
    else:
        trained += f" {noun}"
    rows = [
        (
            "sample size",
            f"its {parameters_text(entry)} would need {needed_text(entry['n_needed'])} {noun} "
            f"(criterion {entry['criterion']}); {trained} trained it: {met}; {ADAPTED_READING}",
        )
    ]
    if entry.get("r2") is not None:
        r2 = entry["r2"]  # as check-data and adapt print it (0.119, 0.000157)
        shown = r2_text(r2) if isinstance(r2, float) else r2
        basis = f"{entry.get('r2_label', 'R-squared')} {shown}"
        if entry.get("r2_source"):
            basis += f", {entry['r2_source']}"
        if entry.get("outcome"):  # "prevalence 0.9", "outcome mean 156, SD 78.5"
            outcome = str(entry["outcome"])
            # of the adapter's training and test samples together, not the training prevalence
            # the summary also records, nor the test one beside the metrics
            said = outcome if outcome.startswith("outcome") else f"outcome {outcome}"
            if entry.get("n_test") == 0:  # ma.adapt's: every row of its frame trained it
                basis += f"; in the adapter's training {noun}, {said}"
            else:
                basis += f"; in the adapter's training and test {noun} together, {said}"
        rows.append(("sample size basis", basis))
    needs, supports = entry.get("test_needs") or {}, entry.get("test_supports") or {}
    reported = entry.get("test_reported") or {}
    if needs:
        told = [
            f"{VALIDATION_WORDS.get(k, k)}: {needed_text(needs[k])}"
            + _enough_here(supports.get(k), reported.get(k))
            for k in in_order(needs)
        ]
        rows.append(("sample size test", f"test {noun} for a precise {'; '.join(told)}"))
    if entry.get("criteria_notes"):  # a criterion left out, a margin large against a risk
        rows.append(("sample size caveats", "; ".join(map(str, entry["criteria_notes"]))))
    if entry.get("source"):
        rows.append(("sample size source", str(entry["source"])))
    return rows

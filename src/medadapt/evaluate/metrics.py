"""Clinical metrics with 95 % confidence intervals.

Point estimates come from scikit-learn. A proportion of patients (accuracy, sensitivity,
specificity) gets the exact binomial (Clopper-Pearson) interval of its counts: a percentile
bootstrap of 1 success in 15 reads 0.000-0.222, a lower bound the one success rules out.
A two-class AUROC's is the wider of a percentile bootstrap over patients and Newcombe's score
interval (:mod:`medadapt.auroc_interval`: the bootstrap alone runs narrow on few
patients).
The other metrics' intervals come from a percentile bootstrap over patients (vectorised in
:mod:`medadapt.evaluate.bootstrap`). A metric that the data cannot support — for
example AUROC with two negative patients — is reported as ``None`` with a plain-language note
in ``notes`` instead of a misleading number.

>>> import numpy as np
>>> y = np.array([0, 0, 0, 0, 1, 0, 1, 1, 1, 1]); p = np.linspace(0.05, 0.95, 10)
>>> m = binary_metrics(y, p, n_boot=200)
>>> round(m["auroc"], 3), m["n_positive"], len(m["auroc_ci"])
(0.96, 5, 2)

A perfect separation is not shown as certainty: AUROC keeps Newcombe's lower bound, another
interval the bootstrap cannot spread (every resample the same) is withheld with a note, and a
proportion's exact interval never has zero width.

>>> y = np.array([0] * 5 + [1] * 5); perfect = binary_metrics(y, np.linspace(0.05, 0.95, 10))
>>> [round(v, 3) for v in perfect["auroc_ci"]], [round(v, 3) for v in perfect["sensitivity_ci"]]
([0.643, 1.0], [0.478, 1.0])
>>> perfect["auprc_ci"], perfect["notes"]["auprc"][:35]
(None, 'no interval: the model separates th')
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn import metrics as skm

from medadapt.auroc_interval import widened
from medadapt.errors import ConfigError, DataError
from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.caller_warnings import (
    two_values_note,
    warns_its_caller,
    yes_no_as_measured,
)
from medadapt.evaluate.ratio_interval import widened_oe
from medadapt.results import (
    BACKWARDS,
    FLAT_SCORES,
    LOWER_IS_BETTER,  # noqa: F401 (re-exported)
    MISSED_CLASS,
    NEVER_CALLED,
    NO_BETTER_THAN_MEAN,
    ONE_CLASS,
    TASKS,
    TOO_GOOD_KEY,
    metric_digits,
    ranks_backwards,
)
from medadapt.wording import plural

MIN_PER_CLASS = 5
MIN_PATIENTS = 10
METRIC_NAMES = {  # what each task reports, in report order
    "binary": (
        "auroc",
        "auprc",
        "accuracy",
        "balanced_accuracy",
        "sensitivity",
        "specificity",
        "brier",
        "ece",
        "oe_ratio",
        "calibration_slope",
    ),
    "multiclass": ("auroc", "accuracy", "balanced_accuracy", "brier", "ece"),
    "regression": ("mae", "rmse", "r2", "calibration_slope", "calibration_in_the_large"),
}
METRIC_NAMES_ALL = frozenset(name for names in METRIC_NAMES.values() for name in names)
N_BOOT = 1000
TOO_GOOD_AUROC = 0.99
TOO_GOOD_R2 = 0.99
TOO_GOOD_MIN_PATIENTS = 20  # perfect accuracy on fewer patients can happen by chance
TOO_GOOD = "too good to be true"


def headline_metric(task: str, metrics: dict[str, Any] | None = None) -> str:
    """The metric a result is judged by: MAE for regression, else AUROC, or accuracy when
    ``metrics`` (a result's) could not estimate AUROC (one class, too few events)."""
    if task == "regression":
        return "mae"
    if metrics is not None and metrics.get("auroc") is None:
        return "accuracy"
    return "auroc"


def too_good_note(metrics: dict[str, Any], unit: str = "patient") -> str | None:
    """A warning when a result is too good for a clinical question: AUROC >= 0.99, accuracy
    1.0 on >= 20 patients of both outcomes (``unit``: what is counted; where all have one
    outcome, accuracy 1.0 says only that the model called none of them the other), or R^2 >=
    0.99. Leaks, not models,
    usually produce those: the leaks named are a table's (a column) or, for ``unit`` "image",
    an image model's, which sees only pixels."""
    reasons = []
    if (metrics.get("auroc") or 0.0) >= TOO_GOOD_AUROC:
        reasons.append(f"AUROC {metrics['auroc']:.3f}")
    one_outcome = metrics.get("n_positive") in (0, metrics.get("n"))  # accuracy: who was called so
    if (metrics.get("accuracy") == 1.0 and metrics.get("n", 0) >= TOO_GOOD_MIN_PATIENTS
            and not one_outcome):  # fmt: skip
        reasons.append(f"accuracy 1.0 on {plural(metrics['n'], unit)}")
    if (metrics.get("r2") or 0.0) >= TOO_GOOD_R2:
        reasons.append(f"R² {metrics['r2']:.3f}")
    if not reasons:
        return None
    if FLAT_SCORES in (metrics.get("notes") or {}):  # a ranking on the fifth decimal
        stalled = (" (a lower --lr; more --epochs only where training ran to its last, since "
                   "early stopping ends it sooner: a larger --patience lets it run on)"
                   if unit == "image" else "")  # fmt: skip
        return (
            f"{' and '.join(reasons)} from probabilities that barely differ: {TOO_GOOD} and of "
            f"no use as it is; a model whose training stalled gives it{stalled}, as a leak "
            f"can ({leak_examples(unit)}): check both before trusting it"
        )
    return (
        f"{' and '.join(reasons)}: {TOO_GOOD} for most clinical questions; check for a leak "
        f"({leak_examples(unit)}) before trusting it"
    )


def leak_examples(unit: str) -> str:
    """How data of ``unit`` ("row", "patient", "image") usually leak the label: a table's
    columns, or an image model's pixels (it sees nothing else); said wherever a result is too
    good to be true (a study of images was given the tables' list)."""
    if unit == "image":
        return _IMAGE_LEAKS
    return (f"a copy of the label, a record number, a value recorded after the outcome, "
            f"training {unit}s among the test {unit}s")  # fmt: skip


#: how the pixels of images can give their class away (an image model sees nothing else)
_IMAGE_LEAKS = (
    "the same images or near-copies among the training and test images, a marker or text "
    "burnt into the images that differs by class, images of one class from another scanner "
    "or site"
)


ONE_CLASS_SHARE = 0.95  # calling this share of patients one class is (nearly) one answer


def one_class_note(
    y: np.ndarray,
    pred: np.ndarray,
    names: list[str],
    threshold: float | None = None,
    unit: str = "patient",
    judged: bool = True,
) -> str | None:
    """A warning when the accuracy says little: the model calls (nearly) every patient one
    class although others are present, or its accuracy is no better than calling everyone
    the commonest class (the no-information rate). ``judged``: whether AUROC and balanced
    accuracy are reported beside it (else the warning does not send the reader to them: a
    trial's said "judge the model by AUROC and balanced accuracy", both n/a)."""
    if len(pred) == 0 or len(np.unique(y)) < 2:
        return None
    judge = "judge the model by AUROC and balanced accuracy" + (
        ", or choose another decision threshold" if threshold is not None else "")  # fmt: skip
    counts = np.bincount(y, minlength=len(names))
    if not judged and counts.min() == 0:  # a class of the model's none of them has
        judge = (f"AUROC and balanced accuracy are not reported without {unit}s of every "
                 "class: compare models by their Brier score and calibration")  # fmt: skip
    elif not judged or counts[counts > 0].min() < MIN_PER_CLASS:
        judge = (f"AUROC and balanced accuracy cannot be judged on so few {unit}s of one "
                 "class: compare models by their Brier score and calibration")  # fmt: skip
    at = f" at threshold {threshold:g}" if threshold is not None else ""
    accuracy = float(np.mean(pred == y))
    called = np.bincount(pred, minlength=len(names))
    top = int(called.argmax())
    share = called[top] / len(pred)
    if share >= ONE_CLASS_SHARE:
        who = f"every {unit} is" if share == 1 else f"{share:.0%} of {unit}s are"
        if not (y == top).any():  # a class none of them has (an adapter's new class)
            return (f"{who} called {names[top]}{at}, a class none of these {unit}s has: "
                    f"{'every call is' if share == 1 else 'those calls are'} wrong, whatever "
                    f"the accuracy ({accuracy:.3f}); {judge}")  # fmt: skip
        return (f"{who} called {names[top]}{at}: the accuracy ({accuracy:.3f}) mostly reflects "
                f"how common that class is here ({np.mean(y == top):.0%}), not skill; "
                f"{judge}")  # fmt: skip
    common = int(np.bincount(y, minlength=len(names)).argmax())
    rate = float(np.mean(y == common))
    if accuracy <= rate:
        return (f"accuracy {accuracy:.3f}{at} is no better than calling every {unit} "
                f"{names[common]} ({rate:.3f}, the no-information rate); {judge}")  # fmt: skip
    return None


MISSED_SENSITIVITY = 0.2
"""A class of the test set found in at most this share of its cases (of
:data:`MIN_PER_CLASS` or more) is said to be missed: the macro AUROC and the accuracy hide it
(a trial's image base, AUROC 0.991, found none of 30 nodules, with no word but the
per-class table's)."""


def missed_class_note(
    y: np.ndarray, pred: np.ndarray, names: list[str], out: dict[str, Any], unit: str
) -> str | None:
    """A warning naming each class present in :data:`MIN_PER_CLASS` cases or more that the
    model finds in at most :data:`MISSED_SENSITIVITY` of them; None where there is none."""
    missed = []
    for c, name in enumerate(names):
        cases = int((y == c).sum())
        found = int((pred[y == c] == c).sum())
        if cases >= MIN_PER_CLASS and found <= MISSED_SENSITIVITY * cases:
            missed.append(f"{name} is found in {found} of {cases} {unit}s (sensitivity "
                          f"{found / cases:.3f})")  # fmt: skip
    if not missed:
        return None
    if len(np.unique(y)) == 1:  # the accuracy is that class's sensitivity: it shows it
        return (f"{missed[0]}: every {unit} here is of that class, and the model almost never "
                f"calls it (the accuracy, {out['accuracy']:.3f}, is that sensitivity); do not "
                "rely on it for that class as it is")  # fmt: skip
    figures = [f"{label} ({out[key]:.3f})" for key, label in (("auroc", "AUROC"),
               ("accuracy", "accuracy")) if out.get(key) is not None]  # fmt: skip
    hidden = " and ".join(figures) or "figures"
    them = "them" if len(missed) > 1 else "it"
    show = "do not show" if len(figures) != 1 else "does not show"  # "accuracy (0.583) do not"
    return (f"{'; '.join(missed)}: the model almost never calls {them}, which the overall "
            f"{hidden} {show}; do not rely on it for "
            f"{'those classes' if len(missed) > 1 else 'that class'} as it is")  # fmt: skip


NO_SPREAD = (
    "no interval: every bootstrap resample gave the same value (to the digits shown), so its "
    "uncertainty cannot be estimated from these {unit}s (too few of them, all with one "
    "outcome, a model that gives them all the same answer, or one that is right and "
    "near-certain for every one of them: no proof that it will be elsewhere)"
)
NO_SPREAD_BALANCED = (
    "no interval: every bootstrap resample gave the same value (to the digits shown): each "
    "class's {unit}s are all found or all missed (a sensitivity of 0 or 1 per class), so "
    "every resample averages the same shares; read each class's sensitivity and its interval"
)
"""Balanced accuracy's zero-width interval: a trial's 2/3 came from per-class sensitivities
of 1, 0 and 1, which :data:`NO_SPREAD`'s reasons did not name."""
UNDEFINED = (
    "no interval: in more than 1 in 10 bootstrap resamples of these {unit}s it cannot be "
    "computed ({why}), so its uncertainty is not estimated; treat the value as very uncertain"
)
#: why a metric cannot be computed on a bootstrap resample, where it is not a missing class
_UNDEFINED_BECAUSE = {
    "calibration_slope": "the predictions separate the resample's outcomes perfectly, so no "
    "slope can be fitted, or it lacks one of the classes",
}
_MISSING_CLASS = "a resample without one of the classes"
#: metrics whose value, where the bootstrap cannot give it an interval, is not reported at all:
#: a calibration slope fitted on nearly separated patients runs off (28.8 on 18 images)
_UNSTABLE_WITHOUT_INTERVAL = frozenset({"calibration_slope"})
UNSTABLE = (
    "not reported: in more than 1 in 10 bootstrap resamples of these {unit}s it cannot be "
    "computed ({why}), so the value on these {unit}s is too unstable to report"
)
#: a calibration slope's upper 95% bound at least this high and this many times the slope:
#: resamples nearly separated gave slopes without bound (a trial's 0.72, 0.52-16.3)
RUNAWAY_SLOPE, RUNAWAY_TIMES, RUNAWAY_LOPSIDED = 3.0, 4.0, 8.0
RUNS_OFF = (
    "the interval's upper end runs off: in some bootstrap resamples the predictions separate "
    "the outcomes of these {unit}s almost perfectly, and a slope fitted there grows without "
    "bound; the slope is barely estimable here: read only its lower end"
)
SLOPE_MARGIN = 0.2  # a slope off 1 by this much is miscalibration worth a word either way
IMPRECISE_SLOPE = (
    "imprecise: the interval holds slopes well below 1 and well above 1 (below 0.8 and above "
    "1.2), so these {unit}s cannot tell whether the predictions are too extreme or too "
    "moderate; a precise slope takes an interval about 0.2 wide (Riley et al. 2021), many more "
    "test {unit}s ('medadapt check-data' counts them for a binary outcome)"
)
"""A trial: check-data called 60 test patients too few for a precise calibration slope, and
evaluate then printed 0.552 (-0.144 to 1.488) with an empty note."""
PERFECT = (
    "no interval: the model separates these {unit}s perfectly in every bootstrap resample, so "
    "its uncertainty cannot be estimated from them; a perfect score is rarely real: check for "
    "a leak"
)
BRACKETS = (
    "Brackets are 95% confidence intervals: exact binomial (Clopper-Pearson) for accuracy, "
    "sensitivity and specificity, for AUROC and the observed/expected ratio the wider of a "
    "bootstrap over {noun} and the analytic interval (Newcombe's; Riley et al.'s), a "
    "bootstrap over {noun} for the others."
)
"""How a report says where its intervals come from (``noun``: what was resampled)."""
OUTSIDE = (
    "the estimate lies {side} its 95% bootstrap interval: {why}, so the interval is shifted "
    "{shift} and only a rough range"
)
#: why a metric's bootstrap is biased, where it is known
_BIASED_BECAUSE = {
    "ece": "resamples repeat {unit}s, and a calibration error measured on repeats is larger "
    "than on distinct {unit}s (the bias is largest on small samples)",
}
#: scores whose best value is a perfect separation (a zero-width interval there is not "too few")
_PERFECT_AT = {"auroc": 1.0, "auprc": 1.0}


def exact_interval(successes: float, trials: float) -> list[float]:
    """The exact binomial (Clopper-Pearson) 95 % interval of ``successes / trials`` (from the
    beta distribution, so an effective sample size need not be whole)."""
    low = 0.0 if successes <= 0 else stats.beta.ppf(0.025, successes, trials - successes + 1)
    high = 1.0 if successes >= trials else stats.beta.ppf(0.975, successes + 1, trials - successes)
    return [float(low), float(high)]


def proportion_interval(hits: Any, patients: Any = None) -> list[float]:
    """The exact 95 % interval of the proportion ``mean(hits)``; where patients have several
    samples (``patients``: one label per sample), Korn and Graubard's (Survey Methodology
    1998;24:193-201), as R's ``survey::svyciprop(method="beta")`` computes it: the same
    interval at the effective sample size (the binomial variance over the variance between
    patients, at most the number of samples), times the degrees-of-freedom correction
    (t of n - 1 over t of patients - 1, squared). Where the variance between patients cannot
    be estimated (one patient) or every sample agrees, the effective size is the number of
    patients: 35 of 35 images from 7 patients reads as 7 of 7, not as 35 independent
    successes."""
    hits = np.asarray(hits, dtype=float)
    n, successes = len(hits), float(hits.sum())
    clusters = bs.cluster_index(patients, n)
    if clusters is None:
        return exact_interval(round(successes), n)
    g, p = int(clusters.max()) + 1, successes / n
    if g < 2 or p in (0.0, 1.0):
        return exact_interval(p * g, g)
    per = np.bincount(clusters, weights=hits, minlength=g)
    size = np.bincount(clusters, minlength=g)
    between = g / (g - 1) * float(((per - p * size) ** 2).sum()) / n**2
    effective = min(float(n), p * (1 - p) / between) if between > 0 else float(n)
    effective *= (stats.t.ppf(0.975, n - 1) / stats.t.ppf(0.975, g - 1)) ** 2
    return exact_interval(p * effective, effective)


def _honest_intervals(out: dict[str, Any], notes: dict[str, str],
                      counts: dict[str, tuple[np.ndarray, Any]], unit: str) -> None:  # fmt: skip
    """A proportion's interval (``counts``: name -> (hits, patients), a 0/1 per trial and its
    patient) is the exact binomial one (:func:`proportion_interval`): the percentile
    bootstrap's bounds can contradict the counts (0 with one success), and it has zero width
    at 35 of 35 (which reads as certainty). Another bootstrap interval of zero width is
    dropped, with a note saying why, and so is a value the bootstrap could not give an
    interval (too many resamples without a class: few patients of it). An estimate outside
    its own interval (a bootstrap biased by repeated patients; ECE's interval is re-centred
    on it instead, see :func:`_ece_with_interval`) gets a note too."""
    for name, (hits, patients) in counts.items():
        if out.get(name) is not None and len(hits) > 0:
            out[f"{name}_ci"] = proportion_interval(hits, patients)
    for name in [k for k in METRIC_NAMES_ALL if out.get(k) is not None]:
        if out.get(f"{name}_ci") is None and name in _UNSTABLE_WITHOUT_INTERVAL:
            out[name] = None  # a slope of 28.8 on 18 images: no figure at all is more honest
            notes[name] = UNSTABLE.format(unit=unit, why=_UNDEFINED_BECAUSE[name])
        elif out.get(f"{name}_ci") is None:
            why = _UNDEFINED_BECAUSE.get(name, _MISSING_CLASS)
            notes.setdefault(name, UNDEFINED.format(unit=unit, why=why))
    for name in list(out):
        interval = out.get(f"{name}_ci") if not name.endswith("_ci") else None
        if not interval or not _one_value_shown(name, out[name], interval):
            continue
        if name not in counts:
            out[f"{name}_ci"] = None
            perfect = _PERFECT_AT.get(name) is not None and out[name] == _PERFECT_AT[name]
            spread = NO_SPREAD_BALANCED if name == "balanced_accuracy" else NO_SPREAD
            notes.setdefault(name, (PERFECT if perfect else spread).format(unit=unit))
    if _runs_off(out.get("calibration_slope"), out.get("calibration_slope_ci")):
        notes.setdefault("calibration_slope", RUNS_OFF.format(unit=unit))
    elif _both_ways(out.get("calibration_slope_ci")):
        notes.setdefault("calibration_slope", IMPRECISE_SLOPE.format(unit=unit))
    _note_shifted_intervals(out, notes, unit)


def _balanced_within_its_parts(out: dict[str, Any], notes: dict[str, str], unit: str) -> None:
    """Balanced accuracy's interval at least as wide as the mean of its two parts' exact
    intervals: where every patient of one class is called right (9 of 9), no bootstrap
    resample varies that half, and a trial's balanced accuracy read 0.944 (0.889–1.000)
    beside a sensitivity of 1.000 (0.541–1.000), its firmest-looking figure its least
    certain. Where the bootstrap gave no interval at all (each half all right or all wrong),
    the mean of the exact ones is its interval."""
    parts = out.get("sensitivity_ci"), out.get("specificity_ci")
    if out.get("balanced_accuracy") is None or None in parts:
        return
    low = (parts[0][0] + parts[1][0]) / 2
    high = (parts[0][1] + parts[1][1]) / 2
    given = out.get("balanced_accuracy_ci")
    if given is None and notes.get("balanced_accuracy") == NO_SPREAD_BALANCED.format(unit=unit):
        notes.pop("balanced_accuracy")
        given = [low, high]
    if given is not None:
        out["balanced_accuracy_ci"] = [float(min(given[0], low)), float(max(given[1], high))]


def _one_value_shown(name: str, value: Any, interval: Sequence[float]) -> bool:
    """Whether ``interval``'s ends are one value as printed (``0.437 (0.437–0.437)``: a
    trial's calibration error, its ends 1e-4 apart): shown so, it reads as certainty."""
    digits = metric_digits(name, value)
    return bool(round(float(interval[0]), digits) == round(float(interval[1]), digits))


def _both_ways(interval: Sequence[float] | None) -> bool:
    """Whether a calibration slope's interval holds both a clearly too steep and a clearly too
    flat slope (:data:`IMPRECISE_SLOPE`)."""
    return bool(interval) and interval[0] < 1 - SLOPE_MARGIN and interval[1] > 1 + SLOPE_MARGIN


def _runs_off(slope: float | None, interval: Sequence[float] | None) -> bool:
    """Whether a calibration slope's interval runs off upwards (:data:`RUNS_OFF`): its upper
    end high, many times the slope, and far further above it than the lower end lies below
    (a wide but even interval, 1.61 (0.15-6.50), is only uncertain)."""
    if slope is None or not interval or slope <= 0:
        return False
    low, high = interval
    lopsided = high - slope >= RUNAWAY_LOPSIDED * max(slope - low, 1e-9)
    return high >= max(RUNAWAY_SLOPE, RUNAWAY_TIMES * slope) and lopsided


def _note_shifted_intervals(out: dict[str, Any], notes: dict[str, str], unit: str) -> None:
    """Say why an estimate lies outside its own percentile interval (a biased bootstrap)."""
    for name in [k for k in out if out.get(f"{k}_ci") and out.get(k) is not None]:
        low, high = out[f"{name}_ci"]
        if low - 1e-12 <= out[name] <= high + 1e-12:
            continue
        why = _BIASED_BECAUSE.get(name, "this metric is biased when {unit}s are resampled")
        below = out[name] < low
        notes.setdefault(name, OUTSIDE.format(
            side="below" if below else "above", shift="upwards" if below else "downwards",
            why=why.format(unit=unit)))  # fmt: skip


def backwards_note(metrics: dict[str, Any], unit: str = "patient") -> str | None:
    """A warning when a model ranks ``unit``s backwards: its AUROC's whole 95% interval lies
    below 0.5 (worse than a coin). Swapped classes, inverted intensities or a population
    unlike the model's usually produce that; the figure must not be read as a weak model."""
    if not ranks_backwards(metrics):
        return None
    interval = metrics["auroc_ci"]
    return (
        f"AUROC {metrics['auroc']:.3f} (95% CI up to {interval[1]:.3f}) is below 0.5: the "
        f"model ranks these {unit}s backwards, worse than chance; check that the classes are "
        "not swapped (--positive-class), that images are not inverted, and that these "
        f"{unit}s are like the model's; do not use it here as it is"
    )


def _with_plausibility(out: dict[str, Any], unit: str) -> dict[str, Any]:
    for key, note in (
        (TOO_GOOD_KEY, too_good_note(out, unit)),
        (BACKWARDS, backwards_note(out, unit)),
    ):
        if note:
            out.setdefault("notes", {})[key] = note
    return out


def resampled_together(metrics: dict[str, Any], noun: str = "rows") -> str | None:
    """How the intervals treat patients with several samples, when some had: "These 60 rows
    come from 12 patients: ..." (None when every sample was its own patient)."""
    n, patients = metrics.get("n"), metrics.get("n_patients")
    if not n or not patients or patients >= n:
        return None
    exact = "" if "mae" in metrics else " (and the exact intervals use the effective sample size)"
    return (
        f"These {n:,} {noun} come from {patients:,} patients: a patient's {noun} are not "
        f"independent, so every interval resamples whole patients{exact}."
    )


ONE_PER_PATIENT = "one_sample_per_patient"
"""The key recorded with the metrics when the samples named every patient (a patient column,
a DICOM PatientID) and each patient had one: the intervals then resample patients, said so,
not "each row is taken as one patient" (a review: a report said it of a base that names its
patients). Set by :func:`medadapt.workflows.scoring.score_samples`, which knows whether the
patients were named (an image's own file stands in for an unnamed one). A word, never a
number: the registry shows numbers beside the metrics."""


def _weights(out: dict[str, Any], n: int, n_boot: int, seed: int,
             clusters: np.ndarray | None) -> np.ndarray:  # fmt: skip
    """The bootstrap's resample weights, drawing whole patients where ``clusters`` name them
    (then ``out["n_patients"]`` counts them: 60 test rows may be 12 patients)."""
    if clusters is not None:
        out["n_patients"] = int(clusters.max()) + 1
    return bs.resample_weights(n, n_boot, seed, clusters)


def count_units(rows: np.ndarray, clusters: np.ndarray | None) -> int:
    """How many samples ``rows`` (a mask) holds, or patients where ``clusters`` name them: the
    minimum counts that decide what is reported count patients (20 positive images from 2
    patients are 2 positives)."""
    return int(rows.sum()) if clusters is None else int(np.unique(clusters[rows]).size)


def sampled_unit(unit: str, clusters: np.ndarray | None) -> str:
    """What one sample is called where patients have several: a table's row, not a patient."""
    return "row" if clusters is not None and unit == "patient" else unit


def counted_unit(unit: str, clusters: np.ndarray | None) -> str:
    """What the minimum counts count: the samples' unit, or patients."""
    return unit if clusters is None else "patient"


def _of(patients: Any, rows: np.ndarray) -> Any:
    """The patients of ``rows`` (None stays None)."""
    return None if patients is None else np.asarray(patients)[rows]


def _interval(values: np.ndarray) -> list[float] | None:
    return bs.percentile_interval(values)


def _too_few(count: int, what: str, n: int, minimum: int, unit: str) -> str:
    return (
        f"not reported: {count} {what} among {plural(n, unit)}; at least {minimum} are needed "
        "for a meaningful estimate"
    )


def _too_small(task: str, n: int, unit: str, patients: int | None = None,
               **counts: Any) -> dict[str, Any]:  # fmt: skip
    """The report for a group too small for any estimate: counts and a note only
    (``patients``: how many patients the ``n`` samples come from, where they repeat)."""
    if patients is None:
        note = f"not reported: only {plural(n, unit)} (at least {MIN_PATIENTS} needed)"
    else:
        rows = "row" if unit == "patient" else unit  # a table's samples are its rows
        note = (f"not reported: only {plural(patients, 'patient')} ({plural(n, rows)}; at "
                f"least {MIN_PATIENTS} patients needed)")  # fmt: skip
        counts["n_patients"] = patients
    names = METRIC_NAMES[task]
    out: dict[str, Any] = {"n": n, **counts}
    for name in names:
        out[name], out[f"{name}_ci"] = None, None
    out["notes"] = {"all": note}
    return out


def expected_calibration_error(y_true: np.ndarray, y_prob: np.ndarray, n_bins: int = 10) -> float:
    """ECE of binary probabilities with equal-width bins."""
    weights = np.ones((1, len(y_true)))
    return float(bs.weighted_ece(weights, y_true.astype(float), y_prob, n_bins)[0])


ECE_INTERVAL_MIN = 50
"""Below this many patients (or images) the binned calibration error gets no interval: its 10
bins hold one or two each, and the resamples' spread, re-centred, can look precise (a
trial's 12 patients: 0.013-0.016)."""


def _ece_with_interval(
    W: np.ndarray,
    correct: np.ndarray,
    confidence: np.ndarray,
    everyone: int,
    counted: str,
    sampled: str | None = None,
) -> tuple[float, list[float] | None, str | None]:
    """The ECE of ``confidence`` against ``correct`` (binary: y; multiclass: top-1 hits), its
    95% interval from the resamples ``W`` and, where it has none, why: on fewer than
    :data:`ECE_INTERVAL_MIN` of ``everyone`` (``counted``: patients, images) none is given,
    said with the samples binned where they are more (``sampled``: what one is, "image": a
    radiology trial read "on 12 patients" beside tables of their 24 images).
    The interval is the percentile one re-centred on the estimate
    (:func:`~medadapt.evaluate.bootstrap.recentred_interval`). Resamples repeat
    patients, which inflates a binned ECE, so the plain percentile interval sits above the
    estimate (``0.016 (0.016-0.184)``: the estimate at its lower edge, or below it); moved by
    the bootstrap's bias, it holds the estimate and keeps the resamples' spread."""
    estimate = float(bs.weighted_ece(np.ones((1, len(correct))), correct, confidence)[0])
    if everyone < ECE_INTERVAL_MIN:
        on = plural(everyone, counted)
        if sampled and sampled != counted and len(correct) > everyone:
            on = f"{plural(len(correct), sampled)} of {on}"
        return estimate, None, (  # (it read "rests on one or two a bin"; no count of each:
            # a subgroup's notes show none under 5, which read "about fewer than 5 a bin")
            f"no interval: a calibration error over 10 probability bins on {on} (fewer than "
            f"{ECE_INTERVAL_MIN}) leaves too few in each bin")  # fmt: skip
    interval = bs.recentred_interval(bs.weighted_ece(W, correct, confidence), estimate)
    return estimate, interval, None


def _instead_of_ece(note: str, out: dict[str, Any]) -> str:
    """The ECE's no-interval ``note`` with what to read instead: the calibration slope where
    ``out`` reports one, else none to point to (a trial's three-class adapter was told to
    read the calibration slope, which none is reported for several classes, and a binary
    one's read "n/a" beside it)."""
    if out.get("calibration_slope") is not None:
        return f"{note}; read the calibration slope instead"
    return f"{note}, and no calibration slope is reported here: read the ECE as a rough guide only"


FLAT_SPREAD = 0.01
"""The spread of predicted probabilities (the middle 90% of cases, on the class that
decides) below which a model is said to give every case nearly the same probability."""


def _note_no_information(
    out: dict[str, Any], notes: dict[str, str], counts: np.ndarray, named: list[str], unit: str
) -> None:
    """The accuracy's note where its interval reaches the share of the commonest class (the
    accuracy of calling everyone that class) though the accuracy itself is above it: a
    trial's four-class adapter, 0.317 (0.203–0.450) with neither AUROC nor balanced accuracy
    reported, was shown bare where calling everyone class '1' scored 0.283. Nothing where a
    note is there already (the whole result's one-class note says it where the accuracy is
    no better)."""
    interval = out.get("accuracy_ci")
    if ONE_CLASS in notes or "accuracy" in notes or interval is None or not counts.sum():
        return
    common = int(counts.argmax())  # rows, as the accuracy counts them
    rate = float(counts[common] / counts.sum())
    if out["accuracy"] > rate >= interval[0]:
        notes["accuracy"] = (
            f"not shown to be better than calling every {unit} {named[common]} ({rate:.3f}, "
            "the no-information rate): its interval reaches it; judge the model by each "
            "class's sensitivity"
        )


def flat_spread(scores: Any) -> tuple[float, float] | None:
    """The middle 90% of ``scores`` (N,) or (N, K): its two ends where the probabilities
    hardly vary (within :data:`FLAT_SPREAD`; several classes: the most varying class's), or
    None where they vary enough to rank cases, or take two values only, or are fewer than 3.

    >>> flat_spread([0.4675, 0.4676, 0.4677, 0.4679]) is not None, flat_spread([0.1, 0.5, 0.9])
    (True, None)
    """
    values = np.asarray(scores, dtype=float)
    if np.unique(values).size <= 2 or len(values) < 3:
        return None
    columns = values.reshape(len(values), -1)  # several classes: each class's probability
    ends = np.percentile(columns, [5, 95], axis=0)  # (a trial's confident model gave every
    widest = int(np.argmax(ends[1] - ends[0]))  # wine its top class at 0.976: flagged as flat)
    low, high = float(ends[0, widest]), float(ends[1, widest])
    return None if high - low >= FLAT_SPREAD else (low, high)


def spread_text(low: float, high: float) -> str:
    """``0.48441 and 0.48443``: two ends with the decimals that tell them apart (4 to 8).

    >>> spread_text(0.48441, 0.48443), spread_text(0.4675, 0.4679)
    ('0.48441 and 0.48443', '0.4675 and 0.4679')
    """
    places = 4
    while places < 8 and round(low, places) == round(high, places):
        places += 1
    return f"{low:.{places}f} and {high:.{places}f}"


def _note_flat_scores(
    notes: dict[str, str], scores: np.ndarray, unit: str, *, measured: bool = True
) -> None:
    """A whole-result note where the predicted probabilities hardly vary (the middle 90% of
    cases within :data:`FLAT_SPREAD`; several classes: every class's probability, the most
    varying one said; a confident model whose top class's probability is 0.976 for every
    case, whichever the class, tells them apart): a
    trial's image adapter gave 120 images 0.48445 to 0.48452, and was reported with AUROC
    0.929 and ECE 0.016, a ranking on the fifth decimal and a calibration that only says how
    common the classes are. Scores of two values are the two-values note's. Not
    ``measured`` (too few cases for any figure), from three cases: a trial's adapter gave six
    images 0.554 to 0.555, and each stored report read "Finding: class abnormal"."""
    spread = flat_spread(scores)
    if spread is None:
        return
    between = spread_text(*spread)
    figures = ("its AUROC ranks them on differences too small to act on, and its calibration "
               "figures say how common the classes are, not how well it predicts; "
               if measured else "")  # fmt: skip
    notes[FLAT_SCORES] = (
        f"the model gives nearly the same probability to every {unit} (the middle 90% between "
        f"{between}): {figures}nothing here shows that it tells "
        f"{unit}s apart"
    )


def _note_two_values(notes: dict[str, str], scores: np.ndarray, auroc: float | None) -> None:
    """The two-values note (:func:`two_values_note`) first among the AUROC's notes."""
    if two_values := two_values_note(scores, auroc):
        notes["auroc"] = "; ".join(filter(None, (two_values, notes.get("auroc"))))


def _recorder(out: dict[str, Any], notes: dict[str, str]) -> Callable[..., None]:
    """``put(name, value, samples, note=None)``: a point estimate into ``out`` with its CI from
    the bootstrap ``samples`` (None when not estimable), and why not into ``notes``."""

    def put(name: str, value: float | None, samples: np.ndarray | None, note: str | None = None,
            interval: list[float] | None = None):  # fmt: skip
        out[name] = None if value is None else float(value)
        if interval is None and value is not None and samples is not None:
            interval = _interval(samples)
        out[f"{name}_ci"] = None if value is None else interval
        if note:
            notes[name] = note

    return put


def _rarer_class_note(
    n_pos: int,
    n_neg: int,
    min_per_class: int,
    unit: str,
    named: list[str | None] | None = None,
    total: int | None = None,
) -> str:
    """Why a metric that needs both classes is not reported: the rarer class's count
    (``named``: the two classes' names, said instead of positives and negatives; ``total``:
    all counted, where a patient may be in both classes)."""
    index, count = (1, n_pos) if n_pos <= n_neg else (0, n_neg)
    return _too_few(count, _members(count, index, named, unit), total or n_pos + n_neg,
                    min_per_class, unit)  # fmt: skip


def _members(count: int, index: int, named: list[str | None] | None, unit: str) -> str:
    """What ``count`` samples of class ``index`` (1: the positive one) are called: positives
    or negatives; by name when ``named`` (images of class 'mass'; one: image of class 'mass';
    a name None: the other classes, against which one is scored)."""
    if not named:
        return ("negative", "positive")[index] + _s(count)
    if named[index] is None:
        return f"{unit}{_s(count)} of the other classes"
    return f"{unit}{_s(count)} of class {named[index]!r}"


def _s(count: int) -> str:
    return "s" if count != 1 else ""


# ----- inputs --------------------------------------------------------------------------------
#: what each task's labels and scores are, in the words of a refusal
_LABELS = {
    "binary": "0/1, 1 for positive",
    "multiclass": "class indices 0 to K-1",
    "regression": "the measured values",
}
_TO_LABELS = "turn them into numbers first (ma.true_labels(schema, frame) does, for a table)"


def _numbers(values: Any, what: str, expected: str, fix: str) -> np.ndarray:
    """``values`` as floats (a missing value, None or pd.NA, as NaN), refused by dtype when
    they hold text: numpy's cast error would echo the offending value."""
    array = np.asarray(values)
    if array.dtype == object:
        array = np.where(pd.isna(array), np.nan, array)
    try:
        return array.astype(float)
    except (TypeError, ValueError):
        raise DataError(
            f"{what} must be numbers ({expected}); got text (dtype {array.dtype}): {fix}"
        ) from None


def checked_inputs(task: str, y_true: Any, scores: Any, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores as the metrics of ``task`` need them, checked in one place for the
    three metric functions: scikit-learn's own errors name neither the argument nor the fix
    (and a label of 0.7 would silently count as a negative). Each refusal names the problem
    by counts, shapes and dtypes, never by a label or a score."""
    y = _numbers(y_true, "labels", _LABELS[task], _TO_LABELS)
    expected = "(N, K) probabilities" if task == "multiclass" else f"one per {unit}"
    p = _numbers(scores, "scores", expected, "pass what ma.predict returns")
    if y.ndim != 1:
        raise DataError(f"labels must be one value per {unit} (1-D), got shape {y.shape}")
    _check_score_shape(task, p, unit)
    if len(y) != len(p):
        raise DataError(
            f"labels and scores must have one value per {unit} each; got {len(y)} labels and "
            f"{len(p)} scores"
        )
    _check_finite(y, p, unit)
    if task == "binary":
        _check_binary(y, p, unit)
    elif task == "multiclass":
        _check_class_indices(y, p.shape[1])
        p = _probability_rows(p, unit)
    return y, p


def _check_score_shape(task: str, p: np.ndarray, unit: str) -> None:
    """One score per case (binary, regression), or one row of probabilities (multiclass)."""
    if task == "multiclass":
        if p.ndim != 2:
            raise DataError(
                f"scores must be (N, K) probabilities, a row per {unit} and a column per class; "
                f"got shape {p.shape}"
            )
        return
    if p.ndim == 1:
        return
    what = f"one probability per {unit} (P(positive))" if task == "binary" else (
        f"one predicted value per {unit}")  # fmt: skip
    fix = ""
    if task == "binary" and p.ndim == 2 and p.shape[1] == 2:
        fix = ": pass proba[:, 1]"
    elif task == "binary" and p.ndim == 2 and p.shape[1] > 2:
        fix = f": for {p.shape[1]} classes use compute_metrics('multiclass', y, proba)"
    raise DataError(f"scores must be {what}, got shape {p.shape}{fix}")


def _check_finite(y: np.ndarray, p: np.ndarray, unit: str) -> None:
    """A missing label or score would be dropped or propagated differently by each metric."""
    for what, values in (("labels", y), ("scores", p)):
        finite = np.isfinite(values)
        bad = int((~(finite if finite.ndim == 1 else finite.all(axis=1))).sum())  # per case
        if bad:
            fix = f"score every {unit}, or drop" if what == "scores" else "drop"
            raise DataError(
                f"{bad} of {len(values)} {what} are missing (NaN) or infinite: {fix} those "
                f"{unit}s from labels and scores alike"
            )


def _check_binary(y: np.ndarray, p: np.ndarray, unit: str) -> None:
    """Labels 0 or 1 (another code, a measured value, several classes: not this report) and
    probabilities in [0, 1] (a logit would make the Brier score and ECE meaningless)."""
    other = int((~np.isin(y, (0.0, 1.0))).sum())
    if other:
        raise DataError(
            f"labels must be 0 (negative) or 1 (positive); {other} of {len(y)} are not "
            f"({len(np.unique(y))} distinct values in all): for a measured outcome use "
            "compute_metrics('regression', y, predictions), for three or more classes "
            "compute_metrics('multiclass', y, proba); turn other codes into 0/1 first"
        )
    outside = int(((p < 0) | (p > 1)).sum())
    if outside:
        raise DataError(
            f"scores must be probabilities between 0 and 1 (P(positive)); {outside} of "
            f"{len(p)} are outside: apply a sigmoid to a model's logits first "
            "(scipy.special.expit)"
        )


def _probability_rows(p: np.ndarray, unit: str) -> np.ndarray:
    """Each row class probabilities, between 0 and 1 and summing to 1 (within a hundredth:
    a half-precision softmax, or probabilities rounded to 3 decimals in a file, pass): a
    review's scores that did not were refused by scikit-learn's own error, from deep inside
    it, naming neither the argument nor the fix."""
    off = int((((p < 0) | (p > 1)).any(axis=1) | (np.abs(p.sum(axis=1) - 1) > 0.01)).sum())
    if off:
        raise DataError(
            f"scores must be class probabilities, each row between 0 and 1 and summing to 1; "
            f"{off} of {len(p)} {unit}s' rows are not: apply a softmax to a model's logits "
            "first (scipy.special.softmax(logits, axis=1)), or divide each row by its sum"
        )
    if np.abs(p.sum(axis=1) - 1).max() > 1e-6:  # scikit-learn asks them to sum to 1 closely
        return p / p.sum(axis=1, keepdims=True)  # a copy: the caller's array stays as given
    return p


def _check_class_indices(y: np.ndarray, k: int) -> None:
    """Each label a column of the probabilities (another would index past them)."""
    other = int(((y % 1 != 0) | (y < 0) | (y >= k)).sum())
    if other:
        raise DataError(
            f"labels must be class indices 0 to {k - 1} (a column of scores each); {other} of "
            f"{len(y)} are not"
        )


@warns_its_caller
def binary_metrics(
    y_true: Any,
    y_score: Any,
    *,
    threshold: float = 0.5,
    n_boot: int = N_BOOT,
    seed: int = 0,
    min_per_class: int = MIN_PER_CLASS,
    unit: str = "patient",
    class_names: Sequence[str | None] | None = None,
    patients: Any = None,
) -> dict[str, Any]:
    """AUROC, AUPRC, accuracy, balanced accuracy, sensitivity, specificity (at ``threshold``),
    Brier score and ECE, each with a 95 % CI, for probabilities ``y_score`` of class 1
    (``unit``: what the notes count, "patient" or "image"). ``class_names`` (two): the notes
    name the classes ("3 images of class 'mass'") instead of positives and negatives, for
    two classes neither of which is "the positive one" (two image findings). ``patients``:
    each sample's patient, where one may have several (their samples are resampled together,
    and ``n_patients`` counts them).

    Called from Python, it warns (``UserWarning``, at the calling line) when the result is too
    good to be true (``notes["too_good"]``), the AUROC comes from scores of two distinct
    values (hard predictions; said in ``notes["auroc"]``), the model calls (nearly) every
    patient one class (``notes["one_class"]``) or ranks them backwards
    (``notes["backwards"]``)."""
    if not 0.0 < threshold < 1.0:  # the command line refuses it too (--threshold)
        raise ConfigError(
            f"threshold must be a probability between 0 and 1 (the operating point for "
            f"sensitivity and specificity); got {threshold:g}"
        )
    y, p = checked_inputs("binary", y_true, y_score, unit)
    y = y.astype(int)
    n, n_pos = len(y), int(y.sum())
    clusters = bs.cluster_index(patients, n)
    everyone = count_units(np.ones(n, dtype=bool), clusters)
    if everyone < MIN_PATIENTS:
        small = _too_small("binary", n, unit, None if clusters is None else everyone,
                           n_positive=n_pos, prevalence=n_pos / n if n else None)  # fmt: skip
        _note_flat_scores(small["notes"], p, sampled_unit(unit, clusters), measured=False)
        return small
    pred = (p >= threshold).astype(int)
    out: dict[str, Any] = {
        "n": n,
        "n_positive": n_pos,
        "prevalence": n_pos / n if n else None,
        "threshold": threshold,
    }
    notes: dict[str, str] = {}
    put = _recorder(out, notes)
    W = _weights(out, n, n_boot, seed, clusters)
    counted = counted_unit(unit, clusters)
    pos_count, neg_count = count_units(y == 1, clusters), count_units(y == 0, clusters)
    both = min(pos_count, neg_count) >= min_per_class
    named = list(class_names) if class_names is not None and len(class_names) == 2 else None
    few_note = _rarer_class_note(pos_count, neg_count, min_per_class, counted, named, everyone)
    if both:
        put("auroc", skm.roc_auc_score(y, p), bs.weighted_auroc(W, y, p))
        out["auroc_ci"] = widened(out["auroc_ci"], out["auroc"], pos_count, neg_count)
        put("auprc", skm.average_precision_score(y, p), bs.weighted_average_precision(W, y, p))
    else:
        put("auroc", None, None, few_note)
        put("auprc", None, None, few_note)
    # the figures at the threshold from one confusion matrix (scikit-learn's): a call per
    # figure validated the same inputs four times over, a third of a result's time
    (tn, fp), (fn, tp) = skm.confusion_matrix(y, pred, labels=[0, 1])
    sensitivity, specificity = _share(tp, tp + fn), _share(tn, tn + fp)
    put("accuracy", (tp + tn) / n, bs.weighted_mean(W, (pred == y).astype(float)))
    sens = bs.weighted_recall(W, y, pred, 1)
    spec = bs.weighted_recall(W, y, pred, 0)
    if both:
        put("balanced_accuracy", (sensitivity + specificity) / 2, (sens + spec) / 2)
    else:
        put("balanced_accuracy", None, None, few_note)
    if pos_count >= min_per_class:
        put("sensitivity", sensitivity, sens)
    else:
        what = _members(pos_count, 1, named, counted)
        put("sensitivity", None, None,
            _too_few(pos_count, what, everyone, min_per_class, counted))  # fmt: skip
    if neg_count >= min_per_class:
        put("specificity", specificity, spec)
    else:
        what = _members(neg_count, 0, named, counted)
        put("specificity", None, None,
            _too_few(neg_count, what, everyone, min_per_class, counted))  # fmt: skip
    put("brier", skm.brier_score_loss(y, p), bs.weighted_mean(W, (p - y) ** 2))
    ece, ece_ci, no_interval = _ece_with_interval(W, y.astype(float), p, everyone, counted,
                                                  sampled_unit(unit, clusters))  # fmt: skip
    put("ece", ece, None, interval=ece_ci, note=no_interval)
    _risk_calibration(put, y, p, W, few_note if not both else None, unit)
    if no_interval:  # in its place among the notes, once the slope is known
        notes["ece"] = _instead_of_ece(no_interval, out)
    called = ([f"class {c!r}" if c is not None else "another class" for c in named] if named
              else ["negative", "positive"])  # fmt: skip
    one_class = one_class_note(y, pred, called, threshold, sampled_unit(unit, clusters),
                               judged=both)  # fmt: skip
    if one_class:
        notes[ONE_CLASS] = one_class
    hits = {"accuracy": (pred == y, patients)}
    for name, label in (("sensitivity", 1), ("specificity", 0)):
        hits[name] = (pred[y == label] == label, _of(patients, y == label))
    _honest_intervals(out, notes, hits, unit)
    _balanced_within_its_parts(out, notes, unit)
    _note_two_values(notes, p, out["auroc"])
    _note_flat_scores(notes, p, unit)
    out["notes"] = notes
    return _with_plausibility(out, unit)


def _share(part: int, whole: int) -> float:
    """``part / whole``, 0 where ``whole`` is 0 (scikit-learn's ``zero_division=0``).

    >>> _share(3, 4), _share(0, 0)
    (0.75, 0.0)
    """
    return float(part / whole) if whole else 0.0


def class_label(value: Any) -> str:
    """A class as a multiclass model's notes name it (``class '2'``)."""
    return f"class {value!r}"


def multiclass_metrics(
    y_true: Any,
    y_proba: Any,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    min_per_class: int = MIN_PER_CLASS,
    unit: str = "patient",
    class_names: Sequence[str] | None = None,
    patients: Any = None,
) -> dict[str, Any]:
    """Macro one-vs-rest AUROC, accuracy, balanced accuracy, Brier score and top-label ECE,
    with CIs; ``y_proba`` has shape (N, K); ``class_names`` (K) name the classes in the notes
    (else "class 0" ...); ``patients`` as :func:`binary_metrics` takes them."""
    y, proba = checked_inputs("multiclass", y_true, y_proba, unit)
    y = y.astype(int)
    n, k = proba.shape
    pred = proba.argmax(axis=1)
    counts = np.bincount(y, minlength=k)
    named = ([class_label(c) for c in class_names] if class_names is not None
             and len(class_names) == k else [f"class {c}" for c in range(k)])  # fmt: skip
    clusters = bs.cluster_index(patients, n)
    everyone = count_units(np.ones(n, dtype=bool), clusters)
    if everyone < MIN_PATIENTS:
        small = _too_small("multiclass", n, unit, None if clusters is None else everyone,
                           class_counts=counts.tolist())  # fmt: skip
        _note_flat_scores(small["notes"], proba, sampled_unit(unit, clusters), measured=False)
        return small
    out: dict[str, Any] = {"n": n, "class_counts": counts.tolist()}
    notes: dict[str, str] = {}
    W = _weights(out, n, n_boot, seed, clusters)
    onehot = np.eye(k)[y]
    counted = counted_unit(unit, clusters)
    members = np.array([count_units(y == c, clusters) for c in range(k)])
    few = members.min() < min_per_class  # AUROC and balanced accuracy not reported, as binary
    if not few:
        per_class = [bs.weighted_auroc(W, onehot[:, c], proba[:, c]) for c in range(k)]
        out["auroc"] = float(
            skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=range(k))
        )
        out["auroc_ci"] = _interval(np.mean(per_class, axis=0))
    else:
        out["auroc"], out["auroc_ci"] = None, None
        rarest = int(members.argmin())
        fewest = int(members[rarest])
        notes["auroc"] = _too_few(fewest, f"{counted}{_s(fewest)} of {named[rarest]}",
                                  everyone, min_per_class, counted)  # fmt: skip
    hit = (pred == y).astype(float)
    out["accuracy"] = float(skm.accuracy_score(y, pred))
    out["accuracy_ci"] = _interval(bs.weighted_mean(W, hit))
    if few:
        out["balanced_accuracy"], out["balanced_accuracy_ci"] = None, None
        notes["balanced_accuracy"] = notes["auroc"]
    else:
        recalls = [bs.weighted_recall(W, (y == c).astype(int), (pred == c).astype(int), 1)
                   for c in range(k)]  # fmt: skip
        out["balanced_accuracy"] = float(skm.balanced_accuracy_score(y, pred))
        out["balanced_accuracy_ci"] = _interval(np.nanmean(recalls, axis=0))
    squared = ((proba - onehot) ** 2).sum(axis=1)
    out["brier"] = float(squared.mean())
    out["brier_ci"] = _interval(bs.weighted_mean(W, squared))
    confidence = proba.max(axis=1)
    out["ece"], out["ece_ci"], no_interval = _ece_with_interval(
        W, hit, confidence, everyone, counted, sampled_unit(unit, clusters))  # fmt: skip
    if no_interval:
        notes["ece"] = _instead_of_ece(no_interval, out)
    one_class = one_class_note(y, pred, named, unit=sampled_unit(unit, clusters), judged=not few)
    if one_class:
        notes[ONE_CLASS] = one_class
    # a model that calls (nearly) everyone one class misses the others: said by that note; one
    # no better than the commonest class may still miss one (a trial's adapter found none of
    # 12 patients of class '2', said only when registry promote refused it)
    answers_one = np.bincount(pred, minlength=k).max() >= ONE_CLASS_SHARE * len(pred)
    missed = (
        None if one_class and answers_one
        else missed_class_note(y, pred, named, out, sampled_unit(unit, clusters))
    )  # fmt: skip
    if missed:
        notes[MISSED_CLASS] = missed
    never = [
        named[c] for c in range(k) if members[c] >= MIN_PER_CLASS and not (pred[y == c] == c).any()
    ]
    if never:  # names only: what `registry promote` refuses to serve, as a binary sensitivity 0
        out[NEVER_CALLED] = never
    _honest_intervals(out, notes, {"accuracy": (hit, patients)}, unit)
    _note_no_information(out, notes, counts, named, sampled_unit(unit, clusters))
    if notes.get("auroc", "").startswith("no interval: the model separates"):  # a trial read
        notes["auroc"] += (  # "uncertainty cannot be estimated" beside per-class intervals
            "; each class's own AUROC (per class) has Newcombe's interval, which says how "
            f"far so few {unit}s can be trusted"
        )
    _note_two_values(notes, proba, out["auroc"])
    _note_flat_scores(notes, proba, unit)
    out["notes"] = notes
    return _with_plausibility(out, unit)


def regression_metrics(
    y_true: Any,
    y_pred: Any,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    min_rows: int = 10,
    unit: str = "patient",
    patients: Any = None,
) -> dict[str, Any]:
    """MAE, RMSE and R^2 with CIs (``patients`` as :func:`binary_metrics` takes them)."""
    y, f = checked_inputs("regression", y_true, y_pred, unit)
    n = len(y)
    clusters = bs.cluster_index(patients, n)
    everyone = count_units(np.ones(n, dtype=bool), clusters)
    if everyone < MIN_PATIENTS:
        return _too_small("regression", n, unit, None if clusters is None else everyone)
    out: dict[str, Any] = {"n": n, "mean_target": float(y.mean())}
    notes: dict[str, str] = {}
    W = _weights(out, n, n_boot, seed, clusters)
    error = y - f
    out["mae"] = float(skm.mean_absolute_error(y, f))
    out["mae_ci"] = _interval(bs.weighted_mean(W, np.abs(error)))
    out["rmse"] = float(np.sqrt(skm.mean_squared_error(y, f)))
    out["rmse_ci"] = _interval(np.sqrt(bs.weighted_mean(W, error**2)))
    if n < min_rows:
        out["r2"], out["r2_ci"] = None, None
        notes["r2"] = _too_few(n, f"{unit}s", n, min_rows, unit)
    elif np.ptp(y) == 0:  # scikit-learn's 0.0 here would read as "no better than the mean"
        out["r2"], out["r2_ci"] = None, None
        notes["r2"] = (
            f"not reported: the measured value is the same for all {plural(n, unit)}, so "
            "there is no variation for R² to explain"
        )
    else:
        out["r2"] = float(skm.r2_score(y, f))
        out["r2_ci"] = _interval(bs.weighted_r2(W, y, f))
        if out["r2"] <= 0:  # the average alone does as well: said about the whole result
            notes[NO_BETTER_THAN_MEAN] = (
                f"R² {out['r2']:.3f}: the model predicts these {unit}s no better than giving "
                "each the average value (R² 0); check that the outcome and its unit are the "
                f"base model's and that these {unit}s are like its own, and do not use it here "
                "as it is"
            )
    _regression_calibration(out, notes, y, f, W, unit, min_rows)
    _honest_intervals(out, notes, {}, unit)
    out["notes"] = notes
    return _with_plausibility(out, unit)


def _risk_calibration(put: Callable[..., None], y: np.ndarray, p: np.ndarray, W: np.ndarray,
                      too_few: str | None, unit: str) -> None:  # fmt: skip
    """How predicted risks sit against what happened, as Riley et al.'s validation criteria
    measure it (TRIPOD+AI asks for both): the observed/expected ratio (events over the sum of
    the risks; 1 is ideal) and the calibration slope (the logistic regression of the outcome
    on the predicted log-odds; 1 is ideal, below 1 risks too extreme, above 1 too moderate),
    each with its bootstrap interval (O/E: widened to Riley et al.'s analytic one,
    :mod:`medadapt.evaluate.ratio_interval`) and a note when the interval excludes 1 (and
    observed and expected differ by half an event or more: near-certain risks put every
    resample a hair off 1, which is no miscalibration). The slope needs both outcomes
    (``too_few``: why not)."""
    observed, expected = int(y.sum()), float(p.sum())
    if expected > 0:
        ratios = bs._safe_divide(W @ y.astype(float), W @ p)
        interval = widened_oe(bs.percentile_interval(ratios), observed, expected, len(y))
        how = None
        if interval and (interval[0] > 1 or interval[1] < 1) and abs(observed - expected) >= 0.5:
            few = "few" if interval[0] > 1 else "many"
            how = (f"the model predicts too {few} events: {observed} observed against "
                   f"{expected:.1f} expected from its risks (the interval excludes 1); its risks "
                   f"are too {'low' if few == 'few' else 'high'} on average")  # fmt: skip
        put("oe_ratio", observed / expected, ratios, how, interval)
    else:
        put("oe_ratio", None, None, f"not reported: every predicted risk is 0 for these {unit}s")
    if too_few:
        put("calibration_slope", None, None, too_few)
        return
    log_odds = np.log(np.clip(p, 1e-7, 1 - 1e-7) / (1 - np.clip(p, 1e-7, 1 - 1e-7)))
    if np.ptp(log_odds) < 1e-9:
        put("calibration_slope", None, None, f"not reported: every one of these {unit}s has the "
            "same predicted risk, so there is no slope to fit")  # fmt: skip
        return
    _, slope = bs.weighted_logistic_calibration(np.ones((1, len(y))), y.astype(float), log_odds)
    if not np.isfinite(slope[0]):
        separated = log_odds[y == 1].min() > log_odds[y == 0].max()
        why = (
            f"the predictions separate these {unit}s perfectly, so no slope can be fitted"
            if separated
            else f"the calibration model did not converge on these {unit}s"
        )
        put("calibration_slope", None, None, f"not reported: {why}")
        return
    _, samples = bs.weighted_logistic_calibration(W, y.astype(float), log_odds)
    put("calibration_slope", slope[0], samples)
    interval = bs.percentile_interval(samples)
    if interval and interval[0] <= 0 <= interval[1]:  # a trial's -0.0 read "too extreme"
        put("calibration_slope", slope[0], samples,
            "the outcomes do not follow the predicted risks here (the interval reaches 0): a "
            f"higher risk is not shown to mean more events among these {unit}s")  # fmt: skip
    elif interval and interval[1] < 0:  # a trial's -7.3 was read "too extreme"
        put("calibration_slope", slope[0], samples,
            "the outcomes run opposite to the predicted risks (slope below 0, the interval "
            f"excludes 0): a higher risk means fewer events among these {unit}s; are the "
            "labels, or the positive class, swapped here?")  # fmt: skip
    elif interval and interval[1] < 1:
        put("calibration_slope", slope[0], samples,
            "the predicted risks are too extreme (slope below 1, the interval excludes 1): high "
            "risks overstated and low ones understated, as a model fitted too closely to its "
            "training patients does, or one applied to patients unlike them (another site or "
            "case mix)")  # fmt: skip
    elif interval and interval[0] > 1:
        put("calibration_slope", slope[0], samples,
            "the predicted risks are too moderate (slope above 1, the interval excludes 1): "
            "high risks understated and low ones overstated")  # fmt: skip


def _in_label_unit(value: float) -> str:
    """``13.9``, ``2,770``: three significant figures, grouped, as the tables print it."""
    return f"{abs(value):,.{metric_digits('calibration_in_the_large', value)}f}"


def _regression_calibration(
    out: dict[str, Any],
    notes: dict[str, str],
    y: np.ndarray,
    f: np.ndarray,
    W: np.ndarray,
    unit: str,
    min_rows: int,
) -> None:
    """How the predictions sit against the outcomes, which MAE and R² do not show: the
    calibration slope (the outcomes regressed on the predictions; 1 when they spread alike,
    above 1 when the predictions are squeezed toward the average) and calibration-in-the-large
    (mean observed minus mean predicted), each with its bootstrap interval, and a note when
    the interval excludes the ideal (TRIPOD+AI asks for both)."""
    out["calibration_in_the_large"] = mean_error = float(y.mean() - f.mean())
    out["calibration_in_the_large_ci"] = _interval(bs.weighted_mean(W, y - f))
    low_high = out["calibration_in_the_large_ci"]
    if low_high and (low_high[0] > 0 or low_high[1] < 0):
        how = "low" if low_high[0] > 0 else "high"
        notes["calibration_in_the_large"] = (
            f"on average the predictions are too {how} by {_in_label_unit(mean_error)} (the "
            "interval excludes 0)"
        )
    out["calibration_slope"], out["calibration_slope_ci"] = None, None
    if len(y) < min_rows:
        notes["calibration_slope"] = _too_few(len(y), f"{unit}s", len(y), min_rows, unit)
        return
    if np.ptp(f) == 0 or np.ptp(y) == 0:
        same = "prediction" if np.ptp(f) == 0 else "measured value"
        notes["calibration_slope"] = (
            f"not reported: the {same} is the same for all {plural(len(y), unit)}"
        )
        return
    slope = float(np.cov(y, f, bias=True)[0, 1] / np.var(f))
    out["calibration_slope"] = slope
    out["calibration_slope_ci"] = interval = _interval(bs.weighted_slope(W, y, f))
    if interval and interval[0] > 1:
        notes["calibration_slope"] = (
            "the predictions are squeezed toward the average (slope above 1, the interval "
            "excludes 1): low outcomes are predicted too high and high ones too low"
        )
    elif interval and interval[0] <= 0 <= interval[1]:  # a slope near 0: no relation at all
        notes["calibration_slope"] = (
            "the outcomes do not follow the predictions (the interval reaches 0): a higher "
            f"prediction is not shown to mean a higher value for these {unit}s"
        )
    elif interval and interval[1] < 0:  # not "spread wider": a ranking run backwards
        notes["calibration_slope"] = (
            "the outcomes run opposite to the predictions (slope below 0, the interval "
            f"excludes 0): a higher prediction means a lower value for these {unit}s"
        )
    elif interval and interval[1] < 1:
        notes["calibration_slope"] = (
            "the predictions spread wider than the outcomes (slope below 1, the interval "
            "excludes 1): extreme predictions overstate how extreme the outcome is"
        )


@functools.partial(warns_its_caller, about_inputs=yes_no_as_measured)
def compute_metrics(task: str, y_true: Any, scores: Any, **kwargs: Any) -> dict[str, Any]:
    """Dispatch on ``task``: binary (P(class 1)), multiclass ((N, K) probabilities) or
    regression (predicted values); warns a Python caller as :func:`binary_metrics` does."""
    if task not in TASKS:  # a trial's "Binary" was scored as a measured value, unsaid
        raise ConfigError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
    if task == "regression":
        kwargs.pop("class_names", None)
    if task == "binary":
        return binary_metrics(y_true, scores, **kwargs)
    if task == "multiclass":
        kwargs.pop("threshold", None)
        return multiclass_metrics(y_true, scores, **kwargs)
    kwargs.pop("threshold", None)
    kwargs.pop("min_per_class", None)
    return regression_metrics(y_true, scores, **kwargs)

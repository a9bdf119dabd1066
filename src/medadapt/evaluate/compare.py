"""Paired comparisons of two models on the same patients, in plain words.

Both models are scored on the same bootstrap resamples, so the interval is for the
*difference* (much tighter than comparing two separate intervals). The verdict says "higher",
"lower" or "no detectable difference" — the last whenever the interval contains zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from medadapt.errors import ConfigError, DataError
from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.metrics import LOWER_IS_BETTER, MIN_PER_CLASS, N_BOOT, checked_inputs

#: what "better" and "worse" mean for each metric, in words (a lower Brier score is not a
#: better model, only risks closer to what happened)
IN_WORDS = {
    "auroc": ("ranks patients by risk better", "ranks patients by risk worse"),
    "auprc": ("picks out the patients with the outcome better",
              "picks out the patients with the outcome worse"),
    "accuracy": ("classifies more patients correctly at the threshold",
                 "classifies fewer patients correctly at the threshold"),
    "balanced_accuracy": ("classifies both outcomes better at the threshold",
                          "classifies both outcomes worse at the threshold"),
    "brier": ("gives risks closer to what happened (lower Brier score)",
              "gives risks further from what happened (higher Brier score)"),
    "ece": ("is better calibrated", "is worse calibrated"),
    "mae": ("predicts closer to the measured values", "predicts further from the measured values"),
    "rmse": ("predicts closer to the measured values (large errors weighted)",
             "predicts further from the measured values (large errors weighted)"),
}  # fmt: skip


@dataclass(frozen=True)
class Difference:
    """``a - b`` for one metric with its paired 95 % CI; None when the metric is undefined."""

    metric: str
    value: float | None
    ci: tuple[float, float] | None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None or self.ci is None:
            return "not estimable"
        if self.ci[0] > 0:
            return "better" if self.metric not in LOWER_IS_BETTER else "worse"
        if self.ci[1] < 0:
            return "worse" if self.metric not in LOWER_IS_BETTER else "better"
        return "no detectable difference"

    def sentence(self, a: str, b: str) -> str:
        from medadapt.evaluate.report.formatting import METRIC_LABELS

        name = METRIC_LABELS.get(self.metric, self.metric)
        if self.value is None or self.ci is None:
            return f"{a} vs {b}: {name} cannot be compared ({self.note or 'too few events'})."
        d = self.digits()
        low, high = self.ci
        if high - low <= 1e-12:  # every resample alike: no interval, not certainty
            if abs(self.value) <= 1e-12:
                return (
                    f"{a} vs {b}: the same {name} in every resample of these data: no "
                    "difference can be shown, and none ruled out, without more data."
                )
            return (
                f"{a} vs {b}: {name} {self.value:+.{d}f} in every resample of these data, so "
                "the change has no interval: judge it on more data."
            )
        text = (
            f"{a} vs {b}: {name} {self.value:+.{d}f} (95% CI {low:+.{d}f} to {high:+.{d}f}"
            f"{self.direction('; ')})"
        )
        if self.verdict == "no detectable difference":
            return text + ": no detectable difference on this data."
        return text + f": {a} {self.verdict_in_words()}."

    def digits(self) -> int:
        """Decimals to print the difference with: 3 on a 0-1 scale; in the label's unit, three
        significant figures of the interval's widest end (``+4.21``, not ``+4.212``)."""
        from medadapt.evaluate.report.formatting import metric_digits

        widest = max(abs(self.ci[0]), abs(self.ci[1])) if self.ci else self.value
        return metric_digits(self.metric, widest)

    def direction(self, before: str = "") -> str:
        """Which way an error's difference points (after ``before``): ``"a higher MAE is
        worse"`` for a rise, ``"a lower MAE is better"`` otherwise; empty where higher is
        better, as a reader takes a difference to mean."""
        from medadapt.evaluate.report.formatting import METRIC_LABELS

        if self.metric not in LOWER_IS_BETTER or not self.value:  # no change: no direction
            return ""
        name = METRIC_LABELS.get(self.metric, self.metric)
        rose = self.value is not None and self.value > 0
        return (
            f"{before}a {'higher' if rose else 'lower'} {name} is {'worse' if rose else 'better'}"
        )

    def verdict_in_words(self) -> str:
        """``"ranks patients by risk better"``: what "better" or "worse" means here."""
        better, worse = IN_WORDS.get(self.metric, ("is better", "is worse"))
        return better if self.verdict == "better" else worse


def _metric_samples(metric: str, W: np.ndarray, y: np.ndarray, s: np.ndarray, threshold: float):
    if s.ndim == 2:  # (N, K) probabilities (AUROC only): each class against the rest, averaged
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


def _checked_pair(
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
    several = metric == "auroc" and np.ndim(score_a) == 2  # (N, K) class probabilities
    if several:
        task, placeholder = "multiclass", np.full(np.shape(score_a), 1 / np.shape(score_a)[1])
    y, _ = checked_inputs(task, y_true, placeholder, unit)  # the labels alone
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
    ``roc_auc_score(multi_class="ovr")``). ``patients``: each sample's patient, where one may
    have several (their samples are resampled together)."""
    y, a, b = _checked_pair(metric, y_true, score_a, score_b, unit)
    if metric in ("auroc", "auprc", "balanced_accuracy"):
        if a.ndim == 2:
            fewest, which = int(np.bincount(y.astype(int), minlength=a.shape[1]).min()), "smallest"
        else:
            n_pos = int((y == 1).sum())
            fewest, which = min(n_pos, len(y) - n_pos), "smaller"
        if fewest < min_per_class:
            units = unit if fewest == 1 else f"{unit}s"
            return Difference(metric, None, None, f"{fewest} {units} in the {which} class")
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
    return Difference(metric, point, None if interval is None else tuple(interval))


def versus_base(
    y_true: np.ndarray,
    adapted: np.ndarray,
    base: np.ndarray,
    *,
    metric: str,
    unit: str = "patient",
    n_boot: int = N_BOOT,
    seed: int = 0,
    withheld: str | None = None,
    patients: Any = None,
    classes: Sequence[str] | None = None,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Did the adapter help? Its ``metric`` (AUROC or MAE: neither depends on a threshold)
    minus the base model's on the same ``unit``s, with a paired bootstrap 95 % CI, as
    ``{"metric", "difference", "ci", "verdict", "in_words"}``. ``withheld``: why the metrics
    did not report ``metric`` on these samples (too few, one class): then nothing is compared
    either, for the same reason. ``difference`` and ``ci`` are None where nothing is compared,
    and ``in_words`` says why; an adapter measurably worse says to keep the base model.

    MAE alone hides a shift of every prediction: ``"mean_error"`` holds the paired change in
    mean observed − predicted (:func:`mean_error_change`, the same resamples), said after the
    MAE sentence when the interval excludes 0. A classifier (``classes``: the class names, or
    None for a table's negatives and positives; ``threshold``: the binary decision threshold)
    gets ``"warnings"`` for each class the adapter calls no one while the base model alone
    called some (:func:`unpredicted_classes`); where AUROC is withheld, ``in_words`` says
    that the accuracy shown in its place rewards ignoring a rare class."""
    from medadapt.evaluate.report.formatting import METRIC_LABELS

    name, units = METRIC_LABELS.get(metric, metric), f"{unit}s"
    if withheld:
        diff = Difference(metric, None, None, withheld)
    else:
        diff = paired_difference(y_true, adapted, base, metric=metric, unit=unit,
                                 n_boot=n_boot, seed=seed, patients=patients)  # fmt: skip
    out: dict[str, Any] = {
        "metric": metric,
        "difference": diff.value,
        "ci": None if diff.ci is None else [float(diff.ci[0]), float(diff.ci[1])],
        "verdict": diff.verdict,
        "in_words": _adapter_in_words(diff, name, units),
    }
    if metric == "mae" and not withheld:
        error = mean_error_change(y_true, adapted, base, unit=unit, n_boot=n_boot, seed=seed,
                                  patients=patients)  # fmt: skip
        out["mean_error"] = error
        if error["verdict"] in MEAN_ERROR_CHANGES:  # detectable: said beside the MAE
            out["in_words"] += f" {error['in_words']}"
    if metric == "auroc" and _enough_units(y_true, patients):  # else no figure is shown at all
        y = np.asarray(y_true).astype(int)
        names = _class_words(classes, adapted)
        out["warnings"] = unpredicted_classes(y, adapted, base, names, threshold=threshold,
                                              unit=unit)  # fmt: skip
        if withheld:
            caveat = accuracy_caveat(y, names, unit=unit)
            if caveat:
                out["in_words"] += f" {caveat}"
    return out


def _enough_units(y_true: Any, patients: Any) -> bool:
    """Whether the metrics report figures on these samples (at least ``MIN_PATIENTS``
    patients): below, no accuracy is shown for a caveat to qualify, and a warning about what
    the adapter called a class would describe one or two identifiable patients."""
    from medadapt.evaluate.metrics import MIN_PATIENTS

    n = len(np.unique(np.asarray(patients).astype(str))) if patients is not None else len(y_true)
    return n >= MIN_PATIENTS


#: the verdicts of :func:`mean_error_change` whose interval excludes 0 (said beside the MAE)
MEAN_ERROR_CHANGES = ("removed", "reduced", "enlarged", "reversed", "introduced", "shifted")
#: those that leave the adapter with a systematic error the base model did not have, or a
#: larger one: said as a warning
MEAN_ERROR_HARMS = ("enlarged", "introduced")  # and "reversed" to a larger error
MEAN_ERROR = "calibration_in_the_large"


def versus_base_harms(paired: dict[str, Any]) -> bool:
    """Whether :func:`versus_base`'s comparison says the adapter did harm: a worse metric, or a
    systematic error it brought in, enlarged or turned the other way (said as a warning)."""
    error = paired.get("mean_error") or {}
    grew = error.get("verdict") == "reversed" and abs(error["adapter"]) >= abs(error["base"])
    return paired.get("verdict") == "worse" or error.get("verdict") in MEAN_ERROR_HARMS or grew


def mean_error_change(
    y_true: Any,
    adapted: Any,
    base: Any,
    *,
    unit: str = "patient",
    n_boot: int = N_BOOT,
    seed: int = 0,
    patients: Any = None,
) -> dict[str, Any]:
    """The adapter's mean observed − predicted (calibration-in-the-large) against the base
    model's on the same ``unit``s, each with its bootstrap 95 % CI, and their paired change
    ``adapter - base`` with its CI from the same resamples (those of :func:`versus_base`'s
    MAE), as ``{"metric", "adapter", "adapter_ci", "base", "base_ci", "difference", "ci",
    "verdict", "in_words"}``. A model's error is systematic where its own interval excludes 0;
    where the change's interval excludes 0 the verdict says what the adapter did to the base
    model's error ("removed", "reduced", "enlarged", "reversed", "introduced", or "shifted"
    where neither model's is systematic), else "no detectable difference" ("not estimable"
    without an interval)."""
    y, a, b = _checked_pair("mae", y_true, adapted, base, unit)  # regression's checks
    W = bs.resample_weights(len(y), n_boot, seed, bs.cluster_index(patients, len(y)))
    error_a, error_b = bs.weighted_mean(W, y - a), bs.weighted_mean(W, y - b)
    point_a, point_b = float(np.mean(y - a)), float(np.mean(y - b))
    ci_a, ci_b = bs.percentile_interval(error_a), bs.percentile_interval(error_b)
    ci = bs.percentile_interval(error_a - error_b)
    change = Difference(MEAN_ERROR, point_a - point_b, None if ci is None else tuple(ci))
    verdict = _mean_error_verdict(point_a, ci_a, point_b, ci_b, change)
    return {
        "metric": MEAN_ERROR,
        "adapter": point_a,
        "adapter_ci": ci_a,
        "base": point_b,
        "base_ci": ci_b,
        "difference": change.value,
        "ci": ci,
        "verdict": verdict,
        "in_words": _mean_error_in_words(verdict, point_a, point_b, change, f"{unit}s"),
    }


def _systematic(ci: list[float] | None) -> bool:
    return ci is not None and (ci[0] > 0 or ci[1] < 0)


def _mean_error_verdict(
    a: float, ci_a: list[float] | None, b: float, ci_b: list[float] | None, change: Difference
) -> str:
    if change.ci is None or change.ci[1] - change.ci[0] <= 1e-12:  # no interval: no verdict
        return "not estimable"
    if change.ci[0] <= 0 <= change.ci[1]:
        return "no detectable difference"
    if not _systematic(ci_b):
        return "introduced" if _systematic(ci_a) else "shifted"
    if not _systematic(ci_a):
        return "removed"
    if np.sign(a) != np.sign(b):
        return "reversed"
    return "reduced" if abs(a) < abs(b) else "enlarged"


def _mean_error_in_words(verdict: str, a: float, b: float, change: Difference, units: str) -> str:
    """``"Paired on the same patients, the adapter removes a systematic under-prediction of
    about 19.5 (mean observed − predicted +19.5 with the base model alone, +1.36 with the
    adapter; paired change -18.2, 95% CI -25.5 to -11.2)."``"""
    from medadapt.results import metric_digits

    def size(value: float) -> str:
        return f"{abs(value):,.{metric_digits(MEAN_ERROR, value)}f}"

    def signed(value: float) -> str:
        return f"{value:+,.{metric_digits(MEAN_ERROR, value)}f}"

    def kind(value: float) -> str:  # observed above predicted: the predictions are too low
        return "under-prediction" if value > 0 else "over-prediction"

    d = change.digits()
    if change.value is None or change.ci is None or verdict == "not estimable":
        return (
            f"The change in mean observed − predicted has no interval on these {units}: judge "
            f"it on more {units}."
        )
    low, high = change.ci
    numbers = (
        f"mean observed − predicted {signed(b)} with the base model alone, {signed(a)} with the "
        f"adapter; paired change {change.value:+.{d}f}, 95% CI {low:+.{d}f} to {high:+.{d}f}"
    )
    if verdict not in MEAN_ERROR_CHANGES:
        return (
            f"Paired on the same {units}, the adapter changes mean observed − predicted by "
            f"{change.value:+.{d}f} (95% CI {low:+.{d}f} to {high:+.{d}f}; {signed(b)} with the "
            f"base model alone, {signed(a)} with the adapter): no detectable difference on "
            f"these {units}."
        )
    what = {
        "removed": f"removes a systematic {kind(b)} of about {size(b)}",
        "reduced": f"reduces a systematic {kind(b)} from about {size(b)} to about {size(a)}",
        "enlarged": f"enlarges a systematic {kind(b)} from about {size(b)} to about {size(a)}",
        "reversed": (
            f"turns a systematic {kind(b)} of about {size(b)} into a systematic {kind(a)} of "
            f"about {size(a)}"
        ),
        "introduced": f"introduces a systematic {kind(a)} of about {size(a)}",
        "shifted": (
            f"{'raises' if change.value < 0 else 'lowers'} the predictions by about "
            f"{size(change.value)} on average, though neither model's mean error is "
            "systematic on its own"
        ),
    }[verdict]
    return f"Paired on the same {units}, the adapter {what} ({numbers})."


def _class_words(classes: Sequence[str] | None, scores: Any) -> list[str]:
    """The classes as the warnings name them: ``'low'``, or a table's negatives and
    positives (no names given) as ``negative`` and ``positive``."""
    k = np.shape(scores)[1] if np.ndim(scores) == 2 else 2
    if classes is None or len(classes) != k:
        return ["negative", "positive"] if k == 2 else [f"class {c}" for c in range(k)]
    return [repr(str(c)) for c in classes]


def _calls(scores: Any, threshold: float) -> np.ndarray:
    """Each sample's predicted class: the most probable of (N, K), or P(positive) at the
    threshold."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 2:
        return scores.argmax(axis=1)
    return (scores >= threshold).astype(int)


def unpredicted_classes(
    y: np.ndarray,
    adapted: Any,
    base: Any,
    names: Sequence[str],
    *,
    threshold: float = 0.5,
    unit: str = "patient",
) -> list[str]:
    """A warning for each class the adapter calls none of the samples while the base model
    alone called some: an adapter that has stopped predicting a rare class (or calls everyone
    negative) can still gain accuracy, and only the counts show it. Counts only, no rates."""
    from medadapt.evaluate.metrics import plural

    y = np.asarray(y).astype(int)
    mine, theirs = _calls(adapted, threshold), _calls(base, threshold)
    n = len(y)
    warnings = []
    for c, name in enumerate(names):
        called = theirs == c
        members = int((y == c).sum())
        if (mine == c).any() or not called.any() or members == 0:  # none to miss: no harm
            continue
        found = int((called & (y == c)).sum())
        if members > 1:
            among = (
                f"{members} of the {n} are {name}: the base model found {found} of them, the "
                "adapter none"
            )
        else:
            among = (
                f"1 of the {n} is {name}: the base model "
                f"{'found it, the adapter did not' if found else 'missed it too'}"
            )
        warnings.append(
            f"the adapter calls none of these {plural(n, unit)} {name}, where the base model "
            f"alone called {int(called.sum())} of them {name} ({among}); its accuracy cannot "
            "show a class it never predicts"
        )
    return warnings


def accuracy_caveat(y: np.ndarray, names: Sequence[str], *, unit: str = "patient") -> str | None:
    """Where AUROC is withheld and accuracy is shown in its place: for several classes, or
    two where the rarer is under a quarter of the samples, a sentence that accuracy rewards a
    model that ignores the rare class (it counts every sample alike), naming that class."""
    from medadapt.evaluate.metrics import plural

    y = np.asarray(y).astype(int)
    counts = np.bincount(y, minlength=len(names))[: len(names)]
    rare = int(counts.argmin())
    n = len(y)
    if n == 0 or counts[rare] == 0 or (len(names) == 2 and counts[rare] >= n / 4):
        return None  # no patient of it: accuracy hides no one here
    return (
        "Accuracy, shown in its place, is no comparison of the two: it counts every "
        f"{unit} alike, so it rewards a model that ignores a rare class (here {names[rare]}, "
        f"{counts[rare]} of these {plural(n, unit)})."
    )


def _adapter_in_words(diff: Difference, name: str, units: str) -> str:
    if diff.value is None or diff.ci is None:
        return f"The adapter and the base model cannot be compared on {name} ({diff.note})."
    d = diff.digits()
    if diff.ci[1] - diff.ci[0] <= 1e-12:  # every resample alike: no interval, not certainty
        if abs(diff.value) <= 1e-12:
            return (
                f"Paired on the same {units}, the adapter and the base model score the same "
                f"{name} in every resample of these {units}: no difference can be shown, and "
                f"none ruled out, without more {units}."
            )
        return (
            f"Paired on the same {units}, the adapter changes {name} by {diff.value:+.{d}f}"
            f"{f' ({diff.direction()})' if diff.direction() else ''} in every resample of these "
            f"{units}, so the change has no interval: judge it on more {units}."
        )
    verdict = (
        f"no detectable difference on these {units}"
        if diff.verdict not in ("better", "worse")
        else f"the adapter {diff.verdict_in_words()}"
    )
    low, high = diff.ci
    said = (
        f"Paired on the same {units}, the adapter changes {name} by {diff.value:+.{d}f} "
        f"(95% CI {low:+.{d}f} to {high:+.{d}f}{diff.direction('; ')}): {verdict}."
    )
    if diff.verdict == "worse":  # the adapter did harm here: say what to do
        return f"{said} Keep the base model for these {units}, or adapt again on more of them."
    return said

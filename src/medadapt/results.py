"""The results medadapt writes to JSON and reads back, as typed records.

* :class:`Evaluation`: what ``evaluate`` measured (``--json``);
* :class:`AdapterRecord`: what an adapter records about itself (``adapter.json``'s
  ``metadata``; a fully fine-tuned model keeps it as ``training["adapted"]``);
* :class:`StudyPoint`: one (strategy, fraction, seed) of a study (``points/*.json`` and
  ``study.json``'s ``points``).

Each is a frozen dataclass with ``to_json()`` (exactly the JSON object the files hold, so the
formats are unchanged) and ``from_json()``. Counts, summaries and metrics only: never a
patient's values.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from medadapt.errors import DataError


def _known(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.metadata.get("json", True))


METRIC_LABELS = {  # how every report, card and table names each metric
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "sensitivity": "sensitivity",
    "specificity": "specificity",
    "brier": "Brier score",
    "ece": "calibration error (ECE)",
    "mae": "MAE",
    "rmse": "RMSE",
    "r2": "R²",
    "calibration_slope": "calibration slope",
    "oe_ratio": "observed/expected events",
    "calibration_in_the_large": "mean observed − predicted",
}

TASKS = ("binary", "multiclass", "regression")
"""What a model predicts: a yes/no outcome, one of several classes, or a measured value."""

#: errors measured in the label's own unit (mg/dL, days): their decimals follow their size
IN_LABEL_UNITS = ("mae", "rmse", "calibration_in_the_large")


def counts_behind(metrics: dict[str, Any], name: str) -> str | None:
    """``"44 of 45"``: the patients behind sensitivity (those with the outcome), specificity
    (those without) or accuracy (all), from the metric and the counts it was measured on;
    ``"49 observed, 49.1 expected"``: the events behind an observed/expected ratio; None for
    other metrics, or without counts."""
    value, n, positives = metrics.get(name), metrics.get("n"), metrics.get("n_positive")
    if value is None or not isinstance(n, int):
        return None
    if name == "oe_ratio" and isinstance(positives, int) and value > 0:
        return f"{positives} observed, {positives / value:.1f} expected"
    of = {"accuracy": n}
    if isinstance(positives, int):
        of.update(sensitivity=positives, specificity=n - positives)
    if not of.get(name):
        return None
    return f"{round(value * of[name])} of {of[name]}"


def metric_digits(name: str, value: Any, digits: int = 3) -> int:
    """The decimals to print metric ``name`` with: ``digits`` for a score between 0 and 1; for
    an error in the label's unit, three significant figures (MAE ``51.3``, not ``51.305``,
    whose last digits are noise; ``4.27``; ``0.513``), at most ``digits``.

    >>> [metric_digits("mae", v) for v in (51.305, 4.27, 0.513, 1234.5)]
    [1, 2, 3, 0]
    >>> metric_digits("auroc", 0.7)
    3
    >>> metric_digits("mae", float("nan"))  # no figure (a site of 7 test rows): the default
    3
    """
    if name not in IN_LABEL_UNITS or not isinstance(value, int | float) or not value:
        return digits
    if not math.isfinite(value):  # a federated site's figure too few rows gave (NaN)
        return digits
    return min(digits, max(0, 2 - math.floor(math.log10(abs(value)))))


VALIDATION_WORDS = {
    "O/E": "observed/expected ratio",
    "slope": "calibration slope",
    "C": "C-statistic",
}
"""The external-validation criteria a recorded sample-size entry names (``test_needs``,
``test_supports``), in words and in the order they are told."""
MILLION = 1_000_000
ADAPTED_READING = (
    "a model adapted from the base starts from its knowledge, so the parameters it trains are "
    "an upper bound on its effective parameters and the needs, which count them as a new "
    "model's, are the most conservative reading of the criteria; meeting them is still "
    "necessary, not sufficient"
)
"""How to read Riley et al.'s needs for an adapted model, in one statement: ``check-data``,
``adapt``, ``study``, its report and the adapter's card each say it once, in these words."""
ADAPTED_READING_SENTENCE = ADAPTED_READING[0].upper() + ADAPTED_READING[1:]
""":data:`ADAPTED_READING` opening a sentence (``check-data``'s caveat, the study report)."""


def share_text(share: float) -> str:
    """A training fraction as a percentage: whole percents, or two significant figures below
    1% (a trial's ``--fractions 0.001`` read "0%", which ``--fractions 0`` is refused as).

    >>> [share_text(s) for s in (1.0, 0.25, 0.05, 0.005, 0.001, 0.0123)]
    ['100%', '25%', '5%', '0.5%', '0.1%', '1%']
    """
    return f"{share * 100:.2g}%" if 0 < share < 0.01 else f"{share:.0%}"


def per_parameter_text(ratio: float) -> str:
    """Events per parameter as the terminal says it, three significant figures, never in
    exponent notation (a trial's table read "0.0000" beside the terminal's "2.54e-05").

    >>> [per_parameter_text(r) for r in (0.554, 0.0242, 6.17e-05, 2.61e-06, 12.0)]
    ['0.554', '0.0242', '0.0000617', '0.00000261', '12']
    """
    if ratio == 0:
        return "0"
    places = max(0, 2 - math.floor(math.log10(abs(ratio))))
    return f"{ratio:.{places}f}".rstrip("0").rstrip(".") if places else f"{ratio:.0f}"


def r2_text(r2: float) -> str:
    """An anticipated R-squared as every sample-size output prints it: three decimals, or,
    below 0.01, three significant figures (a Cox-Snell R-squared at a prevalence of 0.005
    and an AUROC of 0.55 is 0.000157, which three decimals print as 0.000); never in
    exponent notation.

    >>> [r2_text(r2) for r2 in (0.11912, 0.0123, 0.0091526, 0.00015709, 3.15e-5, 0.0)]
    ['0.119', '0.012', '0.00915', '0.000157', '0.0000315', '0.000']
    """
    if r2 == 0 or not math.isfinite(r2) or abs(r2) >= 0.01:
        return f"{r2:.3f}"
    return f"{r2:.{2 - math.floor(math.log10(abs(r2)))}f}"


NEAR_COPY = "looks like a near-copy of a training image"
"""What ``trained_on`` says of an image that looks like a lossy re-save of a training one."""


def in_sample_caution(who: str) -> str:
    """What a stored report says of one image that ``who`` (``adapter 'h2'``, ``the base
    model``) trained on: a trial's terminal warned of it, the SR stored in the PACS did not;
    of one that looks like a near-copy of a training image (:data:`NEAR_COPY`), that."""
    if who == NEAR_COPY:
        return ("this image looks like a near-identical copy (a lossy re-save) of one the "
                "model trained on: if it is one, its prediction is in-sample")  # fmt: skip
    return (f"this image matches one that {who} trained on (by content): its prediction is "
            "in-sample, more confident and more often right than the model is on new "
            "patients")  # fmt: skip


def parameters_text(entry: dict[str, Any]) -> str:
    """A recorded sample-size entry's ``parameters`` (Riley et al.'s ``p``) in words, with the
    output layer's ``intercepts`` it leaves out where the entry records them (entries
    recorded before counted them): ``"64 parameters (the intercept aside)"``.

    >>> parameters_text({"parameters": 8576, "intercepts": 1})
    '8,576 parameters (the intercept aside)'
    >>> parameters_text({"parameters": 130, "intercepts": 2})
    '130 parameters (its 2 intercepts aside)'
    """
    text = f"{grouped(entry['parameters'])} parameters"
    aside = entry.get("intercepts")
    if not aside:
        return text
    return f"{text} ({'the intercept' if aside == 1 else f'its {aside} intercepts'} aside)"


def digits_apart(value: float, other: float, usual: int = 3) -> int:
    """``usual`` decimals, more (up to four) where those would round ``value`` beside
    ``other`` onto it: a trial read "AUROC 0.934, below the 95% interval here, 0.934 to
    1.000", and "dropped 0.010 (more than 0.01)".

    >>> digits_apart(0.9339, 0.9344), digits_apart(0.912, 0.959), digits_apart(0.5, 0.5)
    (4, 3, 3)
    """
    digits = usual
    while value != other and round(value, digits) == round(other, digits) and digits < usual + 4:
        digits += 1
    return digits


def rounded(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals; a value too small to show one is said to lie
    between zero and the smallest that shows, on its side of zero (a Brier score of 1e-7 is
    not ``0.000000``, a change of -1e-7 not ``-0.000``), in the reports, the terminal and the
    card alike (a trial's R² interval was ``<0.001–0.522`` on the terminal, ``0.000 to
    0.522`` on the card).

    >>> rounded(0.81234, 3), rounded(1e-7, 6), rounded(0.0, 3), rounded(-1e-7, 3)
    ('0.812', '<0.000001', '0.000', '>-0.001')
    """
    text = f"{value:.{digits}f}"
    if value != 0 and float(text) == 0:
        return f"{'<' if value > 0 else '>-'}{10.0**-digits:.{digits}f}"
    return text


def grouped(count: Any) -> str:
    """A count with its thousands grouped (12,345), as every table and sentence prints it;
    anything else as ``str`` gives it."""
    return f"{count:,}" if isinstance(count, int) and not isinstance(count, bool) else str(count)


def needed_text(n: int) -> str:
    """A criterion's number of patients, as told: "187381403" reads as precision where it
    only says "no realistic test set" (a base whose risks hardly vary at a site)."""
    return "a million or more" if n >= MILLION else f"{n:,}"  # 502,849: read at a glance


@dataclass(frozen=True)
class StudyPoint:
    """One strategy trained on one share of the target's training samples with one seed, and
    scored on the target's test samples."""

    strategy: str
    fraction: float
    seed: int
    n_train: int
    trainable_params: int
    metrics: dict[str, Any]
    seconds: float
    per_class: list[dict[str, Any]] | None = None
    subgroups: dict[str, Any] | None = None  # the largest size only (small cells masked)
    curves: dict[str, Any] | None = None  # ROC / calibration coordinates (largest size, seed 0)

    _OPTIONAL = ("per_class", "subgroups", "curves")

    def to_json(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in _known(StudyPoint)}
        return {k: v for k, v in out.items() if not (k in self._OPTIONAL and v is None)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, where: str = "a study point") -> StudyPoint:
        required = [f.name for f in fields(cls) if f.name not in cls._OPTIONAL]
        missing = [name for name in required if name not in data]
        if missing:
            raise DataError(
                f"{where} lacks {', '.join(missing)}: it was not written by this version of "
                "medadapt's study; delete it and re-run the study to recompute it"
            )
        return cls(**{k: data[k] for k in _known(cls) if k in data})


LOWER_IS_BETTER = frozenset({"brier", "ece", "mae", "rmse"})
"""Metrics where a smaller value is the better one (errors); higher is better for the rest,
but for the calibration measures (ideal at 1 or 0, never used to rank models)."""

IN_SAMPLE = {False: "more confident and more often right than",
             True: "closer to the measured values than"}  # fmt: skip
"""How in-sample predictions differ from new patients', for classes and a measured value
(``predict``'s warning, a served answer's note)."""

ALLOWED_LEAK = "allowed_leak"
"""The key of the note recorded with a model's metrics (``notes``) when it keeps a column
with ``--allow-leak``: a warning about the whole result, as ``too_good`` is."""
WITHIN_CHANCE_LEAK = "strong_within_chance"
"""The key of the note recorded with an adapter's metrics when a column that alone predicts
the label on its rows better than where the base trained was taken, by its interval on so
few rows, for the base's strong predictor (not refused as a leak): every result repeats it."""
FORGOT_OLD_CLASSES = "old_classes_not_kept"
"""The key of the note recorded with an adapter's metrics when, learning new classes, it did
not keep the old ones (its calls of old-class patients may name a new class)."""
TOO_GOOD_KEY = "too_good"  # the note on a result too good to be true
ONE_CLASS = "one_class"  # the note on a model calling (nearly) everyone one class
#: the figures a federated site sends of a classifier and of a measured outcome, each with
#: its interval: those a federated adapter records and its card lists per site
SITE_CLASS_FIGURES = ("auroc", "accuracy", "balanced_accuracy", "sensitivity", "specificity",
                      "brier")  # fmt: skip
SITE_REGRESSION_FIGURES = ("mae", "rmse", "r2")
SITE_FIGURES = SITE_CLASS_FIGURES + SITE_REGRESSION_FIGURES
MISSED_CLASS = "missed_class"  # the note on a model that almost never calls a class present
NEVER_CALLED = "never_called"
"""The key of a multiclass result's classes (``class '2'``, names only) of five test patients
or more that the model called none of by their class: not promoted to serve, as a binary
model's sensitivity or specificity of 0 is not."""
NO_BETTER_THAN_MEAN = "no_better_than_mean"  # an R² of 0 or below: the average does as well
BACKWARDS = "backwards"  # the note on an AUROC whose whole interval is below 0.5
FLAT_SCORES = "flat_scores"  # nearly the same probability for every case: no ranking to read
WORSE_THAN_BASE = "worse_than_base"
"""The key of the note recorded with an adapter's metrics when, paired on its test patients,
it did measurably worse than the base model alone (AUROC, MAE ...): ``adapt``'s warning,
carried to the registry, ``promote`` and every served answer."""
LARGER_ERROR_THAN_BASE = "larger_error_than_base"
"""The key of the note recorded with a regression adapter's metrics when, paired on its test
patients, it brought in, enlarged or turned into a larger one a systematic error (mean
observed − predicted) against the base model alone, whatever its MAE did: said so, not as
"did worse" (a trial's served note said "did worse than the base model" of an adapter
whose MAE changed by +0.51, 95% CI -2.46 to +3.69, and whose harm was its bias)."""
NONE_OF_A_CLASS_AT_SITE = "none_of_a_class_at_site"
"""The key of the note recorded with a federated adapter's metrics when, at a site, it called
none of that site's held-out patients of one class that class (sensitivity or specificity 0
there): its means over sites hide it (a trial's adapter called none of VA's 15 negative
patients negative, and was promoted), as ``promote`` refuses an adapter's own."""
FEWER_THAN_BASE = "fewer_found_than_base"
"""The key of the note recorded with an adapter's metrics when, at the decision threshold, it
found at most half as many of a class's test patients as the base model alone did (the
warning ``adapt`` and ``promote`` print, :func:`~medadapt.evaluate.ignored_classes.
fewer_found`): carried to every prediction's cautions (a trial's served answer from an
adapter that found 3 of 8 cancers, where the base found 8, had ``"note": null``)."""
#: the keys of notes about a whole result: too good to be true, one class for every patient,
#: ranked backwards, a column kept with --allow-leak although it alone predicts the label, old
#: classes not kept, worse than the base model alone
WHOLE_RESULT = (
    TOO_GOOD_KEY, ONE_CLASS, MISSED_CLASS, NO_BETTER_THAN_MEAN, BACKWARDS, FLAT_SCORES,
    ALLOWED_LEAK, WITHIN_CHANCE_LEAK, FORGOT_OLD_CLASSES, WORSE_THAN_BASE,
    LARGER_ERROR_THAN_BASE, NONE_OF_A_CLASS_AT_SITE,
)  # fmt: skip
#: those a command prints as ``warning:`` lines and a report puts at the top of its summary
#: (the kept leaks are said with the data's warnings; being worse than the base, with the
#: comparison)
SAID_AS_WARNINGS = (
    TOO_GOOD_KEY, ONE_CLASS, MISSED_CLASS, NO_BETTER_THAN_MEAN, BACKWARDS, FLAT_SCORES,
)  # fmt: skip


def whole_result_notes(notes: Any) -> list[str]:
    """The notes of :data:`SAID_AS_WARNINGS` a result's ``notes`` hold, each once; "too good to
    be true" left out beside probabilities that barely differ, which say why better (a
    radiology trial's base on a darker site was told its training stalled, and then that
    its probabilities barely differed)."""
    if not isinstance(notes, Mapping):
        return []
    keys = [k for k in SAID_AS_WARNINGS if not (k == TOO_GOOD_KEY and notes.get(FLAT_SCORES))]
    return list(dict.fromkeys(str(notes[key]) for key in keys if notes.get(key)))


#: those that keep a version from being promoted without ``--despite-warnings``: measured
#: harm to patients it would serve (ranked backwards, old classes forgotten, worse than the
#: base model alone), not a caution to check (too good to be true, a kept leak, one class)
UNFIT_TO_SERVE = (BACKWARDS, FORGOT_OLD_CLASSES, WORSE_THAN_BASE, LARGER_ERROR_THAN_BASE,
                  NONE_OF_A_CLASS_AT_SITE)  # fmt: skip
#: each in a few words (at most 47 characters: a DICOM SR's algorithm parameter, after
#: ``medadapt warning=``), for what carries a prediction: a served answer's note, an SR
WHOLE_RESULT_WORDS = {
    TOO_GOOD_KEY: "test result too good to be true: check leaks",
    ONE_CLASS: "called nearly every test case one class",
    MISSED_CLASS: "missed most test cases of one class",
    NO_BETTER_THAN_MEAN: "predicted no better than the average value",
    BACKWARDS: "ranked its test cases backwards",
    FLAT_SCORES: "gave every test case about the same probability",
    ALLOWED_LEAK: "keeps an input that alone predicts the label",
    WITHIN_CHANCE_LEAK: "an input near-perfect on few rows: check leaks",
    FORGOT_OLD_CLASSES: "did not keep the old classes",
    WORSE_THAN_BASE: "did worse than the base model on its test",
    LARGER_ERROR_THAN_BASE: "brings in or enlarges a systematic error",  # not MAE
    NONE_OF_A_CLASS_AT_SITE: "called none of a class right at a site",
    FEWER_THAN_BASE: "found half or fewer of a class the base found",
}
UNMEASURED_WORDS = "no measured performance (test set too small)"
#: a federated adapter's record: the sites where its own accuracy was no better than calling
#: every patient the commonest class (their names; its mean over sites hides them)
NO_INFORMATION_SITES = "no_information_sites"


def ranks_backwards(metrics: Any) -> bool:
    """Whether ``metrics``' AUROC has a 95% interval lying wholly below 0.5 (the samples
    ranked backwards, worse than a coin), the one test every backwards warning makes (False
    where they hold no AUROC with an interval: an odd record imported from elsewhere too)."""
    if not isinstance(metrics, dict):
        return False
    auroc, interval = metrics.get("auroc"), metrics.get("auroc_ci")
    return (isinstance(auroc, numbers.Real) and isinstance(interval, list | tuple)
            and len(interval) == 2 and isinstance(interval[1], numbers.Real)
            and interval[1] < 0.5)  # fmt: skip


def tested_unit(noun: str | None) -> str:
    """What a model's test cases are called in its warnings and refusals: ``images`` for an
    image model (a trial's read "none of its 5 negative test patients"), else ``patients``.

    >>> [tested_unit(n) for n in ("images", "rows", None)]
    ['images', 'patients', 'patients']
    """
    return "images" if noun == "images" else "patients"


def harm_at_sites(by_site: Any, versus_base: Any, unit: str = "patients") -> dict[str, str]:
    """The notes of harm a federated adapter did at one of its sites, keyed as an adapter's
    own (:data:`BACKWARDS`, :data:`WORSE_THAN_BASE`; :data:`NONE_OF_A_CLASS_AT_SITE`: it
    called none of a site's patients of one class that class): it ranked a site's held-out patients
    backwards (the AUROC's whole interval below 0.5, ``by_site``: each site's figures), or did
    worse there than the base alone, paired (``versus_base["sites"]``: each site's verdict and
    sentence); ``unit``: what the sites held out (``images`` for an image adapter). Its means
    carry no such note: a trial's adapter, ranked backwards at both sites
    by differential privacy's noise, was promoted and served with warnings only."""
    backwards = []
    for site, figures in (by_site if isinstance(by_site, dict) else {}).items():
        if ranks_backwards(figures):
            backwards.append(f"{site} (AUROC {figures['auroc']:.3f}, 95% CI up to "
                             f"{figures['auroc_ci'][1]:.3f})")  # fmt: skip
    sites = versus_base.get("sites") if isinstance(versus_base, dict) else None
    worse = [(site, paired) for site, paired in (sites if isinstance(sites, dict) else {}).items()
             if isinstance(paired, dict) and paired.get("verdict") == "worse"]  # fmt: skip
    notes: dict[str, str] = {}
    missed = [f"at {site} {said}" for site, figures in
              (by_site if isinstance(by_site, dict) else {}).items()
              if (said := none_of_a_class(figures, unit))]  # fmt: skip
    if missed:
        notes[NONE_OF_A_CLASS_AT_SITE] = "; ".join(missed)
    if backwards:
        notes[BACKWARDS] = (f"at {' and '.join(backwards)} it ranks the held-out {unit} "
                            "backwards")  # fmt: skip
    if worse:
        said = [" ".join(str(paired.get("in_words") or f"worse than the base alone at {site}")
                         .split()) for site, paired in worse]  # fmt: skip
        notes[WORSE_THAN_BASE] = " ".join(said)
    return notes


def none_of_a_class(metrics: Any, unit: str = "patients") -> str | None:
    """That a binary model called none of its test ``unit`` of one class that class (its
    sensitivity or specificity 0, where that class has some), or a multiclass one none of a
    class's (of five or more: :data:`NEVER_CALLED`), in words; None otherwise.

    >>> none_of_a_class({"n": 60, "n_positive": 45, "sensitivity": 0.98, "specificity": 0.0})
    'it called none of its 15 negative test patients negative (specificity 0)'
    >>> none_of_a_class({"n": 90, NEVER_CALLED: ["class '2'", "class '3'"]})
    "it called none of its test patients of class '2' or class '3' by their class (sensitivity 0)"
    """
    never = metrics.get(NEVER_CALLED)
    if isinstance(never, list) and never:  # a multiclass model (a trial's VA adapter: two)
        which = " or ".join(map(str, never))
        by = "that class" if len(never) == 1 else "their class"
        return f"it called none of its test {unit} of {which} by {by} (sensitivity 0)"
    n, positives = metrics.get("n"), metrics.get("n_positive")
    if not isinstance(n, int | float) or not isinstance(positives, int | float):
        return None
    for name, count, called in (("sensitivity", positives, "positive"),
                                ("specificity", n - positives, "negative")):  # fmt: skip
        if metrics.get(name) == 0 and count > 0:
            return f"it called none of its {count:.0f} {called} test {unit} {called} ({name} 0)"
    return None


def reaches_chance(auroc_ci: Sequence[float] | None) -> bool:
    """Whether an AUROC's interval reaches 0.5: not shown better than chance (wholly below it
    is the note on a ranking backwards, :data:`BACKWARDS`)."""
    return bool(auroc_ci) and auroc_ci[0] <= 0.5 <= auroc_ci[1]


CHANCE_READING = "not shown to be better than chance (the interval reaches 0.50)"
"""What an AUROC whose 95% interval reaches 0.5 shows, wherever it is said."""


def discrimination_in_words(low: float, high: float) -> str:
    """What an AUROC's 95% interval shows, read from both ends (a narrow interval around 0.52
    is precise, and no better than chance; "good" would read as clinically adequate)."""
    if low <= 0.5:
        return CHANCE_READING
    if high < 0.6:
        return "little better than chance at best (the whole interval is below 0.60)"
    if low >= 0.8:
        return ("strong (the whole interval is at or above 0.80), though whether that is "
                "enough depends on the clinical use")  # fmt: skip
    if low >= 0.7:
        return "at least moderate (the whole interval is at or above 0.70)"  # (a trial read
        # "0.92 ... moderate" as a grade of 0.92: it is of the lower end)
    if high < 0.7:
        return "weak (better than chance, the whole interval below 0.70)"
    return "better than chance, but how much better is uncertain"


IN_WORDS = "in_words"
"""The key, in an evaluation's JSON, of what its AUROC's and R²'s intervals show in words
(:func:`metrics_in_words`): a trial's ``--json`` held the figures only, where the terminal and
the report said "not shown to be better than chance"."""


def metrics_in_words(metrics: Mapping[str, Any]) -> dict[str, str]:
    """``{"auroc": "not shown to be better than chance (the interval reaches 0.50)"}``: the
    reading of each measured AUROC (:func:`discrimination_in_words`) and of an R² whose
    interval reaches 0 (:func:`r2_in_words`), by metric name; empty where none applies."""
    said = {}
    auroc, ci = metrics.get("auroc"), metrics.get("auroc_ci")
    if auroc is not None and ci:
        said["auroc"] = discrimination_in_words(*ci)
    r2, r2_ci = metrics.get("r2"), metrics.get("r2_ci")
    r2_said = r2_in_words(r2, r2_ci[0]) if r2 is not None and r2_ci else None
    if r2_said:
        said["r2"] = r2_said
    notes = metrics.get("notes") if isinstance(metrics.get("notes"), Mapping) else {}
    caution = (_FLAT_READING if notes.get(FLAT_SCORES) else
               _TOO_GOOD_READING if notes.get(TOO_GOOD_KEY) else None)  # fmt: skip
    if caution:  # a trial's JSON read AUROC 1.000 (0.797-1.000) "moderate", beside the note
        said = {metric: caution for metric in said} | {  # saying it was too good to be true
            m: caution for m in ("auroc", "r2") if metrics.get(m) is not None and m not in said
        }
    return said


_TOO_GOOD_READING = ("too good to be true: no reading of the model's skill until a leak is ruled "
                     "out (notes.too_good)")  # fmt: skip
_FLAT_READING = ("says nothing: the probabilities barely differ, so the ranking rests on "
                 "differences too small to act on (notes.flat_scores)")  # fmt: skip


def auroc_reading(metrics: Mapping[str, Any]) -> tuple[str, bool]:
    """What a report says of a measured AUROC's interval (:func:`metrics_in_words`, without
    the JSON's key in brackets), and whether it is a reading at all: a result too good to be
    true or of flat probabilities gets none, so no "the true value is likely between" follows
    (a trial's report gave one after "no reading")."""
    said = metrics_in_words(metrics)["auroc"]
    cautioned = said in (_TOO_GOOD_READING, _FLAT_READING)
    return re.sub(r" \(notes\.\w+\)$", "", said), not cautioned


def r2_in_words(r2: float, low: float) -> str | None:
    """What an R² whose interval (lower end ``low``) reaches 0 says (a trial's shuffled-label
    adapter, R² -0.190 (-0.488 to 0.015), was trained, promoted and served without a word);
    None otherwise."""
    if low > 0 or r2 <= 0:  # 0 or below: the whole-result note NO_BETTER_THAN_MEAN says it
        return None
    return (
        "not shown to predict better than giving every patient the average value (the "
        "interval reaches 0)"
    )


TRAINING_WARNINGS = "training_warnings"
"""The key, in an adapter's data summary, of the warnings ``adapt`` printed about its data
(a unit slip, a class too small to test, a missing code), as :func:`recordable_warnings`
keeps them: ``registry show`` and the card repeat them (a trial's were said once, at adapt,
and lost)."""
_FILE_NAME = re.compile(
    r"[^\s'\"(),;]*\.(?:png|jpe?g|dcm|dicom|nii(?:\.gz)?|nrrd|mha|tiff?|bmp|gif|webp)\b",
    re.IGNORECASE,
)


def recordable_warnings(warnings: list[str]) -> list[str]:
    """``warnings`` as an adapter may keep them: each once, with any image file's name in
    them replaced by ``<a file>`` (a file name may carry a patient's name or id; counts,
    columns and classes are kept)."""
    kept: list[str] = []
    for warning in warnings:
        said = _FILE_NAME.sub("<a file>", " ".join(str(warning).split()))
        if said not in kept:
            kept.append(said)
    return kept


def recorded_metrics(training: dict[str, Any]) -> dict[str, Any] | None:
    """The test figures of the model a base folder holds, from its record's ``training``:
    those of the fully fine-tuned model where ``adapt --method full`` wrote one there
    (``adapted``), else the base's own."""
    adapted = training.get("adapted")
    return adapted.get("metrics") if adapted else training.get("test_metrics")


def recorded_model(training: dict[str, Any], where: str = "") -> str:
    """The name of the model whose figures :func:`recorded_metrics` gives: "the fine-tuned
    model" (followed by ``where``, e.g. " in --base") or "the base model"."""
    return f"the fine-tuned model{where}" if training.get("adapted") else "the base model"


#: whose rows showed a leak that a model kept with ``--allow-leak`` (:func:`kept_leak_notes`)
def scored_in_sample(n: int, total: str, one: str, who: list[str], by: str) -> str:
    """The Python API's warning that ``n`` of the samples it scores (``total``: "the 45 rows
    of frame", "the 33 images scored"; ``one``: "row", "image") match samples that ``who``
    trained on (``by``: "content", "their pixels"), as ``ma.predict`` and
    ``images.predict_proba`` say it.

    >>> scored_in_sample(1, "the 45 rows of frame", "row", ["the base model"], "content")[:74]
    '1 of the 45 rows of frame matches a row that the base model trained on (by'
    """
    match = f"matches a {one}" if n == 1 else f"match {one}s"
    return (f"{n} of {total} {match} that {' or '.join(who)} trained on (by {by}): their "
            "scores are in-sample, more confident and more often right than the model is on "
            "new patients; leave them out of any figure (medadapt evaluate does)")  # fmt: skip


BASE_ROWS = "the base model's training rows"
ADAPTER_ROWS = "the rows the adapter was trained and tested on"
FINE_TUNED_ROWS = "the rows the model was fine-tuned and tested on"


def kept_leak_notes(
    recorded: Any, label: Any, *, whose: str = "training rows", what: str = "these figures"
) -> list[str]:
    """One sentence for the columns a model kept with ``--allow-leak`` (``recorded``: the list
    a model records, :meth:`medadapt.data.leaks.Leak.to_json`; anything else: none), repeated
    by every result that rests on the model: one per group the columns were judged in, the
    columns named together (kept together, they are one decision). ``whose``: whose training
    rows ("the adapter's training rows"); ``what``: what may rest on a leak ("these
    predictions").

    >>> kept_leak_notes([{"column": "worst perimeter", "statistic": "AUROC", "value": 0.9811,
    ...                   "rows": 189}], "diagnosis", whose="the adapter's training rows")
    ["column 'worst perimeter' was kept deliberately (--allow-leak / allow_leak=) although on \
the adapter's training rows it alone predicts 'diagnosis' with AUROC 0.981: these figures may \
rest on a leak"]
    >>> kept_leak_notes([{"column": "a", "statistic": "AUROC", "value": 0.99},
    ...                  {"column": "b", "statistic": "|r|", "value": 0.985}], "y")
    ["columns 'a' (AUROC 0.990), 'b' (|r| 0.985) were kept deliberately (--allow-leak / \
allow_leak=) although on training rows each alone predicts 'y': these figures may rest on a \
leak"]
    """
    if not isinstance(recorded, list):
        return []
    by_where: dict[str, list[tuple[str, str]]] = {}
    for leak in recorded:
        if not isinstance(leak, Mapping) or not isinstance(leak.get("column"), str):
            continue
        value = leak.get("value")
        figure = f"{leak.get('statistic', 'a statistic')} {value:.3f}" if isinstance(
            value, int | float) else ""  # fmt: skip
        where = f" ({leak['where']})" if isinstance(leak.get("where"), str) else ""
        by_where.setdefault(where, []).append((leak["column"], figure))
    out = []
    for where, columns in by_where.items():
        kept = "(--allow-leak / allow_leak=)"
        if len(columns) == 1:
            ((column, figure),) = columns
            said = f" with {figure}" if figure else ""
            out.append(
                f"column {column!r} was kept deliberately {kept} although on {whose}"
                f"{where} it alone predicts {label!r}{said}: {what} may rest on a leak"
            )
            continue
        named = ", ".join(f"{c!r} ({f})" if f else repr(c) for c, f in columns)
        out.append(
            f"columns {named} were kept deliberately {kept} although on {whose}{where} "
            f"each alone predicts {label!r}: {what} may rest on a leak"
        )
    return out


def absent_kept_leak_note(columns: Sequence[str], what: str = "these figures") -> str | None:
    """What a result says of the columns its model kept with ``--allow-leak`` that the data
    scored lacks (``--allow-absent-columns``): made without them, it is not what the model's
    recorded figures, which may rest on them, describe (a trial's ``predict`` on such a file
    said "these predictions may rest on a leak" and nothing of the recorded figures); None
    where there are none.

    >>> absent_kept_leak_note(["lab"], "these predictions")
    "column 'lab' kept with --allow-leak is not in --data: these predictions are made without \
it, so the figures recorded for the model, which may rest on it, do not describe them"
    """
    if not columns:
        return None
    one = len(columns) == 1
    named = f"column {columns[0]!r}" if one else "columns " + ", ".join(map(repr, columns))
    it = "it" if one else "them"
    return (f"{named} kept with --allow-leak {'is' if one else 'are'} not in --data: {what} are "
            f"made without {it}, so the figures recorded for the model, which may rest on "
            f"{it}, do not describe them")  # fmt: skip


def within_chance_notes(
    recorded: Any, label: Any, *, whose: str = ADAPTER_ROWS, what: str = "these figures"
) -> list[str]:
    """One sentence per column an adapter took for its base's strong predictor by its
    interval on few rows (``recorded``: :func:`medadapt.data.leaks.taken_within_chance`;
    anything else: none), repeated by every result on the adapter: the leak rule's
    trade-off, said where it applies (``bench/bench_leak_small_sites.py`` measures it).

    >>> within_chance_notes([{"column": "thal", "statistic": "AUROC", "value": 1.0,
    ...                       "rows": 39, "base_value": 0.93, "counts": [15, 24]}], "disease")
    ["column 'thal' alone predicts 'disease' with AUROC 1.000 on the rows the adapter was \
trained and tested on, 0.930 where the base model trained: taken for the strong predictor \
the base relies on, as 15 rows with the outcome and 24 without cannot tell the two apart; \
if it was recorded after the outcome here, these figures rest on a leak"]
    """
    out = []
    for leak in recorded if isinstance(recorded, list) else []:
        if not isinstance(leak, Mapping) or not isinstance(leak.get("column"), str):
            continue
        value, there, counts = leak.get("value"), leak.get("base_value"), leak.get("counts")
        if not isinstance(value, int | float) or not isinstance(there, int | float):
            continue
        where = f" ({leak['where']})" if isinstance(leak.get("where"), str) else ""
        few = (f"{counts[0]} rows with the outcome and {counts[1]} without" if isinstance(
            counts, list) and len(counts) == 2 else "so few rows")  # fmt: skip
        out.append(
            f"column {leak['column']!r} alone predicts {label!r} with {leak.get('statistic')} "
            f"{value:.3f} on {whose}{where}, {there:.3f} where the base model trained: taken "
            f"for the strong predictor the base relies on, as {few} cannot tell the two "
            f"apart; if it was recorded after the outcome here, {what} rest on a leak"
        )
    return out


def base_kept_leaks(training: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The columns the model of a base folder kept with ``--allow-leak``, as its record
    (``training``) holds them: the base's own, then (one not said already) those of a fully
    fine-tuned model there; what an adapter on it records as its base's
    (``base_model["allowed_leaks"]``)."""
    out: dict[Any, dict[str, Any]] = {}
    for leak in [*_leaks(training), *_leaks(training.get("adapted"))]:
        out.setdefault(leak["column"], dict(leak))
    return list(out.values())


def _leaks(record: Any) -> list[Mapping[str, Any]]:
    """The well-formed kept columns of a model's record (``training`` or its ``adapted``)."""
    kept = record.get("allowed_leaks") if isinstance(record, Mapping) else None
    return [leak for leak in kept or []
            if isinstance(leak, Mapping) and isinstance(leak.get("column"), str)]  # fmt: skip


def base_kept_leak_notes(
    training: Mapping[str, Any],
    label: Any,
    *,
    what: str = "these figures",
    said_here: Collection[str] = (),
) -> list[str]:
    """:func:`kept_leak_notes` for the columns the model of a base folder kept (its record's
    ``training``): the base's on its training rows, a fully fine-tuned model's on the rows it
    was fine-tuned on. An adapter's figures rest on them too: ``adapt`` says them as
    ``evaluate`` does, but for those ``said_here``, found again in its own rows and said with
    their figures there (a trial's adapt said 'flavanoids' twice, AUROC 0.988 and 0.994)."""
    own = [leak for leak in _leaks(training) if leak["column"] not in said_here]
    said = {leak["column"] for leak in own} | set(said_here)
    fine_tuned = [leak for leak in _leaks(training.get("adapted")) if leak["column"] not in said]
    return [
        *kept_leak_notes(own, label, what=what, whose=BASE_ROWS),
        *kept_leak_notes(fine_tuned, label, what=what, whose=FINE_TUNED_ROWS),
    ]


def with_kept_leaks(
    metrics: dict[str, Any],
    allowed: list[dict[str, Any]],
    label: Any,
    *,
    whose: str,
    base_notes: list[str] | None = None,
    within_chance: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``metrics`` with a note (:data:`ALLOWED_LEAK`) saying that they may
    rest on the columns kept with ``--allow-leak``: the registry, its cards and ``serve``
    show it beside the figures, as they show "too good to be true". ``base_notes``: an
    adapter's base's (:func:`base_kept_leak_notes`), said first; ``within_chance``: the
    columns taken for the base's strong predictors on few rows (:func:`within_chance_notes`,
    their own note, :data:`WITHIN_CHANCE_LEAK`)."""
    notes = [*(base_notes or []), *kept_leak_notes(allowed, label, whose=whose)]
    chance = within_chance_notes(within_chance, label, whose=whose)
    added = {ALLOWED_LEAK: "; ".join(notes)} if notes else {}
    added |= {WITHIN_CHANCE_LEAK: "; ".join(chance)} if chance else {}
    if not added:
        return metrics
    return {**metrics, "notes": {**(metrics.get("notes") or {}), **added}}


@dataclass(frozen=True)
class AdapterRecord:
    """What an adapter records about how it was trained and how it scored (summaries only;
    the registry refuses row-level metadata). Read tolerantly: an adapter written by another
    tool, or a later medadapt, may lack fields (None) or hold more (kept in ``extra``)."""

    kind: str | None = None
    task: str | None = None
    label: str | None = None
    classes: list[str] | None = None
    old_classes: list[str] | None = None
    new_classes: list[str] | None = None
    method: str | None = None
    data_summary: dict[str, Any] | None = None
    # how many unreadable files --on-error skip left out (their paths are printed and written
    # to --json, never stored with the adapter: file names often carry patient names or ids)
    n_skipped_files: int | None = None
    metrics: dict[str, Any] | None = None
    per_class: list[dict[str, Any]] | None = None
    base_metrics: dict[str, Any] | None = None  # the base alone on the same test patients
    # the adapter minus the base on those patients, paired (evaluate.versus_base.versus_base)
    versus_base: dict[str, Any] | None = None
    retention: dict[str, Any] | None = None  # old classes, after adding new ones
    full_finetune: dict[str, Any] | None = None  # the comparison --compare-full trained
    top_blocks: int | None = None
    feature_cache: Any = None
    split: dict[str, Any] | None = None  # which data, and checksums of which samples
    intended_use: str | None = None
    # the base it was trained on: its path, training groups, classes and the columns it kept
    # with --allow-leak (``allowed_leaks``, :func:`base_kept_leaks`; absent when none or
    # when recorded by an older medadapt)
    base_model: dict[str, Any] | None = None
    train_seconds: float | None = None
    trainable_params: int | None = None
    # what its training inputs were like beyond the base's (images: shapes, DICOM kinds)
    inputs_seen: dict[str, Any] | None = None
    # base features kept with --allow-leak although each alone predicts the label on its
    # training rows: name, statistic and row count (Leak.to_json; never a value)
    allowed_leaks: list[dict[str, Any]] | None = None
    # base features that alone predict the label on its rows better than where the base
    # trained, taken for its strong predictors on few rows (leaks.taken_within_chance)
    strong_within_chance: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict, metadata={"json": False})

    def to_json(self) -> dict[str, Any]:
        return {**{f: getattr(self, f) for f in _known(AdapterRecord)}, **self.extra}

    @classmethod
    def from_json(cls, data: Any) -> AdapterRecord:
        data = data if isinstance(data, Mapping) else {}
        known = _known(cls)
        return cls(
            **{k: data[k] for k in known if k in data},
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass(frozen=True)
class Evaluation:
    """A model (a base, an adapter on it, or a fully fine-tuned model) scored on labelled
    samples it never trained on. ``metrics`` holds the overall figures (``n``, ``auroc``,
    ``auroc_ci`` ..., ``notes``), written at the top level of the JSON object."""

    metrics: dict[str, Any]
    used: str  # which samples were scored, in words
    noun: str  # how the modality counts its samples ("rows", "images")
    n_excluded_trained: int
    task: str
    kind: str
    classes: list[str]
    adapter: str | None
    method: str | None
    trainable_params: int
    adapter_bytes: int
    subgroups: dict[str, Any]
    per_class: list[dict[str, Any]] | None
    recorded_retention: dict[str, Any] | None
    full_finetune: dict[str, Any] | None
    skipped_files: list[dict[str, str]]
    data_warnings: list[str]
    leak_warnings: list[str]
    extras: dict[str, Any] = field(default_factory=dict)  # the modality's counts
    retention: dict[str, Any] | None = None  # old classes: base vs adapter
    # an adapter's: the base alone on the same samples, and what the adapter recorded
    base_comparison: dict[str, Any] | None = None
    adapter_training: dict[str, Any] | None = None
    intended_use: str | None = None
    label: str | None = None  # what the model predicts (a measured outcome's errors are in it)
    # scores and labels for the report's plots: never written
    curves: dict[str, Any] | None = field(default=None, compare=False, repr=False,
                                          metadata={"json": False})  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.metrics, "rows_used": self.used}
        out[f"{self.noun}_used"] = self.used
        out[IN_WORDS] = metrics_in_words(self.metrics)  # as the terminal and the report read them
        for name in _known(Evaluation)[3:]:
            if name == "extras":
                out.update(self.extras)
            elif name in ("base_comparison", "adapter_training", "intended_use"):
                if self.base_comparison is not None:
                    out[name] = getattr(self, name)
            else:
                out[name] = getattr(self, name)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evaluation:
        """An evaluation read back from its JSON (the modality's extra counts come back
        among ``metrics``: the file does not say which is which)."""
        named = set(_known(cls)) - {"metrics", "used", "noun", "extras"}
        used_keys = [k for k in data if k.endswith("_used")]
        noun = next((k[: -len("_used")] for k in used_keys if k != "rows_used"), "rows")
        return cls(
            metrics={
                k: v
                for k, v in data.items()
                if k not in named and k not in used_keys and k != IN_WORDS
            },
            used=data["rows_used"],
            noun=noun,
            **{k: data[k] for k in named if k in data},
        )

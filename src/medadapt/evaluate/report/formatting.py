"""Number formatting for tables (no heavy imports, so the CLI can use it at start-up)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from medadapt.results import (  # noqa: F401 (IN_LABEL_UNITS, metric_digits: re-exported)
    BACKWARDS,
    FEWER_THAN_BASE,
    IN_LABEL_UNITS,
    METRIC_LABELS,
    MISSED_CLASS,
    NO_INFORMATION_SITES,
    ONE_CLASS,
    UNMEASURED_WORDS,
    WHOLE_RESULT,
    WHOLE_RESULT_WORDS,
    WORSE_THAN_BASE,
    counts_behind,
    grouped,
    metric_digits,
    r2_in_words,
    reaches_chance,
    rounded,
)  # the reports' names and counts, shared with the card


def fmt(value: Any, digits: int = 3) -> str:
    """A metric for a table cell: numbers rounded (:func:`rounded`), counts grouped (1,234),
    None as an en dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return rounded(value, digits)
    return grouped(value)


def fmt_ci(value: Any, ci: Sequence[float] | None, digits: int = 2) -> str:
    """``0.81 (0.72–0.89)``, or the reason it is missing. An interval that would print as one
    number (a Brier score of ``0.000 (0.000–0.000)``) gets up to three more digits: it is not
    certainty, only small; but never past three significant digits of its largest number
    (``0.295 (0.295–0.295)``, not ``0.294681 (0.294679–0.294683)``: digits beyond the third
    are noise, not precision). A positive number still too small to show is ``<0.000001``
    (:func:`rounded`), never ``0.000000``.

    >>> fmt_ci(0.000123, [0.000120, 0.000126], 3), fmt_ci(0.294681, [0.294679, 0.294683], 3)
    ('0.00012 (0.00012–0.00013)', '0.295 (0.295–0.295)')
    >>> fmt_ci(0.003, [0.001, 0.008])  # each number shown, not "<0.01 (<0.01–0.01)"
    '0.003 (0.001–0.008)'
    >>> fmt_ci(0.00022, None)  # without an interval too: not "<0.01" beside "0.0005"
    '0.0002'
    """
    if value is None:
        return "n/a"
    if ci and ci[0] != ci[1]:
        most = min(digits + 3, max(digits, three_significant(value, *ci)))
        while digits < most and f"{ci[0]:.{digits}f}" == f"{ci[1]:.{digits}f}":
            digits += 1
        while digits < most and any(v and float(f"{v:.{digits}f}") == 0 for v in (value, *ci)):
            digits += 1  # a trial's Brier "<0.01 (<0.01–0.01)" beside "0.002 (0.001–0.004)"
    else:  # a small figure without an interval (a study's base, the same for every seed)
        most = digits + 3
        while digits < most and value and float(f"{value:.{digits}f}") == 0:
            digits += 1
    text = rounded(value, digits)
    if ci:
        dash = " to " if min(ci) < 0 else "–"  # "-0.07–0.56" reads as a range of negatives
        text += f" ({rounded(ci[0], digits)}{dash}{rounded(ci[1], digits)})"
    return text


def three_significant(*values: float) -> int:
    """The decimals that show three significant digits of the largest of ``values`` (0 for
    none but 0).

    >>> three_significant(0.2947), three_significant(0.000126, 0.0001), three_significant(51.3)
    (3, 6, 1)
    """
    largest = max((abs(float(v)) for v in values), default=0.0)
    if not largest or not math.isfinite(largest):
        return 0
    return max(0, 2 - math.floor(math.log10(largest)))


SIGNED_NEAR_ZERO = ("calibration_in_the_large",)
"""Errors in the label's unit whose ideal is 0 and whose sign matters: their digits follow the
scale of their interval, not of a point estimate that may sit near 0."""


def fmt_metric(metrics: dict[str, Any], name: str, digits: int = 3) -> str:
    """A metric of ``metrics`` with its interval, and for a proportion of patients the count
    behind it: ``0.978 (0.929–1.000); 44 of 45`` (a clinician reads 1 of 15 where 0.067
    hides how few patients it rests on). An error in the label's unit keeps three significant
    figures (:func:`metric_digits`)."""
    value, interval = metrics.get(name), metrics.get(f"{name}_ci")
    text = fmt_ci(*_at_its_digits(name, value, interval, digits))
    counts = counts_behind(metrics, name)
    return f"{text}; {counts}" if counts else text


def _at_its_digits(name: str, value: Any, interval: Any, digits: int = 3) -> tuple[Any, Any, int]:
    """``(value, interval, decimals)`` as :func:`fmt_metric` prints them: an error in the
    label's unit to three significant figures; a mean error near 0 at its interval's scale
    (a trial's "0.032 (-10.971 to 11.809)" on an outcome of 25 to 346, where adapt printed
    "41.5"), its value rounded there (0.0, not "<0.1")."""
    scale = value
    if name in SIGNED_NEAR_ZERO and isinstance(value, int | float) and interval:
        scale = max([abs(value)] + [abs(x) for x in interval if isinstance(x, int | float)])
    digits = metric_digits(name, scale, digits)
    if scale is not value:
        value = round(value, digits) + 0.0
    return value, interval, digits


def metric_with_interval(name: str, value: Any, interval: Any, digits: int = 3) -> str:
    """One metric and its interval as :func:`fmt_metric` prints it, without the counts
    behind it: what the registry's ``show`` and ``diff`` print (a trial read -1.7 (-21.8 to
    19.7) from ``adapt`` and -1.67 (-21.81 to 19.69) from ``registry show``)."""
    return fmt_ci(*_at_its_digits(name, value, interval, digits))


def listed(words: Iterable[str]) -> str:
    """Words in a sentence: "a", "a and b", "a, b and c"."""
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _natural_key(value: Any) -> tuple:
    """``"<50"`` < ``"50-64"`` < ``">=65"`` < ``"unknown"``; numbers by value, then text."""
    text = str(value)
    found = re.search(r"-?\d+(?:\.\d+)?", text)
    if found is None:
        return (1, 0.0, 0, text.lower())
    prefix = text[: found.start()].strip()
    rank = -1 if prefix.startswith("<") else 1 if prefix.startswith(">") else 0
    return (0, float(found.group()), rank, text.lower())


def natural_order(values: Iterable[Any]) -> list[Any]:
    """Subgroup values in reading order: age bands by age, numbers by value, others by name.

    >>> natural_order([">=65", "unknown", "50-64", "<50"])
    ['<50', '50-64', '>=65', 'unknown']
    """
    return sorted(values, key=_natural_key)


#: the metric a one-line validation summary leads with, by preference: the headline metric
#: that evaluate, registry list and the card lead with (MAE before R², a trial read "MAE
#: 50.9" in the registry and "R^2 0.269" in the served answers of one version)
_LEADING = ("auroc", "accuracy", "mae", "r2")
#: the leading metrics' names where :data:`METRIC_LABELS` is not ASCII ("R²")
_ASCII_LABELS = {"r2": "R^2"}


def validated_words(metrics: dict[str, Any] | None) -> str:
    """How the model was validated, as a served answer says it (no room limit, unlike an
    SR's :func:`validation_summary`): the leading figure with its interval in the digits the
    card and ``registry show`` use, the test count, and ``, warning`` where any caution
    concerns the result (:func:`recorded_cautions`).

    >>> validated_words({"n": 60, "auroc": 0.8123, "auroc_ci": [0.72, 0.891]})
    'AUROC 0.812 (0.720-0.891), n=60'
    >>> validated_words({"n": 1060, "mae": 1234.5, "mae_ci": [1001.1, 1499.9],
    ...                  "notes": {"no_better_than_mean": "..."}})
    'MAE 1234 (1001-1500), n=1060, warning'
    >>> validated_words({"auroc": 0.7891, "auroc_sites": 3})  # a federated adapter's mean
    "AUROC 0.789, the mean of 3 sites' own"
    >>> validated_words({"auroc": 0.7891, "auroc_sites": 1})  # one site's: no mean
    'AUROC 0.789, at 1 site only'
    >>> validated_words({"n": 52, "n_positive": 4, "accuracy": 0.98077,  # AUROC not measured
    ...                  "accuracy_ci": [0.897, 1.0]})
    'accuracy 0.981 (0.897-1.000), n=52 (0.923 by calling everyone the commoner outcome)'
    """
    return _validated(metrics, for_sr=False)


def validation_summary(metrics: dict[str, Any] | None) -> str:
    """How the model was validated, in one ASCII line of at most 44 characters (a DICOM SR's
    algorithm parameter, in the SR's default character set): ``AUROC 0.81 (0.72-0.89), n=60``,
    ``R^2 0.41, n=50`` (not ``R²``), ``not reported (n=8)`` when the test set was too small, a
    ``warning`` flag when a caution concerns the whole result (each named by
    :func:`recorded_cautions`).

    >>> validation_summary({"n": 50, "r2": 0.412})
    'R^2 0.41, n=50'
    >>> validation_summary({"n": 10, "n_patients": 5, "notes": {}})
    'not reported (n=10, 5 patients)'
    """
    return _validated(metrics, for_sr=True)[:44]


def _validated(metrics: dict[str, Any] | None, *, for_sr: bool) -> str:
    """:func:`validation_summary` (``for_sr``: two decimals, flagged by a whole-result note)
    and :func:`validated_words` (the card's digits, flagged by any recorded caution)."""
    metrics = metrics or {}
    n = metrics.get("n")
    count = f"n={n}" if n is not None else "n unknown"
    leading = leading_metric(metrics)
    if leading is None:  # the patients the rule counts, where fewer (a trial read "n=10"
        patients = metrics.get("n_patients")  # beside "at least 10 patients needed")
        if isinstance(patients, int) and n is not None and patients < n:
            count += f", {patients} patients"
        return f"not reported ({count})" if metrics else "not evaluated"
    value = metrics[leading]
    sites = metrics.get(f"{leading}_sites")
    if n is None and isinstance(sites, int) and not isinstance(sites, bool):
        # a federated adapter's: the sites' unweighted mean, each on its own patients (a
        # trial's answer read "AUROC 0.789, n unknown")
        count = f"mean of {sites} sites' own" if for_sr else f"the mean of {sites} sites' own"
        if sites == 1:  # one site's own figure, no mean (a trial read "the mean of 1 sites'")
            count = "at 1 site only"
    digits = 2 if for_sr else metric_digits(leading, value)
    shown = fmt_ci(value, metrics.get(f"{leading}_ci"), digits).replace("\u2013", "-")
    if for_sr:
        notes = metrics.get("notes") if isinstance(metrics.get("notes"), dict) else {}
        warned = bool(set(WHOLE_RESULT_WORDS) & set(notes))  # each named too
    else:
        warned = bool(recorded_cautions(metrics))
    name = _ASCII_LABELS.get(leading) or METRIC_LABELS.get(leading, leading)
    if leading == "accuracy" and not for_sr:  # in AUROC's place: what calling everyone scores
        count += _commoner_share(metrics)
    return f"{name} {shown}, {count}{', warning' if warned else ''}"


def _commoner_share(metrics: dict[str, Any]) -> str:
    """`` (0.923 by calling everyone the commoner outcome)`` beside an accuracy that stands
    in for an AUROC not measured (a trial's served answers read "validated: accuracy 0.981"
    of an adapter tested on 4 positives among 52, where calling everyone negative scores
    0.923); empty where the counts are unknown.

    >>> _commoner_share({"n": 52, "n_positive": 4})
    ' (0.923 by calling everyone the commoner outcome)'
    """
    n, positive = metrics.get("n"), metrics.get("n_positive")
    if not isinstance(n, int) or not isinstance(positive, int) or not n or positive > n:
        return ""
    return f" ({max(positive, n - positive) / n:.3f} by calling everyone the commoner outcome)"


def recorded_cautions(metrics: dict[str, Any] | None) -> list[str]:
    """What a prediction must carry about the model that made it, from its recorded test
    figures, in a few words each (:data:`~medadapt.results.WHOLE_RESULT_WORDS`): no measured
    performance (its test set too small for any figure), a result too good to be true, ranked
    backwards, a leak kept, old classes not kept, worse than the base model alone, (nearly)
    every test case called one class. Nothing for a
    model that recorded no figures at all (saved by an older medadapt: not judged)."""
    if not metrics:
        return []
    notes = metrics.get("notes") if isinstance(metrics.get("notes"), dict) else {}
    said = [whole_result_words(key, notes[key]) for key in WHOLE_RESULT_WORDS if notes.get(key)]
    if not measured(metrics):
        said.insert(0, UNMEASURED_WORDS)
    elif metrics.get("auroc") is None and notes.get("auroc"):  # a trial's served answers said
        said.append(AUROC_UNMEASURED_WORDS)  # "every patient is called positive" only
    return said + _uncertain_result(metrics, notes) + _uninformative_sites(metrics)


def _uninformative_sites(metrics: dict[str, Any]) -> list[str]:
    """A federated adapter's caution where its accuracy at some sites was no better than
    calling every patient one class (its mean over sites hides them: a review found its
    listing and served answers silent on it).

    >>> _uninformative_sites({"no_information_sites": ["Switzerland"], "accuracy_sites": 4})
    ['accuracy uninformative at 1 of 4 sites']
    >>> _uninformative_sites({"no_information_sites": ["Switzerland"]})
    ['accuracy uninformative at 1 site']
    """
    names = metrics.get(NO_INFORMATION_SITES)
    if not isinstance(names, list) or not names:
        return []
    of = metrics.get("accuracy_sites")
    sites = "site" if len(names) == 1 and not of else "sites"  # "1 of 4 sites", "1 site"
    return [f"accuracy uninformative at {len(names)}{f' of {of}' if of else ''} {sites}"]


MAX_RECORDED_WORDS = 200  # longest recorded warning said in a caution, as recorded


def spelled_cautions(metrics: dict[str, Any] | None) -> list[str]:
    """:func:`recorded_cautions`, each that says which class in the recorded warning's own
    words ("every patient is called positive at threshold 0.5"; "class 'nodule' is found in
    0 of 30 images (sensitivity 0.000)"; the base's finds) rather than the few words a DICOM
    SR has room for: what a served answer's note, ``/v1/adapters`` and ``predict`` say, alike
    (a trial's answer and listing said one caution two ways). The SR keeps the few words."""
    said = recorded_cautions(metrics)
    notes = (metrics or {}).get("notes") if isinstance((metrics or {}).get("notes"), dict) else {}
    for key in (ONE_CLASS, MISSED_CLASS, FEWER_THAN_BASE):
        words = whole_result_words(key, notes.get(key))
        recorded = _recorded_words(notes, key) if words in said else None
        if recorded is not None:
            said[said.index(words)] = recorded
    for words in _uninformative_sites(metrics or {}):  # the sites by name
        names = listed(list(map(str, (metrics or {})[NO_INFORMATION_SITES])))
        said[said.index(words)] = (f"at {names}, accuracy no better than calling every "
                                   "patient the commonest class")[:MAX_RECORDED_WORDS]  # fmt: skip
    return said


def _recorded_words(notes: dict[str, Any], key: str) -> str | None:
    """The recorded warning ``key`` of ``notes`` up to its first ``:`` or ``;`` (what it
    found, without the advice after it), or None where there is no such short text; a missed
    class's up to its first ``:`` (its ``;`` separates the classes: a trial's answer named
    the first of two).

    >>> _recorded_words({"one_class": "every patient is called positive at "
    ...                  "threshold 0.5: the accuracy (0.946) mostly reflects ..."}, "one_class")
    'every patient is called positive at threshold 0.5'
    """
    recorded = notes.get(key)
    if not isinstance(recorded, str):
        return None
    ends = r": " if key == MISSED_CLASS else r"[:;] "
    words = re.split(ends, recorded.strip(), maxsplit=1)[0].strip()
    if words.count("(") > words.count(")"):  # cut inside its parentheses: before them
        words = words.rsplit(" (", 1)[0].strip()
    return words if 0 < len(words) <= MAX_RECORDED_WORDS else None


def whole_result_words(key: str, note: Any) -> str:
    """A whole-result note's few words; the one-class note says which of its two findings it
    records (a trial's served adapter, accuracy no better than calling everyone positive
    though it called 29 of 60 negative, was said to have "called nearly every test case one
    class")."""
    if key == ONE_CLASS and isinstance(note, str) and note.startswith("accuracy"):
        return NO_BETTER_THAN_ONE_ANSWER
    if isinstance(note, str) and note.lower().startswith("at ") and key in AT_A_SITE_WORDS:
        return AT_A_SITE_WORDS[key]  # a federated adapter's harm at some of its sites
    return WHOLE_RESULT_WORDS[key]


#: a federated adapter's harm at some of its sites (``results.harm_at_sites``), in words that
#: do not say it of the answering site's own patients (a review: every site's answers read
#: "ranked its test cases backwards")
AT_A_SITE_WORDS = {
    BACKWARDS: "ranked a site's test cases backwards",
    WORSE_THAN_BASE: "did worse than the base model at a site",
}


#: the one-class note where it records an accuracy no better than the commonest class's
NO_BETTER_THAN_ONE_ANSWER = "accuracy no better than one answer for all"


def _uncertain_result(metrics: dict[str, Any], notes: dict[str, Any]) -> list[str]:
    """Cautions on a measured result that ``registry promote`` warns of and the card says,
    which a trial's served answers left out ("note": null): an AUROC whose interval reaches
    0.5 (or an R² above 0 whose interval reaches 0), and predictions too low or too high on
    average (the interval of the mean error excludes 0).

    >>> _uncertain_result({"auroc": 0.616, "auroc_ci": [0.447, 0.778]}, {})
    ['AUROC not shown better than chance']
    >>> _uncertain_result({"r2": 0.2, "r2_ci": [-0.05, 0.4]}, {"calibration_in_the_large":
    ...     "on average the predictions are too low by 16.0 (the interval excludes 0)"})
    ['not shown better than the average value', 'predictions too low on average by 16.0']
    """
    said = []
    if metrics.get("auroc") is not None and reaches_chance(metrics.get("auroc_ci")):
        said.append(CHANCE_WORDS)
    r2, ci = metrics.get("r2"), metrics.get("r2_ci")
    if r2 is not None and ci and r2_in_words(r2, ci[0]):  # (0 or below: NO_BETTER_THAN_MEAN)
        said.append(AVERAGE_WORDS)
    mean_error = notes.get("calibration_in_the_large")
    found = (
        re.search(r"too (low|high) by ([\d,.]+)", mean_error)
        if isinstance(mean_error, str)
        else None
    )
    if found:
        said.append(f"predictions too {found[1]} on average by {found[2]}"[:MAX_CAUTION])
    events = notes.get("oe_ratio")  # risks too low or too high on average (README: said too)
    ratio = metrics.get("oe_ratio")
    wrong = (
        re.search(r"predicts too (few|many) events", events) if isinstance(events, str) else None
    )
    if wrong and isinstance(ratio, int | float):
        which = "low" if wrong[1] == "few" else "high"
        said.append(f"risks too {which} on average (O/E {ratio:.2f})")
    caution = calibration_caution(metrics)
    return said + ([caution] if caution else [])


def outcome_unit(label: Any) -> str:
    """Where an error of a measured outcome is in: ``in the unit of 'progression'`` (a trial's
    reports never named the outcome their MAE measured), else the outcome's.

    >>> outcome_unit("progression"), outcome_unit(None)
    ("in the unit of 'progression'", "in the outcome's unit")
    """
    return f"in the unit of {label!r}" if isinstance(label, str) and label else (
        "in the outcome's unit")  # fmt: skip


def calibration_unmeasured(metrics: dict[str, Any]) -> str | None:
    """Why a binary model's measured test could not measure how well its probabilities match
    what happens (too few patients of an outcome for a calibration slope), or None: its
    probabilities are then a ranking, not each patient's risk (a trial read "0.99981230" as
    a near-certain risk from an adapter tested on 3 positives; served answers and the SR
    said nothing of it).

    >>> calibration_unmeasured({"n": 40, "n_positive": 3, "auroc": 0.8, "calibration_slope":
    ...     None, "notes": {"calibration_slope": "not reported: 3 positives; at least 10"}})
    '3 positives'
    """
    notes = metrics.get("notes") if isinstance(metrics.get("notes"), dict) else {}
    if "n_positive" not in metrics or metrics.get("calibration_slope") is not None:
        return None
    if not measured(metrics):  # no figure at all: said so already
        return None
    why = notes.get("calibration_slope")
    why = why.removeprefix("not reported: ").split(";")[0].strip() if isinstance(why, str) else ""
    return why or None


def _average_checked(metrics: dict[str, Any]) -> bool:
    """Whether a test without a calibration slope still measured the probabilities'
    average level: an observed/expected ratio with its interval, on enough patients of each
    outcome for an AUROC (a slope lost to near-perfect separation, not to too few events)."""
    ci = metrics.get("oe_ratio_ci")
    finite = (isinstance(ci, list | tuple) and len(ci) == 2
              and all(isinstance(v, int | float) and math.isfinite(v) for v in ci))  # fmt: skip
    return metrics.get("oe_ratio") is not None and finite and metrics.get("auroc") is not None


def calibration_caution(metrics: dict[str, Any]) -> str | None:
    """The few words a prediction carries where its model's test measured no calibration
    slope: a ranking, not a risk; or, where the observed/expected ratio was measured (a
    trial's card gave O/E 0.977 beside an answer saying "calibration unmeasured"), that only
    the average level was.

    >>> why = {"calibration_slope": "not reported: the predictions separate these patients"}
    >>> calibration_caution({"n": 83, "n_positive": 49, "auroc": 0.99, "calibration_slope":
    ...     None, "oe_ratio": 0.977, "oe_ratio_ci": [0.82, 1.17], "notes": why})
    'calibration: average only, slope unmeasured'
    """
    if not calibration_unmeasured(metrics):
        return None
    if _average_checked(metrics):
        return AVERAGE_ONLY_WORDS
    if metrics.get("auroc") is None:  # no ranking measured either: not "a ranking" (a trial
        notes = metrics.get("notes") if isinstance(metrics.get("notes"), dict) else {}
        return UNRANKED_TOO_WORDS if notes.get("auroc") else UNRANKED_WORDS  # read both)
    return UNCALIBRATED_WORDS


def calibration_sentence(metrics: dict[str, Any]) -> str | None:
    """:func:`calibration_caution` in a sentence, after "the recorded test of <model>" (what
    ``predict`` and ``registry promote`` warn); None where the slope was measured."""
    why = calibration_unmeasured(metrics)
    if not why:
        return None
    why = re.sub(r" \(([^()]*)\)", r": \1", why)  # its own parentheses: not inside these
    if not _average_checked(metrics):
        if metrics.get("auroc") is None:  # nor their ranking
            return (f"could not measure how well its probabilities match what happens ({why}), "
                    "nor how well they rank patients (no AUROC): read them as neither each "
                    "patient's risk nor a measured ranking")  # fmt: skip
        return (f"could not measure how well its probabilities match what happens ({why}): "
                "read them as a ranking of these patients, not as each patient's risk")  # fmt: skip
    low, high = metrics["oe_ratio_ci"]
    return (
        f"measured only the average level of its probabilities (observed/expected "
        f"{metrics['oe_ratio']:.2f}, 95% CI {low:.2f} to {high:.2f}) and could not measure "
        f"whether they are too extreme "
        f"or too moderate ({why}): read each probability as a ranking, not as that "
        "patient's risk (near 0 or 1 it may be too extreme, near 0.5 too moderate)"
    )


#: cautions' words (at most :data:`MAX_CAUTION` characters, ASCII, as
#: :data:`~medadapt.results.WHOLE_RESULT_WORDS`): an AUROC, an R² whose interval reaches chance
CHANCE_WORDS = "AUROC not shown better than chance"
AVERAGE_WORDS = "not shown better than the average value"
UNCALIBRATED_WORDS = "calibration unmeasured: a ranking, not a risk"
UNRANKED_WORDS = "neither ranking nor calibration measured"  # no AUROC either
UNRANKED_TOO_WORDS = "calibration unmeasured too: not a risk"  # beside AUROC_UNMEASURED_WORDS
AVERAGE_ONLY_WORDS = "calibration: average only, slope unmeasured"
MAX_CAUTION = 47


#: a caution's words for a recorded result whose accuracy stands in for an AUROC left out
#: (at most 47 characters, as :data:`~medadapt.results.WHOLE_RESULT_WORDS`)
AUROC_UNMEASURED_WORDS = "AUROC not measured on its test patients"


def leading_metric(metrics: dict[str, Any]) -> str | None:
    """The first of the leading metrics (AUROC, accuracy, MAE, R²) the recorded test figures
    hold; None: none (no measured performance, its test set too small for a figure).

    >>> leading_metric({"auroc": None, "accuracy": 0.9}), leading_metric({"n": 8})
    ('accuracy', None)
    """
    return next((m for m in _LEADING if metrics.get(m) is not None), None)


def measured(metrics: dict[str, Any]) -> bool:
    """Whether recorded test figures hold a leading one (:func:`leading_metric`): without
    any, the model has no measured performance (its test set too small for a figure)."""
    return leading_metric(metrics) is not None

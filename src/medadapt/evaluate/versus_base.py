"""Did the adapter help? Its metric against the base model's on the same patients, in words.

Composes the paired difference, the change in mean error (MAE) and the warnings about classes
the adapter ignores (AUROC) into one comparison, and judges whether that comparison says the
adapter did harm.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from medadapt.evaluate.bootstrap import cluster_index
from medadapt.evaluate.difference import Difference, below, signed, signed_digits, zero_end
from medadapt.evaluate.ignored_classes import (
    accuracy_caveat,
    fewer_found,
    more_found,
    unpredicted_classes,
)
from medadapt.evaluate.mean_error_change import (
    MEAN_ERROR_CHANGES,
    MEAN_ERROR_HARMS,
    mean_error_change,
)
from medadapt.evaluate.metrics import N_BOOT, sampled_unit
from medadapt.evaluate.paired_difference import paired_difference
from medadapt.results import TOO_GOOD_KEY

FEWER_FOUND = "fewer_found"  # the key of the threshold warnings fewer_found gave
UNPREDICTED = "unpredicted"  # the key of those unpredicted_classes gave (none called a class)


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
        "in_words": _adapter_in_words(diff, name, units, same_order=_same_order(adapted, base)),
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
        counted = sampled_unit(unit, cluster_index(patients, len(y)))  # calls count samples
        out[UNPREDICTED] = unpredicted_classes(y, adapted, base, names, threshold=threshold,
                                               unit=counted)  # fmt: skip
        out["warnings"] = list(out[UNPREDICTED])
        if not withheld:  # a measured AUROC that no threshold moves: what it does not show
            out[FEWER_FOUND] = fewer_found(y, adapted, base, names, threshold=threshold,
                                           unit=counted)  # fmt: skip
            out["warnings"] += out[FEWER_FOUND]
            if _probabilities(adapted, base):  # risks: their calibration is compared too
                out["brier"] = _brier_instead(y, adapted, base, unit=unit, n_boot=n_boot,
                                              seed=seed, patients=patients,
                                              instead=False)  # beside AUROC  # fmt: skip
                out["warnings"] += _worse_risks(out["brier"], diff)
            if diff.verdict not in ("better", "worse") and not out[FEWER_FOUND]:  # no gain
                out["in_words"] += _gains_beside(out, y, adapted, base, names, threshold, counted)
            if diff.verdict == "better":
                out["in_words"] += _still_backwards(y, adapted, units)
        if withheld:
            caveat = accuracy_caveat(y, names, unit=unit)
            if caveat:
                out["in_words"] += f" {caveat}"
            out["brier"] = _brier_instead(y, adapted, base, unit=unit, n_boot=n_boot, seed=seed,
                                          patients=patients)  # fmt: skip
            out["in_words"] += f" {out['brier']['in_words']}"
    return out


def too_good_caveat(paired: dict[str, Any], notes: Any) -> dict[str, Any]:
    """``paired`` (:func:`versus_base`'s) with a caution after each verdict that calls the
    adapter better, where its own result is too good to be true (``notes``: its metrics'):
    a trial's ``adapt`` said the adapter "gives risks closer to what happened" of a result the
    same report called too good to be true, and a copied label would give that gain too."""
    if not isinstance(notes, dict) or not notes.get(TOO_GOOD_KEY):
        return paired
    caution = (" The adapter's own result is too good to be true (notes.too_good): a leak "
               "would give this gain as well, so it says nothing of the adapter's skill until "
               "one is ruled out.")  # fmt: skip
    out, brier = dict(paired), paired.get("brier")
    brier_better = isinstance(brier, dict) and brier.get("verdict") == "better"
    if brier_better:
        out["brier"] = {**brier, "in_words": brier["in_words"] + caution}
    brier_said = brier_better and brier["in_words"] in out["in_words"]  # said verbatim there
    if out.get("verdict") == "better" or brier_said:  # once, after every gain said
        out["in_words"] += caution
    return out


def _still_backwards(y: np.ndarray, adapted: Any, units: str) -> str:
    """Where an adapter that ranks better than the base model has an AUROC below 0.5 of its
    own (a trial's adapter of 0.307, against the base's 0.017, read "ranks patients by risk
    better" as an endorsement): that figure, said after the verdict; the adapter's own
    interval, in its figures, says whether chance explains it. Several classes: their macro
    one-vs-rest AUROC, the one compared. Empty otherwise."""
    from sklearn.metrics import roc_auc_score

    scores = np.asarray(adapted, dtype=float)
    try:
        if scores.ndim == 1:
            auroc = float(roc_auc_score(y, scores))
        else:
            auroc = float(roc_auc_score(y, scores, multi_class="ovr", average="macro",
                                        labels=np.arange(scores.shape[1])))  # fmt: skip
    except ValueError:  # a class absent: no AUROC to say
        return ""
    if auroc >= 0.5:
        return ""
    return (f" Its own AUROC on these {units}, {auroc:.3f}, is below 0.5, the level of chance: "
            "ranking better than the base model alone does not make it useful.")  # fmt: skip


def _brier_instead(
    y: np.ndarray, adapted: Any, base: Any, *, instead: bool = True, **paired: Any
) -> dict[str, Any]:
    """Where AUROC cannot compare the two models (too few patients of a class), the Brier
    score still can (it needs no class of a minimum size): its paired difference, said (a
    trial was told to "compare models by their Brier score", and given no comparison).
    ``instead`` False: beside an AUROC compared, said so ("By the Brier score, paired ...";
    a trial read "instead" in the JSON's ``brier.in_words`` of a result compared by both)."""
    diff = paired_difference(y, adapted, base, metric="brier", **paired)
    units = f"{paired.get('unit', 'patient')}s"
    said = _adapter_in_words(diff, "the Brier score", units)
    by = "By the Brier score instead," if instead else "By the Brier score,"
    said = said.replace("Paired on the same", f"{by} paired on the same", 1)
    said = said.replace("changes the Brier score by", "changes it by", 1)
    said += _no_better_than_shares(y, adapted, paired.get("unit", "patient"),
                                   contrast=diff.verdict == "better")  # fmt: skip
    return {"difference": diff.value, "ci": None if diff.ci is None else list(diff.ci),
            "verdict": diff.verdict, "in_words": said}  # fmt: skip


def _gains_beside(
    out: dict[str, Any],
    y: np.ndarray,
    adapted: Any,
    base: Any,
    names: Sequence[str],
    threshold: float,
    unit: str,
) -> str:
    """Where the AUROC shows no gain, the gains it cannot show, as sentences after it: the
    classes the base model alone called far fewer of at the threshold (:func:`more_found`),
    and the Brier score's comparison, better or not shown to differ (a trial's base called
    every image 'ring', the adapter 24 of 24 right, and the terminal read only "no
    difference can be shown")."""
    found = more_found(y, adapted, base, names, threshold=threshold, unit=unit)
    brier = out.get("brier") or {}
    said = [found] if found else []
    # beside the AUROC compared, not in its place; a gain or none alike (a trial's two
    # adapters: one's gain was said, the other's none left unsaid); a loss is a warning
    if brier.get("verdict") in ("better", "no detectable difference"):
        said.append(brier["in_words"])  # "By the Brier score, ...": beside the AUROC
    return "".join(f" {sentence}" for sentence in said)


def _no_better_than_shares(y: np.ndarray, adapted: Any, unit: str, *, contrast: bool) -> str:
    """Where the adapter's Brier score is no better than giving every patient the test
    group's own outcome shares (1 - sum of the squared shares; for two classes, p(1 - p)): a
    lower Brier score than a badly calibrated base's is then no sign of useful risks (a
    trial's four-class adapter, 0.788 against the base's 1.09, was said to give "risks closer
    to what happened" where the shares score 0.768)."""
    scores = np.asarray(adapted, dtype=float)
    y = np.asarray(y).astype(int)
    if scores.ndim == 1:  # P(positive)
        brier = float(np.mean((scores - y) ** 2))
        shares = np.bincount(y, minlength=2)[:2] / len(y)
        reference, what = float(shares[1] * shares[0]), "outcome"
    else:
        onehot = np.eye(scores.shape[1])[y]
        brier = float(((scores - onehot) ** 2).sum(axis=1).mean())
        shares = np.bincount(y, minlength=scores.shape[1]) / len(y)
        reference, what = float(1 - (shares**2).sum()), "class"
    if brier < reference - 1e-9:  # the shares themselves score it, to rounding
        return ""
    start = "Yet the" if contrast else "The"  # "yet" only after a gain said
    return (f" {start} adapter's Brier score ({brier:.3f}) is no better than giving every "
            f"{unit} this group's own {what} shares ({reference:.3f}): its probabilities are "
            "not yet worth more than those shares.")  # fmt: skip


def _probabilities(*scores: Any) -> bool:
    """Whether every score is a probability (a caller's raw scores rank patients, but have no
    Brier score)."""
    return all(bool(np.all((np.asarray(s) >= 0) & (np.asarray(s) <= 1))) for s in scores)


def _worse_risks(brier: dict[str, Any], auroc: Difference) -> list[str]:
    """A warning where, paired on the same patients, the adapter's Brier score is measurably
    worse than the base model's (its risks further from what happened), with what to do where
    its AUROC shows no gain: a trial's adapter, AUROC +0.012 (-0.036 to +0.057), had a Brier
    score of 0.093 against the base's 0.067 and was promoted without a word."""
    if brier["verdict"] != "worse":
        return []
    low, high = brier["ci"]
    d = signed_digits(3, brier["difference"], low, high)  # an end near 0 keeps its sign
    said = (f"the adapter's Brier score is worse than the base model's on the same patients "
            f"({signed(brier['difference'], d)}, 95% CI {signed(low, d)} to {signed(high, d)}): "
            "its predicted risks are further from what happened")  # fmt: skip
    if auroc.verdict != "better":
        said += "; with no gain in AUROC to set against it, keep the base model"
    return [said]


def _enough_units(y_true: Any, patients: Any) -> bool:
    """Whether the metrics report figures on these samples (at least ``MIN_PATIENTS``
    patients): below, no accuracy is shown for a caveat to qualify, and a warning about what
    the adapter called a class would describe one or two identifiable patients."""
    from medadapt.evaluate.metrics import MIN_PATIENTS

    n = len(np.unique(np.asarray(patients).astype(str))) if patients is not None else len(y_true)
    return n >= MIN_PATIENTS


def versus_base_harms(paired: dict[str, Any]) -> bool:
    """Whether :func:`versus_base`'s comparison says the adapter did harm: a worse metric, or a
    systematic error it brought in, enlarged or turned the other way (said as a warning)."""
    error = paired.get("mean_error") or {}
    grew = error.get("verdict") == "reversed" and abs(error["adapter"]) >= abs(error["base"])
    return paired.get("verdict") == "worse" or error.get("verdict") in MEAN_ERROR_HARMS or grew


def _class_words(classes: Sequence[str] | None, scores: Any) -> list[str]:
    """The classes as the warnings name them: ``'low'``, or a table's negatives and
    positives (no names given) as ``negative`` and ``positive``."""
    k = np.shape(scores)[1] if np.ndim(scores) == 2 else 2
    if classes is None or len(classes) != k:
        return ["negative", "positive"] if k == 2 else [f"class {c}" for c in range(k)]
    return [repr(str(c)) for c in classes]


def _same_order(adapted: Any, base: Any) -> bool:
    """Whether the two models rank the samples alike (for several classes, by each class's
    probability): then every ranking metric (AUROC) is the same on any resample."""
    from scipy.stats import rankdata

    a, b = np.asarray(adapted, dtype=float), np.asarray(base, dtype=float)
    if a.shape != b.shape or a.size == 0:
        return False
    return bool(np.array_equal(rankdata(a, axis=0), rankdata(b, axis=0)))


def _adapter_in_words(diff: Difference, name: str, units: str, *, same_order: bool = False) -> str:
    if diff.value is None or diff.ci is None:
        return f"The adapter and the base model cannot be compared on {name} ({diff.note})."
    d = diff.shown_digits()
    if diff.ci[1] - diff.ci[0] <= 1e-12:  # every resample alike: no interval, not certainty
        if abs(diff.value) <= 1e-12 and same_order and diff.metric == "auroc":
            return (
                f"Paired on the same {units}, the adapter puts these {units} in exactly the "
                f"order the base model does, so their {name} is the same on any of them, "
                f"however many: it changes the predicted probabilities, not their order. Judge "
                "it by calibration (Brier score, observed/expected) and by sensitivity and "
                "specificity at the threshold, against the base model's on the same "
                f"{units}, side by side in the HTML report (--report)."
            )
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
        f"no detectable difference on these {units}{zero_end(diff.ci)}"
        if diff.verdict not in ("better", "worse")
        else f"the adapter {diff.verdict_in_words()}{diff.negligible_words()}"
    )
    numbers = diff.numbers(d)
    if numbers is None:  # too small to show in any digits: its bound
        numbers = f"less than {below(d)} either way (95% CI too"
    said = (
        f"Paired on the same {units}, the adapter changes {name} by {numbers}"
        f"{diff.direction('; ')}): {verdict}."
    )
    if diff.verdict == "worse":  # the adapter did harm here: say what to do
        return f"{said} Keep the base model for these {units}, or adapt again on more of them."
    return said

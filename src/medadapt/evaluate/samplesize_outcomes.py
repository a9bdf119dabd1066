"""The outcome a sample-size criterion is computed for: binary (Riley et al. 2019 part II),
continuous (Riley et al. 2019 part I) or nominal with more than two classes (Pate et al. 2023),
with the anticipated R-squared each needs and where it came from.

Anticipated R-squared, lowest of what is known (a lower R-squared asks for more patients):

* binary: the Cox-Snell R-squared implied by the base's AUROC on its source and at this site,
  each planned as at least :data:`WEAKEST_PLANNED` (0.55: an AUROC of 0.509, or 0.448, or a
  base ranking backwards, is planned as 0.55, so a weaker base is never told it needs fewer
  patients; before, 0.509 implied a million patients or more where 0.491 took the default);
  where the site gives no AUROC to plan on (no patient the base never saw; fewer of them than
  ``evaluate`` reports an AUROC from: ``MIN_PATIENTS`` in all, ``MIN_PER_CLASS`` of each
  class; an AUROC of 1), Riley et al. 2020's conservative default (Nagelkerke 0.15) takes the
  site's place, or the source's where lower: fewer patients at a site never make the answer
  less cautious;
* multiclass: per pair of classes, the one implied by the base's pairwise AUROC at this site,
  planned as at least 0.55 (else the conservative default for that pair, and the sentence
  says why: too few patients the base never saw, in all or of one of the two classes; a
  class the base does not score; a pairwise AUROC of 1); overall, the conservative default;
* continuous: the base's R-squared on its source and at this site; without a positive one,
  0.1 (a weak model, stated as an assumption, with why the site gives none to plan on).

The criteria's caveats go with the outcome (:attr:`Outcome.notes`): criterion (iii)'s margin
against a rare outcome's risk, and a continuous criterion (iv) left out where the outcome's
values lie on both sides of 0 and its mean within one SD of 0 (a centred score, a change).

Where the scored samples name their patients and one has several (repeat visits), the fewest
of a class an AUROC needs are counted in patients, as the evaluation counts them: six visits
of two patients are two patients of the class, not six. So are the prevalence and the class
proportions the criteria are read at, where the labels' patients are given: each class's
patients (a patient once in each class among their samples, as
:func:`~medadapt.evaluate.sufficiency.count_patients` counts them) over those counts' sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

import numpy as np

from medadapt.evaluate.bootstrap import cluster_index
from medadapt.evaluate.ignored_classes import called_classes
from medadapt.evaluate.metrics import (
    MIN_PATIENTS,
    MIN_PER_CLASS,
    count_units,
    flat_spread,
    spread_text,
)
from medadapt.evaluate.report.formatting import listed
from medadapt.evaluate.samplesize import (
    Criterion,
    cox_snell_from_c,
    development,
    max_cox_snell,
    prevalence_interval,
    rare_outcome_note,
    shrinkage_n,
)
from medadapt.evaluate.samplesize_continuous import development_continuous, mean_criterion_note
from medadapt.evaluate.samplesize_multiclass import (
    development_multiclass,
    max_cox_snell_multiclass,
    pair_prevalence,
)
from medadapt.results import r2_text

NAGELKERKE_DEFAULT = 0.15
CONTINUOUS_DEFAULT = 0.1
DEFAULT_SOURCE = "conservative default (Nagelkerke R-squared 0.15, Riley et al. 2020)"
ASSUMED_R2_SOURCE = "a conservative default (no positive R-squared of the base is known)"
"""Where the default R-squared comes from, said after it ("anticipated R-squared 0.100, a
conservative default ...": a trial read "0.100, assumed 0.1")."""
PATIENTS = "patients"
LOWER = "the lower one is used, to be cautious"
CAUTIOUS_C = 0.7
"""The C-statistic the validation criteria assume where the site gives none to plan on (about
the one the conservative default R-squared implies near a prevalence of 0.5)."""
#: what the study line calls each anticipated R-squared (:attr:`Outcome.r2_basis`)
BASIS_DEFAULT = "conservative R-squared"
BASIS_HERE = "the base model's R-squared here"
BASIS_SOURCE = "the base model's R-squared on its source"
BASIS_PAIRS = "conservative R-squared overall, per pair of classes the base model's AUROC here"


WEAKEST_PLANNED = 0.55
"""The weakest AUROC a plan takes (on the source, at the site, or for a pair of classes): a
weaker one, down to a base that ranks the patients backwards, is planned as this. Lower, the
criteria ask a million patients or more; a base no better than chance here tells nothing of
what an adapter will reach, and this is the weakest ranking still worth adapting for."""


def _planned(auroc: float) -> float:
    """The AUROC a plan takes for a measured one (below 1): at least :data:`WEAKEST_PLANNED`."""
    return max(auroc, WEAKEST_PLANNED)


def _weak_words(auroc: float) -> str:
    """``""``, or why a measured AUROC is planned as :data:`WEAKEST_PLANNED`: ``", no better
    than chance: planned as 0.55, the weakest ranking a plan takes"``."""
    if auroc >= WEAKEST_PLANNED:
        return ""
    state = ("barely better than chance" if auroc > 0.5 else "no better than chance"
             if auroc >= BACKWARDS_BELOW else BACKWARDS)  # fmt: skip
    return f", {state}: planned as {WEAKEST_PLANNED:g}, the weakest ranking a plan takes"


@dataclass
class Outcome:
    """One target's outcome, ready to give each strategy's development criteria."""

    task: str
    summary: str  # e.g. "prevalence 0.391", for people
    r2: float
    r2_source: str
    figures: dict[str, Any] = field(default_factory=dict)  # prevalence(s), mean, SD
    pairs: dict[tuple[int, int], float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # the criteria's caveats for this outcome
    r2_basis: str = BASIS_DEFAULT  # the anticipated R-squared's origin, in a few words
    # binary: each class's count (patients, where counted) the prevalence is read from, the
    # AUROC the R-squared is planned from (None: the conservative default) and whether that
    # default caps it (no site AUROC to plan on), so that the criteria can be read at another
    # prevalence as they were planned at this one (:meth:`at_prevalence`)
    counts: tuple[int, int] | None = None
    planned_c: float | None = None
    default_caps: bool = False

    @property
    def r2_label(self) -> str:
        return "R-squared" if self.task == "regression" else "Cox-Snell R-squared"

    def criteria(self, parameters: int) -> list[Criterion]:
        if self.task == "binary":
            return development(parameters=parameters, prevalence=self.figures["prevalence"],
                               r2_cs=self.r2)  # fmt: skip
        if self.task == "multiclass":
            return development_multiclass(
                parameters=parameters, total_parameters=parameters,
                prevalences=self.figures["prevalences"], r2_pairs=self.pairs, r2_cs=self.r2,
            )  # fmt: skip
        mean, sd = self.figures["mean"], self.figures["sd"]
        return development_continuous(parameters=parameters, r2=self.r2, intercept=mean, sd=sd,
                                      crosses_zero=self.figures.get("crosses_zero"))  # fmt: skip

    def few_events(self) -> bool:
        """Whether a binary outcome's prevalence rests on few patients of a class: fewer
        than :data:`~medadapt.evaluate.metrics.MIN_PER_CLASS`, the threshold of the warning
        that names that class (:func:`~medadapt.evaluate.sufficiency.rare_class_note`)."""
        return self.counts is not None and 0 < min(self.counts) < MIN_PER_CLASS

    def prevalence_ci(self) -> tuple[float, float]:
        """The prevalence's 95% Wilson interval, from the class counts it is read from."""
        if self.counts is None:
            raise ValueError(f"a {self.task} outcome records no class counts")
        return prevalence_interval(self.counts[1], sum(self.counts))

    def at_prevalence(self, prevalence: float) -> Outcome:
        """The same binary outcome at another ``prevalence``: the anticipated R-squared planned
        by the same rule at that prevalence (from the same AUROC, the conservative default, or
        the lower of the two where the site gave no AUROC to plan on)."""
        default = NAGELKERKE_DEFAULT * max_cox_snell(prevalence)
        r2 = default if self.planned_c is None else cox_snell_from_c(self.planned_c, prevalence)
        if self.default_caps:
            r2 = min(r2, default)
        return replace(self, r2=r2, figures={**self.figures, "prevalence": prevalence})

    def to_dict(self) -> dict[str, Any]:
        out = {"task": self.task, "outcome": self.summary, "r2": self.r2,
               "r2_label": self.r2_label, "r2_source": self.r2_source,
               "r2_basis": self.r2_basis, **self.figures,
               "criteria_notes": list(self.notes)}  # fmt: skip
        if self.task == "binary":
            out["r2_cs"] = self.r2
        return out


SOURCE = ("Riley et al. Stat Med 2019;38:1276-96 and BMJ 2020;368:m441 (development); "
          "Riley et al. Stat Med 2021;40:4230-51 (external validation)")  # fmt: skip
DEVELOPMENT_SOURCE = "Riley et al. Stat Med 2019;38:1276-96 and BMJ 2020;368:m441 (development)"
CONTINUOUS_SOURCE = "Riley et al. Stat Med 2019;38:1262-75 and BMJ 2020;368:m441 (development)"
MULTICLASS_SOURCE = ("Pate et al. Stat Methods Med Res 2023;32:555-71, extending Riley et al. "
                     "Stat Med 2019;38:1276-96 (development)")  # fmt: skip


def source_of(task: str, *, validation: bool = True) -> str:
    """The papers behind the criteria for ``task`` (``validation``: a binary outcome's
    external-validation criteria were computed too, for a test set)."""
    if task == "binary" and not validation:
        return DEVELOPMENT_SOURCE
    return {"binary": SOURCE, "regression": CONTINUOUS_SOURCE}.get(task, MULTICLASS_SOURCE)


def name_classes(outcome: Outcome, classes: list[str]) -> None:
    """The weakest pair of a multiclass outcome by the classes' names, not their indices."""
    pair = outcome.figures.get("weakest_pair")
    if pair is not None:
        pair["classes"] = [classes[i] if i < len(classes) else str(i) for i in pair["classes"]]


def outcome_of(task: str, labels: np.ndarray,
               scored: tuple[np.ndarray, np.ndarray] | None = None,
               known: dict[str, float] | None = None,
               noun: str = "samples", classes: Sequence[str] = (), *,
               patients: np.ndarray | None = None,
               label_patients: np.ndarray | None = None) -> Outcome | str:  # fmt: skip
    """The outcome of ``labels`` (class indices, or values for regression). ``scored``: the
    labels and the base's scores of the samples it scored (None: not scored, so the
    conservative default); ``known``: the base's metrics on its source (``auroc``, ``r2``);
    ``noun``: how sentences count the samples ("patients", "images"); ``classes``: the class
    names, for the sentences; ``patients``: the scored samples' patients
    (:meth:`~medadapt.modalities.samples.Samples.known_patients`; None: each sample its own),
    so that the fewest of a class an AUROC needs count patients; ``label_patients``: the
    patients of ``labels`` (None: each label its own), so that the prevalence or the class
    proportions count patients (:func:`class_shares`). A string says why no criterion
    applies."""
    known = known or {}
    if task == "regression":
        return _continuous(np.asarray(labels, dtype=float), scored, known.get("r2"), noun)
    labels = np.asarray(labels).astype(int)
    counted = cluster_index(label_patients, len(labels))
    clusters = None
    if scored is not None:
        scored = (np.asarray(scored[0]).astype(int), np.asarray(scored[1], dtype=float))
        clusters = cluster_index(patients, len(scored[0]))
    if task == "binary" and labels.max(initial=0) <= 1:  # (an adapter may add classes)
        counts = class_counts(labels, 2, counted)
        prevalence = counts[1] / sum(counts) if sum(counts) else 0.0
        outcome = _binary(labels, scored, known.get("auroc"), noun, classes, clusters, prevalence,
                          patients=patients)  # fmt: skip
        if isinstance(outcome, Outcome):
            outcome.counts = (counts[0], counts[1])
        return outcome
    unscored = None  # why no pairwise AUROC at all
    if scored is not None and len(scored[0]) == 0:
        scored, unscored = None, f"it trained on every one of these {noun}"
    elif scored is not None and scored[1].ndim != 2:  # a binary base's P(class 1)
        scored, unscored = None, TWO_CLASS_BASE
    return _multiclass(labels, scored, classes, noun, clusters, counted, unscored)


def class_shares(labels: np.ndarray, k: int, patients: np.ndarray | None) -> list[float]:
    """Each of the ``k`` classes' share of ``labels`` (class indices), or where ``patients``
    number each label's patient (:func:`~medadapt.evaluate.bootstrap.cluster_index`; None:
    each label its own), of the patients: a patient counts once in each class among their
    samples, as :func:`~medadapt.evaluate.sufficiency.count_patients` counts them, and the
    shares are of those counts' sum (a patient whose samples disagree weighs in each class)."""
    if patients is None:
        return [float(np.mean(labels == c)) for c in range(k)]
    counts = class_counts(labels, k, patients)
    total = sum(counts)
    return [n / total if total else 0.0 for n in counts]


def class_counts(labels: np.ndarray, k: int, patients: np.ndarray | None) -> list[int]:
    """Each of the ``k`` classes' count among ``labels``, in patients where ``patients``
    number them (a patient once in each class among their samples), as :func:`class_shares`
    divides them."""
    return [count_units(labels == c, patients) for c in range(k)]


def _other(known: list[tuple[float, str]], used: float) -> str:
    """``; 0.850 on its source: the lower one is used`` when both figures are known."""
    others = [(value, where) for value, where in known if value != used]
    if not others:
        return "" if len(known) == 1 else "; the same on its source and here"
    value, where = others[0]
    return f"; {value:.3f} {where.split(',')[0]}: the lower one is used, to be cautious"


def _binary(labels: np.ndarray, scored, source_auroc: float | None, noun: str,
            classes: Sequence[str] = (), clusters: np.ndarray | None = None,
            prevalence: float | None = None, patients: Any = None):  # fmt: skip
    """``prevalence``: of the patients, where they are counted (by default, of ``labels``);
    ``patients``: the scored samples' patients as given (their interval is resampled by
    them, as ``evaluate`` resamples them)."""
    if prevalence is None:
        prevalence = float(np.mean(labels == 1))
    if not 0 < prevalence < 1:
        only = _class_name(classes, int(prevalence >= 1))
        return f"the {len(labels)} {noun} hold one class only (all of class {only})"
    source_known = source_auroc is not None and source_auroc < 1
    notes = [note] if (note := rare_outcome_note(prevalence)) else []
    if scored is None and not source_known:  # nothing known of the base: the default alone
        return Outcome("binary", f"prevalence {prevalence:.3f}",
                       NAGELKERKE_DEFAULT * max_cox_snell(prevalence), DEFAULT_SOURCE,
                       {"prevalence": prevalence, "auroc_at_site": None}, notes=notes)  # fmt: skip
    here, unusable = _site_auroc(scored, noun, classes, clusters)
    if unusable is not None:
        outcome = _without_site(prevalence, source_auroc if source_known else None, unusable)
        outcome.notes = notes
        if here is not None:  # told apart perfectly: check-data says an adapter may add nothing
            outcome.figures["separated_at_site"] = _seen(len(scored[0]), noun, clusters)
            outcome.figures["auroc_at_site"] = here  # measured, as said (not planned on)
            outcome.figures["calls_at_site"] = _calls_at_half(scored, classes)
            _stalled(outcome.figures, scored[1])
        return outcome
    site = f"at this site, on all {_seen(len(scored[0]), noun, clusters)} it never saw"
    known = [(_planned(a), a, w) for a, w in ((source_auroc, "on its source"), (here, site))
             if a is not None and a < 1]  # fmt: skip
    auroc, measured, where = min(known)
    r2 = cox_snell_from_c(auroc, prevalence)
    measured_known = [(value, said) for _, value, said in known]
    interval = _site_interval(scored, patients)  # as evaluate gives it for these patients
    ci = ""  # the site's figure with its interval (a trial read 0.725 here, unqualified, and
    if where == site:  # "not shown better than chance" at adapt on 60 of these patients)
        ci = f", 95% CI {interval[0]:.3f} to {interval[1]:.3f}"
    why = (f"from the base model's AUROC {where} ({measured:.3f}{ci}{_weak_words(measured)}"
           f"{_other(measured_known, measured)})")  # fmt: skip
    basis = BASIS_HERE if where == site else BASIS_SOURCE
    notes += _uncertain_site_auroc(here, interval, auroc, prevalence,
                                   _seen(len(scored[0]), noun, clusters),
                                   noun if clusters is None else PATIENTS)  # fmt: skip
    figures = {"prevalence": prevalence, "auroc_at_site": here, "auroc_planned": auroc}
    if here is not None:  # on which samples, and how precisely: adapt points to it beside
        # the base's figure on its held-out part (a trial read 0.726 here, 0.619 at adapt)
        figures.update(auroc_at_site_ci=[round(float(end), 4) for end in interval],
                       auroc_at_site_seen=_seen(len(scored[0]), noun, clusters))  # fmt: skip
    return Outcome("binary", f"prevalence {prevalence:.3f}", r2, why, figures, notes=notes,
                   r2_basis=basis, planned_c=auroc)  # fmt: skip


UNCERTAIN_TIMES = 3.0
"""How many times as many patients criterion (i) may ask at the lower 95% bound of the site's
AUROC before the plan says that its numbers rest on an uncertain AUROC."""


def _site_interval(scored, patients: Any = None) -> tuple[float, float]:
    """The 95% interval of the base's AUROC on the site's ``scored`` samples, as ``evaluate``
    gives it for them (the wider of a bootstrap over patients and Newcombe's; the same
    resamples): a trial's check-data said 0.648 to 0.896 (Newcombe's alone) where
    ``evaluate --all-groups`` said 0.648 to 0.918 of the same rows."""
    from medadapt.evaluate.metrics import binary_metrics

    labels, scores = scored
    figures = binary_metrics(np.asarray(labels), np.asarray(scores), patients=patients)
    if figures.get("auroc_ci") is None:  # no bootstrap interval (resamples lacking a class):
        from medadapt.auroc_interval import score_interval  # Newcombe's alone

        clusters = cluster_index(patients, len(labels))
        positive = np.asarray(labels) == 1
        return score_interval(float(figures["auroc"] if figures.get("auroc") is not None
                                    else _auroc(positive, np.asarray(scores))),
                              count_units(positive, clusters),
                              count_units(~positive, clusters))  # fmt: skip
    low, high = figures["auroc_ci"]
    return float(low), float(high)


def _uncertain_site_auroc(here: float, interval: tuple[float, float], planned: float,
                          prevalence: float, seen: str, noun: str) -> list[str]:  # fmt: skip
    """A note where the base's AUROC at the site rests on so few patients that its lower 95%
    bound (``interval``: :func:`_site_interval`'s, planned as at least
    :data:`WEAKEST_PLANNED`) would make criterion (i) ask :data:`UNCERTAIN_TIMES` as many
    patients or more than the plan (a trial's 15-patient site planned on an AUROC of 0.926,
    without an interval, was asked for fewer patients than a 200-patient site with a lower,
    firmer one). Criterion (i)'s ratio needs no
    parameter count (:func:`~medadapt.evaluate.samplesize.shrinkage_n` per parameter).
    ``seen``: what the AUROC was measured on (``30 images of 15 patients``: a trial's note
    said "30 patients", adding the patients with images of each class)."""
    low, high = interval
    bound = _planned(low)
    if bound >= planned:
        return []

    def criterion_i(auroc: float) -> float:  # per parameter, at expected shrinkage 0.9
        return shrinkage_n(1, cox_snell_from_c(auroc, prevalence), 0.9)

    times = criterion_i(bound) / criterion_i(planned)
    if times < UNCERTAIN_TIMES:
        return []
    planned_as = f", planned as {bound:g}" if bound > low else ""
    return [
        f"the base model's AUROC here ({here:.3f}, on all {seen} of this site it never saw, "
        f"not only the test ones) has a 95% CI of {low:.3f} to "
        f"{high:.3f}: at its lower bound{planned_as}, each criterion would ask far more "
        f"(criterion (i), which no parameter count sets, about {times:.2g} times as many "
        f"{noun}, whichever criterion decides the plan); plan on more, and check the data "
        "again as they come in"
    ]


def _without_site(prevalence: float, source_auroc: float | None, unusable: str) -> Outcome:
    """The anticipated R-squared where the site gives no AUROC to plan on: the conservative
    default in the site's place, or the source's AUROC (planned as at least
    :data:`WEAKEST_PLANNED`) where it implies a lower one (a base judged on its source alone
    would ask fewer patients of a site that has fewer)."""
    default = NAGELKERKE_DEFAULT * max_cox_snell(prevalence)
    no_site = f"the base model's AUROC at this site gives no R-squared to plan on ({unusable})"
    r2, why, basis = default, f"{DEFAULT_SOURCE}: {no_site}", BASIS_DEFAULT
    planned = None if source_auroc is None else _planned(source_auroc)
    if source_auroc is not None:
        from_source = cox_snell_from_c(planned, prevalence)
        shown = f"{source_auroc:.3f}{_weak_words(source_auroc)}"
        if from_source < default:
            r2, basis = from_source, BASIS_SOURCE
            why = (f"from the base model's AUROC on its source ({shown}): {no_site}; the "
                   f"{DEFAULT_SOURCE} would give {r2_text(default)}, higher: {LOWER}")  # fmt: skip
        else:
            why += (f"; its AUROC on its source ({shown}) would give {r2_text(from_source)}, "
                    f"higher: {LOWER}")  # fmt: skip
    return Outcome("binary", f"prevalence {prevalence:.3f}", r2, why,
                   {"prevalence": prevalence, "auroc_at_site": None,
                    "no_site_auroc": unusable}, r2_basis=basis, planned_c=planned,
                   default_caps=True)  # fmt: skip


#: a site AUROC below this ranks the patients backwards more than chance would (0.086 in a
#: trial: labels or the positive class swapped), not merely no better than chance
BACKWARDS_BELOW = 0.4
BACKWARDS = (
    "worse than chance: it ranks them backwards (are the labels, or the positive class, "
    "swapped? or are these samples unlike the base model's training ones: another scanner, "
    "export, unit or coding?)"
)
"""(A trial's site images, brighter and lower in contrast than the base's, were ranked at
0.27: the hint named swapped labels only.)"""


def _site_auroc(scored, noun: str, classes: Sequence[str],
                clusters: np.ndarray | None = None) -> tuple[float | None, str | None]:  # fmt: skip
    """The base's AUROC at the site, and None; or None and why there is none to plan on; or,
    where it tells the site's patients apart perfectly, that AUROC and why it gives none
    (``clusters``: each scored sample's patient as
    :func:`~medadapt.evaluate.bootstrap.cluster_index` numbers them; None: each its own). A
    weak AUROC is one to plan on, as :data:`WEAKEST_PLANNED` at least (:func:`_planned`)."""
    if scored is None or len(scored[0]) == 0:
        return None, f"it trained on every one of these {noun}"
    labels, scores = scored
    seen = _seen(len(labels), noun, clusters)
    few = _fewest(labels == 1, noun, classes, clusters) or _too_few(len(labels), noun, clusters)
    if few is not None:
        return None, few
    here = _auroc(labels == 1, scores)
    if here >= 1 and flat_spread(scores) is not None:  # a stalled base's ranking (a trial's
        return here, (f"it ranks the {seen} it never saw perfectly, AUROC {here:.3f}, on "
                      "probabilities that barely differ (a ranking on differences too small to "
                      "act on, not skill: its figures say nothing), which implies no finite "
                      "R-squared")  # fmt: skip
    if here >= 1:  # study said "tells apart perfectly" of probabilities 0.4675 to 0.4679)
        return here, (f"it tells the {seen} it never saw apart perfectly, AUROC "
                      f"{here:.3f}, which implies no finite R-squared")  # fmt: skip
    if flat_spread(scores) is not None:  # a radiology trial's stalled base, 0.5730 to 0.5732,
        # planned on its AUROC 0.665 here: a ranking of the fourth decimal
        return None, (f"it ranks the {seen} it never saw with AUROC {here:.3f} on "
                      "probabilities that barely differ (a ranking on differences too small to "
                      "act on, not skill: its figures say nothing)")  # fmt: skip
    return here, None


def _stalled(figures: dict[str, Any], scores: np.ndarray) -> None:
    """Where a perfect ranking rests on probabilities that barely differ, their middle 90%
    (``stalled_at_site``): check-data then says the base stalled, not that an adapter may add
    nothing (a review found both said of one base)."""
    spread = flat_spread(scores)
    if spread is not None:
        figures["stalled_at_site"] = spread_text(*spread)


def _seen(n: int, noun: str, clusters: np.ndarray | None) -> str:
    """``n`` scored samples in words, with their patients where one has several: ``"32
    images of 16 patients"``, else ``"200 patients"``."""
    if clusters is None:
        return f"{n} {noun}"
    return f"{n} {noun} of {int(clusters.max()) + 1} {PATIENTS}"


def _too_few(
    n: int, noun: str, clusters: np.ndarray | None = None, *, metric: str = "an AUROC"
) -> str | None:
    """Why ``metric`` on ``n`` scored samples would rest on too few patients to plan on: fewer
    than :data:`~medadapt.evaluate.metrics.MIN_PATIENTS`, below which ``evaluate`` reports no
    figure at all (None: enough). ``clusters`` as :func:`_fewest` takes them."""
    patients = n if clusters is None else int(clusters.max()) + 1
    if patients >= MIN_PATIENTS:
        return None
    return (f"it would rest on {_seen(n, noun, clusters)} it never saw, fewer than the "
            f"{MIN_PATIENTS} {PATIENTS} evaluate reports {metric} from")  # fmt: skip


def _fewest(positive: np.ndarray, noun: str, classes: Sequence[str],
            clusters: np.ndarray | None = None) -> str | None:  # fmt: skip
    """Why an AUROC on these two classes would rest on too few patients: the rarer class has
    fewer than :data:`MIN_PER_CLASS` of them (None: enough of each). ``clusters``: each
    sample's patient where one has several (then patients are counted, a patient in each
    class among their samples), else None."""
    counts = {1: count_units(positive, clusters), 0: count_units(~positive, clusters)}
    index, count = min(counts.items(), key=lambda item: (item[1], -item[0]))
    if count >= MIN_PER_CLASS:
        return None
    seen = len(positive) if clusters is None else int(clusters.max()) + 1
    noun = noun if clusters is None else PATIENTS
    return (
        f"{count} of the {seen} {noun} it never saw {'is' if count == 1 else 'are'} of class "
        f"{_class_name(classes, index)}, fewer than the {MIN_PER_CLASS} an AUROC needs"
    )


def _calls_at_half(scored, classes: Sequence[str]) -> list[dict[str, Any]]:
    """Per class of a binary outcome, how many of the site's ``scored`` samples the base calls
    that class at 0.5, and how many there are: a base that ranks them perfectly may still
    call every one of them positive (a trial's, at AUROC 1.000 and 0 of 12 negatives), and an
    adapter then mends its risks, not its ranking."""
    labels, scores = (np.asarray(v) for v in scored)
    called = called_classes(scores, 0.5)
    return [{"class": _class_name(classes, c), "called": int(((called == c) & (labels == c)).sum()),
             "of": int((labels == c).sum())} for c in (0, 1)]  # fmt: skip


def _class_name(classes: Sequence[str], index: int) -> str:
    return repr(classes[index]) if index < len(classes) else repr(str(index))


#: why no pairwise AUROC: the base scores one class's probability, not each class's
TWO_CLASS_BASE = "a two-class base model gives no score for each of these classes"


def _multiclass(labels: np.ndarray, scored, classes: Sequence[str] = (), noun: str = "samples",
                clusters: np.ndarray | None = None, counted: np.ndarray | None = None,
                unscored: str | None = None):  # fmt: skip
    """``clusters``: the scored samples' patients; ``counted``: ``labels``' patients, whose
    class shares the criteria are read at (:func:`class_shares`); ``unscored``: why
    ``scored`` is None, where it is known."""
    width = 0 if scored is None else scored[1].shape[1]
    k = max(int(labels.max()) + 1, width)
    phis = class_shares(labels, k, counted)
    if min(phis) == 0:
        first = next(c for c, p in enumerate(phis) if p == 0)
        name = repr(classes[first]) if first < len(classes) else str(first)
        return f"class {name} has no samples here (the criteria need every class)"
    pairs, aurocs, unusable = {}, {}, {}
    few = None if scored is None else _too_few(len(scored[0]), noun, clusters)
    rare = {} if scored is None or few else _rare_scored(scored[0], k, clusters)
    rare_noun = noun if clusters is None else PATIENTS
    for pair in combinations(range(k), 2):
        within = pair_prevalence(phis, pair)
        enough = scored is not None and not few and not rare.keys() & set(pair)
        auroc = _pair_auroc(*scored, pair) if enough else None
        if auroc is not None and auroc < 1:  # a weak one planned as WEAKEST_PLANNED
            pairs[pair], aurocs[pair] = cox_snell_from_c(_planned(auroc), within), auroc
        else:  # none, or perfect
            pairs[pair] = NAGELKERKE_DEFAULT * max_cox_snell(within)
            if enough:
                unusable[pair] = auroc
    from_auroc = len(aurocs)
    if scored is None:
        said = [unscored or "the base model is not scored at this site"]
    else:
        said = [few] if few else []
        said += _rare_words(rare, classes, rare_noun) + _pair_words(unusable, classes)
        said += _weak_pairs(aurocs, classes)

    def per_parameter(pair: tuple[int, int]) -> float:  # criterion (i)'s n for one parameter
        return shrinkage_n(1, pairs[pair], 0.9) / (phis[pair[0]] + phis[pair[1]])

    weakest = max(pairs, key=per_parameter)  # the pair criterion (i) rests on
    r2 = NAGELKERKE_DEFAULT * max_cox_snell_multiclass(phis)
    which = ("every pair" if from_auroc == len(pairs)  # (a trial's "10 of 10, else ...")
             else f"{from_auroc} of {len(pairs)} pairs, else the same default")  # fmt: skip
    per_pair = (
        f"from the base model's pairwise AUROC at this site for {which}"
        if from_auroc
        else "the same default"
    )  # (a trial's "for 0 of 3 pairs, else the same ...")
    why = f"overall: {DEFAULT_SOURCE}; per pair of classes: {per_pair}{_parenthesised(said)}"
    shares = ", ".join(f"{_class_name(classes, c)} {p:.2f}" for c, p in enumerate(phis))
    figures = {"prevalences": phis, "weakest_pair": {"classes": list(weakest),
               "auroc": aurocs.get(weakest)}}  # fmt: skip
    if unusable and len(unusable) == len(pairs) and None not in unusable.values():
        figures["separated_at_site"] = _seen(len(scored[0]), noun, clusters)  # every pair
        _stalled(figures, scored[1])
    return Outcome("multiclass", f"{k} classes (proportions {shares})", r2, why, figures, pairs,
                   r2_basis=BASIS_PAIRS if aurocs else BASIS_DEFAULT)  # fmt: skip


def _parenthesised(said: list[str]) -> str:
    return f" ({'; '.join(said)})" if said else ""


def _rare_scored(labels: np.ndarray, k: int, clusters: np.ndarray | None = None) -> dict[int, int]:
    """The classes with fewer than :data:`MIN_PER_CLASS` scored samples (patients, where
    ``clusters`` name them), and their counts: no pairwise AUROC rests on them."""
    counts = [count_units(labels == c, clusters) for c in range(k)]
    return {c: n for c, n in enumerate(counts) if n < MIN_PER_CLASS}


def _rare_words(rare: dict[int, int], classes: Sequence[str], noun: str) -> list[str]:
    """``["not for class 'high': 2 patients it never saw here, fewer than the 5 an AUROC
    needs"]``, or none."""
    if not rare:
        return []
    named = [f"class {_class_name(classes, c)}: {n} {noun}" for c, n in rare.items()]
    return [f"not for {'; '.join(named)} it never saw here, fewer than the "
            f"{MIN_PER_CLASS} an AUROC needs"]  # fmt: skip


def _pair_words(unusable: dict[tuple[int, int], float | None],
                classes: Sequence[str]) -> list[str]:  # fmt: skip
    """Why the pairs of ``unusable`` (their pairwise AUROC at the site, None where the base
    scores one of the two classes not at all) give no R-squared to plan on, one reason a
    phrase: ``["not for 'high' vs 'low': told apart perfectly (AUROC 1.000), which implies
    no finite R-squared"]``."""
    perfect = [_pair_named(p, classes) for p, a in unusable.items() if a is not None]
    unscored = [_pair_named(p, classes) for p, a in unusable.items() if a is None]
    said = []
    if perfect:
        said.append(f"not for {listed(perfect)}: told apart perfectly (AUROC 1.000), which "
                    "implies no finite R-squared")  # fmt: skip
    if unscored:
        said.append(f"not for {listed(unscored)}: the base model does not score both "
                    "classes")  # fmt: skip
    return said


def _weak_pairs(aurocs: dict[tuple[int, int], float], classes: Sequence[str]) -> list[str]:
    """The pairs whose AUROC at the site is planned as :data:`WEAKEST_PLANNED`, in a phrase:
    ``["'1' vs '2' (0.491) planned as 0.55, the weakest ranking a plan takes"]``, or none."""
    weak = [f"{_pair_named(p, classes)} ({a:.3f})" for p, a in aurocs.items()
            if a < WEAKEST_PLANNED]  # fmt: skip
    if not weak:
        return []
    return [f"{listed(weak)} planned as {WEAKEST_PLANNED:g}, the weakest ranking a plan takes"]


def _pair_named(pair: tuple[int, int], classes: Sequence[str]) -> str:
    return f"{_class_name(classes, pair[0])} vs {_class_name(classes, pair[1])}"


def _continuous(values: np.ndarray, scored, source_r2: float | None, noun: str):
    if len(values) < 3 or float(np.std(values)) == 0:
        return f"the {len(values)} outcome values do not vary"
    here = None  # as evaluate, no figure from fewer than MIN_PATIENTS (a trial's R² on 8)
    if scored is not None and len(scored[0]) >= MIN_PATIENTS:
        here = _r2(np.asarray(scored[0], dtype=float), np.asarray(scored[1], dtype=float))
    site = None if scored is None else f"at this site, on all {len(scored[0])} {noun} it never saw"
    known = [(r, w) for r, w in ((source_r2, "on its source"), (here, site))
             if r is not None and 0 < r < 1]  # fmt: skip
    unusable = None if scored is None else _no_site_r2(here, len(scored[0]), source_r2, noun)
    no_site = f"the base model's R-squared at this site gives none to plan on ({unusable})"
    basis = BASIS_DEFAULT
    if known:
        r2, where = min(known)
        other = _other(known, r2).removeprefix("; ")  # the figure itself is said before this
        why = f"the base model's R-squared {where}" + (f" ({other})" if other else "")
        why += f": {no_site}" if unusable else ""  # (a trial read "0.238, ... (0.238; 0.249")
        basis = BASIS_HERE if where == site else BASIS_SOURCE
    else:
        r2, why = CONTINUOUS_DEFAULT, ASSUMED_R2_SOURCE + (f": {no_site}" if unusable else "")
    mean, sd = float(np.mean(values)), float(np.std(values, ddof=1))
    crosses_zero = bool(values.min() < 0 < values.max())  # a centred score, a change
    figures = {"mean": mean, "sd": sd, "crosses_zero": crosses_zero,
               **({"no_site_r2": unusable} if unusable else {})}  # fmt: skip
    notes = [note] if (note := mean_criterion_note(mean, sd, crosses_zero=crosses_zero)) else []
    if basis == BASIS_HERE and scored is not None:  # planned on the site's few rows
        notes += _uncertain_site_r2(r2, len(scored[0]), noun)
    return Outcome("regression", f"outcome mean {mean:.3g}, SD {sd:.3g}", r2, why, figures,
                   notes=notes, r2_basis=basis)  # fmt: skip


def _uncertain_site_r2(r2: float, n: int, noun: str) -> list[str]:
    """A note where the R-squared planned on rests on so few of the site's samples that its
    lower 95% bound would make criterion (i) ask :data:`UNCERTAIN_TIMES` as many or more (a
    trial's plan went from 91,084 to 260,695 rows as --train-fraction left 30 or 11 rows to
    measure it on, each said without a caveat), as :func:`_uncertain_site_auroc` says of an
    AUROC. The bound: Fisher's z of the R-squared read as a squared correlation, ``atanh(r)
    - 1.96 / sqrt(n - 3)``, an approximation (an R-squared of predictions can be below the
    squared correlation; never above it)."""
    import math

    if n < 4 or not 0 < r2 < 1:
        return []
    z = math.atanh(math.sqrt(r2)) - 1.959964 / math.sqrt(n - 3)
    low = math.tanh(z) ** 2 if z > 0 else 0.0
    if low < 0.01:
        return [
            f"the base model's R-squared here ({r2:.3f}, on {n} {noun}) has a 95% CI reaching "
            "0 (no better than predicting the mean): the criteria's needs could be far "
            "larger than planned; plan on more, and check the data again as they come in"
        ]
    times = shrinkage_n(1, low, 0.9) / shrinkage_n(1, r2, 0.9)
    if times < UNCERTAIN_TIMES:
        return []
    return [
        f"the base model's R-squared here ({r2:.3f}, on {n} {noun}) has a 95% CI from about "
        f"{low:.3f}: at that bound, each criterion would ask far more (criterion (i), which no "
        f"parameter count sets, about {times:.2g} times as many {noun}, whichever criterion "
        "decides the plan); plan on more, and check the data again as they come in"
    ]


def _no_site_r2(here: float | None, seen: int, source_r2: float | None, noun: str) -> str | None:
    """Why the base's R-squared on the ``seen`` samples it never saw gives none to plan on
    (``here``: that R-squared, None where too few to compute one), with the source's when it
    gives none either; None when it does."""
    if here is not None and 0 < here < 1:
        return None
    if seen == 0:
        why = f"it trained on every one of these {noun}"
    elif here is None:
        why = _too_few(seen, noun, metric="an R-squared") or f"{seen} {noun} it never saw"
    elif here >= 1:
        why = f"R-squared {here:.3f} on the {seen} {noun} it never saw, a perfect fit"
    else:
        why = (f"R-squared {here:.3f} on the {seen} {noun} it never saw, no better than "
               "predicting their mean")  # fmt: skip
    if source_r2 is not None and not 0 < source_r2 < 1:
        why += f"; {source_r2:.3f} on its source"
    return why


def _auroc(positive: np.ndarray, scores: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if positive.all() or not positive.any():
        return None
    return float(roc_auc_score(positive, scores))


def _pair_auroc(labels: np.ndarray, scores: np.ndarray, pair: tuple[int, int]) -> float | None:
    """The AUROC separating class ``pair[0]`` from ``pair[1]`` among patients of the two,
    on the score ``p_k / (p_k + p_r)`` (the pairwise submodel's)."""
    k, r = pair
    if r >= scores.shape[1]:
        return None  # a class the base does not score (an adapter's new class)
    rows = (labels == k) | (labels == r)
    both = np.clip(scores[rows][:, [k, r]], 1e-12, None)
    return _auroc(labels[rows] == k, both[:, 0] / both.sum(axis=1))


def _r2(values: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn.metrics import r2_score

    return float(r2_score(values, predicted))

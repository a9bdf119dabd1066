"""The outcome a sample-size criterion is computed for: binary (Riley et al. 2019 part II),
continuous (Riley et al. 2019 part I) or nominal with more than two classes (Pate et al. 2023),
with the anticipated R-squared each needs and where it came from.

Anticipated R-squared, lowest of what is known (a lower R-squared asks for more patients):

* binary: the Cox-Snell R-squared implied by the base's AUROC on its source and at this site;
  without either, Riley et al. 2020's conservative default (Nagelkerke 0.15);
* multiclass: per pair of classes, the one implied by the base's pairwise AUROC at this site
  (else the conservative default for that pair); overall, the conservative default;
* continuous: the base's R-squared on its source and at this site; without a positive one,
  0.1 (a weak model, stated as an assumption).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from medadapt.evaluate.samplesize import (
    Criterion,
    cox_snell_from_c,
    development,
    max_cox_snell,
    shrinkage_n,
)
from medadapt.evaluate.samplesize_continuous import development_continuous
from medadapt.evaluate.samplesize_multiclass import (
    development_multiclass,
    max_cox_snell_multiclass,
    pair_prevalence,
)

NAGELKERKE_DEFAULT = 0.15
CONTINUOUS_DEFAULT = 0.1
DEFAULT_SOURCE = "conservative default (Nagelkerke R-squared 0.15, Riley et al. 2020)"


@dataclass
class Outcome:
    """One target's outcome, ready to give each strategy's development criteria."""

    task: str
    summary: str  # e.g. "prevalence 0.391", for people
    r2: float
    r2_source: str
    figures: dict[str, Any] = field(default_factory=dict)  # prevalence(s), mean, SD
    pairs: dict[tuple[int, int], float] = field(default_factory=dict)

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
        return development_continuous(parameters=parameters, r2=self.r2, intercept=mean, sd=sd)

    def to_dict(self) -> dict[str, Any]:
        out = {"task": self.task, "outcome": self.summary, "r2": self.r2,
               "r2_label": self.r2_label, "r2_source": self.r2_source, **self.figures}  # fmt: skip
        if self.task == "binary":
            out["r2_cs"] = self.r2
        return out


def outcome_of(task: str, labels: np.ndarray,
               scored: tuple[np.ndarray, np.ndarray] | None = None,
               known: dict[str, float] | None = None,
               noun: str = "samples", classes: Sequence[str] = ()) -> Outcome | str:  # fmt: skip
    """The outcome of ``labels`` (class indices, or values for regression). ``scored``: the
    labels and the base's scores of the samples it scored (None: not scored, so the
    conservative default); ``known``: the base's metrics on its source (``auroc``, ``r2``);
    ``noun``: how sentences count the samples ("patients", "images"); ``classes``: the class
    names, for the sentences. A string says why no criterion applies."""
    known = known or {}
    if task == "regression":
        return _continuous(np.asarray(labels, dtype=float), scored, known.get("r2"), noun)
    labels = np.asarray(labels).astype(int)
    if scored is not None:
        scored = (np.asarray(scored[0]).astype(int), np.asarray(scored[1], dtype=float))
    if task == "binary" and labels.max(initial=0) <= 1:
        return _binary(labels, scored, known.get("auroc"), noun)  # (an adapter may add classes)
    if scored is not None and scored[1].ndim != 2:
        scored = None  # a binary base's P(class 1): no pairwise scores for the new classes
    return _multiclass(labels, scored, classes)


def _other(known: list[tuple[float, str]], used: float) -> str:
    """``; 0.850 on its source: the lower one is used`` when both figures are known."""
    others = [(value, where) for value, where in known if value != used]
    if not others:
        return "" if len(known) == 1 else "; the same on its source and here"
    value, where = others[0]
    return f"; {value:.3f} {where.split(',')[0]}: the lower one is used, to be cautious"


def _binary(labels: np.ndarray, scored, source_auroc: float | None, noun: str):
    prevalence = float(np.mean(labels == 1))
    if not 0 < prevalence < 1:
        return f"the {len(labels)} {noun} hold one class only"
    here = None if scored is None else _auroc(scored[0] == 1, scored[1])
    site = None if scored is None else f"at this site, on {len(scored[0])} {noun} it never saw"
    known = [(a, w) for a, w in ((source_auroc, "on its source"), (here, site))
             if a is not None and 0.5 < a < 1]  # fmt: skip
    if known:
        auroc, where = min(known)
        r2 = cox_snell_from_c(auroc, prevalence)
        why = f"from the base model's AUROC {where} ({auroc:.3f}{_other(known, auroc)})"
    else:
        r2, why = NAGELKERKE_DEFAULT * max_cox_snell(prevalence), DEFAULT_SOURCE
    return Outcome("binary", f"prevalence {prevalence:.3f}", r2, why,
                   {"prevalence": prevalence, "auroc_at_site": here})  # fmt: skip


def _multiclass(labels: np.ndarray, scored, classes: Sequence[str] = ()):
    width = 0 if scored is None else scored[1].shape[1]
    k = max(int(labels.max()) + 1, width)
    phis = [float(np.mean(labels == c)) for c in range(k)]
    if min(phis) == 0:
        first = next(c for c, p in enumerate(phis) if p == 0)
        name = repr(classes[first]) if first < len(classes) else str(first)
        return f"class {name} has no samples here (the criteria need every class)"
    pairs, aurocs = {}, {}
    for pair in combinations(range(k), 2):
        within = pair_prevalence(phis, pair)
        auroc = None if scored is None else _pair_auroc(*scored, pair)
        if auroc is not None and 0.5 < auroc < 1:
            pairs[pair], aurocs[pair] = cox_snell_from_c(auroc, within), auroc
        else:
            pairs[pair] = NAGELKERKE_DEFAULT * max_cox_snell(within)
    from_auroc = len(aurocs)

    def per_parameter(pair: tuple[int, int]) -> float:  # criterion (i)'s n for one parameter
        return shrinkage_n(1, pairs[pair], 0.9) / (phis[pair[0]] + phis[pair[1]])

    weakest = max(pairs, key=per_parameter)  # the pair criterion (i) rests on
    r2 = NAGELKERKE_DEFAULT * max_cox_snell_multiclass(phis)
    why = (f"overall: {DEFAULT_SOURCE}; per pair of classes: from the base model's "
           f"pairwise AUROC at this site for {from_auroc} of {len(pairs)} pairs, else the "
           "same default")  # fmt: skip
    shares = "/".join(f"{p:.2f}" for p in phis)
    return Outcome("multiclass", f"{k} classes (proportions {shares})", r2, why,
                   {"prevalences": phis, "weakest_pair": {"classes": list(weakest),
                    "auroc": aurocs.get(weakest)}}, pairs)  # fmt: skip


def _continuous(values: np.ndarray, scored, source_r2: float | None, noun: str):
    if len(values) < 3 or float(np.std(values)) == 0:
        return f"the {len(values)} outcome values do not vary"
    here = None
    if scored is not None and len(scored[0]) > 1:
        here = _r2(np.asarray(scored[0], dtype=float), np.asarray(scored[1], dtype=float))
    site = None if scored is None else f"at this site, on {len(scored[0])} {noun} it never saw"
    known = [(r, w) for r, w in ((source_r2, "on its source"), (here, site))
             if r is not None and 0 < r < 1]  # fmt: skip
    if known:
        r2, where = min(known)
        why = f"the base model's R-squared {where} ({r2:.3f}{_other(known, r2)})"
    else:
        r2, why = (
            CONTINUOUS_DEFAULT,
            (f"assumed {CONTINUOUS_DEFAULT:g} (no positive R-squared of the base is known)"),
        )
    mean, sd = float(np.mean(values)), float(np.std(values, ddof=1))
    return Outcome("regression", f"outcome mean {mean:.3g}, SD {sd:.3g}", r2, why,
                   {"mean": mean, "sd": sd})  # fmt: skip


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

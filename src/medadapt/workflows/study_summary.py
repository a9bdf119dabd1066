"""Learning curves and plain-language conclusions from a study's points.

Per strategy and training size: the mean over seeds and a 95 % t-interval over seeds (how much
the result depends on which patients were used and on the random start), plus the mean of the
per-seed bootstrap intervals (how uncertain one result is given the small test set). The two
are combined in quadrature, on each side of the mean, into ``total_ci`` (which holds both;
:func:`~medadapt.workflows.study_sentences.combined_interval`), which the "clearly ahead"
verdicts use: every strategy is scored on the same held-out patients, so a gap smaller than
the test set's own uncertainty is not claimed. Per-patient predictions are not stored, so
this cannot be a paired comparison; treating the two strategies' test-set errors as
independent is conservative (a paired bootstrap would give narrower intervals for their
difference).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np

from medadapt.evaluate.metrics import (
    LOWER_IS_BETTER,
    MIN_PATIENTS,
    MIN_PER_CLASS,
    MISSED_SENSITIVITY,
    TOO_GOOD_AUROC,
    TOO_GOOD_R2,
    headline_metric,
    leak_examples,
)
from medadapt.evaluate.report.formatting import METRIC_LABELS, listed
from medadapt.results import FLAT_SCORES, MISSED_CLASS, share_text
from medadapt.workflows.labels import label, order
from medadapt.workflows.strategies import judged_adapter
from medadapt.workflows.study_sentences import (
    adapter_verdicts,
    clip,
    combined_interval,
    figure,
    followed_sentence,
    metric_range,
    stalled_at_every_size,
    t_interval,
    worse_than_base,
)

METRICS = {
    "binary": ("auroc", "accuracy", "balanced_accuracy", "brier", "ece"),
    "multiclass": ("auroc", "accuracy", "balanced_accuracy", "brier"),
    "regression": ("mae", "rmse", "r2"),
}


def aggregate(points: list[dict[str, Any]], task: str) -> dict[str, Any]:
    """``curves[metric][strategy] = [{fraction, n_train, mean, ci, test_ci, total_ci, n_seeds},
    ...]``; every interval clipped to the metric's valid range."""
    grouped: dict[tuple[str, float], list[dict[str, Any]]] = defaultdict(list)
    for point in points:
        grouped[(point["strategy"], point["fraction"])].append(point)
    curves: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for metric in METRICS[task]:
        per_strategy: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (strategy, fraction), group in sorted(grouped.items()):
            values = [p["metrics"].get(metric) for p in group]
            defined = [v for v in values if v is not None]
            cis = [
                p["metrics"].get(f"{metric}_ci") for p in group if p["metrics"].get(f"{metric}_ci")
            ]
            mean = float(np.mean(defined)) if defined else None
            bounds = metric_range(metric, task)
            ci = clip(t_interval(defined), bounds)
            test_ci = (
                clip([np.mean([c[0] for c in cis]), np.mean([c[1] for c in cis])], bounds)
                if cis
                else None
            )
            entry = {
                "fraction": fraction,
                "n_train": float(np.mean([p["n_train"] for p in group])),
                "n_train_range": [
                    min(p["n_train"] for p in group),
                    max(p["n_train"] for p in group),
                ],  # seeds split otherwise
                "n_seeds": len(defined),
                "mean": mean,
                "sd": float(np.std(defined, ddof=1)) if len(defined) > 1 else None,
                "ci": ci,
                "test_ci": test_ci,
                "total_ci": clip(combined_interval(mean, ci, test_ci), bounds),
                "note": None
                if defined
                else next(iter(group[0]["metrics"].get("notes", {}).values()), "not estimable"),
            }
            per_strategy[strategy].append(entry)
        curves[metric] = dict(sorted(per_strategy.items(), key=lambda item: order(item[0])))
    return curves


def main_metric(curves: dict[str, Any], task: str) -> str:
    """:func:`~medadapt.evaluate.metrics.headline_metric` over the curves: AUROC when some
    point estimated it (MAE for regression); without one, the Brier score (too few patients of
    a class: accuracy then mostly rewards calling everyone the commonest class; a trial's
    five-class study warned so and then ranked its strategies by accuracy), else accuracy."""
    if task == "regression":
        return headline_metric(task)
    means = [e["mean"] for entries in curves["auroc"].values() for e in entries]
    metric = headline_metric(task, {"auroc": next((m for m in means if m is not None), None)})
    if metric == "accuracy" and _estimated(curves.get("brier")):  # several classes too
        return "brier"
    return metric


def _estimated(by_strategy: dict[str, Any] | None) -> bool:
    """Whether some point of a metric's curves has a mean."""
    return any(e["mean"] is not None for entries in (by_strategy or {}).values() for e in entries)


#: why a binary study without an AUROC ranks its strategies by the Brier score, and what that
#: cannot show (said first in the summary)
BY_BRIER = (
    "AUROC could not be estimated (too few held-out patients without or with the outcome) and "
    "accuracy there mostly rewards calling every patient the commoner outcome, so the "
    "strategies are compared by their Brier score (how close the predicted risks are to what "
    "happened; lower is better) instead. A lower Brier score can come from moving every risk "
    "towards this group's prevalence rather than from telling patients with the outcome from "
    "those without: whether any strategy separates them cannot be assessed here."
)


#: the same for several classes (the Brier score summed over them)
BY_BRIER_CLASSES = (
    "AUROC could not be estimated (too few held-out patients of some class) and accuracy there "
    "mostly rewards calling every patient the commonest class, so the strategies are compared "
    "by their Brier score (summed over the classes: how close the predicted probabilities are "
    "to what happened; lower is better) instead. A lower Brier score can come from moving "
    "every probability towards this group's class shares rather than from telling the classes "
    "apart: whether any strategy separates them cannot be assessed here."
)


def by_brier(task: str) -> str:
    """Why the strategies are ranked by the Brier score, for ``task``'s outcome."""
    return BY_BRIER_CLASSES if task == "multiclass" else BY_BRIER


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether the combined (seeds and test set) intervals overlap; no interval: overlap."""
    first, second = a.get("total_ci"), b.get("total_ci")
    if first is None or second is None:
        return True
    return first[0] <= second[1] and second[0] <= first[1]


def nothing_measured_sentence(points: list[dict[str, Any]], metric: str,
                              noun: str) -> str | None:  # fmt: skip
    """Where no point has a figure of ``metric`` (the held-out test set too small for any):
    a study that compared nothing says so, why, and what to change, instead of finishing
    with its sample-size lines only (a trial: 18 held-out images of 9 patients)."""
    if not points or any(p["metrics"].get(metric) is not None for p in points):
        return None
    said = ((p["metrics"].get("notes") or {}).get("all") for p in points)
    why = str(next((note for note in said if note), "too few patients for any figure"))
    fix = f"raise --test-fraction, or give more target {noun}"
    tested = max((p["metrics"].get("n") or 0 for p in points), default=0)
    trained = max((p.get("n_train") or 0 for p in points if p.get("fraction") == 1.0), default=0)
    if tested + trained < MIN_PATIENTS:  # however they are split: a trial's 8 patients
        fix = (f"the target group holds {tested + trained} {noun} in all, fewer than the "
               f"{MIN_PATIENTS} any figure needs however they are split: give more target "
               f"{noun}")  # fmt: skip
    return (
        f"Warning: nothing could be measured, so no strategy is compared: the held-out test set "
        f"has {why.removeprefix('not reported: ')}; {fix}."
    )


def conclusions(study: dict[str, Any], curves: dict[str, Any]) -> dict[str, Any]:
    """Best strategy per size, where the adapter plateaus, whether more data would help, and
    where intervals overlap — as numbers and as sentences."""
    noun = study_noun(study)
    metric = main_metric(curves, study["task"])
    by_strategy = curves[metric]
    lines: list[str] = []
    best_per_size = []
    named = False
    for fraction in _compared_fractions(by_strategy):
        ordered = _ranked(by_strategy, fraction, metric)
        if not ordered:
            continue
        best, runner = ordered[0], ordered[1] if len(ordered) > 1 else None
        tied = [s for s, e in ordered[1:] if _overlap(best[1], e)]
        level = [
            s for s, e in ordered[1:] if _level(best[1], e, metric)
        ]  # the same figure: no best
        size = _size(by_strategy, fraction)
        best_per_size.append(_best_entry(fraction, size, best, tied, level))
        sized = size_words(size, fraction, noun, _size_range(by_strategy, fraction))
        if runner is not None:
            start = f"With {sized}, the {label(best[0])}"
            if best[0] == "base_only":  # its figure is no size's: say so, not "with N rows"
                start = (
                    f"With {sized} for the strategies that train, the {label(best[0])} "
                    f"({BASE_ALONE.format(noun=noun)})"
                )
            if level:
                beyond = _beyond_ranking(curves, fraction, [best[0], *level], metric, noun,
                                         study["task"])  # fmt: skip
                lines.append(_level_sentence(sized, best, level, metric, by_it=bool(beyond))
                             + beyond)  # fmt: skip
            else:
                lines.append(
                    _lead_sentence(start, best, runner, tied, metric)
                    + _one_class_caveat(study["points"], best[0], fraction, noun)
                )
                named = True
    if named:  # a best strategy was named
        lines.append(chosen_on_test_sentence(study, noun))
    plateau, more_data, verdicts = adapter_verdicts(study["points"], by_strategy, metric, noun)
    adapter = judged_adapter(list(by_strategy))
    followed = (followed_sentence(adapter, best_per_size, metric, noun)
                if adapter and not stalled_at_every_size(study["points"], adapter)
                else None)  # fmt: skip
    if verdicts and followed:
        verdicts = [followed, *verdicts]
    too_good = too_good_sentence(study["points"], noun)
    one_class = one_class_sentence(study["points"], noun, task=study["task"], metric=metric)
    missed = missed_class_sentence(study["points"], noun)
    nothing = nothing_measured_sentence(study["points"], metric, noun)
    backwards = backwards_sentence(curves.get("auroc") or {}, noun)
    return {
        "metric": metric,
        "best_per_size": best_per_size,
        "plateau": plateau,
        "more_data": more_data,
        "too_good": too_good,
        "missed_class": missed,
        "worse_than_base": worse_than_base(by_strategy, adapter, metric) if adapter else None,
        "nothing_measured": nothing,
        "backwards": backwards,
        "sentences": ([nothing] if nothing else [])
        + ([backwards] if backwards else [])
        + ([too_good] if too_good else [])
        + ([one_class] if one_class else [])
        + ([missed] if missed else [])
        + ([by_brier(study["task"])] if metric == "brier" else [])
        + lines
        + verdicts,
    }


def _one_class_caveat(points: list[dict[str, Any]], strategy: str, fraction: float,
                      noun: str) -> str:  # fmt: skip
    """`` Yet at the decision threshold it calls ...`` where every point of the best
    ``strategy`` at ``fraction`` (the base model's at any) calls (nearly) every held-out
    sample one class: a trial's head-only adapter was "best (AUROC 1.000)" with a balanced
    accuracy of 0.5 in all six runs, said only in a warning apart. Empty otherwise."""
    from medadapt.evaluate.metrics import ONE_CLASS

    mine = [p for p in points if p.get("strategy") == strategy
            and (strategy == "base_only" or p.get("fraction") == fraction)]  # fmt: skip
    if not mine or not all((p["metrics"].get("notes") or {}).get(ONE_CLASS) for p in mine):
        return ""
    return (
        f" Yet at the decision threshold it calls (nearly) all the held-out {noun} one class in "
        "each run: its ranking is no decision rule yet (the warning on accuracy)."
    )


def _best_entry(
    fraction: float,
    size: float,
    best: tuple[str, dict[str, Any]],
    tied: list[str],
    level: list[str],
) -> dict[str, Any]:
    """One size's entry of ``best_per_size``: the best strategy, or none (``best`` None) where
    several have the same mean, ``level_with`` then naming every one of them (the leader too),
    as the text says "none of them is the best"; ``indistinguishable_from``: the others whose
    intervals overlap the best one's (or the level ones')."""
    if level:
        return {"fraction": fraction, "n_train": size, "best": None, "mean": best[1]["mean"],
                "indistinguishable_from": [s for s in tied if s not in level],
                "level_with": [best[0], *level]}  # fmt: skip
    return {"fraction": fraction, "n_train": size, "best": best[0], "mean": best[1]["mean"],
            "indistinguishable_from": tied, "level_with": []}  # fmt: skip


def chosen_on_test_sentence(study: dict[str, Any], noun: str) -> str:
    """The winner's figure is optimistic: it was picked on the rows it is reported on."""
    n = (study.get("data") or {}).get("n_target_test")
    these = f"the same {n} held-out {noun}" if n else f"the same held-out {noun}"
    return (
        f"Each best strategy above was picked on {these} its figure comes from, so that figure "
        "is optimistic: confirm the choice on new patients."
    )


def _compared_fractions(by_strategy: dict[str, Any]) -> list[float]:
    """The training sizes to compare the strategies at (not 1.0 when only the base model,
    stored there, has it)."""
    fractions = sorted({e["fraction"] for entries in by_strategy.values() for e in entries})
    if "base_only" in by_strategy and len(fractions) > 1:
        fractions = [f for f in fractions if f != 1.0 or _trained_at(by_strategy, 1.0)]
    return fractions


def _ranked(
    by_strategy: dict[str, Any], fraction: float, metric: str
) -> list[tuple[str, dict[str, Any]]]:
    """``(strategy, entry)`` at ``fraction``, best mean first; the base model (which does not
    train) at every size; strategies without a mean left out."""
    candidates = []
    for strategy, entries in by_strategy.items():
        entry = next((e for e in entries if e["fraction"] == fraction), None)
        if strategy == "base_only":
            entry = entries[0]  # the base model does not train: the same at every size
        if entry is not None and entry["mean"] is not None:
            candidates.append((strategy, entry))
    return sorted(candidates, key=lambda c: c[1]["mean"], reverse=metric not in LOWER_IS_BETTER)


UNPAIRED = (
    " (side by side, not paired: 'medadapt adapt' compares one adapter with the base model on "
    "the same test patients, a paired comparison that can find a difference this one cannot)"
)


def _lead_sentence(
    start: str,
    best: tuple[str, dict[str, Any]],
    runner: tuple[str, dict[str, Any]],
    tied: list[str],
    metric: str,
) -> str:
    """Whether the best strategy is clearly ahead of the runner-up, or cannot be told apart."""
    name = METRIC_LABELS.get(metric, metric)
    both = (best[1]["mean"], runner[1]["mean"])  # printed with the same digits
    one_seed = best[1]["n_seeds"] < 2
    which = (
        "its interval (test-set uncertainty only: one seed gives no seed-to-seed interval)"
        if one_seed
        else "its interval (over seeds and test patients)"
    )
    if best[1].get("total_ci") is None:
        return (
            f"{start} has the best mean {name} ({figure(metric, best[1]['mean'])}), but without an "
            "interval no conclusion can be drawn against the others."
        )
    if tied:
        paired = UNPAIRED if "base_only" in tied else ""  # a trial's adapt found a gain
        return (  # over the base that this side-by-side reading could not
            f"{start} has the best mean {name} ({figure(metric, best[1]['mean'])}), but {which} "
            f"overlaps the {listed(label(s) for s in tied)}: no conclusion can be drawn "
            f"between them{paired}."
        )
    return (
        f"{start} is best ({name} {figure(metric, *both)}), clearly ahead of the "
        f"{label(runner[0])} ({figure(metric, *both[::-1])}): {which} does not overlap "
        "theirs."
    )


def _level(best: dict[str, Any], other: dict[str, Any], metric: str) -> bool:
    """The same mean as printed (:func:`figure`): neither is the better."""
    a, b = best["mean"], other["mean"]  # with the digits of the larger: 9.996 and 10.004
    return figure(metric, a, b) == figure(metric, b, a)


def _level_sentence(
    sized: str,
    best: tuple[str, dict[str, Any]],
    level: list[str],
    metric: str,
    *,
    by_it: bool = False,
) -> str:
    """No best strategy where the leader's mean is the same as others' (the same figure from
    strategies that changed nothing the metric sees); ``by_it``: "by AUROC none ...", where
    other figures tell them apart (:func:`_beyond_ranking`)."""
    name = METRIC_LABELS.get(metric, metric)
    by = f"by {name} " if by_it else ""
    return (
        f"With {sized}, "
        f"{listed(f'the {label(s)}' for s in [best[0], *level])} have the same mean {name} "
        f"({figure(metric, best[1]['mean'])}): {by}none of them is the best at this size."
    )


#: what strategies level on AUROC may still differ in, and what each figure judges
BEYOND_RANKING = {"balanced_accuracy": "their calls{at}", "brier": "their risks"}


def _beyond_ranking(curves: dict[str, Any], fraction: float, level: list[str], metric: str,
                    noun: str, task: str = "binary") -> str:  # fmt: skip
    """Where strategies level on AUROC (which judges only how they rank the samples) differ
    in another figure's mean, those means, and whether their intervals overlap: a trial's
    study read "the same mean AUROC (1.000)" of a base model that found 1 of 7 nodules and
    adapters that found all 7, and concluded that adapting brought nothing. Empty where the
    metric is not AUROC or the other figures print alike."""
    if metric != "auroc":
        return ""
    said = []
    for other, judged in BEYOND_RANKING.items():
        ranked = dict(_ranked(curves.get(other) or {}, fraction, other))
        entries = [ranked[s] for s in level if s in ranked]
        means = [e["mean"] for e in entries]
        if len(entries) < len(level) or len({figure(other, m, *means) for m in means}) < 2:
            continue
        each = listed(f"{figure(other, m, *means)} for the {label(s)}"
                      for s, m in zip(level, means, strict=True))  # fmt: skip
        apart = any(not _overlap(a, b) for a in entries for b in entries)
        at = " at the decision threshold" if task == "binary" else ""
        said.append(f"{METRIC_LABELS.get(other, other)} ({judged.format(at=at)}) {each}, "
                    f"{'some' if apart else 'all'} of their intervals "
                    f"{'apart' if apart else 'overlapping'}")  # fmt: skip
    if not said:
        return ""
    return (f" AUROC judges only how they rank the {noun}; their other means differ: "
            f"{'; '.join(said)}.")  # fmt: skip


def one_class_sentence(points: list[dict[str, Any]], noun: str = "samples", *,
                       task: str = "binary", metric: str = "auroc") -> str | None:  # fmt: skip
    """One warning naming the strategies and sizes whose accuracy says little (a model that
    calls nearly every sample one class, or does no better than calling everyone the
    commonest class), as each point's metrics noted it; judged instead by what was estimated
    (``metric``: the study's main one; the Brier score where AUROC could not be)."""
    from medadapt.evaluate.metrics import ONE_CLASS

    where = _noted_where(points, ONE_CLASS, "the {strategy}")
    if where is None:
        return None
    at = ", at the decision threshold" if task == "binary" else ""
    judge = "AUROC, balanced accuracy and calibration"
    if metric == "brier":
        judge = (
            "the Brier score and calibration (AUROC and balanced accuracy could not be estimated)"
        )
    return (
        f"Warning: the accuracy says little for {where}: the model calls (nearly) every one "
        f"of the held-out {noun} the same class, or does no better than calling everyone the "
        f"commonest class{at}. Judge them by {judge}, not accuracy."
    )


def missed_class_sentence(points: list[dict[str, Any]], noun: str = "samples") -> str | None:
    """One warning naming, per strategy and size, the classes it almost never calls (found in
    a fifth of their held-out ``noun`` or fewer, as each point's metrics noted it): a trial's
    study recorded it at all 21 points, and neither its summary nor its report said a word,
    where ``adapt`` and ``evaluate`` warn of it. None where no point missed a class."""
    noted = [p for p in points if (p["metrics"].get("notes") or {}).get(MISSED_CLASS)]
    if not noted:
        return None
    each = []
    for strategy in dict.fromkeys(p["strategy"] for p in noted):
        mine = [p for p in points if p["strategy"] == strategy]
        where = _noted_where(mine, MISSED_CLASS, "the {strategy}")
        missed = sorted({str(entry["class"]) for p in noted if p["strategy"] == strategy
                         for entry in _missed_classes(p)})  # fmt: skip
        each.append(f"{where} ({listed(repr(c) for c in missed)})" if missed else where)
    return (
        f"Warning: a class is almost never called (found in a fifth of its held-out {noun} or "
        f"fewer) by {'; '.join(each)}: the mean AUROC and accuracy do not show it; do not rely "
        "on those models for that class as they are (each point's sensitivity per class: "
        "study.json)."
    )


def _missed_classes(point: dict[str, Any]) -> list[dict[str, Any]]:
    """A study point's per-class entries whose class it almost never calls."""
    return [entry for entry in point.get("per_class") or []
            if (entry.get("n") or 0) >= MIN_PER_CLASS and entry.get("sensitivity") is not None
            and entry["sensitivity"] <= MISSED_SENSITIVITY]  # fmt: skip


def _noted_where(points: list[dict[str, Any]], note: str, base_words: str) -> str | None:
    """The strategies and sizes whose points carry ``note`` ("the bottleneck adapter at 50%
    (1 of 3 seeds), 100%": a size where only some seeds carry it says how many, since the
    table shows their mean; the base model alone, at no size, as ``base_words`` with
    ``{strategy}``), or None where no point does."""
    flagged: dict[str, dict[float, int]] = {}
    seeds = Counter((point["strategy"], point["fraction"]) for point in points)
    for point in points:
        if point["metrics"].get("notes", {}).get(note):
            at = flagged.setdefault(point["strategy"], {})
            at[point["fraction"]] = at.get(point["fraction"], 0) + 1

    def of_seeds(strategy: str, fraction: float) -> str:
        count, every = flagged[strategy][fraction], seeds[(strategy, fraction)]
        return "" if count == every else f" ({count} of {every} seeds)"

    if not flagged:
        return None
    return "; ".join(
        base_words.format(strategy=label(strategy))
        + "".join(of_seeds(strategy, f) for f in fractions)
        if strategy == "base_only"
        else f"the {label(strategy)} at "
        + ", ".join(f"{share_text(f)}{of_seeds(strategy, f)}" for f in sorted(fractions))
        for strategy, fractions in flagged.items()
    )


#: what the base model's figure is in a study: no training size's (it is stored at 100%)
BASE_ALONE = "which trains on no target {noun}: the same figure at every size"


def backwards_sentence(by_strategy: dict[str, Any], noun: str = "samples") -> str | None:
    """A warning where every strategy, at every size, ranks the test ``noun`` worse than
    chance (each mean AUROC below 0.5): a trial's study named the head-only adapter "best"
    at AUROC 0.27, every strategy below 0.5 and nothing said of it."""
    means = [e["mean"] for entries in by_strategy.values() for e in entries
             if e.get("mean") is not None]  # fmt: skip
    if not means or max(means) >= 0.5:
        return None
    return (
        f"Warning: every strategy ranks the target's test {noun} worse than chance (each mean "
        f"AUROC below 0.5, at every size; the highest {max(means):.2f}): the labels or the "
        f"positive class may be swapped, or this site's {noun} differ from those the base "
        "model trained on (another scanner, export, unit or coding); check them before "
        "reading which strategy is best."
    )


def too_good_sentence(points: list[dict[str, Any]], noun: str = "samples") -> str | None:
    """One warning naming the strategies and sizes whose results are too good to be true (the
    base model alone at no size: it trains on none of the target ``noun``)."""
    base = f"the {{strategy}} ({BASE_ALONE.format(noun=noun)})"
    where = _noted_where(points, "too_good", base)
    if where is None:
        return None
    # of those, the ones whose probabilities barely differ: a stalled training's ranking (a
    # trial's study sent its reader to look for a leak in a base that had learnt nothing), or
    # a base's on a site unlike its own (a radiology trial's darker images)
    stalled = _noted_where([_too_good_if_flat(p) for p in points], "too_good", base)
    also = (
        f" For {stalled}, they rest on probabilities that barely differ: a model whose "
        f"training stalled gives such figures, as does one scoring {noun} unlike those it "
        "trained on, or a leak; they say nothing of how it does."
        if stalled else ""
    )  # fmt: skip
    return (
        f"Warning: results too good to be true (AUROC >= {TOO_GOOD_AUROC}, perfect accuracy or "
        f"R² >= {TOO_GOOD_R2}) for {where}: check for a leak ({leak_examples(noun[:-1])}) "
        f"before trusting any of them.{also}"
    )


def _too_good_if_flat(point: dict[str, Any]) -> dict[str, Any]:
    """``point`` with its too-good note only where its probabilities barely differ (every
    point kept: :func:`_noted_where` counts the seeds of each size)."""
    notes = point["metrics"].get("notes") or {}
    kept = {k: v for k, v in notes.items() if k != "too_good" or FLAT_SCORES in notes}
    return {**point, "metrics": {**point["metrics"], "notes": kept}}


def _trained_at(by_strategy: dict[str, Any], fraction: float) -> bool:
    """Whether any trained strategy ran at ``fraction`` (the base model is stored at 1.0)."""
    return any(
        e["fraction"] == fraction
        for s, entries in by_strategy.items()
        if s != "base_only"
        for e in entries
    )


def study_noun(study: dict[str, Any]) -> str:
    """How the study's modality counts its samples ("rows", "images")."""
    modality = study_modality(study)
    return modality.noun if modality is not None else "samples"


def study_modality(study: dict[str, Any]) -> Any:
    """The registered modality the study ran on (None: not registered here)."""
    from medadapt.modalities import registered

    kind = study.get("config", {}).get("kind", "tabular")
    return next((m for m in registered() if m.kind == kind), None)


def size_words(size: float, fraction: float, noun: str, span: tuple[float, float] | None) -> str:
    """``25 target rows (50%)``, or, where the seeds' splits gave different counts (a
    patient's rows stay together), ``25 target rows (50%; 23 to 28 across seeds, a mean)``: a
    trial's warning said 28 rows at 50% and its summary 25."""
    said = f"{size:.0f} target {noun} ({share_text(fraction)}"
    if span is not None and round(span[0]) != round(span[1]):
        said += f"; {span[0]:.0f} to {span[1]:.0f} across seeds, a mean"
    return said + ")"


def _size_range(by_strategy: dict[str, Any], fraction: float) -> tuple[float, float] | None:
    """The fewest and most training samples at ``fraction`` over the seeds (None: not
    recorded, a study run before)."""
    spans = [e["n_train_range"] for entries in by_strategy.values() for e in entries
             if e["fraction"] == fraction and e["n_train"] > 0
             and e.get("n_train_range")]  # fmt: skip
    if not spans:
        return None
    return min(s[0] for s in spans), max(s[1] for s in spans)


def _size(by_strategy: dict[str, Any], fraction: float) -> float:
    sizes = [
        e["n_train"]
        for entries in by_strategy.values()
        for e in entries
        if e["fraction"] == fraction and e["n_train"] > 0
    ]
    return float(np.mean(sizes)) if sizes else 0.0

"""Where an adapter's learning curve levels off and whether more data would help: the numbers
(the plateau; the gain between the two largest sizes, paired by seed and by test patient, with
an interval over seeds and test patients) and the sentences that state them."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from scipy import stats

from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.difference import signed_digits
from medadapt.evaluate.metrics import LOWER_IS_BETTER
from medadapt.evaluate.report.formatting import METRIC_LABELS, listed, metric_digits, rounded
from medadapt.results import FLAT_SCORES, share_text
from medadapt.workflows.labels import label
from medadapt.workflows.strategies import JUDGED_FIRST, judged_adapter

RESAMPLED = "resampled"
"""The key of a point's metrics holding its judged metrics on the study's shared bootstrap
resamples of the test samples (:func:`medadapt.workflows.study_points.metrics_on_resamples`)."""

PLATEAU_TOLERANCE = {
    "auroc": 0.01,
    "accuracy": 0.01,
    "balanced_accuracy": 0.01,
    "brier": 0.005,
    "ece": 0.01,
    "mae": None,
    "rmse": None,
    "r2": 0.01,
}


# The values each metric can take (Brier: multiclass up to 2); intervals are clipped to them.
METRIC_RANGE = {
    "auroc": (0.0, 1.0),
    "accuracy": (0.0, 1.0),
    "balanced_accuracy": (0.0, 1.0),
    "brier": (0.0, 1.0),
    "ece": (0.0, 1.0),
    "mae": (0.0, None),
    "rmse": (0.0, None),
    "r2": (None, 1.0),
}


def combined_interval(mean: float | None, ci, test_ci) -> list[float] | None:
    """Seed-to-seed and test-set uncertainty combined: on each side of the mean, the two
    intervals' reaches added in quadrature, so the whole holds each of them (a trial's AUROC
    near 1: test-set interval 0.827 to 1, seeds' 0.848 to 1, and one half-width, centred on
    the mean, gave 0.839 to 1, narrower than either)."""
    if mean is None or test_ci is None:
        return None
    seeds = (mean, mean) if ci is None else ci
    low = mean - float(np.hypot(max(mean - seeds[0], 0.0), max(mean - test_ci[0], 0.0)))
    high = mean + float(np.hypot(max(seeds[1] - mean, 0.0), max(test_ci[1] - mean, 0.0)))
    # an interval that misses the mean (a test set's, centred on other seeds): held whole
    return [min(low, seeds[0], test_ci[0]), max(high, seeds[1], test_ci[1])]


def figure(metric: str, value: float, *beside: float) -> str:
    """``value`` of ``metric`` with the digits the tables print it with (AUROC ``0.812``;
    an error in the label's unit to three significant figures of the largest of ``value``
    and ``beside``: MAE ``49.5``, not ``49.514``)."""
    return rounded(float(value), _digits(metric, value, *beside))


def change(metric: str, value: float, *beside: float) -> str:
    """A signed change of ``metric`` (``+0.012``; MAE ``-5.3``) with the digits of the
    largest of ``value`` and ``beside`` (its interval's ends), more where one would print
    as 0."""
    digits = signed_digits(_digits(metric, value, *beside), value, *beside)
    return f"{float(value):+.{digits}f}"


def _digits(metric: str, *values: float) -> int:
    return metric_digits(metric, max(abs(float(v)) for v in values))


def metric_range(metric: str, task: str) -> tuple[float | None, float | None]:
    if metric == "brier" and task == "multiclass":
        return (0.0, 2.0)
    return METRIC_RANGE.get(metric, (None, None))


def clip(interval, bounds: tuple[float | None, float | None]) -> list[float] | None:
    """``interval`` clipped to the metric's valid range (a t-interval or a bootstrap mean can
    pass 1 for AUROC, or 0 for the Brier score)."""
    if interval is None:
        return None
    low, high = (float(v) for v in interval)
    if bounds[0] is not None:
        low, high = max(low, bounds[0]), max(high, bounds[0])
    if bounds[1] is not None:
        low, high = min(low, bounds[1]), min(high, bounds[1])
    return [low, high]


def gain_range(metric: str, before: float) -> tuple[float | None, float | None]:
    """The changes of ``metric`` possible from ``before`` (its mean at the smaller size): an
    AUROC of 0.997 can gain 0.003 at most, an MAE of 40 fall by 40 at most (a trial's
    intervals ran to +0.040 and -100)."""
    low, high = metric_range(metric, "multiclass")  # the widest (Brier: up to 2)
    return (
        None if low is None else low - before,
        None if high is None else high - before,
    )


def difference_range(metric: str) -> tuple[float | None, float | None]:
    """The values a change of ``metric`` can take: within minus and plus its range's width
    (an AUROC changes by -1 to +1; a t-interval over 2 seeds reached -1.491 to +1.343)."""
    low, high = metric_range(metric, "multiclass")  # the widest (Brier: up to 2)
    if low is None or high is None:
        return (None, None)
    return (low - high, high - low)


def cut_words(metric: str, raw: Any, shown: Any) -> str:
    """``", its lower end cut where the Brier score reaches 0"`` where :func:`clip` cut the
    interval ``raw`` to the changes the metric allows (``shown``): a trial read "-0.057
    (95% CI -0.057 to +0.120)" as an impossible interval, its estimate on one end."""
    if raw is None or shown is None:
        return ""
    low, high = metric_range(metric, "multiclass")
    name = METRIC_LABELS.get(metric, metric)
    if shown[0] > raw[0] + 1e-12 and low is not None:
        return f", its lower end cut where the {name} reaches {low:g}"
    if shown[1] < raw[1] - 1e-12 and high is not None:
        return f", its upper end cut where the {name} reaches {high:g}"
    return ""


def t_interval(values: list[float]) -> tuple[float, float] | None:
    """The 95% t-interval of the mean of ``values`` (None for fewer than two, or when they
    are all equal: a zero-width interval would read as certainty)."""
    if len(values) < 2:
        return None
    mean, sem = float(np.mean(values)), float(stats.sem(values))
    if sem == 0:
        return None
    half = float(stats.t.ppf(0.975, len(values) - 1)) * sem
    return (mean - half, mean + half)


def adapter_verdicts(
    points: list[dict[str, Any]], by_strategy: dict[str, Any], metric: str, noun: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[str]]:
    """The adapter's plateau, whether more data would help, and the sentences saying so."""
    adapter = judged_adapter(list(by_strategy))
    plateau, more_data, lines = None, None, []
    if adapter is None:
        return plateau, more_data, lines
    worse = _worse_than_base_sentence(worse_than_base(by_strategy, adapter, metric), metric, noun)
    if stalled_at_every_size(points, adapter):
        # a trial's "gets within 0.01 of its best AUROC from 14 images", of an adapter whose
        # probabilities barely differed (worse than the base alone, if so, still said first)
        named = METRIC_LABELS.get(metric, metric)
        return plateau, more_data, [*([worse] if worse else []), (
            f"The {label(adapter)} gives nearly the same probability to every test "
            f"{noun[:-1]} at every size and seed (its training stalled): how its {named} grows "
            "with data says nothing, and none is read from it.")]  # fmt: skip
    worth = worth_having(metric, points)
    plateau = find_plateau(by_strategy[adapter], metric, worth)
    largest = max((e["fraction"] for e in by_strategy[adapter]), default=None)
    more_data = last_gain(points, adapter, metric, noun, worth)
    if worse:  # first: where its curve levels off is no good news then
        lines.append(worse)
    if plateau is not None:
        said = plateau_sentence(adapter, metric, plateau, largest, noun)
        lines.append(said if plateau["fraction"] == largest else _as_means(said, more_data))
    if more_data is not None:
        lines.append(more_data["sentence"])
    return plateau, more_data, lines


def stalled_at_every_size(points: list[dict[str, Any]], strategy: str) -> bool:
    """Whether every point of ``strategy`` gave about the same probability to every test sample
    (its training stalled): no curve of it is read."""
    own = [p for p in points if p["strategy"] == strategy]
    return bool(own) and all(FLAT_SCORES in (p["metrics"].get("notes") or {}) for p in own)


def worse_than_base(
    by_strategy: dict[str, Any], adapter: str, metric: str
) -> dict[str, Any] | None:
    """``{"strategy", "mean", "base_mean"}`` where the judged ``adapter``'s mean at the largest
    size it was trained at is worse than the base model's alone (a trial's summary said the
    adapter "gets within 5.03 of its best MAE from 5 rows", which read as good news, while its
    card, at the report's end, said it never did better than the base); None otherwise. The
    summary and the adapter card both say it from this one comparison."""
    largest = max((e["fraction"] for e in by_strategy.get(adapter, [])), default=None)

    def mean_at(strategy: str, fraction: float | None) -> float | None:
        entries = [e for e in by_strategy.get(strategy, []) if e.get("mean") is not None
                   and (fraction is None or e["fraction"] == fraction)]  # fmt: skip
        return float(np.mean([e["mean"] for e in entries])) if entries else None

    theirs, base = mean_at(adapter, largest), mean_at("base_only", None)
    if theirs is None or base is None:
        return None
    worse = theirs > base if metric in LOWER_IS_BETTER else theirs < base
    return {"strategy": adapter, "mean": theirs, "base_mean": base} if worse else None


def _worse_than_base_sentence(worse: dict[str, Any] | None, metric: str, noun: str) -> str | None:
    """The summary's sentence for :func:`worse_than_base`'s finding."""
    if worse is None:
        return None
    name = METRIC_LABELS.get(metric, metric)
    return (
        f"The {label(worse['strategy'])} does no better than the base model alone here: its "
        f"mean {name} with the most target {noun} ({figure(metric, worse['mean'])}) is no "
        f"better than the base's ({figure(metric, worse['base_mean'])}) on the same test {noun}, "
        "so "
        "where its curve levels off is no reason to adapt."
    )


def _as_means(said: str, more_data: dict[str, Any] | None) -> str:
    """A plateau read from mean scores (``said``), qualified unless the gain's interval rules
    out that more data would help much: "gets within 0.01 of its best from 35 rows" beside
    "cannot tell" read to a clinician as "35 patients suffice". The interval below is named
    only where one follows with a verdict (none: one seed, seeds that agree, no resamples)."""
    verdict = more_data or {}
    improving = verdict.get("improving")  # None: no verdict (no interval, or none judged)
    if improving is False and not verdict.get("inconclusive"):
        return said
    if improving:
        why = ": the interval below shows the curve still improving"
    elif improving is False:
        why = ": the interval below does not rule out that more data would help"
    else:
        why = ", which alone cannot show whether more data would help"
    return f"{said.removesuffix('.')}; that reading rests on the mean scores{why}."


def why_this_adapter(adapter: str) -> str:
    """Why a study's plateau and more-data lines, and its report's adapter card, are about
    ``adapter``: the adapter method it judges is picked by a fixed order, not by its score."""
    if adapter in JUDGED_FIRST:
        methods = listed(label(s).removesuffix(" adapter") for s in JUDGED_FIRST)
        return f"the first it ran of the {methods} adapters, whatever its score"
    return "the first adapter method it ran, whatever its score"


def best_at_largest(best_per_size: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The best strategy at the largest size compared (``conclusions``' ``best_per_size``
    entry), or None where there is none or several have the same mean (``best`` None)."""
    last = best_per_size[-1] if best_per_size else None
    return None if last is None or last.get("best") is None or last.get("level_with") else last


def best_words(best: dict[str, Any], metric: str, noun: str) -> str:
    """``"the best mean AUROC with 140 target rows (100%)"``."""
    name = METRIC_LABELS.get(metric, metric)
    share = share_text(best["fraction"])
    return f"the best mean {name} with {best['n_train']:.0f} target {noun} ({share})"


def followed_sentence(
    adapter: str, best_per_size: list[dict[str, Any]], metric: str, noun: str
) -> str | None:
    """The line before the plateau and more-data lines where they are about another strategy
    than the best one: which adapter they follow, and why (None where it is the best)."""
    best = best_at_largest(best_per_size)
    if best is None or best["best"] == adapter:
        return None
    return (
        f"The next lines follow the {label(adapter)}, the adapter method this study judges "
        f"({why_this_adapter(adapter)}); {best_words(best, metric, noun)} came from the "
        f"{label(best['best'])}."
    )


BRIER_WORTH_SHARE = 0.02
"""The change in Brier score worth having, as a share of the Brier score of predicting the
test group's outcome shares for everyone (0.005 at a prevalence of 0.5): a fixed 0.005 was
30% of all there is to gain at a prevalence of 0.016 (a biostatistician's review)."""


def worth_having(metric: str, points: list[dict[str, Any]]) -> float | None:
    """The smallest change of ``metric`` worth having where it depends on the test group: the
    Brier score's (:data:`BRIER_WORTH_SHARE` of the uninformed one, from the test samples'
    prevalence or class counts, the same for every point); None: :data:`PLATEAU_TOLERANCE`'s
    or a tenth of the level reached."""
    if metric != "brier":
        return None
    scored = next((p["metrics"] for p in points if (p.get("metrics") or {}).get("n")), {})
    if scored.get("prevalence") is not None:
        uninformed = scored["prevalence"] * (1 - scored["prevalence"])
    elif scored.get("class_counts"):
        shares = np.asarray(scored["class_counts"], dtype=float) / sum(scored["class_counts"])
        uninformed = float(1 - (shares**2).sum())
    else:
        return None
    return BRIER_WORTH_SHARE * uninformed or None


def find_plateau(
    entries: list[dict[str, Any]], metric: str, worth: float | None = None
) -> dict[str, Any] | None:
    """The first size that no later size beats by more than the tolerance (``worth``, else
    :data:`PLATEAU_TOLERANCE`'s; a curve that dips at the largest size still has one)."""
    defined = [e for e in entries if e["mean"] is not None]
    if len(defined) < 2:
        return None
    means = [e["mean"] for e in defined]
    best = min(means) if metric in LOWER_IS_BETTER else max(means)
    fixed = worth or PLATEAU_TOLERANCE.get(metric)
    relative = not fixed  # an error in the label's unit: 10% of it
    tolerance = 0.1 * abs(best) if relative else fixed
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    for i, entry in enumerate(defined):
        if all(sign * (m - entry["mean"]) <= tolerance for m in means[i + 1 :]):
            last = means[-1]
            return {
                "fraction": entry["fraction"],
                "n_train": entry["n_train"],
                "tolerance": tolerance,
                "tolerance_share": 0.1 if relative else None,
                "best": best,
                "last_mean": last,
                "last_drop": i < len(defined) - 1 and sign * (entry["mean"] - last) > tolerance,
                "worse": "higher (worse)" if metric in LOWER_IS_BETTER else "lower",
            }
    return None


def plateau_sentence(
    adapter: str, metric: str, plateau: dict[str, Any], largest: float | None, noun: str
) -> str:
    """Where the adapter's curve levels off, or that it only reaches its best at the end."""
    name = METRIC_LABELS.get(metric, metric)
    if plateau["fraction"] == largest:
        where = (
            f"with all {plateau['n_train']:.0f} training {noun}"
            if largest == 1.0
            else f"at the largest size tried ({plateau['n_train']:.0f} {noun}, "
            f"{share_text(largest)})"
        )
        return (
            f"The {label(adapter)} only reaches its best {name} {where}: no plateau within "
            "this data."
        )
    share = plateau.get("tolerance_share")
    of_it = f" ({share:.0%} of that best)" if share else ""  # not a training size
    if metric == "brier" and not share:  # (a trial read "within 0.00375" beside figures far
        # smaller, with nothing to say what the tolerance measured against)
        uninformed = plateau["tolerance"] / BRIER_WORTH_SHARE
        of_it = (f" ({BRIER_WORTH_SHARE:.0%} of the {uninformed:.3g} scored by giving every "
                 "patient the group's share of each outcome)")  # fmt: skip
    text = (
        f"The {label(adapter)} gets within {plateau['tolerance']:.3g} of its best {name}{of_it} "
        "from "
        f"{plateau['n_train']:.0f} {noun} ({share_text(plateau['fraction'])}); no larger size "
        "tried improves on that by more"
    )
    if plateau.get("last_drop"):
        text += (
            f" (at the largest size it scores {figure(metric, plateau['last_mean'])}, "
            f"{plateau.get('worse', 'lower')} than at "
            f"{plateau['n_train']:.0f} {noun})"
        )
    return text + "."


def last_gain(
    points: list[dict[str, Any]],
    strategy: str,
    metric: str,
    noun: str,
    worth: float | None = None,
) -> dict[str, Any] | None:
    """Change of ``metric`` between the two largest training sizes, paired by seed, with a
    95% interval that counts both sources of uncertainty: which seed trained the models (a
    t-interval over seeds) and which patients tested them (the mean gain over seeds on the
    same bootstrap resamples of the test samples for both sizes), their half-widths added
    in quadrature. Points without those resamples (saved by an older medadapt) give an
    interval over seeds only, said to cover these test samples only, and no verdict."""
    paired = _paired_gains(points, strategy, metric)
    if paired is None:
        return None
    low, high, by_seed, gains = paired
    name = METRIC_LABELS.get(metric, metric)
    mean = float(np.mean(gains))

    def start(*beside: float) -> str:  # the mean with its interval's digits
        return (
            f"From {share_text(low)} to {share_text(high)} of the target {noun}, the "
            f"{label(strategy)}'s {name} "
            f"changed by {change(metric, mean, *beside)}"
        )

    if len(gains) < 2:
        return {
            "from": low,
            "to": high,
            "gain": mean,
            "ci": None,
            "improving": None,
            "sentence": f"{start()} with one seed: one seed gives no interval, so whether more "
            "data would help cannot be judged; run with --seeds 3 or more.",
        }
    before = float(np.mean([v[low] for v in by_seed.values()
                            if v.get(low) is not None and v.get(high) is not None]))  # fmt: skip
    possible = gain_range(metric, before)
    interval = clip(t_interval(gains), difference_range(metric))  # its width: the seeds'

    if interval is None:
        return {
            "from": low, "to": high, "gain": mean, "ci": None, "improving": None,
            "sentence": f"{start()} in each of the {len(gains)} seeds: seeds that agree exactly "
            "give no interval, so whether more data would help cannot be judged from them.",
        }  # fmt: skip
    n_test = _n_test(points, strategy, high)
    test_ci, why_not = _test_interval(points, strategy, metric, (low, high), noun)
    if test_ci is None:
        these = f"these {n_test} test {noun}" if n_test else f"these test {noun}"
        shown = clip(interval, possible)
        ends = [change(metric, end, mean, *shown) for end in shown]
        return {
            "from": low, "to": high, "gain": mean, "ci": list(shown), "test_ci": None,
            "improving": None, "inconclusive": None,
            "sentence": f"{start(*shown)} (95% CI {ends[0]} to {ends[1]} over "
            f"{len(gains)} seeds{cut_words(metric, interval, shown)}, on {these} only): "
            "another set of patients could show no "
            f"gain, so whether more data would help is not judged ({why_not}).",
        }  # fmt: skip
    # each side's reach in quadrature: a test set's percentile interval may be lopsided
    raw = clip(combined_interval(mean, interval, test_ci), difference_range(metric))
    total = clip(raw, possible)
    reached = [v[high] for v in by_seed.values() if v.get(high) is not None]
    worth, worth_said = _worth_and_words(metric, worth, reached)
    improving, inconclusive, verdict = _gain_verdict(total, metric, worth, worth_said)
    over = f"over {len(gains)} seeds and the {n_test} test {noun}" if n_test else (
        f"over {len(gains)} seeds and the test {noun}")  # fmt: skip
    ends = [change(metric, end, mean, *total) for end in total]
    sentence = (f"{start(*total)} (95% CI {ends[0]} to {ends[1]}, {over}"
                f"{cut_words(metric, raw, total)}): {verdict}.")  # fmt: skip
    return {
        "from": low,
        "to": high,
        "gain": mean,
        "ci": list(total),
        "test_ci": list(test_ci),
        "improving": improving,
        "inconclusive": inconclusive,
        "sentence": sentence,
    }


def _test_interval(
    points: list[dict[str, Any]],
    strategy: str,
    metric: str,
    sizes: tuple[float, float],
    noun: str,
) -> tuple[tuple[float, float] | None, str]:
    """The 95% percentile interval of the mean gain over seeds on the shared resamples of the
    test samples (both sizes scored on the same resample), or None and why not."""
    low, high = sizes
    by_seed: dict[Any, dict[float, dict[str, Any]]] = defaultdict(dict)
    for p in points:
        if p["strategy"] == strategy and p["fraction"] in sizes:
            by_seed[p["seed"]][p["fraction"]] = p["metrics"]
    gains = []
    for by_size in by_seed.values():
        if any(by_size.get(f, {}).get(metric) is None for f in sizes):
            continue  # no gain from this seed (as in _paired_gains)
        after, before = (by_size[f].get(RESAMPLED, {}).get(metric) for f in (high, low))
        if after is None or before is None:
            if any(by_size[f].get(RESAMPLED) for f in sizes):  # others resampled, not this one
                return None, (f"{METRIC_LABELS.get(metric, metric)} is not resampled over "
                              f"the test {noun}")  # fmt: skip
            return None, (f"these points hold no resamples of the test {noun}: an older "
                          "medadapt saved them; run the study again in a new --out to judge "
                          "it")  # fmt: skip
        after, before = np.array(after, dtype=float), np.array(before, dtype=float)  # None: NaN
        if after.shape != before.shape:
            return None, f"the points resampled the test {noun} differently"
        gains.append(after - before)
    interval = bs.percentile_interval(np.mean(gains, axis=0)) if gains else None
    if interval is None:
        return None, (f"{METRIC_LABELS.get(metric, metric)} is undefined on too many resamples "
                      f"of the test {noun}")  # fmt: skip
    return (interval[0], interval[1]), ""


def _n_test(points: list[dict[str, Any]], strategy: str, fraction: float) -> int | None:
    """How many test samples the points at ``fraction`` were scored on."""
    counts = {p["metrics"].get("n") for p in points
              if p["strategy"] == strategy and p["fraction"] == fraction}  # fmt: skip
    counts.discard(None)
    return int(counts.pop()) if len(counts) == 1 else None


def _paired_gains(
    points: list[dict[str, Any]], strategy: str, metric: str
) -> tuple[float, float, dict[Any, dict[float, Any]], list[float]] | None:
    """The two largest sizes ``strategy`` ran at, its ``metric`` per seed and size, and the
    change between the two sizes for every seed that has both (None without any)."""
    mine = [p for p in points if p["strategy"] == strategy]
    fractions = sorted({p["fraction"] for p in mine})
    if len(fractions) < 2:
        return None
    low, high = fractions[-2], fractions[-1]
    by_seed = defaultdict(dict)
    for p in mine:
        by_seed[p["seed"]][p["fraction"]] = p["metrics"].get(metric)
    gains = [
        v[high] - v[low]
        for v in by_seed.values()
        if v.get(high) is not None and v.get(low) is not None
    ]
    if not gains:
        return None
    return low, high, by_seed, gains


def _worth_and_words(metric: str, given: float | None, reached: list[float]) -> tuple[float, str]:
    """The gain worth having and its words, with where it comes from (a trial: "a gain larger
    than 3.96", never explained): ``given`` (:func:`worth_having`'s share of the uninformed
    Brier score), else :data:`PLATEAU_TOLERANCE`'s fixed figure, else a tenth of the mean
    ``reached`` at the largest size (an error in the label's unit)."""
    name = METRIC_LABELS.get(metric, metric)
    counted = f"the smallest change in {name} counted as worth having"
    if given and metric == "brier":
        return given, (f"{given:.3g} ({counted}: {BRIER_WORTH_SHARE:.0%} of the {name} of "
                       "predicting the test group's outcome shares for everyone)")  # fmt: skip
    if given:
        return given, f"{given:.3g} ({counted})"
    fixed = PLATEAU_TOLERANCE.get(metric)
    if fixed and metric == "brier":  # the test group's prevalence or class counts unrecorded
        return fixed, (f"{fixed:.3g} ({counted}, a fixed figure where the test group's outcome "
                       "shares are not recorded)")  # fmt: skip
    if fixed:
        return fixed, f"{fixed:.3g} ({counted})"
    tenth = 0.1 * abs(float(np.mean(reached)))
    return tenth, f"{tenth:.3g} (a tenth of the {name} reached at the largest size)"


def _gain_verdict(
    interval: tuple[float, float], metric: str, worth: float, worth_said: str
) -> tuple[bool, bool, str]:
    """Whether the gain's interval shows a rise, leaves it open, or rules out a gain larger
    than ``worth`` (said as ``worth_said``): ``(improving, inconclusive, verdict)``."""
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    worst, best = sorted(sign * np.array(interval))  # in "better" units
    improving = bool(worst > 0)
    # a gain in an error is a fall (a trial read "a gain larger than 5.59" of an MAE unsure
    # of its sign)
    name = METRIC_LABELS.get(metric, metric)
    gain = f"a gain (a fall in the {name})" if metric in LOWER_IS_BETTER else "a gain"
    if improving:  # an error's curve improves as it falls (a trial read "rising" of an MAE)
        moving = "falling" if metric in LOWER_IS_BETTER else "rising"
        verdict = f"the curve is still {moving}: more data of this kind would likely help"
    elif best > worth:
        verdict = (
            f"cannot tell: the interval includes both no gain and {gain} larger than "
            f"{worth_said}, so more data of this kind may or may not help"
        )
    else:
        verdict = (
            f"no evidence that more data of this kind would help much: the interval rules out "
            f"{gain} larger than {worth_said}"
        )
    return improving, bool(not improving and best > worth), verdict

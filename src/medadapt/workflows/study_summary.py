"""Learning curves and plain-language conclusions from a study's points.

Per strategy and training size: the mean over seeds and a 95 % t-interval over seeds (how much
the result depends on which patients were used and on the random start), plus the mean of the
per-seed bootstrap intervals (how uncertain one result is given the small test set).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from scipy import stats

from medadapt.workflows.labels import label

LOWER_IS_BETTER = {"brier", "ece", "mae", "rmse"}
METRICS = {
    "binary": ("auroc", "accuracy", "balanced_accuracy", "brier", "ece"),
    "multiclass": ("auroc", "accuracy", "balanced_accuracy", "brier"),
    "regression": ("mae", "rmse", "r2"),
}
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


def t_interval(values: list[float]) -> tuple[float, float] | None:
    if len(values) < 2:
        return None
    mean, sem = float(np.mean(values)), float(stats.sem(values))
    if sem == 0:
        return (mean, mean)
    half = float(stats.t.ppf(0.975, len(values) - 1)) * sem
    return (mean - half, mean + half)


def aggregate(points: list[dict[str, Any]], task: str) -> dict[str, Any]:
    """``curves[metric][strategy] = [{fraction, n_train, mean, ci, test_ci, n_seeds}, ...]``."""
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
            entry = {
                "fraction": fraction,
                "n_train": float(np.mean([p["n_train"] for p in group])),
                "n_seeds": len(defined),
                "mean": float(np.mean(defined)) if defined else None,
                "sd": float(np.std(defined, ddof=1)) if len(defined) > 1 else None,
                "ci": t_interval(defined),
                "test_ci": [
                    float(np.mean([c[0] for c in cis])),
                    float(np.mean([c[1] for c in cis])),
                ]
                if cis
                else None,
                "note": None
                if defined
                else next(iter(group[0]["metrics"].get("notes", {}).values()), "not estimable"),
            }
            per_strategy[strategy].append(entry)
        curves[metric] = dict(per_strategy)
    return curves


def main_metric(curves: dict[str, Any], task: str) -> str:
    """AUROC when the test set supports it, else accuracy (or MAE for regression)."""
    if task == "regression":
        return "mae"
    defined = any(e["mean"] is not None for entries in curves["auroc"].values() for e in entries)
    return "auroc" if defined else "accuracy"


def _better(metric: str, a: float, b: float) -> bool:
    return a < b if metric in LOWER_IS_BETTER else a > b


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["ci"] is None or b["ci"] is None:
        return True
    return a["ci"][0] <= b["ci"][1] and b["ci"][0] <= a["ci"][1]


def conclusions(study: dict[str, Any], curves: dict[str, Any]) -> dict[str, Any]:
    """Best strategy per size, where the adapter plateaus, whether more data would help, and
    where intervals overlap — as numbers and as sentences."""
    task = study["task"]
    metric = main_metric(curves, task)
    by_strategy = curves[metric]
    fractions = sorted({e["fraction"] for entries in by_strategy.values() for e in entries})
    lines: list[str] = []
    best_per_size = []
    for fraction in fractions:
        candidates = []
        for strategy, entries in by_strategy.items():
            entry = next((e for e in entries if e["fraction"] == fraction), None)
            if entry is None and strategy == "base_only":
                entry = entries[0]  # the base model does not train: the same at every size
            if entry is not None and entry["mean"] is not None:
                candidates.append((strategy, entry))
        if not candidates:
            continue
        ordered = sorted(
            candidates, key=lambda c: c[1]["mean"], reverse=metric not in LOWER_IS_BETTER
        )
        best, runner = ordered[0], ordered[1] if len(ordered) > 1 else None
        tied = [s for s, e in ordered[1:] if _overlap(best[1], e)]
        size = _size(by_strategy, fraction)
        best_per_size.append(
            {
                "fraction": fraction,
                "n_train": size,
                "best": best[0],
                "mean": best[1]["mean"],
                "indistinguishable_from": tied,
            }
        )
        if runner is None:
            continue
        if tied:
            lines.append(
                f"With {size:.0f} target rows ({fraction:.0%}), the {label(best[0])} has the "
                f"best mean {metric} ({best[1]['mean']:.3f}), but its interval overlaps "
                f"{_names(tied)}: no conclusion can be drawn between them."
            )
        else:
            lines.append(
                f"With {size:.0f} target rows ({fraction:.0%}), the {label(best[0])} is best "
                f"({metric} {best[1]['mean']:.3f}), clearly ahead of the {label(runner[0])} "
                f"({runner[1]['mean']:.3f})."
            )
    adapter = next(
        (s for s in ("bottleneck", "lora", "ia3", "head_only") if s in by_strategy), None
    )
    plateau, more_data = None, None
    if adapter is not None:
        plateau = _plateau(by_strategy[adapter], metric)
        largest = max((e["fraction"] for e in by_strategy[adapter]), default=None)
        if plateau is not None and plateau["fraction"] == largest:
            lines.append(
                f"The {label(adapter)} only reaches its best {metric} with all "
                f"{plateau['n_train']:.0f} training rows: no plateau within this data."
            )
        elif plateau is not None:
            lines.append(
                f"The {label(adapter)} gets within {PLATEAU_TOLERANCE.get(metric) or 'a tenth'} "
                f"of its best {metric} from {plateau['n_train']:.0f} rows "
                f"({plateau['fraction']:.0%}); beyond that it stops improving."
            )
        more_data = _last_gain(study["points"], adapter, metric)
        if more_data is not None:
            lines.append(more_data["sentence"])
    return {
        "metric": metric,
        "best_per_size": best_per_size,
        "plateau": plateau,
        "more_data": more_data,
        "sentences": lines,
    }


def _names(strategies: list[str]) -> str:
    names = [label(s) for s in strategies]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _size(by_strategy: dict[str, Any], fraction: float) -> float:
    sizes = [
        e["n_train"]
        for entries in by_strategy.values()
        for e in entries
        if e["fraction"] == fraction and e["n_train"] > 0
    ]
    return float(np.mean(sizes)) if sizes else 0.0


def _plateau(entries: list[dict[str, Any]], metric: str) -> dict[str, Any] | None:
    defined = [e for e in entries if e["mean"] is not None]
    if len(defined) < 2:
        return None
    means = [e["mean"] for e in defined]
    best = min(means) if metric in LOWER_IS_BETTER else max(means)
    tolerance = PLATEAU_TOLERANCE.get(metric) or 0.1 * abs(best)
    for i, entry in enumerate(defined):
        rest = [e["mean"] for e in defined[i:]]
        if all(abs(best - m) <= tolerance or _better(metric, m, best) for m in rest):
            return {
                "fraction": entry["fraction"],
                "n_train": entry["n_train"],
                "tolerance": tolerance,
                "best": best,
            }
    return None


def _last_gain(points: list[dict[str, Any]], strategy: str, metric: str) -> dict[str, Any] | None:
    """Paired (by seed) change of ``metric`` between the two largest training sizes."""
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
    if len(gains) < 2:
        return None
    interval = t_interval(gains)
    mean = float(np.mean(gains))
    improving = (interval[0] > 0) if metric not in LOWER_IS_BETTER else (interval[1] < 0)
    verdict = (
        "the curve is still rising: more data of this kind would likely help"
        if improving
        else "no evidence that more data of this kind would help much"
    )
    sentence = (
        f"From {low:.0%} to {high:.0%} of the target rows, the {label(strategy)}'s {metric} "
        f"changed by {mean:+.3f} (95% CI {interval[0]:+.3f} to {interval[1]:+.3f}, "
        f"{len(gains)} seeds): {verdict}."
    )
    return {
        "from": low,
        "to": high,
        "gain": mean,
        "ci": list(interval),
        "improving": improving,
        "sentence": sentence,
    }

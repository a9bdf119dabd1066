"""The adapter card: a markdown page that says what an adapter is for and what its data supports.

Written from the manifest at registration (and for every import), so it cannot drift from the
weights it describes. Limitations are derived from the recorded summaries with fixed, stated
thresholds (small samples, skewed prevalence, one group only, wide or missing confidence
intervals); an absent summary is called out, never papered over.
"""

from __future__ import annotations

import json
from typing import Any

from medadapt.registry.records import (
    Metric,
    metric_notes,
    other_values,
    parse_metrics,
    summaries,
)

SMALL_N = 100
"""Fewer training cases than this is called a small sample."""
SMALL_MINORITY = 20
"""Fewer cases than this in the minority class is called out."""
SKEWED = 0.1
"""Prevalence below this (or above 1 - this) is called skewed."""
WIDE_CI = 0.2
"""A confidence interval wider than this (on a 0-1 metric) is called wide."""

_COUNT_KEYS = ("n_train", "n_val", "n_test", "n_positive", "n_negative")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value).replace("|", "\\|").replace("\n", " ")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def limitations(summary: dict[str, Any], metrics: list[Metric]) -> list[str]:
    """Plain-language limitations derived from the data summary and the metrics."""
    data = summary["data_summary"]
    out: list[str] = []
    n_train = _int(data.get("n_train"))
    if not data:
        out.append(
            "No training-data summary was recorded: the size, balance and origin of the "
            "training data are unknown."
        )
    elif n_train is not None and n_train < SMALL_N:
        out.append(
            f"Trained on {n_train} cases (fewer than {SMALL_N}): performance estimates are "
            "uncertain and the adapter may not generalize."
        )
    pos, neg = _int(data.get("n_positive")), _int(data.get("n_negative"))
    if neg is None and pos is not None and n_train is not None:
        neg = n_train - pos
    if pos is not None and neg is not None and min(pos, neg) < SMALL_MINORITY:
        out.append(
            f"Only {min(pos, neg)} cases in the minority class (fewer than {SMALL_MINORITY})."
        )
    prevalence = data.get("prevalence")
    if (
        isinstance(prevalence, int | float)
        and 0 <= prevalence <= 1
        and not SKEWED <= prevalence <= 1 - SKEWED
    ):
        out.append(
            f"Skewed training data (prevalence {prevalence:.2f}): calibration and thresholds "
            "may not transfer to a population with a different prevalence."
        )
    if data.get("group") is not None:
        column = data.get("group_column", "group")
        out.append(
            f"Trained for one group ({column} = {data['group']}): it is not validated for "
            "other sites or patient groups."
        )
    scores = [m for m in metrics if not m.is_count]
    if not scores:
        out.append("No evaluation metrics were recorded.")
    for name, note in metric_notes(summary["metrics"]).items():
        out.append(f"{'All metrics' if name == 'all' else name}: {note.rstrip('.')}.")
    for metric in scores:
        if metric.ci is None:
            out.append(
                f"No confidence interval recorded for {metric.name}: treat "
                f"{metric.value:.3f} as a point estimate of unknown precision."
            )
        elif metric.ci[1] - metric.ci[0] > WIDE_CI and -1 <= metric.value <= 1:
            out.append(
                f"The confidence interval for {metric.name} is wide "
                f"({metric.ci[0]:.2f} to {metric.ci[1]:.2f}): the data do not pin down its "
                "performance."
            )
    out.extend(summary["limitations"])
    out.append(
        "An adapter adds no information beyond its training data: it does not replace data "
        "quality or quantity."
    )
    return out


def render_card(
    *,
    name: str,
    version: int,
    parent: int | None,
    registered: str,
    manifest: dict[str, Any],
    notes: str | None = None,
    origin: dict[str, Any] | None = None,
) -> str:
    """The markdown card for ``name@version`` registered from ``manifest``."""
    summary = summaries(manifest)
    metrics = parse_metrics(summary["metrics"])
    fp = manifest.get("base_fingerprint", {})
    base = summary["base_model"]
    base_label = base.get("name") or base.get("backbone") or fp.get("model_class", "?")
    task = summary["task"] or "an unstated task"
    lines = [
        f"# {name} v{version}",
        "",
        f"A **{manifest.get('method', '?')}** adapter for **{task}** on base model "
        f"**{base_label}** (weights sha256 `{str(fp.get('weights', ''))[:12]}`).",
        "",
        "## Intended use",
        "",
        summary["intended_use"]
        or "Not stated. Before clinical use, record the population, setting and decision this "
        "adapter is meant to support.",
        "",
        "## Training data",
        "",
    ]
    data = summary["data_summary"]
    if data:
        lines += ["| field | value |", "|---|---|"]
        keys = [k for k in _COUNT_KEYS if k in data] + [k for k in data if k not in _COUNT_KEYS]
        lines += [f"| {_cell(k)} | {_cell(data[k])} |" for k in keys]
    else:
        lines.append("No summary was recorded.")
    lines += ["", "## Metrics", ""]
    if metrics:
        level = summary["metrics"].get("ci_level")
        ci_head = f"{level:.0%} CI" if isinstance(level, float) else "CI"
        lines += [f"| metric | value | {ci_head} |", "|---|---|---|"]
        for m in metrics:
            ci = f"{m.ci[0]:.3f} to {m.ci[1]:.3f}" if m.ci else "not recorded"
            value = str(int(m.value)) if m.is_count else f"{m.value:.3f}"
            lines.append(f"| {_cell(m.name)} | {value} | {'' if m.is_count else ci} |")
    else:
        lines.append("No metrics were recorded.")
    extra = other_values(summary["metrics"])
    if extra:
        listed = ", ".join(f"{_cell(k)} {_cell(v)}" for k, v in extra.items())
        lines += ["", f"Also recorded with the metrics (not performance measures): {listed}."]
    lines += ["", "## Limitations", ""]
    lines += [f"- {item}" for item in limitations(summary, metrics)]
    lines += [
        f"- Works only with the base model it was trained on ({fp.get('model_class', '?')}, "
        f"{fp.get('n_parameters', '?')} parameters, weights sha256 `{fp.get('weights', '?')}`); "
        "the registry refuses to load it onto any other.",
        "",
        "## Provenance",
        "",
        "| field | value |",
        "|---|---|",
        f"| version | {name}@{version} |",
        f"| parent | {f'{name}@{parent}' if parent else 'none'} |",
        f"| method | {_cell(manifest.get('method', '?'))} |",
        f"| config | `{_cell(manifest.get('config', {}))}` |",
        f"| adapted layers | {len(manifest.get('layers', []))} |",
        f"| adapter parameters | {manifest.get('n_parameters', '?')} |",
        f"| weights sha256 | `{manifest.get('weights_sha256', '?')}` |",
        f"| trained | {manifest.get('created', '?')} (medadapt "
        f"{manifest.get('medadapt_version', '?')}) |",
        f"| registered | {registered} |",
    ]
    if base:
        lines.append(f"| base model | {_cell(base)} |")
    if origin:
        lines.append(
            f"| imported from | {origin.get('name')}@{origin.get('version')} of registry "
            f"`{str(origin.get('registry_id', '?'))[:12]}`, exported {origin.get('exported')} |"
        )
    if notes:
        lines += ["", "## Notes", "", notes.strip()]
    return "\n".join(lines) + "\n"

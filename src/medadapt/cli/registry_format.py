"""How the ``medadapt registry`` commands print: sizes, table cells, metrics and their notes,
data summaries in words, JSON, the console.

Imported by :mod:`medadapt.cli.registry`; like the other registry command modules, cheap to
import (no torch). Metrics are named and their intervals printed as in every other output
(``AUROC 0.680 (0.539–0.822)``, :func:`medadapt.evaluate.report.formatting.fmt_ci`).
"""

from __future__ import annotations

import json
import math
from typing import Any

import typer
from rich.console import Console

from medadapt.evaluate.report.formatting import fmt_ci, metric_digits
from medadapt.registry import AdapterVersion
from medadapt.registry.diff import VersionDiff, flatten
from medadapt.registry.records import METRIC_NAMES, Metric, metric_notes, parse_metrics
from medadapt.registry.summary_words import (
    metric_label,
    recorded_unit,
    summary_rows,
    words,
)
from medadapt.results import LOWER_IS_BETTER, WHOLE_RESULT, grouped


def table_console() -> Console:
    """The console the registry commands print their tables on (no highlighting, soft wrap)."""
    return Console(highlight=False, soft_wrap=True)


def human_size(n: int) -> str:
    """``n`` bytes as B, KiB, MiB or GiB (powers of 1024, named as such: 35,908 bytes are
    35.1 KiB, not 35.1 KB)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


#: marks a metric that carries a warning (see :func:`headline_metric`, :func:`note_lines`)
WARNED = " (!)"


def metric_text(metric: Metric) -> str:
    """``0.680 (0.539–0.822)``, as every other output prints a metric (an error in the
    label's unit with three significant figures: ``51.3 (40.2–63.9)``); a count as an
    integer."""
    if metric.is_count:
        return grouped(int(metric.value))
    return fmt_ci(metric.value, metric.ci, metric_digits(metric.name, metric.value))


def headline_metric(v: AdapterVersion) -> str:
    """The first performance metric of ``v`` with its interval (never a count), or ``-``;
    marked :data:`WARNED` when a note concerns it or the whole result (an accuracy of 0.946
    from calling every patient positive, an AUROC too good to be true)."""
    scores = [m for m in v.metric_list() if not m.is_count]
    notes = metric_notes(v.metrics)
    if not scores:  # none measured: marked ('show' prints why, or that none was recorded)
        return f"-{WARNED}"
    warned = scores[0].name in notes or any(key in notes for key in WHOLE_RESULT)
    return f"{metric_label(scores[0].name)} {metric_text(scores[0])}{WARNED if warned else ''}"


def measured_on(v: AdapterVersion) -> str | None:
    """How many test samples ``v``'s metrics were measured on: ``37 rows``, ``120 images``,
    ``40 rows from 20 patients`` (None when not recorded): what an interval in ``list`` rests
    on."""
    counts = {m.name: int(m.value) for m in v.metric_list() if m.is_count}
    n = counts.get("n", counts.get("n_test"))
    if n is None:
        recorded = v.data_summary.get("n_test")
        n = recorded if isinstance(recorded, int) and not isinstance(recorded, bool) else None
    if n is None:
        return None
    said = f"{grouped(n)} {recorded_unit(v.data_summary)}"
    patients = counts.get("n_patients")
    return (
        said if patients is None or patients == n else f"{said} from {grouped(patients)} patients"
    )


def listed_metric(v: AdapterVersion) -> str:
    """The headline metric as ``list`` prints it: with the test samples it was measured on
    (``accuracy 0.946 (0.818–0.993) on 37 rows (!)``)."""
    headline, n = headline_metric(v), measured_on(v)
    if n is None or headline.startswith("-"):
        return headline
    warned = headline.endswith(WARNED)
    return f"{headline.removesuffix(WARNED)} on {n}{WARNED if warned else ''}"


def metric_rows(v: AdapterVersion, classes: list[str] | None = None) -> list[tuple[str, str]]:
    """The metrics as ``show`` prints them: ``("metric: AUROC", "0.680 (0.539–0.822)")``,
    marked :data:`WARNED` when a note concerns the metric (:func:`note_lines` says which);
    ``classes``: an image adapter's, to name its two in the test counts."""
    notes, unit = metric_notes(v.metrics), recorded_unit(v.data_summary)
    return [
        (
            f"metric: {metric_label(m.name, unit, classes)}",
            metric_text(m) + (WARNED if not m.is_count and m.name in notes else ""),
        )
        for m in v.metric_list()
    ]


def note_lines(metrics: dict[str, Any]) -> list[str]:
    """The notes recorded with the metrics, one line each, as the reader of a :data:`WARNED`
    mark needs them: those about the whole result first (too good to be true, one class for
    every patient), then those about all metrics, then each metric's (why it is missing, why
    its interval is only a rough range), in the order ``show`` lists the metrics."""
    notes = metric_notes(metrics)
    order = {name: i for i, name in enumerate(["all", *METRIC_NAMES])}
    whole = [k for k in WHOLE_RESULT if k in notes]
    named = sorted(
        (k for k in notes if k not in WHOLE_RESULT), key=lambda k: order.get(k, len(order))
    )
    said = {k: " ".join(note.split()) for k, note in notes.items()}  # one line each
    mark = WARNED.strip()
    if not notes and not any(not m.is_count for m in parse_metrics(metrics)):
        return [f"{mark} no performance figure was recorded for this version: nothing says how "
                "well it predicts"]  # fmt: skip
    return [
        *(f"{mark} {said[k]}" for k in whole),
        *(f"{mark} {'all metrics' if k == 'all' else metric_label(k)}: {said[k]}" for k in named),
    ]


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def cell(value: Any) -> str:
    """A value for a table cell: ``-`` for None, JSON for a dict or list."""
    if value is None:
        return "-"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def config_items(config: dict[str, Any]) -> list[tuple[str, Any]]:
    """The method config as dotted keys, without the unset ones and the method itself."""
    items = flatten(config).items()
    return [(k, c) for k, c in items if k != "method" and c is not None and c != {} and c != []]


#: the general fields a diff compares, in the words of ``show``
_FIELD_WORDS = {
    "method": "method",
    "task": "task",
    "base_model": "base model",
    "parent": "parent",
    "n_parameters": "adapter parameters",
    "weights_sha256": "weights sha256",
    "intended_use": "intended use",
}


def diff_rows(
    diff: VersionDiff, a_summary: dict[str, Any], b_summary: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """``(field, A, B)`` for what differs, named as ``show`` names it: general fields, then
    ``config: r``, then the data summary in words (``data: training rows``; the sample-size
    entry as sentences), counts grouped, never the recorded keys."""
    rows = []
    for c in diff.fields:
        a, b = _side(c.a), _side(c.b)
        if c.key == "parent":  # a version of the same name, as show says it
            a, b = (f"{ref.rsplit('@', 1)[0]}@{v}" if v is not None else "none"
                    for ref, v in ((diff.a, c.a), (diff.b, c.b)))  # fmt: skip
        rows.append((_FIELD_WORDS.get(c.key, words(c.key)), a, b))
    rows += [(f"config: {c.key}", cell(c.a), cell(c.b)) for c in diff.config
             if c.key != "method"]  # the method's own row says it  # fmt: skip
    told_a, told_b = (
        {f"data: {field}": said for field, said in summary_rows(summary)}
        for summary in (a_summary, b_summary)
    )
    fields = list(told_a) + [k for k in told_b if k not in told_a]
    rows += [(k, told_a.get(k, "-"), told_b.get(k, "-")) for k in fields
             if told_a.get(k) != told_b.get(k)]  # fmt: skip
    return rows


def _side(value: Any) -> str:
    """One side of a general field: a count grouped, nothing as ``-``."""
    return grouped(value) if isinstance(value, int) else cell(value)


def _unmeasured(promoted: AdapterVersion, was: AdapterVersion | None, notes: dict) -> str:
    """That ``promoted`` has no measured performance (and why, as recorded), and what the
    version served until now had."""
    why = " ".join(str(notes.get("all") or "").split())
    said = f"{promoted.ref} has no measured performance" + (f" ({why})" if why else "")
    before = None if was is None or was.ref == promoted.ref else headline_metric(was)
    if before and not before.startswith("-"):  # the one served until now was measured
        said += f", where {was.ref}, served until now, has {before}"  # type: ignore[union-attr]
    return f"{said}: serve it only if it has been checked on other patients"


#: measures ideal at 1 or 0, not ranked higher or lower (:data:`LOWER_IS_BETTER`'s note)
_NOT_RANKED = ("oe_ratio", "calibration_slope", "calibration_in_the_large")

#: where the two versions were tested (:attr:`VersionDiff.same_test_rows`), in words
_TESTED_ON = {
    True: ", on the same test set",
    False: ", on their own test sets (different test rows: the difference mixes model and data)",
    None: " (their test rows are not recorded: they may not have been tested on the same patients)",
}


def promotion_messages(
    promoted: AdapterVersion,
    was: AdapterVersion | None,
    *,
    same_test_rows: bool | None = None,
    diff: str = "medadapt registry diff",
) -> tuple[list[str], list[str]]:
    """What ``promote`` must say of the version it now serves, as ``(warnings, notes)``. The
    warnings: those recorded about its whole result (ranking backwards, too good to be true,
    a kept leak ...), and a headline figure below the one of the version served until now
    when their intervals do not show it within chance (promoting 0.062 over 0.778 went
    unsaid). A lower figure whose difference chance explains is a note, not a warning.
    ``diff``: the command that compares two versions, as the user would type it (with their
    registry flag)."""
    notes = metric_notes(promoted.metrics)
    warned = [f"{promoted.ref}: {' '.join(notes[k].split())}" for k in WHOLE_RESULT if k in notes]
    now = next((m for m in promoted.metric_list() if not m.is_count), None)
    if now is None or now.value is None:  # nothing measured: the reader must know before serving
        warned.append(_unmeasured(promoted, was, notes))
    compared = _lower_figure(promoted, was, same_test_rows, diff)
    if compared is None:
        return warned, []
    within, said = compared
    return (warned, [said]) if within else ([*warned, said], [])


def _lower_figure(
    promoted: AdapterVersion,
    was: AdapterVersion | None,
    same_test_rows: bool | None,
    diff: str = "medadapt registry diff",
) -> tuple[bool, str] | None:
    """``(within chance, what to say)`` when ``promoted``'s headline figure is worse than
    ``was``'s (the version served until now), else None. Said as it is: lower (higher for an
    error), with both intervals; whether they were tested on the same test set
    (``same_test_rows``). Intervals that overlap can still differ beyond chance (0.70,
    0.65-0.75 against 0.78, 0.74-0.82: z = 2.45): the difference is tested from the two
    intervals; one within chance cannot tell the two apart, and is no evidence that they
    perform the same either (only a paired comparison on the same patients could say);
    without an interval the size of the difference is unknown."""
    now = next((m for m in promoted.metric_list() if not m.is_count), None)
    if was is None or was.ref == promoted.ref or now is None or now.name in _NOT_RANKED:
        return None
    then = next((m for m in was.metric_list() if m.name == now.name), None)
    if then is None:
        return None
    lower_is_better = now.name in LOWER_IS_BETTER
    if (now.value > then.value) != lower_is_better or now.value == then.value:
        return None  # as good or better
    direction = "higher (worse)" if lower_is_better else "lower"
    said = (
        f"{promoted.ref}'s {metric_label(now.name)} {metric_text(now)} is {direction} than "
        f"{was.ref}'s {metric_text(then)}, served until now{_TESTED_ON[same_test_rows]}"
    )
    compare = f"'{diff} {was.ref} {promoted.ref}' compares them"
    if now.ci is None or then.ci is None:
        missing = " and ".join(v.ref for v, m in ((promoted, now), (was, then)) if m.ci is None)
        return False, (
            f"{said}; with no interval recorded for {missing}, these figures cannot say "
            f"whether the difference is real ({compare})"
        )
    if not (now.ci[0] <= then.ci[1] and then.ci[0] <= now.ci[1]):
        return False, f"{said}; their intervals do not overlap ({compare})"
    z = _z_from_intervals(now.value, now.ci, then.value, then.ci)
    if z >= _Z95:  # overlapping intervals can still differ beyond chance
        return False, (
            f"{said}; their intervals overlap, but the difference is larger than chance "
            f"explains (z = {z:.2f} from the two intervals, p = {_two_sided_p(z):.3f}; "
            f"{compare})"
        )
    paired = (
        "a paired comparison on these patients would be needed"
        if same_test_rows
        else "that needs both scored on the same patients and compared pairwise"
    )
    return True, (
        f"{said}; the difference is within what chance explains from the two intervals (z = "
        f"{z:.2f}): these figures cannot tell the two apart, nor show that they perform the "
        f"same ({paired}; {compare})"
    )


_Z95 = 1.959964  # the normal quantile of a two-sided 95% test


def _z_from_intervals(a: float, a_ci: list[float], b: float, b_ci: list[float]) -> float:
    """The difference of two estimates over its standard error, each error read from its 95%
    interval (width / 2 x 1.96; Altman & Bland, BMJ 2011;343:d2090), as if the two were
    independent: on the same patients a paired comparison is more sensitive."""
    se = ((a_ci[1] - a_ci[0]) ** 2 + (b_ci[1] - b_ci[0]) ** 2) ** 0.5 / (2 * _Z95)
    return abs(a - b) / se if se > 0 else float("inf")


def _two_sided_p(z: float) -> float:
    return math.erfc(z / math.sqrt(2))

"""The report written by ``medadapt evaluate``: one model (and adapter) on one data set.

With an adapter, the base model's scores on the same patients (``base_scores``: the base
model's ``{"overall": metrics, "subgroups": {...}}``, by default ``result["base_comparison"]``)
give the before/after view per group, and ``base_comparison["versus_base"]`` the paired
difference; ``curves["base_scores"]`` (its predictions, kept in memory only) adds the base's
ROC curve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from medadapt.evaluate.metrics import (
    BRACKETS,
    ONE_CLASS,
    ONE_PER_PATIENT,
    headline_metric,
    resampled_together,
)
from medadapt.evaluate.report import Report
from medadapt.evaluate.report.formatting import (
    METRIC_LABELS,
    counts_behind,
    fmt_ci,
    fmt_metric,
    metric_digits,
    natural_order,
    outcome_unit,
)
from medadapt.evaluate.report.plots import (
    calibration_figure,
    calibration_too_few,
    metric_bars,
    roc_figure,
)
from medadapt.evaluate.retention import retention_sentence
from medadapt.evaluate.small_cells import (
    digits_for,
    mask_subgroups,
    small_cells_caption,
    withheld_note,
)
from medadapt.modalities.base import ADAPTED_TO, Modality
from medadapt.results import (
    IN_LABEL_UNITS,
    SAID_AS_WARNINGS,
    TOO_GOOD_KEY,
    auroc_reading,
    grouped,
    whole_result_notes,
)
from medadapt.wording import plural
from medadapt.workflows.report_sections import (
    auroc_line,
    guide_section,
    one_vs_rest_roc,
    per_class_section,
    retention_section,
    side_by_side,
    too_few_for,
)

BEFORE, AFTER = "base model", "with the adapter"


def unique_notes(notes: dict[str, str]) -> list[str]:
    """``{metric: note}`` -> one line per distinct note, naming every metric it applies to.

    >>> unique_notes({"auroc": "too few", "auprc": "too few", "sensitivity": "other"})
    ['AUROC, AUPRC: too few', 'sensitivity: other']
    >>> unique_notes({"too_good": "AUROC 1.000: too good to be true"})
    ['AUROC 1.000: too good to be true']
    >>> unique_notes({"rounded": "figures rounded to one decimal"})  # of the whole row
    ['figures rounded to one decimal']
    """
    by_note: dict[str, list[str]] = {}
    for metric, note in notes.items():
        by_note.setdefault(note, []).append(metric)
    return [
        note if names[0] in _OF_THE_ROW or names[0] in SAID_AS_WARNINGS
        else f"{', '.join(METRIC_LABELS.get(name, name) for name in names)}: {note}"
        for note, names in by_note.items()
    ]  # fmt: skip


#: notes about a whole row, said without a metric's name (a trial's report read "counts: not
#: shown ..." and "rounded: figures rounded ...", the keys of small-cell notes)
_OF_THE_ROW = frozenset({"all", "counts", "rounded", "withheld"})


def data_warnings(report: Report, warnings: list[str]) -> None:
    """What the command warned about the data (a column that gives the label away in the rows
    scored, values read as missing or far outside the training values...), under the summary:
    a reader of the report alone must see what the terminal said."""
    if warnings:
        report.section("Warnings about the data")
        report.warnings([f"{w[0].upper()}{w[1:]}" for w in dict.fromkeys(warnings)])


def too_good_lines(*metrics: dict[str, Any] | None) -> list[str]:
    """The warnings about a whole result, for a summary (each once): "too good to be true",
    and (nearly) every patient called one class."""
    notes = [(m or {}).get("notes", {}).get(key) for key in SAID_AS_WARNINGS
             for m in metrics]  # fmt: skip
    return [f"Warning: {note}." for note in dict.fromkeys(n for n in notes if n)]


def base_alone_lines(before: dict[str, Any]) -> list[str]:
    """The base model's own warnings about its whole result on the same samples, for a
    report's summary (:func:`~medadapt.results.whole_result_notes`), as ``evaluate`` and
    ``adapt`` say them."""
    return [f"Base model alone: {note}." for note in whole_result_notes(before.get("notes"))]


def summary_lines(
    result: dict[str, Any],
    base_scores: dict[str, Any] | None = None,
    difference: str | None = None,
) -> list[str]:
    """Plain-language sentences for the top of a report."""
    n = result["n"]
    who = f"adapter '{result['adapter']}'" if result.get("adapter") else "the base model"
    noun = _noun(result)
    lines = too_good_lines(result)
    lines.append(f"Scored {who} on {n} {noun} ({result['rows_used']}).")
    if result["task"] == "binary":
        classes, label = result.get("classes"), result.get("label")  # which class is "positive"
        named = (f"{label} = {classes[1]!r}; " if isinstance(classes, list) and len(classes) == 2
                 and isinstance(label, str) and classes != ["0", "1"] else "")  # fmt: skip
        # (0/1: a threshold's classes, num > 0 read as "1": "num = '1'" would misstate it)
        lines.append(
            f"{result['n_positive']} of them are positive ({named}prevalence "
            f"{result['n_positive'] / n:.0%})."
        )
        if result.get("auroc") is not None and result.get("auroc_ci"):
            low, high = result["auroc_ci"]
            reading, read = auroc_reading(result)
            likely = f"; the true value is likely between {low:.2f} and {high:.2f}" if read else ""
            lines.append(
                f"Discrimination (AUROC) {fmt_ci(result['auroc'], result['auroc_ci'])}: "
                f"{reading}{likely}."
            )
        elif result.get("auroc") is not None:  # no interval: the note says why
            why = result.get("notes", {}).get("auroc", "no interval")
            lines.append(f"Discrimination (AUROC) {result['auroc']:.2f}: {why}.")
    elif result["task"] == "regression":
        mae = fmt_ci(result["mae"], result["mae_ci"], _digits("mae", result))
        lines.append(f"Mean absolute error {mae} ({outcome_unit(result.get('label'))}).")
    if base_scores is not None:
        main = headline_metric(result["task"], result)
        before = base_scores["overall"]
        digits = 1 if main == "mae" else 2  # as the sentence on the adapter's MAE
        lines.append(
            f"Before the adapter, the base model alone scores {METRIC_LABELS[main]} "
            f"{fmt_ci(before.get(main), before.get(f'{main}_ci'), digits)} on the same "
            f"{_units(result)}."
        )
        # the base's own one-answer or too-good warning: its accuracy is in the table below
        lines += base_alone_lines(before)
    if difference:  # after "too good to be true: no reading ...", not read as a finding
        leak = " Read this comparison only once a leak is ruled out, as said above."
        lines.append(difference + (leak if result.get("notes", {}).get(TOO_GOOD_KEY) else ""))
    lines += versus_base_warnings((base_scores or {}).get("versus_base"))
    # several classes' macro AUROC (a binary image model has a row per class too, its AUROC
    # said above as "Discrimination": a trial's report said it again under "All classes")
    if result.get("per_class") and result["task"] == "multiclass":
        line = auroc_line(result, "All classes")
        if line:
            lines.append(line)
    retentions = _retentions(result)
    for name, _, retention in retentions:
        if retention and name.endswith("these " + noun):
            lines.append(retention_sentence(f"On these {noun}", retention))
    shown = SAID_AS_WARNINGS  # already at the top of the summary (too_good_lines)
    other_notes = {k: v for k, v in result.get("notes", {}).items() if k not in shown}
    lines += [f"{line}." for line in unique_notes(other_notes)]
    lines += interval_sources(result["task"], result, noun)
    lines += [s for s in [resampled_together(result, noun)] if s]
    return lines


def versus_base_warnings(paired: dict[str, Any] | None) -> list[str]:
    """The comparison's warnings (a class the adapter never predicts) as a summary says
    them, as the terminal's ``warning:`` lines."""
    return [f"Warning: {said}." for said in (paired or {}).get("warnings") or []]


def interval_sources(task: str, metrics: dict[str, Any], noun: str) -> list[str]:
    """Where the intervals come from (:func:`brackets`), over patients where ``metrics``
    counted them; rows of a table that names no patients are each taken as one (a trial read
    "a bootstrap over rows" as other than the README's patients)."""
    if metrics.get("n_patients"):
        return [brackets(task, "patients")]
    if metrics.get(ONE_PER_PATIENT):  # a patient column named one patient per sample
        return [brackets(task, "patients"), f"Each patient has one of these {noun}."]
    taken = ["Each row is taken as one patient."] if noun == "rows" else []
    return [brackets(task, noun), *taken]


def brackets(task: str, noun: str) -> str:
    """Where the intervals of ``task``'s metrics come from: the exact binomial interval only
    for the proportions it reports (accuracy; sensitivity and specificity: binary only; each
    class's sensitivity and precision: several classes)."""
    if task == "regression":
        return f"Brackets are 95% confidence intervals: a bootstrap over {noun}."
    if task == "multiclass":
        return (
            "Brackets are 95% confidence intervals: exact binomial (Clopper-Pearson) for "
            f"accuracy and each class's sensitivity and precision, a bootstrap over {noun} for "
            "the others."
        )
    return BRACKETS.format(noun=noun)


def _noun(result: dict[str, Any]) -> str:
    """How the result's modality counts its samples ("rows", "images"; "patients" unknown)."""
    return _said(result, lambda modality: modality.noun)


def _units(result: dict[str, Any]) -> str:
    """What the result's metrics count, in a sentence: "patients" (tables) or "images"; the
    rows where patients have several (a trial's report said "27 patients" of 27 rows from 16
    patients, in its tables, its card and its guide)."""
    patients = result.get("n_patients")
    if isinstance(patients, int) and patients != result.get("n"):
        return _noun(result)
    return _said(result, lambda modality: f"{modality.unit}s")


def _counted(result: dict[str, Any]) -> str:
    """``27 rows from 16 patients`` where patients have several rows, else ``27 patients``."""
    said = f"{result['n']} {_units(result)}"
    if _units(result) != _said(result, lambda modality: f"{modality.unit}s"):
        said += f" from {result['n_patients']} patients"
    return said


def _said(result: dict[str, Any], word: Callable[[Any], str]) -> str:
    from medadapt.modalities.base import modality_of

    return word(modality_of(result["kind"])) if result.get("kind") else "patients"


def _retentions(result: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """The retention rows an evaluation shows: on these samples, and as recorded at
    training (adapter and full fine-tuning)."""
    noun = _noun(result)
    out: list[tuple[str, str, dict[str, Any] | None]] = []
    recorded = result.get("recorded_retention")
    if result.get("retention"):
        trick = (recorded or {}).get("trick", "")
        out.append((f"adapter, these {noun}", trick, result["retention"]))
    if recorded:
        out.append(("adapter, at training", recorded.get("trick", ""), recorded))
    full = result.get("full_finetune")
    if full:
        out.append(("full fine-tuning, at training", full["trick"], full["retention"]))
    return out


def _difference(base_scores: dict[str, Any] | None) -> str | None:
    """The paired (same patients, same resamples) difference adapter - base, in words, from
    the base model's scores (``evaluate``'s ``base_comparison``)."""
    return ((base_scores or {}).get("versus_base") or {}).get("in_words")


def _both_notes(before: dict[str, Any], after: dict[str, Any], metric: str) -> str:
    """A before/after table row's note: the adapter's, and the base model's where it says
    something else (its calibration slope without an interval was shown bare)."""
    said = {BEFORE: (before.get("notes") or {}).get(metric), AFTER: after["notes"].get(metric)}
    if said[BEFORE] is None or said[BEFORE] == said[AFTER]:
        return said[AFTER] or ""
    return "; ".join(f"{who}: {note}" for who, note in said.items() if note)


def evaluation_report(
    result: dict[str, Any],
    curves: dict[str, np.ndarray],
    *,
    base_scores: dict[str, Any] | None = None,
) -> Report:
    base_scores = base_scores or result.get("base_comparison")
    if not result.get("adapter"):
        base_scores = None
    report = Report(title="Model evaluation", subtitle=result["rows_used"])
    report.summary(summary_lines(result, base_scores, _difference(base_scores)))
    data_warnings(report, [*result.get("leak_warnings", []), *result.get("data_warnings", [])])
    report.section("Metrics")
    metrics = [m for m in METRIC_LABELS if m in result]
    before = (base_scores or {}).get("overall", {})
    columns = ["metric", "value (95% CI)", "note"]
    if base_scores is not None:
        columns = ["metric", f"{BEFORE} (95% CI)", f"{AFTER} (95% CI)", "note"]
    report.table(
        columns,
        [
            [
                METRIC_LABELS[m],
                *([fmt_metric(before, m)] if base_scores else []),
                fmt_metric(result, m),
                _both_notes(before, result, m) if base_scores else result["notes"].get(m, ""),
            ]
            for m in metrics
        ],
    )
    noun = _noun(result)
    per_class_section(report, result.get("per_class"), noun)
    retention_section(report, _retentions(result), noun)
    if result["task"] == "multiclass" and curves.get("proba") is not None:
        one_vs_rest_roc(report, result["classes"], curves, noun)
    if result["task"] == "binary" and len(np.unique(curves["y"])) == 2:
        _risk_figures(report, curves, noun, result, with_base=base_scores is not None)
    if result["task"] == "regression":
        _measured_figure(report, curves, noun, result, before if base_scores else None)
    _groups(report, result, base_scores)
    if "missing_values" in result:
        report.section("Data summary")
        if result.get("missing_values"):
            report.table(
                ["feature", f"{_units(result)} with the value missing (of {result['n']})"],
                sorted(result["missing_values"].items()),
                caption="Counts only. Missing values are modelled, not imputed.",
            )
        else:
            report.paragraph(f"No feature is missing for any of the {result['n']} {noun}.")
    _guide(report, result, metrics)
    if result.get("adapter"):
        _card(report, result, base_scores)
    return report


def _risk_figures(report: Report, curves: dict[str, Any], noun: str, metrics: dict[str, Any],
                  *, with_base: bool, roc_caption: str = "ROC curve.") -> None:  # fmt: skip
    """A binary model's ROC curve and calibration plot (or why none is drawn), the base
    model's beside it where ``with_base`` and ``curves["base_scores"]`` hold its scores. No
    ROC curve where ``metrics`` withhold the AUROC (a trial's report drew one, below the
    diagonal, beside "AUROC not reported: only 9 patients")."""
    pairs = {"model": (curves["y"], curves["scores"])}
    if with_base and curves.get("base_scores") is not None:
        pairs = {BEFORE: (curves["y"], curves["base_scores"]), AFTER: pairs["model"]}
    if metrics.get("auroc") is None:
        notes = metrics.get("notes") or {}
        why = (notes.get("auroc") or notes.get("all") or "too few of a class").strip()
        why = why.removeprefix("not reported: ").rstrip(".")
        report.paragraph(f"No ROC curve: the AUROC is not reported ({why}), and a curve drawn "
                         f"on these {noun} would show what the figure withholds.")  # fmt: skip
    else:
        report.figure(roc_figure(pairs, title="ROC curve"), caption=roc_caption)
    missing = calibration_too_few(curves["y"], noun=noun)
    if missing:  # said, as a measured value's is: a trial's empty plot was captioned
        report.paragraph(  # "Predicted risk against observed frequency"
            f"No calibration plot: {' '.join(missing.split())}. The Brier score, the "
            "calibration error and observed/expected in the table above say how the risks "
            "sit against what happened, where reported."
        )
    else:
        report.figure(calibration_figure(pairs, title="Calibration", noun=noun),
                      caption="Predicted risk against observed frequency.")  # fmt: skip


def _measured_figure(report: Report, curves: dict[str, Any], noun: str,
                     metrics: dict[str, Any], before: dict[str, Any] | None) -> None:  # fmt: skip
    """A measured value's calibration plot, the base model's beside it where ``before`` (its
    metrics) and ``curves["base_scores"]`` hold its figures."""
    measured = {"model": (curves["y"], curves["scores"])}
    slopes = {"model": metrics.get("calibration_slope")}
    if before is not None and curves.get("base_scores") is not None:
        measured = {BEFORE: (curves["y"], curves["base_scores"]), AFTER: measured["model"]}
        slopes = {BEFORE: before.get("calibration_slope"), AFTER: slopes["model"]}
    _measured_calibration(report, measured, slopes, noun)


def _measured_calibration(
    report: Report,
    curves: dict[str, tuple[Any, Any]],
    slopes: dict[str, float | None],
    noun: str,
) -> None:
    """A measured value's calibration plot (binned means and the calibration slope), or,
    where too few were scored for its bins, a sentence saying why it is not drawn."""
    from medadapt.evaluate.report import measured_calibration as mc

    why = mc.too_few_for_bins(len(next(iter(curves.values()))[0]), noun)
    if why is not None:
        report.paragraph(f"No calibration plot: {why}. The calibration slope and the mean "
                         "observed − predicted in the table above say how the predictions sit "
                         "against the measured values, where reported.")  # fmt: skip
        return
    figure = mc.measured_calibration_figure(curves, slopes, title="Calibration", noun=noun)
    report.figure(figure, caption=mc.caption(noun))


def _guide(report: Report, metrics: dict[str, Any], shown: list[str]) -> None:
    """What each metric shown means, for readers who are not statisticians."""
    n_positive, n = metrics.get("n_positive"), metrics.get("n")
    prevalence = metrics.get("prevalence")
    if prevalence is None and isinstance(n_positive, int) and isinstance(n, int) and n:
        prevalence = n_positive / n
    guide_section(report, shown, threshold=metrics.get("threshold") or 0.5,
                  prevalence=prevalence, noun=_units(metrics),
                  task=metrics.get("task", "binary"))  # fmt: skip


#: how to read per-subgroup figures: many subgroups, each on few patients
EXPLORATORY = (
    "These figures are exploratory: among several subgroups one can differ by chance alone, "
    "and overlapping or separate intervals are not a test between subgroups; confirm a "
    "difference on other patients before acting on it."
)


def _subgroup_metric(task: str, *tables: dict[str, Any] | None) -> str:
    """The one metric of a subgroup table: the headline (AUROC, MAE), or, where no subgroup
    has it (too few patients of a class in each: a trial's table of n/a cells), the Brier
    score, which needs no class of a minimum size."""
    main = headline_metric(task)
    rows = [m for table in tables for m in (table or {}).values() if m]
    if task == "regression" or any(m.get(main) is not None for m in rows):
        return main
    return "brier" if any(m.get("brier") is not None for m in rows) else main


def _groups(report: Report, result: dict[str, Any], base_scores: dict[str, Any] | None) -> None:
    after_all = mask_subgroups(result.get("subgroups", {}))
    before_all = mask_subgroups((base_scores or {}).get("subgroups", {}))
    main = headline_metric(result["task"])

    def cell(metrics: dict[str, Any] | None) -> str:
        if metrics is None:
            return "–"
        # 3 decimals as the terminal's table (a trial compared 0.74 here with 0.738 there)
        digits = metric_digits(main, metrics.get(main), digits_for(metrics, 3))  # MAE 44.6
        return fmt_ci(metrics.get(main), metrics.get(f"{main}_ci"), digits)

    for name, groups in after_all.items():
        report.section(f"By {name}")
        before = before_all.get(name)
        main = _subgroup_metric(result["task"], groups, before)  # one column per table
        label = METRIC_LABELS[main]
        withheld = withheld_note(groups) or withheld_note(before or {})
        if withheld:  # no figure of any value: the note in the table's place
            report.paragraph(f"{withheld[0].upper()}{withheld[1:]}.")
            continue
        values = natural_order(groups)
        scored = [f"{label} {BEFORE}", f"{label} {AFTER}"] if before else [f"{label} (95% CI)"]
        events = ["events"] if result["task"] == "binary" else []  # positives, as the terminal
        report.table(
            [name, _units(result), *events, *scored, "note"],
            [
                [
                    value,
                    groups[value]["n"],
                    *([groups[value].get("n_positive", "")] if events else []),
                    *([cell(before.get(value))] if before else []),
                    cell(groups[value]),
                    "; ".join(unique_notes(groups[value].get("notes", {}))),
                ]
                for value in values
            ],
            caption=f"{small_cells_caption(result['task'])} {EXPLORATORY}",
        )
        if before:
            series = {v: {BEFORE: before.get(v, {}), AFTER: groups[v]} for v in values}
        else:
            series = {v: {"model": groups[v]} for v in values}
        report.figure(
            metric_bars(series, metric=main, title=f"{label} by {name}"),
            caption=f"{label} by {name} with 95% CIs "
            f"('n/a': {too_few_for(result.get('task', 'binary'), _units(result))})"
            + (", before and after the adapter." if before else "."),
        )


def _card(report: Report, result: dict[str, Any], base_scores: dict[str, Any] | None) -> None:
    main = headline_metric(result["task"], result)
    training = result.get("adapter_training") or {}
    trained_on = (
        f"trained on {training['n_train']} {_noun(result)} of "
        f"{training.get('group') or 'its group'}"
        if training.get("n_train") is not None
        else "training data as recorded in the adapter's adapter.json"
    )
    metrics = "; ".join(  # an error in the outcome's unit: 3 figures, as everywhere else
        f"{METRIC_LABELS[m]} {fmt_ci(result.get(m), result.get(f'{m}_ci'), _digits(m, result))}"
        + (f", {counts}" if (counts := counts_behind(result, m)) else "")
        for m in ("auroc", "accuracy", "sensitivity", "specificity", "brier", "mae", "rmse")
        if m in result
    )
    if base_scores is not None:  # its own sentence: a trial read it as the Brier score's
        before = base_scores["overall"]
        metrics += (
            f". The base model alone: {METRIC_LABELS[main]} "
            f"{fmt_ci(before.get(main), before.get(f'{main}_ci'), _digits(main, before))}"
        )
    report.section(f"Adapter card: {result['adapter']}")
    report.card(
        f"Adapter {result['adapter']}",
        [
            (
                "Intended use",
                result.get("intended_use") or Modality.intended_use.format(target=ADAPTED_TO),
            ),
            (
                "Data",
                f"{trained_on}; evaluated here on {_counted(result)} ({result['rows_used']}).",
            ),
            ("Metrics", metrics + "."),
            ("Trainable parameters", str(result["trainable_params"])),
            ("File size", f"{result['adapter_bytes']} bytes"),
            ("Limitations", _limitations(result)),
        ],
    )


def _digits(name: str, metrics: dict[str, Any]) -> int:
    """The decimals of metric ``name`` in the card: 2 for a score between 0 and 1; an error in
    the outcome's unit three significant figures (``0.513``; a trial's card read MAE 43.08
    (36.32-49.96) beside 43.1 (36.3-50.0) in the report's summary)."""
    return metric_digits(name, metrics.get(name), 3 if name in IN_LABEL_UNITS else 2)


def _limitations(result: dict[str, Any]) -> str:
    """The card's limitations: what the figures were measured on, a model that gives (nearly)
    one answer, and that calibration drifts with the prevalence of an outcome, and with the
    distribution of a measured value."""
    watch = (
        "watch the errors as the measured value's distribution shifts"
        if result["task"] == "regression"
        else "watch calibration as prevalence changes"
    )
    one_answer = result.get("notes", {}).get(ONE_CLASS)
    return (
        (f"{one_answer[0].upper()}{one_answer[1:]}. " if one_answer else "")
        + f"Tested only on the {_counted(result)} above; small groups give wide "
        f"intervals (see the notes above). Re-validate on local data before any use, and "
        f"{watch}."
    )


def adapt_report(summary: dict[str, Any], curves: dict[str, Any], modality: Any) -> Report:
    """The report ``medadapt adapt --report`` writes: the adapter on its held-out samples,
    beside the base model (or, with new classes, the retention of the old ones and full
    fine-tuning on the same samples)."""
    noun, metrics, info = modality.noun, summary["metrics"], summary["data_summary"]
    new = summary["new_classes"]
    target = info.get("group") or f"the new {noun}"
    what = f"adds classes {', '.join(new)}" if new else f"adapts to {target}"
    report = Report(
        title=f"Adapter {summary['name']} ({summary['method']})",
        subtitle=f"{what}; {info['n_test']} held-out {noun}",
    )
    lines = too_good_lines(metrics)
    n_val = summary.get("n_val")  # (a trial read "on 29 rows" of 23 it learned from)
    aside = f" ({n_val} of them set aside to choose when to stop)" if n_val else ""
    lines.append(
        f"Trained {grouped(summary['trainable_params'])} parameters on {info['n_train']} "
        f"{noun}{aside}; scored on {info['n_test']} held-out {noun}."
    )
    binary = summary["task"] == "binary"
    line = (None if summary["task"] == "regression"  # no AUROC of a measured outcome
            else auroc_line(metrics, "Discrimination" if binary else "All classes"))  # fmt: skip
    if line:
        lines.append(line)
    if summary["task"] == "regression" and metrics.get("mae") is not None:
        mae = fmt_ci(metrics["mae"], metrics.get("mae_ci"), _digits("mae", metrics))
        lines.append(f"Mean absolute error {mae} ({outcome_unit(summary.get('label'))}).")
    before = summary.get("base_metrics")
    main = headline_metric(summary["task"], metrics)
    if before and not new and before.get(main) is not None:
        digits = 1 if main == "mae" else 2
        lines.append(
            f"Before the adapter, the base model alone scores {METRIC_LABELS[main]} "
            f"{fmt_ci(before[main], before.get(f'{main}_ci'), digits)} on the same {noun} "
            "(both models, metric by metric, below)."
        )
        lines += base_alone_lines(before)  # (a trial's said its AUROC 1.00, nothing more)
        if (summary.get("versus_base") or {}).get("in_words"):
            lines.append(summary["versus_base"]["in_words"])
    lines += versus_base_warnings(summary.get("versus_base"))
    retentions: list[tuple[str, str, dict[str, Any] | None]] = []
    if summary.get("retention"):
        lines.append(retention_sentence("This adapter", summary["retention"]))
        retentions.append(("this adapter", summary["retention"]["trick"], summary["retention"]))
    full = summary.get("full_finetune")
    if full:
        lines.append(retention_sentence("Full fine-tuning", full["retention"]))
        retentions.append(("full fine-tuning", full["trick"], full["retention"]))
    if summary.get("feature_cache"):
        cache = summary["feature_cache"]
        said = cache_sentence(cache, summary.get("top_blocks"))
        lines.append(f"{said[0].upper()}{said[1:]}.")
    if info.get("sample_size"):  # as adapt printed it
        from medadapt.workflows.sample_size import sample_size_line

        said = sample_size_line(info["sample_size"], noun)
        lines.append(f"{said[0].upper()}{said[1:]}.")
    lines += interval_sources(summary["task"], metrics, noun)
    lines += [s for s in [resampled_together(metrics, noun)] if s]
    report.summary(lines)
    data_warnings(report, summary.get("warnings", []))
    retention_section(report, retentions, noun)
    report.section("Metrics")
    shown = [m for m in METRIC_LABELS if m in metrics]
    report.table(
        ["metric", "value (95% CI)", "note"],
        [[METRIC_LABELS[m], fmt_metric(metrics, m),
          metrics.get("notes", {}).get(m, "")] for m in shown],
    )  # fmt: skip
    per_class_section(report, summary.get("per_class"), noun)
    if curves.get("proba") is not None and len(summary["classes"]) > 2:
        one_vs_rest_roc(report, summary["classes"], curves, noun)
    elif summary["task"] == "binary" and len(np.unique(curves["y"])) == 2:
        _risk_figures(report, curves, noun, metrics, with_base=bool(before) and not new,
                      roc_caption=f"ROC curve on the held-out {noun}.")  # fmt: skip
    elif summary["task"] == "regression":
        _measured_figure(report, curves, noun, metrics, before if before and not new else None)
    if full is not None:
        report.section(
            f"Full fine-tuning on the same {noun}",
            f"All {full['trainable_params']} weights trained, head extended the same way.",
        )
        side_by_side(report, metrics, full["overall"], "full fine-tuning")
    if summary.get("base_metrics"):
        report.section(f"Base model on the same {noun}", "Before (base) and after (adapter).")
        side_by_side(report, metrics, summary["base_metrics"], "base model")
    guide_section(report, shown, threshold=metrics.get("threshold") or 0.5,
                  prevalence=metrics.get("prevalence"), noun=noun,
                  task=summary["task"])  # fmt: skip
    return report


def cache_sentence(cache: dict[str, Any], top_blocks: int | None) -> str:
    """Where the adapters sit and what the frozen features cached below them are; every block
    adapted (``split_block`` 0): only the patch embeddings are cached."""
    where = f"top {plural(top_blocks, 'block')}" if top_blocks else "the head only"
    split = cache["split_block"]
    below = (f"frozen features of blocks 0-{split - 1}" if split > 0
             else "patch embeddings (every block is adapted)")  # fmt: skip
    return (
        f"adapters in {where}: trained on cached {below} ({cache['tokens_mib']} MiB, computed "
        f"once in {cache['seconds']} s)"
    )

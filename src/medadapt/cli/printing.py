"""What the shared verbs print: metrics with CIs, per subgroup, per class, retention, the
files left out and the warnings, from the results of any modality."""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from medadapt.checks import is_number
from medadapt.cli.common import note, noted, print_table, stdout, warn
from medadapt.data.read_errors import SKIPPED_KINDS, skipped_kind
from medadapt.evaluate.report.formatting import METRIC_LABELS, fmt_ci, fmt_metric, metric_digits
from medadapt.results import BACKWARDS, TOO_GOOD_KEY, whole_result_notes

#: what a metric's scale is where it is not the one a reader expects (a multiclass Brier score
#: sums over the classes: up to 2, not 1; a measured value's errors are in its own unit, mmHg
#: or points of a score, not a proportion), said in the note column when nothing else is
IN_THE_OUTCOME_S_UNIT = "in the outcome's unit"
SCALES = {
    ("multiclass", "brier"): "summed over the classes: 0 is perfect, 2 the worst",
    ("regression", "mae"): IN_THE_OUTCOME_S_UNIT,
    ("regression", "rmse"): f"{IN_THE_OUTCOME_S_UNIT}; large errors weigh more",
    # which way a shift points is said by its own note, only where the interval excludes 0
    ("regression", "calibration_in_the_large"): f"{IN_THE_OUTCOME_S_UNIT}; 0 is ideal",
    # (a trial: R² explained in the HTML report only, and train-base writes none)
    ("regression", "r2"): "share of the outcome's variation explained: 1 is perfect, 0 no "
    "better than the average",
}


def print_strategy_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """:func:`~medadapt.cli.common.print_table` for a table whose first column names
    strategies ("full fine-tuning", "new model on the target data only"): a name wraps between
    its words only, never inside one ("fine-tunin" over "g" at 76 columns, "bottlenec" over "k
    adapter" at 70), the figures folding first where the terminal is narrower still; only
    where even that cannot fit are the names folded too."""
    from medadapt.cli.common import _table, _whole
    from medadapt.results import grouped

    cells = [["–" if v is None else str(grouped(v)) for v in row] for row in rows]
    longest = max((len(word) for row in cells for word in row[0].split()), default=1)
    for whole, edge in ((True, True), (True, False), (False, False)):
        table = _table(title, columns, cells, wrap_figures_between_words=whole, pad_edge=edge)
        if whole:
            table.columns[0].min_width = longest
        else:  # a fixed width lets rich fold the figures instead (a minimum one it cannot)
            table.columns[0].width = longest
        if _whole(table):
            stdout.print(table)
            return
    print_table(title, columns, rows)  # narrower than the longest name and the figures


def print_metrics(title: str, metrics: dict[str, Any], task: str, noun: str = "rows") -> None:
    """The metrics as a table (``noun``: what they were measured on, "rows", "images"), the
    warnings about the whole result, and how many patients the samples come from."""
    from medadapt.evaluate.metrics import METRIC_NAMES, resampled_together
    from medadapt.results import SAID_AS_WARNINGS, r2_in_words

    notes = metrics.get("notes", {})
    rows = [
        [
            METRIC_LABELS.get(name, name),  # "balanced accuracy", not balanced_accuracy
            fmt_metric(metrics, name),
            notes.get(name, notes.get("all", ""))
            or (SCALES.get((task, name), "") if metrics.get(name) is not None else ""),
        ]
        for name in METRIC_NAMES[task]
    ]
    threshold = metrics.get("threshold")  # a trial's --threshold 0.2 was said nowhere
    if task == "binary" and isinstance(threshold, int | float):
        title += f"; accuracy, sensitivity, specificity (balanced) at threshold {threshold:g}"
    print_table(title, ["metric", "value (95% CI)", "note"], rows)
    interval = metrics.get("auroc_ci")
    if metrics.get("auroc") is not None and interval and interval[0] <= 0.5 <= interval[1]:
        from medadapt.results import discrimination_in_words

        stdout.print(  # a trial's terminal never said it; its HTML report did
            f"AUROC {metrics['auroc']:.3f} ({interval[0]:.3f}–{interval[1]:.3f}): "
            f"{discrimination_in_words(*interval)}",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
    r2, r2_ci = metrics.get("r2"), metrics.get("r2_ci")
    said = r2_in_words(r2, r2_ci[0]) if r2 is not None and r2_ci else None
    if said:
        stdout.print(f"R² {r2:.3f} ({r2_ci[0]:.3f} to {r2_ci[1]:.3f}): {said}", markup=False,
                     highlight=False, soft_wrap=True)  # fmt: skip
    together = resampled_together(metrics, noun)
    if together:
        stdout.print(together, markup=False, highlight=False, soft_wrap=True)
    for whole in SAID_AS_WARNINGS:  # about the whole result, not one metric
        if notes.get(whole):
            warn(notes[whole])


def print_versus_base(
    before: dict[str, Any] | None,
    paired: dict[str, Any] | None,
    task: str,
    where: str,
    planned: dict[str, Any] | None = None,
) -> None:
    """The base model alone on the same samples (``where``: "60 rows") by the metric the
    adapter is judged by (and, ``planned``: the adapter's sample-size plan, its AUROC on all
    the site's samples where that differs: :func:`site_auroc_beside`), then whether the
    adapter changed it (the paired difference), said as a warning where the adapter did harm
    (a worse metric; a systematic error it brought in or enlarged), and the comparison's
    warnings (a class the adapter never predicts)."""
    from medadapt.evaluate.metrics import headline_metric  # scipy: on first use, not --help
    from medadapt.evaluate.versus_base import versus_base_harms

    if not before:
        return
    main = (paired or {}).get("metric") or headline_metric(task, before)
    shown = headline_metric(task, before)  # not reported here: show what was (accuracy for AUROC)
    if before.get(main) is None and before.get(shown) is not None:
        main = shown  # else the metric compared, n/a, as the comparison names it
    stdout.print(
        f"base model alone on the same {where}: {METRIC_LABELS.get(main, main)} "
        f"{fmt_metric(before, main)}"
    )
    backwards = swapped_labels_warning(before, where)
    if backwards:  # right under the base's figure it is about
        warn(backwards)
    for said in base_alone_warnings(before, where):  # what its figure does not show
        warn(said)
    beside = site_auroc_beside(planned, before, where) if main == "auroc" else None
    if beside:
        stdout.print(beside)
    if paired and versus_base_harms(paired):  # the adapter did harm here: say it loudly
        warn(paired["in_words"])  # which says to keep the base model
    elif paired:
        stdout.print(paired["in_words"])
    for said in (paired or {}).get("warnings") or []:
        warn(said)


def base_alone_warnings(before: Mapping[str, Any], where: str) -> list[str]:
    """The base model's own warnings about its whole result on these samples (every one
    called one class, probabilities that barely differ, too good to be true ...), as the
    evaluation report says them: a radiology trial's base, missing all 12 nodules on 0.015
    for every image, read "AUROC 1.000 (0.832-1.000)" with no warning, and the adapter's
    "no difference can be shown" beside it."""
    notes = before.get("notes") if isinstance(before.get("notes"), Mapping) else {}
    if swapped_labels_warning(before, where):  # said in its own words, under the figure
        notes = {k: v for k, v in notes.items() if k != BACKWARDS}
    said = whole_result_notes(notes)
    return [f"the base model alone on the same {where}: {note}" for note in said]


def site_auroc_beside(
    planned: dict[str, Any] | None, before: dict[str, Any], where: str
) -> str | None:
    """The base model's AUROC on all the site's samples it never saw, as ``check-data``
    reports it and the sample-size criteria plan on it (``planned``: the adapter's
    ``sample_size``), where it differs as printed from its AUROC on the held-out part
    (``where``: "60 rows"): a trial read 0.726 at check-data and 0.619 at adapt, two figures
    of one model at one site, with no word of why; None where they agree or either is
    unknown.

    >>> planned = {"auroc_at_site": 0.7264, "auroc_at_site_ci": [0.636, 0.81],
    ...            "auroc_at_site_seen": "200 patients"}
    >>> said = site_auroc_beside(planned, {"auroc": 0.619}, "60 rows")
    >>> said[said.index("AUROC") : said.index(";")]
    'AUROC 0.726 (0.636–0.810)'
    >>> site_auroc_beside(planned, {"auroc": 0.7262}, "60 rows") is None  # alike as printed
    True
    """
    here = (planned or {}).get("auroc_at_site")
    ci, seen = (planned or {}).get("auroc_at_site_ci"), (planned or {}).get("auroc_at_site_seen")
    held = before.get("auroc")
    if None in (here, ci, seen, held) or f"{here:.3f}" == f"{held:.3f}":
        return None
    return (
        f"on all {seen} of this site it never saw, as check-data reports it and the "
        f"sample-size criteria plan on it: AUROC {here:.3f} ({ci[0]:.3f}–{ci[1]:.3f}); the "
        f"{where} held out are a part of them, so their figure is the less certain"
    )


def swapped_labels_warning(before: dict[str, Any], where: str) -> str | None:
    """Where the base model alone ranks the samples an adapter is tested on backwards (its
    AUROC's whole interval below 0.5): the labels there are likely swapped, and an adapter
    that "improves" on the base may only have learnt the swap (a trial's site with its two
    classes exchanged: the base 0.27, the adapter +0.72, recommended without a word).

    >>> swapped_labels_warning({"auroc": 0.27, "auroc_ci": [0.135, 0.48]}, "60 images")[:72]
    'the base model alone ranks these 60 images backwards (AUROC 0.270, 95% C'
    """
    from medadapt.results import ranks_backwards

    if not ranks_backwards(before):
        return None
    interval = before["auroc_ci"]
    return (
        f"the base model alone ranks these {where} backwards (AUROC {before['auroc']:.3f}, "
        f"95% CI up to {interval[1]:.3f}), worse than chance: are the labels, or the "
        "positive class, swapped here? An adapter that does better than the base may only "
        "have learnt the swap: check the labels before using it"
    )


def print_subgroups(subgroups: dict[str, dict[str, Any]], task: str) -> None:
    """One line per subgroup value: n, events and the main metric with its CI (or why not); a
    subgroup whose table is withheld whole, one line below saying why."""
    from medadapt.evaluate.metrics import headline_metric
    from medadapt.evaluate.small_cells import digits_for, withheld_note

    main = headline_metric(task)  # one column for every subgroup
    withheld = {name: withheld_note(values) for name, values in subgroups.items()}
    shown = [(name, value, metrics) for name, values in subgroups.items()
             if not withheld[name] for value, metrics in values.items()]  # fmt: skip
    # no subgroup has the main figure (a class of too few patients everywhere): accuracy
    # beside it, as the main table gives one (a trial's table read n/a in every row)
    figures = [main]
    if task != "regression" and shown and all(m.get(main) is None for *_, m in shown):
        figures.append("accuracy")
    rows = []
    for name, value, metrics in shown:
        notes = metrics.get("notes", {})
        cells = [fmt_ci(metrics.get(figure), metrics.get(f"{figure}_ci"),
                        metric_digits(figure, metrics.get(figure), digits_for(metrics, 3)))
                 for figure in figures]  # fmt: skip
        events = [metrics.get("n_positive", "")] if task == "binary" else []
        # a result too good to be true is said first (a trial's subgroup of AUROC 1.0 was
        # said so in the report, and only rounded here)
        said = notes.get(main, notes.get("all", notes.get("rounded", "")))
        note = "; ".join(n for n in (notes.get(TOO_GOOD_KEY), said) if n)
        rows.append([f"{name} = {value}", metrics.get("n"), *events, *cells, note])
    if rows:
        counts = ["n", "events"] if task == "binary" else ["n"]  # events: positives
        columns = [f"{METRIC_LABELS.get(figure, figure)} (95% CI)" for figure in figures]
        print_table("per subgroup", ["subgroup", *counts, *columns, "note"], rows)
    hidden = {  # why a subgroup's counts read 'suppressed' (said once per subgroup)
        f"{name}: counts {metrics['notes']['counts']}"
        for name, values in subgroups.items()
        for metrics in values.values()
        if isinstance(metrics.get("notes"), dict) and metrics["notes"].get("counts")
    }
    for said in sorted(hidden) + [said for said in withheld.values() if said]:
        noted(said)


def print_per_class(per_class: list[dict[str, Any]] | None, noun: str) -> None:
    """The per-class table; a note that several classes share is said once, below it
    (:func:`class_notes`)."""
    if not per_class:
        return
    print_table(
        f"per class (n: {noun})",  # a short header: the intervals fit whole in 80 columns
        ["class", "n", "AUROC (95% CI)", "sensitivity (95% CI)", "precision (95% CI)", "note"],
        [
            [
                r["class"],
                r["n"],
                fmt_ci(r["auroc"], r["auroc_ci"], 3),
                fmt_ci(r["sensitivity"], r.get("sensitivity_ci"), 3),
                fmt_ci(r["precision"], r.get("precision_ci"), 3),
                cell,
            ]
            for r, cell in zip(per_class, class_notes(per_class), strict=True)
        ],
    )


def class_notes(per_class: list[dict[str, Any]]) -> list[str]:
    """Each row's note cell, a note that names its own class said of "this class" where
    another class has the same note, so that :func:`~medadapt.cli.common.print_table` prints
    it once under the table: a trial's four-class table repeated "the interval reaches 0.50:
    not shown to tell 'normal' from the rest" in every row, folded over five lines each.

    >>> class_notes([{"class": c, "note": f"not shown to tell {c!r} from the rest"}
    ...              for c in ("x", "y")] + [{"class": "z", "note": "few 'z'"}, {"class": "w"}])
    ['not shown to tell this class from the rest', 'not shown to tell this class from the rest', \
"few 'z'", '']
    >>> class_notes([{"class": c, "note": f"3 images of class {c!r}"} for c in ("x", "y")])
    ['3 images of this class', '3 images of this class']
    """
    notes = [r.get("note") or "" for r in per_class]
    general = [n.replace(f"class {r['class']!r}", "this class")  # not "class this class"
               .replace(repr(r["class"]), "this class")
               for r, n in zip(per_class, notes, strict=True)]  # fmt: skip
    counts = Counter(general)
    return [g if counts[g] > 1 else n for g, n in zip(general, notes, strict=True)]


def print_result(title: str, evaluation: dict[str, Any], task: str, noun: str) -> None:
    """The overall metrics, then per class when the evaluation lists classes."""
    print_metrics(title, evaluation["overall"], task, noun)
    print_per_class(evaluation.get("per_class"), noun)


def print_retention(summary: dict[str, Any]) -> None:
    """Whether the adapter (and ``--compare-full``'s full fine-tuning) kept the old classes;
    a warning where the adapter did not (its record carries it to every later result)."""
    from medadapt.evaluate.retention import old_classes_kept, retention_sentence

    if summary.get("retention"):
        said = retention_sentence("adapter", summary["retention"])
        if old_classes_kept(summary["retention"]) is False:
            warn(said)
        else:
            stdout.print(said)
    full = summary.get("full_finetune")
    if full:
        stdout.print(retention_sentence("full fine-tuning", full["retention"]))


SKIPPED_LISTED = 10  # files left out named one per line (an .npz may hold thousands blank)
JSON_LISTS = "--json lists them all"
PREDICTED_LISTS = "the files of --data without a row in --out's predictions are the ones left out"
"""Where ``predict``, which has no ``--json``, shows every file left out: its predictions."""


def print_skipped(
    summary: dict[str, Any], data: Path | None = None, *, listed_by: str | None = JSON_LISTS
) -> None:
    """The files (or ``.npz`` images) left out (``--on-error skip``), each with its reason on
    one line (the first :data:`SKIPPED_LISTED`; ``listed_by`` says where the command lists
    them all: its ``--json``, by default; None where it lists them nowhere), then counted by
    kind: unreadable, blank. With the source ``data``, each is named as the refusal without
    ``--on-error skip`` names it (the record holds it relative to the source's folder)."""
    skipped = summary.get("skipped_files") or []
    root = None if data is None else Path(data) if Path(data).is_dir() else Path(data).parent
    for item in skipped[:SKIPPED_LISTED]:
        named = item["path"] if root is None else root / item["path"]
        note(f"skipped {named}: {item['reason']}")
    if len(skipped) > SKIPPED_LISTED:
        more = f"... and {len(skipped) - SKIPPED_LISTED} more"
        note(f"{more} ({listed_by})" if listed_by else more)
    if skipped:
        kinds = Counter(skipped_kind(str(item["reason"])) for item in skipped)
        what = ", ".join(f"{kinds[k.kind]} {k.tallied}" for k in SKIPPED_KINDS if kinds[k.kind])
        noun = "file" if kinds["not an image"] else "image"  # a notes.txt is no image
        note(f"{len(skipped)} {noun}{'s' * (len(skipped) != 1)} left out (--on-error skip): "
             f"{what}")  # fmt: skip


def print_dropped(dropped: dict[str, str], identifiers: list[str]) -> None:
    """Columns not used as features: record identifiers as warnings (with how to keep them),
    the rest (constant, empty) as plain lines."""
    for column, reason in dropped.items():
        if column in identifiers:
            warn(f"column {column!r} is not used as a feature: it {reason}")
        else:
            note(f"dropped column {column!r}: {reason}")


FEATURES_SHOWN = 30  # a wide table's features: the first named, the rest counted


def print_features(features: dict[str, str]) -> None:
    """One line naming the columns the model reads, numeric and categorical (a trial's
    ``comment`` column was read as a feature, and nothing but a count said so); names only."""
    shown = list(features)[:FEATURES_SHOWN]
    more = f" and {len(features) - FEATURES_SHOWN} more" if len(features) > FEATURES_SHOWN else ""
    kinds = Counter(features.values())
    stdout.print(
        f"features ({len(features)}: {kinds['numeric']} numeric, {kinds['categorical']} "
        f"categorical): {', '.join(shown)}{more}; leave one out with --exclude COL",
        markup=False, highlight=False, soft_wrap=True,
    )  # fmt: skip


def print_reading(said: Mapping[str, Any]) -> None:
    """How ``--data`` was read where it is not a plain CSV (``read_as``: its separator and
    the columns with decimal commas, :func:`~medadapt.data.tables.reading_note`), one line;
    nothing for a plain file."""
    if said.get("read_as"):
        stdout.print(said["read_as"], markup=False, highlight=False, soft_wrap=True)


def print_absent(extras: Mapping[str, Any]) -> None:
    """With ``--allow-absent-columns``: a ``warning:`` for each feature column the table
    lacks (missing for every row), naming the column of the table likely to be it under
    another name (a trial's renamed column was told "train a new base to use it", where the
    refusal without the flag had offered it as the rename), then :func:`print_unread` for
    the other columns not read; first, how the file was read where it is not a plain CSV
    (``read_as``: its separator, decimal commas), as ``train-base`` says it."""
    print_reading(extras)
    renamed = extras.get("renamed_columns") or {}
    for column in extras.get("absent_columns", []):
        other = renamed.get(column)
        instead = (f" ({other!r} may be it under another name: rename it to {column!r} in "
                   "--data to use it)" if other else "")  # fmt: skip
        warn_all([f"column {column!r} is not in the table: missing for every row{instead}"])
    offered = set(renamed.values())
    unread = [c for c in extras.get("unread_columns", []) if c not in offered]
    print_unread(unread, extras.get("unread_copies") or {})


def print_unread(columns: list[str], copies: Mapping[str, str] | None = None) -> None:
    """One ``note:`` line naming the columns of ``--data`` the model does not read (a new
    test added to the file is not used: the user should not think it is); names only, never
    a value. Nothing when there are none. Each of ``copies`` (a column that copies the label,
    with how in words) has a line of its own that says so, not the advice to train on it."""
    from medadapt.modalities.tabular.findings import unread_notes

    for said in unread_notes(columns, copies or {}, "--data"):
        noted(said)


def task_line(
    task: str,
    classes: list[str],
    *,
    label: str,
    chosen_task: str | None = None,
    positive_above: float | None = None,
) -> str:
    """What a model trained on column ``label`` predicts, and what decided it: ``--task``
    (``chosen_task``), ``--positive-above`` or the label's values (then how to change it)."""
    listed = ", ".join(map(repr, classes))
    if task == "binary" and positive_above is not None:
        return (
            f"task: binary, positive class {classes[-1]!r} (of {listed}), made by "
            f"--positive-above {positive_above:g}: {label} > {positive_above:g}"
        )
    if task == "binary":
        what = f"binary, positive class {classes[-1]!r} (of {listed})"
    elif task == "multiclass":
        what = f"multiclass, {len(classes)} classes ({listed})"
    else:
        what = "regression"
    if chosen_task is not None:
        return f"task: {what} set by --task for --label {shlex.quote(label)}"
    line = f"task: {what} inferred from --label {shlex.quote(label)}"
    from medadapt.data.schema import looks_measured, numbers_read_as_classes

    if task == "multiclass" and numbers_read_as_classes(classes):
        pass  # its warning says what else it may be (said once: a trial read both)
    elif task == "multiclass" and looks_measured(classes):  # a count or a score, perhaps
        line += ("; if it is a count or a score (its numbers ordered) pass --task regression; "
                 "for a yes/no outcome --positive-above N")  # fmt: skip
    elif task != "binary" and all(is_number(c) for c in classes):  # --positive-above applies
        line += "; for a yes/no outcome pass --positive-above N, or set --task"
    return line


def print_cache(cache: dict[str, Any] | None, top_blocks: int | None) -> None:
    if not cache:
        return
    from medadapt.workflows.reports import cache_sentence

    stdout.print(cache_sentence(cache, top_blocks))


def warn_all(messages: list[str]) -> None:
    for message in messages:
        warn(message)

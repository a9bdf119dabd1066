"""The study's report: conclusions first, then the evidence (curves, tables, subgroups)."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib import pyplot as plt

from medadapt.evaluate.metrics import headline_metric
from medadapt.evaluate.report import Report
from medadapt.evaluate.report.formatting import (
    METRIC_LABELS,
    fmt_ci,
    listed,
    metric_digits,
    natural_order,
)
from medadapt.evaluate.report.plots import PALETTE, learning_curve_figure, metric_bars
from medadapt.evaluate.small_cells import digits_for, small_cells_caption
from medadapt.results import (
    ADAPTED_READING_SENTENCE,
    grouped,
    needed_text,
    per_parameter_text,
    r2_text,
    share_text,
)
from medadapt.wording import plural
from medadapt.workflows.labels import label, order
from medadapt.workflows.report_sections import guide_section, too_few_for
from medadapt.workflows.strategies import judged_adapter
from medadapt.workflows.study_calibration import calibration_section
from medadapt.workflows.study_figures import (
    calibration_missing,
    held_out_needs,
    nothing_measured,
    people,
    roc_missing,
    why_not,
    with_patients,
)
from medadapt.workflows.study_grid import GIVEN_BASE
from medadapt.workflows.study_sentences import best_at_largest, best_words, why_this_adapter
from medadapt.workflows.study_summary import metric_range, study_noun


def _largest(study: dict[str, Any]) -> float:
    """The largest training fraction tried (not always 1: ``--fractions`` may stop short)."""
    return max(study["config"]["fractions"])


def _detailed(study: dict[str, Any]) -> list[dict[str, Any]]:
    """The points with subgroup and ROC details: every strategy at the largest size tried, and
    the base model."""
    largest = _largest(study)
    chosen = [
        p for p in study["points"] if p["strategy"] == "base_only" or p["fraction"] == largest
    ]
    return sorted(chosen, key=lambda p: (order(p["strategy"]), p["seed"]))


def _size_text(study: dict[str, Any]) -> str:
    largest = _largest(study)
    rows = [
        p["n_train"]
        for p in study["points"]
        if p["fraction"] == largest and p["strategy"] != "base_only"
    ]
    noun = study_noun(study)
    n = f"{max(rows)} {noun}, " if rows else ""
    if largest == 1.0:
        return f"all target training {noun} ({n}100%)"
    return (
        f"the largest training size tried ({n}{share_text(largest)} of the target training {noun})"
    )


def _band_points(entries: list[dict[str, Any]], sizes: list[float]) -> list[tuple]:
    points = []
    for e in entries:
        if e["mean"] is None:
            continue
        low, high = e["ci"] if e["ci"] else (e["mean"], e["mean"])
        points.append((e["n_train"], e["mean"], low, high))
    if len(points) == 1 and points[0][0] == 0 and sizes:  # base model: flat reference line
        _, mean, low, high = points[0]
        points = [(size, mean, low, high) for size in sizes]
    return points


def _drawn(point: dict[str, Any], kind: str) -> bool:
    """Whether ``point`` has a ``kind`` curve to draw (none where its test set was too small
    for any figure: a plot of legend entries over the chance line read as "at chance")."""
    curves = point.get("curves") or {}
    return bool(curves.get(kind) and len(curves[kind][0]))


def _curves_figure(study: dict[str, Any], *, kind: str):
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=1, ls="--")
    for i, point in enumerate(p for p in _detailed(study) if _drawn(p, kind)):
        xs, ys = point["curves"][kind]
        ax.plot(
            xs,
            ys,
            color=PALETTE[i % len(PALETTE)],
            lw=1.4,
            marker="o" if kind == "calibration" else None,
            ms=3,
            label=label(point["strategy"]),
        )
    noun = study_noun(study)
    size = (
        f"all {noun}" if _largest(study) == 1.0 else f"{share_text(_largest(study))} of the {noun}"
    )
    if kind == "roc":
        ax.set(xlabel="1 − specificity", ylabel="sensitivity", title=f"ROC, {size}")
    else:
        ax.set(
            xlabel="predicted risk",
            ylabel="observed frequency",
            title=f"Calibration, {size}",
        )
    ax.set(xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=7, frameon=False)
    return fig


def _settings(method_options: dict[str, dict[str, Any]]) -> str:
    """`` Adapter settings: lora r=16, alpha=32.`` (empty when every method kept its defaults)."""
    given = [f"{method} " + ", ".join(f"{k}={v}" for k, v in options.items())
             for method, options in method_options.items() if options]  # fmt: skip
    return f" Adapter settings over the defaults: {'; '.join(given)}." if given else ""


def base_per_seed(config: dict[str, Any]) -> bool:
    """Whether the study trained a base model for each of its seeds (tables do; images train
    one: a trial read "a base model" beside five, whose AUROCs differed)."""
    from medadapt.errors import MedadaptError
    from medadapt.modalities.base import modality_of

    try:
        modality = modality_of(str(config.get("kind") or "tabular"))
    except MedadaptError:  # a kind this medadapt does not know: said as before
        return False
    return bool(modality.study_base_per_seed) and int(config.get("seeds") or 0) > 1


def study_report(study: dict[str, Any], curves: dict[str, Any], found: dict[str, Any]) -> Report:
    data, config, noun = study["data"], study["config"], study_noun(study)
    given = config.get("base") is not None or data["source_groups"] == [GIVEN_BASE]
    groups = ", ".join(data["source_groups"])
    per_seed = base_per_seed(config)
    trained = (
        "The base model given with --base"
        if given
        else f"One base model per seed ({config['seeds']}) this study trained on {groups}, so "
        "the base's own figures vary between seeds too (not one trained apart: pass it with "
        "--base to study it)"
        if per_seed
        else f"A base model this study trained "
        f"on {groups} (not one trained apart: pass it with --base to study it)"
    )
    report = Report(
        title=f"How much data is enough? Target group: {data['target_group']}",
        subtitle=f"{trained}; {len(config['strategies'])} strategies × "
        f"{len(config['fractions'])} training sizes × {plural(config['seeds'], 'seed')}, all "
        f"scored on the same {data['n_target_test']} held-out {noun}."
        f"{_settings(config.get('method_options') or {})}",
    )
    report.summary(_summary_lines(study, found))
    _sufficiency(report, study)
    _sample_size(report, study)
    metric = found["metric"]
    _learning_curves(report, study, curves, metric)
    _strategy_table(report, config["fractions"], curves[metric], metric)
    _best_table(report, found["best_per_size"], metric)
    calibration_section(report, _detailed(study), study["task"], _size_text(study), metric)
    if study["task"] == "binary" and study["points"]:
        _discrimination_and_calibration(report, study)
    _subgroups(report, study)
    _data_summary(report, study)
    guide_section(report, list(curves), noun=people(noun), task=study["task"])
    _card(report, study, found)
    return report


def _discrimination_and_calibration(report: Report, study: dict[str, Any]) -> None:
    """ROC curves and the calibration plot, each drawn only from enough held-out samples (ROC:
    where AUROC was estimated; calibration: :data:`~medadapt.workflows.study_figures.
    CALIBRATION_MIN`); in its place, what is missing and how to get it."""
    report.section(f"Discrimination and calibration with {_size_text(study)}, seed 0")
    detailed = _detailed(study)
    roc = any(_drawn(p, "roc") and p["metrics"].get("auroc") is not None for p in detailed)
    missing = roc_missing(study, roc)
    if missing is None:
        report.figure(_curves_figure(study, kind="roc"), caption="ROC curves.")
    else:
        report.paragraph(missing)
    missing = calibration_missing(study, any(_drawn(p, "calibration") for p in detailed))
    if missing is None:
        report.figure(
            _curves_figure(study, kind="calibration"),
            caption="Observed frequency against predicted risk (quantile bins).",
        )
    else:
        report.paragraph(missing)


def _summary_lines(study: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """The conclusions, a pointer to the sufficiency warnings and how to read the intervals."""
    warnings = [f for f in study["sufficiency"] if f["level"] == "warning"]
    notes = [
        f for f in study["sufficiency"] if f["level"] == "info" and f["code"] != "training_sizes"
    ]
    summary = list(found["sentences"])
    if warnings:  # the notes beside them counted too (a trial read "2 warnings", then three)
        beside = f" (beside {plural(len(notes), 'note')})" if notes else ""
        summary.append(
            f"{plural(len(warnings), 'data-sufficiency warning')} below{beside}: read "
            f"{'it' if len(warnings) == 1 else 'them'} before trusting any number."
        )
    if nothing_measured(study):  # no band nor interval to read
        return summary
    summary.append(
        "Bands and intervals in brackets are 95% intervals over seeds (which patients trained "
        "the model and its random start); 'test CI' is the uncertainty from the small held-out "
        "set. 'Clearly ahead' and 'no conclusion' take both into account."
    )
    return summary


def _learning_curves(
    report: Report, study: dict[str, Any], curves: dict[str, Any], metric: str
) -> None:
    """One learning-curve figure per metric, every strategy's band against training samples."""
    sizes = sorted(
        {e["n_train"] for entries in curves[metric].values() for e in entries if e["n_train"] > 0}
    )
    report.section("Learning curves")
    empty: dict[str, list[str]] = {}  # why: the metrics not estimable at any size
    for name in curves:
        if not _estimated(curves[name]):
            empty.setdefault(why_not(study, name), []).append(METRIC_LABELS[name])
            continue
        bands = {label(s): _band_points(entries, sizes) for s, entries in curves[name].items()}
        report.figure(
            learning_curve_figure(
                bands,
                title=f"{METRIC_LABELS[name]} vs training {study_noun(study)}",
                xlabel=f"target training {study_noun(study)} used (log scale)",
                ylabel=METRIC_LABELS[name],
                limits=metric_range(name, study["task"]),
                reference=label("base_only"),
            ),
            caption=f"{METRIC_LABELS[name]}: mean over seeds with its 95% band over seeds, one "
            "panel per strategy; dashed: the base model without training, the same at every size."
            + BAND_IS_NOT_PRECISION.format(noun=study_noun(study))
            + few_seeds_note(int(study["config"].get("seeds") or 0)),
        )
    for why, names in empty.items():  # a figure of empty panels would show nothing
        report.paragraph(
            f"No learning curve for {listed(names)}: not estimable at any size, as {why}."
        )


def _estimated(by_strategy: dict[str, Any]) -> bool:
    """Whether some strategy has a mean of the metric at some size."""
    return any(e["mean"] is not None for entries in by_strategy.values() for e in entries)


def _strategy_table(
    report: Report, fractions: list[float], by_strategy: dict[str, Any], metric: str
) -> None:
    """The main metric per strategy (rows) and training size (columns)."""
    report.section(f"{METRIC_LABELS[metric]} by strategy and training size")
    columns, rows = strategy_rows(fractions, by_strategy)
    seeds = min((e["n_seeds"] for entries in by_strategy.values() for e in entries
                 if e["n_seeds"]), default=0)  # fmt: skip
    report.table(
        columns,
        rows,
        caption="Mean over seeds (95% CI over seeds; the mean of each seed's 95% CI over test "
        f"patients: {_interval_method(metric)})."
        f"{few_seeds_note(seeds)}",
    )


def strategy_rows(
    fractions: list[float], by_strategy: dict[str, Any]
) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the main metric per strategy and training size, as the report
    and the terminal show them (a trial's terminal gave no figure per strategy at all)."""
    columns = ["strategy"] + [share_text(f) for f in fractions]
    rows = []
    for strategy, entries in by_strategy.items():
        cells = {e["fraction"]: e for e in entries}
        row = [label(strategy)]
        for fraction in fractions:
            e = cells.get(fraction) or (entries[0] if strategy == "base_only" else None)
            row.append(_cell_text(e))
        rows.append(row)
    return columns, rows


def _interval_method(metric: str) -> str:
    """How each seed's interval of ``metric`` over its test patients was computed."""
    if metric == "accuracy":
        return "exact binomial"
    if metric == "auroc":
        return "a bootstrap, for two classes widened to Newcombe's score interval"
    unit = " (in the outcome's unit)" if metric in ("mae", "rmse") else ""
    return f"a bootstrap over the patients{unit}"


#: what a learning curve's band does not show (a trial read bands 0.60-0.66 as the precision
#: of points whose interval over the same test patients ran from 0.45 to 0.79)
BAND_IS_NOT_PRECISION = (
    " The band shows how much a point moves between seeds (other draws of the training "
    "{noun}), not how precisely it is known: every point is measured on the same few held-out "
    "{noun}, and its interval over them (the tables' 'test CI') is wider."
)


def few_seeds_note(seeds: int) -> str:
    """Why intervals over 2 seeds are so wide (a t-interval on one degree of freedom)."""
    if seeds != 2:
        return ""
    return (" With 2 seeds the interval over seeds is a t-interval on one degree of freedom "
            "(12.7 standard errors each side): very wide whatever the seeds gave; run --seeds 3 "
            "or more for a usable one.")  # fmt: skip


def _cell_text(entry: dict[str, Any] | None) -> str:
    """One strategy at one size: mean with its intervals, or why there is no mean."""
    if entry is None or entry["mean"] is None:
        return (entry or {}).get("note") or "–"
    text = fmt_ci(entry["mean"], entry["ci"])
    if entry["ci"] is None and (entry.get("n_seeds") or 0) >= 2:  # no interval over seeds:
        text += " (the same for every seed)"  # a trial's table title promised one
    if entry.get("test_ci"):  # with the digits that show its ends (a trial's multiclass Brier
        tested = fmt_ci(entry["mean"], entry["test_ci"])  # read "test CI 0.00–0.00")
        text += f"; test CI {tested[tested.index('(') + 1 : -1]}"
    return text


def _best_cell(best: dict[str, Any]) -> str:
    """The best strategy at one size, or none where several have the same mean (``best``
    None; ``level_with`` names them all: a study recorded before named the leader in
    ``best`` and the others in ``level_with``)."""
    if best.get("level_with") or best.get("best") is None:
        level = list(best.get("level_with") or [])
        if best.get("best") is not None:
            level = [best["best"], *level]
        return f"none: {listed(f'the {label(s)}' for s in level)} have the same mean"
    if best["best"] == "base_only":
        return f"{label(best['best'])} (trains on none: the same at every size)"
    return label(best["best"])


def _apart_cell(best: dict[str, Any]) -> str:
    """The strategies the best cannot be told apart from; where several share the best mean
    (no best), that they tie: a trial read "none" there as "apart from all the others"."""
    if best.get("level_with") or best.get("best") is None:
        return "each other (the same mean)"
    return ", ".join(label(s) for s in best["indistinguishable_from"]) or "none"


def _best_table(report: Report, best_per_size: list[dict[str, Any]], metric: str) -> None:
    """The best strategy at each size and the strategies it cannot be told apart from (none
    where no strategy has a figure to compare: a table of headers alone said nothing)."""
    if not best_per_size:
        report.paragraph(
            f"No best strategy at any size: no {METRIC_LABELS[metric]} could be estimated for "
            "any strategy, so none is compared."
        )
        return
    report.table(
        [
            "training samples",
            "best strategy",
            f"mean {METRIC_LABELS[metric]}",
            "cannot be told apart from",
        ],
        [
            [
                f"{b['n_train']:.0f} ({share_text(b['fraction'])})",
                _best_cell(b),
                b["mean"],
                _apart_cell(b),
            ]
            for b in best_per_size
        ],
        caption="Told apart only when the intervals combining seed-to-seed variation and "
        "test-set uncertainty do not overlap (no per-patient predictions are stored, so the "
        "comparison is not paired; this is conservative).",
    )


def _subgroups(report: Report, study: dict[str, Any]) -> None:
    detailed = [p for p in _detailed(study) if p["seed"] == 0 and p.get("subgroups")]
    if not detailed:
        return
    report.section(
        "Per-subgroup view (before and after adaptation)",
        f"Target group's held-out {study_noun(study)} by subgroup, seed 0, {_size_text(study)}; "
        f"bars are 95% bootstrap intervals, 'n/a' means {too_few_for(study['task'])} to "
        "estimate. "
        f"{small_cells_caption(study['task'])}",
    )
    metric = headline_metric(study["task"])
    for name in detailed[0]["subgroups"]:
        groups: dict[str, dict[str, Any]] = {}
        for point in detailed:
            for value, metrics in point["subgroups"].get(name, {}).items():
                groups.setdefault(value, {})[label(point["strategy"])] = metrics
        groups = {value: groups[value] for value in natural_order(groups)}
        if any(m.get(metric) is not None for by in groups.values() for m in by.values()):
            report.figure(  # else no bar to draw: the table says 'n/a' for each
                metric_bars(groups, metric=metric, title=f"{METRIC_LABELS[metric]} by {name}"),
                caption=f"{METRIC_LABELS[metric]} by {name}, every strategy.",
            )
        first = next(iter(groups.values()), {})
        report.table(
            [name, "patients", *[f"{METRIC_LABELS[metric]}: {s}" for s in first]],
            [
                [
                    value,
                    next(iter(by.values())).get("n"),
                    *[
                        fmt_ci(
                            m.get(metric),
                            m.get(f"{metric}_ci"),
                            metric_digits(metric, m.get(metric), digits_for(m, 2)),
                        )
                        for m in by.values()
                    ],
                ]
                for value, by in groups.items()
            ],
        )


def _sufficiency(report: Report, study: dict[str, Any]) -> None:
    findings = study["sufficiency"]
    report.section("Data sufficiency (checked before training)")
    report.warnings([f["message"] for f in findings if f["level"] == "warning"])
    for finding in findings:
        if finding["level"] == "info" and finding["code"] != "training_sizes":
            report.paragraph(finding["message"])
    sizes = next((f["numbers"]["sizes"] for f in findings if f["code"] == "training_sizes"), [])
    if not sizes or "class_counts" not in sizes[0]:
        return
    classes = list(sizes[0]["class_counts"])
    strategies = list(sizes[0]["events_per_parameter"])
    noun = study_noun(study)
    by_patient = "n_patients" in sizes[0]  # a patient has several samples: classes count them
    report.table(
        [
            "training size",
            noun,
            *(["patients"] if by_patient else []),
            *[f"class {c}" for c in classes],
            *[f"events/parameter: {label(s)}" for s in strategies],
        ],
        [
            [
                f"{share_text(e['fraction'])}",
                e["n_rows"],
                *([e["n_patients"]] if by_patient else []),
                *[e["class_counts"][c] for c in classes],
                *[per_parameter_text(e["events_per_parameter"][s]) for s in strategies],
            ]
            for e in sizes
        ],
        caption=_sizes_caption(noun, by_patient),
    )


PER_PARAMETER = "parameters: those trained, the output layer's intercepts aside"
"""How the per-size table counts parameters (as the sample-size table; the card's "Trained
parameters" counts every one, a review found the two side by side unexplained)."""


def _sizes_caption(noun: str, by_patient: bool) -> str:
    """What the table of training sizes counts: the samples, or where a patient has several
    the patients behind them (each seed draws its own samples, so its patients may differ)."""
    # a trial's study had 71 at 50 % for seed 0, 70 for seed 1, "so every seed has these counts"
    drawn = (
        "stratified by class, each seed drawing whole patients (a patient's "
        f"{noun} together), so another seed's counts may differ by a few"
    )
    if not by_patient:
        return (f"Target training {noun} at each size (seed 0's subset; {drawn}). Events: "
                f"{noun} of the smallest class; {PER_PARAMETER}.")  # fmt: skip
    return (f"Target training {noun} at each size and the patients behind them (seed 0's "
            f"subset; {drawn}). Classes count patients, a patient once in each class among "
            f"their {noun}. Events: patients of the smallest class; {PER_PARAMETER}.")  # fmt: skip


def _data_summary(report: Report, study: dict[str, Any]) -> None:
    data = study["data"]
    report.section("Data summary (counts only)")
    source: Any = data["n_source"]
    if study["config"].get("base") and not source:  # no base trained here: nothing counted
        source = "not counted here: the base model was given (--base)"
    report.table(
        [study_noun(study), "count"],
        [
            ["source groups (base model)", source],
            ["target group, training", data["n_target_train"]],
            ["target group, held out", data["n_target_test"]],
        ],
    )


def _card(report: Report, study: dict[str, Any], found: dict[str, Any]) -> None:
    metric = found["metric"]
    adapter = judged_adapter(study["config"]["strategies"])
    if adapter is None:
        return
    best = [p for p in _detailed(study) if p["strategy"] == adapter]
    if not best:
        return
    values = [
        fmt_ci(p["metrics"][metric], p["metrics"].get(f"{metric}_ci"))
        for p in best
        if p["metrics"].get(metric) is not None
    ]
    report.section(f"Adapter card: {label(adapter)}, {study['data']['target_group']}")
    report.card(
        label(adapter),
        [
            (
                "Why this adapter",
                _why_this_adapter(adapter, found, study_noun(study))
                + _worse_than_base(found, metric, study_noun(study)),
            ),
            (
                "Intended use",
                "Adapting the base model to this target group for research and local "
                "validation; not for clinical decisions without prospective validation.",
            ),
            (
                "Data",
                f"{best[0]['n_train']} training {study_noun(study)} of "
                f"{study['data']['target_group']} ({share_text(_largest(study))} of its training "
                f"{study_noun(study)}); "
                f"{study['data']['n_target_test']} held out.",
            ),
            ("Metrics", _card_metrics(study, metric, values)),
            (
                "Trained parameters",
                f"{grouped(best[0]['trainable_params'])} (every one, the "
                "output layer's intercepts too)",
            ),
            (
                "Limitations",
                "Measured only on the target group's held-out patients of this study; see the "
                "sufficiency warnings. Re-validate before any use, and "
                + (
                    "watch the errors as the measured value's distribution shifts."
                    if study.get("task") == "regression"
                    else "re-check calibration when prevalence changes."
                ),
            ),
        ],
    )


def _worse_than_base(found: dict[str, Any], metric: str, noun: str) -> str:
    """`` Its mean MAE ... is worse than the base model alone ...`` where the summary found the
    card's adapter worse on average than the base model without it at the largest size tried
    (a trial's card presented an adapter whose mean MAE, 55.92, was worse than the base's
    51.84, with no word); empty otherwise."""
    worse = found.get("worse_than_base")
    if not worse:
        return ""
    return (f" Its mean {METRIC_LABELS[metric]} at the largest size ({worse['mean']:.3g}) is "
            f"no better than the base model's alone ({worse['base_mean']:.3g}) on the same "
            f"test {noun}: nothing here shows that it helps this group.")  # fmt: skip


def _card_metrics(study: dict[str, Any], metric: str, values: list[str]) -> str:
    """The card's figures for each seed, or why there are none (not "for 0 seeds")."""
    name = METRIC_LABELS[metric]
    if not values:
        return f"{name}: not estimable, as {why_not(study, metric)}"
    return (f"{name} (95% CI over test {people(study_noun(study))}) for "
            f"{'each of ' if len(values) > 1 else ''}{plural(len(values), 'seed')}: "
            f"{'; '.join(values)}")  # fmt: skip


def _why_this_adapter(adapter: str, found: dict[str, Any], noun: str) -> str:
    """The card's adapter is the one the study judges, not always the best strategy: why it,
    and which strategy was the best."""
    text = f"The adapter method this study judges: {why_this_adapter(adapter)}"
    best = best_at_largest(found.get("best_per_size") or [])
    if best is None:
        return f"{text}."
    if best["best"] == adapter:
        return f"{text}; it also had {best_words(best, found['metric'], noun)}."
    return f"{text}; {best_words(best, found['metric'], noun)} came from the {label(best['best'])}."


#: what each of Riley et al.'s development criteria asks, in words
CRITERIA = {
    "i": "(i) little overfitting",
    "ii": "(ii) little optimism in the explained variation",
    "iii": "(iii) the overall outcome (or the error's spread) estimated precisely",
    "iv": "(iv) precise predictions",
}


#: criterion (iii) of each outcome in words (a trial's three-class image study read "the
#: average risk (or, for a measured value, the spread of the errors)")
CRITERION_III = {
    "binary": "Criterion (iii): the average risk estimated within 0.05",
    "multiclass": "Criterion (iii): each class's share of the patients estimated within 0.05",
    "regression": "Criterion (iii): the spread of the errors (residual SD) estimated within 10%",
}


def sample_size_words(task: str, r2_label: str = "") -> str:
    """The sample-size section's terms in a clinician's words, those of its ``task`` and its
    ``r2_label`` (a trial found "Cox-Snell R-squared", "criterion (ii)", "events per
    parameter", "C-statistic", "Newcombe's score interval" and "Peduzzi et al." nowhere
    explained)."""
    binary = task == "binary"
    r2 = (
        "Cox-Snell R-squared: how much of the outcome a model explains, the criteria's "
        "measure (for an outcome of classes it cannot reach 1: its maximum depends on how "
        "common each class is)"
        if "Cox-Snell" in r2_label or (binary and not r2_label)
        else "R-squared: the share of the outcome's variation a model explains"
    )
    words = [
        f"The words of this section. {r2}",
        "Criterion (i): a model fitted on too few patients gives predictions too extreme on "
        "new ones; the criterion asks that they need pulling toward the average by no more "
        "than 10% (a shrinkage of 0.9)",
        "Criterion (ii): the explained variation may drop by at most 0.05 from the training "
        "patients to new ones",
        CRITERION_III.get(task, CRITERION_III["binary"]),
    ]
    if task == "regression":  # as check-data's legend (a trial found it there, not here)
        words.append(
            "Criterion (iv): the mean outcome estimated within 10% (not applied where the "
            "outcome's values lie on both sides of 0, around a mean near 0)"
        )
    if binary:
        words += [
            "Events per parameter: patients with the outcome per trained parameter (the "
            "output's intercepts aside, as the criteria count them); Peduzzi "
            "et al.'s rule of thumb, about 10 of them, is an older and cruder criterion than "
            "these",
            "C-statistic: another name for the AUROC",
            "Newcombe's score interval: an interval for the AUROC that stays honest on few "
            "patients, used where it is wider than the bootstrap's",
        ]
    return ". ".join(words) + "."


def _sample_size(report: Report, study: dict[str, Any]) -> None:
    """Riley et al.'s minimum sample sizes, before the learning curves show what happened."""
    entry = study.get("sample_size")
    if not entry:
        return
    report.section(
        "Sample size: what the criteria predict",
        f"The published minimum-sample-size criteria for the target group ({entry['outcome']}, "
        f"anticipated {entry['r2_label']} {r2_text(entry['r2'])}, {entry['r2_source']}). "
        f"{ADAPTED_READING_SENTENCE}. Source: {entry['source']}.",
    )
    noun = study_noun(study)
    trained = with_patients(entry["n_train"], entry.get("n_train_patients"), noun)
    rows = [[label(s), e["parameters"], needed_text(e["n_needed"]),
             CRITERIA.get(e["criterion"], e["criterion"]),
             f"{'yes' if e['met'] else 'no'} ({trained})"]
            for s, e in entry["strategies"].items()]  # fmt: skip
    counted = "parameters (intercepts aside)"
    if not entry.get("intercepts_aside"):  # a study recorded before counted the intercepts too
        counted = "trainable parameters"
    report.table(["strategy", counted, "minimum patients", "binding criterion",
                  f"met by the target's training {noun}"], rows)  # fmt: skip
    for line in held_out_needs(study):
        report.paragraph(line)
    report.paragraph(sample_size_words(study.get("task") or "binary", entry.get("r2_label", "")))

"""The demo's report: plain-language summary first, then tables, curves and the bias view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from medadapt.evaluate.difference import Difference
from medadapt.evaluate.metrics import BRACKETS, LOWER_IS_BETTER, MIN_PER_CLASS
from medadapt.evaluate.paired_difference import paired_difference
from medadapt.evaluate.report import Report
from medadapt.evaluate.report.formatting import METRIC_LABELS, fmt_ci, listed
from medadapt.evaluate.report.plots import calibration_figure, roc_figure
from medadapt.results import grouped
from medadapt.workflows.demo_bias import bias_section
from medadapt.workflows.flamby import average_columns
from medadapt.workflows.labels import FLAMBY_LABELS, LOCO_LABELS, STRATEGY_LABELS
from medadapt.workflows.report_sections import guide_section

LABELS = STRATEGY_LABELS
COLUMNS = [
    "strategy",
    "trained on",
    "AUROC (95% CI)",
    "AUPRC",
    "accuracy",
    "balanced acc.",
    "sensitivity",
    "specificity",
    "Brier",
    "ECE",
    "trainable params",
    "size (KiB)",
    "seconds",
]


@dataclass
class BuiltReport:
    report: Report
    summary_lines: list[str] = field(default_factory=list)


def strategy_row(name: str, m: dict[str, Any]) -> list[Any]:
    return [
        LABELS.get(name, name),
        m.get("n_train"),
        fmt_ci(m.get("auroc"), m.get("auroc_ci")),
        fmt_ci(m.get("auprc"), m.get("auprc_ci")),
        fmt_ci(m.get("accuracy"), m.get("accuracy_ci")),
        fmt_ci(m.get("balanced_accuracy"), m.get("balanced_accuracy_ci")),
        fmt_ci(m.get("sensitivity"), m.get("sensitivity_ci")),
        fmt_ci(m.get("specificity"), m.get("specificity_ci")),
        fmt_ci(m.get("brier"), m.get("brier_ci")),
        fmt_ci(m.get("ece"), m.get("ece_ci")),
        m.get("trainable_params"),
        f"{m['adapter_bytes'] / 1024:.1f}" if m.get("adapter_bytes") else "–",
        f"{m['train_seconds']:.1f}" if m.get("train_seconds") else "–",
    ]


def strategy_notes(strategies: dict[str, Any]) -> list[str]:
    """Each distinct note once, naming the strategies it is about (a note under a table of
    seven strategies must say which row it concerns). Its counts are the centre's held-out
    test set's, shown exactly as the summary and ``results.json`` give them
    (:mod:`medadapt.evaluate.small_cells`: a whole test set's counts are no subgroup's)."""
    by_note: dict[str, tuple[dict[str, None], dict[str, None]]] = {}
    for name, m in strategies.items():
        for metric, note in m.get("notes", {}).items():
            names, metrics = by_note.setdefault(note, ({}, {}))
            names[LABELS.get(name, name)] = None
            if metric in METRIC_LABELS:  # a note about one metric, not the whole result
                metrics[METRIC_LABELS[metric]] = None
    return [
        f"{'every strategy' if len(names) == len(strategies) > 1 else ', '.join(names)}: "
        + (f"{', '.join(metrics)}: " if metrics else "")
        + note
        for note, (names, metrics) in by_note.items()
    ]


def _of_one_class(n: int, positives: int) -> tuple[str, int]:
    """The rarer outcome of a test set ("with" or "without" disease) and its count."""
    return ("without", n - positives) if n - positives <= positives else ("with", positives)


def _few_words(count: int) -> str:
    """``"only 3"`` or ``"no"``: a test set's patients of its rarer outcome."""
    return f"only {count}" if count else "no"


def _centre_sentences(centre: str, strategies: dict[str, Any], curves: dict[str, Any]) -> list[str]:
    """The summary's lines about one centre. Its held-out test set's counts are exact, as its
    notes, its observed/expected line and ``results.json`` give them (a trial's summary said
    ">45 with heart disease" beside "47 observed"); the paired comparison and the side-by-side
    ranking each say which they are (a trial: a paired Brier gain beside "none can be called
    better")."""
    base, adapter = strategies["base_only"], strategies.get("bottleneck")
    n, n_pos = base["n"], base["n_positive"]
    lines = [f"{centre}: {n} held-out test patients, {n_pos} with heart disease."]
    if base.get("auroc") is None:
        rarer, count = _of_one_class(n, n_pos)
        lines.append(
            f"{centre}: {_few_words(count)} test patients {rarer} disease (at least "
            f"{MIN_PER_CLASS} are needed), too few to estimate AUROC, balanced accuracy or "
            "specificity; accuracy there mostly rewards predicting "
            f"'{'disease' if rarer == 'without' else 'no disease'}' for everyone, so the models "
            "are compared by their Brier score (how close the predicted risks are to what "
            "happened; lower is better) instead."
        )
        metric = "brier"
    else:
        metric = "auroc"
    diff = None
    if adapter is not None:
        diff = paired_difference(
            curves["y"], curves["bottleneck"], curves["base_only"], metric=metric
        )
        paired = f"the base model, paired on the same {n} patients"
        lines.append(f"{centre}: {diff.sentence('the bottleneck adapter', paired)}")
        if metric == "brier":
            lines.append(
                f"{centre}: with so few patients of one kind, a lower Brier score can come "
                "from moving every risk towards this centre's prevalence rather than from "
                "telling sick from well: whether any model separates them here cannot be "
                "assessed."
            )
    ranking = _ranking(centre, strategies, metric, n, diff)
    return lines + ([ranking] if ranking else [])


def _ranking(
    centre: str, strategies: dict[str, Any], metric: str, n: int, paired: Any = None
) -> str | None:
    """The best strategy on ``metric``, or, when every interval overlaps the best one's, that
    this side-by-side (unpaired) comparison calls none better, and what the paired comparison
    of the bottleneck adapter with the base model (``paired``, a ``Difference``) found (None:
    no strategy has the metric)."""
    scored = {s: m for s, m in strategies.items() if m.get(metric) is not None}
    if not scored:
        return None
    lower = metric in LOWER_IS_BETTER
    best = (min if lower else max)(scored, key=lambda s: scored[s][metric])
    name = METRIC_LABELS.get(metric, metric)
    top = scored[best].get(f"{metric}_ci")
    others = [m.get(f"{metric}_ci") for s, m in scored.items() if s != best]
    if top and others and all(c and c[0] <= top[1] and top[0] <= c[1] for c in others):
        values = [m[metric] for m in scored.values()]
        return (f"{centre}: {name} {min(values):.2f} to {max(values):.2f} across the "
                "strategies; compared side by side (not paired), every strategy's 95% interval "
                f"overlaps the best one's, so that comparison calls none better on these {n} "
                f"patients.{_paired_words(paired)}")  # fmt: skip
    return (
        f"{centre}: {'lowest' if lower else 'highest'} {name}: {LABELS[best]} "
        f"({fmt_ci(scored[best][metric], top)}); where intervals overlap, this ranking can "
        f"change with other patients. It was picked as best on these same {n} patients, so its "
        "figure is optimistic: confirm it on new patients."
    )


def _paired_words(paired: Any) -> str:
    """What the paired comparison above found, beside the side-by-side one (which cannot see
    a difference the paired one can: both models are scored on the same patients)."""
    if paired is None or paired.verdict not in ("better", "worse"):
        return ""
    return (
        " The paired comparison above scores both models on the same patients, so it can detect "
        "smaller differences, and it does find the bottleneck adapter "
        f"{paired.verdict} than the base model."
    )


def default_report(results: dict[str, Any]) -> BuiltReport:
    report = Report(
        title="Adapting a heart-disease model to new hospitals",
        subtitle="Base model trained at Cleveland and Hungary; one adapter per new centre "
        "(VA Long Beach, Switzerland). UCI Heart Disease data, CC BY 4.0.",
    )
    curves = results["_curves"]
    lines: list[str] = []
    for centre, strategies in results["centres"].items():
        lines += _centre_sentences(centre, strategies, curves[centre])
    source = results["base"]["source_test"]["overall"]
    for centre, forgetting in results["forgetting"].items():
        full = forgetting.get("full_finetune", {})
        if source.get("auroc") is not None and full.get("auroc") is not None:
            lines.append(
                f"Source patients (Cleveland, Hungary; {source['n']} held out): with adapters "
                f"they keep the base model (AUROC {fmt_ci(source['auroc'], source.get('auroc_ci'))}"
                f"); the copy fully fine-tuned for {centre} scores "
                f"{fmt_ci(full['auroc'], full.get('auroc_ci'))} on them."
            )
    lines += _personalised_sentences(results["personalised"])
    sizes = [s["base_only"]["n"] for s in results["centres"].values()]
    lines.append(
        "Every number comes from held-out patients never used for training or early stopping; "
        f"b{BRACKETS.format(noun='patients')[1:]} With {min(sizes)} to "
        f"{max(sizes)} test patients per centre the intervals are wide: differences inside "
        "them cannot be claimed."
    )
    report.summary(lines)
    _data_section(report, results)
    said = results.get("warnings") or []  # each names its centre and strategies
    report.warnings([w["said"] for w in said if w["where"] not in results["centres"]])
    for centre, strategies in results["centres"].items():
        _centre_section(report, centre, strategies, curves[centre],
                        [w["said"] for w in said if w["where"] == centre])  # fmt: skip
    bias_section(report, results)
    _personalised_section(report, results["personalised"])
    guide_section(report, ["auroc", "auprc", "accuracy", "balanced_accuracy", "sensitivity",
                           "specificity", "brier", "ece", "mae", "rmse", "r2"])  # fmt: skip
    _card(report, results)
    return BuiltReport(report, lines)


def _data_section(report: Report, results: dict[str, Any]) -> None:
    data = results["data"]
    report.section(
        "Data",
        f"{data['source']}. {data['n_patients']} patients; label: {data['label']}. "
        "Missing values are kept and modelled, not imputed or dropped.",
    )
    rows = []
    for centre, info in data["centres"].items():
        heavy = sorted((v, k) for k, v in info["missing_share"].items() if v >= 0.2)[::-1]
        rows.append(
            [
                centre,
                info["n"],
                info["n_positive"],
                f"{info['n_positive'] / info['n']:.0%}",
                ", ".join(f"{k} {v:.0%}" for v, k in heavy) or "none",
            ]
        )
    report.table(
        ["centre", "patients", "with disease", "prevalence", "features >= 20% missing"],
        rows,
        caption="Counts only; no patient row appears in this report.",
    )


def _centre_section(
    report: Report, centre: str, strategies: dict[str, Any], curves, said: Sequence[str] = ()
) -> None:
    """Every strategy's figures at ``centre``, their notes and the warnings the demo raised
    there (``said``), the ROC and calibration plots."""
    report.section(f"{centre}: every strategy on the same held-out patients")
    report.table(
        COLUMNS,
        [strategy_row(s, m) for s, m in strategies.items()],
        caption="Sensitivity and specificity at a 0.5 risk threshold. Size: adapter "
        "file for adapters, whole model for the others.",
    )
    report.warnings([*strategy_notes(strategies), *said])
    labelled = {LABELS[s]: (curves["y"], curves[s]) for s in strategies if s in curves}
    base = strategies["base_only"]
    if base.get("auroc") is None:
        rarer, count = _of_one_class(base["n"], base["n_positive"])
        report.paragraph(
            f"No ROC curve for {centre}: its {base['n']} test patients include "
            f"{_few_words(count)} patients {rarer} disease (at least {MIN_PER_CLASS} are "
            "needed), so AUROC is not estimable and a curve would mislead."
        )
    else:
        report.figure(
            roc_figure(labelled, title=f"ROC, {centre}"),
            caption=f"ROC curves on {centre}'s test patients.",
        )
    report.figure(
        calibration_figure(labelled, title=f"Calibration, {centre}"),
        caption="Predicted risk against observed frequency (5 quantile bins).",
    )


def _personalised_section(report: Report, personalised: dict[str, Any]) -> None:
    report.section(
        "Personalised models: one adapter per patient group (diabetes)",
        f"{personalised['data']}. Target: a score of disease progression one year after "
        "baseline (regression); MAE and RMSE are in points of that score. The groups are the "
        "data's two sex codes, 1 and 2; the source does not say which is which. "
        "One shared base model, trained on every group's training patients "
        f"({personalised.get('base', {}).get('n_train', 'all')}); each group's adapter is "
        "trained on that group's patients only. "
        f"All groups are served by one model in one forward pass (largest difference between a "
        f"mixed batch and one-at-a-time: {personalised['mixed_batch_max_abs_diff']:.1e}).",
    )
    rows = []
    base_n = personalised.get("base", {}).get("n_train")
    for group, entry in personalised["groups"].items():
        for name in ("base_only", personalised["method"]):
            m = entry[name]
            rows.append(
                [
                    group,
                    LABELS[name],
                    # the base model trained on every group, the adapter on this one
                    base_n if name == "base_only" and base_n is not None else entry["n_train"],
                    entry["n_test"],
                    fmt_ci(m["mae"], m["mae_ci"], 1),
                    fmt_ci(m["rmse"], m["rmse_ci"], 1),
                    fmt_ci(m.get("r2"), m.get("r2_ci")),
                ]
            )
    report.table(["group", "model", "trained on", "tested on", "MAE", "RMSE", "R²"], rows)
    report.warnings(
        [f"{group}: {e['difference']['sentence']}" for group, e in personalised["groups"].items()]
    )


def _card(report: Report, results: dict[str, Any]) -> None:
    va = results["centres"].get("VA Long Beach", {}).get("bottleneck")
    if va is None:
        return
    report.section("Adapter card: VA Long Beach bottleneck adapter")
    report.card(
        "va_long_beach_bottleneck",
        [
            (
                "Intended use",
                "Research demonstration of site adaptation of a heart-disease risk "
                "model; not for clinical decisions.",
            ),
            ("Base model", "FT-Transformer trained on Cleveland and Hungary patients."),
            ("Training data", f"{va['n_train']} VA Long Beach patients (counts only recorded)."),
            (
                "Test data",
                f"{va['n']} held-out VA Long Beach patients, {va['n_positive']} with disease.",
            ),
            (
                "Metrics",
                f"AUROC {fmt_ci(va.get('auroc'), va.get('auroc_ci'))}; accuracy "
                f"{fmt_ci(va.get('accuracy'), va.get('accuracy_ci'))}; Brier "
                f"{fmt_ci(va.get('brier'), va.get('brier_ci'))}.",
            ),
            (
                "Size",
                f"{grouped(va['trainable_params'])} trainable parameters, "
                f"{grouped(va['adapter_bytes'])} bytes.",
            ),
            (
                "Limitations",
                "One centre, historical data (1980s), small test set: wide intervals. "
                "Re-validate locally before any use; monitor calibration over time.",
            ),
        ],
    )


def flamby_report(results: dict[str, Any]) -> BuiltReport:
    report = Report(
        title="FLamby Fed-Heart-Disease, reproduced, with per-centre adapters",
        subtitle=f"{results['seeds']} seeds; FLamby's split, features and standardisation.",
    )
    lines = _flamby_summary(results)
    report.summary(lines)
    _flamby_average(report, results["average"], results["flamby_published_accuracy"])
    _flamby_centres(report, results["centres"])
    _leave_one_centre_out(report, results["leave_one_centre_out"])
    return BuiltReport(report, lines)


def _flamby_summary(results: dict[str, Any]) -> list[str]:
    """The adapters against FLamby's best published figure, leave-one-centre-out, and how to
    read the two centres whose test sets mislead."""
    average = results["average"]
    published = results["flamby_published_accuracy"]
    best = max(published, key=published.get)
    loco = results["leave_one_centre_out"]["average"]
    base, adapted = average["base_only"], average["bottleneck"]
    return [
        f"Average per-centre accuracy with per-centre bottleneck adapters: "
        f"{_share(adapted)}; the pooled base model alone, without adapters: {_share(base)}"
        f"{_gain(adapted)}.",
        # a trial read 81.1% against FLamby's 73.5% as what the adapters add
        f"FLamby's best published figure ({best}, {published[best]:.1%}; {FLAMBY_SOURCE}) is a "
        f"model without adapters: compare it with the base alone ({base['accuracy']:.1%}); "
        "the difference between those two is the base model's (another architecture and "
        "training), not the adapters'.",
        f"Leave-one-centre-out: a base trained on the other three centres reaches "
        f"{_share(loco['base_only'])}; with an adapter for the held-out centre "
        f"{_share(loco['bottleneck'])}{_gain(loco['bottleneck'])}.",
        *_loco_by_centre(
            results["leave_one_centre_out"].get("centres", {}),
            results.get("one_class_training", {}),
        ),
        *_misleading_centres(results["centres"]),
        *_one_class_training(results.get("one_class_training", {})),
        *(f"Data: {warning}" for warning in results.get("data_warnings", [])),
    ]


#: where FLamby's published accuracies come from, and what they are (its baseline model is a
#: logistic regression; each figure a mean of 5 seeds, published without an interval)
FLAMBY_SOURCE = (
    "du Terrail et al., FLamby, NeurIPS 2022 Datasets and Benchmarks: a logistic regression "
    "on the same split, the mean of 5 seeds, published without an interval"
)


def _loco_by_centre(centres: dict[str, Any], one_class: dict[str, Any]) -> list[str]:
    """Where the leave-one-centre-out adapter's mean accuracy rose and where it fell (the
    average hid a centre made worse: a trial's VA Long Beach, 0.782 to 0.764), and a rise at a
    centre whose training split holds one class: it comes from calling everyone that class."""

    def mean(entry: dict[str, Any], metric: str) -> float | None:
        return (entry.get(metric) or {}).get("mean")

    moves = {"rose": [], "fell": []}
    for centre, strategies in centres.items():
        base, adapted = strategies.get("base_only", {}), strategies.get("bottleneck", {})
        before, after = mean(base, "accuracy"), mean(adapted, "accuracy")
        if before is None or after is None or round(before, 3) == round(after, 3):
            continue
        said = f"{centre} ({before:.3f} to {after:.3f}"
        auroc_before, auroc_after = mean(base, "auroc"), mean(adapted, "auroc")
        if after < before and auroc_before is not None and auroc_after is not None:
            said += f"; AUROC {auroc_before:.3f} to {auroc_after:.3f}"
        moves["rose" if after > before else "fell"].append(said + ")")
    if not moves["fell"]:
        return []
    rose = f"rose at {listed(moves['rose'])} and " if moves["rose"] else ""
    line = (
        f"By centre, leave-one-centre-out accuracy (mean over seeds) {rose}fell at "
        f"{listed(moves['fell'])}: the average hides a centre the adapter made worse."
    )
    lifted = [c for c in one_class if any(m.startswith(f"{c} (") for m in moves["rose"])]
    if lifted:
        line += (f" At {listed(lifted)}, whose training split holds one class, the rise comes "
                 "from calling everyone that class, not from telling patients apart.")  # fmt: skip
    return [line]


def _share(entry: dict[str, Any]) -> str:
    """``81.1% (95% CI 76.0 to 86.0%)``: an average accuracy over the centres with its
    interval over test patients (none in a results.json from before they were computed)."""
    ci = entry.get("accuracy_ci")
    if not ci:
        return f"{entry['accuracy']:.1%}"
    return f"{entry['accuracy']:.1%} (95% CI {ci[0]:.1%} to {ci[1]:.1%})"


def _gain(entry: dict[str, Any]) -> str:
    """``: a change of +1.0 points (95% CI -2.1 to +4.0) on the same test patients, no
    detectable difference`` against the base alone, or nothing where none was computed."""
    versus = entry.get("accuracy_vs_base")
    if not versus:
        return ""
    low, high = (100 * v for v in versus["ci"])
    verdict = {"better": "more right on these patients than the base alone",  # Difference.verdict
               "worse": "fewer right on these patients than the base alone"}.get(
        Difference("accuracy", versus["difference"], tuple(versus["ci"])).verdict,
        "no detectable difference on these patients")  # fmt: skip
    return (f": a change of {100 * versus['difference']:+.1f} points (95% CI {low:+.1f} to "
            f"{high:+.1f}) on the same test patients, {verdict}")  # fmt: skip


def _one_class_training(centres: dict[str, Any]) -> list[str]:
    """A centre whose training split holds one class: what its adapters can learn there."""
    return [
        f"{centre}'s FLamby training split holds {c['n_train']} patients, all "
        f"{'with' if c['disease'] else 'without'} disease: its adapters and its local model "
        "can only learn to lean toward that answer, not to tell patients apart there."
        for centre, c in centres.items()
    ]


def _misleading_centres(centres: dict[str, Any]) -> list[str]:
    """How to read a centre whose test set has (nearly) one class, from its counts: no AUROC
    there, or an accuracy that calling everyone the commoner class already reaches."""
    lines = []
    for centre, strategies in centres.items():
        counts = next(iter(strategies.values()))
        n, positives = counts["n_test"], counts["n_positive"]
        commoner = "disease" if positives >= n - positives else "no disease"
        share = max(positives, n - positives) / n if n else 0.0
        if strategies["base_only"]["auroc"]["mean"] is None:
            rarer, count = _of_one_class(n, positives)
            lines.append(
                f"{centre}'s test set has {n} patients and {_few_words(count)} {rarer} disease "
                f"(at least {MIN_PER_CLASS} are needed): AUROC and balanced accuracy cannot be "
                "estimated there, and its accuracy "
                f"mostly reflects calling everyone '{commoner}'. AUROC and balanced accuracy are "
                "averaged over the other centres."
            )
        elif share >= 0.7:
            lines.append(
                f"{centre}: calling everyone '{commoner}' already gives {share:.0%} accuracy; "
                "read its AUROC and balanced accuracy."
            )
    return lines


def _flamby_average(report: Report, average: dict[str, Any], published: dict[str, float]) -> None:
    """Each strategy's average over the centres, beside FLamby's published accuracies."""
    rows = [
        [
            FLAMBY_LABELS[s],
            fmt_ci(m["accuracy"], m.get("accuracy_ci"), 3),
            "–" if m["auroc"] is None else f"{m['auroc']:.3f}",
            "–" if m["balanced_accuracy"] is None else f"{m['balanced_accuracy']:.3f}",
        ]
        for s, m in average.items()
    ]
    rows += [[f"FLamby published: {k}", f"{v:.3f}", "–", "–"] for k, v in published.items()]
    report.section("Average over the four centres (mean over seeds; 95% CI over test patients; "
                   "FLamby's published rows: the mean of its 5 seeds, no interval)")  # fmt: skip
    report.table(["strategy", *average_columns(average)], rows)


def _flamby_centres(report: Report, centres: dict[str, Any]) -> None:
    """Every strategy on every centre's test patients (mean ± sd over seeds)."""
    report.section("Per centre")
    table = []
    for centre, strategies in centres.items():
        for s, m in strategies.items():
            table.append(
                [
                    centre,
                    FLAMBY_LABELS[s],
                    m["n_test"],  # a whole test set's: exact (small_cells)
                    m["n_positive"],
                    _mean_sd_text(m["accuracy"]),
                    _mean_sd_text(m["auroc"]),
                    _mean_sd_text(m["balanced_accuracy"]),
                ]
            )
    report.table(
        [
            "centre",
            "strategy",
            "test patients",
            "with disease",
            "accuracy (mean ± sd over seeds)",
            "AUROC (mean ± sd)",
            "balanced acc. (mean ± sd)",
        ],
        table,
    )


def _leave_one_centre_out(report: Report, loco: dict[str, Any]) -> None:
    """Per held-out centre: the base trained on the other three, alone and with an adapter."""
    report.section("Leave one centre out: base on three centres, adapter for the fourth")
    report.table(
        [
            "centre",
            "strategy",
            "accuracy (mean ± sd over seeds)",
            "AUROC (mean ± sd)",
            "balanced acc. (mean ± sd)",
        ],
        [
            [
                c,
                LOCO_LABELS[s],
                _mean_sd_text(m["accuracy"]),
                _mean_sd_text(m["auroc"]),
                _mean_sd_text(m["balanced_accuracy"]),
            ]
            for c, strategies in loco["centres"].items()
            for s, m in strategies.items()
        ],
    )


def _mean_sd_text(entry: dict[str, Any]) -> str:
    if entry["mean"] is None:
        return "n/a"
    return f"{entry['mean']:.3f} ± {entry['sd']:.3f}"


def _personalised_sentences(personalised: dict[str, Any]) -> list[str]:
    """The diabetes example, introduced (a trial met "Diabetes, sex 1: ..." after the heart
    centres with no word of what it was), then each group's adapter against the base."""
    groups = personalised["groups"]
    lines = [
        "Diabetes, a second example: a measured outcome (disease progression one year "
        f"after baseline), one base model trained on {personalised['base']['n_train']} "
        f"patients of every group ({listed(list(groups))}), then one "
        f"{personalised['method']} adapter per group, each compared with the base model on "
        "that group's held-out patients."
    ]
    lines += [f"Diabetes, {group}: {entry['difference']['sentence']}"
              for group, entry in groups.items()]  # fmt: skip
    if any(str(group).startswith("sex ") for group in groups):
        lines.append("Diabetes: the data code sex as 1 and 2 and do not document which is "
                     "which (scikit-learn's copy of Efron et al. 2004).")  # fmt: skip
    return lines

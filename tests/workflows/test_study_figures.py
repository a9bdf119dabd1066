"""A study whose held-out test set is too small for a figure says so in the figure's place,
in the report and on the terminal; ``best_per_size`` names no best where the text names none.

A trial's study held out 5 patients: its report said "read their intervals" (there were
none), drew a calibration "curve" of a few patients and a ROC panel without curves, and its
terminal left out the test-set needs the report gave."""

from __future__ import annotations

import html
import json
import re

import pytest

from medadapt.evaluate.report import Report
from medadapt.workflows.study_figures import CALIBRATION_MIN, held_out_needs
from medadapt.workflows.study_report import _apart_cell, _best_cell, study_report
from medadapt.workflows.study_sentences import best_at_largest
from medadapt.workflows.study_summary import aggregate, conclusions

TOO_FEW = "not reported: only 5 patients (at least 10 needed)"
METRICS = ("auroc", "auprc", "accuracy", "balanced_accuracy", "sensitivity", "specificity",
           "brier", "ece")  # fmt: skip


def _text(report: Report) -> str:
    page = re.sub(r'src="data:[^"]+"', "", report.render())
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _metrics(n: int, positives: int, seed: int) -> dict:
    """A point's metrics on ``n`` held-out patients, as metrics.py leaves them: none under 10
    patients, no AUROC with fewer than 5 of a class."""
    metrics: dict = {"n": n, "n_positive": positives, "notes": {}}
    for i, name in enumerate(METRICS):
        value = 0.60 + 0.01 * i + 0.02 * seed
        metrics[name], metrics[f"{name}_ci"] = value, [value - 0.1, value + 0.1]
    if n < 10:
        metrics.update({m: None for m in METRICS} | {f"{m}_ci": None for m in METRICS})
        metrics["notes"] = {"all": TOO_FEW}
    elif min(positives, n - positives) < 5:
        for name in ("auroc", "auprc", "balanced_accuracy", "specificity"):
            metrics[name] = metrics[f"{name}_ci"] = None
            metrics["notes"][name] = (
                f"not reported: {n - positives} negatives among {n} patients; at least 5 are "
                "needed for a meaningful estimate"
            )
    return metrics


def _study(n_test: int, positives: int, n_train: int = 9) -> dict:
    """A study of two strategies over two sizes and two seeds, every point scored on the same
    ``n_test`` held-out patients (ROC and calibration coordinates stored as for any two-class
    test set)."""
    points = []
    for seed in (0, 1):
        for strategy, fraction in (("base_only", 1.0), ("bottleneck", 0.5), ("bottleneck", 1.0)):
            points.append({
                "strategy": strategy, "fraction": fraction, "seed": seed,
                "n_train": 0 if strategy == "base_only" else round(n_train * fraction),
                "trainable_params": 8577, "metrics": _metrics(n_test, positives, seed),
                "curves": {"roc": [[0.0, 0.5, 1.0], [0.0, 0.33, 1.0]],
                           "calibration": [[0.2, 0.6], [0.67, 0.5]]},
                "subgroups": {"sex": {"Male": {"n": n_test, "auroc": None, "notes": {}}}},
            })  # fmt: skip
    sample_size = {
        "task": "binary", "outcome": "prevalence 0.571", "r2": 0.112,
        "r2_label": "Cox-Snell R-squared", "r2_source": "conservative default",
        "r2_basis": "conservative R-squared", "criteria_notes": [], "n_train": n_train,
        "n_test": n_test, "intercepts_aside": True,
        "strategies": {"bottleneck": {"parameters": 8576, "criterion": "i", "n_needed": 647018,
                                      "met": False}},
        "test_needs": {"O/E": 290, "C (assumed 0.7)": 425}, "source": "Riley et al.",
        "from_base": False, "base_given": False,
    }  # fmt: skip
    return {
        "config": {"strategies": ["base_only", "bottleneck"], "fractions": [0.5, 1.0],
                   "seeds": 2, "kind": "tabular", "test_fraction": 0.3, "base": None},
        "task": "binary",
        "data": {"n_source": 597, "n_target_train": n_train, "n_target_test": n_test,
                 "source_groups": ["Cleveland", "Hungary"], "target_group": "VA Long Beach"},
        "sufficiency": [], "sample_size": sample_size, "points": points,
    }  # fmt: skip


def _report(study: dict) -> tuple[str, str]:
    curves = aggregate(study["points"], study["task"])
    built = study_report(study, curves, conclusions(study, curves))
    return _text(built), built.render()


def test_a_test_set_too_small_for_any_figure_is_said_plainly_and_nothing_is_drawn():
    text, page = _report(_study(n_test=5, positives=3))
    assert "read their intervals" not in text
    assert "Bands and intervals in brackets" not in text  # there are none
    assert (
        "What this means: the held-out test set has only 5 patients (at least 10 needed): too "
        "few for any figure, so this study reports no estimate and no interval to read, and a "
        "precise observed/expected ratio and C-statistic (AUROC) would need the numbers above. "
        "Raise --test-fraction (now 0.3), or give more target rows." in text
    )
    assert (
        "No ROC curve, as AUROC could not be estimated: the held-out test set has only 5 "
        "patients (at least 10 needed). A curve from so few would mislead. Raise "
        "--test-fraction (now 0.3), or give more target rows." in text
    )
    assert (
        f"No calibration plot: it needs at least {CALIBRATION_MIN} held-out rows (5 bins of "
        "10), at least 5 of them with the outcome and 5 without; this study holds out 5, fewer "
        "than 5 of them with and without the outcome. A plot from fewer shows a few patients' "
        "outcomes, not how well the predicted risks match. The target group holds 14 rows in "
        "all, fewer than the 50 a calibration plot needs however they are split: give more "
        "target rows." in text
    )
    assert (
        "No learning curve for AUROC, accuracy, balanced accuracy, Brier score and calibration "
        "error (ECE): not estimable at any size, as the held-out test set has only 5 patients "
        "(at least 10 needed)." in text
    )
    assert "No best strategy at any size: no accuracy could be estimated for any strategy" in text
    assert "cannot be told apart from" not in text  # no table of headers alone
    assert "Metrics accuracy: not estimable, as the held-out test set has only 5 patients" in text
    assert "for 0 seeds" not in text
    assert "ROC curves." not in text and "quantile bins" not in text
    assert "AUROC by sex" not in text and "Male 5 n/a n/a" in text  # the table, not the bars
    assert page.count("<img") == 0  # no curve, panel or bar had anything to show


def test_roc_curves_need_auroc_and_the_calibration_plot_its_minimum():
    text, _ = _report(_study(n_test=30, positives=21, n_train=70))
    assert "ROC curves." in text and "No ROC curve" not in text
    assert (
        f"No calibration plot: it needs at least {CALIBRATION_MIN} held-out rows (5 bins of "
        "10), at least 5 of them with the outcome and 5 without; this study holds out 30. A "
        "plot from fewer shows a few patients' outcomes, not how well the predicted risks "
        "match. Raise --test-fraction (now 0.3), or give more target rows." in text
    )
    assert "read their intervals, not the single values" in text  # intervals exist here
    text, _ = _report(_study(n_test=60, positives=45, n_train=140))
    assert "ROC curves." in text and "Observed frequency against predicted risk" in text
    assert "No ROC curve" not in text and "No calibration plot" not in text
    text, _ = _report(_study(n_test=60, positives=57, n_train=140))
    assert (
        "No ROC curve, as AUROC could not be estimated: the held-out test set has 3 negatives "
        "among 60 patients; at least 5 are needed for a meaningful estimate." in text
    )
    assert "this study holds out 60, fewer than 5 of them without the outcome." in text


def test_the_terminal_gives_the_test_set_needs_the_report_gives(tmp_path, capsys):
    from medadapt.cli.study import _finish

    study = _study(n_test=30, positives=21, n_train=70)
    needs = held_out_needs(study)
    assert needs == [
        "Test patients for a 95% CI of width 0.2 (O/E) and 0.1 (C-statistic): O/E: 290; "
        "C (assumed 0.7): 425; this study holds out 30.",
        "What this means: 30 held-out patients are fewer than needed for a precise "
        "observed/expected ratio and C-statistic (AUROC): read their intervals, not the single "
        "values.",
    ]
    _finish(study, tmp_path)
    printed = " ".join(capsys.readouterr().out.split())
    for line in needs:
        assert line in printed
    assert all(line in _text_of(tmp_path / "report.html") for line in needs)
    tiny = _study(n_test=5, positives=3)
    _finish(tiny, tmp_path)
    printed = " ".join(capsys.readouterr().out.split())
    assert held_out_needs(tiny)[0] in printed  # the needs; what it means: the warning's
    assert "warning: nothing could be measured" in printed


def _text_of(path) -> str:
    page = re.sub(r'src="data:[^"]+"', "", path.read_text())
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_best_per_size_names_no_best_where_the_text_says_none_is(tmp_path):
    study = _study(n_test=60, positives=45, n_train=140)
    for point in study["points"]:  # every strategy the same AUROC: none is the best
        point["metrics"]["auroc"] = 0.9375
    curves = aggregate(study["points"], "binary")
    found = conclusions(study, curves)
    assert [(b["best"], b["level_with"]) for b in found["best_per_size"]] == [
        (None, ["base_only", "bottleneck"])
    ] * 2
    assert any("none of them is the best at this size" in s for s in found["sentences"])
    assert best_at_largest(found["best_per_size"]) is None
    assert _best_cell(found["best_per_size"][0]) == (
        "none: the base model without adapter and the bottleneck adapter have the same mean"
    )
    # the next column: not "none" (a trial read it as "apart from all the others")
    assert _apart_cell(found["best_per_size"][0]) == "each other (the same mean)"
    assert _apart_cell({"best": "lora", "indistinguishable_from": []}) == "none"
    # a study.json written before: the leader in best, the others in level_with
    old = {"best": "base_only", "level_with": ["head_only", "bottleneck"]}
    assert _best_cell(old) == (
        "none: the base model without adapter, the head-only adapter and the bottleneck "
        "adapter have the same mean"
    )
    from medadapt.cli.study import _finish

    _finish(study, tmp_path)
    written = json.loads((tmp_path / "study.json").read_text())
    assert all(b["best"] is None for b in written["conclusions"]["best_per_size"])


@pytest.mark.parametrize("n_test", [5, 30])
def test_a_measured_study_keeps_its_reading_of_the_intervals(n_test):
    """The intervals' reading stays where there are intervals to read."""
    text, _ = _report(_study(n_test=n_test, positives=3 if n_test == 5 else 21, n_train=70))
    assert ("Bands and intervals in brackets" in text) is (n_test == 30)


def test_a_study_where_every_strategy_ranks_backwards_says_so_first():
    """A trial's image study named the head-only adapter "best" at AUROC 0.27, every strategy
    below 0.5 (the site's images unlike the base's), with nothing said of it."""
    study = _study(n_test=60, positives=45, n_train=140)
    for i, point in enumerate(study["points"]):
        point["metrics"]["auroc"] = 0.26 + 0.01 * (i % 3)
    found = conclusions(study, aggregate(study["points"], "binary"))
    assert found["sentences"][0] == found["backwards"]
    assert found["backwards"].startswith(
        "Warning: every strategy ranks the target's test rows worse than chance (each mean "
        "AUROC below 0.5, at every size; the highest 0.28): the labels or the positive class "
        "may be swapped, or this site's rows differ from those the base model trained on"
    )
    for point in study["points"]:  # one strategy above chance: nothing said
        if point["strategy"] == study["points"][0]["strategy"]:
            point["metrics"]["auroc"] = 0.55
    assert conclusions(study, aggregate(study["points"], "binary"))["backwards"] is None

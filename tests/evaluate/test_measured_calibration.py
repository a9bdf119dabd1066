"""A measured value's calibration plot: binned means as numpy computes them, drawn only from
enough patients, and in the evaluate and adapt reports (before, a regression report had no
calibration plot and did not say why)."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import numpy as np
import pytest

from medadapt.evaluate.report import measured_calibration as mc
from medadapt.workflows.reports import adapt_report, evaluation_report


def test_the_bins_are_fifths_of_the_predictions_with_each_bin_s_means_and_interval():
    rng = np.random.default_rng(1)
    predicted = rng.normal(150, 50, 103)
    measured = predicted + rng.normal(0, 30, 103)
    x, y, half = mc.binned_means(measured, predicted)
    order = np.argsort(predicted)
    sizes = [21, 21, 21, 20, 20]  # 103 in five: the first three take one more
    edges = np.cumsum([0, *sizes])
    for i in range(5):
        members = order[edges[i] : edges[i + 1]]
        assert x[i] == pytest.approx(predicted[members].mean())
        assert y[i] == pytest.approx(measured[members].mean())
        se = measured[members].std(ddof=1) / np.sqrt(len(members))
        assert half[i] == pytest.approx(1.96 * se)
    assert np.all(np.diff(x) > 0)


def test_too_few_patients_for_five_bins_of_ten_draw_nothing_and_say_why():
    assert mc.too_few_for_bins(49, "patients") == (
        "only 49 patients (at least 50 needed for 5 bins of 10)"
    )
    assert mc.too_few_for_bins(50, "patients") is None
    figure = mc.measured_calibration_figure(
        {"model": (np.arange(30.0), np.arange(30.0))}, {"model": 1.0}, title="t"
    )
    [axes] = figure.axes
    assert not axes.lines and "not estimable: only 30 patients" in axes.texts[0].get_text()


def test_each_model_s_slope_line_goes_through_its_means_at_its_calibration_slope():
    rng = np.random.default_rng(2)
    measured = rng.normal(150, 50, 80)
    squeezed = 150 + 0.5 * (measured - 150)  # predictions squeezed toward the average
    figure = mc.measured_calibration_figure(
        {"adapter": (measured, squeezed)}, {"adapter": 2.0}, title="t"
    )
    [slope_line] = [line for line in figure.axes[0].lines if line.get_linestyle() == ":"]
    xs, ys = slope_line.get_data()
    assert (ys[1] - ys[0]) / (xs[1] - xs[0]) == pytest.approx(2.0)
    assert ys[0] - measured.mean() == pytest.approx(2.0 * (xs[0] - squeezed.mean()))
    assert slope_line.get_label() == "adapter: slope 2.00"


def _text(report) -> str:
    page = report.render()
    figures = page.count('src="data:image/png')
    return figures, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _regression_result(n: int) -> dict:
    return {"n": n, "task": "regression", "mae": 30.0, "mae_ci": [25.0, 35.0],
            "calibration_slope": 0.9, "calibration_slope_ci": [0.7, 1.1], "notes": {},
            "rows_used": f"{n} rows", "subgroups": {}, "kind": "tabular"}  # fmt: skip


@pytest.mark.parametrize("n", [40, 60])
def test_the_evaluate_and_adapt_reports_draw_it_or_say_why_not(n):
    rng = np.random.default_rng(3)
    y = rng.normal(150, 50, n)
    curves = {"y": y, "scores": y + rng.normal(0, 20, n)}
    figures, text = _text(evaluation_report(_regression_result(n), curves))
    summary = {
        "name": "b_bottleneck", "method": "bottleneck", "task": "regression", "new_classes": [],
        "classes": [], "trainable_params": 8577, "metrics": _regression_result(n),
        "data_summary": {"group": "B", "n_train": 99, "n_test": n},
    }  # fmt: skip
    adapt_figures, adapt_text = _text(adapt_report(summary, curves, SimpleNamespace(noun="rows")))
    if n < 50:
        assert figures == adapt_figures == 0
        assert f"No calibration plot: only {n} rows (at least 50 needed for 5 bins of 10)." in text
        assert "No calibration plot: only 40 rows" in adapt_text
    else:
        assert figures == adapt_figures == 1
        assert "No calibration plot" not in text + adapt_text
        assert "Calibration: the scored rows in 5 bins of the predictions" in text
        assert "Calibration: the scored rows in 5 bins" in adapt_text


def test_a_binary_report_on_too_few_rows_says_why_there_is_no_calibration_plot():
    """A trial's evaluate report on 27 rows drew an empty calibration plot captioned
    "Predicted risk against observed frequency", as if a curve were there."""
    from medadapt.evaluate.metrics import binary_metrics

    rng = np.random.default_rng(0)
    y = np.array([1] * 9 + [0] * 18)
    scores = np.clip(0.3 + 0.4 * y + rng.normal(0, 0.15, 27), 0.01, 0.99)
    result = {**binary_metrics(y, scores, n_boot=50), "task": "binary", "adapter": None,
              "rows_used": "27 rows", "subgroups": {}, "kind": "tabular"}  # fmt: skip
    figures, text = _text(evaluation_report(result, {"y": y, "scores": scores}))
    assert figures == 1  # the ROC curve alone
    assert ("No calibration plot: only 27 rows (at least 50 needed for 5 bins of 10). The "
            "Brier score, the calibration error and observed/expected in the table above say "
            "how the risks sit against what happened, where reported.") in text  # fmt: skip
    assert "Predicted risk against observed frequency" not in text


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_the_adapt_report_draws_the_base_model_beside_the_adapter(task, monkeypatch):
    """A trial's adapt report drew the adapter's ROC curve alone and no calibration plot,
    where ``evaluate``'s report of the same adapter draws both models' curves and calibration:
    now both reports draw the base model beside the adapter (the same helpers)."""
    from medadapt.workflows import reports

    drawn = []
    for name in ("roc_figure", "calibration_figure"):
        real = getattr(reports, name)
        monkeypatch.setattr(reports, name, lambda pairs, _real=real, _name=name, **kw: (
            drawn.append((_name, list(pairs))) or _real(pairs, **kw)))  # fmt: skip
    real_measured = reports._measured_calibration
    monkeypatch.setattr(reports, "_measured_calibration", lambda report, curves, slopes, noun: (
        drawn.append(("measured", list(curves), slopes))
        or real_measured(report, curves, slopes, noun)))  # fmt: skip
    rng = np.random.default_rng(5)
    if task == "binary":
        y = np.array([0, 1] * 30)
        metrics = {"n": 60, "auroc": 0.8, "auroc_ci": [0.7, 0.9], "notes": {}}
        before = {**metrics, "auroc": 0.7}
    else:
        y = rng.normal(150, 50, 60)
        metrics = {**_regression_result(60), "calibration_slope": 0.9}
        before = {**_regression_result(60), "calibration_slope": 1.2}
    scores = np.clip(y + rng.normal(0, 0.3, 60), 0.01, 0.99) if task == "binary" else y + 5
    summary = {
        "name": "b_bottleneck", "method": "bottleneck", "task": task, "new_classes": [],
        "classes": ["0", "1"] if task == "binary" else [], "trainable_params": 8577,
        "metrics": metrics, "base_metrics": before,
        "data_summary": {"group": "B", "n_train": 99, "n_test": 60},
    }  # fmt: skip
    curves = {"y": y, "scores": scores, "base_scores": scores[::-1].copy()}
    figures, text = _text(adapt_report(summary, curves, SimpleNamespace(noun="rows")))
    both = ["base model", "with the adapter"]
    if task == "binary":
        assert drawn == [("roc_figure", both), ("calibration_figure", both)] and figures == 2
        assert "Predicted risk against observed frequency." in text
    else:
        assert drawn == [("measured", both, {"base model": 1.2, "with the adapter": 0.9})]
    drawn.clear()  # the base's scores unknown (an adapter adding classes): the adapter alone
    adapt_report(summary, {"y": y, "scores": scores}, SimpleNamespace(noun="rows"))
    assert all(names == ["model"] for _, names, *_ in drawn) and drawn


def test_no_roc_curve_is_drawn_where_the_auroc_is_withheld():
    """A trial's adapt report said "AUROC not reported: only 9 patients" and drew the ROC
    curve of those 9, below the diagonal: the figure the table withheld, by eye."""
    y = np.array([0, 1] * 10)
    scores = np.linspace(0.9, 0.1, 20)
    withheld = {
        "n": 20,
        "n_positive": 10,
        "threshold": 0.5,
        "auroc": None,
        "notes": {
            "auroc": "not reported: only 9 patients (21 images; at least 10 patients needed)"
        },
    }
    summary = {
        "name": "b", "method": "bottleneck", "task": "binary", "new_classes": [],
        "classes": ["normal", "nodule"], "trainable_params": 8577, "metrics": withheld,
        "data_summary": {"group": "B", "n_train": 40, "n_test": 20},
    }  # fmt: skip
    figures, text = _text(adapt_report(summary, {"y": y, "scores": scores},
                                       SimpleNamespace(noun="images")))  # fmt: skip
    assert figures == 0 and "ROC curve on the held-out" not in text
    assert ("No ROC curve: the AUROC is not reported (only 9 patients (21 images; at least 10 "
            "patients needed)), and a curve drawn on these images would show what the figure "
            "withholds.") in text  # fmt: skip
    result = {**withheld, "task": "binary", "adapter": None, "rows_used": "20 images",
              "subgroups": {}, "kind": "image"}  # fmt: skip
    figures, text = _text(evaluation_report(result, {"y": y, "scores": scores}))
    assert "No ROC curve: the AUROC is not reported" in text and "ROC curve." not in text

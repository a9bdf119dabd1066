"""Reports open in headless Chromium: every image loads, no console errors."""

from __future__ import annotations

import numpy as np
import pytest

from medadapt.evaluate.metrics import binary_metrics
from medadapt.evaluate.report import Report
from medadapt.evaluate.report.plots import calibration_figure, metric_bars, roc_figure
from tests.evaluate.browser import open_page, require_browser


@pytest.mark.browser
def test_a_report_renders_with_all_images_and_no_console_errors(tmp_path):
    require_browser()
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80)
    score = np.clip(0.35 * y + rng.normal(0.35, 0.2, 80), 0, 1)
    metrics = binary_metrics(y, score, n_boot=200)
    report = Report(title="Browser check", subtitle="synthetic scores")
    report.summary(["A plain-language line with <angle brackets> & ampersands."])
    report.table(["metric", "value"], [["AUROC", metrics["auroc"]]])
    report.figure(roc_figure({"model": (y, score)}, title="ROC"), caption="ROC")
    report.figure(calibration_figure({"model": (y, score)}, title="Cal"), caption="Calibration")
    report.figure(
        metric_bars({"site A": {"model": metrics}}, metric="auroc", title="bars"), caption="bars"
    )
    path = report.write(tmp_path / "report.html")

    page = open_page(path, tmp_path / "report.png")
    assert page["title"] == "Browser check"
    assert len(page["images"]) == 3
    assert all(complete and width > 0 for complete, width in page["images"])
    errors = [entry for entry in page["console"] if entry["level"] == "SEVERE"]
    assert errors == []
    assert (tmp_path / "report.png").stat().st_size > 10_000

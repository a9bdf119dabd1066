"""The study report's calibration table: a trial's study ranked its strategies by AUROC and
showed no calibration, though the base and both adapters had slopes near 0.3."""

from __future__ import annotations

import html
import re

import pytest

from medadapt.evaluate.report import Report
from medadapt.workflows.study_calibration import calibration_rows, calibration_section


def _point(strategy: str, seed: int, slope, slope_ci, oe, oe_ci) -> dict:
    return {"strategy": strategy, "seed": seed, "fraction": 1.0,
            "metrics": {"calibration_slope": slope, "calibration_slope_ci": slope_ci,
                        "oe_ratio": oe, "oe_ratio_ci": oe_ci}}  # fmt: skip


POINTS = [
    _point("lora", 0, 0.30, [0.1, 0.7], 1.00, [0.85, 1.15]),
    _point("lora", 1, 0.36, [0.1, 0.9], 0.96, [0.80, 1.12]),
    _point("base_only", 0, 0.28, [-0.12, 0.75], 1.40, [1.10, 1.70]),
    _point("scratch_local", 0, 0.5, [0.2, 0.8], 1.0, [0.8, 1.2]),
    _point("scratch_local", 1, 0.9, [0.6, 1.3], 1.0, [0.8, 1.2]),  # one seed holds 1
]


def test_each_strategy_s_mean_over_seeds_with_its_mean_interval_and_what_every_seed_says():
    rows = {row[0]: row[1:] for row in calibration_rows(POINTS, "binary")}
    assert list(rows) == ["base model without adapter", "LoRA adapter",
                          "new model on the target data only"]  # fmt: skip
    assert rows["LoRA adapter"] == ["0.33 (0.10–0.80)", "0.98 (0.82–1.14)", "risks too extreme"]
    assert rows["base model without adapter"][2] == ("risks too extreme; too few events predicted")
    assert rows["new model on the target data only"][0] == "0.70 (0.40–1.05)"
    # in one seed of two: said with how many (a trial read a base's O/E of 1.28 (1.07-1.54)
    # left unflagged beside "risks too extreme")
    assert rows["new model on the target data only"][2] == "risks too extreme (in 1 of 2 seeds)"


def test_a_strategy_without_a_slope_says_n_a_and_multiclass_has_no_section():
    points = [_point("head_only", 0, None, None, 1.0, [0.8, 1.2])]
    assert calibration_rows(points, "binary") == [["head-only adapter", "n/a", "1.00 (0.80–1.20)",
                                                   "calibration slope n/a: not reported for any "
                                                   "seed"]]  # fmt: skip
    # why, as the points recorded it (a trial's report showed "n/a" with an empty notes cell)
    points[0]["metrics"]["notes"] = {"calibration_slope": "not reported: the predictions "
                                     "separate these patients perfectly, so no slope can be "
                                     "fitted"}  # fmt: skip
    assert calibration_rows(points, "binary")[0][-1] == (
        "calibration slope n/a: the predictions separate these patients perfectly, so no "
        "slope can be fitted"
    )
    report = Report(title="t")
    calibration_section(report, POINTS, "multiclass", "all rows", "auroc")
    assert "Calibration with" not in report.render()


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_the_section_says_the_ranking_was_by_the_study_s_metric_alone(task):
    points = POINTS if task == "binary" else [
        {"strategy": "lora", "seed": 0, "fraction": 1.0,
         "metrics": {"calibration_slope": 1.6, "calibration_slope_ci": [1.2, 2.0],
                     "calibration_in_the_large": 14.2,
                     "calibration_in_the_large_ci": [6.0, 22.0]}}]  # fmt: skip
    report = Report(title="t")
    metric = "auroc" if task == "binary" else "mae"
    calibration_section(report, points, task, "all target training rows (140 rows, 100%)", metric)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", report.render())).split())
    ranked, says = (("AUROC", "how well a model orders the patients") if task == "binary" else
                    ("MAE", "how far a model's predictions are from the measured values on "
                            "average"))  # fmt: skip
    assert (  # a trial's regression study: "MAE alone, which says how well a model orders"
        "Calibration with all target training rows (140 rows, 100%) The strategies above are "
        f"ranked by {ranked} alone, which says {says}, not whether"
    ) in text
    if task == "regression":
        assert ("LoRA adapter 1.60 (1.20–2.00) 14.2 (6.0–22.0) predictions squeezed to the "
                "average; predicted too low") in text  # fmt: skip


def test_a_slope_wholly_below_0_reads_as_risks_run_opposite_not_too_extreme():
    """A trial's slope of -7.3 (-15.3 to -2.9) was read "too extreme" in the study's table,
    as evaluate read it: a slope below 0 is a ranking run backwards."""
    points = [_point("lora", 0, -7.3, [-15.3, -2.9], 1.0, [0.9, 1.1]),
              _point("lora", 1, -5.0, [-9.0, -1.0], 1.0, [0.9, 1.1]),
              _point("head_only", 0, -2.0, [-4.0, -0.5], 1.0, [0.9, 1.1]),
              _point("head_only", 1, 0.4, [0.1, 0.8], 1.0, [0.9, 1.1])]  # fmt: skip
    rows = {row[0]: row[-1] for row in calibration_rows(points, "binary")}
    assert rows["LoRA adapter"] == "risks run opposite to the outcomes"
    assert rows["head-only adapter"] == (
        "risks run opposite to the outcomes (in 1 of 2 seeds); risks too extreme (in 1 of 2 seeds)"
    )

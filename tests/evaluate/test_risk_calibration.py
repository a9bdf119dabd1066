"""A risk model's calibration as Riley et al.'s validation criteria measure it: the
observed/expected ratio and the logistic calibration slope, each with its bootstrap interval
and a note when the interval excludes 1 (check-data says how many patients make them
precise; now every evaluation reports them)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.metrics import METRIC_NAMES, binary_metrics


def _cohort(n: int = 400, seed: int = 0):
    """Outcomes drawn from the risks themselves: a perfectly calibrated model."""
    rng = np.random.default_rng(seed)
    log_odds = rng.normal(-0.5, 1.2, n)
    risk = 1 / (1 + np.exp(-log_odds))
    return (rng.random(n) < risk).astype(int), log_odds, risk


def test_the_slope_is_scikit_learn_s_unpenalised_logistic_fit_in_every_resample():
    y, log_odds, _ = _cohort()
    fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=1000).fit(log_odds[:, None], y)
    intercept, slope = bs.weighted_logistic_calibration(np.ones((1, len(y))), y * 1.0, log_odds)
    assert slope[0] == pytest.approx(fit.coef_[0][0], abs=1e-7)
    assert intercept[0] == pytest.approx(fit.intercept_[0], abs=1e-7)
    W = bs.resample_weights(len(y), 5, 3)
    _, slopes = bs.weighted_logistic_calibration(W, y * 1.0, log_odds)
    for w, got in zip(W, slopes, strict=True):
        weighted = LogisticRegression(C=np.inf, tol=1e-12, max_iter=1000).fit(
            log_odds[:, None], y, sample_weight=w
        )
        assert got == pytest.approx(weighted.coef_[0][0], abs=1e-6)
    separated = (log_odds > 0).astype(float)
    assert np.isnan(bs.weighted_logistic_calibration(np.ones((1, 400)), separated, log_odds)[1][0])


def test_a_calibrated_model_has_o_e_and_slope_near_1_and_no_note():
    y, _, risk = _cohort()
    m = binary_metrics(y, risk)
    assert METRIC_NAMES["binary"][-2:] == ("oe_ratio", "calibration_slope")
    assert m["oe_ratio"] == pytest.approx(y.sum() / risk.sum())
    low, high = m["oe_ratio_ci"]
    assert low < 1 < high and m["calibration_slope_ci"][0] < 1 < m["calibration_slope_ci"][1]
    assert "oe_ratio" not in m["notes"] and "calibration_slope" not in m["notes"]


def test_risks_too_low_and_too_extreme_are_said_in_words():
    y, log_odds, risk = _cohort()
    low = binary_metrics(y, risk * 0.6)
    assert low["oe_ratio"] == pytest.approx(y.sum() / (risk * 0.6).sum())
    assert low["notes"]["oe_ratio"] == (
        f"the model predicts too few events: {y.sum()} observed against "
        f"{(risk * 0.6).sum():.1f} expected from its risks (the interval excludes 1); its risks "
        "are too low on average"
    )
    extreme = binary_metrics(y, 1 / (1 + np.exp(-2.5 * log_odds)))
    assert extreme["calibration_slope"] == pytest.approx(0.42, abs=0.01)
    assert extreme["calibration_slope_ci"][1] < 1
    assert extreme["notes"]["calibration_slope"] == (
        "the predicted risks are too extreme (slope below 1, the interval excludes 1): high "
        "risks overstated and low ones understated, as a model fitted too closely to its "
        "training patients does, or one applied to patients unlike them (another site or case "
        "mix)"  # not overfitting alone: at a new site, case mix (a reviewer)
    )
    unrelated = binary_metrics(y, np.random.default_rng(5).permutation(risk))
    low, high = unrelated["calibration_slope_ci"]
    assert low <= 0 <= high  # risks shuffled: no relation, not "too extreme" (a trial's -0.0)
    assert unrelated["notes"]["calibration_slope"] == (
        "the outcomes do not follow the predicted risks here (the interval reaches 0): a higher "
        "risk is not shown to mean more events among these patients"
    )
    moderate = binary_metrics(y, 1 / (1 + np.exp(-0.4 * log_odds)))
    assert moderate["calibration_slope"] == pytest.approx(2.6, abs=0.1)
    assert moderate["notes"]["calibration_slope"].startswith("the predicted risks are too moderate")


def test_too_few_of_a_class_or_a_perfect_separation_reports_no_slope_and_says_why():
    y = np.array([0] * 30 + [1] * 3)
    m = binary_metrics(y, np.linspace(0.05, 0.6, 33))
    assert m["calibration_slope"] is None and m["oe_ratio"] is not None
    assert m["notes"]["calibration_slope"] == m["notes"]["auroc"]
    y = np.array([0] * 10 + [1] * 10)
    perfect = binary_metrics(y, np.r_[np.linspace(0.05, 0.4, 10), np.linspace(0.6, 0.95, 10)])
    assert perfect["calibration_slope"] is None
    assert perfect["notes"]["calibration_slope"] == (
        "not reported: the predictions separate these patients perfectly, so no slope can be fitted"
    )


def test_the_ratio_is_shown_with_the_events_behind_it():
    from medadapt.evaluate.report.formatting import fmt_metric

    y, _, risk = _cohort()
    m = binary_metrics(y, risk)
    low, high = m["oe_ratio_ci"]
    assert fmt_metric(m, "oe_ratio") == (
        f"{m['oe_ratio']:.3f} ({low:.3f}–{high:.3f}); {y.sum()} observed, {risk.sum():.1f} expected"
    )
    assert (
        fmt_metric({**m, "n_positive": None}, "oe_ratio")
        == f"{m['oe_ratio']:.3f} ({low:.3f}–{high:.3f})"
    )


def test_near_certain_right_risks_are_not_called_too_few_events():
    """115 events, 115.0 expected: with risks of 0.9999 and 0.0001 every resample's ratio is a
    hair above 1, so the interval "excluded 1" and the note said the model predicts too few
    events. Half an event apart or less is no miscalibration."""
    y = np.array([1] * 115 + [0] * 185)
    m = binary_metrics(y, np.where(y == 1, 0.9999, 0.0001))
    assert m["oe_ratio"] == pytest.approx(115 / (115 * 0.9999 + 185 * 0.0001))
    assert "oe_ratio" not in m["notes"]

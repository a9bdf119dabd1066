"""Recalibration in the large recovers a known baseline shift, matches the observed outcome
rate by construction, leaves the ranking (AUROC) alone, and agrees between its binary and its
two-class form."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.metrics import roc_auc_score

from medadapt.errors import DataError
from medadapt.evaluate.recalibration import fit_in_the_large


def test_binary_recovers_a_known_intercept_and_keeps_the_ranking():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1.5, 40_000)
    y = rng.random(z.size) < expit(z + 1.3)  # the site's risk is higher than the model says
    p = expit(z)
    shift = fit_in_the_large(p, y.astype(int), "binary")
    assert float(shift.offset) == pytest.approx(1.3, abs=0.04)  # the MLE's sampling error
    recalibrated = shift.apply(p)
    assert recalibrated.mean() == pytest.approx((y.sum() + 0.5) / (y.size + 1), abs=1e-9)
    assert roc_auc_score(y, recalibrated) == pytest.approx(roc_auc_score(y, p), abs=1e-12)


def test_classes_recover_known_offsets_and_two_classes_equal_the_binary_form():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 1, (30_000, 3))
    truth = np.array([0.8, -0.5, -0.3])
    risk = softmax(logits + truth, axis=1)
    y = np.array([rng.choice(3, p=row) for row in risk])
    shift = fit_in_the_large(softmax(logits, axis=1), y, "classes")
    assert shift.offset == pytest.approx(truth - truth.mean(), abs=0.05)
    shares = (np.bincount(y, minlength=3) + 0.5) / (y.size + 1.5)
    assert shift.apply(softmax(logits, axis=1)).mean(axis=0) == pytest.approx(shares, abs=1e-9)
    p = expit(logits[:200, 0])
    y2 = (rng.random(200) < expit(logits[:200, 0] - 0.7)).astype(int)
    binary = fit_in_the_large(p, y2, "binary")
    two = fit_in_the_large(np.column_stack([1 - p, p]), y2, "classes")
    assert two.offset[1] - two.offset[0] == pytest.approx(float(binary.offset), abs=1e-7)
    np.testing.assert_allclose(two.apply(np.column_stack([1 - p, p]))[:, 1], binary.apply(p),
                               atol=1e-8)  # fmt: skip


def test_regression_adds_the_mean_residual_and_one_class_sites_stay_finite():
    shift = fit_in_the_large(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.5, 4.5]), "regression")
    assert float(shift.offset) == pytest.approx(1.0)
    assert shift.apply(np.array([0.0]))[0] == pytest.approx(1.0)
    everyone_ill = fit_in_the_large(np.full(30, 0.4), np.ones(30, int), "binary")
    assert np.isfinite(everyone_ill.offset) and everyone_ill.apply(np.array([0.4]))[0] == (
        pytest.approx(30.5 / 31)
    )
    with pytest.raises(DataError, match="at least one patient"):
        fit_in_the_large(np.array([]), np.array([]), "binary")
    with pytest.raises(DataError, match="not numbers"):
        fit_in_the_large(np.array([0.2, np.nan]), np.array([0, 1]), "binary")

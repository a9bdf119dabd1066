"""Paired comparisons: the note for a comparison that cannot be made counts the right unit."""

from __future__ import annotations

import numpy as np
import pytest

from medadapt.evaluate.paired_difference import paired_difference


def test_too_small_a_class_is_counted_in_the_unit_given():
    y = np.array([0] * 20 + [1] * 1)
    a, b = np.linspace(0, 1, 21), np.linspace(1, 0, 21)
    images = paired_difference(y, a, b, unit="image", n_boot=20)
    assert (images.value, images.note) == (None, "1 image in the smaller class")
    patients = paired_difference(np.zeros(21, dtype=int), a, b, n_boot=20)
    assert patients.note == "0 patients in the smaller class"
    assert patients.sentence("adapter", "base") == (
        "adapter vs base: AUROC cannot be compared (0 patients in the smaller class)."
    )


def test_a_verdict_says_at_what_a_model_is_better():
    """ "the bottleneck adapter is better" on a Brier score, where every model called everyone
    positive, read as a better model; it only gives risks closer to what happened."""
    from medadapt.evaluate.difference import Difference

    brier = Difference("brier", -0.021, (-0.04, -0.005))
    assert brier.sentence("the bottleneck adapter", "the base model").endswith(
        ": the bottleneck adapter gives risks closer to what happened (lower Brier score)."
    )
    auroc = Difference("auroc", -0.05, (-0.09, -0.01))
    assert auroc.verdict_in_words() == "ranks patients by risk worse"


def test_a_macro_auroc_over_classes_is_no_ranking_by_risk():
    """A trial's 3-class image adapter "ranks patients by risk better": class probabilities
    of three classes have no one risk to rank by."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    good = np.eye(3)[y] * 0.6 + rng.random((90, 3)) * 0.4
    weak = rng.random((90, 3))
    better = paired_difference(y, good / good.sum(1, keepdims=True),
                               weak / weak.sum(1, keepdims=True), n_boot=200)  # fmt: skip
    assert better.of_classes and better.verdict == "better"
    assert better.verdict_in_words() == "tells the classes apart better"
    binary = paired_difference(y[:60] // 1, good[:60, 1], weak[:60, 1], n_boot=50)
    assert not binary.of_classes


def test_an_image_model_s_verdict_speaks_of_images_not_patients():
    """A trial's image adapter "ranks patients by risk better" (of images, each its own
    patient where no patient column is recorded)."""
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 40)
    sharp, vague = y + rng.normal(0, 0.3, 80), y + rng.normal(0, 2.0, 80)
    on_images = paired_difference(y, sharp, vague, n_boot=200, unit="image")
    assert on_images.verdict_in_words() == "ranks images by risk better"
    assert paired_difference(y, sharp, vague, n_boot=200).verdict_in_words() == (
        "ranks patients by risk better")  # fmt: skip
    accuracy = paired_difference(y, sharp > 0.5, vague > 0.5, metric="accuracy", n_boot=200,
                                 unit="image")  # fmt: skip
    assert accuracy.verdict_in_words() == "classifies more images correctly at the threshold"


def test_versus_base_says_whether_the_adapter_helped_on_the_same_patients():
    from sklearn.metrics import roc_auc_score

    from medadapt.evaluate.versus_base import versus_base

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    good = y + rng.normal(0, 0.5, 200)  # ranks well
    noise = rng.normal(0, 1, 200)  # ranks at random
    worse = versus_base(y, noise, good, metric="auroc", n_boot=200)
    assert worse["difference"] == pytest.approx(roc_auc_score(y, noise) - roc_auc_score(y, good))
    assert worse["verdict"] == "worse" and worse["ci"][1] < 0
    assert worse["in_words"] == (
        f"Paired on the same patients, the adapter changes AUROC by {worse['difference']:+.3f} "
        f"(95% CI {worse['ci'][0]:+.3f} to {worse['ci'][1]:+.3f}): the adapter ranks patients "
        "by risk worse. Keep the base model for these patients, or adapt again on more of them."
    )
    same = versus_base(y, good, good, metric="auroc", n_boot=200)
    assert same["difference"] == 0.0 and same["verdict"] == "no detectable difference"
    assert same["in_words"] == (
        "Paired on the same patients, the adapter puts these patients in exactly the order the "
        "base model does, so their AUROC is the same on any of them, however many: it changes "
        "the predicted probabilities, not their order. Judge it by calibration (Brier score, "
        "observed/expected) and by sensitivity and specificity at the threshold, against the "
        "base model's on the same patients, side by side in the HTML report (--report)."
    )
    rescaled = versus_base(y, 1 / (1 + np.exp(-good)), good, metric="auroc", n_boot=200)
    assert rescaled["in_words"] == same["in_words"]  # recalibrated: the same order
    lower = versus_base(y.astype(float), good, noise, metric="mae", unit="image", n_boot=200)
    assert lower["verdict"] == "better"  # a lower MAE is the better model
    mae_said, error_said = lower["in_words"].split(". ", 1)  # the MAE, then the mean error
    assert mae_said.endswith("the adapter predicts closer to the measured values")
    assert error_said == lower["mean_error"]["in_words"]  # y - noise averages y's 0.5
    assert lower["mean_error"]["verdict"] == "removed"
    in_mg = versus_base(y * 100.0, good * 100, noise * 100, metric="mae", n_boot=200)
    assert 10 <= max(abs(v) for v in in_mg["ci"]) < 100  # so: three significant figures
    said = f"changes MAE by {in_mg['difference']:+.1f} (95% CI {in_mg['ci'][0]:+.1f} to "
    assert said in in_mg["in_words"]  # not +31.584's noise
    errors = rng.normal(0, 150, 200)  # an adapter a quarter-unit further from every patient
    farther = np.sign(errors) * (np.abs(errors) + 0.25 + rng.uniform(0, 0.02, 200))
    shifted = versus_base(y, y + farther, y + errors, metric="mae", n_boot=200)
    assert shifted["verdict"] == "worse" and shifted["ci"][1] > shifted["ci"][0]  # a real CI
    assert "in every resample" not in shifted["in_words"]  # though its ends may round alike
    keep = "Keep the base model for these patients, or adapt again on more of them."
    assert shifted["in_words"].endswith(keep)
    withheld = versus_base(y[:8], good[:8], noise[:8], metric="auroc",
                           withheld="only 8 patients (at least 10 needed)")  # fmt: skip
    assert (withheld["difference"], withheld["verdict"]) == (None, "not estimable")
    assert withheld["in_words"] == (
        "The adapter and the base model cannot be compared on AUROC (only 8 patients (at least "
        "10 needed))."
    )
    one_class = versus_base(np.ones(30, dtype=int), good[:30], noise[:30], metric="auroc")
    assert (one_class["difference"], one_class["ci"], one_class["verdict"]) == (
        None, None, "not estimable",
    )  # fmt: skip
    assert one_class["in_words"] == (
        "The adapter and the base model cannot be compared on AUROC (0 patients in the smaller "
        "class)."
    )


def test_a_difference_in_the_label_s_unit_keeps_three_significant_figures():
    from medadapt.evaluate.difference import Difference

    mae = Difference("mae", 4.212, (0.2, 8.381))  # the demo's diabetes line read +4.212
    assert mae.sentence("the bottleneck adapter", "the base model") == (
        "the bottleneck adapter vs the base model: MAE +4.21 (95% CI +0.20 to +8.38; a higher "
        "MAE is worse): the bottleneck adapter predicts further from the measured values."
    )
    auroc = Difference("auroc", 0.0123, (-0.01, 0.03))
    assert "AUROC +0.012 (95% CI -0.010 to +0.030)" in auroc.sentence("a", "b")


def test_several_classes_are_compared_on_macro_auroc_as_scikit_learn_computes_it():
    """Did the adapter help on a graded outcome? The paired difference of the macro
    one-vs-rest AUROC (each class against the rest, averaged), as scikit-learn's
    ``roc_auc_score(multi_class="ovr")``; a class too small to rank is counted in the note."""
    from sklearn.metrics import roc_auc_score

    from medadapt.evaluate.versus_base import versus_base

    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 240)
    informed = np.eye(4)[y] * 2 + rng.normal(0, 1, (240, 4))
    good = np.exp(informed) / np.exp(informed).sum(axis=1, keepdims=True)
    noise = rng.dirichlet(np.ones(4), 240)
    better = versus_base(y, good, noise, metric="auroc", n_boot=200)
    expected = roc_auc_score(y, good, multi_class="ovr") - roc_auc_score(
        y, noise, multi_class="ovr"
    )
    assert better["difference"] == pytest.approx(expected)
    assert better["verdict"] == "better" and better["ci"][0] > 0
    assert better["in_words"].endswith("the adapter tells the classes apart better.")
    rare = np.where(np.arange(240) < 3, 4, y)  # a fifth class of 3 patients
    five = np.column_stack([good * 0.9, np.full(240, 0.1)])
    small = paired_difference(rare, five, five[::-1], n_boot=20)
    assert (small.value, small.note) == (None, "3 patients in the smallest class")


def test_a_difference_without_spread_is_no_precise_zero():
    """ma.paired_difference(y, p, p) said "AUROC +0.000 (95% CI +0.000 to +0.000): no
    detectable difference", read as "precisely equal"; the command line said it right."""
    y = np.array([0, 1] * 15)
    p = np.linspace(0.1, 0.9, 30)
    same = paired_difference(y, p, p, n_boot=50)
    assert same.sentence("A", "B") == (
        "A vs B: the same AUROC in every resample of these data: no difference can be shown, "
        "and none ruled out, without more data."
    )
    from medadapt.evaluate.difference import Difference

    shifted = Difference("mae", 0.5, (0.5, 0.5))
    assert shifted.sentence("A", "B") == (
        "A vs B: MAE +0.500 in every resample of these data, so the change has no interval: "
        "judge it on more data."
    )
    assert Difference("mae", 0.0, (-0.1, 0.1)).direction("; ") == ""  # no change: no way


def test_an_adapter_whose_risks_are_measurably_worse_is_warned_of_with_keep_the_base():
    """A trial's adapter: AUROC +0.012 (-0.036 to +0.057), Brier score 0.093 against the
    base's 0.067; nothing said so, and it was promoted without a word."""
    from sklearn.metrics import brier_score_loss

    from medadapt.evaluate.versus_base import versus_base

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    base = np.clip(0.2 + 0.6 * y + rng.normal(0, 0.15, 300), 0.01, 0.99)  # calibrated enough
    adapter = np.clip(base + 0.35, 0, 0.999)  # the same order, every risk too high
    said = versus_base(y, adapter, base, metric="auroc", n_boot=300)
    brier = said["brier"]
    assert brier["difference"] == pytest.approx(
        brier_score_loss(y, adapter) - brier_score_loss(y, base)
    )
    assert brier["verdict"] == "worse"
    low, high = brier["ci"]
    assert said["warnings"][-1] == (
        f"the adapter's Brier score is worse than the base model's on the same patients "
        f"({brier['difference']:+.3f}, 95% CI {low:+.3f} to {high:+.3f}): its predicted risks "
        "are further from what happened; with no gain in AUROC to set against it, keep the "
        "base model"
    )
    fine = versus_base(y, base, base, metric="auroc", n_boot=300)
    assert fine["brier"]["verdict"] == "no detectable difference"
    assert not any("Brier" in w for w in fine["warnings"])


def test_a_worse_brier_interval_near_0_keeps_the_sign_of_its_end():
    """A trial read "worse ... (+0.012, 95% CI +0.000 to +0.032)": an interval that seemed to
    touch 0 beside the verdict "worse". An end that is not 0 gets the digits that show it."""
    from medadapt.evaluate.difference import Difference
    from medadapt.evaluate.versus_base import _worse_risks

    brier = {"verdict": "worse", "difference": 0.012, "ci": [0.00021, 0.032]}
    (said,) = _worse_risks(brier, Difference("auroc", 0.0, (-0.01, 0.01), ""))
    assert "(+0.0120, 95% CI +0.0002 to +0.0320)" in said
    brier = {"verdict": "worse", "difference": 0.012, "ci": [0.004, 0.032]}
    (said,) = _worse_risks(brier, Difference("auroc", 0.0, (-0.01, 0.01), ""))
    assert "(+0.012, 95% CI +0.004 to +0.032)" in said


def test_no_detectable_difference_is_said_of_the_unit_compared():
    """Python's paired sentence said "on this data" where the command line says "on these
    patients"; now the unit it was measured on."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 120)
    a, b = rng.random(120), rng.random(120)
    for unit in ("patient", "image"):
        said = paired_difference(y, a, b, unit=unit, n_boot=200)
        assert said.verdict == "no detectable difference"
        assert said.sentence("adapter", "base").endswith(
            f": no detectable difference on these {unit}s."
        )

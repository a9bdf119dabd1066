"""Metrics against scikit-learn: the vectorised bootstrap equals sklearn with sample weights."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.metrics import (
    binary_metrics,
    expected_calibration_error,
    multiclass_metrics,
    regression_metrics,
)


@pytest.fixture
def binary_case():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    # rounded scores create ties, which is where AUROC/AP implementations differ
    score = np.round(np.clip(0.3 * y + rng.normal(0.4, 0.25, 60), 0, 1), 1)
    weights = bs.resample_weights(60, 25, seed=1)
    return y, score, weights


def test_weighted_auroc_equals_sklearn_with_sample_weight(binary_case):
    y, score, W = binary_case
    ours = bs.weighted_auroc(W, y, score)
    theirs = [skm.roc_auc_score(y, score, sample_weight=w) for w in W]
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_weighted_average_precision_equals_sklearn(binary_case):
    y, score, W = binary_case
    ours = bs.weighted_average_precision(W, y, score)
    theirs = [skm.average_precision_score(y, score, sample_weight=w) for w in W]
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_weighted_recalls_brier_accuracy_equal_sklearn(binary_case):
    y, score, W = binary_case
    pred = (score >= 0.5).astype(int)
    for w, sens, spec, acc, brier in zip(
        W,
        bs.weighted_recall(W, y, pred, 1),
        bs.weighted_recall(W, y, pred, 0),
        bs.weighted_mean(W, (pred == y).astype(float)),
        bs.weighted_mean(W, (score - y) ** 2),
        strict=True,
    ):
        assert sens == pytest.approx(skm.recall_score(y, pred, sample_weight=w))
        assert spec == pytest.approx(skm.recall_score(y, pred, pos_label=0, sample_weight=w))
        assert acc == pytest.approx(skm.accuracy_score(y, pred, sample_weight=w))
        assert brier == pytest.approx(skm.brier_score_loss(y, score, sample_weight=w))


def test_weighted_regression_metrics_equal_sklearn():
    rng = np.random.default_rng(2)
    y = rng.normal(size=40)
    f = y + rng.normal(scale=0.5, size=40)
    W = bs.resample_weights(40, 20, seed=3)
    for w, mae, r2 in zip(
        W, bs.weighted_mean(W, np.abs(y - f)), bs.weighted_r2(W, y, f), strict=True
    ):
        assert mae == pytest.approx(skm.mean_absolute_error(y, f, sample_weight=w))
        assert r2 == pytest.approx(skm.r2_score(y, f, sample_weight=w))


def test_ece_by_hand():
    y = np.array([0, 1, 1, 0])
    p = np.array([0.05, 0.95, 0.45, 0.55])
    # bins: [0.0-0.1): p=.05,y=0 -> gap .05; [0.9-1.0]: .05; [0.4-0.5): .55; [0.5-0.6): .55
    assert expected_calibration_error(y, p) == pytest.approx((0.05 + 0.05 + 0.55 + 0.55) / 4)


def test_binary_report_points_come_from_sklearn_and_cis_bracket_them(binary_case):
    from medadapt.evaluate.metrics import IMPRECISE_SLOPE

    y, score, _ = binary_case
    report = binary_metrics(y, score, threshold=0.5, n_boot=300)
    pred = (score >= 0.5).astype(int)
    assert report["auroc"] == pytest.approx(skm.roc_auc_score(y, score))
    assert report["auprc"] == pytest.approx(skm.average_precision_score(y, score))
    # the figures at the threshold, from one confusion matrix: scikit-learn's, to the bit
    assert report["accuracy"] == skm.accuracy_score(y, pred)
    assert report["balanced_accuracy"] == skm.balanced_accuracy_score(y, pred)
    assert report["sensitivity"] == skm.recall_score(y, pred)
    assert report["specificity"] == skm.recall_score(y, pred, pos_label=0)
    assert report["brier"] == pytest.approx(skm.brier_score_loss(y, score))
    assert (report["n"], report["n_positive"]) == (60, int(y.sum()))
    for name in ("auroc", "auprc", "accuracy", "balanced_accuracy", "sensitivity", "brier", "ece"):
        low, high = report[f"{name}_ci"]
        assert low <= report[name] <= high, name
        assert high - low > 0, name
    # 60 patients: a slope of 0.65 (0.31-1.34), too extreme or too moderate alike
    assert report["notes"] == {"calibration_slope": IMPRECISE_SLOPE.format(unit="patient")}


def test_a_calibration_slope_interval_on_both_sides_of_1_is_said_imprecise():
    """A trial: check-data called 60 test patients too few for a precise calibration slope;
    evaluate then printed 0.552 (-0.144 to 1.488) with an empty note. A calibrated model's
    interval on 800 patients, within 0.8 on its lower side, gets no such note."""
    rng = np.random.default_rng(3)
    log_odds = rng.normal(-0.3, 1.5, 800)
    risk = 1 / (1 + np.exp(-log_odds))
    y = (rng.random(800) < risk).astype(int)
    steady = binary_metrics(y, risk, n_boot=300, seed=0)
    low, high = steady["calibration_slope_ci"]
    assert 0.8 < low < 1 < high and steady["notes"] == {}
    few = binary_metrics(y[:50], risk[:50], n_boot=300, seed=0)
    low, high = few["calibration_slope_ci"]
    assert low < 0.8 and high > 1.2
    assert few["notes"]["calibration_slope"] == (
        "imprecise: the interval holds slopes well below 1 and well above 1 (below 0.8 and "
        "above 1.2), so these patients cannot tell whether the predictions are too extreme or "
        "too moderate; a precise slope takes an interval about 0.2 wide (Riley et al. 2021), "
        "many more test patients ('medadapt check-data' counts them for a binary outcome)"
    )


def test_a_slope_whose_interval_lies_below_0_says_the_outcomes_run_opposite():
    """A trial's slope of -7.3 (-15.3 to -2.9) was said "too extreme": a negative slope is a
    ranking run backwards, not risks spread too far."""
    rng = np.random.default_rng(5)
    log_odds = rng.normal(0, 1.5, 300)
    y = (rng.random(300) < 1 / (1 + np.exp(log_odds))).astype(int)  # opposite to the risk
    report = binary_metrics(y, 1 / (1 + np.exp(-log_odds)), n_boot=300, seed=0)
    assert report["calibration_slope_ci"][1] < 0
    assert report["notes"]["calibration_slope"] == (
        "the outcomes run opposite to the predicted risks (slope below 0, the interval excludes "
        "0): a higher risk means fewer events among these patients; are the labels, or the "
        "positive class, swapped here?"
    )


def test_a_regression_slope_wholly_below_0_says_the_outcomes_run_opposite():
    """As for a yes/no outcome (a review: "spread wider than the outcomes" was said of it)."""
    rng = np.random.default_rng(6)
    y = rng.normal(50, 10, 200)
    report = regression_metrics(y, 100 - y + rng.normal(0, 3, 200), n_boot=300, seed=0)
    assert report["calibration_slope_ci"][1] < 0
    assert report["notes"]["calibration_slope"] == (
        "the outcomes run opposite to the predictions (slope below 0, the interval excludes 0): "
        "a higher prediction means a lower value for these patients"
    )


def test_binary_report_refuses_metrics_the_data_cannot_support():
    y = np.array([1] * 14 + [0, 0])
    score = np.linspace(0.2, 0.9, 16)
    report = binary_metrics(y, score, n_boot=100)
    assert report["auroc"] is None and report["auroc_ci"] is None
    assert report["notes"]["auroc"] == (
        "not reported: 2 negatives among 16 patients; at least 5 are needed for a meaningful "
        "estimate"
    )
    assert report["specificity"] is None
    assert report["sensitivity"] is not None
    assert report["accuracy"] == pytest.approx(skm.accuracy_score(y, score >= 0.5))


def test_multiclass_and_regression_reports_match_sklearn():
    rng = np.random.default_rng(4)
    y = np.repeat([0, 1, 2], 20)
    proba = rng.dirichlet([1, 1, 1], size=60)
    proba[np.arange(60), y] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    report = multiclass_metrics(y, proba, n_boot=200)
    assert report["auroc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert report["brier"] == pytest.approx(np.mean(((proba - np.eye(3)[y]) ** 2).sum(axis=1)))
    assert report["auroc_ci"][0] <= report["auroc"] <= report["auroc_ci"][1]

    target = rng.normal(size=50)
    predicted = target + rng.normal(scale=0.3, size=50)
    reg = regression_metrics(target, predicted, n_boot=200)
    assert reg["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(target, predicted)))
    assert reg["r2"] == pytest.approx(skm.r2_score(target, predicted))
    assert reg["mae_ci"][0] <= reg["mae"] <= reg["mae_ci"][1]


def test_results_too_good_to_be_true_carry_a_note():
    y = np.array([0] * 15 + [1] * 15)
    perfect = binary_metrics(y, np.linspace(0, 1, 30), n_boot=50)
    assert perfect["notes"]["too_good"] == (
        "AUROC 1.000 and accuracy 1.0 on 30 patients: too good to be true for most clinical "
        "questions; check for a leak (a copy of the label, a record number, a value recorded "
        "after the outcome, training patients among the test patients) before trusting it"
    )
    scores = np.linspace(0, 1, 30)
    scores[[14, 15]] = scores[[15, 14]]  # one pair swapped: AUROC 0.996, accuracy 28/30
    near = binary_metrics(y, scores, n_boot=50)
    assert near["auroc"] == pytest.approx(skm.roc_auc_score(y, scores))
    assert near["notes"]["too_good"].startswith("AUROC 0.996: too good to be true")
    realistic = binary_metrics(
        y, np.r_[np.linspace(0, 0.7, 15), np.linspace(0.3, 1, 15)], n_boot=50
    )
    assert "too_good" not in realistic["notes"]


def test_an_image_result_too_good_to_be_true_names_how_pixels_leak():
    """An image model sees only pixels: a copy of the label or a record number cannot leak."""
    y = np.array([0] * 15 + [1] * 15)
    perfect = binary_metrics(y, np.linspace(0, 1, 30), n_boot=50, unit="image")
    assert perfect["notes"]["too_good"] == (
        "AUROC 1.000 and accuracy 1.0 on 30 images: too good to be true for most clinical "
        "questions; check for a leak (the same images or near-copies among the training and "
        "test images, a marker or text burnt into the images that differs by class, images of "
        "one class from another scanner or site) before trusting it"
    )
    proba = np.eye(3)[np.repeat([0, 1, 2], 10)] * 0.9 + 0.1 / 3
    three = multiclass_metrics(np.repeat([0, 1, 2], 10), proba, n_boot=50, unit="image")
    assert three["notes"]["too_good"].endswith(
        "check for a leak (the same images or near-copies among the training and test images, "
        "a marker or text burnt into the images that differs by class, images of one class "
        "from another scanner or site) before trusting it"
    )


def test_perfect_accuracy_needs_twenty_patients_to_be_suspicious():
    y = np.array([0] * 6 + [1] * 6)
    small = binary_metrics(y, np.r_[np.full(6, 0.4), np.full(6, 0.6)], n_boot=50, min_per_class=7)
    assert small["auroc"] is None and "too_good" not in small["notes"]  # 12 patients: chance
    proba = np.eye(3)[np.repeat([0, 1, 2], 8)] * 0.6 + 0.4 / 3
    multi = multiclass_metrics(np.repeat([0, 1, 2], 8), proba, n_boot=50)
    assert multi["notes"]["too_good"].startswith("AUROC 1.000 and accuracy 1.0 on 24 patients")


def test_a_near_perfect_regression_is_too_good():
    rng = np.random.default_rng(0)
    target = rng.normal(size=40)
    reg = regression_metrics(target, target + rng.normal(scale=0.01, size=40), n_boot=50)
    assert reg["notes"]["too_good"].startswith("R² 1.000: too good to be true")
    honest = regression_metrics(target, target + rng.normal(scale=0.5, size=40), n_boot=50)
    assert "too_good" not in honest["notes"]


def test_r2_of_an_outcome_that_never_varies_is_not_reported():
    """scikit-learn returns R² 0.0 when the measured value is the same for every patient; R²
    is undefined there (no variation to explain), so it is not printed, and the note says why.
    MAE and RMSE still are."""
    target = np.full(30, 7.0)
    predicted = target + np.random.default_rng(0).normal(scale=0.5, size=30)
    assert skm.r2_score(target, predicted) == 0.0  # what would have been printed
    result = regression_metrics(target, predicted, n_boot=50)
    assert result["r2"] is None and result["r2_ci"] is None
    assert result["notes"]["r2"] == (
        "not reported: the measured value is the same for all 30 patients, so there is no "
        "variation for R² to explain"  # never the value: it would be every patient's
    )
    assert result["mae"] == pytest.approx(skm.mean_absolute_error(target, predicted))


def test_a_model_calling_every_patient_positive_is_named_not_praised():
    y = np.array([1] * 30 + [0] * 10)
    result = binary_metrics(y, np.full(40, 0.9), n_boot=50)
    assert result["accuracy"] == 0.75
    assert result["notes"]["one_class"] == (
        "every patient is called positive at threshold 0.5: the accuracy (0.750) mostly "
        "reflects how common that class is here (75%), not skill; judge the model by AUROC and "
        "balanced accuracy, or choose another decision threshold"
    )
    nearly = binary_metrics(y, np.r_[np.full(39, 0.9), 0.1], n_boot=50)  # 39 of 40 positive
    assert nearly["notes"]["one_class"].startswith("98% of patients are called positive at")


def test_accuracy_no_better_than_the_no_information_rate_says_so():
    y = np.array([1] * 30 + [0] * 10)
    p = np.r_[np.full(24, 0.9), np.full(6, 0.1), np.full(5, 0.9), np.full(5, 0.1)]
    result = binary_metrics(y, p, n_boot=50)  # 29 of 40 right: below calling all positive
    assert result["accuracy"] == pytest.approx(29 / 40)
    assert result["notes"]["one_class"] == (
        "accuracy 0.725 at threshold 0.5 is no better than calling every patient positive "
        "(0.750, the no-information rate); judge the model by AUROC and balanced accuracy, or "
        "choose another decision threshold"
    )
    skilled = binary_metrics(y, np.r_[np.full(30, 0.9), np.full(10, 0.1)], n_boot=50)
    assert "one_class" not in skilled["notes"]


def test_multiclass_one_answer_for_everyone_is_named_by_class():
    y = np.array([0] * 20 + [1] * 10 + [2] * 10)
    proba = np.tile([0.6, 0.3, 0.1], (40, 1))
    result = multiclass_metrics(y, proba, n_boot=50)
    assert result["notes"]["one_class"] == (
        "every patient is called class 0: the accuracy (0.500) mostly reflects how common that "
        "class is here (50%), not skill; judge the model by AUROC and balanced accuracy"
    )


def test_an_interval_the_bootstrap_cannot_spread_is_not_shown_as_certainty():
    """35 patients, every positive found: sensitivity 1.000 (1.000-1.000) would read as
    certainty; it gets the exact binomial interval instead. A perfectly separating score has
    no bootstrap spread in AUROC: no interval, and a note."""
    from scipy import stats

    from medadapt.evaluate.metrics import PERFECT

    y = np.array([1] * 30 + [0] * 5)
    p = np.r_[np.full(30, 0.9), 0.2, 0.3, 0.95, 0.4, 0.1]
    result = binary_metrics(y, p, n_boot=200)
    assert result["sensitivity"] == 1.0
    exact = stats.binomtest(30, 30).proportion_ci(method="exact")
    assert result["sensitivity_ci"] == pytest.approx([exact.low, 1.0])
    assert result["sensitivity_ci"][0] < 0.9 and "sensitivity" not in result["notes"]
    perfect = binary_metrics(y, np.r_[np.full(30, 0.9), np.full(5, 0.1)], n_boot=200)
    assert perfect["auroc"] == 1.0 and perfect["auprc_ci"] is None
    assert perfect["notes"]["auprc"] == PERFECT.format(unit="patient")  # not "too few"
    assert perfect["auroc_ci"][1] == 1.0 > perfect["auroc_ci"][0]  # Newcombe's lower bound


def test_a_proportion_s_interval_is_exact_and_never_contradicts_its_counts():
    """1 of 15 specificity: the percentile bootstrap said 0.000-0.222, a lower bound the one
    true negative rules out; every proportion gets the exact (Clopper-Pearson) interval."""
    from scipy import stats

    y = np.array([1] * 45 + [0] * 15)
    p = np.r_[np.full(44, 0.9), 0.2, np.full(14, 0.8), 0.1]  # 44 of 45, 1 of 15
    result = binary_metrics(y, p, n_boot=200)
    for name, (k, n) in {"sensitivity": (44, 45), "specificity": (1, 15),
                         "accuracy": (45, 60)}.items():  # fmt: skip
        exact = stats.binomtest(k, n).proportion_ci(method="exact")
        assert result[f"{name}_ci"] == pytest.approx([exact.low, exact.high]), name
    assert result["specificity_ci"][0] > 0.001  # was 0.000
    three = multiclass_metrics(np.repeat([0, 1, 2], 10), np.tile([0.5, 0.3, 0.2], (30, 1)))
    exact = stats.binomtest(10, 30).proportion_ci(method="exact")
    assert three["accuracy_ci"] == pytest.approx([exact.low, exact.high])


def test_image_results_count_images_not_patients():
    """An image test set's notes say images (a patient may have several)."""
    from medadapt.evaluate.scoring import score_classifier

    y = np.array([0] * 20 + [1] * 10)
    proba = np.tile([0.5, 0.3, 0.2], (30, 1))
    result = score_classifier(y, proba, ["normal", "nodule", "mass"], n_boot=20)
    [absent] = [row for row in result["per_class"] if row["class"] == "mass"]
    assert absent["note"] == (
        "not reported: 0 images of class 'mass' among 30 images; at least 5 are needed for a "
        "meaningful estimate; no precision: 0 images called 'mass' (at least 5 needed)"
    )
    notes = result["overall"]["notes"]  # the classes by name, not by index
    assert notes["one_class"].startswith("every image is called class 'normal'")
    assert notes["auroc"] == (
        "not reported: 0 images of class 'mass' among 30 images; at least 5 are needed for a "
        "meaningful estimate"
    )


def test_per_class_rows_follow_the_overall_table_s_rules():
    """8 images: the overall table reports nothing, so neither do the class rows (they said
    "sensitivity 1.000, precision 1.000" on 4 images each); on 30, a proportion over fewer than
    5 members or calls is withheld and the others carry exact binomial intervals."""
    from medadapt.evaluate.scoring import per_class_metrics

    y = np.array([0] * 4 + [1] * 4)
    rows = per_class_metrics(y, np.eye(2)[y] * 0.9 + 0.05, ["normal", "mass"], n_boot=20)
    for row in rows:
        assert row["sensitivity"] is row["precision"] is row["auroc"] is None
        assert row["note"] == "not reported: only 8 images (at least 10 needed)"
    y = np.array([0] * 27 + [1] * 3)
    calls = np.r_[np.zeros(25), np.ones(5)].astype(int)  # 2 normal images called mass
    normal, mass = per_class_metrics(y, np.eye(2)[calls] * 0.9 + 0.05, ["normal", "mass"],
                                     n_boot=20)  # fmt: skip
    assert normal["sensitivity"] == 25 / 27 and normal["precision"] == 1.0
    ci = stats.binomtest(25, 27).proportion_ci(method="exact")
    assert normal["sensitivity_ci"] == pytest.approx([ci.low, ci.high])
    assert mass["sensitivity"] is None and mass["precision"] == 3 / 5
    assert mass["note"].startswith("not reported: 3 images of class 'mass' among 30 images")
    # a trial's new class with no image of it here, called 6 times: its precision 0.000 sat
    # beside "not reported: 0 images of class 'cavity'"
    y = np.array([0] * 15 + [1] * 15)
    proba = np.tile([0.6, 0.3, 0.1], (30, 1))
    proba[15:] = [0.3, 0.6, 0.1]
    proba[[2, 5, 9, 17, 20, 28]] = [0.2, 0.2, 0.6]  # called 'cavity'
    cavity = per_class_metrics(y, proba, ["normal", "mass", "cavity"], n_boot=20)[2]
    assert (cavity["n"], cavity["auroc"], cavity["sensitivity"], cavity["precision"]) == (
        0, None, None, 0.0)  # fmt: skip
    assert cavity["note"].startswith("no AUROC or sensitivity: 0 images of class 'cavity'")
    assert cavity["note"].endswith(
        "; the precision is of the 6 images called 'cavity', every one wrongly: no image here is "
        "of that class"
    )


def test_a_class_whose_auroc_interval_reaches_one_half_is_said_not_told_from_the_rest():
    """Three classes, the model random for 'effusion' (an AUROC whose interval spans 0.5 read
    as a weak finding in the per-class table), backwards for 'mass', clear for 'normal'."""
    from medadapt.evaluate.scoring import per_class_metrics

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 40)
    proba = rng.dirichlet([1, 1, 1], len(y))
    proba[y == 0, 0] += 2.0  # normal: told apart
    proba[y == 2, 2] -= 0.9 * proba[y == 2, 2]  # mass: lowest where it is present
    proba /= proba.sum(axis=1, keepdims=True)
    normal, effusion, mass = per_class_metrics(y, proba, ["normal", "effusion", "mass"],
                                               n_boot=200)  # fmt: skip
    assert normal["auroc_ci"][0] > 0.5 and "0.50" not in normal["note"]
    assert effusion["auroc_ci"][0] <= 0.5 <= effusion["auroc_ci"][1]
    assert effusion["note"] == (
        "the interval reaches 0.50: not shown to tell 'effusion' from the rest"
    )
    assert mass["auroc_ci"][1] < 0.5
    assert mass["note"] == (
        "the interval is below 0.50: 'mass' is ranked backwards, worse than chance"
    )


def test_a_small_interval_is_printed_with_the_digits_that_tell_its_ends_apart():
    from medadapt.evaluate.report.formatting import fmt_ci

    assert fmt_ci(0.81, [0.72, 0.89]) == "0.81 (0.72–0.89)"
    assert fmt_ci(0.0002, [0.0001, 0.0004], 3) == "0.0002 (0.0001–0.0004)"  # not 0.000–0.000
    assert fmt_ci(0.5, [0.5, 0.5], 3) == "0.500 (0.500–0.500)"  # equal ends stay as they are
    assert fmt_ci(None, [0.1, 0.2]) == "n/a"
    assert fmt_ci(0.31, [-0.07, 0.56]) == "0.31 (-0.07 to 0.56)"  # not "-0.07–0.56"


def test_a_tiny_positive_metric_is_not_printed_as_zero():
    """A Brier score of 1e-7 printed as ``0.000000``: a perfect score it is not. The JSON
    keeps the exact number; people read ``<0.000001``."""
    from medadapt.evaluate.report.formatting import fmt, fmt_ci, fmt_metric

    assert fmt_ci(1e-7, [0.0, 2e-7], 3) == "<0.000001 (0.000000–<0.000001)"
    # without an interval, up to three more digits, as with one (a trial's study table gave
    # the base "<0.01" beside an adapter's "0.0005", and evaluate "<0.001" beside a paired
    # change of -0.00022)
    assert fmt_ci(1e-7, None, 3) == "<0.000001" and fmt(1e-7) == "<0.001"
    assert fmt_metric({"brier": 1e-7}, "brier") == "<0.000001"
    assert fmt(0.0) == "0.000" and fmt_ci(0.0, None) == "0.00"  # an exact zero stays one
    assert fmt_ci(0.0004, None, 3) == "0.0004" and fmt_ci(0.0005, None, 3) == "0.001"
    assert fmt_ci(0.00022, None) == "0.0002"


def test_the_validation_a_dicom_report_carries_fits_one_ascii_parameter():
    from medadapt.evaluate.report.formatting import validation_summary

    tested = {"n": 60, "auroc": 0.8123, "auroc_ci": [0.72, 0.891], "accuracy": 0.8}
    assert validation_summary(tested) == "AUROC 0.81 (0.72-0.89), n=60"
    too_few = {"n": 8, "auroc": None, "notes": {"all": "not reported: only 8 images"}}
    assert validation_summary(too_few) == "not reported (n=8)"
    warned = {"n": 37, "accuracy": 0.946, "notes": {"too_good": "accuracy 1.0 ..."}}
    assert validation_summary(warned) == "accuracy 0.95, n=37, warning"
    one_answer = {"n": 37, "accuracy": 0.946, "notes": {"one_class": "every patient ..."}}
    # a trial: an adapter calling every patient one class answered with note: null
    assert validation_summary(one_answer) == "accuracy 0.95, n=37, warning"
    assert validation_summary(None) == "not evaluated"
    long = validation_summary({"n": 123456, "auroc": 0.5, "auroc_ci": [0.4, 0.6],
                               "notes": {"too_good": "..."}})  # fmt: skip
    assert len(long) <= 44 and long.isascii()


def test_the_summary_leads_with_the_metric_that_makes_a_model_measured():
    """validation_summary re-implemented measured()'s choice; both read leading_metric."""
    from medadapt.evaluate.report.formatting import leading_metric, measured, validation_summary

    regression = {"n": 50, "r2": 0.412, "mae": 3.1}  # MAE first, as evaluate and registry list
    assert leading_metric(regression) == "mae" and measured(regression)  # (a trial: R² served)
    assert validation_summary({"n": 50, "r2": 0.412}) == "R^2 0.41, n=50"  # ASCII: not "R²"
    assert validation_summary({"n": 50, "r2": -0.2, "r2_ci": [-0.5, 0.1]}).isascii()
    error_only = {"n": 50, "mae": 3.14}
    assert leading_metric(error_only) == "mae" and validation_summary(error_only) == (
        "MAE 3.14, n=50"
    )
    brier_only = {"n": 8, "auroc": None, "brier": 0.2}  # no leading figure: not measured
    assert leading_metric(brier_only) is None and not measured(brier_only)
    assert validation_summary(brier_only) == "not reported (n=8)"


def test_the_cautions_a_prediction_carries_come_from_the_recorded_test():
    """A served answer and a DICOM SR said "AUROC 1.00 (0.69-1.00), n=12, warning" at most:
    the reader of the PACS could not tell what the warning was, nor that an adapter had no
    measured performance at all."""
    from medadapt.evaluate.report.formatting import recorded_cautions

    assert recorded_cautions({"n": 60, "auroc": 0.81, "auroc_ci": [0.72, 0.89]}) == []
    assert recorded_cautions(None) == [] and recorded_cautions({}) == []  # never judged
    too_few = {"n": 9, "auroc": None, "notes": {"all": "not reported: only 9 patients"}}
    assert recorded_cautions(too_few) == ["no measured performance (test set too small)"]
    warned = {"n": 12, "auroc": 1.0, "notes": {"too_good": "...", "one_class": "...",
                                                "backwards": "..."}}  # fmt: skip
    said = recorded_cautions(warned)  # one_class too: a served 'predicted' is that class
    assert said == ["test result too good to be true: check leaks",
                    "called nearly every test case one class",
                    "ranked its test cases backwards"]  # fmt: skip
    assert all(len(f"medadapt warning={w}") <= 64 and w.isascii() for w in said)
    # an accuracy standing in for an AUROC left out: said too (a trial's served answer said
    # only "every patient is called positive")
    standing_in = {"n": 37, "auroc": None, "accuracy": 0.946,
                   "notes": {"auroc": "not reported: 2 negatives among 37 patients"}}  # fmt: skip
    assert recorded_cautions(standing_in) == ["AUROC not measured on its test patients"]
    assert len("medadapt warning=AUROC not measured on its test patients") <= 64
    # the one-class note of an accuracy no better than the commonest class's is said so, not
    # "called nearly every test case one class" (a trial's adapter called 29 of 60 negative),
    # and risks too low on average (its O/E note) are said too
    no_better = {"n": 60, "auroc": 0.6, "auroc_ci": [0.51, 0.7], "oe_ratio": 1.832,
                 "notes": {"one_class": "accuracy 0.483 at threshold 0.5 is no better than "
                           "calling every patient positive (0.517, the no-information rate)",
                           "oe_ratio": "the model predicts too few events: 45 observed "
                           "against 24.6 expected from its risks (the interval excludes 1); "
                           "its risks are too low on average"}}  # fmt: skip
    said = recorded_cautions(no_better)
    assert said == ["accuracy no better than one answer for all",
                    "risks too low on average (O/E 1.83)"]  # fmt: skip
    assert all(len(f"medadapt warning={w}") <= 64 and w.isascii() for w in said)


def test_the_ece_interval_is_recentred_so_that_it_holds_the_estimate():
    """60 well-calibrated patients: resamples repeat patients, which inflates the binned ECE,
    so the percentile interval lay above its own estimate (0.068 (0.075-0.210)); moved by the
    bootstrap's bias it holds it, and no note says it is shifted."""
    rng = np.random.default_rng(16)
    p = rng.uniform(0.05, 0.95, 60)
    y = (rng.uniform(size=60) < p).astype(int)
    m = binary_metrics(y, p)
    resampled = bs.weighted_ece(bs.resample_weights(60, 1000, 0), y.astype(float), p)
    low, high = bs.percentile_interval(resampled)
    assert m["ece"] == pytest.approx(0.0679, abs=1e-4) and low > m["ece"]  # the plain interval
    bias = resampled.mean() - m["ece"]
    assert m["ece_ci"] == pytest.approx([low - bias, high - bias])
    assert m["ece_ci"][0] < m["ece"] < m["ece_ci"][1]
    assert "ece" not in m["notes"]
    # the same for the top-label ECE of several classes, and never below 0
    proba = rng.dirichlet(np.ones(3), 60)
    labels = np.array([rng.choice(3, p=row) for row in proba])
    many = multiclass_metrics(labels, proba)
    assert 0 <= many["ece_ci"][0] <= many["ece"] <= many["ece_ci"][1]
    assert "ece" not in many["notes"]


def test_a_calibration_error_on_few_patients_has_no_interval_and_says_why():
    """A trial's 12 patients read "ECE 0.014 (0.013-0.016)": ten bins of one or two patients,
    and the resamples' spread, re-centred, looked precise."""
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, 30)
    y = (rng.uniform(size=30) < p).astype(int)
    y[:5], y[5:10] = 1, 0  # both classes
    few = binary_metrics(y, p, n_boot=200)
    assert few["ece"] == pytest.approx(expected_calibration_error(y, p))
    assert few["ece_ci"] is None
    assert few["notes"]["ece"] == (
        "no interval: a calibration error over 10 probability bins on 30 patients (fewer than "
        "50) leaves too few in each bin; read the calibration slope instead"
    )
    assert few["calibration_slope"] is not None
    y[3:] = 0  # 3 positives: too few for a slope (a trial's "n/a" beside "read the slope")
    none = binary_metrics(y, p, n_boot=200)
    assert none["calibration_slope"] is None and none["notes"]["ece"].endswith(
        "leaves too few in each bin, and no calibration slope is reported here: read the "
        "ECE as a rough guide only"
    )
    proba = rng.dirichlet(np.ones(3), 30)
    labels = np.array([rng.choice(3, p=row) for row in proba])
    several = multiclass_metrics(labels, proba, n_boot=200)
    assert several["ece_ci"] is None and several["notes"]["ece"] == (
        "no interval: a calibration error over 10 probability bins on 30 patients (fewer than "
        "50) leaves too few in each bin, and no calibration slope is reported here: read "
        "the ECE as a rough guide only"
    )  # none for several classes (a trial was told to read it)
    # images of named patients: the images binned, the patients counted (a radiology trial
    # read "on 12 patients" beside tables of their 24 images)
    images = binary_metrics(y, p, n_boot=50, unit="image", patients=np.repeat(np.arange(15), 2))
    assert images["notes"]["ece"].startswith(
        "no interval: a calibration error over 10 probability bins on 30 images of 15 patients "
        "(fewer than 50)"
    )


def test_an_estimate_outside_its_own_interval_says_why_the_interval_is_shifted():
    """What is left of the note (ECE's interval is re-centred): a biased bootstrap of another
    metric, named in words."""
    from medadapt.evaluate.metrics import _note_shifted_intervals

    notes: dict[str, str] = {}
    _note_shifted_intervals({"ece": 0.02, "ece_ci": [0.05, 0.2]}, notes, "patient")
    assert notes["ece"] == (
        "the estimate lies below its 95% bootstrap interval: resamples repeat patients, and a "
        "calibration error measured on repeats is larger than on distinct patients (the bias is "
        "largest on small samples), so the interval is shifted upwards and only a rough range"
    )


def test_a_recentred_interval_stays_within_its_bounds():
    values = np.array([0.0, 0.01, 0.02, 0.3, 0.4])  # mean 0.146; percentiles 0.001, 0.39
    assert bs.recentred_interval(values, 0.0) == pytest.approx([0.0, 0.39 - 0.146])
    assert bs.recentred_interval(values, 0.9) == pytest.approx([0.755, 1.0])  # capped at 1
    assert bs.recentred_interval(np.full(5, np.nan), 0.1) is None


def test_a_result_is_judged_by_auroc_or_accuracy_when_auroc_cannot_be_estimated():
    from medadapt.evaluate.metrics import headline_metric

    assert headline_metric("regression", {"auroc": None}) == "mae"
    assert headline_metric("binary") == "auroc"  # a column for every subgroup
    assert headline_metric("binary", {"auroc": 0.71}) == "auroc"
    one_class = binary_metrics(np.ones(30, dtype=int), np.linspace(0.1, 0.9, 30))
    assert headline_metric("binary", one_class) == "accuracy"


def test_the_one_answer_warning_does_not_point_to_metrics_that_are_not_reported():
    y = np.array([1] * 47 + [0] * 3)  # Switzerland: 3 patients without disease
    m = binary_metrics(y, np.full(50, 0.9))
    assert m["auroc"] is None and m["balanced_accuracy"] is None
    assert m["notes"]["one_class"].endswith(
        "AUROC and balanced accuracy cannot be judged on so few patients of one class: compare "
        "models by their Brier score and calibration"
    )
    y = np.array([1] * 40 + [0] * 10)
    m = binary_metrics(y, np.full(50, 0.9))
    assert m["notes"]["one_class"].endswith(
        "judge the model by AUROC and balanced accuracy, or choose another decision threshold"
    )


def test_several_classes_with_a_rare_one_withhold_balanced_accuracy_as_the_note_says():
    """The note says AUROC and balanced accuracy cannot be judged with 3 patients of a class:
    neither is printed (as for a binary outcome), and the note names why for both."""
    y = np.array([0] * 20 + [1] * 17 + [2] * 3)
    proba = np.tile([0.3, 0.6, 0.1], (40, 1))
    result = multiclass_metrics(y, proba, n_boot=50)
    assert "cannot be judged on so few patients of one class" in result["notes"]["one_class"]
    assert result["auroc"] is None and result["balanced_accuracy"] is None
    assert result["balanced_accuracy_ci"] is None
    assert result["notes"]["balanced_accuracy"].startswith("not reported: 3 patients of class 2 ")
    enough = multiclass_metrics(np.array([0] * 20 + [1] * 15 + [2] * 5), proba, n_boot=50)
    assert enough["balanced_accuracy"] == pytest.approx(1 / 3)


def test_a_class_of_one_patient_is_counted_in_the_singular():
    """A trial: a typo class of one row read "not reported: 1 patients of class 'yse'"."""
    y = np.array([0] * 20 + [1] * 19 + [2])
    proba = np.tile([0.3, 0.6, 0.1], (40, 1))
    result = multiclass_metrics(y, proba, n_boot=50, class_names=["no", "yes", "yse"])
    assert result["notes"]["auroc"] == (
        "not reported: 1 patient of class 'yse' among 40 patients; at least 5 are needed for a "
        "meaningful estimate"
    )


def test_notes_count_one_positive_in_the_singular_and_name_two_image_classes():
    """A note read "1 positives among 21 patients"; two image findings (normal, mass) have no
    positive class: their notes name them, and a class scored one against the rest says
    "the other classes"."""
    from medadapt.evaluate.scoring import per_class_metrics

    y, p = np.array([0] * 20 + [1]), np.r_[np.zeros(20), 0.2]
    notes = binary_metrics(y, p, n_boot=20)["notes"]
    one = "not reported: 1 positive among 21 patients; at least 5 are needed for a meaningful "
    assert notes["sensitivity"] == notes["auroc"] == one + "estimate"
    named = binary_metrics(y, p, n_boot=20, unit="image", class_names=["normal", "mass"])
    assert named["notes"]["auroc"].startswith("not reported: 1 image of class 'mass' among 21")
    assert named["notes"]["one_class"].startswith("every image is called class 'normal' at")
    normal, _ = per_class_metrics(y, np.c_[1 - p, p], ["normal", "mass"], n_boot=20)
    assert normal["note"].startswith("not reported: 1 image of the other classes among 21")


def test_regression_reports_its_calibration_slope_and_mean_error_as_numpy_computes_them():
    """Predictions squeezed toward the average (the diabetes adapter: slope 1.79) had MAE and
    R² only, which do not show it."""
    rng = np.random.default_rng(0)
    y = rng.normal(150, 78, 69)
    squeezed = 150 + 0.4 * (y - 150) + rng.normal(0, 20, 69)
    m = regression_metrics(y, squeezed, n_boot=200)
    slope, _ = np.polyfit(squeezed, y, 1)
    assert m["calibration_slope"] == pytest.approx(slope)
    assert m["calibration_in_the_large"] == pytest.approx(y.mean() - squeezed.mean())
    low, high = m["calibration_slope_ci"]
    assert 1 < low < slope < high
    assert m["notes"]["calibration_slope"].startswith("the predictions are squeezed toward the")
    shifted = regression_metrics(y, y - 30 + rng.normal(0, 5, 69), n_boot=200)
    assert shifted["calibration_slope_ci"][0] < 1 < shifted["calibration_slope_ci"][1]
    assert "calibration_slope" not in shifted["notes"]
    assert shifted["notes"]["calibration_in_the_large"].startswith(
        "on average the predictions are too low by 3"
    )
    costs = regression_metrics(y * 40, y * 40 - 2770 + rng.normal(0, 50, 69), n_boot=200)
    assert costs["notes"]["calibration_in_the_large"].startswith(  # not 2.77e+03
        "on average the predictions are too low by 2,7"
    )
    flat = regression_metrics(y, np.full(69, 150.0), n_boot=50)
    assert flat["calibration_slope"] is None
    assert flat["notes"]["calibration_slope"] == (
        "not reported: the prediction is the same for all 69 patients"
    )


def test_a_model_ranking_backwards_is_said_not_read_as_weak():
    """AUROC 0.06 (0.00-0.31) at a site was printed without a word: a model ranking patients
    backwards (swapped classes, inverted images), not a weak one."""
    from medadapt.evaluate.metrics import BACKWARDS

    y = np.r_[np.ones(20), np.zeros(20)].astype(int)
    backwards = binary_metrics(y, np.linspace(0.1, 0.9, 40), n_boot=200)  # positives lowest
    assert backwards["auroc"] == 0.0 and backwards["auroc_ci"][1] < 0.5
    note = backwards["notes"][BACKWARDS]
    assert note.startswith("AUROC 0.000 (95% CI up to ")
    assert note.endswith(
        ") is below 0.5: the model ranks these patients backwards, worse than chance; check "
        "that the classes are not swapped (--positive-class), that images are not inverted, "
        "and that these patients are like the model's; do not use it here as it is"
    )
    weak = binary_metrics(y, np.r_[np.linspace(0.3, 0.7, 20), np.linspace(0.35, 0.65, 20)])
    assert BACKWARDS not in weak["notes"]  # an interval reaching 0.5 is a weak model, said so


def test_a_narrow_interval_shows_no_more_than_three_significant_digits():
    """The report showed ECE "0.294681 (0.294679–0.294683)": digits added to tell a very
    narrow interval's ends apart, a precision the figure does not have. Extra digits stop at
    three significant ones; a tiny Brier score still gets the digits that show it."""
    from medadapt.evaluate.report.formatting import fmt_ci, fmt_metric

    assert fmt_ci(0.294681, [0.294679, 0.294683], 3) == "0.295 (0.295–0.295)"
    assert fmt_metric({"ece": 0.294681, "ece_ci": [0.294679, 0.294683]}, "ece") == (
        "0.295 (0.295–0.295)"
    )
    assert fmt_ci(0.0123, [0.01231, 0.01234], 3) == "0.0123 (0.0123–0.0123)"
    assert fmt_ci(0.000123, [0.0001231, 0.0001234], 3) == "0.000123 (0.000123–0.000123)"
    assert fmt_ci(0.0002, [0.0001, 0.0004], 3) == "0.0002 (0.0001–0.0004)"  # as before
    assert fmt_ci(1e-7, [0.0, 2e-7], 3) == "<0.000001 (0.000000–<0.000001)"


def test_per_class_notes_count_images_where_patients_have_several():
    """Per-class tables headed "(n: images)" said "0 patients called 'lesion'": with patients
    known, the notes count images in the table's unit, and the patients the minimum counts."""
    from medadapt.evaluate.scoring import per_class_metrics

    y = np.array([0] * 20 + [1] * 10)
    proba = np.tile([0.8, 0.2], (30, 1))
    proba[20:23] = [0.3, 0.7]  # 3 images of the 10 called 'lesion', from 2 patients
    patients = [f"p{i // 2}" for i in range(30)]  # two images each
    rows = per_class_metrics(y, proba, ["clear", "lesion"], n_boot=20, patients=patients)
    lesion = next(row for row in rows if row["class"] == "lesion")
    said = "no precision: 3 images (2 patients) called 'lesion' (at least 5 patients needed)"
    assert said in lesion["note"]
    never = per_class_metrics(y, np.tile([0.8, 0.2], (30, 1)), ["clear", "lesion"], n_boot=20,
                              patients=patients)  # fmt: skip
    assert "no precision: 0 images called 'lesion' (at least 5 patients needed)" in never[1]["note"]


def test_a_calibration_slope_interval_that_runs_off_says_so():
    """A trial printed calibration slope 0.718 (0.523-16.290) without a word: resamples the
    predictions nearly separate give slopes without bound."""
    from medadapt.evaluate.metrics import RUNS_OFF

    rng = np.random.default_rng(5)
    y = (rng.random(40) < 0.4).astype(int)
    z = np.where(y == 1, 1.3, -1.3) + rng.normal(0, 1.0, 40)
    result = binary_metrics(y, 1 / (1 + np.exp(-z * 3.0)), n_boot=300, seed=0)
    _, high = result["calibration_slope_ci"]
    assert result["calibration_slope"] < 1 and high > 6 * result["calibration_slope"]
    assert result["notes"]["calibration_slope"] == RUNS_OFF.format(unit="patient")
    y = (rng.random(400) < 0.4).astype(int)  # more patients, less separated: a steady slope
    z = np.where(y == 1, 0.8, -0.8) + rng.normal(0, 1.0, 400)
    steady = binary_metrics(y, 1 / (1 + np.exp(-z * 1.6)), n_boot=300, seed=0)
    assert steady["calibration_slope_ci"][1] < 3 and "calibration_slope" not in steady["notes"]
    from medadapt.evaluate.metrics import _runs_off

    # a review: a wide but even interval is uncertain, not run off; a slope at or below 0 not
    assert not _runs_off(1.61, [0.15, 6.50]) and not _runs_off(-0.3, [-1.2, 3.1])
    assert _runs_off(0.718, [0.523, 16.29])  # the trial's


def test_every_sample_called_a_class_none_of_them_has_is_said_to_be_wrong():
    """A trial's new-class adapter called every old-class image 'nodule' and was told "the
    accuracy (0.000) mostly reflects how common that class is here (0%), not skill"."""
    from medadapt.evaluate.metrics import one_class_note

    y, called = np.array([0, 1] * 6), np.full(12, 2)
    assert one_class_note(y, called, ["'normal'", "'abnormal'", "'nodule'"], unit="image") == (
        "every image is called 'nodule', a class none of these images has: every call is "
        "wrong, whatever the accuracy (0.000); judge the model by AUROC and balanced accuracy"
    )


def test_a_perfect_multiclass_auroc_without_interval_points_to_the_per_class_intervals():
    """A trial's overall AUROC read "1.000, no interval: ... uncertainty cannot be estimated"
    beside per-class AUROCs of "1.000 (0.849–1.000)" on the same 30 patients."""
    y = np.repeat([0, 1, 2], 10)
    proba = np.eye(3)[y] * 0.8 + np.random.default_rng(0).uniform(0.01, 0.05, (30, 3))
    proba /= proba.sum(axis=1, keepdims=True)
    result = multiclass_metrics(y, proba, n_boot=50)
    assert result["auroc"] == 1.0 and result["auroc_ci"] is None
    assert result["notes"]["auroc"].endswith(
        "check for a leak; each class's own AUROC (per class) has Newcombe's interval, which "
        "says how far so few patients can be trusted"
    )


def _missing_nodules(nodules_found: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """30 cases of each of three classes; the model finds ``nodules_found`` of the 30
    nodules (the others it calls 'mass') and every other case."""
    y = np.repeat([0, 1, 2], 30)
    proba = np.full((90, 3), 0.1)
    proba[y == 0, 0] = proba[y == 2, 2] = 0.8
    proba[y == 1, 2], proba[y == 1, 1] = 0.6, 0.5
    proba[np.flatnonzero(y == 1)[:nodules_found], 1] = 0.7
    return y, proba / proba.sum(axis=1, keepdims=True)


def test_a_class_the_model_almost_never_calls_is_a_warning_about_the_whole_result():
    """A trial's image base, AUROC 0.991, found none of 30 nodules: only the per-class table
    said so. The macro AUROC and the accuracy hide it; a whole-result note names it."""
    y, proba = _missing_nodules()
    m = multiclass_metrics(y, proba, class_names=["normal", "nodule", "mass"], unit="image",
                           n_boot=50)  # fmt: skip
    assert m["notes"]["missed_class"] == (
        f"class 'nodule' is found in 0 of 30 images (sensitivity 0.000): the model almost never "
        f"calls it, which the overall AUROC ({m['auroc']:.3f}) and accuracy (0.667) do not "
        "show; do not rely on it for that class as it is"
    )
    from medadapt.evaluate.metrics import missed_class_note

    called = proba.argmax(axis=1)  # a trial: "which the overall accuracy (0.583) do not show"
    assert missed_class_note(y, called, ["'normal'", "'nodule'", "'mass'"],
                             {"accuracy": 0.667}, "image").endswith(
        "which the overall accuracy (0.667) does not show; do not rely on it for that class as "
        "it is"
    )  # fmt: skip
    assert m["notes"]["balanced_accuracy"] == (
        "no interval: every bootstrap resample gave the same value (to the digits shown): each "
        "class's images are all found or all missed (a sensitivity of 0 or 1 per class), so "
        "every resample averages the same shares; read each class's sensitivity and its "
        "interval"
    )
    assert m["never_called"] == ["class 'nodule'"]  # names only: promote refuses to serve it
    six = multiclass_metrics(*_missing_nodules(6), n_boot=50)  # 6 of 30: 0.2, still missed
    assert six["notes"]["missed_class"].startswith("class 1 is found in 6 of 30 patients")
    assert "never_called" not in six  # found at times: a warning, not a refusal
    seven = multiclass_metrics(*_missing_nodules(7), n_boot=50)  # 7 of 30: found at times
    assert "missed_class" not in seven["notes"]


def test_a_missed_class_is_said_beside_an_accuracy_no_better_than_the_commonest_class():
    """A trial's four-class adapter found none of 12 patients of class '2', no better than
    calling everyone class '1': only the latter was said, and `registry promote` then refused
    it for the former. Both are said, unless the model calls (nearly) everyone one class."""
    y = np.repeat([0, 1, 2], [60, 20, 20])
    calls = np.r_[np.zeros(30, int), np.full(30, 2), np.full(20, 2), np.full(20, 2)]
    proba = np.full((100, 3), 0.2)
    proba[np.arange(100), calls] = 0.6
    m = multiclass_metrics(y, proba, class_names=["a", "b", "c"], n_boot=50)
    assert m["notes"]["one_class"].startswith("accuracy 0.500 is no better than calling")
    assert m["notes"]["missed_class"].startswith(
        "class 'b' is found in 0 of 20 patients (sensitivity 0.000): the model almost never "
        "calls it"
    )
    everyone = np.zeros((100, 3))
    everyone[:, 2] = 1.0  # one answer for all: the one-class note says it all
    assert "missed_class" not in multiclass_metrics(y, everyone, n_boot=50)["notes"]


def test_a_regression_no_better_than_the_average_is_said_about_the_whole_result():
    """A trial's adapter trained on shuffled outcomes, R² -0.190 (-0.488 to 0.015), was
    trained, promoted and served without a word, its slope of 0.05 read as "predictions
    spread wider than the outcomes"."""
    from medadapt.results import r2_in_words

    rng = np.random.default_rng(0)
    y = rng.normal(150, 78, 80)
    shuffled = rng.permutation(y)  # predictions unrelated to the outcome
    m = regression_metrics(y, shuffled, n_boot=200)
    assert m["r2"] < 0
    assert m["notes"]["no_better_than_mean"] == (
        f"R² {m['r2']:.3f}: the model predicts these patients no better than giving each the "
        "average value (R² 0); check that the outcome and its unit are the base model's and "
        "that these patients are like its own, and do not use it here as it is"
    )
    low, high = m["calibration_slope_ci"]
    assert low <= 0 <= high
    assert m["notes"]["calibration_slope"] == (
        "the outcomes do not follow the predictions (the interval reaches 0): a higher "
        "prediction is not shown to mean a higher value for these patients"
    )
    weak = regression_metrics(y, 150 + 0.15 * (y - 150) + rng.normal(0, 30, 80), n_boot=200)
    assert "no_better_than_mean" not in weak["notes"]
    assert r2_in_words(0.05, -0.1) == (
        "not shown to predict better than giving every patient the average value (the "
        "interval reaches 0)"
    )
    assert r2_in_words(0.4, 0.1) is None and r2_in_words(-0.2, -0.5) is None


def test_nearly_the_same_probability_for_everyone_is_said_whatever_the_auroc():
    """A trial's image adapter gave 120 images 0.48445 to 0.48452 and was reported with AUROC
    0.929 and ECE 0.016: a ranking on the fifth decimal, a calibration that only says how
    common the classes are."""
    import warnings

    from medadapt.evaluate.metrics import binary_metrics, multiclass_metrics
    from medadapt.results import FLAT_SCORES, SAID_AS_WARNINGS, WHOLE_RESULT, WHOLE_RESULT_WORDS

    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(60), np.ones(60)]
    flat = 0.4845 + y * 3e-5 + rng.normal(0, 1e-5, 120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        said = binary_metrics(y, flat, unit="image")
        spread = binary_metrics(y, np.clip(0.3 + 0.3 * y + rng.normal(0, 0.1, 120), 0, 1))
        three = np.tile([0.34, 0.33, 0.33], (90, 1)) + rng.normal(0, 1e-4, (90, 3))
        many = multiclass_metrics(np.arange(90) % 3, three / three.sum(axis=1, keepdims=True))
        # a confident model: its top class at 0.976 for every case, whichever the class (a
        # trial's wine adapter, right on 15 of 15, was said not to tell them apart)
        sure = np.full((90, 3), 0.012) + np.eye(3)[np.arange(90) % 3] * 0.964
        sure = sure + rng.uniform(0, 1e-4, (90, 3))
        confident = multiclass_metrics(np.arange(90) % 3, sure / sure.sum(axis=1, keepdims=True))
    assert FLAT_SCORES not in confident["notes"]
    assert said["auroc"] > 0.9  # the figure the note is about
    assert said["notes"][FLAT_SCORES].startswith(
        "the model gives nearly the same probability to every image (the middle 90% between "
        "0.48449 and 0.48454): its AUROC ranks them on differences too small to act on"
    )
    assert FLAT_SCORES not in spread["notes"]
    assert FLAT_SCORES in many["notes"]
    assert FLAT_SCORES in SAID_AS_WARNINGS and FLAT_SCORES in WHOLE_RESULT
    assert len(f"medadapt warning={WHOLE_RESULT_WORDS[FLAT_SCORES]}") <= 64


def test_a_perfect_ranking_on_flat_probabilities_is_not_blamed_on_a_leak_alone():
    """A trial's image base gave every image 0.4935 to 0.4937, ranked them perfectly and was
    told "too good to be true ... check for a leak": a model whose training stalled gives
    such an AUROC as readily, and the note says so (with the image flags that fix it)."""
    y = np.array([0] * 30 + [1] * 30)
    flat = 0.4935 + np.linspace(0, 0.0002, 60)  # the positives ranked above every negative
    notes = binary_metrics(y, flat, n_boot=50, unit="image")["notes"]
    assert notes["too_good"].startswith(
        "AUROC 1.000 from probabilities that barely differ: too good to be true and of no use "
        "as it is; a model whose training stalled gives it (a lower --lr; more --epochs only "
        "where training ran to its last, since early stopping ends it sooner: a larger "
        "--patience lets it run on), "
        "as a leak can (the same images or near-copies"
    )
    spread = np.r_[np.linspace(0.05, 0.45, 30), np.linspace(0.55, 0.95, 30)]
    assert binary_metrics(y, spread, n_boot=50)["notes"]["too_good"].startswith(
        "AUROC 1.000 and accuracy 1.0 on 60 patients: too good to be true for most clinical "
        "questions; check for a leak"
    )


def test_a_multiclass_accuracy_whose_interval_reaches_the_commonest_class_share_is_noted():
    """A trial's four-class adapter: accuracy 0.317 (0.203–0.450), no AUROC or balanced
    accuracy reported, shown bare where calling everyone class '1' scores 0.283. Its note says
    so; a clearly better accuracy has none."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2, 3], [17, 18, 12, 13])
    pred = np.where(rng.random(60) < 0.1, y, 1)  # class '1' for most, right at times
    proba = np.full((60, 4), 0.1)
    proba[np.arange(60), pred] = 0.7
    m = multiclass_metrics(y, proba, class_names=["0", "1", "2", "3"], n_boot=200)
    assert m["accuracy"] > 18 / 60 and m["accuracy_ci"][0] <= 18 / 60
    assert m["notes"]["accuracy"] == (
        "not shown to be better than calling every patient class '1' (0.300, the "
        "no-information rate): its interval reaches it; judge the model by each class's "
        "sensitivity"
    )
    right = np.eye(4)[y] * 0.7 + 0.075  # every patient called right
    assert "accuracy" not in multiclass_metrics(y, right, n_boot=200)["notes"]


def test_a_test_set_too_small_for_figures_still_says_the_model_gives_one_probability():
    """A trial's adapter gave its six test images 0.554 to 0.555: no figure was reported
    (too few), and each stored report read "Finding: class abnormal" with no word that the
    model hardly varies. The note is recorded without the figures' clause."""
    from medadapt.results import FLAT_SCORES

    y = np.array([0, 1, 0, 1, 1, 0])
    flat = np.array([0.5541, 0.5547, 0.5544, 0.5549, 0.5543, 0.5546])
    small = binary_metrics(y, flat, unit="image")
    assert small["auroc"] is None and small["notes"]["all"].startswith("not reported: only 6")
    assert small["notes"][FLAT_SCORES] == (
        "the model gives nearly the same probability to every image (the middle 90% between "
        "0.5542 and 0.5548): nothing here shows that it tells images apart"
    )
    varied = binary_metrics(y, np.array([0.1, 0.9, 0.2, 0.8, 0.7, 0.3]), unit="image")
    assert FLAT_SCORES not in varied["notes"]


def test_balanced_accuracy_is_never_surer_than_the_mean_of_its_parts():
    """A trial: balanced accuracy 0.944 (0.889–1.000) beside sensitivity 1.000 (0.541–1.000),
    9 of 9, and specificity 0.889 (0.630–0.989): no resample varied the positives' half."""
    y = np.array([1] * 9 + [0] * 18)
    p = np.r_[np.full(9, 0.9), np.full(16, 0.1), np.full(2, 0.8)]  # 9 of 9, 16 of 18 right
    m = binary_metrics(y, p, n_boot=300)
    sens, spec = m["sensitivity_ci"], m["specificity_ci"]
    low, high = m["balanced_accuracy_ci"]
    assert low <= (sens[0] + spec[0]) / 2 + 1e-12 and high >= (sens[1] + spec[1]) / 2 - 1e-12
    assert low < 0.8  # not 0.889: the positives' half is uncertain too


def test_a_warning_on_accuracy_does_not_send_the_reader_to_figures_not_reported():
    """A trial's site without class 'none': "accuracy 0.543 is no better than ...; judge the
    model by AUROC and balanced accuracy", both n/a. And with every patient of one class, the
    missed class was said hidden by an accuracy that is its very sensitivity."""
    names = ["none", "mild", "severe"]
    y = np.repeat([1, 2], [15, 20])  # no 'none' here
    proba = np.full((35, 3), 0.2)
    proba[:, 1] = 0.6  # every patient called 'mild': 15 of 35 right, under 20 of 35
    proba /= proba.sum(axis=1, keepdims=True)
    m = multiclass_metrics(y, proba, class_names=names, n_boot=50)
    assert m["auroc"] is None and m["balanced_accuracy"] is None
    assert m["notes"]["one_class"].endswith(
        "AUROC and balanced accuracy are not reported without patients of every class: compare "
        "models by their Brier score and calibration"
    )
    assert "judge the model by AUROC" not in m["notes"]["one_class"]
    everyone_severe = np.full(30, 2)
    found_two = np.full((30, 3), 0.1)
    found_two[:, 1], found_two[:2, 2] = 0.8, 0.9
    one = multiclass_metrics(everyone_severe, found_two / found_two.sum(1, keepdims=True),
                             class_names=names, n_boot=50)  # fmt: skip
    assert one["notes"]["missed_class"] == (
        "class 'severe' is found in 2 of 30 patients (sensitivity 0.067): every patient here is "
        "of that class, and the model almost never calls it (the accuracy, 0.067, is that "
        "sensitivity); do not rely on it for that class as it is"
    )


def test_a_mean_error_near_zero_takes_its_digits_from_its_interval():
    """A trial's train-base printed "0.032 (-10.971 to 11.809)" of an outcome of 25 to 346,
    where adapt printed "41.5 (7.2–78.1)": digits of a point near 0, not of the outcome."""
    from medadapt.evaluate.report.formatting import fmt_metric

    def shown(value, ci):
        name = "calibration_in_the_large"
        return fmt_metric({name: value, f"{name}_ci": ci}, name)

    assert shown(0.032, [-10.971, 11.809]) == "0.0 (-11.0 to 11.8)"
    assert shown(-0.032, [-10.971, 11.809]) == "0.0 (-11.0 to 11.8)"
    assert shown(41.5, [7.2, 78.1]) == "41.5 (7.2–78.1)"
    assert shown(-0.02, [-0.05, 0.01]) == "-0.020 (-0.050 to 0.010)"


def test_the_figures_at_the_threshold_equal_scikit_learn_s_to_the_bit():
    """Accuracy, balanced accuracy, sensitivity and specificity come from one confusion
    matrix: on many draws (a model calling every patient negative among them, where
    scikit-learn's zero_division=0 gives a sensitivity of 0), each is scikit-learn's own."""
    rng = np.random.default_rng(11)
    for draw in range(40):
        n = int(rng.integers(20, 300))
        y = rng.integers(0, 2, size=n)
        y[:5], y[5:10] = 0, 1  # five of each class at least: every figure is reported
        score = np.clip(0.35 * y + rng.uniform(0, 0.7, size=n), 0, 1)
        if draw == 0:  # every patient called negative
            score = score * 0.9
        threshold = 0.95 if draw == 0 else float(rng.uniform(0.2, 0.8))
        report = binary_metrics(y, score, threshold=threshold, n_boot=0)
        pred = (score >= threshold).astype(int)
        assert report["accuracy"] == skm.accuracy_score(y, pred)
        assert report["balanced_accuracy"] == skm.balanced_accuracy_score(y, pred)
        assert report["sensitivity"] == skm.recall_score(y, pred, zero_division=0)
        assert report["specificity"] == skm.recall_score(y, pred, pos_label=0, zero_division=0)
        if draw == 0:
            assert (report["sensitivity"], report["specificity"]) == (0.0, 1.0)

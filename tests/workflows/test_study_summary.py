"""What a study's summary may say: intervals in range, plateaus, more data, clear leads."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from medadapt.evaluate.report.plots import learning_curve_figure, metric_bars
from medadapt.workflows.study_summary import aggregate, conclusions


def _points(curves: dict[str, dict[float, list[float]]], *, test_half: float = 0.05, n=200):
    """Points from ``curves[strategy][fraction] = [AUROC per seed]``; each with a bootstrap
    test CI of +-``test_half``, and its AUROC on the study's shared test resamples shifted
    alike for every point (the gain between two sizes is then the same on every resample)."""
    shifts = np.linspace(-test_half, test_half, 100)
    points = []
    for strategy, by_fraction in curves.items():
        for fraction, values in by_fraction.items():
            for seed, value in enumerate(values):
                points.append(
                    {
                        "strategy": strategy,
                        "fraction": fraction,
                        "seed": seed,
                        "n_train": 0 if strategy == "base_only" else round(fraction * n),
                        "metrics": {
                            "auroc": value,
                            "auroc_ci": [value - test_half, value + test_half],
                            "brier": 1 - value,
                            "brier_ci": [1 - value - test_half, 1 - value + test_half],
                            "n": 60,
                            "resampled": {"auroc": list(value + shifts)},
                        },
                    }
                )
    return points


def _found(points):
    curves = aggregate(points, "binary")
    return curves, conclusions({"task": "binary", "points": points}, curves)


def test_intervals_never_leave_the_metric_s_range():
    points = _points({"bottleneck": {1.0: [0.999, 0.95, 0.9]}}, test_half=0.1)
    for point in points:
        point["metrics"]["brier"] = 0.001 + point["seed"] * 0.04
        point["metrics"]["brier_ci"] = [-0.05, 0.2]
    curves, _ = _found(points)
    auroc = curves["auroc"]["bottleneck"][0]
    assert auroc["ci"][1] == 1.0 and auroc["test_ci"][1] == 1.0 and auroc["total_ci"][1] == 1.0
    brier = curves["brier"]["bottleneck"][0]
    assert brier["ci"][0] == 0.0 and brier["test_ci"][0] == 0.0 and brier["total_ci"][0] == 0.0


def test_the_combined_interval_holds_the_seeds_and_the_test_set_s_near_the_ceiling():
    """A trial's AUROC near 1: the seeds' interval 0.848 to 1, the test set's 0.827 to 1, and
    the combined one 0.839 to 1 (one half-width centred on the mean, then cut at 1): narrower
    than the test set's, and the verdicts it decides called "conservative"."""
    points = _points({"lora": {1.0: [0.99, 0.93, 0.94]}}, test_half=0.0)
    for point, low in zip(points, (0.85, 0.80, 0.83), strict=True):
        point["metrics"]["auroc_ci"] = [low, 1.0]  # asymmetric: cut at the ceiling
    entry = aggregate(points, "binary")["auroc"]["lora"][0]
    seeds, test, total = entry["ci"], entry["test_ci"], entry["total_ci"]
    assert test == pytest.approx([0.8267, 1.0], abs=1e-4)
    assert total[0] <= min(seeds[0], test[0]) and total[1] == 1.0
    mean = entry["mean"]  # each side's reaches in quadrature
    assert total[0] == pytest.approx(mean - np.hypot(mean - seeds[0], mean - test[0]))


def test_a_lead_within_the_test_set_s_uncertainty_is_not_called_clear():
    seeds = {"bottleneck": {1.0: [0.80, 0.81, 0.80]}, "head_only": {1.0: [0.75, 0.76, 0.75]}}
    _, narrow = _found(_points(seeds, test_half=0.01))
    _, wide = _found(_points(seeds, test_half=0.08))
    assert narrow["best_per_size"][0]["indistinguishable_from"] == []
    assert "clearly ahead of the head-only adapter" in narrow["sentences"][0]
    assert wide["best_per_size"][0]["indistinguishable_from"] == ["head_only"]
    assert wide["sentences"][0] == (
        "With 200 target rows (100%), the bottleneck adapter has the best mean AUROC (0.803), "
        "but its interval (over seeds and test patients) overlaps the head-only adapter: no "
        "conclusion can be drawn between them."
    )


def test_one_seed_says_there_is_no_seed_interval_and_keeps_the_more_data_sentence():
    _, found = _found(
        _points({"bottleneck": {0.5: [0.70]}, "head_only": {0.5: [0.69]}}, test_half=0.05)
        + _points({"bottleneck": {1.0: [0.74]}, "head_only": {1.0: [0.70]}}, test_half=0.05)
    )
    assert (
        "its interval (test-set uncertainty only: one seed gives no seed-to-seed interval)"
        in (found["sentences"][0])
    )
    assert found["sentences"][-1] == (
        "From 50% to 100% of the target rows, the bottleneck adapter's AUROC changed by +0.040 "
        "with one seed: one seed gives no interval, so whether more data would help cannot be "
        "judged; run with --seeds 3 or more."
    )
    assert not any("its interval overlaps" in s for s in found["sentences"])


def test_an_inconclusive_gain_is_not_called_no_evidence():
    _, found = _found(_points({"bottleneck": {0.5: [0.70, 0.70, 0.70], 1.0: [0.65, 0.72, 0.78]}}))
    assert found["more_data"]["ci"][0] < 0 < 0.01 < found["more_data"]["ci"][1]
    assert found["more_data"]["inconclusive"] is True
    assert found["sentences"][-1].endswith(
        "cannot tell: the interval includes both no gain and a gain larger than 0.01 (the "
        "smallest change in AUROC counted as worth having), so more "
        "data of this kind may or may not help."
    )
    _, flat = _found(_points({"bottleneck": {0.5: [0.70, 0.71, 0.72], 1.0: [0.701, 0.709, 0.721]}}))
    assert flat["more_data"]["ci"][1] < 0.01
    assert flat["sentences"][-1].endswith(
        "no evidence that more data of this kind would help much: the interval rules out a "
        "gain larger than 0.01 (the smallest change in AUROC counted as worth having)."
    )


def test_a_plateau_is_said_plainly_only_where_the_interval_rules_out_a_gain():
    """A plateau said as "gets within 0.01 of its best AUROC from 35 rows" beside "cannot
    tell" read as "35 patients suffice" (a biostatistician's review): a plateau in the mean
    scores is qualified unless the gain's interval rules out more data helping much."""
    plain = "no larger size tried improves on that by more."
    _, flat = _found(_points({"bottleneck": {0.25: [0.60, 0.61, 0.62], 0.5: [0.70, 0.71, 0.72],
                                             1.0: [0.701, 0.709, 0.721]}}))  # fmt: skip
    assert flat["more_data"]["improving"] is False and not flat["more_data"]["inconclusive"]
    assert next(s for s in flat["sentences"] if "of its best" in s).endswith(plain)
    _, open_ = _found(_points({"bottleneck": {0.25: [0.60, 0.61, 0.62], 0.5: [0.70, 0.71, 0.72],
                                              1.0: [0.60, 0.71, 0.81]}}))  # fmt: skip
    assert open_["more_data"]["inconclusive"]
    assert next(s for s in open_["sentences"] if "of its best" in s).endswith(
        "no larger size tried improves on that by more; that reading rests on the mean scores: "
        "the interval below does not rule out that more data would help."
    )


def test_the_plateau_is_found_when_the_curve_dips_at_the_largest_size():
    _, found = _found(_points({"bottleneck": {0.25: [0.70] * 3, 0.5: [0.80] * 3, 1.0: [0.75] * 3}}))
    assert found["plateau"]["fraction"] == 0.5
    expected = (  # seeds that agree exactly: no interval, no verdict, none pointed to
        "The bottleneck adapter gets within 0.01 of its best AUROC from 100 rows (50%); no "
        "larger size tried improves on that by more (at the largest size it scores 0.750, "
        "lower than at 100 rows); that reading rests on the mean scores, which alone cannot "
        "show whether more data would help."
    )
    assert expected in found["sentences"]


def test_no_plateau_names_the_largest_size_tried_when_it_is_not_all_rows():
    _, found = _found(_points({"bottleneck": {0.25: [0.70] * 3, 0.5: [0.80] * 3}}))
    assert (
        "The bottleneck adapter only reaches its best AUROC at the largest size tried (100 rows, "
        "50%): no plateau within this data."
    ) in found["sentences"]


def test_learning_curves_stay_in_range_one_panel_per_strategy_on_a_log_axis():
    bands = {
        "base model only": [(10, 0.7, 0.6, 0.8), (200, 0.7, 0.6, 0.8)],
        **{
            f"strategy {i}": [(10, 0.8, 0.4, 1.2), (50, 0.9, 0.7, 1.1), (200, 0.95, 0.9, 1.006)]
            for i in range(5)
        },
    }
    fig = learning_curve_figure(
        bands, title="t", ylabel="AUROC", limits=(0.0, 1.0), reference="base model only"
    )
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == [f"strategy {i}" for i in range(5)]
    assert all(ax.get_xscale() == "log" for ax in shown)
    # within the metric's range but for a margin: a curve at exactly 1.000 is not cut off
    assert all(ax.get_ylim()[0] >= -0.03 and 1.0 < ax.get_ylim()[1] <= 1.03 for ax in shown)
    matplotlib.pyplot.close(fig)


def test_bars_keep_their_marks_inside_and_say_which_slot_was_not_run():
    groups = {
        "A": {"base model": {"auroc": 0.8, "auroc_ci": [0.7, 0.9]}},
        "C": {"base model": {"auroc": None}, "with its adapter": {"auroc": None}},
        "D": {"base model": {"auroc": None}, "with its adapter": {"auroc": None}},
    }
    fig = metric_bars(groups, metric="auroc", title="t", absent="no adapter")
    ax = fig.axes[0]
    marks = [(t.get_text(), t.get_position()[0]) for t in ax.texts]
    assert sorted(text for text, _ in marks) == ["n/a", "n/a", "n/a", "n/a", "no adapter"]
    low, high = ax.get_xlim()
    assert all(low <= x <= high for _, x in marks)
    assert ax.get_ylabel() == "AUROC"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["base model"]
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("values", [["<50", "50-64", ">=65", "unknown"]])
def test_age_bands_read_in_age_order(values):
    from medadapt.evaluate.report.formatting import natural_order

    assert natural_order(reversed(values)) == values


def test_an_accuracy_bar_chart_draws_what_calling_everyone_one_class_scores():
    groups = {"VA": {"base model": {"accuracy": 0.68, "accuracy_ci": [0.6, 0.75]}},
              "Swiss": {"base model": {"accuracy": 0.82, "accuracy_ci": [0.7, 0.9]}}}  # fmt: skip
    everyone = {"VA": 0.75, "Swiss": 0.94}
    fig = metric_bars(groups, metric="accuracy", title="t", reference=("everyone", everyone))
    ax = fig.axes[0]
    dashed = [c for c in ax.collections if c.get_label() == "everyone"]  # one per group
    heights = sorted(round(float(seg[0][1]), 2) for c in dashed for seg in c.get_segments())
    assert heights == [0.75, 0.94]
    assert "everyone" in [t.get_text() for t in ax.get_legend().get_texts()]
    matplotlib.pyplot.close(fig)


def test_without_an_auroc_a_binary_study_compares_by_brier_score_not_by_accuracy():
    """2 held-out patients without the outcome among 37: AUROC is not estimable and accuracy
    mostly rewards calling everyone positive (0.946 here), so the summary must not rank the
    strategies by accuracy; it compares their Brier scores, and says why and what that hides."""
    points = _points({"base_only": {1.0: [0.8]}, "bottleneck": {0.25: [0.96, 0.95],
                                                                1.0: [0.97, 0.96]}})  # fmt: skip
    for point in points:
        metrics = point["metrics"]
        metrics["accuracy"], metrics["accuracy_ci"] = 0.95, [0.86, 1.0]
        metrics["auroc"] = metrics["auroc_ci"] = None
        metrics["notes"] = {"auroc": "not reported: 2 negatives among 37 patients"}
    _, found = _found(points)
    assert found["metric"] == "brier"
    assert found["sentences"][0] == (
        "AUROC could not be estimated (too few held-out patients without or with the outcome) "
        "and accuracy there mostly rewards calling every patient the commoner outcome, so the "
        "strategies are compared by their Brier score (how close the predicted risks are to "
        "what happened; lower is better) instead. A lower Brier score can come from moving "
        "every risk towards this group's prevalence rather than from telling patients with "
        "the outcome from those without: whether any strategy separates them cannot be "
        "assessed here."
    )
    assert not any("accuracy" in s for s in found["sentences"][1:])
    assert found["sentences"][1].startswith("With 50 target rows (25%), the bottleneck adapter")
    assert "Brier score 0.045" in found["sentences"][1]


def test_a_brier_score_that_rises_at_the_largest_size_is_called_higher_not_lower():
    points = _points({"bottleneck": {0.25: [0.96] * 3, 0.5: [0.97] * 3, 1.0: [0.95] * 3}})
    for point in points:
        point["metrics"]["auroc"] = point["metrics"]["auroc_ci"] = None
    _, found = _found(points)
    assert found["metric"] == "brier"
    assert (
        "The bottleneck adapter gets within 0.005 of its best Brier score (2% of the 0.25 "
        "scored by giving every patient the group's share of each outcome) from 100 rows "
        "(50%); no "
        "larger size tried improves on that by more (at the largest size it scores 0.050, "
        "higher (worse) than at 100 rows); that reading rests on the mean scores, which alone "
        "cannot show whether more data would help."  # no Brier resamples: no verdict below
    ) in found["sentences"]


def _brier_drop_of_a_thousandth(points: list[dict]) -> None:
    """Make ``points`` (at 50% and 100%) Brier-scored only: 0.015 then 0.014, a little apart
    by seed, with test resamples that leave the gain between the sizes open."""
    for point in points:
        point["metrics"]["auroc"] = point["metrics"]["auroc_ci"] = None
        point["metrics"]["brier"] = (0.0150 if point["fraction"] == 0.5 else 0.0140) + (
            0.0001 * point["seed"] * point["fraction"])  # fmt: skip
        spread = np.linspace(-0.01, 0.01, 100) * (1 if point["fraction"] == 0.5 else -1)
        point["metrics"]["resampled"] = {"brier": list(point["metrics"]["brier"] + spread)}


def test_the_brier_change_worth_having_scales_with_the_outcome_s_rarity():
    """A fixed 0.005 was 30% of all there is to gain at a prevalence of 0.016 (the Brier score
    of predicting it for everyone, 0.0157): it is 2% of that uninformed score, 0.005 at a
    prevalence of 0.5, and the sentence says where the figure comes from."""
    from medadapt.workflows.study_sentences import worth_having

    def at(prevalence):
        points = _points({"bottleneck": {0.5: [0.9] * 3, 1.0: [0.9] * 3}})
        for point in points:
            point["metrics"]["prevalence"] = prevalence
        return points

    assert worth_having("brier", at(0.5)) == pytest.approx(0.005)
    assert worth_having("brier", at(0.016)) == pytest.approx(0.02 * 0.016 * 0.984)
    assert worth_having("auroc", at(0.016)) is None
    several = [{"metrics": {"n": 60, "class_counts": [30, 20, 10]}}]
    assert worth_having("brier", several) == pytest.approx(0.02 * (1 - (0.25 + 1 / 9 + 1 / 36)))
    points = at(0.016)
    _brier_drop_of_a_thousandth(points)
    _, found = _found(points)
    assert found["metric"] == "brier"  # a drop of 0.001 is worth having: no plateau before
    assert found["plateau"]["fraction"] == 1.0
    assert found["plateau"]["tolerance"] == pytest.approx(0.02 * 0.016 * 0.984)
    assert found["sentences"][-1].endswith(
        "cannot tell: the interval includes both no gain and a gain (a fall in the Brier "
        "score) larger than 0.000315 (the "
        "smallest change in Brier score counted as worth having: 2% of the Brier score of "
        "predicting the test group's outcome shares for everyone), so more data of this kind "
        "may or may not help."
    )


def test_a_fixed_brier_change_worth_having_is_not_called_a_share():
    """Without the test group's prevalence, the fixed 0.005 was still said to be "2% of the
    Brier score of predicting the test group's outcome shares"."""
    points = _points({"bottleneck": {0.5: [0.9] * 3, 1.0: [0.9] * 3}})
    _brier_drop_of_a_thousandth(points)
    _, found = _found(points)
    assert found["metric"] == "brier" and found["more_data"]["inconclusive"] is True
    assert found["sentences"][-1].endswith(
        "cannot tell: the interval includes both no gain and a gain (a fall in the Brier "
        "score) larger than 0.005 (the "
        "smallest change in Brier score counted as worth having, a fixed figure where the test "
        "group's outcome shares are not recorded), so more data of this kind may or may not "
        "help."
    )


def test_a_plateau_with_no_gain_sentence_points_to_no_interval():
    """One seed: no interval follows, so the plateau's qualifier names none."""
    from medadapt.workflows.study_sentences import _as_means

    said = "The bottleneck adapter gets within 0.01 of its best AUROC from 50 rows (25%)."
    one_seed = {"improving": None, "ci": None, "sentence": "... with one seed: ..."}
    expected = (
        "The bottleneck adapter gets within 0.01 of its best AUROC from 50 rows (25%); that "
        "reading rests on the mean scores, which alone cannot show whether more data would help."
    )
    assert _as_means(said, one_seed) == _as_means(said, None) == expected
    assert _as_means(said, {"improving": True, "inconclusive": False}) == (
        "The bottleneck adapter gets within 0.01 of its best AUROC from 50 rows (25%); that "
        "reading rests on the mean scores: the interval below shows the curve still improving."
    )


def test_a_change_over_two_seeds_never_leaves_minus_one_to_one():
    """'the bottleneck adapter's AUROC changed by -0.074 (95% CI -1.491 to +1.343, over 2
    seeds ...)': a difference of two AUROCs lies within -1 and +1."""
    from medadapt.workflows.study_sentences import last_gain

    points = _points({"bottleneck": {0.5: [0.60, 0.95], 1.0: [0.95, 0.45]}}, test_half=0.02)
    gain = last_gain(points, "bottleneck", "auroc", "rows")
    # and within what the mean of 0.775 at the smaller size allows: down to an AUROC of 0
    assert gain["ci"][0] == pytest.approx(-0.775) and gain["ci"][1] <= 0.225 + 1e-12
    assert "95% CI -0.775 to " in gain["sentence"]


def test_strategies_with_the_same_mean_have_no_best_and_one_class_calls_are_warned():
    """A trial: every strategy scored AUROC 0.9375 at every size (the same ranking), yet the
    summary named the base model 'best'; every point noted that every image was called
    'nodule', which the summary never said."""
    seeds = {"base_only": {1.0: [0.9375]}, "bottleneck": {0.5: [0.9375], 1.0: [0.9375] * 2},
             "head_only": {0.5: [0.9375], 1.0: [0.9375] * 2}}  # fmt: skip
    points = _points(seeds)
    for point in points:
        point["metrics"]["notes"] = {"one_class": "every image is called 'nodule': ..."}
    _, found = _found(points)
    # no best in study.json either, where the text says "none of them is the best"
    assert [(b["best"], b["level_with"]) for b in found["best_per_size"]] == [
        (None, ["base_only", "head_only", "bottleneck"])
    ] * 2
    assert (
        "With 200 target rows (100%), the base model without adapter, the head-only adapter and "
        "the bottleneck adapter have the same mean AUROC (0.938): none of them is the best at "
        "this size."
    ) in found["sentences"]
    assert not any("best mean" in s or "is best" in s or "best strategy" in s
                   for s in found["sentences"])  # fmt: skip
    assert found["sentences"][0] == (
        "Warning: the accuracy says little for the base model without adapter; the bottleneck "
        "adapter at 50%, 100%; the head-only adapter at 50%, 100%: the model calls (nearly) "
        "every one of the held-out rows the same class, or does no better than calling "
        "everyone the commonest class, at the decision threshold. Judge them by AUROC, "
        "balanced accuracy and calibration, not accuracy."
    )


def test_a_best_strategy_that_calls_everyone_one_class_says_so_in_its_sentence():
    """A trial's head-only adapter was "best mean AUROC (1.000)" with a balanced accuracy of
    0.5 in all six runs, said only in a separate warning: the best sentence says it too."""
    points = _points({"head_only": {1.0: [0.95, 0.96]}, "bottleneck": {1.0: [0.70, 0.72]}})
    for point in points:
        if point["strategy"] == "head_only":
            point["metrics"]["notes"] = {"one_class": "every patient is called '1' ..."}
    _, found = _found(points)
    best = next(s for s in found["sentences"] if "the head-only adapter" in s and "best" in s)
    assert best.endswith(
        " Yet at the decision threshold it calls (nearly) all the held-out rows one class in each "
        "run: its ranking is no decision rule yet (the warning on accuracy)."
    )
    points[0]["metrics"]["notes"] = {}  # one run that does not: no caveat
    _, found = _found(points)
    assert not any("no decision rule" in s for s in found["sentences"])


def test_the_plateau_lines_say_which_adapter_they_follow_when_another_strategy_is_best():
    """A trial's plateau line was about the bottleneck adapter, without saying why, while the
    best strategy was the new model trained on the target alone."""
    curves = {"bottleneck": {0.25: [0.63] * 3, 1.0: [0.61] * 3},
              "scratch_local": {0.25: [0.65] * 3, 1.0: [0.62] * 3}}  # fmt: skip
    _, found = _found(_points(curves))
    at = found["sentences"].index(
        "The next lines follow the bottleneck adapter, the adapter method this study judges "
        "(the first it ran of the bottleneck, LoRA, DoRA, IA3 and head-only adapters, whatever "
        "its score); the best mean AUROC with 200 target rows (100%) came from the new model "
        "on the target data only."
    )
    assert found["sentences"][at + 1].startswith("The bottleneck adapter gets within 0.01")
    _, alone = _found(_points({"bottleneck": curves["bottleneck"]}))
    assert not any(s.startswith("The next lines follow") for s in alone["sentences"])


def test_several_classes_without_an_auroc_are_ranked_by_the_brier_score():
    """A trial's five-class study warned that accuracy says little ("judge them by AUROC,
    balanced accuracy ...", neither estimated) and then ranked its strategies by accuracy."""
    from medadapt.workflows.study_summary import BY_BRIER_CLASSES

    points = _points({"bottleneck": {1.0: [0.8, 0.81]}, "head_only": {1.0: [0.7, 0.71]}})
    for point in points:
        point["metrics"].update(auroc=None, auroc_ci=None, accuracy=0.5, accuracy_ci=[0.4, 0.6],
                                notes={"one_class": "every patient is called '0' ..."})  # fmt: skip
    curves = aggregate(points, "multiclass")
    found = conclusions({"task": "multiclass", "points": points}, curves)
    assert found["metric"] == "brier" and BY_BRIER_CLASSES in found["sentences"]
    warned = next(s for s in found["sentences"] if s.startswith("Warning: the accuracy"))
    assert warned.endswith(
        "or does no better than calling everyone the commonest class. Judge them by the Brier "
        "score and calibration (AUROC and balanced accuracy could not be estimated), not "
        "accuracy."
    )


def test_a_study_of_a_measured_outcome_prints_errors_to_three_significant_figures():
    """A trial's regression study said "best mean MAE (49.514)" and "changed by -5.340 (95%
    CI -29.293 to +18.612)" where its tables print MAE 44.6: digits beyond the third are
    noise in the label's unit."""
    shifts = np.linspace(-6.0, 6.0, 100)
    points = []
    curves = {
        "bottleneck": {0.5: [55.2, 54.1, 56.3], 1.0: [49.6, 49.1, 49.8]},
        "head_only": {1.0: [52.4, 53.3, 51.9]},
    }
    for strategy, by_fraction in curves.items():
        for fraction, values in by_fraction.items():
            for seed, value in enumerate(values):
                metrics = {"mae": value, "mae_ci": [value - 6.0, value + 6.0], "n": 60,
                           "resampled": {"mae": list(value + shifts)}}  # fmt: skip
                points.append({"strategy": strategy, "fraction": fraction, "seed": seed,
                               "n_train": round(fraction * 200), "metrics": metrics})  # fmt: skip
    curves = aggregate(points, "regression")
    found = conclusions({"task": "regression", "points": points}, curves)
    said = " ".join(found["sentences"])
    assert "has the best mean MAE (49.5), but" in said
    gain = next(s for s in found["sentences"] if s.startswith("From 50% to 100%"))
    assert gain.startswith(  # three significant figures of the interval's largest end
        "From 50% to 100% of the target rows, the bottleneck adapter's MAE changed by -5.70 "
        "(95% CI -7.58 to -3.82, over 3 seeds and the 60 test rows)"
    )


def test_a_change_between_sizes_stays_within_what_the_metric_allows():
    """A trial: "AUROC changed by +0.003 (95% CI -0.034 to +0.040)" at an AUROC of 0.997,
    which can gain 0.003 at most."""
    from medadapt.workflows.study_sentences import last_gain

    points = _points({"bottleneck": {0.5: [0.995, 0.996, 0.997], 1.0: [0.998, 0.999, 0.997]}},
                     test_half=0.05)  # fmt: skip
    gain = last_gain(points, "bottleneck", "auroc", "rows")
    assert gain["ci"][1] <= 1 - 0.996 + 1e-12 and gain["ci"][0] < 0
    # and the cut is said: a trial read "-0.057 (95% CI -0.057 to +0.120)" as impossible
    assert ", its upper end cut where the AUROC reaches 1):" in gain["sentence"]
    brier = _points({"bottleneck": {0.5: [0.83, 0.999, 0.9999], 1.0: [1.0, 1.0, 1.0]}},
                    test_half=0.05)  # Brier 1 - value: 0.17, 0.001, 0.0001 then 0  # fmt: skip
    fell = last_gain(brier, "bottleneck", "brier", "rows")
    assert fell["ci"][0] == pytest.approx(-np.mean([0.17, 0.001, 0.0001]))
    cut = "over 3 seeds, its lower end cut where the Brier score reaches 0, on "
    assert cut in fell["sentence"]
    level = last_gain(_points({"bottleneck": {0.5: [0.80, 0.82, 0.81], 1.0: [0.83, 0.80, 0.84]}},
                              test_half=0.02), "bottleneck", "auroc", "rows")  # fmt: skip
    assert "cut where" not in level["sentence"]


def test_an_error_s_curve_that_still_improves_is_said_to_fall():
    """A trial's MAE fell by 7.3 (95% CI -12.4 to -2.3) and the study said "the curve is
    still rising", which reads as getting worse; an AUROC's still rises."""
    from medadapt.workflows.study_sentences import _gain_verdict

    assert _gain_verdict((-12.4, -2.3), "mae", 5.0, "5")[:2] == (True, False)
    assert _gain_verdict((-12.4, -2.3), "mae", 5.0, "5")[2] == (
        "the curve is still falling: more data of this kind would likely help"
    )
    assert _gain_verdict((0.02, 0.08), "auroc", 0.01, "0.01")[2] == (
        "the curve is still rising: more data of this kind would likely help"
    )


def test_a_class_the_strategies_almost_never_call_is_a_warning_in_the_summary():
    """A trial's three-class study recorded 'missed_class' at all 21 points (the base found 0
    of 28 'severe', every adapter 0 to 2 of 17 'mild'); neither its summary nor its report
    said it, where adapt and evaluate warn of it."""
    points = _points({"base_only": {1.0: [0.64]}, "lora": {0.5: [0.62, 0.63], 1.0: [0.66, 0.65]}})
    for point in points:
        missed = "severe" if point["strategy"] == "base_only" else "mild"
        found = 2 if point["seed"] == 0 and point["strategy"] == "lora" else 0
        if point["strategy"] == "lora" and point["fraction"] == 0.5 and point["seed"] == 1:
            found = 9  # 9 of 17: found at times, no note
        point["per_class"] = [
            {"class": missed, "n": 17, "sensitivity": found / 17},
            {"class": "none", "n": 15, "sensitivity": 0.47},
        ]
        if found <= 0.2 * 17:
            point["metrics"]["notes"] = {"missed_class": f"class {missed!r} is found in ..."}
    _, said = _found(points)
    assert said["missed_class"] == (
        "Warning: a class is almost never called (found in a fifth of its held-out rows or "
        "fewer) by the base model without adapter ('severe'); the LoRA adapter at 50% (1 of 2 "
        "seeds), 100% ('mild'): the mean AUROC and accuracy do not show it; do not rely on "
        "those models for that class as they are (each point's sensitivity per class: "
        "study.json)."
    )
    assert said["missed_class"] in said["sentences"]
    for point in points:
        point["metrics"].pop("notes", None)
    assert _found(points)[1]["missed_class"] is None


def test_strategies_level_on_auroc_are_told_apart_by_their_calls_and_risks():
    """A trial's study: base model and adapters all at AUROC 1.000, "none of them is the
    best", where the base found 1 of 7 nodules (balanced accuracy 0.571) and the adapters all
    7: what differs beyond the ranking is said with the level ones."""
    seeds = {"base_only": {1.0: [1.0]}, "head_only": {1.0: [1.0, 1.0]}}
    points = _points(seeds)
    for point in points:
        base = point["strategy"] == "base_only"
        point["metrics"].update(
            balanced_accuracy=0.571 if base else 1.0, balanced_accuracy_ci=[0.3, 1.0],
            brier=0.213 if base else 0.019, brier_ci=[0.0, 0.3],
        )  # fmt: skip
    _, found = _found(points)
    assert (
        "With 200 target rows (100%), the base model without adapter and the head-only adapter "
        "have the same mean AUROC (1.000): by AUROC none of them is the best at this size. "
        "AUROC judges only how they rank the rows; their other means differ: balanced accuracy "
        "(their calls at the decision threshold) 0.571 for the base model without adapter and "
        "1.000 for the head-only adapter, all of their intervals overlapping; Brier score "
        "(their risks) 0.213 for the base model without adapter and 0.019 for the head-only "
        "adapter, all of their intervals overlapping."
    ) in found["sentences"]
    for point in points:  # the base's Brier interval apart from the adapter's
        base = point["strategy"] == "base_only"
        point["metrics"]["brier_ci"] = [0.17, 0.26] if base else [0.0, 0.04]
    said = next(s for s in _found(points)[1]["sentences"] if "Brier" in s)
    assert said.endswith("0.019 for the head-only adapter, some of their intervals apart.")
    for point in points:  # only the calls differ: only they are said
        point["metrics"].update(brier=0.1, brier_ci=[0.0, 0.3])
    said = next(s for s in _found(points)[1]["sentences"] if "same mean AUROC" in s)
    assert "balanced accuracy" in said and "Brier" not in said

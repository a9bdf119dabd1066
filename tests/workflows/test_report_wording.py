"""What a clinician reads in the reports: the right metrics beside the base model, what each
metric means, no interval that reads as certainty, notes that say which row they concern, and
the study's sample-size section in words."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import numpy as np
import pytest

from medadapt.evaluate.report import Report
from medadapt.evaluate.versus_base import versus_base
from medadapt.results import discrimination_in_words
from medadapt.workflows.demo_report import strategy_notes, strategy_row
from medadapt.workflows.report_sections import auroc_line, reading_guide, side_by_side
from medadapt.workflows.reports import adapt_report, evaluation_report
from medadapt.workflows.study_report import _card, _data_summary, _sample_size
from medadapt.workflows.study_sentences import last_gain, t_interval


def _text(report: Report) -> str:
    page = re.sub(r'src="data:[^"]+"', "", report.render())
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _binary(value: float, ci: tuple[float, float], **more) -> dict:
    metrics = {"n": 60, "n_positive": 45, "prevalence": 0.75, "threshold": 0.5, "notes": {}}
    for m in ("auroc", "auprc", "accuracy", "balanced_accuracy", "sensitivity", "specificity",
              "brier", "ece"):  # fmt: skip
        metrics[m], metrics[f"{m}_ci"] = value, list(ci)
    return {**metrics, **more}


def _regression(mae: float) -> dict:
    return {"n": 43, "mae": mae, "mae_ci": [mae - 9, mae + 9], "rmse": mae + 10,
            "rmse_ci": [mae, mae + 20], "r2": 0.45, "r2_ci": [0.15, 0.65], "notes": {}}  # fmt: skip


def test_a_regression_adapter_is_shown_beside_the_base_on_its_own_metrics():
    report = Report(title="t")
    side_by_side(report, _regression(38.8), _regression(43.5), "base model")
    text = _text(report)
    assert "MAE 38.8 (29.8–47.8) 43.5 (34.5–52.5)" in text  # the unit's digits, not noise
    assert "AUROC" not in text and "n/a" not in text
    calibrated = {
        "calibration_slope": 1.16,
        "calibration_slope_ci": [1.0, 1.3],
        "calibration_in_the_large": 17.0,
        "calibration_in_the_large_ci": [5.0, 29.0],
    }
    after = {**_regression(38.8), "calibration_in_the_large": -13.9,
             "calibration_in_the_large_ci": [-27.1, -1.2]}  # fmt: skip
    both = Report(title="t")
    side_by_side(both, after, {**_regression(43.5), **calibrated}, "base model")
    # the base predicted too low, the adapter over-corrected: said beside each other
    assert "mean observed − predicted -13.9 (-27.1 to -1.2) 17.0 (5.0–29.0)" in _text(both)


def test_a_binary_adapter_beside_the_base_shows_sensitivity_and_specificity():
    report = Report(title="t")
    side_by_side(report, _binary(0.9, (0.8, 0.95)), _binary(0.6, (0.4, 0.7)), "base model")
    text = _text(report)
    # 60 patients, 45 with the outcome: specificity rests on 15, and says so
    assert "specificity 0.900 (0.800–0.950); 14 of 15 0.600 (0.400–0.700); 9 of 15" in text


def _adapt_summary(task: str, metrics: dict, base: dict) -> dict:
    return {
        "name": "b_bottleneck", "method": "bottleneck", "task": task, "new_classes": [],
        "classes": ["0", "1"] if task == "binary" else [], "trainable_params": 8577,
        "metrics": metrics, "base_metrics": base,
        "data_summary": {"group": "B", "n_train": 99, "n_test": 43},
    }  # fmt: skip


def test_the_adapt_report_says_how_the_base_model_scored_and_what_the_metrics_mean():
    summary = _adapt_summary("regression", _regression(38.8), _regression(43.5))
    curves = {"y": np.zeros(3), "scores": np.zeros(3)}
    text = _text(adapt_report(summary, curves, SimpleNamespace(noun="rows")))
    assert "Mean absolute error 38.8 (29.8–47.8) (in the outcome's unit)." in text
    assert (
        "Before the adapter, the base model alone scores MAE 43.5 (34.5–52.5) on the same rows"
        in text
    )
    assert "How to read these numbers" in text
    assert "MAE (mean absolute error): the typical size of a prediction's error" in text


def test_a_regression_adapter_scored_on_too_few_rows_is_not_said_to_lack_an_auroc():
    """A trial's regression report on 9 test rows said "All classes: AUROC not reported: only
    9 patients": a measured outcome has no classes and no AUROC."""
    unmeasured = {"n": 9, "notes": {"all": "not reported: only 9 patients"}}
    summary = _adapt_summary("regression", unmeasured, unmeasured)
    curves = {"y": np.zeros(3), "scores": np.zeros(3)}
    text = _text(adapt_report(summary, curves, SimpleNamespace(noun="rows")))
    assert "All classes" not in text and "AUROC" not in text
    assert "Trained 8,577 parameters on 99 rows; scored on 43 held-out rows." in text
    aside = _text(adapt_report({**summary, "n_val": 6}, curves, SimpleNamespace(noun="rows")))
    assert (
        "Trained 8,577 parameters on 99 rows (6 of them set aside to choose when to stop); "
        "scored on 43 held-out rows."
    ) in aside  # (a trial read 29 rows of 23 learnt from)


def test_the_reports_repeat_what_the_terminal_warned_about_the_data():
    """A reader of the HTML alone must see that a column gives the label away in the rows
    scored, or that values lie far outside the training rows: before, only the terminal said."""
    far = "1 of 200 rows has a value over 6 SDs from the mean of the rows the base model trained on"
    leak = "column 'num' (AUROC 1.000) alone predicts 'disease' almost perfectly in the rows scored"
    summary = {**_adapt_summary("regression", _regression(38.8), _regression(43.5)),
               "warnings": [far, far]}  # fmt: skip
    curves = {"y": np.zeros(3), "scores": np.zeros(3)}
    text = " ".join(_text(adapt_report(summary, curves, SimpleNamespace(noun="rows"))).split())
    assert f"Warnings about the data {far[0].upper()}{far[1:]} Metrics" in text  # said once
    y = np.array([0, 1] * 20)
    scores = np.linspace(0.1, 0.9, 40)
    text = " ".join(_text(_evaluated(y, scores, scores, leak_warnings=[leak],
                                     data_warnings=[far])).split())  # fmt: skip
    assert "Warnings about the data Column 'num' (AUROC 1.000) alone predicts" in text
    assert f"{far[0].upper()}{far[1:]}" in text
    assert "Warnings about the data" not in _text(_evaluated(y, scores, scores))


def test_a_binary_adapt_summary_does_not_speak_of_all_classes():
    summary = _adapt_summary("binary", _binary(0.68, (0.54, 0.82)), _binary(0.66, (0.5, 0.8)))
    curves = {"y": np.array([0, 1, 0, 1]), "scores": np.array([0.2, 0.8, 0.3, 0.6])}
    text = _text(adapt_report(summary, curves, SimpleNamespace(noun="rows")))
    assert "All classes" not in text
    assert "Discrimination: AUROC 0.68 (0.54–0.82)" in text
    # in words, as evaluate's report says it (a trial's adapter report lacked them)
    assert "AUROC 0.68 (0.54–0.82): better than chance, but how much better is uncertain" in text


def test_an_adapt_summary_says_an_interval_reaching_chance():
    summary = _adapt_summary("binary", _binary(0.63, (0.46, 0.80)), _binary(0.64, (0.47, 0.8)))
    curves = {"y": np.array([0, 1, 0, 1]), "scores": np.array([0.2, 0.8, 0.3, 0.6])}
    text = " ".join(_text(adapt_report(summary, curves, SimpleNamespace(noun="rows"))).split())
    assert (
        "Discrimination: AUROC 0.63 (0.46–0.80): not shown to be better than chance (the "
        "interval reaches 0.50); the true value is likely between 0.46 and 0.80."
    ) in text


def test_the_guide_compares_auprc_with_the_prevalence_and_names_the_threshold():
    lines = reading_guide(["auprc", "sensitivity"], threshold=0.3, prevalence=0.75)
    assert "A model with no skill scores the prevalence (here 75%" in lines[0]
    assert "at a risk threshold of 0.3" in lines[1]
    assert lines[-1].startswith("95% CI (in brackets)")


def _evaluated(y, after, before, task="binary", **more):
    result = {
        **(_binary(0.9, (0.8, 0.95)) if task == "binary" else _regression(38.8)),
        "n": len(y), "task": task, "rows_used": f"the adapter's {len(y)} held-out rows",
        "adapter": "b_bottleneck", "trainable_params": 8577, "adapter_bytes": 40000,
        "subgroups": {}, **more,
    }  # fmt: skip
    metric = "auroc" if task == "binary" else "mae"  # as evaluate pairs them
    result["base_comparison"] = {
        "overall": _binary(0.85, (0.75, 0.9)) if task == "binary" else _regression(43.5),
        "subgroups": {}, "versus_base": versus_base(y, after, before, metric=metric),
    }  # fmt: skip
    return evaluation_report(result, {"y": y, "scores": after, "base_scores": before})


def test_a_paired_difference_without_spread_is_not_printed_as_a_certain_zero():
    y = np.array([0] * 20 + [1] * 20)
    perfect = np.linspace(0.01, 0.99, 40)  # both models separate the classes perfectly,
    shuffled = np.r_[perfect[:20][::-1], perfect[20:][::-1]]  # in another order within each
    text = _text(_evaluated(y, perfect, shuffled))
    assert "+0.000 to +0.000" not in text
    assert "score the same AUROC in every resample of these patients" in text


def test_a_regression_card_speaks_of_the_outcome_not_of_prevalence_and_no_missing_is_said():
    rng = np.random.default_rng(0)
    y = rng.normal(150, 50, 40)
    report = _evaluated(y, y + rng.normal(0, 30, 40), y + rng.normal(0, 35, 40),
                        task="regression", missing_values={})  # fmt: skip
    text = _text(report)
    assert "prevalence" not in text
    assert "watch the errors as the measured value's distribution shifts" in text
    assert "No feature is missing for any of the 40 patients." in text
    # the card's figures with three significant figures, as the summary's (a trial's card read
    # "MAE 43.08 (36.32–49.96)" beside "43.1 (36.3–50.0)")
    assert "MAE 38.8 (29.8–47.8); RMSE 48.8 (38.8–58.8). The base model alone: MAE 43.5" in text


def test_a_demo_note_names_the_strategies_it_concerns():
    strategies = {
        "base_only": {"notes": {"one_class": "accuracy is no better"}},
        "head_only": {"notes": {"one_class": "every patient is called positive"}},
        "bottleneck": {
            "notes": {
                "one_class": "every patient is called positive",
                "auroc": "not reported: 3 negatives",
                "specificity": "not reported: 3 negatives",
            }
        },
    }
    assert strategy_notes(strategies) == [
        "base model without adapter: accuracy is no better",
        "head-only adapter, bottleneck adapter: every patient is called positive",
        # the centre's test set's count, exact as the summary and results.json give it
        "bottleneck adapter: AUROC, specificity: not reported: 3 negatives",
    ]


def test_a_demo_row_shows_size_and_time_to_one_decimal_and_none_for_the_base():
    base = strategy_row("base_only", {"n_train": 0, "trainable_params": 0, "adapter_bytes": 0,
                                      "train_seconds": 0.0})  # fmt: skip
    trained = {"n_train": 120, "trainable_params": 8577, "adapter_bytes": 35942,
               "train_seconds": 2.48}  # fmt: skip
    adapter = strategy_row("bottleneck", trained)
    assert base[-2:] == ["–", "–"]
    assert adapter[-2:] == ["35.1", "2.5"]


def _study(n_test: int = 60) -> dict:
    return {
        "config": {"strategies": ["base_only", "bottleneck"], "fractions": [0.25, 1.0]},
        "data": {"target_group": "VA Long Beach", "n_target_test": 60},
        "sample_size": {
            "outcome": "prevalence 0.745", "r2_label": "Cox-Snell R-squared", "r2": 0.102,
            "r2_source": "conservative default", "source": "Riley et al.", "n_train": 140,
            "n_test": n_test, "test_needs": {"O/E": 132, "C (assumed 0.7)": 547},
            "strategies": {"bottleneck": {"parameters": 8577, "n_needed": 714450,
                                          "criterion": "i", "met": False}},
        },
        "points": [
            {"strategy": "bottleneck", "fraction": 1.0, "seed": seed, "n_train": 140,
             "trainable_params": 8577, "metrics": {"auroc": v, "auroc_ci": [v - 0.15, v + 0.15]}}
            for seed, v in enumerate([0.69, 0.64])
        ],
    }  # fmt: skip


def test_the_study_s_sample_size_section_names_its_criteria_and_says_what_they_mean():
    report = Report(title="t")
    _sample_size(report, _study())
    text = _text(report)
    assert "(i) little overfitting" in text
    assert (
        "What this means: 60 held-out patients are fewer than needed for a precise "
        "observed/expected ratio and C-statistic (AUROC)" in text
    )
    enough = Report(title="t")
    _sample_size(enough, _study(n_test=600))
    assert "What this means" not in _text(enough)
    # a trial found its terms nowhere explained: each is, in the section itself
    for term in ("Criterion (i):", "Criterion (ii):", "Criterion (iii):",
                 "Events per parameter:", "C-statistic: another name for the AUROC",
                 "Newcombe's score interval:", "Peduzzi et al.'s rule of thumb"):  # fmt: skip
        assert term in text, term
    from medadapt.workflows.study_report import sample_size_words

    assert sample_size_words("binary", "Cox-Snell R-squared").startswith(
        "The words of this section. Cox-Snell R-squared: how much of the outcome"
    )
    measured = sample_size_words("regression", "R-squared")  # no events, AUROC nor Newcombe
    assert measured.startswith("The words of this section. R-squared: the share of the ")
    assert not any(w in measured for w in ("Events", "C-statistic", "Newcombe", "Cox-Snell"))
    # criterion (iii) as each outcome's is (a three-class study read "the average risk (or,
    # for a measured value, the spread of the errors)")
    assert (
        "Criterion (iii): the spread of the errors (residual SD) estimated within 10%" in measured
    )
    assert measured.endswith(  # as check-data's legend has it (a trial found it there only)
        "Criterion (iv): the mean outcome estimated within 10% (not applied where the "
        "outcome's values lie on both sides of 0, around a mean near 0)."
    )
    classes = sample_size_words("multiclass", "Cox-Snell R-squared")
    assert "Criterion (iv)" not in classes + sample_size_words("binary")
    assert "Criterion (iii): each class's share of the patients estimated within 0.05" in classes
    assert "Criterion (iii): the average risk estimated within 0.05" in sample_size_words("binary")


def test_the_study_s_adapter_card_gives_each_seed_s_interval():
    report = Report(title="t")
    _card(report, _study(), {"metric": "auroc"})
    text = _text(report)
    assert "AUROC (95% CI over test patients) for each of 2 seeds: 0.69 (0.54–0.84); " in text


def test_a_study_s_report_counts_images_for_images_and_one_seed_in_the_singular():
    """An image study's report said "held-out rows", "training rows"; one seed read "1 seeds"
    and "for each of 1 seeds"; a given base read "Base model trained on (the given base
    model)"."""
    from medadapt.workflows.study_report import _data_summary, study_report

    one = _study()
    one["points"] = one["points"][:1]
    one["config"].update(kind="image", seeds=1, base="base/")
    one["data"].update(source_groups=["(the given base model)"], n_source=0, n_target_train=40)
    card = Report(title="t")
    _card(card, one, {"metric": "auroc"})
    assert "AUROC (95% CI over test images) for 1 seed: 0.69 (0.54–0.84)" in _text(card)
    assert "140 training images of VA Long Beach (100% of its training images)" in _text(card)
    summary = Report(title="t")
    _data_summary(summary, one)
    assert "<th>images</th><th>count</th>" in summary.render()
    report = study_report({**one, "task": "binary", "sufficiency": []}, {"auroc": {}},
                          {"metric": "auroc", "sentences": [], "best_per_size": []})  # fmt: skip
    assert "The base model given with --base; 2 strategies × 2 training sizes × 1 seed, all " \
        "scored on the same 60 held-out images." in _text(report)  # fmt: skip
    own = _study()  # a trial read "Base model trained on ..." as the base it had trained apart
    own["points"] = own["points"][:1]
    own["config"].update(kind="tabular", seeds=1, base=None)
    own["data"].update(source_groups=["Cleveland", "Hungary"], n_source=400,
                       n_target_train=140)  # fmt: skip
    report = study_report({**own, "task": "binary", "sufficiency": []}, {"auroc": {}},
                          {"metric": "auroc", "sentences": [], "best_per_size": []})  # fmt: skip
    assert ("A base model this study trained on Cleveland, Hungary (not one trained apart: "
            "pass it with --base to study it);") in _text(report)  # fmt: skip
    own["config"].update(seeds=5)  # a table's study trains one base per seed: said so
    report = study_report({**own, "task": "binary", "sufficiency": []}, {"auroc": {}},
                          {"metric": "auroc", "sentences": [], "best_per_size": []})  # fmt: skip
    assert ("One base model per seed (5) this study trained on Cleveland, Hungary, so the "
            "base's own figures vary between seeds too") in _text(report)  # fmt: skip


def test_a_plateau_in_the_label_s_unit_says_its_tolerance_is_a_tenth_of_the_best():
    from medadapt.workflows.study_sentences import find_plateau, plateau_sentence

    entries = [{"fraction": f, "n_train": n, "mean": m}
               for f, n, m in ((0.25, 50, 60.0), (0.5, 100, 50.4), (1.0, 200, 48.0))]  # fmt: skip
    plateau = find_plateau(entries, "mae")
    assert plateau["tolerance"] == pytest.approx(4.8) and plateau["tolerance_share"] == 0.1
    assert plateau_sentence("bottleneck", "MAE", plateau, 1.0, "rows").startswith(
        "The bottleneck adapter gets within 4.8 of its best MAE (10% of that best) from 100 "
        "rows (50%)"  # (not "10% of it": a trial read it as the 10% training size)
    )
    auroc = find_plateau([{**e, "mean": e["mean"] / 100} for e in entries], "auroc")
    assert auroc["tolerance_share"] is None


def test_an_adapter_worse_than_the_base_alone_is_said_before_its_plateau():
    """A trial's study summary said the adapter "gets within 5.03 of its best MAE from 5
    rows" (good news, it read), while only the card at the report's end said it never did
    better than the base model alone."""
    from medadapt.workflows.study_sentences import adapter_verdicts

    adapter = [{"fraction": f, "n_train": n, "mean": m}
               for f, n, m in ((0.25, 50, 53.0), (0.5, 100, 50.6), (1.0, 200, 50.3))]  # fmt: skip
    by_strategy = {"bottleneck": adapter,
                   "base_only": [{**e, "mean": 48.7} for e in adapter]}  # fmt: skip
    _, _, lines = adapter_verdicts([], by_strategy, "mae", "rows")
    assert lines[0] == (
        "The bottleneck adapter does no better than the base model alone here: its mean MAE "
        "with the most target rows (50.3) is no better than the base's (48.7) on the same test "
        "rows, so where its curve levels off is no reason to adapt."
    )
    assert lines[1].startswith("The bottleneck adapter gets within ")
    better = {**by_strategy, "base_only": [{**e, "mean": 55.0} for e in adapter]}
    assert not adapter_verdicts([], better, "mae", "rows")[2][0].startswith(
        "The bottleneck adapter does no better"
    )


def test_an_auroc_without_interval_is_never_said_to_lie_between_one_value_and_itself():
    perfect = {"auroc": 1.0, "auroc_ci": None, "notes": {"auroc": "no interval: separated"}}
    line = auroc_line(perfect, "Discrimination")
    assert line == "Discrimination: AUROC 1.00, no interval: separated."
    assert "between" not in line


@pytest.mark.parametrize(
    ("low", "high", "words"),
    [
        (0.49, 0.55, "not shown to be better than chance (the interval reaches 0.50)"),
        (0.51, 0.58, "little better than chance at best (the whole interval is below 0.60)"),
        (0.55, 0.68, "weak (better than chance, the whole interval below 0.70)"),
        (0.55, 0.82, "better than chance, but how much better is uncertain"),
        (0.72, 0.90, "at least moderate (the whole interval is at or above 0.70)"),
        (0.81, 0.95, "strong (the whole interval is at or above 0.80), though whether that "
                     "is enough depends on the clinical use"),
    ],
)  # fmt: skip
def test_an_auroc_interval_is_read_from_both_ends(low, high, words):
    assert discrimination_in_words(low, high) == words


def test_seeds_that_agree_exactly_give_no_interval_and_no_verdict():
    assert t_interval([0.02, 0.02, 0.02]) is None
    points = [
        {"strategy": "bottleneck", "fraction": f, "seed": s, "metrics": {"auroc": 1.0}}
        for f in (0.5, 1.0) for s in range(3)
    ]  # fmt: skip
    gain = last_gain(points, "bottleneck", "auroc", "rows")
    assert gain["ci"] is None and gain["improving"] is None
    assert "95% CI" not in gain["sentence"]
    assert gain["sentence"].endswith(
        "in each of the 3 seeds: seeds that agree exactly give no interval, so whether more "
        "data would help cannot be judged from them."
    )


def _centre(n: int, positives: int, auroc: float | None) -> dict:
    return {"base_only": {"n_test": n, "n_positive": positives, "auroc": {"mean": auroc}}}


def test_the_flamby_summary_reads_each_centre_s_counts_as_its_json_and_figures_give_them():
    """A whole test set's counts are exact everywhere in the report (small_cells): its
    accuracy (0.938 of 16, every one called 'disease') and results.json give them anyway."""
    from medadapt.workflows.demo_report import _flamby_centres, _flamby_summary

    results = {
        "average": {"base_only": {"accuracy": 0.801, "accuracy_ci": [0.75, 0.85]},
                    "bottleneck": {"accuracy": 0.811, "accuracy_ci": [0.76, 0.86],
                                   "accuracy_vs_base": {"difference": 0.010,
                                                        "ci": [-0.021, 0.040]}}},
        "flamby_published_accuracy": {"FedAvg": 0.685, "pooled": 0.735},
        "leave_one_centre_out": {"average": {
            "base_only": {"accuracy": 0.70},  # (a results.json from before the intervals)
            "bottleneck": {"accuracy": 0.818, "accuracy_ci": [0.77, 0.87],
                           "accuracy_vs_base": {"difference": 0.118, "ci": [0.07, 0.17]}}}},
        "centres": {"Cleveland": _centre(60, 28, 0.9), "Switzerland": _centre(16, 15, None),
                    "VA Long Beach": _centre(40, 31, 0.7)},
    }  # fmt: skip
    assert _flamby_summary(results) == [
        "Average per-centre accuracy with per-centre bottleneck adapters: 81.1% (95% CI 76.0% "
        "to 86.0%); the pooled base model alone, without adapters: 80.1% (95% CI 75.0% to "
        "85.0%): a change of +1.0 points (95% CI -2.1 to +4.0) on the same test patients, no "
        "detectable difference on these patients.",
        "FLamby's best published figure (pooled, 73.5%; du Terrail et al., FLamby, NeurIPS "
        "2022 Datasets and Benchmarks: a logistic regression on the same split, the mean of 5 "
        "seeds, published without an interval) is a model without adapters: compare it with "
        "the base alone (80.1%); the difference between those two is the base model's (another "
        "architecture and training), not the adapters'.",
        "Leave-one-centre-out: a base trained on the other three centres reaches 70.0%; with an "
        "adapter for the held-out centre 81.8% (95% CI 77.0% to 87.0%): a change of +11.8 "
        "points (95% CI +7.0 to +17.0) on the same test patients, more right on these patients "
        "than the base alone.",
        "Switzerland's test set has 16 patients and only 1 without disease (at least 5 are "
        "needed): AUROC and balanced accuracy cannot be estimated there, and its accuracy "
        "mostly reflects calling everyone 'disease'. AUROC and balanced accuracy are averaged "
        "over the other centres.",
        "VA Long Beach: calling everyone 'disease' already gives 78% accuracy; read its AUROC "
        "and balanced accuracy.",
    ]
    mean_sd = {"mean": 0.938, "sd": 0.0}
    for centre in results["centres"].values():
        centre["base_only"].update(accuracy=mean_sd, auroc=mean_sd, balanced_accuracy=mean_sd)
    report = Report(title="t")
    _flamby_centres(report, results["centres"])
    # 16 test patients, 15 with disease: as the summary above and results.json say them
    assert "Switzerland base model, pooled training sets, no adapter 16 15 " in _text(report)


def test_the_flamby_summary_names_a_centre_the_adapter_made_worse_leave_one_out():
    """A trial's headline, +8.8 points leave-one-centre-out, came from Switzerland (a training
    split of one class: everyone called diseased) and an unstable Hungarian base, while VA
    Long Beach got worse (0.782 to 0.764, AUROC 0.733 to 0.721): said by centre now."""
    from medadapt.workflows.demo_report import _loco_by_centre

    def arm(accuracy, auroc=None):
        return {"accuracy": {"mean": accuracy}, "auroc": {"mean": auroc}}

    centres = {
        "Hungary": {"base_only": arm(0.596, 0.854), "bottleneck": arm(0.780, 0.870)},
        "Switzerland": {"base_only": arm(0.800), "bottleneck": arm(0.938)},
        "VA Long Beach": {"base_only": arm(0.782, 0.733), "bottleneck": arm(0.764, 0.721)},
    }
    assert _loco_by_centre(centres, {"Switzerland": {"n_train": 30, "disease": True}}) == [
        "By centre, leave-one-centre-out accuracy (mean over seeds) rose at Hungary (0.596 to "
        "0.780) and Switzerland (0.800 to 0.938) and fell at VA Long Beach (0.782 to 0.764; "
        "AUROC 0.733 to 0.721): the average hides a centre the adapter made worse. At "
        "Switzerland, whose training split holds one class, the rise comes from calling "
        "everyone that class, not from telling patients apart."
    ]
    del centres["VA Long Beach"]
    assert _loco_by_centre(centres, {}) == []  # none made worse: the headline says it


def test_the_one_answer_warning_is_said_once_at_the_top_of_the_summary():
    from medadapt.workflows.reports import summary_lines

    said = "97% of patients are called positive at threshold 0.5: the accuracy mostly reflects"
    result = {**_binary(0.68, (0.54, 0.82), notes={"one_class": said}), "task": "binary",
              "adapter": "va", "kind": "tabular", "rows_used": "its 60 held-out rows"}  # fmt: skip
    lines = summary_lines(result)
    assert lines[0] == f"Warning: {said}."
    assert sum(said in line for line in lines) == 1


def test_the_summary_names_which_class_is_positive():
    """A trial's report said "5 of them are positive" and never "malignant": a clinician
    could not tell which outcome the sensitivity and the probabilities are of."""
    from medadapt.workflows.reports import summary_lines

    result = {**_binary(0.9, (0.8, 0.97)), "task": "binary", "adapter": "riverside",
              "kind": "tabular", "rows_used": "its 86 held-out rows", "label": "diagnosis",
              "classes": ["benign", "malignant"]}  # fmt: skip
    positive = [line for line in summary_lines(result) if "of them are positive" in line]
    n_positive, n = result["n_positive"], result["n"]
    assert positive == [f"{n_positive} of them are positive (diagnosis = 'malignant'; "
                        f"prevalence {n_positive / n:.0%})."]  # fmt: skip
    coded = summary_lines({**result, "label": "num", "classes": ["0", "1"]})  # num > 0
    assert f"{n_positive} of them are positive (prevalence {n_positive / n:.0%})." in coded


def test_a_comparison_after_a_too_good_result_is_not_read_as_a_finding():
    """A trial's summary said "too good to be true: no reading of the model's skill until a
    leak is ruled out", then "the adapter gives risks closer to what happened"."""
    from medadapt.workflows.reports import summary_lines

    too_good = "AUROC 1.000 on 86 patients: too good to be true; check for a leak"
    result = {**_binary(1.0, (0.95, 1.0), notes={"too_good": too_good}), "task": "binary",
              "adapter": "head", "kind": "tabular", "rows_used": "its held-out rows"}  # fmt: skip
    said = "By the Brier score, the adapter gives risks closer to what happened."
    (line,) = [line for line in summary_lines(result, difference=said) if said in line]
    assert line == f"{said} Read this comparison only once a leak is ruled out, as said above."
    plain = {**result, "notes": {}}
    assert said in summary_lines(plain, difference=said)


def test_the_adapter_card_says_what_it_was_tested_on_and_a_one_answer_model():
    from medadapt.workflows.reports import _limitations

    said = "97% of patients are called positive at threshold 0.5"
    result = {"task": "binary", "n": 60, "kind": "tabular", "notes": {"one_class": said}}
    assert _limitations(result) == (
        "97% of patients are called positive at threshold 0.5. Tested only on the 60 patients "
        "above; small groups give wide intervals (see the notes above). Re-validate on local "
        "data before any use, and watch calibration as prevalence changes."
    )


def test_a_demo_centre_names_no_winner_when_every_interval_overlaps_side_by_side():
    from medadapt.workflows.demo_report import _ranking

    def scored(auroc, ci):
        return {"auroc": auroc, "auroc_ci": ci}

    overlapping = {"base_only": scored(0.63, [0.5, 0.76]), "lora": scored(0.68, [0.55, 0.8])}
    assert _ranking("VA", overlapping, "auroc", 60) == (
        "VA: AUROC 0.63 to 0.68 across the strategies; compared side by side (not paired), "
        "every strategy's 95% interval overlaps the best one's, so that comparison calls none "
        "better on these 60 patients."
    )
    apart = {"base_only": scored(0.55, [0.45, 0.62]), "lora": scored(0.85, [0.75, 0.93])}
    assert _ranking("VA", apart, "auroc", 60).startswith(
        "VA: highest AUROC: LoRA adapter (0.85 (0.75–0.93))"
    )
    assert _ranking("VA", {"base_only": {"auroc": None}}, "auroc", 60) is None


def test_two_seeds_say_why_their_interval_is_so_wide():
    from medadapt.workflows.study_report import few_seeds_note

    assert few_seeds_note(3) == "" and few_seeds_note(1) == ""
    assert few_seeds_note(2).startswith(
        " With 2 seeds the interval over seeds is a t-interval on one degree of freedom (12.7 "
        "standard errors each side)"
    )
    from scipy import stats

    assert round(float(stats.t.ppf(0.975, 1)), 1) == 12.7  # the figure the note gives


def test_the_adapt_report_carries_the_sample_size_line_adapt_printed():
    from tests.cli.test_terminal_wording import ENTRY

    summary = _adapt_summary("binary", _binary(0.68, (0.54, 0.82)), _binary(0.66, (0.5, 0.8)))
    summary["data_summary"]["sample_size"] = ENTRY
    curves = {"y": np.array([0, 1, 0, 1]), "scores": np.array([0.2, 0.8, 0.3, 0.6])}
    text = _text(adapt_report(summary, curves, SimpleNamespace(noun="rows")))
    assert (
        "Sample size (Riley et al.): its 8,576 parameters (the intercept aside) would need "
        "502,849 rows (criterion i)" in text
    )
    assert "the 600 here are enough for observed/expected ratio and C-statistic only." in text


def test_a_regression_study_card_speaks_of_the_measured_value_not_of_prevalence():
    study = _study()
    study["task"] = "regression"
    study["points"] = [{**p, "metrics": {"mae": 40.0 + p["seed"], "mae_ci": [35.0, 45.0]}}
                       for p in study["points"]]  # fmt: skip
    report = Report(title="t")
    _card(report, study, {"metric": "mae"})
    text = _text(report)
    assert "prevalence" not in text
    assert "watch the errors as the measured value's distribution shifts" in text
    assert "worse than the base model" not in text  # no base_only point: nothing compared


def test_a_study_card_says_when_its_adapter_did_worse_on_average_than_the_base_alone():
    """A trial's card presented a bottleneck adapter whose mean MAE at 100% (55.92) was worse
    than the base model's alone (51.84), with no word."""
    study = _study()
    study["task"] = "regression"
    study["points"] = [
        {**p, "metrics": {"mae": mae, "mae_ci": [mae - 9, mae + 9]}}
        for p, mae in zip(study["points"], (50.9, 60.94), strict=True)
    ] + [{"strategy": "base_only", "fraction": 1.0, "seed": 0, "n_train": 0,
          "trainable_params": 0, "metrics": {"mae": 51.84, "mae_ci": [45.0, 59.0]}}]  # fmt: skip
    from medadapt.workflows.study_summary import aggregate, conclusions

    found = conclusions(study, aggregate(study["points"], study["task"]))
    assert found["worse_than_base"] == {
        "strategy": "bottleneck", "mean": pytest.approx(55.92), "base_mean": 51.84
    }  # fmt: skip
    report = Report(title="t")
    _card(report, study, found)
    assert (
        "Its mean MAE at the largest size (55.9) is no better than the base model's alone "
        "(51.8) on the same test rows: nothing here shows that it helps this group."
    ) in _text(report)
    worse_in_summary = [s for s in found["sentences"] if "does no better than the base" in s]
    assert len(worse_in_summary) == 1 and "(55.9)" in worse_in_summary[0]  # the same figures
    study["points"][-1]["metrics"]["mae"] = 58.0  # the adapter better on average: not said
    better_found = conclusions(study, aggregate(study["points"], study["task"]))
    assert better_found["worse_than_base"] is None
    better = Report(title="t")
    _card(better, study, better_found)
    assert "worse than the base model" not in _text(better)


def test_the_guide_of_several_classes_speaks_of_classes_not_of_risk_or_sensitivity():
    names = ["auroc", "accuracy", "balanced_accuracy", "brier", "ece"]
    several = " ".join(reading_guide(names, task="multiclass"))
    for binary_only in ("sensitivity", "specificity", "risk threshold", "(0 or 1)", "0.5 is no "):
        assert binary_only not in several
    assert "one over the number of classes" in several and "2 the worst" in several
    assert "averaged over the classes" in several
    assert reading_guide(names) != reading_guide(names, task="multiclass")  # binary unchanged


def test_a_study_on_a_given_base_does_not_say_the_base_was_trained_on_no_rows():
    """With --base the study trains no base model: 'source groups (base model) 0' read as a
    base trained on nothing, beside a subtitle naming Cleveland and Hungary."""
    study = _study()
    study["config"]["base"] = "/hospital/base"
    study["data"].update(n_source=0, n_target_train=86, n_target_test=37)
    report = Report(title="t")
    _data_summary(report, study)
    text = _text(report)
    assert "source groups (base model) not counted here: the base model was given (--base)" in text
    assert "source groups (base model) 0" not in text
    del study["config"]["base"]
    study["data"]["n_source"] = 477
    trained = Report(title="t")
    _data_summary(trained, study)
    assert "source groups (base model) 477" in _text(trained)


def test_the_adapt_report_s_before_and_after_table_shows_calibration_as_evaluate_does():
    """On VA Long Beach the adapter left AUROC unchanged and changed the risks (Brier 0.245 to
    0.192, calibration error 0.254 to 0.144): the adapt report left exactly those rows out,
    which evaluate's before/after table shows."""
    report = Report(title="t")
    side_by_side(report, _binary(0.19, (0.13, 0.27)), _binary(0.25, (0.18, 0.32)), "base model")
    text = _text(report)
    assert "AUPRC 0.190 (0.130–0.270) 0.250 (0.180–0.320)" in text
    assert "Brier score 0.190 (0.130–0.270) 0.250 (0.180–0.320)" in text
    assert "calibration error (ECE) 0.190 (0.130–0.270) 0.250 (0.180–0.320)" in text


def _va_long_beach(**base_notes) -> dict:
    """evaluate's result on VA Long Beach's 60 held-out patients (45 with the outcome): the
    adapter flags 44 of 45 and clears 1 of 15."""
    result = {
        **_binary(0.68, (0.54, 0.82)), "task": "binary", "kind": "tabular",
        "rows_used": "dataset = VA Long Beach", "adapter": "va", "trainable_params": 8577,
        "adapter_bytes": 35908, "subgroups": {},
        "sensitivity": 44 / 45, "sensitivity_ci": [0.929, 1.0],
        "specificity": 1 / 15, "specificity_ci": [0.0, 0.222],
    }  # fmt: skip
    base = {**_binary(0.68, (0.53, 0.83)), "notes": base_notes}
    result["base_comparison"] = {"overall": base, "subgroups": {}}
    return result


def test_the_evaluate_card_says_how_many_patients_sensitivity_and_specificity_rest_on():
    y = np.array([1] * 45 + [0] * 15)
    scores = np.linspace(0.2, 0.9, 60)
    text = _text(evaluation_report(_va_long_beach(), {"y": y, "scores": scores}))
    assert "sensitivity 0.98 (0.93–1.00), 44 of 45; specificity 0.07 (0.00–0.22), 1 of 15; " in text


def test_the_evaluate_summary_warns_when_the_base_model_alone_gives_one_answer():
    """The before/after table prints the base model's accuracy 0.650 beside the adapter's; that
    it is below calling everyone positive (0.750) was in the JSON only."""
    said = (
        "accuracy 0.650 at threshold 0.5 is no better than calling every patient positive "
        "(0.750, the no-information rate)"
    )
    from medadapt.workflows.reports import summary_lines

    result = _va_long_beach(one_class=said)
    lines = summary_lines(result, result["base_comparison"])
    assert f"Base model alone: {said}." in lines
    assert lines.index(f"Base model alone: {said}.") == 1 + next(
        i for i, line in enumerate(lines) if line.startswith("Before the adapter")
    )
    plain = _va_long_beach()
    assert not any(
        "Base model alone" in line for line in summary_lines(plain, plain["base_comparison"])
    )


def test_the_adapt_report_says_where_the_adapters_sit_and_what_was_cached():
    """It read "blocks below 0 ran once" when every block was adapted."""
    summary = _adapt_summary("binary", _binary(0.68, (0.54, 0.82)), _binary(0.66, (0.5, 0.8)))
    summary.update(top_blocks=2, feature_cache={"split_block": 0, "tokens_mib": 1.5,
                                                 "seconds": 0.4})  # fmt: skip
    curves = {"y": np.array([0, 1, 0, 1]), "scores": np.array([0.2, 0.8, 0.3, 0.6])}
    text = _text(adapt_report(summary, curves, SimpleNamespace(noun="images")))
    assert (
        "Adapters in top 2 blocks: trained on cached patch embeddings (every block is adapted) "
        "(1.5 MiB, computed once in 0.4 s)." in text
    )
    assert "blocks below 0" not in text


def test_the_reports_say_where_the_intervals_of_their_own_metrics_come_from():
    """A regression report has no accuracy, sensitivity or specificity: its brackets are all
    bootstrap intervals, and it says so; several classes have an exact interval for accuracy
    only; a binary report keeps the three."""
    rng = np.random.default_rng(0)
    y = rng.normal(150, 50, 40)
    regression = _text(_evaluated(y, y + rng.normal(0, 30, 40), y + rng.normal(0, 35, 40),
                                  task="regression"))  # fmt: skip
    adapted = _text(adapt_report(_adapt_summary("regression", _regression(38.8),
                                                _regression(43.5)),
                                 {"y": np.zeros(3), "scores": np.zeros(3)},
                                 SimpleNamespace(noun="rows")))  # fmt: skip
    for text, noun in ((regression, "patients"), (adapted, "rows")):
        assert f"Brackets are 95% confidence intervals: a bootstrap over {noun}." in text
        assert "Clopper-Pearson" not in text and "sensitivity" not in text
        assert ("Each row is taken as one patient." in text) is (noun == "rows")
    several = {"n": 60, "task": "multiclass", "accuracy": 0.5, "accuracy_ci": [0.37, 0.63],
               "brier": 0.6, "brier_ci": [0.5, 0.7], "notes": {}}  # fmt: skip
    summary = {**_adapt_summary("multiclass", several, several), "classes": ["0", "1", "2"]}
    text = _text(adapt_report(summary, {"y": np.zeros(3), "scores": np.full((3, 3), 1 / 3)},
                              SimpleNamespace(noun="rows")))  # fmt: skip
    assert (
        "Brackets are 95% confidence intervals: exact binomial (Clopper-Pearson) for accuracy "
        "and each class's sensitivity and precision, a bootstrap over rows for the others." in text
    )
    binary = _text(_evaluated(np.array([0, 1] * 20), np.linspace(0, 1, 40), np.full(40, 0.5)))
    assert (
        "Brackets are 95% confidence intervals: exact binomial (Clopper-Pearson) for accuracy, "
        "sensitivity and specificity, for AUROC and the observed/expected ratio the wider of a "
        "bootstrap over patients and the analytic interval (Newcombe's; Riley et al.'s), a "
        "bootstrap over patients for the others." in binary
    )


def test_the_study_s_adapter_card_says_why_it_is_about_that_adapter_and_names_the_best():
    """A trial's card was about the bottleneck adapter without saying why, while the best
    strategy was the new model trained on the target alone."""
    best = {"fraction": 1.0, "n_train": 140, "best": "scratch_local", "mean": 0.624,
            "indistinguishable_from": ["bottleneck"], "level_with": []}  # fmt: skip
    report = Report(title="t")
    _card(report, _study(), {"metric": "auroc", "best_per_size": [best]})
    assert (
        "Why this adapter The adapter method this study judges: the first it ran of the "
        "bottleneck, LoRA, DoRA, IA3 and head-only adapters, whatever its score; the best mean "
        "AUROC with 140 target rows (100%) came from the new model on the target data only."
    ) in _text(report)
    itself = Report(title="t")
    _card(itself, _study(), {"metric": "auroc", "best_per_size": [{**best, "best": "bottleneck"}]})
    assert (
        "whatever its score; it also had the best mean AUROC with 140 target rows (100%)."
    ) in _text(itself)


def test_the_study_s_subgroup_section_explains_every_symbol_its_tables_use():
    """A trial's subgroup table showed 'suppressed' and ranges such as '40-44', but its text
    explained only '<5'."""
    from medadapt.workflows.study_report import _subgroups

    study = _study()
    scored = {"auroc": 0.6, "auroc_ci": [0.4, 0.8]}
    subgroups = {
        "sex": {"F": {"n": "suppressed", "auroc": None}, "M": {"n": "suppressed", **scored}},
        "age band": {"<50": {"n": "5-9", "auroc": None}, "50-64": {"n": "40-44", **scored}},
    }
    study.update(task="binary", config={**study["config"], "fractions": [1.0]})
    study["points"] = [{**p, "subgroups": subgroups} for p in study["points"]]
    report = Report(title="t")
    _subgroups(report, study)
    text = _text(report)
    assert "suppressed" in text and "40-44" in text
    assert (
        "'n/a' means too few patients or events to estimate. So that no patient can be singled "
        "out: '<5' is a count of fewer than 5; where any subgroup has such a count (of all its "
        "patients, or of those with or without the outcome, 0 included, shown or not), every "
        "other count in its table is a range of 5 such as '40-44' (the count lies in it) and the "
        "figures are rounded to one decimal, their intervals outward (wider than measured); "
        "'suppressed' is a count not shown at all, where "
        "even ranges, read with the overall totals (or with another table's counts), would "
        "give a small count away; and where "
        "even which figures each subgroup has would, the table is withheld."
    ) in text


def test_the_small_cells_caption_names_the_counts_of_the_task():
    """A measured outcome (or several classes) has no patients "with or without the outcome":
    the caption named counts that such a table never shows."""
    from medadapt.evaluate.small_cells import small_cells_caption

    counted = {task: small_cells_caption(task).split("such a count (")[1].split(", shown")[0]
               for task in ("binary", "multiclass", "regression")}  # fmt: skip
    assert counted == {
        "binary": "of all its patients, or of those with or without the outcome, 0 included",
        "multiclass": "of all its patients, or of those of one class, 0 included",
        "regression": "of all its patients",
    }


def test_a_study_that_could_measure_nothing_says_so_and_draws_no_empty_roc():
    """A trial's image study (18 held-out images of 9 patients) exited with sample-size lines
    only; its report drew an ROC panel of three legend entries over the chance line, readable
    as "every model at chance"."""
    from medadapt.workflows.study_report import study_report
    from medadapt.workflows.study_summary import aggregate, conclusions

    too_few = {"n": 18, "n_patients": 9, "auroc": None, "auroc_ci": None,
               "notes": {"all": "not reported: only 9 patients (18 images; at least 10 "
                                "patients needed)"}}  # fmt: skip
    study = _study()
    study["config"].update(kind="image", seeds=1)
    study["data"].update(source_groups=["A"], n_source=40, n_target_train=40)
    study["points"] = [
        {"strategy": s, "fraction": 1.0, "seed": 0, "n_train": 0 if s == "base_only" else 40,
         "trainable_params": 10, "metrics": dict(too_few), "curves": {"roc": [[], []]}}
        for s in ("base_only", "bottleneck")
    ]  # fmt: skip
    study.update(task="binary", sufficiency=[])
    curves = aggregate(study["points"], "binary")
    found = conclusions(study, curves)
    said = (
        "Warning: nothing could be measured, so no strategy is compared: the held-out test set "
        "has only 9 patients (18 images; at least 10 patients needed); raise --test-fraction, "
        "or give more target images."
    )
    assert found["nothing_measured"] == said and found["sentences"][0] == said
    text = _text(study_report(study, curves, found))
    assert said in text and "ROC curves." not in text
    measured = _study()
    measured.update(task="binary", sufficiency=[])
    assert conclusions(measured, aggregate(measured["points"], "binary"))[
        "nothing_measured"] is None  # fmt: skip
    for point in study["points"]:  # 8 patients in all (a trial): no split could give 10
        point["metrics"] = {**too_few, "n": 3, "n_patients": 3}
        point["n_train"] = 0 if point["strategy"] == "base_only" else 5
    found = conclusions(study, aggregate(study["points"], "binary"))
    assert found["nothing_measured"].endswith(
        "the target group holds 8 images in all, fewer than the 10 any figure needs however "
        "they are split: give more target images."
    )


def test_a_measured_outcome_s_calibration_slope_is_read_without_risks():
    """A trial: a regression report explained its slope as "risks too extreme"."""
    from medadapt.workflows.report_sections import reading_guide

    (line, _) = reading_guide(["calibration_slope"], task="regression")
    assert line.startswith("Calibration slope: the measured outcomes regressed on the predicted")
    assert "risk" not in line
    (binary, _) = reading_guide(["calibration_slope"])
    assert "log-odds" in binary


def test_a_subgroup_table_without_any_auroc_shows_the_brier_score():
    """A trial's five-class report had per-subgroup tables of AUROC only: every cell n/a."""
    from medadapt.workflows.reports import _subgroup_metric

    withheld = {"Male": {"auroc": None, "brier": 0.78}, "Female": {"auroc": None, "brier": 0.8}}
    assert _subgroup_metric("multiclass", withheld, None) == "brier"
    one = {**withheld, "Other": {"auroc": 0.7, "brier": 0.5}}
    assert _subgroup_metric("binary", one, withheld) == "auroc"  # shown where one has it
    assert _subgroup_metric("regression", withheld) == "mae"


def test_a_subgroup_s_error_in_the_label_s_unit_has_the_terminal_s_digits():
    """A trial's HTML subgroup table showed MAE 44.63 (36.48–52.36) where the terminal
    printed 44.6: three significant figures in the label's unit, as everywhere."""
    from medadapt.evaluate.report import Report
    from medadapt.workflows.reports import _groups

    cell = {"n": 40, "mae": 44.634, "mae_ci": [36.481, 52.362], "notes": {}}
    report = Report(title="t")
    _groups(report, {"task": "regression", "subgroups": {"sex": {"F": cell, "M": cell}}}, None)
    html = report.render()
    assert "44.6 (36.5–52.4)" in html and "44.63" not in html


def test_a_report_of_rows_from_fewer_patients_counts_rows_not_patients():
    """A trial's evaluate report said "27 patients" (its group table, its card, its missing
    values table) and "the share of patients classified correctly", of 27 rows from 16
    patients."""
    from medadapt.workflows.report_sections import reading_guide
    from medadapt.workflows.reports import _counted, _units

    assert _units({"kind": "tabular", "n": 27, "n_patients": 16}) == "rows"
    assert _counted({"kind": "tabular", "n": 27, "n_patients": 16}) == "27 rows from 16 patients"
    assert _counted({"kind": "tabular", "n": 27}) == "27 patients"
    assert _units({"kind": "tabular", "n": 27, "n_patients": 27}) == "patients"
    assert _units({"kind": "tabular", "n": 27}) == "patients"
    guide = reading_guide(["accuracy", "sensitivity"], prevalence=0.33, noun="rows")
    assert guide[0].startswith("accuracy: the share of rows classified correctly at a risk ")
    assert guide[1].startswith("sensitivity: the share of rows with the outcome that the model ")
    told = reading_guide(["sensitivity"], noun="patients")[0]
    assert told.startswith("sensitivity: the share of patients with the outcome whom the model")


def test_the_card_says_the_base_model_s_figure_in_a_sentence_of_its_own():
    """A trial read "Brier score 0.20 (0.13–0.28) (base model alone: AUROC 0.62 ...)" as the
    Brier score's own bracket."""
    y = np.array([0] * 20 + [1] * 20)
    scores = np.linspace(0.01, 0.99, 40)
    text = _text(_evaluated(y, scores, scores[::-1].copy()))
    assert "Brier score 0.90 (0.80–0.95). The base model alone: AUROC 0.85 (0.75–0.90)." in text
    assert "(base model alone:" not in text


def test_a_binary_image_evaluation_says_its_auroc_once_and_not_of_all_classes():
    """A binary image model has a row per class, and its report said its AUROC twice: as
    "Discrimination (AUROC)" and again under "All classes"."""
    from medadapt.workflows.reports import summary_lines

    result = {**_binary(0.81, (0.7, 0.9)), "task": "binary", "rows_used": "every image",
              "unit": "image", "per_class": [{"class": "normal"}, {"class": "nodule"}]}  # fmt: skip
    said = " ".join(summary_lines(result))
    assert "All classes" not in said
    assert said.count("Discrimination") == 1 and "Discrimination (AUROC) 0.81 (0.70–0.90)" in said


def test_the_summary_counts_the_sufficiency_notes_beside_its_warnings():
    """A trial's study report said "2 data-sufficiency warnings below", then listed three
    items: the third was a note. The notes beside them are counted too."""
    from medadapt.workflows.study_report import _summary_lines

    findings = [
        {"level": "warning", "code": "few_events", "message": "w1"},
        {"level": "warning", "code": "range", "message": "w2"},
        {"level": "info", "code": "small_adapter", "message": "n1"},
        {"level": "info", "code": "training_sizes", "message": "the sizes' table"},
    ]
    study = {"sufficiency": findings, "points": [], "task": "regression"}
    lines = _summary_lines(study, {"sentences": []})
    assert lines[0] == (
        "2 data-sufficiency warnings below (beside 1 note): read them before trusting any number."
    )
    study["sufficiency"] = findings[:1]
    assert _summary_lines(study, {"sentences": []})[0] == (
        "1 data-sufficiency warning below: read it before trusting any number."
    )

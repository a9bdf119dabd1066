"""Trial 13's audit of "did the adapter help?": an adapter that stopped predicting a rare class
gained accuracy without a word, and an adapter that removed a systematic under-prediction was
said to make "no detectable difference" (its MAE barely moved). The comparison now warns about
a class the adapter never predicts, says that accuracy shown in AUROC's place rewards ignoring
a rare class, and compares the mean observed − predicted on the same resamples as the MAE."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medadapt.evaluate.mean_error_change import mean_error_change
from medadapt.evaluate.metrics import regression_metrics
from medadapt.evaluate.versus_base import versus_base

MAE_NO_DIFFERENCE = "no detectable difference on these patients."


def _graded(y: np.ndarray, adapted: np.ndarray, base: np.ndarray, withheld: str = "too few"):
    """:func:`versus_base` of the graded scores, AUROC withheld as on the audit's 32 rows."""
    return versus_base(y, adapted, base, metric="auroc", withheld=withheld,
                       classes=["high", "low", "mid"], n_boot=50)  # fmt: skip


def _three_grades() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """32 patients graded high/low/mid (15/2/15), as the audit's site C test rows: the base
    model calls 5 'low' (both real ones among them); the adapter calls no one 'low'."""
    y = np.array([0] * 15 + [1] * 2 + [2] * 15)
    base_calls = np.array([0] * 13 + [1] * 2 + [1] * 2 + [0] * 12 + [1] + [2] * 2)
    adapter_calls = np.array([0] * 12 + [2] * 3 + [2] * 2 + [0] * 9 + [2] * 6)
    base = np.full((32, 3), 0.1)
    base[np.arange(32), base_calls] = 0.8
    adapted = np.full((32, 3), 0.15)
    adapted[np.arange(32), adapter_calls] = 0.7
    return y, adapted, base


def test_an_adapter_that_calls_no_one_low_is_warned_about_with_counts():
    y, adapted, base = _three_grades()
    base_calls, adapter_calls = base.argmax(axis=1), adapted.argmax(axis=1)
    assert (adapter_calls == 1).sum() == 0 and (base_calls == 1).sum() == 5
    assert ((base_calls == 1) & (y == 1)).sum() == 2
    withheld = "not reported: 2 patients of class 'low' among 32 patients"
    paired = _graded(y, adapted, base, withheld=withheld)
    assert paired["warnings"] == [
        "the adapter calls none of these 32 patients 'low', where the base model alone called "
        "5 of them 'low' (2 of the 32 are 'low': the base model found 2 of them, the adapter "
        "none); its accuracy cannot show a class it never predicts"
    ]
    assert paired["in_words"].startswith(
        "The adapter and the base model cannot be compared on AUROC (not reported: 2 patients "
        "of class 'low' among 32 patients). Accuracy, shown in its place, is no comparison of "
        "the two: it counts every patient alike, so it rewards a model that ignores a rare "
        "class (here 'low', 2 of these 32 patients). By the Brier score instead, paired on "
        "the same patients, the adapter changes it by "
    )
    # the accuracy it would be judged by rose, which is why the warning is needed
    assert np.mean(adapter_calls == y) > np.mean(base_calls == y)


def test_a_class_absent_or_single_among_the_patients_is_counted_as_such():
    y, adapted, base = _three_grades()
    none_low = np.where(y == 1, 0, y)  # no real 'low' left
    paired = _graded(none_low, adapted, base)
    assert paired["warnings"] == []  # no 'low' patient to miss: the base's calls were wrong
    one_low = np.where(np.arange(32) == 15, 0, y)  # one real 'low', which the base found
    paired = _graded(one_low, adapted, base)
    assert (
        "(1 of the 32 is 'low': the base model found it, the adapter did not)"
        in (paired["warnings"][0])
    )


def test_a_binary_adapter_that_calls_everyone_negative_is_warned_about():
    rng = np.random.default_rng(0)
    y = np.array([1] * 12 + [0] * 48)
    base = np.clip(0.3 + 0.4 * y + rng.normal(0, 0.15, 60), 0.01, 0.99)
    adapted = np.full(60, 0.2) + 0.1 * y  # ranks as well, but below the threshold for everyone
    paired = versus_base(y, adapted, base, metric="auroc", n_boot=100)
    called = int((base >= 0.5).sum())
    found = int(((base >= 0.5) & (y == 1)).sum())
    assert paired["warnings"] == [
        f"the adapter calls none of these 60 patients positive, where the base model alone "
        f"called {called} of them positive (12 of the 60 are positive: the base model found "
        f"{found} of them, the adapter none); its accuracy cannot show a class it never predicts"
    ]
    at_point_one = versus_base(y, adapted, base, metric="auroc", n_boot=100, threshold=0.1)
    kept = int((base < 0.1).sum())  # at that threshold the adapter calls everyone positive
    assert at_point_one["warnings"] == [
        f"the adapter calls none of these 60 patients negative, where the base model alone "
        f"called {kept} of them negative (48 of the 60 are negative: the base model found "
        f"{kept} of them, the adapter none); its accuracy cannot show a class it never predicts"
    ]
    named = versus_base(y, adapted, base, metric="auroc", n_boot=100, classes=["no", "yes"])
    assert "calls none of these 60 patients 'yes'" in named["warnings"][0]


def test_accuracy_is_qualified_only_where_a_rare_class_can_be_ignored():
    from medadapt.evaluate.ignored_classes import accuracy_caveat

    balanced = np.array([0, 1] * 4)
    assert accuracy_caveat(balanced, ["negative", "positive"]) is None
    rare = np.array([1] * 2 + [0] * 18)
    assert accuracy_caveat(rare, ["negative", "positive"], unit="image") == (
        "Accuracy, shown in its place, is no comparison of the two: it counts every image "
        "alike, so it rewards a model that ignores a rare class (here positive, 2 of these 20 "
        "images)."
    )
    # a class no one here has (the model knows three grades, the site holds two): the rare
    # one is the rarest of those present, as where every class is present
    absent = np.array([0] * 50 + [1] * 2)
    assert accuracy_caveat(absent, ["'a'", "'b'", "'c'"]) == (
        "Accuracy, shown in its place, is no comparison of the two: it counts every patient "
        "alike, so it rewards a model that ignores a rare class (here 'b', 2 of these 52 "
        "patients)."
    )
    assert accuracy_caveat(np.zeros(30, dtype=int), ["'a'", "'b'", "'c'"]) is None  # one class
    five = np.repeat([0, 1, 2, 3], [15, 12, 15, 15])  # the rarest 12 of 57: an even share
    assert accuracy_caveat(five, ["'0'", "'1'", "'2'", "'3'", "'4'"]) is None
    assert "(here '1', 3 of these 48 patients)" in accuracy_caveat(
        np.repeat([0, 1, 2, 3], [15, 3, 15, 15]), ["'0'", "'1'", "'2'", "'3'", "'4'"]
    )
    shown = versus_base(
        balanced,
        np.linspace(0, 1, 8),
        np.linspace(1, 0, 8),
        metric="auroc",
        withheld="only 8 patients",
    )
    assert shown["in_words"] == (
        "The adapter and the base model cannot be compared on AUROC (only 8 patients)."
    )


def _places(value: float) -> int:
    """Decimals for three significant figures (at most 3), as the label's unit is printed."""
    return min(3, max(0, 2 - math.floor(math.log10(abs(value)))))


def _three(value: float) -> str:
    return f"{value:,.{_places(value)}f}"


def _under_predicting_base(n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = rng.normal(150, 70, n)
    base = y - 20 + rng.normal(0, 40, n)  # predicts about 20 too low
    adapted = y + rng.normal(0, 40, n)  # about right on average, as far from each patient
    return y, adapted, base


def test_removing_a_systematic_under_prediction_is_said_beside_the_mae():
    y, adapted, base = _under_predicting_base()
    paired = versus_base(y, adapted, base, metric="mae", n_boot=1000)
    error = paired["mean_error"]
    assert error["adapter"] == pytest.approx(np.mean(y - adapted))
    assert error["base"] == pytest.approx(np.mean(y - base))
    assert error["difference"] == pytest.approx(np.mean(y - adapted) - np.mean(y - base))
    # each model's interval is the one its own metrics report (the same resamples)
    for who, scores in (("adapter", adapted), ("base", base)):
        alone = regression_metrics(y, scores, n_boot=1000)
        assert error[f"{who}_ci"] == pytest.approx(alone["calibration_in_the_large_ci"])
    assert error["base_ci"][0] > 0 and error["adapter_ci"][0] < 0 < error["adapter_ci"][1]
    assert error["ci"][1] < 0 and error["verdict"] == "removed"
    low, high = error["ci"]
    # the three share the change's decimals, the change that of the two as shown: they add
    # up (a trial read +11.6, -2.63, change -14.3)
    d = _places(max(abs(low), abs(high)))
    shown = round(round(error["adapter"], d) - round(error["base"], d), d)
    said = (
        f"Paired on the same patients, the adapter removes a systematic under-prediction of "
        f"about {abs(error['base']):.{d}f} (mean observed − predicted {error['base']:+.{d}f} "
        f"with the base model alone, {error['adapter']:+.{d}f} with the adapter; paired change "
        f"{shown:+.{d}f}, 95% CI {low:+.{d}f} to {high:+.{d}f})."
    )
    assert error["in_words"] == said
    assert paired["in_words"].startswith("Paired on the same patients, the adapter changes MAE by")
    assert paired["in_words"].endswith(f"{MAE_NO_DIFFERENCE} {said}")  # the MAE sentence kept


def test_a_mean_error_not_detectably_changed_adds_nothing_to_the_mae_sentence():
    y, adapted, _ = _under_predicting_base()
    other = y + np.random.default_rng(9).normal(0, 40, len(y))
    paired = versus_base(y, adapted, other, metric="mae", n_boot=500)
    assert paired["mean_error"]["verdict"] == "no detectable difference"
    assert paired["in_words"].endswith(MAE_NO_DIFFERENCE)
    assert paired["mean_error"]["in_words"].startswith(
        "Paired on the same patients, the adapter changes mean observed − predicted by "
    )
    assert (
        versus_base(y, adapted, other, metric="mae", withheld="too few").get("mean_error") is None
    )  # nothing compared on what the metrics withheld


@pytest.mark.parametrize(
    ("base_shift", "adapter_shift", "verdict", "words"),
    [
        (
            -20.0,
            -8.0,
            "reduced",
            "reduces a systematic under-prediction from about {b} to about {a}",
        ),
        (
            -8.0,
            -20.0,
            "enlarged",
            "enlarges a systematic under-prediction from about {b} to about {a}",
        ),
        (
            -20.0,
            20.0,
            "reversed",
            "turns a systematic under-prediction of about {b} into a "
            "systematic over-prediction of about {a}",
        ),
        (
            -20.0,
            8.0,
            "reversed",
            "turns a systematic under-prediction of about {b} into a "
            "systematic over-prediction of about {a}",
        ),
        (0.0, 20.0, "introduced", "introduces a systematic over-prediction of about {a}"),
        (
            -1.5,
            -5.0,
            "introduced",
            "introduces a systematic under-prediction of about {a}, where the base model's "
            "under-prediction of about {b} was not shown to be systematic",
        ),
        (
            -1.0,
            1.0,
            "shifted",
            "raises the predictions by about {d} on average (so mean observed − predicted "
            "falls by as much, hence the negative paired change), though neither model's mean "
            "error is systematic on its own",
        ),
    ],
)
def test_what_the_adapter_did_to_the_mean_error_is_named(base_shift, adapter_shift, verdict, words):
    """Shifts of predictions that share most of their noise (so the paired change is tight
    while each model's own mean error is not): a negative shift predicts too low, observed −
    predicted above 0."""
    rng = np.random.default_rng(4)
    y = rng.normal(100, 30, 100)
    shared = rng.normal(0, 20 if verdict == "shifted" else 10, 100)
    shared -= shared.mean()  # each model's mean error is its shift, give or take the rest
    adapted = y + shared + rng.normal(0, 1, 100) + adapter_shift
    base = y + shared + rng.normal(0, 1, 100) + base_shift
    error = mean_error_change(y, adapted, base, n_boot=500)
    assert error["verdict"] == verdict
    a, b = np.mean(y - adapted), np.mean(y - base)
    assert (error["adapter"], error["base"]) == (pytest.approx(a), pytest.approx(b))
    low, high = error["ci"]
    # one number of decimals for the three, the change's (its interval's widest end), and
    # the change that of the two as shown
    d = _places(max(abs(low), abs(high)))
    size = {"a": f"{abs(a):,.{d}f}", "b": f"{abs(b):,.{d}f}", "d": f"{abs(a - b):,.{d}f}"}
    shown = round(round(a, d) - round(b, d), d) + 0.0
    assert error["in_words"] == (
        f"Paired on the same patients, the adapter {words.format(**size)} (mean observed − "
        f"predicted {b:+.{d}f} with the base model alone, {a:+.{d}f} with the adapter; paired "
        f"change {shown:+.{d}f}, 95% CI {low:+.{d}f} to {high:+.{d}f})."
    )
    from medadapt.evaluate.versus_base import versus_base_harms

    # a reversed error is harm only where it is not smaller (20 under into 8 over: better)
    harm = verdict in ("enlarged", "introduced") or bool(verdict == "reversed" and abs(a) >= abs(b))
    paired = {"verdict": "no detectable difference", "mean_error": error}
    assert versus_base_harms(paired) is harm


@pytest.mark.parametrize(
    ("adapter_mean", "scatter", "verdict"), [(5.0, 22.0, "reversed"), (0.0, 4.0, "removed")]
)
def test_a_noisy_adapter_error_is_removed_only_where_it_is_the_smaller(
    adapter_mean, scatter, verdict
):
    """The base under-predicts by about 2 (its interval excludes 0); the adapter's predictions
    scatter so widely that its own mean error's interval includes 0. Only an adapter error
    smaller than the base's has removed it: a larger one of the other sign (about 5 over) is
    said as the reversal it is, in words that do not call it systematic, and counts as harm."""
    from medadapt.evaluate.versus_base import versus_base_harms

    rng = np.random.default_rng(1)
    y = rng.normal(100, 10, 60)
    base = y - 2 - rng.normal(0, 1, 60)
    noise = rng.normal(0, 1, 60)
    adapted = y + adapter_mean + scatter * (noise - noise.mean()) / noise.std()
    error = mean_error_change(y, adapted, base, n_boot=2000)
    assert error["adapter_ci"][0] < 0 < error["adapter_ci"][1]  # not systematic on its own
    assert error["base_ci"][0] > 0 and not error["ci"][0] <= 0 <= error["ci"][1]
    assert error["verdict"] == verdict
    harm = versus_base_harms({"verdict": "no detectable difference", "mean_error": error})
    assert harm is (verdict == "reversed")
    if verdict == "reversed":
        b = np.mean(y - base)  # to the change's decimals (its interval: -12.5 to -1.5)
        assert error["in_words"].startswith(
            f"Paired on the same patients, the adapter turns a systematic under-prediction of "
            f"about {b:.1f} into an over-prediction of about {adapter_mean:.1f} that its own "
            "interval cannot show is systematic ("
        )


def test_the_terminal_warns_about_an_unpredicted_class_and_a_new_systematic_error(capsys):
    from medadapt.cli.printing import print_versus_base

    y, adapted, base = _three_grades()
    paired = _graded(y, adapted, base)
    before = {"auroc": None, "accuracy": 17 / 32, "accuracy_ci": [0.347, 0.709], "n": 32}
    print_versus_base(before, paired, "multiclass", "32 rows")
    out = capsys.readouterr().out.splitlines()
    assert f"warning: {paired['warnings'][0]}" in out
    rng = np.random.default_rng(4)
    y = rng.normal(100, 30, 80)
    noise = rng.normal(0, 10, 80)
    worse = versus_base(y, y + noise + rng.normal(20, 1, 80), y + noise, metric="mae", n_boot=500)
    print_versus_base({"mae": 8.0, "mae_ci": [6.0, 10.0]}, worse, "regression", "80 rows")
    said = capsys.readouterr().out
    assert said.splitlines()[1].startswith("warning: Paired on the same patients, the adapter")
    assert "the adapter introduces a systematic over-prediction of about 2" in said


def test_reports_and_the_card_carry_the_comparison():
    from medadapt.registry.card import _versus_base
    from medadapt.workflows.reports import versus_base_warnings

    y, adapted, base = _three_grades()
    paired = _graded(y, adapted, base)
    assert versus_base_warnings(paired) == [f"Warning: {paired['warnings'][0]}."]
    assert versus_base_warnings(None) == []
    y, adapted, base = _under_predicting_base()
    paired = versus_base(y, adapted, base, metric="mae", n_boot=1000)
    card = " ".join(_versus_base(paired, "cases"))
    assert "the adapter removes a systematic under-prediction of about" in card


def test_nothing_is_said_about_classes_on_too_few_patients_or_of_a_class_none_has():
    """A review: "Accuracy, shown in its place" where no accuracy is shown (fewer than 10
    patients), and a warning about an adapter that stopped calling 40 negatives positive."""
    y = np.array([0, 0, 0, 0, 0, 0, 0, 1])  # 8 patients: no figure is reported
    adapted, base = np.full(8, 0.1), np.linspace(0.2, 0.9, 8)
    few = versus_base(y, adapted, base, metric="auroc", withheld="too few", n_boot=50)
    assert "warnings" not in few  # not judged on 8 patients
    assert "Accuracy, shown in its place" not in few["in_words"]
    none = np.zeros(40, dtype=int)  # no positive: calling none is right
    right = versus_base(none, np.full(40, 0.1), np.linspace(0.1, 0.9, 40), metric="auroc",
                        withheld="one class", n_boot=50)  # fmt: skip
    assert right["warnings"] == []
    assert "Accuracy, shown in its place" not in right["in_words"]


def test_where_auroc_cannot_compare_several_classes_the_brier_score_does():
    """A trial: "compare models by their Brier score and calibration", then no comparison;
    the summed Brier score fell from 1.092 to 0.776 in the report's table only."""
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(25, int), np.ones(25, int), np.full(3, 2)]
    base = rng.dirichlet(np.ones(3), len(y))
    adapted = 0.5 * base + 0.5 * np.eye(3)[y]
    out = versus_base(y, adapted, base, metric="auroc", withheld="3 patients of class 'c'",
                      classes=["a", "b", "c"], n_boot=200)  # fmt: skip
    summed = ((adapted - np.eye(3)[y]) ** 2).sum(axis=1).mean()
    summed -= ((base - np.eye(3)[y]) ** 2).sum(axis=1).mean()
    assert out["brier"]["difference"] == pytest.approx(summed)
    low, high = out["brier"]["ci"]
    assert low < summed < high < 0 and out["brier"]["verdict"] == "better"
    assert out["in_words"].endswith(
        f"By the Brier score instead, paired on the same patients, the adapter changes it by "
        f"{summed:+.3f} (95% CI {low:+.3f} to {high:+.3f}; a lower Brier score is better): the "
        "adapter gives risks closer to what happened (lower Brier score)."
    )


def test_a_lower_brier_score_no_better_than_the_class_shares_is_said_so():
    """A trial's four-class adapter: Brier 0.788 against a badly calibrated base's 1.09, said
    to give "risks closer to what happened", where giving every patient the test group's
    class shares scores 0.768. The reference is 1 - sum of the squared shares."""
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(25, int), np.ones(25, int), np.full(3, 2)]
    base = rng.dirichlet(np.full(3, 0.3), len(y))  # confident and random: a high Brier score
    adapted = 0.2 * base + 0.8 / 3  # nearer uniform: lower, yet worse than the shares
    out = versus_base(y, adapted, base, metric="auroc", withheld="3 patients of class 'c'",
                      classes=["a", "b", "c"], n_boot=200)  # fmt: skip
    onehot = np.eye(3)[y]
    brier = ((adapted - onehot) ** 2).sum(axis=1).mean()
    shares = np.bincount(y) / len(y)
    reference = 1 - (shares**2).sum()
    assert out["brier"]["verdict"] == "better" and brier > reference
    assert out["in_words"].endswith(
        f"the adapter gives risks closer to what happened (lower Brier score). Yet the "
        f"adapter's Brier score ({brier:.3f}) is no better than giving every patient this "
        f"group's own class shares ({reference:.3f}): its probabilities are not yet worth more "
        "than those shares."
    )
    shares_given = np.tile(shares, (len(y), 1))  # the shares themselves: no better, said
    assert (
        "no better than giving"
        in versus_base(
            y, shares_given, base, metric="auroc", withheld="3 patients of class 'c'", n_boot=50
        )["in_words"]
    )
    worse = versus_base(y, base, adapted, metric="auroc", withheld="3 patients of class 'c'",
                        n_boot=50)["in_words"]  # no gain said: no "yet"  # fmt: skip
    assert " The adapter's Brier score (" in worse and " Yet " not in worse


def test_a_change_that_prints_as_zero_gets_the_digits_its_verdict_rests_on():
    """A trial on a one-class folder: "the adapter changes it by -0.000 (95% CI -0.000 to
    -0.000...): the adapter gives risks closer to what happened", a conclusion resting on
    digits not shown. Now the digits that show the sign, and the amount called negligible."""
    from medadapt.evaluate.difference import Difference
    from medadapt.evaluate.versus_base import _adapter_in_words

    tiny = Difference("brier", -0.00004, (-0.00006, -0.00002))
    said = _adapter_in_words(tiny, "the Brier score", "images")
    assert said == (
        "Paired on the same images, the adapter changes the Brier score by -0.00004 (95% CI "
        "-0.00006 to -0.00002; a lower Brier score is better): the adapter gives risks closer "
        "to what happened (lower Brier score), by a negligible amount (below 0.0005)."
    )
    assert "-0.000 " not in tiny.sentence("adapter", "base")
    assert "negligible amount (below 0.0005)" in tiny.sentence("adapter", "base")
    smaller = _adapter_in_words(Difference("brier", -1e-8, (-2e-8, -5e-9)), "it", "images")
    assert "by less than 0.0000005 either way" in smaller and "-0.000000" not in smaller
    usual = _adapter_in_words(Difference("brier", -0.03, (-0.05, -0.01)), "it", "images")
    assert "by -0.030 (95% CI -0.050 to -0.010" in usual and "negligible" not in usual
    narrow = _adapter_in_words(Difference("brier", -0.0681, (-0.06812, -0.06808)), "it", "images")
    assert "by -0.0681 (95% CI -0.0681 to -0.0681;" in narrow  # 3 significant digits at most
    spans = _adapter_in_words(Difference("brier", 0.00001, (-0.00002, 0.00003)), "it", "images")
    assert "+0.00001 (95% CI -0.00002 to +0.00003" in spans
    assert spans.endswith("no detectable difference on these images.")


def test_an_interval_ending_exactly_at_0_prints_0_without_a_sign_and_says_so():
    """A trial read "changes AUROC by +0.018 (95% CI +0.000 to +0.058): no detectable
    difference" as a gain: an end that is exactly 0 is "0.000", and said to be 0."""
    from medadapt.evaluate.difference import Difference
    from medadapt.evaluate.versus_base import _adapter_in_words

    said = _adapter_in_words(Difference("auroc", 0.018, (0.0, 0.058)), "AUROC", "patients")
    assert said == (
        "Paired on the same patients, the adapter changes AUROC by +0.018 (95% CI 0.000 to "
        "+0.058): no detectable difference on these patients (the interval's lower end is 0)."
    )
    said = _adapter_in_words(Difference("auroc", 0.018, (-0.004, 0.058)), "AUROC", "patients")
    assert said.endswith("(95% CI -0.004 to +0.058): no detectable difference on these patients.")


def test_an_adapter_that_finds_far_fewer_of_a_class_at_the_threshold_is_warned_about():
    """A trial's adapter called 1 of 15 negatives negative where the base model called 5,
    and the comparison, by an AUROC that no threshold moves, read "no detectable
    difference" on its own: the counts of both classes are said as a warning."""
    y = np.array([0] * 15 + [1] * 45)
    base = np.r_[[0.30, 0.38, 0.40, 0.42, 0.44], [0.6] * 10, [0.36, 0.38, 0.40, 0.42, 0.44],
                 [0.8] * 40]  # fmt: skip
    adapted = base + 0.15  # every risk higher, the order kept
    paired = versus_base(y, adapted, base, metric="auroc", n_boot=50)
    assert paired["verdict"] not in ("better", "worse")  # the same order: the same AUROC
    assert paired["warnings"] == [
        "at threshold 0.5 the adapter calls 1 of the 15 negative patients negative, where the "
        "base model alone called 5, and 45 of the 45 positive patients positive (the base "
        "model 40): the AUROC compared does not depend on the threshold, and does not show it"
    ]
    # a patient with several rows: the calls are counted as rows, never called patients
    visits = np.r_[np.arange(55), np.arange(5)]  # 60 rows of 55 patients
    counted = versus_base(y, adapted, base, metric="auroc", n_boot=50, patients=visits)
    assert counted["warnings"][0].startswith(
        "at threshold 0.5 the adapter calls 1 of the 15 negative rows negative, where the base "
    )
    # none found, though it calls one positive patient negative: worse still, and said (a
    # trial's federated adapter found 0 of 15 where the base found 5, and neither check spoke)
    none = base + 0.2
    none[-1] = 0.3
    assert versus_base(y, none, base, metric="auroc", n_boot=50)["warnings"] == [
        "at threshold 0.5 the adapter calls 0 of the 15 negative patients negative, where the "
        "base model alone called 5, and 44 of the 45 positive patients positive (the base "
        "model 40): the AUROC compared does not depend on the threshold, and does not show it"
    ]
    # a small change, or one the adapter gains by, is not warned of
    slightly = base + 0.07  # 3 of the 5 negatives still called negative
    assert versus_base(y, slightly, base, metric="auroc", n_boot=50)["warnings"] == []
    assert versus_base(y, base, adapted, metric="auroc", n_boot=50)["warnings"] == []


def test_an_adapter_that_mends_a_base_calling_everyone_one_class_is_said_in_its_favour():
    """A trial's base ranked site B's images perfectly (AUROC 1.000) but called every one
    'ring'; the adapter called 24 of 24 right, and the terminal read only "no difference can
    be shown": the counts at the threshold and the Brier score's gain are now said after it."""
    y = np.array([0] * 12 + [1] * 12)
    base = np.r_[np.linspace(0.55, 0.65, 12), np.linspace(0.8, 0.95, 12)]  # all 'ring'
    adapted = np.r_[np.linspace(0.05, 0.15, 12), np.linspace(0.8, 0.95, 12)]
    paired = versus_base(y, adapted, base, metric="auroc", unit="image", n_boot=200,
                         classes=["normal", "ring"])  # fmt: skip
    assert paired["verdict"] not in ("better", "worse")  # both rank them perfectly
    assert paired["brier"]["verdict"] == "better"
    assert paired["in_words"].startswith("Paired on the same images, the adapter ")
    found = (
        "At threshold 0.5 the base model alone calls 0 of the 12 'normal' images 'normal', "
        "where the adapter calls 12, and 12 of the 12 'ring' images 'ring' (the adapter 12): "
        "the AUROC compared does not depend on the threshold, and does not show it."
    )
    beside = paired["brier"]["in_words"]  # its JSON says it as the terminal does (a trial
    assert paired["in_words"].endswith(f" {found} {beside}")  # read "instead" there only)
    assert beside.startswith("By the Brier score, paired on the same images, the adapter ")
    assert paired["warnings"] == []  # a gain, not a warning
    # the other way round (the adapter the one calling everyone 'ring') gains nothing said
    worse = versus_base(y, base, adapted, metric="auroc", unit="image", n_boot=200,
                        classes=["normal", "ring"])  # fmt: skip
    assert "At threshold" not in worse["in_words"] and "By the Brier" not in worse["in_words"]
    # a worse ranking is not followed by a gain; nor where the adapter found fewer of a
    # class (its warning says both counts once: a review saw them twice)
    rng = np.random.default_rng(0)
    ranks = rng.permutation(np.r_[np.linspace(0.05, 0.45, 12), np.linspace(0.55, 0.95, 12)])
    worse = versus_base(y, ranks, adapted, metric="auroc", unit="image", n_boot=200)
    assert worse["verdict"] == "worse" and "At threshold" not in worse["in_words"]
    fewer = np.r_[np.linspace(0.05, 0.15, 12), [0.9] * 4, [0.2] * 8]  # 4 of 12 'ring' found
    traded = versus_base(y, fewer, base, metric="auroc", unit="image", n_boot=200)
    assert traded["fewer_found"] and "At threshold" not in traded["in_words"]
    # no gain by the Brier score either: said all the same (a trial compared two adapters,
    # one's Brier gain said, the other's none unsaid), never as a gain
    noisy = np.clip(base + np.random.default_rng(1).normal(0, 0.02, 24), 0, 1)
    alike = versus_base(y, noisy, base, metric="auroc", unit="image", n_boot=200)
    assert alike["brier"]["verdict"] == "no detectable difference"
    assert alike["in_words"].endswith(alike["brier"]["in_words"])
    # an adapter that ranks better says its AUROC gain, and no more
    better = np.r_[np.linspace(0.05, 0.15, 12), np.linspace(0.8, 0.95, 12)]
    mixed = np.r_[np.linspace(0.3, 0.9, 12), np.linspace(0.2, 0.8, 12)]
    gained = versus_base(y, better, mixed, metric="auroc", unit="image", n_boot=200)
    assert gained["verdict"] == "better" and "At threshold" not in gained["in_words"]


def test_an_adapter_better_than_a_backwards_base_but_still_below_chance_is_said_so():
    """A trial's adapter of AUROC 0.307 against the base model's 0.017 was said to rank
    "patients by risk better", beside nothing to say its own AUROC was below chance."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 40)
    base = 1.0 - y + rng.normal(0, 0.01, 80)  # backwards
    adapted = 1.0 - y + rng.normal(0, 1.0, 80)  # backwards, less so
    auroc = roc_auc_score(y, adapted)
    assert roc_auc_score(y, base) < auroc < 0.5
    said = versus_base(y, adapted, base, metric="auroc", n_boot=200)
    assert said["verdict"] == "better"
    assert said["in_words"].endswith(
        f" Its own AUROC on these patients, {auroc:.3f}, is below 0.5, the level of chance: "
        "ranking better than the base model alone does not make it useful."
    )
    good = y + rng.normal(0, 0.5, 80)  # better than the backwards base, and above 0.5
    better = versus_base(y, good, base, metric="auroc", n_boot=200)
    assert better["verdict"] == "better" and "below 0.5" not in better["in_words"]
    three = np.array([0, 1, 2] * 30)  # several classes: their macro AUROC

    def probabilities(logits):
        return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    backwards = probabilities(3 * np.eye(3)[(three + 1) % 3] + rng.normal(0, 0.01, (90, 3)))
    less = probabilities(np.eye(3)[(three + 1) % 3] + rng.normal(0, 1.5, (90, 3)))
    macro = roc_auc_score(three, less, multi_class="ovr", average="macro")
    several = versus_base(three, less, backwards, metric="auroc", n_boot=200,
                          classes=["a", "b", "c"])  # fmt: skip
    assert macro < 0.5 and several["verdict"] == "better"
    assert f"Its own AUROC on these patients, {macro:.3f}, is below 0.5" in several["in_words"]


def test_a_class_neither_model_found_is_said_so_not_as_0_of_them():
    """A trial read "the base model found 0 of them, the adapter none"."""
    from medadapt.evaluate.ignored_classes import unpredicted_classes

    y = np.array([0] * 6 + [1] * 3)
    base = np.array([0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])  # one negative called 1
    adapted = np.full(9, 0.1)
    (said,) = unpredicted_classes(y, adapted, base, ["negative", "positive"])
    assert "3 of the 9 are positive: the base model found none of them either" in said
    (found,) = unpredicted_classes(y, adapted, np.r_[base[:6], 0.9, 0.1, 0.1],
                                   ["negative", "positive"])  # fmt: skip
    assert "the base model found 1 of them, the adapter none" in found


def test_one_near_copy_is_said_in_the_singular():
    """A trial read "1 of the images predicted looks like near-identical copies"."""
    from medadapt.workflows.splitting import near_copies_sentence

    assert near_copies_sentence(1, "the images predicted", "images the model trained on",
                                "their predictions") == (
        "1 of the images predicted looks like a near-identical copy (a lossy re-save) of images "
        "the model trained on: if it is a copy, their predictions are optimistic; leave it out "
        "of --data (a copy is no new patient)"
    )  # fmt: skip
    assert near_copies_sentence(2, "the images", "x", "y").startswith(
        "2 of the images look like near-identical copies (lossy re-saves) of x: if they are "
        "copies, y are optimistic; leave them out"
    )


def test_a_difference_never_prints_as_an_end_of_its_own_interval():
    """A trial read "changes Brier score by -0.001 (95% CI -0.002 to -0.001)": the estimate
    on the edge of its interval once rounded; one more decimal tells them apart."""
    from medadapt.evaluate.difference import Difference

    change = Difference("brier", -0.0012, (-0.0021, -0.0006))
    assert change.numbers(change.shown_digits()) == "-0.0012 (95% CI -0.0021 to -0.0006"
    apart = Difference("auroc", 0.02, (-0.05, 0.09))  # told apart at 3 decimals already
    assert apart.numbers(apart.shown_digits()) == "+0.020 (95% CI -0.050 to +0.090"
    edge = Difference("auroc", -0.05, (-0.05, 0.09))  # on its end truly: nothing to add
    assert edge.shown_digits() == 3


CAUTION = (
    " The adapter's own result is too good to be true (notes.too_good): a leak would give "
    "this gain as well, so it says nothing of the adapter's skill until one is ruled out."
)


def test_a_gain_beside_a_result_too_good_to_be_true_is_said_with_a_caution():
    """A trial's ``adapt`` said the adapter "gives risks closer to what happened" of a result
    its report called too good to be true (a column kept with --allow-leak): the AUROC of both
    models 1.0, the Brier score lower. The gain is now said with a caution, once; a result not
    too good, or no gain, gets none."""
    from medadapt.evaluate.versus_base import too_good_caveat

    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(30, int), np.ones(30, int)]
    base = np.r_[rng.uniform(0.3, 0.52, 30), rng.uniform(0.5, 0.7, 30)]  # risks near 0.5
    adapted = np.r_[rng.uniform(0.02, 0.1, 30), rng.uniform(0.9, 0.98, 30)]  # AUROC 1.0
    paired = versus_base(y, adapted, base, metric="auroc", n_boot=200)
    assert paired["verdict"] != "better" and paired["brier"]["verdict"] == "better"
    assert "the adapter gives risks closer to what happened" in paired["in_words"]
    noted = too_good_caveat(paired, {"too_good": "AUROC 1.000: too good to be true"})
    assert noted["in_words"] == paired["in_words"] + CAUTION
    assert noted["brier"]["in_words"] == paired["brier"]["in_words"] + CAUTION
    assert too_good_caveat(paired, {}) == paired and too_good_caveat(paired, None) == paired
    noisy = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.25, 60), 0, 1)
    ranked = versus_base(y, adapted, noisy, metric="auroc", n_boot=200)
    assert ranked["verdict"] == "better"
    noted = too_good_caveat(ranked, {"too_good": "AUROC 1.000"})
    assert noted["in_words"] == ranked["in_words"] + CAUTION  # once, the Brier's gain not said
    worse = versus_base(y, noisy, adapted, metric="auroc", n_boot=200)
    assert worse["verdict"] == "worse"
    assert too_good_caveat(worse, {"too_good": "AUROC 1.000"}) == worse

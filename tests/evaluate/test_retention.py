"""The old-class retention verdict: kept only when the old-class AUROC holds *and* few of the
old-class images the base got right are called a new class; its wording in the terminal line
and the HTML report."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import numpy as np
import pytest

from medadapt.evaluate.retention import (
    OLD_DATA_FIX,
    auroc_change,
    old_class_retention,
    retention_sentence,
)
from medadapt.workflows.reports import adapt_report

OLD = ["normal", "nodule", "mass"]


def _old_class_probabilities(noise: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """24 old-class images (8 per class) and (24, 3) probabilities whose ranking worsens with
    ``noise`` (at 0.5 the base classifies all 24 correctly, at 2.0 16 of them)."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], 8)
    scores = np.eye(3)[y] + noise * rng.random((24, 3))
    return y, scores / scores.sum(axis=1, keepdims=True)


def _extended(old: np.ndarray, new_share: float) -> np.ndarray:
    """(N, 4): the old probabilities scaled down beside a new class of probability
    ``new_share``."""
    return np.column_stack([old * (1 - new_share), np.full(len(old), new_share)])


def _call_new(extended: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``extended`` with ``rows`` called the new class, their old-class ranking unchanged."""
    out = extended.copy()
    out[rows, :-1] *= 0.1 / out[rows, :-1].sum(axis=1, keepdims=True)
    out[rows, -1] = 0.9
    return out


def test_calling_every_old_class_image_a_new_class_is_not_keeping_them():
    y, before = _old_class_probabilities(noise=2.0)
    _, sharper = _old_class_probabilities(noise=0.5)
    out = old_class_retention(y, before, _extended(sharper, 0.9), OLD, n_boot=200)
    assert out["auroc_after"] > out["auroc_before"]  # the ranking among old classes improved
    assert out["drop"] < 0 and out["old_predicted_as_new"] == 1.0
    assert out["n_base_correct"] == 16 and out["base_correct_predicted_as_new"] == 1.0
    assert out["passed"] is False and out["predicted_as_new_limit"] == 0.10
    assert out["verdict"] == (
        "old classes NOT kept: 100% of the 16 old-class images the base model classified "
        "correctly are now called a new class (more than 10%); the AUROC rose 0.133"
    )
    gain = out["auroc_after"] - out["auroc_before"]
    sentence = retention_sentence("adapter", out)
    assert sentence.startswith(
        f"adapter: old-class AUROC {out['auroc_before']:.3f} -> {out['auroc_after']:.3f} "
        f"(gain {gain:.3f}, 95% CI of the change "
    )
    assert sentence.endswith(
        "on 24 old-class test images, the old classes told apart among themselves (not the "
        f"per-class AUROCs): {out['verdict']}. Of all old-class images, 100% are "
        "called new."
    )


def test_an_adapter_that_forgot_the_old_classes_carries_it_to_every_later_result():
    """A trial: 'old classes NOT kept' was a plain line at adapt, and registry list, show, the
    card, promote, serve, evaluate and predict said nothing. The record's metrics now carry a
    note about the whole result, and evaluate/predict repeat it from the recorded retention."""
    from medadapt.evaluate.retention import forgetting_warning, with_forgetting
    from medadapt.results import FORGOT_OLD_CLASSES, WHOLE_RESULT
    from medadapt.workflows.evaluate import _forgotten

    y, before = _old_class_probabilities(noise=2.0)
    _, sharper = _old_class_probabilities(noise=0.5)
    forgot = old_class_retention(y, before, _extended(sharper, 0.9), OLD, n_boot=200)
    said = (
        "the adapter did not keep the old classes when it learnt the new ones (old classes NOT "
        "kept: 100% of the 16 old-class images the base model classified correctly are now "
        "called a new class (more than 10%); the AUROC rose 0.133): its calls of patients of "
        "an old class may name a new one; keep the base model for the old classes, or adapt "
        "again"
    )
    assert forgetting_warning(forgot) == said
    metrics = with_forgetting({"auroc": 0.9, "notes": {"auroc": "kept"}}, forgot)
    assert metrics["notes"] == {"auroc": "kept", FORGOT_OLD_CLASSES: said}
    assert FORGOT_OLD_CLASSES in WHOLE_RESULT  # the registry's (!), show, promote and serve
    loaded = SimpleNamespace(adapter="cavity", record=SimpleNamespace(retention=forgot))
    assert _forgotten(loaded) == [said.replace("the adapter", "adapter 'cavity'", 1)]
    kept = old_class_retention(y, before, _extended(before, 0.01), OLD, n_boot=200)
    assert kept["passed"] is True
    assert forgetting_warning(kept) is None and with_forgetting({"auroc": 0.9}, kept) == {
        "auroc": 0.9
    }
    assert _forgotten(SimpleNamespace(adapter=None, record=None)) == []


def test_the_forgetting_warning_says_what_the_failed_criterion_means():
    """A trial: an adapter whose AUROC on the old classes fell by 0.012 (95% CI of the change
    -0.036 to +0.000) while 0% of them were called new was said to make calls that "may name
    a new one"; the warning now says what failed, and that the drop's interval reaches none."""
    from medadapt.evaluate.retention import forgetting_warning

    record = _trial_record(auroc_after=0.788, drop=0.012, drop_ci=[-0.004, 0.036],
                           base_correct_predicted_as_new=0.0, old_predicted_as_new=0.0)  # fmt: skip
    said = forgetting_warning(record, "adapter 'cavity'")
    assert said.endswith(
        "the AUROC dropped 0.012 (more than 0.01); 0% of the 20 old-class images the base model "
        "classified correctly are now called a new class (at most 10%)): it tells the old "
        "classes apart less well than the base model did (95% CI of the change -0.036 to "
        "+0.004: the interval includes zero, no change at all, so more old-class images would "
        "tell whether the drop is real); keep the base model for the old classes, or adapt again"
    )
    # one direction everywhere: the change (after - before), as retention_sentence gives it
    assert "-0.036 to +0.004" in retention_sentence("adapter 'cavity'", record)
    assert "includes no drop" not in said and "interval of the drop" not in said
    assert "may name a new one" not in said
    clear = forgetting_warning({**record, "drop_ci": [0.02, 0.05]}, "adapter 'cavity'")
    assert "apart less well than the base model did; keep the base model" in clear


def test_old_classes_still_ranked_and_rarely_called_new_are_kept():
    y, before = _old_class_probabilities(noise=0.5)  # the base gets all 24 right
    after = _call_new(_extended(before, 0.05), np.array([0, 9]))  # 2 of 24 (8%) called new
    out = old_class_retention(y, before, after, OLD, n_boot=200)
    assert out["passed"] is True and -0.0005 < out["drop"] <= 0  # ranked as before
    assert out["verdict"] == (
        "old classes kept: 8% of the 24 old-class images the base model classified correctly "
        "are now called a new class (at most 10%); no AUROC drop"
    )
    assert f": {out['verdict']}. Of all old-class images, 8% are called new." in (
        retention_sentence("adapter", out)
    )


def test_images_the_base_already_got_wrong_do_not_count_against_the_extension():
    y, before = _old_class_probabilities(noise=2.0)
    wrong = np.flatnonzero(before.argmax(axis=1) != y)  # 8 of 24
    out = old_class_retention(y, before, _call_new(_extended(before, 0.05), wrong), OLD)
    assert out["old_predicted_as_new"] == pytest.approx(8 / 24)
    assert out["base_correct_predicted_as_new"] == 0.0 and out["passed"] is True
    assert retention_sentence("adapter", out).endswith(
        "old classes kept: 0% of the 16 old-class images the base model classified correctly are "
        "now called a new class (at most 10%); no AUROC drop. Of all old-class images, 33% are "
        "called new."
    )


def test_an_auroc_drop_beyond_the_tolerance_is_named_first():
    y, before = _old_class_probabilities(noise=0.5)
    _, noisier = _old_class_probabilities(noise=3.0, seed=1)
    out = old_class_retention(y, before, _extended(noisier, 0.05), OLD, n_boot=200)
    assert out["drop"] > 0.01 and out["passed"] is False
    assert out["verdict"] == (
        f"old classes NOT kept: the AUROC dropped {out['drop']:.3f} (more than 0.01); "
        "0% of the 24 old-class images the base model classified correctly are now called a new "
        "class (at most 10%)"
    )
    assert f"(drop {out['drop']:.3f}, 95% CI of the change -" in retention_sentence("a", out)


def test_old_classes_called_new_fail_the_check_even_without_an_auroc():
    y = np.zeros(10, dtype=int)  # one old class only: no old-class AUROC
    before = np.tile([0.9, 0.1], (10, 1))
    out = old_class_retention(y, before, _extended(before, 0.8), OLD[:2], n_boot=50)
    assert out["drop"] is None and out["passed"] is False
    assert retention_sentence("adapter", out).startswith(
        "adapter: old classes NOT kept: 100% of the 10 old-class images the base model classified "
        "correctly are now called a new class (more than 10%); old-class AUROC not measurable ("
    )
    kept = old_class_retention(y, before, _extended(before, 0.05), OLD[:2], n_boot=50)
    assert kept["passed"] is None
    assert retention_sentence("adapter", kept).startswith(
        "adapter: retention not measured; old-class AUROC not measurable ("
    )
    assert kept["note"].endswith(
        "pass the base model's training images as --old-data, or add old-class images to the data"
    )
    given = old_class_retention(y, before, before, OLD[:2], n_boot=50, fix=OLD_DATA_FIX)
    assert given["note"].endswith(  # --old-data was given: asking for it again misleads
        "pass more old-class images as --old-data (at least 5 of each old class that neither "
        "the base model nor the extended model trained on)"
    )


def _trial_record(**changes) -> dict:
    """The numbers of the new-user trial that reported 'kept' for a useless adapter."""
    record = {
        "n_images": 24,
        "test_set": "the 24 images of old.npz neither the base model nor the adapter trained on",
        "auroc_before": 0.8,
        "auroc_before_ci": [0.7, 0.9],
        "auroc_after": 0.8442,
        "auroc_after_ci": [0.75, 0.93],
        "drop": -0.0442,
        "drop_ci": [-0.09, 0.01],
        "tolerance": 0.01,
        "old_predicted_as_new": 1.0,
        "n_base_correct": 20,
        "base_correct_predicted_as_new": 1.0,
        "predicted_as_new_limit": 0.10,
        "passed": False,
        "trick": "distill",
    }
    return {**record, **changes}


def test_the_trial_sentence_names_the_gain_and_the_share_called_new():
    assert retention_sentence("adapter", _trial_record()) == (
        "adapter: old-class AUROC 0.800 -> 0.844 (gain 0.044, 95% CI of the change -0.010 to "
        "+0.090) on the 24 images of old.npz neither the base model nor the adapter trained on, "
        "the old classes told apart among themselves (not the per-class AUROCs): "
        "old classes NOT kept: 100% of the 20 old-class images the base model classified "
        "correctly are now called a new class (more than 10%); the AUROC rose 0.044. Of all "
        "old-class images, 100% are called new."
    )


def test_a_record_written_before_the_limit_is_judged_by_its_share_of_all_old_images():
    old_record = _trial_record(passed=True)
    for key in ("n_base_correct", "base_correct_predicted_as_new", "predicted_as_new_limit"):
        del old_record[key]
    assert retention_sentence("a", old_record).endswith(
        "old classes NOT kept: 100% of the old-class images are now called a new class "
        "(more than 10%); the AUROC rose 0.044."
    )


def test_figures_just_over_their_limits_are_not_rounded_onto_them():
    sentence = retention_sentence("a", _trial_record(base_correct_predicted_as_new=0.104))
    assert "10.4% of the 20 old-class images the base model classified correctly" in sentence
    near = _trial_record(auroc_after=0.7896, drop=0.0104, base_correct_predicted_as_new=0.1001)
    assert retention_sentence("a", near).endswith(
        "old classes NOT kept: 10.01% of the 20 old-class images the base model classified "
        "correctly are now called a new class (more than 10%); the AUROC dropped 0.0104 (more "
        "than 0.01). Of all old-class images, 100% are called new."
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (0.0442, "gain 0.044"),
        (-0.0442, "drop 0.044"),
        (0.0004, "no change"),
        (-0.0004, "no change"),
    ],
)
def test_the_auroc_change_reads_as_a_gain_or_a_drop_of_a_positive_number(change, words):
    assert auroc_change(change) == words


def test_the_adapt_report_shows_the_failed_verdict_in_the_summary_and_the_table():
    summary = {
        "name": "cavity",
        "method": "bottleneck",
        "task": "multiclass",
        "classes": [*OLD, "cavity"],
        "new_classes": ["cavity"],
        "data_summary": {"n_train": 60, "n_test": 20},
        "metrics": {"auroc": 0.9, "auroc_ci": [0.8, 0.95]},
        "trainable_params": 1000,
        "retention": _trial_record(),
    }
    page = adapt_report(summary, {}, SimpleNamespace(noun="images")).render()
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert retention_sentence("This adapter", _trial_record()) in text
    assert "the old-class images the base model classified correctly, at most 10% are" in text
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>.*?</tr>", page)]
    retention_row = next(row for row in rows if row and row[0] == "this adapter")
    assert retention_row[-3:] == [
        "gain 0.044 (-0.010 to +0.090)",
        "100% (100% of the 20 the base got right)",
        "NO",
    ]


def test_an_interval_of_no_change_in_any_resample_is_not_printed_as_certainty():
    unchanged = _trial_record(auroc_after=0.800, drop=0.0, drop_ci=[0.0, 0.0])
    assert retention_sentence("adapter", unchanged).startswith(
        "adapter: old-class AUROC 0.800 -> 0.800 (no change, the old classes are ranked exactly "
        "as before in every bootstrap resample) on the 24 images of old.npz"
    )


def test_a_retention_that_cannot_be_measured_names_the_old_class():
    """It said "3 images of class 2" for the old class 'mass'."""
    y = np.array([0] * 12 + [1] * 12 + [2] * 3)
    before = np.tile([0.5, 0.3, 0.2], (27, 1))
    out = old_class_retention(y, before, _extended(before, 0.05), OLD, n_boot=50)
    assert "3 images of class 'mass'" in out["note"]


def test_a_new_class_never_predicted_makes_keeping_the_old_ones_no_achievement():
    """Every image called 'mass', none 'cavity': 'old classes kept: 0% ... called a new class'
    was true, and said nothing: the new class was never learnt."""
    y_old, before = _old_class_probabilities(noise=0.5)
    n_new = 6
    y = np.r_[y_old, np.full(n_new, len(OLD))]  # six images of the new class
    before = np.r_[before, np.full((n_new, len(OLD)), 1 / len(OLD))]
    after = np.c_[before, np.zeros(len(y))]  # the new class never wins
    out = old_class_retention(y, before, after, OLD, n_boot=100)
    assert (out["n_new_images"], out["new_called_new"]) == (6, 0.0)
    assert retention_sentence("adapter", out).endswith(
        " But none of the 6 new-class images is called a new class: the new class is not "
        "learnt, so the old classes are kept only because nothing is ever called new."
    )
    learnt = np.c_[before, np.r_[np.zeros(len(y_old)), np.ones(n_new)]]
    assert "not learnt" not in retention_sentence(
        "adapter", old_class_retention(y, before, learnt, OLD, n_boot=100)
    )


def test_an_auroc_drop_within_the_tolerance_whose_interval_reaches_past_it_says_so():
    """A trial's verdict said "AUROC drop within 0.01" right after a change's interval of
    -0.067 to +0.042: within as estimated, not shown to be."""
    from medadapt.evaluate.retention import retention_verdict

    retention = {"drop": 0.004, "drop_ci": [-0.042, 0.067], "tolerance": 0.01,
                 "base_correct_predicted_as_new": 0.05, "n_base_correct": 19,
                 "old_predicted_as_new": 0.05}  # fmt: skip
    assert retention_verdict(retention) == (
        "old classes kept: 5% of the 19 old-class images the base model classified correctly "
        "are now called a new class (at most 10%); AUROC drop within 0.01 as estimated, though "
        "its interval reaches a drop of 0.067: more old-class test images would settle it"
    )
    retention["drop_ci"] = [-0.02, 0.008]  # the whole interval within: said plainly
    assert retention_verdict(retention).endswith("; AUROC drop within 0.01")
    retention |= {"drop": -0.023, "drop_ci": [-0.06, 0.011]}  # a gain is no drop
    assert retention_verdict(retention).endswith(
        "; the AUROC rose 0.023 as estimated, though its interval reaches a drop of 0.011: more "
        "old-class test images would settle it"
    )
    retention["drop_ci"] = [-0.06, 0.004]
    assert retention_verdict(retention).endswith("; the AUROC rose 0.023")
    retention["drop"] = -0.0002  # a rise too small to show at three decimals: no "rose 0.000"
    assert retention_verdict(retention).endswith("; no AUROC drop")


def test_images_the_extended_model_gives_the_old_classes_nothing_are_measured_not_refused():
    """A review: an old-class image whose new-class logit was 28 above the old ones summed
    to 0 over them once renormalised, and the check refused it as no probabilities."""
    y, before = _old_class_probabilities(0.5)
    after = _extended(before, 0.5)
    after[:6, :-1] = 0.0  # six images: nothing left for the old classes
    after[:6, -1] = 1.0
    result = old_class_retention(y, before, after, OLD, n_boot=50)
    assert result["n_images"] == 24 and result["auroc_after"] is not None  # even, not refused


def test_a_base_whose_old_class_probabilities_barely_differ_keeps_nothing_worth_keeping():
    """A trial's stalled base ("AUROC 1.000 from probabilities that barely differ") was then
    said to keep its old classes, AUROC 1.000 -> 1.000, without a word of it."""
    y = np.repeat([0, 1], 12)
    second = 0.48 + 0.00005 * y + 0.000001 * np.arange(24)  # ranked perfectly, barely
    flat = np.column_stack([1 - second, second])
    out = old_class_retention(y, flat, _extended(flat, 0.05), OLD[:2], n_boot=50)
    assert out["before_flat"] and out["auroc_before"] == 1.0
    assert retention_sentence("adapter", out).endswith(
        f"But the base model gives nearly the same probability to every old-class image (the "
        f"middle 90% between {out['before_flat']}): its old-class AUROC rests on differences "
        "too small to act on, so keeping it shows little."
    )
    lost = old_class_retention(y, flat, _call_new(_extended(flat, 0.05), np.arange(12)), OLD[:2],
                               n_boot=50)  # fmt: skip
    assert lost["passed"] is False and "keeping it shows little" not in retention_sentence(
        "adapter", lost)  # not kept: said so, no word of keeping (a review)  # fmt: skip
    y, varied = _old_class_probabilities(noise=0.5)
    assert "before_flat" not in old_class_retention(y, varied, _extended(varied, 0.05), OLD,
                                                    n_boot=50)  # fmt: skip

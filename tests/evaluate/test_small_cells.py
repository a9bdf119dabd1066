"""Small-cell suppression keeps a subgroup's prevalence hidden wherever its counts are: the
one-class warning (which states the share of the commonest class) is left out of a masked or
coarsened subgroup, and image counts are suppressed like patient counts."""

from __future__ import annotations

import re

import numpy as np
import pytest

from medadapt.evaluate.groups import evaluate_groups
from medadapt.evaluate.metrics import binary_metrics, multiclass_metrics
from medadapt.evaluate.small_cells import (
    COUNTS_HIDDEN,
    ROUNDED_HIDDEN,
    SAME_VALUE_HIDDEN,
    SUPPRESSED,
    TABLE_WITHHELD,
    WITHHELD,
    mask_counts,
    mask_note,
    mask_subgroups,
    withheld_note,
)
from tests.evaluate.recovery import recoverable


def test_the_one_class_note_is_left_out_where_counts_are_suppressed():
    few = binary_metrics(np.array([1] * 11 + [0]), np.full(12, 0.9), n_boot=20)  # 1 negative
    many = binary_metrics(np.array([1] * 30 + [0] * 20), np.full(50, 0.9), n_boot=20)
    assert "one_class" in few["notes"] and "one_class" in many["notes"]  # both called positive
    groups = {"Female": few, "Male": many}
    shown = mask_subgroups({"sex": groups})["sex"]
    # "10-14" of "10-14" beside 50-54 and 30-34 under 62 and 41 left the woman 0 to 2 negatives
    assert shown["Female"]["n_positive"] == SUPPRESSED and shown["Female"]["prevalence"] is None
    assert "one_class" not in shown["Female"]["notes"] and not recoverable(groups, shown)
    assert shown["Male"]["n"] == SUPPRESSED and "one_class" not in shown["Male"]["notes"]
    untouched = mask_subgroups({"sex": {"Male": many}})["sex"]["Male"]
    assert untouched["notes"]["one_class"] == many["notes"]["one_class"]  # nothing to hide


def test_image_counts_are_suppressed_like_patient_counts():
    assert mask_note("not reported: only 3 images (at least 10 needed)") == (
        "not reported: fewer than 5 images (at least 10 needed)"
    )


def test_coarsened_subgroups_show_figures_that_do_not_give_their_counts_back():
    """59 men and 1 woman: the men shown as "55-59" with accuracy 0.7457627 = 44/59 (no other
    fraction in 55-59) gave the count, and with it the woman, back."""
    rng = np.random.default_rng(0)
    y_men = np.r_[np.ones(44), np.zeros(15)].astype(int)
    men = binary_metrics(y_men, np.clip(y_men * 0.6 + rng.random(59) * 0.5, 0, 1), n_boot=50)
    woman = binary_metrics(np.array([1]), np.array([0.9]), n_boot=50)
    groups = {"Male": men, "Female": woman}
    table = mask_subgroups({"sex": groups})["sex"]
    shown = table["Male"]  # "40-44" and "<5" under 45 events: hers 1 to 4, not 0 to 4
    assert shown["n"] == SUPPRESSED and not recoverable(groups, table)
    for name in ("accuracy", "auroc", "sensitivity", "specificity", "brier"):
        if men.get(name) is not None:
            assert shown[name] == round(men[name], 1), name
            assert all(v == round(v, 1) for v in shown[f"{name}_ci"] or []), name
            if men.get(f"{name}_ci"):  # rounded outward: still around the exact interval
                low, high = shown[f"{name}_ci"]
                assert low <= men[f"{name}_ci"][0] and men[f"{name}_ci"][1] <= high, name
    assert shown["notes"]["rounded"] == ROUNDED_HIDDEN
    alone = mask_subgroups({"sex": {"Male": men}})["sex"]["Male"]
    assert alone["accuracy"] == men["accuracy"] and "rounded" not in alone.get("notes", {})


def test_a_subgroup_of_one_value_holding_every_patient_is_shown_as_the_overall_counts():
    """``evaluate --group "VA Long Beach"``: its subgroup table showed the group as "55-59
    patients" and "fewer than 5 of class '4'" under an overall table of 59 patients and 3 of
    class '4'; masking a count printed beside it hid nothing."""
    y = np.r_[np.ones(3), np.zeros(56)].astype(int)  # 3 positives among 59
    everyone = binary_metrics(y, np.linspace(0.1, 0.9, 59), n_boot=20)
    shown = mask_subgroups({"dataset": {"VA Long Beach": everyone}})["dataset"]["VA Long Beach"]
    assert (shown["n"], shown["n_positive"]) == (59, 3) and shown == everyone
    two = {"A": everyone, "B": everyone}
    masked = mask_subgroups({"dataset": two})["dataset"]  # beside another group, still masked:
    # two "<5" among 6 positives in all left each 2 to 4, and so do their sensitivities,
    # withheld for "fewer than 5 positives" with or without a count shown: no table at all
    assert withheld_note(masked) == TABLE_WITHHELD.format(name="dataset")
    assert masked[WITHHELD]["n"] == masked[WITHHELD]["n_positive"] == SUPPRESSED
    assert masked[WITHHELD]["auroc"] is None and not recoverable(two, masked)


def _underpredicted(n: int, events: int) -> dict:
    """A subgroup whose risks (0.05 each) are far too low: its observed/expected note fires."""
    y = np.r_[np.ones(events), np.zeros(n - events)].astype(int)
    return binary_metrics(y, np.full(n, 0.05), n_boot=200)


def test_the_observed_and_expected_counts_are_not_shown_beside_masked_counts():
    """The note said "12 observed against 2.0 expected" beside "10-14 positives": the
    positives, and with the total minus the others the masked group's, given back."""
    many, one = _underpredicted(40, 12), _underpredicted(3, 1)
    assert "12 observed against 2.0 expected" in many["notes"]["oe_ratio"]
    shown = mask_subgroups({"site": {"A": many, "B": one}})["site"]["A"]
    assert shown["n_positive"] == SUPPRESSED  # "<5" beside 40-44 under 43: 1 to 3, not 4
    assert shown["notes"]["oe_ratio"] == (  # its figures rounded: the verdict's interval not
        "the model predicts too few events (the interval, before rounding, excludes 1); its "
        "risks are too low on average"
    )
    assert "rounded" in shown["notes"]
    alone = mask_subgroups({"site": {"A": many}})["site"]["A"]
    assert alone["notes"]["oe_ratio"] == many["notes"]["oe_ratio"]  # nothing to hide


def test_a_subgroups_patient_count_is_masked_and_coarsened_like_its_rows():
    """Images of 3 patients: ``n_patients`` 3 was printed under a note saying "fewer than 5"."""
    y = np.r_[np.ones(6), np.zeros(6)].astype(int)
    few = binary_metrics(y, np.linspace(0.2, 0.8, 12), patients=np.repeat([0, 1, 2], 4))
    y_many = np.r_[np.ones(30), np.zeros(30)].astype(int)
    many = binary_metrics(y_many, np.linspace(0.2, 0.8, 60), patients=np.arange(60) // 2)
    assert (few["n_patients"], many["n_patients"]) == (3, 30)
    groups = {"A": few, "B": many}
    shown = mask_subgroups({"site": groups})["site"]
    assert "3 patients" not in str(shown["A"]) and not recoverable(groups, shown)
    # "<5" patients beside 30-34 under 33 were 1 to 3; the 3 patients' images (6 positive,
    # "suppressed") 36 positives minus 30-34: 2 to 6
    assert shown["A"]["n_patients"] == shown["A"]["n_positive"] == SUPPRESSED
    assert shown["A"]["n"] == shown["B"]["n_patients"] == SUPPRESSED


def test_a_verdict_beside_rounded_figures_says_it_was_read_before_rounding():
    """A trial: men's O/E 0.8 (0.7-1.0) beside "the interval excludes 1" read as a
    contradiction; the exact interval, 0.711-0.978, did exclude it."""
    from medadapt.evaluate.small_cells import _rounded

    note = "the model predicts too many events (the interval excludes 1); its risks are high"
    shown = _rounded({"oe_ratio": 0.84, "oe_ratio_ci": [0.711, 0.978], "notes": {"oe_ratio": note}})
    assert shown["oe_ratio_ci"] == [0.7, 1.0]
    assert shown["notes"]["oe_ratio"] == (
        "the model predicts too many events (the interval, before rounding, excludes 1); its "
        "risks are high"
    )


def test_a_rounded_figure_short_of_perfect_is_never_shown_as_one():
    """A trial read a subgroup's AUROC of 0.96, shown "1.0 (0.8-1.0)", as perfect; a figure
    that is 1 stays 1.0, and a measure whose best is 0 (Brier) rounds as before."""
    from medadapt.evaluate.small_cells import _rounded

    shown = _rounded({"auroc": 0.962, "auroc_ci": [0.84, 0.995], "accuracy": 1.0,
                      "accuracy_ci": [0.88, 1.0], "sensitivity": 0.951, "brier": 0.96,
                      "balanced_accuracy": 0.949})  # fmt: skip
    assert shown["auroc"] == 0.9 and shown["auroc_ci"] == [0.8, 1.0]
    assert shown["sensitivity"] == 0.9 and shown["balanced_accuracy"] == 0.9
    assert shown["accuracy"] == 1.0 and shown["brier"] == 1.0
    assert shown["auroc_ci"][0] <= shown["auroc"] <= shown["auroc_ci"][1]


def test_the_rounding_note_speaks_of_a_perfect_1_only_of_figures_that_have_one():
    """A trial read "one short of a perfect 1 to 0.9" beside a subgroup's MAE of 47.2: said
    of a measured value's R² alone, and not at all without one."""
    from medadapt.evaluate.small_cells import ROUNDED, ROUNDED_HIDDEN, _counts_hidden, _rounded

    classes = _rounded({"auroc": 0.962, "brier": 0.2})["notes"]["rounded"]
    measured = _rounded({"mae": 47.23, "rmse": 55.1, "r2": 0.41})["notes"]["rounded"]
    errors = _rounded({"mae": 47.23, "rmse": 55.1})["notes"]["rounded"]
    assert classes == ROUNDED and "(one short of a perfect 1 to 0.9)" in classes
    assert measured == ROUNDED.replace("one short", "an R² short")
    assert errors == (
        "figures rounded to one decimal, their intervals outward (wider than measured): this "
        "subgroup's counts are shown as ranges, and exact figures would give them back"
    )
    assert _counts_hidden({"notes": {"rounded": classes}})["notes"]["rounded"] == ROUNDED_HIDDEN
    hidden = _counts_hidden({"notes": {"rounded": errors}})["notes"]["rounded"]
    assert hidden == errors.replace("are shown as ranges", "are not shown")


def test_coarsened_notes_range_grouped_counts_and_round_quoted_figures():
    note = (
        "not reported: 3 positives among 1,234 patients (at least 10 patients needed); "
        "accuracy 0.746 on 1,234 patients"
    )
    big = {"n": 1234, "n_positive": 3, "auroc": None, "accuracy": 0.746, "notes": {"x": note}}
    small = {"n": 1, "n_positive": 1, "auroc": None, "notes": {}}
    groups = {"A": big, "B": small}
    shown = mask_subgroups({"site": groups})["site"]
    assert shown["A"]["n"] == "1,230-1,234" and not recoverable(groups, shown)
    assert shown["A"]["notes"]["x"] == (
        "not reported: fewer than 5 positives among 1,230-1,234 patients (at least 10 patients "
        "needed); accuracy 0.7 on 1,230-1,234 patients"
    )
    two = {"n": 2, "n_positive": 1, "auroc": None, "notes": {}}  # 1,236 - (1,230-1,234): 2-4
    hidden = mask_subgroups({"site": {"A": big, "B": two}})["site"]["A"]
    assert hidden["n"] == SUPPRESSED
    assert hidden["notes"]["x"] == (  # no range either: it would give the count back
        "not reported: fewer than 5 positives among these patients (at least 10 patients "
        "needed); accuracy 0.7 on these patients"
    )


def _mixed(n: int = 40) -> dict:
    """An ordinary subgroup: at least 5 of each class, nothing to hide."""
    y = np.r_[np.ones(n // 2), np.zeros(n - n // 2)].astype(int)
    return binary_metrics(y, np.linspace(0.1, 0.9, n), n_boot=50)


def test_a_subgroup_in_which_everyone_had_the_event_is_shown_as_a_small_cell():
    """``evaluate --data swiss.csv`` (Switzerland, bundled heart data): "sex = Female, n 10,
    events 10" and "0 negatives among 10 patients" told anyone who knew a woman was scored
    that she had heart disease; 10 is no small cell, but the empty class is."""
    everyone = binary_metrics(np.ones(10, dtype=int), np.linspace(0.1, 0.6, 10), n_boot=50)
    assert everyone["n_positive"] == 10 and "0 negatives" in everyone["notes"]["specificity"]
    groups = {"Female": everyone, "Male": _mixed()}
    shown = mask_subgroups({"sex": groups})["sex"]
    women = shown["Female"]
    # "10-14" and "10-14" beside 40-44 and 20-24 were not enough: under the overall 50 and 30
    # the women were 10 exactly, 10 with the event: 0 without it
    assert (women["n"], women["n_positive"], women["prevalence"]) == (SUPPRESSED,) * 2 + (None,)
    assert women["notes"]["specificity"] == (
        "not reported: fewer than 5 negatives among these patients; at least 5 are needed for "
        "a meaningful estimate"
    )
    assert women["notes"]["counts"] == shown["Male"]["notes"]["counts"] == COUNTS_HIDDEN
    assert "0 negatives" not in str(women) and "10 observed" not in str(women)
    assert "10-14" not in str(shown) and not recoverable(groups, shown)
    assert shown["Male"]["n"] == shown["Male"]["n_positive"] == SUPPRESSED
    assert mask_counts({"n": 10, "n_positive": 10})["n_positive"] == ">5"  # not 10 of 10


def test_a_subgroup_in_which_nobody_had_the_event_reads_like_one_with_a_few():
    """0 events showed as "0" (and an observed/expected ratio of exactly 0): now "<5", like
    1 to 4, with the ratio not reported, so that nothing tells the zero cell apart."""
    nobody = binary_metrics(np.zeros(12, dtype=int), np.linspace(0.1, 0.6, 12), n_boot=50)
    assert nobody["n_positive"] == 0 and nobody["oe_ratio"] == 0.0
    y_two = np.r_[np.ones(2), np.zeros(10)].astype(int)
    two = binary_metrics(y_two, np.linspace(0.1, 0.6, 12), n_boot=50)
    shown = {
        events: mask_subgroups({"site": {"A": metrics, "B": _mixed()}})["site"]["A"]
        for events, metrics in ((0, nobody), (2, two))
    }
    for events, site in shown.items():  # "<5" beside 20-24 of 20 or 22: 0, or 0 to 2
        assert (site["n"], site["n_positive"], site["prevalence"]) == (SUPPRESSED,) * 2 + (None,)
        assert (site["oe_ratio"], site["oe_ratio_ci"]) == (None, None), events
        assert (
            site["notes"]["oe_ratio"]
            == site["notes"]["sensitivity"]
            == (
                "not reported: fewer than 5 positives among these patients; at least 5 are needed "
                "for a meaningful estimate"
            )
        )
    assert [k for k, v in shown[0].items() if v is None] == [
        k for k, v in shown[2].items() if v is None
    ]  # the same figures withheld, the same notes
    assert set(shown[0]["notes"]) == set(shown[2]["notes"])


def test_a_subgroup_without_a_patient_of_one_class_hides_that_class_count():
    y = np.r_[np.ones(6), np.full(6, 2)].astype(int)  # no patient of class 0
    proba = np.tile([0.2, 0.4, 0.4], (12, 1))
    none_of_one = multiclass_metrics(y, proba, n_boot=20, class_names=["0", "1", "2"])
    y_all = np.repeat([0, 1, 2], 10)
    proba_all = np.tile([0.4, 0.3, 0.3], (30, 1))
    ordinary = multiclass_metrics(y_all, proba_all, n_boot=20, class_names=["0", "1", "2"])
    groups = {"Female": none_of_one, "Male": ordinary}
    shown = mask_subgroups({"sex": groups})["sex"]  # "<5" of class '0' beside 10-14 of 10: 0
    assert shown["Female"]["class_counts"] == shown["Male"]["class_counts"] == SUPPRESSED
    assert shown["Female"]["notes"]["auroc"] == (
        "not reported: fewer than 5 patients of class '0' among these patients; at least 5 are "
        "needed for a meaningful estimate"
    )
    assert not recoverable(groups, shown)
    y_more = np.r_[np.zeros(14), np.ones(10), np.full(10, 2)].astype(int)  # 14 of class '0'
    more = multiclass_metrics(y_more, np.tile([0.4, 0.3, 0.3], (34, 1)), n_boot=20,
                              class_names=["0", "1", "2"])  # fmt: skip
    groups = {"Female": none_of_one, "Male": more}
    shown = mask_subgroups({"sex": groups})["sex"]  # 14 - (10-14): 0 to 4, as "<5" says
    assert shown["Female"]["class_counts"] == ["<5", "5-9", "5-9"]
    assert shown["Female"]["notes"]["auroc"] == (
        "not reported: fewer than 5 patients of class '0' among 10-14 patients; at least 5 are "
        "needed for a meaningful estimate"
    )
    assert shown["Male"]["class_counts"] == ["10-14", "10-14", "10-14"]
    assert not recoverable(groups, shown)


def test_ordinary_subgroups_are_shown_as_they_are():
    ordinary = {"sex": {"Female": _mixed(30), "Male": _mixed()}}
    assert mask_subgroups(ordinary) == ordinary


def test_a_zero_count_in_a_note_reads_fewer_than_five():
    assert mask_note("not reported: 0 negatives among 10 patients") == (
        "not reported: fewer than 5 negatives among 10 patients"
    )
    assert mask_note("not reported: 10 negatives among 40 patients") == (
        "not reported: 10 negatives among 40 patients"
    )


def test_a_measured_outcomes_mean_gives_no_count_or_hidden_patients_back():
    """An audit: beside "45-49 patients", the exact mean outcome 166.15217391304347 times n is
    a whole sum for n = 46 only, and the overall sum minus it gave the 3 hidden patients' mean
    (118.3: their outcomes 151, 141 and 63). It is rounded like the figures, and a subgroup of
    fewer than 5 shows none."""
    large = {"n": 46, "mean_target": 7643 / 46, "mae": 41.234, "mae_ci": [35.01, 47.9],
             "notes": {}}  # fmt: skip
    small = {"n": 3, "mean_target": 355 / 3, "mae": None, "mae_ci": None, "notes": {}}
    masked = mask_subgroups({"sex": {"1": large, "2": small}})["sex"]
    assert masked["1"]["n"] == "45-49" and masked["1"]["mean_target"] == 166.2
    assert masked["2"]["n"] == "<5" and masked["2"]["mean_target"] is None


def _counts(n: int, positives: int, **figures: float) -> dict:
    return {"n": n, "n_positive": positives, "prevalence": positives / n, **figures}


HIDDEN_BY_THE_TOTALS = {  # what "<5" and the ranges left, read with the overall totals
    "4 beside 59: 63 minus 55-59 is 4": {"A": _counts(4, 2), "B": _counts(59, 30)},
    "a zero cell beside counts at the foot of their ranges: 20 minus 20-24 is 0": {
        "A": _counts(10, 0), "B": _counts(40, 20)},
    "three age bands: 22 events minus 20-28 is at most 2": {
        "<50": _counts(30, 10), "50-64": _counts(4, 2), ">=65": _counts(25, 10)},
    "four sites: 47 events minus 45-57 is at most 2": {
        "a": _counts(22, 11), "b": _counts(2, 0), "c": _counts(31, 16), "d": _counts(47, 20)},
    "no patient of class '0' beside 10-14 of 10": {
        "F": {"n": 12, "class_counts": [0, 6, 6]}, "M": {"n": 30, "class_counts": [10, 10, 10]}},
}  # fmt: skip


@pytest.mark.parametrize("groups", HIDDEN_BY_THE_TOTALS.values(), ids=HIDDEN_BY_THE_TOTALS)
def test_where_the_overall_totals_would_give_a_hidden_count_back_no_count_is_shown(groups):
    shown = mask_subgroups({"x": groups})["x"]
    for value in shown.values():
        counts = [value[k] for k in ("n", "n_positive", "class_counts") if k in value]
        assert counts == [SUPPRESSED] * len(counts) and value.get("prevalence") is None
        assert value["notes"] == {"counts": COUNTS_HIDDEN}
    assert not recoverable(groups, shown)
    assert mask_subgroups({"x": shown})["x"] == shown  # masking twice changes nothing


KEPT = {  # every hidden count can still be each of 0 to 4 its row allows
    "1 beside 59 (60 minus 55-59: 1 to 5)": {
        "A": _counts(1, 0), "B": _counts(59, 44, accuracy=44 / 59)},
    "three age bands (27 events minus 20-28: up to 7)": {
        "<50": _counts(30, 12), "50-64": _counts(3, 1), ">=65": _counts(27, 14)},
    "no patient of class '0' beside 10-14 of 14": {
        "F": {"n": 12, "class_counts": [0, 6, 6]}, "M": {"n": 34, "class_counts": [14, 10, 10]}},
}  # fmt: skip


@pytest.mark.parametrize("groups", KEPT.values(), ids=KEPT)
def test_where_the_ranges_leave_every_hidden_count_open_they_are_kept(groups):
    shown = mask_subgroups({"x": groups})["x"]
    for value in shown.values():
        counts = [value["n"], *(value.get("class_counts") or [value["n_positive"]])]
        assert all(c == "<5" or re.fullmatch(r"\d+-\d+", c) for c in counts), counts
        assert "counts" not in value.get("notes", {})
    assert "<5" in str(shown) and not recoverable(groups, shown)
    for value, metrics in groups.items():
        if "accuracy" in metrics:  # 44/59, exact, would give the count back: rounded
            assert shown[value]["accuracy"] == 0.7
            assert shown[value]["notes"]["rounded"].startswith("figures rounded to one decimal")


def test_a_measured_value_shared_by_a_whole_subgroup_is_not_published():
    """12 women, each measured 7.0: the subgroup's mean was each woman's value, its note said
    the value was the same for all of them, and the overall mean minus the men's gave it too."""
    rng = np.random.default_rng(0)
    y = np.r_[np.full(12, 7.0), rng.normal(6, 1, 40)]
    sex = np.array(["F"] * 12 + ["M"] * 40)
    result = evaluate_groups("regression", y, y + rng.normal(0, 0.5, 52), {"sex": sex}, n_boot=50)
    women, men = result["subgroups"]["sex"]["F"], result["subgroups"]["sex"]["M"]
    assert women["mean_target"] == 7.0
    overall = result["overall"]["mean_target"]
    assert (52 * overall - 40 * men["mean_target"]) / 12 == pytest.approx(7.0)
    shown = mask_subgroups(result["subgroups"])["sex"]
    assert shown["F"]["mean_target"] is None and shown["M"]["mean_target"] is None
    assert shown["F"]["notes"]["mean_target"] == SAME_VALUE_HIDDEN
    assert shown["F"]["notes"]["r2"].startswith(  # why R² is missing, without the value
        "not reported: the measured value is the same for all 12 patients"
    )
    assert "7.0" not in str(shown["F"]["notes"]) and shown["F"]["n"] == 12  # no small count
    assert shown["M"]["mae"] == men["mae"]  # nothing else changes
    assert mask_subgroups({"sex": shown})["sex"] == shown


def test_the_recovery_check_finds_what_the_review_found():
    """The helper above is no formality: on the ranges shown before, it gives the counts back."""
    ranges = {"Female": {"n": "10-14", "n_positive": "10-14"},
              "Male": {"n": "40-44", "n_positive": "20-24"}}  # fmt: skip
    groups = {"Female": _counts(10, 10), "Male": _counts(40, 20)}
    assert recoverable(groups, ranges) == ["Female: negatives in [0], not [0, 1, 2, 3, 4]"]
    small = {"A": {"n": "<5", "n_positive": "<5"}, "B": {"n": "55-59", "n_positive": "30-34"}}
    assert "A: n in [4], not [1, 2, 3, 4]" in recoverable(
        {"A": _counts(4, 2), "B": _counts(59, 30)}, small
    )
    # what the figures say (a review of the masking before they were read): an AUROC shown
    # is 5 or more of each class, a note "fewer than 5" (by word or by class name) 4 or fewer
    few = "not reported: fewer than 5 {} among {}; at least 5 are needed for a meaningful estimate"
    auroc_shown = {  # 22 with 17 events (AUROC: 5 negatives or more) and 2 with 2, 5 negatives
        "A": {"n": "20-24", "n_positive": "15-19", "auroc": 0.9, "notes": {}},
        "B": {"n": "<5", "n_positive": "<5", "auroc": None,
              "notes": {"all": "not reported: fewer than 5 patients (at least 10 needed)"}},
    }  # fmt: skip
    assert "B: negatives in [0], not [0, 1, 2, 3, 4]" in recoverable(
        {"A": _counts(22, 17), "B": _counts(2, 2)}, auroc_shown
    )
    by_name = {  # 4 benign images of 21 and of 12, 8 in all
        v: {"n": n, "n_positive": pos, "auroc": None,
            "notes": {"auroc": few.format("images of class 'benign'", f"{n} images")}}
        for v, n, pos in (("A", "20-24", "15-19"), ("B", "10-14", "5-9"))
    }  # fmt: skip
    twice_four = {"A": _counts(21, 17), "B": _counts(12, 8)}
    assert recoverable(twice_four, by_name) == [
        "A: negatives in [4], not [1, 2, 3, 4]",
        "B: negatives in [4], not [1, 2, 3, 4]",
    ]
    no_counts = {  # every count suppressed, the notes left
        v: {"n": SUPPRESSED, "n_positive": SUPPRESSED, "specificity": None, "sensitivity": 0.8,
            "notes": {"specificity": few.format("negatives", "these patients")}}
        for v in ("A", "B")
    }  # fmt: skip
    assert "A: negatives in [4], not [0, 1, 2, 3, 4]" in recoverable(twice_four, no_counts)


def _scored_sites(y: list[int], sites: list[str], **options) -> dict:
    rng = np.random.default_rng(0)
    labels = np.array(y)
    p = np.clip(0.3 + 0.4 * labels + rng.normal(0, 0.2, len(y)), 0.01, 0.99)
    return evaluate_groups("binary", labels, p, {"site": np.array(sites)}, n_boot=50,
                           **options)["subgroups"]  # fmt: skip


def _withheld_whole(groups: dict, name: str = "site") -> dict:
    shown = mask_subgroups({name: groups})[name]
    assert list(shown) == [WITHHELD] and withheld_note(shown) == TABLE_WITHHELD.format(name=name)
    entry = shown[WITHHELD]
    assert entry["n"] == entry.get("n_positive", SUPPRESSED) == SUPPRESSED
    assert all(entry[k] is None for k in entry if k not in {"n", "n_positive", "notes"})
    assert entry["notes"] == {WITHHELD: TABLE_WITHHELD.format(name=name)}
    assert not recoverable(groups, shown)
    assert mask_subgroups({name: shown})[name] == shown  # masking twice changes nothing
    return shown


def test_an_auroc_shown_beside_a_small_site_withholds_the_table():
    """Site A, 22 patients and 17 events, beside site B, 2 and 2, under 24 and 19: A's AUROC
    says it has 5 negatives or more, and there are 5 in all, so B's 0 came back, with the
    ranges, with every count suppressed, and without any."""
    groups = _scored_sites([1] * 17 + [0] * 5 + [1, 1], ["A"] * 22 + ["B"] * 2)["site"]
    assert groups["A"]["auroc"] is not None and groups["B"]["n_positive"] == 2
    _withheld_whole(groups)


def test_two_sites_each_with_fewer_than_five_negatives_withhold_the_table():
    """21 patients with 4 negatives, and 12 with 4, under 8 negatives: "fewer than 5
    negatives" twice, whatever counts are shown beside it, is 4 each."""
    groups = _scored_sites([1] * 17 + [0] * 4 + [1] * 8 + [0] * 4, ["A"] * 21 + ["B"] * 12)
    assert "negatives" in groups["site"]["A"]["notes"]["specificity"]
    _withheld_whole(groups["site"])


def test_a_note_that_names_the_class_counts_it_as_one_by_word_does():
    """Two classes by name (benign, malignant): "fewer than 5 images of class 'benign'" in
    two sites of 21 and 12 images under 8 benign ones in all."""
    from medadapt.evaluate.scoring import score_classifier

    y = np.r_[[0] * 4 + [1] * 17, [0] * 4 + [1] * 8]
    p = np.clip(0.3 + 0.5 * y + np.random.default_rng(0).normal(0, 0.2, len(y)), 0.01, 0.99)
    scored = score_classifier(y, np.c_[1 - p, p], ["benign", "malignant"], n_boot=50,
                              groups=["A"] * 21 + ["B"] * 12, group_name="site")  # fmt: skip
    assert "images of class 'benign'" in scored["subgroups"]["site"]["A"]["notes"]["auroc"]
    _withheld_whole(scored["subgroups"]["site"])


def test_figures_that_leave_every_hidden_count_open_keep_the_table():
    """A small class beside a large site: the large site's AUROC (5 negatives or more) leaves
    the small one 0 to 4 negatives under 33 in all, as its own note says, and its "fewer than
    5 negatives" leaves the large one 29 or more, as its range says."""
    groups = _scored_sites([1] * 22 + [0] * 30 + [1] * 10 + [0] * 3, ["A"] * 52 + ["B"] * 13)
    shown = mask_subgroups(groups)["site"]  # 65 - (50-54) is 11 to 15, 32 - (20-24) 8 to 12
    assert (shown["B"]["n"], shown["B"]["n_positive"]) == ("10-14", "10-14")  # 0 to 4 left
    assert shown["B"]["notes"]["specificity"].startswith("not reported: fewer than 5 negatives")
    assert shown["A"]["auroc"] is not None and not recoverable(groups["site"], shown)


def test_a_site_whose_patients_each_have_one_row_is_read_beside_one_whose_repeat():
    """A site with one image per patient has no patient count (metrics.py counts them only
    where one repeats): its patients are its images, not an unlike table to withhold."""
    y = [1] * 30 + [0] * 30 + [1] * 6 + [0] * 6
    sites = ["A"] * 60 + ["B"] * 12
    patients = [f"a{i // 2}" for i in range(60)] + [f"b{i}" for i in range(12)]
    groups = _scored_sites(y, sites, patients=np.array(patients))["site"]
    assert groups["A"]["n_patients"] == 30 and "n_patients" not in groups["B"]
    assert mask_subgroups({"site": groups})["site"] == groups  # nothing small: shown as it is
    y[-6:] = [1, 1, 1, 0, 0, 0]  # B: 9 positives, 3 negatives
    groups = _scored_sites(y, sites, patients=np.array(patients))["site"]
    shown = mask_subgroups({"site": groups})["site"]
    assert set(shown) == {"A", "B"} and not recoverable(groups, shown)


def test_one_subgroup_value_of_fewer_than_five_patients_is_withheld():
    """A trial: 3 patients scored, "sex = 2 | 3" told each one's sex (a file of 8 rows was
    masked); a one-valued subgroup of many patients stays as it was (its counts are the
    overall ones)."""
    from medadapt.evaluate.small_cells import mask_subgroups

    few = mask_subgroups({"sex": {"2": {"n": 3, "mae": None, "notes": {}}}})
    (entry,) = few["sex"].values()
    assert entry["notes"] == {"withheld": (
        "subgroup table by sex withheld: all of these fewer than 5 patients have the same sex, "
        "which the table would tell of each of them"
    )}  # fmt: skip
    many = {"site": {"A": {"n": 59, "mae": 3.0, "notes": {}}}}
    assert mask_subgroups(many) == many


def test_age_bands_come_in_the_order_of_age():
    """A trial's subgroup table read "50-64, <50, >=65" (sorted as text) in the terminal, the
    JSON and the report."""
    rng = np.random.default_rng(0)
    bands = np.array([">=65", "50-64", "<50"] * 20)
    y = rng.integers(0, 2, 60)
    result = evaluate_groups("binary", y, rng.random(60), {"age band": bands}, n_boot=20)
    assert list(result["subgroups"]["age band"]) == ["<50", "50-64", ">=65"]

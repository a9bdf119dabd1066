"""Small-cell suppression keeps a subgroup's prevalence hidden wherever its counts are: the
one-class warning (which states the share of the commonest class) is left out of a masked or
coarsened subgroup, and image counts are suppressed like patient counts."""

from __future__ import annotations

import numpy as np

from medadapt.evaluate.metrics import binary_metrics, multiclass_metrics
from medadapt.evaluate.small_cells import mask_counts, mask_note, mask_subgroups


def test_the_one_class_note_is_left_out_where_counts_are_suppressed():
    few = binary_metrics(np.array([1] * 11 + [0]), np.full(12, 0.9), n_boot=20)  # 1 negative
    many = binary_metrics(np.array([1] * 30 + [0] * 20), np.full(50, 0.9), n_boot=20)
    assert "one_class" in few["notes"] and "one_class" in many["notes"]  # both called positive
    shown = mask_subgroups({"sex": {"Female": few, "Male": many}})["sex"]
    assert shown["Female"]["n_positive"] == "10-14" and shown["Female"]["prevalence"] is None
    assert "one_class" not in shown["Female"]["notes"]
    assert shown["Male"]["n"] == "50-54" and "one_class" not in shown["Male"]["notes"]
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
    shown = mask_subgroups({"sex": {"Male": men, "Female": woman}})["sex"]["Male"]
    assert shown["n"] == "55-59"
    for name in ("accuracy", "auroc", "sensitivity", "specificity", "brier"):
        if men.get(name) is not None:
            assert shown[name] == round(men[name], 1), name
            assert all(v == round(v, 1) for v in shown[f"{name}_ci"] or []), name
    assert shown["notes"]["rounded"].startswith("figures rounded to one decimal")
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
    two = mask_subgroups({"dataset": {"A": everyone, "B": everyone}})["dataset"]["A"]
    assert two["n_positive"] == "<5"  # beside another group, still masked


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
    assert shown["n_positive"] == "10-14"
    assert shown["notes"]["oe_ratio"] == (
        "the model predicts too few events (the interval excludes 1); its risks are too low "
        "on average"
    )
    alone = mask_subgroups({"site": {"A": many}})["site"]["A"]
    assert alone["notes"]["oe_ratio"] == many["notes"]["oe_ratio"]  # nothing to hide


def test_a_subgroups_patient_count_is_masked_and_coarsened_like_its_rows():
    """Images of 3 patients: ``n_patients`` 3 was printed under a note saying "fewer than 5"."""
    y = np.r_[np.ones(6), np.zeros(6)].astype(int)
    few = binary_metrics(y, np.linspace(0.2, 0.8, 12), patients=np.repeat([0, 1, 2], 4))
    y_many = np.r_[np.ones(30), np.zeros(30)].astype(int)
    many = binary_metrics(y_many, np.linspace(0.2, 0.8, 60), patients=np.arange(60) // 2)
    assert (few["n_patients"], many["n_patients"]) == (3, 30)
    shown = mask_subgroups({"site": {"A": few, "B": many}})["site"]
    assert shown["A"]["n_patients"] == "<5" and "3 patients" not in str(shown["A"])
    assert shown["A"]["n_positive"] == "suppressed"  # was "<5": false, 6 of its 12 images
    assert shown["A"]["n"] == "10-14" and shown["B"]["n_patients"] == "30-34"


def test_coarsened_notes_range_grouped_counts_and_round_quoted_figures():
    note = (
        "not reported: 3 positives among 1,234 patients (at least 10 patients needed); "
        "accuracy 0.746 on 1,234 patients"
    )
    big = {"n": 1234, "n_positive": 3, "auroc": None, "accuracy": 0.746, "notes": {"x": note}}
    small = {"n": 2, "n_positive": 1, "auroc": None, "notes": {}}
    shown = mask_subgroups({"site": {"A": big, "B": small}})["site"]["A"]
    assert shown["n"] == "1,230-1,234"
    assert shown["notes"]["x"] == (
        "not reported: fewer than 5 positives among 1,230-1,234 patients (at least 10 patients "
        "needed); accuracy 0.7 on 1,230-1,234 patients"
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
    shown = mask_subgroups({"sex": {"Female": everyone, "Male": _mixed()}})["sex"]
    women = shown["Female"]
    assert (women["n"], women["n_positive"], women["prevalence"]) == ("10-14", "10-14", None)
    assert women["notes"]["specificity"] == (
        "not reported: fewer than 5 negatives among 10-14 patients; at least 5 are needed for "
        "a meaningful estimate"
    )
    assert "0 negatives" not in str(women) and "10 observed" not in str(women)
    assert shown["Male"]["n"] == "40-44" and shown["Male"]["n_positive"] == "20-24"
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
    for events, site in shown.items():
        assert (site["n"], site["n_positive"], site["prevalence"]) == ("10-14", "<5", None)
        assert (site["oe_ratio"], site["oe_ratio_ci"]) == (None, None), events
        assert (
            site["notes"]["oe_ratio"]
            == site["notes"]["sensitivity"]
            == (
                "not reported: fewer than 5 positives among 10-14 patients; at least 5 are needed "
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
    shown = mask_subgroups({"sex": {"Female": none_of_one, "Male": ordinary}})["sex"]
    assert shown["Female"]["class_counts"] == ["<5", "5-9", "5-9"]
    assert shown["Female"]["notes"]["auroc"] == (
        "not reported: fewer than 5 patients of class '0' among 10-14 patients; at least 5 are "
        "needed for a meaningful estimate"
    )
    assert shown["Male"]["class_counts"] == ["10-14", "10-14", "10-14"]


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

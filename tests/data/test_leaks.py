"""Label leaks: a feature that alone predicts the label is found, named and refused."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.metrics import roc_auc_score

import medadapt as ma
from medadapt.data.leaks import (
    Leak,
    _steps_ratio,
    as_strong_at_base,
    chance_interval,
    find_leaks,
    leak_warning,
    refuse_leaks,
    strong_at_base_warnings,
)
from medadapt.data.schema import TableSchema
from medadapt.errors import DataError


@pytest.fixture(scope="module")
def heart() -> pd.DataFrame:
    frame = ma.load_heart_disease()
    frame["disease"] = np.where(frame["num"] > 0, "yes", "no")  # the label the study wants
    return frame


def _source(heart: pd.DataFrame) -> pd.DataFrame:
    return heart[heart["dataset"].isin(["Cleveland", "Hungary"])]


def test_a_copy_of_the_label_is_found_with_its_auroc(heart):
    rows = _source(heart)
    schema = TableSchema.infer(rows, label="disease", id_column="id", group_column="dataset")
    leaks = find_leaks(schema, rows, group_column="dataset")
    expected = roc_auc_score(rows["disease"] == "yes", rows["num"])
    assert expected == 1.0
    assert leaks == [Leak("num", "AUROC", 1.0)]


def test_record_numbers_sorted_by_diagnosis_at_one_site_are_a_leak_there(heart):
    rows = _source(heart)
    schema = TableSchema.infer(
        rows, label="num", positive_above=0, group_column="dataset", numeric=["id"],
        exclude=["disease"],
    )  # fmt: skip
    overall = max(
        roc_auc_score(rows["num"] > 0, rows["id"]), 1 - roc_auc_score(rows["num"] > 0, rows["id"])
    )
    assert overall < 0.98  # over both sites the ids look harmless
    hungary = rows[rows["dataset"] == "Hungary"]
    assert roc_auc_score(hungary["num"] > 0, hungary["id"]) == 1.0
    assert find_leaks(schema, rows) == []
    assert find_leaks(schema, rows, group_column="dataset") == [
        Leak("id", "AUROC", 1.0, "dataset = Hungary")
    ]


def test_a_column_holding_values_at_one_site_alone_is_said_at_that_site(heart):
    """A trial's refusal said "'biopsy_code' (AUROC 1.000 on 69 rows)" of a copy of the label
    present at site Beta alone (blank elsewhere), and named the site of every other column."""
    rows = _source(heart).copy()
    hungary = rows["dataset"] == "Hungary"
    rows["biopsy"] = np.where(hungary, (rows["num"] > 0).astype(float), np.nan)
    schema = TableSchema.infer(rows, label="disease", id_column="id", group_column="dataset",
                               exclude=["num"])  # fmt: skip
    [leak] = find_leaks(schema, rows, group_column="dataset")
    assert (leak.column, leak.value, leak.where) == ("biopsy", 1.0, "dataset = Hungary")
    assert leak.rows == int(hungary.sum())
    both = rows.assign(copy=(rows["num"] > 0).astype(float))  # at both sites: said of all
    schema = TableSchema.infer(both, label="disease", id_column="id", group_column="dataset",
                               exclude=["num", "biopsy"])  # fmt: skip
    assert find_leaks(schema, both, group_column="dataset") == [Leak("copy", "AUROC", 1.0)]


def test_the_refusal_names_the_column_the_rows_the_threshold_and_both_fixes(heart):
    rows = _source(heart)
    schema = TableSchema.infer(rows, label="disease", id_column="id", group_column="dataset")
    (leak,) = find_leaks(schema, rows)
    with pytest.raises(DataError) as err:
        refuse_leaks([leak], label="disease")
    assert str(err.value) == (
        f"column 'num' alone predicts 'disease' with AUROC 1.000 on {leak.rows} training rows, "
        "at or above the 0.98 that medadapt treats as a leak: a strong predictor on few rows, "
        "or a leak (a copy of the label, a value recorded after the outcome); leave it out "
        "with --exclude num, or keep it with --allow-leak num if it is a genuine predictor "
        "measured before the outcome"
    )
    assert leak.rows == int(rows["disease"].notna().sum())
    kept = refuse_leaks(find_leaks(schema, rows), label="disease", allowed=["num"])
    assert [leak.column for leak in kept] == ["num"]
    warning = leak_warning(kept[0], "disease")
    assert warning.startswith(
        "column 'num' (AUROC 1.000) alone predicts 'disease' almost perfectly; kept because of "
        "--allow-leak"
    )
    assert kept[0].to_json() == {
        "column": "num",
        "statistic": "AUROC",
        "value": 1.0,
        "rows": leak.rows,
        "where": None,
    }


def test_several_leaks_are_named_together_with_a_custom_fix():
    leaks = [Leak("a", "AUROC", 1.0, rows=80, threshold=0.98),
             Leak("b", "|correlation|", 0.99, rows=80, threshold=0.98)]  # fmt: skip
    with pytest.raises(DataError) as err:
        refuse_leaks(leaks, label="y", fix="drop {it} ({names})", rows="rows given")
    assert str(err.value) == (
        "columns 'a' (AUROC 1.000), 'b' (|correlation| 0.990) each alone predict 'y' on 80 rows "
        "given, at or above the 0.98 that medadapt treats as a leak: strong predictors on few "
        "rows, or leaks (copies of the label, values recorded after the outcome); drop them "
        "(a,b)"
    )
    leaks = [Leak("a", "AUROC", 1.0, rows=12, threshold=1.0),
             Leak("b", "AUROC", 0.99, "site = B", rows=40, threshold=0.98)]  # fmt: skip
    with pytest.raises(DataError) as err:
        refuse_leaks(leaks, label="y")
    assert str(err.value).startswith(
        "columns 'a' (AUROC 1.000 on 12 training rows), 'b' (AUROC 0.990 on 40 training rows "
        "in site = B) each alone predict 'y', at or above the 0.98 or 1 that medadapt treats "
        "as a leak (with fewer than 10 rows in a class: 1): "
    )


def test_clean_real_tables_have_no_leak(heart):
    clean = heart.drop(columns=["disease"])
    for label, options in (("num", {"positive_above": 0}), ("num", {"task": "multiclass"})):
        schema = TableSchema.infer(
            clean, label=label, id_column="id", group_column="dataset", **options
        )
        assert find_leaks(schema, clean, group_column="dataset") == []
    cancer = load_breast_cancer(as_frame=True).frame  # its best feature alone: AUROC 0.975
    assert find_leaks(TableSchema.infer(cancer, label="target"), cancer) == []
    diabetes = load_diabetes(as_frame=True, scaled=False).frame
    assert find_leaks(TableSchema.infer(diabetes, label="target"), diabetes) == []


def _table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return pd.DataFrame(
        {"age": rng.normal(60, 10, n).round(), "crp": rng.lognormal(1, 1, n), "y": y}
    )


def test_a_value_recorded_only_after_the_outcome_leaks_through_being_missing():
    frame = _table()
    frame["days_in_icu"] = np.where(
        frame["y"] == 1, np.random.default_rng(1).integers(1, 30, 200), np.nan
    )
    schema = TableSchema.infer(frame, label="y")
    (leak,) = find_leaks(schema, frame)
    assert (leak.column, leak.statistic, leak.value) == (
        "days_in_icu",
        "AUROC of being missing",
        1.0,
    )


def test_a_category_that_spells_the_label_is_a_leak():
    frame = _table()
    frame["discharge_code"] = np.where(frame["y"] == 1, "I21", "Z00")
    schema = TableSchema.infer(frame, label="y")
    assert find_leaks(schema, frame) == [Leak("discharge_code", "AUROC", 1.0)]


def test_a_strong_but_imperfect_predictor_is_not_a_leak():
    frame = _table(400)
    noise = np.random.default_rng(3).normal(0, 0.55, 400)
    frame["marker"] = frame["y"] + noise
    auc = roc_auc_score(frame["y"], frame["marker"])
    assert 0.9 < auc < 0.98
    assert find_leaks(TableSchema.infer(frame, label="y"), frame) == []


def test_too_few_rows_of_a_class_are_not_judged_and_small_classes_need_perfection():
    frame = _table(60)
    frame["y"] = [1] * 4 + [0] * 56
    frame["copy"] = frame["y"]
    assert find_leaks(TableSchema.infer(frame, label="y"), frame) == []  # 4 positives
    frame["y"] = [1] * 8 + [0] * 52
    frame["near"] = frame["y"].astype(float)
    frame.loc[8, "near"] = 1.0  # one negative ranked among the positives: AUROC 0.98
    frame["copy"] = frame["y"] * 2.0
    schema = TableSchema.infer(frame, label="y")
    assert [leak.column for leak in find_leaks(schema, frame)] == ["copy"]


def test_multiclass_a_value_that_fixes_the_class_or_singles_one_out():
    rng = np.random.default_rng(0)
    stage = rng.choice(["I", "II", "III"], 150)
    frame = pd.DataFrame({"age": rng.normal(60, 10, 150).round(), "stage": stage})
    frame["stage_number"] = pd.Series(stage).map({"I": 1, "II": 2, "III": 3})
    frame["tumour_mm"] = pd.Series(stage).map({"I": 10.0, "II": 30.0, "III": 60.0}) + rng.uniform(
        0, 15, 150
    )  # the stage is cut from the size
    frame["metastasis"] = np.where(stage == "III", "yes", "no")
    schema = TableSchema.infer(frame, label="stage", task="multiclass")
    found = {leak.column: leak.statistic for leak in find_leaks(schema, frame)}
    assert found == {
        "stage_number": "AUROC for class I",
        "tumour_mm": "AUROC for class I",
        "metastasis": "AUROC for class III",
    }
    copies = {leak.column: leak.copy for leak in find_leaks(schema, frame)}
    assert copies == {"stage_number": "relabelled", "tumour_mm": None, "metastasis": None}


def test_regression_a_rescaled_or_monotone_copy_of_the_target():
    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame["target_mmol"] = frame["target"] * 0.0555
    frame["log_target"] = np.log(frame["target"])
    schema = TableSchema.infer(frame, label="target")
    found = {leak.column: round(leak.value, 3) for leak in find_leaks(schema, frame)}
    assert found == {"target_mmol": 1.0, "log_target": 1.0}
    copies = {leak.column: leak.copy for leak in find_leaks(schema, frame)}
    assert copies == {"target_mmol": "rescaled", "log_target": None}  # a curve, not units
    with pytest.raises(DataError) as err:
        refuse_leaks(find_leaks(schema, frame), label="target")
    assert "'target_mmol' (|correlation| 1.000; 'target' in other units in every row), " in (
        str(err.value)
    )


def test_regression_a_number_of_few_values_the_label_is_a_step_function_of():
    """``disease`` (= ``num > 0``) as a measured label beside ``num``: no correlation reaches
    0.98 (a step, not a line), and train-base --task regression kept it, warning only of an R²
    of 1.000 (a reviewer's trial). The correlation ratio over num's values is 1; a random
    number of few values scores far below."""
    rng = np.random.default_rng(0)
    num = rng.integers(0, 5, 400).astype(float)
    frame = pd.DataFrame({"num": num, "age": rng.normal(55, 9, 400),
                          "grade": rng.integers(0, 5, 400).astype(float),
                          "disease": (num > 0).astype(float)})  # fmt: skip
    assert abs(np.corrcoef(frame["num"], frame["disease"])[0, 1]) < 0.98
    schema = TableSchema.infer(frame, label="disease", task="regression")
    ratio = np.sqrt(1 - frame.groupby("num")["disease"].var(ddof=0).mul(
        frame.groupby("num").size()).sum() / (400 * frame["disease"].var(ddof=0)))  # fmt: skip
    assert ratio == pytest.approx(1.0)
    assert [(leak.column, leak.statistic, round(leak.value, 6)) for leak in
            find_leaks(schema, frame)] == [("num", "correlation ratio", 1.0)]  # fmt: skip


def test_a_value_of_one_row_does_not_fit_its_own_outcome():
    """A review: 91 zeros and 9 values of one row each, the outcome N(0, 1) at the zeros and
    N(0, 100) elsewhere, unrelated to the values, scored a correlation ratio of 0.9995 (each
    lone value fitted its own outcome): a leak that is not. Only values of at least 5 rows
    count; num (5 values of about 150 rows each) is still caught on all its rows."""
    rng = np.random.default_rng(0)
    lone = np.r_[np.zeros(91), np.arange(1.0, 10.0)]
    noise = pd.DataFrame({"lone": lone, "y": np.r_[rng.normal(0, 1, 91), rng.normal(0, 100, 9)]})
    fitted = noise.groupby("lone")["y"].transform("mean")  # each value its own group
    spread = ((noise["y"] - noise["y"].mean()) ** 2).sum()
    before = np.sqrt(((fitted - noise["y"].mean()) ** 2).sum() / spread)
    assert round(before, 4) == 0.9995
    assert _steps_ratio(lone, noise["y"].to_numpy()) == (0.0, 91)  # the zeros alone: one value
    assert find_leaks(TableSchema.infer(noise, label="y", task="regression"), noise) == []
    outlier = pd.DataFrame({"flag": np.r_[np.zeros(50), np.ones(50), 2.0],
                            "y": np.r_[rng.normal(0, 1, 100), 1000.0]})  # fmt: skip
    assert find_leaks(TableSchema.infer(outlier, label="y", task="regression"), outlier) == []
    num = rng.integers(0, 5, 750).astype(float)
    steps = pd.DataFrame({"num": num, "disease": (num > 0).astype(float)})
    (leak,) = find_leaks(TableSchema.infer(steps, label="disease", task="regression"), steps)
    found = (leak.column, leak.statistic, round(leak.value, 6), leak.rows)
    assert found == ("num", "correlation ratio", 1.0, 750)


def test_a_fine_coded_copy_is_a_leak_though_its_values_are_rare():
    """A trial: bands of a measured outcome as a text column (10 units wide, 32 values of 2-4
    rows each) passed the leak check, pooled as rare values (R² 0.96 at train-base, 0.98 at
    adapt); 30-unit bands were refused. Each row scored by the other rows of its value (none
    pooled) shows it; a record number (every value once) still does not."""
    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame["prog_band"] = "band_" + (frame["target"] // 10).astype(int).astype(str)
    frame["record"] = [f"R{i:04d}" for i in range(len(frame))]  # unique: scored by nothing
    schema = TableSchema.infer(frame, label="target", categorical=["record"])
    (leak,) = find_leaks(schema, frame)
    assert leak.column == "prog_band" and leak.value >= 0.99
    assert leak.statistic == (
        "correlation with its values' mean outcomes (each row left out of its own)"
    )
    rng = np.random.default_rng(0)  # the same for yes/no and several classes
    y = rng.integers(0, 2, 300)
    codes = [f"C{int(v)}{rng.integers(0, 60):02d}" for v in y]  # 120 codes, 2-3 rows each
    binary = pd.DataFrame({"age": rng.normal(60, 10, 300), "code": codes, "y": y})
    (leak,) = find_leaks(TableSchema.infer(binary, label="y"), binary)
    assert leak.column == "code" and leak.statistic == (
        "AUROC of its values' outcome rates (each row left out of its own)"
    )
    k = rng.integers(0, 3, 300)
    several = pd.DataFrame({"age": rng.normal(60, 10, 300), "stage": k,
                            "code": [f"S{v}-{rng.integers(0, 40)}" for v in k]})  # fmt: skip
    schema = TableSchema.infer(several, label="stage", task="multiclass")
    (leak,) = find_leaks(schema, several)  # one class against the others
    assert leak.column == "code" and leak.statistic.startswith(
        "AUROC of its values' outcome rates (each row left out of its own) for class"
    )
    random = pd.DataFrame({"age": rng.normal(60, 10, 300), "y": y,
                           "ward": [f"W{rng.integers(0, 100)}" for _ in y]})  # fmt: skip
    assert find_leaks(TableSchema.infer(random, label="y"), random) == []  # rare, not a copy


def test_the_advice_can_be_pasted_into_a_shell_when_names_have_spaces():
    leaks = [Leak("worst concave points", "AUROC", 0.985), Leak("age", "AUROC", 0.99)]
    with pytest.raises(DataError) as refused:
        refuse_leaks(leaks, label="malignant")
    assert str(refused.value).endswith(
        "leave them out with --exclude 'worst concave points,age', or keep them with "
        "--allow-leak 'worst concave points,age' if they are genuine predictors measured before "
        "the outcome"
    )
    with pytest.raises(DataError, match=r"--exclude age, or keep it with --allow-leak age if"):
        refuse_leaks(leaks[1:], label="malignant")


def test_an_adapter_s_refused_leak_gives_its_figure_where_the_base_trained():
    """A trial could not see why 'mean concavity' (AUROC 0.989 on the adapter's rows) was
    refused while 'worst concave points' (0.999) passed as a predictor the base relies on:
    the refusal gives the figure the base recorded (or that it recorded none)."""
    found = [Leak("mean concavity", "AUROC", 0.989, rows=55, threshold=0.98),
             Leak("stay", "AUROC", 0.995, rows=55, threshold=0.98)]  # fmt: skip
    recorded = {"mean concavity": {"statistic": "AUROC", "value": 0.912}}
    with pytest.raises(DataError) as error:
        refuse_leaks(found, label="target", rows="rows of frame", at_base=recorded,
                     at_base_level=0.8)  # fmt: skip
    assert (
        "; where the base trained, 'mean concavity' (AUROC 0.912) was weaker and 'stay' was not "
        "among the columns it recorded as strong predictors (0.8 or more): not predictors the "
        "base already relies on; "
    ) in str(error.value)
    with pytest.raises(DataError) as error:  # a base saved before its level was kept: 0.9
        refuse_leaks(found, label="target", rows="rows of frame", at_base=recorded)
    assert "recorded as strong predictors (0.9 or more)" in str(error.value)
    with pytest.raises(DataError) as error:  # a base model's own rows: nothing to compare
        refuse_leaks(found[:1], label="target")
    assert "where the base trained" not in str(error.value)


def test_an_exact_copy_of_the_label_is_said_to_be_one(heart):
    """A trial's ``diagnosis = target`` was refused with the generic "a strong predictor on
    few rows, or a leak": a column holding the label's own value in every row is said so."""
    rows = _source(heart).assign(copy=lambda f: f["disease"])
    schema = TableSchema.infer(rows, label="disease", id_column="id", group_column="dataset",
                               exclude=["num"])  # fmt: skip
    (leak,) = find_leaks(schema, rows)
    assert (leak.column, leak.copy) == ("copy", "itself")
    with pytest.raises(DataError) as err:
        refuse_leaks([leak], label="disease")
    assert str(err.value).startswith(
        f"column 'copy' alone predicts 'disease' with AUROC 1.000 on {leak.rows} training rows "
        "(it holds the value of 'disease' itself in every one of them), at or above the 0.98"
    )
    source = TableSchema.infer(rows.drop(columns="copy"), label="disease", id_column="id",
                               group_column="dataset")  # fmt: skip
    (num,) = find_leaks(source, rows)
    assert (num.column, num.copy) == ("num", None)  # the label's source, not its copy
    both = find_leaks(TableSchema.infer(rows, label="disease", id_column="id",
                                        group_column="dataset"), rows)  # fmt: skip
    with pytest.raises(DataError) as err:  # among several, the copy is said too
        refuse_leaks(both, label="disease")
    assert str(err.value).startswith(
        "columns 'num' (AUROC 1.000), 'copy' (AUROC 1.000; the value of 'disease' itself in "
        "every row) each alone predict 'disease' on "
    )


def test_a_relabelled_copy_of_the_label_is_said_to_be_one():
    """A new user's ``biopsy`` (positive/negative for target 1/0) was refused as "a strong
    predictor on few rows, or a leak": a column whose values stand one for one for the
    classes is the label under other names, and said to be; a perfect predictor that is not
    one for one is not."""
    frame = load_breast_cancer(as_frame=True).frame
    frame["biopsy"] = frame["target"].map({1: "positive", 0: "negative"})
    schema = TableSchema.infer(frame, label="target")
    (leak,) = [leak for leak in find_leaks(schema, frame) if leak.column == "biopsy"]
    assert leak.copy == "relabelled"
    with pytest.raises(DataError) as err:
        refuse_leaks([leak], label="target")
    assert str(err.value) == (
        "column 'biopsy' alone predicts 'target' with AUROC 1.000 on 569 training rows (its "
        "values stand one for one for those of 'target' in every one of them: the label "
        "under other names), at or above the 0.98 that medadapt treats as a leak: a copy of the "
        "label; leave it out with --exclude biopsy, or keep it with --allow-leak biopsy if it "
        "is a genuine predictor measured before the outcome"
    )
    frame.loc[0, "biopsy"] = None  # a missing cell: no longer the label row by row
    frame["grade"] = frame["target"].map({1: "a", 0: "b"}).where(frame.index % 2 == 0, "c")
    frame.loc[frame.index % 2 == 1, "grade"] = frame["target"].map({1: "c", 0: "d"})
    schema = TableSchema.infer(frame, label="target")
    copies = {leak.column: leak.copy for leak in find_leaks(schema, frame)}
    assert copies["biopsy"] is None and copies["grade"] is None  # four values for two classes


def test_a_copy_of_the_label_with_a_few_rows_changed_is_told_from_strong_measurements():
    """A new user's ``biopsy_result`` (the label with 2 % of its rows flipped) was refused
    in a list with three tumour measurements of the same AUROC, as "strong predictors on
    few rows, or leaks": it could not be picked out. A column of one value for each class in
    98 % of the rows or more is said to be the label under other names; a measurement as
    strong is not, nor a two-valued column that agrees less."""
    frame = load_breast_cancer(as_frame=True).frame
    rng = np.random.default_rng(0)
    flipped = rng.random(len(frame)) < 0.01
    frame["biopsy_result"] = np.where(flipped, 1 - frame["target"], frame["target"])
    frame["rough"] = np.where(rng.random(len(frame)) < 0.05, 1 - frame["target"],
                              frame["target"])  # fmt: skip
    frame["marker"] = frame["target"] * 3 + rng.normal(0, 0.6, len(frame))  # many values
    schema = TableSchema.infer(frame, label="target")
    leaks = find_leaks(schema, frame)
    copies = {leak.column: leak.copy for leak in leaks}
    assert copies == {"biopsy_result": "nearly", "marker": None}  # "rough": AUROC 0.95
    with pytest.raises(DataError) as err:
        refuse_leaks(leaks, label="target")
    assert str(err.value).startswith(
        f"columns 'biopsy_result' (AUROC {leaks[0].value:.3f}; the classes of "
        "'target' under other names in 98% or more of the rows), 'marker' (AUROC "
    )
    assert 0.98 <= leaks[0].value < 1 and leaks[1].value >= 0.98


def test_the_classes_of_a_label_read_above_a_threshold_relabelled_are_said_to_be_a_copy():
    """A label read above ``--positive-above`` (heart's ``num`` 0-4 above 0): a ``biopsy``
    column positive/negative for its two classes is the label under other names, though not
    one for one with its five values; a column one for one with the five values is still
    "relabelled"."""
    frame = load_diabetes(as_frame=True).frame
    frame["grade"] = pd.cut(frame["target"], [0, 100, 150, 200, 400], labels=False)
    frame["biopsy"] = (frame["grade"] > 0).map({True: "positive", False: "negative"})
    frame["stage"] = frame["grade"].map({0: "I", 1: "II", 2: "III", 3: "IV"})
    schema = TableSchema.infer(frame.drop(columns="target"), label="grade", positive_above=0)
    copies = {leak.column: leak.copy for leak in find_leaks(schema, frame)}
    assert (copies["biopsy"], copies["stage"]) == ("classed", "relabelled")
    (biopsy,) = [leak for leak in find_leaks(schema, frame) if leak.column == "biopsy"]
    with pytest.raises(DataError) as err:
        refuse_leaks([biopsy], label="grade")
    assert "(its values stand one for one for the classes of 'grade' in every one of them: " in (
        str(err.value)
    )


def test_coarse_bands_cut_from_a_measured_outcome_are_a_leak():
    """A new-user try: ``severity`` high where progression > 150 (0.8 correlated with it)
    was kept as a feature of the diabetes model without a word; coded 0/1 too. Sex, whose
    outcomes overlap, is no leak."""
    from medadapt.data.leaks import BANDS

    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame["severity"] = np.where(frame["target"] > 150, "high", "low")
    frame["stage"] = np.digitize(frame["target"], [100, 200])  # 0, 1, 2 as numbers
    schema = TableSchema.infer(frame, label="target", categorical=["severity"])
    found = {leak.column: leak for leak in find_leaks(schema, frame)}
    assert set(found) == {"severity", "stage"}
    assert all(leak.statistic == BANDS and leak.value == 1.0 for leak in found.values())
    rng = np.random.default_rng(0)  # bands that overlap, as any genuine grouping's do
    frame["severity"] = np.where(frame["target"] + rng.normal(0, 40, len(frame)) > 150,
                                 "high", "low")  # fmt: skip
    frame = frame.drop(columns="stage")
    schema = TableSchema.infer(frame, label="target", categorical=["severity"])
    assert find_leaks(schema, frame) == []


def test_a_perfect_figure_on_few_rows_is_taken_for_the_base_s_within_its_interval():
    """On 15 rows with the outcome and 24 without, AUROC 1.000 has a 95% interval down to
    0.890: a predictor of 0.939 where the base trained reaches it by chance (a trial's
    39-row site was refused). On 40 and 60 rows the interval reaches 0.959 only: refused, and
    the refusal says the base's figure lies below it."""
    recorded = {"mean concavity": {"statistic": "AUROC", "value": 0.939}}
    few = Leak("mean concavity", "AUROC", 1.0, rows=39, threshold=0.98, counts=(15, 24))
    many = replace(few, rows=100, counts=(40, 60))
    assert as_strong_at_base([few], recorded) == ([few], [])
    assert as_strong_at_base([many], recorded) == ([], [many])
    assert strong_at_base_warnings([few], recorded, "target", rows="rows of frame") == [
        "column 'mean concavity' (AUROC 1.000; 0.939 where the base trained; 95% interval here "
        "0.890 to 1.000) alone predicts 'target' on 39 rows of frame better than on the base "
        "model's training rows, but within the 95% interval of so few rows (15 with the outcome "
        "and 24 without): a strong predictor the base already relies on, not taken for a leak of "
        "these rows; check it was measured before the outcome here too"
    ]
    with pytest.raises(DataError) as error:
        refuse_leaks([many], label="target", rows="rows of frame", at_base=recorded)
    assert (
        "; where the base trained, 'mean concavity' (AUROC 0.939, below the 95% interval here, "
        "0.959 to 1.000) was weaker: not a predictor the base already relies on; "
    ) in str(error.value)
    # a figure just below the interval is shown with the decimals that tell them apart (a
    # trial read "AUROC 0.934, below the 95% interval here, 0.934 to 1.000")
    low = chance_interval(many)[0]
    close = {"mean concavity": {"statistic": "AUROC", "value": low - 0.00005}}
    with pytest.raises(DataError) as error:
        refuse_leaks([many], label="target", rows="rows of frame", at_base=close)
    assert (f"(AUROC {low - 0.00005:.4f}, below the 95% interval here, {low:.4f} to 1.0000)"
            in str(error.value))  # fmt: skip
    assert f"{low - 0.00005:.4f}" != f"{low:.4f}"
    # never by the interval (a review): a copy of the label, a column reversed at this site,
    # one more than 0.10 below, or fewer than 10 rows of a class (the interval reaches 0.80)
    directed = {"mean concavity": {"statistic": "AUROC", "value": 0.939, "higher": True}}
    for refused, against in [
        (replace(few, copy="itself"), recorded),
        (replace(few, higher=False), directed),
        (few, {"mean concavity": {"statistic": "AUROC", "value": 0.89}}),
        (replace(few, counts=(9, 30)), recorded),
    ]:
        assert as_strong_at_base([refused], against) == ([], [refused]), refused
    assert as_strong_at_base([replace(few, higher=True)], directed)[0]  # the same way: taken

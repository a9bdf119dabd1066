"""Values far outside what the model trained on: named per row and per column, counted in one
warning, never echoed; zeros far below the mean are the missing-code check's."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from medadapt.data.extrapolation import (
    FAR_OUTSIDE_SDS,
    Outside,
    far_outside,
    far_outside_warning,
    outside_in_record,
    outside_per_row,
)

AGE = SimpleNamespace(name="age", mean=51.2, std=9.06)
CHOL = SimpleNamespace(name="chol", mean=250.0, std=58.4)
SCORE = SimpleNamespace(name="score", mean=0.5, std=1.0)  # a zero here is an ordinary value
SODIUM = SimpleNamespace(name="sodium", mean=140.0, std=3.0)


def test_rows_far_outside_are_found_per_column_and_named_per_row():
    frame = pd.DataFrame({
        "age": [250, 60, None, 51.2 + 5.9 * 9.06, 51.2 - 6.1 * 9.06],
        "chol": [240, 5000, 0, "n.d.", np.inf],
        "score": [0, 0, 8, 0, 0],
    })  # fmt: skip
    found = far_outside(frame, [AGE, CHOL, SCORE], zeros_said=["chol"])
    assert {k: v.tolist() for k, v in found.outside.items()} == {
        "age": [True, False, False, False, True],  # missing: no; 5.9 SDs: no; 6.1 below: yes
        "chol": [False, True, False, False, False],  # 0: the zero warning's; text, inf: no
        "score": [False, False, True, False, False],  # 7.5 SDs above; its zeros are near
    }
    assert outside_per_row(found, 5) == ["age", "chol", "score", "", "age"]
    sodium = pd.DataFrame({"sodium": [0, 140]})  # 47 SDs below 140 ± 3
    assert far_outside(sodium, [SODIUM]).outside["sodium"].tolist() == [True, False]
    assert not far_outside(sodium, [SODIUM], zeros_said=["sodium"])  # that warning says it


def test_a_value_the_model_saw_is_not_far_however_many_sds_out():
    """A rare 0/1 indicator (2% ones) puts every 1 seven SDs out: the model trained on it."""
    ones = np.array([1.0] * 5 + [0.0] * 245)
    mean, std = ones.mean(), ones.std()
    indicator = SimpleNamespace(name="prior_mi", mean=mean, std=std,
                                reach=float(np.ceil((1 - mean) / std)))  # fmt: skip
    assert indicator.reach == 8.0  # stored by infer_feature, in whole SDs
    frame = pd.DataFrame({"prior_mi": [0, 1, 1, 3]})
    prior_mi = far_outside(frame, [indicator]).outside["prior_mi"]
    assert prior_mi.tolist() == [False, False, False, True]
    assert far_outside(frame, [SimpleNamespace(name="absent", mean=0, std=1)]) == Outside()


def test_one_warning_counts_rows_and_columns_and_gives_no_patient_value():
    frame = pd.DataFrame({"age": [250, 60, 61], "chol": [5000, 240, 7000]})
    found = far_outside(frame, [AGE, CHOL])
    warning = far_outside_warning(found, {"age": AGE, "chol": CHOL})
    assert warning == (
        f"2 of 3 rows have a value over {FAR_OUTSIDE_SDS:g} SDs from the mean of the rows the "
        "base model trained on, and further than any of them ('chol': 2 rows, trained on 250 "
        "± 58.4; 'age': 1 row, trained on 51.2 ± 9.06): the model extrapolates there; check "
        "for a unit or typing error, or patients unlike any it trained on (predict names the "
        "columns per row in 'outside_training')"
    )
    assert "5000" not in warning and "7000" not in warning and "250 ±" in warning  # the mean
    many = {f"c{i}": np.array([i % 2 == 0, True]) for i in range(7)}
    specs = {name: SCORE for name in many}
    text = far_outside_warning(Outside(many), specs)
    assert text.startswith("2 of 2 rows have a value over")
    assert "('c0': 2 rows; 'c2': 2 rows; 'c4': 2 rows; 'c6': 2 rows; 3 more columns)" in text
    assert "trained on" not in text.split("(")[1].split(")")[0]  # many columns: no summaries
    standardised = SimpleNamespace(name="chol", mean=1.61e-16, std=0.965)  # FLamby's columns
    said = far_outside_warning(Outside({"chol": np.array([True])}), {"chol": standardised})
    assert "('chol': 1 row, trained on 0 ± 0.965)" in said  # was "1.61e-16 ± 0.965"
    assert said.startswith("1 of 1 row has a value")
    five = Outside({f"c{i}": np.array([True, i == 0]) for i in range(5)})
    assert "; 1 more column)" in far_outside_warning(five, {name: SCORE for name in five.outside})


def test_a_served_record_names_its_far_features_and_reads_a_missing_code_as_missing():
    record = {"age": 250, "chol": "5000", "score": True}  # numbers sent as text are read
    assert outside_in_record([AGE, CHOL, SCORE], record, {}) == ["age", "chol"]
    assert outside_in_record([SODIUM], {"sodium": 0}, {}) == ["sodium"]  # serving: no other
    assert outside_in_record([AGE], {"age": 250}, {"age": 250.0}) == []  # its missing code
    assert outside_in_record([AGE], {"age": None}, {}) == []


def test_the_schema_keeps_each_numeric_feature_s_reach_in_whole_sds():
    from medadapt.data.schema import TableSchema

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"prior_mi": [1] * 5 + [0] * 245, "age": rng.normal(60, 10, 250),
                          "y": rng.integers(0, 2, 250)})  # fmt: skip
    schema = TableSchema.infer(frame, label="y")
    spec = {f.name: f for f in schema.numeric_features}
    assert spec["prior_mi"].reach == 8.0  # a 1 lies 7.0 SDs out: rounded up
    ages = frame["age"]
    assert spec["age"].reach == np.ceil((ages - ages.mean()).abs().max() / ages.std(ddof=0))
    found = far_outside(pd.DataFrame({"prior_mi": [1, 1], "age": [60, 250]}),
                        schema.numeric_features)  # fmt: skip
    assert {k: v.tolist() for k, v in found.outside.items()} == {"age": [False, True]}


# chol as the model learned it, in mg/dl: every training value positive, trained on 245 ± 56.7,
# the range widened outward to whole SDs from the mean (76 to 586; the schema stores bounds)
MG_DL = SimpleNamespace(name="chol", mean=245.7, std=56.7, reach=7.0,
                        low=245.7 - 3 * 56.7, high=245.7 + 6 * 56.7)  # fmt: skip
SLIPPED = (
    "1 of 4 rows has a value far outside those the base model trained on: over 6 SDs from their "
    "mean and further than any of them, or, where all of them were positive, 0 or below, "
    "under a third of the lowest or over three times the highest ('chol': 1 row, trained on "
    "246 ± 56.7): the model extrapolates there; check for a unit or typing error, or patients "
    "unlike any it trained on (predict names the columns per row in 'outside_training')"
)


def test_a_value_in_another_unit_is_flagged_though_within_6_sds():
    """5.2 mmol/L where the model learned mg/dl lies 4.2 SDs below the mean: the 6-SD rule
    alone let it pass. Under a third of the lowest training value, or 0 or below for a
    measurement that was always positive, it is flagged; ordinary values are not."""
    frame = pd.DataFrame({"chol": [5.2, 130, 90, 600]})
    found = far_outside(frame, [MG_DL])
    assert list(found.outside) == ["chol"]
    assert found.outside["chol"].tolist() == [True, False, False, False]
    assert found.slips_only == {"chol"}  # 4.2 SDs out: the unit-slip rule alone
    warning = far_outside_warning(found, {"chol": MG_DL})
    assert warning == SLIPPED
    assert not [v for v in frame["chol"] if f"{v:g}" in warning]  # no patient's value
    negative = far_outside(pd.DataFrame({"chol": [-20.0, 0.0, 25.0, 30.0]}), [MG_DL])
    assert negative.outside["chol"].tolist() == [True, True, True, False]  # 30: over 76 / 3
    # a skewed laboratory value (training up to 9 SDs out, 185): 180 is one the model saw
    wide = SimpleNamespace(name="crp", mean=5.0, std=20.0, reach=9.0, low=1.0, high=185.0)
    crp = far_outside(pd.DataFrame({"crp": [180, 600]}), [wide]).outside["crp"]
    assert crp.tolist() == [False, True]
    assert not far_outside(pd.DataFrame({"chol": [0.0]}), [MG_DL], zeros_said=["chol"])
    assert outside_in_record([MG_DL], {"chol": 5.2}, {}) == ["chol"]  # what serve answers
    assert outside_in_record([MG_DL], {"chol": 130}, {}) == []
    # a feature with zeros or negatives among its training values: the 6-SD rule only
    signed = SimpleNamespace(name="oldpeak", mean=0.8, std=1.05, reach=6.0, low=-2.35, high=7.1)
    assert not far_outside(pd.DataFrame({"oldpeak": [-2.0, 0.0, 0.01]}), [signed])
    assert not far_outside(pd.DataFrame({"chol": [5.2]}), [CHOL])  # an old model: no bounds


def test_the_schema_keeps_the_training_range_rounded_out_to_one_digit():
    """The lowest and highest training values are kept rounded outward to one significant
    digit, never a patient's value; a positive lowest value stays positive, so a skewed
    measurement (triglycerides from 11.7, mean 140, SD 88: 1.5 SDs would reach below 0) still
    counts as always positive; a model saved before has none."""
    from medadapt.data.feature_kinds import rounded_out
    from medadapt.data.schema import TableSchema

    frame = pd.DataFrame({"chol": [126.0, 220, 240, 250, 260, 280, 300, 564], "y": [0, 1] * 4})
    spec = TableSchema.infer(frame, label="y").numeric_features[0]
    assert (spec.low, spec.high) == (100.0, 600.0)
    assert [rounded_out(v, up=False) for v in (85, 11.7, 0.047, -3.2, 0)] == [
        80, 10, pytest.approx(0.04), -4, 0
    ]  # fmt: skip
    assert [rounded_out(v, up=True) for v in (603, 564, -3.2)] == [700, 600, -3]
    skewed = pd.DataFrame(
        {"tg": [11.7, 60, 90, 120, 150, 180, 240, 300, 400], "y": [0, 1] * 4 + [0]}
    )
    tg = TableSchema.infer(skewed, label="y").numeric_features[0]
    assert tg.low == 10 and tg.mean - 1.5 * tg.std < 0
    found = far_outside(pd.DataFrame({"tg": [0.0, -5.0, 3.0, 4.0]}), [tg])
    assert found.outside["tg"].tolist() == [True, True, True, False]  # 10 / 3 = 3.33
    old = TableSchema.from_dict({**TableSchema.infer(frame, label="y").to_dict()})
    old_features = [{k: v for k, v in f.items() if k not in ("low", "high")}
                    for f in old.to_dict()["features"]]  # fmt: skip
    before = TableSchema.from_dict({**old.to_dict(), "features": old_features})
    assert before.numeric_features[0].low is None
    assert not far_outside(pd.DataFrame({"chol": [5.2]}), before.numeric_features)


def test_on_the_bundled_heart_data_a_unit_slip_is_flagged_and_va_patients_mostly_not():
    """Trained on Cleveland and Hungary (chol 85 to 603 mg/dl): a cholesterol in mmol/L is
    flagged; of the ordinary VA Long Beach patients, at most a few percent are."""
    from importlib.resources import files

    from medadapt.data.missing_codes import zeros_far_below
    from medadapt.data.schema import TableSchema

    heart = pd.read_csv(files("medadapt.data") / "bundled" / "heart_disease_uci.csv")
    train = heart[heart["dataset"].isin(["Cleveland", "Hungary"])].drop(columns="dataset")
    schema = TableSchema.infer(train, label="num", id_column="id")
    numeric = schema.numeric_features
    va = heart[heart["dataset"] == "VA Long Beach"]
    flagged = far_outside(va, numeric, zeros_far_below(va, numeric))
    share = np.logical_or.reduce(list(flagged.outside.values())).mean() if flagged else 0.0
    assert share <= 0.03, {k: int(v.sum()) for k, v in flagged.outside.items()}
    slipped = va.head(3).assign(chol=[5.2, 240, 240], age=[61, -20, 61])
    found = far_outside(slipped, numeric)
    assert outside_per_row(found, 3) == ["chol", "age", ""]


def test_a_value_of_neither_code_of_a_two_valued_column_is_named_outside():
    """A trial's served ``"sex": 3`` (the diabetes set codes sex 1/2) lay 3 SDs out and was
    scored without a word. The schema keeps a two-valued column's codes, as a categorical's
    levels; any other value is outside, each code is not."""
    from sklearn.datasets import load_diabetes

    from medadapt.data.schema import TableSchema

    frame = load_diabetes(as_frame=True, scaled=False).frame
    schema = TableSchema.infer(frame, label="target")
    sex = next(f for f in schema.features if f.name == "sex")
    assert (
        sex.codes == [1.0, 2.0]
        and next(f for f in schema.features if f.name == "age").codes is None
    )
    assert TableSchema.from_dict(schema.to_dict()).features[1].codes == [1.0, 2.0]  # kept
    found = far_outside(pd.DataFrame({"sex": [1.0, 2.0, 3.0, 1.5]}), [sex])
    assert found.outside["sex"].tolist() == [False, False, True, True]
    assert found.slips_only == {"sex"}
    assert far_outside_warning(found, {"sex": sex}).endswith(
        "further than any of them, or, where they were two codes, neither of them ('sex': 2 "
        "rows, trained on the codes 1 and 2 only): the model extrapolates there; check for a "
        "unit or typing error, or patients unlike any it trained on (predict names the columns "
        "per row in 'outside_training')"
    )
    assert outside_in_record([sex], {"sex": 3}, {}) == ["sex"]  # what serve answers
    assert outside_in_record([sex], {"sex": 2}, {}) == []


def test_a_site_mostly_outside_the_training_range_is_said_as_a_whole():
    """A trial's clinic of patients aged 51 to 79, on a base trained on ages up to 50, was
    4.8 SDs out at most: no row was named, and check-data, adapt, evaluate and predict said
    nothing of a site wholly beyond the base's ages. The site is now said as a whole (from a
    quarter of its rows), through the modality's notes of the rows as a whole; the bundled
    VA Long Beach patients, on a base of Cleveland and Hungary, are not."""
    from importlib.resources import files

    from medadapt.data.extrapolation import range_shift_warning
    from medadapt.data.missing_codes import zeros_far_below
    from medadapt.data.schema import TableSchema
    from medadapt.modalities.base import modality_of
    from medadapt.modalities.tabular.samples import TableSamples

    heart = pd.read_csv(files("medadapt.data") / "bundled" / "heart_disease_uci.csv")
    train = heart[heart["dataset"].isin(["Cleveland", "Hungary"])].drop(columns="dataset")
    schema = TableSchema.infer(train, label="num", id_column="id")
    tabular = modality_of("tabular")
    va = heart[heart["dataset"] == "VA Long Beach"].drop(columns="dataset")
    numeric = schema.numeric_features  # VA's cholesterol of 0 (a quarter of its rows) is
    zeros = zeros_far_below(va, numeric)  # the "not measured" warning's, not a case mix
    assert zeros["chol"] == 49 and range_shift_warning(va, numeric, zeros) is None
    young = train[train["age"] <= 50]
    schema = TableSchema.infer(young, label="num", id_column="id")
    age = next(f for f in schema.numeric_features if f.name == "age")
    older = train[train["age"] > 60]
    said = [n for n in tabular.whole_notes(schema, TableSamples(older, schema))
            if "outside the values" in n]  # fmt: skip
    n = len(older)  # those far out (6 SDs) are the per-row warning's
    far = int(far_outside(older, schema.numeric_features).outside["age"].sum())
    assert 0 < far < 10
    assert said == [
        "a quarter or more of these rows lie outside the values the base model trained on: "
        f"'age' in {n - far} of these {n} rows ({(n - far) / n:.0%}; it trained on values "
        f"within {age.low:g} to {age.high:g}, its range rounded outward): it extrapolates "
        "for them (patients unlike those it trained on, or values in another unit or coding); "
        "judge it on labelled rows of this site before relying on it (predict's column "
        "'outside_training' names, row by row, only values far outside them)"
    ]
    few = older.head(5).assign(age=[55, 58, 61, 45, 45])  # a few patients scored: said too
    assert "'age' in 3 of these 5 rows (60%" in range_shift_warning(few, schema.numeric_features)
    # predict's column names only values far outside, as serve's answers do, and the warning
    # says so (a trial's warning counted 2 of 5 rows, and the column named none)
    flags = tabular.prediction_flags(schema, TableSamples(few, schema))["outside_training"]
    assert age.high < 55 and flags == [""] * 5
    python = [n for n in tabular.sample_notes(schema, TableSamples(few, schema), python=True)
              if "outside the values" in n]  # fmt: skip
    assert python and "outside_training" not in python[0]  # no such column in the Python API
    some = pd.concat([older.head(2), young.head(8)])  # 20%: below a quarter
    assert range_shift_warning(some, schema.numeric_features) is None
    quarter = pd.concat([older.head(3), young.head(9)])  # 3 of 12: a quarter, said
    assert "in 3 of these 12 rows (25%" in range_shift_warning(quarter, schema.numeric_features)
    # a column mostly empty: its share is of every row, not of those with a value (a review:
    # "in 12 of 12 rows (100%)" of a column present in 12 of 597)
    sparse = pd.concat([older.head(12), young.head(60).assign(age=np.nan)])
    assert range_shift_warning(sparse, schema.numeric_features) is None
    # a unit slip (cholesterol in mmol/L) is the per-row warning's, not a case mix
    chol = next(f for f in schema.numeric_features if f.name == "chol")
    slipped = young.assign(chol=young["chol"] / 38.67)
    said = [n for n in tabular.whole_notes(schema, TableSamples(slipped, schema))
            if "outside the values" in n]  # fmt: skip
    assert said == [] and chol.low > slipped["chol"].max()


def test_a_measured_outcome_unlike_the_base_s_is_said():
    """A trial's study and check-data took a site's 0/1 outcome for the measured outcome a
    base learned (values 25 to 346) without a word, and called an adapter "clearly ahead";
    an ordinary site of the same outcome is not said so."""
    from sklearn.datasets import load_diabetes

    from medadapt.data.schema import TableSchema
    from medadapt.modalities.base import modality_of
    from medadapt.modalities.tabular.samples import TableSamples

    frame = load_diabetes(as_frame=True, scaled=False).frame
    young, old = frame[frame["age"] <= 50], frame[frame["age"] > 50]
    schema = TableSchema.infer(young, label="target")
    tabular = modality_of("tabular")

    def said(rows):
        return [n for n in tabular.whole_notes(schema, TableSamples(rows, schema))
                if n.startswith("the outcome")]  # fmt: skip

    assert said(old) == []
    yes_no = old.assign(target=(old["target"] > 140).astype(int))
    (line,) = said(yes_no)
    assert line.startswith("the outcome 'target' here is unlike the one the base model learned")
    assert "is it the same outcome, in the same unit?" in line

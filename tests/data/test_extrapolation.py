"""Values far outside what the model trained on: named per row and per column, counted in one
warning, never echoed; zeros far below the mean are the missing-code check's."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from medadapt.data.extrapolation import (
    FAR_OUTSIDE_SDS,
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
    assert {k: v.tolist() for k, v in found.items()} == {
        "age": [True, False, False, False, True],  # missing: no; 5.9 SDs: no; 6.1 below: yes
        "chol": [False, True, False, False, False],  # 0: the zero warning's; text, inf: no
        "score": [False, False, True, False, False],  # 7.5 SDs above; its zeros are near
    }
    assert outside_per_row(found, 5) == ["age", "chol", "score", "", "age"]
    sodium = pd.DataFrame({"sodium": [0, 140]})  # 47 SDs below 140 ± 3
    assert far_outside(sodium, [SODIUM])["sodium"].tolist() == [True, False]
    assert far_outside(sodium, [SODIUM], zeros_said=["sodium"]) == {}  # that warning says it


def test_a_value_the_model_saw_is_not_far_however_many_sds_out():
    """A rare 0/1 indicator (2% ones) puts every 1 seven SDs out: the model trained on it."""
    ones = np.array([1.0] * 5 + [0.0] * 245)
    mean, std = ones.mean(), ones.std()
    indicator = SimpleNamespace(name="prior_mi", mean=mean, std=std,
                                reach=float(np.ceil((1 - mean) / std)))  # fmt: skip
    assert indicator.reach == 8.0  # stored by infer_feature, in whole SDs
    frame = pd.DataFrame({"prior_mi": [0, 1, 1, 3]})
    assert far_outside(frame, [indicator])["prior_mi"].tolist() == [False, False, False, True]
    assert far_outside(frame, [SimpleNamespace(name="absent", mean=0, std=1)]) == {}


def test_one_warning_counts_rows_and_columns_and_gives_no_patient_value():
    frame = pd.DataFrame({"age": [250, 60, 61], "chol": [5000, 240, 7000]})
    found = far_outside(frame, [AGE, CHOL])
    warning = far_outside_warning(found, {"age": AGE, "chol": CHOL})
    assert warning == (
        f"2 of 3 rows have a value over {FAR_OUTSIDE_SDS:g} SDs from the mean of the rows the "
        "model trained on, and further than any of them ('chol': 2 rows, trained on 250 ± 58.4; "
        "'age': 1 row, trained on 51.2 ± 9.06): the model extrapolates there; check for a unit "
        "or typing error (predict names the columns per row in 'outside_training')"
    )
    assert "5000" not in warning and "7000" not in warning and "250 ±" in warning  # the mean
    many = {f"c{i}": np.array([i % 2 == 0, True]) for i in range(7)}
    specs = {name: SCORE for name in many}
    text = far_outside_warning(many, specs)
    assert text.startswith("2 of 2 rows have a value over")
    assert "('c0': 2 rows; 'c2': 2 rows; 'c4': 2 rows; 'c6': 2 rows; 3 more columns)" in text
    assert "trained on" not in text.split("(")[1]  # many columns: no summaries to wade through
    standardised = SimpleNamespace(name="chol", mean=1.61e-16, std=0.965)  # FLamby's columns
    said = far_outside_warning({"chol": np.array([True])}, {"chol": standardised})
    assert "('chol': 1 row, trained on 0 ± 0.965)" in said  # was "1.61e-16 ± 0.965"


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
    assert {k: v.tolist() for k, v in found.items()} == {"age": [False, True]}

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


def test_rows_far_outside_are_found_per_column_and_named_per_row():
    frame = pd.DataFrame({
        "age": [250, 60, None, 51.2 + 5.9 * 9.06, 51.2 - 6.1 * 9.06],
        "chol": [240, 5000, 0, "n.d.", 250],
        "score": [0, 0, 8, 0, 0],
    })  # fmt: skip
    found = far_outside(frame, [AGE, CHOL, SCORE])
    assert {k: v.tolist() for k, v in found.items()} == {
        "age": [True, False, False, False, True],  # missing: no; 5.9 SDs: no; 6.1 below: yes
        "chol": [False, True, False, False, False],  # 0: the missing-code check's; text: no
        "score": [False, False, True, False, False],  # 7.5 SDs above; its zeros are near
    }
    assert outside_per_row(found, 5) == ["age", "chol", "score", "", "age"]
    assert far_outside(frame, [SimpleNamespace(name="absent", mean=0, std=1)]) == {}


def test_one_warning_counts_rows_and_columns_and_gives_no_patient_value():
    frame = pd.DataFrame({"age": [250, 60, 61], "chol": [5000, 240, 7000]})
    found = far_outside(frame, [AGE, CHOL])
    warning = far_outside_warning(found, {"age": AGE, "chol": CHOL})
    assert warning == (
        f"2 of 3 rows have a value over {FAR_OUTSIDE_SDS:g} SDs from the mean of the rows the "
        "model trained on ('chol': 2 rows, trained on 250 ± 58.4; 'age': 1 row, trained on "
        "51.2 ± 9.06): their predictions extrapolate beyond what it learned; check for a unit "
        "or typing error (predict names the columns per row in 'outside_training')"
    )
    assert "5000" not in warning and "7000" not in warning and "250 ±" in warning  # the mean
    many = {f"c{i}": np.array([i % 2 == 0, True]) for i in range(7)}
    specs = {name: SCORE for name in many}
    text = far_outside_warning(many, specs)
    assert text.startswith("2 of 2 rows have a value over")
    assert "('c0': 2 rows; 'c2': 2 rows; 'c4': 2 rows; 'c6': 2 rows; 3 more columns)" in text
    assert "trained on" not in text.split("(")[1]  # many columns: no summaries to wade through


def test_a_served_record_names_its_far_features_and_reads_a_missing_code_as_missing():
    record = {"age": 250, "chol": 0, "score": True}
    assert outside_in_record([AGE, CHOL, SCORE], record, {}) == ["age"]
    assert outside_in_record([AGE], {"age": 250}, {"age": 250.0}) == []  # its missing code
    assert outside_in_record([AGE], {"age": None}, {}) == []

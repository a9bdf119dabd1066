"""Numbers that code "not measured": declared ones read as missing everywhere the table is
read, undeclared zeros that look like one found (counts only)."""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from medadapt.data.missing_codes import (
    parse_missing_codes,
    read_as_missing,
    zero_coded,
    zeros_far_below,
)
from medadapt.data.option_words import COMMAND_LINE
from medadapt.data.schema import TableSchema
from medadapt.errors import ConfigError, DataError

RAW = resources.files("medadapt.data") / "bundled" / "heart_disease_uci.csv"


def test_codes_are_column_number_pairs_refused_by_flag_otherwise():
    assert parse_missing_codes(None) == {}
    assert parse_missing_codes("chol=0, trestbps=-1") == {"chol": 0.0, "trestbps": -1.0}
    assert parse_missing_codes("chol=0,chol=-9,chol=0") == {"chol": [0.0, -9.0]}  # several
    for text, says in [
        ("chol", "--missing-code takes COLUMN=NUMBER pairs separated by commas (e.g. "
                 "chol=0,trestbps=0); got 'chol'"),
        ("chol=none", "--missing-code takes COLUMN=NUMBER pairs separated by commas (e.g. "
                      "chol=0,trestbps=0); got 'chol=none'"),
        (",", "--missing-code is empty; give COLUMN=NUMBER (e.g. chol=0), or leave it out"),
    ]:  # fmt: skip
        with pytest.raises(ConfigError) as refused:
            parse_missing_codes(text)
        assert str(refused.value) == says


def test_the_bundled_va_cholesterol_zeros_are_found_and_real_zeros_are_not():
    frame = pd.read_csv(RAW)
    va = frame[frame["dataset"] == "VA Long Beach"]
    columns = ["chol", "trestbps", "oldpeak", "ca", "fbs", "exang", "age"]
    # oldpeak (ST depression), ca (vessels), fbs/exang (flags): 0 is a value there
    assert zero_coded(va, columns) == {"chol": int((va["chol"] == 0).sum()), "trestbps": 1}
    assert zero_coded(frame[frame["dataset"] == "Cleveland"], columns) == {}


def test_a_declared_code_is_missing_in_training_encoding_and_serving():
    frame = pd.DataFrame({
        "chol": [0, 210, 250, 0, 300, 190] * 5, "age": [50, 61, 70, 45, 58, 66] * 5,
        "y": [1, 0, 1, 1, 0, 0] * 5,
    })  # fmt: skip
    schema = TableSchema.infer(frame, label="y", missing_codes={"chol": 0.0})
    chol = next(f for f in schema.features if f.name == "chol")
    assert chol.mean == pytest.approx(237.5)  # the zeros do not pull the mean down
    encoded = schema.encode(frame)
    assert encoded.missing["chol"] == 10 and encoded.missing["age"] == 0
    x_num, _ = schema.encode_records([{"chol": 0, "age": 50}, {"chol": 250, "age": 50}])
    column = [f.name for f in schema.numeric_features].index("chol")
    assert math.isnan(x_num[0, column]) and not math.isnan(x_num[1, column])
    again = TableSchema.from_dict(schema.to_dict())
    assert again.missing_codes == {"chol": 0.0}
    old = schema.to_dict()
    del old["missing_codes"]  # a model written before the option: no codes
    assert TableSchema.from_dict(old).missing_codes == {}
    assert read_as_missing(frame, {}) is frame


def test_a_code_for_a_column_that_is_not_a_numeric_feature_is_refused():
    frame = pd.DataFrame({"sex": ["M", "F"] * 10, "age": np.arange(20), "y": [0, 1] * 10})
    with pytest.raises(DataError) as refused:
        TableSchema.infer(frame, label="y", numeric=["age"], missing_codes={"sex": 0.0})
    assert str(refused.value) == (
        "missing_codes['sex']: not a numeric feature of the model (a code is read as missing in "
        "a numeric column; leave it out of missing_codes)"
    )
    with pytest.raises(DataError) as refused:
        TableSchema.infer(frame, label="y", missing_codes={"sex": 0.0}, words=COMMAND_LINE)
    assert str(refused.value) == (
        "--missing-code sex: not a numeric feature of the model (a code is read as missing in "
        "a numeric column; leave it out of --missing-code)"
    )
    with pytest.raises(DataError, match="column 'weight' given to missing_codes is not in"):
        TableSchema.infer(frame, label="y", missing_codes={"weight": 0.0})


def test_zeros_far_below_the_training_values_are_counted_at_a_later_site():
    frame = pd.read_csv(RAW)
    trained = frame[frame["dataset"].isin(["Cleveland", "Hungary"])]
    schema = TableSchema.infer(trained, label="num", positive_above=0, id_column="id",
                               group_column="dataset")  # fmt: skip
    swiss = frame[frame["dataset"] == "Switzerland"]
    assert zeros_far_below(swiss, schema.numeric_features) == {"chol": len(swiss)}


def test_codes_such_as_999_or_minus_one_only_a_later_site_writes_are_named_with_both_fixes():
    """A trial's small hospital wrote -1 and 999 for "not measured" in its own rows only: the
    base never saw them, the far-outside warning said "a unit or typing error", and an
    adapter learnt to absorb them as if they were measurements."""
    from sklearn.datasets import load_diabetes

    from medadapt.data.extrapolation import far_outside
    from medadapt.data.missing_codes import codes_far_outside, far_code_warning

    frame = load_diabetes(as_frame=True, scaled=False).frame
    schema = TableSchema.infer(frame.iloc[30:], label="target")
    site = frame.iloc[:30].copy()
    site.loc[site.index[:7], "bp"] = -1
    site.loc[site.index[:5], "s3"] = 999
    site.loc[site.index[10], "s5"] = -1  # one row: a slip, not a code
    found = codes_far_outside(site, schema.numeric_features)
    assert found == {"bp": (-1.0, 7), "s3": (999.0, 5)}
    assert far_code_warning("bp", -1.0, 7, 30) == (
        "column 'bp' is -1 in 7 of 30 rows here, below every value the base model trained on: "
        "if -1 means 'not measured' here, the model reads it as a measurement; retrain the base "
        "with --missing-code bp=-1, or leave those cells empty in --data (an empty cell is read "
        "as not measured)"
    )
    assert far_code_warning("s3", 999.0, 5, 30, python=True).endswith(
        "far above every value the base model trained on: if 999 means 'not measured' here, "
        "the model reads it as a measurement; set those values to NaN, or retrain the base "
        "with TableSchema.infer(..., missing_codes={'s3': 999})"
    )
    codes = {column: code for column, (code, _) in found.items()}
    far = far_outside(site, schema.numeric_features, codes_said=codes)
    assert "bp" not in far.outside and "s3" not in far.outside  # said once, by the code's
    assert codes_far_outside(frame.iloc[30:], schema.numeric_features) == {}  # its own rows
    negative = TableSchema.infer(frame.assign(bp=frame["bp"] - 100).iloc[30:], label="target")
    shifted = site.assign(bp=site["bp"] - 100)
    shifted.loc[shifted.index[:7], "bp"] = -1  # within values the model trained on
    assert "bp" not in codes_far_outside(shifted, negative.numeric_features)  # -1 measured


def test_several_codes_in_one_column_are_each_missing_everywhere():
    """Old registries write 'not measured' two ways in one column (0 and -9): each code is
    missing in training, encoding, serving and the row hashes, and the model keeps both."""
    from medadapt.data.row_hashes import RowHasher

    frame = pd.DataFrame({
        "chol": [0, 210, 250, -9, 300, 190] * 5, "age": [50, 61, 70, 45, 58, 66] * 5,
        "y": [1, 0, 1, 1, 0, 0] * 5,
    })  # fmt: skip
    schema = TableSchema.infer(frame, label="y", missing_codes="chol=0,chol=-9")
    chol = next(f for f in schema.features if f.name == "chol")
    assert chol.mean == pytest.approx(237.5)  # neither code pulls the mean down
    assert schema.encode(frame).missing["chol"] == 10
    records = [{"chol": 0, "age": 50}, {"chol": "-9", "age": 50}, {"chol": 9, "age": 50}]
    x_num, _ = schema.encode_records(records)
    column = [f.name for f in schema.numeric_features].index("chol")
    assert [math.isnan(v) for v in x_num[:, column].tolist()] == [True, True, False]
    again = TableSchema.from_dict(schema.to_dict())
    assert again.missing_codes == {"chol": [0.0, -9.0]}
    assert TableSchema.infer(frame, label="y", missing_codes={"chol": [0, -9]}).missing_codes == (
        {"chol": [0.0, -9.0]}
    )
    hasher = RowHasher.for_schema(again, salt="01" * 16)
    blank = frame.assign(chol=frame["chol"].where(frame["chol"] > 0))  # codes written blank
    np.testing.assert_array_equal(hasher.hashes(frame), hasher.hashes(blank))
    with pytest.raises(ConfigError, match=r"missing_codes\['chol'\] must be a finite number"):
        TableSchema.infer(frame, label="y", missing_codes={"chol": [0, "x"]})

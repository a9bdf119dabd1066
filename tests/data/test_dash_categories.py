"""A dash learnt as a category: read as missing in a numeric column, a trial's "-" in 268 of
607 rows of 'thal' was learnt as a value of its own, and a site writing those cells empty got
other predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from medadapt.data.feature_kinds import dash_category_warnings
from medadapt.data.schema import TableSchema


def _frame(values: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"age": rng.normal(60, 8, 100).round(),
                         "thal": values * (100 // len(values)),
                         "y": rng.integers(0, 2, 100)})  # fmt: skip


def test_a_dash_learnt_as_a_category_is_warned_of_with_its_count():
    frame = _frame(["normal", "fixed defect", "-", "-"])
    schema = TableSchema.infer(frame, label="y")
    assert dash_category_warnings(schema.categorical_features, frame) == [
        "column 'thal' holds '-' in 50 of the 100 training rows, often written for 'not "
        "measured': it is learnt as a category of its own, and a site that leaves such cells "
        "empty gets other predictions; if it means not measured, leave those cells empty in "
        "--data and train again"
    ]


def test_a_plus_minus_scale_is_no_missing_code():
    frame = _frame(["-", "+", "++", "-"])  # a dipstick: "-" is a result
    schema = TableSchema.infer(frame, label="y")
    assert dash_category_warnings(schema.categorical_features, frame) == []
    frame = _frame(["normal", "fixed defect"])
    assert dash_category_warnings(TableSchema.infer(frame, label="y").categorical_features,
                                  frame) == []  # fmt: skip

"""Row hashes compare numbers at 6 significant digits; records written before the rounding was
recorded (no ``digits``) keep matching the rows they were made from, at their 12 digits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from medadapt.data.row_hashes import RowHasher, trained_mask

SALT = "01" * 16


def _frame(oldpeak) -> pd.DataFrame:
    return pd.DataFrame({"oldpeak": oldpeak, "sex": ["M", "F", "F"], "y": ["0", "1", "1"]})


def test_a_float32_copy_and_negative_zero_hash_like_the_original():
    hasher = RowHasher(numeric=["oldpeak"], categorical=["sex", "y"], salt=SALT)
    original = _frame([2.3, 0.0, 1.123456])
    copy = _frame(np.array([2.3, -0.0, 1.123456], dtype=np.float32))
    assert hasher.hashes(original).tolist() == hasher.hashes(copy).tolist()
    other = _frame([2.4, 0.0, 1.123456])  # one value really differs
    assert (hasher.hashes(original) == hasher.hashes(other)).tolist() == [False, True, True]


def test_a_record_without_digits_is_read_at_its_twelve():
    original = _frame([2.3, 0.5, 1.123456789])
    old = RowHasher(numeric=["oldpeak"], categorical=["sex", "y"], salt=SALT, digits=12)
    record = old.record(original)
    del record["digits"]  # as written before the rounding
    assert RowHasher.from_record(record).digits == 12
    assert trained_mask(original, record).tolist() == [True, True, True]
    new = RowHasher(numeric=["oldpeak"], categorical=["sex", "y"], salt=SALT).record(original)
    assert new["digits"] == 6
    assert trained_mask(_frame([2.3, 0.5, 1.1234568]), new).tolist() == [True, True, True]
    assert trained_mask(_frame([2.3, 0.5, 1.1234568]), record).tolist() == [True, True, False]


def test_a_row_with_one_value_changed_is_recognised_only_where_the_rest_singles_it_out():
    """A re-export with one feature in other units is the same patient; with few features,
    or other values that several rows of the file share, it could be anyone."""
    columns = [f"x{i}" for i in range(6)]
    trained = pd.DataFrame([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]], columns=columns)
    trained["y"] = [0, 1]
    record = RowHasher(numeric=columns, categorical=["y"], salt=SALT).record(trained)
    changed = trained.assign(x0=trained["x0"] / 38.67)
    assert trained_mask(changed, record).tolist() == [True, True]
    # another row sharing the first row's other values (x1..x5 and y): no longer alone
    shared = pd.concat([changed, changed.iloc[[0]].assign(x0=99)], ignore_index=True)
    assert trained_mask(shared, record).tolist() == [False, True, False]
    few = RowHasher(numeric=columns[:3], categorical=["y"], salt=SALT)
    assert not trained_mask(changed, few.record(trained)).any()  # 3 features: too few

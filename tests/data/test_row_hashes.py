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


def test_a_training_patient_with_one_value_changed_is_recognised_by_id_and_the_rest():
    """A re-export with one feature in other units is the same patient when the id and every
    other value agree; a new patient who happens to share all values but one is not (dense
    tables of flags would otherwise mistake most new patients for training ones)."""
    rng = np.random.default_rng(0)
    flags = [f"flag{i}" for i in range(6)]

    def patients(n: int, first_id: int) -> pd.DataFrame:
        frame = pd.DataFrame(rng.integers(0, 2, (n, 6)), columns=flags)
        return frame.assign(age=rng.integers(40, 80, n), y=rng.integers(0, 2, n),
                            pid=np.arange(first_id, first_id + n))  # fmt: skip

    trained, new = patients(500, 1), patients(40, 10_000)
    hasher = RowHasher(numeric=["age"], categorical=[*flags, "y"], salt=SALT)
    record = hasher.record(trained, trained["pid"])

    def exact(frame: pd.DataFrame) -> np.ndarray:  # rows identical to a training row
        return np.isin(hasher.hashes(frame), record["hashes"])

    changed = trained.assign(age=trained["age"] + 1)  # one feature re-expressed
    assert exact(changed).sum() < 250  # dense: some land on another patient's values
    assert trained_mask(changed, record, "pid").all()
    assert (trained_mask(changed, record) == exact(changed)).all()  # no id: exact rows only
    mixed = pd.concat([new, changed.head(10)], ignore_index=True)
    assert trained_mask(mixed, record, "pid").sum() == exact(new).sum() + 10
    other_ids = changed.assign(pid=changed["pid"] + 100_000)  # another site's numbering
    assert (trained_mask(other_ids, record, "pid") == exact(other_ids)).all()
    blank = changed.assign(pid=np.nan)  # rows without an id match nothing by one change
    assert (trained_mask(blank, record, "pid") == exact(blank)).all()


def test_patient_ids_are_compared_exactly_however_written():
    """``000123``, ``123`` and ``123.0`` are one patient; 18-digit ids one apart are two (a
    float would round them together)."""
    from medadapt.data.row_hashes import _id_cells

    ids = pd.Series(["123456789012345678", "123456789012345679", "000123", "123", 123.0,
                     " AB-1 ", "ab-1"], dtype=object)  # fmt: skip
    digests = _id_cells(ids, bytes.fromhex(SALT))
    assert digests[0] != digests[1]
    assert digests[2] == digests[3] == digests[4] and digests[5] == digests[6]


def test_a_training_patient_whose_outcome_was_corrected_is_recognised_by_id():
    """A trial's later export corrected the outcome of 6 training patients (id and every
    feature the same): 3 of them were scored as held out. Without an id nothing says that
    such a row is the same patient: it stays a test row, as before."""
    from medadapt.data.schema import TableSchema

    rng = np.random.default_rng(1)
    trained = pd.DataFrame({"age": rng.integers(40, 80, 60), "bp": rng.normal(130, 15, 60),
                            "y": rng.integers(0, 2, 60), "pid": np.arange(60)})  # fmt: skip
    schema = TableSchema.infer(trained, label="y", id_column="pid")
    hasher = RowHasher.for_schema(schema, salt=SALT)
    record = hasher.record(trained, trained["pid"])
    corrected = trained.assign(y=np.where(np.arange(60) < 6, 1 - trained["y"], trained["y"]))
    assert trained_mask(corrected, record, "pid").all()
    assert trained_mask(corrected, record).tolist() == [False] * 6 + [True] * 54  # no id
    strangers = corrected.assign(pid=corrected["pid"] + 1000)  # other patients, alike
    assert trained_mask(strangers, record, "pid").tolist() == [False] * 6 + [True] * 54
    older = {**record, "one_changed_with_id": _features_only(hasher, trained)}
    assert trained_mask(corrected, older, "pid").tolist() == [False] * 6 + [True] * 54


def _features_only(hasher: RowHasher, frame: pd.DataFrame) -> str:
    """A record's one-changed hashes as written before the label was left out too: each
    feature's only."""
    from medadapt.data.row_hashes import _nonzero, _pack

    digests = hasher.one_changed(frame["pid"], hasher._cells(frame))
    features = [hasher.columns.index(f) for f in hasher.features]
    return _pack(_nonzero(digests[:, features]))


def test_the_label_free_index_matches_rows_without_their_label_as_trained_mask_does():
    """What a server matches (no label sent): the same rows as ``trained_mask`` on a file
    without the label; a feature left out read as missing; a record written before
    normalisation 2, or empty, matches nothing."""
    from medadapt.data.row_hashes import LabelFreeIndex, LabelRule

    trained = pd.DataFrame({"oldpeak": [2.3, np.nan, 1.5], "sex": ["M", "F", "F"],
                            "y": ["0", "1", "1"]})  # fmt: skip
    hasher = RowHasher(numeric=["oldpeak"], categorical=["sex"], salt=SALT,
                       label=LabelRule("y", "binary", classes=("0", "1")))  # fmt: skip
    record = hasher.record(trained)
    index = LabelFreeIndex.of(record)
    sent = pd.DataFrame({"sex": [" m", "F", "F", "M"], "oldpeak": [2.3, 1.5, 9.9, 1.5]})
    assert index.matches(sent).tolist() == [True, True, False, False]
    assert index.matches(sent).tolist() == trained_mask(sent, record).tolist()
    assert index.matches(pd.DataFrame({"sex": ["F", "M"]})).tolist() == [True, False]
    assert index.matches(sent.iloc[:0]).tolist() == []
    old = RowHasher(numeric=["oldpeak"], categorical=["sex", "y"], salt=SALT,
                    normalisation=1).record(trained)  # fmt: skip
    assert LabelFreeIndex.of(old) is None and LabelFreeIndex.of(None) is None

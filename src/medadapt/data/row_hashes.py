"""Which rows trained a model, recognised by content rather than by file bytes.

A training file re-saved by a spreadsheet (CRLF line endings, columns reordered, a column
added) has another checksum, so row positions recorded against the old file no longer apply.
Each training row is therefore also recorded as a keyed hash of its values, normalised as the
model reads them: the model's feature columns and the label, by name, so column order and
extra columns do not matter, and an ordinary re-export of the same rows hashes alike
(normalisation 2, recorded as ``normalisation``):

- numbers as numbers, to 6 significant digits (``1``, ``1.0`` and ``1.00`` agree, and so do
  ``2.3`` and its float32 copy ``2.29999995`` a Parquet file or a spreadsheet may store);
- booleans as 1 and 0 (``TRUE``, ``true`` and ``1`` agree);
- categories as text, stripped and case-folded (``Male`` and ``" male"`` agree);
- missing as missing: empty, a word the table reader reads as missing (``?``, ``.``, ``NULL``)
  and a column's declared "not measured" code (``--missing-code chol=0``: 0 and blank agree);
- the label as the model encodes it: a binary label's class (0 or 1: with ``--positive-above
  0``, ``num`` 3 and 1 agree), a multiclass label's class, a regression target's number.

Each row is also hashed with each feature left out, so a file that lacks one model column is
still matched (:func:`trained_mask`); where more are absent, :func:`unrecognisable` names them.
Records written before normalisation 2 (no ``normalisation``) are read and matched as they were
written (categories and the label as written, no row with a column left out); those written
before the rounding (no ``digits``), at their 12 digits. Only hashes are stored (never values),
keyed by a random salt kept beside them, so they cannot be matched against another model's
hashes. Two patients with identical values are one row to this record: a test row identical
to a training row is not a fresh patient either.

>>> import pandas as pd
>>> a = pd.DataFrame({"age": [50, 61], "sex": ["M", "F"], "y": [0, 1]})
>>> b = pd.DataFrame({"y": [1, 0], "note": ["x", "y"], "sex": ["f ", "m"], "age": [61.0, 50.0]})
>>> hasher = RowHasher(numeric=["age"], categorical=["sex", "y"], salt="00" * 16)
>>> hasher.hashes(a).tolist() == hasher.hashes(b)[::-1].tolist()
True
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.missing_codes import Codes, as_codes
from medadapt.data.schema import TableSchema, is_missing, level
from medadapt.data.tables import NA_VALUES

_MISSING = "\x00"
_SEPARATOR = "\x1f"
DIGITS = 6  # float32 keeps about 7: a value stored as float32 hashes like the original
_OLD_DIGITS = 12  # records written before ``digits`` was recorded
NORMALISATION = 2  # how values are normalised before hashing (the module's docstring)
_AS_WRITTEN = 1  # records written before ``normalisation``: categories and label as written
_TRUTH = {"true": 1.0, "false": 0.0}
_MISSING_WORDS = frozenset(word.casefold() for word in NA_VALUES)


def new_salt() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class LabelRule:
    """The label as the model encodes it: its ``task``, the threshold that makes a number a
    binary class (``positive_above``) or a binary label's two ``classes`` (negative first)."""

    column: str
    task: str
    positive_above: float | None = None
    classes: tuple[str, ...] = ()

    @classmethod
    def for_schema(cls, schema: TableSchema) -> LabelRule:
        return cls(schema.label, schema.task, schema.positive_above, tuple(schema.classes))

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "task": self.task, "positive_above": self.positive_above,
                "classes": list(self.classes)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelRule:
        return cls(data["column"], data["task"], data.get("positive_above"),
                   tuple(data.get("classes", ())))  # fmt: skip

    def normaliser(self, digits: int) -> Callable[[Any], str]:
        """One label value -> its text as the model encodes it."""
        if self.task == "regression":
            return partial(_number_text, digits=digits)
        if self.positive_above is not None:
            return partial(_above_text, threshold=self.positive_above)
        if self.task != "binary":
            return partial(_category_text, digits=digits)
        index = {_category_text(c, digits): str(i) for i, c in enumerate(self.classes)}

        def binary_class(value: Any) -> str:  # 0/1, or as written when not one of the classes
            text = _category_text(value, digits)
            return index.get(text, text)

        return binary_class


@dataclass(frozen=True)
class RowHasher:
    """Hashes rows over ``numeric`` and ``categorical`` columns and the ``label`` (by name)
    with ``salt``."""

    numeric: Sequence[str]
    categorical: Sequence[str]
    salt: str
    digits: int = DIGITS  # significant digits numbers are compared at
    label: LabelRule | None = None  # None: a label is hashed among the columns above
    missing_codes: Mapping[str, Codes] = field(default_factory=dict)  # read as missing
    normalisation: int = NORMALISATION

    @classmethod
    def for_schema(cls, schema: TableSchema, salt: str | None = None) -> RowHasher:
        """Over the schema's features and its label, as its model reads them."""
        return cls(
            numeric=[f.name for f in schema.numeric_features],
            categorical=[f.name for f in schema.categorical_features],
            salt=salt or new_salt(),
            label=LabelRule.for_schema(schema),
            missing_codes=dict(schema.missing_codes),
        )

    @property
    def features(self) -> list[str]:
        return sorted([*self.numeric, *self.categorical])

    @property
    def columns(self) -> list[str]:
        return sorted([*self.features, *([self.label.column] if self.label else [])])

    def absent(self, frame: pd.DataFrame) -> list[str]:
        """The columns the hashes cover that ``frame`` lacks."""
        return [c for c in self.columns if c not in frame]

    def can_hash(self, frame: pd.DataFrame) -> bool:
        """Whether ``frame`` has every column the hashes cover."""
        return not self.absent(frame)

    def hashes(self, frame: pd.DataFrame, *, without: str | None = None) -> np.ndarray:
        """One 16-hex-digit hash per row of ``frame``, over every column but ``without``.

        Shape: (N,) of ``str``.
        """
        if self.normalisation == _AS_WRITTEN:
            if without is not None:
                raise ValueError("a record written before normalisation 2 leaves no column out")
            return self._hashes_as_written(frame)
        return _hex(_row_digests(self._cells(frame, without), self._key))

    def record(self, frame: pd.DataFrame, ids: pd.Series | None = None) -> dict[str, Any]:
        """What is stored: the salt, how values are normalised, the columns covered, the sorted
        distinct hashes, per feature those of the rows without it (packed) and, given the
        rows' patient ``ids``, :meth:`one_changed`'s (packed; never an id alone)."""
        written = {"salt": self.salt, "numeric": list(self.numeric),
                   "categorical": list(self.categorical), "digits": self.digits}  # fmt: skip
        if self.normalisation == _AS_WRITTEN:
            return {**written, "hashes": sorted(set(self.hashes(frame).tolist()))}
        cells = self._cells(frame)  # (N, C), one column per name of self.columns
        without = {  # each feature's, and the label's (a file to predict has none)
            column: _pack(_row_digests(np.delete(cells, self.columns.index(column), 1), self._key))
            for column in self.columns
        }
        record = {
            **written,
            "normalisation": self.normalisation,
            "label": self.label.to_dict() if self.label else None,
            "missing_codes": dict(self.missing_codes),
            "hashes": sorted(set(_hex(_row_digests(cells, self._key)).tolist())),
            "without": without,
        }
        if ids is not None:
            record[ONE_CHANGED] = _pack(_nonzero(self.one_changed(ids, cells)))
        return record

    def one_changed(self, ids: pd.Series, cells: np.ndarray) -> np.ndarray:
        """Per row and column (each feature, and the label: a training patient's outcome
        corrected in a later export, a trial's 3 patients scored as held out): a keyed hash of
        the row without that column, joined with the row's patient id (``ids``; a row without
        one gets 0, which matches nothing). ``cells``: the rows' :meth:`_cells`. Shape: (N, C)
        ``uint64`` (records written before the label was left out hold (N, F): their rows
        with another label match nothing, as before). Vectorised: each cell's keyed
        digest is mixed with its column, the row is their sum (mod 2**64), and leaving one out
        subtracts it; the id is mixed in last, so no hash of an id alone is ever made."""
        with np.errstate(over="ignore"):
            columns = np.arange(1, cells.shape[1] + 1, dtype="<u8") * _GOLDEN
            terms = _mixed(cells ^ columns)
            total = terms.sum(axis=1, dtype="<u8")
            who = _mixed(_id_cells(ids, self._key))
            left = list(range(len(self.columns)))  # every feature's, and the label's
            rest = total[:, None] - terms[:, left]  # (N, F)
            out = _mixed(rest ^ who[:, None] ^ (columns[left] * _GOLDEN))
        out[ids.isna().to_numpy()] = 0  # no id: nothing to join with
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RowHasher:
        label = record.get("label")
        return cls(
            numeric=record["numeric"],
            categorical=record["categorical"],
            salt=record["salt"],
            digits=int(record.get("digits", _OLD_DIGITS)),
            label=LabelRule.from_dict(label) if label else None,
            missing_codes=record.get("missing_codes", {}),
            normalisation=int(record.get("normalisation", _AS_WRITTEN)),
        )

    @property
    def _key(self) -> bytes:
        return bytes.fromhex(self.salt)

    def _cells(self, frame: pd.DataFrame, without: str | None = None) -> np.ndarray:
        """A keyed digest of each normalised value. Shape: (N, C) ``uint64``, one column per
        name of ``self.columns`` but ``without``; a column ``frame`` lacks is missing in every
        row, as ``--allow-absent-columns`` reads it."""
        columns = [c for c in self.columns if c != without]
        cells = np.zeros((len(frame), len(columns)), dtype="<u8")
        absent = pd.Series(np.nan, index=frame.index)
        for j, column in enumerate(columns):
            codes, values = pd.factorize(frame.get(column, absent), use_na_sentinel=True)
            normal = self._normaliser(column)
            texts = [f"{column}={normal(v)}" for v in values] + [f"{column}={_MISSING}"]
            cells[:, j] = _text_digests(texts, self._key)[codes]  # code -1 (missing): the last
        return cells

    def normaliser(self, column: str) -> Callable[[Any], str]:
        """How a value of ``column`` is read before hashing (a category recased, or booleans
        written 1/0, read alike): what recognises a training row after a re-export."""
        return self._normaliser(column)

    def _normaliser(self, column: str) -> Callable[[Any], str]:
        if self.label is not None and column == self.label.column:
            return self.label.normaliser(self.digits)
        text = _number_text if column in self.numeric else _category_text
        return partial(text, digits=self.digits, code=self.missing_codes.get(column))

    def _hashes_as_written(self, frame: pd.DataFrame) -> np.ndarray:
        """Normalisation 1: numbers as numbers, categories and the label as written."""
        texts = {c: _texts_as_written(frame[c], c in self.numeric, self.digits)
                 for c in self.columns}  # fmt: skip
        out = []
        for i in range(len(frame)):
            row = _SEPARATOR.join(f"{c}={texts[c][i]}" for c in self.columns)
            out.append(hashlib.blake2b(row.encode(), key=self._key, digest_size=8).hexdigest())
        return np.array(out, dtype=object).astype(str)


def trained_mask(
    frame: pd.DataFrame, record: dict[str, Any] | None, id_column: str | None = None
) -> np.ndarray:
    """Per row of ``frame``: whether its content is one of the recorded training rows (over
    the columns ``frame`` has, when it lacks one feature the record left out), or, where the
    record and ``frame`` carry the patient id (``id_column``), a training patient's row with
    one value changed (a re-export in other units, rounded, or one cell emptied: the id,
    every other feature and the label equal; or the label alone: an outcome corrected)."""
    none = np.zeros(len(frame), dtype=bool)
    if not record or unrecognisable(frame, record):
        return none
    hasher = RowHasher.from_record(record)
    absent = hasher.absent(frame)
    if absent:
        (column,) = absent
        without = _hex(_unpack(record["without"][column]))
        return np.isin(hasher.hashes(frame, without=column), without)
    if hasher.normalisation == _AS_WRITTEN:
        return np.isin(hasher.hashes(frame), record["hashes"])
    cells = hasher._cells(frame)  # once: the slow part
    mask = np.isin(_hex(_row_digests(cells, hasher._key)), record["hashes"])
    if ONE_CHANGED in record and id_column in frame and not mask.all():
        rest = np.flatnonzero(~mask)
        digests = hasher.one_changed(frame[id_column].iloc[rest], cells[rest])  # (n, F)
        mask[rest] = np.isin(digests, _unpack(record[ONE_CHANGED])).any(axis=1)
    return mask


@dataclass(frozen=True)
class LabelFreeIndex:
    """The training rows of a record without their label, ready to match many requests:
    the hasher and the sorted ``uint64`` digests of the rows with the label left out (a
    served record carries no label). Built once per adapter (:meth:`of`); each
    :meth:`matches` hashes the records given and looks them up (no hex, no decoding)."""

    hasher: RowHasher
    digests: np.ndarray  # (R,) uint64, sorted

    @classmethod
    def of(cls, record: dict[str, Any] | None) -> LabelFreeIndex | None:
        """None where ``record`` holds no label-free hashes (written before normalisation 2,
        or without a label)."""
        if not isinstance(record, dict) or not isinstance(record.get("without"), dict):
            return None
        hasher = RowHasher.from_record(record)
        packed = record["without"].get(hasher.label.column) if hasher.label else None
        if hasher.normalisation == _AS_WRITTEN or not isinstance(packed, str):
            return None
        return cls(hasher, np.sort(_unpack(packed)))

    def matches(self, frame: pd.DataFrame) -> np.ndarray:
        """Per row of ``frame``: whether its features (a feature it lacks read as missing, as
        the model reads it) are those of a training row."""
        if not len(self.digests):
            return np.zeros(len(frame), dtype=bool)
        label = self.hasher.label.column  # type: ignore[union-attr]  # (of() checked it)
        digests = _row_digests(self.hasher._cells(frame, without=label), self.hasher._key)
        at = np.minimum(np.searchsorted(self.digests, digests), len(self.digests) - 1)
        return self.digests[at] == digests


ONE_CHANGED = "one_changed_with_id"
"""The record's key for the hashes of each training row with one feature left out, joined
with its patient id (:meth:`RowHasher.one_changed`)."""


def unrecognisable(frame: pd.DataFrame, record: dict[str, Any] | None) -> list[str]:
    """The columns ``frame`` lacks that keep the rows of ``record`` from being recognised in
    it: [] when it has them all, or lacks one feature whose rows the record holds without it."""
    if not record:
        return []
    absent = RowHasher.from_record(record).absent(frame)
    if len(absent) == 1 and absent[0] in record.get("without", {}):
        return []
    return absent


def _as_number(value: Any) -> float | None:
    """``value`` as a finite number (a boolean as 1 or 0, text too); None for anything else."""
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    else:
        text = " ".join(str(value).split()).casefold()
        if text in _TRUTH:
            return _TRUTH[text]
        try:
            number = float(text)
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def _number_text(value: Any, digits: int, code: Codes | None = None) -> str:
    """A numeric column's value: the number to ``digits`` significant digits; missing when
    not a number or the column's "not measured" ``code``."""
    number = _as_number(value)
    if number is None or number in as_codes(code):
        return _MISSING
    return f"{number + 0.0:.{digits}g}"  # + 0.0: -0.0 is 0


def _category_text(value: Any, digits: int, code: Codes | None = None) -> str:
    """A category: a number as a number (an integer exactly), text stripped and case-folded;
    missing when missing, a missing word (``?``, ``.``) or the column's ``code``."""
    if is_missing(value):
        return _MISSING
    number = _as_number(value)
    if number is not None:
        if number in as_codes(code):
            return _MISSING
        return str(int(number)) if number.is_integer() else f"{number:.{digits}g}"
    text = " ".join(str(value).split()).casefold()
    return _MISSING if text in _MISSING_WORDS else text


def _above_text(value: Any, threshold: float) -> str:
    """A binary label made from a number: its class, 1 above ``threshold``, else 0."""
    number = _as_number(value)
    if number is None:
        return _MISSING
    return "1" if number > threshold else "0"


def _texts_as_written(series: pd.Series, numeric: bool, digits: int) -> list[str]:
    if numeric:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
        return [_MISSING if not np.isfinite(v) else f"{v + 0.0:.{digits}g}" for v in values]
    return [_MISSING if is_missing(v) else level(v) for v in series.tolist()]


def _text_digests(texts: Sequence[str], key: bytes) -> np.ndarray:
    """A keyed 8-byte digest of each text. Shape: (T,) ``uint64``."""
    joined = b"".join(
        hashlib.blake2b(t.encode(), key=key, digest_size=8, person=b"cell").digest() for t in texts
    )
    return np.frombuffer(joined, dtype="<u8")


def _row_digests(cells: np.ndarray, key: bytes) -> np.ndarray:
    """A keyed 8-byte digest of each row of ``cells`` (N, C). Shape: (N,) ``uint64``."""
    rows = np.ascontiguousarray(cells, dtype="<u8")
    width = rows.shape[1] * 8
    data = memoryview(rows.tobytes())
    joined = b"".join(
        hashlib.blake2b(data[i * width : (i + 1) * width], key=key, digest_size=8,
                        person=b"row").digest()
        for i in range(len(rows))
    )  # fmt: skip
    return np.frombuffer(joined, dtype="<u8")


def _hex(digests: np.ndarray) -> np.ndarray:
    """Digests as 16 hex digits each. Shape: (N,) -> (N,) of ``str``."""
    return np.array([f"{d:016x}" for d in digests.tolist()], dtype="<U16")


def _pack(digests: np.ndarray) -> str:
    """The distinct ``digests``, sorted, as one base64 text (8 bytes each: compact JSON)."""
    return base64.b64encode(np.unique(digests).astype("<u8").tobytes()).decode("ascii")


def _unpack(packed: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(packed), dtype="<u8")


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mixed(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on ``uint64`` values (wrapping arithmetic): every input bit
    moves every output bit, so sums of mixed digests do not cancel by accident."""
    with np.errstate(over="ignore"):
        z = values.astype("<u8") + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _id_cells(ids: pd.Series, key: bytes) -> np.ndarray:
    """A keyed digest of each patient id: whole numbers exactly however written (``000123``,
    ``123`` and ``123.0`` alike, and 18-digit ids never rounded through a float), other ids as
    text, case and padding aside. Shape: (N,) ``uint64``."""
    codes, values = pd.factorize(ids, use_na_sentinel=True)
    texts = [f"id={_id_text(v)}" for v in values] + [f"id={_MISSING}"]
    return _text_digests(texts, key)[codes]


def _id_text(value: Any) -> str:
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return str(int(value))
    text = " ".join(str(value).split()).casefold()
    if re.fullmatch(r"[+-]?\d+", text):
        return str(int(text))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return text


def _nonzero(digests: np.ndarray) -> np.ndarray:
    """``digests`` flattened without the 0 of rows that had no id."""
    flat = digests.ravel()
    return flat[flat != 0]

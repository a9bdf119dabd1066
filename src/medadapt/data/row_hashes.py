"""Which rows trained a model, recognised by content rather than by file bytes.

A training file re-saved by a spreadsheet (CRLF line endings, columns reordered, a column
added) has another checksum, so row positions recorded against the old file no longer apply.
Each training row is therefore also recorded as a keyed hash of its normalised values: the
model's feature columns and the label, by name, so column order and extra columns do not
matter; numbers as numbers, to 6 significant digits (``1``, ``1.0`` and ``1.00`` agree, and so
do ``2.3`` and its float32 copy ``2.29999995`` a Parquet file or a spreadsheet may store);
categories as text, missing as missing. Records written before the rounding (no ``digits``)
are read with their 12 digits. Only hashes are stored (never values), keyed by a random salt
kept beside them, so
they cannot be matched against another model's hashes. Two patients with identical values are
one row to this record: a test row identical to a training row is not a fresh patient either.

>>> import pandas as pd
>>> a = pd.DataFrame({"age": [50, 61], "sex": ["M", "F"], "y": [0, 1]})
>>> b = pd.DataFrame({"y": [1, 0], "note": ["x", "y"], "sex": ["F", "M"], "age": [61.0, 50.0]})
>>> hasher = RowHasher(numeric=["age"], categorical=["sex", "y"], salt="00" * 16)
>>> hasher.hashes(a).tolist() == hasher.hashes(b)[::-1].tolist()
True
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.schema import TableSchema, is_missing, level

_MISSING = "\x00"
_SEPARATOR = "\x1f"
DIGITS = 6  # float32 keeps about 7: a value stored as float32 hashes like the original
_OLD_DIGITS = 12  # records written before ``digits`` was recorded


def new_salt() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class RowHasher:
    """Hashes rows over ``numeric`` and ``categorical`` columns (by name) with ``salt``."""

    numeric: Sequence[str]
    categorical: Sequence[str]
    salt: str
    digits: int = DIGITS  # significant digits numbers are compared at

    @classmethod
    def for_schema(cls, schema: TableSchema, salt: str | None = None) -> RowHasher:
        """Over the schema's features and its label (the label's raw values, as written)."""
        numeric = [f.name for f in schema.numeric_features]
        categorical = [f.name for f in schema.categorical_features]
        (numeric if schema.task == "regression" else categorical).append(schema.label)
        return cls(numeric=numeric, categorical=categorical, salt=salt or new_salt())

    @property
    def columns(self) -> list[str]:
        return sorted([*self.numeric, *self.categorical])

    def can_hash(self, frame: pd.DataFrame) -> bool:
        """Whether ``frame`` has every column the hashes cover (else no row can match)."""
        return all(c in frame for c in self.columns)

    def hashes(self, frame: pd.DataFrame) -> np.ndarray:
        """One 16-hex-digit hash per row of ``frame``. Shape: (N,) of ``str``."""
        texts = {c: self._texts(frame[c], c in self.numeric, self.digits) for c in self.columns}
        key = bytes.fromhex(self.salt)
        out = []
        for i in range(len(frame)):
            row = _SEPARATOR.join(f"{c}={texts[c][i]}" for c in self.columns)
            out.append(hashlib.blake2b(row.encode(), key=key, digest_size=8).hexdigest())
        return np.array(out, dtype=object).astype(str)

    @staticmethod
    def _texts(series: pd.Series, numeric: bool, digits: int) -> list[str]:
        if numeric:
            values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
            return [_MISSING if not np.isfinite(v) else f"{v + 0.0:.{digits}g}" for v in values]
        return [_MISSING if is_missing(v) else level(v) for v in series.tolist()]

    def record(self, frame: pd.DataFrame) -> dict[str, Any]:
        """What is stored: the salt, the columns covered and the sorted distinct hashes."""
        return {
            "salt": self.salt,
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "digits": self.digits,
            "hashes": sorted(set(self.hashes(frame).tolist())),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RowHasher:
        return cls(numeric=record["numeric"], categorical=record["categorical"],
                   salt=record["salt"], digits=int(record.get("digits", _OLD_DIGITS)))  # fmt: skip


def trained_mask(frame: pd.DataFrame, record: dict[str, Any] | None) -> np.ndarray:
    """Per row of ``frame``: whether its content is one of the recorded training rows."""
    if not record:
        return np.zeros(len(frame), dtype=bool)
    hasher = RowHasher.from_record(record)
    if not hasher.can_hash(frame):
        return np.zeros(len(frame), dtype=bool)
    return np.isin(hasher.hashes(frame), record["hashes"])

"""Feature columns: which kind each column is (numeric, categorical or dropped), and the
canonical text of category values.

A numeric column keeps its training mean/std; a categorical column keeps the levels seen in at
least ``MIN_LEVEL_ROWS`` training rows (encoded from ``FIRST_LEVEL``; index ``MISSING_INDEX``
is a missing value, ``UNSEEN_INDEX`` a level not kept). A column is dropped, with the reason,
when it is empty, constant, a record identifier or free text (see
:mod:`medadapt.data.schema`, which stores the result).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.identifiers import identifier_reason
from medadapt.data.option_words import OptionWords
from medadapt.errors import DataError

MISSING_INDEX, UNSEEN_INDEX, FIRST_LEVEL = 0, 1, 2
MIN_LEVEL_ROWS = 5  # category levels seen in fewer training rows are not stored
IDENTIFIER_SHARE = 0.9  # text columns with this share of distinct values are identifiers
IDENTIFIER_REASON = "looks like a record identifier"
TEXT_IN_NUMBERS_SHARE = 0.1  # at most this share of text: a numeric column with typos


def level(value: Any) -> str:
    """Canonical text of a category or class value (1 and 1.0 and '1' agree)."""
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    if text.upper() in ("TRUE", "FALSE"):
        return text.capitalize()
    return text


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


@dataclass
class FeatureSpec:
    """One feature column: numeric (with training mean/std) or categorical (with levels)."""

    name: str
    kind: str
    mean: float = 0.0
    std: float = 1.0
    categories: list[str] = field(default_factory=list)
    # numeric: how far (in whole SDs, rounded up) the training value furthest from the mean
    # lies: values beyond it, and over 6 SDs out, are extrapolation (data/extrapolation.py).
    # A bound, not a value: the extreme patient's value is known only to within one SD.
    reach: float | None = None

    @property
    def cardinality(self) -> int:
        """Embedding rows: missing + unseen + the training levels."""
        return FIRST_LEVEL + len(self.categories)


def natural_key(text: str) -> tuple:
    """Sort key: numbers by value first, then text (so "2" sorts before "10")."""
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def infer_feature(
    series: pd.Series,
    name: str,
    force_categorical: bool,
    force_numeric: bool,
    words: OptionWords,
) -> tuple[FeatureSpec | None, str]:
    """The feature ``series`` gives, or None and why the column is dropped (the options that
    keep it, in ``words``)."""
    present = series.dropna()
    present = present[[not is_missing(v) for v in present]]
    if present.empty:
        return None, "all values missing"
    if force_numeric or (not force_categorical and pd.api.types.is_numeric_dtype(series.dtype)):
        values = pd.to_numeric(present, errors="coerce")  # --numeric: text -> missing
        values = values[np.isfinite(values)]  # an infinity is no measurement (read as missing)
        if values.empty:
            return None, "declared numeric but holds no numbers"
        if values.nunique() <= 1:
            return None, f"constant (every value is {level(values.iloc[0])})"
        why = None if force_numeric else identifier_reason(name, values.to_numpy(dtype=float))
        if why is not None:
            return None, (  # names quoted to be pasted into a shell ("Unnamed: 0")
                f"{IDENTIFIER_REASON} ({why}); pass {words.set_to('id_column', name)} if it "
                f"identifies patients, or {words.set_to('numeric', name)} to use it as a feature"
            )
        spec = FeatureSpec(name=name, kind="numeric")
        spec.mean = float(values.mean())
        spec.std = float(values.std(ddof=0)) or 1.0
        spec.reach = float(math.ceil(float(np.abs(values - spec.mean).max()) / spec.std))
        return spec, ""
    counts = Counter(level(v) for v in present)
    if len(counts) <= 1:
        return None, f"constant (every value is {next(iter(counts))!r})"
    if not force_categorical:
        _refuse_numbers_with_text(present, name, words)
        many = len(counts) > 50 and len(counts) > 0.5 * len(present)
        nearly_unique = len(present) >= 20 and len(counts) >= IDENTIFIER_SHARE * len(present)
        if many or nearly_unique:
            return None, (
                f"{IDENTIFIER_REASON} or free text ({len(counts)} distinct values); pass "
                f"{words.set_to('categorical', name)} to use it as a feature"
            )
    levels = sorted((v for v, n in counts.items() if n >= MIN_LEVEL_ROWS), key=natural_key)
    if not levels:
        return None, (
            f"every value occurs in fewer than {MIN_LEVEL_ROWS} rows (too rare to learn, and "
            "it could identify patients)"
        )
    return FeatureSpec(name=name, kind="categorical", categories=levels), ""


def count_text_values(series: pd.Series) -> int:
    """Non-missing values that are not numbers (read as missing under ``--numeric``)."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        return 0
    present = series[[not is_missing(v) for v in series]]
    return int(pd.to_numeric(present, errors="coerce").isna().sum())


def _refuse_numbers_with_text(present: pd.Series, name: str, words: OptionWords) -> None:
    """A column of numbers with a few text entries (``n.d.``, ``>180``) needs a decision."""
    if len(present) < 10:
        return
    numbers = pd.to_numeric(present, errors="coerce")
    n_text = int(numbers.isna().sum())
    if 0 < n_text <= TEXT_IN_NUMBERS_SHARE * len(present):
        examples = ", ".join(repr(v) for v in sorted({str(v) for v in present[numbers.isna()]})[:3])
        raise DataError(
            f"column {name!r} holds numbers except {n_text} text value(s) such as {examples}; "
            f"fix them in the file, or pass {words.set_to('numeric', name)} to read them as "
            f"missing, or {words.set_to('categorical', name)} to keep them as categories"
        )

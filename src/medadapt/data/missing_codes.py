"""Numbers that code "not measured".

Clinical exports often write a measurement that was not taken as 0: the UCI heart data's
serum cholesterol is 0 for every Swiss patient and for a quarter of VA Long Beach's. Read as a
number, such a 0 becomes a patient "with no cholesterol", and the model learns the centre
from it. A code declared with ``--missing-code chol=0`` is read as missing wherever the table
is read (training, evaluation, prediction, serving); an undeclared 0 that looks like such a
code (a measurement whose other values are all far from 0) is found, so that the user is told.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from medadapt.errors import ConfigError

FLAG = "--missing-code"


def served_number(value: Any) -> float | None:
    """A served value as the encoder reads it: a number, or text that is one (``"5000"``);
    None for None, a boolean or other text."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


Codes = float | Sequence[float]
"""A column's "not measured" code: one number, or several (``chol=0,chol=-9``)."""


def as_codes(code: Codes | None) -> tuple[float, ...]:
    """A column's code(s) as a tuple (none: ``()``): one number as saved by a model with one
    code, a list as saved with several."""
    if code is None:
        return ()
    if isinstance(code, int | float):
        return (float(code),)
    return tuple(float(c) for c in code)


def is_missing_value(value: Any, code: Codes | None) -> bool:
    """Whether the model reads a served value as missing: absent (None), or one of the
    feature's missing ``code`` numbers (``0``, ``0.0`` and ``"0"`` alike). One rule for the
    encoder, the far-outside check and the answer's ``missing_features``."""
    if value is None:
        return True
    number = served_number(value)
    return number is not None and number in as_codes(code)


MIN_DISTINCT = 10
"""Distinct positive values a column needs to read as a measurement (not a count or a flag,
where 0 is a value: 0 vessels, no fasting glucose)."""
GAP_SHARE = 0.25
"""A zero reads as a code when every other value is at least this share of their median
(cholesterol 85-603 mg/dl, median 240: nothing between 0 and 85)."""


def parse_missing_codes(text: str | None, flag: str = FLAG) -> dict[str, Codes]:
    """``"chol=0,trestbps=0"`` -> ``{"chol": 0.0, "trestbps": 0.0}``; a column named more than
    once has several codes (``"chol=0,chol=-9"`` -> ``{"chol": [0.0, -9.0]}``). Refused by
    ``flag`` (the command line's option, or the Python argument that gave ``text``) when a
    part is not ``COLUMN=NUMBER``."""
    if text is None:
        return {}
    codes: dict[str, list[float]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        column, _, value = part.rpartition("=")
        column = column.strip()
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not column or not math.isfinite(number):
            raise ConfigError(
                f"{flag} takes COLUMN=NUMBER pairs separated by commas (e.g. chol=0,trestbps=0); "
                f"got {part!r}"
            )
        if number not in codes.setdefault(column, []):
            codes[column].append(number)
    if not codes:
        raise ConfigError(f"{flag} is empty; give COLUMN=NUMBER (e.g. chol=0), or leave it out")
    return {column: found[0] if len(found) == 1 else found for column, found in codes.items()}


def read_as_missing(frame: pd.DataFrame, codes: Mapping[str, Codes]) -> pd.DataFrame:
    """``frame`` with each declared code read as missing in its column (a copy when any
    column is changed; ``frame`` itself otherwise)."""
    present = {c: v for c, v in codes.items() if c in frame}
    if not present:
        return frame
    out = frame.copy()
    for column, code in present.items():
        values = pd.to_numeric(out[column], errors="coerce")
        out[column] = out[column].where(~values.isin(as_codes(code)))
    return out


def _finite_values(frame: pd.DataFrame, columns: Iterable[str]) -> Iterator[tuple[str, np.ndarray]]:
    """``(column, its finite numeric values)`` for each of ``columns`` in ``frame`` (text and
    missing values left out)."""
    for column in columns:
        if column in frame:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            yield column, values[np.isfinite(values)]


def zero_coded(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, int]:
    """Columns among ``columns`` whose zeros look like a "not measured" code: how many rows
    hold 0 in each. Counts only: no value is returned."""
    found = {}
    for column, values in _finite_values(frame, columns):
        zeros = int((values == 0).sum())
        positive = values[values > 0]
        if not zeros or (values < 0).any() or len(np.unique(positive)) < MIN_DISTINCT:
            continue
        if positive.min() >= GAP_SHARE * float(np.median(positive)):
            found[column] = zeros
    return found


SENTINELS = (9.0, 99.0, 999.0, 9999.0, 99999.0, -1.0, -9.0, -99.0, -999.0, -9999.0)
"""Numbers exports write for "not measured" besides 0 (all nines, or negative)."""
SENTINEL_GAP = 1.2
"""A nines code reads as one when it lies at least this many times above every other value."""


def sentinel_coded(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, tuple[float, int]]:
    """Columns among ``columns`` holding a "not measured" code such as 999 or -1 (in two or
    more rows, and beyond every other value: nines far above a measurement's other values, a
    negative code below a measurement that is otherwise never negative): ``{column: (code,
    rows)}``. The code is one of :data:`SENTINELS`, never a patient's own value."""
    found = {}
    for column, values in _finite_values(frame, columns):
        for code in SENTINELS:
            rows = int((values == code).sum())
            others = values[values != code]
            if rows < 2 or len(np.unique(others)) < MIN_DISTINCT:
                continue
            beyond = (others.min() >= 0 if code < 0
                      else others.max() > 0 and code >= SENTINEL_GAP * others.max())  # fmt: skip
            if beyond:
                found[column] = (code, rows)
                break
    return found


def sentinel_code_warning(column: str, code: float, rows: int, total: int, *,
                          beside: bool = False) -> str:  # fmt: skip
    """The warning for an undeclared code such as 999 in ``rows`` of ``total`` rows;
    ``beside``: the column has a declared code already, which this one joins (a trial's
    ``chol=0`` kept its 999s from being said)."""
    where = "below" if code < 0 else "far above"
    return (
        f"column {column!r} is {code:g} in {rows} of {total} training rows, {where} all its "
        f"other values: if {code:g} means 'not measured' there, {_declare(column, code, beside)} "
        f"(it is read as a measurement of {code:g} now)"
    )


def _declare(column: str, code: float, beside: bool) -> str:
    """How a code is declared: ``pass --missing-code chol=999``, or, for a column with a code
    declared already, ``add chol=999 to --missing-code, beside its code``."""
    pair = shlex.quote(f"{column}={code:g}")
    return f"add {pair} to {FLAG}, beside its code" if beside else f"pass {FLAG} {pair}"


FAR_BELOW_SDS = 3.0
"""A zero this many training SDs below the training mean reads as a code at a later site."""


def zeros_far_below(frame: pd.DataFrame, features: Iterable[object]) -> dict[str, int]:
    """Numeric ``features`` (each with ``name``, ``mean``, ``std`` from a model's training
    rows) whose value 0 in ``frame`` lies over ``FAR_BELOW_SDS`` SDs below what the model
    trained on (Switzerland's cholesterol: 0 for every patient, where the model learned
    values around 240): how many rows hold 0. Counts only."""
    found = {}
    for spec in features:
        name, mean, std = spec.name, spec.mean, spec.std  # type: ignore[attr-defined]
        if name not in frame or mean - FAR_BELOW_SDS * std <= 0:
            continue
        zeros = int((pd.to_numeric(frame[name], errors="coerce") == 0).sum())
        if zeros:
            found[name] = zeros
    return found


def codes_far_outside(
    frame: pd.DataFrame, features: Iterable[object]
) -> dict[str, tuple[float, int]]:
    """Numeric ``features`` (each with ``name``, ``mean``, ``std``, ``low``, ``high`` from a
    model's training rows) holding, in two or more rows of ``frame``, a "not measured" code
    such as -1 or 999 (:data:`SENTINELS`) far outside what the model trained on: over
    ``FAR_BELOW_SDS`` SDs from the training mean and beyond the training range (a negative code
    where training values were never negative, nines well above the highest). A trial's small
    hospital wrote -1 and 999 in its own rows only: the model read them as measurements, and
    an adapter learnt to absorb them. ``{column: (code, rows)}``; counts only. Zeros:
    :func:`zeros_far_below`."""
    found = {}
    for spec in features:
        name, mean, std = spec.name, spec.mean, spec.std  # type: ignore[attr-defined]
        if name not in frame:
            continue
        low, high = getattr(spec, "low", None), getattr(spec, "high", None)
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        for code in SENTINELS:
            rows = int((values == code).sum())
            if rows < 2:
                continue
            if code < 0:
                far = code < mean - FAR_BELOW_SDS * std and (low is None or low >= 0)
            else:
                far = code > mean + FAR_BELOW_SDS * std and (
                    high is None or code >= SENTINEL_GAP * high
                )
            if far:
                found[name] = (code, rows)
                break
    return found


def far_code_warning(column: str, code: float, rows: int, total: int, python: bool = False) -> str:
    """The warning for a code such as -1 or 999 at a later site, beyond every value the model
    trained on (:func:`codes_far_outside`)."""
    where = "below" if code < 0 else "far above"
    return (
        f"column {column!r} is {code:g} in {rows} of {total} rows here, {where} every value the "
        f"base model trained on: if {code:g} means 'not measured' here, the model reads it as a "
        f"measurement; {_not_measured_fix(column, code, python)}"
    )


def _not_measured_fix(column: str, code: float, python: bool) -> str:
    """How to have a later site's code read as missing: empty cells (read as not measured
    by any model), or a base retrained with the code declared."""
    if python:
        return (f"set those values to NaN, or retrain the base with TableSchema.infer(..., "
                f"missing_codes={{{column!r}: {code:g}}})")  # fmt: skip
    return (f"retrain the base with {FLAG} {shlex.quote(f'{column}={code:g}')}, or leave those "
            "cells empty in --data (an empty cell is read as not measured)")  # fmt: skip


def zero_code_warning(column: str, zeros: int, rows: int, *, beside: bool = False) -> str:
    """The warning for an undeclared zero code found in ``zeros`` of ``rows`` rows
    (``beside``: the column has another code declared already)."""
    return (
        f"column {column!r} is 0 in {zeros} of {rows} training rows, far below all its other "
        f"values: if 0 means 'not measured' there, {_declare(column, 0, beside)} (it is read "
        "as a measurement of 0 now)"
    )


def far_below_warning(column: str, zeros: int, rows: int, python: bool = False) -> str:
    """The warning for zeros at a later site, far below what the model trained on
    (``python``: the fix in the Python API's words)."""
    return (
        f"column {column!r} is 0 in {zeros} of {rows} rows here, over {FAR_BELOW_SDS:g} SDs "
        "below the values the base model trained on: if 0 means 'not measured' here, the model "
        f"reads it as a measurement; {_not_measured_fix(column, 0, python)}"
    )

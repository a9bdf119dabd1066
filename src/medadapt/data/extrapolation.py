"""Values far outside what a model trained on: its prediction there is an extrapolation.

An age of 250 (months for years), a cholesterol of 5000 (a typo) or a weight in pounds where the
model learned kilograms is scored without a word by any model; its prediction reflects nothing
it learned. A numeric value over :data:`FAR_OUTSIDE_SDS` standard deviations from the mean of
the model's training rows (the summaries its schema keeps: no training value is stored) is
named, per row and per column, never echoed. Zeros far below the mean are left to the
missing-code check (:mod:`medadapt.data.missing_codes`), which says what to do about them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.missing_codes import FAR_BELOW_SDS

FAR_OUTSIDE_SDS = 6.0
"""A value this many training SDs from the training mean is one the model (almost) never saw
(1 in 500 million under a normal distribution; a skewed laboratory value reaches it rarely)."""

COLUMN = "outside_training"
"""The ``predict`` column naming, per row, the features far outside the training values."""


def _far(values: np.ndarray, spec: Any) -> np.ndarray:
    """Per value: over :data:`FAR_OUTSIDE_SDS` SDs from ``spec``'s training mean (missing: no;
    a zero the missing-code check already reports: no)."""
    with np.errstate(invalid="ignore"):
        far = np.abs(values - spec.mean) > FAR_OUTSIDE_SDS * spec.std
    if spec.mean - FAR_BELOW_SDS * spec.std > 0:  # zeros there are read as a "not measured" code
        far &= values != 0
    return far & np.isfinite(values)  # missing, and an infinity (read as missing): not far


def far_outside(frame: pd.DataFrame, features: Iterable[Any]) -> dict[str, np.ndarray]:
    """``{column: per row, far outside}`` for the numeric ``features`` (each with ``name``,
    ``mean``, ``std``) present in ``frame`` with at least one such row; ``frame`` already has
    its missing codes read as missing."""
    found = {}
    for spec in features:
        if spec.name not in frame:
            continue
        values = pd.to_numeric(frame[spec.name], errors="coerce").to_numpy(dtype=float)
        far = _far(values, spec)
        if far.any():
            found[spec.name] = far
    return found


def outside_per_row(found: Mapping[str, np.ndarray], n: int) -> list[str]:
    """Each row's far-outside columns, ``;``-separated (empty where none): the ``predict``
    column that lets a clinician find the predictions to distrust."""
    return [";".join(name for name, far in found.items() if far[i]) for i in range(n)]


def outside_in_record(
    features: Iterable[Any], record: Mapping[str, Any], codes: Mapping[str, float]
) -> list[str]:
    """The numeric features of one record (a served instance, values numbers or None) far
    outside the training values; a value that is the feature's missing code (``codes``,
    ``--missing-code``) is missing, not far."""
    names = []
    for spec in features:
        value = record.get(spec.name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if spec.name in codes and float(value) == codes[spec.name]:
                continue
            if _far(np.array([float(value)]), spec)[0]:
                names.append(spec.name)
    return names


SHOWN_COLUMNS = 4
"""The columns a warning names (those with the most such rows); the rest are counted."""


def far_outside_warning(found: Mapping[str, np.ndarray], specs: Mapping[str, Any]) -> str:
    """One warning for every column of ``found`` (:func:`far_outside`): how many rows, which
    columns with how many rows each (the most first) and, for a few, the training mean and
    SD they are far from (the schema's summaries, never a patient's value)."""
    n = len(next(iter(found.values())))
    rows = int(np.logical_or.reduce(list(found.values())).sum())
    ranked = sorted(found, key=lambda c: -int(found[c].sum()))
    shown = ranked[:SHOWN_COLUMNS]

    def column(name: str) -> str:
        spec = specs[name]
        count = int(found[name].sum())
        where = f", trained on {spec.mean:.3g} ± {spec.std:.3g}" if len(found) <= 2 else ""
        return f"{name!r}: {count} row{'s' if count != 1 else ''}{where}"

    more = len(ranked) - len(shown)
    listed = "; ".join(column(c) for c in shown) + (f"; {more} more columns" if more else "")
    verb = "has" if rows == 1 else "have"
    return (
        f"{rows} of {n} rows {verb} a value over {FAR_OUTSIDE_SDS:g} SDs from the mean of the "
        f"rows the model trained on ({listed}): their predictions extrapolate beyond what it "
        f"learned; check for a unit or typing error (predict names the columns per row in "
        f"{COLUMN!r})"
    )

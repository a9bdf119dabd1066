"""Values far outside what a model trained on: its prediction there is an extrapolation.

An age of 250 (months for years), a cholesterol of 5000 (a typo) or a weight in pounds where the
model learned kilograms is scored without a word by any model; its prediction reflects nothing
it learned. A numeric value is named (per row and per column, never echoed) when it lies over
:data:`FAR_OUTSIDE_SDS` standard deviations from the mean of the model's training rows *and*
further from it than any training row: a rare 0/1 indicator (2 % ones: a 1 lies 7 SDs out) or
the one real cholesterol of 603 is a value the model saw. The schema keeps only summaries: the
mean, the SD and that reach in whole SDs (:attr:`FeatureSpec.reach`), never a training value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.missing_codes import is_missing_value, served_number

FAR_OUTSIDE_SDS = 6.0
"""A value this many training SDs from the training mean is one the model (almost) never saw
(1 in 500 million under a normal distribution; a skewed laboratory value reaches it rarely)."""

COLUMN = "outside_training"
"""The ``predict`` column naming, per row, the features far outside the training values."""


def _far(values: np.ndarray, spec: Any) -> np.ndarray:
    """Per value: further from ``spec``'s training mean than :data:`FAR_OUTSIDE_SDS` SDs and
    than any training row (``spec.reach``: None for models saved before it was kept); missing
    and infinite values (read as missing) are not far."""
    limit = max(FAR_OUTSIDE_SDS, getattr(spec, "reach", None) or 0.0)
    with np.errstate(invalid="ignore"):
        far = np.abs(values - spec.mean) > limit * spec.std
    return far & np.isfinite(values)


def far_outside(
    frame: pd.DataFrame, features: Iterable[Any], zeros_said: Iterable[str] = ()
) -> dict[str, np.ndarray]:
    """``{column: per row, far outside}`` for the numeric ``features`` (each with ``name``,
    ``mean``, ``std``, ``reach``) present in ``frame`` with at least one such row; ``frame``
    already has its missing codes read as missing. ``zeros_said``: columns whose zeros another
    warning names already (a "not measured" code, :mod:`medadapt.data.missing_codes`)."""
    found, said = {}, set(zeros_said)
    for spec in features:
        if spec.name not in frame:
            continue
        values = pd.to_numeric(frame[spec.name], errors="coerce").to_numpy(dtype=float)
        far = _far(values, spec)
        if spec.name in said:
            far &= values != 0
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
        value = served_number(record.get(spec.name))
        if value is None or is_missing_value(value, codes.get(spec.name)):
            continue
        if _far(np.array([value]), spec)[0]:
            names.append(spec.name)
    return names


SHOWN_COLUMNS = 4
"""The columns a warning names (those with the most such rows); the rest are counted."""


def far_outside_warning(
    found: Mapping[str, np.ndarray], specs: Mapping[str, Any], python: bool = False
) -> str:
    """One warning for every column of ``found`` (:func:`far_outside`): how many rows, which
    columns with how many rows each (the most first) and, for a few, the training mean and
    SD they are far from (the schema's summaries, never a patient's value). ``python``: for
    the Python API, whose scores carry no per-row column to point to."""
    n = len(next(iter(found.values())))
    rows = int(np.logical_or.reduce(list(found.values())).sum())
    ranked = sorted(found, key=lambda c: -int(found[c].sum()))
    shown = ranked[:SHOWN_COLUMNS]

    def column(name: str) -> str:
        spec = specs[name]
        count = int(found[name].sum())
        mean = 0.0 if abs(spec.mean) < 1e-3 * spec.std else spec.mean  # standardised: 0
        where = f", trained on {mean:.3g} ± {spec.std:.3g}" if len(found) <= 2 else ""
        return f"{name!r}: {count} row{'s' if count != 1 else ''}{where}"

    more = len(ranked) - len(shown)
    listed = "; ".join(column(c) for c in shown) + (f"; {more} more columns" if more else "")
    verb = "has" if rows == 1 else "have"
    return (
        f"{rows} of {n} rows {verb} a value over {FAR_OUTSIDE_SDS:g} SDs from the mean of the "
        f"rows the model trained on, and further than any of them ({listed}): the model "
        "extrapolates there; check for a unit or typing error"
        + ("" if python else f" (predict names the columns per row in {COLUMN!r})")
    )

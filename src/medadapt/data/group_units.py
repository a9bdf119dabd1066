"""A measurement recorded in other units at one site of the training rows than at another.

A base trained on two hospitals whose creatinine comes in mg/dL at one and µmol/L at the other
(x88.4) learns the hospital from the column, and reads one of them wrongly: no check on the
values alone sees it, since each site's values are plausible in its own unit (``adapt``,
``evaluate`` and ``predict`` against a base trained elsewhere name such values as far outside
its training, :mod:`medadapt.data.extrapolation`; ``train-base`` trains on both). A numeric
column is named when, between two groups with at least :data:`MIN_VALUES` values each, all
positive (a measurement, not a centred score or a count from 0), the medians differ by
:data:`~medadapt.data.extrapolation.UNIT_SLIP_FACTOR` or more and the interquartile ranges do
not overlap: mmol/L for mg/dL (x18 to x39), g/L for g/dL (x10), µmol/L for mg/dL (x88). Only
the ratio of medians is said, never a value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.extrapolation import UNIT_SLIP_FACTOR

MIN_VALUES = 5
"""The fewest values of a column a group needs for its median and quartiles to be compared."""


def _quartiles(values: pd.Series) -> tuple[float, float, float] | None:
    """A group's 25th, 50th and 75th percentiles of a column, where it has enough values, all
    positive; None otherwise."""
    values = values.dropna()
    if len(values) < MIN_VALUES or not (values > 0).all():
        return None
    q25, q50, q75 = np.percentile(values.to_numpy(dtype=float), [25, 50, 75])
    return float(q25), float(q50), float(q75)


def unit_difference_warnings(frame: pd.DataFrame, schema: Any,
                             group_column: str | None) -> list[str]:  # fmt: skip
    """One warning per numeric feature of ``schema`` whose values in ``frame`` (missing codes
    already read as missing) look recorded in other units in one group of ``group_column``
    than in another (see the module docstring); empty without a group column.

    >>> from types import SimpleNamespace as S
    >>> frame = pd.DataFrame({"site": ["A"] * 6 + ["B"] * 6,
    ...                       "creat": [0.8, 0.9, 1.0, 1.1, 1.2, 1.4, 70, 80, 88, 97, 106, 124],
    ...                       "age": [50, 61, 47, 55, 63, 58, 52, 66, 49, 57, 60, 71]})
    >>> schema = S(numeric_features=[S(name="creat"), S(name="age")])
    >>> unit_difference_warnings(frame, schema, "site")  # doctest: +NORMALIZE_WHITESPACE
    ["column 'creat' is about 88 times higher at site = B than at site = A (medians; their
    interquartile ranges do not overlap): recorded in other units there? Convert it to one
    unit before training: a model would learn the site from it, and misread one of them"]
    """
    if group_column is None or group_column not in frame:
        return []
    groups = frame[group_column].astype(str)
    warnings = []
    for spec in schema.numeric_features:
        values = pd.to_numeric(frame[spec.name], errors="coerce")
        per_group = {group: q for group, part in values.groupby(groups, sort=True)
                     if (q := _quartiles(part)) is not None}  # fmt: skip
        if len(per_group) < 2:
            continue
        low = min(per_group, key=lambda g: per_group[g][1])
        high = max(per_group, key=lambda g: per_group[g][1])
        ratio = per_group[high][1] / per_group[low][1]
        if ratio >= UNIT_SLIP_FACTOR and per_group[high][0] > per_group[low][2]:
            warnings.append(
                f"column {spec.name!r} is about {ratio:.2g} times higher at {group_column} = "
                f"{high} than at {group_column} = {low} (medians; their interquartile ranges do "
                "not overlap): recorded in other units there? Convert it to one unit before "
                "training: a model would learn the site from it, and misread one of them"
            )
    return warnings

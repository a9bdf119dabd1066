"""Values far outside what a model trained on: its prediction there is an extrapolation.

An age of 250 (months for years), a cholesterol of 5000 (a typo) or a weight in pounds where the
model learned kilograms is scored without a word by any model; its prediction reflects nothing
it learned. A numeric value is named (per row and per column, never echoed) when it lies over
:data:`FAR_OUTSIDE_SDS` standard deviations from the mean of the model's training rows *and*
further from it than any training row: a rare 0/1 indicator (2 % ones: a 1 lies 7 SDs out) or
the one real cholesterol of 603 is a value the model saw.

A unit slip can stay within 6 SDs: a cholesterol of 5.2 (mmol/L where the model learned mg/dl,
85 to 603) lies 4 SDs below the mean, an age of -20 or a BMI of 4 not much further. So a value
is also named when the feature's training values were all positive and it is 0 or below, under
a third of the lowest of them or over three times the highest (:data:`UNIT_SLIP_FACTOR`): far
enough out that an ordinary new patient rarely is, near enough to catch mmol/L for mg/dl (x39),
months for years (x12) or g/L for g/dl (x10).

The schema keeps only summaries: the mean, the SD, that reach in whole SDs
(:attr:`FeatureSpec.reach`) and the training range rounded outward to one significant digit
(``low``, ``high``: 85 to 603 is kept as 80 to 700), never a training value; a column of two
values in training is a code (sex 1/2, a 0/1 flag), whose two values are kept as a
categorical's levels are (``codes``), and any other value is named too. A model saved
before ``low`` and ``high`` were kept gets the 6-SD rule only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.missing_codes import is_missing_value, served_number
from medadapt.wording import plural

FAR_OUTSIDE_SDS = 6.0
"""A value this many training SDs from the training mean is one the model (almost) never saw
(1 in 500 million under a normal distribution; a skewed laboratory value reaches it rarely)."""

#: what a value far outside training asks of the reader: a slip, or a patient unlike any the
#: model learned from (a trial's sites split on a feature were told only of typing errors)
CHECK_FAR = "check for a unit or typing error, or patients unlike any it trained on"

UNIT_SLIP_FACTOR = 3.0
"""For a feature whose training values were all positive, a value under the lowest of them
divided by this, or over the highest times this, is named (a unit or typing slip)."""

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


def _slipped(values: np.ndarray, spec: Any) -> np.ndarray:
    """Per value: for a feature whose training values were all positive (``spec.low`` > 0),
    under ``low`` / :data:`UNIT_SLIP_FACTOR` (0 and below included) or over ``high`` times it;
    never for a model saved without ``low`` and ``high``, nor for a missing value."""
    low, high = getattr(spec, "low", None), getattr(spec, "high", None)
    if low is None or high is None or not low > 0:
        return np.zeros(values.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        slipped = (values < low / UNIT_SLIP_FACTOR) | (values > high * UNIT_SLIP_FACTOR)
    return slipped & np.isfinite(values)


def _uncoded(values: np.ndarray, spec: Any) -> np.ndarray:
    """Per value: for a feature of two values in training (``spec.codes``: a code such as
    sex 1/2 or a 0/1 flag), neither of them; never for a model saved without the codes, nor
    for a missing value."""
    codes = getattr(spec, "codes", None)
    if not codes:
        return np.zeros(values.shape, dtype=bool)
    known = np.zeros(values.shape, dtype=bool)
    for code in codes:
        known |= np.isclose(values, code, rtol=0, atol=1e-9)
    return ~known & np.isfinite(values)


def _outside(values: np.ndarray, spec: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per value: outside the training values by any rule, and by another rule than the
    6-SD one only (a unit slip, a value of neither code)."""
    far, other = _far(values, spec), _slipped(values, spec) | _uncoded(values, spec)
    return far | other, other & ~far


@dataclass(frozen=True)
class Outside:
    """:func:`far_outside`'s answer. ``outside``: ``{column: per row, outside}`` for each
    column with such a row; ``slips_only``: the columns with a row named by the unit-slip rule
    alone (the warning then says both rules). False when no row is outside.

    >>> found = Outside({"chol": np.array([True, False])}, frozenset({"chol"}))
    >>> bool(found), outside_per_row(found, 2)
    (True, ['chol', ''])
    """

    outside: dict[str, np.ndarray] = field(default_factory=dict)
    slips_only: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.outside)


def far_outside(
    frame: pd.DataFrame,
    features: Iterable[Any],
    zeros_said: Iterable[str] = (),
    codes_said: Mapping[str, float] | None = None,
) -> Outside:
    """Per column, the rows far outside the training values, for the numeric ``features``
    (each with ``name``, ``mean``, ``std``, ``reach``, ``low``, ``high``; the last three may
    be absent) present in ``frame``; ``frame`` already has its missing codes read as missing.
    ``zeros_said``: columns whose zeros another warning names already (a "not measured"
    code, :mod:`medadapt.data.missing_codes`); ``codes_said``: ``{column: code}`` the same
    for a code such as -1 or 999."""
    found: dict[str, np.ndarray] = {}
    slips_only, said = set(), set(zeros_said)
    codes_said = codes_said or {}
    for spec in features:
        if spec.name not in frame:
            continue
        values = pd.to_numeric(frame[spec.name], errors="coerce").to_numpy(dtype=float)
        outside, slipped = _outside(values, spec)
        if spec.name in said:
            outside &= values != 0
            slipped &= values != 0
        if spec.name in codes_said:
            outside &= values != codes_said[spec.name]
            slipped &= values != codes_said[spec.name]
        if outside.any():
            found[spec.name] = outside
        if slipped.any():
            slips_only.add(spec.name)
    return Outside(found, frozenset(slips_only))


def outside_per_row(found: Outside, n: int) -> list[str]:
    """Each row's far-outside columns, ``;``-separated (empty where none): the ``predict``
    column that lets a clinician find the predictions to distrust."""
    return [";".join(name for name, far in found.outside.items() if far[i]) for i in range(n)]


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
        if _outside(np.array([value]), spec)[0][0]:
            names.append(spec.name)
    return names


SHOWN_COLUMNS = 4
"""The columns a warning names (those with the most such rows); the rest are counted."""


def far_outside_warning(found: Outside, specs: Mapping[str, Any], python: bool = False) -> str:
    """One warning for every column of ``found`` (:func:`far_outside`, with a row outside):
    how many rows, which columns with how many rows each (the most first) and, for a few, the
    training mean and SD they are far from (the schema's summaries, never a patient's value);
    both rules are said when the unit-slip rule alone named a row. ``python``: for the Python
    API, whose scores carry no per-row column to point to."""
    columns = found.outside
    n = len(next(iter(columns.values())))
    rows = int(np.logical_or.reduce(list(columns.values())).sum())
    ranked = sorted(columns, key=lambda c: -int(columns[c].sum()))
    shown = ranked[:SHOWN_COLUMNS]

    def column(name: str) -> str:
        spec = specs[name]
        count = int(columns[name].sum())
        mean = 0.0 if abs(spec.mean) < 1e-3 * spec.std else spec.mean  # standardised: 0
        where = f", trained on {mean:.3g} ± {spec.std:.3g}" if len(columns) <= 2 else ""
        codes = getattr(spec, "codes", None)
        if codes and len(columns) <= 2:  # a code's two values say more than a mean and SD
            where = f", trained on the codes {codes[0]:g} and {codes[1]:g} only"
        return f"{name!r}: {plural(count, 'row')}{where}"

    more = len(ranked) - len(shown)
    others = f"; {plural(more, 'more column')}" if more else ""
    listed = "; ".join(column(c) for c in shown) + others
    verb = "has" if rows == 1 else "have"
    coded = {c for c in found.slips_only if getattr(specs[c], "codes", None)}
    if found.slips_only:
        rules = [f"over {FAR_OUTSIDE_SDS:g} SDs from their mean and further than any of them"]
        if found.slips_only - coded:
            rules.append("where all of them were positive, 0 or below, under a third of the "
                         "lowest or over three times the highest")  # fmt: skip
        if coded:
            rules.append("where they were two codes, neither of them")
        where = f"far outside those the base model trained on: {', or, '.join(rules)}"
    else:
        where = (
            f"over {FAR_OUTSIDE_SDS:g} SDs from the mean of the rows the base model trained "
            "on, and further than any of them"
        )
    return (
        f"{rows} of {plural(n, 'row')} {verb} a value {where} ({listed}): the "
        f"model extrapolates there; {CHECK_FAR}"
        + ("" if python else f" (predict names the columns per row in {COLUMN!r})")
    )


SHIFTED_SHARE = 0.25
"""A column whose values lie outside the base model's training range in this share of a
site's rows (or more) is said of the site as a whole: its case mix is not the base's."""


def _which_rows(rows: int) -> str:
    """``this row lies``, ``some of these 4 rows lie`` (a few scored: no share to speak of),
    ``a quarter or more of these rows lie``."""
    if rows == 1:
        return "this row lies"
    return f"some of these {rows} rows lie" if rows < 10 else "a quarter or more of these rows lie"


def _shown(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.3g}"


def range_shifted(
    frame: pd.DataFrame,
    features: Iterable[Any],
    zeros_said: Iterable[str] = (),
    codes_said: Mapping[str, float] | None = None,
    far_said: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Per numeric feature (``low``/``high``: its training range, rounded outward) whose
    values lie outside that range in at least :data:`SHIFTED_SHARE` of ``frame``'s rows
    (missing codes already read as missing), which rows do: a site whose patients are older,
    or sicker, than any the base model trained on. Values another warning names are left to
    it: ``zeros_said``, ``codes_said`` (a "not measured" code) and ``far_said``
    (:func:`far_outside`'s rows, a unit or typing slip)."""
    shifted, rows = {}, len(frame)
    zeros, codes, far = set(zeros_said), codes_said or {}, far_said or {}
    for spec in features:
        low, high = getattr(spec, "low", None), getattr(spec, "high", None)
        if spec.name not in frame or low is None or high is None or getattr(spec, "codes", None):
            continue
        values = pd.to_numeric(frame[spec.name], errors="coerce").to_numpy(dtype=float)
        counted = np.isfinite(values) & ~far.get(spec.name, np.zeros(rows, dtype=bool))
        if spec.name in zeros:
            counted &= values != 0
        if spec.name in codes:
            counted &= values != codes[spec.name]
        slack = 1e-9 * max(1.0, abs(low), abs(high))  # the rounding of low and high itself
        with np.errstate(invalid="ignore"):
            outside = counted & ((values < low - slack) | (values > high + slack))
        if rows and outside.sum() >= SHIFTED_SHARE * rows:
            shifted[spec.name] = outside
    return shifted


def range_shift_warning(
    frame: pd.DataFrame,
    features: Iterable[Any],
    zeros_said: Iterable[str] = (),
    codes_said: Mapping[str, float] | None = None,
    far_said: Mapping[str, np.ndarray] | None = None,
    python: bool = False,
) -> str | None:
    """The columns of :func:`range_shifted`, with how many rows each and the range rounded
    outward (never a training value), in one warning: a trial's clinic of patients aged
    51-79, on a base trained on ages up to 50, was 4.8 SDs out at most and nothing said so.
    It says that ``predict``'s :data:`COLUMN` names only the values far outside, row by row,
    as ``serve`` names them in each answer (a trial's warning counted 'age' in 2 of 5 rows,
    and the column named none, without a word of why); ``python``: for the Python API, whose
    scores carry no such column. None where no column is so.

    >>> import types
    >>> age = types.SimpleNamespace(name="age", low=10.0, high=50.0, codes=None)
    >>> print(range_shift_warning(pd.DataFrame({"age": range(51, 71)}), [age]))
    ... # doctest: +NORMALIZE_WHITESPACE
    a quarter or more of these rows lie outside the values the base model trained on: 'age'
    in 20 of these 20 rows (100%; it trained on values within 10 to 50, its range rounded
    outward): it extrapolates for them (patients unlike those it trained on, or values in
    another unit or coding); judge it on labelled rows of this site before relying on it
    (predict's column 'outside_training' names, row by row, only values far outside them)
    """
    rows = len(frame)
    specs = {spec.name: spec for spec in features}
    shifted = range_shifted(frame, specs.values(), zeros_said, codes_said, far_said)
    if not shifted:
        return None
    said = []
    for name, outside in shifted.items():
        count, spec = int(outside.sum()), specs[name]
        within = (f"it trained on values within {_shown(spec.low)} to {_shown(spec.high)}, its "
                  "range rounded outward")  # fmt: skip
        share = f"{name!r} in {count} of these {rows} rows ({count / rows:.0%}; {within})"
        said.append((count, f"{name!r} ({within})" if rows == 1 else share))
    columns = "; ".join(words for _, words in sorted(said, key=lambda s: -s[0]))
    return (
        f"{_which_rows(rows)} outside the values the base model trained on: {columns}: it "
        "extrapolates for "
        f"{'it' if rows == 1 else 'them'} (patients unlike those it trained on, or values in "
        "another unit or coding); judge it on labelled rows of this site before relying on it"
        + (
            ""
            if python
            else f" (predict's column {COLUMN!r} names, row by row, only values far outside them)"
        )
    )


OUTCOME_SPREAD = 10.0
"""A measured outcome whose spread here is this many times smaller or larger than where the
base model trained, or whose mean lies over 3 of the base's SDs from its own, is likely
another outcome or another unit (a trial's 0/1 outcome against a base of values 25 to 346)."""


OUTCOME_MIN_ROWS = 10
"""Fewer values than this: no summary of the outcome is said (small samples of the base's own
population stray by chance, and their mean and SD would give the values away)."""


def outcome_shift_warning(
    values: pd.Series, label: str, trained_mean: float, trained_std: float
) -> str | None:
    """Where a measured outcome here is unlike the one the base model learned (summaries
    only: the means and SDs, never a patient's value); None otherwise or with fewer than
    :data:`OUTCOME_MIN_ROWS` values (a mean of two is two patients' values).

    >>> print(outcome_shift_warning(pd.Series([0, 1] * 10), "y", 152.0, 77.0))
    ... # doctest: +NORMALIZE_WHITESPACE
    the outcome 'y' here is unlike the one the base model learned (mean 0.5 and SD 0.5 here,
    152 and 77 where it trained): is it the same outcome, in the same unit? Every figure of
    the base model or an adapter here rests on it
    """
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    numbers = numbers[np.isfinite(numbers)]
    if len(numbers) < OUTCOME_MIN_ROWS or not trained_std > 0:  # (few: a patient's values)
        return None
    mean, std = float(numbers.mean()), float(numbers.std(ddof=0))
    spread = std / trained_std
    if (
        1 / OUTCOME_SPREAD <= spread <= OUTCOME_SPREAD
        and abs(mean - trained_mean) <= 3 * trained_std
    ):
        return None
    return (
        f"the outcome {label!r} here is unlike the one the base model learned (mean {mean:.3g} "
        f"and SD {std:.3g} here, {trained_mean:.3g} and {trained_std:.3g} where it trained): is "
        "it the same outcome, in the same unit? Every figure of the base model or an adapter "
        "here rests on it"
    )

"""Which column of a table holds the sites or groups, when the user did not say.

``--group Cleveland`` without ``--group-column`` (or ``--group-column`` missing at ``adapt``)
is refused; the refusal names the column to pass where the table shows it: the text column
holding the chosen group among a few other values, else the columns whose names say site,
hospital, centre, clinic... with a few values each (a trial's table kept its sites in
``hospital``, and the advice said ``e.g. site``). Only column names and counts are said.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

MAX_GROUPS = 50
"""The most distinct values a column may have to be read as sites or groups."""

SITE_WORDS = ("site", "hospital", "centre", "center", "clinic", "region", "ward",
              "institution", "cohort", "location", "country", "city", "source",
              "dataset")  # fmt: skip
"""Words that begin a word of a column's name that say it holds sites or groups
(``hospital_name``, ``SiteCode``; not ``resource_use``, ``ethnicity``)."""


def _distinct(values: pd.Series) -> set[str]:
    return {str(v).strip() for v in values.dropna().unique()}


def columns_holding(frame: pd.DataFrame, value: str) -> list[tuple[str, int]]:
    """The text columns of ``frame`` with ``value`` among 2 to :data:`MAX_GROUPS` distinct
    values, and how many others each has.

    >>> frame = pd.DataFrame({"hospital": ["North", "South", "North"], "age": [50, 61, 70]})
    >>> columns_holding(frame, "North")
    [('hospital', 1)]
    """
    found = []
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind not in "OUS" and str(values.dtype) != "string":
            continue
        distinct = _distinct(values)
        if str(value).strip() in distinct and 1 < len(distinct) <= MAX_GROUPS:
            found.append((str(column), len(distinct) - 1))
    return found


def site_like_columns(frame: pd.DataFrame, exclude: Sequence[str | None] = ()) -> list[str]:
    """Columns whose name holds a word of :data:`SITE_WORDS` with 2 to :data:`MAX_GROUPS`
    distinct values (``exclude``: the label, the id column).

    >>> frame = pd.DataFrame({"HospitalName": ["N", "S"], "resource_use": [1, 2],
    ...                       "ethnicity": ["a", "b"]})
    >>> site_like_columns(frame)
    ['HospitalName']
    """
    found = []
    for column in frame.columns:
        words = re.split(r"[^a-z]+", str(column).lower())
        if column in exclude or not any(w.startswith(SITE_WORDS) for w in words):
            continue
        if 1 < len(_distinct(frame[column])) <= MAX_GROUPS:
            found.append(str(column))
    return found


def site_feature_warning(frame: pd.DataFrame, schema: Any, words: Any) -> str | None:
    """A warning where a column named like a site (:func:`site_like_columns`) is one of the
    model's features and no group column was given (``words``: the option spelling,
    :class:`~medadapt.data.option_words.OptionWords`): a trial's ``site`` column became a
    feature without a word, so the model learns each training site's rate and reads a new
    site, which it never saw, as an unseen category.

    >>> from types import SimpleNamespace as S
    >>> from medadapt.data.option_words import PYTHON
    >>> schema = S(group_column=None, label="y", id_column=None, features=[S(name="site")])
    >>> frame = pd.DataFrame({"site": ["A", "B", "A"], "y": [0, 1, 0]})
    >>> site_feature_warning(frame, schema, PYTHON)[:69]
    "column 'site' names each row's site (2 values) and is read as a model"
    """
    if schema.group_column is not None:
        return None
    features = {str(f.name) for f in schema.features}
    found = [c for c in site_like_columns(frame, exclude=[schema.label, schema.id_column])
             if c in features]  # fmt: skip
    if not found:
        return None
    column = found[0]
    values = len(_distinct(frame[column]))

    def given(option: str) -> str:
        said = words.set_to(option, column, quote="repr")
        return f"TableSchema.infer(..., {said})" if words.python else said

    return (
        f"column {column!r} names each row's site ({values} values) and is read as a model "
        "feature: the model learns each of these sites' own rates, and a new site's rows, "
        f"whose value it never saw, are read as 'unseen'; pass {given('group_column')} to "
        f"split and adapt by it instead, or {given('exclude')} to leave it out"
    )


def group_column_hint(
    frame: pd.DataFrame,
    groups: Sequence[str] = (),
    exclude: Sequence[str | None] = (),
    *,
    say_flag: bool = True,
    holding_only: bool = False,
) -> str:
    """A clause naming the column to pass as ``--group-column`` (empty when none shows;
    ``say_flag``: end with the flag to pass, where the sentence does not already say it;
    ``holding_only``: only a column that holds one of ``groups``, never one named like a site's
    that may hold them: beside a column given that lacks them, that may be the same column).

    >>> frame = pd.DataFrame({"hospital": ["North", "South"], "age": [50, 61]})
    >>> group_column_hint(frame, ["North"])
    " (column 'hospital' holds 'North'; pass --group-column hospital)"
    >>> group_column_hint(frame, ["North"], say_flag=False)
    " (column 'hospital' holds 'North')"
    >>> group_column_hint(frame)
    " (column 'hospital' may hold them: 2 values; pass --group-column hospital)"
    """
    clause = group_column_clause(frame, groups, exclude, say_flag=say_flag,
                                 holding_only=holding_only)  # fmt: skip
    return f" ({clause})" if clause else ""


def group_column_clause(
    frame: pd.DataFrame,
    groups: Sequence[str] = (),
    exclude: Sequence[str | None] = (),
    *,
    say_flag: bool = True,
    holding_only: bool = False,
) -> str:
    """:func:`group_column_hint`'s words without the parentheses around them, for a message
    that says them as a clause of its own (empty when no column shows)."""
    column, said = None, ""
    for group in groups:
        holding = columns_holding(frame, group)
        if holding:
            column = holding[0][0]
            named = " and ".join(repr(c) for c, _ in holding[:2])
            said = f"column {named} holds {str(group).strip()!r}"
            break
    else:
        likely = [] if holding_only else site_like_columns(frame, exclude)
        if likely:
            column = likely[0]
            said = f"column {column!r} may hold them: {len(_distinct(frame[column]))} values"
    if column is None:
        return ""
    return f"{said}; pass --group-column {column}" if say_flag else said


def describe_values(values: set[str], *, limit: int = 10) -> str:
    """Up to ``limit`` values, or only their number (a patient-id column must not be listed)."""
    if len(values) > limit:
        return f"{len(values)} distinct values (is it the right column?)"
    return ", ".join(sorted(values))

"""Choosing a table's rows by group (naming the values found, never a patient's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from medadapt.checks import did_you_mean, named_with_hints
from medadapt.data.group_columns import describe_values, group_column_clause, group_column_hint
from medadapt.errors import DataError
from medadapt.wording import noun_for

if TYPE_CHECKING:
    import pandas as pd


def names_any(note: str, columns: Sequence[str]) -> bool:
    """Whether a reader's note (``... column 'x' ...``) is about one of ``columns``."""
    return any(f"column {c!r}" in note for c in columns)


def group_column_missing(
    column: str, frame: pd.DataFrame, groups: Sequence[str] | None = None
) -> DataError:
    """The error for a ``--group-column`` the table lacks: the closest name first, then all;
    where another column holds the ``--group`` asked for, that column (a trial's
    ``--group-column site`` of a table whose 'hospital' held the site was told to add a
    column)."""
    columns = list(frame.columns)
    meant = did_you_mean(column, columns)
    holding = group_column_clause(frame, [str(g) for g in groups or ()], holding_only=True)
    whole = (
        ""
        if meant
        else f"; {holding}"
        if holding
        # a site's own export: every row is the site, no column says so
        else (
            f"; if every row is one site's, add a column {column!r} holding its name on every row"
        )
    )
    return DataError(
        f"--group-column {column!r} is not in the table{meant} (columns: "
        f"{', '.join(map(str, columns))}){whole}"
    )


def select_groups(
    frame: pd.DataFrame, column: str | None, values: Sequence[str] | None, *, what: str
) -> pd.DataFrame:
    """Rows whose ``column`` is one of ``values`` (all rows without a filter)."""
    from medadapt.data.tables import group_labels, refuse_group_spellings, warn_group_spellings

    if not values:
        return frame
    values = [str(v).strip() for v in values]  # as group_labels reads the column's
    if column is None:
        raise DataError(f"{what} needs --group-column to know which column holds the groups"
                        f"{group_column_hint(frame, values)}")  # fmt: skip
    if column not in frame:
        raise group_column_missing(column, frame, values)
    present = group_labels(frame[column])
    distinct = set(present.tolist())
    missing = [v for v in values if v not in distinct]
    if missing:
        named, meant, hinted = named_with_hints(missing, sorted(distinct), among=10)
        elsewhere = "" if hinted else group_column_hint(frame, missing, holding_only=True)
        raise DataError(  # a trial's --group-column sex for the hospitals: told where they are
            f"{what}: {noun_for(len(missing), 'group')} {named} not found in column {column!r}"
            f"{meant} (it has: {describe_values(distinct)}){elsewhere}"
        )
    refuse_group_spellings(present.tolist(), list(values), column=column, what=what)
    warn_group_spellings(present.tolist(), list(values), column=column, what=what)
    return frame[np.isin(present, list(values))]


def rows_of_groups(
    frame: pd.DataFrame, column: str | None, values: Sequence[str] | None
) -> tuple[pd.DataFrame, str | None]:
    """The rows of ``frame`` in groups ``values`` of ``column`` and those groups in words
    (``site = C``), for a check judged on the rows a command uses; all rows and None without a
    filter, or where no row matches (the selection itself then says why)."""
    from medadapt.data.tables import group_labels

    if not values or column is None or column not in frame:
        return frame, None
    chosen = np.isin(group_labels(frame[column]), [str(v) for v in values])
    if not chosen.any():
        return frame, None
    return frame[chosen], f"{column} = {', '.join(map(str, values))}"

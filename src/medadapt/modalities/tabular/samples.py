"""Table rows as :class:`~medadapt.modalities.base.Samples`, and their subgroups.

Rows keep their position in the file as the frame's index (the split is recorded by it on
that very file); a row's content key is a hash of its normalised feature values and label
(:mod:`medadapt.data.row_hashes`), so the same patient row is recognised in a re-saved copy.
Subgroups are read from the table when present: the group column, a sex/gender column, and an
age band made from an ``age`` column (<50, 50-64, >=65). Only counts and metrics come out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.group_columns import group_column_hint
from medadapt.data.option_words import PYTHON, OptionWords
from medadapt.data.row_hashes import RowHasher
from medadapt.data.schema import TableSchema
from medadapt.data.tables import MISSING_LABEL, group_labels
from medadapt.errors import DataError
from medadapt.modalities.base import Samples
from medadapt.wording import plural

AGE_BANDS = ((0, 50, "<50"), (50, 65, "50-64"), (65, 200, ">=65"))
_SEX_NAMES = ("sex", "gender")
_UNSALTED = "00" * 16  # split keys are compared within one run only: no salt needed


def true_labels(
    schema: TableSchema, frame: pd.DataFrame, words: OptionWords = PYTHON
) -> np.ndarray:
    """Class indices, or target values in their original unit for regression (``words``:
    whose words a refusal of the labels speaks)."""
    if schema.task == "regression":
        return schema.measured_labels(frame)
    return schema.encode_labels(frame, words).numpy()


class TableSamples(Samples):
    """Labelled rows of a table (``frame``), read for ``schema``; ``words``: whose words a
    refusal of their labels names the fix in (``--data`` for the command line's files)."""

    def __init__(
        self,
        frame: pd.DataFrame,
        schema: TableSchema,
        group_column: str | None = None,
        notes: Sequence[str] = (),
        words: OptionWords = PYTHON,
    ) -> None:
        self.frame = frame
        self.schema = schema
        self.group_column = group_column
        self.notes = list(notes)
        self.words = words
        self._encodings: list[tuple[TableSchema, bool, Any]] = []
        self.without_labels: dict[str, int] = {}  # groups of no labelled row (read_for_model)

    def __len__(self) -> int:
        return len(self.frame)

    def reading_note(self) -> str | None:
        return self.frame.attrs.get("read_as")

    def encoded(self, schema: TableSchema, *, with_labels: bool = True) -> Any:
        """``schema.encode`` of these rows, done once per schema: the notes, the prediction
        flags, the extras and the model's tensors all read the same encoding."""
        for known, labels, table in self._encodings:
            if known is schema and labels == with_labels:
                return table
        table = schema.encode(self.frame, with_labels=with_labels)
        self._encodings.append((schema, with_labels, table))
        return table

    @cached_property
    def labels(self) -> np.ndarray:
        return true_labels(self.schema, self.frame, self.words)

    @property
    def groups(self) -> np.ndarray | None:
        column = self.group_column
        if column is None or column not in self.frame:
            return None
        return group_labels(self.frame[column])

    def group_column_hint(
        self, groups: Sequence[str] = (), *, say_flag: bool = True, holding_only: bool = False
    ) -> str:
        """The column that holds ``groups`` (or, but with ``holding_only``, whose name says
        site, hospital, centre...)."""
        exclude = (self.schema.label, self.schema.id_column)
        return group_column_hint(self.frame, groups, exclude, say_flag=say_flag,
                                 holding_only=holding_only)  # fmt: skip

    def contents(self) -> np.ndarray:
        return self._contents

    @cached_property
    def _contents(self) -> np.ndarray:
        return RowHasher.for_schema(self.schema, salt=_UNSALTED).hashes(self.frame)

    def patients(self) -> np.ndarray:
        """What must stay on one side of a split: the patient (the id column), joined with
        every row of identical content and whatever that links, whatever the ids (a record
        copied under a new id, as ids 405 and 406 of the heart data): the connected groups,
        each named by its first key (``"id:405"``). Without an id column: the row's content."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        schema, rows = self.schema, self.frame
        keys = np.char.add("row:", self.contents())
        if not schema.id_column or schema.id_column not in rows:
            return keys
        ids = group_labels(rows[schema.id_column])
        keys = np.where(ids != MISSING_LABEL, np.char.add("id:", ids.astype(str)), keys)
        patient = pd.factorize(pd.Series(keys))[0]  # nodes 0..P-1
        content = pd.factorize(pd.Series(self.contents()))[0] + patient.max(initial=-1) + 1
        nodes = int(content.max(initial=-1)) + 1
        links = coo_matrix((np.ones(len(patient)), (patient, content)), shape=(nodes, nodes))
        _, group = connected_components(links, directed=False)  # a row links its two keys
        # each group named by its first key (``id:405``), whatever other rows the file holds:
        # a site's own file splits as the same site within the pooled file does
        named = pd.Series(keys).groupby(group[patient]).transform("min")
        return named.to_numpy().astype(str)

    def known_patients(self) -> np.ndarray | None:
        """The id column's values (a row without one is its own patient); None without one."""
        ids = self._ids()
        if ids is None:
            return None
        own = np.char.add("row:", np.arange(len(ids)).astype(str))
        return np.where(ids != MISSING_LABEL, np.char.add("id:", ids.astype(str)), own)

    def names_every_patient(self) -> bool:
        """Whether an id column names the patient of every row (and there are rows)."""
        ids = self._ids()
        return ids is not None and len(ids) > 0 and not (ids == MISSING_LABEL).any()

    def _ids(self) -> np.ndarray | None:
        schema, rows = self.schema, self.frame
        if not schema.id_column or schema.id_column not in rows:
            return None
        return group_labels(rows[schema.id_column])

    def subset(self, indices: Sequence[int] | np.ndarray) -> TableSamples:
        rows = self.frame.iloc[np.asarray(indices)]
        return TableSamples(rows, self.schema, self.group_column, self.notes, self.words)

    def unlabelled_group(self, groups: Sequence[str]) -> str | None:
        found = [(g, self.without_labels[g]) for g in groups if g in self.without_labels]
        if not found:
            return None
        group, n = found[0]
        return (
            f"group {group!r} of column {self.group_column!r} has {plural(n, 'row')},"
            f" none with a value in label column {self.schema.label!r} (a missing outcome is "
            "never guessed): fill in their outcome, or leave the group out"
        )

    def class_counts(self, classes: Sequence[str]) -> dict[str, int]:
        if self.schema.task == "regression":
            return {}
        return super().class_counts(classes)

    def fingerprint(self) -> bytes:
        """The columns and a hash of every row, in order (any edited value changes it)."""
        import json

        head = json.dumps([str(c) for c in self.frame.columns]).encode()
        rows = pd.util.hash_pandas_object(self.frame, index=True).to_numpy().tobytes()
        return head + rows


def age_band(age: Any) -> str:
    try:
        value = float(age)
    except (TypeError, ValueError):
        return "unknown"
    if np.isnan(value):
        return "unknown"
    for low, high, label in AGE_BANDS:
        if low <= value < high:
            return label
    return "unknown"


MOST_SUBGROUP_VALUES = 12  # a column of more values is a measurement or an identifier
#: the subgroups reported without asking that are no column of the table, by what they read
AGE_BAND = "age band"
BUILT_IN_SUBGROUPS = {AGE_BAND: "the column 'age' (in years)"}


def chosen_subgroups(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    label: str,
    group_column: str | None,
    id_column: str | None,
) -> list[str]:
    """``columns`` (``--subgroups``) once checked against the table: each present, not the
    patient id, and of a few values (a measurement's hundreds of one-patient rows would all
    be withheld, and a patient id's name every patient). The group column, and an age in
    years (its bands), are reported already: not repeated."""
    from medadapt.checks import did_you_mean

    out = []
    for column in columns:
        if column == group_column:  # reported by group already (of any number of groups)
            _reported_already(column, "is the group column (--group-column): its table is")
            continue
        if column not in frame:
            raise DataError(
                f"--subgroups {column!r} is not in the table{did_you_mean(column, frame.columns)}"
                f" (columns: {', '.join(map(str, frame.columns))}); name one of its columns"
            )
        if column == label:
            raise DataError(
                f"--subgroups {column!r} is the label the model predicts; name another column"
            )
        if column.lower() == "age" and _in_years(frame[column]):
            _reported_already(column, f"is an age in years: its bands ({AGE_BAND!r}) are")
            continue
        if column == id_column:
            raise DataError(
                f"--subgroups {column!r} is the base's patient id column (--id-column): one "
                "subgroup per patient; name a column of a few categories"
            )
        built_in = {name.casefold(): name for name in BUILT_IN_SUBGROUPS}.get(column.casefold())
        if built_in is not None:
            raise DataError(
                f"--subgroups {column!r} has the name of the subgroup medadapt reports from "
                f"{BUILT_IN_SUBGROUPS[built_in]}: rename the column in --data (its table would "
                "read as that one)"
            )
        written = frame[column].dropna().astype(str).str.strip()
        if frame[column].isna().any() and (written == MISSING_LABEL).any():
            raise DataError(
                f"--subgroups {column!r} holds the value {MISSING_LABEL!r} and empty cells, "
                f"which its table would count as one {MISSING_LABEL!r} row: write that value "
                "otherwise in --data (e.g. 'not recorded'), or fill in the empty cells"
            )
        values = frame[column].dropna().nunique()
        if values == 0:
            raise DataError(
                f"--subgroups {column!r} is empty in every one of the {len(frame)} rows scored: "
                "name a column filled in at this site"
            )
        if values > MOST_SUBGROUP_VALUES:
            raise DataError(
                f"--subgroups {column!r} has {values} different values in the {len(frame)} "
                f"rows scored, more than the {MOST_SUBGROUP_VALUES} a subgroup column may have: "
                "name a column of a few categories, or add one that bands these values (e.g. "
                "age_band: <50, 50-64, >=65)"
            )
        out.append(column)
    return out


def _reported_already(column: str, what: str) -> None:
    """A ``note:`` that a column named by ``--subgroups`` is reported without asking (a trial
    named its group column and heard nothing of it)."""
    logging.getLogger("medadapt.notes").warning(
        f"--subgroups {column!r} {what} reported without asking: not repeated"
    )


def subgroup_columns(
    frame: pd.DataFrame, *, group_column: str | None = None, extra: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """``{subgroup name: label per row}`` for the subgroups present in ``frame``."""
    out: dict[str, np.ndarray] = {}
    if group_column is not None and group_column in frame:
        out[group_column] = group_labels(frame[group_column])
    for column in frame.columns:
        if column.lower() in _SEX_NAMES:
            if not _scaled(frame[column]):
                out[column] = group_labels(frame[column])
            break
    for column in frame.columns:
        if column.lower() == "age":
            if _in_years(frame[column]):
                out[AGE_BAND] = np.array([age_band(a) for a in frame[column]])
            break
    for column in extra:
        out[column] = group_labels(frame[column])
    return out


def _in_years(ages: pd.Series) -> bool:
    """Whether an ``age`` column reads as years, to band (scikit-learn's diabetes set keeps
    age standardised, -0.1 to 0.1: a trial's study report put its positive values "<50" and
    its negative ones "unknown"): numbers, none negative, most of them 1 to 120.

    >>> _in_years(pd.Series([34, 61, 77.5, None])), _in_years(pd.Series([-0.04, 0.02, 0.07]))
    (True, False)
    """
    values = pd.to_numeric(ages, errors="coerce").dropna()
    if values.empty or (values < 0).any():
        return False
    return float(values.between(1, 120).mean()) >= 0.95


def _scaled(codes: pd.Series) -> bool:
    """Whether a sex column holds numbers that are not codes (standardised: -0.0446 and
    0.0507, which a report would print as group names).

    >>> _scaled(pd.Series([-0.0446, 0.0507])), _scaled(pd.Series([1, 2, 1]))
    (True, False)
    >>> _scaled(pd.Series(["F", "M"]))
    False
    """
    values = pd.to_numeric(codes, errors="coerce")
    if values.notna().sum() < codes.notna().sum() or values.dropna().empty:
        return False  # text: categories as written
    present = values.dropna()
    return bool((present != present.round()).any())

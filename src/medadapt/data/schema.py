"""Table schema: which column is the label, which are features, and how to encode them.

The schema is fitted on training rows only and stored with the model (JSON; category levels and
summary statistics, never patient rows). Missing values are kept: a missing numeric feature is
NaN (the model gives it a learned "missing" token), a missing categorical feature is index 0;
a category never seen in training is index 1 ("unseen") and is counted. A level seen in fewer
than ``MIN_LEVEL_ROWS`` training rows is not stored (it could single out a patient, and is too
rare to learn): it is encoded as unseen, like scikit-learn's ``min_frequency``. Text columns whose
values are nearly all distinct (names, record numbers), numeric record numbers and dates written
as numbers are dropped as identifiers, each with a warning.

>>> import pandas as pd
>>> rows = {"age": [50, 61, None], "sex": ["M", "F", "F"], "y": [0, 1, 1]}
>>> frame = pd.DataFrame({name: values * 5 for name, values in rows.items()})
>>> schema = TableSchema.infer(frame, label="y")
>>> [(f.name, f.kind) for f in schema.features], schema.task, schema.classes
([('age', 'numeric'), ('sex', 'categorical')], 'binary', ['0', '1'])
"""

from __future__ import annotations

import difflib
import math
import re
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from medadapt import checks
from medadapt.data.dates import DATE_REASON, name_looks_like_date
from medadapt.data.feature_kinds import (
    FIRST_LEVEL,
    FREE_TEXT_REASON,
    IDENTIFIER_REASON,
    MIN_LEVEL_ROWS,  # noqa: F401 (re-exported)
    MISSING_INDEX,
    TEXT_IN_NUMBERS_SHARE,
    UNSEEN_INDEX,
    FeatureSpec,
    TextInNumbers,
    count_text_values,
    free_text_label_warning,
    infer_feature,
    is_missing,
    level,
    natural_key,
    text_kind,
    text_values_said,
    texts_in_numbers_error,
)
from medadapt.data.identifiers import (
    identifier_label_error,
    label_identifier_reason,
    name_looks_like_identifier,
    outcome_columns,
)
from medadapt.data.missing_codes import (
    MIN_DISTINCT,
    SENTINEL_GAP,
    SENTINELS,
    Codes,
    as_codes,
    is_missing_value,
    parse_missing_codes,
    read_as_missing,
)
from medadapt.data.option_words import PYTHON, OptionWords, takes
from medadapt.data.spelling import RARE_LABEL_ROWS, RARE_LABEL_SHARE, edit_distance, spelt_alike
from medadapt.data.tables import read_as_a_file, unusable_numbers_notes
from medadapt.errors import ConfigError, DataError
from medadapt.results import TASKS
from medadapt.wording import plural

MAX_CLASSES = 20
PLAIN_POSITIVES = {"0": "1", "no": "yes", "n": "y", "false": "true", "negative": "positive",
                   "neg": "pos", "absent": "present"}  # fmt: skip
"""Two label values whose positive one goes without saying (upper/lower case aside): negative
-> positive. Of any other two text values, the one that sorts last is positive, with a warning
(:func:`implicit_positive_class`) until ``positive_class`` names it."""


@dataclass
class EncodedTable:
    """Model inputs for a table.

    Shapes: x_num (N, n_numeric) float32 with NaN for missing; x_cat (N, n_categorical) int64;
    y (N,) int64 class index or float32 standardised target, or None without labels.
    """

    x_num: torch.Tensor
    x_cat: torch.Tensor
    y: torch.Tensor | None
    unseen: dict[str, int]
    missing: dict[str, int]
    text_as_missing: dict[str, int] = field(default_factory=dict)  # text in numeric features

    def __len__(self) -> int:
        return int(self.x_num.shape[0])

    def inputs(self) -> dict[str, torch.Tensor]:
        return {"x_num": self.x_num, "x_cat": self.x_cat}


@dataclass
class TableSchema:
    """Label, task and feature encodings fitted on training rows."""

    label: str
    task: str
    features: list[FeatureSpec]
    classes: list[str] = field(default_factory=list)
    label_mean: float = 0.0
    label_std: float = 1.0
    positive_above: float | None = None
    positive_class: str | None = None  # --positive-class: the label value that is positive
    id_column: str | None = None
    group_column: str | None = None
    dropped: dict[str, str] = field(default_factory=dict)
    # dropped with a warning: record identifiers, and dates written as numbers (identifying
    # too: HIPAA's Safe Harbor counts dates of birth, admission and death among identifiers)
    identifiers: list[str] = field(default_factory=list)
    allowed_leaks: list[str] = field(default_factory=list)  # --allow-leak: kept deliberately
    excluded: list[str] = field(default_factory=list)  # --exclude: names only, never read
    # columns that alone predicted the label strongly on the training rows: statistic, value
    # and direction, never a row; an adapter's leak check tells them from leaks of its own
    # rows. strong_level: from what figure they were recorded (None: a base saved before it
    # was kept, which recorded them from 0.9)
    strong_features: dict[str, dict[str, Any]] = field(default_factory=dict)
    strong_level: float | None = None
    text_as_missing: dict[str, int] = field(default_factory=dict)  # --numeric: text -> missing
    missing_codes: dict[str, Codes] = field(default_factory=dict)  # --missing-code: read as NaN

    def __repr__(self) -> str:
        """What the model predicts, said as the command line's task line says it (a yes/no
        outcome's positive class), and the features by kind; the encodings are in
        ``features``, the reasons for columns left out in ``dropped``.

        >>> import pandas as pd
        >>> frame = pd.DataFrame({"age": [50, 61, 70] * 5, "y": ["no", "yes", "yes"] * 5})
        >>> TableSchema.infer(frame, label="y")
        TableSchema(label='y': binary, positive class 'yes' (of 'no', 'yes'); 1 feature: 1 numeric)
        """
        listed = ", ".join(map(repr, self.classes))
        if self.task == "binary" and self.positive_above is not None:
            above = f"{self.label} > {self.positive_above:g}"
            what = f"binary, positive class {self.classes[-1]!r}: {above}"
        elif self.task == "binary":
            what = f"binary, positive class {self.classes[-1]!r} (of {listed})"
        elif self.task == "multiclass":
            what = f"multiclass, {len(self.classes)} classes ({listed})"
        else:
            what = "regression"
        kinds = Counter(f.kind for f in self.features)
        n = len(self.features)
        parts = [f"label={self.label!r}: {what}",
                 f"{n} feature{'' if n == 1 else 's'}: "
                 + ", ".join(f"{count} {kind}" for kind, count in kinds.items())]  # fmt: skip
        parts += [f"{role}={name!r}" for role, name in (("id_column", self.id_column),
                  ("group_column", self.group_column)) if name]  # fmt: skip
        if self.dropped:
            parts.append(f"left out: {', '.join(self.dropped)}")
        if self.allowed_leaks:
            parts.append(f"allow_leak: {', '.join(self.allowed_leaks)}")
        return f"TableSchema({'; '.join(parts)})"

    # ----- inference -------------------------------------------------------------------------
    @classmethod
    def infer(
        cls,
        frame: pd.DataFrame,
        *,
        label: str,
        task: str | None = None,
        positive_above: float | None = None,
        positive_class: str | None = None,
        id_column: str | None = None,
        group_column: str | None = None,
        categorical: str | Sequence[str] = (),
        numeric: str | Sequence[str] = (),
        exclude: str | Sequence[str] = (),
        allow_leak: str | Sequence[str] = (),
        missing_codes: Mapping[str, Codes] | str | None = None,
        words: OptionWords = PYTHON,
    ) -> TableSchema:
        """Infer the schema from training rows ``frame``: ``label``, the column holding the
        outcome; ``task`` (binary, multiclass or regression; by default inferred from the
        label's values and said in a warning where it may be wrong); ``positive_above``: a
        numeric label's threshold making it binary (``num > 0``); ``id_column``: the patient
        id (never a feature; keeps a patient's rows on one side of every split);
        ``group_column``: the site or group (never a feature); ``categorical`` and
        ``numeric``: columns to read so, overriding the guess; ``exclude``: columns to leave
        out; ``allow_leak`` names features kept
        deliberately although they alone predict the label (see :mod:`medadapt.data.leaks`);
        ``missing_codes`` the numbers read as missing in a numeric feature (``{"chol": 0}``,
        or ``"chol=0"`` as on the command line). A column list may be one name
        (``exclude="id"``). ``words``: how errors and the reasons in ``dropped`` name the
        options (these arguments; the command line passes its flags'). ``positive_class``:
        which of a two-valued label's values is the outcome to detect (by default the one that
        sorts last, but ``yes`` of no/yes and the like; a text pair otherwise ordered warns).
        Infinite numbers and magnitudes beyond 1e15 are read as missing, as ``ma.read_table``
        reads a file's (a warning per column; ``frame`` itself is left as it is)."""
        for role, value in {"label": label, "id_column": id_column,
                            "group_column": group_column}.items():  # fmt: skip
            checks.of_type(value, role, str, f"a column's name ({role}='...')")
        columns = list(require_data_frame(frame).columns)
        if not columns:
            raise DataError(
                f"the table has no columns, so no label column {label!r} and no features: pass "
                "the training rows (a file: read it with ma.read_table(path) first)"
            )
        roles = {"label": label, "id_column": id_column, "group_column": group_column}
        checks.distinct_columns({words.name(role): name for role, name in roles.items()})
        _check_named_columns(columns, roles, words)
        categorical, numeric = as_names(categorical), as_names(numeric)
        exclude, allow_leak = as_names(exclude), as_names(allow_leak)
        missing_codes = _as_missing_codes(missing_codes)
        listed = {"categorical": categorical, "numeric": numeric, "exclude": exclude,
                  "allow_leak": allow_leak, "missing_code": list(missing_codes)}  # fmt: skip
        _check_listed_columns(columns, {words.name(o): names for o, names in listed.items()})
        frame, unusable = read_as_a_file(frame)  # 1e300 would make a mean 5e297
        frame = read_as_missing(frame, missing_codes)
        _refuse_identifier_label(frame, label, [id_column, group_column, *exclude], words)
        if task is not None and task not in TASKS:
            raise DataError(f"{words.name('task')} must be one of {', '.join(TASKS)}; got {task!r}")
        if positive_class is not None and positive_above is not None:
            raise DataError(
                f"{words.name('positive_class')} and {words.name('positive_above')} both say "
                "which label values are positive; give one of them"
            )
        chosen = None if positive_class is None else level(positive_class)
        schema = cls(label=label, task="binary", features=[], positive_above=positive_above,
                     positive_class=chosen)  # fmt: skip
        schema.id_column, schema.group_column = id_column, group_column
        schema.allowed_leaks = list(allow_leak)
        schema.excluded = [str(name) for name in exclude]  # not advised as unread later
        schema.missing_codes = missing_codes  # the label's own code too: no outcome
        if words.python:  # the command line says them with the rows it reads
            for said in unknown_outcome_warnings(frame[label], label, words):
                warnings.warn(said, UserWarning, stacklevel=2)
        labels = schema._raw_labels(frame, words)
        if positive_above is not None:
            _refuse_a_threshold_outside(frame[label], positive_above, words)
        schema._fit_label(labels.dropna(), task, words)
        counted = counted_classes_warning(schema, words) if task is None else None
        if counted is not None and words.python:  # the command line says it in its task line
            warnings.warn(counted, UserWarning, stacklevel=2)
        free = (free_text_label_warning(label, schema.classes, words)
                if schema.task != "regression" else None)  # fmt: skip
        if free is not None and words.python:  # the command line prints it with its task line
            warnings.warn(free, UserWarning, stacklevel=2)
        if words.python and schema.task == "multiclass":  # the command line's split refuses it
            _refuse_measured_classes(label, labels.dropna(), schema.classes, words)
        skip = {label, id_column, group_column, *exclude} - {None}
        texts: list[TextInNumbers] = []  # every such column, refused in one error
        for name in columns:
            if name not in skip:
                try:
                    schema._add_column(frame[name], name, (name in categorical, name in numeric),
                                       words)  # fmt: skip
                except TextInNumbers as found:
                    texts.append(found)
        if texts:
            raise texts_in_numbers_error(texts, words)
        if not schema.features:
            raise DataError(
                f"no usable feature columns besides the label {label!r}; dropped: "
                f"{schema.dropped or 'none'}"
            )
        numeric_names = {f.name for f in schema.numeric_features}
        for column in missing_codes:
            if column not in numeric_names and column != label:  # the label's: no outcome
                option = words.name("missing_code")
                given = f"{option}[{column!r}]" if words.python else f"{option} {column}"
                raise DataError(
                    f"{given}: not a numeric feature of the model (a code is read as missing in "
                    f"a numeric column; leave it out of {option})"
                )
        schema.missing_codes = missing_codes
        implicit = implicit_positive_class(schema, words)
        if implicit is not None and words.python:  # the command line prints it with the others
            warnings.warn(implicit, UserWarning, stacklevel=2)
        if words.python:  # the command line prints them with its other warnings
            for name in schema.identifiers:
                warnings.warn(dropped_warning(name, schema.dropped[name]), UserWarning,
                              stacklevel=2)  # fmt: skip
            used = [label, *(f.name for f in schema.features)]  # found here only: none in a
            for note in unusable_numbers_notes(unusable, used):  # frame ma.read_table gave
                warnings.warn(note, UserWarning, stacklevel=2)
        return schema

    def _add_column(
        self, series: pd.Series, name: str, declared: tuple[bool, bool], words: OptionWords
    ) -> None:
        """Add column ``name`` as a feature, or record why it is dropped (``declared``: given
        to categorical, to numeric)."""
        force_categorical, force_numeric = declared
        spec, reason = infer_feature(series, name, force_categorical, force_numeric, words)
        if spec is not None and spec.kind == "numeric":
            n_text = count_text_values(series)
            if n_text:
                self.text_as_missing[name] = n_text
        if spec is None and force_numeric and reason.startswith("declared numeric"):
            raise DataError(
                f"{words.set_to('numeric', name)}: the column holds no numbers; "
                f"leave it out of {words.name('numeric')} (or pass "
                f"{words.set_to('categorical', name)})"
            )
        if spec is None:
            self.dropped[name] = reason
            if reason.startswith((IDENTIFIER_REASON, DATE_REASON, FREE_TEXT_REASON)):
                self.identifiers.append(name)
        else:
            self.features.append(spec)

    def _raw_labels(self, frame: pd.DataFrame, words: OptionWords | None = None) -> pd.Series:
        """The label (0/1 above ``positive_above``); ``words``: while inferring, how to name
        the option (after it, the model's rule is fixed and the data must change)."""
        labels = read_label_as_missing(frame[self.label], self.missing_codes.get(self.label))
        if self.positive_above is not None:
            numeric = pd.to_numeric(labels, errors="coerce")
            if numeric.notna().sum() < labels.notna().sum():
                if words is not None:
                    raise DataError(
                        f"{words.name('positive_above')} needs a numeric label, but "
                        f"{self.label!r} has text values{_threshold_fix(labels, words)}"
                    )
                texts = labels[numeric.isna() & labels.notna()]
                raise DataError(
                    f"label column {self.label!r} has {text_values_said(texts)}, but the "
                    f"model calls a value above {self.positive_above:g} positive: fix those "
                    "values, or drop the rows"
                )
            return numeric.gt(self.positive_above).astype(float).where(numeric.notna())
        return labels

    def _fit_label(self, labels: pd.Series, task: str | None, words: OptionWords) -> None:
        explicit = task is not None
        if labels.empty:
            raise DataError(f"label column {self.label!r} has no values in the training rows")
        distinct = sorted({level(v) for v in labels}, key=natural_key)
        numeric = pd.to_numeric(labels, errors="coerce")
        all_numeric = bool(numeric.notna().all())
        n_text = _text_among_numbers(labels)
        typos = 0 < n_text <= TEXT_IN_NUMBERS_SHARE * len(labels)
        if task is None and not all_numeric and len(distinct) > MAX_CLASSES:
            _refuse_numbers_written_with_text(self.label, labels, numeric)
        if task is None and typos and len(distinct) > MAX_CLASSES:  # a measured value
            raise DataError(  # not "keep every value as a class": 183 values are no classes
                f"label column {self.label!r} holds numbers except "
                f"{_label_texts(labels, numeric)}; {LABEL_TEXT_FIX}"
            )
        n_numbers = int(numeric.notna().sum())
        many = len(distinct) > MAX_CLASSES and n_numbers > MAX_CLASSES
        if task is None and n_text and not typos and many:
            # too many numbers for classes, too much text for slips (a trial: "19 classes
            # ('42.0', '47.0', ...) have no rows on the training side", of 150 words in 442)
            raise DataError(
                f"label column {self.label!r} mixes numbers and text: "
                f"{_label_texts(labels, numeric)}, too many to be typing slips, beside "
                f"{n_numbers} numbers, too many different ones to be classes; {LABEL_TEXT_FIX}"
            )
        integer_like = all_numeric and bool((numeric.dropna() % 1 == 0).all())
        measured = all_numeric and (not integer_like or len(distinct) > MAX_CLASSES)
        if task is None:
            if measured:
                task = "regression"
            else:
                task = "binary" if len(distinct) <= 2 else "multiclass"
                if 2 < len(distinct) <= MAX_CLASSES:  # a typo adds a value: two are two classes
                    _refuse_label_typos(self.label, labels, task, words)
        self.task = task
        if self.positive_class is not None and task != "binary":
            raise DataError(
                f"{words.set_to('positive_class', self.positive_class)}: label column "
                f"{self.label!r} has {_values_found(labels)} in the rows read to train and "
                "test the model, not two; "
                f"{words.name('positive_class')} chooses which of two values is positive (a "
                f"numeric label: {words.set_to('positive_above', 'THRESHOLD', quote='none')}"
                + ("; or leave both out to predict it as a measured value" if task ==
                   "regression" else "") + ")"
            )  # fmt: skip
        if task == "regression":
            if not all_numeric and not numeric.notna().any():  # words, not numbers mistyped
                raise DataError(
                    f"regression needs a numeric label, and {self.label!r} holds text in every "
                    f"row ({len(distinct)} distinct values): its values are classes; drop "
                    f"{words.set_to('task', 'regression')} to predict them as classes"
                )
            if not all_numeric:
                raise DataError(
                    f"regression needs a numeric label; {self.label!r} has "
                    f"{_label_texts(labels, numeric)}; {LABEL_TEXT_FIX}"
                )
            if numeric.nunique() < 2:  # nothing to learn, and R² is undefined (no value said)
                raise DataError(_one_value(self.label, "of a measured value needs it", words))
            if explicit and numeric.nunique() == 2:  # a yes/no outcome (1/2) read as a value
                low, high = (f"{v:g}" for v in sorted(numeric.dropna().unique()))
                warnings.warn(
                    f"label {self.label!r} has only two values ({low} and {high}), taken as a "
                    f"measured value because of {words.set_to('task', 'regression')}: a yes/no "
                    "outcome so read gets a mean and an R-squared, not a risk; drop "
                    f"{words.set_to('task', 'regression')} to predict it as two classes (or "
                    f"pass {words.set_to('positive_above', low)})",
                    UserWarning,
                    stacklevel=3,
                )
            self.label_mean = float(numeric.mean())
            self.label_std = float(numeric.std(ddof=0)) or 1.0
            return
        _refuse_classes_in_two_spellings(self.label, distinct, words)
        if len(distinct) < 2 and all_numeric and not explicit and distinct[0] not in ("0", "1"):
            # a measured value, perhaps (a 0/1 column with one answer: a class, below)
            raise DataError(_one_value(
                self.label, "needs the outcome", words,
                " (two classes or more, or a measured value that varies)",
            ))  # fmt: skip
        if len(distinct) < 2:
            raise DataError(
                f"label column {self.label!r} has only one class ({distinct[0]!r}) in the "
                "training rows; a classifier needs two or more: check the label or the group filter"
            )
        if task == "multiclass" and len(distinct) == 2:  # sklearn's traceback after training
            raise DataError(
                f"label column {self.label!r} has 2 classes in the training rows "
                f"({distinct[0]!r}, {distinct[1]!r}); {words.set_to('task', 'multiclass')} "
                f"needs 3 or more: leave {words.name('task')} out (two classes make a binary "
                f"model; {words.name('positive_class')} chooses the outcome)"
            )
        if task == "binary" and len(distinct) > 2:
            threshold = words.set_to("positive_above", "THRESHOLD", quote="none")
            if measured:  # a measured value: no classes at all
                raise DataError(
                    f"label column {self.label!r} is a measured value ({len(distinct)} distinct "
                    f"numbers), not 2 classes; use {words.set_to('task', 'regression')} to "
                    f"predict it, or {threshold} to call the values above it positive"
                )
            raise DataError(
                f"label column {self.label!r} has {len(distinct)} classes, not 2; use "
                f"{words.set_to('task', 'multiclass')} or {threshold}"
            )
        self.classes = distinct
        if task == "binary":
            self.classes = self._negative_then_positive(distinct, labels, words)

    def _negative_then_positive(
        self, distinct: list[str], labels: pd.Series, words: OptionWords
    ) -> list[str]:
        """The two classes, the positive one last: ``positive_class``, else the plain one of
        a pair such as no/yes (:data:`PLAIN_POSITIVES`), else the one that sorts last,
        whatever its case (a trial's Malignant/benign made 'benign' positive, its capital
        sorting first)."""
        positive = self.positive_class
        if positive is None:
            distinct = sorted(distinct, key=lambda name: (natural_key(name.casefold()), name))
            first, second = (name.casefold() for name in distinct)
            plain = PLAIN_POSITIVES.get(second) == first
            return distinct[::-1] if plain else distinct
        if positive not in distinct:
            raise DataError(
                f"{words.set_to('positive_class', positive)} is not a value of label column "
                f"{self.label!r} in the rows read to train and test the model; they have "
                f"{_values_found(labels)}"
                f"{checks.did_you_mean(positive, distinct)}"
            )
        return [name for name in distinct if name != positive] + [positive]

    # ----- encoding --------------------------------------------------------------------------
    @property
    def numeric_features(self) -> list[FeatureSpec]:
        return [f for f in self.features if f.kind == "numeric"]

    @property
    def categorical_features(self) -> list[FeatureSpec]:
        return [f for f in self.features if f.kind == "categorical"]

    def absent_columns(self, frame: pd.DataFrame) -> list[str]:
        """Feature columns the model uses that ``frame`` lacks."""
        return [f.name for f in self.features if f.name not in frame]

    def unread_columns(self, frame: pd.DataFrame, named: Sequence[str | None] = ()) -> list[str]:
        """The columns of ``frame`` the model does not read and was not told of when it
        trained: neither a feature nor the label (in any case), the patient or group column,
        a column it dropped then (said at train-base), one of ``named`` (those the command
        names), nor
        one whose name reads as a record number or a date (never a feature), nor one left out
        with ``--exclude`` (a trial's excluded leak was advised "train a new base to use it"
        on every run). Names only, never a value."""
        known = {f.name for f in self.features} | set(self.dropped) | set(self.excluded)
        known |= {self.label, self.id_column, self.group_column, *named}
        told = {str(name) for name in known if name is not None}
        told |= {str(c) for c in frame.columns if str(c).casefold() == str(self.label).casefold()}
        never = (name_looks_like_identifier, name_looks_like_date)  # features never: no advice
        return [
            str(column)
            for column in frame.columns
            if str(column) not in told and not any(looks(column) for looks in never)
        ]

    def require_columns(self, frame: pd.DataFrame, *, allow_absent: bool = False) -> None:
        """Refuse a table that lacks feature columns (they would silently become missing);
        ``allow_absent`` (``--allow-absent-columns``): only one that lacks all of them (a trial
        gave a diabetes base breast-cancer data, followed the advice to pass the flag, and was
        shown a sample-size plan and an R-squared of -119048 for a model reading no column)."""
        absent = self.absent_columns(frame)
        named = ", ".join(map(repr, absent[:5])) + (
            f" and {len(absent) - 5} more" if len(absent) > 5 else ""
        )
        if absent and len(absent) == len(self.features):
            cased = {str(c).casefold(): str(c) for c in frame.columns}
            if all(str(name).casefold() in cased for name in absent):  # 'AGE' for 'age' ...
                shown = ", ".join(f"{cased[str(n).casefold()]!r} for {n!r}" for n in absent[:3])
                raise DataError(  # a trial's upper-cased export: "trained on other data"
                    f"the table's columns are the model's feature columns in other upper/lower "
                    f"case ({shown}, ...): column names are matched exactly; rename them in "
                    f"--data as the model's ({named})"
                )
            raise DataError(
                f"none of the model's {len(absent)} feature columns ({named}) is in the table: "
                f"it was trained on other data than this (predicting {self.label!r}); check "
                "--data, or pass the --base trained for it"
            )
        if not absent or allow_absent:
            return
        renames = self.likely_renames(frame)
        hints = [f"its {renames[name]!r} may be {name!r}" for name in absent if name in renames]
        unmatched = [name for name in absent if name not in renames]  # (a trial read "did you
        hint = f" ({'; '.join(hints)})" if hints else ""  # mean 'raduis' for 'radius'?" back)
        columns = "column" if len(absent) == 1 else "columns"  # a trial: "column(s) ... are"
        if len(absent) * 2 > len(self.features):  # most of them: likely another model's data
            raise DataError(  # (a trial's diabetes base, 8 of its 10 columns absent from the
                # heart data, was told to add them as empty columns or pass the flag)
                f"{len(absent)} of the model's {len(self.features)} feature columns are not in "
                f"the table ({named}){hint}: it may have been trained on other data than this "
                f"(predicting {self.label!r}); check --data, or pass the --base trained for "
                f"it; if this is its data, {_absent_fix(len(hints), unmatched)}"
            )
        raise DataError(
            f"the model's feature {columns} {', '.join(map(repr, absent))} "
            f"{'is' if len(absent) == 1 else 'are'} not in the table{hint}; "
            f"{_absent_fix(len(hints), unmatched)}"
        )

    def likely_renames(self, frame: pd.DataFrame) -> dict[str, str]:
        """For each feature column ``frame`` lacks, the column of ``frame`` that is likely it
        under another name (``'Cholesterol'`` or ``'cholesterol_mg_dl'`` for ``'chol'``),
        where one is: one column offered for one feature only, and never a column the model
        reads already (renamed, ``'thalch'`` would become ``'thal'`` and its own values be
        lost)."""
        taken = {str(f.name) for f in self.features} | {
            str(c) for c in (self.label, self.id_column, self.group_column) if c is not None
        }
        offered = [str(c) for c in frame.columns if str(c) not in taken]
        renames = {}
        for name in map(str, self.absent_columns(frame)):
            lowered = {c.lower(): c for c in offered}
            close = (
                lowered.get(name.lower())
                or next(iter(difflib.get_close_matches(name, offered, n=1)), None)
                or _with_a_unit(name, offered)
                or _spelt_out(name, offered)
            )
            if close is not None:
                renames[name] = close
                offered.remove(close)
        return renames

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.task == "multiclass" else 1

    def encode(self, frame: pd.DataFrame, *, with_labels: bool = True) -> EncodedTable:
        """Encode ``frame`` (rows with a missing label are refused when ``with_labels``)."""
        frame = read_as_missing(frame, self.missing_codes)
        n = len(frame)
        x_num = torch.full((n, len(self.numeric_features)), float("nan"))
        missing: dict[str, int] = {}
        text: dict[str, int] = {}
        for j, spec in enumerate(self.numeric_features):
            if spec.name not in frame:
                missing[spec.name] = n
                continue
            n_text = count_text_values(frame[spec.name])
            if n_text:
                text[spec.name] = n_text
            numbers = pd.to_numeric(frame[spec.name], errors="coerce")
            values = numbers.to_numpy(dtype=float, copy=True)  # never the caller's frame
            values[np.isinf(values)] = np.nan  # missing, as read_table reads it from a file
            standardised = np.clip((values - spec.mean) / spec.std, -10.0, 10.0)
            x_num[:, j] = torch.from_numpy(standardised).float()
            missing[spec.name] = int(np.isnan(values).sum())
        x_cat = torch.zeros((n, len(self.categorical_features)), dtype=torch.long)
        unseen: dict[str, int] = {}
        for j, spec in enumerate(self.categorical_features):
            if spec.name not in frame:
                missing[spec.name] = n
                continue
            codes = _category_codes(spec, frame[spec.name].tolist())
            x_cat[:, j] = torch.tensor(codes, dtype=torch.long)
            missing[spec.name] = codes.count(MISSING_INDEX)
            if codes.count(UNSEEN_INDEX):
                unseen[spec.name] = codes.count(UNSEEN_INDEX)
        y = self.encode_labels(frame) if with_labels else None
        return EncodedTable(
            x_num=x_num, x_cat=x_cat, y=y, unseen=unseen, missing=missing, text_as_missing=text
        )

    def encode_records(self, records: list[dict[str, Any]]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x_num, x_cat)`` for a few records (dicts), without pandas: the serving path.

        Values must already be numbers or None for numeric features (the API validates them).
        """
        codes = self.missing_codes
        numeric = [
            [
                (float(r[f.name]) - f.mean) / f.std
                if not is_missing_value(r.get(f.name), codes.get(f.name))
                else math.nan
                for f in self.numeric_features
            ]
            for r in records
        ]
        x_num = torch.tensor(numeric, dtype=torch.float32).reshape(
            len(records), len(self.numeric_features)
        )
        x_num = x_num.clamp(-10.0, 10.0)  # NaN (missing) stays NaN
        columns = [
            _category_codes(f, [r.get(f.name) for r in records]) for f in self.categorical_features
        ]
        x_cat = torch.tensor(columns, dtype=torch.long).reshape(-1, len(records)).T
        return x_num, x_cat.reshape(len(records), len(self.categorical_features))

    def encode_labels(self, frame: pd.DataFrame, words: OptionWords = PYTHON) -> torch.Tensor:
        """Class indices, or standardised values for regression; ``words``: whose words a
        refusal names the fix in (the command line's ``--data`` or the Python frame)."""
        if self.task == "regression":
            values = self.measured_labels(frame)
            return torch.from_numpy((values - self.label_mean) / self.label_std).float()
        labels = self._present_labels(frame)
        lookup = {c: i for i, c in enumerate(self.classes)}
        levels = [level(v) for v in labels]
        counts = Counter(levels)
        unknown = sorted(set(counts) - set(lookup))
        if unknown:
            raise DataError(self._unknown_labels(unknown, counts, words))
        return torch.tensor([lookup[v] for v in levels], dtype=torch.long)

    def measured_labels(self, frame: pd.DataFrame) -> np.ndarray:
        """A regression label in its own unit, as float64 (a trial's ``ma.true_labels`` gave
        a measured 245 as 244.99998, through the standardised float32 values)."""
        labels = self._present_labels(frame)
        present = labels[[not is_missing(v) for v in labels]]
        texts = present[pd.to_numeric(present, errors="coerce").isna()]
        if len(texts):  # they would train and score as NaN; said as train-base says them
            raise DataError(_measured_label_texts(self.label, texts, everyone=len(present)))
        return pd.to_numeric(labels, errors="coerce").to_numpy(dtype=float)

    def of_known_classes(self, frame: pd.DataFrame) -> np.ndarray:
        """Which rows' labels the model can read as one of its classes (every row, for a
        measured value; a present number, where a threshold makes the classes)."""
        if self.task == "regression":
            return np.ones(len(frame), dtype=bool)
        labels = read_label_as_missing(frame[self.label], self.missing_codes.get(self.label))
        if self.positive_above is not None:
            return pd.to_numeric(labels, errors="coerce").notna().to_numpy()
        return np.array([not is_missing(v) and level(v) in self.classes for v in labels],
                        dtype=bool)  # fmt: skip

    def _present_labels(self, frame: pd.DataFrame) -> pd.Series:
        """The label column, refused where it is absent or has missing values."""
        if self.label not in frame:
            raise DataError(f"label column {self.label!r} is not in the table")
        labels = self._raw_labels(frame)
        if labels.isna().any():
            raise DataError(
                f"label column {self.label!r} is missing for {int(labels.isna().sum())} rows; "
                "drop them or fill the label"
            )
        return labels

    def _unknown_labels(self, unknown: list[str], counts: Counter[str], words: OptionWords) -> str:
        """The refusal of label values that are none of the model's classes: each with its
        rows and the class it is spelt like (``Malignant`` for ``malignant``: case and spacing
        too), and where to correct them; a measured value's numbers only counted."""
        n = sum(counts[name] for name in unknown)
        if measured_looking(unknown) or len(unknown) > 10:  # patients' values: never echoed
            shown = f"{plural(len(unknown), 'value')} ({plural(n, 'row')})"
        else:
            each = [f"{name!r} ({plural(counts[name], 'row')})" for name in unknown]
            shown = f"{'values' if len(each) > 1 else 'the value'} {', '.join(each)}"
        alike = []
        for name in unknown[:10]:
            like = [c for c in self.classes if spelt_alike(name, c)]
            alike += [f"{like[0]!r} for {name!r}"] if like else []
        where = "the frame" if words.python else words.name("data")
        said = (
            f"label column {self.label!r} has {shown} that the model was not trained on (its "
            f"classes: {', '.join(map(repr, self.classes))})"
        )
        if alike:
            meant = ", ".join(alike[:3])
            return f"{said}; did you mean {meant}? Correct those rows in {where}, or drop them"
        if (
            sorted(unknown) == ["0", "1"]
            and len(self.classes) == 2
            and not set(self.classes) & {"0", "1"}
        ):  # another coding of the same two classes (a trial's 1/0 for Yes/No)
            no, yes = self.classes
            return (f"{said}: if 0 and 1 stand for {no!r} and {yes!r}, write them so in "
                    f"{where} (the model's positive class is {yes!r})")  # fmt: skip
        classes = not measured_looking(unknown) and len(unknown) <= 10  # not another column's
        relearn = "" if words.python or not classes else (
            "; a class the base model never learned needs a base trained on data that holds it "
            "(medadapt train-base)")  # fmt: skip
        return f"{said}; correct those rows in {where}, or drop them{relearn}"

    def labelled_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``frame`` that have a label (:func:`unlabelled_note` says how many
        were left out)."""
        return frame[self._raw_labels(frame).notna()]

    # ----- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableSchema:
        data = dict(data)
        data["features"] = [FeatureSpec(**f) for f in data["features"]]
        return cls(**data)


UNKNOWN_OUTCOME_WORDS = frozenset({
    "unknown", "not known", "unk", "missing", "not recorded", "not available", "n.d.", "nd",
    "n/k", "nk", "not done", "pending", "to follow", "n/a", "na", "n.a.", "tbd",
    "to be determined",
})  # fmt: skip
UNKNOWN_OUTCOME_STARTS = ("awaiting ", "pending ")
"""A label cell starting so says the outcome is not known yet ("awaiting histology")."""


def _says_unknown(text: pd.Series) -> pd.Series:
    """Per label cell (stripped): whether it says the outcome is not known (a word of
    :data:`UNKNOWN_OUTCOME_WORDS`, or a phrase starting as :data:`UNKNOWN_OUTCOME_STARTS`;
    " n/a " padded in a trial's file was refused as an unknown class)."""
    folded = text.str.casefold()
    said = folded.isin(UNKNOWN_OUTCOME_WORDS) | folded.str.startswith(UNKNOWN_OUTCOME_STARTS)
    return said.fillna(False).astype(bool)


"""Label cells that say the outcome is not known (compared without case or outer spaces):
read as no label, as a blank cell is, never as a class of their own ("?", "NA" and "." are
missing as the file is read)."""


def read_label_as_missing(labels: pd.Series, code: Codes | None = None) -> pd.Series:
    """``labels`` with the cells that say the outcome is not known
    (:data:`UNKNOWN_OUTCOME_WORDS`) and the label's own ``--missing-code`` (``code``: -9)
    read as missing.

    >>> read_label_as_missing(pd.Series(["yes", " Unknown", "no", "-9"]), -9).tolist()
    ['yes', nan, 'no', nan]
    """
    unknown = _says_unknown(labels.astype("string").str.strip())
    if code is not None:
        unknown |= pd.to_numeric(labels, errors="coerce").isin(as_codes(code)).astype(bool)
    return labels.where(~unknown) if unknown.any() else labels


def unknown_outcome_said(
    labels: pd.Series, label: str, rows: str | None = None
) -> tuple[int, str | None]:
    """How many label cells say the outcome is not known (:data:`UNKNOWN_OUTCOME_WORDS`), and
    the warning naming those words (None where none does); ``rows``: the rows in words
    (``"the 154 rows of site = East"``; by default ``"N rows"``). A trial's adapt said 8
    "pending" labels had "no value", as if the cells were empty.

    >>> print(unknown_outcome_said(pd.Series(["yes", "Pending", ""]), "y")[1])
    ... # doctest: +NORMALIZE_WHITESPACE
    label column 'y' says 'Pending' in 1 of 3 rows: the outcome is not known there, so those
    rows are left out, as rows without a label are (a missing outcome is never guessed)
    """
    text = labels.astype("string").str.strip()
    said = _says_unknown(text)
    if not said.any():
        return 0, None
    shown = ", ".join(repr(v) for v in sorted(set(text[said].tolist())))
    n = int(said.sum())
    return n, (
        f"label column {label!r} says {shown} in {n} of {rows or f'{len(labels)} rows'}: the "
        "outcome is not known there, so those rows are left out, as rows without a label are "
        "(a missing outcome is never guessed)"
    )


def unknown_outcome_warnings(
    labels: pd.Series, label: str, words: OptionWords = PYTHON
) -> list[str]:
    """Warnings on the label cells of the training rows (``labels``, as the file holds them)
    that say the outcome is not known (left out: :func:`read_label_as_missing`), or that look
    like a number written for "not recorded" (-9, 99, 999 ... beyond every other value)
    without ``--missing-code`` for the label: such a code is a class of its own, or, with
    ``--positive-above``, an outcome. Counts only, never a row.

    >>> print(unknown_outcome_warnings(pd.Series([0, 1, -9, 1, 0, -9]), "y")[0])
    ... # doctest: +NORMALIZE_WHITESPACE
    label column 'y' is -9 in 2 of 6 rows, below all its other values: if -9 means 'not
    recorded', pass missing_codes={'y': -9} to leave those rows out (it is read as an outcome
    now)
    """
    out = []
    _, said = unknown_outcome_said(labels, label)
    if said is not None:
        out.append(said)
    numeric = pd.to_numeric(labels, errors="coerce")
    values = numeric[numeric.notna()].to_numpy(dtype=float)
    if len(values) < len(labels.dropna()) or not len(values):
        return out  # text labels: no number code
    for code in SENTINELS:
        rows = int((values == code).sum())
        others = values[values != code]
        if not rows or not len(others):
            continue
        beyond = (others.min() >= 0 if code < 0
                  else others.max() > 0 and code >= SENTINEL_GAP * others.max())  # fmt: skip
        if beyond:
            where = "below" if code < 0 else "far above"
            given = words.set_to("missing_code", f"{label}={code:g}")
            out.append(
                f"label column {label!r} is {code:g} in {rows} of {len(labels)} rows, {where} "
                f"all its other values: if {code:g} means 'not recorded', pass {given} to "
                "leave those rows out (it is read as an outcome now)"
            )
            break
    return out


MEASURED_LABEL_VALUES = 20
"""A numeric label with at least this many distinct values is a measurement (a grade or a
count of a few values is not): made yes/no by ``--positive-above``, it is said so."""


def dichotomised_warning(
    values: pd.Series, schema: TableSchema, words: OptionWords = PYTHON
) -> list[str]:
    """A warning where ``--positive-above`` turns a measured label (``values``, the training
    rows': :data:`MEASURED_LABEL_VALUES` distinct numbers or more) into yes/no: the model then
    learns the side of the threshold a patient is on, not how far, which a clinician may not
    expect of a model trained on the measurement (Altman & Royston, BMJ 2006;332:1080).

    >>> schema = TableSchema(label="hba1c", task="binary", features=[], positive_above=6.5)
    >>> dichotomised_warning(pd.Series(range(40)), schema)  # doctest: +ELLIPSIS
    ["positive_above=6.5 makes 'hba1c', a measurement (40 distinct values here), yes/no: ..."]
    """
    if schema.positive_above is None:
        return []
    distinct = int(pd.to_numeric(values, errors="coerce").nunique())
    if distinct < MEASURED_LABEL_VALUES:
        return []
    threshold = f"{schema.positive_above:g}"
    given = words.set_to("positive_above", threshold, quote="none")
    return [
        f"{given} makes {schema.label!r}, a measurement ({distinct} distinct values here), "
        f"yes/no: the model learns only whether a patient is above {threshold}, not by how "
        f"much (just above and far above count alike); keep it if {threshold} defines the "
        f"outcome clinically, or drop {words.name('positive_above')} to predict the value "
        "itself"
    ]


def implicit_positive_class(schema: TableSchema, words: OptionWords = PYTHON) -> str | None:
    """The warning for a two-valued text label whose positive class nothing chose: neither
    ``positive_class`` nor a plain pair such as no/yes, so the one that sorts last is positive
    (``Healthy`` of Disease/Healthy, and then sensitivity is about the healthy patients).
    None when the choice is plain or was made."""
    if schema.task != "binary" or len(schema.classes) != 2:
        return None
    if schema.positive_class is not None or schema.positive_above is not None:
        return None
    negative, positive = schema.classes
    if PLAIN_POSITIVES.get(negative.casefold()) == positive.casefold():
        return None
    if all(checks.is_number(name) for name in schema.classes):  # 1/2: SPSS's yes/no
        common = (
            " (1 = disease, 2 = healthy is common in registry/SPSS exports)"
            if (negative, positive) == ("1", "2")
            else ""
        )
        return (
            f"positive class {positive!r} chosen as the larger of {negative!r} and "
            f"{positive!r}; if {negative!r} is the outcome{common}, pass "
            f"{words.set_to('positive_class', negative)}"
        )
    return (
        f"label column {schema.label!r}: {positive!r} is treated as the positive class "
        "(sensitivity and the predicted probability are about it) only because it sorts after "
        f"{negative!r}; choose with {words.name('positive_class')}: "
        f"{words.set_to('positive_class', negative)} if {negative!r} is the outcome to detect, "
        f"{words.set_to('positive_class', positive)} to keep this"
    )


def unlabelled_note(
    label: str, n_rows: int, n_labelled: int, whose: str = "", *, where: str | None = None
) -> str | None:
    """How many of ``n_rows`` rows were left out for want of an outcome, in the words of the
    command line's train-base (a count only; ``whose``: "the file's " where the rows are a
    whole file; ``where``: the group they are, where one was chosen); None when every row
    has a label.

    >>> unlabelled_note("y", 10, 9)
    "1 of 10 rows has no value in label column 'y': left out (a missing outcome is never guessed)"
    >>> print(unlabelled_note("y", 101, 99, where="site = East"))  # doctest: +ELLIPSIS
    2 of the 101 rows of site = East have no value in label column 'y': left out ...
    >>> unlabelled_note("y", 10, 10) is None
    True
    """
    if n_labelled == n_rows:
        return None
    rows = f"{whose}{n_rows} rows" if where is None else f"the {n_rows} rows of {where}"
    return (
        f"{n_rows - n_labelled} of {rows} {'has' if n_rows - n_labelled == 1 else 'have'} "
        f"no value in label column "
        f"{label!r}: left out (a missing outcome is never guessed)"
    )


def numbers_read_as_classes(classes: Sequence[str]) -> bool:
    """Whether a label's classes are a few whole numbers that :func:`counted_classes_warning`
    warns of (0 among them, or numbers that look measured): what the task line then leaves
    to that warning."""
    return _whole_numbers(classes) and ("0" in classes or looks_measured(classes))


def counted_classes_warning(schema: TableSchema, words: OptionWords = PYTHON) -> str | None:
    """The warning for a label of a few whole numbers, 0 among them (a count of diseased
    vessels, a grade), inferred to be classes: one model output per number, where a yes/no
    outcome ("any disease": above 0) is often meant. None for any other label. Names the
    label's classes only (as the task line does), never a patient's value."""
    classes = schema.classes
    if schema.task != "multiclass" or not numbers_read_as_classes(classes):
        return None
    n = len(classes)
    scored = looks_measured(classes)
    built = (f"label column {schema.label!r} has {n} classes ({', '.join(map(repr, classes))}), "
             f"so a {n}-class model is built")  # fmt: skip
    # (a trial's wine classes 0-2 read "--task multiclass to keep the 3 classes", beside a
    # model of 3 classes already: it says the classes are meant, and this warning goes)
    keep = f"if the {n} classes are meant, {words.set_to('task', 'multiclass')} to say so"
    measured = (f"{words.set_to('task', 'regression')} if it is a count or a score (its numbers "
                "ordered)")  # fmt: skip
    if "0" not in classes:
        return f"{built}, each number a class of its own with no order; pass {measured}, or {keep}"
    yes_no = f"{words.set_to('positive_above', '0', quote='none')} (a value above 0 is positive)"
    also = f", {measured}" if scored else ""
    return f"{built}; for a yes/no outcome pass {yes_no}{also}, or {keep}"


MANY_NUMBERS = 6
"""From this many whole-number classes a label may be a count or a score rather than classes
(a trial: a 13-valued progression score taken as 13 unordered classes, accuracy 0.219)."""


def looks_measured(classes: list[str]) -> bool:
    """Whether whole-number ``classes`` are many enough to be a count or a score."""
    return len(classes) >= MANY_NUMBERS and _whole_numbers(classes)


def _whole_numbers(classes: Sequence[str]) -> bool:
    return all(checks.is_number(name) and float(name) % 1 == 0 for name in classes)


def _refuse_a_threshold_outside(labels: pd.Series, threshold: float, words: OptionWords) -> None:
    """A threshold at or above every value of a numeric label (``--positive-above 5`` on
    ``num``, 0 to 4), or below every one, leaves one class: said so, naming the option and
    the label's range (was: "only one class ('0') ... check the label or the group filter")."""
    numeric = pd.to_numeric(labels, errors="coerce").dropna()
    if numeric.empty:
        return
    low, high = float(numeric.min()), float(numeric.max())
    if low <= threshold < high:
        return
    every = "negative (none is above it)" if threshold >= high else "positive (all are above it)"
    said = words.set_to("positive_above", f"{threshold:g}", quote="none")
    if numeric.nunique() >= MIN_DISTINCT:  # a measurement: its extremes are two patients'
        q1, q3 = (float(q) for q in numeric.quantile([0.25, 0.75]))
        where = "at or below" if threshold >= high else "above"
        raise DataError(
            f"{said}: every value of the label {labels.name!r} in the training rows is "
            f"{where} it, so every row would be {every}; choose a threshold within its range "
            f"(the middle half of its values runs from {q1:.3g} to {q3:.3g})"
        )
    raise DataError(
        f"{said}: the label {labels.name!r} runs from {low:g} to {high:g} in the training "
        f"rows, so every row would be {every}; choose a threshold from {low:g} up to below "
        f"{high:g}"
    )


def _threshold_fix(labels: pd.Series, words: OptionWords) -> str:
    """How to choose the positive class of a two-valued text label given a numeric threshold
    (``positive_above`` on yes/no): name the value with ``positive_class`` instead. Names the
    label's two values, its classes (never the values of a label with more)."""
    values = sorted({level(v) for v in labels if not is_missing(v)}, key=natural_key)
    if len(values) != 2:
        return ""
    negative, positive = values
    if PLAIN_POSITIVES.get(positive.casefold()) == negative.casefold():
        negative, positive = positive, negative  # 'Yes' sorts before 'no' (upper case first)
    if PLAIN_POSITIVES.get(negative.casefold()) == positive.casefold():
        return (
            f" ({negative!r} and {positive!r}): pass "
            f"{words.set_to('positive_class', positive)} instead to call {positive!r} positive"
        )
    return (
        f" ({negative!r} and {positive!r}): pass "
        f"{words.set_to('positive_class', negative)} or "
        f"{words.set_to('positive_class', positive)} instead, naming the outcome to detect"
    )


def measured_looking(classes: Sequence[str]) -> bool:
    """Whether a label's distinct values (as classes are written) read as a measured value,
    not classes: all numbers, and a fraction among them or more than :data:`MAX_CLASSES`."""
    if not classes or not all(checks.is_number(name) for name in classes):
        return False
    return len(classes) > MAX_CLASSES or any(float(name) % 1 for name in classes)


def untrained_classes_error(
    label: str, classes: Sequence[str], untrained: Sequence[str], words: OptionWords
) -> str:
    """The refusal of classes with no training rows. A measured-looking label (``--task
    multiclass`` on a measured value) is said as :meth:`TableSchema._fit_label` says it for
    two classes, by counts only: its values are patients' measurements, never echoed."""
    if measured_looking(classes):
        have = "has" if len(untrained) == 1 else "have"
        why = f"{len(untrained)} of them {have} no rows on the training side of the split"
        return _measured_classes_error(label, len(classes), why, words)
    shown = ", ".join(map(repr, untrained[:5])) + (" ..." if len(untrained) > 5 else "")
    has = "has" if len(untrained) == 1 else "have"
    return (
        f"label column {label!r}: {plural(len(untrained), 'class', 'classes')} ({shown}) "
        f"{has} no rows on the training side of the split (too few rows to split); merge or "
        f"drop rare classes, or, for a measured value, pass {words.set_to('task', 'regression')}"
    )


def _measured_classes_error(label: str, n_classes: int, why: str, words: OptionWords) -> str:
    """The refusal of a measured value's ``n_classes`` numbers taken as classes (``why``: how
    many of them a classifier cannot learn, counts only)."""
    threshold = words.set_to("positive_above", "THRESHOLD", quote="none")
    return (
        f"label column {label!r} is a measured value ({n_classes} distinct numbers), not "
        f"classes: {why}, so a classifier cannot learn them; use "
        f"{words.set_to('task', 'regression')} to predict it, or {threshold} to call the "
        "values above it positive"
    )


def _refuse_measured_classes(
    label: str, labels: pd.Series, classes: Sequence[str], words: OptionWords
) -> None:
    """Refuse ``task='multiclass'`` on a measured value whose classes include values of a
    single row: no split can put such a class on both its sides (the command line refuses
    those its test split leaves without training rows, :func:`untrained_classes_error`)."""
    if not measured_looking(classes):
        return
    counts = Counter(level(v) for v in labels)
    single = sum(1 for name in classes if counts[name] == 1)
    if single:
        why = f"{single} of them {'has' if single == 1 else 'have'} a single row"
        raise DataError(_measured_classes_error(label, len(classes), why, words))


def dropped_warning(column: str, reason: str) -> str:
    """The warning for column ``column`` dropped as a record identifier or a date (``reason``:
    why, and how to keep it, in the caller's words)."""
    return f"column {column!r} is not used as a feature: it {reason}"


def _values_found(labels: pd.Series, limit: int = 10) -> str:
    """A label's values with their number of rows (``'Disease' (411 rows) and 'Healthy' (186
    rows)``), or only how many there are beyond ``limit``."""
    counts = Counter(level(v) for v in labels if not is_missing(v))
    if len(counts) > limit:
        return f"{len(counts)} distinct values"
    ordered = sorted(counts.items(), key=lambda item: natural_key(item[0]))
    shown = [f"{name!r} ({plural(n, 'row')})" for name, n in ordered]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _refuse_identifier_label(
    frame: pd.DataFrame, label: str, taken: Sequence[str | None], words: OptionWords
) -> None:
    """Refuse a label column that names records rather than an outcome (``mrn``, a text id
    of nearly one value per row, record numbers in sequence): a model would learn to tell the
    patients apart, and their ids would become its class names (kept in the model, listed on
    the terminal). A measured value (numbers, numbers written with a unit, or mostly numbers
    with a few words among them) is judged by its name and by a sequence only: its many values
    are no reason. Never echoes a value."""
    present = frame[label][[not is_missing(v) for v in frame[label]]]
    if present.empty:
        return  # the label's own check says so
    numbers = pd.to_numeric(present, errors="coerce")
    numeric = bool(numbers.notna().all())
    texts = present[numbers.isna()]
    measured = _numbers_written_with_text(texts)
    values = numbers.tolist() if numeric else [level(v) for v in present]
    # mostly numbers and a few words ("pending"): a measured value's cells to fix, said by the
    # label's own checks (a trial's 3 text cells among 235 values were called record names)
    by_values = 2 * measured < len(texts) and 2 * int(numbers.notna().sum()) <= len(present)
    reason = label_identifier_reason(label, values, numeric=numeric, by_values=by_values)
    if reason is not None:
        findings = outcome_columns(frame.columns, [label, *taken])
        raise DataError(identifier_label_error(label, reason, findings, words))


def _refuse_classes_in_two_spellings(
    label: str, classes: Sequence[str], words: OptionWords
) -> None:
    """Classes that differ only in upper/lower case ("Yes" and "yes") are one outcome written
    two ways: as classes they would make a yes/no outcome a three-class one. ``words``: the
    Python API's say the frame, not the file (a trial's DataFrame was told "in the file")."""
    spellings: dict[str, list[str]] = {}
    for name in classes:
        spellings.setdefault(name.casefold(), []).append(name)
    doubled = [names for names in spellings.values() if len(names) > 1]
    if doubled:
        shown = "; ".join(" and ".join(map(repr, names)) for names in doubled[:3])
        raise DataError(
            f"label column {label!r} writes one class in several ways ({shown}: they differ "
            "only in upper/lower case); write each class one way in the "
            + ("frame" if words.python else "file")
        )


def _refuse_label_typos(label: str, labels: pd.Series, task: str, words: OptionWords) -> None:
    """Refuse a rare label value (in under :data:`RARE_LABEL_SHARE` of the rows, or under
    :data:`RARE_LABEL_ROWS` rows) spelt like a commoner one (``malignent`` beside
    ``malignant``): a typo would silently become a class of its own. ``task``: what the label
    is inferred to be, which, given explicitly, keeps a rare class that is real."""
    counts = Counter(level(v) for v in labels if not is_missing(v))
    total = sum(counts.values())
    for name, n in sorted(counts.items(), key=lambda item: (item[1], item[0])):
        if n >= RARE_LABEL_ROWS and n >= RARE_LABEL_SHARE * total:
            continue
        like = [o for o, m in counts.items() if m > n and spelt_alike(name, o, folded_alike=False)]
        if not like:
            continue
        # the nearest spelling, then the commoner (a trial's 'cultivar_bb' was said to be
        # 'cultivar_a', two edits away and commoner, not 'cultivar_b', one edit away)
        other = min(like, key=lambda o: (edit_distance(name.casefold(), o.casefold()),
                                         -counts[o]))  # fmt: skip
        where = "the frame" if words.python else words.name("data")
        raise DataError(
            f"label column {label!r} has {plural(n, 'row')} of {name!r}, spelt like "
            f"{other!r} ({counts[other]} rows): a typo would become a class of its own; "
            f"correct them in {where}, or, if {name!r} is truly a class, pass "
            f"{words.set_to('task', task)} (given, it keeps every class as written)"
        )


def _refuse_numbers_written_with_text(label: str, labels: pd.Series,
                                      numeric: pd.Series) -> None:  # fmt: skip
    """A label of many values, all numbers, some or all written with text (a unit after them,
    a comma, ``<``): a measured outcome, whose values would otherwise become classes (and be
    listed as class names: a patient's value)."""
    texts = labels[numeric.isna()]
    number_like = _numbers_written_with_text(texts)
    if number_like < len(texts):  # words too ("n.d."): the general refusal says what to do
        return
    raise DataError(
        f"label column {label!r} holds numbers written with text: "
        f"{text_values_said(texts)}; a measured outcome must be numbers alone: remove the unit "
        "(or the comma, or the '<') in the file, and it is read as a measured value (--task "
        "regression)"
    )


def _one_value(label: str, needs: str, words: OptionWords, why: str = "") -> str:
    """Why a label of one value in every training row is refused (``needs``: what the model
    needs to vary; ``why``: what varying means), and where to look."""
    check = "label=, or the frame's rows" if words.python else "--label, or the rows --groups picks"
    return (
        f"label column {label!r} has one value in every training row; a model {needs} to "
        f"vary{why}: check {check}"
    )


LABEL_TEXT_FIX = (
    "fix them in the file, or empty those cells (a row without an outcome is left out, and counted)"
)


def _with_a_unit(name: str, columns: Sequence[str]) -> str | None:
    """The one column of ``columns`` that is ``name`` with a unit or a note after it
    (``BMI_kg_m2``, ``chol (mg/dl)`` for ``bmi``, ``chol``), else None.

    >>> _with_a_unit("bmi", ["age", "BMI_kg_m2"]), _with_a_unit("bp", ["bp_sys", "bp_dia"])
    ('BMI_kg_m2', None)
    """
    unit = re.compile(rf"{re.escape(name.casefold())}[\s_(\[-].*")
    found = [c for c in columns if unit.fullmatch(c.casefold())]
    return found[0] if len(found) == 1 else None


def _spelt_out(name: str, columns: Sequence[str]) -> str | None:
    """The one column of ``columns`` whose name begins with ``name`` spelt out (at least 3
    letters: ``cholesterol`` for ``chol``, a trial's renamed column), else None.

    >>> _spelt_out("chol", ["age", "cholesterol"]), _spelt_out("ca", ["calcium", "cancer"])
    ('cholesterol', None)
    """
    if len(name) < 3:
        return None
    found = [c for c in columns if c.casefold().startswith(name.casefold())]
    return found[0] if len(found) == 1 else None


def _absent_fix(renamed: int, unmatched: Sequence[str]) -> str:
    """What to do about absent feature columns: rename those offered; add the others as
    empty columns where the site does not measure them (read as not measured for every
    row, as the model reads a missing value); or, where the command takes it,
    ``--allow-absent-columns``. A trial's hospital that never records ``ca`` was told only
    to rename its columns.

    >>> from medadapt.data.option_words import command_flags
    >>> with command_flags(["--data", "--server"]):  # federate client: no such flag
    ...     _absent_fix(2, []), _absent_fix(1, ["ca", "slope"]), _absent_fix(0, ["ca"])
    ('rename the columns in --data', "rename the column in --data; add the others, 'ca', \
'slope', as empty columns (read as not measured for every row)", "add 'ca' as an empty column \
(read as not measured for every row)")

    ``renamed``: how many of them are offered under another name (each in the message).
    """
    where = " in --data" if takes("--data") else ""  # (a trial's client named no flag)
    fixes = [f"rename the column{'s' if renamed > 1 else ''}{where}"] if renamed else []
    if unmatched:
        named = ", ".join(map(repr, unmatched))
        column = "an empty column" if len(unmatched) == 1 else "empty columns"
        other = "the other" if len(unmatched) == 1 else "the others"
        others = f"{other}, {named}," if renamed else named
        fixes.append(f"add {others} as {column} (read as not measured for every row)")
    said = "; ".join(fixes)
    if takes("--allow-absent-columns"):
        them = "it" if renamed + len(unmatched) == 1 else "them"
        said += f", or pass --allow-absent-columns to treat {them} as missing for every row"
    return said


def _label_texts(labels: pd.Series, numeric: pd.Series) -> str:
    """The label's text cells among numbers, by count, line and kind (never their text: an
    outcome with a unit, ``151 mg/dl``, is a patient's value)."""
    return text_values_said(labels[numeric.isna()])


def _text_among_numbers(labels: pd.Series) -> int:
    """How many present values of ``labels`` are not numbers (a count only: a cell's text is
    never echoed)."""
    present = labels[[not is_missing(v) for v in labels]]
    return int(pd.to_numeric(present, errors="coerce").isna().sum())


def _numbers_written_with_text(texts: pd.Series) -> int:
    """How many of a label's text cells are numbers written with text (a unit after them, a
    decimal comma, ``<``): a measured value's, not words."""
    return sum(text_kind(v) in ("unit", "comma", "compared") for v in texts.tolist())


def _measured_label_texts(label: str, texts: pd.Series, *, everyone: int) -> str:
    """The refusal of a measured label's text cells (``texts``; ``everyone``: the present
    values), where they are and of which kinds, as ``train-base`` says them (a trial's
    ``151 mg`` cells were "4 text value(s)" at ``adapt``, with no line or hint of a unit);
    labels all words (``low``/``high``) are said to be classes. Never a cell's text."""
    said = (f"label column {label!r} has {text_values_said(texts)}, but the model predicts a "
            "measured value")  # fmt: skip
    if _numbers_written_with_text(texts) == len(texts):
        return f"{said}: remove the unit (or the comma, or the '<') in the file"
    if len(texts) == everyone:
        return (f"{said}, and every one of them is text, as classes are: this base cannot "
                "score them; train a base for classes with train-base")  # fmt: skip
    return f"{said}: fix them in the file or drop those rows"


def require_data_frame(frame: Any) -> pd.DataFrame:
    """``frame`` itself, refused when it is not a pandas DataFrame (a path, an image set): a
    Python user's first table argument, named ``frame`` wherever it is taken."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"frame must be a pandas DataFrame, not {type(frame).__name__}: read a file with "
            "ma.read_table(path) first (images: medadapt.images)"
        )
    names = [str(c) for c in frame.columns]
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:  # pandas hands back a frame for frame[name]: a trial's AttributeError
        raise DataError(
            f"frame has duplicate column names ({', '.join(map(repr, doubled))}): rename or "
            "drop the copies so each column has one name (frame.loc[:, "
            "~frame.columns.duplicated()] keeps the first of each)"
        )
    return frame


def as_names(value: str | Sequence[str] | None) -> list[str]:
    """Column names given to an option; one name (``exclude="id"``) is one column, not a
    sequence of letters (``name in "id"`` would also match part of a name)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _as_missing_codes(value: Mapping[str, Codes] | str | None) -> dict[str, Codes]:
    """``missing_codes`` as ``{column: number or numbers}``: a mapping (``{"chol": 0}``,
    ``{"chol": [0, -9]}``), or the command line's ``"chol=0,trestbps=0"`` (parsed as the
    command line does, refused by this argument's name); a code that is not a finite number
    would silently match nothing."""
    if value is None:
        return {}
    if isinstance(value, str):
        return parse_missing_codes(value, flag="missing_codes")
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"missing_codes must be a dict like {{'chol': 0}} or a string like 'chol=0', not "
            f"{type(value).__name__}"
        )
    codes: dict[str, Codes] = {}
    for column, code in value.items():
        several = isinstance(code, list | tuple)
        numbers = [_finite_number(c) for c in (code if several else [code])]
        if not numbers or any(number is None for number in numbers):
            raise ConfigError(
                f"missing_codes[{column!r}] must be a finite number, or a list of them, the "
                "values read as missing in that column (like {'chol': 0} or {'chol': [0, -9]})"
            )
        codes[column] = numbers if several and len(numbers) > 1 else numbers[0]
    return codes


def _finite_number(value: Any) -> float | None:
    """``value`` as a finite float, or None (text, NaN, infinity)."""
    if isinstance(value, bool | str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _check_named_columns(
    columns: list[Any], options: dict[str, str | None], words: OptionWords
) -> None:
    """Refuse a column named by an option (``options``: option -> name or None) that the
    table lacks."""
    for option, name in options.items():
        if name is not None and name not in columns:
            hint, listed = checks.did_you_mean(name, columns), ", ".join(map(str, columns))
            joined = _joined_by(name, columns) if words.python else None
            if joined is not None:
                hint = (
                    f"; its column names are joined by {joined!r} (a file read with the wrong "
                    "separator): read it with ma.read_table(path), which finds the separator"
                )
            listed = (
                f"{hint} (its columns are: {listed})" if hint else f"; its columns are: {listed}"
            )
            raise DataError(
                f"{words.set_to(option, name, quote='repr')} is not a column of the table{listed}"
            )


SEPARATORS = (";", "\t", ",", "|")  # those ma.read_table finds


def _joined_by(name: str, columns: list[Any]) -> str | None:
    """The separator that joins a table's column names into one (``'a;b;c'``: a file read with
    another separator) when there is one column holding it, or a column holding it among
    whose parts is ``name``; None otherwise."""
    for separator in SEPARATORS:
        joined = [str(c) for c in columns if separator in str(c)]
        if len(columns) == 1 and joined:
            return separator
        if any(name in (part.strip() for part in c.split(separator)) for c in joined):
            return separator
    return None


def _check_listed_columns(columns: list[Any], options: dict[str, Sequence[str]]) -> None:
    """Refuse a column listed to an option (``options``: option -> names) that the table
    lacks."""
    for option, names in options.items():
        for name in names:
            if name not in columns:
                meant = checks.did_you_mean(name, columns) or "; check the spelling"
                raise DataError(
                    f"column {name!r} given to {option} is not in the table{meant} (columns: "
                    f"{', '.join(map(str, columns))})"
                )


def _category_codes(spec: FeatureSpec, values: list[Any]) -> list[int]:
    lookup = {c: i + FIRST_LEVEL for i, c in enumerate(spec.categories)}
    return [MISSING_INDEX if is_missing(v) else lookup.get(level(v), UNSEEN_INDEX) for v in values]

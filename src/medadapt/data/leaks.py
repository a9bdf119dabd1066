"""Label leaks: a feature that on its own predicts the label almost perfectly.

A copy of the label left in a table (``num`` beside ``disease = num > 0``), a value recorded
after the outcome (a discharge code, a date of death) or a column derived from the label turns
any model into a perfect one on paper and a useless one in the clinic. Each feature is scored
alone against the label on the training rows, in one vectorised pass:

* binary: the AUROC of the feature (its values ranked; a category scored by its share of
  positives, categories of fewer than 5 rows pooled) and the AUROC of "the value is missing";
  either >= 0.98 (or 1.0 when a class has fewer than 10 rows) is a leak;
* multiclass: a (nearly) deterministic mapping: the feature's values repeat and >= 98 % of rows
  carry the majority class of their value, or, for a numeric feature, the classes form at
  most 2 K runs once the rows are sorted by it (a label cut from that number);
* regression: |Pearson| or |Spearman| correlation >= 0.98 (the correlation ratio for a
  category, and for a number of few values: ``disease`` = ``num > 0`` as a measured label;
  there, over the rows of values seen at least 5 times, so no value fits its own outcome);
  or a column whose values cut the outcome into bands that do not overlap (``severity``
  high above 150: a coarse copy, 0.8 correlated).

A category is also scored with every value its own level, each row left out of its value's
figure (:func:`_left_out_means`): bands of a measured outcome of 2-4 rows each, pooled as rare,
passed the pooled statistics (R² 0.96 on a trial's diabetes data) where a coarser copy was
caught.

A leak stops the command with one line naming the column, the statistic, the rows it rests
on, the threshold and the fixes (``--exclude COL``, or ``--allow-leak COL`` to keep it
deliberately). A column kept is recorded with the model (:meth:`Leak.to_json`: its name and
statistic, never a value) so that every later result repeats it
(:func:`medadapt.results.kept_leak_notes`).
The statistic needs a few rows of each class; on fewer (at least 5 per class and 20 rows) a
column is not judged.

>>> import pandas as pd
>>> from medadapt.data.schema import TableSchema
>>> frame = pd.DataFrame({"age": [40 + i % 30 for i in range(60)], "y": [i % 2 for i in range(60)]})
>>> frame["copy"] = frame["y"] * 3 + 1
>>> schema = TableSchema.infer(frame, label="y")
>>> [(leak.column, leak.statistic, round(leak.value, 2)) for leak in find_leaks(schema, frame)]
[('copy', 'AUROC', 1.0)]
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from medadapt.auroc_interval import score_interval
from medadapt.data.schema import MIN_LEVEL_ROWS, TableSchema, is_missing, level
from medadapt.data.tables import group_labels
from medadapt.errors import DataError
from medadapt.results import digits_apart

LEAK_LEVEL = 0.98
"""The AUROC, share of rows whose value fixes the class, or |correlation| from which a column
alone predicts the label too well to be taken for a genuine predictor unasked."""
STRONG_LEVEL = 0.8
"""From here a column is recorded with a base model as a strong predictor on its training
rows (:func:`strong_features`): at 0.9, a trial's 'perimeter error' (AUROC 0.86 where the
base trained) was refused as a leak on 7 of 300 random 39-row samples of another site, its
figure there unknown to the check."""
AS_STRONG = 0.05
"""A column found at :data:`LEAK_LEVEL` on an adapter's rows is taken for the strong
predictor it was where the base trained when it was within this much as strong there, or
(an AUROC) when the 95 % interval of its figure on the adapter's rows holds the base's, up
to :data:`CHANCE_MOST` (:func:`chance_interval`: a trial's 39-row site of randomly drawn
rows had a column at AUROC 1.000 that was 0.939 where the base trained)."""
MIN_ROWS = 20
#: how the warning of an ``--allow-leak`` column the leak check did not flag ends (``study``
#: and ``federate`` say it of the base's rows only where other rows keep the column)
UNNEEDED_FLAG = "the flag was not needed"
MIN_PER_CLASS = 5
SMALL_CLASS = 10  # below this many rows in a class, only a perfect separation counts
CHANCE_MOST = 0.10
"""The most a column's figure on an adapter's rows may exceed the base's and still be taken,
by its interval (:func:`chance_interval`), for the base's strong predictor: only a column
the base found at 0.90 or more is taken so for a perfect one (at 10 and 10 rows AUROC 1.000
reaches down to 0.80, which would pass every column the base recorded: a review)."""


@dataclass(frozen=True)
class Leak:
    """A feature that alone predicts the label: ``statistic`` (AUROC, |r| ...) is ``value``,
    on ``rows`` rows (those with a label and a value), at or above ``threshold``."""

    column: str
    statistic: str
    value: float
    where: str | None = None  # the group whose rows show it (None: all training rows)
    rows: int | None = field(default=None, compare=False)
    threshold: float | None = field(default=None, compare=False)  # None: no single level
    # how the column copies the label in every row judged, said so rather than only "a strong
    # predictor or a leak": "itself" (its own value, as a trial's ``diagnosis = target``),
    # "relabelled" (one value of the column for each class, as ``biopsy`` = positive/negative
    # for 1/0), "classed" (one value for each class of a label read above --positive-above)
    # or "rescaled" (a measured label times a number plus a number: other units); "nearly":
    # one value for each class in 98 % of the rows or more (a copy with a few rows changed)
    copy: str | None = field(default=None, compare=False)
    # an AUROC's rows with the label's positive class and without (None: another statistic)
    counts: tuple[int, int] | None = field(default=None, compare=False)
    # an AUROC's direction: whether higher values go with the positive class (None: unknown)
    higher: bool | None = field(default=None, compare=False)

    def describe(self) -> str:
        where = f" in {self.where}" if self.where else ""
        return f"{self.column!r} ({self.statistic} {self.value:.3f}{where})"

    def judged_on(self, rows: str = "training rows") -> str:
        """``189 training rows`` (``rows``: what the rows are), ``in site = A`` added."""
        counted = f"{self.rows:,} {rows}" if self.rows is not None else f"the {rows}"
        return counted + (f" in {self.where}" if self.where else "")

    def measured(self, rows: str = "training rows") -> str:
        """``AUROC 0.983 on 189 training rows``."""
        return f"{self.statistic} {self.value:.3f} on {self.judged_on(rows)}"

    def to_json(self) -> dict[str, object]:
        """What a model records about a column kept with ``--allow-leak``: its name, the
        statistic and the count of rows it rests on (never a value of the column)."""
        return {"column": self.column, "statistic": self.statistic,
                "value": round(self.value, 6), "rows": self.rows, "where": self.where}  # fmt: skip


def find_leaks(
    schema: TableSchema,
    frame: pd.DataFrame,
    *,
    group_column: str | None = None,
    cutoff: float = LEAK_LEVEL,
) -> list[Leak]:
    """The features of ``schema`` that alone predict its label on the rows of ``frame`` (all
    of them, and with ``group_column`` the rows of each group: record numbers sorted by
    diagnosis at one site are a leak there even when they are not over all sites); ``cutoff``:
    the statistic from which a column is reported (:data:`LEAK_LEVEL`; lower for
    :func:`strong_features`)."""
    rows = schema.labelled_rows(frame)
    found = _leaks_in(schema, rows, where=None, cutoff=cutoff)
    several = False  # groups whose rows are some of those judged, not all
    if group_column is not None and group_column in rows:
        labels = group_labels(rows[group_column])
        values = sorted(set(labels.tolist()))
        several = len(values) > 1
        for value in values:
            found += _leaks_in(schema, rows[labels == value], where=f"{group_column} = {value}",
                               cutoff=cutoff)  # fmt: skip
    order = {f.name: i for i, f in enumerate(schema.features)}
    best: dict[str, Leak] = {}
    for leak in found:  # one finding per column: the strongest
        known = best.get(leak.column)
        if known is None or leak.value > known.value or (several and _same_rows_named(leak, known)):
            best[leak.column] = leak
    return sorted(best.values(), key=lambda leak: order[leak.column])


def _same_rows_named(leak: Leak, known: Leak) -> bool:
    """Whether ``leak`` is ``known`` (found over all rows) found again on one group's rows
    that are all the rows it was judged on (the column holds values at that group alone):
    said where it is (a trial's refusal said "AUROC 1.000 on 69 rows" of the one column
    present at site Beta alone, and named the site of every other)."""
    return (known.where is None and leak.where is not None and leak.value == known.value
            and leak.rows is not None and leak.rows == known.rows)  # fmt: skip


def _leaks_in(
    schema: TableSchema, rows: pd.DataFrame, *, where: str | None, cutoff: float
) -> list[Leak]:
    features = [f for f in schema.features if f.name in rows]
    if len(rows) < MIN_ROWS or not features:
        return []
    y = schema.encode_labels(rows).numpy()
    numeric = [f.name for f in features if f.kind == "numeric"]
    categorical = [f.name for f in features if f.kind == "categorical"]
    x_num = _numbers(rows, numeric)  # (N, n_numeric), NaN for missing
    if schema.task == "binary":
        leaks = _binary_leaks(y, x_num, numeric, rows, categorical, "", cutoff)
    elif schema.task == "multiclass":
        leaks = _multiclass_leaks(y, x_num, numeric, rows, categorical, schema.classes, cutoff)
    else:
        leaks = _regression_leaks(y.astype(float), x_num, numeric, rows, categorical, cutoff)
    return [replace(leak, where=where, copy=_copies_label(rows, leak.column, schema))
            for leak in leaks]  # fmt: skip


def _copies_label(rows: pd.DataFrame, column: str, schema: TableSchema) -> str | None:
    """How ``column`` copies the label (``Leak.copy``), or None: in every row its value
    (``1`` and ``1.0`` alike), a relabelling (for classes: each value of the column goes with
    one of the label's values and each of those with one of the column's, none missing), the
    classes so relabelled ("classed": positive/negative for a label read above
    ``--positive-above``) or a rescaling (for a measured label: an exact straight line,
    correlation 1 to 12 digits); or nearly, one value for each class in :data:`LEAK_LEVEL` of
    the rows ("nearly": a copy with a few rows changed)."""
    label = schema.label
    if column not in rows or label not in rows or not len(rows):
        return None
    mine, theirs = rows[column].map(level), rows[label].map(level)
    if (mine == theirs).all():
        return "itself"
    if schema.task != "regression":
        if rows[column].map(is_missing).any():
            return None
        if _one_for_one(mine.to_numpy(), theirs.to_numpy()):
            return "relabelled"
        classes = schema.encode_labels(rows).numpy()  # above --positive-above or not: 0/1
        if _one_for_one(mine.to_numpy(), classes):
            return "classed"
        return "nearly" if _nearly_one_for_one(mine.to_numpy(), classes) else None
    values = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)
    target = pd.to_numeric(rows[label], errors="coerce").to_numpy(dtype=float)
    if np.isnan(values).any() or np.isnan(target).any() or np.ptp(values) == 0:
        return None
    return "rescaled" if abs(_correlation(values, target)) >= 1 - 1e-12 else None


def _nearly_one_for_one(mine: np.ndarray, classes: np.ndarray) -> bool:
    """``mine`` takes as many values as there are classes, each value goes with its own
    class in :data:`LEAK_LEVEL` of the rows or more: the label under other names with a few
    rows changed (a trial's ``biopsy_result``, the label with 2 % flipped, was listed with
    three tumour measurements of the same AUROC, and could not be told from them)."""
    values, classes_seen = set(mine.tolist()), set(classes.tolist())
    if len(values) != len(classes_seen) or len(values) < 2:
        return False
    counts = pd.crosstab(mine, classes).to_numpy()
    majority = counts.argmax(axis=1)
    if len(set(majority.tolist())) != len(majority):  # two values for one class
        return False
    return counts.max(axis=1).sum() / counts.sum() >= LEAK_LEVEL


def _one_for_one(mine: np.ndarray, theirs: np.ndarray) -> bool:
    """Each value of ``mine`` goes with one of ``theirs`` and each of ``theirs`` with one of
    ``mine``, two values or more."""
    pairs = len(pd.DataFrame({"mine": mine, "theirs": theirs}).drop_duplicates())
    return pairs == len(set(mine.tolist())) == len(set(theirs.tolist())) > 1


_COPIED = {
    "itself": ("it holds the value of {label} itself in every one of them",
               "the value of {label} itself in every row"),
    "relabelled": ("its values stand one for one for those of {label} in every one of them: "
                   "the label under other names",
                   "the values of {label} under other names in every row"),
    "classed": ("its values stand one for one for the classes of {label} in every one of them: "
                "the label under other names",
                "the classes of {label} under other names in every row"),
    "nearly": (f"its values stand one for one for the classes of {{label}} in "
               f"{LEAK_LEVEL:.0%} or more of them: the label under other names, a few rows "
               "changed",
               f"the classes of {{label}} under other names in {LEAK_LEVEL:.0%} or more of "
               "the rows"),
    "rescaled": ("it is {label} times a number plus a number in every one of them: the label "
                 "in other units",
                 "{label} in other units in every row"),
}  # fmt: skip
"""How a refusal says each kind of copy: for one column (its rows counted before), and for
one of several (in its parentheses)."""


TRAIN_BASE_ADVICE = (
    "leave {it} out with --exclude {names}, or keep {it} with --allow-leak {names} if {genuine} "
    "measured before the outcome"
)
"""What ``train-base`` and ``study`` (which trains its base) advise: both flags work there."""


def refuse_leaks(
    leaks: Sequence[Leak],
    *,
    label: str,
    allowed: Sequence[str] = (),
    fix: str | None = None,
    rows: str = "training rows",
    at_base: Mapping[str, Mapping[str, object]] | None = None,
    at_base_level: float | None = None,
) -> list[Leak]:
    """Raise one :class:`DataError` naming every leak not in ``allowed``; return the allowed
    ones (the caller warns about them). ``fix`` replaces the default advice
    (:data:`TRAIN_BASE_ADVICE`): a template with ``{names}`` (the comma-separated columns,
    quoted for a shell), ``{columns}`` (a Python list of them), ``{it}`` and ``{genuine}``
    ("it is a genuine predictor"); ``rows``: which rows were judged ("training rows");
    ``at_base``: for an adapter's rows, the base's :func:`strong_features`, whose figures
    the refusal gives (a trial could not see why 0.989 was refused while 0.999 passed as a
    predictor the base relies on), recorded from ``at_base_level`` (None: a base saved before
    the level was kept, which recorded them from 0.9)."""
    refused = [leak for leak in leaks if leak.column not in set(allowed)]
    if refused:
        one = len(refused) == 1
        fields = {
            "names": shlex.quote(",".join(leak.column for leak in refused)),  # pasted in a shell
            "columns": repr([leak.column for leak in refused]),
            "it": "it" if one else "them",
            "genuine": "it is a genuine predictor" if one else "they are genuine predictors",
        }
        if one:
            what = (f"column {refused[0].column!r} alone predicts {label!r} with "
                    f"{refused[0].measured(rows)}")  # fmt: skip
            if refused[0].copy:  # no guess: it is the label, row by row
                what += f" ({_COPIED[refused[0].copy][0].format(label=repr(label))})"
        elif len({(leak.rows, leak.where) for leak in refused}) == 1:  # the same rows: once
            described = ", ".join(f"{leak.column!r} ({leak.statistic} {leak.value:.3f}"
                                  f"{copy_words(leak, label)})" for leak in refused)  # fmt: skip
            on = refused[0].judged_on(rows)
            what = f"columns {described} each alone predict {label!r} on {on}"
        else:
            described = ", ".join(f"{leak.column!r} ({leak.measured(rows)}"
                                  f"{copy_words(leak, label)})" for leak in refused)  # fmt: skip
            what = f"columns {described} each alone predict {label!r}"
        advice = (fix or TRAIN_BASE_ADVICE).format(**fields)
        there = "" if at_base is None else _at_base(refused, at_base, at_base_level)
        raise DataError(f"{what}, {threshold_words(refused)}: {may_be(refused)}{there}; {advice}")
    return [leak for leak in leaks if leak.column in set(allowed)]


def _at_base(leaks: Sequence[Leak], recorded: Mapping[str, Mapping[str, object]],
             level: float | None = None) -> str:  # fmt: skip
    """``; where the base trained, 'mean concavity' was weaker (AUROC 0.912), so it is not
    taken for a predictor the base relies on (...)``: each refused column's figure on the
    base's training rows, or that it is not among those the base recorded as strong there
    (:data:`STRONG_LEVEL` or more; a base saved before they were recorded holds none)."""
    weaker, unrecorded = [], []
    for leak in leaks:
        there, interval = _recorded_figure(leak, recorded), chance_interval(leak)
        if there is None:
            unrecorded.append(repr(leak.column))
            continue
        digits = 3 if interval is None else digits_apart(there, interval[0])
        below = "" if interval is None else (
            f", below the 95% interval here, {interval[0]:.{digits}f} to "
            f"{interval[1]:.{digits}f}")  # fmt: skip
        weaker.append(f"{leak.column!r} ({leak.statistic} {there:.{digits}f}{below})")
    said = []
    if weaker:
        said.append(f"{', '.join(weaker)} {'was' if len(weaker) == 1 else 'were'} weaker")
    if unrecorded:
        said.append(f"{', '.join(unrecorded)} {'was' if len(unrecorded) == 1 else 'were'} not "
                    f"among the columns it recorded as strong predictors ({level or 0.9:g} or "
                    "more)")  # fmt: skip
    predictor = "a predictor" if len(leaks) == 1 else "predictors"
    return (f"; where the base trained, {' and '.join(said)}: not {predictor} the base already "
            "relies on")  # fmt: skip


def copy_words(leak: Leak, label: str) -> str:
    """``; the value of 'target' itself in every row`` for a column of several refused that
    copies the label (a trial's copy among two leaks was said only as a leak), else empty."""
    return f"; {_COPIED[leak.copy][1].format(label=repr(label))}" if leak.copy else ""


def unread_copies(
    schema: TableSchema, frame: pd.DataFrame, columns: Sequence[str]
) -> dict[str, str]:
    """Of ``columns`` (those of ``frame`` the model does not read), each that copies the label
    in every labelled row, with how in words (``the values of 'target' under other names in
    every row``): the note on unread columns advised "train a new base to use it" of a trial's
    relabelled label. Judged on :data:`MIN_ROWS` labelled rows or more (fewer: none, a match
    by chance); names and words only, never a value."""
    if schema.label not in frame:
        return {}
    rows = schema.labelled_rows(frame)
    if len(rows) < MIN_ROWS:
        return {}
    kinds = {column: _copies_label(rows, column, schema) for column in columns}
    return {column: _COPIED[kind][1].format(label=repr(schema.label))
            for column, kind in kinds.items() if kind}  # fmt: skip


def may_be(leaks: Sequence[Leak]) -> str:
    """What refused ``leaks`` may be: copies of the label where each is one (said before,
    column by column), else a strong predictor on few rows or a leak."""
    one = len(leaks) == 1
    if all(leak.copy for leak in leaks):
        return "a copy of the label" if one else "copies of the label"
    if one:
        return ("a strong predictor on few rows, or a leak (a copy of the label, a value "
                "recorded after the outcome)")  # fmt: skip
    return ("strong predictors on few rows, or leaks (copies of the label, values recorded "
            "after the outcome)")  # fmt: skip


def copies_said_once(leaks: Sequence[Leak], label: str) -> str:
    """`` (each the values of 'num' under other names in every row)`` where every one of
    ``leaks`` copies ``label`` the same way (said once, not beside each site's figure),
    else empty."""
    kinds = {leak.copy for leak in leaks}
    if len(kinds) != 1 or None in kinds:
        return ""
    each = "each " if len({leak.column for leak in leaks}) > 1 else ""
    return f" ({each}{_COPIED[kinds.pop()][1].format(label=repr(label))})"  # type: ignore[index]


def threshold_words(leaks: Sequence[Leak]) -> str:
    """``at or above the 0.98 that medadapt treats as a leak`` (each threshold once)."""
    levels = sorted({leak.threshold for leak in leaks if leak.threshold is not None})
    if not levels:
        return "which medadapt treats as a leak"
    said = " or ".join(f"{level:.2f}".rstrip("0").rstrip(".") for level in levels)
    small = f" (with fewer than {SMALL_CLASS} rows in a class: 1)" if 1.0 in levels else ""
    return f"at or above the {said} that medadapt treats as a leak{small}"


def leak_warning(
    leak: Leak, label: str, *, scored: bool = False, keep: str = "--allow-leak"
) -> str:
    """The sentence printed for a leak kept with ``--allow-leak`` (``keep``: how the caller
    names that option); or, ``scored``, found in rows being evaluated: the model's figures
    there rest on that column."""
    if scored:
        return (
            f"column {leak.describe()} alone predicts {label!r} almost perfectly in the rows "
            "scored; the model uses it, so these figures rest on it: check it is not a copy of "
            "the label or a value recorded after the outcome"
        )
    return (
        f"column {leak.describe()} alone predicts {label!r} almost perfectly; kept because of "
        f"{keep}: results that rely on it will not hold where it is unknown"
    )


def kept_leaks_warning(
    leaks: Sequence[Leak], label: str, *, keep: str = "--allow-leak", scored: bool = False
) -> str:
    """One sentence for every leak kept at once with ``--allow-leak`` (``keep``: how the
    caller names that option), or found at once in rows being evaluated (``scored``):
    :func:`leak_warning` for one, all columns named in one for several (six kept columns are
    one decision, not six warnings)."""
    if len(leaks) == 1:
        return leak_warning(leaks[0], label, scored=scored, keep=keep)
    columns = f"columns {', '.join(leak.describe() for leak in leaks)} each alone predict {label!r}"
    if scored:
        return (
            f"{columns} almost perfectly in the rows scored; the model uses them, so these "
            "figures rest on them: check they are not copies of the label or values recorded "
            "after the outcome"
        )
    return (
        f"{columns} almost perfectly; kept because of {keep}: results that rely on them will "
        "not hold where they are unknown"
    )


def strong_features(schema: TableSchema, frame: pd.DataFrame) -> dict[str, dict[str, object]]:
    """The features that alone predict the label at :data:`STRONG_LEVEL` or above on the
    training rows ``frame`` (missing codes read as missing), as a base model records them:
    ``{column: {"statistic": ..., "value": ...}}``, the strongest finding per column, never a
    value of the column; not those kept with ``--allow-leak`` (leaks, said as such). An
    adapter's check (:func:`as_strong_at_base`) reads them."""
    kept = set(schema.allowed_leaks)  # leaks kept deliberately stay leaks: said as such
    return {leak.column: {"statistic": leak.statistic, "value": round(leak.value, 6),
                          **({} if leak.higher is None else {"higher": leak.higher})}
            for leak in find_leaks(schema, frame, cutoff=STRONG_LEVEL)
            if leak.column not in kept}  # fmt: skip


def as_strong_at_base(
    leaks: Sequence[Leak], recorded: Mapping[str, Mapping[str, object]]
) -> tuple[list[Leak], list[Leak]]:
    """``leaks`` found on an adapter's rows, split into those its base model recorded as
    about as strong on its own training rows (``recorded``: :func:`strong_features`; the same
    statistic and direction, within :data:`AS_STRONG`, or within chance of it on few rows,
    :func:`_by_chance`; never a copy of the label): strong predictors the base relies on, not
    leaks of these rows; and the others, judged as leaks. A column that was weak where the
    base trained and predicts the label almost perfectly here (a value recorded after the
    diagnosis at this site only) stays a leak.

    >>> found = [Leak("worst area", "AUROC", 0.983), Leak("stay", "AUROC", 0.99)]
    >>> base = {"worst area": {"statistic": "AUROC", "value": 0.962}}
    >>> [[leak.column for leak in part] for part in as_strong_at_base(found, base)]
    [['worst area'], ['stay']]
    """
    strong, others = [], []
    for leak in leaks:
        there = _recorded_figure(leak, recorded)
        if there is not None and _same_way(leak, recorded) and (
                leak.value - there <= AS_STRONG or _by_chance(leak, there)):  # fmt: skip
            strong.append(leak)
        else:
            others.append(leak)
    return strong, others


def _same_way(leak: Leak, recorded: Mapping[str, Mapping[str, object]]) -> bool:
    """Whether ``leak``'s column predicts the label the way the base recorded it (higher
    values with the positive class, or lower: a column reversed at this site is a recoding or
    a leak, not the base's predictor; a review) and copies no label (a column that holds the
    label itself is never taken for a predictor). A base that recorded no direction (saved
    before 2026-12-06): judged by the figure alone."""
    if leak.copy is not None:
        return False
    higher = (recorded.get(leak.column) or {}).get("higher")
    return higher is None or leak.higher is None or bool(higher) == leak.higher


def _recorded_figure(leak: Leak, recorded: Mapping[str, Mapping[str, object]]) -> float | None:
    """The figure the base recorded for ``leak``'s column by the same statistic, or None."""
    known = recorded.get(leak.column) or {}
    value = known.get("value")
    same = known.get("statistic") == leak.statistic and isinstance(value, int | float)
    return float(value) if same else None  # type: ignore[arg-type]


def chance_interval(leak: Leak) -> list[float] | None:
    """The 95 % interval of ``leak``'s AUROC on the rows it was found on (Newcombe's, as
    ``evaluate`` gives an AUROC's), or None for another statistic. On few rows it is wide:
    1.000 on 15 rows with the outcome and 24 without reaches down to 0.890.

    >>> [round(bound, 3) for bound in chance_interval(Leak("x", "AUROC", 1.0, counts=(15, 24)))]
    [0.89, 1.0]
    """
    if leak.counts is None or min(leak.counts) < 1:
        return None
    return score_interval(min(leak.value, 1.0), *leak.counts)


def _by_chance(leak: Leak, there: float) -> bool:
    """Whether ``leak``'s figure on an adapter's few rows is within chance of the base's
    ``there``: the figure's 95 % interval holds it (a trial's 39-row site of randomly drawn
    rows had 'mean concavity' at AUROC 1.000, 0.939 where the base trained: refused), on
    :data:`SMALL_CLASS` rows of each class or more, and within :data:`CHANCE_MOST` of it.
    The price: a column that the base relied on at 0.90 or more and that became a leak at a
    small site (recorded after the outcome there) passes too, with the warning
    (:func:`strong_at_base_warnings`); ``bench/bench_leak_small_sites.py`` measures both."""
    interval = chance_interval(leak)  # (None without counts)
    return (interval is not None and min(leak.counts) >= SMALL_CLASS  # type: ignore[arg-type]
            and leak.value - there <= CHANCE_MOST and interval[0] <= there)  # fmt: skip


def _interval_words(leak: Leak) -> str:
    """``; 95% interval here 0.890 to 1.000``."""
    interval = chance_interval(leak)
    return "" if interval is None else f"; 95% interval here {interval[0]:.3f} to {interval[1]:.3f}"


def strong_at_base_warnings(
    leaks: Sequence[Leak], recorded: Mapping[str, Mapping[str, object]], label: str, *,
    rows: str,
) -> list[str]:  # fmt: skip
    """What is said of the columns :func:`as_strong_at_base` took for strong predictors:
    their figure here and where the base trained, in one line (``rows``: what rows the
    figure here rests on, "rows adapt trains and tests on (site = B)")."""
    if not leaks:
        return []
    figures, chance = [], None
    for leak in leaks:
        there = _recorded_figure(leak, recorded)  # (as_strong_at_base found one)
        wide = leak.value - there > AS_STRONG  # type: ignore[operator]  # taken for the base's by its interval here
        chance = chance or (leak if wide else None)
        interval = _interval_words(leak) if wide else ""
        figures.append(f"{leak.column!r} ({leak.statistic} {leak.value:.3f}; {there:.3f} "
                       f"where the base trained{interval})")  # fmt: skip
    one = len(leaks) == 1
    what, predicts, strong, leak, it = (
        ("column", "alone predicts", "a strong predictor", "a leak", "it was") if one else
        ("columns", "each alone predict", "strong predictors", "leaks", "they were")
    )  # fmt: skip
    return [
        f"{what} {', '.join(figures)} {predicts} {label!r} on {leaks[0].judged_on(rows)} "
        f"{_as_well(chance)}: {strong} the base already relies on, "
        f"not taken for {leak} of these rows; check {it} measured before the outcome here too"
    ]


def taken_within_chance(
    leaks: Sequence[Leak], recorded: Mapping[str, Mapping[str, object]]
) -> list[dict[str, object]]:
    """Of the columns :func:`as_strong_at_base` took for the base's strong predictors, those
    taken by their interval only (better here than where the base trained by more than
    :data:`AS_STRONG`, within what few rows can tell): the leak rule's trade-off, recorded
    with the adapter (:meth:`Leak.to_json`, the base's figure and the rows of each class;
    never a value) so that every later result on it repeats the caution.

    >>> taken_within_chance([Leak("thal", "AUROC", 1.0, rows=39, counts=(15, 24))],
    ...                     {"thal": {"statistic": "AUROC", "value": 0.93}})[0]["base_value"]
    0.93
    """
    out = []
    for leak in leaks:
        there = _recorded_figure(leak, recorded)
        if there is not None and leak.value - there > AS_STRONG:
            counts = {"counts": list(leak.counts)} if leak.counts else {}
            out.append({**leak.to_json(), "base_value": round(there, 6), **counts})
    return out


def _as_well(chance: Leak | None) -> str:
    """How a figure here compares with the base's: about as well, or (``chance``: a leak
    taken for the base's by its interval) better, within what so few rows can tell."""
    if chance is None or chance.counts is None:
        return "about as well as on the base model's training rows"
    with_it, without = chance.counts
    return (f"better than on the base model's training rows, but within the 95% interval of "
            f"so few rows ({with_it} with the outcome and {without} without)")  # fmt: skip


def kept_leaks_warnings(
    leaks: Sequence[Leak], label: str, *, keep: str = "--allow-leak", scored: bool = False
) -> list[str]:
    """:func:`kept_leaks_warning` as a list: empty when no leak is kept (or found)."""
    return [kept_leaks_warning(leaks, label, keep=keep, scored=scored)] if leaks else []


# ----- statistics -----------------------------------------------------------------------------
def _numbers(rows: pd.DataFrame, columns: list[str]) -> np.ndarray:
    if not columns:
        return np.empty((len(rows), 0))
    values = [pd.to_numeric(rows[c], errors="coerce").to_numpy(dtype=float) for c in columns]
    out = np.stack(values, axis=1)
    out[~np.isfinite(out)] = np.nan
    return out


def _category_codes(series: pd.Series) -> np.ndarray:
    """Integer codes per row: one per level seen in >= 5 rows, one for rarer levels pooled,
    one for missing (so a rare value cannot single out its rows)."""
    inverse = _level_codes(series)
    counts = np.bincount(inverse)
    rare = counts[inverse] < MIN_LEVEL_ROWS
    inverse = inverse.copy()
    inverse[rare] = len(counts)
    return inverse


def _level_codes(series: pd.Series) -> np.ndarray:
    """Integer codes per row: one per level as written, missing its own, none pooled."""
    texts = np.array(["\0missing" if is_missing(v) else level(v) for v in series.tolist()])
    return np.unique(texts, return_inverse=True)[1]


def _left_out_means(series: pd.Series, targets: np.ndarray) -> np.ndarray:
    """Per row, the mean of ``targets`` over the other rows of its value, every value its own
    level (none pooled); NaN where the value has no other row. Pooling rare values hides a
    finer copy of the label (bands of a measured outcome, 2-4 rows each); left out of its own
    mean, a row cannot single itself out, as an id's would."""
    codes = _level_codes(series)
    counts = np.bincount(codes).astype(float)
    sums = np.bincount(codes, weights=targets.astype(float))
    others = counts[codes] - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(others > 0, (sums[codes] - targets) / others, np.nan)


LEFT_OUT = "(each row left out of its own)"  # how the left-out statistics say so


def _aurocs(y: np.ndarray, x: np.ndarray, oriented: bool = True
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Per column of ``x`` (N, p), over its present rows: the AUROC (``oriented``: max(a,
    1 - a)), the counts of positives and negatives it rests on, and whether higher values go
    with the positives (the AUROC before orienting, 0.5 or more). Shapes: (p,) each."""
    present = ~np.isnan(x)
    ranks = rankdata(np.where(present, x, np.inf), axis=0)  # missing ranked last, then ignored
    positive = (y == 1)[:, None] & present
    n_pos = positive.sum(axis=0)
    n_neg = present.sum(axis=0) - n_pos
    rank_sum = np.where(positive, ranks, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return (np.maximum(auc, 1 - auc) if oriented else auc), n_pos, n_neg, auc >= 0.5


def _auroc_leaks(names: list[str], auc, n_pos, n_neg, higher, statistic: str,
                 cutoff: float) -> list[Leak]:  # fmt: skip
    leaks = []
    for name, value, pos, neg, up in zip(names, auc, n_pos, n_neg, higher, strict=True):
        fewest = min(pos, neg)
        if fewest < MIN_PER_CLASS or not np.isfinite(value):
            continue
        needed = cutoff if fewest >= SMALL_CLASS else 1.0
        if value >= needed:
            leaks.append(Leak(name, statistic, float(value), rows=int(pos + neg),
                              threshold=needed, counts=(int(pos), int(neg)),
                              higher=bool(up)))  # fmt: skip
    return leaks


def _binary_leaks(y, x_num, numeric, rows, categorical, suffix: str, cutoff: float) -> list[Leak]:
    scores = [x_num]
    names = list(numeric)
    for name in categorical:  # a category scored by its share of positives
        codes = _category_codes(rows[name])
        scores.append(_group_means(codes, y)[codes][:, None])
        names.append(name)
    x = np.concatenate(scores, axis=1)
    leaks = _auroc_leaks(names, *_aurocs(y, x), f"AUROC{suffix}", cutoff)
    if categorical:  # and by the share of the other rows of its value (none pooled)
        shares = np.stack([_left_out_means(rows[n], y) for n in categorical], axis=1)
        named = f"AUROC of its values' outcome rates {LEFT_OUT}{suffix}"  # not reversed: left
        # out, a row lowers its value's rate for its own class, which would read as a pattern
        leaks += _auroc_leaks(categorical, *_aurocs(y, shares, oriented=False), named, cutoff)
    missing = np.isnan(x_num)
    partly = missing.any(axis=0) & ~missing.all(axis=0)
    if partly.any():  # "the value is missing" as the predictor (recorded only after the outcome)
        indicator = missing[:, partly].astype(float)
        flagged = [n for n, p in zip(numeric, partly, strict=True) if p]
        leaks += _auroc_leaks(flagged, *_aurocs(y, indicator), f"AUROC of being missing{suffix}",
                              cutoff)  # fmt: skip
    return leaks


def _group_means(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean of ``values`` per code (codes that no row has get 0)."""
    counts = np.bincount(codes)
    return np.bincount(codes, weights=values) / np.maximum(counts, 1)


def _multiclass_leaks(y, x_num, numeric, rows, categorical, classes, cutoff: float) -> list[Leak]:
    k = len(classes)
    if np.bincount(y, minlength=k).min() < MIN_PER_CLASS:
        return []
    leaks = []
    for c, name in enumerate(classes):  # a feature that singles out one class
        one = (y == c).astype(int)
        leaks += _binary_leaks(one, x_num, numeric, rows, categorical, f" for class {name}",
                               cutoff)  # fmt: skip
    for j, name in enumerate(numeric):
        column = x_num[:, j]
        present = ~np.isnan(column)
        if present.sum() < MIN_ROWS:
            continue
        values, labels = column[present], y[present]
        purity = _purity(np.unique(values, return_inverse=True)[1], labels, k)
        if purity is not None and purity >= cutoff:
            leaks.append(Leak(name, FIXES_THE_CLASS, purity, rows=len(values),
                              threshold=cutoff))  # fmt: skip
            continue
        order = np.argsort(values, kind="stable")
        runs = 1 + int((np.diff(labels[order]) != 0).sum())
        if runs <= 2 * k + 0.01 * len(values):
            leaks.append(Leak(name, "share of rows in class runs", 1 - runs / len(values),
                              rows=len(values)))  # fmt: skip
    for name in categorical:
        purity = _purity(_category_codes(rows[name]), y, k)
        if purity is not None and purity >= cutoff:
            leaks.append(Leak(name, FIXES_THE_CLASS, purity, rows=len(y), threshold=cutoff))
    return leaks


FIXES_THE_CLASS = "share of rows whose value fixes the class"


def _purity(codes: np.ndarray, labels: np.ndarray, k: int) -> float | None:
    """Share of rows carrying the majority class of their value; None when values do not
    repeat enough (on average fewer than 2 rows per value) for that to mean anything."""
    n_values = int(codes.max()) + 1
    if n_values * 2 > len(codes):
        return None
    table = np.zeros((n_values, k))
    np.add.at(table, (codes, labels), 1)
    if (table.sum(axis=0) > 0).sum() < 2:
        return None
    return float(table.max(axis=1).sum() / len(codes))


def _regression_leaks(y, x_num, numeric, rows, categorical, cutoff: float) -> list[Leak]:
    leaks = []
    for j, name in enumerate(numeric):
        present = ~np.isnan(x_num[:, j])
        if present.sum() < MIN_ROWS:
            continue
        x, t = x_num[present, j], y[present]
        pearson = _correlation(x, t)
        spearman = _correlation(rankdata(x), rankdata(t))
        value = max(abs(pearson), abs(spearman))
        if value >= cutoff:
            leaks.append(Leak(name, "|correlation|", value, rows=len(x),
                              threshold=cutoff))  # fmt: skip
            continue
        ratio, judged = _steps_ratio(x, t)  # a step function of few values: disease = num > 0
        if ratio >= cutoff:
            leaks.append(Leak(name, "correlation ratio", ratio, rows=judged,
                              threshold=cutoff))  # fmt: skip
            continue
        leaks += _bands_leak(name, np.unique(x, return_inverse=True)[1], t, cutoff)
    for name in categorical:
        codes = _category_codes(rows[name])
        ratio = _correlation_ratio(codes, y)
        if ratio >= cutoff and int(codes.max()) + 1 <= len(y) / 2:
            leaks.append(Leak(name, "correlation ratio", ratio, rows=len(y),
                              threshold=cutoff))  # fmt: skip
            continue
        means = _left_out_means(rows[name], y)  # none pooled: a finer copy shows here
        covered = ~np.isnan(means)
        if covered.sum() >= MIN_ROWS:
            value = _correlation(means[covered], y[covered])
            if value >= cutoff:
                leaks.append(Leak(name, f"correlation with its values' mean outcomes {LEFT_OUT}",
                                  value, rows=int(covered.sum()),
                                  threshold=cutoff))  # fmt: skip
                continue
        leaks += _bands_leak(name, codes, y, cutoff)  # a coarse copy: bands of the outcome
    return leaks


BANDS = "share of rows in its values' own bands of the outcome"
"""The statistic of a column whose values cut a measured outcome into bands (a copy of it)."""


def _bands_leak(name: str, codes: np.ndarray, y: np.ndarray, cutoff: float) -> list[Leak]:
    """A column whose values cut the measured outcome into ranges that do not overlap
    (``severity`` high where progression > 150, low below): a band of the label, cut from
    it, which no correlation calls a copy (0.8 for two bands: a review's new user kept it as
    a feature without a word). Judged on the values of at least 5 rows (2 to one per 10
    rows); a leak where, the rows sorted by the outcome, each value's rows are one run but
    for ties at the bands' edges (a hundredth of the rows)."""
    common = np.bincount(codes)[codes] >= MIN_LEVEL_ROWS
    values, steps = np.unique(codes[common], return_inverse=True)
    n = int(common.sum())
    if n < MIN_ROWS or not 2 <= len(values) <= n / ROWS_PER_STEP:
        return []
    order = np.argsort(y[common], kind="stable")
    runs = 1 + int((np.diff(steps[order]) != 0).sum())
    share = 1 - (runs - len(values)) / n
    if runs > len(values) + 0.01 * n or share < cutoff:
        return []
    return [Leak(name, BANDS, share, rows=n, threshold=cutoff)]


def _steps_ratio(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """The correlation ratio of ``y`` on a numeric feature of few values, each value its own
    group, and the rows it rests on: 1 where ``y`` is a function of ``x`` that no correlation
    sees (``num > 0`` of a grade 0-4). Only the rows of values seen in at least 5 rows
    (``MIN_LEVEL_ROWS``) count: a value of one row fits its own outcome (9 such values among
    91 zeros, the outcome unrelated to them, scored 0.9995). 0 unless at least 2 such values
    remain, with :data:`ROWS_PER_STEP` rows per value on average (means of many values fit
    noise)."""
    codes = np.unique(x, return_inverse=True)[1]
    common = np.bincount(codes)[codes] >= MIN_LEVEL_ROWS
    values, steps = np.unique(codes[common], return_inverse=True)
    rows = int(common.sum())
    if not 2 <= len(values) <= rows / ROWS_PER_STEP:
        return 0.0, rows
    return _correlation_ratio(steps, y[common]), rows


#: rows per distinct value, on average, for a numeric feature to be judged as steps
ROWS_PER_STEP = 10


def _correlation_ratio(codes: np.ndarray, y: np.ndarray) -> float:
    """The correlation ratio (eta) of ``y`` on groups ``codes``: the share of its spread
    that the groups' means explain, square-rooted (1: ``y`` is a function of the group; 0
    where ``y`` does not vary)."""
    total = ((y - y.mean()) ** 2).sum()
    if not total:
        return 0.0
    means = _group_means(codes, y)
    return float(np.sqrt(((means[codes] - y.mean()) ** 2).sum() / total))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0

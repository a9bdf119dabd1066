"""What a table's values say beyond the model's inputs: for a study, features a target group
records far less often than the source, and category values the source never had; for
``predict`` and ``evaluate``, numeric columns written as text (refused), columns empty in every
row (said) and, per row, the features it lacks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from medadapt.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from medadapt.data.schema import TableSchema

MISSING_JUMP = 0.30  # share of rows: a feature this much more often missing in the target


def target_findings(schema: TableSchema, source, target_train, target_test) -> list[tuple]:
    """Features far more often missing in the target than in the source, and category
    values the source never had."""
    import pandas as pd

    findings = []
    target = pd.concat([target_train.frame, target_test.frame])
    jumps = {}
    for feature in schema.features if source is not None else []:
        frame = source.frame
        in_source = float(frame[feature.name].isna().mean()) if feature.name in frame else 1.0
        in_target = float(target[feature.name].isna().mean()) if feature.name in target else 1.0
        if in_target - in_source >= MISSING_JUMP or (in_target == 1.0 and in_source < 1.0):
            jumps[feature.name] = {"source": round(in_source, 3), "target": round(in_target, 3)}
    if jumps:
        described = ", ".join(
            f"{name} ({v['target']:.0%} vs {v['source']:.0%})" for name, v in jumps.items()
        )
        findings.append((
            "features_missing_in_target",
            "warning",
            f"Features far more often missing in the target group than in the source: "
            f"{described}. The model handles missing values natively, but it cannot use "
            "information the target group does not record.",
            {"missing_share": jumps},
        ))  # fmt: skip
    unseen = schema.encode(target_train.frame, with_labels=False).unseen
    if unseen:
        findings.append((
            "unseen_categories",
            "info",
            f"Category values never seen in the source groups (rows per feature): {unseen}. "
            "They are encoded as 'unseen'; the adapter can learn what they mean here.",
            {"unseen": unseen},
        ))  # fmt: skip
    return findings


def refuse_written_numbers(
    schema: TableSchema, frame: pd.DataFrame, data: Path | None, where: str | None = None
) -> None:
    """Refuse a numeric feature of the model that ``data`` writes with a unit, a percent sign
    or decimal commas in more than a tenth of its values (as ``train-base`` refuses it): read
    as missing, every such row would be scored without it. Fewer stay a warning (read as
    missing, counted). Any other text in more than a tenth of them ("<5", "pending") is
    refused too, by kind and count (never a cell's text); a column trained with
    ``--numeric`` that held text then reads it as missing, as at training. ``where``: the rows
    of ``frame`` in words (``site = C``) when they are a group's. ``data`` None: a Python
    user's data frame (``ma.predict``, ``ma.adapt``), said in its words."""
    from medadapt.data.feature_kinds import (
        MIN_VALUES_JUDGED,
        TEXT_IN_NUMBERS_SHARE,
        kinds_said,
        text_cells,
        written_numbers,
    )

    rows = f" ({where})" if where else ""
    source = "frame" if data is None else f"--data {data}{rows}"
    place, empty = ("the frame", "NaN") if data is None else ("the file", "empty")
    again = "" if data is None else ", and pass it to --data again"
    for spec in schema.numeric_features:
        if spec.name not in frame:
            continue
        written = written_numbers(frame[spec.name])
        if written is not None and written.count > TEXT_IN_NUMBERS_SHARE * written.of:
            raise DataError(
                f"{source}: {written.said(spec.name)}, which the model reads as numbers; "
                f"{written.fix(spec.mean, place=place)}{again}"
            )
        texts, present = text_cells(frame[spec.name])
        if spec.name in schema.text_as_missing or len(texts) <= TEXT_IN_NUMBERS_SHARE * present:
            continue
        if present < MIN_VALUES_JUDGED:  # one patient's "<5": read as missing and counted
            continue
        kinds = kinds_said(texts, whole=True)  # "all 40 words": of the text counted
        raise DataError(
            f"{source}: column {spec.name!r} holds text, not numbers, in {len(texts)} of its "
            f"{present} non-empty values ({kinds}), which the model reads as "
            "numbers (as missing values, each such row would be scored without the column); "
            f"write the numbers alone in {place} ({empty} where nothing was measured){again}"
        )


def empty_columns_warning(schema: TableSchema, frame: pd.DataFrame) -> str | None:
    """The warning for the model's feature columns that ``frame`` holds but leaves empty in
    every row (exported blank): each row is scored without them, as 'not measured'."""
    empty = [f.name for f in schema.features
             if f.name in frame and len(frame) and frame[f.name].isna().all()]  # fmt: skip
    if not empty:
        return None
    one = len(empty) == 1
    return (
        f"{len(empty)} of the model's {len(schema.features)} feature columns "
        f"{'is' if one else 'are'} empty in all {len(frame)} rows "
        f"({', '.join(map(repr, empty))}): read as 'not measured' for every row, so the "
        f"predictions rest on the other features; fill {'it' if one else 'them'} in the file "
        f"if {'it was' if one else 'they were'} measured"
    )


def coded_columns_warning(schema: TableSchema, frame: pd.DataFrame, encoded) -> str | None:
    """The warning for the model's feature columns that hold a value in some row of
    ``frame`` yet that the model reads as missing in every row: each value the missing code
    it was trained with (``chol`` 0 at Switzerland) or text (``?``). A blank column was said
    (:func:`empty_columns_warning`); these were not, while every prediction rested on the
    other features (a trial's ``missing_features`` named ``chol`` in 123 of 123 rows)."""
    if not len(frame):
        return None
    lacking = _lacking(schema, encoded)
    coded = [f.name for f in schema.features if f.name in frame
             and frame[f.name].notna().any() and lacking[f.name].all()]  # fmt: skip
    if not coded:
        return None
    one = len(coded) == 1
    return (
        f"{len(coded)} of the model's {len(schema.features)} feature columns "
        f"{'is' if one else 'are'} read as 'not measured' in all {len(frame)} rows "
        f"({', '.join(map(repr, coded))}: each value the code for 'not measured' the model was "
        "trained with, or text), so the predictions rest on the other features; write the "
        f"measured values in {'it' if one else 'them'} if there are any"
    )


def constant_columns_warnings(schema: TableSchema, frame: pd.DataFrame) -> list[str]:
    """The warning for each column the model dropped as constant where it trained (every
    training row one value: ``sex`` 1 at two sites) that holds another value in rows of
    ``frame`` (``sex`` 2 at the third): the model cannot tell those patients apart by it,
    and nothing said so. The training value is said (it is every training row's), the rows
    here only counted."""
    import ast

    from medadapt.data.feature_kinds import CONSTANT, is_missing, level

    out = []
    for name, reason in schema.dropped.items():
        if not reason.startswith(CONSTANT) or name not in frame:
            continue
        trained = reason.removeprefix(CONSTANT).removesuffix(")")
        if trained[:1] in ("'", '"'):  # a text value, written as its repr
            trained = str(ast.literal_eval(trained))
        present = [level(v) for v in frame[name] if not is_missing(v)]
        other = sum(value != trained for value in present)
        if other:
            out.append(
                f"column {name!r} was {trained!r} in every row the model trained on (so it is "
                f"not one of its features) and is another value in {other} of {len(frame)} "
                "rows here: the model cannot tell these patients apart by it, and its results "
                "here rest on patients unlike those it learned from in this respect"
            )
    return out


def empty_where_trained_warnings(schema: TableSchema, frame: pd.DataFrame) -> list[str]:
    """The warning for each column the model dropped as empty where it trained (no training
    row recorded it) that rows of ``frame`` record: the model cannot read it here, and the
    rows only said so where the base was trained (a trial's federated site held a column
    complete that the base, trained at another site, had dropped, without a word)."""
    from medadapt.data.feature_kinds import ALL_MISSING, is_missing

    out = []
    for name, reason in schema.dropped.items():
        if reason != ALL_MISSING or name not in frame:
            continue
        recorded = sum(not is_missing(value) for value in frame[name])
        if recorded:
            out.append(
                f"column {name!r} was empty in every row the model trained on (so it is not "
                f"one of its features) and is recorded in {recorded} of {len(frame)} rows "
                "here: the model does not read it; to use it, train a base model on rows "
                "that record it"
            )
    return out


MOSTLY_MISSING = 0.5  # more than this share of the model's features missing: the answer says so


def mostly_missing_note(missing: int, features: int) -> str | None:
    """What one prediction made on few of the model's features must say (``serve``'s
    ``note``; ``predict`` counts the rows, :func:`missing_rows_warnings`)."""
    if not features or missing / features <= MOSTLY_MISSING:
        return None
    return (f"{missing} of the model's {features} features were missing (read as 'not "
            f"measured', never imputed): this prediction rests on {features - missing}; send "
            "the others before relying on it")  # fmt: skip


def withheld_note(missing: int, features: int) -> str:
    """Why ``serve`` gives no prediction for an instance lacking more than half of the
    model's features (:data:`MOSTLY_MISSING`), and how to get one."""
    return (f"{missing} of the model's {features} features were missing (read as 'not "
            f"measured', never imputed): a prediction resting on {features - missing} is "
            "withheld; send the others, or start the server with --score-sparse to answer "
            "such instances anyway")  # fmt: skip


def missing_rows_warnings(schema: TableSchema, encoded) -> list[str]:
    """The warnings for rows that hold none of the model's features (blank lines, a row of
    only an id: scored from nothing the patient has) and for rows that lack more than half
    of them (the rule ``serve`` answers with a ``note``; ``encoded``: the rows as the model
    reads them, :meth:`TableSchema.encode`)."""
    lacking = sum(_lacking(schema, encoded).values(), start=np.zeros(len(encoded), dtype=int))
    unseen = _unseen(schema, encoded)  # a category never learned: no information either
    k, of = len(schema.features), len(lacking)
    none = int((lacking == k).sum()) if k else 0
    unused = lacking + unseen
    few = int(((unused > MOSTLY_MISSING * k) & (lacking < k)).sum()) if k else 0
    why = _why_unused(unseen[(unused > MOSTLY_MISSING * k) & (lacking < k)])
    out = []
    if none:
        rows = "rows holds" if none == 1 else "rows hold"  # "1 of 5 rows holds"
        out.append(
            f"{none} of {of} {rows} none of the model's {k} features (blank lines, or only an "
            f"id?): {'its' if none == 1 else 'their'} score rests on nothing the patient has; "
            f"delete {'it' if none == 1 else 'them'}, or fill in the values"
        )
    if few:
        rows = "rows lacks" if few == 1 else "rows lack"  # "1 of 50 rows lacks"
        rest = "its prediction rests" if few == 1 else "their predictions rest"
        out.append(
            f"{few} of {of} {rows} more than half of the model's {k} features ({why}): {rest} "
            "on the few left; fill in the others before relying on them"
        )
    return out


def _why_unused(unseen: np.ndarray) -> str:
    """How the features of rows were unused (``unseen``: per row, its categories never
    learned): missing only, or unseen categories too."""
    if (unseen > 0).any():
        return ("missing, read as 'not measured', or a category it did not learn, read as "
                "'unseen': neither tells the model anything")  # fmt: skip
    return "read as 'not measured', never imputed"


def sparse_rows(schema: TableSchema, encoded) -> np.ndarray:
    """Per row, whether more than half of the model's features are missing or hold a category
    it never learned (:data:`MOSTLY_MISSING`; the rule ``serve`` withholds an answer by, and
    ``predict`` leaves a prediction blank by, unless ``--score-sparse``)."""
    k = len(schema.features)
    lacking = sum(_lacking(schema, encoded).values(), start=np.zeros(len(encoded), dtype=int))
    return (lacking + _unseen(schema, encoded) > MOSTLY_MISSING * k) if k else lacking > 0


def withheld_rows_warning(schema: TableSchema, encoded, rows: np.ndarray) -> str:
    """What ``predict`` says of the ``rows`` (a mask) whose prediction it left blank."""
    n, one = int(rows.sum()), int(rows.sum()) == 1
    lacks = "rows lacks" if one else "rows lack"  # "1 of 50 rows lacks"
    rest = "its prediction was" if one else "their predictions were"
    return (
        f"{n} of {len(rows)} {lacks} more than half of the model's {len(schema.features)} "
        f"features ({_why_unused(_unseen(schema, encoded)[rows])}): {rest} left blank, as "
        f"serve withholds {'it' if one else 'them'}; fill in the others, or pass "
        f"--score-sparse to predict {'it' if one else 'them'} anyway"
    )


MISSING_COLUMN = "missing_features"


def missing_per_row(schema: TableSchema, encoded) -> list[str]:
    """Each row's features the model reads as missing (empty, text in a number, or its
    ``--missing-code``), ``;``-separated in the model's order (empty where none): the
    ``predict`` column that ``serve`` answers as ``missing_features`` (``encoded``: the rows
    as the model reads them, :meth:`TableSchema.encode`)."""
    lacking = _lacking(schema, encoded)
    return [";".join(f.name for f in schema.features if lacking[f.name][i])
            for i in range(len(encoded))]  # fmt: skip


def _unseen(schema: TableSchema, encoded) -> np.ndarray:
    """Per row, how many categorical features hold a value the model never learned."""
    from medadapt.data.feature_kinds import UNSEEN_INDEX

    if not schema.categorical_features:
        return np.zeros(len(encoded), dtype=int)
    return (encoded.x_cat == UNSEEN_INDEX).numpy().sum(axis=1).astype(int)


def _lacking(schema: TableSchema, encoded) -> dict[str, np.ndarray]:
    """Per feature, which rows the model reads as missing it (bool, shape (N,))."""
    from medadapt.data.feature_kinds import MISSING_INDEX

    x_num = encoded.x_num.isnan().numpy()  # (N, n_numeric)
    x_cat = (encoded.x_cat == MISSING_INDEX).numpy()  # (N, n_categorical)
    lacking = {f.name: x_num[:, j] for j, f in enumerate(schema.numeric_features)}
    return lacking | {f.name: x_cat[:, j] for j, f in enumerate(schema.categorical_features)}


UNREAD_SHOWN = 5  # columns the model does not read named by name; the rest counted


def unread_notes(columns: Sequence[str], copies: Mapping[str, str], where: str) -> list[str]:
    """What is said of the columns of ``where`` (``--data``, ``frame``) the model does not
    read (names only, never a value): each of ``copies`` (a column that copies the label,
    with how in words) that it must never be trained on; the others, counted and named, that
    a new base would be needed to use them. The command line's notes and the Python API's
    warnings alike."""
    said = [f"column {column!r} of {where} is not read by the model, and must not be: it is "
            f"{how}, a copy of the label (never train a model on it)"
            for column, how in copies.items()]  # fmt: skip
    rest = [c for c in columns if c not in copies]
    if not rest:
        return said
    n, one = len(rest), len(rest) == 1
    shown = ", ".join(map(repr, rest[:UNREAD_SHOWN]))
    more = f" and {n - UNREAD_SHOWN} more" if n > UNREAD_SHOWN else ""
    return [*said, (
        f"{n} column{'' if one else 's'} of {where} {'is' if one else 'are'} not read by the "
        f"model: {shown}{more} ({'it was' if one else 'they were'} not among the features the "
        f"base trained on; train a new base to use {'it' if one else 'them'})"
    )]  # fmt: skip

"""The table API in one namespace: train, adapt and score on pandas data frames.

Thin functions over the modality-independent training (:mod:`medadapt.train.fitting`) for a
:class:`~medadapt.data.schema.TableSchema` and its rows; the command line's jobs are in
:mod:`medadapt.workflows`. The rows are checked as the command line checks a file's: a
feature that alone predicts the label is refused (``allow_leak`` keeps it, with a warning), a
table that lacks a feature column is refused (``allow_absent_columns=True`` scores it with the
column missing for everyone), and so is one without labelled rows. Each refusal is one
:class:`~medadapt.errors.MedadaptError` line naming the Python argument that fixes it. What the
command line warns about the rows' values (far outside the training rows, "not measured"
zeros, text or infinite numbers read as missing) ``adapt`` and ``predict`` warn as a
``UserWarning``. As the command line's, ``train_base`` and ``adapt`` record which rows trained
the model, as keyed hashes (never values) that ``BaseModel.save`` and ``save_adapter`` write
to ``split.json`` beside it, so ``medadapt evaluate`` leaves those rows out of any file.

>>> # see README.md for a runnable example on the bundled heart-disease data
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from medadapt.adaptation_sample_size import record_sample_size
from medadapt.adapters import AdapterModel
from medadapt.backbones.tabular import FTTransformer
from medadapt.data.group_columns import site_feature_warning
from medadapt.data.leaks import (
    STRONG_LEVEL,
    Leak,
    as_strong_at_base,
    find_leaks,
    kept_leaks_warning,
    refuse_leaks,
    strong_at_base_warnings,
    strong_features,
    taken_within_chance,
)
from medadapt.data.missing_codes import read_as_missing
from medadapt.data.option_words import PYTHON
from medadapt.data.row_hashes import trained_mask
from medadapt.data.schema import (
    TableSchema,
    as_names,
    dichotomised_warning,
    require_data_frame,
    unlabelled_note,
)
from medadapt.data.tables import (
    MISSING_LABEL,
    group_labels,
    read_as_a_file,
    unusable_numbers_warnings,
)
from medadapt.errors import AdapterStateError, ConfigError, DataError
from medadapt.evaluate.sufficiency import adapter_sample_notes, new_model_note
from medadapt.modalities import modality_of
from medadapt.modalities.bundle import BaseModel, base_of
from medadapt.modalities.tabular import splits
from medadapt.modalities.tabular.modality import refuse_unknown_leak_names
from medadapt.modalities.tabular.model import TabularModelConfig
from medadapt.modalities.tabular.samples import TableSamples, subgroup_columns
from medadapt.modalities.tabular.samples import true_labels as _true_labels
from medadapt.results import (
    ADAPTER_ROWS,
    base_kept_leak_notes,
    kept_leak_notes,
    scored_in_sample,
    within_chance_notes,
)
from medadapt.train import fitting
from medadapt.train.data_summary import data_summary
from medadapt.train.fitting import Adaptation
from medadapt.train.loop import TrainConfig
from medadapt.wording import noun_for, plural

__all__ = [
    "Adaptation",
    "TabularModelConfig",
    "adapt",
    "predict",
    "subgroup_columns",
    "train_base",
    "true_labels",
]
OnEpoch = Callable[[int, float, float | None], None] | None


def _modality():
    return modality_of("tabular")


def train_base(
    frame: pd.DataFrame,
    schema: TableSchema,
    *,
    model_config: TabularModelConfig | None = None,
    train_config: TrainConfig | None = None,
    seed: int = 0,
    on_epoch: OnEpoch = None,
    allow_absent_columns: bool = False,
) -> BaseModel:
    """Train an FT-Transformer on the labelled rows of ``frame`` (``schema``: from
    :meth:`TableSchema.infer` on them). A feature that alone predicts the label is refused
    unless the schema keeps it (``TableSchema.infer(..., allow_leak=[...])``).

    Every row trains the model (a share of them, kept by patient, stops training early: see
    ``TrainConfig.patience``); no test rows are held out: hold some out yourself, or call
    ``medadapt.workflows.train_base.train_base_job`` for the command line's split.
    ``model_config``: the network's size (``TabularModelConfig``: ``d_token``, ``n_blocks``,
    ``n_heads``); ``train_config``: its optimisation (:class:`~medadapt.train.loop.
    TrainConfig`; its ``seed`` is replaced by ``seed``); ``seed``: the weights' start and the
    early-stopping split; ``on_epoch(epoch, train_loss, val_loss)``: called after each
    epoch; ``allow_absent_columns``: score without a feature the schema has but ``frame``
    lacks (read as missing) instead of refusing."""
    fitting.check_arguments(train_config, seed)
    _check_schema(schema)
    rows = _labelled_rows(_as_read(frame), schema, allow_absent_columns)  # an inf label: none
    used = [*(f.name for f in schema.features), schema.label]  # as the command line's notes
    for note in [
        *unusable_numbers_warnings(rows, used),
        *dichotomised_warning(rows[schema.label], schema),
        *[w for w in [site_feature_warning(rows, schema, PYTHON)] if w],
    ]:
        warnings.warn(note, UserWarning, stacklevel=2)
    coded = read_as_missing(rows, schema.missing_codes)
    leaks = find_leaks(schema, coded, group_column=schema.group_column)
    kept = _refuse_leaks(leaks, schema, allowed=schema.allowed_leaks,
                         fix="leave {it} out with TableSchema.infer(..., exclude={columns}), or "
                         "keep {it} with TableSchema.infer(..., allow_leak={columns}) if "
                         "{genuine} measured before the outcome")  # fmt: skip
    # recorded with the model (statistics, never a row): adapters' leak checks read them
    schema = replace(
        schema, strong_features=strong_features(schema, coded), strong_level=STRONG_LEVEL
    )
    samples = TableSamples(rows, schema, schema.group_column)
    only = _modality().only_class(schema, samples.labels)
    if only is not None:  # as train-base refuses them (a trial's base trained, with a warning)
        raise DataError(
            f"frame's labelled rows hold {_modality().one_class_words(schema, only)}; a base "
            "model trained on them would call everyone that class: pass rows with at least "
            "two classes"
        )
    _warn_about_size(schema, samples)
    base = fitting.train_base(
        _modality(), schema, samples, options=model_config or TabularModelConfig(),
        train_config=train_config, seed=seed, on_epoch=on_epoch,
    )  # fmt: skip
    if kept:  # saved with the model: every later result on it repeats them, as train-base's
        base.training["allowed_leaks"] = [leak.to_json() for leak in kept]
    # which rows trained it, as keyed hashes in split.json beside the saved model (never
    # values): `medadapt evaluate` and `adapt` recognise them in any file, as train-base's
    base.training["split"], base.side_files = splits.frame_base_split(samples)
    return base


def adapt(
    base: BaseModel,
    frame: pd.DataFrame,
    *,
    method: str,
    name: str,
    into: AdapterModel | None = None,
    train_config: TrainConfig | None = None,
    seed: int = 0,
    on_epoch: OnEpoch = None,
    allow_leak: str | Sequence[str] = (),
    allow_absent_columns: bool = False,
    allow_one_class: bool = False,
    method_options: dict[str, Any] | None = None,
) -> Adaptation:
    """Train adapter ``name`` (or, for ``full``, a fine-tuned copy) on target rows ``frame``.

    ``method``: bottleneck, lora, dora, ia3, head or full. ``into``: an AdapterModel over
    ``base.model`` to add the adapter to (one model serving many adapters); by default a
    fresh copy of the base is wrapped. ``allow_leak``: base features kept although they alone
    predict the label on these rows (a warning says so). ``allow_one_class``: train although
    the rows hold one class (refused by default: the adapter can then only learn to call
    everyone that class; FLamby's Switzerland training split is such a benchmark case).
    ``method_options``: the method's settings over its defaults (``{"r": 4, "alpha": 8}`` for
    lora), as ``--adapter-options`` sets them. The result's ``sample_size``: Riley et al.'s
    development criterion for what it trains (``full``: every weight), as the command line's
    adapt records it.
    ``train_config``, ``seed``, ``on_epoch`` and ``allow_absent_columns``: as for
    :func:`train_base` (by default the method's own training settings).
    """
    fitting.check_arguments(train_config, seed)
    schema = _base_schema(base)
    method = fitting.method_named(method)
    options = fitting.python_method_options(method, method_options, into)
    rows = _labelled_rows(_as_read(frame), schema, allow_absent_columns, judge_numbers=True)
    samples = _samples(rows, schema)
    only = _modality().only_class(schema, samples.labels)
    if only is not None and not allow_one_class:
        raise DataError(
            f"frame's labelled rows hold {_modality().one_class_words(schema, only)}; an "
            "adapter trained on them would call everyone that class: pass rows with at least "
            "two classes (allow_one_class=True trains it all the same)"
        )
    refuse_unknown_leak_names(schema, as_names(allow_leak), "allow_leak: ")  # as the CLI does
    allowed = [*schema.allowed_leaks, *as_names(allow_leak)]  # one name: one column
    coded = read_as_missing(rows, schema.missing_codes)  # judged as the command line does
    strong, found = as_strong_at_base(find_leaks(schema, coded), schema.strong_features)
    found += [leak for leak in strong if leak.column in allowed]  # kept as asked, and said so
    strong = [leak for leak in strong if leak.column not in allowed]
    for said in strong_at_base_warnings(strong, schema.strong_features, schema.label,
                                        rows="rows of frame"):  # fmt: skip
        warnings.warn(said, UserWarning, stacklevel=2)
    kept = _refuse_leaks(found, schema, allowed=allowed, rows="rows of frame", at_base=True,
                         fix="keep {it} with allow_leak={columns} if {genuine} measured before "
                         "the outcome, or drop {it} from frame and pass allow_absent_columns=True "
                         "(the base model then reads {it} as missing)")  # fmt: skip
    _warn_about_values(schema, samples)
    _warn_about_adapter_rows(schema, samples)
    _warn_about_base_rows(base, samples)
    result = fitting.adapt(
        _modality(), base, samples, method=method, name=name, into=into,
        train_config=train_config, seed=seed, on_epoch=on_epoch, method_options=options,
    )  # fmt: skip
    _recording_training_rows(result, samples)
    _recording_summary(result, schema, samples, method)
    record_sample_size(_modality(), base, result, samples,
                       _trained_rows(samples, _base_rows(base)))  # fmt: skip
    return _recording_kept_leaks(result, base, kept,
                                 taken_within_chance(strong, schema.strong_features))  # fmt: skip


def _recording_summary(
    result: Adaptation, schema: TableSchema, samples: TableSamples, method: str
) -> None:
    """What the adapter predicts and what trained it (counts only), saved with it by
    ``save_adapter`` as the command line's adapt records them: a trial's Python adapter was
    listed by the registry with no task or group, and carded "for an unstated task". Its
    test figures are the caller's to make (none is recorded: the card says so)."""
    if not isinstance(result.model, AdapterModel):
        return
    column = schema.group_column
    # read as --group reads them (2.0 -> "2"), the missing aside
    groups = set(group_labels(samples.frame[column])) - {MISSING_LABEL} if column else set()
    one = {"group_column": column, "group": str(groups.pop())} if len(groups) == 1 else {}
    summary = data_summary(_modality(), schema, samples, None, schema.classes, **one)
    result.model.adapter_metadata.setdefault(result.name, {}).update(
        kind="tabular", task=schema.task, label=schema.label, classes=list(schema.classes),
        method=method, data_summary=summary,
    )  # fmt: skip


def _recording_training_rows(result: Adaptation, samples: TableSamples) -> None:
    """Which rows trained adapter ``name``, as keyed hashes (never values) that
    ``save_adapter`` writes to ``split.json`` beside it, named in its manifest's ``split`` as
    the command line's adapt records them: ``medadapt evaluate`` leaves them out in any file.
    (A fully fine-tuned copy is a bare network here: nothing saves it with a record.)"""
    if not isinstance(result.model, AdapterModel):
        return
    summary, raw = splits.frame_adapter_split(samples)
    result.model.adapter_metadata.setdefault(result.name, {})["split"] = summary
    result.model.adapter_files.setdefault(result.name, {})[splits.SPLIT_FILE] = raw


def _recording_kept_leaks(
    result: Adaptation, base: BaseModel, kept: list[Leak], within_chance: list[dict[str, Any]]
) -> Adaptation:
    """``result`` with the leaks kept for it beyond the base's own (which the base repeats),
    also saved with the adapter by ``save_adapter``, as the command line's adapt records them
    (and the columns taken for the base's strong predictors on few rows, ``within_chance``):
    every later result on the adapter (evaluate, predict, serve, registry) repeats them."""
    said = {leak["column"] for leak in base.training.get("allowed_leaks") or []}
    result.allowed_leaks = [leak.to_json() for leak in kept if leak.column not in said]
    if isinstance(result.model, AdapterModel):
        recorded = result.model.adapter_metadata.setdefault(result.name, {})
        recorded |= {"allowed_leaks": result.allowed_leaks} if result.allowed_leaks else {}
        recorded |= {"strong_within_chance": within_chance} if within_chance else {}
    return result


def predict(
    model: nn.Module,
    schema: TableSchema,
    frame: pd.DataFrame,
    *,
    adapter: str | None = None,
    adapter_ids: Sequence[str | None] | None = None,
    allow_absent_columns: bool = False,
) -> np.ndarray:
    """Scores for every row of ``frame`` (labels not needed): P(positive), (N, K)
    probabilities, or values in the label's unit. ``adapter``: score through that adapter of
    ``model`` (the ``model`` of :func:`adapt`'s result); None: the base model alone. Rows
    lacking more than half of the model's features are scored, with a warning counting them
    (``medadapt predict`` and ``serve`` withhold their answers)."""
    fitting.require_network(model)  # before any warning about the rows
    _check_table_network(model)
    _check_schema(schema)
    _check_schema_fits(model, schema)
    require_data_frame(frame)
    if len(frame) == 0:
        raise DataError("frame has no rows to score; pass a DataFrame with at least one row")
    _check_adapters(model, adapter, adapter_ids)
    if adapter_ids is None and isinstance(_uncompiled(model), AdapterModel):
        adapter_ids = [adapter] * len(frame)  # compiled too (fitting tells one by its class)
    _check_columns(schema, frame, allow_absent_columns)
    _check_numbers(schema, frame)
    samples = _samples(_as_read(frame), schema)
    _warn_about_values(schema, samples, scoring=True)
    _warn_about_unread(schema, frame)
    _warn_about_training_rows(model, samples, adapter_ids)
    _warn_about_kept_leaks(model, schema, adapter_ids)
    _warn_about_other_groups(model, frame, adapter_ids)
    return fitting.predict(
        _modality(), model, schema, samples, adapter=adapter, adapter_ids=adapter_ids
    )


def _warn_about_kept_leaks(
    model: nn.Module, schema: TableSchema, adapter_ids: Sequence[str | None] | None
) -> None:
    """A warning for each column the base model or the adapter scoring the rows kept with
    ``allow_leak``, as ``medadapt predict`` says it (a trial's notebook scored new patients
    with a model resting on a column recorded after the outcome, without a word)."""
    network = _uncompiled(model)
    inner = network.base_model if isinstance(network, AdapterModel) else network
    base = base_of(inner)
    what = "these predictions"
    said = base_kept_leak_notes(base.training, schema.label, what=what) if base else []
    if isinstance(network, AdapterModel):
        for name in dict.fromkeys(n for n in adapter_ids or () if n is not None):
            recorded = network.adapter_metadata.get(name, {})
            said += kept_leak_notes(recorded.get("allowed_leaks"), schema.label, what=what,
                                    whose=ADAPTER_ROWS)  # fmt: skip
            said += within_chance_notes(recorded.get("strong_within_chance"), schema.label,
                                        what=what)  # fmt: skip
    for note in said:
        warnings.warn(note, UserWarning, stacklevel=3)


def _warn_about_other_groups(
    model: nn.Module, frame: pd.DataFrame, adapter_ids: Sequence[str | None] | None
) -> None:
    """A warning for each adapter trained for one group (its record's group column and
    value) given rows of another group, or rows without that column to tell, as ``medadapt
    predict`` says it: scored all the same (a user may mean it), but said (a trial's notebook
    scored every site's rows through the VA adapter without a word)."""
    network = _uncompiled(model)
    if not isinstance(network, AdapterModel) or adapter_ids is None:
        return
    ids = np.asarray(adapter_ids, dtype=object)
    if len(ids) != len(frame):  # refused by fitting.predict, by argument
        return
    for name in dict.fromkeys(n for n in ids if n is not None):
        summary = network.adapter_metadata.get(name, {}).get("data_summary") or {}
        column, group = summary.get("group_column"), summary.get("group")
        if not column or group is None:
            continue
        group, mine = str(group), ids == name
        n = int(mine.sum())
        given = f"{plural(n, 'row')} it scores"
        if column not in frame:
            said = (f"but frame has no column {column!r} to tell that group's rows by: the "
                    f"{given} {'is' if n == 1 else 'are'} scored with it, whatever "
                    f"{'its' if n == 1 else 'their'} group; to score only that group, pass "
                    "only its rows")  # fmt: skip
        else:
            values = group_labels(frame[column])[mine]
            n_other = int(np.sum((values != group) & (values != MISSING_LABEL)))
            if n_other == 0:
                continue
            has, they = ("has", "it is") if n_other == 1 else ("have", "they are")
            said = (f"but {n_other} of the {given} {has} another value of {column!r}: {they} "
                    "scored with it too; to score only that group, pass only its rows")  # fmt: skip
        warnings.warn(f"adapter {name!r} is for {column} = {group!r}, {said}", UserWarning,
                      stacklevel=3)  # fmt: skip


def _warn_about_training_rows(
    model: nn.Module, samples: TableSamples, adapter_ids: Sequence[str | None] | None
) -> None:
    """A warning counting the rows of ``frame`` that the base model or the adapter scoring
    them trained on (by content, from the keyed hashes each records): their scores are
    in-sample (a trial scored an adapter's 120 training rows, AUROC 0.991, where the
    command line leaves such rows out of its figures, without a word)."""
    network = _uncompiled(model)
    inner = network.base_model if isinstance(network, AdapterModel) else network
    base = base_of(inner)
    matched: dict[str, np.ndarray] = {}
    if base is not None:
        matched["the base model"] = _trained_rows(samples, _base_rows(base))
    ids = np.asarray([None] * len(samples) if adapter_ids is None else adapter_ids, dtype=object)
    for name in dict.fromkeys(n for n in ids if n is not None):
        raw = network.adapter_files.get(name, {}).get(splits.SPLIT_FILE)
        record = json.loads(raw) if raw else {}
        matched[f"adapter {name!r}"] = _trained_rows(samples, record) & (ids == name)
    matched = {who: mask for who, mask in matched.items() if mask.any()}
    if not matched:
        return
    n = int(np.logical_or.reduce(list(matched.values())).sum())
    said = scored_in_sample(n, f"the {len(samples)} rows of frame", "row", list(matched),
                            "content")  # fmt: skip
    warnings.warn(said, UserWarning, stacklevel=3)


def _base_rows(base: BaseModel) -> dict[str, Any]:
    """The record of the rows ``base`` trained on (its ``split.json``), {} when none is kept."""
    name = (base.training.get("split") or {}).get("rows_file")
    raw = base.side_files.get(name) if isinstance(name, str) else None
    return json.loads(raw) if raw else {}


def _trained_rows(samples: TableSamples, record: dict[str, Any]) -> np.ndarray:
    """Per row: whether a record's training rows hold it (by content)."""
    mask = np.zeros(len(samples), dtype=bool)
    for key in splits.ROW_RECORDS:
        mask |= trained_mask(samples.frame, record.get(key), samples.schema.id_column)
    return mask


def true_labels(schema: TableSchema, frame: pd.DataFrame) -> np.ndarray:
    """Class indices, or target values in their original unit for regression."""
    _check_schema(schema)
    frame = require_data_frame(frame)
    if schema.label not in frame:  # a trial's bare "not in the table" said no fix
        raise DataError(
            f"label column {schema.label!r} is not in frame: true_labels reads the outcome of "
            "labelled rows; add the outcome column (rows without an outcome can only be scored, "
            "with ma.predict)"
        )
    return _true_labels(schema, frame)


# ----- checks of the arguments ---------------------------------------------------------------
def _check_schema(schema: Any) -> None:
    if not isinstance(schema, TableSchema):
        raise ConfigError(
            f"schema must be a TableSchema, not {type(schema).__name__}: make one with "
            "ma.TableSchema.infer(frame, label=...)"
        )


def _base_schema(base: Any) -> TableSchema:
    """The schema of ``base``, refused when it is not a table model."""
    if not isinstance(base, BaseModel) or not isinstance(base.schema, TableSchema):
        raise ConfigError(
            f"base must be the table model that ma.train_base returned (or BaseModel.load), not "
            f"{type(base).__name__}{' for images' if isinstance(base, BaseModel) else ''}"
        )
    return base.schema


def _labelled_rows(
    frame: Any, schema: TableSchema, allow_absent: bool, *, judge_numbers: bool = False
) -> pd.DataFrame:
    """The rows of ``frame`` that have a label, refused when there are none; how many were
    left out is a warning at the user's line, as the command line says it. ``judge_numbers``:
    refuse numeric features written as text (:func:`_check_numbers`; ``train_base``'s schema
    judged them already, on inferring)."""
    require_data_frame(frame)
    if schema.label not in frame:
        raise DataError(
            f"frame has no label column {schema.label!r} (what the model predicts), so it "
            "cannot train; add the outcome column, or use ma.predict for rows without a label"
        )
    _check_columns(schema, frame, allow_absent)
    if judge_numbers:
        _check_numbers(schema, frame)
    rows = schema.labelled_rows(frame)
    if frame.empty:  # a filter that kept nothing (a trial's site == "rural" for "Rural")
        raise DataError("frame has no rows: check the filter that made it (a group value "
                        "spelt otherwise, in another case?)")  # fmt: skip
    if rows.empty:
        raise DataError(
            f"frame has no rows with a label {schema.label!r} ({len(frame)} rows in all); "
            "fill the label or pass other rows"
        )
    left_out = unlabelled_note(schema.label, len(frame), len(rows))
    if left_out is not None:  # train_base's or adapt's caller's line
        warnings.warn(left_out, UserWarning, stacklevel=3)
    return rows


def _check_columns(schema: TableSchema, frame: pd.DataFrame, allow_absent: bool) -> None:
    """Refuse a table that lacks feature columns (they would silently become missing)."""
    try:
        schema.require_columns(frame, allow_absent=allow_absent)
    except DataError as error:
        python = (
            str(error)
            .replace("--allow-absent-columns", "allow_absent_columns=True")
            .replace(" in --data", " in frame")  # "rename the columns in frame" (a trial)
            .replace("check --data, or pass the --base trained for it", "check the frame, or "
                     "pass the schema and model trained for it")
        )  # fmt: skip
        raise DataError(python) from None


def _check_numbers(schema: TableSchema, frame: pd.DataFrame) -> None:
    """Refuse a numeric feature of the model that ``frame`` writes with a unit or as other
    text in more than a tenth of its values, as the command line refuses such a file
    (:func:`~medadapt.modalities.tabular.findings.refuse_written_numbers`, in the Python
    API's words)."""
    from medadapt.modalities.tabular.findings import refuse_written_numbers

    refuse_written_numbers(schema, frame, None)


def _refuse_leaks(
    leaks: Sequence[Leak],
    schema: TableSchema,
    *,
    allowed: Sequence[str],
    fix: str,
    rows: str = "training rows",
    at_base: bool = False,
) -> list[Leak]:
    """:func:`medadapt.data.leaks.refuse_leaks` in the Python API's words (``fix``: a template
    with ``{it}``, ``{columns}`` and ``{genuine}``; ``at_base``: rows an adapter trains on,
    the refusal giving each column's figure where the base trained); one warning naming
    every allowed leak, which are returned."""
    kept = refuse_leaks(leaks, label=schema.label, allowed=allowed, fix=fix, rows=rows,
                        at_base=schema.strong_features if at_base else None,
                        at_base_level=schema.strong_level)  # fmt: skip
    if kept:
        warnings.warn(kept_leaks_warning(kept, schema.label, keep="allow_leak"), UserWarning,
                      stacklevel=3)  # fmt: skip
    return kept


# ----- warnings about the rows' values ------------------------------------------------------
def _samples(rows: pd.DataFrame, schema: TableSchema) -> TableSamples:
    """``rows`` (read as a file's: :func:`_as_read`) for ``schema``, with what reading them
    noted (infinite numbers read as missing), as the command line has them."""
    return TableSamples(rows, schema, notes=unusable_numbers_warnings(rows))


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as :func:`ma.read_table` gives a file's rows (a copy, infinite numbers and
    magnitudes beyond 1e15 read as missing and counted for the warning,
    :func:`~medadapt.data.tables.read_as_a_file`). Not a DataFrame: refused, naming
    ``frame``."""
    return read_as_a_file(require_data_frame(frame))[0]


def _warn_about_values(schema: TableSchema, samples: TableSamples, scoring: bool = False) -> None:
    """The command line's warnings about the rows' values (far outside the training rows,
    zeros far below what the base saw, text or infinite numbers read as missing), each once,
    as a warning at the user's line: the model scores such rows without a word."""
    for note in _modality().sample_notes(schema, samples, python=True):
        if scoring and "more than half of the model's" in note:  # a trial: scored here,
            note += (" (ma.predict scores them; the command line's 'medadapt predict' and the "
                     "service leave their answers blank)")  # fmt: skip
        warnings.warn(note, UserWarning, stacklevel=3)


def _warn_about_unread(schema: TableSchema, frame: pd.DataFrame) -> None:
    """``medadapt predict``'s notes, as warnings: a column that copies the label is never to
    be trained on; a renamed feature column (passed with ``allow_absent_columns``) is left
    to its own warning; the others the model does not read change nothing (a trial's new
    lab column was said by the command line only). Never the label, the id or group
    column, nor one read as a record number or a date."""
    from medadapt.data.leaks import unread_copies
    from medadapt.modalities.tabular.findings import unread_notes

    offered = set(schema.likely_renames(frame).values())
    unread = [c for c in schema.unread_columns(frame) if c not in offered]
    copies = unread_copies(schema, frame, unread) if schema.label in frame else {}
    for said in unread_notes(unread, copies, "frame"):
        warnings.warn(said, UserWarning, stacklevel=3)


def _warn_about_size(schema: TableSchema, samples: TableSamples) -> None:
    """train-base's warning when the rarest class has too few rows for a new model on the
    schema's features (:func:`~medadapt.evaluate.sufficiency.new_model_note`)."""
    if schema.task == "regression":
        return
    counts = samples.class_counts(schema.classes)
    note = new_model_note(counts, len(schema.features), "rows", adapt="ma.adapt")
    if note is not None:
        warnings.warn(note, UserWarning, stacklevel=3)


def _warn_about_base_rows(base: BaseModel, samples: TableSamples) -> None:
    """That rows of ``frame`` trained the base model (by content, from its recorded hashes),
    as the command line's adapt counts them (a trial adapted on the base's own training rows
    without a word: an adapter learns little there, and any figure on them is in-sample)."""
    seen = int(_trained_rows(samples, _base_rows(base)).sum())
    if seen:
        warnings.warn(
            f"the base model trained on {seen} of the {len(samples)} rows of frame (by "
            "content): an adapter learns little from rows the base already fitted, and any "
            "figure on them is in-sample; adapt on other patients' rows",
            UserWarning, stacklevel=3,
        )  # fmt: skip


def _warn_about_adapter_rows(schema: TableSchema, samples: TableSamples) -> None:
    """adapt's warnings about too few rows to train an adapter on, or of a class, in the
    command line's words but for ``frame`` (every row of it trains the adapter)."""
    classes = schema.classes if schema.task != "regression" else ()
    for note in adapter_sample_notes(samples, None, classes, "rows", "frame",
                                     fix="pass more rows in frame"):  # fmt: skip
        warnings.warn(note, UserWarning, stacklevel=3)


def _uncompiled(model: nn.Module) -> nn.Module:
    """The network that ``torch.compile`` wrapped ``model`` around (its ``_orig_mod``), else
    ``model``: a compiled network is checked as the network it runs. (Only a program that
    compiled something has ``torch._dynamo`` loaded: it is not imported here.)"""
    eval_frame = sys.modules.get("torch._dynamo.eval_frame")
    if eval_frame is not None and isinstance(model, eval_frame.OptimizedModule):
        return model._orig_mod
    return model


def _check_table_network(model: nn.Module) -> None:
    """A network of another modality failed in its forward as "unexpected keyword argument
    'x_num'"; a table network compiled by ``torch.compile`` is checked as the one it wraps."""
    model = _uncompiled(model)
    if type(model).__name__.startswith("Peft") and hasattr(model, "get_base_model"):
        raise ConfigError(  # a trial's PeftModel was called "a LoraModel", its inner wrapper
            f"model is a {type(model).__name__} (Hugging Face PEFT): pass "
            "model.get_base_model(), the table network with PEFT's adapter in it, or load the "
            "adapter into medadapt with medadapt.adapters.load_peft_lora"
        )
    inner = getattr(model, "base_model", model)
    if not isinstance(inner, FTTransformer):
        raise ConfigError(
            f"model is a {type(inner).__name__}, not a table model: pass the .model of a table "
            "base (ma.BaseModel.load, ma.train_base) or adaptation; score images with "
            "medadapt.images.predict_proba"
        )


def _check_schema_fits(model: nn.Module, schema: TableSchema) -> None:
    """A schema of another model: a trial's ``ma.predict(diabetes_base.model,
    breast_cancer_schema, rows)`` ended in torch's "size of tensor a (30) must match the size
    of tensor b (10)"."""
    inner = _uncompiled(model)
    config = getattr(getattr(inner, "base_model", inner), "config", {})
    wanted = (config.get("n_numeric"), config.get("cat_cardinalities"), config.get("d_out"))
    given = (len(schema.numeric_features),
             [f.cardinality for f in schema.categorical_features], schema.n_outputs)  # fmt: skip
    if None not in wanted and list(wanted) != list(given):
        raise ConfigError(
            f"schema does not fit model: the network reads {wanted[0]} numeric and "
            f"{len(wanted[1])} categorical features and gives {plural(wanted[2], 'output')}, the "
            f"schema names {given[0]} numeric and {len(given[1])} categorical features (or other "
            f"categories) and {plural(given[2], 'output')}; pass the schema saved with that "
            "model (ma.BaseModel.load(folder).schema, or the schema it was trained with)"
        )
    network = getattr(inner, "base_model", inner)
    base = base_of(network)
    differs = None if base is None else _schema_differs(base.schema, schema)
    if differs:  # the same shapes, another meaning: a trial's 0/1 schema for a model of
        raise ConfigError(  # benign/malignant was used as the model's, without a word
            f"schema does not fit model: {differs}; pass the schema saved with that model "
            "(base.schema, or ma.BaseModel.load(folder).schema)"
        )


def _schema_differs(recorded: TableSchema, given: TableSchema) -> str | None:
    """How ``given`` reads the rows otherwise than the schema a model was trained with
    (``recorded``): its label, classes, positive class, features or their scaling, in words;
    None where it reads them alike (what training adds, the features found strong, aside)."""
    if (recorded.label, recorded.task) != (given.label, given.task):
        return (f"the model predicts {recorded.label!r} ({recorded.task}), the schema "
                f"{given.label!r} ({given.task})")  # fmt: skip
    if list(recorded.classes) != list(given.classes):
        return (f"the model's classes of {recorded.label!r} are {list(recorded.classes)}, the "
                f"schema's {list(given.classes)}")  # fmt: skip
    rules = ("positive_above", "positive_class", "label_mean", "label_std")
    if any(getattr(recorded, r) != getattr(given, r) for r in rules):
        return f"the schema reads {recorded.label!r} otherwise than the model was trained to"
    if recorded.missing_codes != given.missing_codes:
        return "the schema reads other values as missing than the model was trained to"
    for mine, theirs in zip(recorded.features, given.features, strict=False):
        if (mine.name, mine.kind) != (theirs.name, theirs.kind):
            return (f"the model's features are {[f.name for f in recorded.features]}, the "
                    f"schema's {[f.name for f in given.features]}")  # fmt: skip
        if (list(mine.categories), mine.mean, mine.std) != (
            list(theirs.categories),
            theirs.mean,
            theirs.std,
        ):
            return (f"the schema scales or codes feature {mine.name!r} otherwise than the "
                    "model was trained with (another training set's statistics)")  # fmt: skip
    return None


def _check_adapters(
    model: nn.Module, adapter: str | None, adapter_ids: Sequence[str | None] | None
) -> None:
    """An adapter named for a model without adapters would score as the base, silently (a
    compiled AdapterModel has its adapters); a model holding adapters scored without naming
    one gives the base model's scores, said in a warning (a trial's notebook reported them as
    its loaded adapter's)."""
    if adapter is not None and adapter_ids is not None:  # a trial's adapter= went unread
        raise ConfigError(
            f"adapter={adapter!r} and adapter_ids= were both given: adapter_ids names each row's "
            "adapter and adapter names one for every row; pass one of them"
        )
    inner = _uncompiled(model)
    if isinstance(inner, AdapterModel):
        held = inner.adapter_names
        asked = [adapter] if adapter is not None else list(dict.fromkeys(adapter_ids or ()))
        unknown = [a for a in asked if a is not None and a not in held]
        if unknown:  # said here, not from inside torch (a trial's 14 frames of traceback)
            from medadapt.checks import did_you_mean

            which = "adapter" if adapter is not None else "adapter_ids"
            raise AdapterStateError(
                f"{which}: {unknown[0]!r} is not an adapter of this model"
                f"{did_you_mean(unknown[0], held)} (it holds: "
                f"{', '.join(map(repr, held)) or 'none'})"
            )
        if held and adapter is None and adapter_ids is None and not inner.merged_adapters:
            warnings.warn(
                f"adapter= was not given, so these are the base model's scores, though the model "
                f"holds {noun_for(len(held), 'adapter')} {', '.join(map(repr, held))}: pass "
                f"adapter={held[0]!r} to score through it",
                UserWarning,
                stacklevel=3,
            )
        return
    named = [adapter] if adapter is not None else [a for a in adapter_ids or () if a is not None]
    if named:
        raise AdapterStateError(
            f"adapter={named[0]!r} was given, but the model has no adapters: pass the model of "
            "ma.adapt's result (or an AdapterModel with the adapter loaded), or leave adapter "
            "out to score the base model"
        )

"""The tabular command-line jobs as Python functions (the CLI only parses and prints).

Each job reads a user's table, checks it against the model, and writes its outputs
atomically. Splits are recorded as row positions plus the data file's checksum, so
``evaluate`` on the same file scores exactly the rows that training never saw.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medadapt.adapters import AdapterModel
from medadapt.data.leaks import find_leaks, leak_warning, refuse_leaks
from medadapt.data.row_hashes import RowHasher, trained_mask
from medadapt.data.schema import TableSchema
from medadapt.data.splits import nested_fraction, positions_digest, stratified_split
from medadapt.data.tables import (
    MISSING_LABEL,
    group_labels,
    read_table,
    table_bytes,
    unusable_numbers_warnings,
)
from medadapt.errors import DataError
from medadapt.evaluate.groups import evaluate_groups, subgroup_columns
from medadapt.evaluate.small_cells import mask_subgroups
from medadapt.fileio import atomic_write_bytes, sha256_file
from medadapt.train.bundle import BaseModel
from medadapt.train.tabular import (
    TabularModelConfig,
    adapt,
    predict,
    train_base,
    true_labels,
)
from medadapt.workflows.loading import attach_adapter

Progress = Callable[[str], None] | None
SPLIT_FILE = "split.json"
INTENDED_USE = (
    "Research use: adaptation of an existing model to the named group; validate locally "
    "before any clinical use."
)


def file_digest(path: str | Path) -> str:
    return sha256_file(path)


def _epoch_reporter(progress: Progress):
    """``on_epoch`` callback that shows the losses in the progress line."""
    if progress is None:
        return None

    def report(epoch: int, train_loss: float, val_loss: float | None) -> None:
        val = "" if val_loss is None else f", validation {val_loss:.3f}"
        progress(f"epoch {epoch}: loss {train_loss:.3f}{val}")

    return report


def data_warnings(frame: pd.DataFrame, schema: TableSchema, encoded=None) -> list[str]:
    """Values of the model's columns read as missing: infinite or absurd numbers (in the
    file ``frame`` came from) and text in numeric features (in ``encoded`` rows)."""
    used = [f.name for f in schema.features] + [schema.label]
    warnings = unusable_numbers_warnings(frame, used)
    for column, n in (getattr(encoded, "text_as_missing", None) or {}).items():
        warnings.append(f"{n} text value(s) in numeric column {column!r} are read as missing")
    return warnings


def select_groups(
    frame: pd.DataFrame, column: str | None, values: Sequence[str] | None, *, what: str
) -> pd.DataFrame:
    """Rows whose ``column`` is one of ``values`` (all rows without a filter)."""
    if not values:
        return frame
    if column is None:
        raise DataError(f"{what} needs --group-column to know which column holds the groups")
    if column not in frame:
        raise DataError(
            f"--group-column {column!r} is not in the table; columns: {', '.join(frame.columns)}"
        )
    present = group_labels(frame[column])
    distinct = set(present.tolist())
    missing = [v for v in values if v not in distinct]
    if missing:
        available = describe_values(distinct)
        raise DataError(
            f"{what}: group(s) {', '.join(map(repr, missing))} not found in column {column!r}; "
            f"it has: {available}"
        )
    return frame[np.isin(present, list(values))]


def describe_values(values: set[str], *, limit: int = 10) -> str:
    """Up to ``limit`` values, or only their number (a patient-id column must not be listed)."""
    if len(values) > limit:
        return f"{len(values)} distinct values (is it the right column?)"
    return ", ".join(sorted(values))


def _labels_for_split(schema: TableSchema, frame: pd.DataFrame) -> np.ndarray:
    return true_labels(schema, frame) if schema.task != "regression" else np.zeros(len(frame))


def _split_record(data: Path, train: np.ndarray, test: np.ndarray, **extra: Any) -> dict[str, Any]:
    """Which rows of ``data`` (by position) trained the model and which were held out."""
    return {
        "data_sha256": file_digest(data),
        "train_positions": [int(p) for p in train],
        "test_positions": [int(p) for p in test],
        "test_digest": positions_digest(test),
        **extra,
    }


def train_base_job(
    *,
    data: Path,
    label: str,
    out: Path,
    group_column: str | None = None,
    groups: Sequence[str] | None = None,
    task: str | None = None,
    positive_above: float | None = None,
    id_column: str | None = None,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    exclude: Sequence[str] = (),
    allow_leak: Sequence[str] = (),
    test_fraction: float = 0.2,
    seed: int = 0,
    model_config: TabularModelConfig | None = None,
    n_boot: int = 1000,
    progress: Progress = None,
) -> dict[str, Any]:
    """Train a base model on ``groups`` of ``data``; hold out ``test_fraction`` of it.

    Before training: record identifiers are left out (``schema.identifiers``) and a feature
    that alone predicts the label on the training rows (over all of them or within one
    group) is refused unless named in ``allow_leak``. Rows of one patient (``id_column``) and
    identical rows stay on one side of the split."""
    frame = read_table(data, text_columns=[id_column, group_column])
    rows = select_groups(frame, group_column, groups, what="--groups")
    options = {
        "label": label,
        "positive_above": positive_above,
        "id_column": id_column,
        "group_column": group_column,
        "categorical": categorical,
        "numeric": numeric,
        "exclude": exclude,
        "allow_leak": allow_leak,
    }
    probe = TableSchema.infer(rows, task=task, **options)  # the task and labelled rows
    rows = probe.labelled_rows(rows)
    train_pos, test_pos = stratified_split(
        _labels_for_split(probe, rows),
        test_fraction=test_fraction,
        seed=seed,
        groups=split_keys(probe, rows),
    )
    train_rows, test_rows = rows.iloc[train_pos], rows.iloc[test_pos]
    schema = TableSchema.infer(train_rows, task=probe.task, **options)  # fitted on training rows
    leaks = refuse_leaks(
        find_leaks(schema, train_rows, group_column=group_column),
        label=label,
        allowed=allow_leak,
    )
    if progress:
        progress(f"training on {len(train_rows)} rows")
    base = train_base(
        train_rows, schema, model_config=model_config, seed=seed, on_epoch=_epoch_reporter(progress)
    )
    evaluation = evaluate_groups(
        schema.task,
        true_labels(schema, test_rows),
        predict(base.model, schema, test_rows),
        subgroup_columns(test_rows, group_column=group_column),
        n_boot=n_boot,
        seed=seed,
    )
    base.training["split"] = _split_record(
        data,
        train_rows.index.to_numpy(),
        test_rows.index.to_numpy(),
        seed=seed,
        test_fraction=test_fraction,
        groups=list(groups or []),
    )
    base.training["test_metrics"] = evaluation["overall"]
    base.training["dropped_columns"] = schema.dropped
    out.mkdir(parents=True, exist_ok=True)
    record = RowHasher.for_schema(schema).record(train_rows)
    base.training["split"].update(write_rows_records(out, {"train_rows": record}))
    base.save(out)
    return {
        "base": str(out),
        "task": schema.task,
        "n_train": base.training["n_train"],
        "n_val": base.training["n_val"],
        "n_test": len(test_rows),
        "dropped_columns": schema.dropped,
        "identifiers": schema.identifiers,
        "text_as_missing": schema.text_as_missing,
        "leaks_allowed": [leak_warning(leak, label) for leak in leaks],
        "data_warnings": unusable_numbers_warnings(
            frame, [*(f.name for f in schema.features), label]
        ),
        "test": evaluation,
    }


def adapt_job(
    *,
    base_dir: Path,
    data: Path,
    label: str,
    group_column: str,
    group: str,
    out: Path,
    method: str = "bottleneck",
    name: str | None = None,
    train_fraction: float = 1.0,
    test_fraction: float = 0.3,
    seed: int = 0,
    allow_leak: Sequence[str] = (),
    n_boot: int = 1000,
    progress: Progress = None,
) -> dict[str, Any]:
    """Train a ``method`` adapter for ``group`` and save it (or a full model for ``full``).

    A feature of the base that alone predicts the label on the adapter's training rows is
    refused unless the base kept it deliberately or ``allow_leak`` names it."""
    base = BaseModel.load(base_dir)
    schema: TableSchema = base.schema
    if label != schema.label:
        raise DataError(
            f"the base model predicts {schema.label!r}, not {label!r}; pass --label {schema.label}"
        )
    frame = read_table(data, text_columns=[schema.id_column, group_column])
    rows = schema.labelled_rows(select_groups(frame, group_column, [group], what="--group"))
    labels = _labels_for_split(schema, rows)
    seen = _seen_by_base(base, base_dir, data, rows)
    train_pos, test_pos = _adapter_split(
        labels,
        seen,
        split_keys(schema, rows),
        test_fraction=test_fraction,
        seed=seed,
        where=f"{group_column} = {group}",
    )
    used = nested_fraction(train_pos, labels, fraction=train_fraction, seed=seed)
    _check_adapter_rows(schema, labels[used], where=f"{group_column} = {group}")
    train_rows, test_rows = rows.iloc[used], rows.iloc[test_pos]
    leaks = refuse_leaks(
        find_leaks(schema, train_rows),
        label=schema.label,
        allowed=[*schema.allowed_leaks, *allow_leak],
        fix="retrain the base model without it (train-base --exclude {names})",
    )
    name = name or _default_name(group, method)
    warnings = []
    if len(train_rows) < FEW_TRAINING_ROWS:
        warnings.append(
            f"only {len(train_rows)} training rows: the adapter's figures will be very "
            "uncertain; use a larger --train-fraction or more rows of this group"
        )
    if seen.any():
        warnings.append(
            f"the base model trained on {int(seen.sum())} of this group's {len(rows)} rows; "
            "they are used for the adapter's training, never for its test"
        )
    warnings += [leak_warning(leak, schema.label) for leak in leaks]
    warnings += data_warnings(frame, schema, schema.encode(train_rows))
    if progress:
        progress(f"{method} on {len(train_rows)} rows of {group}")
    result = adapt(
        base, train_rows, method=method, name=name, seed=seed, on_epoch=_epoch_reporter(progress)
    )
    adapter = None if method == "full" else name
    scores = predict(result.model, schema, test_rows, adapter=adapter)
    evaluation = evaluate_groups(
        schema.task,
        true_labels(schema, test_rows),
        scores,
        subgroup_columns(test_rows, group_column=None),
        n_boot=n_boot,
        seed=seed,
    )
    y_train = _labels_for_split(schema, train_rows)
    data_summary: dict[str, Any] = {
        "n_train": len(train_rows),
        "n_test": len(test_rows),
        "group_column": group_column,
        "group": group,
        "train_fraction": train_fraction,
        "n_seen_by_base": int(seen.sum()),
    }
    if schema.task == "binary":
        data_summary.update(
            n_positive=int(y_train.sum()), prevalence=round(float(y_train.mean()), 4)
        )
    positions = _split_record(data, train_rows.index.to_numpy(), test_rows.index.to_numpy())
    positions["train_rows"] = RowHasher.for_schema(schema).record(train_rows)
    positions_bytes = json.dumps(positions).encode()
    split = {
        "data_sha256": positions["data_sha256"],
        "test_digest": positions["test_digest"],
        "seed": seed,
        "test_fraction": test_fraction,
        "group_column": group_column,
        "group": group,
        "positions_file": SPLIT_FILE,
        "positions_sha256": hashlib.sha256(positions_bytes).hexdigest(),
    }
    metadata = {
        "task": schema.task,
        "label": schema.label,
        "data_summary": data_summary,
        "metrics": evaluation["overall"],
        "split": split,
        "intended_use": INTENDED_USE,
        "base_model": {
            "path": str(Path(base_dir).resolve()),
            "training_groups": base.training.get("groups"),
        },
        "train_seconds": round(result.fit.seconds, 2),
        "method": method,
        "trainable_params": result.trainable_params,
    }
    if method == "full":
        records = {**read_rows_records(base_dir, base), "adapted_rows": positions.pop("train_rows")}
        metadata["split"] = {**split, **positions}
        out.mkdir(parents=True, exist_ok=True)
        rows_reference = write_rows_records(out, records)
        base.model = result.model
        base.training = {
            **base.training,
            "adapted": metadata,
            "split": {**base.training.get("split", {}), **rows_reference},
        }
        base.save(out)
        size = (out / "model.safetensors").stat().st_size
    else:
        model: AdapterModel = result.model
        model.save_adapter(name, out, metadata=metadata)
        # which rows trained it stays beside the adapter, not in its manifest: it only matters
        # for evaluating on this very file, and the registry ships summaries only
        atomic_write_bytes(out / SPLIT_FILE, positions_bytes)
        size = (out / "adapter.safetensors").stat().st_size
    return {
        "adapter": str(out),
        "name": name,
        "method": method,
        "trainable_params": result.trainable_params,
        "adapter_bytes": size,
        "data_summary": data_summary,
        "test": evaluation,
        "warnings": warnings,
    }


FEW_TRAINING_ROWS = 10


def split_keys(schema: TableSchema, rows: pd.DataFrame) -> np.ndarray:
    """Per row, what must stay on one side of a split: its patient (the id column), else its
    content (identical rows are one patient as far as a test set can tell)."""
    keys = np.char.add("row:", RowHasher.for_schema(schema, salt="00" * 16).hashes(rows))
    if schema.id_column and schema.id_column in rows:
        ids = group_labels(rows[schema.id_column])
        keys = np.where(ids != MISSING_LABEL, np.char.add("id:", ids.astype(str)), keys)
    return keys


ROWS_FILE = SPLIT_FILE


def write_rows_records(directory: Path, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Write the hashes of the rows a model trained on beside it (``split.json``; hashes only,
    ``{"train_rows": ..., "adapted_rows": ...}``) and return the reference ``model.json``
    keeps (file name and checksum)."""
    raw = json.dumps(records).encode()
    atomic_write_bytes(Path(directory) / ROWS_FILE, raw)
    return {"rows_file": ROWS_FILE, "rows_sha256": hashlib.sha256(raw).hexdigest()}


def read_rows_records(base_dir: Path, base: BaseModel) -> dict[str, dict[str, Any]]:
    """The hashes of the rows the base (and, for a fully fine-tuned model, its adaptation)
    trained on; empty for models saved before they were recorded."""
    split = base.training.get("split") or {}
    if "rows_file" not in split:
        return {}
    path = Path(base_dir) / split["rows_file"]
    if not path.is_file():
        raise DataError(
            f"{path} (which rows trained the model, as hashes) is missing; copy the whole model "
            "directory again"
        )
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != split["rows_sha256"]:
        raise DataError(f"{path} does not match the checksum in model.json; copy the model again")
    return json.loads(raw)


def _seen_by_base(base: BaseModel, base_dir: Path, data: Path, rows: pd.DataFrame) -> np.ndarray:
    """Per row of ``rows``: whether the base model trained on it, by position in the same file
    or by content in any other."""
    split = base.training.get("split")
    seen = np.zeros(len(rows), dtype=bool)
    if split and split.get("data_sha256") == file_digest(data):
        seen |= rows.index.isin(split["train_positions"])
    for record in read_rows_records(base_dir, base).values():
        seen |= trained_mask(rows, record)
    return seen


def _adapter_split(
    labels: np.ndarray,
    seen: np.ndarray,
    keys: np.ndarray,
    *,
    test_fraction: float,
    seed: int,
    where: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test positions; test rows only among patients (``keys``) none of whose rows
    the base trained on."""
    if not seen.any():
        return stratified_split(labels, test_fraction=test_fraction, seed=seed, groups=keys)
    unseen = np.flatnonzero(~np.isin(keys, keys[seen]))
    try:
        _, test = stratified_split(
            labels[unseen], test_fraction=test_fraction, seed=seed, groups=keys[unseen]
        )
    except DataError:
        raise DataError(
            f"the base model trained on {int(seen.sum())} of the {len(labels)} rows of {where} "
            f"in this file, leaving {len(unseen)}: too few to test an adapter on; adapt to a "
            "group the base was not trained on, or retrain the base without it"
        ) from None
    test_pos = unseen[test]
    return np.setdiff1d(np.arange(len(labels)), test_pos), test_pos


def _check_adapter_rows(schema: TableSchema, y_train: np.ndarray, *, where: str) -> None:
    if schema.task == "regression":
        return
    present = np.unique(y_train)
    if len(present) < 2:
        only = schema.classes[int(present[0])] if len(present) else "none"
        raise DataError(
            f"the training rows of {where} have only one class of {schema.label!r} ({only!r}); "
            "an adapter needs both: pick a group with both classes or add rows"
        )


def _default_name(group: str, method: str) -> str:
    from medadapt.workflows.site_adaptation import slug

    return f"{slug(group)}_{method}"[:64]


def load_for_inference(base_dir: Path, adapter_dir: Path | None):
    """``(model, schema, adapter name or None, adapter manifest or None)``."""
    base = BaseModel.load(base_dir)
    if adapter_dir is None:
        return base.model, base.schema, None, None, base
    model, name, manifest = attach_adapter(base.model, adapter_dir)
    return model, base.schema, name, manifest, base


def _read_positions(adapter_dir: Path, split: dict[str, Any], *, needed: bool) -> dict[str, Any]:
    """The adapter's ``split.json`` (positions and training-row hashes); ``{}`` when it is
    absent and not ``needed`` (on another file only the hashes would have been used)."""
    path = Path(adapter_dir) / split["positions_file"]
    if not path.is_file():
        if not needed:
            return {}
        raise DataError(
            f"this adapter was trained on rows of this very file, but {path.name} (which rows) "
            "is not beside it; point --adapter at the directory 'medadapt adapt' wrote, or "
            "evaluate on another file"
        )
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != split["positions_sha256"]:
        raise DataError(f"{path} does not match the checksum in adapter.json; re-run adapt")
    return json.loads(raw)


def _rows_to_score(frame, data, base, base_dir, manifest, adapter_dir, group_column, group):
    """The rows to evaluate, a sentence saying which they are, and how many rows the base and
    the adapter trained on were left out (``{"base": n, "adapter": m}``).

    With an adapter, on the file it was trained from and no ``group``: exactly its held-out
    rows. Otherwise the requested rows minus every row the base or the adapter trained on:
    by position in the very file they were trained from, and by content (hashes of the
    normalised values) in any file, whatever its line endings, column order or extra columns.
    """
    digest = file_digest(data)
    adapter_split = (manifest or {}).get("metadata", {}).get("split")
    records = read_rows_records(base_dir, base)
    if adapter_split is None:  # a fully fine-tuned model records its adaptation split itself
        adapter_split = base.training.get("adapted", {}).get("split")
    elif "positions_file" in adapter_split:
        same_file = adapter_split["data_sha256"] == digest
        adapter_split = {
            **adapter_split,
            **_read_positions(adapter_dir, adapter_split, needed=same_file),
        }
    if adapter_split and adapter_split["data_sha256"] == digest and group is None:
        positions = adapter_split["test_positions"]
        return frame.loc[positions], f"the adapter's {len(positions)} held-out rows", {}
    rows = select_groups(frame, group_column, [group] if group else None, what="--group")
    adapter_records = [adapter_split.get("train_rows")] if adapter_split else []
    adapter_records.append(records.pop("adapted_rows", None))
    trained = {
        "base": _trained(rows, digest, base.training.get("split"), records.values()),
        "adapter": _trained(rows, digest, adapter_split, adapter_records),
    }
    excluded = {who: int(mask.sum()) for who, mask in trained.items() if mask.any()}
    described = f"{group_column} = {group}" if group else "all rows"
    if not excluded:
        return rows, described, {}
    kept = rows[~(trained["base"] | trained["adapter"])]
    who = {"base": "the base model", "adapter": "the adapter"}
    if len(excluded) == 1:
        ((key, n),) = excluded.items()
        sentence = f"{described}, minus {n} rows identical to rows {who[key]} trained on"
    else:
        parts = ", ".join(f"{n} by {who[key]}" for key, n in excluded.items())
        sentence = (
            f"{described}, minus {len(rows) - len(kept)} rows identical to training rows ({parts})"
        )
    return kept, sentence, excluded


def _trained(rows, digest, split, records) -> np.ndarray:
    """Per row: trained on, by position (same file) or by content (any file)."""
    mask = np.zeros(len(rows), dtype=bool)
    if split and split.get("data_sha256") == digest and "train_positions" in split:
        mask |= rows.index.isin(split["train_positions"])
    for record in records:
        mask |= trained_mask(rows, record)
    return mask


def evaluate_job(
    *,
    base_dir: Path,
    data: Path,
    label: str | None = None,
    adapter_dir: Path | None = None,
    group_column: str | None = None,
    group: str | None = None,
    threshold: float = 0.5,
    n_boot: int = 1000,
    allow_absent_columns: bool = False,
) -> dict[str, Any]:
    """Metrics of the base (+ adapter) on ``data``; only held-out rows when ``data`` is the
    file the model or adapter was trained from. Feature columns absent from ``data`` are
    refused unless ``allow_absent_columns`` (then they are missing for every row)."""
    model, schema, name, manifest, base = load_for_inference(base_dir, adapter_dir)
    if label is not None and label != schema.label:
        raise DataError(
            f"the model predicts {schema.label!r}, not {label!r}; pass --label {schema.label}"
        )
    frame = read_table(data, text_columns=[schema.id_column, group_column])
    if schema.label not in frame:
        raise DataError(
            f"--data {data} has no label column {schema.label!r} (what the model predicts), so it "
            "cannot be evaluated; add the outcome column, or use 'medadapt predict' for "
            "predictions without a label"
        )
    if not allow_absent_columns:
        schema.require_columns(frame)
    rows, rows_used, excluded = _rows_to_score(
        frame, data, base, base_dir, manifest, adapter_dir, group_column, group
    )
    rows = schema.labelled_rows(rows)
    if len(rows) == 0 and excluded:
        raise DataError(
            f"every labelled row of --data {data} ({rows_used}) was used in training; evaluate "
            "on patients the model never saw"
        )
    if len(rows) == 0:
        raise DataError(f"--data {data} has no labelled rows to evaluate ({rows_used})")
    encoded = schema.encode(rows)
    scores = predict(model, schema, rows, adapter=name)
    y = true_labels(schema, rows)
    evaluation = evaluate_groups(
        schema.task,
        y,
        scores,
        subgroup_columns(rows, group_column=group_column),
        n_boot=n_boot,
        threshold=threshold,
    )
    trainable, size = _adaptation_size(base, base_dir, manifest, adapter_dir)
    result: dict[str, Any] = {
        **evaluation["overall"],
        "rows_used": rows_used,
        "n_excluded_trained": excluded,
        "task": schema.task,
        "adapter": name,
        "trainable_params": trainable,
        "adapter_bytes": size,
        "unseen_categories": encoded.unseen,
        "missing_values": {k: v for k, v in encoded.missing.items() if v},
        "absent_columns": schema.absent_columns(rows),
        "subgroups": mask_subgroups(evaluation["subgroups"]),
    }
    result["data_warnings"] = data_warnings(frame, schema, encoded)
    result["leak_warnings"] = [
        leak_warning(leak, schema.label, scored=True) for leak in find_leaks(schema, rows)
    ]
    result["_curves"] = {"y": y, "scores": scores}
    if name is not None:  # the same rows through the base alone: the before/after view
        base_scores = predict(model, schema, rows, adapter=None)
        before = evaluate_groups(
            schema.task,
            y,
            base_scores,
            subgroup_columns(rows, group_column=group_column),
            n_boot=n_boot,
            threshold=threshold,
        )
        result["base_comparison"] = {**before, "subgroups": mask_subgroups(before["subgroups"])}
        result["_curves"]["base_scores"] = base_scores
        result["adapter_training"] = manifest["metadata"].get("data_summary")
        result["intended_use"] = manifest["metadata"].get("intended_use")
    return result


def _adaptation_size(base, base_dir, manifest, adapter_dir) -> tuple[int, int]:
    """``(trainable parameters, bytes)`` of the adapter, of a fully fine-tuned model (every
    parameter, the whole weights file), or ``(0, 0)`` for a base model alone."""
    if manifest is not None:
        return manifest["n_parameters"], (Path(adapter_dir) / "adapter.safetensors").stat().st_size
    adapted = base.training.get("adapted", {})
    if adapted.get("method") == "full":
        n_params = adapted.get("trainable_params") or sum(
            p.numel() for p in base.model.parameters()
        )
        return n_params, (Path(base_dir) / "model.safetensors").stat().st_size
    return 0, 0


def predict_job(
    *,
    base_dir: Path,
    data: Path,
    out: Path,
    adapter_dir: Path | None = None,
    allow_absent_columns: bool = False,
) -> dict[str, Any]:
    """Write one prediction per row of ``data`` to the CSV ``out`` (absent feature columns
    refused unless ``allow_absent_columns``)."""
    model, schema, name, _, _ = load_for_inference(base_dir, adapter_dir)
    frame = read_table(data, text_columns=[schema.id_column])
    if not allow_absent_columns:
        schema.require_columns(frame)
    encoded = schema.encode(frame, with_labels=False)
    scores = predict(model, schema, frame, adapter=name)
    table = pd.DataFrame(index=frame.index)
    if schema.id_column and schema.id_column in frame:
        table[schema.id_column] = frame[schema.id_column]
    if schema.task == "binary":
        table[f"p_{schema.classes[1]}"] = scores
        table["predicted"] = np.where(scores >= 0.5, schema.classes[1], schema.classes[0])
    elif schema.task == "multiclass":
        for i, c in enumerate(schema.classes):
            table[f"p_{c}"] = scores[:, i]
        table["predicted"] = [schema.classes[i] for i in scores.argmax(axis=1)]
    else:
        table["predicted"] = scores
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, table_bytes(table, out))
    return {
        "predictions": str(out),
        "n": len(table),
        "adapter": name,
        "unseen_categories": encoded.unseen,
        "missing_values": {k: v for k, v in encoded.missing.items() if v},
        "absent_columns": schema.absent_columns(frame),
        "warnings": data_warnings(frame, schema, encoded),
    }

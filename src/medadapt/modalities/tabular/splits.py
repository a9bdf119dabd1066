"""Which rows trained a table model: by position in the very file, by content in any other.

A split records row positions plus the file's checksum (``evaluate`` on the same file scores
exactly the held-out rows) and, in ``split.json`` beside the model, a keyed hash of every
training row's normalised values (:mod:`medadapt.data.row_hashes`): hashes, never values, so
the registry, which ships manifests only, never carries them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.data.row_hashes import RowHasher, trained_mask, unrecognisable
from medadapt.data.splits import positions_digest
from medadapt.errors import DataError
from medadapt.fileio import sha256_file
from medadapt.modalities.base import RECODED, UNKNOWN, UNRECOGNISED
from medadapt.modalities.tabular.samples import TableSamples

SPLIT_FILE = "split.json"
ROW_RECORDS = ("train_rows", "adapted_rows")  # a record's keys holding training-row hashes


def positions(data: Path, samples: TableSamples, train, test, **extra: Any) -> dict[str, Any]:
    """Which rows of ``data`` (by position) trained the model and which were held out."""
    train_pos = samples.frame.index.to_numpy()[np.asarray(train)]
    test_pos = samples.frame.index.to_numpy()[np.asarray(test)]
    return {
        "data_sha256": sha256_file(data),
        "train_positions": [int(p) for p in train_pos],
        "test_positions": [int(p) for p in test_pos],
        "test_digest": positions_digest(test_pos),
        **extra,
    }


def rows_record(samples: TableSamples) -> dict[str, Any]:
    """The keyed hashes of ``samples``' rows (features and label, never values), and, where
    the rows carry the model's ``--id-column``, each row without one feature joined with its
    id (so that a training patient exported again with one value changed is recognised)."""
    column = samples.schema.id_column
    ids = samples.frame[column] if column and column in samples.frame else None
    return RowHasher.for_schema(samples.schema).record(samples.frame, ids)


def side_file(records: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """``split.json``'s bytes and the reference ``model.json`` keeps (name, checksum)."""
    raw = json.dumps(records).encode()
    return raw, {"rows_file": SPLIT_FILE, "rows_sha256": hashlib.sha256(raw).hexdigest()}


def frame_base_split(samples: TableSamples) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A base trained from the Python API on ``samples`` (a data frame: no file whose row
    positions could be recorded): the reference its ``model.json`` keeps and its side file,
    ``split.json`` (the rows' keyed hashes), read back as ``train-base``'s are."""
    raw, reference = side_file({"train_rows": rows_record(samples)})
    return reference, {SPLIT_FILE: raw}


def frame_adapter_split(samples: TableSamples) -> tuple[dict[str, Any], bytes]:
    """An adapter trained from the Python API on ``samples``: the summary its manifest keeps
    (``split.json``'s name and checksum) and that file's bytes (the rows' keyed hashes), read
    back as ``adapt``'s are."""
    raw, reference = side_file({"train_rows": rows_record(samples)})
    return {"positions_file": SPLIT_FILE, "positions_sha256": reference["rows_sha256"]}, raw


def read_side_file(model_dir: Path, split: dict[str, Any]) -> dict[str, Any]:
    """A base's (or fully fine-tuned model's) ``split.json``: the hashes of the rows it and
    its adaptation trained on; empty for models saved before they were recorded, and
    ``{"_unknown": True}`` where the file is not beside it: a registry's copy, or one
    imported at another hospital, holds none (the hashes stay where the rows are), and a
    trial's second hospital could then neither evaluate nor predict with it."""
    if "rows_file" not in split:
        return {}
    path = Path(model_dir) / split["rows_file"]
    if not path.is_file():
        return {UNKNOWN: True}
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != split["rows_sha256"]:
        raise DataError(
            f"--base {model_dir}: its {path.name} does not match the checksum in model.json "
            "(changed or damaged); copy the model again or re-run train-base"
        )
    record = json.loads(raw)
    if record.pop(BASE_ROWS_UNKNOWN, False):  # fine-tuned from a base whose rows it lacked
        record[UNKNOWN] = True
    return record


BASE_ROWS_UNKNOWN = "base_rows_unknown"
"""A fully fine-tuned model's ``split.json`` key: the base it was fine-tuned from had no
``split.json`` beside it, so the rows that base trained on are not among its hashes (a review:
they were then never said again, and a later evaluate scored them)."""


def read_positions(adapter_dir: Path, split: dict[str, Any], *, needed: bool) -> dict[str, Any]:
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
        raise DataError(
            f"--adapter {adapter_dir}: its {path.name} does not match the checksum in "
            "adapter.json (changed or damaged); copy the adapter again or re-run adapt"
        )
    return json.loads(raw)


def in_part(data: Path, samples: TableSamples, record: dict[str, Any] | None, part: str):
    """Per row: in the ``part`` ("train"/"test") of ``record``: by position on the same file;
    for "train" also by content, through the row hashes the record carries."""
    mask = np.zeros(len(samples), dtype=bool)
    if not record:
        return mask
    if f"{part}_positions" in record and record.get("data_sha256") == sha256_file(data):
        mask |= samples.frame.index.isin(record[f"{part}_positions"])
    if part == "train":
        for key in ROW_RECORDS:
            mask |= trained_mask(samples.frame, record.get(key), samples.schema.id_column)
    return mask


def noting_unrecognised(record: dict[str, Any], samples: TableSamples) -> dict[str, Any]:
    """``record`` with, under :data:`UNRECOGNISED`, the model columns ``samples`` lack that
    keep the training rows it records from being recognised among them, and under
    :data:`RECODED` the categorical columns recoded since training in most of its rows (a
    trial's yes/no for true/false: 99 of an adapter's 140 training rows went unrecognised
    and were scored as test rows without a word); none: as it is."""
    absent = sorted({column for key in ROW_RECORDS
                     for column in unrecognisable(samples.frame, record.get(key))})  # fmt: skip
    out = {**record, UNRECOGNISED: absent} if absent else record
    recoded = sorted({column for key in ROW_RECORDS if record.get(key)
                      for column in recoded_columns(samples, record[key])})  # fmt: skip
    return {**out, RECODED: recoded} if recoded else out


#: a column recoded since training: its values are none the model learned in this many rows
#: or more, and in most rows (as the notes say a column coded otherwise)
RECODED_FROM = 20


def recoded_columns(samples: TableSamples, rows: dict[str, Any]) -> list[str]:
    """The model's categorical columns whose values ``samples`` holds are, in most of its rows
    (and :data:`RECODED_FROM` or more), none the model learned, read as the record of training
    ``rows`` reads values to recognise them (a category recased, or booleans written 1/0,
    are recognised: not said)."""
    schema = getattr(samples, "schema", None)
    if schema is None or not schema.categorical_features or not len(samples):
        return []
    hasher = RowHasher.from_record(rows)
    out = []
    for spec in schema.categorical_features:
        if spec.name not in samples.frame or spec.name not in hasher.columns:
            continue
        normal = hasher.normaliser(spec.name)
        learned = {normal(category) for category in spec.categories}
        values = samples.frame[spec.name].dropna()
        unknown = int((~values.map(normal).isin(learned)).sum())
        if unknown >= RECODED_FROM and 2 * unknown > len(samples):
            out.append(spec.name)
    return out

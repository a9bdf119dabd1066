"""Which records a request sends that the adapter answering them trained on.

``registry add`` keeps an adapter's split file (its training rows as keyed hashes, never
values) in the registry where the rows are; the server reads it when it loads the version
and recognises those rows among the records sent by content, as ``predict`` does (its
``trained_on`` column): a record the adapter trained on gets an in-sample prediction, more
confident and more often right than the model is on new patients, and its answer says so
(``trained_on`` and a note). A version imported from another hospital carries no split file
(its rows are there), nor does one added before the registry kept it: nothing is flagged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medadapt.adapters.state import read_manifest
from medadapt.data.row_hashes import trained_mask
from medadapt.registry.records import split_file_of
from medadapt.results import IN_SAMPLE

TRAINING_ROWS = "train_rows"  # the split file's key of the adapter's training-row hashes


def training_rows(directory: Path) -> dict[str, Any] | None:
    """The keyed hashes of the rows the adapter checked out in ``directory`` trained on (its
    split file's ``train_rows``); None where the checkout holds no split file (imported, or
    added before the registry kept it), or an image adapter's (images are not flagged)."""
    named = split_file_of(read_manifest(directory))
    path = None if named is None else Path(directory) / named[0]
    if path is None or not path.is_file():
        return None
    record = json.loads(path.read_bytes()).get(TRAINING_ROWS)
    return record if isinstance(record, dict) and record.get("hashes") is not None else None


def trained_among(
    instances: list[dict[str, Any]], record: dict[str, Any] | None, id_column: str | None
) -> np.ndarray:
    """Per instance (fields as a CSV reads them): whether it is one of the rows of ``record``
    by content (the label, never sent to the service, left out of the hashes; with the
    patient ``id_column`` sent, also a training patient's row with one value changed)."""
    if not record or not instances:
        return np.zeros(len(instances), dtype=bool)
    frame = pd.DataFrame.from_records(instances)
    label = (record.get("label") or {}).get("column")
    return trained_mask(frame.drop(columns=[label], errors="ignore"), record, id_column)


def in_sample_note(who: str, *, measured: bool) -> str:
    """What an answer says of a record ``who`` ("adapter va@2") trained on.

    >>> in_sample_note("adapter va@2", measured=False)
    'this record matches a row that adapter va@2 trained on (by content): its prediction is \
in-sample, more confident and more often right than the model is on new patients'
    """
    return (
        f"this record matches a row that {who} trained on (by content): its prediction is "
        f"in-sample, {IN_SAMPLE[measured]} the model is on new patients"
    )

"""Which records a request sends that the model answering them trained on.

``registry add`` keeps an adapter's split file (its training rows as keyed hashes, never
values) in the registry where the rows are, and ``registry add-base`` a base model's; the
server reads them when it loads a model (checked against the checksum its manifest records)
and recognises those rows among the records sent by content, as ``predict`` does (its
``trained_on`` column), the label (never sent) left out of the hashes and a feature a record
lacks read as missing, as the model reads it. A record the adapter or its base trained on
gets an in-sample prediction, more confident and more often right than the model is on new
patients, and its answer says so (``trained_on``, the adapter named where both did, and a
note). A training patient's row sent with one value changed is not recognised here
(``predict`` recognises it through the patient id and the label, which a request does not
carry). A version imported from another hospital carries no split file (its rows are
there), nor does one added before the registry kept it: nothing is flagged. Images are
recognised by their files' and pixels' keys (:mod:`medadapt.serve.trained_images`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medadapt.adapters.state import MANIFEST
from medadapt.data.row_hashes import LabelFreeIndex
from medadapt.registry.bases import base_split_file
from medadapt.registry.records import split_file_of
from medadapt.results import IN_SAMPLE
from medadapt.serve.trained_images import TrainingImages

TRAINING_ROWS = "train_rows"  # the split file's key of the adapter's training-row hashes


Trained = LabelFreeIndex | TrainingImages
"""A model's training records, ready to match: rows (tables) or images."""


def training_rows(directory: Path) -> Trained | None:
    """The rows (or images) the adapter checked out in ``directory`` trained on, ready to
    match what a request sends (its split file's ``train_rows`` without the label, or its
    images' keys: :mod:`medadapt.serve.trained_images`); None where the checkout holds no
    split file (imported, or added before the registry kept it) or one whose bytes are not
    those its manifest names (damaged: ``registry verify`` says so)."""
    return _kept_rows(Path(directory), MANIFEST, split_file_of)


def base_training_rows(directory: Path) -> Trained | None:
    """The rows the registered base model in ``directory`` trained on (its split file, kept
    by ``registry add-base``), or an image base's training images (their keys, which its
    ``model.json`` holds); None where there are none (a table base registered before its
    split file was kept: ``add-base`` it again) or its split file is changed."""
    directory = Path(directory)
    try:  # an image base's keys are in its model.json, checked by the registry as a whole
        training = json.loads((directory / "model.json").read_bytes()).get("training") or {}
        images = TrainingImages.of(training.get("split"))  # a table base's names a file
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return images or _kept_rows(directory, "model.json", base_split_file)


def _kept_rows(
    directory: Path, manifest: str, named_in: Callable[[Any], tuple[str, str] | None]
) -> Trained | None:
    """The training rows (or images) of the split file that ``directory``'s ``manifest``
    names (``named_in``: where a manifest names it), checked against the checksum it
    records; None where it names none, or the file is absent, changed or unreadable: nothing
    is flagged, the model is served."""
    try:
        named = named_in(json.loads((directory / manifest).read_bytes()))
        if named is None:
            return None
        raw = (directory / named[0]).read_bytes()
        if hashlib.sha256(raw).hexdigest() != named[1]:
            return None
        kept = json.loads(raw)
        if TRAINING_ROWS not in kept:  # an image adapter's: its images' keys
            return TrainingImages.of(kept)
        return LabelFreeIndex.of(kept.get(TRAINING_ROWS))
    except (OSError, ValueError, AttributeError, TypeError, KeyError):
        return None


def trained_among(instances: list[dict[str, Any]], rows: LabelFreeIndex | None) -> np.ndarray:
    """Per instance (fields as a CSV reads them): whether its features are those of one of
    a model's training ``rows``."""
    if rows is None or not instances:
        return np.zeros(len(instances), dtype=bool)
    return rows.matches(pd.DataFrame.from_records(instances))


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

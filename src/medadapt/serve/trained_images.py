"""Which images a request sends that the model answering them trained on.

An image model's split records its training images by two keys, hashes only (see
:mod:`medadapt.modalities.images.splits`): the file's bytes (with the frame of a multi-frame
file or the slice of a volume) and the pixels as the model takes them. ``registry add`` keeps
an image adapter's ``split.json`` in the registry, and an image base keeps its keys in its
``model.json``; the server reads them when it loads a model and recognises an image sent among
them by either key: the same file, or a copy saved with other bytes but the same pixels (a PNG
saved again, a file re-exported by an anonymiser). An answer says so in the words ``predict
--store-sr`` stores in a report (:func:`~medadapt.results.in_sample_caution`). A copy saved with
loss (a JPEG of a training PNG) or in another format with other intensity scaling (a DICOM of
a training PNG) is not recognised here (``predict`` and ``evaluate`` read its stored values
and near key from the file). An image of one value throughout is recognised by its file only
(every blank picture would match every other).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TrainingImages:
    """A model's training images, by file key and by pixel key."""

    files: frozenset[str]
    pixels: frozenset[str]

    @classmethod
    def of(cls, record: Any) -> TrainingImages | None:
        """From a split record (``train_keys``, ``train_pixel_keys``); None where it holds
        neither."""
        if not isinstance(record, dict):
            return None
        files = record.get("train_keys") or []
        pixels = record.get("train_pixel_keys") or []
        if not isinstance(files, list) or not isinstance(pixels, list) or not (files or pixels):
            return None
        return cls(frozenset(map(str, files)), frozenset(map(str, pixels)))

    def matches(self, samples: Sequence[Any]) -> np.ndarray:
        """Per sample (each with a ``file_key`` and a ``pixel_key``, None where it has none):
        whether it is one of these images."""
        return np.array(
            [s.file_key in self.files or (s.pixel_key is not None and s.pixel_key in self.pixels)
             for s in samples],
            dtype=bool,
        )  # fmt: skip

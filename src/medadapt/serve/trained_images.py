"""Which images a request sends that the model answering them trained on.

An image model's split records its training images by two keys, hashes only (see
:mod:`medadapt.modalities.images.splits`): the file's bytes (with the frame of a multi-frame
file or the slice of a volume) and the pixels as the model takes them. ``registry add`` keeps
an image adapter's ``split.json`` in the registry, and an image base keeps its keys in its
``model.json``; the server reads them when it loads a model and recognises an image sent among
them as ``predict`` does: by its file, by its pixels as the model takes them (a PNG saved
again, a file re-exported by an anonymiser) or by the values its file stores (a DICOM of a
training PNG, scaled otherwise); an answer says so in the words ``predict --store-sr`` stores
in a report (:func:`~medadapt.results.in_sample_caution`). A 2D image that is none of them but
near-identical to one (:func:`~medadapt.data.stored_pixels.near_matches`: a JPEG of a
training PNG) is said to look like a near-copy (:data:`~medadapt.results.NEAR_COPY`). An
image of one value throughout is recognised by its file only (every blank picture would match
every other).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from medadapt.data.stored_pixels import (
    NEAR_BITS,
    NEAR_KEYS,
    NEAR_WORDS,
    STORED_KEYS,
    alike_within,
    near_matches,
    unpack_near,
)


@dataclass(frozen=True)
class TrainingImages:
    """A model's training images, by file key, pixel key and stored key, and their near keys
    ((n, NEAR_WORDS); none in a split recorded before them)."""

    files: frozenset[str]
    pixels: frozenset[str]
    stored: frozenset[str] = frozenset()
    near: np.ndarray = field(default_factory=lambda: np.zeros((0, NEAR_WORDS), dtype="<u8"),
                             compare=False, repr=False)  # fmt: skip

    @classmethod
    def of(cls, record: Any) -> TrainingImages | None:
        """From a split record (``train_keys``, ``train_pixel_keys``, and the stored and
        near keys where it has them); None where it holds none of them. Near keys that are
        not the hex medadapt writes are left out (nothing is flagged by them)."""
        if not isinstance(record, dict):
            return None
        keys = [_listed(record, name) for name in ("train_keys", "train_pixel_keys", STORED_KEYS)]
        packed = _listed(record, NEAR_KEYS)
        if not any((*keys, packed)):
            return None
        try:
            near = unpack_near(packed)
        except (TypeError, ValueError):
            near = np.zeros((0, NEAR_WORDS), dtype="<u8")
        return cls(*(frozenset(map(str, k)) for k in keys), near=near)

    @property
    def reads_files(self) -> bool:
        """Whether these images are told by keys read from a file's stored values (stored or
        near keys; a split recorded before them has neither)."""
        return bool(self.stored) or len(self.near) > 0

    def matches(self, samples: Sequence[Any]) -> np.ndarray:
        """Per sample (each with a ``file_key``, a ``pixel_key`` and a ``stored_key``, None
        where it has none): whether it is one of these images."""
        return np.array(
            [s.file_key in self.files or (s.pixel_key is not None and s.pixel_key in self.pixels)
             or (s.stored_key is not None and s.stored_key in self.stored) for s in samples],
            dtype=bool,
        )  # fmt: skip


def _listed(record: dict[str, Any], name: str) -> list[Any]:
    """A record's list of keys; [] where it has none or another kind of value (that one is
    left out, the others still tell)."""
    value = record.get(name)
    return value if isinstance(value, list) else []


def near_copies(models: tuple[TrainingImages, ...], samples: Sequence[Any]) -> np.ndarray:
    """Per sample (each with a packed ``near_key``, b"" for none): whether it is
    near-identical to a training image of any of ``models`` (a base and its adapter), their
    near keys pooled as ``predict`` pools them (:func:`_pooled`)."""
    keys = np.zeros((len(samples), NEAR_WORDS), dtype="<u8")
    for i, sample in enumerate(samples):
        if sample.near_key:
            keys[i] = np.frombuffer(sample.near_key, dtype="<u8")
    return near_matches(keys, *_pooled(models))


def pooled_within(models: tuple[TrainingImages, ...]) -> int:
    """The most bits a near-copy may differ by from the training images of ``models``."""
    return _pooled(models)[1]


@lru_cache(maxsize=64)
def _pooled(models: tuple[TrainingImages, ...]) -> tuple[np.ndarray, int]:
    """The near keys of ``models`` together, and the bits a near-copy may differ by from
    them (:func:`alike_within`: per model, the server could call an image a near-copy that
    ``predict`` does not); once per pair, as it compares hundreds of training images with
    every other."""
    near = [images.near for images in models if len(images.near)]
    if not near:
        return np.zeros((0, NEAR_WORDS), dtype="<u8"), NEAR_BITS
    pooled = np.concatenate(near)
    return pooled, alike_within(pooled)

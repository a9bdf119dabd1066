"""Which images trained a model, and which are left to test it.

A split is recorded by sample **key** (a hash of the image file's bytes, plus the slice index
for a volume's slices; see :mod:`medadapt.data.images`), never by position in one listing, so
an image is recognised in every source that holds it: ``data_old.csv`` and ``data.csv``
listing the same files, a copied folder, another ``.npz`` holding the same array. Beside them
it records each sample's **pixel key** (``train_pixel_keys``, ``test_pixel_keys``): a hash of
the image as the model takes it, read with the base model's settings and rounded to the 16-bit
grid (see :func:`~medadapt.data.image_dataset.pixel_keys`), so a copy whose bytes differ but
whose pixels do not (PNGs saved again with another compression, an RGB copy of a gray image,
a file re-exported by an anonymiser or a PACS) is recognised too: a sample is in a split when
either of its keys is. Keys are hashes: no pixel, path or patient id is stored. Splits
recorded by earlier versions are still honoured: file keys alone, or sample indices into one
source (checked by its digest) on that source. A model trained from the Python API
(:mod:`medadapt.images`) records every image of its ``ImageDataset`` as a training image, none
held out and no source file (``source_sha256`` empty: no folder is taken for its own source);
an image built in memory, without a file, by its pixel key alone (:func:`content_keys`).

The rules, as on tables: an adapter's test images come only from images (and patients) the
base model never trained on (the base's own held-out images never train the adapter: they stay
a clean test set for the old classes); ``evaluate`` scores an adapter's own held-out images on its
source, and otherwise the requested images minus every image the base or the adapter trained
on; the old classes' retention is measured on old-class images neither model trained on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.data.images import ImageDataset
from medadapt.errors import DataError

SPLIT_FILE = "split.json"
_KEYS = ("train_keys", "test_keys")
_PIXEL_KEYS = ("train_pixel_keys", "test_pixel_keys")  # absent from earlier versions' splits
_OLD_INDICES = ("train_indices", "test_indices")


def keys_digest(keys: Sequence[str]) -> str:
    """A short checksum of a set of sample keys."""
    return hashlib.sha256("\n".join(sorted(set(keys))).encode()).hexdigest()[:16]


def split_record(
    digest: str, dataset: ImageDataset, train: np.ndarray, test: np.ndarray, **extra: Any
) -> dict[str, Any]:
    """The split of ``dataset`` into ``train`` and ``test`` sample indices, by file key and
    by pixel key (``test_digest``: of the file keys, as earlier versions); only content keys
    (:func:`content_keys`): an image built in memory is recorded by its pixel key alone."""
    train, test = np.asarray(train).tolist(), np.asarray(test).tolist()
    keys, pixels = content_keys(dataset)

    def found(which: list[str | None], part: list[int]) -> list[str]:
        return sorted({key for i in part if (key := which[i]) is not None})

    test_keys = found(keys, test)
    return {
        "source_sha256": digest,
        "n_samples": len(dataset),
        "n_train": len(train),
        "n_test": len(test),
        "train_keys": found(keys, train),
        "test_keys": test_keys,
        "train_pixel_keys": found(pixels, train),
        "test_pixel_keys": found(pixels, test),
        "test_digest": keys_digest(test_keys),
        **extra,
    }


def content_keys(dataset: ImageDataset) -> tuple[list[str | None], list[str | None]]:
    """Per sample, its file key and its pixel key, None where it has none to record: a data
    set built in memory (no ``keys``: its :meth:`~ImageDataset.sample_keys` are then paths or
    positions, which name an image rather than hash it) has no file keys, and its images of
    one value throughout no pixel key (theirs falls back to that name). Every loader gives
    file keys, so a data set read from files keeps both."""
    files, pixels = dataset.sample_keys(), dataset.pixel_keys()
    if dataset.keys:
        return list(files), list(pixels)
    named = [None if p == f else p for p, f in zip(pixels, files, strict=True)]
    return [None] * len(files), named


def in_split(
    dataset: ImageDataset, digest: str, split: dict[str, Any] | None, part: str
) -> np.ndarray:
    """Per sample of ``dataset``: whether it is in ``split``'s ``part`` ("train"/"test"), by
    its file key or its pixel key (where the split records pixel keys)."""
    mask = np.zeros(len(dataset), dtype=bool)
    if not split:
        return mask
    if f"{part}_keys" in split:
        mask |= _found(dataset.sample_keys(), split[f"{part}_keys"])
        if split.get(f"{part}_pixel_keys"):
            mask |= _found(dataset.pixel_keys(), split[f"{part}_pixel_keys"])
        return mask
    if f"{part}_indices" in split and split.get("source_sha256") == digest:
        mask[np.asarray(split[f"{part}_indices"], dtype=np.int64)] = True
    return mask


def _found(keys: Sequence[str], recorded: Sequence[str]) -> np.ndarray:
    """Per key of ``keys``: whether it is one of ``recorded``."""
    wanted = set(recorded)
    return np.array([k in wanted for k in keys], dtype=bool)


def trained_on(
    dataset: ImageDataset, digest: str, splits: Sequence[dict[str, Any] | None]
) -> np.ndarray:
    """Per sample: whether any of ``splits`` trained on it."""
    mask = np.zeros(len(dataset), dtype=bool)
    for split in splits:
        mask |= in_split(dataset, digest, split, "train")
    return mask


def split_keys_bytes(record: dict[str, Any]) -> bytes:
    """The ``split.json`` written beside an adapter: which images trained and tested it (by
    file key and by pixel key)."""
    names = ("source_sha256", *_KEYS, *_PIXEL_KEYS)
    return json.dumps({k: record[k] for k in names if k in record}).encode()


def split_summary(record: dict[str, Any]) -> dict[str, Any]:
    """What an adapter's manifest keeps of its split: no keys, the checksum of the file that
    holds them."""
    summary = {k: v for k, v in record.items() if k not in (*_KEYS, *_PIXEL_KEYS, *_OLD_INDICES)}
    summary["keys_file"] = SPLIT_FILE
    summary["keys_sha256"] = hashlib.sha256(split_keys_bytes(record)).hexdigest()
    return summary


def read_adapter_split(
    adapter_dir: Path, split: dict[str, Any], digest: str
) -> tuple[dict[str, Any], bool]:
    """The adapter's split with its keys (or indices, for older adapters) from the file
    beside it, and whether that file was found. Without the file, evaluating on the
    adapter's own source is refused (its test images are unknown)."""
    name = split.get("keys_file") or split.get("indices_file") or SPLIT_FILE
    checksum = split.get("keys_sha256") or split.get("indices_sha256")
    path = Path(adapter_dir) / name
    if not path.is_file():
        if split.get("source_sha256") == digest:
            raise DataError(
                f"this adapter was trained on images of this very source, but {path.name} "
                "(which images) is not beside it; point --adapter at the directory 'medadapt "
                "adapt' wrote, or evaluate on other images"
            )
        return split, False
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != checksum:
        raise DataError(
            f"--adapter {adapter_dir}: its {path.name} does not match the checksum in "
            "adapter.json (changed or damaged); copy the adapter again or re-run adapt"
        )
    return {**split, **json.loads(raw)}, True

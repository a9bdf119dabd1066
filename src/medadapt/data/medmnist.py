"""MedMNIST-format ``.npz`` archives: ``{train,val,test}_images`` and ``_labels`` arrays.

Images may be ``(N, H, W)`` (2D gray), ``(N, H, W, 1|3)`` (2D), ``(N, D, H, W)`` (3D gray) or
``(N, D, H, W, 1|3)``; ``(N, 1|3, H, W)`` is PyTorch's channels-first order of 2D images (read
as such with ``spatial_dims=2``, refused with 3: never a volume of 1 or 3 slices). uint8 /
uint16 are divided by 255 / 65535 (uint16 arrays that all stay within 12 bits are said: they
reach the model nearly black), floats must already be in [0, 1]. Labels are ``(N,)`` or
``(N, 1)`` class indices (multi-label arrays are refused). The
class list covers the labels of every split in the file, so train/val/test agree. Training
data refuse blank images (every pixel one value) or leave them out, as blank files are.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medadapt.data.dicom_series import KEY_CHARS
from medadapt.data.image_dataset import ImageDataset, check_class_counts
from medadapt.data.image_io import (
    BRIGHT_PERCENTILE,
    ReadError,
    aspect_range,
    aspect_ratio,
    brightness_range,
    chosen_slices,
    colour_to_gray,
    conversion_notes,
    describe_error,
    fit_size,
    look_ranges,
)
from medadapt.data.image_reading import BLANK_REASON, blank_note, blank_refusal
from medadapt.data.intensity import TWELVE_BIT_MAX, scale_integer, twelve_bit_array_note
from medadapt.data.memory import check_memory
from medadapt.data.option_words import takes
from medadapt.errors import ConfigError, DataError
from medadapt.wording import plural

_CHUNK = 512


def load_npz(
    path: Path,
    *,
    split: str,
    channels: int | None,
    classes: Sequence[str] | None,
    image_size: int,
    spatial_dims: int,
    fit: str,
    slices: str | int,
    keep_blank: bool = True,
    on_error: str = "skip",
    **settings: Any,
) -> ImageDataset:
    """One split of a MedMNIST ``.npz`` as an :class:`~medadapt.data.images.ImageDataset`.
    ``keep_blank``: False refuses blank images (every pixel one value), naming the first and
    how many, or leaves them out with ``on_error="skip"`` (listed in ``skipped``, said in
    ``warnings``), as blank files are."""
    if settings.get("window") is not None:
        raise ConfigError(f"--window applies to DICOM and NIfTI in HU, not to {path.name}")
    images, labels, every = _read_split(path, split)
    n_images = len(images)
    index = np.arange(n_images)  # each kept image's position in the split (its sample id)
    blank: list[str] = []
    if not keep_blank:
        index, blank = _without_blank(images, path, split, on_error)
        if blank:  # a copy of the kept images only where some are left out (files of GBs)
            images, labels = images[index], labels[index]
    values, volumes = _channels_first(images, path, split, spatial_dims)  # (N, C, *spatial)
    n_classes = int(max(int(a.max()) for a in every if a.size)) + 1
    class_list = _class_names(classes, n_classes, path)
    digests = [array_key(image) for image in images]
    if volumes and spatial_dims == 2:
        values, labels, sample_ids, keys = _slices_of(
            values, labels, digests, path, split, slices, index
        )
    elif not volumes and spatial_dims == 3:
        raise DataError(
            f"{path} holds 2D images but --spatial-dims 3 needs volumes: pass --spatial-dims 2"
        )
    else:
        sample_ids = [f"{path}#{split}/{i}" for i in index.tolist()]
        keys = digests
    n_channels = values.shape[1] if channels is None else channels
    check_memory(len(values), image_size, spatial_dims, n_channels)  # before any is resized
    aspect = aspect_ratio(values[0]) if len(values) else 1.0  # one shape for the whole array
    levels = _brightness(values)
    to_gray = sum(colour_to_gray(sample, n_channels) for sample in values)
    tensor = _resize(_with_channels(values, n_channels), image_size, fit)
    twelve_bit = _twelve_bit(images, f"{split}_images of {path.name}")
    dataset = ImageDataset(
        images=tensor.contiguous(),
        y=torch.from_numpy(labels.astype(np.int64)),
        classes=class_list,
        groups=None,
        paths=sample_ids,
        skipped=[(b, BLANK_REASON) for b in blank],
        keys=keys,
        aspects=[aspect] * len(values),
        brightness=levels,
        warnings=[
            *blank_note(blank, n_images, _counted(path, split)),
            *([twelve_bit] if twelve_bit else []),
        ],
        twelve_bit_note=twelve_bit,
        conversions=conversion_notes(to_gray, 0),
    )
    dataset.source = _source_record(
        dataset, path, split, integer_pixels=images.dtype.kind == "u", channels=n_channels,
        image_size=image_size, spatial_dims=spatial_dims, fit=fit, slices=slices,
        aspect=aspect_range(dataset.aspects), brightness=brightness_range(levels),
        n_images=n_images, **look_ranges(dataset.images), **settings,
    )  # fmt: skip
    check_class_counts(dataset, explicit_classes=True)
    return dataset


def _counted(path: Path, split: str) -> str:
    """What the images of one split are counted as in a message."""
    return f"images in {split}_images of {path.name}"


def _without_blank(
    images: np.ndarray, path: Path, split: str, on_error: str
) -> tuple[np.ndarray, list[str]]:
    """The positions of the images that are not blank (every pixel one value), and the
    sample ids of those that are; blank ones are refused unless ``on_error`` is "skip", and
    refused when no image is left."""
    blank = np.zeros(len(images), dtype=bool)
    for start in range(0, len(images), _CHUNK):
        chunk = images[start : start + _CHUNK].reshape(min(_CHUNK, len(images) - start), -1)
        blank[start : start + _CHUNK] = chunk.min(axis=1) == chunk.max(axis=1)
    ids = [f"{path}#{split}/{i}" for i in np.flatnonzero(blank).tolist()]
    if not ids:
        return np.arange(len(images)), []
    if len(ids) == len(images):
        every = f"all {len(images)}" if len(images) > 1 else "the only one of the"
        raise DataError(
            f"{every} {_counted(path, split)} {'are' if len(images) > 1 else 'is'} blank, every "
            f"pixel the same value (first: {ids[0]}): nothing to teach the model; export the "
            "images again"
        )
    if on_error != "skip":
        raise DataError(blank_refusal(ids, len(images), _counted(path, split)))
    return np.flatnonzero(~blank), ids


def _brightness(values: np.ndarray) -> list[float]:
    """Per sample of ``(N, C, *spatial)`` values in [0, 1], its brightest level (as
    ``image_io.brightness_level``: the 99th percentile), in chunks (a copy is sorted)."""
    out: list[float] = []
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        out += np.percentile(chunk.reshape(len(chunk), -1), BRIGHT_PERCENTILE, axis=1).tolist()
    return out


def _twelve_bit(images: np.ndarray, where: str) -> str | None:
    """:func:`~medadapt.data.intensity.twelve_bit_array_note` for uint16 ``images`` that all
    stay within 12 bits (None otherwise)."""
    if images.dtype != np.uint16 or not images.size or int(images.max()) > TWELVE_BIT_MAX:
        return None
    return twelve_bit_array_note(len(images), where)


def _read_split(path: Path, split: str) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The images and labels of ``split``, and the labels of every split in the file."""
    try:
        archive = np.load(path, allow_pickle=False)
        keys = list(archive.files)
    except Exception:
        raise DataError(
            f"--data {path} is not a valid .npz archive (a MedMNIST-style file of "
            "train_/val_/test_ images and labels); export it again with numpy.savez"
        ) from None
    with archive:
        images = _array(archive, path, f"{split}_images", keys)
        _check_pixels(images, path, split)
        labels = _labels(archive, path, f"{split}_labels", keys)
        every = [labels] + [
            _labels(archive, path, f"{s}_labels", keys)
            for s in ("train", "val", "test")
            if s != split and f"{s}_labels" in keys
        ]
    if len(labels) != len(images):
        raise DataError(
            f"{path}: {split}_images has {len(images)} images but {split}_labels has "
            f"{len(labels)} labels; re-export the file"
        )
    return images, labels, every


def _slices_of(
    values: np.ndarray,
    labels: np.ndarray,
    digests: list[str],
    path: Path,
    split: str,
    slices: str | int,
    index: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """The chosen slices of ``(N, C, D, H, W)`` volumes as 2D samples, with their labels,
    sample ids (by ``index``: each volume's position in the split) and keys
    (``<volume key>#<slice>``)."""
    try:
        chosen = chosen_slices(values.shape[2], slices)
    except ReadError as exc:
        raise ConfigError(f"{path}: {exc}; pick another slice index (--slices)") from None
    picked = np.moveaxis(values[:, :, chosen], 2, 1)  # (N, k, C, H, W)
    samples = picked.reshape(-1, *picked.shape[2:])  # (N * k, C, H, W)
    sample_ids = [f"{path}#{split}/{i}" for i in index.tolist() for _ in chosen]
    keys = [f"{d}#{s}" for d in digests for s in chosen]
    return samples, np.repeat(labels, len(chosen)), sample_ids, keys


def _with_channels(values: np.ndarray, n_channels: int) -> torch.Tensor:
    """``(N, C, *spatial)`` as a tensor of ``n_channels``: gray repeated, colour as luma; a
    colour image whose three channels are equal (a gray image saved as RGB) becomes that gray
    exactly, as a picture's does (luma would add float noise, and change its pixel key)."""
    have = values.shape[1]
    tensor = torch.from_numpy(np.ascontiguousarray(values))
    if have == 1 and n_channels == 3:
        tensor = tensor.expand(-1, 3, *tensor.shape[2:])
    elif have == 3 and n_channels == 1:
        luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, *[1] * (tensor.dim() - 2))
        gray = (tensor[:, :1] == tensor[:, 1:2]) & (tensor[:, :1] == tensor[:, 2:])
        equal = gray.flatten(1).all(dim=1).view(-1, *[1] * (tensor.dim() - 1))  # (N, 1, ...)
        tensor = torch.where(equal, tensor[:, :1], (tensor * luma).sum(dim=1, keepdim=True))
    return tensor


def _source_record(
    dataset: ImageDataset, path: Path, split: str, *, integer_pixels: bool, **settings: Any
) -> dict[str, Any]:
    """What the dataset came from: the file, its split, counts and the reading ``settings``."""
    return {
        "kind": "npz",
        "path": str(path),
        "split": split,
        "n_files": 1,
        "n_samples": len(dataset),
        "formats": {"npz": 1},
        "class_counts": dataset.class_counts(),
        "skipped": len(dataset.skipped),
        "intensity": {"fixed_scale" if integer_pixels else "as_stored": 1},
        **settings,
    }


def array_key(image: np.ndarray) -> str:
    """Content key of one stored image (its shape, type and bytes), as a file's key."""
    digest = hashlib.sha256(f"{image.shape}|{image.dtype}|".encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()[:KEY_CHARS]


def _check_pixels(images: np.ndarray, path: Path, split: str) -> None:
    """Refuse an empty split, and pixel values that are not finite numbers."""
    if images.size == 0 or images.ndim < 3:
        raise DataError(
            f"--data {path} has no images in its {split} split (shape {images.shape}); pick "
            "another --split or export the file again"
        )
    if images.dtype.kind not in "uifb":
        raise DataError(f"--data {path}: {split}_images are not numbers ({images.dtype})")
    if images.dtype.kind == "f":
        bad = ~np.isfinite(images.reshape(len(images), -1)).all(axis=1)
        if bad.any():
            raise DataError(
                f"--data {path}: {int(bad.sum())} of {len(images)} {split} images hold NaN or "
                "infinite pixel values; fix or remove them (they cannot be scored)"
            )


def _array(archive: Any, path: Path, key: str, keys: list[str]) -> np.ndarray:
    if key not in keys:
        splits = sorted({k.split("_", 1)[0] for k in keys if k.endswith("_images")})
        fix = f"pick another --split ({', '.join(splits)})" if splits else "pick another --split"
        if not takes("--split"):  # predict: the test split only (a trial was sent to --split)
            fix = (f"this command reads its {key.split('_', 1)[0]} split only: save the "
                   f"images to score as {key!r} (np.savez)")  # fmt: skip
        if not splits and "images" in keys:  # no split at all: --split cannot help
            fix = ("name its arrays as MedMNIST does (np.savez(path, train_images=..., "
                   "train_labels=...)): 'images' and 'labels' alone are not read")  # fmt: skip
        raise DataError(
            f"{path} has no {key!r} array (it has {', '.join(keys) or 'none'}): MedMNIST files "
            f"hold train_/val_/test_ images and labels; {fix}"
        )
    try:
        return np.asarray(archive[key])
    except ValueError:  # object arrays: medadapt never unpickles a data file
        raise DataError(
            f"--data {path}: {key!r} holds Python objects, not numbers; save the images as a "
            "numeric array (uint8 or float)"
        ) from None
    except Exception as exc:
        raise DataError(f"--data {path}: cannot read {key!r} ({describe_error(exc)})") from None


def _labels(archive: Any, path: Path, key: str, keys: list[str]) -> np.ndarray:
    labels = _array(archive, path, key, keys)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise DataError(
            f"{path}: {key} has shape {labels.shape}, a multi-label target; medadapt image "
            "classification needs one class index per image"
        )
    if labels.dtype.kind not in "iu" or (labels.size and labels.min() < 0):
        raise DataError(
            f"{path}: {key} must hold non-negative integer class indices, got {labels.dtype}"
        )
    return labels


def _channels_first(
    images: np.ndarray, path: Path, split: str, spatial_dims: int
) -> tuple[np.ndarray, bool]:
    """``(N, C, *spatial)`` float32 in [0, 1], and whether the samples are volumes."""
    if images.dtype in (np.uint8, np.uint16):
        values = scale_integer(images)
    elif images.dtype.kind == "f":
        values = images.astype(np.float32)
        if values.size and (values.min() < 0 or values.max() > 1):
            raise DataError(
                f"{path}: {split}_images are floats in [{values.min():g}, {values.max():g}]; "
                "store uint8 or scale them to [0, 1]"
            )
    else:
        raise DataError(f"{path}: {split}_images has dtype {images.dtype}; store uint8 pixels")
    if values.ndim == 3:
        return values[:, None], False
    if values.ndim == 4 and values.shape[-1] in (1, 3):
        return np.moveaxis(values, -1, 1), False
    if values.ndim == 4 and values.shape[1] in (1, 3):
        return _torch_order(values, images.shape, path, split, spatial_dims), False
    if values.ndim == 4:
        return values[:, None], True
    if values.ndim == 5 and values.shape[-1] in (1, 3):
        return np.moveaxis(values, -1, 1), True
    raise DataError(
        f"{path}: {split}_images has shape {images.shape}; expected (N, H, W[, C]) images or "
        "(N, D, H, W[, C]) volumes"
    )


def _torch_order(
    values: np.ndarray, shape: tuple[int, ...], path: Path, split: str, spatial_dims: int
) -> np.ndarray:
    """``(N, 1|3, H, W)`` images in PyTorch's channels-first order, as they are; refused for
    volumes (1 or 3 slices would be no volume: the channels would become its depth)."""
    if spatial_dims == 2:
        return values
    raise DataError(
        f"{path}: {split}_images has shape {shape}, 2D images with their "
        f"{plural(shape[1], 'channel')} first (PyTorch's order), but --spatial-dims 3 needs "
        "volumes: pass --spatial-dims 2, or store volumes as (N, D, H, W[, C])"
    )


def _class_names(classes: Sequence[str] | None, n_classes: int, path: Path) -> list[str]:
    if classes is None:
        if n_classes < 2:
            raise DataError(
                f"{path} has only one class (label 0): a classifier needs at least two classes"
            )
        return [str(i) for i in range(n_classes)]
    names = [str(c) for c in classes]
    if len(set(names)) != len(names):
        raise ConfigError(f"classes must be distinct names, got {names}")
    if len(names) < n_classes:
        raise DataError(
            f"--class-names: {path} has labels up to {n_classes - 1} but only {len(names)} "
            "names were given: pass one name per label index 0..K-1"
        )
    return names


def _resize(tensor: torch.Tensor, size: int, fit: str) -> torch.Tensor:
    """Resize a ``(N, C, *spatial)`` batch in chunks (MONAI resizes each channel alike)."""
    n, c, *spatial = tensor.shape
    if all(s == size for s in spatial):
        return tensor.float()
    out = []
    for start in range(0, n, _CHUNK):
        chunk = tensor[start : start + _CHUNK].reshape(-1, *spatial).float()
        resized = fit_size(chunk, size, fit)
        out.append(resized.reshape(-1, c, *resized.shape[1:]))
    return torch.cat(out)


def split_sizes(path: Path) -> dict[str, int]:
    """How many images each split of an ``.npz`` holds (``{"train": 20, "test": 6}``), read
    from the arrays' headers only (a MedMNIST file may hold gigabytes); {} when unreadable."""
    sizes = {}
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            for split in ("train", "val", "test"):
                if f"{split}_images.npy" not in names:
                    continue
                with archive.open(f"{split}_images.npy") as member:
                    version = np.lib.format.read_magic(member)
                    if version == (1, 0):
                        shape = np.lib.format.read_array_header_1_0(member)[0]
                    else:
                        shape = np.lib.format.read_array_header_2_0(member)[0]
                sizes[split] = int(shape[0]) if shape else 0
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # the read itself says why
        return {}
    return sizes


def unused_splits_note(path: Path, split: str) -> str | None:
    """The note that the other splits of an ``.npz`` (``val_images``, ``test_images``) are
    not used when a model trains on ``split``, and what is used instead; None when it has no
    other split with images."""
    others = [(s, n) for s, n in split_sizes(path).items() if s != split and n]
    if not others:
        return None
    listed = " and ".join(f"{s}_images ({n})" for s, n in others)
    one = len(others) == 1
    scored = [s for s, _ in others if s in ("test", "val")][-1:]  # the test split, else val
    then = f"; score the {scored[0]} split with medadapt evaluate --split {scored[0]}"
    return (
        f"{path.name} also holds {listed}, which {'is' if one else 'are'} not used here: the "
        f"model trains and is tested on {split}_images (--split {split}), a held-out "
        f"--test-fraction of them for the test{then if scored else ''}"
    )

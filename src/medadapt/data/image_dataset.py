"""The in-memory image data set every loader returns (see :mod:`medadapt.data.images`), and
the checks every loader runs on it.

A sample's **pixel key** (:func:`pixel_keys`) is a hash of the image as the model takes it (the
``images`` tensor, read with the model's settings), its values rounded to the 16-bit grid. Read
at its own size, every 8- and 16-bit level is a point of that grid (``k/255 == 257*k/65535``):
float noise (about 1e-7) never moves a value off its level, and one level changed in one pixel
changes the key; resized, a value averages pixels, and one 8-bit level still counts
unless more than 257 pixels are averaged into one. The readers give a copy re-encoded without
loss the very same tensor (an RGB copy of a gray image is read back as that gray exactly, not
through luma), so it keeps the key whatever its bytes: another PNG compression, an RGB copy of
a gray image, a DICOM file re-exported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from medadapt.data.read_errors import SKIPPED_KINDS, skipped_kind
from medadapt.errors import DataError


class SkippedFilesWarning(UserWarning):
    """Some image files could not be read and were left out (see ``ImageDataset.skipped``)."""


@dataclass
class ImageDataset:
    """Labelled images in memory, ready for a ``DataLoader`` (``ds[i] -> (image, label)``).

    Shape:
        images: (N, C, H, W) or (N, C, D, H, W), float32 in [0, 1]; y: (N,) int64 indices
        into ``classes``. ``paths[i]`` is the file sample i came from (slices of one volume
        share it). ``groups[i]`` is the CSV's group column (site, subgroup) or None.
        ``keys[i]`` identifies the image by its file's bytes; ``subjects[i]`` is its patient
        (kept in memory only); both may be empty for data sets built in memory (the path is
        used). :meth:`pixel_keys` identify the images by their pixels (computed once, kept by
        ``subset``).
        ``notes`` are ``(file, note)``: what the reading libraries logged or warned about a
        file that was read (``skipped`` lists the files that were not). ``aspects[i]``: the
        longer over the shorter side of sample i as read, before it was fitted to the size;
        ``brightness[i]``: its brightest level as read (the 99th percentile of its [0, 1]
        intensities, before fitting; see ``image_io.brightness_level``); ``acquired[i]``: the
        DICOM Modality of its file (``CT``; None for other formats) (all three empty for data
        sets built in memory). ``warnings``: one line per thing the data cannot support as
        read (12-bit values in 16-bit pictures, CT not in Hounsfield units, images far smaller
        than the size), for the job that read it to say once; ``twelve_bit_note`` is the one
        among them guessed from the files alone (12-bit values), which a job comparing the
        images' brightness with a model's training images leaves out. ``conversions``: one
        line per kind of conversion the read made (colour to gray, transparency dropped),
        counts only, logged once as notes by the loader.
    """

    images: torch.Tensor
    y: torch.Tensor
    classes: list[str]
    groups: list[str] | None = None
    paths: list[str] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    subjects: list[str] | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)
    aspects: list[float] = field(default_factory=list)
    brightness: list[float] = field(default_factory=list)
    acquired: list[str | None] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    twelve_bit_note: str | None = None
    conversions: list[str] = field(default_factory=list)
    _pixel_keys: list[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def __repr__(self) -> str:
        """One line a notebook can read (a trial's ``print(dataset)`` listed every pixel,
        label and path): how many images of what shape, the classes with their counts.

        >>> import torch
        >>> ImageDataset(torch.zeros(3, 1, 8, 8), torch.tensor([0, 1, 1]), ["a", "b"])
        ImageDataset(3 images of 1x8x8, classes 'a' (1), 'b' (2))
        """
        shape = "x".join(map(str, self.images.shape[1:]))
        counted = ", ".join(f"{c!r} ({n})" for c, n in self.class_counts().items())
        groups = f", {len(set(self.groups))} groups" if self.groups else ""
        return f"ImageDataset({len(self)} images of {shape}, classes {counted}{groups})"

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index], self.y[index]

    @property
    def spatial_dims(self) -> int:
        return self.images.dim() - 2

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.images.shape[-1])

    def class_counts(self) -> dict[str, int]:
        counts = torch.bincount(self.y, minlength=len(self.classes)).tolist()
        return dict(zip(self.classes, counts, strict=True))

    def sample_keys(self) -> list[str]:
        """``keys``, or (for a data set built in memory) the paths, else the positions."""
        if self.keys:
            return list(self.keys)
        return list(self.paths) if self.paths else [str(i) for i in range(len(self))]

    def pixel_keys(self) -> list[str]:
        """Per sample, a hash of its pixels as the model takes them (:func:`pixel_keys`),
        computed on first use and kept (``images`` is not changed in place). An image of one
        value throughout (an air slice windowed to 0, a blank picture) is no copy of another
        that happens to be blank too: its key is its file's (:meth:`sample_keys`)."""
        if self._pixel_keys is None or len(self._pixel_keys) != len(self):
            keys, files = varying_pixel_keys(self.images), self.sample_keys()
            self._pixel_keys = [f if k is None else k for k, f in zip(keys, files, strict=True)]
        return list(self._pixel_keys)

    def patients(self) -> list[str]:
        """Per sample, what must stay on one side of a split: the patient, else the file."""
        if self.subjects is not None:
            return list(self.subjects)
        return list(self.paths) if self.paths else [str(i) for i in range(len(self))]

    def with_classes(self, classes: Sequence[str]) -> ImageDataset:
        """The same samples with the classes in the order ``classes`` (the same names)."""
        classes = list(classes)
        if sorted(classes) != sorted(self.classes):
            raise ValueError(f"{classes} are not the classes {self.classes} in another order")
        where = torch.tensor([classes.index(name) for name in self.classes], dtype=torch.long)
        same = replace(self, y=where[self.y], classes=classes)
        same._pixel_keys = self._pixel_keys  # the same images
        return same

    def subset(self, indices: Sequence[int] | torch.Tensor) -> ImageDataset:
        """The samples at ``indices`` (same classes; source and skipped kept)."""
        index = torch.as_tensor(indices, dtype=torch.long)
        picked = index.tolist()
        part = replace(
            self,
            images=self.images[index],
            y=self.y[index],
            groups=None if self.groups is None else [self.groups[i] for i in picked],
            paths=[self.paths[i] for i in picked] if self.paths else [],
            keys=[self.keys[i] for i in picked] if self.keys else [],
            subjects=None if self.subjects is None else [self.subjects[i] for i in picked],
            aspects=[self.aspects[i] for i in picked] if self.aspects else [],
            brightness=[self.brightness[i] for i in picked] if self.brightness else [],
            acquired=[self.acquired[i] for i in picked] if self.acquired else [],
        )
        if self._pixel_keys is not None:
            part._pixel_keys = [self._pixel_keys[i] for i in picked]
        return part


#: the grid a pixel key rounds intensities in [0, 1] to: 16-bit levels
PIXEL_LEVELS = 65535
PIXEL_KEY_CHARS = 24  # hex characters of a pixel key (96 bits, as a file's key)
_CHUNK = 256


def pixel_keys(images: torch.Tensor) -> list[str]:
    """Per sample of ``images``, a hash of its values rounded to ``1 / PIXEL_LEVELS`` (after
    clipping to [0, 1]) with its shape: equal for two reads of one picture that differ only
    by float noise, different where one pixel differs by one 8- or 16-bit level.

    Shape:
        images: (N, C, H, W) or (N, C, D, H, W); returns N hex strings.

    >>> gray = torch.arange(16.0).view(1, 1, 4, 4) / 255
    >>> pixel_keys(gray) == pixel_keys(gray + 1e-7), pixel_keys(gray) == pixel_keys(gray * 0.9)
    (True, False)
    """
    keys: list[str] = []
    shape = "x".join(map(str, images.shape[1:])).encode()
    for start in range(0, len(images), _CHUNK):
        chunk = images[start : start + _CHUNK].detach().cpu().float().clamp(0.0, 1.0)
        levels = chunk.mul_(PIXEL_LEVELS).round_().numpy().astype(np.uint16)  # (n, C, ...)
        for sample in levels:  # (C, *spatial)
            digest = hashlib.sha256(b"pixels-u16|" + shape + b"|")
            digest.update(np.ascontiguousarray(sample).tobytes())
            keys.append(digest.hexdigest()[:PIXEL_KEY_CHARS])
    return keys


def varying_pixel_keys(images: torch.Tensor) -> list[str | None]:
    """:func:`pixel_keys`, None for an image of one value throughout (every blank picture
    would share its key: a split records such an image by its file key instead)."""
    flat = images.flatten(1)
    constant = (flat.amax(dim=1) == flat.amin(dim=1)).tolist()
    return [None if c else k for k, c in zip(pixel_keys(images), constant, strict=True)]


def check_class_counts(dataset: ImageDataset, *, explicit_classes: bool) -> None:
    """Refuse a class left without samples (unless the class list was given)."""
    if explicit_classes:
        return
    for name, count in dataset.class_counts().items():
        if count == 0:
            why = f" ({describe_skipped(dataset.skipped)})" if dataset.skipped else ""
            raise DataError(
                f"no readable image left for class {name!r} in {dataset.source.get('path')}"
                f"{why}: fix those files or remove the class"
            )


def describe_skipped(skipped: Sequence[tuple[str, str]]) -> str:
    """The skipped ``(file, reason)`` counted by kind (the table the CLI's tally reads,
    :data:`~medadapt.data.read_errors.SKIPPED_KINDS`), each kind's first named: "1 file of no
    image type, first: notes.txt: unknown file type '.txt' (...); 2 unreadable files, first:
    a.png: unreadable (...); 1 blank image, first: b.png" (blank: every pixel one value)."""
    words = []
    for kind in SKIPPED_KINDS:
        files = [(path, reason) for path, reason in skipped if skipped_kind(reason) == kind.kind]
        if files:
            path, reason = files[0]
            first = f"{path}: {reason}" if kind.with_reason else path
            words.append(f"{kind.counted(len(files))}, first: {first}")
    return "; ".join(words)

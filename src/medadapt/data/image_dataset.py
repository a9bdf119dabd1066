"""The in-memory image data set every loader returns (see :mod:`medadapt.data.images`), and
the checks every loader runs on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from medadapt.data.read_errors import is_blank_reason
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
        ``keys[i]`` identifies the image by content; ``subjects[i]`` is its patient (kept in
        memory only); both may be empty for data sets built in memory (the path is used).
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

    def __len__(self) -> int:
        return int(self.y.shape[0])

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
        return replace(self, y=where[self.y], classes=classes)

    def subset(self, indices: Sequence[int] | torch.Tensor) -> ImageDataset:
        """The samples at ``indices`` (same classes; source and skipped kept)."""
        index = torch.as_tensor(indices, dtype=torch.long)
        picked = index.tolist()
        return replace(
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
    """The skipped ``(file, reason)`` counted by kind, each kind's first named: "2 unreadable
    files, first: a.png: unreadable (...); 1 blank image, first: b.png" (blank: every pixel
    one value)."""
    blank = [path for path, reason in skipped if is_blank_reason(reason)]
    unreadable = [(path, reason) for path, reason in skipped if not is_blank_reason(reason)]
    words = []
    if unreadable:
        path, reason = unreadable[0]
        n = len(unreadable)
        words.append(f"{n} unreadable file{'s' * (n != 1)}, first: {path}: {reason}")
    if blank:
        n = len(blank)
        words.append(f"{n} blank image{'s' * (n != 1)}, first: {blank[0]}")
    return "; ".join(words)

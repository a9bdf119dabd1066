"""Images as :class:`~medadapt.modalities.base.Samples` (an in-memory ``ImageDataset``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.modalities.base import Samples


@dataclass
class SourceInfo:
    """Where samples came from (kept by every subset): the source's digest and size, how it
    was read, the files left out, and the group and path columns used."""

    path: Path | None = None
    digest: str = ""
    n_source: int = 0
    read: Any = None  # the ImageRead a new base read its images with
    skipped: list[dict[str, str]] = field(default_factory=list)
    group_column: str | None = None
    path_column: str | None = None  # a path CSV's column of image paths, as read
    positive_by: str | None = None  # what chose a new base's positive class (see classes.py)


class ImageSamples(Samples):
    """The samples of an :class:`~medadapt.data.images.ImageDataset`: images (or a
    volume's slices) with their class, group, patient and content keys (a hash of the file's
    bytes, plus the slice; a hash of the pixels as read, :meth:`contents`)."""

    def __init__(
        self, dataset: Any, info: SourceInfo | None = None, notes: Sequence[str] = ()
    ) -> None:
        self.dataset = dataset
        self.info = info or SourceInfo(n_source=len(dataset))
        self.notes = list(notes)

    def group_column_advice(self, groups: Sequence[str] = ()) -> str:
        """A class folder (or DICOM folder, .npz) has no columns: a path CSV has (a trial
        was told to pass --group-column for a folder of class folders)."""
        if self.info.path is not None and Path(self.info.path).suffix.lower() == ".csv":
            return super().group_column_advice()
        return ("images read from folders or an .npz have no columns: list them in a CSV of "
                "path, label and a column for the site or group, and pass it as --data with "
                "--group-column COL")  # fmt: skip

    def __len__(self) -> int:
        return len(self.dataset)

    @property
    def labels(self) -> np.ndarray:
        return self.dataset.y.numpy()

    @property
    def groups(self) -> np.ndarray | None:
        groups = self.dataset.groups
        return None if groups is None else np.asarray(groups, dtype=str)

    def patients(self) -> np.ndarray:
        return np.asarray(self.dataset.patients(), dtype=object)

    def known_patients(self) -> np.ndarray | None:
        """The patient (id column, DICOM PatientID), else the file: a volume's slices are one
        patient's."""
        return self.patients()

    def subset(self, indices: Sequence[int] | np.ndarray) -> ImageSamples:
        part = self.dataset.subset(np.asarray(indices, dtype=np.int64))
        return ImageSamples(part, self.info, self.notes)

    def contents(self) -> np.ndarray:
        """Per sample, its pixel key: equal for images whose pixels are (a copy saved with
        other bytes), so that such a copy of a training image is left out of a test set."""
        return np.asarray(self.dataset.pixel_keys())

    def class_counts(self, classes: Sequence[str]) -> dict[str, int]:
        return self.dataset.class_counts()

    def skipped_files(self) -> list[dict[str, str]]:
        return list(self.info.skipped)

    def fingerprint(self) -> bytes:
        """The content keys (file hashes) and labels of every sample, in order."""
        keys = "\n".join(self.dataset.sample_keys()).encode()
        return keys + np.asarray(self.labels).tobytes()

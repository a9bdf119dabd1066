"""DICOM series stored one slice per file, stacked into volumes for ``spatial_dims=3``.

CT and MR are usually exported one slice per file. With ``spatial_dims=3`` the loader groups
single-frame DICOM files by ``SeriesInstanceUID`` (headers only, via pydicom) and reads each
series as one volume: slices ordered by their position along the slice normal
(``ImagePositionPatient`` projected on the cross product of the two
``ImageOrientationPatient`` directions, the DICOM standard's geometry; MONAI's
``PydicomReader`` orders by ``InstanceNumber``, which need not follow anatomy), spacing from
``PixelSpacing`` and the median slice distance, one window (or min-max) for the whole
volume. A series must carry one label (one class folder or CSV label); a file without a
series or position stays a single 2D file (reported, as before).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.pixels import apply_modality_lut

from medadapt.data.dicom_files import dicom_pixels, open_dicom
from medadapt.data.image_io import (
    FileRead,
    ReadError,
    ReadOptions,
    dicom_modality,
    dicom_subject,
    looks_unrescaled,
    read_file,
    resample,
    scale_dicom,
)
from medadapt.data.image_sources import UNKNOWN, Entry, unknown_type
from medadapt.data.reader_notes import collect_notes
from medadapt.errors import DataError
from medadapt.fileio import sha256_file

KEY_CHARS = 24  # hex characters of a sample key (96 bits)


@dataclass(frozen=True)
class Unit:
    """What becomes samples together: one file, or the files of one DICOM series."""

    entry: Entry  # the first file's entry (label, group, patient id)
    files: tuple[Path, ...]

    def digest(self) -> str:
        """Content hash of the file bytes (of every file of a series, in order)."""
        if len(self.files) == 1:
            return sha256_file(self.files[0])[:KEY_CHARS]
        joined = "".join(sha256_file(f) for f in self.files)
        return hashlib.sha256(joined.encode()).hexdigest()[:KEY_CHARS]

    def read(self, options: ReadOptions) -> FileRead:
        """The samples of this unit; what the libraries logged or warned while reading
        becomes ``notes`` (a file that fails is reported by its exception alone)."""
        with collect_notes() as notes:
            read = self._read(options)
        if not all(np.isfinite(sample).all() for sample in read.samples):
            raise ReadError("pixel values include NaN or infinity (nothing to score)")
        read.notes = notes
        return read

    def _read(self, options: ReadOptions) -> FileRead:
        if len(self.files) == 1:
            if self.entry.fmt == "missing":
                raise FileNotFoundError(self.entry.path)
            if self.entry.fmt == UNKNOWN:  # listed to be skipped (on_error="skip")
                raise ReadError(unknown_type(self.entry.path))
            return read_file(self.entry.path, self.entry.fmt, options)
        try:
            return read_series(self.files, options)
        except ReadError as exc:
            raise ReadError(f"a series of {len(self.files)} DICOM files: {exc}") from None


def _series_uid(path: Path) -> str | None:
    """The SeriesInstanceUID of a single-frame DICOM file (None: multi-frame or unreadable).
    Notes are dropped here: reading the file again collects them."""
    try:
        with collect_notes():
            ds = open_dicom(path, headers_only=True)
    except Exception:
        return None  # reading it again names the problem
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        return None
    return str(ds.get("SeriesInstanceUID", "") or "").strip() or None


def units_of(entries: Sequence[Entry], spatial_dims: int) -> list[Unit]:
    """One unit per file; in 3D, single-frame DICOM files of one series form one unit."""
    if spatial_dims != 3:
        return [Unit(e, (e.path,)) for e in entries]
    series: dict[str, list[Entry]] = {}
    order: list[str | Entry] = []
    for entry in entries:
        uid = _series_uid(entry.path) if entry.fmt == "dicom" else None
        if uid is None:
            order.append(entry)
            continue
        if uid not in series:
            series[uid] = []
            order.append(uid)
        series[uid].append(entry)
    units = []
    for item in order:
        if isinstance(item, Entry):
            units.append(Unit(item, (item.path,)))
            continue
        members = series[item]
        labels = sorted({(e.label, e.group or "") for e in members})
        if len(labels) > 1:
            raise DataError(
                f"the DICOM series of {members[0].path} has files with different labels or "
                f"groups ({len(labels)} combinations): give every file of a series the same "
                "label, or pass --spatial-dims 2 to read each file as a single slice"
            )
        units.append(Unit(members[0], tuple(e.path for e in members)))
    return units


def read_series(files: Sequence[Path], options: ReadOptions) -> FileRead:
    """One volume ``(1, D, H, W)`` from the single-frame files of a series."""
    datasets = [open_dicom(f) for f in files]
    first = datasets[0]
    if int(first.get("SamplesPerPixel", 1)) != 1:
        raise ReadError("colour slices; medadapt stacks grayscale series only")
    positions = _positions(datasets)
    order = np.argsort(positions)
    gaps = np.diff(np.asarray(positions)[order])
    if len(gaps) and gaps.min() <= 1e-6:
        raise ReadError("two slices share one ImagePositionPatient (a duplicate file?)")
    slices = []
    for i in order:
        ds = datasets[i]
        values = np.asarray(apply_modality_lut(dicom_pixels(ds), ds), dtype=np.float64)
        if slices and values.shape != slices[0].shape:
            raise ReadError(f"slices of different sizes ({slices[0].shape} and {values.shape})")
        slices.append(values)
    volume = np.stack(slices)  # (D, H, W), foot to head along the normal
    raw_ct = looks_unrescaled(volume, first)
    rows, cols = (float(v) for v in first.get("PixelSpacing", (1.0, 1.0)))
    zooms = [float(np.median(gaps)), rows, cols]
    volume = resample(volume.astype(np.float32), zooms, options, axes=(2, 1, 0))
    values, how = scale_dicom(volume, first, options.window, options.unwindowed_as_picture)
    volume = np.ascontiguousarray(values[None], dtype=np.float32)
    subject, acquired = dicom_subject(first), dicom_modality(first)
    return FileRead([volume], how, [None], subject, acquired=acquired, raw_ct=raw_ct)


def _positions(datasets: Sequence[object]) -> list[float]:
    """Each slice's position along the series' slice normal (mm)."""
    first = datasets[0]
    orientation = first.get("ImageOrientationPatient")  # type: ignore[attr-defined]
    if orientation is None or len(orientation) != 6:
        raise ReadError("no ImageOrientationPatient: the slices cannot be ordered")
    normal = np.cross(np.asarray(orientation[:3], float), np.asarray(orientation[3:], float))
    out = []
    for ds in datasets:
        position = ds.get("ImagePositionPatient")  # type: ignore[attr-defined]
        if position is None or len(position) != 3:
            raise ReadError("a slice without ImagePositionPatient: the slices cannot be ordered")
        out.append(float(np.dot(normal, np.asarray(position, float))))
    return out

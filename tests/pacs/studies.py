"""Synthetic DICOM studies with valid UIDs: CT series (one slice per file) and 2D radiographs.

A bright class has a bright square in the middle; a dark class a dim one. Patients are made up
(``PAT<n>``); nothing here is real data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ComputedRadiographyImageStorage,
    CTImageStorage,
    ExplicitVRLittleEndian,
    generate_uid,
)

LEVELS = {"bright": 3000, "dark": 1300}


def _pixels(label: str, seed: int, size: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pixels = np.full((size, size), 1000) + rng.integers(0, 40, (size, size))
    lo, hi = size // 4, size - size // 4
    pixels[lo:hi, lo:hi] = LEVELS[label] + rng.integers(0, 40, (hi - lo, hi - lo))
    return pixels.astype(np.uint16)


def _instance(sop_class: str, study: Dataset, series_uid: str, number: int) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.update(study)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID, ds.SeriesNumber, ds.InstanceNumber = series_uid, 1, number
    return ds


def _study(patient: str) -> Dataset:
    study = Dataset()
    study.PatientName, study.PatientID = f"Test^{patient}", patient
    study.PatientBirthDate, study.PatientSex = "19700101", "O"
    study.StudyInstanceUID, study.StudyID = generate_uid(), "1"
    study.StudyDate, study.StudyTime = "20250101", "120000"
    study.AccessionNumber, study.ReferringPhysicianName = "", ""
    return study


def ct_series(label: str, patient: str, *, n_slices: int = 8, size: int = 32) -> list[Dataset]:
    """One CT study of ``n_slices`` axial slices, 2.5 mm apart, one file per slice."""
    study, series_uid, frame = _study(patient), generate_uid(), generate_uid()
    out = []
    for k in range(n_slices):
        ds = _instance(CTImageStorage, study, series_uid, k + 1)
        ds.Modality, ds.FrameOfReferenceUID = "CT", frame
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0.0, 0.0, 2.5 * k]
        ds.PixelSpacing, ds.SliceThickness = [1.0, 1.0], 2.5
        ds.set_pixel_data(_pixels(label, seed=hash((patient, k)) % 2**32, size=size),
                          "MONOCHROME2", bits_stored=16)  # fmt: skip
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        out.append(ds)
    return out


def radiograph(label: str, patient: str, *, size: int = 32, seed: int = 0) -> Dataset:
    """One single-image CR study."""
    ds = _instance(ComputedRadiographyImageStorage, _study(patient), generate_uid(), 1)
    ds.Modality = "CR"
    ds.set_pixel_data(_pixels(label, seed=seed, size=size), "MONOCHROME2", bits_stored=16)
    return ds


def save(datasets: list[Dataset], folder: Path) -> list[Path]:
    """Write each data set as ``folder/<SOPInstanceUID>.dcm``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ds in datasets:
        path = folder / f"{ds.SOPInstanceUID}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths

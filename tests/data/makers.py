"""Write tiny medical image files with known content: pictures, DICOM, NIfTI, MedMNIST npz."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def disc(size: int, value: int, seed: int, noise: int = 10) -> np.ndarray:
    """A centred disc of brightness ``value`` on a dark background, plus uniform noise.

    Shape: (size, size) uint8.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    inside = (yy - size / 2 + 0.5) ** 2 + (xx - size / 2 + 0.5) ** 2 < (size / 3) ** 2
    image = np.where(inside, value, 20).astype(np.int32) + rng.integers(0, noise, (size, size))
    return np.clip(image, 0, 255).astype(np.uint8)


def write_picture(path: Path, pixels: np.ndarray) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def disc_folder(root: Path, n: int = 4, size: int = 16, suffix: str = ".png") -> Path:
    """``root/bright/*`` (disc 200) and ``root/dark/*`` (disc 60), ``n`` images each."""
    for i in range(n):
        write_picture(root / "bright" / f"b{i}{suffix}", disc(size, 200, seed=i))
        write_picture(root / "dark" / f"d{i}{suffix}", disc(size, 60, seed=100 + i))
    return root


def write_dicom(
    path: Path,
    stored: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    slope: float = 1.0,
    intercept: float = 0.0,
    window: tuple[float, float] | None = None,
    modality: str = "CT",
) -> Path:
    """A DICOM file holding ``stored`` (uint16; (H, W) or (frames, H, W))."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.set_pixel_data(stored.astype(np.uint16), photometric, bits_stored=16)
    ds.RescaleSlope = slope
    ds.RescaleIntercept = intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_nifti(path: Path, data: np.ndarray) -> Path:
    """A NIfTI file with an identity affine (already RAS canonical)."""
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data.astype(np.float32), np.eye(4)), path)
    return path


def ramp_volume(depth: int = 5, size: int = 8, offset: float = 0.0) -> np.ndarray:
    """Volume whose value is ``offset + 10 * index along axis 2``. Shape: (size, size, depth)."""
    return np.broadcast_to(offset + 10.0 * np.arange(depth), (size, size, depth)).copy()


def write_npz(path: Path, **arrays: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path

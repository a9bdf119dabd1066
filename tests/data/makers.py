"""Write tiny medical image files with known content: pictures, DICOM, NIfTI, MedMNIST npz."""

from __future__ import annotations

import struct
import zlib
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


def huge_png(path: Path, side: int = 20_000) -> Path:
    """A PNG whose header says ``side`` x ``side`` pixels (its data is a few bytes: PIL
    refuses it on opening, before any pixel is decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))  # fmt: skip
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
    syntax: str | None = None,
    patient: str | None = None,
    **encode: object,
) -> Path:
    """A DICOM file holding ``stored`` (uint16; (H, W) or (frames, H, W)), in ``syntax``
    (default Explicit VR Little Endian): a compressed one through pydicom's encoders
    (``Dataset.compress``; ``encode`` are its options, e.g. ``jls_error=2``), Deflated as is."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    if patient is not None:
        ds.PatientID = patient
    ds.set_pixel_data(stored.astype(np.uint16), photometric, bits_stored=16)
    ds.RescaleSlope = slope
    ds.RescaleIntercept = intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    if syntax is not None and UID(syntax).is_compressed:
        ds.compress(syntax, generate_instance_uid=False, **encode)
    elif syntax is not None:
        ds.file_meta.TransferSyntaxUID = syntax
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_encapsulated(
    path: Path,
    frame: bytes,
    syntax: str,
    *,
    shape: tuple[int, int],
    bits: int,
    samples: int = 1,
    photometric: str = "MONOCHROME2",
) -> Path:
    """A single-frame DICOM file whose pixel data is ``frame``, a codestream already
    compressed as ``syntax`` says (encapsulated as DICOM PS3.5 A.4 prescribes)."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.Rows, ds.Columns = shape
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    if samples > 1:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = 8 if bits <= 8 else 16
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits - 1, 0
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def baseline_jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    """An 8-bit JPEG baseline (Process 1) codestream of ``pixels`` (uint8, (H, W)), by Pillow."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _predictions(x: np.ndarray, predictor: int, precision: int) -> np.ndarray:
    """ITU-T T.81 H.1.2.1: each sample's prediction from its neighbours (first row: left;
    first column: above; the first sample: half the range)."""
    pred = np.empty_like(x)
    pred[0, 0] = 1 << (precision - 1)
    pred[0, 1:] = x[0, :-1]
    pred[1:, 0] = x[:-1, 0]
    a, b, c = x[1:, :-1], x[:-1, 1:], x[:-1, :-1]  # left, above, above-left
    pred[1:, 1:] = {
        1: a,
        2: b,
        3: c,
        4: a + b - c,
        5: a + ((b - c) >> 1),
        6: b + ((a - c) >> 1),
        7: (a + b) >> 1,
    }[predictor]
    return pred


def lossless_jpeg(pixels: np.ndarray, *, predictor: int = 1, precision: int = 16) -> bytes:
    """A JPEG lossless (Process 14, ITU-T T.81 annex H) codestream of ``pixels`` (unsigned,
    (H, W)): one component, point transform 0, one Huffman table giving each difference
    category 0-16 a 5-bit code. Predictor 1 is what transfer syntax .70 (Selection Value 1)
    allows; .57 allows 1-7. Written here because no Python package encodes it."""
    rows, cols = pixels.shape
    x = pixels.astype(np.int64)
    diffs = (x - _predictions(x, predictor, precision)) % 65536
    diffs = np.where(diffs > 32768, diffs - 65536, diffs)  # (-32768, 32768]
    bits: list[str] = []
    for diff in diffs.ravel().tolist():
        size = 16 if diff == 32768 else abs(diff).bit_length()
        bits.append(format(size, "05b"))
        if 0 < size < 16:
            bits.append(format(diff if diff > 0 else diff + (1 << size) - 1, f"0{size}b"))
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)  # pad the last byte with ones
    data = bytearray()
    for i in range(0, len(stream), 8):
        byte = int(stream[i : i + 8], 2)
        data += bytes([byte, 0]) if byte == 0xFF else bytes([byte])  # byte stuffing
    counts = bytes(4) + bytes([17]) + bytes(11)  # 17 codes of length 5
    frame = bytes([precision]) + rows.to_bytes(2, "big") + cols.to_bytes(2, "big") + b"\1\1\x11\0"
    table = b"\0" + counts + bytes(range(17))
    scan = bytes([1, 1, 0, predictor, 0, 0])
    return b"".join(
        [
            b"\xff\xd8",
            b"\xff\xc3" + (2 + len(frame)).to_bytes(2, "big") + frame,
            b"\xff\xc4" + (2 + len(table)).to_bytes(2, "big") + table,
            b"\xff\xda" + (2 + len(scan)).to_bytes(2, "big") + scan,
            bytes(data),
            b"\xff\xd9",
        ]
    )


def without_preamble(path: Path, out: Path, *, file_meta: bool = True) -> Path:
    """``path``'s data set written to ``out`` without the 128-byte preamble and ``DICM``,
    as old archives hold it: the file meta kept (the file then starts with group 0002), or
    dropped too (the bare data set in implicit VR little endian, as ACR-NEMA era files; only
    for uncompressed pixel data)."""
    import pydicom

    out.parent.mkdir(parents=True, exist_ok=True)
    if file_meta:
        out.write_bytes(path.read_bytes()[132:])
        return out
    ds = pydicom.dcmread(path)
    del ds.file_meta
    ds.preamble = None
    ds.save_as(out, implicit_vr=True, little_endian=True)
    return out


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

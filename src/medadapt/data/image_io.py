"""Read one image file into channel-first float32 arrays in [0, 1] (see ``intensity``).

Readers return a list of samples, each ``(C, H, W)`` (2D) or ``(C, D, H, W)`` (3D volume):
a volume read in 2D mode gives one sample per selected slice. A file that cannot be used raises
:class:`ReadError` with a one-line reason; the dataset loader decides to skip or refuse it.

Volumes are laid out ``(D, H, W)`` with D the slice axis: for NIfTI (reoriented to the closest
RAS canonical orientation) the array axis ``slice_axis`` (2 = axial) becomes D; for multi-frame
DICOM D is the frame axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from monai.data import MetaTensor
from monai.transforms import Resize, SpatialPad

from medadapt.data.intensity import Window, apply_window, min_max, scale_integer

#: file suffix -> format name (lower-case; ".nii.gz" is matched as a whole).
SUFFIXES: dict[str, str] = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".dcm": "dicom",
    ".dicom": "dicom",
    ".nii": "nifti",
    ".nii.gz": "nifti",
}
PICTURE_FORMATS = ("png", "jpeg")


class ReadError(Exception):
    """A file cannot be used; ``str(err)`` is a one-line reason (no path)."""


@dataclass(frozen=True, kw_only=True)
class ReadOptions:
    spatial_dims: int = 2
    window: Window | None = None
    slice_axis: int = 2
    slices: str | int = "middle"
    image_size: int = 224
    fit: str = "pad"


def file_format(path: Path) -> str | None:
    """The format of ``path`` from its suffix, or "dicom" for a suffix-less DICOM file."""
    name = path.name.lower()
    if name.endswith(".nii.gz"):
        return "nifti"
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None and path.suffix == "" and _has_dicom_preamble(path):
        return "dicom"
    return fmt


def _has_dicom_preamble(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def read_file(path: Path, fmt: str, options: ReadOptions) -> tuple[list[np.ndarray], str]:
    """Samples from ``path`` and how their intensities were scaled."""
    if fmt in PICTURE_FORMATS:
        if options.spatial_dims == 3:
            raise ReadError("a PNG/JPEG picture is 2D; spatial_dims=3 needs volumes")
        return [read_picture(path)], "fixed_scale"
    if fmt == "dicom":
        return read_dicom(path, options)
    if fmt == "nifti":
        return read_nifti(path, options)
    raise ReadError(f"unknown format {fmt!r}")


def read_picture(path: Path) -> np.ndarray:
    """PNG/JPEG: 8-bit / 255, 16-bit / 65535; RGB with three equal channels counts as gray;
    an EXIF orientation (cameras, phones) is applied."""
    from PIL import Image, ImageOps

    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened)
        mode = image.mode
        if mode in ("1", "L", "LA"):
            return scale_integer(np.asarray(image.convert("L")))[None]
        if mode.startswith("I;16") or mode == "I":
            values = np.asarray(image)
            if values.min() < 0 or values.max() > 65535:
                raise ReadError(f"{mode} pixels outside 0..65535; save it as 8- or 16-bit")
            return scale_integer(values.astype(np.uint16))[None]
        if mode == "F":
            raise ReadError("32-bit float pixels; save it as an 8- or 16-bit PNG")
        rgb = np.asarray(image.convert("RGB"))  # (H, W, 3)
    if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 0] == rgb[..., 2]).all():
        return scale_integer(np.ascontiguousarray(rgb[..., 0]))[None]
    return scale_integer(np.ascontiguousarray(rgb.transpose(2, 0, 1)))


def read_dicom(path: Path, options: ReadOptions) -> tuple[list[np.ndarray], str]:
    """DICOM: modality LUT (RescaleSlope/Intercept), window, MONOCHROME1 inversion, frames."""
    import pydicom
    from pydicom.pixels import apply_modality_lut

    ds = pydicom.dcmread(path)
    if "PixelData" not in ds:
        raise ReadError("a DICOM file without pixel data (e.g. a report or DICOMDIR)")
    try:
        pixels = ds.pixel_array
    except Exception as exc:
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        name = getattr(syntax, "name", syntax)
        raise ReadError(
            f"pixel data cannot be decoded ({_first_line(exc)}); transfer syntax {name} may "
            "need pylibjpeg or gdcm installed"
        ) from None
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    if int(ds.get("SamplesPerPixel", 1)) == 3:  # colour (ultrasound, photographs)
        bits = int(ds.get("BitsStored", 8))
        values = pixels.astype(np.float32) / float(2**bits - 1)
        values = np.moveaxis(values, -1, 0)  # (3, H, W) or (3, F, H, W)
        how = "fixed_scale"
    else:
        modality = np.asarray(apply_modality_lut(pixels, ds), dtype=np.float64)
        window, how = options.window, "window"
        if window is None and ds.get("WindowCenter") and ds.get("WindowWidth"):
            own = (_first(ds.WindowCenter), _first(ds.WindowWidth))
            window, how = (own, "dicom_window") if own[1] > 0 else (None, how)
        values = apply_window(modality, window) if window else min_max(modality)
        how = how if window else "min_max"
        if str(ds.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
            values = 1.0 - values
        values = values[None]  # (1, H, W) or (1, F, H, W)
    if n_frames > 1:
        return select(values, options), how
    if options.spatial_dims == 3:
        raise ReadError("a single-frame DICOM image is 2D; spatial_dims=3 needs volumes")
    return [np.ascontiguousarray(values, dtype=np.float32)], how


def _first(value: object) -> float:
    try:
        return float(value[0])  # type: ignore[index]  # multi-valued
    except TypeError:
        return float(value)  # type: ignore[arg-type]


def read_nifti(path: Path, options: ReadOptions) -> tuple[list[np.ndarray], str]:
    """NIfTI (nibabel; scl_slope/inter applied): 2D images, 3D volumes; 4D refused."""
    import nibabel as nib

    image = nib.load(path)
    kept = [int(s) for s in image.shape if s != 1]
    if len(kept) not in (2, 3):
        raise ReadError(
            f"a NIfTI image of shape {tuple(image.shape)}; medadapt reads 2D images and 3D "
            "volumes: save one volume per file"
        )
    if len(image.shape) >= 3:
        image = nib.as_closest_canonical(image)
    data = np.squeeze(np.asarray(image.get_fdata(dtype=np.float32)))
    values = apply_window(data, options.window) if options.window else min_max(data)
    how = "window" if options.window else "min_max"
    if values.ndim == 2:
        if options.spatial_dims == 3:
            raise ReadError("a 2D NIfTI image; spatial_dims=3 needs volumes")
        return [values[None]], how
    volume = np.moveaxis(values, options.slice_axis, 0)[None]  # (1, D, H, W)
    return select(volume, options), how


def select(volume: np.ndarray, options: ReadOptions) -> list[np.ndarray]:
    """The whole volume (3D mode) or the chosen slices of a ``(C, D, H, W)`` volume."""
    if options.spatial_dims == 3:
        return [np.ascontiguousarray(volume, dtype=np.float32)]
    depth = volume.shape[1]
    if options.slices == "middle":
        indices = [depth // 2]
    elif options.slices == "all":
        indices = list(range(depth))
    else:
        index = int(options.slices)
        if not -depth <= index < depth:
            raise ReadError(f"slice {index} is outside this volume's {depth} slices")
        indices = [index]
    return [np.ascontiguousarray(volume[:, i], dtype=np.float32) for i in indices]


def to_channels(sample: np.ndarray, channels: int) -> np.ndarray:
    """Gray -> RGB by repetition, RGB -> gray by ITU-R 601 luma (as PIL's "L")."""
    have = sample.shape[0]
    if have == channels:
        return sample
    if have == 1 and channels == 3:
        return np.repeat(sample, 3, axis=0)
    if have == 3 and channels == 1:
        weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        return np.tensordot(weights, sample, axes=1)[None].astype(np.float32)
    raise ReadError(f"cannot convert {have} channels to {channels}")


def fit_size(sample: torch.Tensor, size: int, fit: str) -> torch.Tensor:
    """Resize ``(C, *spatial)`` to ``size`` per side with MONAI: ``"pad"`` keeps the aspect
    ratio (longest side to ``size``, zero padding centred), ``"stretch"`` does not.
    Downsampling averages (area), upsampling interpolates (bi/trilinear)."""
    spatial = tuple(sample.shape[1:])
    target = (size,) * len(spatial)
    if spatial == target:
        return sample
    linear = "bilinear" if len(spatial) == 2 else "trilinear"
    if fit == "stretch":
        mode = "area" if min(spatial) >= size else linear
        out = Resize(target, mode=mode, anti_aliasing=mode != "area")(sample)
    else:
        mode = "area" if max(spatial) >= size else linear
        out = Resize(size, size_mode="longest", mode=mode, anti_aliasing=mode != "area")(sample)
        out = SpatialPad(target)(out)
    out = out.as_tensor() if isinstance(out, MetaTensor) else torch.as_tensor(out)
    return out.clamp_(0.0, 1.0)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def describe_error(exc: BaseException) -> str:
    """One-line reason for an exception raised while reading a file."""
    if isinstance(exc, ReadError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    return f"unreadable ({_first_line(exc)})"

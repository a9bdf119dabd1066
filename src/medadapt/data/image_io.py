"""Read one image file into channel-first float32 arrays in [0, 1] (see ``intensity``).

Readers return a :class:`FileRead`: samples, each ``(C, H, W)`` (2D) or ``(C, D, H, W)`` (3D
volume), the slice or frame each came from (a volume read in 2D mode gives one sample per
selected slice) and, for DICOM, the patient (PatientID, else SeriesInstanceUID), so that a
split keeps a patient's files together. A file that cannot be used raises :class:`ReadError`
with a one-line reason; the dataset loader decides to skip or refuse it. An option that does
not fit the file (a slice index beyond its depth) raises :class:`OptionError`: a user error,
never a skipped file. DICOM files are recognised and opened by
:mod:`medadapt.data.dicom_files` (without the preamble or the ``.dcm`` suffix; compressed
transfer syntaxes through pydicom's decoder plugins).

Volumes are laid out ``(D, H, W)`` with D the slice axis: for NIfTI (reoriented to the closest
RAS canonical orientation; a 2D image gets a third axis first, so its orientation does not
depend on how it was stored) the array axis ``slice_axis`` (2 = axial) becomes D; for DICOM D
is the frame axis, or the slice order of a series (:mod:`medadapt.data.dicom_series`).

Voxel spacing (NIfTI header, DICOM series) is honoured before the size is fitted, with MONAI
``Spacing`` on the image's affine: ``spacing="auto"`` resamples to isotropic voxels whose size
fits the longest physical side into ``image_size`` (the volume keeps its proportions in mm),
``(x, y, z)`` to that voxel size in mm, None (models saved before spacing was recorded)
counts voxels. In 2D mode only a slice's two in-plane axes are resampled, so the slices stay
the stored ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from pydicom.pixels import apply_modality_lut

from medadapt.data.dicom_files import dicom_pixels, looks_like_dicom, open_dicom, what_it_is
from medadapt.data.intensity import (
    Window,
    apply_window,
    min_max,
    scale_integer,
    twelve_bit_note,
    unrescaled_ct_note,
)
from medadapt.data.read_errors import (
    BeyondBitsStored,
    OptionError,
    ReadError,
    decoder_said,
)

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
Spacing = tuple[float, float, float]


@dataclass(frozen=True, kw_only=True)
class ReadOptions:
    spatial_dims: int = 2
    window: Window | None = None
    slice_axis: int = 2
    slices: str | int = "middle"
    image_size: int = 224
    fit: str = "pad"
    spacing: str | Spacing | None = None  # "auto", (x, y, z) in mm, or None (voxel counts)
    bits_stored: int | None = None  # 16-bit pictures: divide by 2**bits_stored - 1
    # a grayscale DICOM film without a window divided by the maximum of its bits stored (255
    # for 8, 4095 for 12 of 16), as a picture is, not min-max scaled (:func:`scale_dicom`):
    # set where the model trained on pictures only
    unwindowed_as_picture: bool = False


@dataclass
class FileRead:
    """What one file (or one DICOM series) gives: samples, how their intensities were scaled,
    the slice/frame index of each sample (None: the whole file), the DICOM patient, the
    one-line notes the reading libraries logged or warned (see ``reader_notes``), the
    DICOM Modality it was acquired with (``CT``, ``MR``; None for pictures and NIfTI) and, for
    the data set's checks (:class:`ReadChecks`), a 16-bit picture's highest stored value and,
    for DICOM CT, whether it looks unrescaled (:func:`looks_unrescaled`; None for others);
    ``alpha_dropped``: a picture's transparency (not opaque throughout) was left out."""

    samples: list[np.ndarray]
    how: str
    frames: list[int | None] = field(default_factory=list)
    subject: str | None = None
    notes: list[str] = field(default_factory=list)
    acquired: str | None = None
    stored_max: int | None = None
    raw_ct: bool | None = None
    alpha_dropped: bool = False

    def __post_init__(self) -> None:
        if not self.frames:
            self.frames = [None] * len(self.samples)


def file_format(path: Path) -> str | None:
    """The format of ``path`` from its suffix; a file with another suffix or none (``IM0001``,
    a UID such as ``1.2.840.113619.2.55.3.1``) is "dicom" when its first bytes are DICOM's,
    with or without the preamble."""
    name = path.name.lower()
    if name.endswith(".nii.gz"):
        return "nifti"
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None and looks_like_dicom(path):
        return "dicom"
    return fmt


def read_file(path: Path, fmt: str, options: ReadOptions) -> FileRead:
    """The samples of ``path`` (see :class:`FileRead`)."""
    if fmt in PICTURE_FORMATS:
        if options.spatial_dims == 3:
            raise ReadError("a PNG/JPEG picture is 2D; spatial_dims=3 needs volumes")
        return read_picture(path, options.bits_stored)
    if fmt == "dicom":
        return read_dicom(path, options)
    if fmt == "nifti":
        return read_nifti(path, options)
    raise ReadError(f"unknown format {fmt!r}")


def read_picture(path: Path, bits_stored: int | None = None) -> FileRead:
    """PNG/JPEG: 8-bit / 255, 16-bit / 65535 (or ``2**bits_stored - 1``, its highest value
    kept as ``stored_max``); RGB with three equal channels counts as gray; an EXIF orientation
    (cameras, phones) is applied; an alpha channel is dropped (``alpha_dropped`` when it was
    not opaque throughout)."""
    stored_max = None
    try:
        opened = Image.open(path)
    except Image.DecompressionBombError as exc:  # PIL's own words: "could be ... DOS attack"
        raise TooManyPixels(too_many_pixels(exc)) from None
    with opened:
        image = ImageOps.exif_transpose(opened)
        mode = image.mode
        alpha_dropped = _transparent(image)
        if mode in ("1", "L", "LA"):
            sample = scale_integer(np.asarray(image.convert("L")))[None]
        elif mode.startswith("I;16") or mode == "I":
            values = np.asarray(image)
            if values.min() < 0 or values.max() > 65535:
                raise ReadError(f"{mode} pixels outside 0..65535; save it as 8- or 16-bit")
            sample = scale_integer(values.astype(np.uint16), bits_stored)[None]
            stored_max = int(values.max())
        elif mode == "F":
            raise ReadError("32-bit float pixels; save it as an 8- or 16-bit PNG")
        else:
            sample = _rgb_or_gray(np.asarray(image.convert("RGB")))  # (H, W, 3)
    return FileRead([sample], "fixed_scale", stored_max=stored_max, alpha_dropped=alpha_dropped)


def _transparent(image: Image.Image) -> bool:
    """Whether a picture has an alpha channel (or a transparent palette entry) that is not
    opaque throughout: dropping an opaque one changes nothing."""
    if image.mode in ("P", "L", "RGB") and "transparency" in image.info:  # a tRNS chunk
        image = image.convert("RGBA")
    if "A" not in image.getbands():
        return False
    lowest, _ = image.getchannel("A").getextrema()
    return lowest < 255


class TooManyPixels(ReadError):
    """A picture with more pixels than PIL opens (a decompression bomb, or a huge scan):
    refused for its size (413 when served), not unreadable."""


def too_many_pixels(exc: Exception) -> str:
    """PIL's DecompressionBombError ``exc`` in our words: "400,000,000 pixels, over the
    178,956,970 an image may have"."""
    found = re.search(r"\((\d+) pixels\) exceeds limit of (\d+)", str(exc))
    if found is None:
        limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        return f"more pixels than the {limit:,} an image may have"
    pixels, limit = map(int, found.groups())
    return f"{pixels:,} pixels, over the {limit:,} an image may have"


def _rgb_or_gray(rgb: np.ndarray) -> np.ndarray:
    """An (H, W, 3) 8-bit picture scaled: one channel when its three are equal, else three."""
    if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 0] == rgb[..., 2]).all():
        return scale_integer(np.ascontiguousarray(rgb[..., 0]))[None]
    return scale_integer(np.ascontiguousarray(rgb.transpose(2, 0, 1)))


def looks_unrescaled(values: np.ndarray, ds: Any) -> bool | None:
    """Whether a DICOM CT's ``values`` (after RescaleSlope/Intercept) look like raw stored
    values, not Hounsfield units: nothing below 0 (no air, about -1000 HU) and no negative
    RescaleIntercept to bring them there. A crop of soft tissue or bone in HU has no value
    below 0 either, but keeps its negative intercept. None when the file is not CT."""
    if dicom_modality(ds) != "CT" or not values.size:
        return None
    intercept = ds.get("RescaleIntercept")
    return float(values.min()) >= 0 and (intercept is None or float(intercept) >= 0)


def dicom_subject(ds: Any) -> str | None:
    """The patient of a DICOM data set: PatientID, else SeriesInstanceUID, else None. Kept in
    memory only (never written), to hold one patient's files on one side of a split."""
    for tag, kind in (("PatientID", "patient"), ("SeriesInstanceUID", "series")):
        value = str(ds.get(tag, "") or "").strip()
        if value:
            return f"{kind}:{value}"
    return None


def dicom_modality(ds: Any) -> str | None:
    """The Modality a DICOM data set was acquired with (``CT``, ``MR``, ``DX``), or None."""
    return str(ds.get("Modality", "") or "").strip().upper() or None


def dicom_window(ds: Any, window: Window | None) -> tuple[Window | None, str]:
    """The window to apply (the option, else the file's own WindowCenter/Width) and its name."""
    if window is not None:
        return window, "window"
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is not None and width is not None and str(center) != "" and str(width) != "":
        own = (_first(center), _first(width))
        if own[1] > 0:
            return own, "dicom_window"
    return None, "min_max"


def scale_dicom(
    modality: np.ndarray, ds: Any, window: Window | None, as_picture: bool = False
) -> tuple[np.ndarray, str]:
    """Modality values (HU for CT) to [0, 1]: window or min-max, MONOCHROME1 inverted;
    ``as_picture``: a file without a window whose values are its stored ones (no rescale,
    not CT, unsigned) is divided by the maximum of its bits stored, as a picture is by its
    bit depth's (an 8-bit DICOM copy of a training PNG was min-max scaled: other inputs than
    the PNG's; a trial's 12-bit films, min-max scaled, were ranked backwards)."""
    window, how = dicom_window(ds, window)
    bits = _stored_as_picture(modality, ds) if window is None and as_picture else None
    if bits is not None:
        values, how = np.clip(modality / float(2**bits - 1), 0.0, 1.0), "fixed_scale"
    else:
        values = apply_window(modality, window) if window else min_max(modality)
    if str(ds.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        values = 1.0 - values
    return values, how


def _stored_as_picture(modality: np.ndarray, ds: Any) -> int | None:
    """The bits a DICOM image's values are stored in, where they are its stored ones as a
    picture holds them (else None): not CT (its Hounsfield units need a window), no rescale
    to other units, unsigned, within those bits, and at most 8 bits, or fewer than the 16
    allocated (12 of a film's 16: a depth declared; 16 of 16 may hold fewer bits than
    declared, as 12-bit data in 16-bit pictures do: min-max scaled still, and said where the
    model trained on pictures)."""
    slope, intercept = ds.get("RescaleSlope"), ds.get("RescaleIntercept")
    bits = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 8)
    allocated = int(ds.get("BitsAllocated") or bits)
    declared = bits <= 8 or bits < min(allocated, 16)
    fits = not modality.size or (float(modality.min()) >= 0
                                 and float(modality.max()) <= 2**bits - 1)  # fmt: skip
    plain = (
        dicom_modality(ds) != "CT"
        and (slope is None or float(slope) == 1.0)
        and (intercept is None or float(intercept) == 0.0)
        and int(ds.get("PixelRepresentation", 0) or 0) == 0
    )
    return bits if plain and declared and fits else None


def read_dicom(path: Path, options: ReadOptions) -> FileRead:
    """DICOM (any transfer syntax pydicom's plugins decode, with or without the preamble):
    modality LUT (RescaleSlope/Intercept), window, MONOCHROME1 inversion, frames."""
    ds = open_dicom(path)
    pixels = dicom_pixels(ds)
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    raw_ct = None
    if int(ds.get("SamplesPerPixel", 1)) == 3:  # colour (ultrasound, photographs)
        bits = int(ds.get("BitsStored", 8))
        values = pixels.astype(np.float32) / float(2**bits - 1)
        values = np.moveaxis(values, -1, 0)  # (3, H, W) or (3, F, H, W)
        how = "fixed_scale"
    else:
        modality = np.asarray(apply_modality_lut(pixels, ds), dtype=np.float64)
        raw_ct = looks_unrescaled(modality, ds)
        values, how = scale_dicom(modality, ds, options.window, options.unwindowed_as_picture)
        values = values[None]  # (1, H, W) or (1, F, H, W)
    subject, acquired = dicom_subject(ds), dicom_modality(ds)
    if n_frames > 1:
        frames, samples = select(values, options)
        return FileRead(samples, how, frames, subject, acquired=acquired, raw_ct=raw_ct)
    if options.spatial_dims == 3:
        raise ReadError(
            "a single-frame DICOM image is 2D; spatial_dims=3 needs volumes (multi-frame DICOM, "
            "or a series of slices sharing a SeriesInstanceUID with ImagePositionPatient)"
        )
    samples = [np.ascontiguousarray(values, dtype=np.float32)]
    return FileRead(samples, how, subject=subject, acquired=acquired, raw_ct=raw_ct)


def _first(value: object) -> float:
    try:
        return float(value[0])  # type: ignore[index]  # multi-valued
    except TypeError:
        return float(value)  # type: ignore[arg-type]


def read_nifti(path: Path, options: ReadOptions) -> FileRead:
    """NIfTI (nibabel; scl_slope/inter applied): 2D images, 3D volumes; 4D refused."""
    image = nib.load(path)
    if options.spacing is not None:
        check_spacing_known(path, image)
    kept = [int(s) for s in image.shape if s != 1]
    if len(kept) not in (2, 3):
        raise ReadError(
            f"a NIfTI image of shape {tuple(image.shape)}; medadapt reads 2D images and 3D "
            "volumes: save one volume per file"
        )
    data = np.asarray(image.get_fdata(dtype=np.float32))
    if data.ndim == 2:  # a third axis first, so (H, W) and (H, W, 1) orient alike
        data = data[..., None]
    if data.ndim > 3 and all(s == 1 for s in data.shape[3:]):
        data = data.reshape(data.shape[:3])
    if data.ndim != 3:
        raise ReadError(f"a NIfTI image of shape {tuple(image.shape)}; save one volume per file")
    image = nib.as_closest_canonical(nib.Nifti1Image(data, image.affine))
    data = np.asarray(image.dataobj, dtype=np.float32)  # (x, y, z) in RAS order
    zooms = [float(z) for z in image.header.get_zooms()[:3]]
    how = "window" if options.window else "min_max"
    if len(kept) == 2:
        if options.spatial_dims == 3:
            raise ReadError("a 2D NIfTI image; spatial_dims=3 needs volumes")
        axes = [i for i, s in enumerate(data.shape) if s != 1][:2]
        data = data.reshape([data.shape[a] for a in axes])
        data = resample(data, [zooms[a] for a in axes], options, axes=axes)
        values = apply_window(data, options.window) if options.window else min_max(data)
        return FileRead([values[None]], how)
    keep = () if options.spatial_dims == 3 else (options.slice_axis,)
    data = resample(data, zooms, options, keep=keep)
    values = apply_window(data, options.window) if options.window else min_max(data)
    volume = np.moveaxis(values, options.slice_axis, 0)[None]  # (1, D, H, W)
    frames, samples = select(volume, options)
    return FileRead(samples, how, frames)


def check_spacing_known(path: Path, image: Any) -> None:
    """Refuse a NIfTI file whose header gives a voxel size of 0 (nibabel would read 1 mm, a
    guess): resampling to a voxel spacing needs the true one."""
    from nibabel.openers import ImageOpener

    with ImageOpener(path) as stream:
        header = type(image.header).from_fileobj(stream, check=False)  # as written
    sizes = header["pixdim"][1 : 1 + min(3, len(image.shape))]
    zero = [axis for axis, size in enumerate(sizes) if size == 0 and image.shape[axis] > 1]
    if zero:
        axis = zero[0]
        raise ReadError(
            f"its NIfTI header gives voxel size 0 along axis {axis} (pixdim[{axis + 1}]), so "
            "its spacing is unknown and it cannot be resampled to a voxel size (--spacing): "
            "write the voxel sizes in mm into the header"
        )


def target_spacing(
    shape: Sequence[int],
    zooms: Sequence[float],
    options: ReadOptions,
    *,
    keep: Sequence[int] = (),
    axes: Sequence[int] | None = None,
) -> list[float] | None:
    """Voxel size per array axis to resample to, or None to leave the array as it is.

    ``keep``: axes whose spacing stays (the slice axis in 2D mode); ``axes``: which of the
    option's (x, y, z) each array axis is (default: all three, in order)."""
    if options.spacing is None:
        return None
    free = [a for a in range(len(shape)) if a not in keep]
    if options.spacing == "auto":
        wanted = [max(shape[a] * zooms[a] for a in free) / options.image_size] * len(shape)
    else:
        given = [float(v) for v in options.spacing]  # type: ignore[union-attr]
        wanted = [given[a] for a in (axes if axes is not None else range(len(shape)))]
    target = [wanted[a] if a in free else float(zooms[a]) for a in range(len(shape))]
    return None if np.allclose(target, zooms, rtol=1e-4) else target


def resample(
    values: np.ndarray,
    zooms: Sequence[float],
    options: ReadOptions,
    *,
    keep: Sequence[int] = (),
    axes: Sequence[int] | None = None,
) -> np.ndarray:
    """``values`` (spatial axes only, voxel sizes ``zooms`` in mm) resampled with MONAI
    ``Spacing`` (bilinear, edges repeated) as :func:`target_spacing` says."""
    target = target_spacing(values.shape, zooms, options, keep=keep, axes=axes)
    if target is None:
        return values
    from monai.data import MetaTensor  # MONAI takes seconds to import: on first use only
    from monai.transforms import Spacing as MonaiSpacing

    affine = torch.diag(torch.tensor([*zooms, 1.0], dtype=torch.float64))
    image = MetaTensor(torch.from_numpy(np.ascontiguousarray(values))[None], affine=affine)
    spacing = MonaiSpacing(pixdim=target, mode="bilinear", padding_mode="border", scale_extent=True)
    out = spacing(image)
    return np.asarray(out.as_tensor()[0].numpy(), dtype=np.float32)


def chosen_slices(depth: int, slices: str | int) -> list[int]:
    """Slice indices for ``slices`` ("middle", "all" or an index) of a volume ``depth`` deep."""
    if slices == "middle":
        return [depth // 2]
    if slices == "all":
        return list(range(depth))
    index = int(slices)
    if not -depth <= index < depth:
        raise OptionError(f"slice {index} is outside this volume's {depth} slices")
    return [index % depth]


def select(volume: np.ndarray, options: ReadOptions) -> tuple[list[int | None], list[np.ndarray]]:
    """The whole volume (3D mode) or the chosen slices of a ``(C, D, H, W)`` volume, with
    the slice index of each (None for the whole volume)."""
    if options.spatial_dims == 3:
        return [None], [np.ascontiguousarray(volume, dtype=np.float32)]
    indices = chosen_slices(volume.shape[1], options.slices)
    return list(indices), [np.ascontiguousarray(volume[:, i], dtype=np.float32) for i in indices]


def to_channels(sample: np.ndarray, channels: int) -> np.ndarray:
    """Gray -> RGB by repetition, RGB -> gray by ITU-R 601 luma (as PIL's "L"); colour whose
    three channels are equal (a gray DICOM saved as RGB) becomes that gray exactly, as a
    picture's does, so its pixels (and pixel key) are the gray image's wherever it is read
    (training, ``predict``, ``serve``: a review found luma 1 ulp off on a quarter of the
    8-bit levels)."""
    have = sample.shape[0]
    if have == channels:
        return sample
    if have == 1 and channels == 3:
        return np.repeat(sample, 3, axis=0)
    if have == 3 and channels == 1 and not colour_to_gray(sample, channels):
        return sample[:1]
    if have == 3 and channels == 1:
        weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        return np.tensordot(weights, sample, axes=1)[None].astype(np.float32)
    raise ReadError(f"cannot convert {have} channels to {channels}")


def colour_to_gray(sample: np.ndarray, channels: int) -> bool:
    """Whether :func:`to_channels` turns ``sample`` (C, *spatial) from colour into gray (a
    colour sample whose three channels are equal loses nothing: not counted)."""
    if sample.shape[0] != 3 or channels != 1:
        return False
    return not ((sample[0] == sample[1]).all() and (sample[0] == sample[2]).all())


def conversion_notes(
    colour_to_gray: int, alpha_dropped: int, *, one_image: bool = False
) -> list[str]:
    """One line per kind of conversion a whole read made (counts only): colour images turned
    into gray for a model of gray images, and transparency (alpha) left out. Counted over the
    images read (before a group is chosen among them): "read" says so. ``one_image``: said of
    one image (a served answer's note): "this colour image ...", without a training option."""
    if one_image:
        return [said for said, made in (
            ("this colour image was converted to gray (luma: 0.299 R + 0.587 G + 0.114 B): the "
             "model takes gray images", colour_to_gray),
            ("this image had a transparency (alpha) channel, which was dropped: the model reads "
             "only its gray or colour values, as if opaque", alpha_dropped),
        ) if made]  # fmt: skip
    notes = []
    if colour_to_gray:
        one = colour_to_gray == 1
        notes.append(
            f"{colour_to_gray} colour image{'' if one else 's'} read {'was' if one else 'were'} "
            "converted to gray (luma: 0.299 R + 0.587 G + 0.114 B), as the model takes gray "
            "images (--channels 1)"
        )
    if alpha_dropped:
        one = alpha_dropped == 1
        notes.append(
            f"{alpha_dropped} image{'' if one else 's'} read had a transparency (alpha) channel, "
            f"which was dropped: the model reads only {'its' if one else 'their'} gray or "
            "colour values, as if opaque"
        )
    return notes


def aspect_ratio(sample: np.ndarray | torch.Tensor) -> float:
    """The longer in-plane side over the shorter of ``(C, *spatial)`` (1.0: square); for a
    volume its slices' (a series' slice count is not its shape)."""
    plane = tuple(sample.shape[-2:])
    return max(plane) / max(min(plane), 1)


def aspect_range(aspects: Sequence[float]) -> list[float] | None:
    """The shapes of the images read, as ``[most square, least square]`` longer-to-shorter
    side ratios: the 1st and 99th percentiles, so that one odd image does not widen it (a
    trial's one 2:1 image among 112 square ones recorded ``[1.0, 2.0]``, and later strips up
    to 2.5:1 passed unsaid); recorded by a base model: what its training images looked like.

    >>> aspect_range([1.0] * 112 + [2.0])
    [1.0, 1.0]
    >>> aspect_range([1.0, 1.25, 1.5])
    [1.005, 1.495]
    """
    if not len(aspects):
        return None
    low, high = np.percentile(np.asarray(aspects, dtype=np.float64), [1, 99])
    return [round(float(low), 3), round(float(high), 3)]


#: the percentile of an image's [0, 1] intensities that is its brightest level: robust to a
#: few saturated pixels (a marker, a label burnt into the film)
BRIGHT_PERCENTILE = 99
#: at most about this many values are looked at per file (every k-th of a larger volume)
BRIGHTNESS_VALUES = 1_000_000


def brightness_level(*samples: np.ndarray) -> float:
    """The brightest level of ``samples`` (one image's, or one file's: all of them together)
    as read, in [0, 1] after scaling or windowing, before fitting: the 99th percentile of
    their intensities (0.0 for an empty image)."""
    total = sum(int(np.size(sample)) for sample in samples)
    if not total:
        return 0.0
    step = max(1, total // BRIGHTNESS_VALUES)  # a CT series: a strided sample, not a copy
    values = [np.asarray(sample).ravel()[::step] for sample in samples if np.size(sample)]
    return float(np.percentile(np.concatenate(values), BRIGHT_PERCENTILE))


def brightness_range(levels: Sequence[float]) -> list[float] | None:
    """The brightness of the images read, as ``[low, high]``: the 5th and 95th percentiles of
    their brightest levels (:func:`brightness_level`), so that a few odd images do not widen it
    (recorded by a base model: how bright its training images were)."""
    if not len(levels):
        return None
    low, high = np.percentile(np.asarray(levels, dtype=np.float64), [5, 95])
    return [round(float(low), 4), round(float(high), 4)]


def look_ranges(images: torch.Tensor) -> dict[str, list[float]]:
    """How the images look, as a base model records it: ``mean_level``, the 5th and 95th
    percentiles of each image's mean intensity, ``contrast``, those of each image's spread
    (standard deviation) of intensities, and ``grain``, those of each image's mean difference
    between neighbouring pixels (:data:`LOOKS`), over the images as the model reads them
    (fitted to its size, in [0, 1]); a scanner or export unlike the base's moves them (a
    trial's site B, brighter by 0.25 and at 0.6 of A's contrast, was scored without a word),
    and an image of noise lies far above the grain of any radiograph. Empty for no images."""
    values = _look_values(images)
    if values is None:
        return {}
    return {name: [round(float(v), 4) for v in np.percentile(column, [5, 95])]
            for name, column in zip(LOOKS, values, strict=True)}  # fmt: skip


#: what :func:`look_ranges` records of the training images, in the order :func:`image_look`
#: gives them for one image
LOOKS = ("mean_level", "contrast", "grain")
LOOK_CHUNK = 256  # images per float64 copy (not one of the whole set: volumes are large)


def _look_values(images: torch.Tensor) -> tuple[np.ndarray, ...] | None:
    """Each image's mean intensity, spread and grain (float64, :data:`LOOKS`), or None for no
    images."""
    if images.shape[0] == 0:
        return None
    values: list[list[np.ndarray]] = [[], [], []]
    for start in range(0, images.shape[0], LOOK_CHUNK):
        chunk = images[start : start + LOOK_CHUNK]
        flat = chunk.reshape(chunk.shape[0], -1).to(torch.float64)
        values[0].append(flat.mean(dim=1).numpy())
        values[1].append(flat.std(dim=1, correction=0).numpy())
        del flat  # the differences in the images' own precision, one at a time, summed in 64
        grain = torch.zeros(chunk.shape[0], dtype=torch.float64)
        for first, second in ((chunk[..., 1:], chunk[..., :-1]),
                              (chunk[..., 1:, :], chunk[..., :-1, :])):  # fmt: skip
            step = (first - second).abs().reshape(chunk.shape[0], -1)
            grain += step.mean(dim=1, dtype=torch.float64) / 2
        values[2].append(grain.numpy())
    return tuple(np.concatenate(column) for column in values)


def image_look(sample: torch.Tensor) -> tuple[float, float, float]:
    """One image's mean intensity, spread and grain (:data:`LOOKS`), as the model reads it
    (``(C, *spatial)``, fitted to its size)."""
    values = _look_values(sample.unsqueeze(0))
    assert values is not None  # one image
    mean, spread, grain = (float(column[0]) for column in values)
    return mean, spread, grain


def typical_look(images: torch.Tensor) -> tuple[float, float] | None:
    """The median of the images' mean intensities and of their spreads (see
    :func:`look_ranges`), or None for no images."""
    values = _look_values(images)
    return None if values is None else (float(np.median(values[0])), float(np.median(values[1])))


def fit_size(sample: torch.Tensor, size: int, fit: str) -> torch.Tensor:
    """Resize ``(C, *spatial)`` to ``size`` per side with MONAI: ``"pad"`` keeps the aspect
    ratio (longest side to ``size``, zero padding centred), ``"stretch"`` does not.
    Downsampling averages (area), upsampling interpolates (bi/trilinear)."""
    spatial = tuple(sample.shape[1:])
    target = (size,) * len(spatial)
    if spatial == target:
        return sample
    from monai.data import MetaTensor  # MONAI takes seconds to import: on first use only
    from monai.transforms import Resize, SpatialPad

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


#: how much :func:`fit_size` may enlarge an image before it is said: more than 4x (a 12 px
#: image read into a 64 px model), the detail the model expects is not in it
MAX_UPSCALE = 4.0


def upscale(shape: Sequence[int], size: int, fit: str) -> float:
    """How much :func:`fit_size` enlarges an image of spatial ``shape`` to ``size`` per side
    (1.0 or less: not enlarged): ``"pad"`` by its longest side, ``"stretch"`` its shortest."""
    side = max(shape) if fit == "pad" else min(shape)
    return size / max(side, 1)


def tiny_note(shapes: Sequence[tuple[int, ...]], size: int, fit: str, where: str, *,
              one_image: bool = False) -> str | None:  # fmt: skip
    """Why images of spatial ``shapes`` (one per sample, before fitting, of the source named
    ``where``) that :func:`fit_size` enlarges more than :data:`MAX_UPSCALE` times are not what
    the model expects; None when there are none. ``one_image``: said of the one image a
    served answer or a stored report is about, in words without a command line's flag (a
    trial's SR read "1 of 1 images in <uid>.dcm ... a base with a smaller --image-size")."""
    small = [shape for shape in shapes if upscale(shape, size, fit) > MAX_UPSCALE]
    if not small:
        return None
    smallest = max(small, key=lambda shape: upscale(shape, size, fit))
    if one_image:
        return (
            f"the image is smaller than {size / MAX_UPSCALE:g} px ({'x'.join(map(str, smallest))} "
            f"px): upscaled over {MAX_UPSCALE:g}x to the model's {size} px, the detail the model "
            "expects is not in it; score the full-size image"
        )
    one = len(small) == 1
    return (
        f"{len(small)} of {len(shapes)} images in {where} {'is' if one else 'are'} smaller "
        f"than {size / MAX_UPSCALE:g} px (the smallest {'x'.join(map(str, smallest))} px): "
        f"upscaled over {MAX_UPSCALE:g}x to the model's {size} px, the detail the model "
        f"expects is not in {'it' if one else 'them'}; use the full-size images, or a base "
        "with a smaller --image-size"
    )


@dataclass
class ReadChecks:
    """What the checks of a whole data set need of each unit read (a file, or the files of a
    DICOM series) with ``options``: each 16-bit picture's highest stored value (unless
    ``bits_stored`` was given), whether each DICOM CT looks unrescaled
    (:func:`looks_unrescaled`) with its file count, and each sample's spatial
    shape before fitting. :meth:`warnings` says what they show, once per data set."""

    options: ReadOptions
    stored_max: list[int] = field(default_factory=list)
    raw_ct: list[tuple[bool, int]] = field(default_factory=list)  # (looks raw, n_files)
    shapes: list[tuple[int, ...]] = field(default_factory=list)
    sixteen_bit: int = 0  # 16-bit pictures read (those bits_stored applies to)

    def add(self, read: FileRead, n_files: int = 1) -> None:
        self.sixteen_bit += read.stored_max is not None
        if read.stored_max is not None and self.options.bits_stored is None:
            self.stored_max.append(read.stored_max)
        if read.raw_ct is not None:
            self.raw_ct.append((read.raw_ct, n_files))
        self.shapes += [tuple(int(n) for n in sample.shape[1:]) for sample in read.samples]

    def warnings(self, where: str, *, twelve_bit: bool = True,
                 one_image: bool = False) -> list[str]:  # fmt: skip
        """One line per problem found (``where``: the source's name, as the notes say it).
        ``twelve_bit``: False leaves out :func:`twelve_bit_note`, a guess from the files alone
        (where a model's training images' brightness is compared instead, or the caller says
        it on its own). ``one_image``: said of the one image (or volume) an answer or a
        report is about, without a command line's flag."""
        kinds = {"series" if n > 1 else "files" for _, n in self.raw_ct}
        counted = " or ".join(sorted(kinds))  # "files", "series" or "files or series"
        found = [
            twelve_bit_note(self.stored_max, where, one_image=one_image) if twelve_bit else None,
            unrescaled_ct_note(
                [raw for raw, _ in self.raw_ct], where, counted, one_image=one_image
            ),
            tiny_note(
                self.shapes, self.options.image_size, self.options.fit, where, one_image=one_image
            ),
        ]
        return [note for note in found if note]


def is_blank(read: FileRead) -> bool:
    """Whether every sample of ``read`` is blank (one value throughout): a black picture."""
    return bool(read.samples) and all(np.ptp(sample) == 0 for sample in read.samples)


def refusal(path: object, exc: BaseException, where: str = "") -> str:
    """``path`` and why it is refused (:func:`describe_error`), in one line: "cannot read"
    unless it was read, and refused for its values (:class:`BeyondBitsStored`); ``where``:
    its line of a CSV listing, after the path (" (line 5 of images.csv)")."""
    if isinstance(exc, (BeyondBitsStored, TooManyPixels)):
        return f"{path}{where}: {exc}"
    return f"cannot read {path}{where}: {describe_error(exc, path)}"


def describe_error(exc: BaseException, path: object = None) -> str:
    """One-line reason for an exception raised while reading a file (``path``, where known:
    an empty file is said to be empty, not an image format no decoder knows)."""
    if isinstance(exc, ReadError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if path is not None and _is_empty_file(path):
        return "unreadable (an empty file, 0 bytes: a copy or download that did not finish?)"
    head = _first_bytes(path) if path is not None else b""
    begun = next((name for magic, name in _BEGUN.items() if head.startswith(magic)), None)
    if isinstance(exc, UnidentifiedImageError) and path is not None:  # not the image named
        if begun is not None:
            return f"unreadable (a damaged {begun} file: it starts as one, no decoder reads it)"
        looks = what_it_is(head)  # "it looks like text", "... a PDF document"
        looks = "no image decoder knows its bytes" if looks == "unknown binary content" else looks
        return f"unreadable (not the image its name says: {looks})"
    if begun is not None and isinstance(exc, OSError):  # PIL began it: "image file is truncated"
        return f"unreadable (a damaged {begun} file; its decoder says: {decoder_said(exc)})"
    return f"unreadable (its reader says: {decoder_said(exc)})"  # no exception class named


#: the first bytes of a PNG or a JPEG file: one that starts so and cannot be read is damaged
_BEGUN = {b"\x89PNG": "PNG", b"\xff\xd8": "JPEG"}


def _first_bytes(path: object, n: int = 132) -> bytes:
    try:
        with open(path, "rb") as file:  # type: ignore[arg-type]
            return file.read(n)
    except OSError:
        return b""


def _is_empty_file(path: object) -> bool:
    try:
        return Path(str(path)).stat().st_size == 0
    except (OSError, ValueError):  # not a local file (an archive member, a PACS instance)
        return False

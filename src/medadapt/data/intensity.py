"""Intensity normalisation for medical images: every loader returns values in [0, 1].

* 8/16-bit pictures (PNG, JPEG, MedMNIST arrays) are divided by their type's maximum (255 or
  65535): a fixed scale, so a darker image stays darker (no per-image stretching). 16-bit
  pictures that hold fewer bits (12-bit detector values 0..4095, as hospital exports store
  them) are divided by ``2**bits_stored - 1`` when ``bits_stored`` is given (recorded with a
  base model); a picture with a value above that is refused. Without it, 16-bit pictures that
  all stay within 12 bits are said (:func:`twelve_bit_note`; uint16 ``.npz`` arrays:
  :func:`twelve_bit_array_note`): they reach the model nearly black. That guess from the files
  alone gives way, where a base recorded its training images' brightness, to a comparison
  with them (``image_files.brightness_note``).
* CT (DICOM with RescaleSlope/Intercept applied, or NIfTI in Hounsfield units) with a window
  ``(level, width)`` or a preset name: ``[level - width/2, level + width/2]`` maps linearly onto
  ``[0, 1]``, values outside are clipped.
* Without a window: a DICOM file's own WindowCenter/WindowWidth when it has them, otherwise the
  min-max of the image or volume (constant images become 0).
* MONOCHROME1 DICOM (white = low values) is inverted after scaling: ``v -> 1 - v``.
* DICOM CT with no value below 0 after RescaleSlope/Intercept and no negative intercept is
  said (:func:`unrescaled_ct_note`): air is about -1000 HU, so those are raw stored values.

>>> resolve_window("brain")
(40.0, 80.0)
>>> apply_window(np.array([-1000.0, 40.0, 60.0, 500.0]), (40.0, 80.0)).tolist()
[0.0, 0.5, 0.75, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medadapt.data.read_errors import BeyondBitsStored
from medadapt.errors import ConfigError

Window = tuple[float, float]

#: CT window presets: name -> (level, width) in Hounsfield units.
CT_WINDOWS: dict[str, Window] = {
    "brain": (40.0, 80.0),
    "subdural": (75.0, 215.0),
    "stroke": (40.0, 40.0),
    "lung": (-600.0, 1500.0),
    "mediastinum": (50.0, 350.0),
    "abdomen": (40.0, 400.0),
    "soft_tissue": (40.0, 400.0),
    "liver": (60.0, 160.0),
    "bone": (400.0, 1800.0),
}


def resolve_window(window: str | Window | None) -> Window | None:
    """A preset name or ``(level, width)`` as floats; None stays None."""
    if window is None:
        return None
    if isinstance(window, str):
        key = window.strip().lower().replace(" ", "_").replace("-", "_")
        if key not in CT_WINDOWS:
            raise ConfigError(
                f"unknown CT window {window!r}; use one of {', '.join(CT_WINDOWS)} or "
                "(level, width) in HU"
            )
        return CT_WINDOWS[key]
    try:
        level, width = (float(v) for v in window)
    except (TypeError, ValueError):
        raise ConfigError(
            f"window must be a preset name or (level, width), got {window!r}"
        ) from None
    if not width > 0:
        raise ConfigError(f"window width must be positive, got {width=}")
    return level, width


def apply_window(values: np.ndarray, window: Window) -> np.ndarray:
    """Map ``[level - width/2, level + width/2]`` onto [0, 1], clipping outside (float32)."""
    from monai.transforms import ScaleIntensityRange  # MONAI takes seconds to import

    level, width = window
    low = level - width / 2
    scale = ScaleIntensityRange(
        a_min=low, a_max=low + width, b_min=0.0, b_max=1.0, clip=True, dtype=np.float32
    )
    return np.asarray(scale(np.asarray(values, dtype=np.float64)), dtype=np.float32)


def min_max(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] by the array's own minimum and maximum (a constant array gives 0)."""
    values = np.asarray(values, dtype=np.float32)
    if values.size == 0 or float(values.max()) == float(values.min()):
        return np.zeros_like(values)
    from monai.transforms import ScaleIntensity  # MONAI takes seconds to import

    return np.asarray(ScaleIntensity(minv=0.0, maxv=1.0)(values), dtype=np.float32)


#: the highest value 12-bit detector data holds; 16-bit pictures that stay within it are said
TWELVE_BIT_MAX = 2**12 - 1
#: how many bits a 16-bit picture may be said to hold (``bits_stored``, ``--bits-stored``)
BITS_STORED = range(8, 17)


def check_bits_stored(bits_stored: object) -> int | None:
    """``bits_stored`` as an int from 8 to 16, or None (16-bit pictures divided by 65535)."""
    if bits_stored is None:
        return None
    if isinstance(bits_stored, bool) or bits_stored not in BITS_STORED:
        raise ConfigError(
            f"bits_stored (--bits-stored) must be a whole number of bits from 8 to 16 (12: "
            f"values 0..{TWELVE_BIT_MAX} in 16-bit pictures); got {bits_stored!r}"
        )
    return int(bits_stored)  # type: ignore[call-overload]


def scale_integer(values: np.ndarray, bits_stored: int | None = None) -> np.ndarray:
    """Divide unsigned 8/16-bit values by their type's maximum (fixed scale, float32); 16-bit
    values by ``2**bits_stored - 1`` when given (a value above it:
    :class:`~medadapt.data.read_errors.BeyondBitsStored`)."""
    if values.dtype == np.uint8:
        return values.astype(np.float32) / 255.0
    if values.dtype != np.uint16:
        raise TypeError(f"expected uint8 or uint16 pixels, got {values.dtype}")
    if bits_stored is None:
        return values.astype(np.float32) / 65535.0
    top = 2**bits_stored - 1
    if values.size and int(values.max()) > top:
        raise BeyondBitsStored(
            f"16-bit pixels up to {int(values.max())} exceed {top}, the highest value "
            f"{bits_stored} bits stored hold (--bits-stored {bits_stored}): export it with "
            f"{bits_stored} bits, or train the base with a higher --bits-stored"
        )
    return values.astype(np.float32) / float(top)


def twelve_bit_note(maxima: Sequence[int], where: str, *, one_image: bool = False) -> str | None:
    """Why 16-bit pictures whose highest stored values are ``maxima`` (one per picture of the
    source named ``where``) reach the model nearly black, when every one stays within 12 bits
    (:data:`TWELVE_BIT_MAX`); None otherwise. ``one_image``: said of the one image an answer
    or a report is about, without a command line's flag."""
    if not maxima or max(maxima) > TWELVE_BIT_MAX:
        return None
    if one_image:
        return (f"{_nearly_black('the image', True)}; if it is 12-bit data, only a base model "
                "trained to read 12 bits stored scores it as it should")  # fmt: skip
    one = len(maxima) == 1
    pictures = "the one 16-bit picture" if one else f"all {len(maxima)} 16-bit pictures"
    return (
        f"{_nearly_black(f'{pictures} in {where}', one)}, unlike 8-bit or full 16-bit "
        f"pictures of the same scene; if {'it is' if one else 'they are'} 12-bit data, train "
        f"the base with --bits-stored 12 (train-base or study) so that every command divides "
        f"by {TWELVE_BIT_MAX}"
    )


def unused_bits_stored_note(bits_stored: int | None, n_sixteen: int, n_files: int,
                            where: str) -> str | None:  # fmt: skip
    """Why ``bits_stored`` given for a source (``where``) of ``n_files`` files none of which is
    a 16-bit picture (``n_sixteen``: those read) is said: it changes nothing in training, yet
    is recorded with the base model, so every 16-bit picture it later scores is divided by
    ``2**bits_stored - 1`` and one with a higher value is refused. None when it applies (or
    is not given). 8-bit pictures, DICOM and NIfTI are scaled as they are, whatever it says."""
    if bits_stored is None or n_sixteen:
        return None
    return (
        f"--bits-stored {bits_stored} applies to 16-bit PNG pictures, but none of the {n_files} "
        f"files in {where} is one: it changes nothing here, yet it is recorded with the base "
        f"model, which will divide every 16-bit picture it scores by {2**bits_stored - 1} and "
        f"refuse one holding a value above it; drop --bits-stored unless the images the model "
        f"will score are {bits_stored}-bit data in 16-bit files"
    )


def twelve_bit_array_note(n_images: int, where: str) -> str | None:
    """Why the ``n_images`` uint16 images of an ``.npz`` array (``where``: "train_images of
    scans.npz"), all within 12 bits, reach the model nearly black: as :func:`twelve_bit_note`
    says of 16-bit pictures, with the fix arrays take (``--bits-stored`` is refused for an
    ``.npz``). None when there are none."""
    if not n_images:
        return None
    one = n_images == 1
    images = "the one uint16 image" if one else f"all {n_images} uint16 images"
    return (
        f"{_nearly_black(f'{images} of {where}', one)}; if {'it is' if one else 'they are'} "
        "12-bit data, multiply the arrays by 16 (4095 becomes 65520) and save the .npz again: "
        "--bits-stored applies to 16-bit PNG pictures, not to .npz arrays"
    )


def _nearly_black(what: str, one: bool) -> str:
    """``what`` (one image, ``one``, or several) holds only 12-bit values and so reaches the
    model nearly black: the first half of both 12-bit notes."""
    hold, they = ("holds", "it reaches") if one else ("hold", "they reach")
    return (
        f"{what} {hold} values of at most {TWELVE_BIT_MAX}, as 12-bit detector data does: "
        f"divided by 65535 {they} the model at most {TWELVE_BIT_MAX / 65535:.4f} bright "
        "(nearly black)"
    )


def unrescaled_ct_note(raw: Sequence[bool], where: str, counted: str, *,
                       one_image: bool = False) -> str | None:  # fmt: skip
    """Why DICOM CT images that look unrescaled (``raw``: one flag per file or series,
    ``counted``, of the source named ``where``; nothing below 0 and no negative
    RescaleIntercept) are not read as Hounsfield units. None when none does. ``one_image``:
    said of the one image (or volume) an answer or a report is about."""
    n = sum(raw)
    if not n:
        return None
    if one_image:
        return ("the image has no value below 0 and no negative RescaleIntercept, where air is "
                "about -1000 HU: it looks like raw stored values, not Hounsfield units, so a CT "
                "window (or a model trained on HU) reads it wrongly; check its "
                "RescaleIntercept (usually -1024)")  # fmt: skip
    have, look, them = ("has", "it looks", "it") if n == 1 else ("have", "they look", "them")
    return (
        f"{n} of {len(raw)} DICOM CT {counted} in {where} {have} no value below 0 and no "
        f"negative RescaleIntercept, where air is about -1000 HU: {look} like raw stored "
        f"values, not Hounsfield units, so a CT window (or a model trained on HU) reads {them} "
        "wrongly; check the files' RescaleIntercept (usually -1024)"
    )

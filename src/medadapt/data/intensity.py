"""Intensity normalisation for medical images: every loader returns values in [0, 1].

* 8/16-bit pictures (PNG, JPEG, MedMNIST arrays) are divided by their type's maximum (255 or
  65535): a fixed scale, so a darker image stays darker (no per-image stretching).
* CT (DICOM with RescaleSlope/Intercept applied, or NIfTI in Hounsfield units) with a window
  ``(level, width)`` or a preset name: ``[level - width/2, level + width/2]`` maps linearly onto
  ``[0, 1]``, values outside are clipped.
* Without a window: a DICOM file's own WindowCenter/WindowWidth when it has them, otherwise the
  min-max of the image or volume (constant images become 0).
* MONOCHROME1 DICOM (white = low values) is inverted after scaling: ``v -> 1 - v``.

>>> resolve_window("brain")
(40.0, 80.0)
>>> apply_window(np.array([-1000.0, 40.0, 60.0, 500.0]), (40.0, 80.0)).tolist()
[0.0, 0.5, 0.75, 1.0]
"""

from __future__ import annotations

import numpy as np

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


def scale_integer(values: np.ndarray) -> np.ndarray:
    """Divide unsigned 8/16-bit values by their type's maximum (fixed scale, float32)."""
    if values.dtype == np.uint8:
        return values.astype(np.float32) / 255.0
    if values.dtype == np.uint16:
        return values.astype(np.float32) / 65535.0
    raise TypeError(f"expected uint8 or uint16 pixels, got {values.dtype}")

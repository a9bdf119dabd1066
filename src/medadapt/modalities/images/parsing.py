"""The image options' small languages: ``depth=4,embed_dim=192``, ``40,400``, ``1.5,1.5,2``."""

from __future__ import annotations

import math
from typing import Any

from medadapt.errors import ConfigError
from medadapt.modalities.base import names


def parse_backbone_options(text: str | None) -> dict[str, Any]:
    """``"depth=4,embed_dim=192"`` -> ``{"depth": 4, "embed_dim": 192}`` (numbers, true/false,
    else text)."""
    out: dict[str, Any] = {}
    for part in names(text):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip() or not raw.strip():
            raise ConfigError(
                f"--backbone-options must look like depth=4,embed_dim=192; got {part!r}"
            )
        value: Any = raw.strip()
        for cast in (int, float):
            try:
                value = cast(value)
                break
            except ValueError:
                continue
        if value in ("true", "false"):
            value = value == "true"
        if key.strip() in out:
            raise ConfigError(f"--backbone-options names {key.strip()!r} twice; give it once")
        out[key.strip()] = value
    return out


def parse_window(text: str | None) -> str | tuple[float, float] | None:
    """``"brain"`` or ``"40,80"`` (level, width in HU), refused by its flag when it is neither
    a preset nor two finite numbers with a positive width."""
    from medadapt.data.intensity import CT_WINDOWS

    if text is None:
        return None
    presets = ", ".join(CT_WINDOWS)
    if "," not in text:
        if text.strip().lower().replace(" ", "_").replace("-", "_") not in CT_WINDOWS:
            raise ConfigError(
                f"--window must be a preset ({presets}) or LEVEL,WIDTH in HU; got {text!r}"
            )
        return text
    try:
        level, width = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--window must be a preset name (e.g. brain) or LEVEL,WIDTH in HU; got {text!r}"
        ) from None
    if not (math.isfinite(level) and math.isfinite(width)):
        raise ConfigError(f"--window LEVEL,WIDTH must be finite numbers in HU; got {text!r}")
    if width <= 0:
        raise ConfigError(f"--window width must be positive (e.g. 40,80); got {text!r}")
    return level, width


def parse_spacing(text: str | None) -> str | tuple[float, float, float] | None:
    """``"auto"`` (default), ``"none"`` (voxel counts) or ``"1.5,1.5,2"`` (mm)."""
    if text is None or text == "auto":
        return "auto"
    if text == "none":
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) <= 0:
        raise ConfigError(
            f"--spacing must be auto, none or three voxel sizes in mm like 1.5,1.5,2; got {text!r}"
        )
    return values  # type: ignore[return-value]

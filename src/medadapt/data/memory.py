"""Whether images at a size fit in the memory this machine has free: refused by the flag that
sets the size, before any image is resized (a folder's files before any is read, an ``.npz``
once its arrays are read), rather than ending in the allocator's traceback."""

from __future__ import annotations

import os

from medadapt.data.option_words import takes
from medadapt.errors import ConfigError


def available_memory() -> int | None:
    """Bytes of memory this machine has free (psutil's count where it is installed, else the
    system's free pages; None where neither answers)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return int(psutil.virtual_memory().available)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def check_memory(n_files: int, image_size: int, spatial_dims: int, channels: int | None) -> None:
    """Refuse, before any file is read, ``n_files`` samples whose tensors at ``image_size``
    (per side, ``spatial_dims``) would take more memory than is free: the least they take (one
    channel where ``channels`` is not given), twice (the fitted images and the tensor they are
    stacked into exist together)."""
    free = available_memory()
    need = 2 * n_files * (channels or 1) * 4 * image_size**spatial_dims
    if free is None or need <= free:
        return
    per = "x".join([str(image_size)] * spatial_dims)
    fix = ("choose a smaller --image-size, or read fewer images" if takes("--image-size")
           else "read fewer images at a time (the model takes each at this size)")  # fmt: skip
    raise ConfigError(
        f"image_size (--image-size) {image_size}: the {n_files} images would take at least "
        f"{_size(need)} of memory at {per} px each, more than the {_size(free)} this machine "
        f"has free; {fix}"
    )


def _size(n_bytes: int) -> str:
    """``n_bytes`` in GB (from 1 GB) or MB, as a person reads it."""
    return f"{n_bytes / 1e9:,.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:,.0f} MB"

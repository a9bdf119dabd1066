"""Input normalisation a backbone's pretrained weights expect, applied inside the model.

Images reach a model as float32 in [0, 1]. Weights pretrained on ImageNet-style data expect
``(x - mean) / std`` per channel; feeding them [0, 1] shifts every activation. The mean and
std are part of the model's architecture record (``architecture["normalize"]``) and are
applied by a forward pre-hook on the patch embedding, so every path into the model (forward,
the frozen-feature cache, predict, serve) gets them. A record without the field means no
normalisation: models saved before it existed behave as they did.

>>> resolve_normalize("0.5,0.25", "monai:vit", in_chans=1, weights=None)
{'mean': [0.5], 'std': [0.25]}
>>> resolve_normalize("auto", "timm:vit_tiny_patch16_224", in_chans=3, weights=None) is None
True
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from timm.models import get_pretrained_cfg
from torch import nn

from medadapt.errors import ConfigError

log = logging.getLogger(__name__)

IMAGENET = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}
CHOICES = "auto, none, imagenet or MEAN,STD"
_MEAN, _STD = "medadapt_input_mean", "medadapt_input_std"


def _per_channel(values: Sequence[float], in_chans: int) -> list[float]:
    """``values`` for ``in_chans`` channels: RGB averaged for gray (the RGB kernels are summed
    for one channel, see ``weights``), one value repeated."""
    values = [float(v) for v in values]
    if len(values) == in_chans:
        return values
    if len(values) == 1:
        return values * in_chans
    if in_chans == 1:
        return [sum(values) / len(values)]
    raise ConfigError(f"--normalize: {len(values)} values do not fit {in_chans} channels")


def _pretrained_cfg(spec: str) -> dict[str, Any] | None:
    library, _, name = spec.partition(":")
    if library != "timm":
        return None
    cfg = get_pretrained_cfg(name)
    if cfg is None or not cfg.mean or not cfg.std:
        return None
    return {"mean": cfg.mean, "std": cfg.std}


def resolve_normalize(
    option: str | Mapping[str, Any] | None,
    spec: str,
    *,
    in_chans: int,
    weights: str | Path | None,
) -> dict[str, list[float]] | None:
    """``{"mean": [...], "std": [...]}`` (one value per channel) or None.

    ``option``: "auto" (the timm model's ``pretrained_cfg`` mean/std when ``weights`` are
    given, else none: a model trained from scratch needs none), "none", "imagenet",
    "MEAN,STD" (one pair for every channel), or a mapping with ``mean`` and ``std``.
    """
    if option is None or option == "none":
        return None
    if option == "auto":
        found = _pretrained_cfg(spec) if weights is not None else None
        if weights is not None and found is None:
            log.info("%s has no pretrained mean/std: inputs are not normalised", spec)
        chosen: Mapping[str, Any] | None = found
    elif option == "imagenet":
        chosen = IMAGENET
    elif isinstance(option, str):
        try:
            mean, std = (float(v) for v in option.split(","))
        except ValueError:
            raise ConfigError(f"--normalize must be {CHOICES}; got {option!r}") from None
        chosen = {"mean": [mean], "std": [std]}
    else:
        chosen = option
    if chosen is None:
        return None
    try:
        out = {k: _per_channel(chosen[k], in_chans) for k in ("mean", "std")}
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"--normalize must be {CHOICES}; got {option!r}") from None
    if min(out["std"]) <= 0:
        raise ConfigError(f"--normalize: the std must be positive, got {out['std']}")
    return out


def _normalise_input(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    x = args[0]
    mean = getattr(module, _MEAN).to(device=x.device, dtype=x.dtype)
    std = getattr(module, _STD).to(device=x.device, dtype=x.dtype)
    return ((x - mean) / std, *args[1:])  # (B, C, *spatial)


def attach_normalization(
    embedding: nn.Module, normalize: Mapping[str, Sequence[float]], spatial_dims: int
) -> None:
    """Normalise every input of ``embedding`` (the patch embedding): non-persistent buffers
    (not in the state dict, the weights file or the fingerprint) and a forward pre-hook."""
    shape = (-1, *(1,) * spatial_dims)  # (C, 1, 1[, 1]): broadcast over (B, C, *spatial)
    for name, key in ((_MEAN, "mean"), (_STD, "std")):
        values = torch.tensor(list(normalize[key]), dtype=torch.float32).view(shape)
        embedding.register_buffer(name, values, persistent=False)
    embedding.register_forward_pre_hook(_normalise_input)

"""Building blocks of image training: the model for a schema, adapter placement on a ViT,
class bookkeeping for new classes, and the retention loss.

>>> extended_classes(ImageSchema(classes=("a", "b"), channels=1, image_size=32), ["c"])
['a', 'b', 'c']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from medadapt.adapters import (
    AdapterConfig,
    BottleneckConfig,
    HeadConfig,
    IA3Config,
    LoraConfig,
)
from medadapt.adapters.targets import FAMILIES, detect_family
from medadapt.backbones.vision import create_vision_backbone
from medadapt.data.image_schema import ImageSchema
from medadapt.data.images import ImageDataset
from medadapt.errors import ConfigError, DataError

METHODS = ("bottleneck", "lora", "ia3", "head", "full")
DEFAULT_BACKBONE = "timm:vit_tiny_patch16_224"


@dataclass(frozen=True)
class RetentionLoss:
    """Class-weighted cross-entropy over all classes + ``weight`` x distillation of the
    old-class logits (KL at ``temperature``, scaled by its square).

    ``target`` packs the class index and the frozen base model's logits for the image;
    ``class_weights`` (K,) balance rare classes (new data often holds few old-class images).

    Shape:
        logits: (B, n_old + n_new); target: (B, 1 + n_old) -> scalar
    """

    n_old: int
    weight: float = 3.0
    temperature: float = 2.0
    class_weights: torch.Tensor | None = None

    def __call__(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        t = self.temperature
        ce = F.cross_entropy(logits, target[:, 0].long(), weight=self.class_weights)
        teacher = F.log_softmax(target[:, 1:] / t, dim=1)  # (B, n_old)
        student = F.log_softmax(logits[:, : self.n_old] / t, dim=1)
        kl = F.kl_div(student, teacher, log_target=True, reduction="batchmean")
        return ce + self.weight * kl * t * t


def head_name(model: nn.Module) -> str:
    """The head's module name: ``head`` (timm) or ``classification_head.0`` (MONAI)."""
    inner = getattr(model, "base_model", model)
    family = getattr(model, "family", None) or detect_family(inner)
    if family not in ("timm_vit", "monai_vit"):
        raise ConfigError(
            f"{type(inner).__name__} is not a timm or MONAI ViT: build it with "
            "create_vision_backbone"
        )
    return str(FAMILIES[family].head)


def adapter_config(
    family: str,
    method: str,
    *,
    layers: Sequence[int] | None = None,
    head_out_features: int | None = None,
) -> AdapterConfig | None:
    """The default config of ``method`` on a ViT ``family`` (None for ``full``): preset
    placement (Houlsby bottleneck r = d/8, LoRA r8 on qkv, IA3 on k/v and FFN) plus a head copy."""
    heads = (str(FAMILIES[family].head),)
    common: dict[str, Any] = {
        "heads": heads,
        "layers": None if layers is None else tuple(layers),
        "head_out_features": head_out_features,
    }
    if method == "bottleneck":
        return BottleneckConfig(placement="houlsby", reduction_factor=8, **common)
    if method == "lora":
        return LoraConfig(r=8, alpha=16, **common)
    if method == "ia3":
        return IA3Config(**common)
    if method == "head":
        return HeadConfig(heads=heads, head_out_features=head_out_features)
    if method == "full":
        return None
    raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


def new_backbone(
    schema: ImageSchema,
    backbone: str = DEFAULT_BACKBONE,
    *,
    weights: str | Path | None = None,
    options: dict[str, Any] | None = None,
    normalize: str | dict[str, Any] | None = "auto",
) -> nn.Module:
    """A ViT for ``schema``'s classes, channels, size and dimensionality; ``normalize``: the
    input mean/std (see :func:`~medadapt.backbones.normalize.resolve_normalize`)."""
    options = dict(options or {})
    if backbone.startswith("monai:"):
        dims = options.setdefault("spatial_dims", schema.spatial_dims)
        if dims != schema.spatial_dims:
            raise ConfigError(
                f"backbone option spatial_dims={dims} but the images are {schema.spatial_dims}D: "
                "drop the option"
            )
    elif schema.spatial_dims == 3:
        raise ConfigError(
            f"{backbone} takes 2D images but the data are 3D volumes: use --backbone monai:vit, "
            "or load one slice per volume (spatial_dims=2)"
        )
    return create_vision_backbone(
        backbone,
        num_classes=schema.n_classes,
        in_chans=schema.channels,
        image_size=schema.image_size,
        weights=weights,
        normalize=normalize,
        **options,
    )


def extended_classes(schema: ImageSchema, new_classes: Sequence[str]) -> list[str]:
    """``schema.classes`` followed by ``new_classes`` (checked: distinct, really new)."""
    new = [str(c).strip() for c in new_classes]
    if any(not c for c in new) or len(set(new)) != len(new):
        raise ConfigError(f"new classes must be distinct non-empty names, got {new}")
    clash = [c for c in new if c in schema.classes]
    if clash:
        raise ConfigError(
            f"{clash[0]!r} is already a class of the base model {list(schema.classes)}: "
            "list only classes it does not know in --new-classes"
        )
    return [*schema.classes, *new]


def check_data(schema: ImageSchema, dataset: ImageDataset, classes: list[str]) -> None:
    if list(dataset.classes) != classes:
        raise DataError(
            f"the data's classes {list(dataset.classes)} are not the model's {classes}: load "
            "it with classes=<base classes + new classes>"
        )
    schema.check(dataset)
    counts = dataset.class_counts()
    empty = [c for c in classes[schema.n_classes :] if counts[c] == 0]
    if empty:
        raise DataError(
            f"new class {empty[0]!r} has no images in the data: add its images or leave it "
            "out of --new-classes"
        )


def top_layers(depth: int, top_blocks: int | None) -> tuple[int, ...] | None:
    if top_blocks is None:
        return None
    if isinstance(top_blocks, bool) or not isinstance(top_blocks, int):
        raise ConfigError(f"top_blocks must be an integer, got {top_blocks!r}")
    if not 1 <= top_blocks <= depth:
        raise ConfigError(
            f"--top-blocks must be between 1 and the model's depth {depth}, got {top_blocks}"
        )
    return tuple(range(depth - top_blocks, depth))


def balanced_weights(dataset: ImageDataset) -> torch.Tensor:
    """Inverse-frequency class weights ``n / (K * n_c)`` (1 for a class with no image)."""
    counts = torch.bincount(dataset.y, minlength=len(dataset.classes)).float()
    weights = len(dataset) / (len(dataset.classes) * counts.clamp(min=1))
    return torch.where(counts > 0, weights, torch.ones_like(weights))

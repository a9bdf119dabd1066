"""Building blocks of image training: the model for a schema, adapter placement on a ViT,
and class bookkeeping for new classes (the retention loss is in train/growth.py).

>>> extended_classes(ImageSchema(classes=("a", "b"), channels=1, image_size=32), ["c"])
['a', 'b', 'c']
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from medadapt.adapters.targets import FAMILIES, detect_family
from medadapt.backbones.vision import create_vision_backbone
from medadapt.data.image_schema import ImageSchema
from medadapt.errors import ConfigError
from medadapt.modalities.images.classes import folded, spelt_alike
from medadapt.modalities.images.options import DEFAULT_BACKBONE


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
            "or pass --spatial-dims 2 to train on one slice per volume"
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
    respelt = [(c, o) for c in new for o in schema.classes if folded(c) == folded(o)]
    if respelt:
        name, ours = respelt[0]
        raise ConfigError(
            f"--new-classes {name} is the base model's class {ours!r} spelt another way (they "
            f"differ only in upper/lower case or spacing): rename the images' class to {ours!r} "
            "and drop it from --new-classes"
        )
    alike = [(c, o) for c in new for o in schema.classes if spelt_alike(c, o)]
    if alike:
        name, ours = alike[0]
        warnings.warn(
            f"--new-classes {name} is spelt like the base model's class {ours!r}: a typo? if "
            f"so, rename the images' class to {ours!r} and drop it from --new-classes",
            stacklevel=2,
        )
    return [*schema.classes, *new]

"""Vision backbones: timm ViTs for 2D images, a MONAI ViT for 3D volumes (or 2D).

``create_vision_backbone(spec, ...)`` builds a randomly initialised model (no hub is ever
contacted) and loads pretrained weights from a local file when given. The model's forward maps
images to logits: ``(B, C, H, W)`` (or ``(B, C, D, H, W)`` for ``monai:vit`` in 3D) to
``(B, num_classes)``. Its architecture is a plain dict (``architecture_of(model)``), enough to
rebuild it with ``build_from_architecture``; with ``normalize`` (the mean/std pretrained
weights expect, see :mod:`medadapt.backbones.normalize`) it is recorded there and applied
inside the model.

>>> model = create_vision_backbone(
...     "timm:vit_tiny_patch16_224", num_classes=2, in_chans=1, image_size=32, depth=2
... )
>>> architecture_of(model)["kwargs"]  # 32 px: patch 8 gives a 4 x 4 grid
{'depth': 2, 'patch_size': 8}
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import timm
import torch
import torch.nn.functional as F
from monai.networks.nets import ViT
from torch import nn

from medadapt.backbones.normalize import attach_normalization, resolve_normalize
from medadapt.backbones.vision_options import (
    check_backbone_options,
    check_timm_name,
    parse_spec,
    refuse_hub_options,
)
from medadapt.backbones.weights import (
    adapt_input_channels,
    drop_unfit_head,
    grid_side,
    load_backbone_weights,
)
from medadapt.errors import ConfigError

log = logging.getLogger(__name__)

ARCHITECTURE_FORMAT = 2  # 2: may hold "normalize" (a model without it is written as 1)
_ATTRIBUTE = "medadapt_architecture"
_PATCH_CANDIDATES = (32, 16, 14, 8, 7, 4, 2)
_MIN_GRID = 4  # patches per side below which a smaller patch size is chosen


class MonaiViTClassifier(ViT):
    """MONAI's ViT as a classifier: ``forward(x) -> logits`` (no Tanh, no hidden-state list).

    The head stays at ``classification_head.0`` (MONAI's key), so MONAI checkpoints load.

    Shape:
        x: (B, C, D, H, W) with ``spatial_dims=3``, (B, C, H, W) with 2 -> (B, num_classes)
    """

    adapter_family = "monai_vit"

    def __init__(self, *, num_classes: int, hidden_size: int = 768, **kwargs: Any) -> None:
        super().__init__(
            hidden_size=hidden_size,
            classification=True,
            num_classes=num_classes,
            post_activation="none",
            **kwargs,
        )
        self.classification_head = nn.Sequential(nn.Linear(hidden_size, num_classes))
        self.num_classes = num_classes

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens after the final norm. Shape: (B, 1 + n_patches, hidden_size)."""
        x = self.patch_embedding(x)  # (B, n_patches, d), position embedding added
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.classification_head(x[:, 0])  # (B, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def remap_checkpoint(
        self, state: dict[str, torch.Tensor], name: str
    ) -> tuple[list[str], set[str]]:
        """Fit a MONAI ViT checkpoint to this model (see ``weights.KeyRemap``): the unused
        cross-attention of older MONAI dropped, the patch embedding adapted to the channel
        count, the position embedding resampled to the grid, a head of another size (or none:
        an encoder) and a missing cls_token allowed."""
        notes: list[str] = []
        expected = self.state_dict()
        stale = [k for k in state if ".cross_attn." in k and k not in expected]
        for key in stale:  # older MONAI always built an unused cross-attention block
            del state[key]
        key = "patch_embedding.patch_embeddings.weight"
        if key in state and key in expected and state[key].dim() == expected[key].dim() >= 4:
            weight, target = state[key], expected[key]
            if weight.shape[1] != target.shape[1]:
                state[key] = adapt_input_channels(weight, target.shape[1])
                notes.append(
                    f"{name}: patch embedding adapted from {weight.shape[1]} to "
                    f"{target.shape[1]} input channels"
                )
        key = "patch_embedding.position_embeddings"
        if key in state and key in expected and state[key].shape != expected[key].shape:
            pos, target = state[key], expected[key]
            if pos.shape[-1] == target.shape[-1]:
                dims = len(self.patch_embedding.patch_embeddings.weight.shape) - 2
                old = grid_side(pos.shape[1], dims, key, name)
                new = grid_side(target.shape[1], dims, key, name)
                grid = pos.reshape(1, *[old] * dims, -1).movedim(-1, 1).float()  # (1, d, *grid)
                mode = "bicubic" if dims == 2 else "trilinear"
                resized = F.interpolate(grid, size=[new] * dims, mode=mode, align_corners=False)
                state[key] = resized.movedim(1, -1).reshape(1, -1, pos.shape[-1]).to(pos.dtype)
                notes.append(
                    f"{name}: position embedding resampled from a {old}^{dims} to a "
                    f"{new}^{dims} patch grid"
                )
        allowed = drop_unfit_head(state, self, "classification_head.", name, notes)
        if "cls_token" not in state:  # encoders saved without a classification token
            allowed.add("cls_token")
            notes.append(f"{name}: no cls_token in the checkpoint; it starts at zero")
        return notes, allowed


def choose_patch_size(image_size: int, default: int) -> int:
    """``default`` if it tiles ``image_size`` into at least 4 x 4 patches, else the largest
    smaller candidate (32, 16, 14, 8, 7, 4, 2) that does."""
    if image_size % default == 0 and image_size // default >= _MIN_GRID:
        return default
    for patch in _PATCH_CANDIDATES:
        if patch <= default and image_size % patch == 0 and image_size // patch >= _MIN_GRID:
            return patch
    raise ConfigError(
        f"image_size {image_size} cannot be cut into at least {_MIN_GRID} x {_MIN_GRID} "
        "patches of size 2-16: use a multiple of 8 or 16 (e.g. 32, 64, 224)"
    )


def vision_architecture(
    spec: str,
    *,
    num_classes: int,
    in_chans: int,
    image_size: int,
    normalize: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """The serialisable description ``create_vision_backbone`` builds from (patch size
    resolved). Keys: format, spec, num_classes, in_chans, image_size, kwargs, and
    normalize (per-channel mean/std) when given."""
    library, name = parse_spec(spec)
    _check_sizes(num_classes, in_chans, image_size)
    refuse_hub_options(kwargs)
    check_backbone_options(spec, {k: v for k, v in kwargs.items() if k != "spatial_dims"})
    kwargs = dict(kwargs)
    if library == "monai":
        kwargs.setdefault("spatial_dims", 3)
    if library == "timm":
        check_timm_name(name)
    _resolve_patch_size(kwargs, spec, library, name, image_size)
    try:
        json.dumps(kwargs)
    except TypeError as exc:
        raise ConfigError(f"backbone options must be plain JSON values: {exc}") from None
    out = {
        "format": 1,
        "spec": f"{library}:{name}",
        "num_classes": num_classes,
        "in_chans": in_chans,
        "image_size": image_size,
        "kwargs": dict(sorted(kwargs.items())),
    }
    if normalize is not None:
        out["normalize"] = resolve_normalize(normalize, spec, in_chans=in_chans, weights=None)
        out["format"] = 2  # older medadapt refuses it rather than skip the normalisation
    return out


def _check_sizes(num_classes: int, in_chans: int, image_size: int) -> None:
    """Refuse a class or channel count that is not a positive integer, or a tiny image size."""
    for key, value in (("num_classes", num_classes), ("in_chans", in_chans)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be a positive integer, got {key}={value!r}")
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 2:
        raise ConfigError(f"image_size must be an integer >= 2, got {image_size=}")


def _resolve_patch_size(
    kwargs: dict[str, Any], spec: str, library: str, name: str, image_size: int
) -> None:
    """Check a given ``patch_size``, else choose one for ``image_size`` (in ``kwargs`` when it
    differs from the model's default, and always for MONAI)."""
    found = re.search(r"patch(\d+)", name) if library == "timm" else None
    default = int(found.group(1)) if found else 16
    if "patch_size" in kwargs:
        patch = kwargs["patch_size"]
        if not isinstance(patch, int) or patch < 1 or image_size % patch:
            raise ConfigError(
                f"patch_size {patch!r} does not divide image_size {image_size}: pick a divisor"
            )
        return
    patch = choose_patch_size(image_size, default)
    if patch != default:
        log.info("%s: patch size %d for %d px inputs (not %d)", spec, patch, image_size, default)
    if patch != default or library == "monai":
        kwargs["patch_size"] = patch


def build_from_architecture(description: Mapping[str, Any]) -> nn.Module:
    """A randomly initialised model for ``description`` (from ``architecture_of``)."""
    missing = [k for k in ("spec", "num_classes", "in_chans", "image_size") if k not in description]
    if missing:
        raise ConfigError(
            f"the architecture description lacks {', '.join(missing)}: rebuild it with "
            "vision_architecture(...) or architecture_of(model)"
        )
    if int(description.get("format", ARCHITECTURE_FORMAT)) > ARCHITECTURE_FORMAT:
        raise ConfigError(
            f"architecture format {description['format']} is newer than this medadapt "
            f"({ARCHITECTURE_FORMAT}): upgrade medadapt"
        )
    desc = vision_architecture(
        description["spec"],
        num_classes=description["num_classes"],
        in_chans=description["in_chans"],
        image_size=description["image_size"],
        normalize=description.get("normalize"),
        **dict(description.get("kwargs", {})),
    )
    library, name = parse_spec(desc["spec"])
    kwargs = dict(desc["kwargs"])
    if library == "timm":
        try:
            model = timm.create_model(
                name,
                pretrained=False,
                num_classes=desc["num_classes"],
                in_chans=desc["in_chans"],
                img_size=desc["image_size"],
                **kwargs,
            )
        except (TypeError, ValueError, AssertionError, RuntimeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(
                f"{desc['spec']} cannot be built with --backbone-options "
                f"{_as_options(kwargs)}: {reason}"
            ) from None
    else:
        try:
            model = MonaiViTClassifier(
                num_classes=desc["num_classes"],
                in_channels=desc["in_chans"],
                img_size=desc["image_size"],
                **kwargs,
            )
        except (TypeError, ValueError, AssertionError, RuntimeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(
                f"monai:vit cannot be built with --backbone-options {_as_options(kwargs)}: {reason}"
            ) from None
    if desc.get("normalize"):
        embedding = model.patch_embed if library == "timm" else model.patch_embedding
        dims = 2 if library == "timm" else int(kwargs.get("spatial_dims", 3))
        attach_normalization(embedding, desc["normalize"], dims)
    setattr(model, _ATTRIBUTE, copy.deepcopy(desc))
    return model


def _as_options(kwargs: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in kwargs.items()) or "(none)"


def architecture_of(model: nn.Module) -> dict[str, Any]:
    """The description a backbone was built from (a deep copy; JSON-serialisable)."""
    inner = getattr(model, "base_model", model)  # an AdapterModel's base
    desc = getattr(inner, _ATTRIBUTE, None)
    if desc is None:
        raise ConfigError(
            f"{type(inner).__name__} was not built by create_vision_backbone: its architecture "
            "is unknown; build it with create_vision_backbone(spec, ...)"
        )
    return copy.deepcopy(desc)


def create_vision_backbone(
    spec: str,
    *,
    num_classes: int,
    in_chans: int,
    image_size: int,
    weights: str | Path | None = None,
    normalize: str | Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> nn.Module:
    """A timm or MONAI ViT classifier, optionally with local pretrained ``weights``.

    ``spec``: ``timm:<name>`` (a ViT/DeiT; ``kwargs`` go to ``timm.create_model``, e.g.
    ``depth``) or ``monai:vit`` (``kwargs`` go to MONAI's ``ViT``: ``spatial_dims`` (default
    3), ``hidden_size``, ``num_layers``, ``num_heads``, ``mlp_dim``, ``patch_size``...). Without
    an explicit ``patch_size``, a smaller patch is chosen when the default leaves fewer than
    4 x 4 patches. ``weights``: see :func:`~medadapt.backbones.weights.load_backbone_weights`.
    ``normalize``: see :func:`~medadapt.backbones.normalize.resolve_normalize` ("auto" = the
    pretrained mean/std when ``weights`` are given); None = inputs as they are.
    """
    normalize = resolve_normalize(normalize, spec, in_chans=in_chans, weights=weights)
    description = vision_architecture(
        spec,
        num_classes=num_classes,
        in_chans=in_chans,
        image_size=image_size,
        normalize=normalize,
        **kwargs,
    )
    model = build_from_architecture(description)
    if weights is not None:
        load_backbone_weights(model, weights)
    return model


def extend_classifier(model: nn.Module, num_classes: int) -> nn.Module:
    """Give ``model``'s head ``num_classes`` outputs (more than now), in place: the old rows keep
    their weights, the new rows start small (as an adapter's extended head copy does), and the
    recorded architecture follows, so a saved model rebuilds with the larger head.

    >>> vit = create_vision_backbone(
    ...     "timm:vit_tiny_patch16_224", num_classes=2, in_chans=1, image_size=32, depth=1
    ... )
    >>> extend_classifier(vit, 3)(torch.rand(1, 1, 32, 32)).shape
    torch.Size([1, 3])
    """
    desc = architecture_of(model)
    if isinstance(model, MonaiViTClassifier):
        parent, attr = model.classification_head, "0"
    else:
        parent, attr = model, "head"
    old = getattr(parent, attr)
    if not isinstance(old, nn.Linear):
        raise ConfigError(
            f"the head of {desc['spec']} is {type(old).__name__}, not a Linear layer: it cannot "
            "be extended; build the model with a class count > 0"
        )
    if num_classes <= old.out_features:
        raise ConfigError(
            f"num_classes={num_classes} does not add classes to a head with {old.out_features} "
            "outputs; pass a larger number"
        )
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    new.to(device=old.weight.device, dtype=old.weight.dtype)
    with torch.no_grad():
        nn.init.normal_(new.weight, std=0.01)
        new.weight[: old.out_features] = old.weight
        if new.bias is not None:
            new.bias.zero_()
            new.bias[: old.out_features] = old.bias
    setattr(parent, attr, new)
    model.num_classes = num_classes
    desc["num_classes"] = num_classes
    setattr(model, _ATTRIBUTE, desc)
    return model

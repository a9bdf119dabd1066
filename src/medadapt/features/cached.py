"""Cache a frozen ViT's lower blocks: run them once, train adapters on the top blocks only.

When adapters sit only in blocks ``k..depth-1``, the patch embedding and blocks ``0..k-1``
compute the same tokens in every epoch. :func:`split_vision_model` cuts a timm ViT or a
MONAI ViT (``MonaiViTClassifier``) at block ``k`` into

* :class:`FrozenPrefix` ``(B, C, *spatial) -> (B, T, d)`` tokens, always in eval mode and
  without autograd; :func:`precompute_tokens` runs it once over a data set, and
* :class:`TrainableSuffix` ``(B, T, d) -> (B, num_classes)``: blocks ``k..``, final norm,
  pooling and head.

Both hold the *same* model object (they copy nothing), so adapters added to it with
``AdapterModel`` (e.g. ``layers=(k, ..., depth - 1)``) are used by the suffix, and in eval mode
``suffix(prefix(x)) == model(x)``.

Caveat: caching is valid only when nothing random or trained happens below block ``k``: no
data augmentation of the images, no dropout / drop-path in the lower blocks (they run in eval
mode here, so their dropout is simply off), and no adapter below block ``k`` (refused).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from medadapt.adapters.layer import adapter_layers
from medadapt.adapters.targets import block_index, detect_family
from medadapt.errors import ConfigError

_PREFIX_MODULES = {
    "timm_vit": ("patch_embed", "pos_drop", "patch_drop", "norm_pre"),
    "monai_vit": ("patch_embedding",),
}


def _parts(model: nn.Module) -> tuple[nn.Module, object | None, str]:
    """(base model, AdapterModel or None, family) for a backbone or an AdapterModel on it."""
    from medadapt.adapters.model import AdapterModel

    wrapper = model if isinstance(model, AdapterModel) else None
    base = model.base_model if wrapper is not None else model
    family = wrapper.family if wrapper is not None else detect_family(base)
    if family not in _PREFIX_MODULES:
        raise ConfigError(
            f"feature caching supports timm ViTs and MONAI ViTs, not {type(base).__name__}; "
            "build the backbone with create_vision_backbone"
        )
    if family == "monai_vit" and not hasattr(base, "classification_head"):
        raise ConfigError("feature caching needs a MONAI ViT with a classification head")
    return base, wrapper, family


def lowest_adapted_block(model: nn.Module) -> int | None:
    """The lowest block index that carries an adapter (None: adapters only outside blocks,
    e.g. a head adapter, or none). Split at this index to cache everything below it."""
    base, _, family = _parts(model)
    found = [block_index(family, name + ".") for name, _ in adapter_layers(base)]
    indices = [i for i in found if i is not None]
    return min(indices) if indices else None


def _check_no_adapter_below(base: nn.Module, family: str, k: int) -> None:
    for name, _ in adapter_layers(base):
        index = block_index(family, name + ".")  # "blocks.3" itself counts as block 3
        below = index is not None and index < k
        if below or (index is None and name.split(".")[0] in _PREFIX_MODULES[family]):
            raise ConfigError(
                f"an adapter sits at {name}, below the cached block {k}: add adapters with "
                f"layers=({k}, ...) or split the model at a lower block"
            )


@contextlib.contextmanager
def _eval(modules: Sequence[nn.Module]) -> Iterator[None]:
    """Put ``modules`` (and their children) in eval mode, restoring each flag afterwards."""
    flags = [(m, m.training) for top in modules for m in top.modules()]
    for module, _ in flags:
        module.training = False
    try:
        yield
    finally:
        for module, flag in flags:
            module.training = flag


def _lower_modules(base: nn.Module, family: str, k: int) -> list[nn.Module]:
    named = [getattr(base, n) for n in _PREFIX_MODULES[family] if hasattr(base, n)]
    return [*named, *list(base.blocks)[:k]]


class FrozenPrefix(nn.Module):
    """Patch embedding (+ position, class token) and blocks ``0..k-1``, without autograd.

    Shape:
        x: (B, C, H, W) or (B, C, D, H, W) -> tokens (B, T, d)
    """

    def __init__(self, model: nn.Module, k: int) -> None:
        super().__init__()
        self.model = model
        self.k = k

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base, _, family = _parts(self.model)
        _check_no_adapter_below(base, family, self.k)
        with _eval(_lower_modules(base, family, self.k)):
            if family == "timm_vit":
                x = base.patch_embed(x)  # (B, n_patches, d)
                x = base._pos_embed(x)  # (B, T, d): prefix tokens + position
                x = base.patch_drop(x)
                x = base.norm_pre(x)
            else:
                x = base.patch_embedding(x)  # (B, n_patches, d)
                x = torch.cat((base.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
            for block in list(base.blocks)[: self.k]:
                x = block(x)
        return x


class TrainableSuffix(nn.Module):
    """Blocks ``k..depth-1``, final norm, pooling and head, on cached tokens.

    ``forward(tokens, adapter_ids=None)``: ``adapter_ids`` routes a mixed-adapter batch as
    ``AdapterModel.forward`` does (needs the split to be made on the AdapterModel).

    Shape:
        tokens: (B, T, d) -> logits (B, num_classes)
    """

    def __init__(self, model: nn.Module, k: int) -> None:
        super().__init__()
        self.model = model
        self.k = k

    def forward(
        self, tokens: torch.Tensor, adapter_ids: Sequence[str | None] | None = None
    ) -> torch.Tensor:
        base, wrapper, family = _parts(self.model)
        if adapter_ids is None:
            return self._run(base, family, tokens)
        if wrapper is None:
            raise ConfigError("adapter_ids needs the split to be made on the AdapterModel")
        with wrapper.route(adapter_ids):  # type: ignore[attr-defined]
            return self._run(base, family, tokens)

    def _run(self, base: nn.Module, family: str, x: torch.Tensor) -> torch.Tensor:
        for block in list(base.blocks)[self.k :]:
            x = block(x)  # (B, T, d)
        x = base.norm(x)
        if family == "timm_vit":
            return base.forward_head(x)  # pool, fc_norm, head_drop, head
        return base.classification_head(x[:, 0])


def split_vision_model(model: nn.Module, k: int) -> tuple[FrozenPrefix, TrainableSuffix]:
    """Split a ViT (or an ``AdapterModel`` on one) at block ``k`` (0 <= k <= depth).

    >>> from medadapt.backbones.vision import create_vision_backbone
    >>> vit = create_vision_backbone(
    ...     "timm:vit_tiny_patch16_224", num_classes=2, in_chans=1, image_size=32, depth=3
    ... ).eval()
    >>> prefix, suffix = split_vision_model(vit, 2)
    >>> x = torch.rand(4, 1, 32, 32)
    >>> torch.allclose(suffix(prefix(x)), vit(x), atol=1e-5)
    True
    """
    base, _, family = _parts(model)
    depth = len(base.blocks)
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= depth:
        raise ConfigError(f"k must be a block index between 0 and {depth}, got {k=}")
    _check_no_adapter_below(base, family, k)
    random = [
        type(m).__name__
        for top in _lower_modules(base, family, k)
        for m in top.modules()
        if (isinstance(m, nn.Dropout) and m.p > 0) or float(getattr(m, "drop_prob", 0.0)) > 0
    ]
    if random:
        warnings.warn(
            f"blocks below {k} use {sorted(set(random))} in training; cached tokens are "
            "computed without them (eval mode), so that regularisation is off",
            stacklevel=2,
        )
    return FrozenPrefix(model, k), TrainableSuffix(model, k)


def precompute_tokens(
    prefix: FrozenPrefix,
    images: torch.Tensor,
    *,
    batch_size: int = 64,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Run ``prefix`` once over ``images`` in batches; the tokens stay on the images' device.

    ``device``: where to compute (default: the model's device). ``dtype``: storage type
    (float16/bfloat16 halve the memory, at a small rounding cost).

    Shape:
        images: (N, C, *spatial) -> tokens (N, T, d)
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be positive, got {batch_size=}")
    if device is None:
        device = next(prefix.model.parameters()).device
    chunks = [
        prefix(images[start : start + batch_size].to(device)).to(images.device, dtype)
        for start in range(0, len(images), batch_size)
    ]
    return torch.cat(chunks) if chunks else images.new_empty(0)

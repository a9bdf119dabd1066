"""LoRA (Hu et al. 2021) on ``nn.Linear`` and ``nn.Conv2d``.

The update is ``scaling * B(A(dropout(x)))`` with ``scaling = alpha / r`` (or ``alpha / sqrt(r)``
with rsLoRA). On a Conv2d, ``A`` convolves exactly as the base layer does (stride, padding,
padding mode, dilation), so merging ``scaling * B @ A`` into the base weight changes no output.
Weight layout matches Hugging Face PEFT (``lora_A``: (r, in[, kh, kw]), ``lora_B``:
(out, r[, 1, 1])), so PEFT files load without reshaping.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from medadapt.adapters.config import AdapterConfig, help_field
from medadapt.adapters.layer import (
    AdapterLayer,
    InjectionSite,
    innermost,
    matmul_dtype,
    pad_to,
    per_sample,
)
from medadapt.adapters.methods import MethodSpec, register_method
from medadapt.adapters.routing import MixedRoute
from medadapt.adapters.targets import FamilyPreset, TargetSpec
from medadapt.errors import AdapterStateError, ConfigError, TargetError


@dataclass(frozen=True, kw_only=True)
class LoraConfig(AdapterConfig):
    """LoRA: ``W x + (alpha / r) * B A x`` on Linear and Conv2d layers; B starts at zero."""

    method: ClassVar[str] = "lora"

    r: int = help_field("Rank of the update.", 8)
    alpha: float = help_field("Scale numerator: the update is multiplied by alpha / r.", 16.0)
    dropout: float = help_field("Dropout on the LoRA branch's input while training.", 0.0)
    use_rslora: bool = help_field(
        "Rank-stabilised scale alpha / sqrt(r) (Kalajdzievski 2023).", False
    )
    rank_pattern: dict[str, int] = help_field(
        "Per-layer rank overrides: name suffix or regex -> r (as in PEFT).", default_factory=dict
    )
    alpha_pattern: dict[str, float] = help_field(
        "Per-layer alpha overrides: name suffix or regex -> alpha (as in PEFT).",
        default_factory=dict,
    )
    init: str = help_field(
        "'zero_b' (exact identity: B = 0) or 'random' (both random; for tests and interop).",
        "zero_b",
    )

    def _validate(self) -> None:
        if self.r < 1:
            raise ConfigError(f"r must be positive, got {self.r=}")
        if not self.alpha > 0:
            raise ConfigError(f"alpha must be positive, got {self.alpha=}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout=}")
        if self.init not in ("zero_b", "random"):
            raise ConfigError(f"init must be 'zero_b' or 'random', got {self.init=}")
        for key, value in self.rank_pattern.items():
            if int(value) < 1:
                raise ConfigError(f"rank_pattern[{key!r}] must be positive, got {value}")
        object.__setattr__(self, "rank_pattern", dict(self.rank_pattern))
        object.__setattr__(self, "alpha_pattern", dict(self.alpha_pattern))


def _pattern_value(patterns: dict[str, Any], name: str, default: Any) -> Any:
    """PEFT-style per-layer override: key ``k`` matches names ending in ``k`` (a regex)."""
    for key, value in patterns.items():
        try:
            if re.fullmatch(rf"(?:.*\.)?(?:{key})", name):
                return value
        except re.error:
            if TargetSpec(suffix=key).matches_name(name):
                return value
    return default


def lora_rank_and_alpha(config: LoraConfig, layer_name: str) -> tuple[int, float]:
    """``(r, alpha)`` of the layer ``layer_name``: the config's, or a pattern's override."""
    r = int(_pattern_value(config.rank_pattern, layer_name, config.r))
    alpha = float(_pattern_value(config.alpha_pattern, layer_name, config.alpha))
    return r, alpha


def lora_rank_and_scaling(config: LoraConfig, layer_name: str) -> tuple[int, float]:
    r, alpha = lora_rank_and_alpha(config, layer_name)
    scaling = alpha / math.sqrt(r) if config.use_rslora else alpha / r
    return r, scaling


class LoraUnit(nn.Module):
    """One adapter's A and B for one layer (Linear or Conv2d)."""

    def __init__(self, base: nn.Module, *, r: int, scaling: float, dropout: float, init: str):
        super().__init__()
        if isinstance(base, nn.Linear):
            self.lora_A = nn.Linear(base.in_features, r, bias=False)
            self.lora_B = nn.Linear(r, base.out_features, bias=False)
        else:
            self.lora_A = nn.Conv2d(
                base.in_channels,
                r,
                base.kernel_size,
                base.stride,
                base.padding,
                base.dilation,
                bias=False,
                padding_mode=base.padding_mode,  # the borders the merged weight would see
            )
            self.lora_B = nn.Conv2d(r, base.out_channels, 1, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        if init == "zero_b":
            nn.init.zeros_(self.lora_B.weight)
        else:
            nn.init.normal_(self.lora_B.weight, std=0.02)
        self.r = r
        self.scaling = scaling
        self.dropout = dropout

    @property
    def group_key(self) -> float:
        return self.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dropout and self.training:
            x = F.dropout(x, self.dropout, True)
        # scaling the r-channel intermediate equals scaling the output (B is linear) and is
        # r / out times cheaper
        return self.lora_B(self.lora_A(x) * self.scaling)

    def delta_weight(self) -> torch.Tensor:
        """The dense update ``scaling * B @ A`` in the base weight's shape."""
        a, b = self.lora_A.weight, self.lora_B.weight
        if a.dim() == 2:
            return (b @ a) * self.scaling
        out_ch = b.shape[0]
        delta = b.reshape(out_ch, self.r) @ a.reshape(self.r, -1)
        return delta.reshape(out_ch, *a.shape[1:]) * self.scaling


class LoraLayer(AdapterLayer):
    """A Linear or Conv2d layer with LoRA adapters."""

    method = "lora"
    unit_class: type[LoraUnit] = LoraUnit  # what one adapter adds to the layer

    def __init__(self, base_layer: nn.Module, routing: Any) -> None:
        if not isinstance(innermost(base_layer), (nn.Linear, nn.Conv2d)):
            raise TargetError(
                "lora needs nn.Linear or nn.Conv2d layers, got "
                f"{type(innermost(base_layer)).__name__}; "
                "target the Linear layers inside it"
            )
        if isinstance(innermost(base_layer), nn.Conv2d) and base_layer.groups != 1:
            raise TargetError(
                f"lora on a grouped Conv2d (groups={base_layer.groups}) is not supported; "
                "target a convolution with groups=1"
            )
        super().__init__(base_layer, routing)

    def add(self, name: str, config: LoraConfig, site: InjectionSite) -> None:
        r, scaling = lora_rank_and_scaling(config, site.name)
        unit = self.unit_class(innermost(self.base_layer), r=r, scaling=scaling,
                               dropout=config.dropout, init=config.init)  # fmt: skip
        self.add_unit(name, unit)

    def forward_active(self, names: tuple[str, ...], args: tuple, kwargs: dict) -> Any:
        x = args[0]
        y = self.base_layer(*args, **kwargs)
        for name in names:
            y = y + self.units[name](x).to(y.dtype)
        return y

    def forward_mixed(self, route: MixedRoute, args: tuple, kwargs: dict) -> Any:
        x = args[0]
        y = self.base_layer(*args, **kwargs)
        batch = route.batch_size
        conv = isinstance(innermost(self.base_layer), nn.Conv2d)
        result = None  # (B, T, out): a fresh copy of y, updated in place by each group
        for key, names in self.groups(route).items():
            slot = self.slots(route, names, y.device)  # (B,)
            dtype = matmul_dtype(x, self.units[names[0]].lora_A.weight)
            a_stack, b_stack, scale = self.stacked(
                (key, dtype), names, lambda n, dtype=dtype: self._stack(n, dtype)
            )
            source = F.dropout(x, key, True) if key and self.training else x
            if conv:
                delta = self._mixed_conv(source, a_stack[slot], b_stack[slot])
                y = y + (delta * scale[slot].view(batch, 1, 1, 1)).to(y.dtype)
                continue
            tokens = per_sample(source, batch)  # (B, T, in)
            a_slot = a_stack.index_select(0, slot)  # (B, in, r); faster than a_stack[slot] on CPU
            low = torch.bmm(tokens, a_slot) * scale.index_select(0, slot).view(batch, 1, 1)
            if result is None:
                result = per_sample(y, batch).clone()  # (B, T, out)
            b_slot = b_stack.index_select(0, slot).to(result.dtype)  # (B, r, out)
            result.baddbmm_(low.to(result.dtype), b_slot)  # += low @ B
        return y if result is None else result.reshape(y.shape)

    def _mixed_conv(self, x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Per-sample LoRA convolution as one grouped convolution (groups = batch).

        Shapes: x (B, C, H, W), a (B, r, C, kh, kw), b (B, out, r) -> (B, out, H', W')
        """
        batch, channels = x.shape[:2]
        base = innermost(self.base_layer)
        padding = base.padding
        if base.padding_mode != "zeros":  # pad as nn.Conv2d does, then convolve unpadded
            x = F.pad(x, base._reversed_padding_repeated_twice, mode=base.padding_mode)
            padding = 0
        low = F.conv2d(
            x.reshape(1, batch * channels, *x.shape[2:]),
            a.reshape(-1, *a.shape[2:]),
            stride=base.stride,
            padding=padding,
            dilation=base.dilation,
            groups=batch,
        )  # (1, B*r, H', W')
        low = low.reshape(batch, a.shape[1], *low.shape[2:])
        return torch.einsum("brhw,bor->bohw", low, b)

    def _stack(self, names: tuple[str, ...], dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        """Stacked A and B of ``names`` plus a zero slot, cast to ``dtype``; ranks zero-padded
        to the largest.

        Shapes (Linear): a (n+1, in, r), b (n+1, r, out); (Conv2d): a (n+1, r, C, kh, kw),
        b (n+1, out, r); scale (n+1,) (not cast).
        """
        units = [self.units[n] for n in names]
        rank = max(u.r for u in units)
        if isinstance(innermost(self.base_layer), nn.Conv2d):
            a_parts = [pad_to(u.lora_A.weight, rank, 0) for u in units]
            b_parts = [pad_to(u.lora_B.weight.flatten(1), rank, 1) for u in units]
        else:
            a_parts = [pad_to(u.lora_A.weight.t(), rank, 1) for u in units]
            b_parts = [pad_to(u.lora_B.weight.t(), rank, 0) for u in units]
        scale = [a_parts[0].new_tensor(u.scaling) for u in units]
        a, b, s = (
            torch.stack([*parts, torch.zeros_like(parts[0])]) for parts in (a_parts, b_parts, scale)
        )
        return a.to(dtype), b.to(dtype), s

    @torch.no_grad()
    def merge(self, name: str) -> None:
        if name in self.merged:
            raise AdapterStateError(f"adapter {name!r} is already merged")
        self.remember_base()
        weight = self.base_layer.weight
        weight.add_(self.units[name].delta_weight().to(weight.dtype))
        self.merged.append(name)

    @torch.no_grad()
    def unmerge(self, name: str) -> None:
        self.unmerge_exactly(name, self.merge)


def _family_targets(preset: FamilyPreset, config: AdapterConfig) -> tuple[str, ...]:
    """The attention projections the family's preset names (e.g. qkv; query and value)."""
    return preset.lora


_DEFAULTS = {"r": 8, "alpha": 16}
register_method(
    MethodSpec(
        name="lora",
        config_class=LoraConfig,
        layer_class=LoraLayer,
        label="LoRA adapter",
        mergeable=True,
        family_targets=_family_targets,
        defaults={
            family: _DEFAULTS for family in ("ft_transformer", "timm_vit", "monai_vit", "hf_bert")
        },
    )
)

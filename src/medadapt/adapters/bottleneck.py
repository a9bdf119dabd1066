"""Bottleneck adapters (Houlsby et al. 2019; Pfeiffer et al. 2021; AdaptFormer, Chen et al. 2022).

A unit computes ``scaling * up(act(down(dropout(h))))``. In *serial* mode ``h`` is the wrapped
sub-layer's output and the result is added to it (a residual bottleneck after the sub-layer); in
*parallel* mode ``h`` is the sub-layer's input and the result is added beside it. ``up`` starts
at zero, so a new adapter changes nothing until trained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from medadapt.adapters.config import AdapterConfig, help_field
from medadapt.adapters.layer import (
    AdapterLayer,
    InjectionSite,
    matmul_dtype,
    pad_to,
    per_sample,
    split_output,
)
from medadapt.adapters.methods import MethodSpec, register_method
from medadapt.adapters.routing import MixedRoute
from medadapt.adapters.targets import FamilyPreset
from medadapt.errors import ConfigError, TargetError

ACTIVATIONS = ("relu", "gelu", "tanh", "silu", "identity")
PLACEMENTS = ("houlsby", "pfeiffer", "parallel")

_ACTIVATIONS = {
    "relu": F.relu,
    "gelu": F.gelu,
    "tanh": torch.tanh,
    "silu": F.silu,
    "identity": lambda t: t,
}
# the model width per preset family, for sub-layers (attention, FFN) that are not one Linear
_D_MODEL = {
    "timm_vit": lambda m: int(m.embed_dim),
    "monai_vit": lambda m: int(m.blocks[0].mlp.linear2.out_features),
    "ft_transformer": lambda m: int(m.d_token),
    "hf_bert": lambda m: int(m.config.hidden_size),
}


@dataclass(frozen=True, kw_only=True)
class BottleneckConfig(AdapterConfig):
    """Bottleneck adapter: down-projection, non-linearity, up-projection, residual.

    ``placement``: ``houlsby`` (after the attention output and after the FFN), ``pfeiffer``
    (after the FFN only) or ``parallel`` (AdaptFormer: beside the FFN, scaled). The
    up-projection starts at zero, so a new adapter is an exact identity.
    """

    method: ClassVar[str] = "bottleneck"

    placement: str = help_field("houlsby | pfeiffer | parallel.", "houlsby")
    reduction_factor: float = help_field(
        "Hidden size = d_model / reduction_factor (at least 1).", 16.0
    )
    d_hidden: int | None = help_field("Explicit hidden size; overrides reduction_factor.", None)
    activation: str = help_field(f"Non-linearity, one of {ACTIVATIONS}.", "relu")
    dropout: float = help_field("Dropout on the adapter's input while training.", 0.0)
    scaling: float | None = help_field(
        "Multiplier on the adapter's output; None = 1.0 (serial) or 0.1 (parallel, AdaptFormer).",
        None,
    )
    d_model: int | None = help_field(
        "Width of the wrapped sub-layer's output when it cannot be read off its Linear layers.",
        None,
    )

    def _validate(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ConfigError(f"placement must be one of {PLACEMENTS}, got {self.placement=}")
        if not self.reduction_factor > 0:
            raise ConfigError(f"reduction_factor must be positive, got {self.reduction_factor=}")
        if self.d_hidden is not None and self.d_hidden < 1:
            raise ConfigError(f"d_hidden must be positive, got {self.d_hidden=}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"activation must be one of {ACTIVATIONS}, got {self.activation=}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout=}")
        if self.d_model is not None and self.d_model < 1:
            raise ConfigError(f"d_model must be positive, got {self.d_model=}")

    @property
    def mode(self) -> str:
        """``serial`` (adapter reads the sub-layer's output) or ``parallel`` (its input)."""
        return "parallel" if self.placement == "parallel" else "serial"

    @property
    def effective_scaling(self) -> float:
        if self.scaling is not None:
            return float(self.scaling)
        return 0.1 if self.mode == "parallel" else 1.0

    def hidden_size(self, d_model: int) -> int:
        if self.d_hidden is not None:
            return self.d_hidden
        return max(1, round(d_model / self.reduction_factor))


class BottleneckUnit(nn.Module):
    """One adapter's weights for one sub-layer.

    Shape:
        input: (..., d_in)  ->  output: (..., d_out)
    """

    def __init__(
        self,
        *,
        d_in: int,
        d_out: int,
        d_hidden: int,
        activation: str,
        dropout: float,
        scaling: float,
        mode: str,
    ) -> None:
        super().__init__()
        self.down = nn.Linear(d_in, d_hidden)
        self.up = nn.Linear(d_hidden, d_out)
        nn.init.kaiming_uniform_(self.down.weight, a=math.sqrt(5))
        nn.init.zeros_(self.down.bias)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)
        self.activation = activation
        self.dropout = dropout
        self.scaling = scaling
        self.mode = mode

    @property
    def group_key(self) -> tuple[str, str, float]:
        return (self.mode, self.activation, self.dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = F.dropout(h, self.dropout, self.training)
        return self.up(_ACTIVATIONS[self.activation](self.down(h))) * self.scaling

    def add_to(self, base: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``base + self(h)``, with the residual add fused into the up-projection.

        Equal to ``base + self(h)`` up to float rounding, with fewer passes over the
        (tokens, d_out) tensors: no separate bias copy, no multiply by a scaling of one.

        Shape:
            base: (..., d_out), h: (..., d_in)  ->  (..., d_out)
        """
        if self.dropout and self.training:
            h = F.dropout(h, self.dropout, True)
        hidden = _ACTIVATIONS[self.activation](self.down(h))  # (..., d_hidden)
        weight, bias = self.up.weight, self.up.bias  # (d_out, d_hidden), (d_out,)
        if self.scaling != 1.0:  # scale the small tensors, not the (..., d_out) output
            hidden, bias = hidden * self.scaling, bias * self.scaling
        # a new 2-D tensor (not a view: in-place on a view would add a CopySlices backward)
        out = base.reshape(-1, base.shape[-1]) + bias.to(base.dtype)  # (N, d_out)
        out.addmm_(hidden.reshape(-1, hidden.shape[-1]).to(out.dtype), weight.t().to(out.dtype))
        return out.view(base.shape)


class BottleneckLayer(AdapterLayer):
    """A sub-layer (attention block, FFN, or a Linear) with bottleneck adapters."""

    method = "bottleneck"
    wraps_any_module = True

    def add(self, name: str, config: BottleneckConfig, site: InjectionSite) -> None:
        d_in, d_out = _widths(site, config)
        d_source = d_in if config.mode == "parallel" else d_out
        unit = BottleneckUnit(
            d_in=d_source,
            d_out=d_out,
            d_hidden=config.hidden_size(d_out),
            activation=config.activation,
            dropout=config.dropout,
            scaling=config.effective_scaling,
            mode=config.mode,
        )
        self.add_unit(name, unit)

    def forward_active(self, names: tuple[str, ...], args: tuple, kwargs: dict) -> Any:
        out = self.base_layer(*args, **kwargs)
        y, repack = split_output(out)
        result = y
        for name in names:  # usually one; several active adapters add their deltas
            unit = self.units[name]
            result = unit.add_to(result, args[0] if unit.mode == "parallel" else y)
        return repack(result)

    def forward_mixed(self, route: MixedRoute, args: tuple, kwargs: dict) -> Any:
        out = self.base_layer(*args, **kwargs)
        y, repack = split_output(out)
        batch = route.batch_size
        result = per_sample(y, batch)  # (B, T, d_out)
        for key, names in self.groups(route).items():  # one pass per distinct (mode, act, dropout)
            mode, activation, dropout = key
            source = per_sample(args[0] if mode == "parallel" else y, batch)  # (B, T, d_src)
            slot = self.slots(route, names, y.device)  # (B,)
            dtype = matmul_dtype(source, self.units[names[0]].down.weight)
            w_down, b_down, w_up, b_up, scale = self.stacked(
                (key, dtype), names, lambda n, dtype=dtype: self._stack(n, dtype)
            )
            if dropout and self.training:
                source = F.dropout(source, dropout, True)
            # index_select: the same gather as ``stack[slot]``, several times faster on CPU
            hidden = torch.baddbmm(
                b_down.index_select(0, slot).unsqueeze(1), source, w_down.index_select(0, slot)
            )  # (B, T, h)
            hidden = _ACTIVATIONS[activation](hidden)
            bias = b_up.index_select(0, slot).unsqueeze(1)  # (B, 1, d_out)
            if scale is not None:  # scale the small tensors, not the (B, T, d_out) update
                factor = scale.index_select(0, slot).view(batch, 1, 1)
                hidden, bias = hidden * factor, bias * factor
            result = (result + bias.to(result.dtype)).contiguous()  # new: safe to update in place
            w_up_slot = w_up.index_select(0, slot).to(result.dtype)  # (B, h, d_out)
            result.baddbmm_(hidden.to(result.dtype), w_up_slot)  # += hidden @ W_up
        return repack(result.reshape(y.shape))

    def _stack(self, names: tuple[str, ...], dtype: torch.dtype) -> tuple[Any, ...]:
        """Stacked weights of ``names`` plus a zero (identity) slot, cast to ``dtype`` (casting
        the small stack is cheaper than casting every sample's gathered copy).

        Shapes: w_down (n+1, d_src, h), b_down (n+1, h), w_up (n+1, h, d_out),
        b_up (n+1, d_out), scale (n+1,) (not cast) or None when every adapter's scaling is one;
        h = the largest hidden size (others zero-padded).
        """
        units = [self.units[n] for n in names]
        hidden = max(u.down.out_features for u in units)
        w_down = [pad_to(u.down.weight.t(), hidden, 1) for u in units]
        b_down = [pad_to(u.down.bias, hidden, 0) for u in units]
        w_up = [pad_to(u.up.weight.t(), hidden, 0) for u in units]
        b_up = [u.up.bias for u in units]
        stacks: list[Any] = []
        for parts in (w_down, b_down, w_up, b_up):
            stacks.append(torch.stack([*parts, torch.zeros_like(parts[0])]).to(dtype))
        if all(u.scaling == 1.0 for u in units):
            stacks.append(None)
        else:
            scale = [u.down.weight.new_tensor(u.scaling) for u in units]
            stacks.append(torch.stack([*scale, torch.zeros_like(scale[0])]))
        return tuple(stacks)


def _widths(site: InjectionSite, config: BottleneckConfig) -> tuple[int, int]:
    """``(d_in, d_out)`` of the sub-layer at ``site``."""
    module = site.module
    if config.d_model is not None:
        return config.d_model, config.d_model
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features
    if site.family in _D_MODEL:
        d = _D_MODEL[site.family](site.model)
        return d, d
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise TargetError(
            f"cannot tell the width of {type(module).__name__} for a bottleneck adapter; "
            "pass BottleneckConfig(d_model=...)"
        )
    return linears[0].in_features, linears[-1].out_features


def _family_targets(preset: FamilyPreset, config: AdapterConfig) -> tuple[str, ...]:
    """Houlsby: after the attention output and after the FFN; Pfeiffer / parallel: the FFN."""
    if getattr(config, "placement", None) == "houlsby":
        return (preset.attention_output, preset.feedforward)
    return (preset.feedforward,)


_VIT = {"placement": "houlsby", "reduction_factor": 8}
register_method(
    MethodSpec(
        name="bottleneck",
        config_class=BottleneckConfig,
        layer_class=BottleneckLayer,
        label="bottleneck adapter",
        mergeable=False,
        merge_refusal="a bottleneck is non-linear",
        family_targets=_family_targets,
        defaults={
            "ft_transformer": {"placement": "houlsby", "reduction_factor": 4},
            "timm_vit": _VIT,
            "monai_vit": _VIT,
            "hf_bert": _VIT,
        },
    )
)

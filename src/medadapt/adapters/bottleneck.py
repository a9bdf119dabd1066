"""Bottleneck adapters (Houlsby et al. 2019; Pfeiffer et al. 2021; AdaptFormer, Chen et al. 2022).

A unit computes ``scaling * up(act(down(dropout(h))))``. In *serial* mode ``h`` is the wrapped
sub-layer's output and the result is added to it (a residual bottleneck after the sub-layer); in
*parallel* mode ``h`` is the sub-layer's input and the result is added beside it. ``up`` starts
at zero, so a new adapter changes nothing until trained.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from medadapt.adapters.config import BottleneckConfig
from medadapt.adapters.layer import AdapterLayer, pad_to, per_sample, split_output
from medadapt.adapters.routing import MixedRoute

_ACTIVATIONS = {
    "relu": F.relu,
    "gelu": F.gelu,
    "tanh": torch.tanh,
    "silu": F.silu,
    "identity": lambda t: t,
}


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


class BottleneckLayer(AdapterLayer):
    """A sub-layer (attention block, FFN, or a Linear) with bottleneck adapters."""

    method = "bottleneck"

    def add(self, name: str, config: BottleneckConfig, *, d_in: int, d_out: int) -> None:
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
            result = result + unit(args[0] if unit.mode == "parallel" else y)
        return repack(result)

    def forward_mixed(self, route: MixedRoute, args: tuple, kwargs: dict) -> Any:
        out = self.base_layer(*args, **kwargs)
        y, repack = split_output(out)
        batch = route.batch_size
        delta = torch.zeros_like(per_sample(y, batch))  # (B, T, d_out)
        for key, names in self.groups(route).items():  # one pass per distinct (mode, act, dropout)
            mode, activation, dropout = key
            source = per_sample(args[0] if mode == "parallel" else y, batch)  # (B, T, d_src)
            slot = self.slots(route, names, y.device)  # (B,)
            w_down, b_down, w_up, b_up, scale = self.stacked(key, names, self._stack)
            source = F.dropout(source, dropout, self.training)
            hidden = torch.baddbmm(b_down[slot].unsqueeze(1), source, w_down[slot])  # (B,T,h)
            hidden = _ACTIVATIONS[activation](hidden)
            update = torch.baddbmm(b_up[slot].unsqueeze(1), hidden, w_up[slot])  # (B,T,d_out)
            delta = delta + update * scale[slot].view(batch, 1, 1)
        return repack(y + delta.reshape(y.shape).to(y.dtype))

    def _stack(self, names: tuple[str, ...]) -> tuple[torch.Tensor, ...]:
        """Stacked weights of ``names`` plus a zero (identity) slot.

        Shapes: w_down (n+1, d_src, h), b_down (n+1, h), w_up (n+1, h, d_out),
        b_up (n+1, d_out), scale (n+1,); h = the largest hidden size (others zero-padded).
        """
        units = [self.units[n] for n in names]
        hidden = max(u.down.out_features for u in units)
        w_down = [pad_to(u.down.weight.t(), hidden, 1) for u in units]
        b_down = [pad_to(u.down.bias, hidden, 0) for u in units]
        w_up = [pad_to(u.up.weight.t(), hidden, 0) for u in units]
        b_up = [u.up.bias for u in units]
        scale = [u.down.weight.new_tensor(u.scaling) for u in units]
        stacks = []
        for parts in (w_down, b_down, w_up, b_up, scale):
            stacks.append(torch.stack([*parts, torch.zeros_like(parts[0])]))
        return tuple(stacks)

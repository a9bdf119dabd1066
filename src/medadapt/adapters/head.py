"""Per-adapter copies of a Linear output head.

A head layer keeps the base head and one trainable copy per adapter that asked for it. The copy
starts equal to the base head, so a new adapter still is an identity; with ``out_features``
larger than the base head's, the extra rows are new classes (initialised small) while the old
rows keep the base head's weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from medadapt.adapters.config import AdapterConfig
from medadapt.adapters.layer import AdapterLayer, InjectionSite, innermost, pad_to, per_sample
from medadapt.adapters.methods import MethodSpec, register_method
from medadapt.adapters.routing import MixedRoute
from medadapt.errors import AdapterStateError, ConfigError, TargetError


@dataclass(frozen=True, kw_only=True)
class HeadConfig(AdapterConfig):
    """Head only: no layer inside the backbone changes; a per-adapter copy of the head trains."""

    method: ClassVar[str] = "head"

    def _validate(self) -> None:
        if not self.heads:
            raise ConfigError("method 'head' needs heads=('<head module name>',), got none")


class HeadLayer(AdapterLayer):
    """A Linear head with per-adapter copies."""

    method = "head"

    def __init__(self, base_layer: nn.Module, routing: Any) -> None:
        if not isinstance(innermost(base_layer), nn.Linear):
            raise TargetError(
                "a per-adapter head must be an nn.Linear, got "
                f"{type(innermost(base_layer)).__name__}; "
                "name the final Linear layer (e.g. 'head.linear')"
            )
        super().__init__(base_layer, routing)

    def add(self, name: str, config: AdapterConfig, site: InjectionSite) -> None:
        """A copy of the base head for adapter ``name``, ``config.head_out_features`` wide."""
        base = self.base_layer
        wanted = config.head_out_features
        out = base.out_features if wanted is None else wanted
        if out < base.out_features:
            raise TargetError(
                f"head_out_features={out} is smaller than the base head's {base.out_features} "
                "outputs; new classes can only be added"
            )
        copy = nn.Linear(base.in_features, out, bias=base.bias is not None)
        with torch.no_grad():
            nn.init.normal_(copy.weight, std=0.01)
            copy.weight[: base.out_features] = base.weight
            if copy.bias is not None:
                copy.bias.zero_()
                copy.bias[: base.out_features] = base.bias
        self.add_unit(name, copy)

    def forward_active(self, names: tuple[str, ...], args: tuple, kwargs: dict) -> Any:
        if len(names) > 1:
            raise AdapterStateError(
                f"active adapters {list(names)} each carry their own head; activate only one of "
                "them, or route samples with adapter_ids"
            )
        return self.units[names[0]](*args, **kwargs)

    def forward_mixed(self, route: MixedRoute, args: tuple, kwargs: dict) -> Any:
        names = tuple(n for n in route.vocabulary if n in self.units)
        if not names:
            return self.base_layer(*args, **kwargs)
        x = args[0]
        slot = self.slots(route, names, x.device)  # (B,)
        widths = {self.units[n].out_features for n in names}
        base_width = self.base_layer.out_features
        if widths != {base_width} and (len(widths) > 1 or bool((slot == len(names)).any())):
            raise AdapterStateError(
                "adapters in this mixed batch have heads with different numbers of outputs "
                f"({sorted(widths | {base_width})}); send them in separate batches"
            )
        weight, bias = self.stacked(None, names, self._stack)
        tokens = per_sample(x, route.batch_size)  # (B, T, in)
        out = torch.baddbmm(bias[slot].unsqueeze(1), tokens, weight[slot])  # (B, T, out)
        return out.reshape(*x.shape[:-1], out.shape[-1]).to(x.dtype)

    @torch.no_grad()
    def merge(self, name: str) -> None:
        """Swap the adapter's head into the base head (exactly undone by :meth:`unmerge`)."""
        if self.merged:
            raise AdapterStateError(
                f"adapter {self.merged[0]!r} already replaced this head; unmerge() before "
                f"merging {name!r}"
            )
        copy, base = self.units[name], self.base_layer
        if copy.out_features != base.out_features:
            raise AdapterStateError(
                f"adapter {name!r} adds classes to its head ({copy.out_features} outputs vs "
                f"{base.out_features}); it cannot be merged, use it unmerged"
            )
        self.remember_base()
        base.weight.copy_(copy.weight)
        if base.bias is not None:
            base.bias.copy_(copy.bias)
        self.merged.append(name)

    @torch.no_grad()
    def unmerge(self, name: str) -> None:
        self.unmerge_exactly(name, self.merge)

    def _stack(self, names: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """Transposed weights and biases of ``names`` plus the base head as the last slot
        (zero-padded to the adapters' width; only used when no sample takes the base head).

        Shapes: weight (n+1, in, out), bias (n+1, out).
        """
        heads = [self.units[n] for n in names] + [self.base_layer]
        width = heads[0].out_features
        weight = torch.stack([pad_to(h.weight, width, 0).t() for h in heads])
        bias = torch.stack(
            [
                pad_to(
                    h.bias if h.bias is not None else h.weight.new_zeros(h.out_features), width, 0
                )
                for h in heads
            ]
        )
        return weight, bias


register_method(
    MethodSpec(
        name="head",
        config_class=HeadConfig,
        layer_class=None,  # only the per-adapter head copy (HeadLayer), which every method may add
        label="head-only adapter",
        mergeable=True,
        defaults={family: {} for family in ("ft_transformer", "timm_vit", "monai_vit", "hf_bert")},
    )
)

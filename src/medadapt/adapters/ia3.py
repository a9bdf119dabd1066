"""IA3 (Liu et al. 2022): learned per-channel scales on ``nn.Linear`` layers.

Output-scaled layers (keys, values) compute ``base(x) * l``; input-scaled layers (the FFN's
second layer) compute ``base(x * l)``. ``l`` starts at one (exact identity). Several active
adapters multiply their scales.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

import torch
from torch import nn

from medadapt.adapters.config import AdapterConfig, help_field
from medadapt.adapters.layer import AdapterLayer, InjectionSite, innermost, per_sample
from medadapt.adapters.methods import MethodSpec, register_method
from medadapt.adapters.routing import MixedRoute, Routing
from medadapt.adapters.targets import FamilyPreset, ia3_input_scaled
from medadapt.errors import AdapterStateError, ConfigError, TargetError


@dataclass(frozen=True, kw_only=True)
class IA3Config(AdapterConfig):
    """IA3: learned per-channel scales (Liu et al. 2022), initialised to one.

    Layers named in ``feedforward`` scale their *input* (the FFN's second layer); the others
    scale their output (keys and values).
    """

    method: ClassVar[str] = "ia3"

    feedforward: tuple[str, ...] | None = help_field(
        "Name suffixes of the targets whose input (not output) is scaled; None = preset.", None
    )
    init: str = help_field("'ones' (exact identity) or 'random' (for tests).", "ones")

    def _validate(self) -> None:
        if self.feedforward is not None:
            ff = (self.feedforward,) if isinstance(self.feedforward, str) else self.feedforward
            object.__setattr__(self, "feedforward", tuple(ff))
        if self.init not in ("ones", "random"):
            raise ConfigError(f"init must be 'ones' or 'random', got {self.init=}")


class IA3Unit(nn.Module):
    """One adapter's scale vector for one layer. Shape: scale (d,)."""

    group_key = None

    def __init__(self, size: int, *, init: str) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(size))
        if init == "random":
            nn.init.normal_(self.scale, mean=1.0, std=0.1)


class IA3Layer(AdapterLayer):
    """A Linear layer with IA3 scale vectors on its input or its output."""

    method = "ia3"

    def __init__(self, base_layer: nn.Module, routing: Any, *, input_scaled: bool) -> None:
        if not isinstance(innermost(base_layer), nn.Linear):
            raise TargetError(
                f"ia3 needs nn.Linear layers, got {type(innermost(base_layer)).__name__}; "
                "target the Linear layers inside it"
            )
        super().__init__(base_layer, routing)
        self.input_scaled = input_scaled

    @classmethod
    def build(
        cls, base_layer: nn.Module, routing: Routing, config: IA3Config, site: InjectionSite
    ) -> Self:
        scaled_input = ia3_input_scaled(site.family, config.feedforward, site.name)
        return cls(base_layer, routing, input_scaled=scaled_input)

    def add(self, name: str, config: IA3Config, site: InjectionSite) -> None:
        size = self.base_layer.in_features if self.input_scaled else self.base_layer.out_features
        self.add_unit(name, IA3Unit(size, init=config.init))

    def _product(self, names: tuple[str, ...]) -> torch.Tensor:
        scale = self.units[names[0]].scale
        for name in names[1:]:
            scale = scale * self.units[name].scale
        return scale

    def forward_active(self, names: tuple[str, ...], args: tuple, kwargs: dict) -> Any:
        scale = self._product(names)
        x = args[0]
        if self.input_scaled:
            return self.base_layer(x * scale.to(x.dtype), *args[1:], **kwargs)
        y = self.base_layer(*args, **kwargs)
        return y * scale.to(y.dtype)

    def forward_mixed(self, route: MixedRoute, args: tuple, kwargs: dict) -> Any:
        names = tuple(n for n in route.vocabulary if n in self.units)
        if not names:
            return self.base_layer(*args, **kwargs)
        x = args[0]
        slot = self.slots(route, names, x.device)  # (B,)
        scale = self.stacked(None, names, self._stack)[slot].unsqueeze(1)  # (B, 1, d)
        batch = route.batch_size
        if self.input_scaled:
            scaled = (per_sample(x, batch) * scale.to(x.dtype)).reshape(x.shape)
            return self.base_layer(scaled, *args[1:], **kwargs)
        y = self.base_layer(*args, **kwargs)
        return (per_sample(y, batch) * scale.to(y.dtype)).reshape(y.shape)

    def _stack(self, names: tuple[str, ...]) -> torch.Tensor:
        """Scales of ``names`` plus an all-ones (identity) slot. Shape: (n+1, d)."""
        scales = [self.units[n].scale for n in names]
        return torch.stack([*scales, torch.ones_like(scales[0])])

    @torch.no_grad()
    def merge(self, name: str) -> None:
        if name in self.merged:
            raise AdapterStateError(f"adapter {name!r} is already merged")
        self.remember_base()
        self._rescale(self.units[name].scale)
        self.merged.append(name)

    @torch.no_grad()
    def unmerge(self, name: str) -> None:
        self.unmerge_exactly(name, self.merge)

    def _rescale(self, factor: torch.Tensor) -> None:
        weight, bias = self.base_layer.weight, self.base_layer.bias
        if self.input_scaled:
            weight.mul_(factor.to(weight.dtype).view(1, -1))
        else:
            weight.mul_(factor.to(weight.dtype).view(-1, 1))
            if bias is not None:
                bias.mul_(factor.to(bias.dtype))


def _family_targets(preset: FamilyPreset, config: AdapterConfig) -> tuple[str, ...]:
    """Keys and values (output-scaled) and the FFN's second layer (input-scaled)."""
    return (*preset.ia3_outputs, *preset.ia3_inputs)


register_method(
    MethodSpec(
        name="ia3",
        config_class=IA3Config,
        layer_class=IA3Layer,
        label="IA3 adapter",
        mergeable=True,
        family_targets=_family_targets,
        defaults={family: {} for family in ("ft_transformer", "timm_vit", "monai_vit", "hf_bert")},
    )
)

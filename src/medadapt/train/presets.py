"""Default adapter configs per backbone family (until the adapter method registry lands)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from medadapt.adapters import BottleneckConfig, HeadConfig, IA3Config, LoraConfig
from medadapt.errors import ConfigError

METHODS = ("bottleneck", "lora", "ia3", "head")


def method_spec(method: str) -> str:
    if method not in METHODS:
        raise ConfigError(
            f"--method must be one of {', '.join((*METHODS, 'full'))}; got {method!r}"
        )
    return method


def default_config(
    method: str,
    family: str,
    *,
    heads: Sequence[str] = (),
    layers: Sequence[int] | None = None,
    head_out_features: int | None = None,
) -> Any:
    heads = tuple(heads)
    if family == "ft_transformer":
        return {
            "bottleneck": lambda: BottleneckConfig(
                placement="houlsby", reduction_factor=4, heads=heads
            ),
            "lora": lambda: LoraConfig(r=8, alpha=16, heads=heads),
            "ia3": lambda: IA3Config(heads=heads),
            "head": lambda: HeadConfig(heads=heads),
        }[method_spec(method)]()
    common: dict[str, Any] = {
        "heads": heads,
        "layers": None if layers is None else tuple(layers),
        "head_out_features": head_out_features,
    }
    return {
        "bottleneck": lambda: BottleneckConfig(placement="houlsby", reduction_factor=8, **common),
        "lora": lambda: LoraConfig(r=8, alpha=16, **common),
        "ia3": lambda: IA3Config(**common),
        "head": lambda: HeadConfig(heads=heads, head_out_features=head_out_features),
    }[method_spec(method)]()

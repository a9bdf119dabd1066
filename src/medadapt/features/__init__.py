"""Frozen-feature caching: run a backbone's frozen lower blocks once, train the rest."""

from medadapt.features.cached import (
    FrozenPrefix,
    TrainableSuffix,
    lowest_adapted_block,
    precompute_tokens,
    split_vision_model,
)

__all__ = [
    "FrozenPrefix",
    "TrainableSuffix",
    "lowest_adapted_block",
    "precompute_tokens",
    "split_vision_model",
]

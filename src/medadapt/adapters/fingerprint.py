"""A base model's fingerprint: what an adapter is bound to.

Two parts: ``architecture`` hashes the model class and every canonical parameter/buffer name
with its shape and dtype; ``weights`` hashes the values. Adapter weights and per-adapter head
copies are excluded (the walk is structural), so adding adapters does not change it.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from medadapt.adapters.layer import base_named_tensors


@dataclass(frozen=True)
class BaseFingerprint:
    """Identity of a base model: class, architecture hash, weights hash, parameter count."""

    model_class: str
    architecture: str
    weights: str
    n_parameters: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BaseFingerprint:
        return cls(
            **{k: data[k] for k in ("model_class", "architecture", "weights", "n_parameters")}
        )

    @property
    def short(self) -> str:
        return f"{self.model_class} weights sha256 {self.weights[:12]}"


def _tensor_bytes(tensor: torch.Tensor) -> memoryview:
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    return memoryview(flat.view(torch.uint8).numpy())


def fingerprint_model(model: nn.Module) -> BaseFingerprint:
    """Fingerprint the base model inside ``model`` (adapters and head copies excluded)."""
    tensors = sorted(base_named_tensors(model), key=lambda item: item[0])
    arch = hashlib.sha256(type(model).__qualname__.encode())
    weights = hashlib.sha256()
    n_parameters = 0
    for name, tensor in tensors:
        header = f"{name}|{tuple(tensor.shape)}|{tensor.dtype}\n".encode()
        arch.update(header)
        weights.update(header)
        weights.update(_tensor_bytes(tensor))
        if isinstance(tensor, nn.Parameter):
            n_parameters += tensor.numel()
    return BaseFingerprint(
        model_class=type(model).__qualname__,
        architecture=arch.hexdigest(),
        weights=weights.hexdigest(),
        n_parameters=n_parameters,
    )

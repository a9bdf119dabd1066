"""Model inputs and targets held in memory (what every modality's samples become)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass
class TensorData:
    """In-memory model inputs and targets.

    Shapes: every ``inputs`` tensor (N, ...); y (N,) class indices or float targets.
    """

    inputs: dict[str, torch.Tensor]
    y: torch.Tensor
    adapter_ids: Sequence[str | None] | None = None

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, index: torch.Tensor) -> TensorData:
        ids = None if self.adapter_ids is None else [self.adapter_ids[i] for i in index.tolist()]
        return TensorData({k: v[index] for k, v in self.inputs.items()}, self.y[index], ids)

    def batches(self, batch_size: int, generator: torch.Generator | None = None):
        """Yield ``(inputs, y, adapter_ids)`` batches, shuffled when a generator is given."""
        n = len(self)
        order = torch.randperm(n, generator=generator) if generator is not None else None
        for start in range(0, n, batch_size):
            index = (
                order[start : start + batch_size]
                if order is not None
                else torch.arange(start, min(start + batch_size, n))
            )
            ids = (
                None if self.adapter_ids is None else [self.adapter_ids[i] for i in index.tolist()]
            )
            yield {k: v[index] for k, v in self.inputs.items()}, self.y[index], ids

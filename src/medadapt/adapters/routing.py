"""Which adapter(s) a forward pass uses: one shared state object per adapted model.

Every adapter layer of a model holds a reference to the same :class:`Routing`. It says which
adapters are active, whether all adapters are disabled, and, for a mixed batch, which adapter
each sample uses (:class:`MixedRoute`). The routing is per model, not per thread: run mixed
batches from one thread (the serving micro-batcher does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass(frozen=True)
class MixedRoute:
    """One adapter (or none) per sample.

    ``vocabulary`` lists the distinct adapter names in the batch; ``codes[i]`` is sample i's
    index into it, or ``len(vocabulary)`` for "no adapter".

    Shape:
        codes: (B,) int64
    """

    vocabulary: tuple[str, ...]
    codes: torch.Tensor
    _on_device: dict[torch.device, torch.Tensor] = field(default_factory=dict, compare=False)
    # per-forward memo of derived per-sample tensors (e.g. slot indices shared by many layers)
    memo: dict[Any, torch.Tensor] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_ids(cls, adapter_ids: Sequence[str | None]) -> MixedRoute:
        vocabulary = tuple(sorted({a for a in adapter_ids if a is not None}))
        lookup = {name: i for i, name in enumerate(vocabulary)}
        none_code = len(vocabulary)
        codes = torch.tensor(
            [none_code if a is None else lookup[a] for a in adapter_ids], dtype=torch.long
        )
        return cls(vocabulary=vocabulary, codes=codes)

    @property
    def batch_size(self) -> int:
        return int(self.codes.shape[0])

    def codes_on(self, device: torch.device) -> torch.Tensor:
        if device not in self._on_device:
            self._on_device[device] = self.codes.to(device, non_blocking=True)
        return self._on_device[device]


@dataclass
class Routing:
    """The routing state shared by all adapter layers of one model."""

    active: tuple[str, ...] = ()
    disabled: bool = False
    mixed: MixedRoute | None = None

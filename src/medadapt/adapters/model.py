"""``AdapterModel``: many named adapters on one frozen ``torch.nn.Module``, saved and loaded.

>>> import torch
>>> from torch import nn
>>> from medadapt.adapters import AdapterModel, LoraConfig
>>> base = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> model = AdapterModel(base)
>>> model.add_adapter("site_a", LoraConfig(r=2, targets=["0"]))
>>> model.add_adapter("site_b", LoraConfig(r=2, targets=["0"]))
>>> model.train_adapter("site_a")  # only site_a's LoRA weights now require grad
>>> x = torch.randn(3, 4)
>>> model(x, adapter_ids=["site_a", None, "site_b"]).shape  # one adapter per sample
torch.Size([3, 2])

Layers: :mod:`~medadapt.adapters.core` (the engine) < :mod:`~medadapt.adapters.state` (files)
< this module, so the two methods below delegate downwards and nothing imports upwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medadapt.adapters.core import AdapterCore, check_adapter_name
from medadapt.adapters.state import load_adapter, save_adapter

__all__ = ["AdapterModel", "check_adapter_name"]


class AdapterModel(AdapterCore):
    """A frozen base model carrying any number of named adapters (see :class:`AdapterCore`),
    which it can save to and load from adapter directories (see :mod:`medadapt.adapters.state`).
    """

    def save_adapter(self, name: str, directory: str | Path, **kwargs: Any) -> Path:
        """Write adapter ``name`` to ``directory``; returns the directory. A directory that
        holds an adapter or other files is refused unless ``overwrite=True``
        (:func:`~medadapt.adapters.state.save_adapter`)."""
        return save_adapter(self, name, directory, **kwargs)

    def load_adapter(self, directory: str | Path, **kwargs: Any) -> str:
        """Load the adapter in ``directory``; returns its name
        (:func:`~medadapt.adapters.state.load_adapter`)."""
        return load_adapter(self, directory, **kwargs)

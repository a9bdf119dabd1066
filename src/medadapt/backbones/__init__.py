"""Backbones: the frozen Transformers adapters are trained inside.

Names are imported lazily, so ``import medadapt.backbones.tabular`` does not load timm/MONAI.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FTTransformer": "tabular",
    "MonaiViTClassifier": "vision",
    "architecture_of": "vision",
    "build_from_architecture": "vision",
    "create_vision_backbone": "vision",
    "extend_classifier": "vision",
    "vision_architecture": "vision",
    "load_backbone_weights": "weights",
    "read_state_dict": "weights",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
    return getattr(module, name)

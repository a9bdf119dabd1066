"""medadapt: adapters for frozen medical models, and honest reports of what the data supports.

The public API is imported lazily (``import medadapt`` is instant; torch loads on first use).
The image API lives in the ``medadapt.images`` namespace (``from medadapt import images``);
sample sizes for a model planned on paper in ``medadapt.sample_size``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # adapter engine
    "AdapterModel": "medadapt.adapters",
    "BottleneckConfig": "medadapt.adapters",
    "LoraConfig": "medadapt.adapters",
    "IA3Config": "medadapt.adapters",
    "HeadConfig": "medadapt.adapters",
    "DoraConfig": "medadapt.adapters",
    "TargetSpec": "medadapt.adapters",
    "load_peft_lora": "medadapt.adapters",
    "export_peft": "medadapt.adapters",
    # data
    "read_table": "medadapt.data.tables",
    "TableSchema": "medadapt.data.schema",
    "load_heart_disease": "medadapt.data.heart",
    "load_diabetes_frame": "medadapt.data.diabetes",
    "load_images": "medadapt.data.images",
    # models and training
    "FTTransformer": "medadapt.backbones.tabular",
    "create_vision_backbone": "medadapt.backbones.vision",
    "BaseModel": "medadapt.modalities.bundle",
    "TrainConfig": "medadapt.train.loop",
    "TabularModelConfig": "medadapt.modalities.tabular.model",  # train_base's model_config
    "train_base": "medadapt.tables",
    "adapt": "medadapt.tables",
    "predict": "medadapt.tables",
    "true_labels": "medadapt.tables",
    # evaluation
    "binary_metrics": "medadapt.evaluate.metrics",
    "compute_metrics": "medadapt.evaluate.metrics",
    "paired_difference": "medadapt.evaluate.paired_difference",
    "versus_base": "medadapt.evaluate.versus_base",  # adapt's and evaluate's comparison
    # workflows
    "run_demo": "medadapt.workflows.demo",
    # errors
    "MedadaptError": "medadapt.errors",
}

_NAMESPACES = ("images", "tables", "sample_size")  # submodules: medadapt.images.train_base

__all__ = ["__version__", *sorted([*_EXPORTS, *_NAMESPACES])]


def __getattr__(name: str) -> Any:
    if name in _NAMESPACES:
        return importlib.import_module(f"medadapt.{name}")
    if name not in _EXPORTS:
        raise AttributeError(f"module 'medadapt' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__

"""Tiny adapters for registry tests: a 2-layer MLP base and LoRA adapters on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from medadapt.adapters import AdapterModel, LoraConfig

DATA_SUMMARY = {
    "n_train": 120,
    "n_positive": 80,
    "prevalence": 0.67,
    "group_column": "dataset",
    "group": "VA Long Beach",
}
METRICS = {"auroc": 0.81, "auroc_ci": [0.72, 0.89], "n_test": 40}


def tiny_base(seed: int = 0, width: int = 8) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 2)).eval()


def metadata(**overrides: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "task": "heart disease (binary)",
        "data_summary": dict(DATA_SUMMARY),
        "metrics": dict(METRICS),
        "intended_use": "Research use: triage support at VA Long Beach.",
        "base_model": {"name": "ft-transformer", "trained_on": "Cleveland"},
    }
    meta.update(overrides)
    return {k: v for k, v in meta.items() if v is not None}


def make_adapter(
    directory: Path,
    *,
    seed: int = 1,
    base_seed: int = 0,
    r: int = 2,
    width: int = 8,
    meta: dict[str, Any] | None = None,
    config: Any = None,
) -> Path:
    """Save an adapter (``config``, default LoRA) with non-trivial weights (``seed``) on
    ``tiny_base(base_seed)``."""
    model = AdapterModel(tiny_base(base_seed, width))
    model.add_adapter("site_a", config or LoraConfig(r=r, targets=["0", "2"]))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.adapter_parameters("site_a"):
            param.add_(torch.randn(param.shape, generator=generator) * 0.2)
    return model.save_adapter("site_a", directory, metadata=metadata() if meta is None else meta)


def make_base(
    directory: Path, *, seed: int = 0, columns: tuple[str, ...] = ("age", "bp"),
    **schema_options: Any,
) -> Path:  # fmt: skip
    """Save a tiny tabular base model (what 'train-base' writes) whose weights depend on
    ``seed``, reading numeric ``columns`` (``schema_options``: as 'train-base' takes them,
    e.g. ``positive_above=0``)."""
    import pandas as pd

    from medadapt.backbones.tabular import FTTransformer
    from medadapt.data.schema import TableSchema
    from medadapt.modalities.bundle import BaseModel

    torch.manual_seed(seed)
    values = [[50.0, 61, 70, 45], [120.0, 140, 135, 110], [200.0, 240, 180, 260]]
    frame = pd.DataFrame({**dict(zip(columns, values, strict=False)), "y": [0, 1] * 2})
    model = FTTransformer(
        n_numeric=len(columns), cat_cardinalities=[], d_out=1, d_token=8, n_blocks=1, n_heads=2
    )
    schema = TableSchema.infer(frame, label="y", **schema_options)
    return BaseModel(model=model, kind="tabular", architecture=model.config, schema=schema).save(
        directory
    )


def make_adapter_on_base(
    directory: Path, base_dir: Path, *, seed: int = 1, meta: dict[str, Any] | None = None
) -> Path:
    """Save a LoRA adapter on the base in ``base_dir`` that records the base's path, as
    'medadapt adapt' does."""
    from medadapt.modalities.bundle import BaseModel

    model = AdapterModel(BaseModel.load(base_dir).model)
    model.add_adapter("site_a", LoraConfig(r=2))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.adapter_parameters("site_a"):
            param.add_(torch.randn(param.shape, generator=generator) * 0.2)
    meta = metadata() if meta is None else meta
    meta["base_model"] = {"path": str(Path(base_dir).resolve()), "training_groups": None}
    return model.save_adapter("site_a", directory, metadata=meta)

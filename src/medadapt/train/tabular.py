"""Tabular workflow: train a base FT-Transformer, adapt it to a target group, predict.

>>> # see README.md for a runnable example on the bundled heart-disease data
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from medadapt.adapters import (
    AdapterConfig,
    AdapterModel,
    BottleneckConfig,
    HeadConfig,
    IA3Config,
    LoraConfig,
)
from medadapt.adapters.inject import without_adapters
from medadapt.backbones.tabular import FTTransformer
from medadapt.data.schema import TableSchema
from medadapt.data.splits import stratified_split
from medadapt.errors import ConfigError
from medadapt.train.bundle import BaseModel
from medadapt.train.loop import FitResult, TensorData, TrainConfig, fit, predict_logits, task_loss

METHODS = ("bottleneck", "lora", "ia3", "head", "full")
HEAD = "head.linear"
MIN_ROWS_FOR_EARLY_STOPPING = 20


@dataclass(frozen=True, kw_only=True)
class TabularModelConfig:
    """FT-Transformer size. The paper's default is d_token=192, 3 blocks, 8 heads; medadapt's
    default is smaller (64, 2, 4): hundreds of patients do not need more, and it trains in
    seconds on a laptop CPU."""

    d_token: int = 64
    n_blocks: int = 2
    n_heads: int = 4
    attention_dropout: float = 0.2
    ffn_dropout: float = 0.1
    residual_dropout: float = 0.0


BASE_TRAINING = TrainConfig(lr=1e-3, batch_size=128, epochs=200, patience=16)
ADAPTER_TRAINING = TrainConfig(lr=3e-3, batch_size=64, epochs=200, patience=16)
FULL_TRAINING = TrainConfig(lr=3e-4, batch_size=64, epochs=200, patience=16)
FIXED_EPOCHS_WITHOUT_VALIDATION = 40


def encode(schema: TableSchema, frame: pd.DataFrame, *, with_labels: bool = True) -> TensorData:
    table = schema.encode(frame, with_labels=with_labels)
    y = table.y if table.y is not None else torch.zeros(len(table), dtype=torch.long)
    return TensorData(table.inputs(), y)


def method_config(method: str, *, head: str = HEAD) -> AdapterConfig | None:
    """The default adapter config for ``method`` on the tabular backbone (None for full)."""
    if method == "bottleneck":
        return BottleneckConfig(placement="houlsby", reduction_factor=4, heads=(head,))
    if method == "lora":
        return LoraConfig(r=8, alpha=16, heads=(head,))
    if method == "ia3":
        return IA3Config(heads=(head,))
    if method == "head":
        return HeadConfig(heads=(head,))
    if method == "full":
        return None
    raise ConfigError(f"method must be one of {METHODS}, got {method!r}")


def _split_train_val(
    data: TensorData, labels: np.ndarray, *, val_fraction: float, seed: int
) -> tuple[TensorData, TensorData | None]:
    if len(data) < MIN_ROWS_FOR_EARLY_STOPPING or val_fraction <= 0:
        return data, None
    train_pos, val_pos = stratified_split(labels, test_fraction=val_fraction, seed=seed + 1)
    return data.subset(torch.as_tensor(train_pos)), data.subset(torch.as_tensor(val_pos))


def _fit(model, data, labels, task, config, *, val_fraction, seed, on_epoch) -> tuple:
    train, val = _split_train_val(data, labels, val_fraction=val_fraction, seed=seed)
    if val is None:
        config = TrainConfig(**{**asdict(config), "epochs": FIXED_EPOCHS_WITHOUT_VALIDATION})
    config = TrainConfig(**{**asdict(config), "seed": seed})
    result = fit(model, train, val, loss_fn=task_loss(task), config=config, on_epoch=on_epoch)
    return result, len(train), 0 if val is None else len(val)


def new_model(schema: TableSchema, config: TabularModelConfig) -> FTTransformer:
    return FTTransformer(
        n_numeric=len(schema.numeric_features),
        cat_cardinalities=[f.cardinality for f in schema.categorical_features],
        d_out=schema.n_outputs,
        **asdict(config),
    )


def train_base(
    frame: pd.DataFrame,
    schema: TableSchema,
    *,
    model_config: TabularModelConfig | None = None,
    train_config: TrainConfig = BASE_TRAINING,
    val_fraction: float = 0.15,
    seed: int = 0,
    on_epoch: Callable[[int, float, float | None], None] | None = None,
) -> BaseModel:
    """Train an FT-Transformer on ``frame`` (labelled rows; schema fitted on them)."""
    frame = schema.labelled_rows(frame)
    model_config = model_config or TabularModelConfig()
    torch.manual_seed(seed)
    model = new_model(schema, model_config)
    data = encode(schema, frame)
    result, n_train, n_val = _fit(
        model,
        data,
        data.y.numpy(),
        schema.task,
        train_config,
        val_fraction=val_fraction,
        seed=seed,
        on_epoch=on_epoch,
    )
    training = {
        "n_rows": len(frame),
        "n_train": n_train,
        "n_val": n_val,
        "label_counts": _label_counts(schema, data.y),
        "groups": _group_counts(schema, frame),
        "epochs": result.epochs_run,
        "best_epoch": result.best_epoch,
        "seconds": round(result.seconds, 2),
        "seed": seed,
        "train_config": asdict(train_config),
    }
    return BaseModel(
        model=model,
        kind="tabular",
        architecture=model.config,
        schema=schema,
        training=training,
    )


@dataclass
class Adaptation:
    """The result of adapting a base model to a target group."""

    model: nn.Module  # AdapterModel (adapter methods) or a fine-tuned copy (full)
    name: str
    method: str
    trainable_params: int
    n_train: int
    n_val: int
    fit: FitResult


def adapt(
    base: BaseModel,
    frame: pd.DataFrame,
    *,
    method: str,
    name: str,
    into: AdapterModel | None = None,
    train_config: TrainConfig | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    on_epoch: Callable[[int, float, float | None], None] | None = None,
) -> Adaptation:
    """Train adapter ``name`` (or, for ``full``, a fine-tuned copy) on target rows ``frame``.

    ``into``: an AdapterModel over ``base.model`` to add the adapter to (one model serving many
    adapters); by default a fresh copy of the base is wrapped.
    """
    schema: TableSchema = base.schema
    frame = schema.labelled_rows(frame)
    data = encode(schema, frame)
    config = method_config(method)
    torch.manual_seed(seed)
    if config is None:
        model: nn.Module = without_adapters(base.model)
        model.requires_grad_(True)
        trainable = sum(p.numel() for p in model.parameters())
        train_config = train_config or FULL_TRAINING
    else:
        model = into if into is not None else AdapterModel(without_adapters(base.model))
        model.add_adapter(name, config)
        model.train_adapter(name)
        trainable = model.count_parameters(name)
        train_config = train_config or ADAPTER_TRAINING
    result, n_train, n_val = _fit(
        model,
        data,
        data.y.numpy(),
        schema.task,
        train_config,
        val_fraction=val_fraction,
        seed=seed,
        on_epoch=on_epoch,
    )
    if isinstance(model, AdapterModel):
        model.set_active(None)
        model.requires_grad_(False)
    return Adaptation(
        model=model,
        name=name,
        method=method,
        trainable_params=trainable,
        n_train=n_train,
        n_val=n_val,
        fit=result,
    )


def scores_from_logits(schema: TableSchema, logits: torch.Tensor) -> np.ndarray:
    """Binary: P(positive) (N,); multiclass: probabilities (N, K); regression: values (N,)."""
    if schema.task == "binary":
        return torch.sigmoid(logits[:, 0]).numpy()
    if schema.task == "multiclass":
        return torch.softmax(logits, dim=1).numpy()
    return (logits[:, 0] * schema.label_std + schema.label_mean).numpy()


def predict(
    model: nn.Module,
    schema: TableSchema,
    frame: pd.DataFrame,
    *,
    adapter: str | None = None,
    adapter_ids: Sequence[str | None] | None = None,
) -> np.ndarray:
    """Scores for every row of ``frame`` (labels not needed)."""
    data = encode(schema, frame, with_labels=False)
    if adapter_ids is None and isinstance(model, AdapterModel):
        adapter_ids = [adapter] * len(data)
    if adapter_ids is not None:
        data.adapter_ids = list(adapter_ids)
    return scores_from_logits(schema, predict_logits(model, data))


def true_labels(schema: TableSchema, frame: pd.DataFrame) -> np.ndarray:
    """Class indices, or target values in their original unit for regression."""
    y = schema.encode_labels(frame).numpy()
    if schema.task == "regression":
        return y * schema.label_std + schema.label_mean
    return y


def _label_counts(schema: TableSchema, y: torch.Tensor) -> dict[str, int] | None:
    if schema.task == "regression":
        return None
    counts = np.bincount(y.numpy(), minlength=len(schema.classes))
    return {c: int(n) for c, n in zip(schema.classes, counts, strict=True)}


def _group_counts(schema: TableSchema, frame: pd.DataFrame) -> dict[str, int] | None:
    if schema.group_column is None or schema.group_column not in frame:
        return None
    return {str(k): int(v) for k, v in frame[schema.group_column].value_counts().items()}

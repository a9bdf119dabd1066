"""The training loop: plain PyTorch, seeded, early stopping on a validation split.

Works for any model called as ``model(**inputs)`` (tabular: ``x_num``/``x_cat``; images: ``x``),
optionally with one adapter id per sample (mixed-adapter training). Only parameters that
require grad are optimised; the best epoch's weights (by validation loss) are restored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from medadapt.data.tensors import TensorData
from medadapt.errors import ConfigError
from medadapt.train.optim import make_optimizer

__all__ = ["FitResult", "TensorData", "TrainConfig", "evaluate_loss", "fit", "predict_logits"]


def task_loss(task: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Loss for ``binary`` (one logit), ``multiclass`` (one logit per class), ``regression``."""
    if task == "binary":
        return lambda logits, y: F.binary_cross_entropy_with_logits(logits[:, 0], y.float())
    if task == "multiclass":
        return lambda logits, y: F.cross_entropy(logits, y)
    if task == "regression":
        return lambda logits, y: F.mse_loss(logits[:, 0], y.float())
    raise ConfigError(f"task must be binary, multiclass or regression, got {task=}")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Optimisation settings (defaults suit small clinical tables; ``ma.adapt`` and
    ``images`` use each method's own unless given one): at most ``epochs`` passes over the
    training samples in batches of ``batch_size``, AdamW at learning rate ``lr`` with
    ``weight_decay``, stopping once the validation loss has not improved for ``patience``
    epochs (the best epoch's weights are kept); ``grad_clip``: the gradient norm clipped
    to (None: not clipped); ``seed``: replaced by the ``seed`` argument of ``train_base``
    and ``adapt``."""

    epochs: int = 200
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-5
    patience: int = 16
    seed: int = 0
    grad_clip: float | None = 1.0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {name}={getattr(self, name)}")
        if not self.lr > 0:
            raise ConfigError(f"lr must be positive, got lr={self.lr}")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, got weight_decay={self.weight_decay}")


@dataclass
class FitResult:
    """What happened during training (no data, only numbers)."""

    epochs_run: int
    best_epoch: int
    best_val_loss: float | None
    seconds: float
    history: list[tuple[float, float | None]] = field(default_factory=list)


def _forward(model: nn.Module, inputs: dict, ids: Sequence[str | None] | None) -> torch.Tensor:
    return model(**inputs) if ids is None else model(**inputs, adapter_ids=ids)


@torch.no_grad()
def evaluate_loss(model: nn.Module, data: TensorData, loss_fn, batch_size: int = 512) -> float:
    was_training = model.training
    model.eval()
    total = 0.0
    for inputs, y, ids in data.batches(batch_size):
        total += float(loss_fn(_forward(model, inputs, ids), y)) * len(y)
    model.train(was_training)
    return total / max(len(data), 1)


@torch.no_grad()
def predict_logits(model: nn.Module, data: TensorData, batch_size: int = 512) -> torch.Tensor:
    """Logits for every row, in order, in eval mode. Shape: (N, d_out)"""
    was_training = model.training
    model.eval()
    out = [_forward(model, inputs, ids) for inputs, _, ids in data.batches(batch_size)]
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0)


def fit(
    model: nn.Module,
    train: TensorData,
    val: TensorData | None,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    config: TrainConfig,
    on_epoch: Callable[[int, float, float | None], None] | None = None,
) -> FitResult:
    """Train the parameters of ``model`` that require grad; restore the best epoch."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ConfigError("nothing to train: no parameter requires grad")
    if len(train) == 0:
        raise ConfigError("the training split is empty")
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = make_optimizer(model, lr=config.lr, weight_decay=config.weight_decay)
    best = {"loss": float("inf"), "epoch": 0, "state": None}
    history: list[tuple[float, float | None]] = []
    start = time.perf_counter()
    model.train()
    epoch = 0
    for epoch in range(1, config.epochs + 1):
        running, seen = 0.0, 0
        for inputs, y, ids in train.batches(config.batch_size, generator):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(_forward(model, inputs, ids), y)
            loss.backward()
            if config.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            optimizer.step()
            running += loss.detach().item() * len(y)
            seen += len(y)
        val_loss = evaluate_loss(model, val, loss_fn) if val is not None and len(val) else None
        history.append((running / seen, val_loss))
        if on_epoch is not None:
            on_epoch(epoch, running / seen, val_loss)
        if val_loss is None:
            continue
        if val_loss < best["loss"] - 1e-6:
            best = {
                "loss": val_loss,
                "epoch": epoch,
                "state": [p.detach().clone() for p in params],
            }
        elif epoch - best["epoch"] >= config.patience:
            break
    if best["state"] is not None:
        with torch.no_grad():
            for param, saved in zip(params, best["state"], strict=True):
                param.copy_(saved)
    model.eval()
    return FitResult(
        epochs_run=epoch,
        best_epoch=best["epoch"] if best["state"] is not None else epoch,
        best_val_loss=None if best["state"] is None else best["loss"],
        seconds=time.perf_counter() - start,
        history=history,
    )

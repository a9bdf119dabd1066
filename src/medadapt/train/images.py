"""Image workflow: train a ViT base model, adapt it (also to new classes), predict.

Every image model has one logit per class and trains with cross-entropy; a two-class model's
score is P(second class). The functions take an in-memory
:class:`~medadapt.data.images.ImageDataset` (or a ``subset``) and return models: nothing is
read or written here (files: :mod:`medadapt.workflows.image_jobs`), so a study can call them
once per fraction and seed.

New classes (``adapt(..., new_classes=[...])``): the adapter gets a copy of the head with
``old + new`` outputs (old rows copied from the base). By default (``retention="distill"``)
it trains on all classes' images with cross-entropy *plus* a distillation term that keeps the
old-class logits of every training image close to the frozen base model's (Learning without
Forgetting, Li & Hoiem 2016: weight 3, temperature 2), so the old classes stay separated as
before, and weights the cross-entropy by inverse class frequency, so that a few old-class
images among many new ones are not simply relabelled as new.

>>> # see tests/train/test_image_train.py for runnable examples on synthetic images
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from medadapt.adapters import AdapterModel, without_adapters
from medadapt.backbones.vision import architecture_of, extend_classifier
from medadapt.data.image_files import split_by_file
from medadapt.data.image_schema import ImageSchema
from medadapt.data.images import ImageDataset
from medadapt.errors import ConfigError
from medadapt.features.cached import precompute_tokens, split_vision_model
from medadapt.fileio import sha256_file
from medadapt.train.bundle import BaseModel
from medadapt.train.image_setup import (
    DEFAULT_BACKBONE,
    METHODS,
    RetentionLoss,
    adapter_config,
    balanced_weights,
    check_data,
    extended_classes,
    head_name,
    new_backbone,
    top_layers,
)
from medadapt.train.loop import FitResult, TensorData, TrainConfig, fit, predict_logits, task_loss

__all__ = [
    "METHODS",
    "ImageAdaptation",
    "adapt",
    "extended_classes",
    "logits_of",
    "predict_proba",
    "train_base",
]
RETENTION = ("distill", "none")
BASE_TRAINING = TrainConfig(lr=1e-3, batch_size=32, epochs=40, patience=8, weight_decay=0.05)
ADAPTER_TRAINING = TrainConfig(lr=3e-3, batch_size=32, epochs=60, patience=12)
FULL_TRAINING = TrainConfig(lr=3e-4, batch_size=32, epochs=60, patience=12)
FIXED_EPOCHS_WITHOUT_VALIDATION = 15
MIN_IMAGES_FOR_VALIDATION = 20
OnEpoch = Callable[[int, float, float | None], None] | None


@dataclass
class ImageAdaptation:
    """An adapted image model and how it was trained."""

    model: nn.Module  # AdapterModel (adapter methods) or a fine-tuned copy (full)
    name: str
    method: str
    classes: list[str]
    new_classes: list[str]
    trainable_params: int
    n_train: int
    n_val: int
    fit: FitResult
    feature_cache: dict[str, Any] | None
    retention: str  # the trick used to keep old classes: "distill" or "none"


@torch.no_grad()
def logits_of(model: nn.Module, images: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """Logits in eval mode, in batches (the base model when ``model`` is an AdapterModel
    without active adapters). Shape: (N, K)"""
    return predict_logits(model, TensorData({"x": images}, torch.zeros(len(images))), batch_size)


def _fit(
    model: nn.Module,
    dataset: ImageDataset,
    targets: torch.Tensor,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    config: TrainConfig,
    val_fraction: float,
    seed: int,
    cache_from: int | None,
    on_epoch: OnEpoch,
) -> tuple[FitResult, int, int, dict[str, Any] | None]:
    """Train on a file-grouped split of ``dataset``; with ``cache_from = k``, blocks below k
    run once (frozen-feature cache) and only the top of the model runs per step."""
    n = len(dataset)
    if n >= MIN_IMAGES_FOR_VALIDATION and val_fraction > 0:
        train_idx, val_idx = split_by_file(
            dataset, range(n), test_fraction=val_fraction, seed=seed + 1
        )
    else:
        train_idx, val_idx = np.arange(n), None
        config = replace(config, epochs=min(config.epochs, FIXED_EPOCHS_WITHOUT_VALIDATION))
    module, key, inputs, cache = model, "x", dataset.images, None
    if cache_from is not None:
        prefix, suffix = split_vision_model(model, cache_from)
        start = time.perf_counter()
        inputs = precompute_tokens(prefix, dataset.images, batch_size=128)
        module, key = suffix, "tokens"
        cache = {
            "split_block": cache_from,
            "tokens_mib": round(inputs.numel() * inputs.element_size() / 2**20, 2),
            "seconds": round(time.perf_counter() - start, 2),
        }
    data = TensorData({key: inputs}, targets)
    train = data.subset(torch.as_tensor(train_idx))
    val = None if val_idx is None else data.subset(torch.as_tensor(val_idx))
    result = fit(
        module, train, val, loss_fn=loss_fn, config=replace(config, seed=seed), on_epoch=on_epoch
    )
    return result, len(train), 0 if val is None else len(val), cache


def train_base(
    dataset: ImageDataset,
    *,
    backbone: str = DEFAULT_BACKBONE,
    weights: str | Path | None = None,
    backbone_options: dict[str, Any] | None = None,
    normalize: str | dict[str, Any] | None = "auto",
    freeze_backbone: bool = False,
    train_config: TrainConfig | None = None,
    val_fraction: float = 0.15,
    seed: int = 0,
    loader: dict[str, Any] | None = None,
    on_epoch: OnEpoch = None,
) -> BaseModel:
    """Train a ViT classifier on ``dataset`` (all weights, or only the head with
    ``freeze_backbone``; then the frozen features are computed once). ``normalize``: the
    input mean/std ("auto": the pretrained weights' own, when ``weights`` are given; see
    :mod:`medadapt.backbones.normalize`). ``loader``: the CSV columns the data was read with
    (path_column, label_column, group_column, id_column)."""
    schema = ImageSchema.from_dataset(dataset, **(loader or {}))
    torch.manual_seed(seed)
    model = new_backbone(
        schema, backbone, weights=weights, options=backbone_options, normalize=normalize
    )
    cache_from = None
    if freeze_backbone:
        model.requires_grad_(False)
        model.get_submodule(head_name(model)).requires_grad_(True)
        cache_from = len(model.blocks)
    result, n_train, n_val, cache = _fit(
        model,
        dataset,
        dataset.y,
        loss_fn=task_loss("multiclass"),
        config=train_config or BASE_TRAINING,
        val_fraction=val_fraction,
        seed=seed,
        cache_from=cache_from,
        on_epoch=on_epoch,
    )
    model.requires_grad_(True)
    model.eval()
    training = {
        "n_images": len(dataset),
        "n_train": n_train,
        "n_val": n_val,
        "class_counts": dataset.class_counts(),
        "groups": None if dataset.groups is None else _counts(dataset.groups),
        "backbone": backbone,
        "weights": None
        if weights is None
        else {"file": Path(weights).name, "sha256": sha256_file(weights)},
        "freeze_backbone": freeze_backbone,
        "normalize": architecture_of(model).get("normalize"),
        "feature_cache": cache,
        "epochs": result.epochs_run,
        "best_epoch": result.best_epoch,
        "seconds": round(result.seconds, 2),
        "seed": seed,
        "train_config": asdict(train_config or BASE_TRAINING),
    }
    return BaseModel(
        model=model,
        kind="image",
        architecture=architecture_of(model),
        schema=schema,
        training=training,
    )


def adapt(
    base: BaseModel,
    dataset: ImageDataset,
    *,
    method: str,
    name: str,
    new_classes: Sequence[str] = (),
    top_blocks: int | None = None,
    into: AdapterModel | None = None,
    train_config: TrainConfig | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    retention: str = "distill",
    on_epoch: OnEpoch = None,
) -> ImageAdaptation:
    """Train adapter ``name`` (for ``full``: a fine-tuned copy) on ``dataset``.

    ``dataset.classes`` must be the base classes followed by ``new_classes``. ``top_blocks``:
    adapters only in the top K blocks, trained on cached frozen features of the blocks below
    (``head`` always trains on cached features). ``retention`` (new classes only):
    ``distill`` keeps the base's old-class logits (see the module docstring), ``none`` is
    plain cross-entropy. ``into``: an AdapterModel over ``base.model`` to add the adapter to.
    """
    schema: ImageSchema = base.schema
    classes = extended_classes(schema, new_classes)
    check_data(schema, dataset, classes)
    if retention not in RETENTION:
        raise ConfigError(f"retention must be one of {', '.join(RETENTION)}, got {retention!r}")
    grow = len(classes) > schema.n_classes
    torch.manual_seed(seed)
    if method == "full":
        if top_blocks is not None:
            raise ConfigError(
                "--top-blocks places adapters; full fine-tuning trains every block: drop "
                "--top-blocks or pick an adapter method"
            )
        model: nn.Module = without_adapters(base.model)
        if grow:
            extend_classifier(model, len(classes))
        model.requires_grad_(True)
        trainable, cache_from = sum(p.numel() for p in model.parameters()), None
        config = train_config or FULL_TRAINING
    else:
        model = into if into is not None else AdapterModel(without_adapters(base.model))
        depth = len(model.base_model.blocks)
        layers = top_layers(depth, top_blocks)
        adapter = adapter_config(
            model.family, method, layers=layers, head_out_features=len(classes) if grow else None
        )
        model.add_adapter(name, adapter)
        model.train_adapter(name)
        trainable = model.count_parameters(name)
        cache_from = depth if method == "head" else None if layers is None else layers[0]
        config = train_config or ADAPTER_TRAINING
    if grow and retention == "distill":
        teacher = logits_of(base.model, dataset.images)  # (N, n_old), frozen base
        targets = torch.cat([dataset.y[:, None].float(), teacher], dim=1)
        loss_fn: Callable = RetentionLoss(schema.n_classes, class_weights=balanced_weights(dataset))
    else:
        targets, loss_fn = dataset.y, task_loss("multiclass")
    result, n_train, n_val, cache = _fit(
        model,
        dataset,
        targets,
        loss_fn=loss_fn,
        config=config,
        val_fraction=val_fraction,
        seed=seed,
        cache_from=cache_from,
        on_epoch=on_epoch,
    )
    if isinstance(model, AdapterModel):
        model.set_active(None)
        model.requires_grad_(False)
    model.eval()
    return ImageAdaptation(
        model=model,
        name=name,
        method=method,
        classes=classes,
        new_classes=classes[schema.n_classes :],
        trainable_params=trainable,
        n_train=n_train,
        n_val=n_val,
        fit=result,
        feature_cache=cache,
        retention=retention if grow else "none",
    )


def predict_proba(
    model: nn.Module,
    images: torch.Tensor,
    *,
    adapter: str | None = None,
    adapter_ids: Sequence[str | None] | None = None,
    batch_size: int = 128,
) -> np.ndarray:
    """Class probabilities (softmax), through ``adapter`` or one adapter per image.

    Shape: images (N, C, *spatial) -> (N, K)
    """
    if adapter_ids is None and isinstance(model, AdapterModel):
        adapter_ids = [adapter] * len(images)
    data = TensorData({"x": images}, torch.zeros(len(images)), adapter_ids)
    return torch.softmax(predict_logits(model, data, batch_size).float(), dim=1).numpy()


def _counts(values: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return dict(sorted(out.items()))

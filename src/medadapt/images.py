"""The image API in one namespace: ``from medadapt import images``.

Read labelled images (folders, path CSVs, DICOM, NIfTI, MedMNIST ``.npz``), train a ViT base
model, adapt it (also to new classes, with the retention check) and score it: thin functions
over the modality-independent training (:mod:`medadapt.train.fitting`) for an in-memory
:class:`ImageDataset`; the command line's jobs are in :mod:`medadapt.workflows`.

>>> from medadapt import images
>>> images.ImageSchema(classes=("normal", "nodule"), channels=1, image_size=32).task
'binary'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from medadapt.backbones.normalize import resolve_normalize
from medadapt.backbones.vision import create_vision_backbone, extend_classifier
from medadapt.data.image_files import load_unlabelled, split_by_patient
from medadapt.data.images import ImageDataset, ImageSchema, SkippedFilesWarning, load_images
from medadapt.data.intensity import CT_WINDOWS
from medadapt.data.tensors import TensorData
from medadapt.evaluate.retention import old_class_retention
from medadapt.evaluate.scoring import score_classifier
from medadapt.modalities import modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.modalities.images.options import DEFAULT_BACKBONE, ImageOptions
from medadapt.modalities.images.reading import ImageRead
from medadapt.modalities.images.samples import ImageSamples, SourceInfo
from medadapt.train import fitting
from medadapt.train.fitting import Adaptation
from medadapt.train.loop import TrainConfig, predict_logits

ImageAdaptation = Adaptation
score_images = score_classifier
__all__ = [
    "CT_WINDOWS",
    "ImageAdaptation",
    "ImageDataset",
    "ImageRead",
    "ImageSchema",
    "SkippedFilesWarning",
    "adapt",
    "create_vision_backbone",
    "extend_classifier",
    "load_images",
    "load_unlabelled",
    "logits_of",
    "old_class_retention",
    "predict_proba",
    "resolve_normalize",
    "score_images",
    "split_by_patient",
    "train_base",
]
OnEpoch = Callable[[int, float, float | None], None] | None


def _modality():
    return modality_of("image")


def train_base(
    dataset: ImageDataset,
    *,
    backbone: str = DEFAULT_BACKBONE,
    weights: str | Path | None = None,
    backbone_options: dict[str, Any] | None = None,
    normalize: str | dict[str, Any] | None = "auto",
    freeze_backbone: bool = False,
    train_config: TrainConfig | None = None,
    seed: int = 0,
    loader: dict[str, Any] | None = None,
    on_epoch: OnEpoch = None,
) -> BaseModel:
    """Train a ViT classifier on ``dataset`` (all weights, or only the head with
    ``freeze_backbone``: the frozen features are then computed once). ``normalize``: the
    input mean/std ("auto": the pretrained weights' own when ``weights`` are given).
    ``loader``: the CSV columns the data was read with (path, label, group, id)."""
    schema = ImageSchema.from_dataset(dataset, **(loader or {}))
    options = ImageOptions(
        backbone=backbone,
        weights=weights,
        backbone_options=dict(backbone_options or {}),  # type: ignore[arg-type]
        normalize="none" if normalize is None else normalize,  # type: ignore[arg-type]
        freeze_backbone=freeze_backbone,
    )
    return fitting.train_base(
        _modality(), schema, ImageSamples(dataset), options=options, train_config=train_config,
        seed=seed, freeze_backbone=freeze_backbone, on_epoch=on_epoch,
    )  # fmt: skip


def adapt(
    base: BaseModel,
    dataset: ImageDataset,
    *,
    method: str,
    name: str,
    new_classes: Sequence[str] = (),
    top_blocks: int | None = None,
    into: Any = None,
    train_config: TrainConfig | None = None,
    seed: int = 0,
    retention: str = "distill",
    on_epoch: OnEpoch = None,
) -> Adaptation:
    """Train adapter ``name`` (for ``full``: a fine-tuned copy) on ``dataset``, whose classes
    are the base classes followed by ``new_classes`` (see :mod:`medadapt.train.growth`)."""
    from medadapt.errors import DataError

    classes = _modality().grown_classes(base.schema, new_classes)
    if list(dataset.classes) != classes:
        raise DataError(
            f"the data's classes {list(dataset.classes)} are not the model's {classes}: load "
            "it with classes=<base classes + new classes>"
        )
    base.schema.check(dataset)
    return fitting.adapt(
        _modality(), base, ImageSamples(dataset, SourceInfo(n_source=len(dataset))),
        method=method, name=name, new_classes=new_classes, top_blocks=top_blocks, into=into,
        train_config=train_config, seed=seed, retention=retention, on_epoch=on_epoch,
    )  # fmt: skip


@torch.no_grad()
def logits_of(model: nn.Module, images: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """Logits in eval mode, in batches. Shape: (N, K)"""
    return predict_logits(model, TensorData({"x": images}, torch.zeros(len(images))), batch_size)


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
    from medadapt.adapters import AdapterModel

    if adapter_ids is None and isinstance(model, AdapterModel):
        adapter_ids = [adapter] * len(images)
    data = TensorData({"x": images}, torch.zeros(len(images)), adapter_ids)
    return torch.softmax(predict_logits(model, data, batch_size).float(), dim=1).numpy()

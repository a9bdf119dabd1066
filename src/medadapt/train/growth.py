"""Adding output classes to a trained classifier without forgetting the old ones.

The adapter gets a copy of the head with ``old + new`` outputs (old rows copied from the
base). By default (``retention="distill"``) it trains on all classes' samples with
cross-entropy *plus* a distillation term that keeps the old-class logits of every training
sample close to the frozen base model's (Learning without Forgetting, Li & Hoiem 2016: weight
3, temperature 2), and weights the cross-entropy by inverse class frequency, so that a few
old-class samples among many new ones are not simply relabelled as new.

Also here: adapters in the top K blocks only, trained on cached features of the blocks below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from medadapt.errors import ConfigError, DataError
from medadapt.modalities.base import Modality, Samples
from medadapt.train.loop import predict_logits

RETENTION = ("distill", "none")


@dataclass(frozen=True)
class RetentionLoss:
    """Class-weighted cross-entropy over all classes + ``weight`` x distillation of the
    old-class logits (KL at ``temperature``, scaled by its square).

    ``target`` packs the class index and the frozen base model's logits for the sample;
    ``class_weights`` (K,) balance rare classes (new data often holds few old-class samples).

    Shape:
        logits: (B, n_old + n_new); target: (B, 1 + n_old) -> scalar
    """

    n_old: int
    weight: float = 3.0
    temperature: float = 2.0
    class_weights: torch.Tensor | None = None

    def __call__(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        t = self.temperature
        ce = F.cross_entropy(logits, target[:, 0].long(), weight=self.class_weights)
        teacher = F.log_softmax(target[:, 1:] / t, dim=1)  # (B, n_old)
        student = F.log_softmax(logits[:, : self.n_old] / t, dim=1)
        kl = F.kl_div(student, teacher, log_target=True, reduction="batchmean")
        return ce + self.weight * kl * t * t


def check(modality: Modality, schema: Any, samples: Samples, classes: list[str], retention: str):
    """New classes: a modality that can grow, samples labelled by ``classes``, each new class
    present, a known retention method."""
    if not modality.can_grow():
        raise ConfigError(
            f"--new-classes applies to classifiers that can grow, not {modality.kind}"
        )
    if retention not in RETENTION:
        raise ConfigError(f"retention must be one of {', '.join(RETENTION)}, got {retention!r}")
    counts = samples.class_counts(classes)
    empty = [c for c in classes[len(modality.classes(schema)) :] if counts.get(c, 0) == 0]
    if empty:
        noun = modality.noun
        raise DataError(
            f"new class {empty[0]!r} has no {noun} among those it trains on: add its {noun} "
            "or leave it out of --new-classes"
        )


def refuse_top_blocks(top_blocks: int | None) -> None:
    if top_blocks is not None:
        raise ConfigError(
            "--top-blocks places adapters; full fine-tuning trains every block: drop "
            "--top-blocks or pick an adapter method"
        )


def extend_head(model: nn.Module, n_classes: int) -> None:
    from medadapt.backbones.vision import extend_classifier

    extend_classifier(model, n_classes)


def top_layers(model: nn.Module, top_blocks: int | None) -> tuple[int, ...] | None:
    """The block indices of the top ``top_blocks`` blocks (None: every block)."""
    if top_blocks is None:
        return None
    depth = len(getattr(model, "base_model", model).blocks)
    if isinstance(top_blocks, bool) or not isinstance(top_blocks, int):
        raise ConfigError(f"top_blocks must be an integer, got {top_blocks!r}")
    if not 1 <= top_blocks <= depth:
        raise ConfigError(
            f"--top-blocks must be between 1 and the model's depth {depth}, got {top_blocks}"
        )
    return tuple(range(depth - top_blocks, depth))


def cache_from(model: nn.Module, method: str, layers: tuple[int, ...] | None) -> int | None:
    """Where the frozen-feature cache ends: below the head (``head``), below the first
    adapted block (``--top-blocks``), or nowhere."""
    blocks = getattr(getattr(model, "base_model", model), "blocks", None)
    if blocks is None:
        return None
    if method == "head":
        return len(blocks)
    return None if layers is None else layers[0]


def distillation(modality: Modality, base: Any, samples: Samples, classes: list[str]):
    """``(targets, loss)``: the class index and the frozen base's logits per sample, and the
    :class:`RetentionLoss` with inverse-frequency class weights."""
    schema = base.schema
    data = modality.tensors(schema, samples)
    teacher = predict_logits(base.model, data, 128)  # (N, n_old), the frozen base
    targets = torch.cat([data.y[:, None].float(), teacher], dim=1)
    n_classes = len(classes)
    counts = torch.bincount(data.y, minlength=n_classes).float()
    weights = len(data) / (n_classes * counts.clamp(min=1))
    weights = torch.where(counts > 0, weights, torch.ones_like(weights))
    return targets, RetentionLoss(len(modality.classes(schema)), class_weights=weights)

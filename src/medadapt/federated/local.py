"""What a site does in a round: train the adapter it received on its own samples for a few
epochs (FedProx: pulled towards the received weights), and score an adapter on its held-out
samples. Only weights, counts and metrics come out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from medadapt.adapters import AdapterModel
from medadapt.modalities.base import Modality, Samples
from medadapt.train.fitting import predict, training_config
from medadapt.train.loop import fit, task_loss
from medadapt.workflows.scoring import score_samples

ROUND_METRICS = ("auroc", "accuracy", "balanced_accuracy", "brier")


@dataclass(frozen=True)
class LocalTraining:
    epochs: int
    lr: float | None
    batch_size: int | None
    proximal_mu: float  # 0: plain local training (FedAvg, FedAdam, FedYogi)
    seed: int


def set_weights(model: AdapterModel, name: str, weights: dict[str, torch.Tensor]) -> None:
    model.load_adapter_state_dict(name, weights)


def weights_of(model: AdapterModel, name: str) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.adapter_state_dict(name).items()}


def train_locally(
    modality: Modality,
    model: AdapterModel,
    name: str,
    schema: Any,
    samples: Samples,
    how: LocalTraining,
    *,
    only: str | None = None,
) -> tuple[dict[str, torch.Tensor], float]:
    """Train adapter ``name`` (as it stands) on ``samples`` for ``how.epochs`` epochs (no early
    stopping: every site does the same amount of work per round); ``only``: train just the
    parameters whose name contains it (the head, for personalisation). Returns the new
    weights and the last epoch's mean loss."""
    config = training_config(modality, "adapter", lr=how.lr, batch_size=how.batch_size)
    config = replace(config, epochs=how.epochs, patience=how.epochs, seed=how.seed)
    model.train_adapter(name)
    if only is not None:
        for key, param in model.named_parameters():
            param.requires_grad_(param.requires_grad and only in key)
    anchor = [p.detach().clone() for p in model.parameters() if p.requires_grad]
    loss_fn = task_loss(modality.loss_task(schema))
    if how.proximal_mu > 0:
        loss_fn = _proximal(loss_fn, model, anchor, how.proximal_mu)
    result = fit(model, modality.tensors(schema, samples), None, loss_fn=loss_fn, config=config)
    model.set_active(None)
    model.requires_grad_(False)
    model.eval()
    return weights_of(model, name), float(result.history[-1][0])


def _proximal(loss_fn, model: torch.nn.Module, anchor: list[torch.Tensor], mu: float):
    """FedProx (Li et al. 2020): the task loss plus ``mu/2 ||w - w_received||^2``."""
    params = [p for p in model.parameters() if p.requires_grad]

    def loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        drift = sum(((p - a) ** 2).sum() for p, a in zip(params, anchor, strict=True))
        return loss_fn(logits, y) + 0.5 * mu * drift

    return loss


def score_site(
    modality: Modality,
    model: torch.nn.Module,
    schema: Any,
    samples: Samples,
    *,
    adapter: str | None,
    classes: list[str],
    n_boot: int,
    seed: int,
) -> dict[str, float]:
    """The site's metrics on its held-out samples (with intervals when ``n_boot``): numbers
    only, ready for a MetricRecord."""
    scores = predict(modality, model, schema, samples, adapter=adapter)
    overall = score_samples(modality, schema, samples, scores, classes=classes, by_group=False,
                            n_boot=n_boot, seed=seed)["overall"]  # fmt: skip
    out: dict[str, float] = {"n": float(overall.get("n", len(samples))),
                             "n_positive": float(overall.get("n_positive", np.nan))}  # fmt: skip
    for name in ROUND_METRICS:  # every key at every site (NaN: not defined here)
        out[name] = _number(overall.get(name))
        if n_boot:
            interval = overall.get(f"{name}_ci") or (None, None)
            out[f"{name}_low"], out[f"{name}_high"] = map(_number, interval)
    return out


def _number(value: Any) -> float:
    return float(value) if value is not None and np.isfinite(value) else float("nan")

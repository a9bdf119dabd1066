"""What a site does in a round: train the adapter it received on its own samples for a few
epochs (FedProx: pulled towards the received weights), score an adapter on its held-out
samples, and (final round) compare it with the base alone on those very samples. Only
weights, counts and metrics come out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from medadapt.evaluate.metrics import class_label
from medadapt.modalities.base import Modality, Samples
from medadapt.results import (
    NEVER_CALLED,
    SITE_CLASS_FIGURES,
    SITE_FIGURES,
    SITE_REGRESSION_FIGURES,
    TASKS,
)
from medadapt.train.fitting import predict, training_config
from medadapt.train.loop import fit, task_loss
from medadapt.workflows.scoring import score_samples

CLASS_METRICS = SITE_CLASS_FIGURES  # a classifier's site
REGRESSION_METRICS = SITE_REGRESSION_FIGURES  # a measured outcome's site
ROUND_METRICS = SITE_FIGURES  # every figure a site may send (its card lists them per site)
VERSUS_BASE = "versus_base/"  # the final round's paired difference, shared adapter - base
PERSONAL_VERSUS_BASE = "personal_versus_base/"  # ... the site's personalised adapter - base
BASE_ALONE = "base/"  # the final round's figures of the base alone at the site


def sent_metrics(task: str) -> tuple[str, ...]:
    """The figures a site of a ``task`` model sends (each with its interval in the final
    round): MAE, RMSE and R² for a regression, else :data:`CLASS_METRICS`."""
    return REGRESSION_METRICS if task == "regression" else CLASS_METRICS


def paired_metrics(task: str, *, calibrated: bool = False) -> tuple[str, ...]:
    """What a site's paired comparison with the base alone is on, in order of preference: MAE
    for a regression (lower is better, as ``versus_base`` compares one); for a classifier
    as ``adapt`` compares, AUROC (no threshold: accuracy at 0.5 counts a model that calls
    everyone the commoner outcome right about most patients), and where AUROC cannot be
    compared (fewer than 5 patients of a class) the Brier score, which needs no class of a
    minimum size. ``calibrated``: an adapter recalibrated in the large, whose risks move but
    keep their order (AUROC unchanged), is compared on what it changes: the Brier score (MAE
    for a measured value)."""
    if task == "regression":
        return ("mae",)
    return ("brier",) if calibrated else ("auroc", "brier")


@dataclass(frozen=True)
class LocalTraining:
    epochs: int
    lr: float | None
    batch_size: int | None
    proximal_mu: float  # 0: plain local training (FedAvg, FedAdam, FedYogi)
    seed: int


@dataclass
class Trainable:
    """What a federated run trains: adapter ``adapter`` of an AdapterModel, or (``adapter``
    None: full-model FedAvg) every weight of ``model``."""

    model: nn.Module
    adapter: str | None

    def weights(self) -> dict[str, torch.Tensor]:
        state = (self.model.state_dict() if self.adapter is None
                 else self.model.adapter_state_dict(self.adapter))  # fmt: skip
        return {k: v.detach().clone() for k, v in state.items()}

    def load(self, weights: dict[str, torch.Tensor]) -> None:
        if self.adapter is None:
            self.model.load_state_dict(weights)
        else:
            self.model.load_adapter_state_dict(self.adapter, weights)

    def unfreeze(self, only: str | None = None) -> None:
        if self.adapter is None:
            self.model.requires_grad_(True)
        else:
            self.model.train_adapter(self.adapter)
        if only is not None:
            for key, param in self.model.named_parameters():
                param.requires_grad_(param.requires_grad and only in key)

    def freeze(self) -> None:
        if self.adapter is not None:
            self.model.set_active(None)
        self.model.requires_grad_(False)
        self.model.eval()


def train_locally(
    modality: Modality,
    trainable: Trainable,
    schema: Any,
    samples: Samples,
    how: LocalTraining,
    *,
    only: str | None = None,
) -> tuple[dict[str, torch.Tensor], float]:
    """Train ``trainable`` (as it stands) on ``samples`` for ``how.epochs`` epochs (no early
    stopping: every site does the same amount of work per round); ``only``: train just the
    parameters whose name contains it (the head, for personalisation). Returns the new
    weights and the last epoch's mean loss."""
    which = "full" if trainable.adapter is None else "adapter"
    config = training_config(modality, which, lr=how.lr, batch_size=how.batch_size)
    config = replace(config, epochs=how.epochs, patience=how.epochs, seed=how.seed)
    trainable.unfreeze(only)
    model = trainable.model
    anchor = [p.detach().clone() for p in model.parameters() if p.requires_grad]
    loss_fn = task_loss(modality.loss_task(schema))
    if how.proximal_mu > 0:
        loss_fn = _proximal(loss_fn, model, anchor, how.proximal_mu)
    result = fit(model, modality.tensors(schema, samples), None, loss_fn=loss_fn, config=config)
    trainable.freeze()
    return trainable.weights(), float(result.history[-1][0])


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
    return site_metrics(modality, schema, samples, scores, classes=classes, n_boot=n_boot,
                        seed=seed)  # fmt: skip


def paired_with_base(
    task: str,
    labels: Any,
    scores: np.ndarray,
    base_scores: np.ndarray,
    *,
    n_boot: int,
    seed: int,
    unit: str = "patient",
    patients: Any = None,
    metrics: Sequence[str] | None = None,
) -> dict[str, float]:
    """The shared adapter's first :func:`paired_metrics` figure that can be compared (AUROC,
    else the Brier score; MAE for a regression) minus the base alone's on the same held-out
    samples, with a paired bootstrap 95% CI
    (:func:`~medadapt.evaluate.paired_difference.paired_difference`): ``{"auroc",
    "auroc_low", "auroc_high"}`` (``brier...``, ``mae...``), NaN where nothing can be
    compared (no resamples; too few samples). Computed at the site, where both models' scores
    are: only the difference and its interval are sent.

    ``scores``: the task scores (P(positive), (N, K) probabilities for several classes, or
    the predicted values); ``metrics``: those of :func:`paired_metrics` to try (the site's,
    those it reported: its AUROC needs 5 patients of each class, where the paired
    comparison counts samples)."""
    if task not in TASKS or not n_boot:
        return not_compared(task)
    from medadapt.evaluate.paired_difference import paired_difference

    for metric in paired_metrics(task) if metrics is None else metrics:
        diff = paired_difference(labels, scores, base_scores, metric=metric, n_boot=n_boot,
                                 seed=seed, unit=unit, patients=patients)  # fmt: skip
        if diff.value is not None and diff.ci is not None:
            return {metric: float(diff.value), f"{metric}_low": float(diff.ci[0]),
                    f"{metric}_high": float(diff.ci[1])}  # fmt: skip
    return not_compared(task)


def not_compared(task: str = "binary") -> dict[str, float]:
    """:func:`paired_with_base`'s keys where nothing is compared (NaN: null in JSON)."""
    metric = paired_metrics(task)[0]
    return {metric: float("nan"), f"{metric}_low": float("nan"),
            f"{metric}_high": float("nan")}  # fmt: skip


def site_metrics(
    modality: Modality,
    schema: Any,
    samples: Samples,
    scores: np.ndarray,
    *,
    classes: list[str],
    n_boot: int,
    seed: int,
) -> dict[str, float]:
    """:func:`sent_metrics` of ``scores`` on ``samples`` (every key of the task; NaN where
    undefined), with the counts they rest on (a classifier's: how many have the outcome)."""
    overall = score_samples(modality, schema, samples, scores, classes=classes, by_group=False,
                            n_boot=n_boot, seed=seed)["overall"]  # fmt: skip
    task = modality.task(schema)
    n = float(overall.get("n", len(samples)))
    out: dict[str, float] = {"n": n}
    if task != "regression":
        out["n_positive"] = float(overall.get("n_positive", np.nan))
        out.update(_shares(task, samples.labels, len(classes)))
    if task == "multiclass" and overall.get(NEVER_CALLED):  # a class never called here (its
        out[NEVER_CALLED] = list(overall[NEVER_CALLED])  # means hide it): names, as adapt's
    # patients (an id column): n counts their rows, resampled together
    out["n_patients"] = float(overall.get("n_patients", n))
    for name in sent_metrics(task):  # every key at every site (NaN: not defined here)
        out[name] = _number(overall.get(name))
        if n_boot:
            interval = overall.get(f"{name}_ci") or (None, None)
            out[f"{name}_low"], out[f"{name}_high"] = map(_number, interval)
    return out


def _shares(task: str, labels: Any, n_classes: int) -> dict[str, float]:
    """What giving every held-out patient the site's own outcome shares would score: the
    Brier score of those shares (``shares_brier``: p(1 - p) for two classes, 1 - the sum of
    the squared shares for several, as ``adapt`` judges a Brier score), and, for several
    classes, the commonest class and how many have it (what calling everyone that class
    would score) and the rarest and how many have it (what an AUROC lacks). NaN at a site
    without samples: every site sends every key (Flower's strategies refuse replies whose
    keys differ)."""
    y = np.asarray(labels, dtype=int)
    out = {"shares_brier": float("nan")}
    if task == "multiclass":
        out |= {"commonest": float("nan"), "n_commonest": float("nan"), "fewest": float("nan"),
                "n_fewest": float("nan")}  # fmt: skip
    if not len(y):
        return out
    counts = np.bincount(y, minlength=max(n_classes, 2))
    shares = counts / len(y)
    if task == "multiclass":
        out["shares_brier"] = float(1 - (shares**2).sum())
        out["commonest"], out["n_commonest"] = float(counts.argmax()), float(counts.max())
        # the class an AUROC lacks, where one has too few (a trial was told "one of the
        # classes", at every site alike)
        out["fewest"], out["n_fewest"] = float(counts.argmin()), float(counts.min())
    else:
        out["shares_brier"] = float(shares[1] * shares[0])
    return out


def on_the_wire(figures: dict[str, Any], classes: Sequence[str], task: str) -> dict[str, Any]:
    """``figures`` as a Flower record carries them: for several classes, the classes never
    called (:data:`~medadapt.results.NEVER_CALLED`, names) as a 0/1 flag per class in the
    order of ``classes``, sent by every site (Flower refuses replies whose keys differ); the
    names stay in what the site keeps.

    >>> on_the_wire({"n": 60.0, NEVER_CALLED: ["class '2'"]}, ["0", "1", "2"], "multiclass")
    {'n': 60.0, 'never_called': [0, 0, 1]}
    """
    out = {key: value for key, value in figures.items() if key != NEVER_CALLED}
    if task == "multiclass":
        named = set(figures.get(NEVER_CALLED) or ())
        out[NEVER_CALLED] = [int(class_label(c) in named) for c in classes]
    return out


def never_called_names(sent: Any, classes: Sequence[str]) -> list[str]:
    """The classes a site's model never called, by name: from the flags a site sends
    (:func:`on_the_wire`), or the names a reference scored here already holds.

    >>> never_called_names([0, 0, 1], ["0", "1", "2"]), never_called_names(["class '1'"], [])
    (["class '2'"], ["class '1'"])
    """
    if not isinstance(sent, list | tuple):
        return []
    if all(isinstance(value, str) for value in sent):
        return list(sent)
    labels = classes or [str(index) for index in range(len(sent))]  # a base naming none
    return [class_label(c) for c, flag in zip(labels, sent, strict=False) if flag]


def _number(value: Any) -> float:
    return float(value) if value is not None and np.isfinite(value) else float("nan")

"""A site's personalised adapter (FedPer / FedRep style, or recalibration in the large) and
what the site keeps after the rounds, in its own folder, never sent: the federated adapter as
it arrived and its personalised one, saved as ordinary adapters that ``predict``,
``evaluate``, ``serve`` and the registry take.

Recalibration is folded into the adapter's own head: its bias moves by the shift (every
adapter carries its own copy of the head), so the saved adapter's predictions are exactly the
recalibrated ones, with no step outside the model to forget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medadapt.errors import ConfigError
from medadapt.evaluate.recalibration import fit_in_the_large
from medadapt.federated.config import FederatedRun, personal_meaning
from medadapt.federated.local import LocalTraining, Trainable, train_locally
from medadapt.federated.records import adapter_record
from medadapt.federated.sites import SiteData
from medadapt.fileio import atomic_write_bytes, staged_directory
from medadapt.modalities.base import Modality, Samples
from medadapt.train.fitting import predict
from medadapt.workflows.adapt import SPLIT_FILE
from medadapt.workflows.naming import slug

PERSONAL_EPOCHS = 10  # a site tunes the federated adapter this long to personalise it
SHARED_FOLDER = "federated"  # a deployed site's copy of the shared adapter, in its --out
PERSONAL_FOLDER = "personalised"


@dataclass(frozen=True)
class Personalised:
    """A site's personalised adapter weights and what its card says of them."""

    weights: dict[str, torch.Tensor]
    details: dict[str, Any]


def personalise(run: FederatedRun, modality: Modality, schema: Any, trained: Trainable,
                train: Samples, index: int) -> Personalised:  # fmt: skip
    """``trained``'s adapter (the shared one, as received) personalised on the site's
    training samples as ``run.personalise`` says; ``trained`` is left as it was."""
    shared = trained.weights()
    if run.personalise == "recalibrate":
        fitted = predict(modality, trained.model, schema, train, adapter=trained.adapter)
        scale = "regression" if modality.task(schema) == "regression" else (
            "binary" if np.ndim(fitted) == 1 else "classes")  # fmt: skip
        shift = fit_in_the_large(fitted, train.labels, scale)
        offset = modality.logit_offset(schema, scale, shift.offset)
        head = modality.heads(trained.model)[0]
        weights = fold_into_head(shared, head, offset)
        details = {"how": "recalibrate", "scale": scale,
                   "shift": np.atleast_1d(shift.offset).round(6).tolist()}  # fmt: skip
        return Personalised(weights, details)
    epochs = max(run.local_epochs, PERSONAL_EPOCHS)
    how = LocalTraining(epochs=epochs, lr=run.lr, batch_size=run.batch_size, proximal_mu=0.0,
                        seed=run.seed + index)  # fmt: skip
    only = "head" if run.personalise == "head" else None
    weights, _loss = train_locally(modality, trained, schema, train, how, only=only)
    trained.load(shared)
    return Personalised(weights, {"how": run.personalise, "epochs": epochs})


def fold_into_head(weights: dict[str, torch.Tensor], head: str,
                   offset: np.ndarray) -> dict[str, torch.Tensor]:  # fmt: skip
    """``weights`` with ``offset`` added to the bias of the adapter's copy of ``head``."""
    key = f"{head}.bias"
    if key not in weights:
        raise ConfigError(
            f"the adapter's head {head!r} has no bias to recalibrate: choose another --personalise"
        )
    bias = weights[key]
    if bias.shape != (len(offset),):
        raise ConfigError(
            f"the adapter's head {head!r} has {bias.numel()} outputs, the recalibration "
            f"{len(offset)}: choose another --personalise"
        )
    return {**weights, key: bias + torch.as_tensor(offset, dtype=bias.dtype)}


def site_folder(site: str) -> str:
    """A site's folder name, the same slug its adapters are named by (``VA Long Beach`` ->
    ``va_long_beach``)."""
    return slug(site)


@dataclass(frozen=True)
class Kept:
    """What a site's final round scored, to be kept with the adapters."""

    site: str
    data: Path
    shared: dict[str, float]
    base: dict[str, float]
    personal: dict[str, float] | None = None
    # the columns kept with --allow-leak on the site's rows (Leak.to_json, never a value)
    leaks: list[dict[str, Any]] = field(default_factory=list)
    # the shared adapter against the base alone, paired on the site's held-out samples
    # (verdicts.site_versus_base; None where not compared)
    versus_base: dict[str, Any] | None = None
    # the site's personalised adapter against the base alone, as ``versus_base``
    personal_versus_base: dict[str, Any] | None = None


def keep_at_site(folder: Path, run: FederatedRun, data: SiteData, trained: Trainable,
                 kept: Kept, personalised: Personalised | None, *,
                 with_shared: bool) -> None:  # fmt: skip
    """Save the site's adapters in ``folder`` (created or replaced whole), each with the
    site's split: the shared one as received in ``federated/`` and the personalised one in
    ``personalised/``; without ``with_shared`` (a simulation's server saved the shared one)
    ``folder`` is the personalised adapter."""
    site = data.sites[kept.site]
    summary, _record, raw = data.modality.adapter_split(
        kept.data, data.samples, site.train, site.test, seed=run.seed,
        test_fraction=run.test_fraction, group_column=run.group_column,
        group=kept.site if run.group_column else None,
    )  # fmt: skip
    counts = {"n_train": len(site.train), "n_test": len(site.test), "site": kept.site}
    if run.group_column:  # the group it is for, where adapt records it
        counts.update(group_column=run.group_column, group=kept.site)
    wanted = []
    if with_shared:
        wanted.append((SHARED_FOLDER, trained.adapter, trained.weights(), kept.shared,
                       {}, kept.versus_base))  # fmt: skip
    if personalised is not None:
        meaning = personal_meaning(run.personalise, data.modality.task(data.base.schema))
        extra = {"personalised": {"site": kept.site, "meaning": meaning, **personalised.details}}
        where = PERSONAL_FOLDER if with_shared else "."  # alone: the folder is the adapter
        name = personal_name(trained.adapter, kept.site, run.personalise)
        wanted.append((where, name, personalised.weights, kept.personal, extra,
                       kept.personal_versus_base))  # fmt: skip
    owned = (SHARED_FOLDER, PERSONAL_FOLDER) if with_shared else ()  # an earlier run's go
    with staged_directory(folder, owned) as staged:
        for where, name, weights, metrics, extra, versus_base in wanted:
            record = adapter_record(run, data.modality, data.base, trained, split=summary,
                                    metrics=metrics, base_metrics=kept.base,
                                    versus_base=versus_base, allowed_leaks=kept.leaks,
                                    data_summary=counts, extra=extra)  # fmt: skip
            _save_as(trained, name, weights, staged / where, record.to_json())
            atomic_write_bytes(staged / where / SPLIT_FILE, raw)


def personal_name(shared: str, site: str, how: str) -> str:
    """A site's personalised adapter's name: ``federated_hungary_recalibrate`` (each site's
    is its own adapter in a registry, not a version of the shared one)."""
    return f"{shared}_{slug(site)}_{how}"


def _save_as(trained: Trainable, name: str, weights: dict[str, torch.Tensor], folder: Path,
             metadata: dict[str, Any]) -> None:  # fmt: skip
    """Save ``weights`` (for ``trained``'s adapter) as adapter ``name``."""
    model = trained.model
    if name == trained.adapter:
        shared = trained.weights()
        trained.load(weights)
        model.save_adapter(name, folder, metadata=metadata, overwrite=True)  # --out checked
        trained.load(shared)
        return
    model.add_adapter(name, model.configs[trained.adapter])
    try:
        model.load_adapter_state_dict(name, weights)
        model.save_adapter(name, folder, metadata=metadata, overwrite=True)  # --out checked
    finally:
        model.delete_adapter(name)

"""Personalised models: one base model for everyone, one adapter per patient group.

Each group's adapter is trained on that group's training rows only; base and adapter are
compared on the group's held-out rows. All adapters live in one model, so a mixed batch of
patients from different groups is served in a single forward pass.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medadapt.adapters import AdapterModel
from medadapt.data.schema import TableSchema
from medadapt.data.splits import stratified_split
from medadapt.data.tables import group_labels
from medadapt.evaluate.metrics import compute_metrics, headline_metric
from medadapt.evaluate.paired_difference import paired_difference
from medadapt.modalities.bundle import BaseModel
from medadapt.tables import TabularModelConfig, adapt, predict, train_base, true_labels
from medadapt.workflows.naming import slug


def run_personalisation(
    frame: pd.DataFrame,
    schema: TableSchema,
    *,
    group_column: str,
    groups: Sequence[str] | None = None,
    method: str = "bottleneck",
    test_fraction: float = 0.3,
    seed: int = 0,
    n_boot: int = 1000,
    model_config: TabularModelConfig | None = None,
    out_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Base on all groups' training rows, then one ``method`` adapter per group."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    frame = schema.labelled_rows(frame)
    strata = group_labels(frame[group_column])
    groups = list(groups or sorted(set(strata.tolist())))
    train_pos, test_pos = stratified_split(strata, test_fraction=test_fraction, seed=seed)
    train, test = frame.iloc[train_pos], frame.iloc[test_pos]
    train_groups, test_groups = strata[train_pos], strata[test_pos]
    say("training the shared base model on every group")
    base = train_base(train, schema, model_config=model_config, seed=seed)
    served = AdapterModel(base.model)
    result: dict[str, Any] = {
        "task": schema.task,
        "label": schema.label,
        "group_column": group_column,
        "method": method,
        "base": {"n_train": base.training["n_train"] + base.training["n_val"]},
        "groups": {},
    }
    for group in groups:
        say(f"adapter for {group_column} = {group}")
        group_train = train[train_groups == group]
        group_test = test[test_groups == group]
        result["groups"][group] = _group_adapter(
            base, served, schema, group, group_train, group_test, method=method, seed=seed,
            n_boot=n_boot, out_dir=out_dir,
        )  # fmt: skip
    result["mixed_batch_max_abs_diff"] = _mixed_batch_difference(
        served, schema, test, test_groups.tolist(), groups, method
    )
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _group_adapter(
    base: BaseModel,
    served: AdapterModel,
    schema: TableSchema,
    group: str,
    group_train: pd.DataFrame,
    group_test: pd.DataFrame,
    *,
    method: str,
    seed: int,
    n_boot: int,
    out_dir: Path | None,
) -> dict[str, Any]:
    """Train (and save, with ``out_dir``) ``group``'s adapter into ``served``; compare it with
    the base model on the group's held-out rows."""
    name = f"{slug(group)}_{method}"
    with warnings.catch_warnings():  # by design here: the shared base trained on every
        # group's training rows, each group's adapter personalises it on its own (FedPer-like)
        warnings.filterwarnings("ignore", "the base model trained on ", UserWarning)
        adaptation = adapt(base, group_train, method=method, name=name, into=served, seed=seed)
    if out_dir is not None:
        served.save_adapter(name, out_dir / "adapters" / name, overwrite=True)  # a re-run's
    y = true_labels(schema, group_test)
    before = predict(base.model, schema, group_test)
    after = predict(served, schema, group_test, adapter=name)
    options = {"n_boot": n_boot, "seed": seed}
    main_metric = headline_metric(schema.task)
    difference = paired_difference(y, after, before, metric=main_metric, **options)
    return {
        "n_train": len(group_train),
        "n_test": len(group_test),
        "trainable_params": adaptation.trainable_params,
        "base_only": compute_metrics(schema.task, y, before, **options),
        method: compute_metrics(schema.task, y, after, **options),
        "difference": {
            "metric": main_metric,
            "value": difference.value,
            "ci": difference.ci,
            "sentence": difference.sentence(f"{method} adapter", "base model")
            + (" Keep the base model for this group." if difference.verdict == "worse" else ""),
        },
    }


def _mixed_batch_difference(
    served: AdapterModel,
    schema: TableSchema,
    test: pd.DataFrame,
    test_groups: list[str],
    groups: list[str],
    method: str,
) -> float:
    """Largest difference between one forward pass over a batch mixing every group's patients
    (each routed to its group's adapter) and the first few patients scored one at a time."""
    names = [f"{slug(g)}_{method}" for g in groups]
    routed = [names[groups.index(g)] if g in groups else None for g in test_groups]
    mixed = predict(served, schema, test, adapter_ids=routed)
    separately = np.concatenate(
        [
            predict(served, schema, test.iloc[[i]], adapter_ids=[routed[i]])  # None: no adapter
            for i in range(min(8, len(test)))
        ]
    )
    return float(np.max(np.abs(mixed[: len(separately)] - separately)))

"""Site adaptation: a base model from source groups, and one adapter per target group,
compared with the alternatives a clinical team would consider.

Strategies (keys of the results): ``base_only`` (the base model as is), ``head_only``,
``bottleneck``, ``lora`` (adapters on the frozen base), ``full_finetune`` (all weights, a copy),
``scratch_local`` (a new model on the target group alone) and ``pooled`` (a new model on source +
target training rows). Each target group's test rows are held out from every strategy's
training and early stopping.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medadapt.adapters import AdapterModel
from medadapt.data.schema import TableSchema
from medadapt.data.splits import positions_digest, stratified_split
from medadapt.evaluate.groups import evaluate_groups
from medadapt.evaluate.metrics import compute_metrics
from medadapt.modalities.bundle import BaseModel
from medadapt.modalities.tabular.samples import subgroup_columns
from medadapt.tables import (
    TabularModelConfig,
    adapt,
    predict,
    train_base,
    true_labels,
)

STRATEGIES = (
    "base_only",
    "head_only",
    "bottleneck",
    "lora",
    "full_finetune",
    "scratch_local",
    "pooled",
)
_ADAPTER_METHOD = {"head_only": "head", "bottleneck": "bottleneck", "lora": "lora"}
Progress = Callable[[str], None]


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "group"


@dataclass
class SiteStudyConfig:
    """How the comparison is run."""

    group_column: str
    source_groups: Sequence[str]
    target_groups: Sequence[str]
    strategies: Sequence[str] = STRATEGIES
    test_fraction: float = 0.4
    source_test_fraction: float = 0.2
    seed: int = 0
    n_boot: int = 1000
    threshold: float = 0.5
    model: TabularModelConfig = field(default_factory=TabularModelConfig)


def split_frame(
    frame: pd.DataFrame, schema: TableSchema, *, test_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    labelled = schema.labelled_rows(frame)
    labels = (
        labelled[schema.label]
        if schema.positive_above is None
        else (labelled[schema.label] > schema.positive_above)
    )
    train, test = stratified_split(labels.to_numpy(), test_fraction=test_fraction, seed=seed)
    return labelled.iloc[train], labelled.iloc[test]


def _model_bytes(model: Any) -> int:
    return int(sum(p.numel() * p.element_size() for p in model.parameters()))


def _score(schema: TableSchema, frame: pd.DataFrame, model: Any, adapter: str | None, cfg):
    scores = predict(model, schema, frame, adapter=adapter)
    return compute_metrics(
        schema.task,
        true_labels(schema, frame),
        scores,
        n_boot=cfg.n_boot,
        seed=cfg.seed,
        threshold=cfg.threshold,
    ), scores


def run_site_study(
    frame: pd.DataFrame,
    schema: TableSchema,
    config: SiteStudyConfig,
    *,
    out_dir: Path,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train the base on the source groups, every strategy per target group; return results
    (JSON-ready; counts and metrics only) and save adapters under ``out_dir/adapters``."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    column = config.group_column
    source = frame[frame[column].isin(config.source_groups)]
    source_train, source_test = split_frame(
        source, schema, test_fraction=config.source_test_fraction, seed=config.seed
    )
    say(f"training the base model on {', '.join(config.source_groups)}")
    base = train_base(source_train, schema, model_config=config.model, seed=config.seed)
    base.save(out_dir / "base")
    served = AdapterModel(base.model)  # one model serving every adapter
    curves: dict[str, Any] = {}
    source_metrics = evaluate_groups(
        schema.task,
        true_labels(schema, source_test),
        predict(base.model, schema, source_test),
        subgroup_columns(source_test, group_column=column),
        n_boot=config.n_boot,
        seed=config.seed,
        threshold=config.threshold,
    )
    results: dict[str, Any] = {
        "base": {
            "trained_on": list(config.source_groups),
            **{k: base.training[k] for k in ("n_train", "n_val", "epochs", "seconds")},
            "n_test": len(source_test),
            "source_test": source_metrics,
        },
        "centres": {},
        "forgetting": {},
        "splits": {},
    }
    for target in config.target_groups:
        rows = frame[frame[column] == target]
        target_train, target_test = split_frame(
            rows, schema, test_fraction=config.test_fraction, seed=config.seed
        )
        results["splits"][target] = {
            "n_train": len(target_train),
            "n_test": len(target_test),
            "test_rows_digest": positions_digest(target_test.index.to_numpy()),
        }
        per_strategy: dict[str, Any] = {}
        forgetting: dict[str, Any] = {}
        curves[target] = {"y": true_labels(schema, target_test)}
        for strategy in config.strategies:
            say(f"{target}: {strategy}")
            outcome = _run_strategy(
                strategy,
                base,
                served,
                schema,
                source_train,
                target_train,
                target,
                config,
                out_dir,
            )
            metrics, scores = _score(
                schema, target_test, outcome["model"], outcome["adapter"], config
            )
            curves[target][strategy] = scores
            metrics.update(
                n_train=outcome["n_train"],
                n_test=len(target_test),
                trainable_params=outcome["trainable_params"],
                adapter_bytes=outcome["adapter_bytes"],
                train_seconds=round(outcome["seconds"], 2),
            )
            if strategy in ("base_only", "bottleneck"):
                metrics["subgroups"] = evaluate_groups(
                    schema.task,
                    curves[target]["y"],
                    scores,
                    subgroup_columns(target_test),
                    n_boot=config.n_boot,
                    seed=config.seed,
                    threshold=config.threshold,
                )["subgroups"]
            per_strategy[strategy] = metrics
            if strategy in ("full_finetune", "pooled", "bottleneck"):
                # what happens to the source population: adapters leave the base untouched
                # (source patients are routed to no adapter); a fine-tuned copy replaces it
                adapter = None if strategy == "bottleneck" else outcome["adapter"]
                forgetting[strategy], _ = _score(
                    schema, source_test, outcome["model"], adapter, config
                )
        results["centres"][target] = per_strategy
        results["forgetting"][target] = forgetting
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["_curves"] = curves  # scores for the report's plots; not written to JSON
    return results


def _run_strategy(
    strategy: str,
    base: BaseModel,
    served: AdapterModel,
    schema: TableSchema,
    source_train: pd.DataFrame,
    target_train: pd.DataFrame,
    target: str,
    config: SiteStudyConfig,
    out_dir: Path,
) -> dict[str, Any]:
    start = time.perf_counter()
    if strategy == "base_only":
        return {
            "model": base.model,
            "adapter": None,
            "n_train": 0,
            "trainable_params": 0,
            "adapter_bytes": 0,
            "seconds": 0.0,
        }
    if strategy in _ADAPTER_METHOD:
        name = f"{slug(target)}_{strategy}"
        result = adapt(
            base,
            target_train,
            method=_ADAPTER_METHOD[strategy],
            name=name,
            into=served,
            seed=config.seed,
        )
        directory = served.save_adapter(
            name,
            out_dir / "adapters" / name,
            metadata={"data_summary": _summary(schema, target_train, config.group_column, target)},
        )
        return {
            "model": served,
            "adapter": name,
            "n_train": result.n_train + result.n_val,
            "trainable_params": result.trainable_params,
            "adapter_bytes": (directory / "adapter.safetensors").stat().st_size,
            "seconds": time.perf_counter() - start,
        }
    if strategy == "full_finetune":
        result = adapt(base, target_train, method="full", name="full", seed=config.seed)
        model = result.model
        n_train, trainable = result.n_train + result.n_val, result.trainable_params
    elif strategy in ("scratch_local", "pooled"):
        rows = (
            target_train if strategy == "scratch_local" else pd.concat([source_train, target_train])
        )
        model = train_base(rows, schema, model_config=config.model, seed=config.seed).model
        n_train, trainable = len(rows), sum(p.numel() for p in model.parameters())
    else:
        raise ValueError(f"unknown strategy {strategy!r}")
    return {
        "model": model,
        "adapter": None,
        "n_train": n_train,
        "trainable_params": trainable,
        "adapter_bytes": _model_bytes(model),
        "seconds": time.perf_counter() - start,
    }


def _summary(schema: TableSchema, rows: pd.DataFrame, column: str, group: str) -> dict[str, Any]:
    y = true_labels(schema, rows)
    summary: dict[str, Any] = {"n_train": len(rows), "group_column": column, "group": group}
    if schema.task == "binary":
        summary.update(n_positive=int(np.sum(y == 1)), prevalence=round(float(np.mean(y)), 4))
    return summary

"""Site adaptation: a base model from source groups, and one adapter per target group,
compared with the alternatives a clinical team would consider.

Strategies (keys of the results): ``base_only`` (the base model as is), ``head_only``,
``bottleneck``, ``lora`` (adapters on the frozen base), ``full_finetune`` (all weights, a copy),
``scratch_local`` (a new model on the target group alone) and ``pooled`` (a new model on source +
target training rows). Each target group's test rows are held out from every strategy's
training and early stopping.
"""

from __future__ import annotations

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
from medadapt.modalities.tabular.samples import TableSamples, subgroup_columns
from medadapt.tables import (
    TabularModelConfig,
    adapt,
    predict,
    train_base,
    true_labels,
)
from medadapt.workflows.naming import slug
from medadapt.workflows.strategies import is_adapter, method_of

STRATEGIES = (
    "base_only",
    "head_only",
    "bottleneck",
    "lora",
    "full_finetune",
    "scratch_local",
    "pooled",
)
Progress = Callable[[str], None]


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


@dataclass
class _Sites:
    """What every target group's strategies share: the base model (and the one model serving
    every adapter), the source rows and how the comparison is run."""

    base: BaseModel
    served: AdapterModel
    schema: TableSchema
    source_train: pd.DataFrame
    source_test: pd.DataFrame
    config: SiteStudyConfig
    out_dir: Path


def split_frame(
    frame: pd.DataFrame, schema: TableSchema, *, test_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test rows among ``frame``'s labelled ones, stratified by outcome, every
    patient's rows on one side (as :meth:`~medadapt.modalities.base.Modality.patient_split`
    splits: :func:`~medadapt.data.splits.stratified_split` over patient keys); rows of
    identical content count as one patient too, whatever their ids (VA Long Beach's 860 and
    908 are one record twice), so no test row has a copy among the training rows."""
    labelled = schema.labelled_rows(frame)
    rows = TableSamples(labelled, schema)
    train, test = stratified_split(rows.labels, test_fraction=test_fraction, seed=seed,
                                   groups=rows.patients())  # fmt: skip
    return labelled.iloc[train], labelled.iloc[test]


def _model_bytes(model: Any) -> int:
    return int(sum(p.numel() * p.element_size() for p in model.parameters()))


def _score(schema: TableSchema, frame: pd.DataFrame, model: Any, adapter: str | None, cfg,
           adapter_ids: list[str | None] | None = None):  # fmt: skip
    scores = predict(model, schema, frame, adapter=adapter, adapter_ids=adapter_ids)
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
    (JSON-ready; counts and metrics only) and save adapters under ``out_dir/adapters``.
    ``progress`` hears each step (``"VA Long Beach: lora"``) and, within it, which rows are
    read next (``"VA Long Beach: lora: 80 test rows"``: the demo's warnings name them)."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    column = config.group_column
    source = frame[frame[column].isin(config.source_groups)]
    source_train, source_test = split_frame(
        source, schema, test_fraction=config.source_test_fraction, seed=config.seed
    )
    say(f"training the base model on {', '.join(config.source_groups)}")
    base = train_base(source_train, schema, model_config=config.model, seed=config.seed)
    base.save(out_dir / "base", overwrite=True)  # the demo's own output (checked by its caller)
    served = AdapterModel(base.model)  # one model serving every adapter
    curves: dict[str, Any] = {}
    results: dict[str, Any] = {
        "base": _base_entry(base, schema, source_test, config),
        "centres": {},
        "forgetting": {},
        "splits": {},
    }
    sites = _Sites(base, served, schema, source_train, source_test, config, out_dir)
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
        curves[target] = {"y": true_labels(schema, target_test)}
        per_strategy, forgetting = _run_target(
            sites, target, target_train, target_test, curves[target], say
        )
        results["centres"][target] = per_strategy
        results["forgetting"][target] = forgetting
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["_curves"] = curves  # scores for the report's plots; not written to JSON
    return results


def _base_entry(
    base: BaseModel, schema: TableSchema, source_test: pd.DataFrame, config: SiteStudyConfig
) -> dict[str, Any]:
    """The base model's training counts and its scores on the source groups' test rows."""
    source_metrics = evaluate_groups(
        schema.task,
        true_labels(schema, source_test),
        predict(base.model, schema, source_test),
        subgroup_columns(source_test, group_column=config.group_column),
        n_boot=config.n_boot,
        seed=config.seed,
        threshold=config.threshold,
    )
    return {
        "trained_on": list(config.source_groups),
        **{k: base.training[k] for k in ("n_train", "n_val", "epochs", "seconds")},
        "n_test": len(source_test),
        "source_test": source_metrics,
    }


def _run_target(
    sites: _Sites,
    target: str,
    target_train: pd.DataFrame,
    target_test: pd.DataFrame,
    curves: dict[str, Any],
    say: Progress,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every strategy for one target group: its metrics on the group's test rows and, for the
    strategies that may change the source patients' model, its metrics on theirs. Each
    strategy's test scores are added to ``curves``."""
    per_strategy: dict[str, Any] = {}
    forgetting: dict[str, Any] = {}
    config = sites.config
    for strategy in config.strategies:
        say(f"{target}: {strategy}")
        if strategy != "base_only":  # which rows a warning is about (not a progress step)
            say(f"{target}: {strategy}: {len(target_train)} training rows")
        outcome = _run_strategy(strategy, sites, target, target_train)
        say(f"{target}: {strategy}: {len(target_test)} test rows")
        metrics, scores = _score(
            sites.schema, target_test, outcome["model"], outcome["adapter"], config
        )
        curves[strategy] = scores
        per_strategy[strategy] = _with_costs_and_subgroups(
            strategy, metrics, outcome, sites, target_test, curves["y"], scores
        )
        if strategy in ("full_finetune", "pooled", "bottleneck"):
            # what happens to the source population: adapters leave the base untouched
            # (source patients are routed to no adapter); a fine-tuned copy replaces it
            adapter = None if strategy == "bottleneck" else outcome["adapter"]
            # routed to no adapter on purpose: said so, not warned of as a forgotten adapter=
            routed = [None] * len(sites.source_test) if strategy == "bottleneck" else None
            say(f"{target}: {strategy}: {len(sites.source_test)} source test rows")
            forgetting[strategy], _ = _score(
                sites.schema, sites.source_test, outcome["model"], adapter, config, routed
            )
    return per_strategy, forgetting


def _with_costs_and_subgroups(
    strategy: str,
    metrics: dict[str, Any],
    outcome: dict[str, Any],
    sites: _Sites,
    target_test: pd.DataFrame,
    y: np.ndarray,
    scores: np.ndarray,
) -> dict[str, Any]:
    """``metrics`` with the strategy's costs (rows, parameters, bytes, seconds) and, for the
    base model and the bottleneck adapter, the metrics per subgroup of the test rows."""
    metrics.update(
        n_train=outcome["n_train"],
        n_test=len(target_test),
        trainable_params=outcome["trainable_params"],
        adapter_bytes=outcome["adapter_bytes"],
        train_seconds=round(outcome["seconds"], 2),
    )
    config = sites.config
    if strategy in ("base_only", "bottleneck"):
        metrics["subgroups"] = evaluate_groups(
            sites.schema.task,
            y,
            scores,
            subgroup_columns(target_test),
            n_boot=config.n_boot,
            seed=config.seed,
            threshold=config.threshold,
        )["subgroups"]
    return metrics


def _run_strategy(
    strategy: str, sites: _Sites, target: str, target_train: pd.DataFrame
) -> dict[str, Any]:
    """Train ``strategy`` for ``target``: the model to score (and the adapter to route to), the
    rows it trained on, its trainable parameters, its size in bytes and the seconds it took."""
    start = time.perf_counter()
    base, config = sites.base, sites.config
    if strategy == "base_only":
        return _outcome(base.model, None, 0, 0, 0, 0.0)
    if is_adapter(strategy):
        return _adapter_strategy(strategy, sites, target, target_train, start)
    if strategy == "full_finetune":
        result = adapt(base, target_train, method="full", name="full", seed=config.seed)
        model = result.model
        n_train, trainable = result.n_train + result.n_val, result.trainable_params
    elif strategy in ("scratch_local", "pooled"):
        rows = (
            target_train
            if strategy == "scratch_local"
            else pd.concat([sites.source_train, target_train])
        )
        model = train_base(rows, sites.schema, model_config=config.model, seed=config.seed).model
        n_train, trainable = len(rows), sum(p.numel() for p in model.parameters())
    else:
        raise ValueError(f"unknown strategy {strategy!r}")
    return _outcome(
        model, None, n_train, trainable, _model_bytes(model), time.perf_counter() - start
    )


def _adapter_strategy(
    strategy: str, sites: _Sites, target: str, target_train: pd.DataFrame, start: float
) -> dict[str, Any]:
    """Train the ``strategy`` adapter for ``target`` into the served model and save it."""
    name = f"{slug(target)}_{strategy}"
    result = adapt(
        sites.base,
        target_train,
        method=method_of(strategy),
        name=name,
        into=sites.served,
        seed=sites.config.seed,
    )
    summary = _summary(sites.schema, target_train, sites.config.group_column, target)
    directory = sites.served.save_adapter(  # over an earlier demo's, as its caller allows
        name,
        sites.out_dir / "adapters" / name,
        metadata={"data_summary": summary},
        overwrite=True,
    )
    return _outcome(
        sites.served,
        name,
        result.n_train + result.n_val,
        result.trainable_params,
        (directory / "adapter.safetensors").stat().st_size,
        time.perf_counter() - start,
    )


def _outcome(
    model: Any, adapter: str | None, n_train: int, trainable: int, size: int, seconds: float
) -> dict[str, Any]:
    """One strategy's outcome, as ``_run_target`` reads it."""
    return {
        "model": model,
        "adapter": adapter,
        "n_train": n_train,
        "trainable_params": trainable,
        "adapter_bytes": size,
        "seconds": seconds,
    }


def _summary(schema: TableSchema, rows: pd.DataFrame, column: str, group: str) -> dict[str, Any]:
    y = true_labels(schema, rows)
    summary: dict[str, Any] = {"n_train": len(rows), "group_column": column, "group": group}
    if schema.task == "binary":
        summary.update(n_positive=int(np.sum(y == 1)), prevalence=round(float(np.mean(y)), 4))
    return summary

"""``medadapt study``: how much target data is enough, per strategy.

For one target group, every strategy is trained on nested fractions of the group's training
rows over several seeds and scored on the same held-out target rows. Points run in parallel
processes and are written as they finish (``DIR/points``), so an interrupted study resumes
where it stopped. :mod:`medadapt.workflows.study_summary` turns the points into curves and
plain-language conclusions.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medadapt.data.schema import TableSchema
from medadapt.data.splits import nested_fraction, stratified_split
from medadapt.errors import ConfigError
from medadapt.evaluate.metrics import compute_metrics
from medadapt.fileio import atomic_write_bytes
from medadapt.train.tabular import TabularModelConfig, method_config, true_labels

STRATEGIES = ("base_only", "head_only", "bottleneck", "lora", "full_finetune", "scratch_local")
FRACTIONS = (0.05, 0.1, 0.25, 0.5, 1.0)
_METHOD = {
    "head_only": "head",
    "bottleneck": "bottleneck",
    "lora": "lora",
    "ia3": "ia3",
    "full_finetune": "full",
}
KNOWN = (*STRATEGIES, "ia3")


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """The study grid and its evaluation settings."""

    group_column: str
    source_groups: tuple[str, ...]
    target_group: str
    strategies: tuple[str, ...] = STRATEGIES
    fractions: tuple[float, ...] = FRACTIONS
    seeds: int = 5
    test_fraction: float = 0.3
    n_boot: int = 500
    model: TabularModelConfig = field(default_factory=TabularModelConfig)

    def __post_init__(self) -> None:
        unknown = [s for s in self.strategies if s not in KNOWN]
        if unknown:
            raise ConfigError(f"unknown strategies {unknown}; choose from {list(KNOWN)}")
        bad = [f for f in self.fractions if not 0 < f <= 1]
        if bad:
            raise ConfigError(f"fractions must be in (0, 1], got {bad}")
        if self.seeds < 1:
            raise ConfigError(f"seeds must be positive, got {self.seeds}")
        if self.target_group in self.source_groups:
            raise ConfigError(
                f"the target group {self.target_group!r} is also a source group; the base "
                "model must not see it"
            )

    def digest(self) -> str:
        """Identifies the grid, so a resumed study never mixes points of another one."""
        body = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:16]


@dataclass
class StudyData:
    """The rows a study uses (kept in memory; never written out)."""

    schema: TableSchema
    source: pd.DataFrame
    target_train: pd.DataFrame
    target_test: pd.DataFrame


def prepare(frame: pd.DataFrame, schema: TableSchema, config: StudyConfig) -> StudyData:
    """Source rows, and the target group split once into training and held-out rows."""
    from medadapt.workflows.jobs import select_groups

    column = config.group_column
    source = schema.labelled_rows(
        select_groups(frame, column, list(config.source_groups), what="--groups")
    )
    target = schema.labelled_rows(
        select_groups(frame, column, [config.target_group], what="--group")
    )
    strata = true_labels(schema, target) if schema.task != "regression" else np.zeros(len(target))
    train, test = stratified_split(strata, test_fraction=config.test_fraction, seed=0)
    return StudyData(schema, source, target.iloc[train], target.iloc[test])


def open_study_dir(out_dir: str | Path, digest: str) -> Path:
    """Create (or reopen, for the same grid only) a study directory with its points folder."""
    out = Path(out_dir)
    (out / "points").mkdir(parents=True, exist_ok=True)
    state = out / "state.json"
    if state.is_file() and json.loads(state.read_text()).get("config") != digest:
        raise ConfigError(
            f"{out} holds a study with other settings; choose a new --out directory "
            "(or delete that one) to start a different study"
        )
    atomic_write_bytes(state, json.dumps({"config": digest}).encode())
    return out


def point_name(strategy: str, fraction: float, seed: int) -> str:
    return f"{strategy}__f{fraction:g}__s{seed}"


def _scores_summary(task: str, y: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """ROC and calibration coordinates (aggregates) for the report; no per-patient values."""
    if task != "binary" or len(np.unique(y)) < 2:
        return {}
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, scores)
    bins = min(5, max(2, len(y) // 10))
    observed, predicted = calibration_curve(y, scores, n_bins=bins, strategy="quantile")
    return {
        "roc": [fpr.round(4).tolist(), tpr.round(4).tolist()],
        "calibration": [predicted.round(4).tolist(), observed.round(4).tolist()],
    }


def run_point(job: dict[str, Any]) -> dict[str, Any]:
    """Train and score one (strategy, fraction, seed). Runs in a worker process."""
    import torch

    from medadapt.train.bundle import BaseModel
    from medadapt.train.tabular import adapt, predict, train_base

    torch.set_num_threads(1)
    started = time.perf_counter()
    schema = TableSchema.from_dict(job["schema"])
    train, test = job["train"], job["test"]
    strategy, seed = job["strategy"], job["seed"]
    labels = true_labels(schema, train) if schema.task != "regression" else np.zeros(len(train))
    used = train.iloc[
        nested_fraction(np.arange(len(train)), labels, fraction=job["fraction"], seed=seed)
    ]
    adapter = None
    if strategy == "scratch_local":
        model = train_base(
            used, schema, model_config=TabularModelConfig(**job["model"]), seed=seed
        ).model
        params = sum(p.numel() for p in model.parameters())
    else:
        base = BaseModel.load(job["base_dir"])
        if strategy == "base_only":
            model, params = base.model, 0
        else:
            result = adapt(base, used, method=_METHOD[strategy], name="target", seed=seed)
            model, params = result.model, result.trainable_params
            adapter = None if strategy == "full_finetune" else "target"
    y = true_labels(schema, test)
    scores = predict(model, schema, test, adapter=adapter)
    metrics = compute_metrics(schema.task, y, scores, n_boot=job["n_boot"], seed=seed)
    point = {
        "strategy": strategy,
        "fraction": job["fraction"],
        "seed": seed,
        "n_train": 0 if strategy == "base_only" else len(used),
        "trainable_params": params,
        "metrics": metrics,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if job["fraction"] == 1.0:
        from medadapt.evaluate.groups import evaluate_groups, subgroup_columns

        point["subgroups"] = evaluate_groups(
            schema.task, y, scores, subgroup_columns(test), n_boot=job["n_boot"], seed=seed
        )["subgroups"]
        if seed == 0:
            point["curves"] = _scores_summary(schema.task, y, scores)
    return point


def _train_bases(data: StudyData, config: StudyConfig, out: Path, say) -> list[Path]:
    from medadapt.train.bundle import BaseModel
    from medadapt.train.tabular import train_base

    directories = []
    for seed in range(config.seeds):
        directory = out / "bases" / f"seed_{seed}"
        if not (directory / "model.json").is_file():
            say(f"base model, seed {seed}")
            train_base(data.source, data.schema, model_config=config.model, seed=seed).save(
                directory
            )
        else:
            BaseModel.load(directory)  # verifies the checksum of a resumed base
        directories.append(directory)
    return directories


def run_study(
    frame: pd.DataFrame,
    schema: TableSchema,
    config: StudyConfig,
    *,
    out_dir: str | Path,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) the study grid; returns every point (JSON-ready)."""
    from medadapt.evaluate.sufficiency import check_sufficiency

    say = progress or (lambda message: None)
    out = open_study_dir(out_dir, config.digest())
    data = prepare(frame, schema, config)
    findings = check_sufficiency(
        schema,
        source=data.source,
        target_train=data.target_train,
        target_test=data.target_test,
        trainable_params=_parameter_counts(schema, config),
    )
    bases = _train_bases(data, config, out, say)
    jobs = []
    for seed in range(config.seeds):
        for strategy in config.strategies:
            fractions = (1.0,) if strategy == "base_only" else config.fractions
            for fraction in fractions:
                name = point_name(strategy, fraction, seed)
                if (out / "points" / f"{name}.json").is_file():
                    continue
                jobs.append(
                    {
                        "name": name,
                        "strategy": strategy,
                        "fraction": fraction,
                        "seed": seed,
                        "schema": schema.to_dict(),
                        "train": data.target_train,
                        "test": data.target_test,
                        "base_dir": str(bases[seed]),
                        "n_boot": config.n_boot,
                        "model": asdict(config.model),
                    }
                )
    _run_jobs(jobs, out, workers, say)
    points = [json.loads(p.read_text()) for p in sorted((out / "points").glob("*.json"))]
    return {
        "config": {**asdict(config), "digest": config.digest()},
        "task": schema.task,
        "label": schema.label,
        "data": {
            "n_source": len(data.source),
            "n_target_train": len(data.target_train),
            "n_target_test": len(data.target_test),
            "source_groups": list(config.source_groups),
            "target_group": config.target_group,
        },
        "sufficiency": [f.to_dict() for f in findings],
        "points": points,
    }


def _run_jobs(jobs: list[dict[str, Any]], out: Path, workers: int | None, say) -> None:
    if not jobs:
        return
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))

    def save(point: dict[str, Any]) -> None:
        name = point_name(point["strategy"], point["fraction"], point["seed"])
        atomic_write_bytes(out / "points" / f"{name}.json", json.dumps(point).encode())
        say(f"{point['strategy']} {point['fraction']:.0%} seed {point['seed']}")

    if workers == 1:
        for job in jobs:
            save(run_point(job))
        return
    context = multiprocessing.get_context("spawn")  # no fork after torch threads started
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending = {pool.submit(run_point, job) for job in jobs}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    save(future.result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def _parameter_counts(schema: TableSchema, config: StudyConfig) -> dict[str, int]:
    """Trainable parameters per strategy, from a throw-away model (no training)."""
    from medadapt.adapters import AdapterModel
    from medadapt.train.tabular import new_model

    counts = {}
    for strategy in config.strategies:
        if strategy == "base_only":
            continue
        model = new_model(schema, config.model)
        if strategy in ("full_finetune", "scratch_local"):
            counts[strategy] = sum(p.numel() for p in model.parameters())
            continue
        wrapped = AdapterModel(model)
        wrapped.add_adapter("probe", method_config(_METHOD[strategy]))
        counts[strategy] = wrapped.count_parameters("probe")
    return counts

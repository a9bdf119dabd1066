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
import os
import time
from collections.abc import Callable
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


def check_leaks(data: StudyData, config: StudyConfig) -> list:
    """Refuse a feature that alone predicts the label on the rows the study trains on (all of
    them, and each group's); a leak kept with ``--allow-leak`` becomes a warning finding."""
    from medadapt.data.leaks import find_leaks, leak_warning, refuse_leaks
    from medadapt.evaluate.sufficiency import Finding

    schema = data.schema
    rows = pd.concat([data.source, data.target_train])
    leaks = find_leaks(schema, rows, group_column=config.group_column)
    allowed = refuse_leaks(leaks, label=schema.label, allowed=schema.allowed_leaks)
    return [
        Finding(
            "leak_allowed", "warning", leak_warning(leak, schema.label), {"column": leak.column}
        )
        for leak in allowed
    ]


def data_digest(data: StudyData) -> str:
    """Identifies the rows and the label definition: the schema (label, positive_above, task,
    features) and a hash of every source and target row used, in order."""
    digest = hashlib.sha256(json.dumps(data.schema.to_dict(), sort_keys=True).encode())
    for part in (data.source, data.target_train, data.target_test):
        digest.update(json.dumps([str(c) for c in part.columns]).encode())
        digest.update(pd.util.hash_pandas_object(part, index=True).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def open_study_dir(out_dir: str | Path, digest: str, data: str | None = None) -> Path:
    """Create (or reopen, for the same grid and data only) a study directory with its points
    folder. A directory of another study is refused, never mixed or silently overwritten: its
    finished points stay as they are."""
    out = Path(out_dir)
    state = out / "state.json"
    if state.is_file():
        recorded = json.loads(state.read_text())
        if recorded.get("config") != digest:
            raise ConfigError(
                f"{out} holds a study with other settings; choose a new --out directory "
                "(or delete that one) to start a different study"
            )
        if recorded.get("data") != data:
            raise ConfigError(
                f"{out} holds a study of other data (the rows or the label definition "
                "changed); choose a new --out directory (or delete that one) to start a "
                "study of this data"
            )
    (out / "points").mkdir(parents=True, exist_ok=True)
    record = {"config": digest} if data is None else {"config": digest, "data": data}
    atomic_write_bytes(state, json.dumps(record).encode())
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
    if job["largest"]:  # the details the report shows for the largest size tried
        from medadapt.evaluate.groups import evaluate_groups, subgroup_columns
        from medadapt.evaluate.small_cells import mask_subgroups

        groups = evaluate_groups(
            schema.task, y, scores, subgroup_columns(test), n_boot=job["n_boot"], seed=seed
        )["subgroups"]
        point["subgroups"] = mask_subgroups(groups)
        if seed == 0:
            point["curves"] = _scores_summary(schema.task, y, scores)
    return point


def _masked(point: dict[str, Any]) -> dict[str, Any]:
    """Small subgroup counts suppressed (again: points written by older versions too)."""
    from medadapt.evaluate.small_cells import mask_subgroups

    if point.get("subgroups"):
        point["subgroups"] = mask_subgroups(point["subgroups"])
    return point


def train_base_point(job: dict[str, Any]) -> dict[str, Any]:
    """Train and save the base model of one seed. Runs in a worker process."""
    import torch

    from medadapt.train.tabular import train_base

    torch.set_num_threads(1)
    schema = TableSchema.from_dict(job["schema"])
    model_config = TabularModelConfig(**job["model"])
    train_base(job["source"], schema, model_config=model_config, seed=job["seed"]).save(
        job["base_dir"]
    )
    return {"seed": job["seed"]}


def run_study(
    frame: pd.DataFrame,
    schema: TableSchema,
    config: StudyConfig,
    *,
    out_dir: str | Path,
    workers: int | None = None,
    progress: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) the study grid; returns every point (JSON-ready).

    ``progress(message)`` is called as each base model or point finishes, and once as
    ``progress(message, already=n)`` when a resumed study finds ``n`` of them already done.
    """
    from medadapt.evaluate.sufficiency import check_sufficiency

    say = progress or (lambda message, already=0: None)
    data = prepare(frame, schema, config)
    allowed_leaks = check_leaks(data, config)
    out = open_study_dir(out_dir, config.digest(), data_digest(data))
    findings = check_sufficiency(
        schema,
        source=data.source,
        target_train=data.target_train,
        target_test=data.target_test,
    )
    findings += _size_findings(data, config) + allowed_leaks
    bases, points = _plan(data, config, out)
    finished = n_steps(config) - len(bases) - sum(map(len, points.values()))
    if finished:
        say(f"resumed: {finished} finished steps kept", already=finished)
    _run(bases, points, out, workers, say)
    points_done = [
        _masked(json.loads(p.read_text())) for p in sorted((out / "points").glob("*.json"))
    ]
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
        "points": points_done,
    }


def n_steps(config: StudyConfig) -> int:
    """Base models plus points: what the progress bar counts."""
    per_seed = sum(1 for s in config.strategies if s != "base_only") * len(config.fractions)
    return config.seeds * (1 + per_seed + ("base_only" in config.strategies))


def _plan(
    data: StudyData, config: StudyConfig, out: Path
) -> tuple[list[dict[str, Any]], dict[int | None, list[dict[str, Any]]]]:
    """The base models still to train, and the points still to run keyed by the seed of the
    base model they need (``None``: none needed)."""
    from medadapt.train.bundle import BaseModel

    schema, model = data.schema.to_dict(), asdict(config.model)
    bases, points = [], {}
    largest = max(config.fractions)
    for seed in range(config.seeds):
        base_dir = out / "bases" / f"seed_{seed}"
        if (base_dir / "model.json").is_file():
            BaseModel.load(base_dir)  # verifies the checksum of a resumed base
        else:
            bases.append(
                {
                    "seed": seed,
                    "source": data.source,
                    "schema": schema,
                    "model": model,
                    "base_dir": str(base_dir),
                }
            )
        for strategy in config.strategies:
            for fraction in (1.0,) if strategy == "base_only" else config.fractions:
                name = point_name(strategy, fraction, seed)
                if (out / "points" / f"{name}.json").is_file():
                    continue
                needs = None if strategy == "scratch_local" else seed
                points.setdefault(needs, []).append(
                    {
                        "name": name,
                        "strategy": strategy,
                        "fraction": fraction,
                        "largest": strategy == "base_only" or fraction == largest,
                        "seed": seed,
                        "schema": schema,
                        "train": data.target_train,
                        "test": data.target_test,
                        "base_dir": str(base_dir),
                        "n_boot": config.n_boot,
                        "model": model,
                    }
                )
    return bases, points


def _run(bases, points, out: Path, workers: int | None, say) -> None:
    """Base models and points in parallel processes; a seed's points start once its base
    model is saved. Each result is written as soon as it arrives."""
    from medadapt.workflows.parallel import Job, run_jobs

    n_jobs = len(bases) + sum(map(len, points.values()))
    if not n_jobs:
        return
    training = {base["seed"] for base in bases}
    waiting = {seed: points.get(seed, []) for seed in training}
    ready = [job for seed, jobs in points.items() if seed not in training for job in jobs]
    first = [Job(train_base_point, b) for b in bases] + [Job(run_point, j) for j in ready]

    def on_done(job: Job, result: dict[str, Any]) -> list[Job]:
        if job.fn is train_base_point:
            say(f"base model, seed {result['seed']}")
            return [Job(run_point, j) for j in waiting.get(result["seed"], [])]
        name = point_name(result["strategy"], result["fraction"], result["seed"])
        atomic_write_bytes(out / "points" / f"{name}.json", json.dumps(result).encode())
        say(f"{result['strategy']} {result['fraction']:.0%} seed {result['seed']}")
        return []

    run_jobs(first, workers=max(1, min(workers or os.cpu_count() or 1, n_jobs)), on_done=on_done)


def _size_findings(data: StudyData, config: StudyConfig) -> list:
    """Class counts and events per trainable parameter at each training size (seed 0's
    subsets; the subsets are stratified, so other seeds have the same counts)."""
    from medadapt.evaluate.sufficiency import size_findings
    from medadapt.workflows.labels import label

    train, schema = data.target_train, data.schema
    labels = true_labels(schema, train) if schema.task != "regression" else np.zeros(len(train))
    subsets = {
        f: train.iloc[nested_fraction(np.arange(len(train)), labels, fraction=f, seed=0)]
        for f in config.fractions
    }
    params = _parameter_counts(schema, config)
    return size_findings(schema, subsets, params, names={s: label(s) for s in params})


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

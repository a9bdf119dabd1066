"""The points of a study: which base models and (strategy, fraction, seed) points are still
to run, running them (in worker processes, or here), and what one point measures."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.sufficiency import Finding, size_findings
from medadapt.fileio import atomic_write_bytes
from medadapt.modalities.base import Modality
from medadapt.modalities.bundle import BaseModel
from medadapt.results import StudyPoint, share_text
from medadapt.workflows.strategies import method_of
from medadapt.workflows.study_grid import (
    StudyConfig,
    StudyData,
    point_name,
    registered_in_worker,
    strata_fraction,
    timed,
)
from medadapt.workflows.study_sentences import RESAMPLED


def _train_config(modality: Modality, which: str, epochs: int | None):
    """The modality's config for ``which``; with ``epochs``, that many and no early stop."""
    from medadapt.train.fitting import training_config

    config = training_config(modality, which)
    return config if epochs is None else replace(config, epochs=epochs, patience=epochs)


def plan(
    modality: Modality, data: StudyData, config: StudyConfig, options: Any, out: Path
) -> tuple[list[dict[str, Any]], dict[int | None, list[dict[str, Any]]]]:
    """The base models still to train, and the points still to run keyed by the seed of the
    base model they need (``None``: none needed)."""
    bases, points = [], {}
    largest = max(config.fractions)
    last_two = sorted(config.fractions)[-2:]  # whether more data helps: the gain between them
    common = {"modality": modality, "options": options, "schema": data.schema,
              "epochs": config.epochs}  # fmt: skip
    base_seeds = range(config.seeds) if modality.study_base_per_seed else range(1)
    for seed in base_seeds if config.base is None else ():
        base_dir = out / "bases" / f"seed_{seed}"
        if (base_dir / "model.json").is_file():
            BaseModel.load(base_dir)  # verifies the checksum of a resumed base
        else:
            bases.append({**common, "seed": seed, "source": data.source, "base_dir": str(base_dir)})
    for seed in range(config.seeds):
        base_seed = seed if modality.study_base_per_seed else 0
        base_dir = config.base or str(out / "bases" / f"seed_{base_seed}")
        for strategy in config.strategies:
            for fraction in (1.0,) if strategy == "base_only" else config.fractions:
                name = point_name(strategy, fraction, seed)
                if (out / "points" / f"{name}.json").is_file():
                    continue
                needs = None if strategy == "scratch_local" or config.base else base_seed
                points.setdefault(needs, []).append({
                    **common, "name": name, "strategy": strategy, "fraction": fraction,
                    "largest": strategy == "base_only" or fraction == largest, "seed": seed,
                    "resample": strategy != "base_only" and fraction in last_two,
                    "train": data.target_train, "test": data.target_test,
                    "base_dir": base_dir, "n_boot": config.n_boot,
                    "method_options": config.options_of(strategy),
                })  # fmt: skip
    return bases, points


def train_base_point(job: dict[str, Any]) -> dict[str, Any]:
    """Train and save the base model of one seed. Runs in a worker process."""
    import torch

    from medadapt.train.fitting import train_base

    torch.set_num_threads(1)
    modality = registered_in_worker(job["modality"])
    config = _train_config(modality, "base", job["epochs"])
    base = train_base(modality, job["schema"], job["source"], options=job["options"],
                      train_config=config, seed=job["seed"])  # fmt: skip
    base.save(job["base_dir"], overwrite=True)  # over an interrupted run's partial save
    return {"seed": job["seed"]}


def run_point(job: dict[str, Any]) -> StudyPoint:
    """Train and score one (strategy, fraction, seed). Runs in a worker process."""
    import torch

    from medadapt.train.fitting import adapt, predict, train_base
    from medadapt.workflows.scoring import score_samples

    torch.set_num_threads(1)
    modality = registered_in_worker(job["modality"])
    schema, train, test = job["schema"], job["train"], job["test"]
    strategy, seed, epochs = job["strategy"], job["seed"], job["epochs"]
    used = train.subset(strata_fraction(modality, train, job["fraction"], seed))
    adapter = None

    def fit() -> tuple[Any, int]:
        nonlocal adapter
        if strategy == "scratch_local":
            config = _train_config(modality, "base", epochs)
            model = train_base(modality, schema, used, options=job["options"],
                               train_config=config, seed=seed).model  # fmt: skip
            return model, sum(p.numel() for p in model.parameters())
        base = BaseModel.load(job["base_dir"])
        if strategy == "base_only":
            return base.model, 0
        method = method_of(strategy)
        config = _train_config(modality, "full" if method == "full" else "adapter", epochs)
        result = adapt(modality, base, used, method=method, name="target", train_config=config,
                       seed=seed, method_options=job["method_options"])  # fmt: skip
        adapter = None if method == "full" else "target"
        return result.model, result.trainable_params

    (model, params), seconds = timed(fit)
    scores = predict(modality, model, schema, test, adapter=adapter)
    classes = modality.classes(schema)
    scored = score_samples(modality, schema, test, scores, classes=classes, by_group=False,
                           n_boot=job["n_boot"], seed=seed)  # fmt: skip
    metrics = scored["overall"]
    if job.get("resample"):
        metrics = {
            **metrics,
            RESAMPLED: metrics_on_resamples(
                modality.task(schema), test, modality.task_scores(schema, scores), job["n_boot"]
            ),
        }
    subgroups = curves = None
    if job["largest"] and scored["subgroups"]:  # the details the report shows
        from medadapt.evaluate.small_cells import mask_subgroups

        subgroups = mask_subgroups(scored["subgroups"])
    if job["largest"] and seed == 0:
        curves = _scores_summary(modality.task(schema), test.labels,
                                 modality.task_scores(schema, scores))  # fmt: skip
    return StudyPoint(
        strategy=strategy, fraction=job["fraction"], seed=seed,
        n_train=0 if strategy == "base_only" else len(used), trainable_params=params,
        metrics=metrics, seconds=seconds, per_class=scored.get("per_class"),
        subgroups=subgroups, curves=curves,
    )  # fmt: skip


#: the metrics a study may judge its curves by (:func:`~medadapt.workflows.study_summary.
#: main_metric`), per task: those resampled
RESAMPLED_METRICS = {"binary": ("auroc", "brier"), "multiclass": ("auroc", "accuracy", "brier"),
                     "regression": ("mae",)}  # fmt: skip
RESAMPLE_SEED = 0  # every point: the same resamples of the same test patients


def metrics_on_resamples(task: str, test: Any, scores: np.ndarray, n_boot: int) -> dict[str, list]:
    """The judged metrics of ``scores`` on the same bootstrap resamples of the test samples
    for every point (a patient's samples drawn together), ``{metric: [value per resample]}``
    (None where undefined), so that the gain between two training sizes can be resampled over
    the test patients, paired: values of a metric on resamples, never a patient's."""
    y = np.asarray(test.labels)
    clusters = bs.cluster_index(test.known_patients(), len(y))
    W = bs.resample_weights(len(y), n_boot, RESAMPLE_SEED, clusters)  # (B, N)
    out = {}
    for metric in RESAMPLED_METRICS.get(task, ()):
        values = _on_resamples(task, metric, W, y, np.asarray(scores))
        out[metric] = [None if not np.isfinite(v) else round(float(v), 6) for v in values]
    return out


def _on_resamples(task: str, metric: str, W: np.ndarray, y: np.ndarray, s: np.ndarray):
    """``metric`` on each resample (rows of ``W``), as the point's own figure is computed."""
    if metric == "mae":
        return bs.weighted_mean(W, np.abs(y - s))
    if task == "multiclass":
        if metric == "auroc":  # macro one-vs-rest
            classes = range(s.shape[1])
            return np.mean([bs.weighted_auroc(W, (y == c).astype(int), s[:, c])
                            for c in classes], axis=0)  # fmt: skip
        if metric == "brier":  # summed over the classes, as the point's own
            onehot = np.eye(s.shape[1])[y.astype(int)]
            return bs.weighted_mean(W, ((s - onehot) ** 2).sum(axis=1))
        return bs.weighted_mean(W, (s.argmax(axis=1) == y).astype(float))  # accuracy
    y = y.astype(int)
    if metric == "auroc":
        return bs.weighted_auroc(W, y, s)
    return bs.weighted_mean(W, (s - y) ** 2)  # the Brier score


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


def run(bases, points, out: Path, workers: int, say) -> None:
    """Base models and points (in parallel processes, or here with one worker); a seed's
    points start once its base model is saved. Each result is written as it arrives."""
    from medadapt.workflows.parallel import Job, run_jobs

    n_jobs = len(bases) + sum(map(len, points.values()))
    if not n_jobs:
        return
    training = {base["seed"] for base in bases}
    waiting = {seed: points.get(seed, []) for seed in training}
    ready = [job for seed, jobs in points.items() if seed not in training for job in jobs]
    first = [Job(train_base_point, b) for b in bases] + [Job(run_point, j) for j in ready]

    def on_done(job: Job, result: Any) -> list[Job]:
        if job.fn is train_base_point:
            say(f"base model, seed {result['seed']}")
            return [Job(run_point, j) for j in waiting.get(result["seed"], [])]
        point: StudyPoint = result
        name = point_name(point.strategy, point.fraction, point.seed)
        atomic_write_bytes(out / "points" / f"{name}.json", json.dumps(point.to_json()).encode())
        say(f"{point.strategy} {share_text(point.fraction)} seed {point.seed}")
        return []

    workers = max(1, min(workers, n_jobs))
    if workers == 1:  # here, one at a time (a model that already uses every core)
        queue = list(first)
        while queue:
            job = queue.pop(0)
            queue = on_done(job, job.fn(job.arg)) + queue
        return
    run_jobs(first, workers=workers, on_done=on_done)


def size_findings_of(
    modality: Modality, data: StudyData, config: StudyConfig, options: Any
) -> list[Finding]:
    """Class counts and events per trained parameter (the output layer's intercepts aside, as
    ``check-data`` counts them: a trial read 65 here beside its 64) at each training size, in
    patients where a patient has several samples
    (:func:`~medadapt.evaluate.sufficiency.size_findings`; seed 0's subsets: stratified by
    class, of whole patients, so other seeds' counts may differ by a few)."""
    from medadapt.workflows.labels import label

    train = data.target_train
    subsets = {f: train.subset(strata_fraction(modality, train, f, 0)) for f in config.fractions}
    params = parameter_counts(modality, data.schema, config, options, predictors=True)
    return size_findings(modality, data.schema, subsets, params,
                         names={s: label(s) for s in params})  # fmt: skip


def parameter_counts(modality: Modality, schema: Any, config: StudyConfig, options: Any, *,
                     predictors: bool = False):  # fmt: skip
    """Trainable parameters per strategy, from a throw-away model (no training): a copy of
    the given ``--base`` (what the adapters are trained in), else a new model as the study
    would train it (and always for the new model on the target data). ``predictors``: Riley
    et al.'s ``p`` instead, the output layer's intercepts aside
    (:func:`~medadapt.evaluate.samplesize_parameters.predictor_parameters`)."""
    from medadapt.workflows.sample_size import trained_parameters

    given = None if config.base is None else BaseModel.load(config.base, flag="--base").model
    counts = {}
    for strategy in config.strategies:
        if strategy == "base_only":
            continue
        if given is not None and strategy != "scratch_local":
            model = given
        else:
            model = modality.new_model(schema, options, 0)
        counts[strategy] = trained_parameters(modality, model, strategy,
                                              options=config.options_of(strategy),
                                              predictors=predictors)  # fmt: skip
    return counts


def warning_findings(messages: list[str]) -> list[Finding]:
    return [Finding("data_warning", "warning", message, {}) for message in messages]

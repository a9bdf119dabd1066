"""``medadapt study`` on images: learning curves for adapting an image model to a target group.

The same grid and outputs as the tabular study (:mod:`medadapt.workflows.study`): strategies x
training fractions x seeds, all scored on the same held-out target images (split by patient,
so slices of one scan never straddle the split, and only among images the base model never
trained on), resumable point by point. The base model is trained once on the source groups
(or given with ``--base``) and shared by every seed: the seeds vary which target images are
used and the adapter's random start. ``--epochs`` applies to every trained strategy and to
the base. With a given base, the target may be a whole folder or ``.npz`` (no group). Points
run one at a time in this process (a ViT already uses both cores).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.data.splits import nested_fraction
from medadapt.errors import ConfigError
from medadapt.evaluate.sufficiency import MIN_EVENTS_TEST, MIN_EVENTS_TRAIN, Finding
from medadapt.fileio import atomic_write_bytes
from medadapt.train.loop import TrainConfig
from medadapt.workflows.study import FRACTIONS, open_study_dir, point_name

IMAGE_STRATEGIES = ("base_only", "head_only", "bottleneck", "lora", "full_finetune")
_METHOD = {
    "base_only": "base_only",
    "head_only": "head",
    "bottleneck": "bottleneck",
    "lora": "lora",
    "ia3": "ia3",
    "full_finetune": "full",
}


@dataclass(frozen=True, kw_only=True)
class ImageStudyConfig:
    """The grid; ``source_groups`` empty when the base model is given."""

    group_column: str | None
    target_group: str | None  # None: every image of the data (with a given base model)
    source_groups: tuple[str, ...] = ()
    strategies: tuple[str, ...] = IMAGE_STRATEGIES
    fractions: tuple[float, ...] = FRACTIONS
    seeds: int = 3
    test_fraction: float = 0.3
    n_boot: int = 500
    epochs: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # how the base was made (digest only)

    def __post_init__(self) -> None:
        unknown = [s for s in self.strategies if s not in _METHOD]
        if unknown:
            raise ConfigError(
                f"strategies {unknown} are not available for images; choose from "
                f"{list(_METHOD)} (a new ViT from scratch per point is out of reach on a CPU)"
            )
        if self.target_group in self.source_groups:
            raise ConfigError(f"the target group {self.target_group!r} is also a source group")
        if self.target_group is None and self.source_groups:
            raise ConfigError(
                "a base trained on --groups needs a target --group to adapt to: name the "
                "target group, or pass --base to study all images"
            )

    def digest(self) -> str:
        import hashlib

        body = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:16]


def _findings(dataset, classes: Sequence[str], train_idx, test_idx) -> list[Finding]:
    y = dataset.y.numpy()
    train = np.bincount(y[train_idx], minlength=len(classes))
    test = np.bincount(y[test_idx], minlength=len(classes))
    train_counts = {c: int(n) for c, n in zip(classes, train, strict=True)}
    test_counts = {c: int(n) for c, n in zip(classes, test, strict=True)}
    findings = []
    if min(train_counts.values()) < MIN_EVENTS_TRAIN:
        findings.append(
            Finding(
                "few_training_events",
                "warning",
                f"Training images per class in the target group: {train_counts}; some classes "
                f"have fewer than {MIN_EVENTS_TRAIN}: what an adapter learns about them is "
                "mostly noise.",
                {"train_class_counts": train_counts},
            )
        )
    if min(test_counts.values()) < MIN_EVENTS_TEST:
        findings.append(
            Finding(
                "few_test_events",
                "warning",
                f"Held-out images per class: {test_counts}; with fewer than {MIN_EVENTS_TEST} in a "
                "class, AUROC and balanced accuracy cannot be estimated for it.",
                {"test_class_counts": test_counts},
            )
        )
    return findings


def _train_configs(epochs: int | None) -> dict[str, TrainConfig | None]:
    """Per method, the training config for ``epochs`` (None: each method's default)."""
    from medadapt.train.images import ADAPTER_TRAINING, FULL_TRAINING

    if epochs is None:
        return {}
    fixed = {"epochs": epochs, "patience": epochs}
    return {
        "adapter": replace(ADAPTER_TRAINING, **fixed),
        "full": replace(FULL_TRAINING, **fixed),
    }


def run_image_study(
    dataset,
    base,
    config: ImageStudyConfig,
    *,
    out_dir: str | Path,
    digest: str = "",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) the grid for ``dataset`` (an ImageDataset) on ``base``; the target is
    ``config.target_group`` of its group column, or every image. Test images come only from
    images the base never trained on (``digest``: the source's, for splits recorded by
    index before keys existed)."""
    from medadapt.workflows.image_eval import adapt_and_score
    from medadapt.workflows.image_inputs import select_groups
    from medadapt.workflows.image_splits import adapter_split, in_split, trained_on

    say = progress or (lambda message: None)
    out = open_study_dir(out_dir, config.digest())
    groups = [config.target_group] if config.target_group is not None else None
    target = select_groups(dataset, groups, option="--group")
    base_split = base.training.get("split")
    seen = trained_on(dataset, digest, [base_split])
    where = config.target_group or "the data"
    train_idx, test_idx = adapter_split(
        dataset, target, seen, test_fraction=config.test_fraction, seed=0, where=where
    )
    train_idx = train_idx[~in_split(dataset, digest, base_split, "test")[train_idx]]
    test = dataset.subset(test_idx)
    labels = dataset.y.numpy()
    configs = _train_configs(config.epochs)
    for seed in range(config.seeds):
        for strategy in config.strategies:
            for fraction in (1.0,) if strategy == "base_only" else config.fractions:
                path = out / "points" / f"{point_name(strategy, fraction, seed)}.json"
                if path.is_file():
                    continue
                used = nested_fraction(train_idx, labels, fraction=fraction, seed=seed)
                method = _METHOD[strategy]
                scored = adapt_and_score(
                    base,
                    dataset.subset(used),
                    test,
                    method=method,
                    train_config=configs.get("full" if method == "full" else "adapter"),
                    seed=seed,
                    n_boot=config.n_boot,
                )
                point = {
                    "strategy": strategy,
                    "fraction": fraction,
                    "seed": seed,
                    "n_train": scored["n_train"],
                    "trainable_params": scored["trainable_params"],
                    "metrics": scored["overall"],
                    "per_class": scored["per_class"],
                    "seconds": scored["train_seconds"],
                }
                atomic_write_bytes(path, json.dumps(point).encode())
                say(f"{strategy} {fraction:.0%} seed {seed}")
    points = [json.loads(p.read_text()) for p in sorted((out / "points").glob("*.json"))]
    classes = list(base.schema.classes)
    return {
        "config": {**asdict(config), "digest": config.digest(), "kind": "image"},
        "task": "binary" if len(classes) == 2 else "multiclass",
        "label": "class",
        "data": {
            "n_source": int(base.training.get("n_train", 0)) + int(base.training.get("n_val", 0)),
            "n_target_train": len(train_idx),
            "n_target_test": len(test_idx),
            "n_target_seen_by_base": int(seen[target].sum()),
            "source_groups": list(config.source_groups) or ["(the given base model)"],
            "target_group": config.target_group or "(all images)",
        },
        "sufficiency": [f.to_dict() for f in _findings(dataset, classes, train_idx, test_idx)],
        "points": points,
    }


def image_study_job(
    *,
    data: Path,
    out: Path,
    read: Any,
    group_column: str | None,
    source_groups: Sequence[str] = (),
    group: str | None = None,
    base_dir: Path | None = None,
    backbone: str = "timm:vit_tiny_patch16_224",
    weights: Path | None = None,
    backbone_options: dict[str, Any] | None = None,
    normalize: str | None = "auto",
    strategies: Sequence[str] = IMAGE_STRATEGIES,
    fractions: Sequence[float] = FRACTIONS,
    seeds: int = 3,
    test_fraction: float = 0.3,
    n_boot: int = 500,
    epochs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The whole image study from files: the base (given, or trained on ``source_groups``
    with ``read``'s options and ``epochs``) and the grid (:func:`run_image_study`).

    ``read``: an :class:`~medadapt.workflows.image_inputs.ImageRead` (image size, channels,
    window, spatial dims, slices, spacing, npz split, class names, columns, on_error)."""
    from medadapt.data.image_schema import source_digest
    from medadapt.workflows.image_inputs import load_for_model, load_image_base
    from medadapt.workflows.image_jobs import train_base_job

    if base_dir is None:
        if not source_groups:
            raise ConfigError("an image study needs --base BASE or --groups A,B to train one on")
        base_dir = out / "base"
        if not (base_dir / "model.json").is_file():
            train_base_job(
                data=data,
                out=base_dir,
                backbone=backbone,
                read=read,
                weights=weights,
                backbone_options=backbone_options,
                normalize=normalize,
                groups=list(source_groups),
                epochs=epochs,
                progress=progress,
            )
    model = load_image_base(base_dir)
    dataset = load_for_model(
        data,
        model.schema,
        model.schema.classes,
        split=read.split,
        path_column=read.path_column,
        label_column=read.label_column,
        group_column=group_column,
        on_error=read.on_error,
        hint="the study's images must use the base model's classes",
    )
    config = ImageStudyConfig(
        group_column=group_column,
        target_group=group,
        source_groups=tuple(source_groups),
        strategies=tuple(strategies),
        fractions=tuple(float(f) for f in fractions),
        seeds=seeds,
        test_fraction=test_fraction,
        n_boot=n_boot,
        epochs=epochs,
        extra={"base": str(Path(base_dir).resolve())},
    )
    digest = source_digest(data, dataset)
    return run_image_study(dataset, model, config, out_dir=out, digest=digest, progress=progress)

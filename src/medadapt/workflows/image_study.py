"""``medadapt study`` on images: learning curves for adapting an image model to a target group.

The same grid and outputs as the tabular study (:mod:`medadapt.workflows.study`): strategies x
training fractions x seeds, all scored on the same held-out target images (split by file, so
slices of one scan never straddle the split), resumable point by point. The base model is
trained once on the source groups (or given with ``--base``) and shared by every seed: the
seeds vary which target images are used and the adapter's random start. Points run one at a
time in this process (a ViT already uses both cores).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.data.image_files import split_by_file
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

    group_column: str
    target_group: str
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


def run_image_study(
    dataset,
    base,
    config: ImageStudyConfig,
    *,
    out_dir: str | Path,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) the grid for ``dataset`` (an ImageDataset with groups) on ``base``."""
    from medadapt.workflows.image_eval import adapt_and_score
    from medadapt.workflows.image_inputs import select_groups

    say = progress or (lambda message: None)
    out = open_study_dir(out_dir, config.digest())
    target = select_groups(dataset, [config.target_group], option="--group")
    train_idx, test_idx = split_by_file(dataset, target, test_fraction=config.test_fraction, seed=0)
    test = dataset.subset(test_idx)
    labels = dataset.y.numpy()
    train_config = None
    if config.epochs is not None:
        train_config = TrainConfig(epochs=config.epochs, lr=3e-3, patience=config.epochs)
    for seed in range(config.seeds):
        for strategy in config.strategies:
            for fraction in (1.0,) if strategy == "base_only" else config.fractions:
                path = out / "points" / f"{point_name(strategy, fraction, seed)}.json"
                if path.is_file():
                    continue
                used = nested_fraction(train_idx, labels, fraction=fraction, seed=seed)
                scored = adapt_and_score(
                    base,
                    dataset.subset(used),
                    test,
                    method=_METHOD[strategy],
                    train_config=None
                    if strategy in ("base_only", "full_finetune")
                    else train_config,
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
            "source_groups": list(config.source_groups) or ["(the given base model)"],
            "target_group": config.target_group,
        },
        "sufficiency": [f.to_dict() for f in _findings(dataset, classes, train_idx, test_idx)],
        "points": points,
    }

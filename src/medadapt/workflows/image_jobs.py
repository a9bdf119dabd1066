"""The image command-line jobs as Python functions (the CLI only parses and prints).

Same rules as the tabular jobs (see :mod:`medadapt.workflows.image_splits`): the split is
recorded by sample key (a content hash of each image), so ``adapt`` tests an adapter only on
images the base never trained on and ``evaluate`` never scores an image the base or the
adapter trained on, whatever source lists it; splits keep a patient's images on one side.
Unreadable files are refused (``on_error="refuse"``, the default) or skipped and listed
(``"skip"``; in the summary and the model's training record, by path relative to the
source). Outputs are written atomically. ``evaluate`` and ``predict``:
:mod:`medadapt.workflows.image_eval_jobs`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.adapters import AdapterModel
from medadapt.backbones.vision import architecture_of
from medadapt.data.image_files import split_by_patient
from medadapt.data.image_schema import ImageSchema, source_digest
from medadapt.data.splits import nested_fraction
from medadapt.errors import DataError
from medadapt.fileio import atomic_write_bytes
from medadapt.train.bundle import BaseModel
from medadapt.train.image_setup import extended_classes
from medadapt.train.images import (
    ADAPTER_TRAINING,
    BASE_TRAINING,
    FULL_TRAINING,
    adapt,
    predict_proba,
    train_base,
)
from medadapt.workflows.image_eval import full_finetune_comparison, retention_of, score_images
from medadapt.workflows.image_eval_jobs import evaluate_job, predict_job  # noqa: F401
from medadapt.workflows.image_inputs import (
    INTENDED_USE,
    ImageRead,
    default_name,
    epoch_reporter,
    group_column_used,
    load_for_model,
    load_image_base,
    old_class_test_images,
    select_groups,
    skipped_record,
    training_config,
)
from medadapt.workflows.image_splits import (
    SPLIT_FILE,
    adapter_split,
    in_split,
    split_keys_bytes,
    split_record,
    split_summary,
    trained_on,
)

Progress = Callable[[str], None] | None


def train_base_job(
    *,
    data: Path,
    out: Path,
    backbone: str,
    read: ImageRead = ImageRead(),
    weights: Path | None = None,
    backbone_options: dict[str, Any] | None = None,
    normalize: str | None = "auto",
    groups: Sequence[str] | None = None,
    freeze_backbone: bool = False,
    test_fraction: float = 0.2,
    epochs: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    n_boot: int = 1000,
    progress: Progress = None,
) -> dict[str, Any]:
    """Train an image base model on ``data`` (optionally some groups); hold out
    ``test_fraction`` of its patients and score the model on them."""
    if progress:
        progress(f"reading {data}")
    dataset = read.load(data)
    chosen = select_groups(dataset, groups, option="--groups")
    counts = np.bincount(dataset.y[chosen].numpy(), minlength=len(dataset.classes))
    empty = [c for c, n in zip(dataset.classes, counts, strict=True) if n == 0]
    if empty:
        raise DataError(
            f"--class-names: class(es) {', '.join(map(repr, empty))} have no images in {data}; "
            "a base model needs images of every class (add them, or leave the name out)"
        )
    train_idx, test_idx = split_by_patient(dataset, chosen, test_fraction=test_fraction, seed=seed)
    if progress:
        progress(f"training {backbone} on {len(train_idx)} images")
    loader = {
        "path_column": read.path_column,
        "label_column": read.label_column,
        "group_column": read.group_column,
        "id_column": read.id_column,
    }
    base = train_base(
        dataset.subset(train_idx),
        backbone=backbone,
        weights=weights,
        backbone_options=backbone_options,
        normalize=normalize,
        freeze_backbone=freeze_backbone,
        train_config=training_config(BASE_TRAINING, epochs, lr),
        seed=seed,
        loader=loader,
        on_epoch=epoch_reporter(progress, "base"),
    )
    test = dataset.subset(test_idx)
    evaluation = score_images(
        test.y.numpy(),
        predict_proba(base.model, test.images),
        dataset.classes,
        groups=test.groups,
        group_name=read.group_column or "group",
        n_boot=n_boot,
        seed=seed,
    )
    skipped = skipped_record(data, dataset.skipped)
    base.training["split"] = split_record(
        source_digest(data, dataset),
        dataset,
        train_idx,
        test_idx,
        seed=seed,
        test_fraction=test_fraction,
        groups=list(groups or []),
        npz_split=read.split,
    )
    base.training["skipped_files"] = skipped
    base.training["test_metrics"] = evaluation["overall"]
    base.training["test_per_class"] = evaluation["per_class"]
    base.save(out)
    return {
        "base": str(out),
        "task": base.schema.task,
        "classes": list(base.schema.classes),
        "backbone": backbone,
        "architecture": base.architecture,
        "normalize": base.architecture.get("normalize"),
        "n_train": base.training["n_train"],
        "n_val": base.training["n_val"],
        "n_test": len(test),
        "skipped_files": skipped,
        "feature_cache": base.training["feature_cache"],
        "test": evaluation,
    }


def adapt_job(
    *,
    base_dir: Path,
    data: Path,
    out: Path,
    method: str = "bottleneck",
    name: str | None = None,
    new_classes: Sequence[str] = (),
    group_column: str | None = None,
    group: str | None = None,
    top_blocks: int | None = None,
    train_fraction: float = 1.0,
    test_fraction: float = 0.3,
    epochs: int | None = None,
    lr: float | None = None,
    split: str = "train",
    path_column: str | None = None,
    label_column: str | None = None,
    compare_full: bool = True,
    old_data: Path | None = None,
    on_error: str = "refuse",
    seed: int = 0,
    n_boot: int = 1000,
    report: Path | None = None,
    progress: Progress = None,
) -> dict[str, Any]:
    """Train a ``method`` adapter (or a full fine-tune) on ``data`` and save it.

    The test images come only from patients the base model never trained on (its training
    images may train the adapter; ``n_seen_by_base`` counts them). With ``new_classes``, the
    model is extended with those classes and the retention of the old ones is measured on
    old-class images neither the base nor the adapter trained on (``old_data``: the base's
    training source, usually; without it, the old-class images held out from ``data``), for
    the adapter and (with ``compare_full``) for full fine-tuning with an extended head trained
    on the same images.
    """
    if old_data is not None and not new_classes:
        raise DataError(
            "--old-data is where retention of the old classes is measured, which applies when "
            "classes are added: pass --new-classes too, or drop --old-data"
        )
    base = load_image_base(base_dir)
    schema: ImageSchema = base.schema
    classes = extended_classes(schema, new_classes)
    dataset = load_for_model(
        data,
        schema,
        classes,
        split=split,
        path_column=path_column,
        label_column=label_column,
        group_column=group_column,
        on_error=on_error,
        hint="pass the new ones with --new-classes NAME[,NAME]",
    )
    group_column = group_column_used(group_column, schema, dataset)
    digest = source_digest(data, dataset)
    chosen = select_groups(dataset, [group] if group else None, option="--group")
    seen = trained_on(dataset, digest, [base.training.get("split")])
    where = f"{group_column} = {group}" if group else str(data)
    train_idx, test_idx = adapter_split(
        dataset, chosen, seen, test_fraction=test_fraction, seed=seed, where=where
    )
    base_test = in_split(dataset, digest, base.training.get("split"), "test")
    train_idx = train_idx[~base_test[train_idx]]  # kept for the old classes' retention test
    used = nested_fraction(train_idx, dataset.y.numpy(), fraction=train_fraction, seed=seed)
    train, test = dataset.subset(used), dataset.subset(test_idx)
    name = name or default_name(group, method, new_classes)
    default = FULL_TRAINING if method == "full" else ADAPTER_TRAINING
    config = training_config(default, epochs, lr)
    if progress:
        progress(f"{method} on {len(train)} images")
    result = adapt(
        base,
        train,
        method=method,
        name=name,
        new_classes=new_classes,
        top_blocks=top_blocks,
        train_config=config,
        seed=seed,
        on_epoch=epoch_reporter(progress, method),
    )
    adapter = None if method == "full" else name
    proba = predict_proba(result.model, test.images, adapter=adapter)
    y_test = test.y.numpy()
    evaluation = score_images(y_test, proba, classes, n_boot=n_boot, seed=seed)
    base_scores = None
    if not result.new_classes:
        base_proba = predict_proba(base.model, test.images)
        base_scores = score_images(y_test, base_proba, classes, n_boot=n_boot, seed=seed)
    record = split_record(
        digest,
        dataset,
        used,
        test_idx,
        seed=seed,
        test_fraction=test_fraction,
        group=group,
        npz_split=split,
    )
    retention = comparison = None
    if result.new_classes:
        old = old_class_test_images(base, test, old_data, record, on_error=on_error)
        retention = retention_of(result.model, adapter, base, old, n_boot=n_boot, seed=seed)
        retention["trick"] = result.retention
    if result.new_classes and compare_full and method != "full":
        if progress:
            progress(f"full fine-tuning on {len(train)} images, for comparison")
        comparison = full_finetune_comparison(
            base,
            train,
            test,
            new_classes=new_classes,
            old=old,
            train_config=training_config(FULL_TRAINING, epochs, None),
            seed=seed,
            n_boot=n_boot,
            on_epoch=epoch_reporter(progress, "full, for comparison"),
        )
    n_seen = int(seen[chosen].sum())
    warnings = []
    if n_seen:
        warnings.append(
            f"the base model trained on {n_seen} of these {len(chosen)} images; they may train "
            "the adapter, never test it"
        )
    skipped = skipped_record(data, dataset.skipped)
    metadata = {
        "kind": "image",
        "task": "binary" if len(classes) == 2 else "multiclass",
        "classes": classes,
        "old_classes": list(schema.classes),
        "new_classes": result.new_classes,
        "method": method,
        "data_summary": {
            "n_train": len(train),
            "n_test": len(test),
            "train_class_counts": train.class_counts(),
            "test_class_counts": test.class_counts(),
            "group_column": group_column,
            "group": group,
            "train_fraction": train_fraction,
            "n_seen_by_base": n_seen,
            "n_seen_by_base_in_training": int(seen[used].sum()),
            "n_base_held_out_kept_out": int(base_test[chosen].sum()),
        },
        "skipped_files": skipped,
        "metrics": evaluation["overall"],
        "per_class": evaluation["per_class"],
        "base_metrics": None if base_scores is None else base_scores["overall"],
        "retention": retention,
        "full_finetune": comparison,
        "top_blocks": top_blocks,
        "feature_cache": result.feature_cache,
        "split": split_summary(record),
        "intended_use": INTENDED_USE,
        "base_model": {"path": str(Path(base_dir).resolve()), "classes": list(schema.classes)},
        "train_seconds": round(result.fit.seconds, 2),
    }
    if method == "full":
        BaseModel(
            model=result.model,
            kind="image",
            architecture=architecture_of(result.model),
            schema=schema.with_classes(classes),
            training={**base.training, "adapted": {**metadata, "split": record}},
        ).save(out)
        size = (out / "model.safetensors").stat().st_size
    else:
        model: AdapterModel = result.model
        model.save_adapter(name, out, metadata=metadata)
        # which images trained it stays beside the adapter (the registry ships summaries only)
        atomic_write_bytes(out / SPLIT_FILE, split_keys_bytes(record))
        size = (out / "adapter.safetensors").stat().st_size
    summary = {
        "adapter": str(out),
        "name": name,
        "method": method,
        "trainable_params": result.trainable_params,
        "adapter_bytes": size,
        **metadata,
        "warnings": warnings,
        "test": evaluation,
    }
    if report is not None:
        from medadapt.workflows.image_report import adapt_report

        adapt_report(summary, {"y": y_test, "proba": proba}).write(report)
        summary["report"] = str(report)
    return summary

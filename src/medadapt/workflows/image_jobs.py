"""The image command-line jobs as Python functions (the CLI only parses and prints).

Same rules as the tabular jobs: the held-out split is recorded as sample indices into the
loaded data set plus a digest of the source (file names and sizes, or the ``.npz`` bytes,
and the options that decide how many samples a file gives), so ``evaluate`` on the same source
scores only images that training never saw; outputs are written atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from medadapt.adapters import AdapterModel
from medadapt.backbones.vision import architecture_of
from medadapt.data.image_files import load_unlabelled, split_by_file
from medadapt.data.image_schema import ImageSchema, source_digest
from medadapt.data.images import load_images
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
from medadapt.workflows.image_eval import (
    full_finetune_comparison,
    old_class_retention,
    retention_of,
    score_images,
)
from medadapt.workflows.image_inputs import (
    INTENDED_USE,
    SPLIT_FILE,
    ImageRead,
    default_name,
    epoch_reporter,
    images_to_score,
    load_for_inference,
    load_for_model,
    load_image_base,
    old_class_test_images,
    read_split_indices,
    select_groups,
    split_indices_bytes,
    split_record,
    split_summary,
    training_config,
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
    ``test_fraction`` of its files and score the model on them."""
    if progress:
        progress(f"reading {data}")
    dataset = load_images(
        data,
        image_size=read.image_size,
        channels=read.channels,
        spatial_dims=read.spatial_dims,
        window=read.window,
        slice_axis=read.slice_axis,
        slices=read.slices,
        split=read.split,
        path_column=read.path_column,
        label_column=read.label_column,
        group_column=read.group_column,
        classes=read.classes,
    )
    chosen = select_groups(dataset, groups, option="--groups")
    train_idx, test_idx = split_by_file(dataset, chosen, test_fraction=test_fraction, seed=seed)
    if progress:
        progress(f"training {backbone} on {len(train_idx)} images")
    loader = {
        "path_column": read.path_column,
        "label_column": read.label_column,
        "group_column": read.group_column,
    }
    base = train_base(
        dataset.subset(train_idx),
        backbone=backbone,
        weights=weights,
        backbone_options=backbone_options,
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
    base.training["split"] = split_record(
        data,
        dataset,
        train_idx,
        test_idx,
        seed=seed,
        test_fraction=test_fraction,
        groups=list(groups or []),
        npz_split=read.split,
    )
    base.training["test_metrics"] = evaluation["overall"]
    base.training["test_per_class"] = evaluation["per_class"]
    base.save(out)
    return {
        "base": str(out),
        "task": base.schema.task,
        "classes": list(base.schema.classes),
        "backbone": backbone,
        "architecture": base.architecture,
        "n_train": base.training["n_train"],
        "n_val": base.training["n_val"],
        "n_test": len(test),
        "skipped_files": len(dataset.skipped),
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
    seed: int = 0,
    n_boot: int = 1000,
    report: Path | None = None,
    progress: Progress = None,
) -> dict[str, Any]:
    """Train a ``method`` adapter (or a full fine-tune) on ``data`` and save it.

    With ``new_classes``, the model is extended with those classes and the retention of the
    old ones is measured on the old classes' own test images (``old_data``: the base's
    training source, whose held-out images are used; without it, the old-class images held
    out from ``data``), for the adapter and (with ``compare_full``) for full fine-tuning with
    an extended head trained on the same images.
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
        hint="pass the new ones with --new-classes NAME[,NAME]",
    )
    chosen = select_groups(dataset, [group] if group else None, option="--group")
    train_idx, test_idx = split_by_file(dataset, chosen, test_fraction=test_fraction, seed=seed)
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
    retention = comparison = None
    if result.new_classes:
        old = old_class_test_images(base, test, old_data)
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
    record = split_record(
        data,
        dataset,
        used,
        test_idx,
        seed=seed,
        test_fraction=test_fraction,
        group=group,
        npz_split=split,
    )
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
        },
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
        atomic_write_bytes(out / SPLIT_FILE, split_indices_bytes(record))
        size = (out / "adapter.safetensors").stat().st_size
    summary = {
        "adapter": str(out),
        "name": name,
        "method": method,
        "trainable_params": result.trainable_params,
        "adapter_bytes": size,
        **metadata,
        "test": evaluation,
    }
    if report is not None:
        from medadapt.workflows.image_report import adapt_report

        adapt_report(summary, {"y": y_test, "proba": proba}).write(report)
        summary["report"] = str(report)
    return summary


def evaluate_job(
    *,
    base_dir: Path,
    data: Path,
    adapter_dir: Path | None = None,
    group_column: str | None = None,
    group: str | None = None,
    split: str = "train",
    path_column: str | None = None,
    label_column: str | None = None,
    threshold: float = 0.5,
    n_boot: int = 1000,
    report: Path | None = None,
) -> dict[str, Any]:
    """Metrics (overall, per class, per group) of the base (+ adapter) on ``data``; for an
    adapter that added classes, the old-class retention on these images too."""
    model, base, name, manifest, classes = load_for_inference(base_dir, adapter_dir)
    schema: ImageSchema = base.schema
    dataset = load_for_model(
        data,
        schema,
        classes,
        split=split,
        path_column=path_column,
        label_column=label_column,
        group_column=group_column,
        hint="evaluate a model that knows these classes (medadapt adapt --new-classes)",
    )
    meta = (manifest or {}).get("metadata", {})
    # a fully fine-tuned model carries its adaptation split in training["adapted"]
    own_split = meta.get("split") or base.training.get("adapted", {}).get("split")
    digest = source_digest(data, dataset)
    if meta.get("split") and adapter_dir is not None:
        own_split = read_split_indices(adapter_dir, meta["split"], digest)
    chosen, images_used = images_to_score(
        dataset,
        digest,
        [base.training.get("split"), own_split],
        own_split,
        group,
    )
    if len(chosen) == 0:
        raise DataError(
            f"no image of {data} is left to evaluate ({images_used}): pass data the model "
            "was not trained on"
        )
    test = dataset.subset(chosen)
    proba = predict_proba(model, test.images, adapter=name)
    y = test.y.numpy()
    evaluation = score_images(
        y,
        proba,
        classes,
        groups=test.groups,
        group_name=group_column or "group",
        threshold=threshold,
        n_boot=n_boot,
    )
    retention = None
    if len(classes) > schema.n_classes and isinstance(model, AdapterModel):
        with model.disabled():
            base_proba = predict_proba(model.base_model, test.images)
        retention = old_class_retention(y, base_proba, proba, schema.classes, n_boot=n_boot)
    size = 0 if adapter_dir is None else (Path(adapter_dir) / "adapter.safetensors").stat().st_size
    result: dict[str, Any] = {
        **evaluation["overall"],
        "images_used": images_used,
        "rows_used": images_used,
        "classes": list(classes),
        "adapter": name,
        "method": meta.get("method"),
        "trainable_params": 0 if manifest is None else manifest["n_parameters"],
        "adapter_bytes": size,
        "per_class": evaluation["per_class"],
        "subgroups": evaluation["subgroups"],
        "retention": retention,
        "recorded_retention": meta.get("retention"),
        "full_finetune": meta.get("full_finetune"),
        "skipped_files": len(dataset.skipped),
    }
    if report is not None:
        from medadapt.workflows.image_report import evaluation_report

        evaluation_report(result, {"y": y, "proba": proba}).write(report)
    return result


def predict_job(
    *, base_dir: Path, data: Path, out: Path, adapter_dir: Path | None = None
) -> dict[str, Any]:
    """Write one row per image (``image``, ``p_<class>``..., ``predicted``) to CSV ``out``."""
    model, base, name, _, classes = load_for_inference(base_dir, adapter_dir)
    images, ids, skipped = load_unlabelled(data, base.schema)
    proba = predict_proba(model, images, adapter=name)
    table = pd.DataFrame({"image": ids})
    for i, c in enumerate(classes):
        table[f"p_{c}"] = proba[:, i]
    table["predicted"] = [classes[i] for i in proba.argmax(axis=1)]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(out)
    return {"predictions": str(out), "n": len(table), "adapter": name, "skipped": skipped}

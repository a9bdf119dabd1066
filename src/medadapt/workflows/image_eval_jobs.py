"""``evaluate`` and ``predict`` on images as Python functions (the CLI only parses and prints).

``evaluate`` never scores an image the base model or the adapter trained on, whatever source
lists it (see :mod:`medadapt.workflows.image_splits`); on the adapter's own source it scores
the adapter's held-out images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from medadapt.adapters import AdapterModel
from medadapt.data.image_files import load_unlabelled
from medadapt.data.image_schema import ImageSchema, source_digest
from medadapt.data.tables import table_bytes
from medadapt.errors import DataError
from medadapt.fileio import atomic_write_bytes
from medadapt.train.images import predict_proba
from medadapt.workflows.image_eval import old_class_retention, score_images
from medadapt.workflows.image_inputs import (
    check_on_error,
    group_column_used,
    load_for_inference,
    load_for_model,
    select_groups,
    skipped_record,
)
from medadapt.workflows.image_splits import images_to_score, read_adapter_split


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
    on_error: str = "refuse",
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
        on_error=on_error,
        hint="evaluate a model that knows these classes (medadapt adapt --new-classes)",
    )
    group_column = group_column_used(group_column, schema, dataset)
    meta = (manifest or {}).get("metadata", {})
    digest = source_digest(data, dataset)
    # a fully fine-tuned model carries its adaptation split in training["adapted"]
    own_split = meta.get("split") or base.training.get("adapted", {}).get("split")
    known = True
    if meta.get("split") and adapter_dir is not None:
        own_split, known = read_adapter_split(adapter_dir, meta["split"], digest)
    chosen = select_groups(dataset, [group] if group else None, option="--group")
    own_source = bool(own_split) and own_split.get("source_sha256") == digest and group is None
    scored, images_used = images_to_score(
        dataset, digest, base.training.get("split"), own_split, chosen, own_source=own_source
    )
    if not known:
        images_used += (
            " (the adapter's split.json is not beside it: images it trained on could not be "
            "left out)"
        )
    if len(scored) == 0:
        raise DataError(
            f"no image of {data} is left to evaluate ({images_used}): pass data the model "
            "was not trained on"
        )
    test = dataset.subset(scored)
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
        "skipped_files": skipped_record(data, dataset.skipped),
    }
    if report is not None:
        from medadapt.workflows.image_report import evaluation_report

        evaluation_report(result, {"y": y, "proba": proba}).write(report)
    return result


def predict_job(
    *,
    base_dir: Path,
    data: Path,
    out: Path,
    adapter_dir: Path | None = None,
    on_error: str = "refuse",
) -> dict[str, Any]:
    """Write one row per image (``image``, ``p_<class>``..., ``predicted``) to CSV ``out``;
    an unreadable file is refused (``on_error="refuse"``) or left out and listed ("skip")."""
    check_on_error(on_error)
    model, base, name, _, classes = load_for_inference(base_dir, adapter_dir)
    images, ids, skipped = load_unlabelled(data, base.schema, on_error=on_error)
    proba = predict_proba(model, images, adapter=name)
    table = pd.DataFrame({"image": ids})
    for i, c in enumerate(classes):
        table[f"p_{c}"] = proba[:, i]
    table["predicted"] = [classes[i] for i in proba.argmax(axis=1)]
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, table_bytes(table, out))
    return {
        "predictions": str(out),
        "n": len(table),
        "adapter": name,
        "skipped": skipped,
        "skipped_files": skipped_record(data, skipped),
    }

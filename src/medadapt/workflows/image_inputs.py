"""Reading labelled images for a model, choosing groups, and the recorded held-out split.

A split is recorded as sample indices into the loaded data set plus
:func:`~medadapt.data.image_schema.source_digest`; :func:`images_to_score` applies the tabular
rule to it (an adapter's own held-out images on its source; otherwise never an image the base
or the adapter trained on).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.adapters import AdapterModel, read_manifest
from medadapt.data.image_files import check_known_labels, peek_labels
from medadapt.data.image_schema import ImageSchema, source_digest
from medadapt.data.images import ImageDataset, load_images
from medadapt.data.splits import positions_digest
from medadapt.errors import DataError
from medadapt.train.bundle import BaseModel
from medadapt.train.loop import TrainConfig

SPLIT_FILE = "split.json"
INTENDED_USE = (
    "Research use: adaptation of an existing image model to the named data; validate locally "
    "before any clinical use."
)


@dataclass(frozen=True, kw_only=True)
class ImageRead:
    """How ``train-base`` reads its images (later jobs read them as the schema says)."""

    image_size: int = 224
    channels: int | None = None
    spatial_dims: int = 2
    window: str | tuple[float, float] | None = None
    slice_axis: int = 2
    slices: str | int = "middle"
    split: str = "train"
    path_column: str = "path"
    label_column: str = "label"
    group_column: str | None = None
    classes: tuple[str, ...] | None = None  # class order, or an .npz's label names


def training_config(default: TrainConfig, epochs: int | None, lr: float | None) -> TrainConfig:
    changes = {k: v for k, v in (("epochs", epochs), ("lr", lr)) if v is not None}
    return replace(default, **changes)


def select_groups(
    dataset: ImageDataset, values: Sequence[str] | None, *, option: str
) -> np.ndarray:
    """Indices of the samples whose group is one of ``values`` (all without values)."""
    if not values:
        return np.arange(len(dataset))
    if dataset.groups is None:
        raise DataError(
            f"{option} needs a CSV with a group column: pass --group-column COL naming the "
            "column that holds the site or group"
        )
    present = np.asarray(dataset.groups, dtype=str)
    missing = [v for v in values if v not in set(present.tolist())]
    if missing:
        raise DataError(
            f"group(s) {missing} not found in the group column; it has: "
            f"{', '.join(sorted(set(present.tolist())))}"
        )
    return np.flatnonzero(np.isin(present, list(values)))


def _check_npz_labels(data: Path, split: str, classes: Sequence[str], hint: str) -> None:
    if data.suffix.lower() != ".npz":
        return
    try:
        with np.load(data, allow_pickle=False) as archive:
            labels = np.asarray(archive[f"{split}_labels"])
    except Exception:
        return  # load_images names the problem
    if labels.size and int(labels.max()) >= len(classes):
        raise DataError(
            f"{data} has label index {int(labels.max())} but the model knows {len(classes)} "
            f"classes {list(classes)}: {hint}"
        )


def load_for_model(
    data: Path,
    schema: ImageSchema,
    classes: Sequence[str],
    *,
    split: str = "train",
    path_column: str | None = None,
    label_column: str | None = None,
    group_column: str | None = None,
    hint: str,
) -> ImageDataset:
    """Labelled images read exactly as ``schema`` says, labelled by ``classes``."""
    options = schema.load_options()
    options["path_column"] = path_column or schema.path_column
    options["label_column"] = label_column or schema.label_column
    labels = peek_labels(
        data, path_column=options["path_column"], label_column=options["label_column"]
    )
    check_known_labels(data, labels, classes, hint=hint)
    _check_npz_labels(Path(data), split, classes, hint)
    dataset = load_images(
        data, **options, classes=list(classes), split=split, group_column=group_column
    )
    schema.check(dataset, str(data))
    return dataset


def split_record(
    data: Path, dataset: ImageDataset, train: np.ndarray, test: np.ndarray, **extra: Any
) -> dict[str, Any]:
    return {
        "source_sha256": source_digest(data, dataset),
        "n_samples": len(dataset),
        "train_indices": [int(i) for i in train],
        "test_indices": [int(i) for i in test],
        "test_digest": positions_digest(test),
        **extra,
    }


_INDICES = ("train_indices", "test_indices")


def split_indices_bytes(record: dict[str, Any]) -> bytes:
    """The ``split.json`` written beside an adapter: which sample indices trained/tested it."""
    return json.dumps({k: record[k] for k in ("source_sha256", *_INDICES)}).encode()


def split_summary(record: dict[str, Any]) -> dict[str, Any]:
    """What an adapter's manifest keeps of its split: no indices, the checksum of the file
    that holds them."""
    summary = {k: v for k, v in record.items() if k not in _INDICES}
    summary["indices_file"] = SPLIT_FILE
    summary["indices_sha256"] = hashlib.sha256(split_indices_bytes(record)).hexdigest()
    return summary


def read_split_indices(
    adapter_dir: Path, split: dict[str, Any], digest: str
) -> dict[str, Any] | None:
    """The adapter's split with its indices when ``digest`` is its source (else None: the
    indices do not apply to this data)."""
    if split.get("source_sha256") != digest:
        return None
    path = Path(adapter_dir) / split.get("indices_file", SPLIT_FILE)
    if not path.is_file():
        raise DataError(
            f"this adapter was trained on images of this very source, but {path.name} (which "
            "images) is not beside it; point --adapter at the directory 'medadapt adapt' "
            "wrote, or evaluate on other images"
        )
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != split.get("indices_sha256"):
        raise DataError(f"{path} does not match the checksum in adapter.json; re-run adapt")
    return {**split, **json.loads(raw)}


def load_image_base(base_dir: Path) -> BaseModel:
    base = BaseModel.load(base_dir)
    if base.kind != "image":
        raise DataError(
            f"{base_dir} is a {base.kind} base model, not an image model: pass a table as "
            "--data, or a base trained on images"
        )
    return base


def load_for_inference(base_dir: Path, adapter_dir: Path | None):
    """``(model, base, adapter name or None, adapter manifest or None, classes)``."""
    base = load_image_base(base_dir)
    if adapter_dir is None:
        return base.model, base, None, None, list(base.schema.classes)
    manifest = read_manifest(adapter_dir)
    model = AdapterModel(base.model)
    name = model.load_adapter(adapter_dir)
    classes = manifest.get("metadata", {}).get("classes") or list(base.schema.classes)
    return model, base, name, manifest, classes


def images_to_score(
    dataset: ImageDataset,
    digest: str,
    splits: Sequence[dict[str, Any] | None],
    adapter_split: dict[str, Any] | None,
    group: str | None,
) -> tuple[np.ndarray, str]:
    """The sample indices to evaluate and a sentence saying which they are (the tabular
    rule: an adapter's own held-out images on its source; otherwise the requested images
    minus every image the base or the adapter trained on, when ``data`` is their source)."""
    if adapter_split and adapter_split["source_sha256"] == digest and group is None:
        chosen = np.asarray(adapter_split["test_indices"], dtype=np.int64)
        return chosen, f"the {len(chosen)} images held out from its adaptation"
    chosen = select_groups(dataset, [group] if group else None, option="--group")
    used: set[int] = set()
    for split in splits:
        if split and split.get("source_sha256") == digest:
            used |= set(split["train_indices"])
    described = f"group {group}" if group else "all images"
    if used:
        kept = np.array([i for i in chosen.tolist() if i not in used], dtype=np.int64)
        return kept, f"{described}, minus {len(chosen) - len(kept)} images used in training"
    return chosen, described


def base_test_images(old_data: Path, base: BaseModel) -> tuple[ImageDataset, str]:
    """The old classes' own test images: the base model's held-out images when ``old_data``
    is the source it was trained on, else every image of ``old_data`` (said so)."""
    schema: ImageSchema = base.schema
    split = base.training.get("split") or {}
    dataset = load_for_model(
        old_data,
        schema,
        schema.classes,
        split=split.get("npz_split", "train"),
        group_column=schema.group_column,
        hint="pass the images the base model was trained on (its classes only) as --old-data",
    )
    if split.get("source_sha256") == source_digest(old_data, dataset):
        chosen = np.asarray(split["test_indices"], dtype=np.int64)
        return dataset.subset(chosen), f"the base model's {len(chosen)} held-out images"
    return dataset, (
        f"all {len(dataset)} images of {old_data} (not the base model's training source, so "
        "none is excluded)"
    )


def old_class_test_images(
    base: BaseModel, test: ImageDataset, old_data: Path | None
) -> tuple[ImageDataset, str]:
    """The old classes' own test images: the base's held-out images of ``old_data``, or
    (without it) the old-class images held out from the new data, and a sentence."""
    if old_data is not None:
        return base_test_images(old_data, base)
    n_old = sum(1 for y in test.y.tolist() if y < base.schema.n_classes)
    return test, f"the {n_old} old-class images held out from the new data"


def epoch_reporter(progress: Callable[[str], None] | None, what: str):
    """``on_epoch`` callback showing the losses in the progress line."""
    if progress is None:
        return None

    def report(epoch: int, train_loss: float, val_loss: float | None) -> None:
        val = "" if val_loss is None else f", validation {val_loss:.3f}"
        progress(f"epoch {epoch} ({what}): loss {train_loss:.3f}{val}")

    return report


def default_name(group: str | None, method: str, new_classes: Sequence[str]) -> str:
    from medadapt.workflows.site_adaptation import slug

    what = group or ("_".join(new_classes) if new_classes else "images")
    return f"{slug(what)}_{method}"[:64]

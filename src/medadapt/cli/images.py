"""The image side of ``train-base``, ``adapt``, ``evaluate`` and ``predict``.

:mod:`medadapt.cli.tabular` owns the commands; when ``--data`` is an image source (a folder,
an ``.npz``, a DICOM/NIfTI/PNG/JPEG file or a CSV with a path column) it calls these
functions, which run :mod:`medadapt.workflows.image_jobs` and print the results.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medadapt.cli.common import (
    note,
    print_table,
    split_list,
    status_progress,
    stdout,
    warn,
    write_outputs,
)
from medadapt.errors import ConfigError
from medadapt.evaluate.report.formatting import fmt, fmt_ci

DEFAULT_BACKBONE = "timm:vit_tiny_patch16_224"
DEFAULT_IMAGE_SIZE = 224


def parse_backbone_options(text: str | None) -> dict[str, Any]:
    """``"depth=4,embed_dim=192"`` -> ``{"depth": 4, "embed_dim": 192}`` (numbers, true/false,
    else text)."""
    out: dict[str, Any] = {}
    for part in split_list(text):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip() or not raw.strip():
            raise ConfigError(
                f"--backbone-options must look like depth=4,embed_dim=192; got {part!r}"
            )
        value: Any = raw.strip()
        for cast in (int, float):
            try:
                value = cast(value)
                break
            except ValueError:
                continue
        if value in ("true", "false"):
            value = value == "true"
        if key.strip() in out:
            raise ConfigError(f"--backbone-options names {key.strip()!r} twice; give it once")
        out[key.strip()] = value
    return out


def parse_window(text: str | None) -> str | tuple[float, float] | None:
    """``"brain"`` or ``"40,80"`` (level, width in HU)."""
    if text is None or "," not in text:
        return text
    try:
        level, width = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--window must be a preset name (e.g. brain) or LEVEL,WIDTH in HU; got {text!r}"
        ) from None
    return level, width


def _slices(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def parse_spacing(text: str | None) -> str | tuple[float, float, float] | None:
    """``"auto"`` (default), ``"none"`` (voxel counts) or ``"1.5,1.5,2"`` (mm)."""
    if text is None or text == "auto":
        return "auto"
    if text == "none":
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) <= 0:
        raise ConfigError(
            f"--spacing must be auto, none or three voxel sizes in mm like 1.5,1.5,2; got {text!r}"
        )
    return values  # type: ignore[return-value]


def print_skipped(summary: dict[str, Any]) -> None:
    """Each file left out (``--on-error skip``), once, with its reason, on one line (not
    wrapped at the terminal's width; brackets in paths and reasons printed as they are)."""

    skipped = summary.get("skipped_files") or []
    for item in skipped:
        note(f"skipped {item['path']}: {item['reason']}")
    if skipped:
        stdout.print(
            f"[yellow]{len(skipped)} unreadable file(s) left out (--on-error skip)[/yellow]"
        )


def _write_json(path: Path | None, result: dict[str, Any]) -> None:
    if path is not None:
        write_outputs([(path, json.dumps(result, indent=2, default=str).encode())])


def _print_result(title: str, metrics: dict[str, Any], per_class: list[dict[str, Any]]) -> None:
    from medadapt.cli.tabular import print_metrics

    print_metrics(title, metrics, metrics.get("task") or _task(per_class))
    print_table(
        "per class",
        ["class", "images", "AUROC (95% CI)", "sensitivity", "precision"],
        [
            [
                r["class"],
                r["n"],
                fmt_ci(r["auroc"], r["auroc_ci"], 3),
                fmt(r["sensitivity"]),
                fmt(r["precision"]),
            ]
            for r in per_class
        ],
    )


def _task(per_class: list[dict[str, Any]]) -> str:
    return "binary" if len(per_class) == 2 else "multiclass"


def _print_retention(summary: dict[str, Any]) -> None:
    from medadapt.workflows.image_eval import retention_sentence

    if summary.get("retention"):
        stdout.print(retention_sentence("adapter", summary["retention"]))
    full = summary.get("full_finetune")
    if full:
        stdout.print(retention_sentence("full fine-tuning", full["retention"]))


def image_read(
    *,
    image_size: int | None,
    channels: int | None,
    spatial_dims: int,
    window: str | None,
    slices: str,
    spacing: str | None,
    split: str,
    path_column: str,
    label: str | None,
    group_column: str | None,
    id_column: str | None,
    class_names: str | None,
    on_error: str,
) -> Any:
    """The :class:`ImageRead` that the command-line options describe (``train-base``,
    ``study``)."""
    from medadapt.workflows.image_inputs import ImageRead

    return ImageRead(
        image_size=image_size or DEFAULT_IMAGE_SIZE,
        channels=channels,
        spatial_dims=spatial_dims,
        window=parse_window(window),
        slices=_slices(slices),
        spacing=parse_spacing(spacing),
        split=split,
        path_column=path_column,
        label_column=label or "label",
        group_column=group_column,
        id_column=id_column,
        classes=tuple(split_list(class_names)) or None,
        on_error=on_error,
    )


def train_base(
    *,
    data: Path,
    out: Path,
    label: str | None,
    group_column: str | None,
    groups: str | None,
    test_fraction: float,
    seed: int,
    backbone: str | None,
    weights: Path | None,
    image_size: int | None,
    channels: int | None,
    window: str | None,
    spatial_dims: int,
    slices: str,
    split: str,
    path_column: str,
    class_names: str | None,
    backbone_options: str | None,
    freeze_backbone: bool,
    epochs: int | None,
    lr: float | None,
    id_column: str | None = None,
    on_error: str = "refuse",
    normalize: str = "auto",
    spacing: str | None = None,
) -> dict[str, Any]:
    """Train an image base model into ``out`` (the staged directory); returns its summary."""
    from medadapt.workflows.image_jobs import train_base_job

    read = image_read(
        image_size=image_size,
        channels=channels,
        spatial_dims=spatial_dims,
        window=window,
        slices=slices,
        spacing=spacing,
        split=split,
        path_column=path_column,
        label=label,
        group_column=group_column,
        id_column=id_column,
        class_names=class_names,
        on_error=on_error,
    )
    with status_progress("train-base (images)") as step:
        summary = train_base_job(
            data=data,
            out=out,
            backbone=backbone or DEFAULT_BACKBONE,
            read=read,
            weights=weights,
            backbone_options=parse_backbone_options(backbone_options),
            normalize=normalize,
            groups=split_list(groups),
            freeze_backbone=freeze_backbone,
            test_fraction=test_fraction,
            epochs=epochs,
            lr=lr,
            seed=seed,
            progress=step,
        )
    return summary


def print_train_base(summary: dict[str, Any], out: Path, json_out: Path | None) -> None:
    """What ``train-base`` prints for images, and its ``--json``."""
    summary["base"] = str(out)
    print_skipped(summary)
    _print_result(
        f"base model on {summary['n_test']} held-out images",
        summary["test"]["overall"],
        summary["test"]["per_class"],
    )
    if summary["feature_cache"]:
        stdout.print("backbone frozen: the head trained on cached features (computed once)")
    if summary["normalize"]:
        norm = summary["normalize"]
        stdout.print(f"inputs normalised in the model: mean {norm['mean']}, std {norm['std']}")
    stdout.print(
        f"{summary['backbone']}: {', '.join(summary['classes'])}; trained on "
        f"{summary['n_train']} images, validated on {summary['n_val']}; saved {out}"
    )
    _write_json(json_out, summary)


def adapt(
    *,
    base: Path,
    data: Path,
    out: Path,
    label: str | None,
    group_column: str | None,
    group: str | None,
    method: str,
    name: str | None,
    train_fraction: float,
    test_fraction: float,
    seed: int,
    new_classes: str | None,
    top_blocks: int | None,
    epochs: int | None,
    lr: float | None,
    split: str,
    path_column: str,
    compare_full: bool,
    old_data: Path | None,
    json_out: Path | None,
    report: Path | None,
    on_error: str = "refuse",
    shown_out: Path | None = None,
) -> None:
    """Adapt an image base; ``out`` is where the job writes (a staged directory), ``shown_out``
    the directory the user named."""
    from medadapt.workflows.image_jobs import adapt_job

    with status_progress("adapt (images)") as step:
        summary = adapt_job(
            base_dir=base,
            data=data,
            out=out,
            method=method,
            name=name,
            new_classes=split_list(new_classes),
            group_column=group_column,
            group=group,
            top_blocks=top_blocks,
            train_fraction=train_fraction,
            test_fraction=test_fraction,
            epochs=epochs,
            lr=lr,
            split=split,
            path_column=path_column,
            label_column=label,
            compare_full=compare_full,
            old_data=old_data,
            on_error=on_error,
            seed=seed,
            report=report,
            progress=step,
        )
    print_skipped(summary)
    for message in summary["warnings"]:
        warn(message)
    info = summary["data_summary"]
    _print_result(
        f"{summary['name']}: {info['n_test']} held-out images",
        summary["test"]["overall"],
        summary["test"]["per_class"],
    )
    cache = summary["feature_cache"]
    if cache:
        where = f"top {top_blocks} blocks" if top_blocks else "the head only"
        stdout.print(
            f"adapters in {where}: trained on cached frozen features of blocks "
            f"0-{cache['split_block'] - 1} ({cache['tokens_mib']} MiB, computed once in "
            f"{cache['seconds']} s)"
        )
    _print_retention(summary)
    shown_out = shown_out or out
    summary["adapter"] = str(shown_out)
    stdout.print(
        f"trained on {info['n_train']} images; {summary['trainable_params']} trainable "
        f"parameters; {summary['adapter_bytes']} bytes; saved {shown_out}"
    )
    if report is not None:
        stdout.print(f"wrote {report}")
    _write_json(json_out, summary)


def evaluate(
    *,
    base: Path,
    data: Path,
    adapter: Path | None,
    label: str | None,
    group_column: str | None,
    group: str | None,
    split: str,
    path_column: str,
    threshold: float,
    json_out: Path | None,
    report: Path | None,
    on_error: str = "refuse",
) -> None:
    from medadapt.workflows.image_jobs import evaluate_job

    result = evaluate_job(
        base_dir=base,
        data=data,
        adapter_dir=adapter,
        group_column=group_column,
        group=group,
        split=split,
        path_column=path_column,
        label_column=label,
        threshold=threshold,
        on_error=on_error,
        report=report,
    )
    print_skipped(result)
    _print_result(f"{result['n']} images ({result['images_used']})", result, result["per_class"])
    _print_retention({"retention": result["retention"]})
    _write_json(json_out, result)
    if report is not None:
        stdout.print(f"wrote {report}")


def predict(
    *, base: Path, data: Path, out: Path, adapter: Path | None, on_error: str = "refuse"
) -> None:
    from medadapt.workflows.image_jobs import predict_job

    summary = predict_job(base_dir=base, data=data, out=out, adapter_dir=adapter, on_error=on_error)
    print_skipped(summary)
    stdout.print(f"wrote {summary['n']} predictions to {out}")

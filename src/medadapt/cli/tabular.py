"""``train-base``, ``adapt``, ``evaluate``, ``predict`` for tables (CSV / Parquet)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from medadapt.cli import checks
from medadapt.cli.common import (
    new_directory,
    note,
    print_dropped,
    print_table,
    required,
    small_model_threads,
    status_progress,
    stdout,
    warn,
    write_outputs,
)
from medadapt.cli.main import app
from medadapt.errors import ConfigError, DataError
from medadapt.evaluate.report.formatting import fmt_ci
from medadapt.fileio import check_output_file

DATA = typer.Option(
    ...,
    "--data",
    help="CSV or Parquet table, or images: a class folder, a CSV with a path column, a "
    "DICOM/NIfTI folder or file, or a MedMNIST .npz.",
)
LABEL = typer.Option(
    None, "--label", help="Label column (required for tables; image CSVs: default 'label')."
)
SEED = typer.Option(0, "--seed", help="Random seed (splits, initialisation, shuffling).")
# image options (ignored names stay None for tables, where they are refused)
BACKBONE = typer.Option(
    None, help="Images: timm:<ViT name> or monai:vit (default timm:vit_tiny_patch16_224)."
)
WEIGHTS = typer.Option(None, help="Images: local pretrained weights (.pth, .pt, .safetensors).")
IMAGE_SIZE = typer.Option(None, help="Images: resize to N px per side (default 224).")
PATH_COLUMN = typer.Option(None, help="Image CSVs: the column holding file paths ('path').")
SPLIT = typer.Option(None, help="MedMNIST .npz: train | val | test (default train).")
EPOCHS = typer.Option(None, help="Images: maximum epochs (early stopping on validation).")
LR = typer.Option(None, help="Images: learning rate.")
IMAGE_JSON = typer.Option(None, "--json", help="Images: write the results as JSON.")
ON_ERROR = typer.Option(
    None,
    "--on-error",
    help="Images: refuse (default: stop at the first unreadable file) | skip (leave it out, "
    "list it, record it).",
)
ALLOW_LEAK = typer.Option(
    None,
    "--allow-leak",
    help="Tables: keep these columns although each alone predicts the label almost perfectly "
    "(medadapt refuses such a column otherwise: a copy of the label, or recorded after the "
    "outcome).",
)
FORCE = typer.Option(
    False, "--force", help="Replace an existing output instead of refusing to (never partly)."
)
ALLOW_ABSENT = typer.Option(
    False,
    "--allow-absent-columns",
    help="Tables: score even when feature columns the model uses are absent (missing for "
    "every row) instead of refusing.",
)


def require_data(data: Path) -> None:
    """``--data`` must exist before anything else is said about it."""
    if not data.exists():
        raise DataError(f"--data {data} does not exist; check the path")


def check_not_inside(out: Path, source: Path, flag: str) -> None:
    """An output must not be written into (or over) an input: ``--out`` inside ``--data``
    would add the model to the images it was trained on."""
    out_abs, source_abs = out.resolve(), source.resolve()
    if out_abs == source_abs or (source_abs.is_dir() and source_abs in out_abs.parents):
        raise ConfigError(f"--out {out} is inside {flag} {source}; write outputs somewhere else")


def base_kind(base: Path) -> str:
    """``"tabular"`` or ``"image"``: what ``--base`` holds (one-line errors otherwise)."""
    manifest = base / "model.json"
    if not base.exists():
        raise DataError(f"--base {base} does not exist; check the path")
    if not manifest.is_file():
        raise DataError(
            f"--base {base} holds no model.json: point --base at a directory written by "
            "'medadapt train-base'"
        )
    try:
        kind = json.loads(manifest.read_text()).get("kind")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        raise DataError(
            f"--base {base}: model.json is not valid JSON (truncated or edited); copy the base "
            "model again"
        ) from None
    if kind not in ("tabular", "image"):
        raise DataError(f"--base {base}: model.json is not a medadapt base model")
    return kind


def modality_of(base: Path, data: Path, path_column: str | None) -> str:
    """``"images"`` or ``"tables"``, as the base model says; data of the other kind is
    refused naming both."""
    from medadapt.data.image_schema import is_image_source

    kind = base_kind(base)
    images = is_image_source(data, path_column or "path")
    if kind == "image" and not images:
        raise DataError(
            f"--base {base} is an image model, but --data {data} is a table: pass images, or "
            "a --base trained on a table"
        )
    if kind == "tabular" and images:
        raise DataError(
            f"--base {base} is a table model, but --data {data} is image data: pass a table, "
            "or a --base trained on images"
        )
    return "images" if kind == "image" else "tables"


def check_not_an_input(outputs: dict[str, Path | None], inputs: dict[str, Path | None]) -> None:
    """No output may replace an input file or land inside a model directory (even with
    ``--force``: it would destroy what the command reads)."""
    for out_flag, out in outputs.items():
        if out is None:
            continue
        target = out.resolve()
        for in_flag, source in inputs.items():
            if source is None:
                continue
            origin = source.resolve()
            if target == origin or (origin.is_dir() and origin in target.parents):
                raise ConfigError(
                    f"{out_flag} {out} would overwrite {in_flag} {source}; write it elsewhere"
                )


def _image_data(data: Path, path_column: str | None) -> bool:
    """Whether ``data`` is an image source (a folder, .npz, DICOM/NIfTI/PNG, path CSV)."""
    from medadapt.data.image_schema import is_image_source

    return is_image_source(data, path_column or "path")


def print_metrics(title: str, metrics: dict[str, Any], task: str) -> None:
    from medadapt.evaluate.metrics import METRIC_NAMES

    notes = metrics.get("notes", {})
    rows = [
        [
            name,
            fmt_ci(metrics.get(name), metrics.get(f"{name}_ci"), 3),
            notes.get(name, notes.get("all", "")),
        ]
        for name in METRIC_NAMES[task]
    ]
    print_table(title, ["metric", "value (95% CI)", "note"], rows)
    if notes.get("too_good"):
        warn(notes["too_good"])


def print_subgroups(subgroups: dict[str, dict[str, Any]], task: str) -> None:
    """One line per subgroup value: n, events and the main metric with its CI (or why not)."""
    main = "mae" if task == "regression" else "auroc"
    rows = []
    for name, values in subgroups.items():
        for value, metrics in values.items():
            notes = metrics.get("notes", {})
            rows.append(
                [
                    f"{name} = {value}",
                    metrics.get("n"),
                    metrics.get("n_positive", "") if task == "binary" else "",
                    fmt_ci(metrics.get(main), metrics.get(f"{main}_ci"), 3),
                    notes.get(main, notes.get("all", "")),
                ]
            )
    if rows:
        print_table("per subgroup", ["subgroup", "n", "events", main, "note"], rows)


@app.command("train-base")
def train_base_command(
    data: Path = DATA,
    label: str = LABEL,
    out: Path = typer.Option(..., "--out", help="Directory for the base model."),
    group_column: str | None = typer.Option(None, help="Column holding the site/group."),
    groups: str | None = typer.Option(None, help="Comma-separated groups to train on."),
    task: str | None = typer.Option(None, help="binary | multiclass | regression (inferred)."),
    positive_above: float | None = typer.Option(
        None, help="Binary label = numeric label > this value (e.g. 0 for 'num > 0')."
    ),
    id_column: str | None = typer.Option(None, help="Patient id column (never a feature)."),
    categorical: str | None = typer.Option(None, help="Columns to treat as categorical."),
    numeric: str | None = typer.Option(None, help="Columns to treat as numeric."),
    exclude: str | None = typer.Option(None, help="Columns to leave out."),
    allow_leak: str | None = ALLOW_LEAK,
    test_fraction: float = typer.Option(0.2, help="Share of rows held out for testing."),
    d_token: int | None = typer.Option(
        None, help="Tables: token width (default 64; the paper's 192)."
    ),
    n_blocks: int | None = typer.Option(
        None, help="Tables: Transformer blocks (default 2; the paper's 3)."
    ),
    n_heads: int | None = typer.Option(None, help="Tables: attention heads (default 4)."),
    seed: int = SEED,
    backbone: str | None = BACKBONE,
    weights: Path | None = WEIGHTS,
    image_size: int | None = IMAGE_SIZE,
    channels: int | None = typer.Option(None, help="Images: 1 or 3 (default: as stored)."),
    window: str | None = typer.Option(None, help="CT: preset (brain, lung...) or LEVEL,WIDTH."),
    spatial_dims: int | None = typer.Option(None, help="Images: 2 (slices) or 3 (volumes)."),
    slices: str | None = typer.Option(None, help="Volumes as 2D: middle | all | index."),
    split: str | None = SPLIT,
    path_column: str | None = PATH_COLUMN,
    class_names: str | None = typer.Option(
        None, help="Images: class order, or names of an .npz's labels 0..K-1 (a,b,c)."
    ),
    backbone_options: str | None = typer.Option(
        None, help="Images: backbone sizes, e.g. depth=4,embed_dim=192,num_heads=3."
    ),
    freeze_backbone: bool = typer.Option(
        False, "--freeze-backbone", help="Images: train only the head (cached features)."
    ),
    epochs: int | None = EPOCHS,
    lr: float | None = LR,
    json_out: Path | None = IMAGE_JSON,
    on_error: str | None = ON_ERROR,
    normalize: str | None = typer.Option(
        None, help="Images: auto (pretrained mean/std with --weights) | none | imagenet | M,S."
    ),
    spacing: str | None = typer.Option(
        None, help="NIfTI/DICOM volumes: auto (isotropic) | none | X,Y,Z voxel size in mm."
    ),
    force: bool = FORCE,
) -> None:
    """Train a base model: an FT-Transformer on a table, or a ViT on images.

    Example: medadapt train-base --data heart.csv --label num --positive-above 0
    --id-column id --group-column dataset --groups Cleveland,Hungary --out base/

    Images: medadapt train-base --data chest.npz --backbone timm:vit_small_patch16_224
    --weights vit_small.safetensors --image-size 64 --out base/
    """
    require_data(data)
    checks.fraction(test_fraction, "--test-fraction")
    checks.at_least(seed, "--seed", 0)
    group_list = checks.names(groups, "--groups")
    checks.distinct_columns(
        {"--label": label, "--id-column": id_column, "--group-column": group_column}
    )
    check_output_file(json_out, flag="--json", force=force)
    check_not_inside(out, data, "--data")
    staged = new_directory(out, force=force, markers={"model.json": "a base model"})
    if _image_data(data, path_column):
        checks.only_for("tables", data, {
            "--task": task, "--positive-above": positive_above, "--categorical": categorical,
            "--numeric": numeric, "--exclude": exclude, "--allow-leak": allow_leak,
            "--d-token": d_token, "--n-blocks": n_blocks, "--n-heads": n_heads,
        })  # fmt: skip
        checks.image_options(
            image_size=image_size, channels=channels, spatial_dims=spatial_dims, slices=slices,
            split=split, on_error=on_error, epochs=epochs, lr=lr, data=data,
        )  # fmt: skip
        from medadapt.cli import images

        with staged as staged_out:
            summary = images.train_base(
                data=data,
                out=staged_out,
                label=label,
                group_column=group_column,
                groups=groups,
                test_fraction=test_fraction,
                seed=seed,
                backbone=backbone,
                weights=weights,
                image_size=image_size,
                channels=channels,
                window=window,
                spatial_dims=spatial_dims or 2,
                slices=slices or "middle",
                split=split or "train",
                path_column=path_column or "path",
                class_names=class_names,
                backbone_options=backbone_options,
                freeze_backbone=freeze_backbone,
                epochs=epochs,
                lr=lr,
                id_column=id_column,
                on_error=on_error or "refuse",
                normalize=normalize or "auto",
                spacing=spacing,
            )
        return images.print_train_base(summary, out, json_out)
    checks.only_for("images", data, {
        "--backbone": backbone, "--weights": weights, "--image-size": image_size,
        "--channels": channels, "--window": window, "--spatial-dims": spatial_dims,
        "--slices": slices, "--split": split, "--path-column": path_column,
        "--class-names": class_names, "--backbone-options": backbone_options,
        "--freeze-backbone": freeze_backbone, "--epochs": epochs, "--lr": lr,
        "--json": json_out, "--on-error": on_error, "--normalize": normalize,
        "--spacing": spacing,
    })  # fmt: skip
    label = required(label, "--label", "for a table: name the column holding the outcome")
    checks.one_of(task, "--task", ("binary", "multiclass", "regression"))
    if task is not None and positive_above is not None and task != "binary":
        raise ConfigError(
            f"--positive-above makes a binary label, but --task is {task}; drop one of them"
        )
    lists = {flag: checks.names(value, flag) for flag, value in (
        ("--categorical", categorical), ("--numeric", numeric), ("--exclude", exclude),
        ("--allow-leak", allow_leak),
    )}  # fmt: skip
    both = set(lists["--categorical"]) & set(lists["--numeric"])
    if both:
        raise ConfigError(
            f"{', '.join(sorted(both))} given to both --categorical and --numeric; choose one"
        )
    for flag, columns in lists.items():
        if label in columns:
            raise ConfigError(f"{flag} names the label {label!r}; the label is never a feature")
    for flag, value in (("--d-token", d_token), ("--n-blocks", n_blocks), ("--n-heads", n_heads)):
        checks.at_least(value, flag)
    d_token, n_blocks, n_heads = d_token or 64, n_blocks or 2, n_heads or 4
    if d_token % n_heads:
        raise ConfigError(
            f"--d-token {d_token} must be a multiple of --n-heads {n_heads} (each head gets "
            "an equal share of the token)"
        )
    small_model_threads()
    from medadapt.train.tabular import TabularModelConfig
    from medadapt.workflows.jobs import train_base_job

    with staged as staged_out, status_progress("train-base") as step:
        summary = train_base_job(
            data=data,
            label=label,
            out=staged_out,
            group_column=group_column,
            groups=group_list,
            task=task,
            positive_above=positive_above,
            id_column=id_column,
            categorical=lists["--categorical"],
            numeric=lists["--numeric"],
            exclude=lists["--exclude"],
            allow_leak=lists["--allow-leak"],
            test_fraction=test_fraction,
            seed=seed,
            model_config=TabularModelConfig(d_token=d_token, n_blocks=n_blocks, n_heads=n_heads),
            progress=step,
        )
    print_dropped(summary["dropped_columns"], summary["identifiers"])
    for column, count in summary.get("text_as_missing", {}).items():
        warn(f"{count} text value(s) in numeric column {column!r} are read as missing")
    for message in summary["leaks_allowed"] + summary["data_warnings"]:
        warn(message)
    print_metrics(
        f"base model on {summary['n_test']} held-out rows",
        summary["test"]["overall"],
        summary["task"],
    )
    stdout.print(f"saved {out}")


@app.command("adapt")
def adapt_command(
    base: Path = typer.Option(..., "--base", help="Base model directory (train-base --out)."),
    data: Path = DATA,
    label: str | None = LABEL,
    group_column: str | None = typer.Option(None, help="Column holding the site/group."),
    group: str | None = typer.Option(None, help="The target group to adapt to."),
    out: Path = typer.Option(..., "--out", help="Directory for the adapter."),
    method: str = typer.Option("bottleneck", help="bottleneck | lora | ia3 | head | full."),
    name: str | None = typer.Option(None, help="Adapter name (default: <group>_<method>)."),
    train_fraction: float = typer.Option(1.0, help="Use this share of the group's training rows."),
    test_fraction: float = typer.Option(
        0.3, help="Share of the group's rows held out for testing."
    ),
    seed: int = SEED,
    allow_leak: str | None = ALLOW_LEAK,
    new_classes: str | None = typer.Option(
        None, help="Images: comma-separated classes to add (the data holds old and new)."
    ),
    top_blocks: int | None = typer.Option(
        None, help="Images: adapters only in the top K blocks, trained on cached features."
    ),
    epochs: int | None = EPOCHS,
    lr: float | None = LR,
    split: str | None = SPLIT,
    path_column: str | None = PATH_COLUMN,
    compare_full: bool = typer.Option(
        True, help="Images, new classes: also full fine-tune and compare retention."
    ),
    old_data: Path | None = typer.Option(
        None,
        help="Images, new classes: the base's training images; retention is measured on "
        "its held-out images.",
    ),
    json_out: Path | None = IMAGE_JSON,
    report: Path | None = typer.Option(None, "--report", help="Images: write an HTML report."),
    on_error: str | None = ON_ERROR,
    force: bool = FORCE,
) -> None:
    """Train a small adapter on one group's rows (or on new images); the base stays frozen.

    Example: medadapt adapt --base base/ --data heart.csv --label num --group-column dataset
    --group "VA Long Beach" --method bottleneck --out adapters/va

    Images, new classes: medadapt adapt --base base/ --data new_cases/ --new-classes cavity
    --method bottleneck --out adapters/cavity --report cavity.html
    """
    require_data(data)
    checks.fraction(train_fraction, "--train-fraction", closed=True)
    checks.fraction(test_fraction, "--test-fraction")
    checks.at_least(seed, "--seed", 0)
    checks.one_of(method, "--method", ("bottleneck", "lora", "ia3", "head", "full"))
    images = modality_of(base, data, path_column) == "images"
    check_output_file(json_out, flag="--json", force=force)
    check_output_file(report, flag="--report", force=force)
    check_not_inside(out, data, "--data")
    check_not_inside(out, base, "--base")
    staged = new_directory(
        out, force=force, markers={"adapter.json": "an adapter", "model.json": "a model"}
    )
    if images:
        checks.only_for("tables", data, {"--allow-leak": allow_leak})
        checks.image_options(split=split, on_error=on_error, epochs=epochs, lr=lr,
                             top_blocks=top_blocks, data=data)  # fmt: skip
        checks.names(new_classes, "--new-classes")
        from medadapt.cli import images

        with staged as staged_out:
            return images.adapt(
                base=base,
                data=data,
                out=staged_out,
                shown_out=out,
                label=label,
                group_column=group_column,
                group=group,
                method=method,
                name=name,
                train_fraction=train_fraction,
                test_fraction=test_fraction,
                seed=seed,
                new_classes=new_classes,
                top_blocks=top_blocks,
                epochs=epochs,
                lr=lr,
                split=split or "train",
                path_column=path_column,
                compare_full=compare_full,
                old_data=old_data,
                json_out=json_out,
                report=report,
                on_error=on_error or "refuse",
            )

    checks.only_for("images", data, {
        "--new-classes": new_classes, "--top-blocks": top_blocks, "--epochs": epochs,
        "--lr": lr, "--split": split, "--path-column": path_column, "--old-data": old_data,
        "--json": json_out, "--report": report, "--on-error": on_error,
    })  # fmt: skip
    label = required(label, "--label", "for a table: name the column holding the outcome")
    why = "to adapt on a table: name the group column and the target group"
    group_column = required(group_column, "--group-column", why)
    group = required(group, "--group", why)
    small_model_threads()
    from medadapt.workflows.jobs import adapt_job

    with staged as staged_out, status_progress("adapt") as step:
        summary = adapt_job(
            base_dir=base,
            data=data,
            label=label,
            group_column=group_column,
            group=group,
            out=staged_out,
            method=method,
            name=name,
            train_fraction=train_fraction,
            test_fraction=test_fraction,
            seed=seed,
            allow_leak=checks.names(allow_leak, "--allow-leak"),
            progress=step,
        )
    info = summary["data_summary"]
    for message in summary["warnings"]:
        warn(message)
    print_metrics(
        f"{summary['name']}: {info['n_test']} held-out rows of {group}",
        summary["test"]["overall"],
        _task(summary["test"]["overall"]),
    )
    stdout.print(
        f"trained on {info['n_train']} rows; {summary['trainable_params']} trainable "
        f"parameters; {summary['adapter_bytes']} bytes; saved {out}"
    )


def _task(metrics: dict[str, Any]) -> str:
    if "mae" in metrics:
        return "regression"
    return "multiclass" if "class_counts" in metrics else "binary"


@app.command("evaluate")
def evaluate_command(
    base: Path = typer.Option(..., "--base", help="Base model directory."),
    data: Path = DATA,
    label: str | None = LABEL,
    adapter: Path | None = typer.Option(None, "--adapter", help="Adapter directory."),
    group_column: str | None = typer.Option(None, help="Column holding the site/group."),
    group: str | None = typer.Option(None, help="Evaluate only this group's rows."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the metrics as JSON."),
    report: Path | None = typer.Option(None, "--report", help="Write an HTML report."),
    threshold: float = typer.Option(0.5, help="Operating point for sensitivity/specificity."),
    split: str | None = SPLIT,
    path_column: str | None = PATH_COLUMN,
    allow_absent_columns: bool = ALLOW_ABSENT,
    on_error: str | None = ON_ERROR,
    force: bool = FORCE,
) -> None:
    """Score a model (and adapter) with 95% CIs, overall and per subgroup.

    On the file the model or adapter was trained from, only its held-out rows are used.

    The label column is the one the base model predicts (--label only checks it).

    Example: medadapt evaluate --base base/ --adapter adapters/va --data heart.csv --json va.json

    Images: medadapt evaluate --base base/ --adapter adapters/cavity --data new_cases/
    --report cavity_eval.html
    """
    require_data(data)
    if not 0.0 < threshold < 1.0:
        raise ConfigError(
            f"--threshold must be a probability between 0 and 1 (the operating point for "
            f"sensitivity and specificity); got {threshold:g}"
        )
    if group is not None and not group.strip():
        raise ConfigError("--group is empty; name the group to evaluate, or leave it out")
    images = modality_of(base, data, path_column) == "images"
    check_not_an_input(
        {"--json": json_out, "--report": report},
        {"--data": data, "--base": base, "--adapter": adapter},
    )
    check_output_file(json_out, flag="--json", force=force)
    check_output_file(report, flag="--report", force=force)
    if images:
        checks.only_for("tables", data, {"--allow-absent-columns": allow_absent_columns})
        checks.image_options(split=split, on_error=on_error, data=data)
        from medadapt.cli import images

        return images.evaluate(
            base=base,
            data=data,
            adapter=adapter,
            label=label,
            group_column=group_column,
            group=group,
            split=split or "train",
            path_column=path_column,
            threshold=threshold,
            json_out=json_out,
            report=report,
            on_error=on_error or "refuse",
        )

    checks.only_for("images", data, {
        "--split": split, "--path-column": path_column, "--on-error": on_error,
    })  # fmt: skip
    small_model_threads()
    from medadapt.workflows.jobs import evaluate_job
    from medadapt.workflows.reports import evaluation_report

    result = evaluate_job(
        base_dir=base,
        data=data,
        label=label,
        adapter_dir=adapter,
        group_column=group_column,
        group=group,
        threshold=threshold,
        allow_absent_columns=allow_absent_columns,
    )
    curves = result.pop("_curves")
    for column in result["absent_columns"]:
        warn(f"column {column!r} is not in the table: missing for every row")
    for message in result["data_warnings"] + result["leak_warnings"]:
        warn(message)
    print_metrics(f"{result['n']} rows ({result['rows_used']})", result, result["task"])
    print_subgroups(result["subgroups"], result["task"])
    html = None if report is None else evaluation_report(result, curves).render().encode()
    write_outputs([(json_out, json.dumps(result, indent=2).encode()), (report, html)])


@app.command("predict")
def predict_command(
    base: Path = typer.Option(..., "--base", help="Base model directory."),
    data: Path = DATA,
    out: Path = typer.Option(..., "--out", help="File for the predictions: .csv (default), .tsv or .parquet."),
    adapter: Path | None = typer.Option(None, "--adapter", help="Adapter directory."),
    allow_absent_columns: bool = ALLOW_ABSENT,
    on_error: str | None = ON_ERROR,
    force: bool = FORCE,
) -> None:
    """Write one prediction per row or image (probabilities and predicted class, or a value).

    Example: medadapt predict --base base/ --adapter adapters/va --data new.csv --out pred.csv

    Images: medadapt predict --base base/ --data scans/ --out pred.csv (a file, a folder, a
    path CSV or an .npz's test split)
    """
    require_data(data)
    images = modality_of(base, data, None) == "images"
    check_not_an_input({"--out": out}, {"--data": data, "--base": base, "--adapter": adapter})
    check_output_file(out, flag="--out", force=force)
    if images:
        checks.only_for("tables", data, {"--allow-absent-columns": allow_absent_columns})
        checks.image_options(on_error=on_error)
        from medadapt.cli import images as image_cli

        return image_cli.predict(
            base=base, data=data, out=out, adapter=adapter, on_error=on_error or "refuse"
        )

    checks.only_for("images", data, {"--on-error": on_error})
    small_model_threads()
    from medadapt.workflows.jobs import predict_job

    summary = predict_job(
        base_dir=base,
        data=data,
        out=out,
        adapter_dir=adapter,
        allow_absent_columns=allow_absent_columns,
    )
    for column in summary["absent_columns"]:
        warn(f"column {column!r} is not in the table: missing for every row")
    for message in summary["warnings"]:
        warn(message)
    for column, count in summary["unseen_categories"].items():
        note(f"{count} rows have a {column!r} value not seen in training (treated as 'unseen')")
    stdout.print(f"wrote {summary['n']} predictions to {out}")

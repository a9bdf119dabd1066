"""``medadapt study``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

from medadapt.cli.common import (
    print_dropped,
    required,
    small_model_threads,
    split_list,
    status_progress,
    stdout,
    warn,
)
from medadapt.cli.main import app
from medadapt.errors import ConfigError


@app.command("study")
def study_command(
    data: Path = typer.Option(
        ..., "--data", help="CSV or Parquet file, or images (folder, path CSV, DICOM, NIfTI, .npz)."
    ),
    label: str | None = typer.Option(None, "--label", help="Label column (tables: required)."),
    group_column: str | None = typer.Option(None, help="Column holding the site/group."),
    groups: str | None = typer.Option(None, help="Comma-separated source groups (the base)."),
    group: str | None = typer.Option(
        None, help="The target group (images with --base: default every image)."
    ),
    out: Path = typer.Option(..., "--out", help="Output directory (re-run to resume)."),
    fractions: str = typer.Option("0.05,0.1,0.25,0.5,1", help="Training fractions, in (0, 1]."),
    seeds: int = typer.Option(5, help="Seeds per point."),
    methods: str | None = typer.Option(
        None,
        help="Strategies (default: base_only,head_only,bottleneck,lora,full_finetune,"
        "scratch_local; ia3 also available).",
    ),
    task: str | None = typer.Option(None, help="binary | multiclass | regression (inferred)."),
    positive_above: float | None = typer.Option(None, help="Binary label = label > value."),
    id_column: str | None = typer.Option(None, help="Patient id column (never a feature)."),
    exclude: str | None = typer.Option(None, help="Tables: columns to leave out."),
    categorical: str | None = typer.Option(None, help="Tables: columns to treat as categorical."),
    numeric: str | None = typer.Option(None, help="Tables: columns to treat as numeric."),
    allow_leak: str | None = typer.Option(
        None,
        "--allow-leak",
        help="Tables: keep these columns although each alone predicts the label almost "
        "perfectly (refused otherwise).",
    ),
    test_fraction: float = typer.Option(0.3, help="Share of the target rows held out."),
    workers: int | None = typer.Option(None, help="Parallel processes (default: all cores)."),
    n_boot: int = typer.Option(500, help="Bootstrap resamples per point."),
    base: Path | None = typer.Option(
        None, "--base", help="Images: an existing image base model (else trained on --groups)."
    ),
    backbone: str | None = typer.Option(None, help="Images: timm:NAME or monai:vit."),
    weights: Path | None = typer.Option(None, help="Images: local pretrained weights file."),
    image_size: int | None = typer.Option(None, help="Images: side length in pixels."),
    channels: int | None = typer.Option(None, help="Images: 1 or 3 channels."),
    backbone_options: str | None = typer.Option(
        None, help="Images: backbone keyword arguments, e.g. depth=4,embed_dim=64."
    ),
    path_column: str | None = typer.Option(
        None, help="Images: path column of a CSV source (default path)."
    ),
    epochs: int | None = typer.Option(
        None, help="Images: epochs for every model, base included (else early stopping)."
    ),
    window: str | None = typer.Option(None, help="Images: CT window preset or LEVEL,WIDTH."),
    spatial_dims: int | None = typer.Option(None, help="Images: 2 (slices, default) or 3."),
    slices: str | None = typer.Option(
        None, help="Images, 3D files read as 2D: middle (default) | all | N."
    ),
    split: str | None = typer.Option(None, help="Images, .npz: train (default) | val | test."),
    class_names: str | None = typer.Option(None, help="Images: class names in label order."),
    on_error: str | None = typer.Option(
        None, help="Images: unreadable files: refuse (default) | skip."
    ),
    normalize: str | None = typer.Option(
        None, help="Images: auto (default) | none | imagenet | MEAN,STD."
    ),
    spacing: str | None = typer.Option(None, help="Images, volumes: auto | none | X,Y,Z mm."),
    force: bool = typer.Option(
        False, "--force", help="Write into a non-empty --out that holds no earlier study."
    ),
) -> None:
    """Learning curves: each strategy on growing shares of the target group's rows.

    Writes OUT/study.json and OUT/report.html; interrupted runs resume from finished points.

    Example: medadapt study --data heart.csv --label num --positive-above 0 --id-column id
    --group-column dataset --groups Cleveland,Hungary --group "VA Long Beach" --out study-va
    """
    from medadapt.cli import checks
    from medadapt.cli.tabular import require_data
    from medadapt.data.image_schema import is_image_source
    from medadapt.fileio import check_output_dir
    from medadapt.workflows import study as study_mod

    require_data(data)
    fraction_values = checks.numbers(fractions, "--fractions")
    for value in fraction_values:
        checks.fraction(value, "--fractions", closed=True)
    checks.at_least(seeds, "--seeds")
    checks.at_least(workers, "--workers")
    checks.at_least(n_boot, "--n-boot", 10)
    checks.fraction(test_fraction, "--test-fraction")
    source_groups = tuple(checks.names(groups, "--groups"))
    strategies = tuple(checks.names(methods, "--methods"))
    if group is not None and group in source_groups:
        raise ConfigError(
            f"--group {group!r} is also one of --groups: the base model must not see the target "
            "group; take it out of --groups"
        )
    images = is_image_source(data, path_column or "path")
    if images:
        from medadapt.workflows.image_study import IMAGE_STRATEGIES

        checks.only_for("tables", data, {
            "--task": task, "--positive-above": positive_above, "--exclude": exclude,
            "--categorical": categorical, "--numeric": numeric, "--allow-leak": allow_leak,
        })  # fmt: skip
        checks.image_options(
            image_size=image_size, channels=channels, spatial_dims=spatial_dims, slices=slices,
            split=split, on_error=on_error, epochs=epochs, data=data,
        )  # fmt: skip
        checks.known(strategies, "--methods", IMAGE_STRATEGIES)
    else:
        checks.only_for("images", data, {
            "--base": base, "--backbone": backbone, "--weights": weights,
            "--image-size": image_size, "--channels": channels,
            "--backbone-options": backbone_options, "--path-column": path_column,
            "--epochs": epochs, "--window": window, "--spatial-dims": spatial_dims,
            "--slices": slices, "--split": split, "--class-names": class_names,
            "--on-error": on_error, "--normalize": normalize, "--spacing": spacing,
        })  # fmt: skip
        checks.known(strategies, "--methods", study_mod.KNOWN)
    if not (out / "state.json").is_file():  # the same study resumes; other files are refused
        check_output_dir(out, flag="--out", force=force)
    small_model_threads()
    from medadapt.data.schema import TableSchema
    from medadapt.data.tables import read_table
    from medadapt.workflows.jobs import select_groups

    if images:
        study = _image_study(**{k: v for k, v in locals().items() if k in _IMAGE_STUDY_ARGS})
        _finish(study, out)
        return
    why = "for a table study: name the label, the group column, the source groups and the target"
    label, group_column, group = (
        required(label, "--label", why),
        required(group_column, "--group-column", why),
        required(group, "--group", why),
    )
    required(source_groups or None, "--groups", why)
    lists = {flag: checks.names(value, flag) for flag, value in (
        ("--categorical", categorical), ("--numeric", numeric), ("--exclude", exclude),
        ("--allow-leak", allow_leak),
    )}  # fmt: skip
    config = study_mod.StudyConfig(
        group_column=group_column,
        source_groups=source_groups,
        target_group=group,
        strategies=strategies or study_mod.STRATEGIES,
        fractions=tuple(fraction_values),
        seeds=seeds,
        test_fraction=test_fraction,
        n_boot=n_boot,
    )
    frame = read_table(data, text_columns=[group_column])
    source = select_groups(frame, group_column, list(source_groups), what="--groups")
    schema = TableSchema.infer(
        source,
        label=label,
        task=task,
        positive_above=positive_above,
        id_column=id_column,
        group_column=group_column,
        exclude=lists["--exclude"],
        categorical=lists["--categorical"],
        numeric=lists["--numeric"],
        allow_leak=lists["--allow-leak"],
    )
    print_dropped(schema.dropped, schema.identifiers)
    with status_progress("study", total=study_mod.n_steps(config)) as step:
        study = study_mod.run_study(
            frame, schema, config, out_dir=out, workers=workers, progress=step
        )
    _finish(study, out)


def _finish(study: dict, out: Path) -> None:
    """Curves, conclusions, study.json and the report; the findings on the terminal."""
    from medadapt.fileio import atomic_write_bytes
    from medadapt.workflows.study_report import study_report
    from medadapt.workflows.study_summary import aggregate, conclusions

    curves = aggregate(study["points"], study["task"])
    found = conclusions(study, curves)
    study["curves"] = curves
    study["conclusions"] = found
    study["notes"] = [found["too_good"]] if found.get("too_good") else []
    atomic_write_bytes(out / "study.json", json.dumps(study, indent=1).encode())
    study_report(study, curves, found).write(out / "report.html")
    for finding in study["sufficiency"]:
        if finding["level"] == "warning":
            warn(finding["message"])
    ratios = [f["numbers"] for f in study["sufficiency"] if f["code"] == "events_per_parameter"]
    if ratios:
        from medadapt.evaluate.sufficiency import EVENTS_PER_PARAMETER
        from medadapt.workflows.labels import label

        described = "; ".join(
            f"{label(n['strategy'])} {n['events_per_parameter']:.3g}" for n in ratios
        )
        stdout.print(
            f"events per trainable parameter: {described} (warning below {EVENTS_PER_PARAMETER})"
        )
    for sentence in found["sentences"]:
        if sentence == found.get("too_good"):
            warn(sentence.removeprefix("Warning: "))
        else:
            stdout.print(f"• {sentence}")
    stdout.print(f"wrote {out / 'study.json'} and {out / 'report.html'}")


_IMAGE_STUDY_ARGS = (
    "data", "label", "group_column", "source_groups", "group", "out", "fractions", "seeds",
    "methods", "test_fraction", "n_boot", "base", "backbone", "weights", "image_size",
    "channels", "backbone_options", "path_column", "epochs", "window", "spatial_dims", "slices",
    "split", "class_names", "on_error", "normalize", "spacing", "id_column",
)  # fmt: skip
_READ_OPTIONS = (
    "image_size", "channels", "spatial_dims", "window", "slices", "spacing", "split",
    "path_column", "label", "group_column", "id_column", "class_names", "on_error",
)  # fmt: skip
_POINT_DONE = re.compile(r"^\S+ \d+% seed \d+$")  # what run_image_study says per point


def _image_study(
    *,
    source_groups: tuple[str, ...],
    fractions: str,
    seeds: int,
    methods: str | None,
    base: Path | None,
    backbone: str | None,
    backbone_options: str | None,
    **options,
) -> dict:
    """The image study: the reading options of ``train-base``, the grid of ``study``."""
    from medadapt.cli.images import DEFAULT_BACKBONE, image_read, parse_backbone_options
    from medadapt.workflows import image_study

    defaults = {"spatial_dims": 2, "slices": "middle", "split": "train", "on_error": "refuse",
                "path_column": "path", "normalize": "auto"}  # fmt: skip
    options = {**options, **{k: options[k] or v for k, v in defaults.items()}}
    read = image_read(**{key: options[key] for key in _READ_OPTIONS})
    strategies = tuple(split_list(methods)) or image_study.IMAGE_STRATEGIES
    n_points = seeds * (
        sum(1 for s in strategies if s != "base_only") * len(split_list(fractions))
        + ("base_only" in strategies)
    )
    with status_progress("study (images)", total=n_points) as step:
        return image_study.image_study_job(
            data=options["data"],
            out=options["out"],
            read=read,
            group_column=options["group_column"],
            source_groups=source_groups,
            group=options["group"],
            base_dir=base,
            backbone=backbone or DEFAULT_BACKBONE,
            weights=options["weights"],
            backbone_options=parse_backbone_options(backbone_options),
            normalize=options["normalize"],
            strategies=strategies,
            fractions=[float(f) for f in split_list(fractions)],
            seeds=seeds,
            test_fraction=options["test_fraction"],
            n_boot=options["n_boot"],
            epochs=options["epochs"],
            progress=lambda message: step(message, advance=int(bool(_POINT_DONE.match(message)))),
        )

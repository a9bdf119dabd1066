"""``medadapt study``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from medadapt.cli.common import small_model_threads, split_list, status_progress, stdout
from medadapt.cli.main import app


@app.command("study")
def study_command(
    data: Path = typer.Option(..., "--data", help="CSV or Parquet file."),
    label: str = typer.Option(..., "--label", help="Label column."),
    group_column: str = typer.Option(..., help="Column holding the site/group."),
    groups: str = typer.Option(..., help="Comma-separated source groups (the base model)."),
    group: str = typer.Option(..., help="The target group."),
    out: Path = typer.Option(..., "--out", help="Output directory (re-run to resume)."),
    fractions: str = typer.Option("0.05,0.1,0.25,0.5,1", help="Training fractions."),
    seeds: int = typer.Option(5, help="Seeds per point."),
    methods: str | None = typer.Option(
        None,
        help="Strategies (default: base_only,head_only,bottleneck,lora,full_finetune,"
        "scratch_local; ia3 also available).",
    ),
    task: str | None = typer.Option(None, help="binary | multiclass | regression (inferred)."),
    positive_above: float | None = typer.Option(None, help="Binary label = label > value."),
    id_column: str | None = typer.Option(None, help="Patient id column (never a feature)."),
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
    path_column: str = typer.Option("path", help="Images: path column of a CSV source."),
    epochs: int | None = typer.Option(None, help="Images: epochs per adapter (else early stop)."),
) -> None:
    """Learning curves: each strategy on growing shares of the target group's rows.

    Writes OUT/study.json and OUT/report.html; interrupted runs resume from finished points.

    Example: medadapt study --data heart.csv --label num --positive-above 0 --group-column
    dataset --groups Cleveland,Hungary --group "VA Long Beach" --out study-va
    """
    small_model_threads()
    from medadapt.data.schema import TableSchema
    from medadapt.data.tables import read_table
    from medadapt.workflows import study as study_mod
    from medadapt.workflows.jobs import select_groups

    source_groups = tuple(split_list(groups))
    from medadapt.data.image_schema import is_image_source

    if is_image_source(data, path_column):
        study = _image_study(
            data=data,
            label=label,
            group_column=group_column,
            source_groups=source_groups,
            group=group,
            out=out,
            fractions=fractions,
            seeds=seeds,
            methods=methods,
            test_fraction=test_fraction,
            n_boot=n_boot,
            base=base,
            backbone=backbone,
            weights=weights,
            image_size=image_size,
            channels=channels,
            backbone_options=backbone_options,
            path_column=path_column,
            epochs=epochs,
        )
        _finish(study, out)
        return
    config = study_mod.StudyConfig(
        group_column=group_column,
        source_groups=source_groups,
        target_group=group,
        strategies=tuple(split_list(methods)) or study_mod.STRATEGIES,
        fractions=tuple(float(f) for f in split_list(fractions)),
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
    )
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
    atomic_write_bytes(out / "study.json", json.dumps(study, indent=1).encode())
    study_report(study, curves, found).write(out / "report.html")
    for finding in study["sufficiency"]:
        if finding["level"] == "warning":
            stdout.print(f"[yellow]warning:[/yellow] {finding['message']}")
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
        stdout.print(f"• {sentence}")
    stdout.print(f"wrote {out / 'study.json'} and {out / 'report.html'}")


def _image_study(
    *,
    data,
    label,
    group_column,
    source_groups,
    group,
    out,
    fractions,
    seeds,
    methods,
    test_fraction,
    n_boot,
    base,
    backbone,
    weights,
    image_size,
    channels,
    backbone_options,
    path_column,
    epochs,
) -> dict:
    from medadapt.cli.images import DEFAULT_BACKBONE, DEFAULT_IMAGE_SIZE, parse_backbone_options
    from medadapt.workflows import image_study
    from medadapt.workflows.image_inputs import load_for_model, load_image_base
    from medadapt.workflows.image_jobs import ImageRead, train_base_job

    base_dir = base
    if base_dir is None:
        if not source_groups:
            from medadapt.errors import ConfigError

            raise ConfigError("an image study needs --base BASE or --groups A,B to train one on")
        base_dir = out / "base"
        if not (base_dir / "model.json").is_file():
            read = ImageRead(
                image_size=image_size or DEFAULT_IMAGE_SIZE,
                channels=channels,
                path_column=path_column,
                label_column=label,
                group_column=group_column,
            )
            with status_progress("base model (images)") as step:
                train_base_job(
                    data=data,
                    out=base_dir,
                    backbone=backbone or DEFAULT_BACKBONE,
                    read=read,
                    weights=weights,
                    groups=list(source_groups),
                    backbone_options=parse_backbone_options(backbone_options),
                    epochs=epochs,
                    progress=step,
                )
    model = load_image_base(base_dir)
    dataset = load_for_model(
        data,
        model.schema,
        model.schema.classes,
        path_column=path_column,
        label_column=label,
        group_column=group_column,
        hint="the study's images must use the base model's classes",
    )
    config = image_study.ImageStudyConfig(
        group_column=group_column,
        target_group=group,
        source_groups=source_groups,
        strategies=tuple(split_list(methods)) or image_study.IMAGE_STRATEGIES,
        fractions=tuple(float(f) for f in split_list(fractions)),
        seeds=seeds,
        test_fraction=test_fraction,
        n_boot=n_boot,
        epochs=epochs,
        extra={"base": str(Path(base_dir).resolve())},
    )
    n_points = seeds * (
        sum(1 for s in config.strategies if s != "base_only") * len(config.fractions)
        + ("base_only" in config.strategies)
    )
    with status_progress("study (images)", total=n_points) as step:
        return image_study.run_image_study(dataset, model, config, out_dir=out, progress=step)

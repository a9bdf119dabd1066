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
) -> None:
    """Learning curves: each strategy on growing shares of the target group's rows.

    Writes OUT/study.json and OUT/report.html; interrupted runs resume from finished points.

    Example: medadapt study --data heart.csv --label num --positive-above 0 --group-column
    dataset --groups Cleveland,Hungary --group "VA Long Beach" --out study-va
    """
    small_model_threads()
    from medadapt.data.schema import TableSchema
    from medadapt.data.tables import read_table
    from medadapt.fileio import atomic_write_bytes
    from medadapt.workflows import study as study_mod
    from medadapt.workflows.jobs import select_groups
    from medadapt.workflows.study_report import study_report
    from medadapt.workflows.study_summary import aggregate, conclusions

    source_groups = tuple(split_list(groups))
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
    frame = read_table(data)
    source = select_groups(frame, group_column, list(source_groups), what="--groups")
    schema = TableSchema.infer(
        source,
        label=label,
        task=task,
        positive_above=positive_above,
        id_column=id_column,
        group_column=group_column,
    )
    n_points = config.seeds * (
        sum(1 for s in config.strategies if s != "base_only") * len(config.fractions)
        + ("base_only" in config.strategies)
    )
    with status_progress("study", total=n_points + config.seeds) as step:
        study = study_mod.run_study(
            frame, schema, config, out_dir=out, workers=workers, progress=step
        )
    curves = aggregate(study["points"], study["task"])
    found = conclusions(study, curves)
    study["curves"] = curves
    study["conclusions"] = found
    atomic_write_bytes(out / "study.json", json.dumps(study, indent=1).encode())
    study_report(study, curves, found).write(out / "report.html")
    for finding in study["sufficiency"]:
        if finding["level"] == "warning":
            stdout.print(f"[yellow]warning:[/yellow] {finding['message']}")
    for sentence in found["sentences"]:
        stdout.print(f"• {sentence}")
    stdout.print(f"wrote {out / 'study.json'} and {out / 'report.html'}")

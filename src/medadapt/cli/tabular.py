"""``train-base``, ``adapt``, ``evaluate``, ``predict`` for tables (CSV / Parquet)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from medadapt.cli.common import (
    print_table,
    small_model_threads,
    split_list,
    status_progress,
    stdout,
)
from medadapt.cli.main import app
from medadapt.evaluate.report.formatting import fmt_ci

DATA = typer.Option(..., "--data", help="CSV or Parquet file (or an image folder, see --backbone).")
LABEL = typer.Option(..., "--label", help="Label column.")
SEED = typer.Option(0, "--seed", help="Random seed (splits, initialisation, shuffling).")

_SHOWN = {
    "binary": (
        "auroc",
        "auprc",
        "accuracy",
        "balanced_accuracy",
        "sensitivity",
        "specificity",
        "brier",
        "ece",
    ),
    "multiclass": ("auroc", "accuracy", "balanced_accuracy", "brier", "ece"),
    "regression": ("mae", "rmse", "r2"),
}


def print_metrics(title: str, metrics: dict[str, Any], task: str) -> None:
    rows = [
        [
            name,
            fmt_ci(metrics.get(name), metrics.get(f"{name}_ci"), 3),
            metrics.get("notes", {}).get(name, ""),
        ]
        for name in _SHOWN[task]
    ]
    print_table(title, ["metric", "value (95% CI)", "note"], rows)


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
    test_fraction: float = typer.Option(0.2, help="Share of rows held out for testing."),
    d_token: int = typer.Option(64, help="Token width (paper default 192)."),
    n_blocks: int = typer.Option(2, help="Transformer blocks (paper default 3)."),
    n_heads: int = typer.Option(4, help="Attention heads."),
    seed: int = SEED,
) -> None:
    """Train a base FT-Transformer on a table (optionally only some groups).

    Example: medadapt train-base --data heart.csv --label num --positive-above 0
    --group-column dataset --groups Cleveland,Hungary --out base/
    """
    small_model_threads()
    from medadapt.train.tabular import TabularModelConfig
    from medadapt.workflows.jobs import train_base_job

    with status_progress("train-base") as step:
        summary = train_base_job(
            data=data,
            label=label,
            out=out,
            group_column=group_column,
            groups=split_list(groups),
            task=task,
            positive_above=positive_above,
            id_column=id_column,
            categorical=split_list(categorical),
            numeric=split_list(numeric),
            exclude=split_list(exclude),
            test_fraction=test_fraction,
            seed=seed,
            model_config=TabularModelConfig(d_token=d_token, n_blocks=n_blocks, n_heads=n_heads),
            progress=step,
        )
    for column, reason in summary["dropped_columns"].items():
        stdout.print(f"[yellow]dropped column {column!r}: {reason}[/yellow]")
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
    label: str = LABEL,
    group_column: str = typer.Option(..., help="Column holding the site/group."),
    group: str = typer.Option(..., help="The target group to adapt to."),
    out: Path = typer.Option(..., "--out", help="Directory for the adapter."),
    method: str = typer.Option("bottleneck", help="bottleneck | lora | ia3 | head | full."),
    name: str | None = typer.Option(None, help="Adapter name (default: <group>_<method>)."),
    train_fraction: float = typer.Option(1.0, help="Use this share of the group's training rows."),
    test_fraction: float = typer.Option(
        0.3, help="Share of the group's rows held out for testing."
    ),
    seed: int = SEED,
) -> None:
    """Train a small adapter on one group's rows; the base model stays frozen.

    Example: medadapt adapt --base base/ --data heart.csv --label num --group-column dataset
    --group "VA Long Beach" --method bottleneck --out adapters/va
    """
    small_model_threads()
    from medadapt.workflows.jobs import adapt_job

    with status_progress("adapt") as step:
        summary = adapt_job(
            base_dir=base,
            data=data,
            label=label,
            group_column=group_column,
            group=group,
            out=out,
            method=method,
            name=name,
            train_fraction=train_fraction,
            test_fraction=test_fraction,
            seed=seed,
            progress=step,
        )
    info = summary["data_summary"]
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
    label: str = LABEL,
    adapter: Path | None = typer.Option(None, "--adapter", help="Adapter directory."),
    group_column: str | None = typer.Option(None, help="Column holding the site/group."),
    group: str | None = typer.Option(None, help="Evaluate only this group's rows."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the metrics as JSON."),
    report: Path | None = typer.Option(None, "--report", help="Write an HTML report."),
    threshold: float = typer.Option(0.5, help="Operating point for sensitivity/specificity."),
) -> None:
    """Score a model (and adapter) with 95% CIs, overall and per subgroup.

    On the file the model or adapter was trained from, only its held-out rows are used.

    Example: medadapt evaluate --base base/ --adapter adapters/va --data heart.csv --label num
    --json va.json
    """
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
    )
    curves = result.pop("_curves")
    print_metrics(f"{result['n']} rows ({result['rows_used']})", result, result["task"])
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2))
        stdout.print(f"wrote {json_out}")
    if report is not None:
        evaluation_report(result, curves).write(report)
        stdout.print(f"wrote {report}")


@app.command("predict")
def predict_command(
    base: Path = typer.Option(..., "--base", help="Base model directory."),
    data: Path = DATA,
    out: Path = typer.Option(..., "--out", help="CSV file for the predictions."),
    adapter: Path | None = typer.Option(None, "--adapter", help="Adapter directory."),
) -> None:
    """Write one prediction per row (probabilities and predicted class, or a value).

    Example: medadapt predict --base base/ --adapter adapters/va --data new.csv --out pred.csv
    """
    small_model_threads()
    from medadapt.workflows.jobs import predict_job

    summary = predict_job(base_dir=base, data=data, out=out, adapter_dir=adapter)
    for column, count in summary["unseen_categories"].items():
        stdout.print(
            f"[yellow]{count} rows have a {column!r} value not seen in training "
            "(treated as 'unseen')[/yellow]"
        )
    stdout.print(f"wrote {summary['n']} predictions to {out}")

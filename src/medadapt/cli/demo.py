"""``medadapt demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from medadapt.cli.common import status_progress, stdout
from medadapt.cli.main import app
from medadapt.cli.printing import print_strategy_table
from medadapt.evaluate.report.formatting import fmt_ci
from medadapt.wording import plural

PROTOCOLS = ("default", "flamby", "flamby-federated")


@app.command()
def demo(
    protocol: str = typer.Option("default", help="default | flamby | flamby-federated"),
    out: Path = typer.Option(Path("demo-output"), help="Output directory."),
    seed: int = typer.Option(0, help="Random seed (default protocol)."),
    seeds: int = typer.Option(5, help="Seeds to average (flamby protocol, as FLamby reports)."),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples for the confidence intervals."),
    personalise: str | None = typer.Option(
        None,
        help="flamby-federated: what each centre keeps after the rounds: recalibrate (the "
        "default: the shared adapter shifted to its outcome rate) | finetune | head | none.",
    ),
    force: bool = typer.Option(
        False, "--force", help="Write into a non-empty directory that holds no earlier demo."
    ),
) -> None:
    """Run the main job on the bundled data and write OUT/results.json and OUT/report.html.

    default: a heart-disease model from Cleveland + Hungary adapted to VA Long Beach and
    Switzerland (7 strategies compared), plus one adapter per patient group on diabetes data.
    flamby: FLamby's Fed-Heart-Disease benchmark with per-centre adapters.
    flamby-federated: the same benchmark federated on Flower (4 centres as 4 nodes): a base
    trained at Cleveland, and a base trained by full-model FedAvg, each with a federated
    adapter, recalibrated at each centre (2.5 to 4 minutes per seed on 2 cores).

    An earlier demo's output in OUT is replaced; any other non-empty OUT is refused.

    Example: medadapt demo --out demo-output
    """
    _check_demo_options(protocol, seed=seed, seeds=seeds, n_boot=n_boot, out=out, force=force)
    if protocol == "flamby-federated":
        _federated_demo(out, seeds=seeds, n_boot=n_boot, personalise=personalise or "recalibrate")
        return
    if personalise is not None:
        from medadapt.errors import ConfigError

        raise ConfigError(
            f"--personalise applies to --protocol flamby-federated, not {protocol}: drop it"
        )
    from medadapt.workflows.demo import run_demo
    from medadapt.workflows.demo_report import LABELS
    from medadapt.workflows.labels import FLAMBY_LABELS

    steps = 18 if protocol == "default" else seeds
    with status_progress(f"demo ({protocol})", total=steps) as step:
        results = run_demo(  # --out checked above (--force, or an earlier demo's)
            out,
            protocol=protocol,
            seed=seed,
            seeds=seeds,
            n_boot=n_boot,
            progress=step,
            overwrite=True,
        )
    if protocol == "default":
        _print_centres(results, LABELS)
    else:
        _print_flamby(results, FLAMBY_LABELS)
    for line in results["summary"]:
        stdout.print(f"• {line}")
    stdout.print(f"\nwrote {out / 'results.json'} and {out / 'report.html'}")  # (its time: above)


def _check_demo_options(
    protocol: str, *, seed: int, seeds: int, n_boot: int, out: Path, force: bool
) -> None:
    """Refuse an unknown protocol, a seed out of range, counts below 1, and an OUT holding
    other files."""
    from medadapt.checks import seed as check_seed
    from medadapt.errors import ConfigError

    check_seed(seed)
    from medadapt.fileio import check_output_dir, other_outputs

    if protocol not in PROTOCOLS:
        raise ConfigError(f"--protocol must be one of {', '.join(PROTOCOLS)}; got {protocol!r}")
    from medadapt.checks import at_least, within_ceilings

    at_least(seeds, "--seeds")
    at_least(n_boot, "--n-boot")
    within_ceilings({"seeds": seeds, "n_boot": n_boot})
    from medadapt.cli.inputs import check_name_length

    check_name_length(out, "--out")
    if not (out / "results.json").is_file():  # a demo's own output is replaced on re-runs
        check_output_dir(out, flag="--out", force=force, foreign=other_outputs("results.json"))


def _print_centres(results: dict[str, Any], labels: dict[str, str]) -> None:
    """One table per centre: each strategy's metrics on its held-out test patients."""
    for centre, strategies in results["centres"].items():
        print_strategy_table(
            f"{centre}: held-out test patients",
            [
                "strategy",
                "n train",
                "AUROC (95% CI)",
                "accuracy",
                "balanced acc.",
                "trainable params",
            ],
            [
                [
                    labels[s],
                    m["n_train"],
                    fmt_ci(m["auroc"], m["auroc_ci"]),
                    fmt_ci(m["accuracy"], m["accuracy_ci"]),
                    fmt_ci(m["balanced_accuracy"], m["balanced_accuracy_ci"]),
                    m["trainable_params"],
                ]
                for s, m in strategies.items()
            ],
        )


def _print_flamby(results: dict[str, Any], labels: dict[str, str]) -> None:
    """The strategies averaged over FLamby's centres, beside FLamby's published accuracies."""
    from medadapt.workflows.flamby import average_columns

    print_strategy_table(
        "FLamby Fed-Heart-Disease: average over centres",
        ["strategy", *average_columns(results["average"])],
        [
            [
                labels[s],
                fmt_ci(m["accuracy"], m.get("accuracy_ci"), 3),
                m["auroc"] and f"{m['auroc']:.3f}",
                m["balanced_accuracy"] and f"{m['balanced_accuracy']:.3f}",
            ]
            for s, m in results["average"].items()
        ]
        + [
            [f"FLamby published: {k}", f"{v:.3f}", None, None]
            for k, v in results["flamby_published_accuracy"].items()
        ],
    )
    seeds = results.get("seeds")
    if isinstance(seeds, int):  # a trial compared one seed with FLamby's mean of five, unsaid
        stdout.print(
            f"AUROC and balanced accuracy: means over the centres that have them, without 95% "
            f"intervals (each centre's is in the report); this run: {plural(seeds, 'seed')}"
            ", FLamby's published figures: the mean of 5 (--seeds 5 "
            "to match)" if seeds < 5 else
            "AUROC and balanced accuracy: means over the centres that have them, without 95% "
            "intervals (each centre's is in the report)",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip


def _federated_demo(out: Path, *, seeds: int, n_boot: int, personalise: str) -> None:
    """FLamby's benchmark federated on Flower: both settings, beside FLamby's published
    accuracies (results.json and report.html in ``out``)."""
    import json

    from medadapt import checks
    from medadapt.cli import inputs
    from medadapt.federated.config import PERSONALISATION
    from medadapt.federated.flamby import (
        column_labels,
        flamby_federated_report,
        reading_lines,
        run_federated_flamby,
        setting_lines,
    )
    from medadapt.federated.results import finite
    from medadapt.fileio import atomic_write_bytes

    personalise = inputs.cased(personalise, PERSONALISATION)  # Recalibrate, as federate takes
    checks.one_of(personalise, "--personalise", PERSONALISATION)
    with status_progress("demo (flamby-federated)", total=seeds) as step:  # one step a seed
        results = run_federated_flamby(out, seeds=seeds, n_boot=min(n_boot, 200),
                                       personalise=personalise, progress=step)  # fmt: skip
    labels = column_labels(personalise)
    atomic_write_bytes(out / "results.json", json.dumps(finite(results), indent=2).encode())
    flamby_federated_report(results).write(out / "report.html")
    rows = []
    for key, setting in results["settings"].items():
        for which, values in setting["average"].items():
            if values["accuracy"]["mean"] is not None and which in labels:
                means = [_mean(values[m]) for m in ("accuracy", "auroc", "balanced_accuracy")]
                rows.append([f"({key}) {labels[which]}", *means])
    rows += [[f"FLamby published: {k}", f"{v:.3f}", None, None]
             for k, v in results["flamby_published_accuracy"].items()]  # fmt: skip
    print_strategy_table(
        "FLamby Fed-Heart-Disease, federated: average over centres (mean of seeds)",
        ["model", "accuracy", "AUROC", "balanced acc."],
        rows,
    )
    for note in [*setting_lines(results), *reading_lines(results), *results.get("site_notes", [])]:
        stdout.print(f"• {note}", markup=False)  # (a), (b); a centre trained on one outcome
    stdout.print(f"\nwrote {out / 'results.json'} and {out / 'report.html'}")  # (its time: above)


def _mean(entry: dict[str, Any]) -> str | None:
    return None if entry["mean"] is None else f"{entry['mean']:.3f}"

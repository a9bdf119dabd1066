"""``medadapt federate simulate``: federated adapter training over sites on Flower, in its
simulation engine (one node per site on this machine); only adapter weights, counts and
metrics travel between the sites and the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from medadapt import checks
from medadapt.cli import inputs
from medadapt.cli.common import new_directory, small_model_threads, status_progress, stdout
from medadapt.cli.main import app
from medadapt.cli.options import Shared, build_command, options_for
from medadapt.cli.verbs import DATA, GROUP_COLUMN, ID_COLUMN, LABEL, SEED, probes

federate_app = typer.Typer(
    help="Federated adapters across hospitals on Flower: only adapter weights travel.",
    no_args_is_help=True,
)
app.add_typer(federate_app, name="federate")

SIMULATE = [
    DATA, LABEL, GROUP_COLUMN,
    Shared("groups", str, ..., "Comma-separated sites taking part (values of --group-column): "
           "one Flower node each."),
    Shared("base", Path | None, None, "The base model every site starts from.", ("--base",)),
    Shared("base_groups", str | None, None, "Train the base first, on these groups (written to "
           "OUT/base), instead of --base."),
    Shared("method", str, "lora", "Adapter method: bottleneck, lora, dora, ia3 or head."),
    Shared("strategy", str, "fedavg", "fedavg | fedprox | fedadam | fedyogi."),
    Shared("rounds", int, 10, "Federated rounds."),
    Shared("local_epochs", int, 2, "Epochs each site trains per round."),
    Shared("lr", float | None, None, "Sites' learning rate (default: the modality's)."),
    Shared("proximal_mu", float, 0.1, "FedProx's proximal weight mu (--strategy fedprox)."),
    Shared("server_lr", float, 0.05, "FedAdam / FedYogi's server learning rate."),
    Shared("personalise", str, "none", "After the rounds each site keeps: none (the shared "
           "adapter) | head (its own head, FedPer) | finetune (a local fine-tune)."),
    Shared("dp_clip", float | None, None, "Differential privacy: clip each site's update to this "
           "norm (with --dp-noise)."),
    Shared("dp_noise", float | None, None, "Differential privacy: Gaussian noise multiplier."),
    Shared("on_site_error", str, "stop", "A site that fails: stop | continue (without it)."),
    ID_COLUMN,
    Shared("test_fraction", float, 0.3, "Share of each site's patients held out."),
    SEED,
    Shared("n_boot", int, 500, "Bootstrap resamples for the final per-site intervals."),
    Shared("out", Path, ..., "Output directory: the adapter, federated.json, report.html.",
           ("--out",)),
    Shared("force", bool, False, "Replace an existing --out.", ("--force",)),
]  # fmt: skip


def _simulate(**values: Any) -> None:
    from medadapt.federated.config import FederatedRun

    data, out = values["data"], values["out"]
    inputs.require_data(data)
    if (values["base"] is None) == (values["base_groups"] is None):
        from medadapt.errors import ConfigError

        raise ConfigError("pass --base BASE (a trained base) or --base-groups X (train one here)")
    checks.one_of(values["method"], "--method", [m for m in inputs.methods() if m != "full"])
    run = FederatedRun(
        base_dir=values["base"] or out / "base", data=data, label=values["label"],
        group_column=values["group_column"], sites=tuple(checks.names(values["groups"],
        "--groups")), id_column=values["id_column"], method=values["method"],
        strategy=values["strategy"], rounds=values["rounds"], local_epochs=values["local_epochs"],
        lr=values["lr"], proximal_mu=values["proximal_mu"], server_lr=values["server_lr"],
        personalise=values["personalise"], test_fraction=values["test_fraction"],
        seed=values["seed"], n_boot=values["n_boot"], clipping_norm=values["dp_clip"],
        noise_multiplier=values["dp_noise"], on_site_error=values["on_site_error"],
    ).check()  # fmt: skip
    if values["base"] is not None:
        modality = inputs.modality_of_base(values["base"], data, probes(values))
    else:
        from medadapt.modalities.base import modality_for_data

        modality = modality_for_data(data, probes(values))
    options = options_for("train-base", modality, values, data).check("train-base", data=data)
    inputs.check_not_inside(out, data, "--data")
    staged = new_directory(out, force=values["force"], markers={"federated.json": "a run"})
    small_model_threads(modality)
    with staged as staged_out, status_progress("federate (Flower simulation)") as step:
        run = _with_base(run, values, options, modality, staged_out, step)
        from medadapt.federated.job import federate_job

        results = federate_job(run, staged_out, progress=step)
    _print(results, out)


def _with_base(run, values, options, modality, out: Path, step):
    """``run`` with its base: the given one, or one trained now on ``--base-groups``."""
    from dataclasses import replace

    if values["base"] is not None:
        return run
    from medadapt.workflows.train_base import train_base_job

    groups = checks.names(values["base_groups"], "--base-groups")
    step(f"base model on {', '.join(groups)}")
    train_base_job(modality=modality, data=run.data, out=out / "base", options=options,
                   label=run.label, group_column=run.group_column, groups=groups,
                   id_column=run.id_column, seed=run.seed)  # fmt: skip
    return replace(run, base_dir=out / "base")


def _print(results: dict[str, Any], out: Path) -> None:
    from medadapt.cli.common import print_table
    from medadapt.evaluate.report.formatting import fmt

    rows = []
    for name, site in results["sites"].items():
        fed, local, pooled, base = (site.get(k) or {} for k in ("federated", "local", "pooled",
                                                               "base"))  # fmt: skip
        rows.append([name, site["n_test"], *(fmt(m.get("accuracy")) for m in (fed, local, pooled,
                     base)), fmt(fed.get("auroc"))])  # fmt: skip
    print_table("per site, held-out patients (accuracy at 0.5)",
                ["site", "n", "federated", "local only", "pooled", "base", "federated AUROC"],
                rows)  # fmt: skip
    sizes = results["bytes"]
    stdout.print(
        f"{sizes['adapter_to_site']:,.0f} bytes of adapter per site per round "
        f"({sizes['share_of_full_model']:.1%} of full-model FedAvg); "
        f"{results['seconds']:.0f} s in Flower; wrote {out}"
    )


build_command(
    federate_app, "train-base", SIMULATE, _simulate,
    """Simulate federated adapter training: one Flower node per site on this machine.

    Each site trains the adapter on its own rows and scores it on its own held-out patients;
    only adapter weights, counts and metrics travel. Reported beside the base alone, an adapter
    per site on its own rows (local only) and one on every site's rows pooled.

    Example: medadapt federate simulate --data heart.csv --label num --positive-above 0
    --id-column id --group-column dataset --groups Cleveland,Hungary,Switzerland,"VA Long Beach"
    --base-groups Cleveland --method lora --strategy fedavg --rounds 10 --out fed
    """,
    name="simulate",
)  # fmt: skip

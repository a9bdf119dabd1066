"""Federated adapters on Flower: time and bytes on the bundled heart data.

Measures, on one machine in one run:

1. the wall time of a 4-site simulation of 10 rounds (Flower's simulation engine on Ray, one
   node per site; target: under 2 minutes on 2 cores), and its per-site accuracy and AUROC;
2. the bytes each site receives per training round for each adapter method, counted by Flower
   (``ArrayRecord.count_bytes``), beside full-model FedAvg on the same base (target: <= 5 %),
   on medadapt's default FT-Transformer (64-wide, 2 blocks) and on the paper's size (192, 3);
3. the cost of differential privacy (Flower's server-side fixed clipping) in accuracy.

Prints a Markdown table with the machine, date and command.

Usage::

    PYTHONPATH=src python bench/bench_federated.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

from medadapt.adapters.methods import method_names
from medadapt.data.heart import CENTRES, bundled_path
from medadapt.federated.config import FederatedRun
from medadapt.federated.simulate import simulate
from medadapt.federated.sites import trainable
from medadapt.federated.wire import full_model_bytes, to_arrays
from medadapt.modalities import modality_of
from medadapt.modalities.bundle import BaseModel
from medadapt.modalities.tabular import TabularOptions
from medadapt.workflows.train_base import train_base_job

SIZES = {"default (64, 2 blocks)": {}, "paper (192, 3 blocks, 8 heads)": {
    "d_token": 192, "n_blocks": 3, "n_heads": 8}}  # fmt: skip
#: smaller settings (--adapter-options) beside each method's defaults
SMALLER = {"lora": {"r": 4}, "dora": {"r": 4}, "bottleneck": {"reduction_factor": 16.0}}


def base_of(root: Path, name: str, sizes: dict) -> Path:
    out = root / name
    train_base_job(data=Path(bundled_path()), out=out, label="num", group_column="dataset",
                   groups=["Cleveland"], id_column="id", n_boot=10,
                   options=TabularOptions(positive_above=0, **sizes))  # fmt: skip
    return out


def bytes_table(bases: dict[str, Path]) -> list[str]:
    lines = ["| base | method | adapter bytes / site / round | full-model FedAvg | share |",
             "|---|---|---:|---:|---:|"]  # fmt: skip
    for label, directory in bases.items():
        base = BaseModel.load(directory)
        full = full_model_bytes(base.model)
        settings = [(m, {}) for m in method_names()] + list(SMALLER.items())
        for method, options in settings:
            run = FederatedRun(base_dir=directory, data=None, label=None, group_column=None,
                               sites=("a", "b"), method=method,
                               adapter_options=options)  # fmt: skip
            sent = to_arrays(trainable(run, modality_of("tabular"), base).weights()).count_bytes()
            shown = method + "".join(f", {k}={v:g}" for k, v in options.items())
            lines.append(f"| {label} | {shown} | {sent:,} | {full:,} | {sent / full:.1%} |")
    return lines


def timing(base: Path, method: str) -> tuple[float, list[str]]:
    run = FederatedRun(base_dir=base, data=Path(bundled_path()), label="num",
                       group_column="dataset", sites=CENTRES, id_column="id", method=method,
                       rounds=10, local_epochs=2, n_boot=200).check()  # fmt: skip
    start = time.perf_counter()
    outcome = simulate(run)
    seconds = time.perf_counter() - start
    rows = [f"| {e['site']} | {int(e['num-examples'])} | {e['accuracy']:.3f} | {e['auroc']:.3f} |"
            for e in outcome.final]  # fmt: skip
    return seconds, rows


def dp_cost(base: Path, method: str) -> list[str]:
    """Mean accuracy and AUROC over the sites without and with differential privacy."""
    from dataclasses import replace

    run = FederatedRun(base_dir=base, data=Path(bundled_path()), label="num",
                       group_column="dataset", sites=CENTRES, id_column="id", method=method,
                       rounds=10, local_epochs=2, n_boot=50).check()  # fmt: skip
    rows = []
    for clip, noise in ((None, None), (1.0, 0.3), (1.0, 1.0)):
        outcome = simulate(replace(run, clipping_norm=clip, noise_multiplier=noise))
        accuracy = sum(e["accuracy"] for e in outcome.final) / len(outcome.final)
        aurocs = [e["auroc"] for e in outcome.final if e["auroc"] == e["auroc"]]
        label = "none" if clip is None else f"clip {clip:g}, noise multiplier {noise:g}"
        rows.append(f"| {label} | {accuracy:.3f} | {sum(aurocs) / len(aurocs):.3f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="lora", help="adapter method for the timed run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bases = {label: base_of(root, f"base_{i}", sizes) for i, (label, sizes) in
                 enumerate(SIZES.items())}  # fmt: skip
        seconds, rows = timing(next(iter(bases.values())), args.method)
        table = bytes_table(bases)
        private = dp_cost(next(iter(bases.values())), args.method)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"date: {dt.date.today()}; command: {shlex.join(['python', *sys.argv])}\n")  # fmt: skip
    print(
        f"4-site simulation, 10 rounds of FedAvg ({args.method}, 2 local epochs): "
        f"{seconds:.1f} s (Ray start-up included; target < 120 s)\n"
    )
    print("| site | test patients | accuracy at 0.5 | AUROC |\n|---|---:|---:|---:|")
    print("\n".join(rows) + "\n")
    print("\n".join(table) + "\n")
    print("| differential privacy (server-side fixed clipping) | mean accuracy | mean AUROC |\n"
          "|---|---:|---:|")  # fmt: skip
    print("\n".join(private))


if __name__ == "__main__":
    main()

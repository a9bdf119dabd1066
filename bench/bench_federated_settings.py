"""Federated adapter settings on FLamby's Fed-Heart-Disease: accuracy against bytes per round.

Setting (a) of ``medadapt demo --protocol flamby-federated`` (FLamby's preprocessing and
per-centre splits, a base trained on Cleveland's training rows, the adapter federated over the
four centres with FedAvg, 10 rounds of 2 local epochs), for each adapter setting given, over
several seeds: the shared adapter's and the personalised one's accuracy at 0.5 (average over
centres, then mean over seeds), AUROC, and the bytes each site receives per round.

Prints a Markdown table with the machine, date and command.

Usage::

    PYTHONPATH=src python bench/bench_federated_settings.py --seeds 5 \\
        --settings lora lora:r=4 bottleneck bottleneck:reduction_factor=16
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

from medadapt.adapters.methods import parse_method_options
from medadapt.data import heart
from medadapt.federated.config import FederatedRun
from medadapt.federated.flamby import cleveland_base
from medadapt.federated.job import federate_job


def setting(text: str) -> tuple[str, dict]:
    """``lora:r=4,alpha=8`` -> ("lora", {"r": 4, "alpha": 8.0})."""
    method, _, options = text.partition(":")
    return method, parse_method_options(method, options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--settings", nargs="+", default=["lora", "lora:r=4"])
    parser.add_argument("--personalise", default="recalibrate")
    args = parser.parse_args()
    settings = [setting(s) for s in args.settings]
    rows: dict[str, list[tuple[float, ...]]] = {s: [] for s in args.settings}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        frame = heart.flamby_frame()
        data = root / "flamby.csv"
        frame.to_csv(data, index=False)
        for seed in range(args.seeds):
            base = cleveland_base(frame, seed, root / f"base_{seed}")
            for text, (method, options) in zip(args.settings, settings, strict=True):
                run = FederatedRun(
                    base_dir=base, data=data, label="disease", group_column=heart.GROUP,
                    sites=heart.CENTRES, split_column="split", method=method,
                    adapter_options=options, rounds=10, local_epochs=2, n_boot=0,
                    personalise=args.personalise, seed=seed,
                ).check()  # fmt: skip
                out = federate_job(run, root / f"run_{seed}_{len(rows[text])}")
                average = out["average"]
                rows[text].append((average["federated"]["accuracy"],
                                   average["personalised"]["accuracy"],
                                   average["federated"]["auroc"],
                                   out["bytes"]["adapter_to_site"],
                                   out["bytes"]["share_of_full_model"]))  # fmt: skip
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"date: {dt.date.today()}; command: {shlex.join(['python', *sys.argv])}\n")  # fmt: skip
    print(f"{args.seeds} seeds; accuracy at 0.5 averaged over the 4 centres, then over seeds\n")
    print(f"| adapter | shared accuracy | {args.personalise} accuracy | AUROC | bytes / site / "
          "round | of full-model FedAvg |\n|---|---:|---:|---:|---:|---:|")  # fmt: skip
    for text, values in rows.items():
        means = [statistics.mean(v[i] for v in values) for i in range(3)]
        print(f"| {text} | {means[0]:.3f} | {means[1]:.3f} | {means[2]:.3f} | "
              f"{values[0][3]:,.0f} | {values[0][4]:.1%} |")  # fmt: skip


if __name__ == "__main__":
    main()

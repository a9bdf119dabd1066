"""Do medadapt's 95% intervals hold the truth 95% of the time when patients have several rows?

Simulated test sets of ``--patients`` patients with ``--per-patient`` rows each (repeat visits,
several images): the outcome and most of the score belong to the patient, a little noise to
the row. Each replicate is scored twice by ``binary_metrics``: treating rows as independent
(what medadapt did before 2026-12-02) and naming each row's patient (a cluster bootstrap, and
Korn-Graubard exact intervals for proportions; for AUROC the wider of the bootstrap's and
Newcombe's score interval, and the bootstrap's alone as ``auroc_bootstrap``: the AUROC interval
medadapt reported before Newcombe's was added). Coverage is the share of replicates whose
interval holds the true value (measured on 100,000 rows from the same process); a 95%
interval should hold it in about 95% of them; a metric withheld (too few patients of a
class) is not counted, and the last column says how often it was given.

    python bench/bench_intervals.py [--replicates 200] [--patients 40] [--per-patient 5]
                                    [--unequal]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import shlex
import sys
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.metrics import binary_metrics


def simulate(rng: np.random.Generator, n_patients: int, per: int, unequal: bool = False):
    """``(y, score, patient)``: per patient an outcome and a risk; per row a little noise.
    ``unequal``: each patient has 1 to 2 * ``per`` - 1 rows instead of ``per``."""
    outcome = rng.integers(0, 2, n_patients)
    risk = rng.normal(0, 1, n_patients) + 0.8 * outcome
    sizes = rng.integers(1, 2 * per, n_patients) if unequal else np.full(n_patients, per)
    y = np.repeat(outcome, sizes)
    noisy = np.repeat(risk, sizes) + rng.normal(0, 0.3, int(sizes.sum()))
    return y, 1 / (1 + np.exp(-noisy)), np.repeat(np.arange(n_patients), sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--per-patient", type=int, default=5)
    parser.add_argument("--n-boot", type=int, default=300)
    parser.add_argument("--unequal", action="store_true",
                        help="1 to 2 x --per-patient - 1 rows per patient")  # fmt: skip
    args = parser.parse_args()
    started = time.perf_counter()
    y, s, _ = simulate(np.random.default_rng(12345), 20_000, args.per_patient)
    pred = s >= 0.5
    truth = {"auroc": roc_auc_score(y, s), "auroc_bootstrap": roc_auc_score(y, s),
             "accuracy": float((pred == y).mean()),
             "sensitivity": float(pred[y == 1].mean()),
             "specificity": float((~pred[y == 0]).mean())}  # fmt: skip
    rng = np.random.default_rng(0)
    held = {how: {k: 0 for k in truth} for how in ("rows", "patients")}
    width = {how: {k: [] for k in truth} for how in ("rows", "patients")}
    for replicate in range(args.replicates):
        y, s, patient = simulate(rng, args.patients, args.per_patient, args.unequal)
        for how, given in (("rows", None), ("patients", patient)):
            m = binary_metrics(y, s, n_boot=args.n_boot, seed=replicate, patients=given)
            if m.get("auroc_ci") is not None:  # the percentile bootstrap alone (before)
                W = bs.resample_weights(len(y), args.n_boot, replicate,
                                        bs.cluster_index(given, len(y)))  # fmt: skip
                m["auroc_bootstrap_ci"] = bs.percentile_interval(bs.weighted_auroc(W, y, s))
            for name, value in truth.items():
                interval = m.get(f"{name}_ci")
                if interval is None:  # withheld (too few patients of a class): not counted
                    continue
                low, high = interval
                held[how][name] += low <= value <= high
                width[how][name].append(high - low)
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, "
          f"python {platform.python_version()}")  # fmt: skip
    print(f"date: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}")
    print(f"command: python {shlex.join(sys.argv)}  ({time.perf_counter() - started:.0f} s)")
    rows = f"1 to {2 * args.per_patient - 1}" if args.unequal else str(args.per_patient)
    print(f"{args.replicates} test sets of {args.patients} patients x {rows} rows; "
          f"{args.n_boot} bootstrap resamples each\n")  # fmt: skip
    print("| metric | true value | coverage, rows independent | coverage, patients named "
          "| mean width, rows | mean width, patients | intervals, patients named |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, value in truth.items():
        shown = {how: len(width[how][name]) for how in held}
        cover = {how: held[how][name] / max(shown[how], 1) for how in held}
        print(f"| {name} | {value:.3f} | {cover['rows']:.2f} | {cover['patients']:.2f} | "
              f"{np.mean(width['rows'][name]):.3f} | {np.mean(width['patients'][name]):.3f} | "
              f"{shown['patients']} of {args.replicates} |")  # fmt: skip


if __name__ == "__main__":
    main()

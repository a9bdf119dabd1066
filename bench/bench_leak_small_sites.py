"""How often does the leak check refuse ordinary rows at a small site?

Breast-cancer rows (scikit-learn's), each put at site A (70 %) or B (30 %) at random, so no
column is a leak anywhere. The base's strong predictors are recorded on site A's rows as
``train-base`` records them; then ``--samples`` random samples of ``--sizes`` rows of site B
are judged as ``adapt`` judges its rows. A sample is refused when a column alone predicts the
label at the leak level there and is not taken for a predictor the base relies on: by the
rule before 2026-12-06 (within 0.05 of the base's figure) and by the rule since (within 0.05,
or within 0.10 where the 95% interval of its AUROC on the sample holds the base's figure, on
10 rows of each class or more). Every refusal of these is a false one: the sites differ only
by chance. The price is measured too: each sample again with ``--leak-column`` (0.94 where
the base trained) made a perfect leak (its value raised by 10 in every positive row: a value
recorded after the outcome at this site only), counted where it is not refused.

    python bench/bench_leak_small_sites.py [--samples 300] [--sizes 39,60,100]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import shlex
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer

import medadapt as ma
from medadapt.data.leaks import AS_STRONG, as_strong_at_base, find_leaks, strong_features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--sizes", default="39,60,100")
    parser.add_argument("--leak-column", default="mean concavity")
    args = parser.parse_args()
    started = time.perf_counter()
    frame = load_breast_cancer(as_frame=True).frame
    frame["diagnosis"] = np.where(frame.pop("target") == 0, "malignant", "benign")
    frame["site"] = np.random.default_rng(0).choice(["A", "B"], len(frame), p=[0.7, 0.3])
    source, other = frame[frame["site"] == "A"], frame[frame["site"] == "B"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = ma.TableSchema.infer(source, label="diagnosis", positive_class="malignant",
                                      group_column="site")  # fmt: skip
    recorded = strong_features(schema, source)
    counts = []
    for size in (int(n) for n in args.sizes.split(",")):
        before = since = missed_before = missed = 0
        for seed in range(args.samples):
            sample = other.sample(size, random_state=seed)
            found = find_leaks(schema, sample)
            refused, fixed = _refused(found, recorded)
            before, since = before + bool(fixed), since + bool(refused)
            leaky = sample.copy()  # the column recorded after the outcome at this site
            positive = leaky["diagnosis"] == "malignant"
            leaky.loc[positive, args.leak_column] += 10
            refused, fixed = _refused(find_leaks(schema, leaky), recorded)
            missed += args.leak_column not in {leak.column for leak in refused}
            missed_before += args.leak_column not in {leak.column for leak in fixed}
        counts.append((size, before, since, missed_before, missed))
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, "
          f"python {platform.python_version()}")  # fmt: skip
    print(f"date: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}")
    print(f"command: python {shlex.join(sys.argv)}  ({time.perf_counter() - started:.0f} s)")
    at_base = recorded[args.leak_column]["value"]
    print(f"site A: {len(source)} rows (the base's); site B: {len(other)} rows; "
          f"{len(recorded)} columns recorded as strong predictors at A; the leak made of "
          f"{args.leak_column!r} (AUROC {at_base:.3f} at A)\n")  # fmt: skip
    print("| rows in the sample | ordinary rows refused: within 0.05 only | ordinary rows "
          "refused: or within the interval | leak missed: within 0.05 only | leak missed: or "
          "within the interval |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|")
    n = args.samples
    for size, before, since, missed_before, missed in counts:
        print(f"| {size} | {before} of {n} | {since} of {n} | {missed_before} of {n} | "
              f"{missed} of {n} |")  # fmt: skip


def _refused(found, recorded):
    """The columns refused by the rule since 2026-12-06 and by the fixed 0.05 before it."""
    _, refused = as_strong_at_base(found, recorded)
    fixed = [leak for leak in found if leak.column not in recorded
             or leak.value - recorded[leak.column]["value"] > AS_STRONG]  # fmt: skip
    return refused, fixed


if __name__ == "__main__":
    main()

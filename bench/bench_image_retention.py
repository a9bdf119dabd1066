"""New classes without forgetting: old-class AUROC before/after, adapter vs full fine-tuning.

A small timm ViT is trained from scratch on three synthetic "old" classes (normal, nodule,
mass; see tests/train/image_data.py), then extended with two new classes (cavity, effusion)
from a new data set that holds many new-class images and only a few of each old class. Each
strategy is scored on a separate, larger old-class test set: the old classes' AUROC
(one-vs-rest among the old classes) before and after, the drop with a paired bootstrap CI,
and the share of old-class images now called a new class. Repeated over seeds.

    python bench/bench_image_retention.py [--seeds 3] [--old-per-class 8] [--threads 2]
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.train.image_data

from tests.train.image_data import NEW, OLD, make_dataset

from bench_image_cache import cpu_name
from medadapt.evaluate.metrics import compute_metrics
from medadapt.evaluate.retention import old_class_retention
from medadapt.images import adapt, predict_proba, train_base

STRATEGIES = (
    ("bottleneck", "distill"),
    ("bottleneck", "none"),
    ("lora", "distill"),
    ("head", "distill"),
    ("full", "none"),
    ("full", "distill"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--old-per-class", type=int, default=8)
    parser.add_argument("--new-per-class", type=int, default=60)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--embed", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = {"depth": args.depth, "embed_dim": args.embed, "num_heads": 4}
    classes = [*OLD, *NEW]
    rows: dict[tuple[str, str], list[dict]] = {s: [] for s in STRATEGIES}
    started = time.perf_counter()
    for seed in range(args.seeds):
        old_train = make_dataset({c: 120 for c in OLD}, OLD, seed=100 + seed)
        old_test = make_dataset({c: 100 for c in OLD}, OLD, seed=200 + seed)
        counts = {c: args.old_per_class for c in OLD} | {c: args.new_per_class for c in NEW}
        new_train = make_dataset(counts, classes, seed=300 + seed)
        new_test = make_dataset({c: 60 for c in classes}, classes, seed=400 + seed)
        base = train_base(old_train, backbone_options=options, seed=seed)
        before = predict_proba(base.model, old_test.images)
        for method, trick in STRATEGIES:
            t0 = time.perf_counter()
            result = adapt(
                base,
                new_train,
                method=method,
                name="new",
                new_classes=NEW,
                retention=trick,
                seed=seed,
            )
            adapter = None if method == "full" else "new"
            after = predict_proba(result.model, old_test.images, adapter=adapter)
            kept = old_class_retention(old_test.y.numpy(), before, after, OLD, n_boot=500)
            proba = predict_proba(result.model, new_test.images, adapter=adapter)
            overall = compute_metrics("multiclass", new_test.y.numpy(), proba, n_boot=10)
            new_auroc = statistics.mean(
                compute_metrics("binary", (new_test.y == k).numpy(), proba[:, k], n_boot=10)[
                    "auroc"
                ]
                for k in range(len(OLD), len(classes))
            )
            rows[(method, trick)].append(
                {
                    **kept,
                    "macro": overall["auroc"],
                    "bacc": overall["balanced_accuracy"],
                    "new_auroc": new_auroc,
                    "params": result.trainable_params,
                    "seconds": time.perf_counter() - t0,
                }
            )
            print(
                f"seed {seed} {method}/{trick}: drop {kept['drop']:+.4f} "
                f"old->new {kept['old_predicted_as_new']:.2f}",
                file=sys.stderr,
            )
    lines = [
        f"machine: {cpu_name()}, {args.threads} torch thread(s), torch {torch.__version__}",
        f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"command: python {shlex.join(sys.argv)}",
        f"setup: timm ViT depth {args.depth}, embed {args.embed}, 32 px, patch 8, from scratch; "
        f"base on 3 x 120 old-class images; new data {args.old_per_class} per old class + "
        f"{args.new_per_class} per new class (2 new); old-class test set 3 x 100; "
        f"{args.seeds} seeds; total {time.perf_counter() - started:.0f} s",
        "",
        "| strategy | how old classes were kept | trainable params | old AUROC before | "
        "after | drop (mean, worst seed) | drops <= 0.01 | old images called new | "
        "new-class AUROC | 5-class macro AUROC | balanced acc. |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (method, trick), runs in rows.items():

        def mean(key: str, runs: list[dict] = runs) -> float:
            return statistics.mean(r[key] for r in runs)

        drops = [r["drop"] for r in runs]
        lines.append(
            f"| {method} | {trick} | {runs[0]['params']} | {mean('auroc_before'):.4f} | "
            f"{mean('auroc_after'):.4f} | {statistics.mean(drops):+.4f} ({max(drops):+.4f}) | "
            f"{sum(d <= 0.01 for d in drops)}/{len(drops)} | "
            f"{mean('old_predicted_as_new'):.0%} | {mean('new_auroc'):.3f} | "
            f"{mean('macro'):.3f} | {mean('bacc'):.3f} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

"""Image adapters on CPU with a small ViT: training throughput per method (with and without the
frozen-feature cache) and mixed-adapter inference throughput.

Training: full fine-tuning, Houlsby bottleneck (+ head copy), LoRA r8 on qkv (+ head copy) and
head only, each on the same images and batches from the same initial weights; "cached" rows put
the adapters in the top ``--top`` blocks and run the blocks below once (``precompute_tokens``;
head only: all blocks). Inference: the base model, one bottleneck adapter, and 8 bottleneck
adapters (then 8 LoRA adapters) mixed within every batch (one adapter id per image); mixed
outputs are checked against one-adapter-at-a-time outputs.

    python bench/bench_image_adapters.py [--images 256] [--epochs 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import statistics
import sys
import time
from collections.abc import Callable

import torch
from torch import nn

from bench_image_cache import cpu_name, make_images
from medadapt.adapters import AdapterModel, BottleneckConfig, HeadConfig, LoraConfig
from medadapt.backbones import create_vision_backbone
from medadapt.features import precompute_tokens, split_vision_model


def backbone(args: argparse.Namespace) -> nn.Module:
    torch.manual_seed(0)
    return create_vision_backbone(
        "timm:vit_tiny_patch16_224",
        num_classes=2,
        in_chans=1,
        image_size=args.size,
        depth=args.depth,
        embed_dim=args.embed,
        num_heads=3,
        patch_size=args.patch,
    )


def adapter(method: str, layers: tuple[int, ...] | None):
    if method == "bottleneck":
        return BottleneckConfig(
            placement="houlsby", reduction_factor=8, heads=("head",), layers=layers
        )
    if method == "lora":
        return LoraConfig(r=8, alpha=16, heads=("head",), layers=layers)
    return HeadConfig(heads=("head",))


def train_epochs(
    forward: Callable[[torch.Tensor], torch.Tensor], params, inputs, y, args
) -> list[float]:
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for epoch in range(args.epochs + 1):  # epoch 0 warms up
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(epoch))
        start = time.perf_counter()
        for i in range(0, len(y), args.batch):
            index = order[i : i + args.batch]
            loss = loss_fn(forward(inputs[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if epoch:
            times.append(time.perf_counter() - start)
    return times


def training_rows(images, y, args) -> list[tuple[str, float, float | None, int]]:
    """(configuration, img/s, one-off cache seconds, trainable parameters)."""
    rows = []
    model = backbone(args).train()
    times = train_epochs(model, list(model.parameters()), images, y, args)
    rows.append(
        (
            "full fine-tuning",
            args.images / statistics.median(times),
            None,
            sum(p.numel() for p in model.parameters()),
        )
    )
    top = tuple(range(args.depth - args.top, args.depth))
    for method, cached in [
        ("bottleneck", False),
        ("lora", False),
        ("head", False),
        ("bottleneck", True),
        ("lora", True),
        ("head", True),
    ]:
        model = AdapterModel(backbone(args))
        layers = top if cached and method != "head" else None
        model.add_adapter("a", adapter(method, layers))
        model.train_adapter("a")
        model.train()
        build, inputs, forward = None, images, model
        if cached:
            k = args.depth if method == "head" else args.depth - args.top
            prefix, suffix = split_vision_model(model, k)
            start = time.perf_counter()
            inputs = precompute_tokens(prefix, images, batch_size=64)
            build, forward = time.perf_counter() - start, suffix
        times = train_epochs(forward, model.trainable_parameters(), inputs, y, args)
        where = {
            "bottleneck": "Houlsby bottleneck r=d/8 + head",
            "lora": "LoRA r8 on qkv + head",
            "head": "head only",
        }[method]
        if cached:
            where += (
                " (cache: all blocks)"
                if method == "head"
                else f" (cache: top {args.top} blocks trained)"
            )
        rows.append(
            (where, args.images / statistics.median(times), build, model.count_parameters("a"))
        )
    return rows


@torch.no_grad()
def inference_rows(images, args) -> list[tuple[str, float]]:
    base = backbone(args).eval()
    model = AdapterModel(backbone(args)).eval()
    for method in ("bottleneck", "lora"):
        for i in range(8):
            name = f"{method}{i}"
            model.add_adapter(name, adapter(method, None))
            for p in model.adapter_parameters(name):
                p.add_(torch.randn_like(p) * 0.02)  # non-trivial outputs for the check
    n = len(images)
    generator = torch.Generator().manual_seed(1)
    ids = {
        m: [f"{m}{int(i)}" for i in torch.randint(0, 8, (n,), generator=generator)]
        for m in ("bottleneck", "lora")
    }
    runs = {
        "base model": lambda x, s: base(x),
        "1 bottleneck adapter": lambda x, s: model(x, adapter_ids=["bottleneck0"] * len(x)),
        "8 bottleneck adapters mixed in each batch": lambda x, s: model(
            x, adapter_ids=ids["bottleneck"][s : s + len(x)]
        ),
        "1 LoRA adapter (unmerged)": lambda x, s: model(x, adapter_ids=["lora0"] * len(x)),
        "8 LoRA adapters mixed in each batch": lambda x, s: model(
            x, adapter_ids=ids["lora"][s : s + len(x)]
        ),
    }
    for method in ("bottleneck", "lora"):  # mixed == one adapter at a time
        x = images[: args.infer_batch]
        mixed = model(x, adapter_ids=ids[method][: len(x)])
        for name in set(ids[method][: len(x)]):
            rows_of = [i for i, a in enumerate(ids[method][: len(x)]) if a == name]
            alone = model(x[rows_of], adapter_ids=[name] * len(rows_of))
            assert torch.allclose(mixed[rows_of], alone, atol=1e-4), f"{method} mixed != single"
    out = []
    for label, run in runs.items():
        run(images[: args.infer_batch], 0)  # warm-up
        rates = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for s in range(0, n, args.infer_batch):
                run(images[s : s + args.infer_batch], s)
            rates.append(n / (time.perf_counter() - start))
        out.append((label, statistics.median(rates)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--patch", type=int, default=8)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--embed", type=int, default=192)
    parser.add_argument("--top", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--infer-batch", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="Also write the tables to this file.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images, y = make_images(args.images, args.size)
    train = training_rows(images, y, args)
    infer = inference_rows(images, args)
    full = train[0][1]
    lines = [
        f"machine: {cpu_name()}, {args.threads} torch thread(s), torch {torch.__version__}",
        f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"command: python {shlex.join(sys.argv)}",
        f"setup: timm ViT depth {args.depth}, embed {args.embed}, 3 heads, {args.size} px, patch "
        f"{args.patch} ({(args.size // args.patch) ** 2 + 1} tokens), {args.images} images, "
        f"float32, AdamW; training batch {args.batch} (median of {args.epochs} epochs after a "
        f"warm-up epoch); inference batch {args.infer_batch} (median of {args.repeats} passes)",
        "",
        "| training configuration | trainable params | img/s | vs full fine-tuning | "
        "one-off cache pass (s) |",
        "|---|---|---|---|---|",
    ]
    for label, rate, build, params in train:
        lines.append(
            f"| {label} | {params} | {rate:.0f} | {rate / full:.2f}x | "
            f"{'-' if build is None else f'{build:.2f}'} |"
        )
    base_rate = infer[0][1]
    lines += ["", "| inference configuration | img/s | vs base model |", "|---|---|---|"]
    for label, rate in infer:
        lines.append(f"| {label} | {rate:.0f} | {rate / base_rate:.2f}x |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()

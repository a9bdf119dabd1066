"""Adapter training epochs on a small ViT with and without the frozen-feature cache (CPU).

Adapters (Houlsby bottleneck + a head copy) sit in the top ``--top`` blocks only. Without the
cache every step runs the whole ViT forward; with it, the lower blocks run once
(``precompute_tokens``) and each step runs only the top blocks. Both paths see the same batches
from the same initial weights, and the script checks that their losses agree.

    python bench/bench_image_cache.py [--images 320] [--epochs 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import shlex
import statistics
import sys
import time

import torch
from torch import nn

from medadapt.adapters import AdapterModel, BottleneckConfig
from medadapt.backbones import create_vision_backbone
from medadapt.features import precompute_tokens, split_vision_model


def make_images(n: int, size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Bright vs dark discs plus noise. Shape: (n, 1, size, size), labels (n,)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    disc = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 3) ** 2).float()
    level = torch.where(y == 0, 0.8, 0.3).view(n, 1, 1, 1)
    images = 0.1 + disc * level + 0.1 * torch.rand(n, 1, size, size, generator=g)
    return images.clamp(0, 1), y


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def build(args: argparse.Namespace) -> AdapterModel:
    torch.manual_seed(0)
    base = create_vision_backbone(
        "timm:vit_tiny_patch16_224",
        num_classes=2,
        in_chans=1,
        image_size=args.size,
        depth=args.depth,
        embed_dim=192,
        num_heads=3,
        patch_size=args.patch,
    )
    model = AdapterModel(base)
    top = tuple(range(args.depth - args.top, args.depth))
    model.add_adapter("new_site", BottleneckConfig(layers=top, heads=("head",)))
    model.train_adapter("new_site")
    return model.train()


def run_epochs(step_inputs, forward, model: AdapterModel, y, args) -> tuple[list[float], float]:
    """Per-epoch seconds and the last epoch's mean loss."""
    optimizer = torch.optim.AdamW(model.trainable_parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    times, mean_loss = [], 0.0
    for epoch in range(args.epochs):
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(epoch))
        start, total = time.perf_counter(), 0.0
        for i in range(0, len(y), args.batch):
            index = order[i : i + args.batch]
            loss = loss_fn(forward(step_inputs[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        times.append(time.perf_counter() - start)
        mean_loss = total / len(y)
    return times, mean_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=320)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--patch", type=int, default=8)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--top", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images, y = make_images(args.images, args.size)

    plain, cached = build(args), build(args)
    same_start = all(
        torch.equal(a, b)
        for a, b in zip(plain.state_dict().values(), cached.state_dict().values(), strict=True)
    )
    assert same_start, "both paths must start from the same weights"
    plain_times, plain_loss = run_epochs(images, plain, plain, y, args)

    prefix, suffix = split_vision_model(cached, args.depth - args.top)
    start = time.perf_counter()
    tokens = precompute_tokens(prefix, images, batch_size=64)
    build_time = time.perf_counter() - start
    cached_times, cached_loss = run_epochs(tokens, suffix, cached, y, args)

    plain_epoch = statistics.median(plain_times)
    cached_epoch = statistics.median(cached_times)
    total_plain = sum(plain_times)
    total_cached = build_time + sum(cached_times)
    n_tokens, width = tokens.shape[1:]
    print(f"machine: {cpu_name()}, {args.threads} torch thread(s), torch {torch.__version__}")
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"command: python {shlex.join(sys.argv)}")
    print(
        f"setup: timm ViT depth {args.depth}, embed 192, {args.size} px, patch {args.patch} "
        f"({n_tokens} tokens), {args.images} images, batch {args.batch}, Houlsby bottleneck + "
        f"head in the top {args.top} blocks, AdamW; cache {tokens.numel() * 4 / 2**20:.1f} MiB "
        f"({n_tokens}x{width} float32 per image)"
    )
    print()
    print(f"| configuration | s / epoch (median of {args.epochs}) | img/s | speed-up |")
    print("|---|---|---|---|")
    print(
        f"| no cache: full ViT forward every step | {plain_epoch:.2f} | "
        f"{args.images / plain_epoch:.0f} | 1.00x |"
    )
    print(
        f"| cache: top {args.top} blocks per step | {cached_epoch:.2f} | "
        f"{args.images / cached_epoch:.0f} | {plain_epoch / cached_epoch:.2f}x |"
    )
    print(
        f"| cache: one-off token pass (blocks 0-{args.depth - args.top - 1}) | "
        f"{build_time:.2f} | - | - |"
    )
    print(
        f"| {args.epochs} epochs incl. the one-off pass | {total_plain:.2f} vs "
        f"{total_cached:.2f} | - | {total_plain / total_cached:.2f}x |"
    )
    print()
    print(
        f"last-epoch mean loss: no cache {plain_loss:.6f}, cache {cached_loss:.6f} "
        f"(difference {abs(plain_loss - cached_loss):.1e})"
    )


if __name__ == "__main__":
    main()

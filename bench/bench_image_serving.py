"""Image serving benchmark: throughput and p50/p99 latency of image uploads over real HTTP, for
the base model alone, one adapter, and 8 adapters mixed in the micro-batches; and where the
server's time goes (reading and preprocessing the images vs the forward pass).

A registry with one image base (a timm ViT with random weights: speed does not depend on them)
and 8 promoted bottleneck adapters (Houlsby, with a head copy, random non-zero weights) is built
in a temporary directory. ``medadapt serve`` runs in its own process on loopback (so that the
client's work is not charged to the server: both would share one GIL in one process); the
clients are asyncio + httpx in this process, each request one PNG upload
(``--source-size`` px, resized by the server to ``--size``). "8 adapters" = each request names
one of 8 adapters at random. The split of the server's time is read from its own Prometheus
metrics (``medadapt_image_decode_seconds``, ``medadapt_batch_seconds``).

    PYTHONPATH=src python bench/bench_image_serving.py [--seconds 6] [--concurrency 1,8,32]
    PYTHONPATH=src python bench/bench_image_serving.py --device cuda \\
        --model vit_base_patch16_224 --size 224 --source-size 512
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from bench_serve import drive_clients, free_port, latency_percentiles

CONFIGS = ("base alone", "1 adapter", "8 adapters")
BATCHES = (1, 4, 16, 64)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu | cuda (the server's models)")
    parser.add_argument("--model", default="vit_tiny_patch16_224", help="timm model name")
    parser.add_argument("--size", type=int, default=64, help="the base's image size (px)")
    parser.add_argument("--source-size", type=int, default=256, help="uploaded PNG size (px)")
    parser.add_argument("--adapters", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=9.0, help="per scenario (all rounds)")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--repeats", type=int, default=3,
                        help="interleaved rounds per scenario (median; a shared machine's "
                        "noise moves one round by 15-25%%)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1, help="the server's torch threads")
    parser.add_argument("--decode-workers", type=int, default=2)
    parser.add_argument("--decode-processes", action="store_true")
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


def build_registry(root: Path, args: argparse.Namespace) -> tuple[Path, list[str], float]:
    """The registry; the adapter names; the seconds one forward pass of the base takes on a
    batch of 32 in this process (a reference figure)."""
    import torch

    from medadapt.adapters import AdapterModel, BottleneckConfig
    from medadapt.data.image_schema import ImageSchema
    from medadapt.modalities import modality_of
    from medadapt.modalities.bundle import BaseModel
    from medadapt.modalities.images.model import new_backbone
    from medadapt.registry import Registry
    from medadapt.registry.bases import add_base

    torch.manual_seed(0)
    schema = ImageSchema(classes=("normal", "abnormal"), channels=1, image_size=args.size)
    model = new_backbone(schema, f"timm:{args.model}", normalize="none").eval()
    architecture = modality_of("image").architecture(model)
    base = BaseModel(model, "image", architecture, schema, training={})
    base.save(root / "base")
    registry = Registry(root / "registry", create=True)
    add_base(registry.root, root / "base")
    served = AdapterModel(base.model)
    names = []
    for i in range(args.adapters):
        name = f"site_{i}"
        served.add_adapter(name, BottleneckConfig(placement="houlsby", heads=("head",)))
        with torch.no_grad():
            for param in served.adapter_parameters(name):
                param.add_(0.02 * torch.randn_like(param))  # not an identity
        metadata = {"kind": "image", "task": "binary", "classes": list(schema.classes)}
        served.save_adapter(name, root / "adapters" / name, metadata=metadata)
        registry.add(root / "adapters" / name, name=name)
        registry.promote(f"{name}@1")
        names.append(name)
    return registry.root, names, forward_ms(served, names, args)


def forward_ms(served, names: list[str], args: argparse.Namespace) -> dict[str, list[float]]:
    """Milliseconds per image of one forward pass alone in this process, for batches of
    ``BATCHES``: the base, one adapter, the adapters mixed (median of 5)."""
    import torch

    torch.set_num_threads(args.threads)
    served.to(args.device).eval()
    out: dict[str, list[float]] = {config: [] for config in CONFIGS}
    for n in BATCHES:
        x = torch.rand(n, 1, args.size, args.size, device=args.device)
        ids = {"base alone": [None] * n, "1 adapter": [names[0]] * n,
               "8 adapters": [names[i % len(names)] for i in range(n)]}  # fmt: skip
        for config, adapter_ids in ids.items():
            times = []
            with torch.no_grad():
                for _ in range(6):
                    started = time.perf_counter()
                    served(x, adapter_ids=adapter_ids).cpu()
                    times.append(time.perf_counter() - started)
            out[config].append(1000 * statistics.median(times[1:]) / n)
    served.to("cpu")
    return out


def decode_seconds(image: bytes, size: int) -> float:
    """Median seconds to read one upload as the server does, alone in this process."""
    from medadapt.data.image_schema import ImageSchema
    from medadapt.serve.image_decode import timed_decode
    from medadapt.serve.image_inputs import ImageServing, Upload

    schema = ImageSchema(classes=("normal", "abnormal"), channels=1, image_size=size)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scan.png"
        path.write_bytes(image)
        times = [timed_decode([Upload("scan.png", path, "png")], schema, ImageServing())[1]
                 for _ in range(25)]  # fmt: skip
    return statistics.median(times[5:])


def png_bytes(size: int, seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - size / 2) ** 2 + (xx - size / 3) ** 2 < (size / 5) ** 2
    pixels = (40 + 120 * disc + rng.integers(0, 30, (size, size))).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def start_server(registry: Path, port: int, args: argparse.Namespace) -> subprocess.Popen:
    command = [sys.executable, "-m", "medadapt.cli", "serve", "--registry", str(registry),
               "--port", str(port), "--threads", str(args.threads), "--device", args.device,
               "--decode-workers", str(args.decode_workers), "--max-batch",
               str(args.max_batch)]  # fmt: skip
    if args.decode_processes:
        command.append("--decode-processes")
    server = subprocess.Popen(command, env={**os.environ, "MEDADAPT_TOKEN": ""})
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("the server did not start")


def server_metrics(url: str) -> dict[str, float]:
    """The sums and counts of the server's decode and batch histograms."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    out = {}
    for name in ("image_decode_seconds", "batch_seconds", "batch_size"):
        for part in ("sum", "count"):
            found = re.search(rf"^medadapt_{name}_{part} (\S+)$", text, flags=re.M)
            out[f"{name}_{part}"] = float(found.group(1)) if found else 0.0
    return out


async def run_clients(url, images, adapters, concurrency, seconds) -> dict:
    latencies: list[float] = []
    errors = busy = 0
    deadline = time.perf_counter() + seconds

    async def client(seed: int, http: httpx.AsyncClient) -> None:
        nonlocal errors, busy
        rng = random.Random(seed)
        while time.perf_counter() < deadline:
            data = {"adapter": rng.choice(adapters)} if adapters else {}
            files = {"file": ("scan.png", rng.choice(images), "image/png")}
            start = time.perf_counter()
            reply = await http.post("/v1/predict", data=data, files=files)
            if reply.status_code == 503:  # full queues: wait as Retry-After says
                busy += 1
                await asyncio.sleep(float(reply.headers.get("Retry-After", 1)))
                continue
            errors += reply.status_code != 200
            latencies.append(time.perf_counter() - start)

    warm = {"file": ("scan.png", images[0], "image/png")}
    wall = await drive_clients(url, concurrency, client, timeout=60, warm_rounds=2,
                               warm=lambda http: http.post("/v1/predict", files=warm))  # fmt: skip
    return {"requests": len(latencies), "errors": errors, "busy_503": busy,
            "throughput": (len(latencies) - errors) / wall,
            **latency_percentiles(latencies)}  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scenario(url, server_pid, images, adapters, concurrency, seconds) -> dict:
    before = server_metrics(url)
    cpu_before = (cpu_seconds(server_pid), time.process_time(), time.perf_counter())
    stats = asyncio.run(run_clients(url, images, adapters, concurrency, seconds))
    wall = time.perf_counter() - cpu_before[2]
    stats["server_cpu"] = (cpu_seconds(server_pid) - cpu_before[0]) / wall
    stats["client_cpu"] = (time.process_time() - cpu_before[1]) / wall
    after = server_metrics(url)
    delta = {k: after[k] - before[k] for k in after}
    instances = max(delta["batch_size_sum"], 1.0)
    stats["mean_batch"] = delta["batch_size_sum"] / max(delta["batch_size_count"], 1.0)
    stats["decode_ms"] = (
        1000 * delta["image_decode_seconds_sum"] / max(delta["image_decode_seconds_count"], 1.0)
    )
    stats["forward_ms"] = 1000 * delta["batch_seconds_sum"] / instances
    return stats


def median_of(rounds: list[dict]) -> dict:
    """One scenario's figures over its interleaved rounds: counts summed, rates and times the
    median of the rounds (the round-to-round spread of throughput kept beside it)."""
    out = {}
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        summed = key in ("requests", "errors", "busy_503")
        out[key] = sum(values) if summed else statistics.median(values)
    throughputs = [r["throughput"] for r in rounds]
    out["throughput_range"] = [min(throughputs), max(throughputs)]
    return out


def machine(args: argparse.Namespace) -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else "no GPU used"
    return f"{cpu}, {os.cpu_count()} cores, {where}; torch {torch.__version__}"


def report(results: list[dict], args, argv, alone: dict) -> dict:
    out = {
        "machine": machine(args),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "PYTHONPATH=src python bench/bench_image_serving.py " + " ".join(argv),
        "setup": (
            f"timm {args.model} at {args.size} px, 1 channel, random weights, on {args.device}; "
            f"{args.adapters} bottleneck adapters (Houlsby + head copy); server: medadapt serve, "
            f"{args.threads} torch thread(s), {args.decode_workers} decoding "
            f"{'processes' if args.decode_processes else 'threads'}, max batch "
            f"{args.max_batch}; each request one {args.source_size} px PNG; {args.seconds:g} s "
            f"per scenario in {args.repeats} interleaved rounds (medians), each after a warm-up"
        ),
        "alone_in_process": alone,
        "results": results,
    }
    print(f"machine: {out['machine']}\ndate: {out['date']}\ncommand: {out['command']}")
    print(f"setup: {out['setup']}")
    print(f"alone in this process (no load): reading one upload {alone['decode_ms_per_image']:.2f}"
          " ms; forward ms/image by batch size:")  # fmt: skip
    print("| model | " + " | ".join(f"batch {n}" for n in BATCHES) + " |")
    print("|---|" + "---|" * len(BATCHES))
    for config, values in alone["forward_ms_per_image"].items():
        print(f"| {config} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    print("| clients | model | requests | errors | 503 | img/s | p50 ms | p99 ms | mean batch | "
          "decode ms/img | forward ms/img | CPU server / client |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['clients']} | {r['config']} | {r['requests']} | {r['errors']} | "
            f"{r['busy_503']} | {r['throughput']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['mean_batch']:.1f} | {r['decode_ms']:.2f} | {r['forward_ms']:.2f} | "
            f"{r['server_cpu']:.0%} / {r['client_cpu']:.0%} |"
        )
    for clients in sorted({r["clients"] for r in results}):
        row = {r["config"]: r for r in results if r["clients"] == clients}
        mixed, one, base = row["8 adapters"], row["1 adapter"], row["base alone"]
        print(
            f"{clients} clients: 8 adapters mixed = {mixed['throughput'] / one['throughput']:.0%}"
            f" of 1 adapter (target >= 90%), {mixed['throughput'] / base['throughput']:.0%} of "
            "the base alone"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="medadapt-bench-images-"))
    registry, adapters, forward = build_registry(root, args)
    images = [png_bytes(args.source_size, seed) for seed in range(16)]
    alone = {"decode_ms_per_image": 1000 * decode_seconds(images[0], args.size),
             "forward_ms_per_image": forward}  # fmt: skip
    port = free_port()
    server = start_server(registry, port, args)
    url = f"http://127.0.0.1:{port}"
    results = []
    try:
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            rounds: dict[str, list[dict]] = {config: [] for config in CONFIGS}
            for turn in range(args.repeats):  # interleaved, in a new order each round
                order = list(zip(CONFIGS, ([], adapters[:1], adapters), strict=True))
                random.Random(turn).shuffle(order)
                for config, chosen in order:
                    seconds = args.seconds / args.repeats
                    rounds[config].append(
                        scenario(url, server.pid, images, chosen, concurrency, seconds)
                    )
            for config in CONFIGS:
                results.append({"clients": concurrency, "config": config,
                                **median_of(rounds[config])})  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    return report(results, args, argv, alone)


if __name__ == "__main__":
    main()

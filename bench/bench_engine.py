"""Benchmark the adapter engine against full fine-tuning and Hugging Face PEFT.

Measures, on one machine in one run, on the same randomly initialised timm ViT:

1. training step throughput (images/s, median of timed steps after warm-up) and peak memory for
   full fine-tuning, head only, a Houlsby bottleneck adapter (reduction 16) in every block and in
   the top half of the blocks only, LoRA r=8 on ``qkv`` (medadapt and PEFT), plus the "frozen
   floor" (all weights frozen, gradient to the input);
2. inference throughput of the base model, one adapter, and a batch mixing 8 adapters
   (medadapt bottleneck and LoRA; PEFT LoRA with ``adapter_names``).

Each configuration builds its model afresh. Prints a Markdown table with the machine, date and
command, the ratios the engine is judged on, and pass/miss against the targets.

Usage::

    PYTHONPATH=src python bench/bench_engine.py                  # CPU: small ViT, ~1 min
    PYTHONPATH=src python bench/bench_engine.py --device cuda    # ViT-B/16, 224 px, bf16, 64 / 256
    PYTHONPATH=src python bench/bench_engine.py --json result.json

Peak memory: on CUDA ``torch.cuda.max_memory_allocated`` over the timed steps; on CPU the
tensors alive at the start of a step (parameters, buffers, optimizer state, batch) plus the
highest running total of the CPU allocations recorded by ``torch.profiler`` (profile_memory)
during one extra step. Both count live tensor bytes, not allocator caches or the process RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import shlex
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("KINETO_LOG_LEVEL", "5")  # keep the profiler quiet on CPU

import torch
import torch.nn.functional as F
from timm.models.vision_transformer import VisionTransformer

from medadapt.adapters import AdapterModel, BottleneckConfig, HeadConfig, LoraConfig

MODELS: dict[str, dict[str, int]] = {
    "tiny": dict(img_size=16, patch_size=4, embed_dim=32, depth=2, num_heads=2),  # smoke test
    "small": dict(img_size=64, patch_size=8, embed_dim=192, depth=6, num_heads=3),
    "vit_b16": dict(img_size=224, patch_size=16, embed_dim=768, depth=12, num_heads=12),
}
N_CLASSES = 1000
TRAIN_ROWS = {
    "full_ft": "full fine-tuning",
    "frozen_floor": "frozen floor (all frozen, grad to input; no optimizer)",
    "head_only": "head only (medadapt)",
    "bottleneck": "bottleneck Houlsby r=d/16 + head (medadapt)",
    "bottleneck_top": "bottleneck Houlsby r=d/16 in the top half of the blocks + head (medadapt)",
    "lora": "LoRA r8 qkv + head (medadapt)",
    "peft_lora": "LoRA r8 qkv + head (PEFT)",
}
INFER_ROWS = {
    "base": "base model",
    "bottleneck_1": "bottleneck, one adapter (medadapt)",
    "bottleneck_mixed": "bottleneck, {n} adapters mixed (medadapt)",
    "lora_1": "LoRA r8 qkv, one adapter, unmerged (medadapt)",
    "lora_mixed": "LoRA r8 qkv, {n} adapters mixed (medadapt)",
    "peft_lora_1": "LoRA r8 qkv, one adapter, unmerged (PEFT)",
    "peft_lora_mixed": "LoRA r8 qkv, {n} adapters mixed, adapter_names (PEFT)",
}
# (name, numerator, denominator, what is compared, comparison, target); target None = information
RATIOS: list[tuple[str, str, str, str, str, float | None]] = [
    ("bottleneck_vs_full_ft", "train/bottleneck", "train/full_ft", "img/s", ">=", 1.45),
    ("bottleneck_vs_peft_lora", "train/bottleneck", "train/peft_lora", "img/s", ">=", 1.0),
    ("bottleneck_memory_vs_full_ft", "train/bottleneck", "train/full_ft", "peak", "<=", 0.6),
    ("bottleneck_vs_frozen_floor", "train/bottleneck", "train/frozen_floor", "img/s", ">=", None),
    ("bottleneck_top_vs_full_ft", "train/bottleneck_top", "train/full_ft", "img/s", ">=", 1.45),
    (
        "bottleneck_top_memory_vs_full_ft",
        "train/bottleneck_top",
        "train/full_ft",
        "peak",
        "<=",
        0.6,
    ),
    ("lora_vs_peft_lora", "train/lora", "train/peft_lora", "img/s", ">=", None),
    ("mixed_vs_base", "infer/bottleneck_mixed", "infer/base", "img/s", ">=", 0.95),
    ("mixed_vs_peft_mixed", "infer/bottleneck_mixed", "infer/peft_lora_mixed", "img/s", ">=", 5.0),
    ("mixed_vs_one_adapter", "infer/bottleneck_mixed", "infer/bottleneck_1", "img/s", ">=", None),
    ("lora_mixed_vs_base", "infer/lora_mixed", "infer/base", "img/s", ">=", None),
    ("lora_mixed_vs_peft_mixed", "infer/lora_mixed", "infer/peft_lora_mixed", "img/s", ">=", None),
]


# ----- setup ------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument(
        "--model", choices=sorted(MODELS), default=None, help="cpu: small, cuda: vit_b16"
    )
    p.add_argument("--train-batch", type=int, default=None, help="cpu: 32, cuda: 64")
    p.add_argument("--infer-batch", type=int, default=None, help="cpu: 64, cuda: 256")
    p.add_argument("--steps", type=int, default=None, help="timed steps (cpu: 15, cuda: 20)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps (cpu: 2, cuda: 5)")
    p.add_argument("--dtype", choices=("fp32", "bf16"), default=None, help="bf16 = autocast")
    p.add_argument(
        "--schedule",
        choices=("interleaved", "sequential"),
        default=None,
        help="time configurations in turn, step by step (cpu default), or one after another "
        "(cuda default: peak memory per configuration needs it)",
    )
    p.add_argument("--n-adapters", type=int, default=8, help="adapters mixed in one batch")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--only", choices=("train", "infer"), default=None)
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)
    cuda = args.device == "cuda"
    defaults = dict(
        model="vit_b16" if cuda else "small",
        train_batch=64 if cuda else 32,
        infer_batch=256 if cuda else 64,
        steps=20 if cuda else 15,
        warmup=5 if cuda else 2,
        schedule="sequential" if cuda else "interleaved",
        dtype="bf16" if cuda else "fp32",
    )
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.steps < 1 or args.warmup < 0 or args.n_adapters < 1:
        raise SystemExit(f"need steps >= 1, warmup >= 0, n-adapters >= 1, got {vars(args)}")
    if cuda and args.schedule == "interleaved":
        raise SystemExit("--schedule interleaved on cuda would mix the peak memory of all cases")
    if cuda and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is visible")
    return args


def machine() -> str:
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu} ({os.cpu_count()} logical CPUs, torch threads {torch.get_num_threads()}); {gpu}"


def versions() -> str:
    import peft
    import timm

    cuda = f" (CUDA {torch.version.cuda})" if torch.cuda.is_available() else ""
    return f"torch {torch.__version__}{cuda}, timm {timm.__version__}, peft {peft.__version__}"


def new_vit(args: argparse.Namespace) -> VisionTransformer:
    """A fresh randomly initialised ViT (same seed every time) on the benchmark device."""
    torch.manual_seed(0)
    model = VisionTransformer(**MODELS[args.model], num_classes=N_CLASSES)
    return model.to(args.device)


def batch(args: argparse.Namespace, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    size = MODELS[args.model]["img_size"]
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(n, 3, size, size, generator=generator)  # (B, 3, H, W)
    y = torch.randint(0, N_CLASSES, (n,), generator=generator)
    return x.to(args.device), y.to(args.device)


def autocast(args: argparse.Namespace):
    if args.dtype == "bf16":
        return torch.autocast(args.device, dtype=torch.bfloat16)
    return nullcontext()


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def release() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


@dataclass
class Case:
    """One configuration, built on a fresh model: a step to time, and its peak memory."""

    step: Callable[[], None]
    batch_size: int
    info: dict[str, Any] = field(default_factory=dict)
    peak_bytes: Callable[[], int] | None = None  # training cases only


def run_cases(builders: dict[str, Callable[[], Case]], args: argparse.Namespace) -> dict:
    """Rows of figures, one per case.

    ``sequential`` (CUDA default): build, warm up and time one case at a time, so that
    ``max_memory_allocated`` sees only that case. ``interleaved`` (CPU default): build every
    case, then time one step of each in turn, so that bursts of load on a shared machine hit
    every case alike.
    """
    if args.schedule == "sequential":
        rows = {}
        for key, build in builders.items():
            case = build()
            for _ in range(args.warmup):
                case.step()
            sync(args.device)
            if args.device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            rows[key] = figures(case, [timed_step(case.step, args) for _ in range(args.steps)])
            del case
            release()
        return rows
    cases = {key: build() for key, build in builders.items()}
    for case in cases.values():
        for _ in range(args.warmup):
            case.step()
    times: dict[str, list[float]] = {key: [] for key in cases}
    for _ in range(args.steps):
        for key, case in cases.items():
            times[key].append(timed_step(case.step, args))
    rows = {key: figures(case, times[key]) for key, case in cases.items()}
    del cases
    release()
    return rows


def timed_step(step: Callable[[], None], args: argparse.Namespace) -> float:
    sync(args.device)
    start = time.perf_counter()
    step()
    sync(args.device)
    return time.perf_counter() - start


def figures(case: Case, times: list[float]) -> dict[str, Any]:
    median = statistics.median(times)
    row = {
        "img_per_s": case.batch_size / median,
        "ms_median": 1e3 * median,
        "ms_min": 1e3 * min(times),
        "ms_max": 1e3 * max(times),
        "ms_all": [round(1e3 * t, 2) for t in times],
        **case.info,
    }
    if case.peak_bytes is not None:
        row["peak_bytes"] = case.peak_bytes()
    return row


def tensor_bytes(tensors: list[torch.Tensor]) -> int:
    seen: dict[int, int] = {}
    for t in tensors:
        if t is not None and t.device.type == "cpu":
            storage = t.untyped_storage()
            seen[storage.data_ptr()] = storage.nbytes()
    return sum(seen.values())


def cpu_peak_bytes(step: Callable[[], Any], live: list[torch.Tensor]) -> int:
    """Bytes of ``live`` plus the highest running total of CPU allocations during ``step``."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = sorted(
        (e.start_ns(), e.nbytes())
        for e in prof.profiler.kineto_results.events()
        if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU
    )
    running = peak = 0
    for _, nbytes in events:
        running += nbytes
        peak = max(peak, running)
    return tensor_bytes(live) + peak


def adapter_tensors_randomized(model: torch.nn.Module, base_ids: set[int]) -> None:
    """Give every parameter that is not a base weight small random values (adapters start as
    identities; the timing does not depend on it, but the outputs then really differ)."""
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for param in model.parameters():
            if id(param) not in base_ids:
                noise = torch.randn(param.shape, generator=generator) * 0.02
                param.add_(noise.to(param.device, param.dtype))


def peft_lora(vit: VisionTransformer, *, n: int, head: bool) -> torch.nn.Module:
    """A PEFT model with ``n`` LoRA adapters ``a0..`` (r 8, alpha 16) on every ``qkv``."""
    from peft import LoraConfig as PeftLoraConfig
    from peft import get_peft_model

    def config() -> PeftLoraConfig:
        return PeftLoraConfig(
            r=8, lora_alpha=16, target_modules=["qkv"], modules_to_save=["head"] if head else None
        )

    model = get_peft_model(vit, config(), adapter_name="a0")
    for i in range(1, n):
        model.add_adapter(f"a{i}", config())
    return model


def medadapt_config(kind: str, *, head: bool, depth: int) -> Any:
    """``bottleneck_top`` places adapters in blocks ``depth // 2 .. depth - 1`` only, so the
    lower half runs without autograd (nothing below needs a gradient)."""
    heads = ("head",) if head else ()
    if kind == "head_only":
        return HeadConfig(heads=("head",))
    if kind == "bottleneck_top":
        layers = tuple(range(depth // 2, depth))
        return BottleneckConfig(
            placement="houlsby", reduction_factor=16, heads=heads, layers=layers
        )
    if kind.startswith("bottleneck"):
        return BottleneckConfig(placement="houlsby", reduction_factor=16, heads=heads)
    return LoraConfig(r=8, alpha=16, targets=["attn.qkv"], heads=heads)


# ----- training ---------------------------------------------------------------------------------
def train_model(kind: str, args: argparse.Namespace) -> tuple[torch.nn.Module, list, bool]:
    """``(model, trainable parameters, whether the input needs a gradient)``."""
    vit = new_vit(args)
    if kind == "full_ft":
        return vit, list(vit.parameters()), False
    if kind == "frozen_floor":
        vit.requires_grad_(False)
        return vit, [], True
    if kind == "peft_lora":
        model = peft_lora(vit, n=1, head=True)
        return model, [p for p in model.parameters() if p.requires_grad], False
    model = AdapterModel(vit)
    model.add_adapter("a0", medadapt_config(kind, head=True, depth=MODELS[args.model]["depth"]))
    model.train_adapter("a0")
    return model, model.trainable_parameters(), False


def train_case(kind: str, args: argparse.Namespace) -> Case:
    x, y = batch(args, args.train_batch)
    model, params, input_grad = train_model(kind, args)
    model.train()
    optimizer = torch.optim.AdamW(params, lr=1e-4) if params else None
    source = x.clone().requires_grad_(True) if input_grad else x

    def step() -> None:
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
        source.grad = None
        with autocast(args):
            loss = F.cross_entropy(model(source).float(), y)
        loss.backward()
        if optimizer is not None:
            optimizer.step()

    def peak_bytes() -> int:
        if args.device == "cuda":
            return torch.cuda.max_memory_allocated()
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
        source.grad = None
        live = [*model.parameters(), *model.buffers(), source, y]
        if optimizer is not None:
            live += [t for s in optimizer.state.values() for t in s.values() if torch.is_tensor(t)]
        return cpu_peak_bytes(step, live)

    trainable = {"trainable_params": sum(p.numel() for p in params)}
    return Case(step, args.train_batch, trainable, peak_bytes)


# ----- inference --------------------------------------------------------------------------------
def infer_model(kind: str, args: argparse.Namespace) -> tuple[torch.nn.Module, dict[str, Any]]:
    """``(model, forward keyword arguments)``; mixed batches route sample i to ``a{i % n}``."""
    vit = new_vit(args).eval()
    if kind == "base":
        return vit, {}
    base_ids = {id(p) for p in vit.parameters()}
    mixed = kind.endswith("_mixed")
    n = args.n_adapters if mixed else 1
    ids = [f"a{i % n}" for i in range(args.infer_batch)]
    if kind.startswith("peft"):
        model = peft_lora(vit, n=n, head=False).eval()
        adapter_tensors_randomized(model, base_ids)
        if mixed:
            return model, {"adapter_names": ids}
        model.set_adapter("a0")
        return model, {}
    model = AdapterModel(vit).eval()
    for i in range(n):
        model.add_adapter(
            f"a{i}", medadapt_config(kind, head=False, depth=MODELS[args.model]["depth"])
        )
    adapter_tensors_randomized(model, base_ids)
    if mixed:
        return model, {"adapter_ids": ids}
    model.set_active("a0")
    return model, {}


def infer_case(kind: str, args: argparse.Namespace) -> Case:
    x, _ = batch(args, args.infer_batch)
    model, kwargs = infer_model(kind, args)

    def step() -> None:
        with torch.inference_mode(), autocast(args):
            model(x, **kwargs)

    return Case(step, args.infer_batch)


# ----- report -----------------------------------------------------------------------------------
def ratios(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each ratio from median step times (judged against its target) and, as a check on a
    noisy machine, from the fastest step of each side (``value_min``)."""
    out = {}
    for name, num, den, measure, op, target in RATIOS:
        value = value_min = None
        if num in rows and den in rows:
            if measure == "peak":
                value = value_min = rows[num]["peak_bytes"] / rows[den]["peak_bytes"]
            else:  # throughput ratio = inverse ratio of step times
                value = rows[den]["ms_median"] / rows[num]["ms_median"]
                value_min = rows[den]["ms_min"] / rows[num]["ms_min"]
        if target is None or value is None:
            verdict = "info" if value is not None else "n/a"
        else:
            verdict = "pass" if (value >= target if op == ">=" else value <= target) else "miss"
        what = "peak memory" if measure == "peak" else "img/s"
        out[name] = {
            "value": value,
            "value_min": value_min,
            "what": f"{num} / {den} ({what})",
            "target": None if target is None else f"{op} {target:g}",
            "verdict": verdict,
        }
    return out


def render(result: dict[str, Any]) -> str:
    meta, rows = result["meta"], result["rows"]
    n = meta["n_adapters"]
    lines = [
        f"- machine: {meta['machine']}",
        f"- software: {meta['software']}",
        f"- date: {meta['date']}",
        f"- command: `{meta['command']}`",
        f"- setup: {meta['setup']}",
        f"- peak memory: {meta['memory_method']}",
        "",
    ]
    train = [k for k in rows if k.startswith("train/")]
    if train:
        lines += [
            "| training configuration | trainable params | img/s | step ms median (min-max) "
            "| peak MiB |",
            "|---|---:|---:|---:|---:|",
        ]
        for key in train:
            r = rows[key]
            lines.append(
                f"| {TRAIN_ROWS[key[6:]]} | {r['trainable_params']:,} | {r['img_per_s']:.1f} "
                f"| {r['ms_median']:.1f} ({r['ms_min']:.1f}-{r['ms_max']:.1f}) "
                f"| {r['peak_bytes'] / 2**20:.1f} |"
            )
        lines.append("")
    infer = [k for k in rows if k.startswith("infer/")]
    if infer:
        lines += [
            "| inference configuration | img/s | batch ms median (min-max) |",
            "|---|---:|---:|",
        ]
        for key in infer:
            r = rows[key]
            lines.append(
                f"| {INFER_ROWS[key[6:]].format(n=n)} | {r['img_per_s']:.1f} "
                f"| {r['ms_median']:.1f} ({r['ms_min']:.1f}-{r['ms_max']:.1f}) |"
            )
        lines.append("")
    lines += [
        "| ratio | value (medians) | target | result | value (fastest steps) |",
        "|---|---:|---:|---|---:|",
    ]
    for name, r in result["ratios"].items():
        value, fastest = (
            ("n/a", "n/a") if r["value"] is None else (f"{r['value']:.3f}", f"{r['value_min']:.3f}")
        )
        lines.append(
            f"| {name}: {r['what']} | {value} | {r['target'] or '-'} | {r['verdict']} | {fastest} |"
        )
    lines.append(f"\ntotal wall time {meta['wall_s']:.0f} s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    spec = MODELS[args.model]
    started = time.perf_counter()
    builders: dict[str, Callable[[], Case]] = {}
    if args.only in (None, "train"):
        for kind in TRAIN_ROWS:
            builders[f"train/{kind}"] = lambda kind=kind: train_case(kind, args)
    if args.only in (None, "infer"):
        for kind in INFER_ROWS:
            builders[f"infer/{kind}"] = lambda kind=kind: infer_case(kind, args)
    rows: dict[str, dict[str, Any]] = {}
    for stage in ("train/", "infer/"):  # training cases and inference cases timed apart
        rows.update(run_cases({k: b for k, b in builders.items() if k.startswith(stage)}, args))
    setup = (
        f"timm VisionTransformer '{args.model}' (embed {spec['embed_dim']}, depth {spec['depth']}, "
        f"{spec['num_heads']} heads, patch {spec['patch_size']}, {spec['img_size']} px, "
        f"{N_CLASSES} classes, random init), device {args.device}, {args.dtype}"
        f"{' autocast' if args.dtype == 'bf16' else ''}, AdamW lr 1e-4; train batch "
        f"{args.train_batch}, inference batch {args.infer_batch}; {args.warmup} warm-up + "
        f"{args.steps} timed steps, median; every configuration on its own fresh model, timed "
        f"{args.schedule}{' (one step of each in turn)' if args.schedule == 'interleaved' else ''}"
        "; mixed batches "
        f"route sample i to adapter i mod {args.n_adapters}; inference adapters carry no head"
    )
    memory = (
        "torch.cuda.max_memory_allocated over the timed steps"
        if args.device == "cuda"
        else "live tensors at step start + peak of torch.profiler CPU allocations in one step"
    )
    result = {
        "meta": {
            "machine": machine(),
            "software": versions(),
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": shlex.join(["python", "bench/bench_engine.py", *argv]),
            "setup": setup,
            "memory_method": memory,
            "n_adapters": args.n_adapters,
            "args": {k: str(v) for k, v in vars(args).items()},
            "wall_s": time.perf_counter() - started,
        },
        "rows": rows,
    }
    result["ratios"] = ratios(rows)
    result["table"] = render(result)
    print(result["table"])
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

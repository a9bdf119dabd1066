"""Serving benchmark: throughput and p50/p99 latency of single-instance requests.

Loopback only, bounded in requests and time. A registry with one base model (heart disease,
bundled) and 8 promoted adapters is built in a temporary directory; the server runs in its own
process (`medadapt serve`); clients are asyncio + httpx in this process. Scenarios: 1, 8 and
32 concurrent clients, every request to one adapter vs requests spread over 8 adapters.

    python bench/bench_serve.py [--requests 600] [--seconds 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def build_registry(root: Path, n_adapters: int = 8) -> tuple[Path, list[dict], list[str]]:
    import torch

    from medadapt.adapters import AdapterModel
    from medadapt.data import heart
    from medadapt.registry import Registry
    from medadapt.registry.bases import add_base
    from medadapt.tables import adapt, train_base
    from medadapt.train.loop import TrainConfig
    from medadapt.workflows.demo import heart_schema

    torch.set_num_threads(1)
    frame = heart.load_heart_disease()
    source = frame[frame["dataset"].isin(["Cleveland", "Hungary"])]
    base = train_base(source, heart_schema(source), seed=0)
    base.save(root / "base")
    registry = Registry(root / "registry", create=True)
    add_base(registry.root, root / "base")
    served = AdapterModel(base.model)
    target = frame[frame["dataset"] == "VA Long Beach"]
    quick = TrainConfig(epochs=3, patience=3, lr=3e-3)
    names = []
    for i in range(n_adapters):
        name = f"site_{i}"
        adapt(
            base,
            target.sample(frac=0.5, random_state=i),
            method="bottleneck",
            name=name,
            into=served,
            train_config=quick,
            seed=i,
        )
        served.save_adapter(name, root / "adapters" / name)
        registry.add(root / "adapters" / name, name=name)
        registry.promote(f"{name}@1")
        names.append(name)
    rows = json.loads(target.drop(columns=["num"]).head(64).to_json(orient="records"))
    return registry.root, rows, names


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def run_clients(url, rows, adapters, concurrency, n_requests, max_seconds):
    latencies: list[float] = []
    errors = 0
    counter = iter(range(n_requests))
    deadline = time.perf_counter() + max_seconds

    async def client(seed: int, http: httpx.AsyncClient) -> None:
        nonlocal errors
        rng = random.Random(seed)
        for _ in counter:
            if time.perf_counter() > deadline:
                return
            body = {"adapter": rng.choice(adapters), "instances": [rng.choice(rows)]}
            start = time.perf_counter()
            reply = await http.post("/v1/predict", json=body)
            latencies.append(time.perf_counter() - start)
            errors += reply.status_code != 200

    warm = {"adapter": adapters[0], "instances": rows[:1]}
    wall = await drive_clients(url, concurrency, client, timeout=30, warm_rounds=3,
                               warm=lambda http: http.post("/v1/predict", json=warm))  # fmt: skip
    return {"requests": len(latencies), "errors": errors,
            "throughput": len(latencies) / wall, **latency_percentiles(latencies)}  # fmt: skip


async def drive_clients(url, concurrency, client, *, timeout, warm_rounds, warm) -> float:
    """Open ``concurrency`` connections with ``warm_rounds`` rounds of ``warm(http)``, then run
    ``client(seed, http)`` for each of them at once; the wall seconds of that run."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as http:
        for _ in range(warm_rounds):  # warm-up: open every connection before timing
            await asyncio.gather(*(warm(http) for _ in range(concurrency)))
        started = time.perf_counter()
        await asyncio.gather(*(client(s, http) for s in range(concurrency)))
        return time.perf_counter() - started


def latency_percentiles(latencies: list[float]) -> dict[str, float]:
    """p50 and p99 of ``latencies`` (seconds) in milliseconds."""
    ordered = sorted(latencies)
    return {"p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]}  # fmt: skip


WRK_SCRIPT = """
local bodies = {%s}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, "/v1/predict", nil, bodies[math.random(#bodies)])
end
"""


def _ms(text: str) -> float:
    value = float(text.rstrip("usm"))
    return (
        value / 1000
        if text.endswith("us")
        else value * 1000
        if text.endswith("s") and not text.endswith("ms")
        else value
    )


def run_wrk(url, rows, adapters, concurrency, seconds, workdir: Path) -> dict:
    """wrk (C, from Debian) as the load generator: Python clients saturate a 2-core box
    before the server does."""
    rng = random.Random(0)
    bodies = [
        json.dumps({"adapter": rng.choice(adapters), "instances": [rng.choice(rows)]})
        for _ in range(256)
    ]
    script = workdir / f"wrk_{concurrency}_{len(adapters)}.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(b) for b in bodies))
    subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", "-d2s", "-s", str(script), url],
        capture_output=True,
        check=True,
    )  # warm-up
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{seconds:.0f}s",
            "--timeout",
            "5s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    stats = {"requests": 0, "errors": 0}
    for line in out.splitlines():
        parts = line.split()
        if line.strip().startswith("50%"):
            stats["p50_ms"] = _ms(parts[1])
        elif line.strip().startswith("99%"):
            stats["p99_ms"] = _ms(parts[1])
        elif line.startswith("Requests/sec"):
            stats["throughput"] = float(parts[1])
        elif "requests in" in line:
            stats["requests"] = int(parts[0])
        elif line.strip().startswith("Non-2xx"):
            stats["errors"] += int(parts[-1])
        elif line.strip().startswith("Socket errors"):
            stats["errors"] += sum(int(p.strip(",")) for p in parts[3::2])
    return stats


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--client",
        choices=("wrk", "httpx"),
        default="wrk" if shutil.which("wrk") else "httpx",
        help="load generator (default: wrk when installed)",
    )
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="medadapt-bench-serve-"))
    registry, rows, adapters = build_registry(root)
    port = free_port()
    env = {**os.environ, "MEDADAPT_TOKEN": ""}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "medadapt.cli",
            "serve",
            "--registry",
            str(registry),
            "--port",
            str(port),
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        results = []
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            for label, chosen in (("1 adapter", adapters[:1]), ("8 adapters", adapters)):
                if args.client == "wrk":
                    stats = run_wrk(url, rows, chosen, concurrency, args.seconds, root)
                else:
                    stats = asyncio.run(
                        run_clients(url, rows, chosen, concurrency, args.requests, args.seconds)
                    )
                results.append({"clients": concurrency, "adapters": label, **stats})
    finally:
        server.terminate()
        server.wait(timeout=30)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python bench/bench_serve.py " + " ".join(argv or sys.argv[1:]),
        "client": args.client,
        "results": results,
    }
    print(f"machine: {report['machine']}\ndate: {report['date']}\ncommand: {report['command']}")
    print(f"load generator: {args.client}; server: medadapt serve (1 torch thread)")
    print("| clients | adapters | requests | errors | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['clients']} | {r['adapters']} | {r['requests']} | {r['errors']} | "
            f"{r['throughput']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |"
        )
    for clients in sorted({r["clients"] for r in results}):
        one, eight = (
            next(r for r in results if r["clients"] == clients and r["adapters"] == a)
            for a in ("1 adapter", "8 adapters")
        )
        ratio = eight["throughput"] / one["throughput"]
        print(
            f"{clients} clients: 8-adapter throughput = {ratio:.0%} of 1-adapter "
            f"(target >= 90%); p99 {eight['p99_ms']:.1f} ms (target <= 50 ms at 32)"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()

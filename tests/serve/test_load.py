"""A small, bounded load test: concurrent clients, mixed adapters, a promotion mid-run."""

from __future__ import annotations

import asyncio
import json
import random
import time

import httpx
import pandas as pd
import pytest

from medadapt.registry import Registry
from medadapt.serve.app import create_app
from medadapt.serve.runner import BackgroundServer
from medadapt.tables import predict
from medadapt.workflows.evaluate import load_for_inference

pytestmark = pytest.mark.xdist_group("serve")  # share one registry fixture per worker
CLIENTS, REQUESTS_PER_CLIENT = 16, 25


def test_concurrent_mixed_adapters_with_a_promotion_mid_run(served_registry):
    frame = pd.read_csv(served_registry["data"]).drop(columns=["outcome"])
    pool = {
        site: json.loads(frame[frame["site"] == site].head(20).to_json(orient="records"))
        for site in ("A", "B", "C")
    }
    registry = Registry(served_registry["registry"])
    app = create_app(served_registry["registry"], token=None, refresh_seconds=0.05)
    promotion: dict[str, float] = {}
    results: list[tuple[int, dict, float]] = []

    async def client(seed: int, url: str) -> None:
        rng = random.Random(seed)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            for i in range(REQUESTS_PER_CLIENT):
                site = rng.choice("ABC")
                body = {"instances": [rng.choice(pool[site])]}
                if rng.random() < 0.5:
                    body["adapter"] = {"A": "site_a", "B": "site_b", "C": "site_c"}[site]
                if seed == 0 and i == REQUESTS_PER_CLIENT // 2:
                    promotion["start"] = time.monotonic()
                    await asyncio.to_thread(registry.promote, "site_c@2")
                    promotion["done"] = time.monotonic()
                sent = time.monotonic()
                reply = await http.post("/v1/predict", json=body)
                answer = (reply.status_code, reply.json(), (sent, time.monotonic()))
                results.append((*answer, body["instances"][0]))

    async def run_all(url: str) -> None:
        await asyncio.wait_for(
            asyncio.gather(*(client(seed, url) for seed in range(CLIENTS))), timeout=120
        )

    try:
        with BackgroundServer(app) as url:
            asyncio.run(run_all(url))
    finally:
        registry.promote("site_c@1")
    assert len(results) == CLIENTS * REQUESTS_PER_CLIENT
    assert [status for status, *_ in results if status != 200] == []
    # each answer's probability is the one that adapter version gives offline
    offline = _offline_probabilities(served_registry, pool)
    for _, body, _, instance in results:
        answer = body["predictions"][0]
        key = (answer["adapter"], answer["version"], json.dumps(instance, sort_keys=True))
        assert abs(answer["probability"] - offline[key]) <= 1e-5, key[:2]
    predictions = [(body["predictions"][0], times) for _, body, times, _ in results]
    assert all(p["adapter"] in ("site_a", "site_b", "site_c") for p, _ in predictions)
    assert all(isinstance(p["version"], int) for p, _ in predictions)
    site_c = [(p["version"], times) for p, times in predictions if p["adapter"] == "site_c"]
    # answered before the promotion began: the old version; sent well after it ended: the new
    # one (a request in flight during the promotion may get either)
    assert {v for v, (_, answered) in site_c if answered < promotion["start"]} == {1}
    settled = promotion["done"] + 0.5
    assert {v for v, (sent, _) in site_c if sent > settled} <= {2}
    assert 2 in {v for v, _ in site_c}


def _offline_probabilities(served_registry, pool) -> dict[tuple, float]:
    """``{(adapter, version, instance json): probability}`` from the adapter directories."""
    directories = {
        ("site_a", 1): served_registry["adapters"]["site_a"],
        ("site_b", 1): served_registry["adapters"]["site_b"],
        ("site_c", 1): served_registry["adapters"]["site_c"],
        ("site_c", 2): served_registry["second"],
    }
    instances = [instance for site in pool.values() for instance in site]
    out = {}
    for (name, version), directory in directories.items():
        loaded = load_for_inference(served_registry["base"], directory)
        model, schema, internal = loaded.model, loaded.base.schema, loaded.adapter
        scores = predict(model, schema, pd.DataFrame(instances), adapter=internal)
        for instance, score in zip(instances, scores, strict=True):
            out[(name, version, json.dumps(instance, sort_keys=True))] = float(score)
    return out

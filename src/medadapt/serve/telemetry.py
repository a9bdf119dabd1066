"""Prometheus metrics of the service, and the ASGI middleware that counts requests.

The middleware is plain ASGI (no ``BaseHTTPMiddleware``: that one runs every request through
an extra task and memory stream, a measurable share of a 1 ms request).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# metric labels: the routes, never the raw path (a scanner would create a series per URL)
ENDPOINTS = frozenset(
    {"/v1/predict", "/v1/adapters", "/v1/bases", "/healthz", "/metrics", "/docs", "/openapi.json"}
)


class Telemetry:
    """Prometheus metrics of one app (its own registry, so tests can make several apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "medadapt_requests", "HTTP requests", ["endpoint", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "medadapt_request_seconds",
            "Request latency",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
        )
        self.batch_size = Histogram(
            "medadapt_batch_size",
            "Instances per forward pass",
            registry=self.registry,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
        )
        self.batch_seconds = Histogram(
            "medadapt_batch_seconds", "Forward pass time", registry=self.registry
        )
        self.decode_seconds = Histogram(
            "medadapt_image_decode_seconds",
            "Reading and preprocessing one request's images",
            registry=self.registry,
            buckets=(0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
        )
        self.instances = Counter(
            "medadapt_instances", "Instances predicted", ["adapter"], registry=self.registry
        )
        self.adapters = Gauge(
            "medadapt_adapters_served", "Promoted adapters served", registry=self.registry
        )
        self.generation = Gauge(
            "medadapt_registry_generation", "Registry generation loaded", registry=self.registry
        )


class StatusSeen:
    """An ASGI ``send`` that passes every message on and keeps the response's status as it
    starts (500, what the client sees, where the app fails before answering): the request
    metrics and the access log read it."""

    def __init__(self, send: Any) -> None:
        self.send, self.status = send, 500

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self.send(message)


class RequestMetrics:
    """Counts requests by route and status, and times them (ASGI middleware)."""

    def __init__(self, app: Any, *, telemetry: Telemetry) -> None:
        self.app, self.telemetry = app, telemetry

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        observed = StatusSeen(send)
        try:
            await self.app(scope, receive, observed)
        finally:
            path = scope.get("path", "")
            endpoint = path if path in ENDPOINTS else "other"
            self.telemetry.requests.labels(endpoint, str(observed.status)).inc()
            self.telemetry.latency.labels(endpoint).observe(time.perf_counter() - started)

"""The service's routes: ``POST /v1/predict``, ``GET /v1/adapters``, ``/healthz``, ``/metrics``.

:func:`add_predict_route` and :func:`add_info_routes` add them to the app
:func:`medadapt.serve.app.create_app` builds; the predictions go through its micro-batcher.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

import medadapt
from medadapt.errors import ConfigError
from medadapt.serve.batching import MicroBatcher
from medadapt.serve.schemas import AdapterInfo, PredictRequest, PredictResponse
from medadapt.serve.state import NotFound, NotLoaded, Route, ServedBase, ServingState
from medadapt.serve.telemetry import Telemetry
from medadapt.serve.validation import check_instance


def add_predict_route(
    app: FastAPI,
    *,
    state: ServingState,
    batcher: MicroBatcher,
    telemetry: Telemetry,
    refresh: Callable[..., None],
    authorize: Callable[..., None],
) -> None:
    """``POST /v1/predict``: route each instance to its adapter, check it against its base
    model's schema, and score it in the next micro-batch."""

    @app.post("/v1/predict", response_model=PredictResponse, dependencies=[Depends(authorize)])
    async def predict(body: PredictRequest) -> PredictResponse:
        if state.claim_refresh():  # one request per interval looks for new promotions
            await batcher.call_in_worker(lambda: refresh(force=True))
        routes = await _resolve_routes(state, batcher, body)
        _check_instances(state, body.instances, routes)
        scores = await batcher.submit(
            [
                (route.base_key, (inst, route))
                for inst, route in zip(body.instances, routes, strict=True)
            ]
        )
        out = _predictions(state, telemetry, routes, scores)
        # the dicts already have PredictResponse's shape (a test checks it against the model);
        # returning a response skips a second pydantic pass per request
        return JSONResponse({"predictions": out})


def _routes_of_request(state: ServingState, body: PredictRequest) -> list[Route]:
    """Each instance's route; a malformed adapter reference is a 422 on ``adapter``."""
    try:
        return [state.route(body.adapter, body.group, inst) for inst in body.instances]
    except ConfigError as bad_ref:  # e.g. "va@x"
        error = {"loc": ["body", "adapter"], "msg": str(bad_ref), "type": "value_error"}
        raise RequestValidationError([error]) from None


async def _resolve_routes(
    state: ServingState, batcher: MicroBatcher, body: PredictRequest
) -> list[Route]:
    """Each instance's route, after loading a registered version that is not in memory, or
    looking at the registry once more for an adapter it does not know yet."""
    try:
        return _routes_of_request(state, body)
    except NotLoaded as missing:  # a registered version not in memory: load it once
        name, version = missing.name, missing.version
        await batcher.call_in_worker(lambda: state.load_version(name, version))
        return _routes_of_request(state, body)
    except NotFound:  # promoted a moment ago? look at the registry once more, then decide
        await batcher.call_in_worker(lambda: state.refresh(force=True))
        return _routes_of_request(state, body)


def _check_instances(
    state: ServingState, instances: list[dict[str, Any]], routes: list[Route]
) -> None:
    """422 listing every problem of every instance with the schema of its base model."""
    errors = []
    routing_fields = state.routing_fields()
    for i, (instance, route) in enumerate(zip(instances, routes, strict=True)):
        schema = state.bases[route.base_key].schema
        errors += check_instance(schema, i, instance, routing_fields)
    if errors:
        raise RequestValidationError(errors)


def _predictions(
    state: ServingState, telemetry: Telemetry, routes: list[Route], scores: list[Any]
) -> list[dict[str, Any]]:
    """One prediction per instance, each counted under its adapter's name."""
    out = []
    for route, score in zip(routes, scores, strict=True):
        telemetry.instances.labels(route.name or "base").inc()
        out.append(_prediction(state.bases[route.base_key], route, score))
    return out


def _prediction(served: ServedBase, route: Route, score: Any) -> dict[str, Any]:
    """One prediction in :class:`Prediction`'s shape."""
    schema = served.schema
    out: dict[str, Any] = {
        "adapter": route.name,
        "version": route.version,
        "base": served.key[:12],
        "probability": None,
        "probabilities": None,
    }
    if schema.task == "binary":
        p = float(score)
        out.update(predicted=schema.classes[1] if p >= 0.5 else schema.classes[0], probability=p)
    elif schema.task == "multiclass":
        probs = np.asarray(score, dtype=float)
        out.update(
            predicted=schema.classes[int(probs.argmax())],
            probabilities={c: float(p) for c, p in zip(schema.classes, probs, strict=True)},
        )
    else:
        out["predicted"] = float(score)
    return out


def add_info_routes(
    app: FastAPI,
    *,
    state: ServingState,
    telemetry: Telemetry,
    authorize: Callable[..., None],
) -> None:
    """``GET /v1/adapters``, ``/healthz`` (no token needed) and ``/metrics``."""

    @app.get("/v1/adapters", response_model=list[AdapterInfo], dependencies=[Depends(authorize)])
    async def adapters() -> list[dict[str, Any]]:
        return state.tables.info

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """``degraded`` (still HTTP 200: the other adapters serve) lists promoted adapters
        that could not be loaded, with the reason."""
        failed = state.tables.failed
        return {
            "status": "degraded" if failed else "ok",
            "adapters": len(state.tables.promoted),
            "failed": failed,
            "generation": state.generation,
            "version": medadapt.__version__,
        }

    @app.get("/metrics", dependencies=[Depends(authorize)])
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(
            generate_latest(telemetry.registry), media_type=CONTENT_TYPE_LATEST
        )

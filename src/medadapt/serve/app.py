"""The FastAPI application: ``POST /v1/predict``, ``GET /v1/adapters``, ``/healthz``, ``/metrics``.

Requests for different adapters that arrive together are micro-batched into one mixed-adapter
forward pass (:mod:`medadapt.serve.batching`): tabular instances sent as JSON, and images
uploaded as multipart or referenced on a DICOMweb archive (:mod:`medadapt.serve.image_routes`;
read in a pool of decoding threads). Bearer-token auth protects ``/v1/*`` and ``/metrics``
(``/healthz`` answers anyone, with status and counts; names and reasons to the token only);
bodies above ``max_body_bytes`` (uploads: ``images.max_upload_bytes``) get 413 (to the token
holder: a request without it gets its 401 first, never a limit), requests over
``max_instances`` 422; invalid bodies
422 with the field names (an adapter that must be named, too); unknown adapters 404; full
queues 503 with ``Retry-After`` (:mod:`medadapt.serve.handlers`). OpenAPI docs are at
``/docs``, readable without internet (:mod:`medadapt.serve.docs`). The routes themselves are
in :mod:`medadapt.serve.routes`. Each request is written to the access log
(:mod:`medadapt.serve.access_log`: time, path, status, latency, adapter, count; never a value).
"""

from __future__ import annotations

import contextlib
import gc
import hmac
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

import medadapt
from medadapt.data.stored_pixels import one_blas_thread
from medadapt.serve.access_log import AccessLog
from medadapt.serve.batching import MicroBatcher
from medadapt.serve.defaults import MAX_BODY_BYTES, MAX_INSTANCES
from medadapt.serve.docs import add_docs_routes
from medadapt.serve.handlers import add_error_handlers
from medadapt.serve.image_decode import DecodePool
from medadapt.serve.image_inputs import ImageServing
from medadapt.serve.image_routes import ImagePredictor
from medadapt.serve.limits import BodyLimit
from medadapt.serve.routes import add_info_routes, add_predict_route
from medadapt.serve.state import Route, ServingState
from medadapt.serve.telemetry import RequestMetrics, Telemetry

UNAUTHORIZED = (
    "missing or wrong bearer token: send the header 'Authorization: Bearer <token>', with the "
    "token the server was started with (its --token-file, or MEDADAPT_TOKEN)"
)


def quiet_garbage_collector() -> None:
    """Keep Python's cyclic GC from pausing requests: objects alive after start-up (torch,
    models, the app) move to a permanent generation that collections skip, and young
    collections run less often. Measured: p99 at 8 clients from ~110 ms to ~20 ms."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def create_app(
    registry_root: str | Path,
    *,
    token: str | None = None,
    max_batch: int = 64,
    max_wait_ms: float = 1.0,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_instances: int = MAX_INSTANCES,
    refresh_seconds: float = 1.0,
    threads: int = 1,
    inline: bool = True,
    max_queue: int = 4096,
    images: ImageServing | None = None,
    device: str = "cpu",
    on_ready: Callable[[ServingState], None] | None = None,
    score_sparse: bool = False,
    any_version: bool = False,
) -> FastAPI:
    """Build the service for the adapters promoted in the registry at ``registry_root``.

    ``inline``: run forward passes on the event loop (right on a CPU, see
    :class:`MicroBatcher`); False uses the worker thread (as every pass on a GPU does).
    ``threads``: torch threads for the forward pass. Small clinical models run fastest on one
    (intra-op threading costs more than it saves at these sizes, and badly so on a busy host).
    ``max_body_bytes``: largest JSON body (more: 413); ``max_instances``: most instances in
    one JSON request (more: 422); both said in the API's description at ``/docs``.
    ``refresh_seconds``: longest time between two looks at the registry (every request also
    stats its index, so a promotion is seen by the next one).
    ``max_queue``: most instances waiting for the model (more: 503). ``images``: limits,
    decoding threads and DICOMweb archives for image bases. ``device``: where the models run
    (``cuda`` for a GPU). ``on_ready``: called with the serving state once the promoted
    adapters are loaded, just before the first request is taken (the command line prints its
    URL and what it loaded then). ``score_sparse``: also answer a table instance lacking more
    than half of the model's features (by default its prediction is withheld, and its note
    says why). ``any_version``: also answer a request naming a registered version that is not
    promoted (by default a 404: a version replaced or withdrawn stops answering).
    """
    torch.set_num_threads(threads)
    one_blas_thread()  # the decoding pool is the parallelism
    images = images or ImageServing()
    state = ServingState(
        registry_root,
        refresh_seconds=refresh_seconds,
        device=device,
        score_sparse=score_sparse,
        any_version=any_version,
    )
    telemetry = Telemetry()
    refresh = _refresher(state, telemetry)
    batcher = _batcher(state, telemetry, refresh, max_batch=max_batch, max_wait_ms=max_wait_ms,
                       inline=inline, max_queue=max_queue)  # fmt: skip
    pool = DecodePool(images.decode_workers, images.max_decoding, processes=images.decode_processes)
    app = FastAPI(
        title="medadapt",
        version=medadapt.__version__,
        lifespan=_lifespan(state, telemetry, batcher, pool, on_ready),
        description="Predictions from a frozen base model with per-request adapters.",
        docs_url=None,  # add_docs_routes: Swagger UI from this server, not from a CDN
        redoc_url=None,
    )
    authorize, authorized = _bearer_auth(token), _bearer_valid(token)
    # without the token, the route's 401 comes first: the limits are said to token holders only
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, max_instances=max_instances,
                       max_upload_bytes=images.max_upload_bytes,
                       authorized=_token_in_headers(token),
                       kinds=lambda: {b.kind for b in list(state.bases.values())})  # fmt: skip
    app.add_middleware(RequestMetrics, telemetry=telemetry)  # sees every answer
    app.add_middleware(AccessLog)  # outermost: a line for every request, timed as the client
    add_error_handlers(app)
    add_docs_routes(app)
    predictor = ImagePredictor(state, batcher, pool, telemetry, images)
    add_predict_route(app, state=state, batcher=batcher, telemetry=telemetry, refresh=refresh,
                      authorize=authorize, images=predictor, max_instances=max_instances,
                      max_body_bytes=max_body_bytes)  # fmt: skip
    # authorize guards every route but /healthz, which says its details to the token only
    add_info_routes(app, state=state, batcher=batcher, telemetry=telemetry, refresh=refresh,
                    authorize=authorize, authorized=authorized)  # fmt: skip
    app.state.serving = state
    app.state.batcher = batcher
    app.state.decode_pool = pool
    return app


def _refresher(state: ServingState, telemetry: Telemetry) -> Callable[..., None]:
    """``refresh(force=False)``: reload the promoted adapters if the registry changed (any
    time with ``force``), and update the gauges when it did."""

    def refresh(force: bool = False) -> None:
        if state.refresh(force=force):
            telemetry.adapters.set(len(state.tables.promoted))
            telemetry.generation.set(state.generation)

    return refresh


def _batcher(
    state: ServingState,
    telemetry: Telemetry,
    refresh: Callable[..., None],
    *,
    max_batch: int,
    max_wait_ms: float,
    inline: bool,
    max_queue: int,
) -> MicroBatcher:
    """The micro-batcher: one forward pass per base model (and head width) over the instances
    of many adapters, after a look for new promotions, each batch's size and time recorded.
    On a GPU the passes run on the worker thread (``offload``), which waits for the device
    without holding the GIL; on the CPU inline (measured in bench/BENCHMARKS.md: with the
    pass on a thread, the event loop, the decoding threads and the pass trade the GIL at every
    torch op, and p99 at 32 clients was 2-6x longer)."""

    def run(key: tuple[str, int | None], payloads: Sequence[tuple[Any, Route]]) -> list[Any]:
        inputs = [instance for instance, _ in payloads]
        scores = state.predict(key[0], inputs, [route.internal for _, route in payloads])
        return list(scores)

    def offload(key: tuple[str, int | None]) -> bool:
        return state.device.type != "cpu"  # a GPU: wait for it without holding the GIL

    def observe(size: int, seconds: float) -> None:
        telemetry.batch_size.observe(size)
        telemetry.batch_seconds.observe(seconds)

    return MicroBatcher(
        run,
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
        before_batch=refresh,
        on_batch=observe,
        inline=inline,
        offload=offload,
        max_queue=max_queue,
    )


def _lifespan(state: ServingState, telemetry: Telemetry, batcher: MicroBatcher, pool: DecodePool,
              on_ready: Callable[[ServingState], None] | None):  # fmt: skip
    """Start the batcher and load the promoted adapters before the first request (then
    ``on_ready``); stop the batcher and the decoding threads after the last."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        await batcher.start()
        await batcher.call_in_worker(lambda: state.refresh(force=True))
        await pool.warm()
        telemetry.adapters.set(len(state.tables.promoted))
        quiet_garbage_collector()
        if on_ready is not None:
            on_ready(state)
        yield
        await batcher.stop()
        pool.shutdown()

    return lifespan


def _is_token(given: str, token: str | None) -> bool:
    """Whether ``given`` is the server's ``token`` (any is, on a server without one),
    compared in constant time."""
    return token is None or hmac.compare_digest(given.encode(), token.encode())


def _bearer_valid(token: str | None) -> Callable[..., bool]:
    """The dependency telling whether a request carries the bearer ``token`` (True for every
    request when ``token`` is None: a server without one listens on loopback only)."""
    bearer = HTTPBearer(auto_error=False)

    def valid(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> bool:
        return _is_token(credentials.credentials if credentials is not None else "", token)

    return valid


def _token_in_headers(token: str | None) -> Callable[[Mapping[bytes, bytes]], bool] | None:
    """Whether a request's raw (ASGI) headers carry the bearer ``token``, read as
    :class:`HTTPBearer` reads them, for the middleware that runs before any route (None on
    a server without a token: every request does)."""
    if token is None:
        return None

    def carried(headers: Mapping[bytes, bytes]) -> bool:
        sent = headers.get(b"authorization", b"").decode("latin-1")
        scheme, credentials = get_authorization_scheme_param(sent)
        return _is_token(credentials if scheme.lower() == "bearer" else "", token)

    return carried


def _bearer_auth(token: str | None) -> Callable[..., None]:
    """The dependency that refuses a missing or wrong bearer token (401); with ``token``
    None, every request passes."""
    valid = _bearer_valid(token)

    def authorize(is_valid: bool = Depends(valid)) -> None:
        if not is_valid:
            raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})

    return authorize

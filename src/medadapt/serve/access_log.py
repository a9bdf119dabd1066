"""The server's access log: one line per HTTP request, for the people who run it.

uvicorn's own access log is off under ``medadapt serve`` (it runs at ``log_level="warning"``,
and is started with ``access_log=False``): its line repeats the path with its query string,
which a client may fill with anything, and says neither the time taken nor what answered.
This log writes, per request (logfmt, one line)::

    time=2026-05-04T09:12:03.481Z client=10.0.0.7 method=POST path=/v1/predict status=200
    latency_ms=3.2 adapter=site_c@1 instances=4

``time`` when the request arrived (UTC); ``path`` one of the service's routes, or ``other``
(a path the service does not have is not written: a client may put anything in it); the query
string, the headers (the token among them) and the body are never written, nor a value sent;
``adapter`` the adapter versions that answered (``base`` for a base model alone; ``-`` for
none, as for a refused request), ``instances`` the instances or images the request carried
(``-`` where none were read). The lines go to the ``medadapt.serve.access`` logger at INFO;
``medadapt serve --access-log`` sends them to stderr (the default), a file, or nowhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from medadapt.serve.docs import ASSETS, MEDIA_TYPES
from medadapt.serve.telemetry import ENDPOINTS, StatusSeen

ACCESS = logging.getLogger("medadapt.serve.access")
MAX_METHOD_CHARS = 16  # a method is a short token; anything longer is cut


@dataclass
class Served:
    """What answered one request, noted by its route as it goes."""

    adapters: list[str] = field(default_factory=list)
    instances: int | None = None


_SERVED: ContextVar[Served | None] = ContextVar("medadapt_served", default=None)


def note_instances(count: int) -> None:
    """Note how many instances (or images) the current request carries."""
    served = _SERVED.get()
    if served is not None:
        served.instances = count


def note_adapters(refs: Iterable[str]) -> None:
    """Note the adapter versions (``NAME@N``, or ``base``) that answer the current request."""
    served = _SERVED.get()
    if served is not None:
        served.adapters = sorted(set(refs))


def route_ref(name: str | None, version: int | None) -> str:
    """How the log names what answered: ``NAME@N``, or ``base`` for a base model alone.

    >>> route_ref("site_c", 1), route_ref(None, None)
    ('site_c@1', 'base')
    """
    return "base" if name is None else f"{name}@{version}"


#: the paths a line names; any other is ``other``
PATHS = ENDPOINTS | {f"{ASSETS}/{name}" for name in MEDIA_TYPES}


def _path(scope: dict) -> str:
    path = scope.get("path", "")
    return path if path in PATHS else "other"


def _method(scope: dict) -> str:
    method = str(scope.get("method", ""))[:MAX_METHOD_CHARS]
    return method if method.isalpha() else "other"


def _client(scope: dict) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"


def access_line(scope: dict, status: int, seconds: float, served: Served, arrived: float) -> str:
    """The log line of one request (only the fields the module's description lists).

    >>> scope = {"method": "POST", "path": "/v1/predict", "query_string": b"mrn=123",
    ...          "client": ("10.0.0.7", 51000)}
    >>> print(access_line(scope, 200, 0.0032, Served(["site_c@1"], 4), 0.0))
    time=1970-01-01T00:00:00.000Z client=10.0.0.7 method=POST path=/v1/predict status=200 \
latency_ms=3.2 adapter=site_c@1 instances=4
    """
    when = datetime.fromtimestamp(arrived, UTC).isoformat(timespec="milliseconds")
    adapters = ",".join(served.adapters) or "-"
    instances = "-" if served.instances is None else str(served.instances)
    return (
        f"time={when.replace('+00:00', 'Z')} client={_client(scope)} method={_method(scope)} "
        f"path={_path(scope)} status={status} latency_ms={seconds * 1000:.1f} "
        f"adapter={adapters} instances={instances}"
    )


class AccessLog:
    """ASGI middleware writing :func:`access_line` for every HTTP request to ``logger`` (at
    INFO; nothing is done when that level is off)."""

    def __init__(self, app: Any, *, logger: logging.Logger = ACCESS) -> None:
        self.app, self.logger = app, logger

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            return await self.app(scope, receive, send)
        arrived, started = time.time(), time.perf_counter()
        served = Served()
        token = _SERVED.set(served)
        observed = StatusSeen(send)
        try:
            await self.app(scope, receive, observed)
        finally:
            _SERVED.reset(token)
            seconds = time.perf_counter() - started
            self.logger.info(access_line(scope, observed.status, seconds, served, arrived))

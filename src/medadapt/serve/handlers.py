"""The service's error answers: 404 unknown adapter, 409 ambiguous route, 503 unavailable or
overloaded (with ``Retry-After``), 4xx naming the image file at fault, and 422 for invalid
bodies (the field names, never the values sent). Each is rendered even when it repeats text
holding lone surrogates (``"\\ud800"`` is valid JSON but no UTF-8): escaped, not a 500."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from medadapt.errors import MedadaptError
from medadapt.registry.records import SHOWN_CHARS
from medadapt.serve.batching import RETRY_AFTER_SECONDS, Overloaded
from medadapt.serve.image_inputs import ImageInputError
from medadapt.serve.state import Ambiguous, NotFound, Unavailable

MAX_ERRORS = 20


class ErrorResponse(JSONResponse):
    """A JSON error answer: as JSONResponse, but a lone surrogate a client sent (in a field
    name, an adapter name) goes back escaped as ``\\ud800`` instead of failing to encode."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode()


async def not_found(_: Request, exc: NotFound) -> ErrorResponse:
    return ErrorResponse({"detail": str(exc)}, status_code=404)


async def ambiguous(_: Request, exc: Ambiguous) -> ErrorResponse:
    return ErrorResponse({"detail": str(exc)}, status_code=409)


async def unavailable(_: Request, exc: Unavailable) -> ErrorResponse:
    return ErrorResponse({"detail": str(exc)}, status_code=503)


async def overloaded(_: Request, exc: Overloaded) -> ErrorResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return ErrorResponse({"detail": str(exc)}, status_code=503, headers=headers)


async def bad_image(_: Request, exc: ImageInputError) -> ErrorResponse:
    """The file as the client named it and what is wrong with it (no path, no traceback)."""
    return ErrorResponse({"detail": str(exc), "file": exc.file}, status_code=exc.status)


async def invalid(_: Request, exc: RequestValidationError) -> ErrorResponse:
    """422 naming each field and the problem, never the values sent (patient data), and
    at most ``MAX_ERRORS`` of them."""
    errors = [{key: e[key] for key in ("loc", "msg", "type") if key in e} for e in exc.errors()]
    for error in errors:  # a field named by a 100,000-character key is not sent back whole
        error["loc"] = [_cut(part) for part in error.get("loc", [])]
        error["msg"] = _in_words(error)
    body: dict[str, Any] = {"detail": errors[:MAX_ERRORS]}
    if len(errors) > MAX_ERRORS:
        body["more_errors"] = len(errors) - MAX_ERRORS
    return ErrorResponse(body, status_code=422)


#: a request's own fields' errors, in words that say what to send, not pydantic's "Field
#: required", "Input should be a valid dictionary" or "List should have at least 1 item"
#: (a trial's ``{}`` and ``{"instances": [5]}``); keyed by (error type, field)
SAY_INSTEAD = {
    ("missing", "instances"): 'instances is missing: send {"adapter": "NAME", "instances": '
    '[{"FEATURE": value, ...}]}, one object of the model\'s features per patient',
    ("too_short", "instances"): "instances is empty: send at least one instance to score",
    ("dict_type", "instances"): "this instance is not a JSON object: send each instance as "
    'an object of the model\'s features, {"FEATURE": value, ...}',
    ("string_type", "adapter"): "adapter must be a JSON string naming a served adapter "
    '("NAME", or "NAME@3" for a version; GET /v1/adapters lists them)',
    ("string_type", "group"): "group must be a JSON string naming a group an adapter serves "
    "(GET /v1/adapters lists them)",
}


def _in_words(error: dict[str, Any]) -> str:
    """``error``'s message, in :data:`SAY_INSTEAD`'s words where it is about a request's own
    field (``["body", "instances", 0]``: an instance), else as given."""
    loc = error.get("loc") or []
    field = loc[1] if len(loc) > 1 and loc[0] == "body" else None
    return SAY_INSTEAD.get((error.get("type"), field), error.get("msg", ""))


def _cut(part: Any) -> Any:
    if isinstance(part, str) and len(part) > SHOWN_CHARS:
        return f"{part[:SHOWN_CHARS]}... ({len(part):,} characters)"
    return part


async def bad_input(_: Request, exc: MedadaptError) -> ErrorResponse:
    return ErrorResponse({"detail": str(exc)}, status_code=422)


#: what the service answers, said after a route or method it does not (a trial's GET
#: /v1/predict read a bare "Method Not Allowed", its /v1/adapter a bare "Not Found")
ROUTES = (
    "this service answers POST /v1/predict, GET /v1/adapters, GET /v1/bases, GET /healthz "
    "and GET /metrics (GET /docs describes each)"
)


async def no_route(request: Request, exc: StarletteHTTPException) -> Any:
    """Routing's own 404 and 405 (an unknown path, a method a path does not take), with the
    routes the service answers; any other HTTP error as the framework answers it."""
    if exc.status_code == 404 and exc.detail == "Not Found":
        said = f"Not Found: no route {request.url.path}; {ROUTES}"
    elif exc.status_code == 405 and exc.detail == "Method Not Allowed":
        said = f"Method Not Allowed: {request.method} {request.url.path}; {ROUTES}"
    else:
        return await http_exception_handler(request, exc)
    return ErrorResponse({"detail": said}, status_code=exc.status_code, headers=exc.headers)


def add_error_handlers(app: FastAPI) -> None:
    """Answer the service's own errors with their status codes instead of a 500."""
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(Ambiguous, ambiguous)
    app.add_exception_handler(Unavailable, unavailable)
    app.add_exception_handler(Overloaded, overloaded)
    app.add_exception_handler(ImageInputError, bad_image)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(MedadaptError, bad_input)
    app.add_exception_handler(StarletteHTTPException, no_route)

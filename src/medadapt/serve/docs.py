"""The API's description at ``/docs``, readable without internet.

FastAPI's own ``/docs`` page loads Swagger UI from a CDN (and ``/redoc`` ReDoc), so on a
hospital network without a route out it stays blank. Here the page loads Swagger UI 5 (it
reads OpenAPI 3.1, which FastAPI writes) from this server, from the files the
``fastapi-swagger`` package ships (MIT); ``/redoc`` is not offered. Both routes are public,
as ``/openapi.json`` is: they describe the API, never an adapter or a patient.
"""

from __future__ import annotations

import functools
from importlib import resources

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

DOCS = "/docs"
ASSETS = f"{DOCS}/assets"
#: the Swagger UI files the page loads, with their media types
MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


@functools.cache
def asset_bytes(name: str) -> bytes:
    """One of Swagger UI's files, read once."""
    return resources.files("fastapi_swagger.resources").joinpath(name).read_bytes()


def add_docs_routes(app: FastAPI) -> None:
    """``GET /docs`` (Swagger UI on ``app.openapi_url``) and ``GET /docs/assets/NAME`` (its
    files) on ``app``, made with ``docs_url=None, redoc_url=None``."""

    @app.get(DOCS, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )

    @app.get(f"{ASSETS}/{{name}}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in MEDIA_TYPES:
            raise HTTPException(404, f"no such file under {ASSETS}")
        return Response(asset_bytes(name), media_type=MEDIA_TYPES[name],
                        headers={"Cache-Control": "public, max-age=86400"})  # fmt: skip

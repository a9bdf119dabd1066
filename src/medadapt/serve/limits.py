"""Request body limit as ASGI middleware: counts the bytes actually received.

A ``Content-Length`` above the limit is refused before the body is read; a body sent without
one (chunked) is counted as it arrives and refused once it passes the limit, so memory stays
bounded either way. A non-numeric ``Content-Length`` is a 400. Image uploads
(``multipart/form-data``) have their own, larger limit.

A compressed body (``Content-Encoding`` other than ``identity``) is a 415 with
``Accept-Encoding: identity`` (RFC 7694), refused here so that no route reads it as JSON or a
form. It is not decompressed: the limits count the bytes received, and a 1 MB gzip body can
inflate to a gigabyte; clients send these small bodies as they are.

A body sent as an image itself (``Content-Type: image/png``, ``application/dicom``) is a 415
saying to upload images as multipart/form-data, whatever its size: the JSON limit's 413 would
tell an image client to send fewer instances.

A request without the server's bearer token (``authorized``) is judged by none of these
headers: it goes on to its route, which answers 401 before reading any body (and the public
routes read none), so a client without the token learns neither the limits nor that they
exist. Its body is still counted as it arrives, should anything read it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from fastapi import HTTPException
from starlette.responses import JSONResponse

from medadapt.serve.defaults import MAX_INSTANCES
from medadapt.serve.image_inputs import shown_size
from medadapt.serve.request_json import raw_image


def compressed_detail(coding: bytes) -> str:
    named = "".join(c for c in coding.decode("latin-1") if c.isprintable())[:40]
    return (
        f"compressed request bodies are not accepted (Content-Encoding: {named}); "
        "send the body uncompressed"
    )


def too_large_detail(max_bytes: int, max_instances: int, kinds: Collection[str] = ()) -> str:
    """Why a JSON body is refused: its limit (in MiB or KiB, and the ``serve`` option setting
    it) and what to send instead: fewer instances (at most ``max_instances``) to a server of
    tables, images uploaded (not JSON) to one of images, either to one serving both or not yet
    known (``kinds``: the kinds of the bases it serves).

    >>> too_large_detail(2**20, 1024, {"tabular"})
    'request body over 1 MiB (serve --max-body-mb); send fewer instances per request (at most 1024)'
    >>> print(too_large_detail(2**20, 1024, {"image"}))  # doctest: +NORMALIZE_WHITESPACE
    request body over 1 MiB (serve --max-body-mb): a JSON request for images holds a DICOMweb
    reference, not images; upload images as multipart/form-data (curl -F file=@scan.png;
    serve --max-upload-mb)
    """
    over = f"request body over {shown_size(max_bytes)} (serve --max-body-mb)"
    fewer = f"send fewer instances per request (at most {max_instances})"
    if set(kinds) == {"tabular"}:
        return f"{over}; {fewer}"
    images = "upload images as multipart/form-data (curl -F file=@scan.png; serve --max-upload-mb)"
    if set(kinds) == {"image"}:
        return f"{over}: a JSON request for images holds a DICOMweb reference, not images; {images}"
    return f"{over}; to a table adapter, {fewer}; for an image adapter, {images}"


def upload_too_large_detail(max_bytes: int) -> str:
    """Why a multipart body (images) is refused: its limit and the ``serve`` option setting
    it.

    >>> upload_too_large_detail(128 * 2**20)
    'request body over 128 MiB (serve --max-upload-mb); send fewer or smaller images per request'
    """
    return (
        f"request body over {shown_size(max_bytes)} (serve --max-upload-mb); send fewer or "
        "smaller images per request"
    )


Headers = Mapping[bytes, bytes]


class BodyLimit:
    """Wraps an ASGI app; ``max_bytes`` per HTTP request body, ``max_upload_bytes`` per
    multipart body (default: ``max_bytes``); ``max_instances``, the most instances a JSON
    request may hold, is said in the 413 (to a server of tables: ``kinds()``, the kinds of
    the bases served now; None: not known). ``authorized(headers)``: whether a request's
    (lower-case) headers carry the server's token (None: every request does); one that does
    not is passed on unjudged, to be refused by its route (401)."""

    def __init__(self, app: Any, *, max_bytes: int, max_upload_bytes: int | None = None,
                 max_instances: int = MAX_INSTANCES,
                 authorized: Callable[[Headers], bool] | None = None,
                 kinds: Callable[[], Collection[str]] | None = None) -> None:  # fmt: skip
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.app, self.max_bytes, self.max_instances = app, max_bytes, max_instances
        self.authorized, self.kinds = authorized, kinds
        self.max_upload_bytes = max_bytes if max_upload_bytes is None else max_upload_bytes
        self.upload_refused = upload_too_large_detail(self.max_upload_bytes)

    def json_refused(self) -> str:
        """The 413 of a JSON body, for the kinds of bases served now (a registry changes)."""
        kinds = self.kinds() if self.kinds is not None else ()
        return too_large_detail(self.max_bytes, self.max_instances, kinds)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data"):
            limit, refused = self.max_upload_bytes, self.upload_refused
        else:
            limit, refused = self.max_bytes, self.json_refused()
        if self.authorized is None or self.authorized(headers):  # else: 401 from its route
            response = self._refused(headers, limit, refused)
            if response is not None:
                return await response(scope, receive, send)
        received = 0

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTPExceptions met while reading the body
                    raise HTTPException(413, refused)
            return message

        await self.app(scope, counted, send)

    @staticmethod
    def _refused(headers: Headers, limit: int, refused: str) -> JSONResponse | None:
        """The answer to a request its headers already refuse: a compressed body or an image
        sent as the body (415), a ``Content-Length`` that is no number (400) or over ``limit``
        (413); else None."""
        coding = headers.get(b"content-encoding", b"").strip().lower()
        if coding not in (b"", b"identity"):
            return JSONResponse(
                {"detail": compressed_detail(coding)}, 415, headers={"Accept-Encoding": "identity"}
            )
        sent_image = raw_image(b"", headers.get(b"content-type", b"").decode("latin-1"))
        if sent_image is not None:
            return JSONResponse({"detail": sent_image}, 415)
        length = headers.get(b"content-length")
        if length is None:
            return None
        try:
            declared = int(length)
        except ValueError:
            return JSONResponse({"detail": "Content-Length is not a number"}, 400)
        return JSONResponse({"detail": refused}, 413) if declared > limit else None

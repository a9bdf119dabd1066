"""A reverse proxy in front of the test Orthanc, as hospitals put nginx in front of a PACS: TLS
with a certificate signed by a CA made in the test, and/or a bearer token every request must
carry, and/or read-only access (a STOW-RS POST answered 403, as for an account that may read
but not write). It forwards to Orthanc with Orthanc's own basic-auth credentials and records
the ``Authorization`` header of every request it received.

Why a proxy rather than Orthanc's own HTTPS: Debian's Orthanc 1.10.1 (``SslEnabled``) crashes
on the first TLS connection (its civetweb worker segfaults, with RSA and EC certificates alike),
and Orthanc checks bearer tokens only through its authorization plug-in, which Debian does not
package.
"""

from __future__ import annotations

import ssl
import threading
import urllib.error
import urllib.request
from base64 import b64encode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.pacs.orthanc import Pacs

FORWARDED = ("Accept", "Content-Type")


class PacsProxy:
    """``with PacsProxy(pacs, token=..., certificates=..., read_only=...) as proxy``:
    ``proxy.root`` is its DICOMweb root (https when ``certificates``, a folder from
    ``make_certificates``)."""

    def __init__(self, pacs: Pacs, *, token: str | None = None,
                 certificates: Path | None = None, read_only: bool = False) -> None:  # fmt: skip
        self.pacs, self.token, self.certificates = pacs, token, certificates
        self.read_only = read_only
        self.authorizations: list[str | None] = []  # one per request received
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        if certificates is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def root(self) -> str:
        scheme = "https" if self.certificates is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}/dicom-web"

    def reference(self, *parts: str) -> str:
        return "/".join([f"dicomweb+{self.root}", *parts])

    def __enter__(self) -> PacsProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(proxy: PacsProxy) -> type[BaseHTTPRequestHandler]:
    pacs = proxy.pacs
    basic = "Basic " + b64encode(f"{pacs.user}:{pacs.password}".encode()).decode()

    class Forward(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            given = self.headers.get("Authorization")
            proxy.authorizations.append(given)
            if proxy.token is not None and given != f"Bearer {proxy.token}":
                self._answer(401, "text/plain", b"bearer token required",
                             {"WWW-Authenticate": "Bearer"})  # fmt: skip
                return
            if proxy.read_only and self.command == "POST":
                self._body()  # read, then refused: this account may not write
                self._answer(403, "application/json", b'{"error": "read-only user"}')
                return
            request = urllib.request.Request(
                f"http://{pacs.host}:{pacs.port}{self.path}", data=self._body(),
                method=self.command, headers={"Authorization": basic},
            )  # fmt: skip
            for name in FORWARDED:
                if name in self.headers:
                    request.add_header(name, self.headers[name])
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    status, headers, body = answer.status, answer.headers, answer.read()
            except urllib.error.HTTPError as error:
                status, headers, body = error.code, error.headers, error.read()
            self._answer(status, headers.get("Content-Type", "application/octet-stream"), body)

        def _body(self) -> bytes | None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else None

        def _answer(self, status: int, kind: str, body: bytes,
                    extra: dict[str, str] | None = None) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _forward

        def log_message(self, *args: object) -> None:  # quiet
            pass

    return Forward

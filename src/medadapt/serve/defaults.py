"""The server's default limits on a JSON request, in one place: ``create_app``'s, the
``serve`` options' and the API description's (cheap to import: the command line reads them at
start-up, before anything of the server is loaded).
"""

from __future__ import annotations

MAX_INSTANCES = 1024
"""Most instances in one JSON request (``serve --max-instances``); more: 422."""
MAX_BODY_MB = 1.0
"""Largest JSON request body, in MiB (``serve --max-body-mb``); more: 413."""
MAX_BODY_BYTES = int(MAX_BODY_MB * 2**20)
""":data:`MAX_BODY_MB` in bytes."""

"""Bad requests to ``medadapt serve``: a 4xx naming the problem, never the request's values."""

from __future__ import annotations

HTTP_CASES: list = []

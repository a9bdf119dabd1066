"""``/docs`` works on a network without a route out: Swagger UI's files come from this server
(FastAPI's default page fetches them from a CDN and stays blank there); public like
``/openapi.json``; no ReDoc (it would fetch from a CDN too)."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from fastapi.testclient import TestClient

from medadapt.serve.app import create_app
from medadapt.serve.docs import ASSETS, MEDIA_TYPES
from medadapt.serve.runner import BackgroundServer
from tests.evaluate.browser import open_page, require_browser

pytestmark = pytest.mark.xdist_group("serve")  # share the registry fixtures per worker
TOKEN = "t" * 32


@pytest.fixture
def client(served_registry):
    with TestClient(create_app(served_registry["registry"], token=TOKEN)) as test_client:
        yield test_client


def test_the_docs_page_loads_only_from_this_server_and_without_a_token(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(loaded) == sorted(f"{ASSETS}/{name}" for name in MEDIA_TYPES)
    assert "http://" not in page.text and "https://" not in page.text
    assert "url: '/openapi.json'" in page.text
    shipped = resources.files("fastapi_swagger.resources")
    for name, media_type in MEDIA_TYPES.items():
        served = client.get(f"{ASSETS}/{name}")
        assert served.status_code == 200, name
        assert served.headers["content-type"].startswith(media_type)
        assert served.content == shipped.joinpath(name).read_bytes()
    assert client.get(f"{ASSETS}/__init__.py").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/v1/adapters").status_code == 401  # the API itself still needs one


@pytest.mark.browser
def test_the_docs_page_renders_every_route_in_a_browser(served_registry, tmp_path):
    """Headless Chromium (no internet in CI) draws the operations from /openapi.json (3.1:
    Swagger UI 5 reads it, 4 would refuse it) with nothing failing in the console."""
    require_browser()
    app = create_app(served_registry["registry"], token=TOKEN)
    with BackgroundServer(app) as url:
        shown = open_page(f"{url}/docs", tmp_path / "docs.png",
                          wait_for=".opblock-summary-path")  # fmt: skip
    assert {"/v1/predict", "/v1/adapters", "/healthz"} <= {t.strip() for t in shown["found"]}
    assert [e for e in shown["console"] if e["level"] == "SEVERE"] == []
    assert shown["title"] == "medadapt API"

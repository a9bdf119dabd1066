"""The service under hostile or unlucky conditions: oversized chunked bodies, misspelt fields,
a recalled adapter, an adapter that cannot load, a failing request inside a shared batch."""

from __future__ import annotations

import asyncio
import json
import shutil

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from medadapt.registry import Registry
from medadapt.serve.app import create_app
from medadapt.serve.batching import MicroBatcher
from medadapt.serve.limits import BodyLimit

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _instance(served_registry, site: str = "C") -> dict:
    frame = pd.read_csv(served_registry["data"])
    row = frame[frame["site"] == site].head(1).drop(columns=["outcome"])
    return json.loads(row.to_json(orient="records"))[0]


@pytest.fixture
def client(served_registry):
    app = create_app(served_registry["registry"], token=TOKEN, max_body_bytes=20_000)
    with TestClient(app) as test_client:
        yield test_client


def test_a_chunked_body_is_counted_and_refused_past_the_limit_or_never_read_without_a_token(
    client,
):
    def chunks():
        for _ in range(100):
            yield b"x" * 1000  # 100 kB, no Content-Length

    reply = client.post("/v1/predict", content=chunks(), headers=AUTH)
    assert reply.status_code == 413
    assert reply.json()["detail"] == (
        "request body over 19.5 KiB (serve --max-body-mb); send fewer instances per request (at "
        "most 1024)"
    )
    # without a token the route reads no body at all (uploads are never spooled for strangers)
    assert client.post("/v1/predict", content=chunks()).status_code == 401


def test_a_request_without_the_token_gets_its_401_before_any_limit_is_said(client):
    """A body over the limit was a 413 naming the limit (and the flag setting it) to anyone,
    before the missing token's 401; a compressed one a 415."""
    from medadapt.serve.app import UNAUTHORIZED

    big = b'{"adapter": "site_c", "instances": [' + b" " * 30_000 + b"]}"  # Content-Length set
    for headers in ({}, {"Authorization": "Bearer " + "x" * 32}, {"Authorization": TOKEN}):
        for extra in ({}, {"Content-Encoding": "gzip"}):
            reply = client.post("/v1/predict", content=big, headers={**headers, **extra})
            assert reply.status_code == 401, (headers, extra, reply.text)
            assert reply.json() == {"detail": UNAUTHORIZED}
            assert reply.headers["www-authenticate"] == "Bearer"
            assert "KiB" not in reply.text and "max-body" not in reply.text
    reply = client.post("/v1/predict", content=big, headers=AUTH)  # the token holder: the limit
    assert reply.status_code == 413 and "19.5 KiB (serve --max-body-mb)" in reply.text
    reply = client.post("/v1/predict", content=big, headers={"authorization": f"bearer {TOKEN}"})
    assert reply.status_code == 413  # the scheme's case, as the route's own check reads it
    gzipped = client.post(
        "/v1/predict", content=b"{}", headers={**AUTH, "Content-Encoding": "gzip"}
    )
    assert gzipped.status_code == 415


def test_a_non_numeric_content_length_is_a_400():
    sent = []

    async def app(scope, receive, send):  # never reached
        raise AssertionError("the body limit should answer first")

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"x")]}
    asyncio.run(BodyLimit(app, max_bytes=10)(scope, receive, send))
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"]) == {"detail": "Content-Length is not a number"}


def test_misspelt_fields_empty_instances_and_odd_values_are_422_by_field(client, served_registry):
    good = _instance(served_registry)
    cases = [
        ({"agee": 63}, ["body", "instances", 0, "agee"], "'agee' is not a field of this model"),
        ({}, ["body", "instances", 0], "the instance has none of the model's features"),
        ({**good, "smoker": ["yes"]}, ["body", "instances", 0, "smoker"], "smoker must be a"),
        ({**good, "age": 10**400}, ["body", "instances", 0, "age"], "age must be a finite number"),
    ]
    for instance, loc, message in cases:
        reply = client.post(
            "/v1/predict", json={"adapter": "site_c", "instances": [instance]}, headers=AUTH
        )
        assert reply.status_code == 422, instance
        (error,) = reply.json()["detail"]
        assert error["loc"] == loc and error["msg"].startswith(message)
    reply = client.post(
        "/v1/predict", json={"adapter": "site_c@x", "instances": [good]}, headers=AUTH
    )
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["body", "adapter"]


def test_metrics_label_unknown_paths_as_other(client):
    for i in range(3):
        client.get(f"/scan{i}")
    text = client.get("/metrics", headers=AUTH).text
    assert 'endpoint="other"' in text and "/scan" not in text


def test_a_removed_version_is_no_longer_served(served_registry, registry_copy):
    body = {"adapter": "site_c@2", "instances": [_instance(served_registry)]}
    app = create_app(registry_copy, token=None, refresh_seconds=0.0, any_version=True)
    with TestClient(app) as client:
        assert client.post("/v1/predict", json=body).status_code == 200  # loaded on demand
        Registry(registry_copy).remove("site_c@2")
        client.get("/healthz")
        other = {"adapter": "site_a", "instances": [_instance(served_registry, "A")]}
        reply = client.post("/v1/predict", json=other)
        assert reply.status_code == 200  # the next batch refreshes: site_c@2 is unloaded
        reply = client.post("/v1/predict", json=body)
        assert reply.status_code == 404
        when = Registry(registry_copy).removed_on("site_c", 2)  # as the command line says it
        assert when is not None and when.endswith(" UTC")
        assert reply.json()["detail"] == (
            f"adapter site_c@2 is not registered (it was removed on {when}); registered "
            "versions of 'site_c': 1"
        )
        assert not any("site_c__v2" in n for n in _adapter_names(app))


def test_an_adapter_whose_versions_were_all_removed_is_said_removed_not_unknown(
    served_registry, registry_copy
):
    """A trial's request for an adapter removed with 'rm --force' was told "unknown adapter",
    where the registry's commands say when it was removed."""
    Registry(registry_copy).remove_all("site_b", force=True)
    body = {"adapter": "site_b", "instances": [_instance(served_registry, "B")]}
    with TestClient(create_app(registry_copy, token=None)) as client:
        reply = client.post("/v1/predict", json=body)
    assert reply.status_code == 404
    assert reply.json()["detail"].startswith(
        "adapter 'site_b' is no longer served: every version of site_b was removed (the last on "
    )
    assert reply.json()["detail"].endswith("; served adapters: site_a, site_c")


def _adapter_names(app) -> list[str]:
    return [n for served in app.state.serving.bases.values() for n in served.model.adapter_names]


def test_adapters_that_cannot_load_are_503_and_health_says_degraded(served_registry, registry_copy):
    shutil.rmtree(registry_copy / "bases")  # the base model every adapter needs is gone
    app = create_app(registry_copy, token=None)
    with TestClient(app) as client:
        health = client.get("/healthz").json()
        assert health["status"] == "degraded" and health["adapters"] == 0
        assert sorted(health["failed"]) == ["site_a", "site_b", "site_c"]
        reply = client.post(
            "/v1/predict", json={"adapter": "site_c", "instances": [_instance(served_registry)]}
        )
        assert reply.status_code == 503
        assert reply.json()["detail"].startswith("adapter site_c@1 cannot be loaded: ")


def test_one_failing_request_does_not_fail_the_others_in_its_batch():
    def run(key, payloads):
        if "bad" in payloads:
            raise ValueError("this request's record cannot be encoded")
        return [f"ok:{p}" for p in payloads]

    async def scenario():
        batcher = MicroBatcher(run, max_batch=64, max_wait_ms=50.0, inline=True)
        await batcher.start()
        try:
            return await asyncio.gather(
                batcher.submit([("base", "a1"), ("base", "a2")]),
                batcher.submit([("base", "bad")]),
                batcher.submit([("base", "c1")]),
                return_exceptions=True,
            )
        finally:
            await batcher.stop()

    first, second, third = asyncio.run(scenario())
    assert first == ["ok:a1", "ok:a2"] and third == ["ok:c1"]
    assert isinstance(second, ValueError)


def test_offloaded_work_runs_on_the_worker_and_inline_work_waits_for_it():
    import threading

    gate = threading.Event()
    seen: list[tuple[str, str]] = []

    def run(key, payloads):
        seen.append((key, threading.current_thread().name))
        if key == "image":
            gate.wait(10)
        return list(payloads)

    async def scenario():
        batcher = MicroBatcher(run, max_wait_ms=0.0, inline=True, offload=lambda k: k == "image")
        await batcher.start()
        try:
            image = asyncio.ensure_future(batcher.submit([("image", 1)]))
            while not seen:
                await asyncio.sleep(0.001)
            table = asyncio.ensure_future(batcher.submit([("table", 2)]))
            refreshed = asyncio.ensure_future(
                batcher.call_in_worker(lambda: threading.current_thread().name)
            )
            await asyncio.sleep(0.05)
            assert not table.done() and not refreshed.done()  # behind the busy worker
            gate.set()
            return await image, await table, await refreshed, await batcher.submit([("table", 3)])
        finally:
            await batcher.stop()

    image, table, refreshed, idle = asyncio.run(scenario())
    assert (image, table, idle) == ([1], [2], [3])
    assert seen[0][1].startswith("medadapt-model") and refreshed.startswith("medadapt-model")
    assert seen[-1] == ("table", "MainThread")  # the worker idle again: inline, on the loop


def test_a_damaged_adapter_s_503_names_it_once(served_registry, registry_copy):
    """It read 'adapter site_c@1 cannot be loaded: adapter site_c@1: registry file ...'."""
    blob = registry_copy / "objects" / Registry(registry_copy).get("site_c@1").weights_blob
    blob.chmod(0o600)
    blob.write_bytes(b"damaged" + blob.read_bytes()[7:])
    app = create_app(registry_copy, token=None)
    with TestClient(app) as client:
        reply = client.post(
            "/v1/predict", json={"adapter": "site_c", "instances": [_instance(served_registry)]}
        )
        assert reply.status_code == 503
        detail = reply.json()["detail"]
        assert detail.startswith("adapter site_c@1 cannot be loaded: registry file "), detail
        assert "does not match its checksum" in detail
        failed = client.get("/healthz").json()["failed"]["site_c"]
        assert failed.startswith("site_c@1 cannot be loaded: registry file ")


def test_serve_says_how_many_promoted_adapters_it_loaded_and_which_it_could_not(
    registry_copy, monkeypatch
):
    """It said "serving 3 promoted adapter(s)" with one of them damaged (and ERROR: above)."""
    import medadapt.cli.serve as serve_cli
    from tests.cli.helpers import run_cli, succeeded

    blob = registry_copy / "objects" / Registry(registry_copy).get("site_c@1").weights_blob
    blob.chmod(0o600)
    blob.write_bytes(b"damaged" + blob.read_bytes()[7:])
    promoted = [v for v in Registry(registry_copy).list() if v.promoted]

    def run(app, **_):  # start the app: its lifespan loads the adapters, then says ready
        with TestClient(app):
            pass

    monkeypatch.setattr(serve_cli, "listen", run)
    said = succeeded(run_cli("serve", "--registry", registry_copy, "--port", "18998")).stderr
    assert f"serving {len(promoted) - 1} of {len(promoted)} promoted adapters from " in said
    # why, once, as a warning (the others are served): a trial read an "error:" line, a
    # warning for the base and a count, of one missing base, and the server went on
    assert "warning: not serving site_c@1: registry file " in said
    assert "error:" not in said and "cannot be loaded (site_c)" not in said


def test_serve_without_the_base_says_why_once_per_adapter_as_a_warning(registry_copy,
                                                                       monkeypatch):  # fmt: skip
    """A trial's hospital imported an adapter without its base: serve said the missing base
    as an "error:" line, again as a warning of the base, then counted it, and served on."""
    import shutil

    import medadapt.cli.serve as serve_cli
    from tests.cli.helpers import run_cli, succeeded

    shutil.rmtree(registry_copy / "bases")
    promoted = sorted(v.ref for v in Registry(registry_copy).list() if v.promoted)

    def run(app, **_):
        with TestClient(app):
            pass

    monkeypatch.setattr(serve_cli, "listen", run)
    said = succeeded(run_cli("serve", "--registry", registry_copy, "--port", "18997")).stderr
    lines = [line for line in said.splitlines() if "has no base model" in line]
    assert sorted(line.split()[3].rstrip(":") for line in lines) == promoted
    assert all(line.startswith("warning: not serving ") and line.endswith(
        "add-base BASE_DIR' (or import the adapter's archive exported with --with-base)")
        for line in lines)  # fmt: skip
    assert "error:" not in said and "not loaded" not in said
    assert f"serving 0 of {len(promoted)} promoted adapters from " in said


def test_a_token_file_others_may_read_is_refused_beyond_loopback_and_an_env_token_said_unused(
    served_registry, tmp_path, monkeypatch
):
    """A trial served on 0.0.0.0 with a 0644 token file after a warning only, and its
    MEDADAPT_TOKEN, also set, was ignored without a word (its clients got 401s)."""
    import medadapt.cli.serve as serve_cli
    from tests.cli.helpers import error_line, run_cli, succeeded

    token = tmp_path / "token.txt"
    token.write_text(TOKEN + "\n")
    token.chmod(0o644)
    serve = ("serve", "--registry", served_registry["registry"], "--port", "18997")
    assert error_line(run_cli(*serve, "--host", "0.0.0.0", "--token-file", token)) == (
        f"error: refusing to serve on 0.0.0.0 with --token-file {token} readable by every user "
        f"of this machine (mode 644): restrict it with 'chmod 600 {token}' (or listen on "
        "127.0.0.1)"
    )
    monkeypatch.setattr(serve_cli, "listen", lambda app, **_: None)
    monkeypatch.setenv("MEDADAPT_TOKEN", "e" * 32)
    token.chmod(0o600)
    said = succeeded(run_cli(*serve, "--host", "0.0.0.0", "--token-file", token)).stderr
    assert said.splitlines()[0] == (
        "note: MEDADAPT_TOKEN is set but not used: the token of --token-file is the one clients "
        "must send"
    )

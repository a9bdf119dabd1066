"""What a new-user trial found: a promotion not used by the next request, ``@latest`` answered
by the promoted version, ``/healthz`` "ok" while a group is claimed twice and naming adapters
and paths to anyone, limits said in pydantic's words, and a request naming no adapter answered
differently whether or not something was promoted."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
import time
from types import SimpleNamespace

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from medadapt.registry import Registry
from medadapt.registry.bases import verify_bases
from medadapt.serve.app import create_app
from medadapt.serve.registry_watch import IndexWatch
from medadapt.serve.routes import look_for_promotions
from medadapt.serve.state import PROMOTE
from tests.cli.helpers import error_line, run_cli, succeeded

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _instances(served_registry, site: str = "C", n: int = 1) -> list[dict]:
    frame = pd.read_csv(served_registry["data"])
    rows = frame[frame["site"] == site].head(n).drop(columns=["outcome"])
    return json.loads(rows.to_json(orient="records"))


def _no_group(served_registry) -> list[dict]:
    return [{k: v for k, v in i.items() if k != "site"} for i in _instances(served_registry)]


@pytest.fixture
def registry_copy(served_registry, tmp_path):
    """A private copy of the served registry (tests here change it)."""
    root = tmp_path / "registry"
    shutil.copytree(served_registry["registry"], root)
    return root


# ----- 1. a promotion or a rollback is used by the next request ---------------------------------
def test_a_promotion_and_a_rollback_are_used_by_the_very_next_request(
    served_registry, registry_copy
):
    """README: a new version is used "by the next request"; the server re-read the registry
    at most once a second, so a request right after `registry promote` got the old version.
    The timed poll is an hour here: only the per-request look at the index can see it."""
    registry = Registry(registry_copy)
    body = {"adapter": "site_c", "instances": _instances(served_registry)}
    app = create_app(registry_copy, token=None, refresh_seconds=3600)
    with TestClient(app) as client:
        version = lambda: client.post("/v1/predict", json=body).json()["predictions"][0]["version"]  # noqa: E731
        assert version() == 1
        registry.promote("site_c@2")
        assert version() == 2  # no sleep
        registry.promote("site_c@1")  # the rollback
        assert version() == 1
        registry.promote("site_c@2")
        listed = {a["name"]: a["version"] for a in client.get("/v1/adapters").json()}
        assert listed["site_c"] == 2
        registry.demote("site_a")
        assert client.get("/healthz").json()["adapters"] == 2


def test_the_index_watch_sees_every_write_and_no_read(tmp_path):
    registry = Registry(tmp_path / "reg", create=True)
    index = tmp_path / "reg" / "registry.sqlite"
    watch = IndexWatch(registry.root)
    # written just now: a stamp within the filesystem's time granule may hide the next write
    assert watch.changed() and watch.changed()  # not trusted: each look reloads
    past = time.time_ns() - 10**10
    os.utime(index, ns=(past, past))  # written long ago: its stamp is trusted
    assert watch.changed()  # the stamp moved (this look reloads once more)
    assert not watch.changed()
    registry.list(), registry.generation(), registry.names()
    assert not watch.changed()  # reads change nothing
    with registry.index.write() as conn:  # what promote, demote, add and rm each do
        registry.index.changed(conn, "test", "x", None)
    assert watch.changed()


def test_a_request_arriving_during_a_reload_waits_for_it():
    """With the model on the worker thread (a GPU), a request arriving while another's
    reload runs there was routed with the tables from before the promotion."""
    release, started = threading.Event(), threading.Event()
    looks = iter([True, False])  # the first request sees the registry change, the second not
    state = SimpleNamespace(claim_refresh=lambda: next(looks), reloading=None)

    def refresh(force: bool = False) -> None:
        started.set()
        release.wait(10)

    batcher = SimpleNamespace(call_in_worker=lambda fn: asyncio.to_thread(fn))

    async def scenario() -> None:
        first = asyncio.ensure_future(look_for_promotions(state, batcher, refresh))
        while not started.is_set():
            await asyncio.sleep(0.001)
        second = asyncio.ensure_future(look_for_promotions(state, batcher, refresh))
        await asyncio.sleep(0.05)
        assert not second.done()  # waits for the reload the first request started
        release.set()
        await asyncio.wait_for(asyncio.gather(first, second), 10)

    asyncio.run(scenario())


# ----- 2. selectors mean what they mean in the registry ---------------------------------------
def test_latest_is_the_newest_version_and_an_unknown_selector_is_a_422(client, served_registry):
    def answer(adapter: str):
        return client.post("/v1/predict", headers=AUTH, json={
            "adapter": adapter, "instances": _instances(served_registry)})  # fmt: skip

    versions = {ref: answer(ref).json()["predictions"][0]["version"]
                for ref in ("site_c", "site_c@promoted", "site_c@latest", "site_c@1")}  # fmt: skip
    assert versions == {"site_c": 1, "site_c@promoted": 1, "site_c@latest": 2, "site_c@1": 1}
    reply = answer("site_c@newest")
    assert reply.status_code == 422
    assert reply.json()["detail"] == [{"loc": ["body", "adapter"], "type": "value_error", "msg": (
        "version reference 'site_c@newest' is invalid: use NAME, NAME@N, NAME@latest or "
        "NAME@promoted (e.g. pneumonia@3)")}]  # fmt: skip
    reply = answer("nope@latest")
    assert (reply.status_code, reply.json()["detail"]) == (
        404,
        "unknown adapter 'nope'; served adapters: site_a, site_b, site_c",
    )


@pytest.fixture
def client(served_registry):
    with TestClient(create_app(served_registry["registry"], token=TOKEN)) as test_client:
        yield test_client


# ----- 3. and 4. /healthz: degraded for a group claimed twice; details to the token only -------
def test_health_is_degraded_naming_a_group_claimed_by_two_promoted_adapters(registry_copy):
    # group C: site_c and site_c_ia3 (allowed only when asked)
    Registry(registry_copy).promote("site_c_ia3@1", one_per_group=False)
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        detailed = client.get("/healthz", headers=AUTH)
        public = client.get("/healthz")
    assert detailed.status_code == public.status_code == 200  # as for a failed adapter
    health = detailed.json()
    assert (health["status"], health["n_conflicting_groups"]) == ("degraded", 1)
    assert health["conflicting_groups"] == {"C": ["site_c", "site_c_ia3"]}
    assert health["failed"] == {} and health["adapters"] == 4
    counts = ("status", "adapters", "n_failed", "n_conflicting_groups", "generation", "version")
    assert public.json() == {key: health[key] for key in counts}


def test_health_names_adapters_and_paths_to_the_token_only_with_the_registry_s_fix(
    registry_copy,
):
    """It showed "east@1 cannot be loaded: base model folder 'regdmg/bases/...': ...; copy the
    base model again" to anyone, with a fix unlike the one `registry verify` names."""
    (base,) = (registry_copy / "bases").iterdir()
    (base / "model.safetensors").unlink()
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        public = [client.get("/healthz", headers=h) for h in ({}, {"Authorization": "Bearer x"})]
        detailed = client.get("/healthz", headers=AUTH).json()
    for reply in public:
        assert reply.status_code == 200
        assert reply.json() == {"status": "degraded", "adapters": 0, "n_failed": 3,
                                "n_conflicting_groups": 0, "generation": detailed["generation"],
                                "version": detailed["version"]}  # fmt: skip
        assert "site_" not in reply.text and "bases" not in reply.text
    why = detailed["failed"]["site_c"]
    assert why.startswith("site_c@1 cannot be loaded: base model folder ")
    assert why.endswith(": model.safetensors is missing or does not match its checksum; add it "
                        f"again with 'medadapt registry --root {registry_copy} add-base "
                        "BASE_DIR' (that replaces the damaged copy)")  # fmt: skip
    # the fix is the one `registry verify` names, with the registry's own root
    _, problems = verify_bases(registry_copy)
    assert problems and problems[0].endswith(why.partition("; ")[2])


# ----- 5. the limits, in medadapt's words, with flags ----------------------------------------
def test_too_many_instances_is_a_422_in_medadapt_s_words(client, served_registry):
    reply = client.post("/v1/predict", headers=AUTH, json={"adapter": "site_c",
                        "instances": [{}] * 1025})  # fmt: skip
    said = "1025 instances sent, at most 1024 per request; send them in several requests"
    assert (reply.status_code, reply.json()["detail"]) == (
        422, [{"loc": ["body", "instances"], "type": "too_long", "msg": said}])  # fmt: skip


def test_a_body_over_the_limit_says_it_in_mib_with_the_most_instances(served_registry):
    app = create_app(served_registry["registry"], token=TOKEN, max_body_bytes=2**20,
                     max_instances=10)  # fmt: skip
    huge = {"adapter": "site_c", "instances": [{"note": "x" * 1_100_000}]}
    with TestClient(app) as client:
        reply = client.post("/v1/predict", json=huge, headers=AUTH)
        assert (reply.status_code, reply.json()["detail"]) == (413, (
            "request body over 1 MiB (serve --max-body-mb); send fewer instances per request "
            "(at most 10)"))  # fmt: skip
        eleven = {"adapter": "site_c", "instances": _instances(served_registry, n=11)}
        reply = client.post("/v1/predict", json=eleven, headers=AUTH)
        assert reply.status_code == 422
        assert reply.json()["detail"][0]["msg"].startswith("11 instances sent, at most 10 per")


def test_serve_help_says_the_limits_and_the_flags_set_them(registry_copy, monkeypatch):
    import uvicorn

    said = " ".join(succeeded(run_cli("serve", "--help")).stdout.split())
    assert "a JSON body of at most 1 MiB (413 above; --max-body-mb)" in said
    assert "at most 1024 instances (422 above; --max-instances)" in said
    for flags, expected in [
        (("--max-body-mb", "0"), "error: --max-body-mb must be positive; got 0"),
        (("--max-body-mb", "nan"), "error: --max-body-mb must be a finite number; got nan"),
        (("--max-instances", "0"), "error: --max-instances must be at least 1; got 0"),
        (("--max-instances", "5000"), "error: --max-instances 5000 is over --max-queue 4096: "
         "such a request would be refused whenever others wait; lower --max-instances or raise "
         "--max-queue"),
    ]:  # fmt: skip
        assert error_line(run_cli("serve", "--registry", registry_copy, *flags)) == expected
    answers = []

    def run(app, **_):
        with TestClient(app) as client:
            answers.append(client.post("/v1/predict", json={"adapter": "site_c",
                                                            "instances": [{}] * 3}))  # fmt: skip

    monkeypatch.setattr(uvicorn, "run", run)
    succeeded(run_cli("serve", "--registry", registry_copy, "--port", "18997",
                      "--max-instances", "2"))  # fmt: skip
    assert answers[0].status_code == 422 and "at most 2 per request" in answers[0].text


def test_serve_warns_of_a_group_claimed_by_two_promoted_adapters(registry_copy, monkeypatch):
    import uvicorn

    Registry(registry_copy).promote("site_c_ia3@1", one_per_group=False)

    def run(app, **_):  # start the app: its lifespan loads the adapters, then says ready
        with TestClient(app):
            pass

    monkeypatch.setattr(uvicorn, "run", run)
    said = succeeded(run_cli("serve", "--registry", registry_copy, "--port", "18996")).stderr
    assert (
        "warning: group 'C' is claimed by 2 promoted adapters (site_c, site_c_ia3): requests "
        f"routed by it get 409; demote all but one, with 'medadapt registry --root "
        f"{registry_copy} promote --clear NAME'"
    ) in " ".join(said.split())


# ----- 6. no adapter named: the base alone answers, promoted or not ----------------------------
def test_the_base_alone_answers_a_request_naming_no_adapter_whether_or_not_one_is_promoted(
    served_registry, registry_copy
):
    """With adapters promoted the base alone answered (with a note); with the same base and
    nothing promoted, it was a 404 "served groups: none" until a request for "site_c@1" had
    loaded the base, then the base alone answered."""
    registry = Registry(registry_copy)
    for name in ("site_a", "site_b", "site_c"):
        registry.demote(name)
    body = {"instances": _no_group(served_registry)}
    with TestClient(create_app(registry_copy, token=None)) as client:
        first = client.post("/v1/predict", json=body)
        pinned = client.post("/v1/predict", json={**body, "adapter": "site_c@1"})
        again = client.post("/v1/predict", json=body)
    assert first.status_code == pinned.status_code == again.status_code == 200, first.text
    (alone,) = first.json()["predictions"]
    assert alone["adapter"] is None and again.json() == first.json()
    assert alone["note"] == (
        "scored by the base model alone: the request names no adapter, and none is promoted; "
        "registered: site_a, site_b, site_c, site_c_ia3 (name a version in 'adapter' to use "
        f"one, e.g. 'site_a@1', or promote one: '{PROMOTE} site_a@1')"
    )

"""What a new-user trial found: a promotion not used by the next request, ``@latest`` answered
by the promoted version, ``/healthz`` "ok" while a group is claimed twice and naming adapters
and paths to anyone, limits said in pydantic's words, and a request naming no adapter answered
differently whether or not something was promoted; and what a review of the fixes found: a
base model added again unseen until a restart, the registry read on the event loop (on every
request for ever where the index's clock is ahead), the limits' defaults in the API's
description whatever the server was started with."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from types import SimpleNamespace

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from medadapt.registry import Registry, RegistryError
from medadapt.registry.bases import verify_bases
from medadapt.serve import registry_watch
from medadapt.serve.app import create_app
from medadapt.serve.registry_watch import IndexWatch
from medadapt.serve.routes import look_for_promotions
from medadapt.serve.state import ServingState
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


def test_the_index_watch_sees_every_write_and_no_read(tmp_path, monkeypatch):
    """A stamp is trusted once unchanged for one granule of this machine's clock, whatever
    the file's own time says: an index stamped long ago (a file server's clock behind) was
    trusted at once, and a second write within its granule could be missed."""
    monkeypatch.setattr(registry_watch, "MTIME_GRANULARITY_NS", 50_000_000)  # 50 ms
    registry = Registry(tmp_path / "reg", create=True)
    index = tmp_path / "reg" / "registry.sqlite"
    watch = IndexWatch(registry.root)
    # written just now: a stamp within the filesystem's time granule may hide the next write
    assert watch.changed() and watch.changed()  # not trusted: each look reloads
    past = time.time_ns() - 10**10
    os.utime(index, ns=(past, past))  # stamped long ago by another machine's clock
    assert watch.changed() and watch.changed()  # still not trusted: just seen
    time.sleep(0.06)
    assert watch.changed()  # unchanged for one granule: trusted from this look on
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

    async def claim_refresh() -> bool:
        return next(looks)

    state = SimpleNamespace(claim_refresh=claim_refresh, reloading=None)

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


def test_a_registry_that_cannot_be_read_is_logged_once_and_the_loaded_adapters_answer(caplog):
    """The "registry not re-read" line was written in two places (the look and the reload)."""

    async def claim_refresh() -> bool:
        raise RegistryError("registry R is busy (another process held its write lock for over 1 s)")

    state = SimpleNamespace(claim_refresh=claim_refresh, reloading=None)
    batcher = SimpleNamespace(call_in_worker=lambda fn: asyncio.to_thread(fn))
    asyncio.run(look_for_promotions(state, batcher, lambda force=False: None))
    assert [r.getMessage() for r in caplog.records] == [
        "registry not re-read (registry R is busy (another process held its write lock for over "
        "1 s)); serving the adapters already loaded"
    ]


def test_the_registry_is_read_off_the_event_loop_and_a_clock_ahead_costs_one_granule(
    tmp_path, monkeypatch
):
    """The generation was read on the event loop (SQLite, waiting up to 30 s for a lock); and
    an index whose modification time lies in the future (the file server's clock ahead) was
    never trusted, so every request read it, for ever."""
    import threading

    monkeypatch.setattr(registry_watch, "MTIME_GRANULARITY_NS", 50_000_000)  # 50 ms
    registry = Registry(tmp_path / "reg", create=True)
    state = ServingState(registry.root, refresh_seconds=3600)
    state.generation = registry.generation()
    readers: list[str] = []
    read = state.registry.generation

    def generation(**kwargs) -> int:
        readers.append(threading.current_thread().name)
        return read(**kwargs)

    monkeypatch.setattr(state.registry, "generation", generation)
    ahead = time.time_ns() + 3600 * 10**9  # an hour ahead of this machine
    for path in state.watch.paths:
        if os.path.exists(path):
            os.utime(path, ns=(ahead, ahead))

    async def requests(n: int) -> list[bool]:
        return [await state.claim_refresh() for _ in range(n)]

    assert asyncio.run(requests(5)) == [False] * 5  # nothing changed, but each one read
    assert len(readers) == 5 and threading.main_thread().name not in readers
    time.sleep(0.06)  # the stamp has stayed the same for one granule: trusted from now on
    assert asyncio.run(requests(50)) == [False] * 50
    assert len(readers) == 6  # one last read, then none
    with registry.index.write() as conn:  # a write is still seen by the next request
        registry.index.changed(conn, "test", "x", None)
    assert asyncio.run(requests(1)) == [True]


# ----- 2. selectors mean what they mean in the registry ---------------------------------------
def test_latest_is_the_newest_version_and_an_unknown_selector_is_a_422(client, served_registry):
    def answer(adapter: str):
        return client.post("/v1/predict", headers=AUTH, json={
            "adapter": adapter, "instances": _instances(served_registry)})  # fmt: skip

    versions = {ref: answer(ref).json()["predictions"][0]["version"]
                for ref in ("site_c", "site_c@promoted", "site_c@1")}  # fmt: skip
    assert versions == {"site_c": 1, "site_c@promoted": 1, "site_c@1": 1}
    latest = answer("site_c@latest")  # site_c@2, registered after the promoted one
    assert (latest.status_code, latest.json()["detail"]) == (404, (
        "adapter site_c@2 is registered but not promoted, and this server answers promoted "
        "versions only (site_c@1 is: send 'site_c'); a server started with --any-version "
        "answers any registered version"
    ))  # fmt: skip
    reply = answer("site_c@newest")
    assert reply.status_code == 422
    assert reply.json()["detail"] == [{"loc": ["body", "adapter"], "type": "value_error", "msg": (
        "version reference 'site_c@newest' is invalid: use NAME, NAME@N, NAME@latest or "
        "NAME@promoted (e.g. pneumonia@3)")}]  # fmt: skip
    reply = answer("site_c@v1")  # it was read as site_c@1: one spelling, the registry's
    assert reply.status_code == 422
    assert reply.json()["detail"] == [{"loc": ["body", "adapter"], "type": "value_error", "msg": (
        "version reference 'site_c@v1' is invalid: versions are plain numbers, write site_c@1 "
        "(the forms: NAME, NAME@N, NAME@latest or NAME@promoted)")}]  # fmt: skip
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
    Registry(registry_copy).promote("site_c_ia3@1", on_group_clash="allow")
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        detailed = client.get("/healthz", headers=AUTH)
        public = client.get("/healthz")
    assert detailed.status_code == public.status_code == 200  # as for a failed adapter
    health = detailed.json()
    assert (health["status"], health["n_conflicting_groups"]) == ("degraded", 1)
    assert health["conflicting_groups"] == {"site=C": ["site_c", "site_c_ia3"]}  # as promote
    assert health["failed"] == {} and health["adapters"] == 4
    counts = ("status", "adapters", "n_failed", "n_failed_base_models", "n_conflicting_groups",
              "n_models_missing_files", "generation", "version")  # fmt: skip
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
                                "n_failed_base_models": 1, "n_conflicting_groups": 0,
                                "n_models_missing_files": 0, "generation": detailed["generation"],
                                "version": detailed["version"]}  # fmt: skip
        assert "site_" not in reply.text and "bases" not in reply.text
    why = detailed["failed"]["site_c"]
    assert why == (
        f"site_c@1 cannot be loaded: base model {base.name}: {base / 'model.safetensors'} is "
        f"missing; add it again with 'medadapt registry --root {registry_copy} add-base "
        "BASE_DIR' (that replaces the damaged copy)"
    )
    # said as `registry verify` says it, with the registry's own root
    assert verify_bases(registry_copy)[1] == [why.removeprefix("site_c@1 cannot be loaded: ")]
    assert detailed["failed_base_models"] == {
        base.name: why.removeprefix("site_c@1 cannot be loaded: ")
    }


def test_a_base_model_added_again_is_loaded_by_the_next_request(served_registry, registry_copy):
    """The fix serve gave for a damaged base ('add it again with ... add-base BASE_DIR')
    never reached the running server: add-base changed no generation, and the adapters on
    that base stayed unavailable until a restart."""
    (base,) = (registry_copy / "bases").iterdir()
    (base / "model.safetensors").unlink()
    body = {"adapter": "site_c", "instances": _instances(served_registry)}
    with TestClient(create_app(registry_copy, token=None, refresh_seconds=3600)) as client:
        assert client.post("/v1/predict", json=body).status_code == 503
        added = run_cli("registry", "--root", registry_copy, "add-base", served_registry["base"])
        assert succeeded(added).stdout == (
            f"already registered: {base}; repaired its stored copy (the base model files were "
            "damaged)\n"
        )
        reply = client.post("/v1/predict", json=body)  # no sleep, no timed poll
        assert reply.status_code == 200, reply.text
        assert reply.json()["predictions"][0]["adapter"] == "site_c"
        assert client.get("/healthz").json()["status"] == "ok"
    (event, *_) = Registry(registry_copy).history()
    assert (event.action, event.name, event.version, event.detail) == (
        "add-base", f"base:{base.name}", None, {"copy": "replaced"})  # fmt: skip


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
        described = _instances_described(client)
        eleven = {"adapter": "site_c", "instances": _instances(served_registry, n=11)}
        reply = client.post("/v1/predict", json=eleven, headers=AUTH)
        assert reply.status_code == 422
        assert reply.json()["detail"][0]["msg"].startswith("11 instances sent, at most 10 per")
    # the API's description says this server's limits, not the defaults
    assert described["maxItems"] == 10
    assert described["description"].endswith(
        "at most 10 per request (serve --max-instances), in a body of at most 1 MiB (serve "
        "--max-body-mb)."
    )


def test_the_api_description_says_the_limits_the_server_was_started_with(served_registry):
    app = create_app(served_registry["registry"], token=TOKEN, max_body_bytes=2**19,
                     max_instances=7)  # fmt: skip
    with TestClient(app) as client:
        described = _instances_described(client)
    assert described["maxItems"] == 7
    assert "at most 7 per request" in described["description"]
    assert "a body of at most 512 KiB (serve --max-body-mb)" in described["description"]
    with TestClient(create_app(served_registry["registry"], token=TOKEN)) as client:
        assert _instances_described(client)["maxItems"] == 1024  # the default


def _instances_described(client) -> dict:
    """What ``/openapi.json`` says of a JSON request's ``instances``."""
    content = client.get("/openapi.json").json()["paths"]["/v1/predict"]["post"]["requestBody"]
    instances_request, _ = content["content"]["application/json"]["schema"]["anyOf"]
    return instances_request["properties"]["instances"]


def test_serve_help_says_the_limits_and_the_flags_set_them(registry_copy, monkeypatch):
    import medadapt.cli.serve as serve_cli

    said = " ".join(succeeded(run_cli("serve", "--help")).stdout.split())
    assert "a JSON body of at most 1 MiB by default (413 above; --max-body-mb)" in said
    assert "at most 1024 instances by default (422 above; --max-instances)" in said
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

    monkeypatch.setattr(serve_cli, "listen", run)
    succeeded(run_cli("serve", "--registry", registry_copy, "--port", "18997",
                      "--max-instances", "2"))  # fmt: skip
    assert answers[0].status_code == 422 and "at most 2 per request" in answers[0].text


def test_serve_warns_of_a_group_claimed_by_two_promoted_adapters(registry_copy, monkeypatch):
    import medadapt.cli.serve as serve_cli

    Registry(registry_copy).promote("site_c_ia3@1", on_group_clash="allow")

    def run(app, **_):  # start the app: its lifespan loads the adapters, then says ready
        with TestClient(app):
            pass

    monkeypatch.setattr(serve_cli, "listen", run)
    said = succeeded(run_cli("serve", "--registry", registry_copy, "--port", "18996")).stderr
    assert (
        "warning: group 'C' (column 'site') is claimed by 2 promoted adapters (site_c, "
        "site_c_ia3): requests "
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
    for any_version in (True, False):
        app = create_app(registry_copy, token=None, any_version=any_version)
        with TestClient(app) as client:
            first = client.post("/v1/predict", json=body)
            pinned = client.post("/v1/predict", json={**body, "adapter": "site_c@1"})
            again = client.post("/v1/predict", json=body)
        assert first.status_code == again.status_code == 200, first.text
        assert pinned.status_code == (200 if any_version else 404)  # not promoted
        (alone,) = first.json()["predictions"]
        assert alone["adapter"] is None and again.json() == first.json()
        pin = "name a version in 'adapter' to use one, e.g. 'site_a@1', or " if any_version else ""
        assert alone["note"] == (
            "scored by the base model alone: the request names no adapter, and none is "
            f"promoted; registered: site_a, site_b, site_c, site_c_ia3 ({pin}promote one: "
            f"'medadapt registry --root {registry_copy} promote site_a@1')"
        )


def test_a_registry_holding_a_base_alone_serves_it(tmp_path, monkeypatch):
    """A trial's registry held one base (add-base) and no adapter: serve answered every
    request 404 "no base model was trained on it; served groups: none", /v1/bases listed
    nothing, and the start said only that nothing is promoted."""
    import medadapt.cli.serve as serve_cli
    from medadapt.registry.bases import add_base
    from tests.registry.helpers import make_base

    registry = Registry(tmp_path / "reg", create=True)
    add_base(registry.root, make_base(tmp_path / "base"))
    app = create_app(registry.root, token=None)
    with TestClient(app) as client:
        bases = client.get("/v1/bases").json()
        reply = client.post("/v1/predict", json={"instances": [{"age": 60, "bp": 130}]})
    assert len(bases) == 1 and reply.status_code == 200, reply.text
    (alone,) = reply.json()["predictions"]
    assert alone["adapter"] is None and 0 <= alone["probability"] <= 1

    def run(app, **_):  # start the app (its lifespan says ready), then stop
        with TestClient(app):
            pass

    monkeypatch.setattr(serve_cli, "listen", run)
    said = succeeded(run_cli("serve", "--registry", registry.root, "--port", "18995")).stderr
    assert said.splitlines()[-1] == (
        "warning: nothing is promoted: the base model answers alone meanwhile; promote an "
        f"adapter to serve it, with 'medadapt registry --root {registry.root} promote NAME@N'"
    )
    add_base(registry.root, make_base(tmp_path / "other", seed=1))  # two of one kind: neither
    said = succeeded(run_cli("serve", "--registry", registry.root, "--port", "18995")).stderr
    assert said.splitlines()[-1].startswith(  # answers a request naming no group alone
        "warning: nothing is promoted: its base models answer requests that send a group they "
        "were trained on meanwhile; promote an adapter"
    )


def test_with_nothing_promoted_every_registered_version_s_base_is_resident(tmp_path):
    """The bases answering alone were those of each name's newest version only, although
    the docstrings said "the bases its registered versions use": an older version on another
    base of the same kind was left out, so the base alone answered as if there were one."""
    from medadapt.registry.bases import add_base
    from tests.registry.helpers import make_adapter_on_base, make_base

    old, new = (make_base(tmp_path / f"base{seed}", seed=seed) for seed in (0, 1))
    registry = Registry(tmp_path / "reg", create=True)
    for base in (old, new):
        add_base(registry.root, base)
    registry.add(make_adapter_on_base(tmp_path / "v1", old), name="east")
    registry.add(make_adapter_on_base(tmp_path / "v2", new, seed=2), name="east")  # east@2
    state = ServingState(registry.root)
    state.refresh(force=True)
    weights = {v.base_fingerprint["weights"] for v in registry.list("east")}
    assert len(weights) == 2 and state.tables.resident == weights

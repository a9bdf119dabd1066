"""What the server says when the files behind it go: a base model's or an adapter's files
deleted while it runs (``/healthz`` said "ok" until the next restart, which then could not
load them), and a base model that cannot be loaded at all (a request it would answer alone
was a 404 pointing to ``/healthz``, and with nothing promoted ``/healthz`` said "ok")."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from medadapt.registry import Registry
from medadapt.serve.app import create_app

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
AFTER = (
    "after the server loaded it: the loaded copy answers until the server restarts, which will "
    "not load it"
)


def _instances(served_registry, site: str = "C", n: int = 2) -> list[dict]:
    frame = pd.read_csv(served_registry["data"])
    rows = frame[frame["site"] == site].head(n).drop(columns=["outcome"])
    return json.loads(rows.to_json(orient="records"))


def _no_group(served_registry) -> list[dict]:
    return [{k: v for k, v in i.items() if k != "site"} for i in _instances(served_registry)]


COUNTS = {"status", "adapters", "n_failed", "n_failed_base_models", "n_conflicting_groups",
          "n_models_missing_files", "generation", "version"}  # fmt: skip


def _public(client) -> dict:
    """``/healthz`` without the token: counts, never a name or a path."""
    reply = client.get("/healthz")
    assert reply.status_code == 200 and set(reply.json()) == COUNTS
    assert "site_" not in reply.text and "/" not in reply.text
    return reply.json()


def test_a_base_file_deleted_while_the_server_runs_makes_health_degraded_saying_the_fix(
    served_registry, registry_copy, tmp_path
):
    (base,) = (registry_copy / "bases").iterdir()
    weights = base / "model.safetensors"
    kept = shutil.copy2(weights, tmp_path / "kept.safetensors")
    body = {"adapter": "site_c", "instances": _instances(served_registry)}
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        assert _public(client)["status"] == "ok"
        weights.unlink()
        public = _public(client)
        assert (public["status"], public["n_models_missing_files"], public["n_failed"]) == (
            "degraded", 1, 0)  # fmt: skip
        detailed = client.get("/healthz", headers=AUTH).json()
        root = registry_copy
        assert detailed["missing_files"] == {
            f"base model {base.name}": f"{weights} was deleted {AFTER}; run 'medadapt registry "
            f"--root {root} verify', and add it again with 'medadapt registry --root {root} "
            "add-base BASE_DIR' (that replaces the damaged copy)"
        }
        # the loaded copy still answers, as said
        assert client.post("/v1/predict", json=body, headers=AUTH).status_code == 200
        shutil.copy2(kept, weights)  # restored: said at once, nothing re-read
        assert _public(client)["status"] == "ok"
        assert client.get("/healthz", headers=AUTH).json()["missing_files"] == {}


def test_an_adapter_file_deleted_or_cut_short_is_named_to_the_token_only(
    served_registry, registry_copy
):
    registry = Registry(registry_copy)
    v = registry.get("site_c@1")
    blob = registry_copy / "objects" / v.weights_blob
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        blob.unlink()
        public = _public(client)
        assert (public["status"], public["n_models_missing_files"]) == ("degraded", 1)
        missing = client.get("/healthz", headers=AUTH).json()["missing_files"]
        root = registry_copy
        assert missing == {
            "adapter site_c@1": f"{blob} was deleted {AFTER}; run 'medadapt registry --root "
            f"{root} verify', and repair it by adding it again ('medadapt registry --root {root} "
            f"add ADAPTER_DIR --name site_c'), or remove it with 'medadapt registry --root {root} "
            "rm site_c@1 --force' (it is served: --force stops serving site_c)"
        }
        blob.write_bytes(b"")  # back, but empty: a changed size is said (a stat, no hashing)
        said = client.get("/healthz", headers=AUTH).json()["missing_files"]
        assert list(said) == ["adapter site_c@1"]
        assert said["adapter site_c@1"] == (
            f"{blob} changed size (0 bytes, {v.weights_bytes} when loaded) {AFTER}; run "
            f"'medadapt registry --root {root} verify', and repair it by adding it again "
            f"('medadapt registry --root {root} add ADAPTER_DIR --name site_c'), or remove it "
            f"with 'medadapt registry --root {root} rm site_c@1 --force' (it is served: --force "
            "stops serving site_c)"
        )


def test_a_version_removed_from_the_registry_is_no_longer_looked_for(
    served_registry, registry_copy
):
    body = {"adapter": "site_c@2", "instances": _instances(served_registry)}
    registry = Registry(registry_copy)
    app = create_app(registry_copy, token=None, refresh_seconds=0.0, any_version=True)
    with TestClient(app) as client:
        assert client.post("/v1/predict", json=body).status_code == 200  # loaded on demand
        registry.remove("site_c@2")
        registry.gc(min_age_s=0)  # its files go too: not "missing", removed
        health = client.get("/healthz").json()
        assert (health["status"], health["missing_files"]) == ("ok", {})


def test_with_the_base_unloadable_a_request_it_would_answer_alone_is_a_503_with_the_fix(
    served_registry, registry_copy
):
    (base,) = (registry_copy / "bases").iterdir()
    (base / "model.safetensors").unlink()
    Registry(registry_copy).demote("site_a")  # group A: answered by the base alone, if it loads
    root = registry_copy
    why = (
        f"base model {base.name}: {base / 'model.safetensors'} is missing; add it again with "
        f"'medadapt registry --root {root} add-base BASE_DIR' (that replaces the damaged copy)"
    )
    with TestClient(create_app(registry_copy, token=None)) as client:
        reply = client.post("/v1/predict", json={"instances": _no_group(served_registry)})
        assert reply.status_code == 503, reply.text  # it was a 404 pointing to /healthz
        assert reply.json()["detail"] == (
            "the request names no adapter and no group, its instances carry no group field, "
            f"and the base model that would answer it alone cannot be loaded: {why}"
        )
        reply = client.post("/v1/predict", json={"group": "A", "instances": _no_group(
            served_registry)})  # fmt: skip
        assert reply.status_code == 503
        assert reply.json()["detail"] == (
            f"group 'A' is answered by the base model trained on it, which cannot be loaded: {why}"
        )
        reply = client.post("/v1/predict", json={"group": "Z", "instances": _no_group(
            served_registry)})  # fmt: skip
        assert reply.status_code == 404  # a group no model was trained on: the client's
        health = client.get("/healthz").json()
        assert (health["n_failed_base_models"], health["failed_base_models"]) == (
            1,
            {base.name: why},
        )


def test_with_the_base_gone_and_nothing_promoted_health_is_degraded_and_requests_503(
    served_registry, registry_copy
):
    registry = Registry(registry_copy)
    for name in ("site_a", "site_b", "site_c"):
        registry.demote(name)
    with TestClient(create_app(registry_copy, token=None)) as client:
        assert client.get("/healthz").json()["status"] == "ok"
    shutil.rmtree(registry_copy / "bases")  # its model.json too: kind and groups unknown
    with TestClient(create_app(registry_copy, token=None)) as client:
        health = client.get("/healthz").json()
        assert (health["status"], health["n_failed"], health["n_failed_base_models"]) == (
            "degraded", 0, 1)  # fmt: skip  # it was "ok"
        (why,) = health["failed_base_models"].values()
        assert why.startswith(f"the registry at {registry_copy} has no base model with weights ")
        assert why.endswith(f"add it with 'medadapt registry --root {registry_copy} add-base "
                            "BASE_DIR' (or import the adapter's archive exported with "
                            "--with-base)")  # fmt: skip
        reply = client.post("/v1/predict", json={"group": "Z", "instances": _no_group(
            served_registry)})  # fmt: skip
        assert reply.status_code == 503  # its groups unknown: it may have been trained on Z
        assert reply.json()["detail"] == (
            "no adapter serves group 'Z', and a base model that may have been trained on it "
            f"cannot be loaded: {why}"
        )


def test_an_adapter_file_rewritten_in_place_at_the_same_size_is_said(
    served_registry, registry_copy
):
    """A trial overwrote 4 bytes of a served adapter's weights, keeping the size: /healthz
    said "ok" until a restart refused the adapter (its checksum)."""
    import os

    registry = Registry(registry_copy)
    v = registry.get("site_c@1")
    blob = registry_copy / "objects" / v.weights_blob
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        assert _public(client)["status"] == "ok"
        os.chmod(blob, 0o644)
        data = bytearray(blob.read_bytes())
        data[-4:] = bytes(b ^ 0xFF for b in data[-4:])
        blob.write_bytes(bytes(data))
        stat = blob.stat()
        os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert _public(client)["status"] == "degraded"
        said = client.get("/healthz", headers=AUTH).json()["missing_files"]
        root = registry_copy
        assert said == {
            "adapter site_c@1": f"{blob} was written again (the same size, a later "
            "modification time) after the server loaded it: the loaded copy answers until the "
            "server restarts, which reads the file as it is now, perhaps not the copy served; "
            f"run 'medadapt registry --root {root} verify', and repair it by adding it again "
            f"('medadapt registry --root {root} add ADAPTER_DIR --name site_c'), or remove it "
            f"with 'medadapt registry --root {root} rm site_c@1 --force' (it is served: --force "
            "stops serving site_c)"
        }


def test_an_adapter_blob_repaired_by_adding_it_again_is_no_longer_said(
    served_registry, registry_copy
):
    """A review: after a blob was deleted and, as /healthz advised, added again (the same
    bytes, written anew), /healthz still said "written again ... repair it by adding it
    again" until a restart."""
    registry = Registry(registry_copy)
    v = registry.get("site_c@1")
    blob = registry_copy / "objects" / v.weights_blob
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        blob.unlink()
        assert _public(client)["status"] == "degraded"
        registry.add(served_registry["adapters"]["site_c"], name="site_c")  # the repair
        assert blob.is_file()
        assert _public(client)["status"] == "ok"
        assert client.get("/healthz", headers=AUTH).json()["missing_files"] == {}

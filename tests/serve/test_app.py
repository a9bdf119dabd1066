"""The prediction service: routing, auth, validation, limits, metrics, hot promotion."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
from fastapi.testclient import TestClient

from medadapt.registry import Registry
from medadapt.registry.records import metric_notes
from medadapt.serve.app import create_app
from medadapt.serve.schemas import PredictResponse
from medadapt.tables import predict
from medadapt.workflows.evaluate import load_for_inference
from tests.serve.recorded import SITE_C_CAUTION, SITE_C_CAUTIONS, held_out_rows

pytestmark = pytest.mark.xdist_group("serve")  # share one registry fixture per worker
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _instances(served_registry, site: str, n: int = 4) -> list[dict]:
    """``n`` rows of ``site`` its adapter held out (not in-sample: their answers say nothing
    of it)."""
    frame = held_out_rows(served_registry, f"site_{site.lower()}")
    rows = frame[frame["site"] == site].head(n).drop(columns=["outcome"])
    return json.loads(rows.to_json(orient="records"))


@pytest.fixture
def client(served_registry):
    app = create_app(served_registry["registry"], token=TOKEN, max_body_bytes=200_000)
    with TestClient(app) as test_client:
        yield test_client


def test_predictions_equal_offline_predictions_with_that_adapter(client, served_registry):
    instances = _instances(served_registry, "C", 6)
    reply = client.post(
        "/v1/predict", json={"adapter": "site_c", "instances": instances}, headers=AUTH
    )
    assert reply.status_code == 200, reply.text
    served = reply.json()["predictions"]
    assert PredictResponse.model_validate(reply.json()).predictions[0].adapter == "site_c"
    assert {(p["adapter"], p["version"]) for p in served} == {("site_c", 1)}
    loaded = load_for_inference(served_registry["base"], served_registry["adapters"]["site_c"])
    model, schema, name = loaded.model, loaded.base.schema, loaded.adapter
    expected = predict(model, schema, pd.DataFrame(instances), adapter=name)
    np.testing.assert_allclose([p["probability"] for p in served], expected, atol=1e-6)


def test_a_prediction_names_the_features_it_lacked_and_is_withheld_when_most_are(
    client, served_registry
):
    """Missing features are allowed (a lab not taken), but the answer says which; on fewer
    than half of the features no prediction is given, and the note says why (names only,
    never values): a near-certain "benign" from one number read as an answer."""
    full = _instances(served_registry, "C", 1)[0]
    schema = load_for_inference(served_registry["base"], None).base.schema
    features = [f.name for f in schema.features]
    one = {features[0]: full[features[0]]}
    gap = {**full, features[1]: None}
    reply = client.post("/v1/predict", json={"adapter": "site_c", "instances": [full, gap, one]},
                        headers=AUTH)  # fmt: skip
    assert reply.status_code == 200, reply.text
    complete, partial, sparse = reply.json()["predictions"]
    assert (complete["missing_features"], complete["note"]) == ([], SITE_C_CAUTION)
    assert (partial["missing_features"], partial["note"]) == (
        [features[1]],
        (
            f"{SITE_C_CAUTION}; scored without {features[1]!r} (1 of the model's {len(features)} "
            "features missing, read as 'not measured', never imputed): send it if it was measured"
        ),
    )  # a trial's answer lacking 4 of 10 features carried a null note
    assert sparse["missing_features"] == features[1:]
    assert (sparse["predicted"], sparse["probability"]) == (None, None)
    # one shape, withheld or not: what the probability would be of (a trial's client parsed
    # a fixed schema and met a withheld answer without "positive")
    assert set(sparse) == set(complete) and sparse["positive"] == complete["positive"]
    assert complete["predicted"] is not None and partial["probability"] is not None
    n = len(features)
    assert sparse["note"] == (  # why first; the model's cautions (of its results) last
        f"{n - 1} of the model's {n} features were missing (read as 'not "
        "measured', never imputed): a prediction resting on 1 is withheld; send the others, or "
        f"start the server with --score-sparse to answer such instances anyway; {SITE_C_CAUTION}"
    )
    PredictResponse.model_validate(reply.json())
    numeric = next(f.name for f in schema.numeric_features)  # a trial: far outside, withheld,
    reply = client.post("/v1/predict", json={"adapter": "site_c", "instances": [  # and told
        {numeric: 1e9}]}, headers=AUTH)  # fmt: skip  # "the prediction extrapolates there"
    (far,) = reply.json()["predictions"]
    assert far["predicted"] is None and far["outside_training"] == [numeric]
    assert far["note"].endswith(
        f"the value sent for {numeric!r} lies far outside those the "
        f"model was trained on (a unit or typing error?): check it; {SITE_C_CAUTION}"
    )


def test_site_c_is_recorded_not_shown_better_than_chance(client, served_registry):
    """Every answer of site_c@1 carries the caution its recorded AUROC calls for, as
    ``registry promote`` warned it (a trial's served answers said nothing: "note": null)."""
    (entry,) = [a for a in client.get("/v1/adapters", headers=AUTH).json()
                if a["name"] == "site_c"]  # fmt: skip
    low, high = entry["metrics"]["auroc_ci"]
    assert low <= 0.5 <= high
    assert entry["cautions"] == SITE_C_CAUTIONS
    assert entry["metrics"]["calibration_slope"] is None  # unstable in its resamples
    assert SITE_C_CAUTION.endswith("; ".join(entry["cautions"]))


def test_score_sparse_answers_an_instance_lacking_most_features_with_a_note(served_registry):
    full = _instances(served_registry, "C", 1)[0]
    schema = load_for_inference(served_registry["base"], None).base.schema
    features = [f.name for f in schema.features]
    app = create_app(served_registry["registry"], token=TOKEN, score_sparse=True)
    with TestClient(app) as client:
        reply = client.post("/v1/predict", headers=AUTH, json={
            "adapter": "site_c", "instances": [{features[0]: full[features[0]]}]})  # fmt: skip
    (sparse,) = reply.json()["predictions"]
    n = len(features)
    assert 0 <= sparse["probability"] <= 1 and sparse["predicted"] in schema.classes
    assert sparse["note"] == (  # a prediction made: the model's cautions first
        f"{SITE_C_CAUTION}; {n - 1} of the model's {n} features were missing (read as 'not "
        "measured', never imputed): this prediction rests on 1; send the others before relying "
        "on it"
    )


def test_routing_by_version_by_request_group_and_by_instance_group(client, served_registry):
    body = {"adapter": "site_c@2", "instances": _instances(served_registry, "C", 1)}
    reply = client.post("/v1/predict", json=body, headers=AUTH)  # registered, not promoted
    assert (reply.status_code, reply.json()["detail"]) == (404, (
        "adapter site_c@2 is registered but not promoted, and this server answers promoted "
        "versions only (site_c@1 is: send 'site_c'); a server started with --any-version "
        "answers any registered version"
    ))  # fmt: skip
    anyone = create_app(served_registry["registry"], token=TOKEN, any_version=True)
    with TestClient(anyone) as silent_trial:
        reply = silent_trial.post("/v1/predict", json=body, headers=AUTH)
    assert reply.json()["predictions"][0]["version"] == 2
    assert client.post("/v1/predict", json={**body, "adapter": "site_c@1"},
                       headers=AUTH).json()["predictions"][0]["version"] == 1  # fmt: skip
    body["adapter"] = "site_c@9"
    reply = client.post("/v1/predict", json=body, headers=AUTH)
    assert (reply.status_code, reply.json()["detail"]) == (
        404,
        "adapter site_c@9 is not registered; registered versions of 'site_c': 1, 2",
    )
    body = {"group": "C", "instances": _instances(served_registry, "C", 2)}
    assert {
        p["adapter"]
        for p in client.post("/v1/predict", json=body, headers=AUTH).json()["predictions"]
    } == {"site_c"}
    mixed = [
        *_instances(served_registry, "C", 2),
        *_instances(served_registry, "A", 1),
        *_instances(served_registry, "B", 1),
    ]
    reply = client.post("/v1/predict", json={"instances": mixed}, headers=AUTH).json()
    assert [p["adapter"] for p in reply["predictions"]] == ["site_c", "site_c", "site_a", "site_b"]
    no_group = [{k: v for k, v in mixed[0].items() if k != "site"}]
    reply = client.post("/v1/predict", json={"instances": no_group}, headers=AUTH).json()
    assert reply["predictions"][0]["adapter"] is None  # the base model, saying so
    assert reply["predictions"][0]["note"] == (
        "scored by the base model alone: the request names no adapter and no group, and the "
        "instance carries no group field; adapters serve groups A, B, C (send 'group' or name "
        "an 'adapter' to use one)"
    )
    # withheld (one feature sent): why first, and the route's note says nothing was scored
    schema = load_for_inference(served_registry["base"], None).base.schema
    first = schema.features[0].name
    sparse = [{first: no_group[0][first]}]
    (withheld,) = client.post("/v1/predict", json={"instances": sparse},
                              headers=AUTH).json()["predictions"]  # fmt: skip
    assert withheld["predicted"] is None and "scored by" not in withheld["note"]
    assert withheld["note"].endswith(
        "; for the base model alone: the request names no adapter and no group, and the "
        "instance carries no group field; adapters serve groups A, B, C (send 'group' or name "
        "an 'adapter' to use one)"
    )
    # unknown, or a served group in another case: the 404 names the instance and what routes
    for site, meant in (("Z", "; s"), ("c", "; did you mean 'C'? S")):  # not "?; served"
        unknown = [{**_instances(served_registry, "A", 1)[0], "site": site}]
        reply = client.post("/v1/predict", json={"instances": unknown}, headers=AUTH)
        assert reply.status_code == 404
        assert reply.json()["detail"] == (
            f"no adapter serves group '{site}' (the 'site' field of instance 0), and no base "
            f"model was trained on it{meant}erved groups: A, B, C (send one of them, or "
            "name an 'adapter')"
        )


def test_unknown_adapter_is_404_with_the_served_names(client, served_registry):
    body = {"adapter": "nope", "instances": _instances(served_registry, "C", 1)}
    reply = client.post("/v1/predict", json=body, headers=AUTH)
    assert reply.status_code == 404
    assert reply.json()["detail"] == (
        "unknown adapter 'nope'; served adapters: site_a, site_b, site_c"
    )


def test_bearer_token_is_required_except_for_health(client, served_registry):
    body = {"adapter": "site_c", "instances": _instances(served_registry, "C", 1)}
    assert client.post("/v1/predict", json=body).status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * 32}
    assert client.post("/v1/predict", json=body, headers=wrong).status_code == 401
    assert client.get("/v1/adapters").status_code == 401
    assert client.get("/metrics").status_code == 401
    health = client.get("/healthz").json()
    assert (health["status"], health["adapters"]) == ("ok", 3)
    described = client.get("/openapi.json")  # public, as the README says: the API, no adapters
    assert described.status_code == 200 and "/v1/predict" in described.json()["paths"]
    assert not {"site_a", "site_b", "site_c"} & set(re.findall(r"\w+", described.text))


def test_validation_errors_name_the_fields(client, served_registry):
    instance = {**_instances(served_registry, "C", 1)[0], "age": "old"}
    reply = client.post(
        "/v1/predict", json={"adapter": "site_c", "instances": [instance]}, headers=AUTH
    )
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "instances", 0, "age"]
    reply = client.post("/v1/predict", json={"adapter": "site_c", "instances": []}, headers=AUTH)
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["body", "instances"]
    reply = client.post("/v1/predict", json={"adaptor": "x", "instances": [{}]}, headers=AUTH)
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["body", "adaptor"]


def test_oversized_requests_are_refused(client):
    huge = {"adapter": "site_c", "instances": [{"age": 1.0, "note": "x" * 300_000}]}
    reply = client.post("/v1/predict", json=huge, headers=AUTH)
    assert reply.status_code == 413


def test_adapters_listing_and_prometheus_metrics(client, served_registry):
    listed = client.get("/v1/adapters", headers=AUTH).json()
    assert sorted(a["name"] for a in listed) == ["site_a", "site_b", "site_c"]
    assert {a["group"] for a in listed} == {"A", "B", "C"}
    registered = {v.name: metric_notes(v.metrics)
                  for v in Registry(served_registry["registry"]).list() if v.promoted}  # fmt: skip
    assert {a["name"]: a["notes"] for a in listed} == registered  # why a metric is missing ...
    client.post(
        "/v1/predict",
        json={"adapter": "site_b", "instances": _instances(served_registry, "B", 2)},
        headers=AUTH,
    )
    text = client.get("/metrics", headers=AUTH).text
    assert 'medadapt_instances_total{adapter="site_b"} 2.0' in text
    assert "medadapt_batch_size_bucket" in text and "medadapt_adapters_served 3.0" in text


def test_a_newly_promoted_version_is_served_without_a_restart(served_registry):
    registry = Registry(served_registry["registry"])
    app = create_app(served_registry["registry"], token=None, refresh_seconds=0.0)
    body = {"adapter": "site_c", "instances": _instances(served_registry, "C", 1)}
    with TestClient(app) as client:
        assert client.post("/v1/predict", json=body).json()["predictions"][0]["version"] == 1
        registry.promote("site_c@2")
        try:
            assert client.post("/v1/predict", json=body).json()["predictions"][0]["version"] == 2
            pinned = {"adapter": "site_c@1", "instances": body["instances"]}
            assert client.post("/v1/predict", json=pinned).status_code == 404  # replaced
            # now two promoted adapters claim group C (allowed only when asked)
            registry.promote("site_c_ia3@1", on_group_clash="allow")
            by_group = {"group": "C", "instances": body["instances"]}
            reply = client.post("/v1/predict", json=by_group)
            assert reply.status_code == 409
            assert reply.json()["detail"] == (
                "group 'C' is served by several promoted adapters (site_c, site_c_ia3); name "
                "one with 'adapter', or demote the others"
            )
        finally:
            registry.demote("site_c_ia3")
            registry.promote("site_c@1")


def test_registry_add_also_keeps_the_adapters_base(served_registry, tmp_path):
    from medadapt.cli.main import main
    from medadapt.registry.bases import list_bases

    root = tmp_path / "fresh"
    main(
        [
            "registry",
            "--root",
            str(root),
            "add",
            str(served_registry["adapters"]["site_c"]),
            "--name",
            "site_c",
        ]
    )
    (base,) = list_bases(root)
    assert base["label"] == "outcome" and set(base["groups"]) == {"A", "B"}


def test_a_prediction_names_the_categories_the_model_never_learned(client, served_registry):
    """A category the model did not learn ("male" for "M", a typo) is scored as "unseen":
    the answer names the feature (never the value) so the caller can fix its coding."""
    full = _instances(served_registry, "C", 1)[0]
    typo = {**full, "sex": "male", "smoker": " Yes "}
    reply = client.post("/v1/predict", json={"adapter": "site_c", "instances": [full, typo]},
                        headers=AUTH)  # fmt: skip
    assert reply.status_code == 200, reply.text
    known, coded_otherwise = reply.json()["predictions"]
    assert known["unseen_categories"] == []
    assert coded_otherwise["unseen_categories"] == ["smoker", "sex"]
    assert "male" not in reply.text


def test_a_prediction_names_the_features_far_outside_the_training_values(client, served_registry):
    """An age of 250 (months for years) is scored like any other; the answer names the
    feature (never the value), as predict's outside_training column does."""
    full = _instances(served_registry, "C", 1)[0]
    schema = load_for_inference(served_registry["base"], None).base.schema
    spec = schema.numeric_features[0]
    far = {**full, spec.name: spec.mean + 7 * spec.std}
    near = {**full, spec.name: spec.mean + 5 * spec.std}
    reply = client.post("/v1/predict", json={"adapter": "site_c", "instances": [far, near]},
                        headers=AUTH)  # fmt: skip
    assert reply.status_code == 200, reply.text
    far_answer, near_answer = reply.json()["predictions"]
    assert [far_answer["outside_training"], near_answer["outside_training"]] == [[spec.name], []]
    assert f"{far[spec.name]}" not in reply.text
    # said in the note too: a client showing the answer alone showed a confident result
    assert far_answer["note"] == (
        f"{SITE_C_CAUTION}; the value sent for {spec.name!r} lies far outside those the model "
        "was trained on (a unit or typing error?): the prediction extrapolates there and may "
        "be wrong; check it"
    )
    assert near_answer["note"] == SITE_C_CAUTION


def test_an_answer_carries_the_float32_it_computed_not_its_float64_expansion(
    client, served_registry
):
    """A trial read ``207.05914306640625`` as false precision (``predict`` writes
    ``207.05914``): the shortest decimal that reads back as the model's float32."""
    instances = _instances(served_registry, "C", 4)
    reply = client.post("/v1/predict", json={"adapter": "site_c", "instances": instances},
                        headers=AUTH)  # fmt: skip
    loaded = load_for_inference(served_registry["base"], served_registry["adapters"]["site_c"])
    expected = predict(loaded.model, loaded.base.schema, pd.DataFrame(instances), adapter="site_c")
    served = [answer["probability"] for answer in reply.json()["predictions"]]
    np.testing.assert_allclose(served, expected, atol=1e-6)
    assert [repr(p) for p in served] == [str(np.float32(p)) for p in served]  # no digit more
    assert any(len(repr(float(np.float32(p)))) > len(repr(p)) for p in served)  # were there


def test_adapters_listing_and_health_show_a_promotion_before_any_prediction(served_registry):
    """A deployment script that promotes, then checks /v1/adapters, must see the new version
    without first sending a patient through /v1/predict."""
    registry = Registry(served_registry["registry"])
    app = create_app(served_registry["registry"], token=None, refresh_seconds=0.0)
    with TestClient(app) as client:
        before = client.get("/healthz").json()["generation"]
        registry.promote("site_c@2")
        try:
            listed = {a["name"]: a["version"] for a in client.get("/v1/adapters").json()}
            assert listed["site_c"] == 2
            assert client.get("/healthz").json()["generation"] > before
        finally:
            registry.promote("site_c@1")


def test_a_group_that_contradicts_the_instances_own_group_is_refused(client, served_registry):
    """ "group": "C" with an instance of site A must not silently use site C's adapter."""
    body = {"group": "C", "instances": _instances(served_registry, "A", 1)}
    reply = client.post("/v1/predict", json=body, headers=AUTH)
    assert reply.status_code == 422
    (error,) = reply.json()["detail"]
    assert error["loc"] == ["body", "instances", 0, "site"]
    assert error["msg"] == (
        "instance 0's 'site' field names another group than 'group' ('C'); drop one of "
        "them, or send each group's instances in their own request"
    )


def test_a_server_with_nothing_promoted_says_it_serves_no_group(tmp_path):
    """Nothing registered yet (no adapter, no base model to answer alone): a request is 404
    saying 'served groups: none', not an empty list. (A registered base answers alone even
    with nothing promoted: test_registry_changes.)"""
    Registry(tmp_path / "reg", create=True)
    app = create_app(tmp_path / "reg")
    with TestClient(app) as empty:
        answer = empty.post("/v1/predict", json={"instances": [{"age": 63}]})
        assert answer.status_code == 404
        assert answer.json()["detail"] == (
            "the request names no adapter and no group, and its instances carry no group "
            f"field; served groups: none (promote an adapter: 'medadapt registry --root "
            f"{tmp_path / 'reg'} promote NAME@N')"
        )
        answer = empty.post("/v1/predict", json={"group": "Basel", "instances": [{"age": 63}]})
        assert answer.json()["detail"] == (
            "no adapter serves group 'Basel', and no base model was trained on it; served "
            f"groups: none (promote an adapter: 'medadapt registry --root {tmp_path / 'reg'} "
            "promote NAME@N')"
        )


def test_a_value_coded_as_not_measured_is_named_as_missing():
    """With ``--missing-code chol=0`` the model reads a served cholesterol of 0 as missing
    (as predict does), so the answer must name it among the missing features and count it in
    the note: it rests on the features that were measured, not on 2 of 3."""
    from medadapt.data.schema import TableSchema
    from medadapt.serve.routes import missing_in_record

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.normal(60, 9, 80), "chol": rng.normal(240, 40, 80),
                          "bp": rng.normal(130, 15, 80), "y": rng.integers(0, 2, 80)})  # fmt: skip
    schema = TableSchema.infer(frame, label="y", missing_codes={"chol": 0})
    assert missing_in_record(schema, {"age": 61, "chol": 0, "bp": None}) == ["chol", "bp"]
    assert missing_in_record(schema, {"age": 61, "chol": 0.0, "bp": 120}) == ["chol"]
    assert missing_in_record(schema, {"age": 0, "chol": 250, "bp": 120}) == []  # not coded
    # what the answer names missing is what the model read as missing ("0" as text too)
    records = [{"age": 61, "chol": chol, "bp": 120} for chol in (0, 0.0, "0", "0.0", 250)]
    x_num, _ = schema.encode_records(records)
    column = [f.name for f in schema.numeric_features].index("chol")
    read_missing = [bool(v) for v in torch.isnan(x_num[:, column])]
    named_missing = ["chol" in missing_in_record(schema, r) for r in records]
    assert read_missing == named_missing == [True, True, True, True, False]


def test_the_base_alone_note_names_one_group_in_the_singular_and_none_without_adapters():
    """Unit check of the note's wording over routing tables (no models loaded)."""
    from types import SimpleNamespace

    from medadapt.serve.state import Route, ServingState, Tables

    state = ServingState.__new__(ServingState)  # only the routing tables and the bases' kinds
    state.bases = {"k": SimpleNamespace(kind="tabular")}
    one = Tables(groups={("site", "C"): [Route("k", "c", "site_c", 1)]})
    assert state._base_alone("tabular", one) == (
        "scored by the base model alone: the request names no adapter and no group, and the "
        "instance carries no group field; an adapter serves group C (send 'group' or name an "
        "'adapter' to use it)"
    )
    assert state._base_alone("image", one) is None  # no image adapter served
    assert state._base_alone("tabular", Tables()) is None


def test_a_request_naming_no_adapter_where_no_base_answers_alone_is_a_422(
    served_registry, tmp_path
):
    """With two base models served, a request naming no adapter and no group (its instances
    carrying no group field) was a 404 "served groups: ...", as if the server lacked
    something: the request lacks a field, and the answer names a few adapters to send."""
    import shutil

    from medadapt.registry.bases import add_base
    from medadapt.workflows.adapt import adapt_job
    from medadapt.workflows.train_base import train_base_job

    root = tmp_path / "registry"
    shutil.copytree(served_registry["registry"], root)
    data, other = served_registry["data"], tmp_path / "other_base"
    train_base_job(data=data, label="outcome", out=other, id_column="patient_id", seed=1,
                   n_boot=20)  # fmt: skip
    add_base(root, other)
    adapt_job(base_dir=other, data=data, label="outcome", out=tmp_path / "other", method="head",
              name="other", n_boot=20)  # fmt: skip
    registry = Registry(root)
    registry.add(tmp_path / "other", name="other")
    registry.promote("other@1")
    no_group = [{k: v for k, v in _instances(served_registry, "A", 1)[0].items() if k != "site"}]
    with TestClient(create_app(root, token=TOKEN)) as two_bases:
        reply = two_bases.post("/v1/predict", json={"instances": no_group}, headers=AUTH)
    assert reply.status_code == 422, reply.text
    [error] = reply.json()["detail"]
    assert error["loc"] == ["body", "adapter"]
    assert error["msg"] == (
        "the request names no adapter and no group, its instances carry no group field, and 2 "
        "base models serve tabular data (none answers alone): name an adapter in 'adapter'; "
        "served: other, site_a, site_b, site_c"
    )

"""Bad requests to ``medadapt serve``: a 4xx naming the problem, never echoing the values
sent (they are patient data), small even when the request is large."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from medadapt.serve.app import create_app

pytestmark = pytest.mark.xdist_group("bad_inputs")
TOKEN = "s3cret-token-for-the-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "Jane Roe 4711"  # a patient value that must never come back


@dataclass(frozen=True)
class Request:
    id: str
    status: int
    says: str
    method: str = "POST"
    path: str = "/v1/predict"
    body: Any = None  # JSON (built from a VA patient by the "{patient}" marker)
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=lambda: dict(AUTH))


def req(id: str, status: int, says: str, **kw: Any):
    return pytest.param(Request(id, status, says, **kw), id=id)


P = "{patient}"  # replaced by one VA Long Beach patient's features


def with_patient(**changes: Any) -> dict[str, Any]:
    return {"adapter": "va", "instances": [{P: True, **changes}]}


HTTP_CASES = [
    req("no token", 401, "bearer token", body=with_patient(), headers={}),
    req("wrong token", 401, "bearer token", body=with_patient(),
        headers={"Authorization": "Bearer nope"}),
    req("basic auth", 401, "bearer token", body=with_patient(),
        headers={"Authorization": "Basic dXNlcjpwYXNz"}),
    req("adapters without token", 401, "bearer token", method="GET", path="/v1/adapters",
        headers={}),
    req("metrics without token", 401, "bearer token", method="GET", path="/metrics", headers={}),
    # with the routes the service answers (a trial read a bare "Method Not Allowed")
    req("GET predict", 405, "Method Not Allowed: GET /v1/predict; this service answers POST "
        "/v1/predict, GET /v1/adapters", method="GET"),
    req("POST adapters", 405, "Method Not Allowed: POST /v1/adapters; this service answers",
        path="/v1/adapters", body={}),
    req("unknown path", 404, "Not Found: no route /v1/predictions; this service answers POST "
        "/v1/predict", path="/v1/predictions", body={}),
    req("not JSON", 422, "JSON", raw=b"age=63&sex=Male"),
    req("a list body", 422, "wrap the records as", body=[{"age": 63}]),
    req("empty object", 422, "instances", body={}),
    req("no instances", 422, "instances", body={"adapter": "va"}),
    req("instances empty", 422, "instances", body={"adapter": "va", "instances": []}),
    req("instances a string", 422, "instances", body={"adapter": "va", "instances": SECRET}),
    req("instance a list", 422, "instances", body={"adapter": "va", "instances": [[SECRET]]}),
    req("adapter a number", 422, "adapter", body={"adapter": 5, "instances": [{P: True}]}),
    req("adapter va@abc", 422, "adapter", body={"adapter": "va@abc", "instances": [{P: True}]}),
    req("unknown adapter", 404, "unknown adapter 'nope'",
        body={"adapter": "nope", "instances": [{P: True}]}),
    req("unknown version", 404, "va", body={"adapter": "va@99", "instances": [{P: True}]}),
    req("unknown group", 404, "no adapter serves group",
        body={"group": "Mars", "instances": [{P: True}]}),
    req("adapter and another group", 422, "is for dataset = 'VA Long Beach'",
        body={"adapter": "va", "group": "Switzerland", "instances": [{P: True}]}),
    req("adapter and another group in the instance", 422, "field names 'Switzerland'",
        body=with_patient(dataset="Switzerland")),
    req("unknown field", 422, "is not a field of this model", body=with_patient(colour="red")),
    req("text for a number", 422, "must be a finite number", body=with_patient(age=SECRET)),
    req("list for a number", 422, "must be a finite number", body=with_patient(age=[SECRET])),
    req("true for a number", 422, "must be a finite number", body=with_patient(age=True)),
    req("1e308 for a number", 422, "within ±1e15", body=with_patient(chol=1e308)),
    req("text for a number", 422, "must be a finite number", body=with_patient(chol="high")),
    req("dict for a category", 422, "must be a text, number or boolean",
        body=with_patient(cp={"x": SECRET})),
    req("the label as a feature", 422, "is the outcome this model predicts, not one of its "
        "fields: leave it out of the request", body=with_patient(num=1)),
    req("empty instance", 422, "none of the model's features",
        body={"adapter": "va", "instances": [{}]}),
    req("extra top-level field", 422, "unknown field 'patient_name': this request takes",
        body={"adapter": "va", "patient_name": SECRET, "instances": [{P: True}]}),
    req("too many instances", 422, "instances", body={"adapter": "va",
        "instances": [{"age": 50, "note": SECRET}] * 1025}),
    req("a thousand bad values", 422, "must be a finite number", body={"adapter": "va",
        "instances": [{"age": f"{SECRET} {i}"} for i in range(1000)]}),
    req("deep nesting", 400, "error parsing the body",
        raw=b'{"instances": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    req("body over the limit", 413, "request body over", raw=b'{"x": "' + b"a" * 2_000_000 + b'"}'),
    req("Infinity literal", 422, "must be a finite number",
        raw=b'{"adapter": "va", "instances": [{"age": Infinity}]}'),
    req("group empty", 422, "the field 'group' is empty",
        body={"group": "", "instances": [{P: True}]}),
    req("adapter empty", 422, "adapter", body={"adapter": "", "instances": [{P: True}]}),
    req("adapter as list", 422, "adapter", body={"adapter": ["va"], "instances": [{P: True}]}),
    # a long name, group or field is shortened, not sent back whole (it came back 100 KB)
    req("adapter a 50,000-character text", 422, "characters) is invalid",
        body={"adapter": "x" * 50_000 + SECRET, "instances": [{P: True}]}),
    req("group a 50,000-character text", 404, "characters), and no base model",
        body={"group": "x" * 50_000 + SECRET, "instances": [{P: True}]}),
    req("a field named by a 50,000-character text", 422, "characters) is not a field",
        body=with_patient(**{"x" * 50_000 + SECRET: 1})),
    req("a top-level field named by a 50,000-character text", 422, "characters)",
        body={"adapter": "va", "x" * 50_000 + SECRET: 1, "instances": [{P: True}]}),
]  # fmt: skip


@pytest.fixture(scope="module")
def client(workspace):
    _, paths = workspace
    app = create_app(paths["registry"], token=TOKEN, max_body_bytes=1_000_000)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def patient(workspace) -> dict[str, Any]:
    _, paths = workspace
    frame = pd.read_csv(paths["va"]).drop(columns=["num", "id"]).head(1)
    return json.loads(frame.to_json(orient="records"))[0]


def _expand(body: Any, patient: dict[str, Any]) -> Any:
    if isinstance(body, dict) and body.pop(P, None):
        return {**patient, **body}
    if isinstance(body, dict):
        return {k: _expand(v, patient) for k, v in body.items()}
    if isinstance(body, list):
        return [_expand(v, patient) for v in body]
    return body


@pytest.mark.parametrize("bad", HTTP_CASES)
def test_a_bad_request_is_a_4xx_that_echoes_nothing(bad: Request, client, patient):
    content = bad.raw
    if content is None and bad.body is not None:
        content = json.dumps(_expand(json.loads(json.dumps(bad.body)), patient)).encode()
    headers = {"content-type": "application/json", **bad.headers}
    reply = client.request(bad.method, bad.path, content=content, headers=headers)
    assert reply.status_code == bad.status, reply.text[:500]
    assert bad.says in reply.text
    assert SECRET not in reply.text
    assert len(reply.content) < 20_000


def test_a_good_request_is_served(client, patient):
    reply = client.post("/v1/predict", json={"adapter": "va", "instances": [patient]}, headers=AUTH)
    assert reply.status_code == 200 and reply.json()["predictions"][0]["adapter"] == "va"

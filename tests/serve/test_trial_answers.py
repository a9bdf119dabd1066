"""What a new-user trial of ``serve`` found: a category sent as another kind of value (``1``
for true/false) scored as unseen without a word; a group whose promoted adapter failed to load
answered 404 "promote an adapter" and ``/v1/adapters`` empty; group conflicts not naming the
instance; pydantic's words for a body that is an array or a bare record; the base model
answering a group with no adapter in silence; and no answer saying which class
``probability`` is the probability of."""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from medadapt.data.schema import TableSchema
from medadapt.registry import Registry
from medadapt.serve.app import create_app
from medadapt.serve.routes import _prediction
from medadapt.serve.state import Route
from tests.serve.recorded import SITE_C_CAUTION, held_out_rows

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WRAP = (
    'wrap the records as {"instances": [...]}, e.g. {"adapter": "NAME", "instances": '
    '[{"FEATURE": value, ...}, ...]} ("adapter" or "group" beside "instances" routes them)'
)


def _instances(served_registry, site: str, n: int = 1) -> list[dict]:
    frame = held_out_rows(served_registry, f"site_{site.lower()}")  # not in-sample: no note
    rows = frame[(frame["site"] == site) & frame["marker"].notna() & frame["smoker"].notna()]
    return json.loads(rows.head(n).drop(columns=["outcome"]).to_json(orient="records"))


@pytest.fixture
def client(served_registry):
    with TestClient(create_app(served_registry["registry"], token=TOKEN)) as test_client:
        yield test_client


def _heart_like_schema() -> TableSchema:
    """A table with a true/false feature (as the heart data's ``exang`` reads: TRUE/FALSE)
    and a text one (``cp``), its label thresholded with --positive-above 0."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "age": rng.normal(60, 9, 120),
        "chol": rng.normal(240, 40, 120),
        "exang": rng.choice(["TRUE", "FALSE"], 120),
        "cp": rng.choice(["typical angina", "asymptomatic", "non-anginal"], 120),
        "num": rng.integers(0, 4, 120),
    })  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TableSchema.infer(frame, label="num", positive_above=0)


# ----- 1. a category sent as another kind of value ----------------------------------------
def test_a_category_sent_as_another_kind_of_value_is_noted_with_the_models_categories():
    """``"exang": 1`` (also 0, 1.0, "yes") for a feature learned as true/false, or ``"cp":
    12345`` for one learned as text, was scored as unseen with no note; "male" for "Male" had
    one. The note names the model's own categories, never the value sent."""
    schema = _heart_like_schema()
    served = SimpleNamespace(schema=schema, key="k" * 64)
    route = Route("k" * 64, None, "heart", 1)
    base = {"age": 61.0, "chol": 230.0, "exang": True, "cp": "asymptomatic"}
    as_number = (
        "'exang' was sent as a number, but the model learned it as one of true, false: send one "
        "of those (it was read as 'unseen': no information)"
    )
    as_text = as_number.replace("as a number", "as text")
    cp = (
        "'cp' was sent as a number, but the model learned it as one of 'asymptomatic', "
        "'non-anginal', 'typical angina': send one of those (it was read as 'unseen': no "
        "information)"
    )
    for sent, unseen, note in [
        ({"exang": 1}, ["exang"], as_number),
        ({"exang": 0}, ["exang"], as_number),
        ({"exang": 1.0}, ["exang"], as_number),
        ({"exang": "yes"}, ["exang"], as_text),
        ({"cp": 12345}, ["cp"], cp),
        ({"exang": 0, "cp": 12345}, ["exang", "cp"], f"{as_number}; {cp}"),
        ({"exang": "TRUE", "cp": "asymptomatic"}, [], None),  # learned: no note
        ({"exang": False}, [], None),
        (
            {"cp": "pipe"},
            ["cp"],
            (  # text for text: the model's categories, never "pipe"
                "'cp' is none of the categories the model learned for it ('asymptomatic', "
                "'non-anginal', 'typical angina'): it was read as 'unseen' (no information); send "
                "one of those, or null if not recorded"
            ),
        ),
    ]:
        answer = _prediction(served, route, 0.3, {**base, **sent})
        assert (answer["unseen_categories"], answer["note"]) == (unseen, note), sent
        assert answer["predicted"] is not None
    answer = _prediction(served, route, 0.3, {**base, "exang": True, "cp": True})
    assert answer["note"] == (
        "'cp' was sent as a boolean, but the model learned it as one of 'asymptomatic', "
        "'non-anginal', 'typical angina': send one of those (it was read as 'unseen': no "
        "information)"
    )


def test_a_number_sent_for_a_text_category_is_noted_in_the_served_answer(client, served_registry):
    """Through the server: ``"sex": 1`` for a model that learned F/M; the value is not echoed."""
    patient = {**_instances(served_registry, "C")[0], "sex": 12345}
    reply = client.post("/v1/predict", json={"adapter": "site_c", "instances": [patient]},
                        headers=AUTH)  # fmt: skip
    assert reply.status_code == 200, reply.text
    (answer,) = reply.json()["predictions"]
    assert answer["unseen_categories"] == ["sex"] and answer["predicted"] is not None
    assert answer["note"] == (
        f"{SITE_C_CAUTION}; 'sex' was sent as a number, but the model learned it as one of "
        "'F', 'M': send one of those (it was read as 'unseen': no information)"
    )
    assert "12345" not in reply.text


# ----- 2. a promoted adapter whose base cannot be loaded ----------------------------------
def test_a_group_whose_adapter_cannot_be_loaded_is_a_503_naming_why(served_registry, registry_copy):
    """With the base's weights deleted, a request routed by group (in 'group' or in an
    instance's group field) was a 404 "no adapter serves group ... promote an adapter",
    although the group's adapter is promoted and only failed to load; /v1/adapters was []."""
    (base,) = (registry_copy / "bases").iterdir()
    (base / "model.safetensors").unlink()
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        by_group = client.post(
            "/v1/predict",
            headers=AUTH,
            json={"group": "C", "instances": _instances(served_registry, "C")},
        )
        by_field = client.post(
            "/v1/predict", headers=AUTH, json={"instances": _instances(served_registry, "A")}
        )
        named = client.post(
            "/v1/predict",
            headers=AUTH,
            json={"adapter": "site_c", "instances": _instances(served_registry, "C")},
        )
        unknown = client.post(
            "/v1/predict", headers=AUTH, json={"group": "Z", "instances": [{"age": 60}]}
        )
        listed = client.get("/v1/adapters", headers=AUTH).json()
        health = client.get("/healthz", headers=AUTH).json()  # fmt: skip
    why = health["failed"]["site_c"].removeprefix("site_c@1 cannot be loaded: ")
    assert why.startswith(f"base model {base.name}: ")
    assert (by_group.status_code, by_group.json()["detail"]) == (
        503, f"adapter site_c@1, promoted for site = 'C', cannot be loaded: {why}"
    )  # fmt: skip
    assert by_field.status_code == 503
    assert by_field.json()["detail"].startswith(
        "adapter site_a@1, promoted for site = 'A', cannot be loaded: base model "
    )
    assert (named.status_code, named.json()["detail"]) == (
        503,
        f"adapter site_c@1 cannot be loaded: {why}",
    )
    assert (unknown.status_code, unknown.json()["detail"]) == (
        404,
        "no adapter serves group 'Z', and no base model was trained on it; served groups: none, "
        "as 3 promoted adapters cannot be loaded (site_a, site_b, site_c: GET /healthz or "
        "/v1/adapters says why)",
    )
    # /v1/adapters lists them, with what /healthz (degraded) says of each
    assert health["status"] == "degraded"
    assert {a["name"]: a["failed"] for a in listed} == health["failed"]
    site_c = next(a for a in listed if a["name"] == "site_c")
    assert (site_c["version"], site_c["group"], site_c["kind"], site_c["positive_class"]) == (
        1, "C", "tabular", "1")  # fmt: skip


# ----- 3. a group conflict names the instance ---------------------------------------------
def test_a_group_conflict_and_a_misspelt_group_name_the_instance(client, served_registry):
    """``{"adapter": "site_c", "instances": [C, A, C]}`` was a 422 on 'adapter' ("the request
    names another group"): the conflict is instance 1's group field. A misspelt group in an
    instance was a 404 without the instance."""
    c, a, b = (_instances(served_registry, site)[0] for site in "CAB")
    reply = client.post("/v1/predict", json={"adapter": "site_c", "instances": [c, a, c, b]},
                        headers=AUTH)  # fmt: skip
    assert reply.status_code == 422
    assert reply.json()["detail"] == [
        {
            "loc": ["body", "instances", i, "site"],
            "msg": f"adapter 'site_c' is for site = 'C', but instance {i}'s 'site' field names "
            f"'{site}': send each group's instances in their own request (without 'adapter', "
            "each is routed by its 'site' field), or drop that field only if adapter 'site_c' "
            "is meant for that patient all the same",
            "type": "value_error",
        }
        for i, site in ((1, "A"), (3, "B"))
    ]
    # the request's group agrees with the adapter, instance 1's field does not: refused too
    reply = client.post("/v1/predict", headers=AUTH,
                        json={"adapter": "site_c", "group": "C", "instances": [c, a]})  # fmt: skip
    assert reply.status_code == 422
    assert [e["loc"] for e in reply.json()["detail"]] == [["body", "instances", 1, "site"]]
    reply = client.post("/v1/predict", headers=AUTH,
                        json={"group": "C", "instances": [c, c, a]})  # fmt: skip
    assert reply.json()["detail"] == [{
        "loc": ["body", "instances", 2, "site"],
        "msg": "instance 2's 'site' field names another group than 'group' ('C'); drop one of "
               "them, or send each group's instances in their own request",
        "type": "value_error",
    }]  # fmt: skip
    reply = client.post("/v1/predict", headers=AUTH,
                        json={"instances": [a, b, {**b, "site": "b "}]})  # fmt: skip
    assert (reply.status_code, reply.json()["detail"]) == (
        404,
        "no adapter serves group 'b ' (the 'site' field of instance 2), and no base model was "
        "trained on it; did you mean 'B'? Served groups: A, B, C (send one of them, or name an "
        "'adapter')",
    )


# ----- 4. a body that is not a request object ---------------------------------------------
def test_an_array_or_a_bare_record_is_one_422_saying_to_wrap_the_records(client, served_registry):
    """A JSON array got pydantic's "Input should be a valid dictionary or instance of
    PredictRequest"; a bare record one "unknown field" per feature."""
    record = _instances(served_registry, "C")[0]
    for body, said in [
        ([record, record], f"the body is a JSON array, not an object: {WRAP}"),
        (42, f"the body is a JSON number, not an object: {WRAP}"),
        (record, 'the body has no "instances", and its fields look like one instance\'s (a '
                 f"patient's features, such as 'age'): {WRAP}"),
        ({"adapter": "site_c", **record}, 'the body has no "instances", and its fields look '
         f"like one instance's (a patient's features, such as 'age'): {WRAP}"),
    ]:  # fmt: skip
        reply = client.post("/v1/predict", json=body, headers=AUTH)
        assert reply.status_code == 422, reply.text
        assert reply.json()["detail"] == [{"loc": ["body"], "msg": said, "type": "model_type"}]
    # fields that are no features, or a misspelt 'instances': named field by field as before
    reply = client.post("/v1/predict", json={"colour": 1}, headers=AUTH)
    assert sorted(e["loc"][1] for e in reply.json()["detail"]) == ["colour", "instances"]
    reply = client.post("/v1/predict", json={"instance": [record]}, headers=AUTH)
    assert [e["msg"] for e in reply.json()["detail"]] == [
        "unknown field 'instance': did you mean 'instances'?"
    ]


# ----- 5. the base alone answers a group with no adapter: saying so ------------------------
def test_the_base_alone_answering_a_group_with_no_adapter_says_so(served_registry, registry_copy):
    """An instance of a group the base was trained on and no adapter is promoted for (demoted,
    or its promoted version removed) got adapter null and note null."""
    registry = Registry(registry_copy)
    registry.demote("site_a")
    registry.remove("site_b@1", force=True)
    body = {"instances": [_instances(served_registry, "A")[0], _instances(served_registry, "B")[0]]}
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        reply = client.post("/v1/predict", json=body, headers=AUTH)
        by_group = client.post("/v1/predict", headers=AUTH,
                               json={"group": "B", "instances": body["instances"][1:]})  # fmt: skip
    assert reply.status_code == 200, reply.text
    a, b = reply.json()["predictions"]
    assert (a["adapter"], b["adapter"]) == (None, None)
    assert a["note"] == (
        "scored by the base model alone (its training rows include site = 'A'): no adapter is "
        "promoted for group 'A'; registered for it: site_a@1 (promote one: 'medadapt "
        f"registry --root "
        f"{registry_copy} promote site_a@1')"
    )
    said_b = (
        "scored by the base model alone (its training rows include site = 'B'): no adapter is "
        "promoted for group 'B'"
    )
    assert b["note"] == said_b
    assert by_group.json()["predictions"][0]["note"] == said_b


# ----- 6. which class 'probability' is of -------------------------------------------------
def test_adapters_and_bases_name_the_class_probability_is_of(client, served_registry):
    listed = client.get("/v1/adapters", headers=AUTH).json()
    assert {(a["label"], a["positive_class"], a["positive_rule"], a["failed"]) for a in listed} == {
        ("outcome", "1", None, None)
    }
    (base,) = client.get("/v1/bases", headers=AUTH).json()
    assert base == {
        "base": listed[0]["base"],
        "weights": f"sha256:{base['weights'].removeprefix('sha256:')}",
        "kind": "tabular",
        "task": "binary",
        "label": "outcome",
        "positive_class": "1",
        "positive_rule": None,
        "classes": ["0", "1"],
        "groups": ["A", "B"],
        "answers_alone": True,
        "metrics": base["metrics"],
        "notes": base["notes"],
        "cautions": base["cautions"],
    }
    assert base["weights"].removeprefix("sha256:").startswith(base["base"])
    assert client.get("/v1/bases").status_code == 401
    # a label thresholded with --positive-above: the rule, as the base records it
    from medadapt.serve.listing import answer_class

    schema = _heart_like_schema()
    assert answer_class(schema) == answer_class(schema.to_dict()) == {
        "label": "num", "positive_class": "1", "positive_rule": "num > 0"}  # fmt: skip


def test_a_version_served_despite_warnings_says_so_in_the_listing(registry_copy):
    """A trial's override of a harm refusal (``promote --despite-warnings``) left no trace an
    auditor or a client could see: the listing now carries the harm it is served despite,
    and a clean promotion carries none."""
    harm = "every test patient is called positive"
    Registry(registry_copy).promote("site_c@2", despite=harm)
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        listed = {a["name"]: a for a in client.get("/v1/adapters", headers=AUTH).json()}
    assert listed["site_c"]["version"] == 2
    assert listed["site_c"]["served_despite_warnings"] == harm
    assert listed["site_a"]["served_despite_warnings"] is None

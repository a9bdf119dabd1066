"""Answers that say what went wrong and what to send: a category in another upper/lower case
(noted with the model's spelling, scored as ``predict`` scores it), unseen categories counted
with the missing features by the withholding rule, an adapter with no promoted version or an
unregistered version number (the versions that exist), and the 4xx of a misspelt field, a body
that is not JSON and a missing token (the form expected)."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from medadapt.data.schema import TableSchema
from medadapt.registry import Registry
from medadapt.serve.app import create_app
from medadapt.serve.validation import check_instance
from medadapt.tables import predict
from medadapt.workflows.evaluate import load_for_inference
from tests.serve.recorded import SITE_C_CAUTION, held_out_rows

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FIELDS = "age, marker, sex, smoker; also read: patient_id, site"  # its features, all listed
SLIPS = (  # "m" for "M" and "YES" for "yes": the model's spelling, never the value sent
    "the values sent for 'smoker' and 'sex' differ from a category the model learned only in "
    "upper/lower case, and were read as 'unseen' (no information): send the model's spelling "
    "('smoker': 'yes', 'sex': 'M')"
)


def _patient(served_registry) -> dict:
    frame = held_out_rows(served_registry)  # not in-sample: no note of it
    row = frame[(frame["site"] == "C") & frame["marker"].notna() & frame["smoker"].notna()]
    return json.loads(row.head(1).drop(columns=["outcome"]).to_json(orient="records"))[0]


@pytest.fixture
def client(served_registry):
    app = create_app(served_registry["registry"], token=TOKEN)
    with TestClient(app) as test_client:
        yield test_client


def _answer(client, instances: list[dict], adapter: str = "site_c") -> list[dict]:
    reply = client.post(
        "/v1/predict", json={"adapter": adapter, "instances": instances}, headers=AUTH
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["predictions"]


def _predicted_offline(served_registry, instances: list[dict]) -> tuple[list[float], list[str]]:
    """``predict``'s scores for the same instances through the same adapter, and its warnings."""
    loaded = load_for_inference(served_registry["base"], served_registry["adapters"]["site_c"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = predict(
            loaded.model, loaded.base.schema, pd.DataFrame(instances), adapter=loaded.adapter
        )
    return [float(s) for s in scores], [str(w.message) for w in caught]


def test_a_category_in_another_case_is_noted_with_the_models_spelling(client, served_registry):
    """'m' for 'M' was scored as 'unseen' without a word (the answer differed from the right
    spelling's). ``predict`` warns and scores such rows (never refuses them): the server
    answers likewise, and its note names the fields and the model's spelling."""
    patient = _patient(served_registry)
    slipped = {**patient, "sex": "m", "smoker": "YES"}  # 2 of 4 not understood: not over half
    (answer,) = _answer(client, [slipped])
    (right,) = _answer(client, [{**patient, "sex": "M", "smoker": "yes"}])
    scores, said = _predicted_offline(served_registry, [slipped])
    assert answer == {
        "adapter": "site_c",
        "version": 1,
        "base": answer["base"],
        "probability": pytest.approx(scores[0], abs=1e-6),  # scored as predict scores it
        "probabilities": None,
        "missing_features": [],
        "unseen_categories": ["smoker", "sex"],
        "outside_training": [],
        "validated": answer["validated"],  # how site_c was tested (its own test below)
        "trained_on": None,  # a row it held out
        "note": f"{SITE_C_CAUTION}; {SLIPS}",  # which model answered, and its caution, first
        "predicted": answer["predicted"],
        "positive": answer["positive"],  # what the probability is of (its own test below)
    }
    assert answer["probability"] != pytest.approx(right["probability"], abs=1e-6)
    assert right["note"] == SITE_C_CAUTION and right["unseen_categories"] == []
    # predict's warnings name the same spelling, and it scored the row (a warning, no refusal)
    assert any("(e.g. 'M'): recode 'sex' as in training" in s for s in said), said
    assert any("(e.g. 'yes'): recode 'smoker' as in training" in s for s in said), said


def test_unseen_categories_count_with_missing_features_in_the_withholding_rule(
    client, served_registry
):
    """An unseen category carries no information: with one feature missing and two categories
    not understood, the answer rests on 1 of 4 features and is withheld, its note counting
    each (it was scored, the rule counting the missing feature alone)."""
    patient = _patient(served_registry)
    slipped = {**patient, "sex": "m", "smoker": "YES", "marker": None}
    unseen = {**patient, "sex": "m", "smoker": "pipe", "marker": None}  # 'pipe': no slip
    answers = _answer(client, [slipped, unseen])
    withheld = (
        "3 of the model's 4 features were missing or not understood (1 missing, read as 'not "
        "measured', never imputed; 2 with a category the model never learned, read as "
        "'unseen'): a prediction resting on 1 is withheld; send the missing ones, and the "
        "categories named in unseen_categories as the model learned them, or start the server "
        "with --score-sparse to answer such instances anyway"
    )
    common = {"adapter": "site_c", "version": 1, "base": answers[0]["base"], "probability": None,
              "probabilities": None, "predicted": None, "missing_features": ["marker"],
              "unseen_categories": ["smoker", "sex"], "outside_training": [],
              "validated": answers[0]["validated"], "trained_on": None,
              "positive": "outcome = '1'"}  # fmt: skip  # withheld or not: one shape
    one_slip = (
        "the value sent for 'sex' differs from a category the model learned only in "
        "upper/lower case, and was read as 'unseen' (no information): send the model's "
        "spelling ('sex': 'M')"
    )
    assert answers[0] == {**common, "note": f"{withheld}; {SLIPS}; {SITE_C_CAUTION}"}  # why
    assert answers[1]["note"].startswith(  # first, the model's cautions last
        f"{withheld}; {one_slip}; 'smoker' is none of the "
    )
    assert answers[1] == {**common, "note": answers[1]["note"]}
    # predict scores such a row with warnings (its rule counts the missing feature alone)
    scores, said = _predicted_offline(served_registry, [slipped])
    assert len(scores) == 1 and any("recode 'sex' as in training" in s for s in said)


def test_score_sparse_answers_with_the_count_of_features_not_understood(served_registry):
    patient = _patient(served_registry)
    app = create_app(served_registry["registry"], token=None, score_sparse=True)
    with TestClient(app) as client:
        (answer,) = _answer(client, [{**patient, "sex": "x", "smoker": "pipe", "marker": None}])
    assert answer["predicted"] is not None and answer["probability"] is not None
    assert answer["note"].startswith(f"{SITE_C_CAUTION}; ")  # which model answered: first
    said, *categories = answer["note"].removeprefix(f"{SITE_C_CAUTION}; ").split("; '")
    assert said == (
        "3 of the model's 4 features were missing or not understood (1 missing, read as 'not "
        "measured', never imputed; 2 with a category the model never learned, read as "
        "'unseen'): this prediction rests on 1; send the missing ones, and the categories "
        "named in unseen_categories as the model learned them before relying on it"
    )  # then each unseen one with the model's categories, never the value sent
    assert [c.split("'")[0] for c in categories] == ["smoker", "sex"]
    assert all(" is none of the categories the model learned for it (" in c for c in categories)
    assert "pipe" not in answer["note"] and "'x'" not in answer["note"]


def test_an_adapter_without_a_promoted_version_says_how_to_promote_one(
    served_registry, registry_copy
):
    """site_c@1 (promoted) removed with --force while site_c@2 remains: it answered "unknown
    adapter 'site_c'; served adapters: site_a, site_b", as if the name did not exist."""
    Registry(registry_copy).remove("site_c@1", force=True)
    app = create_app(registry_copy, token=None, refresh_seconds=0.0)
    body = {"adapter": "site_c", "instances": [_patient(served_registry)]}
    with TestClient(app) as client:
        reply = client.post("/v1/predict", json=body)
        assert (reply.status_code, reply.json()) == (404, {"detail": (
            "adapter 'site_c' has no promoted version (its registered versions: 2); promote "
            f"one to serve it ('medadapt registry --root {registry_copy} promote "
            "site_c@2')")})  # fmt: skip
        reply = client.post("/v1/predict", json={**body, "adapter": "site_c@9"})
        assert (reply.status_code, reply.json()) == (404, {
            "detail": "adapter site_c@9 is not registered; registered versions of 'site_c': 2"
        })  # fmt: skip
        reply = client.post("/v1/predict", json={**body, "adapter": "nope@1"})
        assert (reply.status_code, reply.json()) == (404, {"detail": (
            "adapter nope@1 is not registered, nor any version of 'nope'; served adapters: "
            "site_a, site_b")})  # fmt: skip
        assert client.post("/v1/predict", json={**body, "adapter": "site_c@2"}).status_code == 404


def test_a_misspelt_field_gets_the_field_meant_and_every_field(client, served_registry):
    patient = _patient(served_registry)
    instance = {**patient, "marker_level": 1.0, "Smoker": "yes", "colour": "red", "sitte": "C"}
    del instance["marker"], instance["smoker"]
    reply = client.post(
        "/v1/predict", json={"adapter": "site_c", "instances": [instance]}, headers=AUTH
    )
    assert (reply.status_code, reply.json()) == (422, {"detail": [
        {"loc": ["body", "instances", 0, "marker_level"], "type": "value_error",
         "msg": f"'marker_level' is not a field of this model; did you mean 'marker'? (its "
                f"fields: {FIELDS})"},
        {"loc": ["body", "instances", 0, "Smoker"], "type": "value_error",
         "msg": f"'Smoker' is not a field of this model; did you mean 'smoker'? (its fields: "
                f"{FIELDS})"},
        {"loc": ["body", "instances", 0, "colour"], "type": "value_error",
         "msg": f"'colour' is not a field of this model (its fields: {FIELDS})"},
        {"loc": ["body", "instances", 0, "sitte"], "type": "value_error",  # a trial's "datset"
         "msg": f"'sitte' is not a field of this model; did you mean 'site'? (its fields: "
                f"{FIELDS})"},
    ]})  # fmt: skip


def test_a_model_with_many_fields_lists_all_of_them_up_to_fifty():
    columns = {f"f{i:02d}": [float(i + j % 7) for j in range(40)] for i in range(13)}
    frame = pd.DataFrame({**columns, "y": [j % 2 for j in range(40)]})
    schema = TableSchema.infer(frame, label="y")
    names = sorted(f.name for f in schema.features)
    assert len(names) == 13
    (error,) = check_instance(schema, 0, {"f00": 1.0, "cholesterol": 200})
    assert error["msg"] == (
        f"'cholesterol' is not a field of this model (its fields: {', '.join(names)})"
    )
    (error,) = check_instance(schema, 0, {"f00": 1.0, "y": 1})  # a CSV row sent whole
    assert (error["loc"], error["msg"]) == (
        ["body", "instances", 0, "y"],
        "'y' is the outcome this model predicts, not one of its fields: leave it out of the "
        "request",
    )


@pytest.mark.parametrize(
    ("content", "headers", "said"),
    [
        (b"", {}, "the body is empty (sent without a Content-Type)"),
        (b'{"adapter": "site_c",', {"Content-Type": "application/json"},
         "JSON decode error at character 21 (expecting property name enclosed in double "
         "quotes)"),
    ],
)  # fmt: skip
def test_a_body_that_is_not_json_says_what_to_send(client, content, headers, said):
    reply = client.post("/v1/predict", content=content, headers={**AUTH, **headers})
    position = 21 if content.endswith(b",") else 0
    assert (reply.status_code, reply.json()) == (422, {"detail": [{
        "loc": ["body", position], "type": "json_invalid",
        "msg": f'{said}: send a JSON object such as {{"adapter": "NAME", "instances": '
               '[{"FEATURE": value, ...}]} with the header \'Content-Type: application/json\' '
               "(image bases also take multipart/form-data uploads)"}]})  # fmt: skip
    assert "63" not in reply.text  # the body is never repeated


@pytest.mark.parametrize("sent", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_sent_as_another_type_than_json_is_refused_with_415(client, served_registry, sent):
    """A trial's JSON sent as text/plain (and curl's default form type) was answered 200,
    where the API's description declares application/json only (a web page may send such a
    body to a service on loopback without the browser asking first)."""
    body = json.dumps({"adapter": "site_c", "instances": [_patient(served_registry)]})
    reply = client.post("/v1/predict", content=body, headers={**AUTH, "Content-Type": sent})
    assert (reply.status_code, reply.json()) == (415, {"detail": (
        f"the body was sent as {sent!r}, not 'application/json': send a JSON object such as "
        '{"adapter": "NAME", "instances": [{"FEATURE": value, ...}]} with the header '
        "'Content-Type: application/json' (image bases also take multipart/form-data uploads)"
    )})  # fmt: skip
    for typed in ("application/json; charset=utf-8", "text/json", None):  # read as JSON
        headers = {**AUTH, **({"Content-Type": typed} if typed else {})}
        assert client.post("/v1/predict", content=body, headers=headers).status_code == 200


def test_a_missing_or_wrong_token_is_told_the_header_expected(client, served_registry):
    body = {"adapter": "site_c", "instances": [_patient(served_registry)]}
    expected = {
        "detail": "missing or wrong bearer token: send the header 'Authorization: Bearer "
        "<token>', with the token the server was started with (its --token-file, or "
        "MEDADAPT_TOKEN)"
    }
    for headers in ({}, {"Authorization": "Bearer " + "x" * 32}, {"Authorization": TOKEN}):
        reply = client.post("/v1/predict", json=body, headers=headers)
        assert (reply.status_code, reply.json()) == (401, expected)
        assert reply.headers["www-authenticate"] == "Bearer"


def test_text_a_csv_reads_as_missing_is_missing_in_a_request_too(client, served_registry,
                                                                 tmp_path):  # fmt: skip
    """A trial's "NA" in a number was refused with a 422 and its "?" in a category read as an
    unseen value, where a CSV of the same row is predicted with both missing: the request is
    answered as null would be, and as ``predict`` scores the row read from a CSV."""
    patient = _patient(served_registry)
    sent = {**patient, "marker": "NA", "smoker": "?"}
    (answer,) = _answer(client, [sent])
    (as_null,) = _answer(client, [{**patient, "marker": None, "smoker": None}])
    assert answer == as_null
    assert answer["missing_features"] == ["marker", "smoker"]
    assert answer["unseen_categories"] == []
    pd.DataFrame([sent]).to_csv(tmp_path / "row.csv", index=False)
    from medadapt.data.tables import read_table

    scores, _ = _predicted_offline(served_registry,
                                   read_table(tmp_path / "row.csv").to_dict("records"))  # fmt: skip
    assert answer["probability"] == pytest.approx(scores[0], abs=1e-6)


def test_each_answer_says_how_the_model_that_gave_it_was_tested(client, served_registry):
    """A trial's served answer did not say how few patients tested the adapter: each now
    carries its recorded validation in one line, the SR's algorithm parameter."""
    registry = Registry(served_registry["registry"])
    metrics = registry.get("site_c").metrics
    [answer] = _answer(client, [_patient(served_registry)])
    low, high = metrics["auroc_ci"]  # in the card's digits, untruncated, with the count
    expected = f"AUROC {metrics['auroc']:.3f} ({low:.3f}-{high:.3f}), n={metrics['n']}"
    assert answer["validated"] in (expected, f"{expected}, warning")
    assert answer["validated"].endswith(", warning") == bool(answer["note"])  # its cautions
    # and what its probability is the probability of (a trial read "predicted": "1" bare)
    schema = TableSchema.from_dict(json.loads((served_registry["base"] / "model.json")
                                              .read_text())["schema"])  # fmt: skip
    positive = schema.classes[1]
    assert answer["positive"] in (f"outcome = {positive!r}", f"{positive} (outcome > 0)")


def test_an_imported_adapter_s_answer_says_it_was_tested_at_another_site(served_registry, tmp_path):
    """A trial's receiving hospital was answered "validated: AUROC 0.616 (...), n=60", its
    sender's test patients, as if of its own."""
    sender = Registry(served_registry["registry"])
    exported = sender.export("site_c@1", tmp_path / "site_c.tar", with_base=True)
    receiver = Registry(tmp_path / "received", create=True)
    receiver.import_(exported.path)
    receiver.promote("site_c@1")
    with TestClient(create_app(receiver.root, token=TOKEN)) as received:
        [there] = _answer(received, [_patient(served_registry)])
    with TestClient(create_app(sender.root, token=TOKEN)) as own:
        [here] = _answer(own, [_patient(served_registry)])
    assert there["validated"] == here["validated"] + ", tested at another site (imported)"
    assert there["probability"] == here["probability"]


def test_another_model_s_row_is_one_error_naming_the_adapter_it_fits():
    """A trial sent a breast-cancer row to a diabetes adapter: 20 near-alike errors of a
    kilobyte each, "more_errors": 10, and each listed "also read: sex, site", where 'sex'
    routes to another model. Now one error for the many strangers, naming the served adapter
    whose fields they all are; "also read" lists this model's own columns only."""
    frame = pd.DataFrame({f"f{i:02d}": [float(i + j % 7) for j in range(40)] for i in range(3)})
    schema = TableSchema.infer(frame.assign(y=[j % 2 for j in range(40)], site="A"), label="y",
                               group_column="site")  # fmt: skip
    cancer = {f"mean_{name}": 1.0 for name in ("radius", "texture", "area", "smoothness",
                                               "symmetry", "concavity")}  # fmt: skip
    elsewhere = {"east": frozenset({*cancer, "patient_id"}), "men": frozenset({"sex", "bmi"})}
    (error,) = check_instance(schema, 0, {"f00": 1.0, **cancer}, {"sex"}, elsewhere=elsewhere)
    assert error["loc"] == ["body", "instances", 0]
    assert error["msg"] == (
        "6 of this instance's fields are not fields of this model ('mean_radius', "
        "'mean_texture', 'mean_area', 'mean_smoothness' ...); they are the fields of adapter "
        "'east': send the instance there (\"adapter\": NAME) (its fields: f00, f01, f02; also "
        "read: site)"
    )
    (alone,) = check_instance(schema, 0, {"f00": 1.0, **cancer})  # no adapter has them all
    assert alone["msg"] == (  # (a review: a 500 from listing no adapter)
        "6 of this instance's fields are not fields of this model ('mean_radius', "
        "'mean_texture', 'mean_area', 'mean_smoothness' ...) (its fields: f00, f01, f02; also "
        "read: site)"
    )
    few = check_instance(schema, 0, {"f00": 1.0, "sex": "F", "colour": "red", "F01": 2.0},
                         {"sex"})  # fmt: skip
    assert [e["msg"] for e in few] == [  # a routing field passes unsaid; few strangers: each
        "'colour' is not a field of this model (its fields: f00, f01, f02; also read: site)",
        "'F01' is not a field of this model; did you mean 'f01'? (its fields: f00, f01, f02; "
        "also read: site)",
    ]


def test_a_feature_sent_as_the_model_s_missing_code_is_said_so(tmp_path):
    """A trial sent ``"chol": 0`` and read "scored without 'chol' (... missing, read as 'not
    measured', never imputed): send it if it was measured": it had sent a value, the model's
    code for "not measured" (--missing-code, or found at train-base), which the note now
    names; a field left out is not said so."""
    from medadapt.registry.bases import add_base
    from tests.registry.helpers import make_base

    registry = Registry(tmp_path / "reg", create=True)
    base = make_base(tmp_path / "base", columns=("age", "bp", "chol"), missing_codes={"chol": 0})
    add_base(registry.root, base)
    with TestClient(create_app(registry.root, token=None)) as client:
        instances = [{"age": 60, "bp": 130, "chol": 0}, {"age": 60, "bp": 130}]
        coded, absent = client.post("/v1/predict", json={"instances": instances}).json()[
            "predictions"
        ]
    assert coded["missing_features"] == absent["missing_features"] == ["chol"]
    lacking = ("scored without 'chol' (1 of the model's 3 features missing, read as 'not "
               "measured', never imputed): send it if it was measured")  # fmt: skip
    assert absent["note"] == lacking
    assert coded["note"] == (
        f"{lacking}; 'chol' was sent as 0, this model's code for 'not measured' (recorded at "
        "train-base)"
    )

"""What a second new-user trial of ``serve`` found: a group sent in another case beside its
adapter told it "names another group"; a group whose adapter is registered but not promoted
got a 404 without the ``promote`` that serves it; no did-you-mean for an adapter name; fixes
naming ``--root DIR`` instead of the registry; ``instances`` sent as one object; a caution in
other words than the recorded warning; numbers sent as JSON strings."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from medadapt.registry import Registry
from medadapt.serve.app import create_app
from medadapt.serve.state import cautioned
from tests.serve.recorded import held_out_rows

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SERVED = "site_a, site_b, site_c"  # the promoted adapters of the served registry


def _patient(served_registry, site: str = "C") -> dict:
    frame = held_out_rows(served_registry, f"site_{site.lower()}")  # not in-sample: no note
    rows = frame[(frame["site"] == site) & frame["marker"].notna() & frame["smoker"].notna()]
    return json.loads(rows.head(1).drop(columns=["outcome"]).to_json(orient="records"))[0]


@pytest.fixture
def client(served_registry):
    with TestClient(create_app(served_registry["registry"], token=TOKEN)) as test_client:
        yield test_client


def _post(client, body: dict) -> tuple[int, dict]:
    reply = client.post("/v1/predict", json=body, headers=AUTH)
    return reply.status_code, reply.json()


def _refused_at(client, body: dict, loc: list, msg: str, kind: str = "value_error") -> None:
    """``body`` answered 422 with one error: ``msg`` at ``loc``, of type ``kind``."""
    status, answer = _post(client, body)
    assert (status, answer["detail"]) == (422, [{"loc": loc, "msg": msg, "type": kind}])


# ----- 1. a group spelt in another case beside its adapter ----------------------------------
def test_a_group_spelt_otherwise_than_its_adapters_says_how_it_is_spelt(client, served_registry):
    """``{"adapter": "site_c", "group": "c"}`` was told "'group' names another group; name the
    adapter of that group". Groups route exactly (``{"group": "c"}`` alone is a 404 with a
    did-you-mean), so "c" is not taken for "C" here either: a 422 saying how it is spelt."""
    patient = {k: v for k, v in _patient(served_registry).items() if k != "site"}
    _refused_at(client, {"adapter": "site_c", "group": "c", "instances": [patient]},
                ["body", "group"],
                "adapter 'site_c' is for site = 'C', and the request's 'group' differs from it "
                "only in case or spacing: the adapter's group is spelt 'C' (did you mean it?); "
                "groups are matched exactly: send 'group': 'C', or drop 'group' to use the "
                "adapter")  # fmt: skip
    _refused_at(client, {"adapter": "site_c", "instances": [{**patient, "site": "c"}]},
                ["body", "instances", 0, "site"],
                "adapter 'site_c' is for site = 'C', and instance 0's 'site' field differs from "
                "it only in case or spacing: the adapter's group is spelt 'C' (did you mean "
                "it?); groups are matched exactly: send 'C' there, or drop that field to use "
                "the adapter")  # fmt: skip
    _refused_at(client, {"group": "C", "instances": [{**patient, "site": "c"}]},
                ["body", "instances", 0, "site"],
                "instance 0's 'site' field names the group of 'group' ('C') but differs from it "
                "only in case or spacing: that group is spelt 'C' (did you mean it?); groups "
                "are matched exactly: send 'C' there, or drop the field")  # fmt: skip
    # routing without an adapter matches groups exactly too: the same spelling is a 404
    status, body = _post(client, {"group": "c", "instances": [patient]})
    assert status == 404 and "did you mean 'C'?" in body["detail"]
    # another group altogether is still said to be one
    status, body = _post(client, {"adapter": "site_c", "group": "A", "instances": [patient]})
    assert status == 422 and "names another group" in body["detail"][0]["msg"]


# ----- 2 and 4. a group whose adapter is registered, not promoted ---------------------------
def test_a_group_with_only_unpromoted_adapters_names_them_and_the_promote(
    served_registry, registry_copy
):
    """With site_c demoted (site_c@2 and site_c_ia3@1 registered for group C), ``{"group":
    "C"}`` was a 404 "no adapter serves group 'C' ... served groups: A, B" without the
    versions registered for it, while ``{"adapter": "site_c"}`` gave the ``promote``; every
    such command names the registry's path, as /healthz and the command line do, never
    ``--root DIR``."""
    Registry(registry_copy).demote("site_c")
    patient = _patient(served_registry)
    fix = (
        "registered for it: site_c@2, site_c_ia3@1 (promote one to serve the group: 'medadapt "
        f"registry --root {registry_copy} promote site_c@2')"
    )  # not "or name one in 'adapter'": only promoted versions answer (serve --any-version)
    no_site = {k: v for k, v in patient.items() if k != "site"}
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        by_group = _post(client, {"group": "C", "instances": [no_site]})
        by_field = _post(client, {"instances": [patient]})
        by_name = _post(client, {"adapter": "site_c", "instances": [no_site]})
        misspelt = _post(client, {"group": "c", "instances": [no_site]})
        pinned = _post(client, {"adapter": "site_c@2", "instances": [patient]})
    assert by_group == (404, {"detail": (
        f"no adapter is promoted for group 'C', and no base model was trained on it; {fix}"
    )})  # fmt: skip
    assert by_field == (404, {"detail": (
        "no adapter is promoted for group 'C' (the 'site' field of instance 0), and no base "
        f"model was trained on it; {fix}"
    )})  # fmt: skip
    assert by_name == (404, {"detail": (
        "adapter 'site_c' has no promoted version (its registered versions: 1, 2); compare "
        f"their figures ('medadapt registry --root {registry_copy} list site_c') and promote "
        f"the one to serve ('medadapt registry --root {registry_copy} promote site_c@N')"
    )})  # fmt: skip
    assert misspelt[0] == 404 and "did you mean 'C'?" in misspelt[1]["detail"]
    assert pinned[0] == 404  # registered, not promoted


def test_a_group_the_base_was_trained_on_is_still_answered_by_the_base(
    served_registry, registry_copy
):
    """With site_a demoted, group A (the base's) is answered by the base alone, its note
    naming site_a@1 and its ``promote`` with the registry's path."""
    Registry(registry_copy).demote("site_a")
    patient = {k: v for k, v in _patient(served_registry, "A").items() if k != "site"}
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        status, body = _post(client, {"group": "A", "instances": [patient]})
    assert status == 200
    (answer,) = body["predictions"]
    assert answer["adapter"] is None
    assert answer["note"] == (
        "scored by the base model alone (its training rows include site = 'A'): no adapter is "
        "promoted for group 'A'; registered for it: site_a@1 (promote one: 'medadapt "
        "registry --root "
        f"{registry_copy} promote site_a@1')"
    )


# ----- 3. did-you-mean for an adapter name --------------------------------------------------
@pytest.mark.parametrize(
    ("sent", "said"),
    [
        ("SITE_A", f"unknown adapter 'SITE_A'; did you mean 'site_a'? (served adapters: {SERVED})"),
        ("sitea", f"unknown adapter 'sitea'; did you mean 'site_a'? (served adapters: {SERVED})"),
        ("Site_C_IA3", f"unknown adapter 'Site_C_IA3'; did you mean 'site_c_ia3'? (served "
                       f"adapters: {SERVED})"),  # registered, not promoted: named too
        ("heart", f"unknown adapter 'heart'; served adapters: {SERVED}"),
        ("SITE_A@1", "adapter SITE_A@1 is not registered, nor any version of 'SITE_A'; did you "
                     f"mean 'site_a'? (served adapters: {SERVED})"),
    ],
)  # fmt: skip
def test_an_unknown_adapter_name_gets_a_did_you_mean(client, served_registry, sent, said):
    """``{"adapter": "VA"}`` for "va" was "unknown adapter 'VA'; served adapters: ch, va":
    the name in another case is meant first, then one spelt closely."""
    body = {"adapter": sent, "instances": [_patient(served_registry)]}
    assert _post(client, body) == (404, {"detail": said})


# ----- 5. instances sent as one object -------------------------------------------------------
def test_instances_sent_as_an_object_are_told_to_wrap_it(client, served_registry):
    """``"instances": {"age": 60}`` got pydantic's "Input should be a valid list" alone."""
    _refused_at(client, {"adapter": "site_c", "instances": _patient(served_registry)},
                ["body", "instances"],
                '"instances" is a JSON object (one record?), not an array: wrap the records as '
                '{"instances": [...]}, e.g. {"adapter": "NAME", "instances": [{"FEATURE": '
                'value, ...}, ...]} ("adapter" or "group" beside "instances" routes them)',
                kind="list_type")  # fmt: skip


# ----- 6. a caution in the recorded warning's words -------------------------------------------
ONE_CLASS = (
    "every patient is called positive at threshold 0.5: the accuracy (0.946) mostly reflects "
    "how common that class is here (95%), not skill; AUROC and balanced accuracy cannot be "
    "judged on so few patients of one class: compare models by their Brier score and "
    "calibration"
)


def test_a_one_class_caution_says_what_the_recorded_warning_says():
    """An adapter recorded with "every patient is called positive" was served with "called
    nearly every test case one class" (the few words an SR has room for)."""
    recorded = {"n": 37, "accuracy": 0.946, "notes": {"one_class": ONE_CLASS}}
    assert cautioned("adapter ch@2", recorded) == (
        "caution, adapter ch@2 was recorded with: every patient is called positive at threshold 0.5"
    )
    no_better = (
        "accuracy 0.700 at threshold 0.5 is no better than calling every patient negative "
        "(0.720, the no-information rate); judge the model by AUROC and balanced accuracy"
    )
    both = {"n": 60, "auroc": 0.7, "notes": {"one_class": no_better, "worse_than_base": "x"}}
    assert cautioned("adapter va@2", both) == (
        "caution, adapter va@2 was recorded with: accuracy 0.700 at threshold 0.5 is no better "
        "than calling every patient negative (0.720, the no-information rate); did worse than "
        "the base model on its test"
    )
    not_text = {"n": 60, "auroc": 0.7, "notes": {"one_class": True}}  # the few words, then
    assert cautioned("adapter x@1", not_text) == (
        "caution, adapter x@1 was recorded with: called nearly every test case one class"
    )
    found = (
        "at threshold 0.5 the adapter calls 1 of the 15 negative patients negative, where "
        "the base model alone called 5, and 45 of the 45 positive patients positive (the "
        "base model 40)"
    )
    said = ": the AUROC compared does not depend on the threshold, and does not show it"
    fewer = {"n": 60, "auroc": 0.7, "notes": {"fewer_found_than_base": found + said}}
    assert cautioned("adapter va@1", fewer) == (  # which class (a trial's said "a class")
        "caution, adapter va@1 was recorded with: at threshold 0.5 the adapter calls 1 of the "
        "15 negative patients negative, where the base model alone called 5, and 45 of the 45 "
        "positive patients positive (the base model 40)"
    )
    missed = {"n": 90, "auroc": 0.991, "notes": {"missed_class": (
        "class 'nodule' is found in 0 of 30 images (sensitivity 0.000): the model almost never "
        "calls it, which the overall AUROC (0.991) and accuracy (0.667) do not show; do not "
        "rely on it for that class as it is")}}  # fmt: skip
    assert cautioned("the base model", missed) == (  # a trial's base: its answers said nothing
        "caution, the base model was recorded with: class 'nodule' is found in 0 of 30 images "
        "(sensitivity 0.000)"
    )
    both_missed = (  # a trial's answer named the first class only
        "class '2' is found in 0 of 12 patients (sensitivity 0.000); class '3' is found in 0 of "
        "13 patients (sensitivity 0.000): the model almost never calls them, which the overall "
        "accuracy (0.317) does not show; do not rely on it for those classes as it is"
    )
    two = {"n": 60, "accuracy": 0.317, "notes": {"missed_class": both_missed}}
    assert cautioned("adapter va@1", two) == (
        "caution, adapter va@1 was recorded with: class '2' is found in 0 of 12 patients "
        "(sensitivity 0.000); class '3' is found in 0 of 13 patients (sensitivity 0.000)"
    )


def test_a_served_answer_carries_the_recorded_one_class_words(
    served_registry, registry_copy, monkeypatch
):
    """The note of an answer by an adapter whose registered figures record the warning."""
    get = Registry.get

    def recorded_one_class(self, ref, *args, **kwargs):
        v = get(self, ref, *args, **kwargs)
        notes = {**(v.metrics.get("notes") or {}), "one_class": ONE_CLASS}
        return replace(v, metrics={**v.metrics, "notes": notes})

    monkeypatch.setattr(Registry, "get", recorded_one_class)
    with TestClient(create_app(registry_copy, token=TOKEN)) as client:
        status, body = _post(
            client, {"adapter": "site_c", "instances": [_patient(served_registry)]}
        )
    assert status == 200, body
    assert "every patient is called positive at threshold 0.5" in body["predictions"][0]["note"]
    assert "one class" not in body["predictions"][0]["note"]


# ----- 7. numbers sent as JSON strings -------------------------------------------------------
def test_a_number_written_as_a_string_scores_as_the_number_and_other_text_is_refused(
    client, served_registry
):
    """CSV exports often quote numbers: "63" is read as 63 (the same answer); "sixty" is a 422
    at that field, saying what is read."""
    patient = _patient(served_registry)
    as_number = _post(client, {"adapter": "site_c", "instances": [patient]})
    as_text = _post(client, {"adapter": "site_c",
                             "instances": [{**patient, "age": str(patient["age"])}]})  # fmt: skip
    assert as_number[0] == as_text[0] == 200
    assert as_text[1] == as_number[1]
    _refused_at(client, {"adapter": "site_c", "instances": [{**patient, "age": "sixty"}]},
                ["body", "instances", 0, "age"],
                "age must be a finite number within ±1e15 or null (got text that is not a "
                'number; a number written as text, "63", is read as one)')  # fmt: skip
    # a number with its unit is told what to send, as predict tells a file's (a trial's
    # "260 mg" read only that "63" is a number)
    reply = client.post("/v1/predict", headers=AUTH, json={
        "adapter": "site_c", "instances": [{**patient, "age": "63 years"}]})  # fmt: skip
    (error,) = reply.json()["detail"]
    assert re.fullmatch(
        r"age must be a finite number within ±1e15 or null \(got text that is not a number; a "
        r'number written as text, "63", is read as one\): a number with text after it: send '
        r"the number alone, in the unit the model trained on \(mean [\d.]+\)",
        error["msg"],
    ), error["msg"]
    assert "years" not in reply.text  # the text sent is never repeated
    _refused_at(
        client,
        {"adapter": "site_c", "instances": []},
        ["body", "instances"],
        "instances is empty: send at least one instance to score",
        "too_short",
    )
    # a number sent that is none was "(got float)" (a trial's NaN, Infinity and 1e308); a
    # number is never repeated (another trial read its 1e+308 in the answer)
    for sent, got in [
        (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
        (1e308, "a number beyond ±1e15"),
        (-2e15, "a number beyond ±1e15"),
        (10**400, "a number beyond ±1e15"),
    ]:
        body = json.dumps({"adapter": "site_c", "instances": [{**patient, "age": sent}]})
        reply = client.post("/v1/predict", content=body,
                            headers={**AUTH, "Content-Type": "application/json"})  # fmt: skip
        assert (reply.status_code, reply.json()["detail"]) == (422, [{
            "loc": ["body", "instances", 0, "age"], "type": "value_error",
            "msg": f"age must be a finite number within ±1e15 or null (got {got})"}])  # fmt: skip


def test_the_hint_for_a_group_with_none_promoted_names_a_version_fit_to_serve(tmp_path):
    """A trial withdrew its adapter; the 404's hint named va@3, the newest version, recorded
    as worse than the base model (its promote refused for harm), where va@1 was fit. The hint
    names the newest version fit to serve; only where none is, the newest."""
    from tests.registry.helpers import make_adapter_on_base, make_base, metadata

    base = make_base(tmp_path / "base")
    root = tmp_path / "registry"
    registry = Registry(root, create=True)
    worse = metadata(metrics={"auroc": 0.6, "auroc_ci": [0.5, 0.7], "n": 40,
                              "notes": {"worse_than_base": "Keep the base model."}})  # fmt: skip
    registry.add(make_adapter_on_base(tmp_path / "a1", base, seed=1), name="va")
    registry.add(make_adapter_on_base(tmp_path / "a2", base, seed=2, meta=worse), name="va")
    instance = {"age": 50.0, "bp": 120.0}
    with TestClient(create_app(root, token=TOKEN)) as client:
        status, body = _post(client, {"group": "VA Long Beach", "instances": [instance]})
    assert status == 404 and "registered for it: va@1 (promote one" in body["detail"], body
    assert "va@2" not in body["detail"]


@pytest.mark.parametrize(
    ("body", "loc", "kind", "msg"),
    [
        (
            {},
            ["body", "instances"],
            "missing",
            'instances is missing: send {"adapter": "NAME", "instances": [{"FEATURE": value, '
            "...}]}, one object of the model's features per patient",
        ),
        (
            {"adapter": "site_c"},
            ["body", "instances"],
            "missing",
            'instances is missing: send {"adapter": "NAME", "instances": [{"FEATURE": value, '
            "...}]}, one object of the model's features per patient",
        ),
        (
            {"adapter": "site_c", "instances": [None]},
            ["body", "instances", 0],
            "dict_type",
            "this instance is not a JSON object: send each instance as an object of the model's "
            'features, {"FEATURE": value, ...}',
        ),
        (
            {"adapter": "site_c", "instances": [5]},
            ["body", "instances", 0],
            "dict_type",
            "this instance is not a JSON object: send each instance as an object of the model's "
            'features, {"FEATURE": value, ...}',
        ),
        (
            {"adapter": 5, "instances": [{"age": 60}]},
            ["body", "adapter"],
            "string_type",
            'adapter must be a JSON string naming a served adapter ("NAME", or "NAME@3" for a '
            "version; GET /v1/adapters lists them)",
        ),
    ],
    ids=["empty object", "adapter only", "null instance", "number instance", "number adapter"],
)
def test_a_request_s_own_fields_are_told_what_to_send_not_pydantic_s_words(
    client, body, loc, kind, msg
):
    """A trial's ``{}`` read "Field required", ``[null]`` "Input should be a valid
    dictionary" and ``"adapter": 5`` "Input should be a valid string", where other malformed
    bodies are told what to send."""
    _refused_at(client, body, loc, msg, kind)


def test_a_listing_an_answer_and_predict_say_a_caution_in_the_same_words():
    """A trial's answer said "every image is called class 'nodule' at threshold 0.5" where
    /v1/adapters' cautions and predict said "called nearly every test case one class": the
    recorded words everywhere but the DICOM SR, whose parameters hold 47 characters."""
    from medadapt.evaluate.report.formatting import recorded_cautions, spelled_cautions
    from medadapt.workflows.evaluate import recorded_result_warnings

    one = ("every image is called class 'nodule' at threshold 0.5: the accuracy (0.500) "
           "reflects the share of that class")  # fmt: skip
    metrics = {"n": 10, "auroc": 0.9, "auroc_ci": [0.7, 1.0],
               "notes": {"one_class": one, "flat_scores": "x"}}  # fmt: skip
    spelled = spelled_cautions(metrics)
    assert spelled == ["every image is called class 'nodule' at threshold 0.5",
                       "gave every test case about the same probability"]  # fmt: skip
    assert cautioned("adapter site_b@1", metrics) == (
        f"caution, adapter site_b@1 was recorded with: {'; '.join(spelled)}")  # fmt: skip
    assert recorded_result_warnings(metrics, "adapter 'site_b'")[-1].endswith(
        f"as served answers say them: {'; '.join(spelled)}")  # fmt: skip
    assert recorded_cautions(metrics)[0] == "called nearly every test case one class"  # the SR's
    missed = "class 'nodule' is found in 0 of 30 images (sensitivity 0.000): the accuracy hides it"
    said = recorded_result_warnings({**metrics, "notes": {"missed_class": missed}}, "adapter 'x'")
    assert said == [f"the recorded test result of adapter 'x': {missed}"]  # once (a review's
    # predict said it again as "also carries this caution", in the recorded words)


def test_a_hint_naming_a_version_refused_for_harm_gives_the_promote_that_serves_it():
    """A trial's 404 for group East named 'promote east@1', which the registry then refused
    (its recorded result showed harm): the hint gives the flag and says why."""
    from types import SimpleNamespace

    from medadapt.serve.state import ServingState, Tables

    state = SimpleNamespace(_promote=lambda ref: f"medadapt registry --root reg promote {ref}")
    tables = Tables(unfit=frozenset({"east@1"}))
    assert ServingState._promote_waiting(state, "east@1", tables) == (
        "'medadapt registry --root reg promote east@1 --despite-warnings', as its recorded "
        "test result shows harm that promote refuses without it: read 'registry show east@1' "
        "first"
    )
    assert ServingState._promote_waiting(state, "west@2", tables) == (
        "'medadapt registry --root reg promote west@2'"
    )

"""A column the BASE kept with ``--allow-leak`` stays said on every adapter trained on it: a
new user's trial adapted a base that kept one (a column that gives the label away at another
site than the adapter's) and ``adapt``, the adapter's record, the registry and ``serve`` said
nothing, while ``evaluate`` and ``predict`` warned. Now ``adapt`` warns in ``evaluate``'s
words, ``adapter.json`` records the base's kept columns (``base_model.allowed_leaks``) and the
note beside its metrics, and the registry (list marker, show line, card) and serve's adapter
listing and answers repeat it."""

from __future__ import annotations

import json
from html import unescape

import pytest
from fastapi.testclient import TestClient

from medadapt.adapters.state import _manifest_digest
from medadapt.serve.app import create_app
from tests.cli.helpers import run_cli
from tests.cli.workspace import TINY_TABLE
from tests.tables import site_a_leak_table

BASE_LEAK = (
    "column 'lab' was kept deliberately (--allow-leak / allow_leak=) although on the base "
    "model's training rows (site = A) it alone predicts 'outcome' with AUROC 1.000: {what} may "
    "rest on a leak"
)
FIGURES = BASE_LEAK.format(what="these figures")


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """A base kept 'lab' (the label given away at site A only); an adapter for site C, where
    'lab' tells nothing, kept nothing of its own; registered, promoted and its base added."""
    root = tmp_path_factory.mktemp("base_allowed_leaks")
    frame = site_a_leak_table(500)  # enough rows that the adapter's figures carry no other warning
    data = root / "clinic.csv"
    frame.to_csv(data, index=False)
    base = run_cli("train-base", "--data", data, "--label", "outcome", "--id-column",
                   "patient_id", "--group-column", "site", "--groups", "A,B", *TINY_TABLE,
                   "--allow-leak", "lab", "--out", root / "base")  # fmt: skip
    assert base.code == 0, base.stderr
    adapted = run_cli("adapt", "--base", root / "base", "--data", data, "--group-column", "site",
                      "--group", "C", "--out", root / "adapter", "--json", root / "adapt.json",
                      "--report", root / "adapt.html")  # fmt: skip
    assert adapted.code == 0, adapted.stderr
    registry = root / "registry"
    for argv in (("add", root / "adapter", "--name", "c"), ("promote", "c@1"),
                 ("add-base", root / "base")):  # fmt: skip
        result = run_cli("registry", "--root", registry, *argv)
        assert result.code == 0, result.stderr
    return {"root": root, "data": data, "adapted": adapted, "registry": registry,
            "frame": frame}  # fmt: skip


def test_adapt_warns_in_evaluates_words(kept):
    root = kept["root"]
    said = kept["adapted"].stdout.splitlines() + kept["adapted"].stderr.splitlines()
    assert [line for line in said if "'lab'" in line] == [f"warning: {FIGURES}"]
    assert FIGURES in json.loads((root / "adapt.json").read_text())["warnings"]
    html = " ".join(unescape((root / "adapt.html").read_text()).split())
    assert f"{FIGURES[0].upper()}{FIGURES[1:]}" in html
    result = run_cli("evaluate", "--base", root / "base", "--adapter", root / "adapter",
                     "--data", kept["data"], "--group-column", "site", "--group", "C")  # fmt: skip
    assert result.code == 0, result.stderr
    assert f"warning: {FIGURES}" in result.stdout.splitlines()  # the same words


def test_the_adapter_records_its_bases_kept_columns(kept):
    metadata = json.loads((kept["root"] / "adapter" / "adapter.json").read_text())["metadata"]
    assert metadata["allowed_leaks"] is None  # none of its own: evaluate reads the base's
    assert metadata["base_model"]["allowed_leaks"] == [
        {"column": "lab", "statistic": "AUROC", "value": 1.0, "rows": 146, "where": "site = A"}
    ]
    # the only note on the whole result (the other, on the calibration slope of these few
    # test rows, is the slope's): the registry's (!) below is the base's leak
    notes = metadata["metrics"]["notes"]
    assert notes["allowed_leak"] == FIGURES and set(notes) <= {
        "allowed_leak",
        "calibration_slope",
        "ece",
    }


def test_the_registry_says_it(kept):
    registry = kept["registry"]
    listed = run_cli("registry", "--root", registry, "list").stdout
    assert "(!)" in listed  # the only note recorded (above): the base's leak
    shown = run_cli("registry", "--root", registry, "show", "c@1").stdout.splitlines()
    assert f"(!) {FIGURES}" in shown
    card = run_cli("registry", "--root", registry, "show", "c@1", "--card").stdout.splitlines()
    assert f"- {FIGURES[0].upper()}{FIGURES[1:]}." in card
    base = "| base model | trained on groups B, A; classes: 0, 1; kept with --allow-leak: lab |"
    assert base in card


def test_serve_says_it(kept):
    instances = json.loads(
        kept["frame"].query("site == 'C'").drop(columns="outcome").head(2).to_json(orient="records")
    )
    with TestClient(create_app(kept["registry"])) as client:
        (adapter,) = client.get("/v1/adapters").json()
        reply = client.post("/v1/predict", json={"adapter": "c", "instances": instances})
    assert adapter["notes"]["allowed_leak"] == FIGURES
    assert set(adapter["notes"]) <= {"allowed_leak", "calibration_slope", "ece"}
    assert reply.status_code == 200, reply.text
    predictions = reply.json()["predictions"]
    caution = "caution, adapter c@1 was recorded with: keeps an input that alone predicts the label"
    assert {p["note"].split("; this record matches a row")[0] for p in predictions} == {caution}
    for p in predictions:  # the adapter's own training rows are said in-sample after it
        assert ("this record matches a row" in p["note"]) is (p["trained_on"] is not None)


def test_an_adapter_recorded_without_its_bases_columns_still_loads(kept, tmp_path):
    """Adapters saved before they recorded their base's kept columns have neither the list
    nor the note: they load, are registered and evaluated as before (evaluate reads the base)."""
    older = tmp_path / "older"
    older.mkdir()
    for file in (kept["root"] / "adapter").iterdir():
        (older / file.name).write_bytes(file.read_bytes())
    manifest = json.loads((older / "adapter.json").read_text())
    manifest["metadata"]["base_model"].pop("allowed_leaks", None)
    manifest["metadata"]["metrics"].pop("notes", None)
    manifest["manifest_sha256"] = _manifest_digest(manifest)  # as an older medadapt saved it
    (older / "adapter.json").write_text(json.dumps(manifest))
    result = run_cli("registry", "--root", tmp_path / "registry", "add", older, "--name", "old")
    assert result.code == 0, result.stderr
    shown = run_cli("registry", "--root", tmp_path / "registry", "show", "old@1")
    assert shown.code == 0 and "(!)" not in shown.stdout, shown.stderr
    result = run_cli("evaluate", "--base", kept["root"] / "base", "--adapter", older, "--data",
                     kept["data"], "--group-column", "site", "--group", "C")  # fmt: skip
    assert result.code == 0, result.stderr
    assert f"warning: {FIGURES}" in result.stdout.splitlines()


def test_a_study_on_the_base_says_the_column_it_kept(kept):
    """A trial's ``study --base`` on a base that kept three columns named none of them (its
    only leak words were the generic too-good warning); ``adapt`` and ``evaluate`` did."""
    root = kept["root"]
    result = run_cli("study", "--base", root / "base", "--data", kept["data"], "--group-column",
                     "site", "--group", "C", "--fractions", "1", "--seeds", "1", "--methods",
                     "base_only,head_only", "--n-boot", "20", "--workers", "1",
                     "--out", root / "study")  # fmt: skip
    assert result.code == 0, result.stderr
    said = BASE_LEAK.format(what="every strategy's figures")
    assert [line for line in result.stdout.splitlines() if "'lab'" in line] == [f"warning: {said}"]
    report = " ".join(unescape((root / "study" / "report.html").read_text()).split())
    assert said in report or f"{said[0].upper()}{said[1:]}" in report

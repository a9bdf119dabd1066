"""A column kept with ``--allow-leak`` stays with the model: the base's ``model.json`` and the
adapter's ``adapter.json`` record it (name, statistic, row count; never a value), and every
later result on the model repeats it: ``evaluate`` (terminal, JSON, HTML), ``predict``, the
registry (list marker, show line, card) and serve's adapter listing. The refusal says the
threshold and the rows, and leads with the flags that work where it is raised."""

from __future__ import annotations

import json
from html import unescape

import numpy as np
import pytest
from fastapi.testclient import TestClient

from medadapt.serve.app import create_app
from tests.cli.helpers import run_cli
from tests.cli.workspace import QUICK_TABLE
from tests.tables import clinical_table, site_a_leak_table

BASE_LEAK = (
    "column 'copy' was kept deliberately (--allow-leak / allow_leak=) although on the base "
    "model's training rows it alone predicts 'outcome' with AUROC 1.000: {what} may rest on a leak"
)
ADAPTER_LEAK = (
    "column 'lab' was kept deliberately (--allow-leak / allow_leak=) although on the rows the "
    "adapter was trained and tested on it alone predicts 'outcome' with AUROC 1.000: {what} "
    "may rest on a leak"
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("allowed_leaks")
    frame = clinical_table(300)
    rng = np.random.default_rng(1)
    frame["copy"] = frame["outcome"] * 10 + rng.normal(0, 1, len(frame))  # the label, noisy
    # a lab value that gives the label away at site C only
    frame["lab"] = np.where(frame["site"] == "C", frame["outcome"] * 50.0 + 100, 120.0)
    frame["lab"] += rng.normal(0, 1, len(frame))
    data = root / "clinic.csv"
    frame.to_csv(data, index=False)
    common = ["--data", data, "--label", "outcome", "--id-column", "patient_id",
              "--group-column", "site"]  # fmt: skip
    refused = run_cli("train-base", *common, "--groups", "A,B", *QUICK_TABLE,
                      "--out", root / "refused")  # fmt: skip
    base = run_cli("train-base", *common, "--groups", "A,B", *QUICK_TABLE,
                   "--allow-leak", "copy", "--out", root / "base")  # fmt: skip
    assert base.code == 0, base.stderr
    adapt = ["adapt", "--base", root / "base", "--data", data, "--label", "outcome",
             "--group-column", "site", "--group", "C", "--out", root / "adapter"]  # fmt: skip
    refused_adapt = run_cli(*adapt)
    adapted = run_cli(*adapt, "--allow-leak", "lab")
    assert adapted.code == 0, adapted.stderr
    return {"root": root, "data": data, "refused": refused, "refused_adapt": refused_adapt,
            "adapt": adapt, "adapted": adapted}  # fmt: skip


def test_train_base_refusal_says_threshold_rows_and_both_flags(workspace):
    result = workspace["refused"]
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "error: column 'copy' alone predicts 'outcome' with AUROC 1.000 on 176 training rows, "
        "at or above the 0.98 that medadapt treats as a leak: a strong predictor on few rows, "
        "or a leak (a copy of the label, a value recorded after the outcome); leave it out "
        "with --exclude copy, or keep it with --allow-leak copy if it is a genuine predictor "
        "measured before the outcome"
    ]


def test_adapt_refusal_leads_with_the_flags_adapt_has(workspace):
    result = workspace["refused_adapt"]
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "error: column 'lab' alone predicts 'outcome' with AUROC 1.000 on 79 rows adapt trains "
        "and tests on (site = C), at or above the 0.98 that medadapt treats as a leak: a strong "
        "predictor on few rows, or a leak (a copy of the label, a value recorded after the "
        "outcome); where the base trained, 'lab' was not among the columns it recorded as "
        "strong predictors (0.8 or more): not a predictor the base already relies on; keep it "
        "with --allow-leak lab if it is a genuine predictor measured before "
        "the outcome, remove it from --data and pass --allow-absent-columns (the base model "
        "then reads it as missing), or retrain the base model without it (train-base --exclude "
        "lab)"  # (not "as study --base advises": a trial had run no study)
    ]


def test_the_models_record_the_columns_kept(workspace):
    root = workspace["root"]
    training = json.loads((root / "base" / "model.json").read_text())["training"]
    assert training["allowed_leaks"] == [
        {"column": "copy", "statistic": "AUROC", "value": 1.0, "rows": 176, "where": None}
    ]
    assert training["test_metrics"]["notes"]["allowed_leak"] == BASE_LEAK.format(
        what="these figures"
    )
    metadata = json.loads((root / "adapter" / "adapter.json").read_text())["metadata"]
    # the base's own ('copy') is said from the base's record: not recorded twice
    assert [leak["column"] for leak in metadata["allowed_leaks"]] == ["lab"]
    assert metadata["allowed_leaks"][0] == {
        "column": "lab", "statistic": "AUROC", "value": 1.0, "rows": 79, "where": None
    }  # fmt: skip
    noted = metadata["metrics"]["notes"]["allowed_leak"]
    assert ADAPTER_LEAK.format(what="these figures") in noted


def test_the_adapter_says_its_bases_columns_first_and_each_once(workspace, tmp_path):
    """The base's kept column ('copy', which gives the label away at site C too) is said
    once in adapt's warnings, with its figure on the rows adapt uses (a trial's adapt said it
    twice, AUROC 0.988 on the base's rows and 0.994 on the site's), even when adapt is given
    --allow-leak for it again; beside the adapter's metrics, the base's then the adapter's
    own ('lab'), and among its base's record."""
    figures = [BASE_LEAK.format(what="these figures"), ADAPTER_LEAK.format(what="these figures")]
    both = run_cli(*workspace["adapt"][:-1], tmp_path / "both", "--allow-leak", "lab,copy")
    assert both.code == 0, both.stderr
    for adapted, folder in ((workspace["adapted"], workspace["root"] / "adapter"),
                            (both, tmp_path / "both")):  # fmt: skip
        said = adapted.stdout.splitlines() + adapted.stderr.splitlines()
        copy = [line for line in said if "'copy'" in line]
        assert len(copy) == 1 and copy[0].startswith("warning: ") and "AUROC" in copy[0]
        assert "kept because of" in copy[0] and "was kept deliberately" not in copy[0]
        metadata = json.loads((folder / "adapter.json").read_text())["metadata"]
        assert metadata["metrics"]["notes"]["allowed_leak"] == "; ".join(figures)
        assert [leak["column"] for leak in metadata["allowed_leaks"]] == ["lab"]
        assert [leak["column"] for leak in metadata["base_model"]["allowed_leaks"]] == ["copy"]


def test_evaluate_and_predict_repeat_them(workspace, tmp_path):
    root, data = workspace["root"], workspace["data"]
    out, report = tmp_path / "e.json", tmp_path / "e.html"
    result = run_cli(
        "evaluate", "--base", root / "base", "--adapter", root / "adapter", "--data", data,
        "--group-column", "site", "--group", "C", "--json", out, "--report", report,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    figures = [BASE_LEAK.format(what="these figures"), ADAPTER_LEAK.format(what="these figures")]
    for line in figures:
        assert f"warning: {line}" in lines
    recorded = json.loads(out.read_text())["leak_warnings"]
    assert recorded[0] == figures[0] and figures[1] in recorded
    html = " ".join(unescape(report.read_text()).split())
    assert "Column 'lab' was kept deliberately (--allow-leak / allow_leak=)" in html
    # the base alone says its own
    result = run_cli("evaluate", "--base", root / "base", "--data", data, "--group-column",
                     "site", "--group", "B")  # fmt: skip
    assert result.code == 0, result.stderr
    assert f"warning: {figures[0]}" in result.stdout.splitlines()
    result = run_cli("predict", "--base", root / "base", "--adapter", root / "adapter",
                     "--data", data, "--out", tmp_path / "p.csv")  # fmt: skip
    assert result.code == 0, result.stderr
    said = result.stdout.splitlines() + result.stderr.splitlines()
    assert f"warning: {ADAPTER_LEAK.format(what='these predictions')}" in said


def test_adapt_says_a_gain_beside_its_result_too_good_to_be_true_with_a_caution(workspace):
    """A trial's ``adapt`` said the adapter "gives risks closer to what happened" of a result
    the same output called too good to be true; the gain is now said with a caution."""
    said = " ".join(workspace["adapted"].stdout.split())
    assert (
        "the adapter gives risks closer to what happened (lower Brier score). The adapter's own "
        "result is too good to be true (notes.too_good): a leak would give this gain as well, "
        "so it says nothing of the adapter's skill until one is ruled out."
    ) in said


def test_a_kept_column_the_file_lacks_is_said_to_be_missing_not_to_be_leaking(workspace, tmp_path):
    """A trial's ``predict --allow-absent-columns`` on a file without the column kept with
    --allow-leak said "these predictions may rest on a leak", and nothing of the recorded
    figures that do rest on it. Both ``predict`` and ``evaluate`` now say the column is not
    there and the recorded figures do not describe the result; the base's kept column, in
    the file, is said as before."""
    import pandas as pd

    root = workspace["root"]
    lacking = tmp_path / "without_lab.csv"
    pd.read_csv(workspace["data"]).drop(columns="lab").to_csv(lacking, index=False)
    result = run_cli("predict", "--base", root / "base", "--adapter", root / "adapter", "--data",
                     lacking, "--allow-absent-columns", "--out", tmp_path / "p.csv")  # fmt: skip
    assert result.code == 0, result.stderr
    said = result.stdout.splitlines() + result.stderr.splitlines()
    assert (
        "warning: column 'lab' kept with --allow-leak is not in --data: these predictions are "
        "made without it, so the figures recorded for the model, which may rest on it, do not "
        "describe them"
    ) in said
    assert f"warning: {ADAPTER_LEAK.format(what='these predictions')}" not in said
    assert f"warning: {BASE_LEAK.format(what='these predictions')}" in said
    out = tmp_path / "e.json"
    result = run_cli(
        "evaluate", "--base", root / "base", "--adapter", root / "adapter", "--data", lacking,
        "--group-column", "site", "--group", "C", "--allow-absent-columns", "--json", out,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    recorded = json.loads(out.read_text())["leak_warnings"]
    assert recorded[0] == BASE_LEAK.format(what="these figures")
    assert recorded[1].startswith("column 'lab' kept with --allow-leak is not in --data: these "
                                  "figures are made without it")  # fmt: skip
    assert f"warning: {recorded[1]}" in result.stdout.splitlines()


def test_registry_and_serve_show_them(workspace, tmp_path):
    root, registry = workspace["root"], tmp_path / "registry"
    for argv in (("add", root / "adapter", "--name", "beta"), ("promote", "beta@1"),
                 ("add-base", root / "base")):  # fmt: skip
        result = run_cli("registry", "--root", registry, *argv)
        assert result.code == 0, result.stderr
    listed = run_cli("registry", "--root", registry, "list").stdout
    assert "(!)" in listed and "a column kept with --allow-leak" in " ".join(listed.split())
    shown = run_cli("registry", "--root", registry, "show", "beta@1").stdout.splitlines()
    assert any(
        line.startswith("(!) ") and ADAPTER_LEAK.format(what="these figures") in line
        for line in shown
    )
    (base,) = run_cli("registry", "--root", registry, "bases").stdout.splitlines()
    assert base.endswith(
        "label=outcome  groups=B (93 rows), A (83 rows)  kept with --allow-leak: copy"
    )
    (listed,) = json.loads(run_cli("registry", "--root", registry, "bases", "--json").stdout)
    assert listed["allowed_leaks"] == ["copy"]
    with TestClient(create_app(registry)) as client:
        (adapter,) = client.get("/v1/adapters").json()
    assert ADAPTER_LEAK.format(what="these figures") in adapter["notes"]["allowed_leak"]


def test_a_column_leaking_within_one_group_only_is_recorded_too(tmp_path):
    """train-base judges leaks over all rows and within each group; the record looked over
    all rows only, so a column kept for one site's leak was warned about once, then never."""
    frame = site_a_leak_table(300)
    data = tmp_path / "clinic.csv"
    frame.to_csv(data, index=False)
    result = run_cli("train-base", "--data", data, "--label", "outcome", "--id-column",
                     "patient_id", "--group-column", "site", "--groups", "A,B", *QUICK_TABLE,
                     "--allow-leak", "lab", "--out", tmp_path / "base")  # fmt: skip
    assert result.code == 0, result.stderr
    model = json.loads((tmp_path / "base" / "model.json").read_text())
    ((kept,),) = [model["training"]["allowed_leaks"]]
    assert (kept["column"], kept["where"]) == ("lab", "site = A")


def test_a_kept_column_the_base_then_drops_does_not_fail_train_base(tmp_path):
    """A review: ``--allow-leak`` naming a column ``train-base`` drops (constant here) made
    the command fail after training (the new check that an allowed column is a model input
    ran on the base's own records too); only ``adapt``'s and the sites' checks refuse it."""
    frame = clinical_table(200).assign(ward=1)  # one value: not a feature
    frame.to_csv(tmp_path / "clinic.csv", index=False)
    result = run_cli("train-base", "--data", tmp_path / "clinic.csv", "--label", "outcome",
                     "--id-column", "patient_id", "--group-column", "site", "--groups", "A,B",
                     *QUICK_TABLE, "--allow-leak", "ward", "--out", tmp_path / "base")  # fmt: skip
    assert result.code == 0, result.stderr
    assert (tmp_path / "base" / "model.json").is_file()


def test_allow_leak_of_columns_that_do_not_leak_says_the_flag_was_not_needed(workspace, tmp_path):
    """A trial named four columns with --allow-leak and was told of the two that leaked,
    not whether the other two were kept, nor why nothing was said of them; a column the model
    dropped is said to be unread (a review: it was said to be used as any other feature)."""
    import pandas as pd

    frame = pd.read_csv(workspace["data"]).assign(ward=1)  # one value: dropped as constant
    frame.to_csv(tmp_path / "clinic.csv", index=False)
    common = ["--data", tmp_path / "clinic.csv", "--label", "outcome", "--id-column",
              "patient_id", "--group-column", "site", "--groups", "A,B", *QUICK_TABLE]  # fmt: skip
    result = run_cli("train-base", *common, "--allow-leak", "copy,age,sex,ward",
                     "--out", tmp_path / "base")  # fmt: skip
    assert result.code == 0, result.stderr
    said = " ".join((result.stdout + result.stderr).split())
    assert (
        "--allow-leak 'age', 'sex': they do not alone predict 'outcome' on these training "
        "rows (the leak check did not flag them), so the model uses them as any other "
        "feature: the flag was not needed"
    ) in said, said
    assert (
        "--allow-leak 'ward': the model does not read it (not among its features: dropped "
        "as constant, empty, an identifier or excluded), so the flag changes nothing"
    ) in said
    assert (
        "warning: column 'copy' (AUROC 1.000) alone predicts 'outcome' almost perfectly; "
        "kept because of --allow-leak"
    ) in said  # the column that leaks: said as before

"""The tabular command line end to end, on a synthetic three-site table."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from medadapt.cli.main import main
from medadapt.fileio import record_sha256
from medadapt.results import AdapterRecord
from tests.cli.helpers import run_cli
from tests.tables import clinical_table

REQUIRED_KEYS = {
    "n",
    "n_positive",
    "auroc",
    "auroc_ci",
    "accuracy",
    "balanced_accuracy",
    "brier",
    "ece",
    "trainable_params",
    "adapter_bytes",
}


def run(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    data = root / "sites.csv"
    clinical_table(360).to_csv(data, index=False)
    common = ["--data", str(data), "--label", "outcome"]
    assert (
        run(
            "train-base",
            *common,
            "--id-column",
            "patient_id",
            "--group-column",
            "site",
            "--groups",
            "A,B",
            "--out",
            str(root / "base"),
        )
        == 0
    )
    assert (
        run(
            "adapt",
            "--base",
            str(root / "base"),
            *common,
            "--group-column",
            "site",
            "--group",
            "C",
            "--out",
            str(root / "adapter_c"),
        )
        == 0
    )
    return root, data, common


def test_train_base_and_adapt_write_verified_directories(workspace):
    root, data, _ = workspace
    model = json.loads((root / "base" / "model.json").read_text())
    assert model["schema"]["label"] == "outcome"
    assert model["training"]["groups"] == {
        "A": model["training"]["groups"]["A"],
        "B": model["training"]["groups"]["B"],
    }
    manifest = json.loads((root / "adapter_c" / "adapter.json").read_text())
    assert manifest["method"] == "bottleneck"
    summary = manifest["metadata"]["data_summary"]
    assert summary["group"] == "C" and summary["n_train"] + summary["n_test"] > 0
    # counts only: no feature values of any patient in the manifest; the warnings said at
    # adapt name columns (and the base's mean and SD), never a row's value
    said = summary.pop("training_warnings")
    assert "marker" not in json.dumps(manifest["metadata"]) and said
    written = pd.read_csv(data, dtype=str)["marker"].dropna()
    assert not [v for v in written if len(v) > 3 and any(v in w for w in said)]
    summary["training_warnings"] = said
    # the metadata is an AdapterRecord, every field known (nothing left over in ``extra``)
    record = AdapterRecord.from_json(manifest["metadata"])
    assert record.extra == {} and record.method == "bottleneck" and record.kind == "tabular"
    assert record.to_json() == manifest["metadata"]
    size = summary["sample_size"]  # Riley et al.'s criteria, read as a new model: numbers only
    assert size["parameters"] == manifest["n_parameters"] - 1 and size["intercepts"] == 1  # p
    assert size["n_train"] == summary["n_train"]
    assert size["met"] == (size["n_train"] >= size["n_needed"])
    assert set(size["test_supports"]) == {"O/E", "slope", "C"}


def test_evaluate_on_the_training_file_uses_only_held_out_rows(workspace, tmp_path):
    root, _data, common = workspace
    out = tmp_path / "eval.json"
    assert (
        run(
            "evaluate",
            "--base",
            str(root / "base"),
            "--adapter",
            str(root / "adapter_c"),
            *common,
            "--json",
            str(out),
            "--report",
            str(tmp_path / "r.html"),
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert set(result) >= REQUIRED_KEYS
    manifest = json.loads((root / "adapter_c" / "adapter.json").read_text())
    assert result["n"] == manifest["metadata"]["data_summary"]["n_test"]
    assert result["rows_used"].startswith(f"the adapter's {result['n']} held-out rows; of the ")
    _others_add_up(result["rows_used"], result["n"])
    assert result["trainable_params"] == manifest["n_parameters"]
    assert result["adapter_bytes"] == (root / "adapter_c" / "adapter.safetensors").stat().st_size
    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    card = page[page.index("Adapter card: ") :]
    assert all(f"<b>{f}</b>" in card for f in ("Intended use", "Data", "Metrics", "Limitations"))
    assert (root / "adapter_c" / "split.json").is_file()
    assert "test_positions" not in json.dumps(manifest)  # row positions stay out of the manifest


def test_evaluate_refuses_to_guess_when_the_split_is_missing(workspace, tmp_path):
    import shutil

    root, _, common = workspace
    copy = tmp_path / "copied_adapter"
    shutil.copytree(root / "adapter_c", copy)
    (copy / "split.json").unlink()
    assert run("evaluate", "--base", str(root / "base"), "--adapter", str(copy), *common) == 2


def test_evaluate_on_another_file_uses_all_its_rows(workspace, tmp_path):
    root, _, _common = workspace
    other = tmp_path / "other.csv"
    clinical_table(120, seed=5).to_csv(other, index=False)
    out = tmp_path / "eval.json"
    assert (
        run(
            "evaluate",
            "--base",
            str(root / "base"),
            "--data",
            str(other),
            "--label",
            "outcome",
            "--json",
            str(out),
        )
        == 0
    )
    result = json.loads(out.read_text())
    # rows of the other file identical (features and label) to a row the base trained on are
    # not fresh patients: they are left out, and only they
    base = json.loads((root / "base" / "model.json").read_text())
    features = [*sorted(f["name"] for f in base["schema"]["features"]), "outcome"]
    trained = pd.read_csv(_common[1]).iloc[base["training"]["split"]["train_positions"]]
    seen = set(trained[features].astype(str).itertuples(index=False))
    n_seen = sum(
        row in seen for row in pd.read_csv(other)[features].astype(str).itertuples(index=False)
    )
    assert n_seen > 0  # low-entropy rows (marker missing) recur in this synthetic table
    assert result["n"] == 120 - n_seen
    assert (
        result["rows_used"]
        == f"all rows, minus {n_seen} rows that match rows the base model trained on (by content)"
    )
    assert result["n_excluded_trained"] == {"base": n_seen}


def test_evaluate_a_group_excludes_every_row_used_in_training(workspace, tmp_path):
    root, data, common = workspace
    out = tmp_path / "a.json"
    assert (
        run(
            "evaluate",
            "--base",
            str(root / "base"),
            *common,
            "--group-column",
            "site",
            "--group",
            "A",
            "--json",
            str(out),
        )
        == 0
    )
    result = json.loads(out.read_text())
    base = json.loads((root / "base" / "model.json").read_text())["training"]["split"]
    frame = pd.read_csv(data)
    site_a = set(frame.index[frame["site"] == "A"])
    assert result["n"] == len(site_a - set(base["train_positions"]))


def test_predict_writes_one_row_per_patient(workspace, tmp_path):
    root, _data, _ = workspace
    out = tmp_path / "pred.csv"
    unlabeled = tmp_path / "new.csv"
    clinical_table(20, seed=9).drop(columns=["outcome"]).to_csv(unlabeled, index=False)
    assert (
        run(
            "predict",
            "--base",
            str(root / "base"),
            "--adapter",
            str(root / "adapter_c"),
            "--data",
            str(unlabeled),
            "--out",
            str(out),
        )
        == 0
    )
    predictions = pd.read_csv(out)
    assert list(predictions.columns) == [
        "patient_id", "p_1", "predicted", "outside_training", "missing_features", "trained_on",
        "model",
    ]  # fmt: skip
    assert len(predictions) == 20 and predictions["p_1"].between(0, 1).all()
    written = pd.read_csv(out, dtype=str)["p_1"]  # one fixed format, never 9.333494e-07
    assert written.str.fullmatch(r"[01]\.\d{8}").all(), written.tolist()

    without_ids = tmp_path / "no_ids.csv"  # the same patients, shuffled, without their ids
    shuffled = pd.read_csv(unlabeled).drop(columns=["patient_id"]).sample(frac=1, random_state=1)
    shuffled.to_csv(without_ids, index=False)
    out = tmp_path / "pred_rows.csv"
    assert run("predict", "--base", str(root / "base"), "--adapter", str(root / "adapter_c"),
               "--data", str(without_ids), "--out", str(out)) == 0  # fmt: skip
    by_row = pd.read_csv(out)
    assert list(by_row.columns)[:3] == ["row", "p_1", "predicted"]  # each row's number
    assert by_row["row"].tolist() == list(range(1, 21))
    original = predictions.set_index("patient_id")["p_1"].to_numpy()[shuffled.index]
    np.testing.assert_allclose(by_row["p_1"], original, atol=1e-6)


def test_train_fraction_and_other_methods(workspace, tmp_path, capsys):
    root, _, common = workspace
    for method in ("lora", "head", "full"):
        capsys.readouterr()
        assert (
            run(
                "adapt",
                "--base",
                str(root / "base"),
                *common,
                "--group-column",
                "site",
                "--group",
                "C",
                "--method",
                method,
                "--train-fraction",
                "0.5",
                "--out",
                str(tmp_path / method),
            )
            == 0
        )
    said = " ".join(capsys.readouterr().out.split())  # a trial was told "saved as adapter"
    assert f"saved {tmp_path / 'full'}, a fully fine-tuned model (use it as --base; the " \
        "registry holds adapters, not whole models)" in said  # fmt: skip
    full = json.loads((tmp_path / "full" / "model.json").read_text())
    assert full["training"]["adapted"]["method"] == "full"
    lora = json.loads((tmp_path / "lora" / "adapter.json").read_text())
    whole = json.loads((root / "adapter_c" / "adapter.json").read_text())
    assert (
        lora["metadata"]["data_summary"]["n_train"] < whole["metadata"]["data_summary"]["n_train"]
    )
    # --adapter-options: the method's settings over its defaults, kept in the manifest
    args = ["adapt", "--base", str(root / "base"), *common, "--group-column", "site", "--group",
            "C", "--train-fraction", "0.5", "--method", "lora"]  # fmt: skip
    assert run(*args, "--adapter-options", "r=2, alpha=4", "--out", str(tmp_path / "r2")) == 0
    small = json.loads((tmp_path / "r2" / "adapter.json").read_text())
    assert (small["config"]["r"], small["config"]["alpha"]) == (2, 4.0)
    assert lora["config"]["r"] == 8
    assert run(*args, "--adapter-options", "r=4", "--out", str(tmp_path / "r4")) == 0
    n = {r: json.loads((tmp_path / d / "adapter.json").read_text())["n_parameters"]
         for r, d in ((2, "r2"), (4, "r4"), (8, "lora"))}  # fmt: skip
    assert n[8] - n[4] == 2 * (n[4] - n[2]) > 0  # LoRA's matrices grow linearly with r
    # the fully fine-tuned model is itself a base model
    assert (
        run(
            "evaluate",
            "--base",
            str(tmp_path / "full"),
            *common,
            "--group-column",
            "site",
            "--group",
            "C",
        )
        == 0
    )


def test_bad_input_is_one_line_with_no_traceback_and_nothing_written(workspace, tmp_path):
    root, data, _ = workspace
    out = tmp_path / "never"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "medadapt.cli",
            "adapt",
            "--base",
            str(root / "base"),
            "--data",
            str(data),
            "--label",
            "outcome",
            "--group-column",
            "site",
            "--group",
            "D",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: --group: group 'D' not found in column 'site' (it has: A, B, C)"]
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_missing_file_and_wrong_label(workspace, tmp_path):
    root, data, _ = workspace
    assert (
        run(
            "train-base",
            "--data",
            str(tmp_path / "nope.csv"),
            "--label",
            "y",
            "--out",
            str(tmp_path / "b"),
        )
        == 2
    )
    assert (
        run(
            "adapt",
            "--base",
            str(root / "base"),
            "--data",
            str(data),
            "--label",
            "site",
            "--group-column",
            "site",
            "--group",
            "C",
            "--out",
            str(tmp_path / "x"),
        )
        == 2
    )
    assert not (tmp_path / "b").exists() and not (tmp_path / "x").exists()


def test_a_fully_fine_tuned_model_is_scored_on_its_own_held_out_rows(workspace, tmp_path):
    root, _, common = workspace
    assert (
        run(
            "adapt",
            "--base",
            str(root / "base"),
            *common,
            "--group-column",
            "site",
            "--group",
            "C",
            "--method",
            "full",
            "--out",
            str(tmp_path / "full"),
        )
        == 0
    )
    out = tmp_path / "full.json"
    assert run("evaluate", "--base", str(tmp_path / "full"), *common, "--json", str(out)) == 0
    result = json.loads(out.read_text())
    held_out = json.loads((tmp_path / "full" / "model.json").read_text())["training"]["adapted"]
    assert result["n"] == len(held_out["split"]["test_positions"])
    held = f"the fine-tuned model's {result['n']} held-out rows; of the "
    assert result["rows_used"].startswith(held)
    _others_add_up(result["rows_used"], result["n"])
    model_json = json.loads((tmp_path / "full" / "model.json").read_text())
    assert result["trainable_params"] == model_json["training"]["adapted"]["trainable_params"]
    assert result["trainable_params"] > 10_000  # every parameter of the model
    assert result["adapter_bytes"] == (tmp_path / "full" / "model.safetensors").stat().st_size


def error_lines(*argv: str) -> tuple[int, list[str], str]:
    """``medadapt ARGV`` run here (its words: a real process's are checked by
    ``tests/cli/test_bad_inputs.py``'s real-process cases): exit code, ``error:`` lines and
    stderr."""
    result = run_cli(*argv)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    return result.code, errors, result.stderr


def test_an_adapter_for_a_group_the_base_saw_is_tested_only_on_rows_the_base_never_saw(
    workspace, tmp_path
):
    root, _, common = workspace
    out = tmp_path / "adapter_a"
    assert run("adapt", "--base", str(root / "base"), *common, "--group-column", "site",
               "--group", "A", "--out", str(out)) == 0  # fmt: skip
    base_train = set(
        json.loads((root / "base" / "model.json").read_text())["training"]["split"][
            "train_positions"
        ]
    )
    split = json.loads((out / "split.json").read_text())
    assert split["test_positions"] and not base_train & set(split["test_positions"])
    summary = json.loads((out / "adapter.json").read_text())["metadata"]["data_summary"]
    assert summary["n_seen_by_base"] > 0


def test_adapt_refuses_a_group_whose_training_rows_have_one_class(workspace, tmp_path):
    _, data, _ = workspace
    frame = pd.read_csv(data)
    frame.loc[frame["site"] == "C", "outcome"] = 1
    one_class = tmp_path / "one_class.csv"
    frame.to_csv(one_class, index=False)
    root = workspace[0]
    code, errors, stderr = error_lines(
        "adapt", "--base", str(root / "base"), "--data", str(one_class), "--label", "outcome",
        "--group-column", "site", "--group", "C", "--out", str(tmp_path / "x"),
    )  # fmt: skip
    assert code == 2 and "Traceback" not in stderr
    assert errors == [
        "error: the training rows of site = C have only one class of 'outcome' ('1'); an "
        "adapter needs at least two classes: pick a --group with more than one class or add "
        "rows to --data"
    ]
    assert not (tmp_path / "x").exists()


def test_renamed_feature_columns_are_refused_with_a_hint_unless_allowed(workspace, tmp_path):
    root, data, _ = workspace
    renamed = tmp_path / "renamed.csv"
    pd.read_csv(data).rename(columns={"marker": "Marker"}).to_csv(renamed, index=False)
    out = tmp_path / "pred.csv"
    code, errors, _ = error_lines(
        "predict", "--base", str(root / "base"), "--data", str(renamed), "--out", str(out)
    )
    assert code == 2 and not out.exists()
    assert errors == [
        "error: the model's feature column 'marker' is not in the table (its 'Marker' may "
        "be 'marker'); rename the column in --data, or pass --allow-absent-columns to treat "
        "it as missing for every row"
    ]
    allowed = run_cli("predict", "--base", root / "base", "--data", renamed, "--out", out,
                      "--allow-absent-columns")  # fmt: skip
    assert allowed.code == 0, allowed.stderr
    assert len(pd.read_csv(out)) == len(pd.read_csv(data))
    # the column offered as the rename is said to be it, not "train a new base to use it"
    said = allowed.stdout + allowed.stderr
    assert (
        "warning: column 'marker' is not in the table: missing for every row ('Marker' may be "
        "it under another name: rename it to 'marker' in --data to use it)"
    ) in said, said
    assert "'Marker'" not in said.split("('Marker' may be", 1)[1], said
    adapted = run_cli(  # adapt says it too (a trial's absent column went unsaid there)
        "adapt", "--base", root / "base", "--data", renamed, "--label", "outcome",
        "--group-column", "site", "--group", "C", "--method", "head", "--allow-absent-columns",
        "--out", tmp_path / "a",
    )  # fmt: skip
    assert adapted.code == 0, adapted.stderr
    assert (
        "warning: column 'marker' is not in the table: missing for every row ('Marker' may be "
        "it under another name: rename it to 'marker' in --data to use it)"
    ) in adapted.stdout + adapted.stderr


def test_a_command_without_allow_absent_columns_is_not_told_to_pass_it(workspace):
    """federate client advised --allow-absent-columns, which it does not take (a trial:
    "No such option '--allow-absent-columns' for federate client")."""
    from medadapt.data.option_words import command_flags
    from medadapt.errors import DataError
    from medadapt.modalities.bundle import BaseModel

    root, data, _ = workspace
    schema = BaseModel.load(root / "base").schema
    frame = pd.read_csv(data).drop(columns="marker")
    with command_flags(["--data", "--server"]), pytest.raises(DataError) as refused:
        schema.require_columns(frame)
    assert str(refused.value) == (  # a site that never measures it was told to rename
        "the model's feature column 'marker' is not in the table; add 'marker' as an "
        "empty column (read as not measured for every row)"
    )
    spelt = frame.assign(markerconcentration=1.0)  # spelt out: offered, the way a trial's
    with command_flags(["--data", "--server"]), pytest.raises(DataError) as refused:
        schema.require_columns(spelt)  # 'cholesterol' was for 'chol'
    assert str(refused.value) == (
        "the model's feature column 'marker' is not in the table (its "
        "'markerconcentration' may be 'marker'); rename the column in --data"
    )


def test_numeric_group_and_id_columns_keep_their_text(tmp_path):
    frame = clinical_table(240)
    frame["site"] = frame["site"].map({"A": 1, "B": 2, "C": 3})
    frame["patient_id"] = [f"{i:06d}" for i in range(len(frame))]
    data = tmp_path / "numeric_sites.csv"
    frame.to_csv(data, index=False)
    common = ["--data", str(data), "--label", "outcome", "--id-column", "patient_id"]
    assert run("train-base", *common, "--group-column", "site", "--groups", "1,2", "--out",
               str(tmp_path / "base")) == 0  # fmt: skip
    assert run("predict", "--base", str(tmp_path / "base"), "--data", str(data), "--out",
               str(tmp_path / "pred.csv")) == 0  # fmt: skip
    ids = pd.read_csv(tmp_path / "pred.csv", dtype=str)["patient_id"]
    assert ids.iloc[0] == "000000" and ids.iloc[-1] == f"{len(frame) - 1:06d}"


def test_a_wrong_group_column_does_not_list_every_patient_id(workspace, tmp_path):
    root, data, _ = workspace
    code, errors, _ = error_lines(
        "adapt", "--base", str(root / "base"), "--data", str(data), "--label", "outcome",
        "--group-column", "patient_id", "--group", "X", "--out", str(tmp_path / "x"),
    )  # fmt: skip
    assert code == 2
    assert errors == [  # the base's patient id column: said as such, no id listed
        "error: --group-column patient_id is the base model's patient id column (train-base "
        "--id-column): a group per patient says nothing of a site; name a column of sites or "
        "groups, or leave --group-column out"
    ]


def test_missing_sex_and_group_values_are_their_own_subgroup(tmp_path):
    frame = clinical_table(300, seed=3)
    frame.loc[frame.index[:12], "sex"] = None
    data = tmp_path / "blank_sex.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "eval.json"
    common = ["--data", str(data), "--label", "outcome"]
    assert run("train-base", *common, "--out", str(tmp_path / "base")) == 0
    assert (
        run("evaluate", "--base", str(tmp_path / "base"), *common, "--json", str(out)) == 0
    )  # fmt: skip (--data once: an option given twice is refused)
    assert "missing" in json.loads(out.read_text())["subgroups"]["sex"]


def test_evaluate_with_an_adapter_reports_the_base_model_on_the_same_patients(workspace, tmp_path):
    root, _, common = workspace
    out, report = tmp_path / "c.json", tmp_path / "c.html"
    assert run("evaluate", "--base", str(root / "base"), "--adapter", str(root / "adapter_c"),
               *common, "--json", str(out), "--report", str(report)) == 0  # fmt: skip
    result = json.loads(out.read_text())
    assert result["base_comparison"]["overall"]["n"] == result["n"]
    paired = result["base_comparison"]["versus_base"]  # the adapter minus the base, paired
    before = result["base_comparison"]["overall"]["auroc"]
    assert paired["metric"] == "auroc"
    assert paired["difference"] == pytest.approx(result["auroc"] - before, abs=1e-9)
    assert paired["ci"][0] <= paired["difference"] <= paired["ci"][1]
    assert result["adapter_training"]["group"] == "C"
    html = report.read_text()
    assert "Before the adapter, the base model alone scores AUROC" in html
    # the base names its patients (--id-column patient_id), one row each: the intervals
    # resample patients, said so (it read "Each row is taken as one patient")
    assert result["one_sample_per_patient"] == "yes" and "n_patients" not in result
    assert "a bootstrap over patients" in html and "Each patient has one of these rows." in html
    assert "taken as one patient" not in html
    assert "Paired on the same patients, the adapter changes AUROC by" in html
    for groups in result["subgroups"].values():  # no subgroup count of 1-4 is written
        for metrics in groups.values():
            assert not (isinstance(metrics["n"], int) and 0 < metrics["n"] < 5)


def test_adapt_and_evaluate_print_the_base_model_on_the_same_patients(workspace, tmp_path, capsys):
    """Did the adapter help? Both verbs print the base alone on the adapter's test patients
    and the paired difference, with the figures the JSON and the adapter record hold."""
    root, _, common = workspace
    capsys.readouterr()
    assert run("evaluate", "--base", str(root / "base"), "--adapter", str(root / "adapter_c"),
               *common, "--group-column", "site", "--group", "C") == 0  # fmt: skip
    printed = " ".join(capsys.readouterr().out.split())
    record = AdapterRecord.from_json(
        json.loads((root / "adapter_c" / "adapter.json").read_text())["metadata"]
    )
    before = record.base_metrics
    n = record.data_summary["n_test"]
    low, high = before["auroc_ci"]
    assert f"base model alone on the same {n} rows: AUROC {before['auroc']:.3f} " \
        f"({low:.3f}–{high:.3f})" in printed  # fmt: skip
    paired = record.versus_base
    assert paired["difference"] == pytest.approx(record.metrics["auroc"] - before["auroc"])
    assert f"the adapter changes AUROC by {paired['difference']:+.3f}" in printed
    assert paired["in_words"] in printed
    assert run("adapt", "--base", str(root / "base"), *common, "--group-column", "site",
               "--group", "C", "--out", str(tmp_path / "again")) == 0  # fmt: skip
    said = " ".join(capsys.readouterr().out.split())  # adapt prints the same, from its record
    assert f"base model alone on the same {n} rows: AUROC {before['auroc']:.3f} " in said
    assert paired["in_words"] in said
    # and beside it the base's AUROC on all the site's rows, as check-data reports it (a
    # trial read 0.726 there and 0.619 here, two figures of one model at one site)
    planned = tmp_path / "check.json"
    assert run("check-data", "--base", str(root / "base"), *common, "--group-column", "site",
               "--group", "C", "--json", str(planned)) == 0  # fmt: skip
    site = json.loads(planned.read_text())
    assert f"{site['auroc_at_site']:.3f}" != f"{before['auroc']:.3f}"  # else nothing to point at
    low, high = site["auroc_at_site_ci"]
    assert (f"on all {site['auroc_at_site_seen']} of this site it never saw, as check-data "
            f"reports it and the sample-size criteria plan on it: AUROC "
            f"{site['auroc_at_site']:.3f} ({low:.3f}–{high:.3f}); the {n} rows held out are a "
            "part of them, so their figure is the less certain") in said  # fmt: skip


def test_an_adapter_trained_with_another_seed_reports_what_evaluate_reports(workspace, tmp_path):
    """``--seed`` trains and splits; the intervals' resamples are evaluate's whatever the seed,
    so the adapter's record (and its card) and ``evaluate`` agree on the same held-out rows."""
    root, _, common = workspace
    adapter, out = tmp_path / "seed1", tmp_path / "e.json"
    assert run("adapt", "--base", str(root / "base"), *common, "--group-column", "site",
               "--group", "C", "--seed", "1", "--out", str(adapter)) == 0  # fmt: skip
    assert run("evaluate", "--base", str(root / "base"), "--adapter", str(adapter), *common,
               "--group-column", "site", "--group", "C", "--json", str(out)) == 0  # fmt: skip
    record = AdapterRecord.from_json(json.loads((adapter / "adapter.json").read_text())["metadata"])
    evaluated = json.loads(out.read_text())
    assert evaluated["n"] == record.data_summary["n_test"]
    assert evaluated["auroc_ci"] == pytest.approx(record.metrics["auroc_ci"])
    assert (
        evaluated["base_comparison"]["versus_base"]["in_words"] == (record.versus_base["in_words"])
    )


def test_predict_names_the_rows_far_outside_the_training_values(workspace, tmp_path, capsys):
    """A value in the wrong unit is scored like any other: predict says how many rows, and
    names the columns of each, so the clinician knows which predictions extrapolate."""
    root, _data, _ = workspace
    schema = json.loads((root / "base" / "model.json").read_text())["schema"]
    numeric = next(f for f in schema["features"] if f["kind"] == "numeric")
    rows = clinical_table(90, seed=4)  # patients like those the base trained on (sites A, B)
    rows = rows[rows["site"] == "A"].head(12).drop(columns=["outcome"])
    rows.loc[rows.index[3], numeric["name"]] = numeric["mean"] + 40 * numeric["std"]
    data, out = tmp_path / "new.csv", tmp_path / "pred.csv"
    rows.to_csv(data, index=False)
    capsys.readouterr()
    assert run("predict", "--base", str(root / "base"), "--data", str(data), "--out",
               str(out)) == 0  # fmt: skip
    assert (
        f"warning: 1 of 12 rows has a value over 6 SDs from the mean of the rows the base "
        f"model trained on, and further than any of them ('{numeric['name']}': 1 row, trained on"
    ) in capsys.readouterr().out
    flagged = pd.read_csv(out, keep_default_na=False)["outside_training"].tolist()
    assert flagged == ["", "", "", numeric["name"], *[""] * 8]


def test_predict_writes_parquet_when_asked(workspace, tmp_path):
    root, _data, _ = workspace
    rows = tmp_path / "new.csv"
    clinical_table(12, seed=4).drop(columns=["outcome"]).to_csv(rows, index=False)
    out = tmp_path / "pred.parquet"
    assert run("predict", "--base", str(root / "base"), "--data", str(rows), "--out", str(out)) == 0
    table = pd.read_parquet(out)
    assert len(table) == 12 and list(table.columns)[-5:] == [
        "predicted", "outside_training", "missing_features", "trained_on", "model"
    ]  # fmt: skip


def test_predict_names_a_category_spelt_in_another_case(workspace, tmp_path, capsys):
    """ "YES" for "yes" is scored as unseen: said as a coding slip, naming only the model's own
    category, never the file's values."""
    root, _data, _ = workspace
    table = clinical_table(20, seed=9).drop(columns=["outcome"])
    table["smoker"] = table["smoker"].str.upper()
    table.loc[0, "smoker"] = "pipe"  # really unseen: counted, not called a slip
    table.to_csv(tmp_path / "upper.csv", index=False)
    argv = ["--data", str(tmp_path / "upper.csv"), "--out", str(tmp_path / "p.csv")]
    assert run("predict", "--base", str(root / "base"), "--adapter", str(root / "adapter_c"),
               *argv) == 0  # fmt: skip
    said = capsys.readouterr()
    text = " ".join((said.out + said.err).split())
    unseen = int(table["smoker"].notna().sum())
    slips = unseen - 1
    # the same words as the Python API's warning and the reports' (one note per column)
    assert (
        f"warning: {unseen} of {len(table)} rows have a 'smoker' value the model never learned "
        f"(rare in its training rows, or coded otherwise) and are scored as 'unseen'; {slips} of "
        "them differ from a category it learned only in upper/lower case (e.g. " in text
    )
    assert "): recode 'smoker' as in training" in text
    assert "'PIPE'" not in text and "'pipe'" not in text and "'YES'" not in text


def test_predict_says_when_the_model_was_never_measured(workspace, tmp_path, capsys):
    """A base trained on 24 patients holds 5 out: no figure, and predict wrote 20 predictions
    without a word, although nothing measured how good they are. train-base itself says the
    19 training patients are too few for a new model."""
    root, data, _ = workspace
    small = tmp_path / "small.csv"
    clinical_table(24, seed=3).to_csv(small, index=False)
    assert run("train-base", "--data", str(small), "--label", "outcome", "--id-column",
               "patient_id", "--out", str(tmp_path / "small_base")) == 0  # fmt: skip
    features = len(json.loads((tmp_path / "small_base" / "model.json").read_text())["schema"]
                   ["features"])  # fmt: skip
    assert re.search(
        rf"warning: the rarer class has \d of the 19 training rows for {features} features "
        r"\(\d\.\d per feature; a new model usually needs at least 10 per feature, Peduzzi et al\. "
        r"1996, and Riley et al\.'s criteria often more\): a base model trained on so few is "
        r"likely to be overfitted; collect more rows, or adapt an existing model to these "
        r"\(medadapt adapt\)",
        capsys.readouterr().out,
    )
    out = tmp_path / "pred.csv"
    assert run("predict", "--base", str(tmp_path / "small_base"), "--data", str(data), "--out",
               str(out)) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert (
        "warning: the base model has no measured performance: its held-out test set had only 5 "
        "patients (at least 10 needed); nothing says how good these predictions are: score it "
        "with medadapt evaluate on labelled rows it did not train on before relying on them"
    ) in printed
    assert run("predict", "--base", str(root / "base"), "--adapter", str(root / "adapter_c"),
               "--data", str(data), "--out", str(out), "--force") == 0  # fmt: skip
    assert "no measured performance" not in capsys.readouterr().out


def test_predict_repeats_the_warning_recorded_about_the_models_whole_result(
    workspace, tmp_path, capsys
):
    """A trial predicted with a base whose AUROC of 1.000 had been warned about at train-base
    ("too good to be true"), and predict said nothing."""
    root, data, _ = workspace
    leaky = tmp_path / "leaky_base"
    shutil.copytree(root / "base", leaky)
    model = json.loads((leaky / "model.json").read_text())
    metrics = model["training"]["test_metrics"]
    note = "AUROC 1.000: too good to be true for most clinical questions; check for a leak"
    metrics["notes"] = {**(metrics.get("notes") or {}), "too_good": note}
    model["record_sha256"] = record_sha256(model)  # as train-base would have saved it
    (leaky / "model.json").write_text(json.dumps(model))
    out = tmp_path / "pred.csv"
    assert run("predict", "--base", str(leaky), "--data", str(data), "--out", str(out)) == 0
    assert f"warning: the recorded test result of the base model: {note}" in capsys.readouterr().out


def test_evaluate_says_when_an_adapter_is_scored_on_another_group(workspace, capsys):
    """An adapter for site C scored on site B: predict said so, evaluate printed B's figures
    as if they were the adapter's."""
    root, data, _ = workspace
    capsys.readouterr()
    assert run("evaluate", "--base", str(root / "base"), "--adapter", str(root / "adapter_c"),
               "--data", str(data), "--group-column", "site", "--group", "B") == 0  # fmt: skip
    printed = capsys.readouterr().out
    n = printed.split(" of the ")[1].split(" rows scored")[0] if " of the " in printed else "?"
    assert (
        f"warning: adapter 'c_bottleneck' is for site = 'C', but {n} of the {n} rows scored have "
        "another value of 'site': these figures describe it there, not where it was trained; to "
        "score that group only, pass --group-column site --group 'C'"
    ) in printed
    assert run("evaluate", "--base", str(root / "base"), "--adapter", str(root / "adapter_c"),
               "--data", str(data), "--group-column", "site", "--group", "C") == 0  # fmt: skip
    assert "is for site" not in capsys.readouterr().out


def test_a_group_or_group_column_in_another_case_is_named_as_meant(workspace):
    """``--group-column Site`` listed all the columns, ``--group c`` all the groups: the one
    meant comes first now."""
    root, data, _ = workspace
    base = ["evaluate", "--base", str(root / "base"), "--data", str(data)]
    code, errors, _ = error_lines(*base, "--group-column", "Site", "--group", "C")
    assert code == 2 and errors[0].startswith(
        "error: --group-column 'Site' is not in the table; did you mean 'site'? (columns: "
    )
    code, errors, _ = error_lines(*base, "--group-column", "site", "--group", "c")
    assert (code, errors) == (2, [
        "error: --group: group 'c' not found in column 'site'; did you mean 'C'? (it has: "
        "A, B, C)"])  # fmt: skip


def _others_add_up(used: str, held_out: int) -> None:
    """The sentence of rows used counts the others, and its counts add up: of the N in
    --data, N - held-out others, split among what trained on them."""
    import re

    total, others, *counts = map(int, re.findall(r"(\d+) (?:in --data|others|trained|the base"
                                                 r"|neither)", used))  # fmt: skip
    assert others == total - held_out and sum(counts) == others, used

"""A third modality through the command line, with nothing changed outside this folder:
``MEDADAPT_MODALITIES=tests.toy_modality`` makes medadapt import it, and train-base, adapt,
evaluate, predict and study run on ``*.signals`` files like on tables and images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.toy_modality.source import write_signals

ROOT = Path(__file__).resolve().parents[2]
# the rural site's device records the abnormal bump inverted: a base trained elsewhere
# scores it worse than chance, and an adapter trained there repairs it
SITES = {"north": 1.0, "south": 1.0, "rural": -1.0}


def medadapt(*args: str, plugin: str = "tests.toy_modality") -> subprocess.CompletedProcess:
    env = {**os.environ, "MEDADAPT_MODALITIES": plugin, "PYTHONPATH": str(ROOT),
           "COLUMNS": "200"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "medadapt.cli", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """A base on north and south, and a LoRA adapter for rural."""
    root = tmp_path_factory.mktemp("signals")
    data = write_signals(root / "ecg.signals", sites=SITES, per_site=150, seed=0)
    base, adapter = root / "base", root / "rural_lora"
    ok(
        medadapt(
            "train-base",
            "--data",
            data,
            "--group-column",
            "site",
            "--groups",
            "north,south",
            "--patch",
            "4",
            "--out",
            base,
            "--json",
            root / "base.json",
        )
    )
    ok(
        medadapt(
            "adapt",
            "--data",
            data,
            "--base",
            base,
            "--group-column",
            "site",
            "--group",
            "rural",
            "--method",
            "lora",
            "--out",
            adapter,
            "--json",
            root / "adapt.json",
        )
    )
    return {"root": root, "data": data, "base": base, "adapter": adapter}


def test_train_base_records_the_plugin_modality(trained):
    manifest = json.loads((trained["base"] / "model.json").read_text())
    summary = json.loads((trained["root"] / "base.json").read_text())
    assert manifest["kind"] == "signals"
    assert manifest["architecture"]["patch"] == 4  # the modality's own option reached it
    assert summary["n_train"] + summary["n_val"] + summary["n_test"] == 300
    assert summary["test"]["overall"]["auroc"] > 0.75


def test_adapter_repairs_the_inverted_site(trained):
    result = json.loads((trained["root"] / "adapt.json").read_text())
    assert result["kind"] == "signals"
    assert result["base_metrics"]["auroc"] < 0.5  # the base, on the same held-out patients
    assert result["metrics"]["auroc"] > result["base_metrics"]["auroc"] + 0.25
    assert (trained["adapter"] / "split.json").is_file()


def _model_on_data(trained: dict[str, Path]) -> tuple:
    """``--data``, ``--base`` and ``--adapter`` of the trained signals model."""
    return ("--data", trained["data"], "--base", trained["base"], "--adapter", trained["adapter"])


def test_evaluate_scores_only_the_adapters_held_out_recordings(trained):
    out = trained["root"] / "evaluation.json"
    ok(medadapt("evaluate", *_model_on_data(trained), "--group-column", "site", "--json", out))
    evaluation = json.loads(out.read_text())
    adapted = json.loads((trained["root"] / "adapt.json").read_text())
    assert evaluation["n"] == adapted["metrics"]["n"]
    assert evaluation["auroc"] == pytest.approx(adapted["metrics"]["auroc"], abs=1e-9)


def test_predict_writes_one_probability_per_recording(trained):
    out = trained["root"] / "predictions.csv"
    ok(medadapt("predict", *_model_on_data(trained), "--out", out))
    lines = out.read_text().splitlines()
    assert lines[0] == "p_abnormal,predicted,model"  # which model gave it, on every line
    assert lines[1].rsplit(",", 1)[1].startswith("adapter rural_lora (sha256:")
    assert len(lines) == 1 + 3 * 150  # every site's recordings


def test_study_runs_every_strategy_on_signals(trained):
    out = trained["root"] / "study"
    stdout = ok(medadapt("study", "--data", trained["data"], "--group-column", "site",
                         "--groups", "north,south", "--group", "rural", "--seeds", "2",
                         "--fractions", "0.5,1", "--methods", "base_only,head_only,lora,dora",
                         "--workers", "1", "--out", out))  # fmt: skip
    study = json.loads((out / "study.json").read_text())
    assert study["config"]["kind"] == "signals"
    assert {p["strategy"] for p in study["points"]} == {"base_only", "head_only", "lora", "dora"}
    assert len(study["points"]) == 2 + 3 * 2 * 2
    assert "target recordings" in " ".join(study["conclusions"]["sentences"])
    assert (out / "report.html").stat().st_size > 10_000
    assert "wrote" in stdout
    assert "note: With 2 seeds the interval over seeds is a t-interval on one degree of " in (
        " ".join(stdout.split())  # said in report.html only, before (a trial's --seeds 2)
    )


def test_options_of_another_modality_are_refused_by_name(trained, tmp_path):
    wrong = medadapt("train-base", "--data", trained["data"], "--d-token", "8", "--out",
                     tmp_path / "b")  # fmt: skip
    assert wrong.returncode != 0
    assert wrong.stderr.strip().splitlines() == [
        f"error: --d-token applies to tables, but --data {trained['data']} is a signals file: "
        "drop the option or pass a CSV, TSV or Parquet table"
    ]
    table = tmp_path / "t.csv"
    table.write_text("a,y\n1,0\n2,1\n")
    patch = medadapt("train-base", "--data", table, "--label", "y", "--patch", "4", "--out",
                     tmp_path / "c")  # fmt: skip
    assert patch.returncode != 0
    assert patch.stderr.strip().splitlines() == [
        f"error: --patch applies to signals, but --data {table} is a table: drop the option "
        "or pass a .signals file"
    ]
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_help_shows_the_plugins_panel():
    help_text = ok(medadapt("train-base", "--help"))
    assert "Signals" in help_text and "--patch" in help_text


def test_a_plugin_that_fails_while_registering_is_one_error_line():
    result = medadapt("train-base", "--help", plugin="tests.toy_modality.broken")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: MEDADAPT_MODALITIES names 'tests.toy_modality.broken', which cannot be imported "
        "(ValueError: signal format version 3 is not supported); fix the module name or unset "
        "the variable"
    )


def test_an_unknown_plugin_is_one_error_line(tmp_path):
    result = medadapt("train-base", "--help", plugin="no_such.module")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: MEDADAPT_MODALITIES names 'no_such.module', which cannot be imported"
    ), result.stderr

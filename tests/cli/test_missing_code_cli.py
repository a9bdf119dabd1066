"""``--missing-code``: the bundled heart file's cholesterol of 0 ("not measured") is named at
train-base until declared, declared codes are kept with the model, and a later site whose
zeros lie far below what the model trained on is warned about."""

from __future__ import annotations

import json
from importlib import resources

from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE

RAW = resources.files("medadapt.data") / "bundled" / "heart_disease_uci.csv"
COMMON = ["--data", str(RAW), "--label", "num", "--positive-above", "0", "--id-column", "id",
          "--group-column", "dataset", *QUICK_TABLE]  # fmt: skip


def _warnings(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("warning: column")]


def test_undeclared_zero_codes_are_named_until_declared_and_kept_with_the_model(tmp_path):
    result = succeeded(run_cli("train-base", *COMMON, "--groups", "Cleveland,VA Long Beach",
                               "--out", tmp_path / "b1"))  # fmt: skip
    said = _warnings(result.stdout)
    assert any(line.startswith("warning: column 'chol' is 0 in ") for line in said), said
    assert any(line.endswith(
        "far below all its other values: if 0 means 'not measured' there, pass --missing-code "
        "chol=0 (it is read as a measurement of 0 now)") for line in said)  # fmt: skip
    result = succeeded(
        run_cli(
            "train-base",
            *COMMON,
            "--groups",
            "Cleveland,VA Long Beach",
            "--missing-code",
            "chol=0,trestbps=0",
            "--out",
            tmp_path / "b2",
        )
    )
    assert _warnings(result.stdout) == []
    schema = json.loads((tmp_path / "b2" / "model.json").read_text())["schema"]
    assert schema["missing_codes"] == {"chol": 0.0, "trestbps": 0.0}


def test_a_site_whose_zeros_lie_far_below_the_training_values_is_warned_at_adapt(tmp_path):
    succeeded(run_cli("train-base", *COMMON, "--groups", "Cleveland,Hungary",
                      "--out", tmp_path / "base"))  # fmt: skip
    result = succeeded(run_cli(
        "adapt", "--base", tmp_path / "base", "--data", str(RAW), "--label", "num",
        "--group-column", "dataset", "--group", "Switzerland",
        "--out", tmp_path / "swiss",
    ))  # fmt: skip
    assert _warnings(result.stdout) == [
        "warning: column 'chol' is 0 in 86 of 86 rows here, over 3 SDs below the values the "
        "base model trained on: if 0 means 'not measured' here, the model reads it as a "
        "measurement; retrain the base with --missing-code chol=0, or leave those cells empty "
        "in --data (an empty cell is read as not measured)"
    ]


def test_a_code_for_the_label_leaves_its_rows_out(tmp_path):
    """It was refused ("the label is never a feature"), with no way to say that the label's
    -9 means "not recorded": its rows are left out now, as blank labels are (here every
    num of 0, which leaves --positive-above 0 nothing to split)."""
    result = run_cli("train-base", *COMMON, "--groups", "Cleveland", "--missing-code", "num=0",
                     "--out", tmp_path / "b")  # fmt: skip
    assert result.code == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: --positive-above 0: the label 'num' runs from 1 to 4 in the training rows, so "
        "every row would be positive (all are above it); choose a threshold from 1 up to below 4"
    )

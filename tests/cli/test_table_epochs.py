"""Tables take ``--epochs`` at train-base and adapt: a trial's table base stopped at its most
epochs, still improving, and was told of the Python API's ``TrainConfig`` (the command line
refused ``--epochs`` for tables). A study keeps early stopping for tables (its ``--epochs``
trains every image model exactly that many)."""

from __future__ import annotations

import json

from medadapt.data.heart import bundled_path
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import TINY_TABLE


def test_epochs_reach_a_table_s_base_and_adapter_and_study_refuses_them(tmp_path):
    base, adapter = tmp_path / "base", tmp_path / "adapter"
    said = succeeded(run_cli(
        "train-base", "--data", bundled_path(), "--label", "num", "--positive-above", "0",
        "--id-column", "id", "--group-column", "dataset", "--groups", "Cleveland,Hungary",
        *TINY_TABLE, "--epochs", "2", "--out", base,
    )).stdout  # fmt: skip
    training = json.loads((base / "model.json").read_text())["training"]
    assert training["train_config"]["epochs"] == 2 and training["epochs"] <= 2
    assert "Python API" not in said
    succeeded(run_cli(
        "adapt", "--base", base, "--data", bundled_path(), "--group-column", "dataset",
        "--group", "Switzerland", "--epochs", "1", "--out", adapter, "--json",
        tmp_path / "a.json",
    ))  # fmt: skip
    assert json.loads((tmp_path / "a.json").read_text())["epochs_run"] == 1
    refused = run_cli("study", "--data", bundled_path(), "--label", "num", "--positive-above",
                      "0", "--group-column", "dataset", "--groups", "Cleveland", "--group",
                      "Switzerland", "--epochs", "3", "--out", tmp_path / "s")  # fmt: skip
    assert error_line(refused) == (
        f"error: --epochs applies to image data, but --data {bundled_path()} is a table: a "
        "study of tables trains each model until its validation loss stops improving (early "
        "stopping), so it takes no --epochs; drop the option"
    )

"""What ``predict`` keys its rows by: a trial's base, trained without ``--id-column``, left its
``patient_id`` out as a record identifier, and the predictions were keyed by row number only,
so joining them back to the patients depended on the file's order being kept."""

from __future__ import annotations

import pandas as pd

from medadapt.data.heart import bundled_path
from medadapt.modalities.tabular import TabularOptions
from medadapt.workflows.train_base import train_base_job
from tests.cli.helpers import run_cli, succeeded


def test_a_record_identifier_train_base_left_out_keys_the_predictions_as_written(tmp_path):
    heart = pd.read_csv(bundled_path())
    frame = heart.rename(columns={"id": "patient_id"}).drop(columns=["num"])
    frame["disease"] = (heart["num"] > 0).astype(int)
    frame["patient_id"] = [f"P{i:05d}" for i in range(len(frame))]  # text, as many registries
    data, base = tmp_path / "train.csv", tmp_path / "base"
    frame.iloc[:400].to_csv(data, index=False)
    train_base_job(data=data, out=base, label="disease", n_boot=20, options=TabularOptions())
    new = tmp_path / "new.csv"
    frame.iloc[400:420].drop(columns=["disease"]).sample(frac=1, random_state=0).to_csv(
        new, index=False
    )
    out = tmp_path / "pred.csv"
    succeeded(run_cli("predict", "--base", base, "--data", new, "--out", out))
    written = pd.read_csv(out, dtype=str)
    assert list(written.columns)[:3] == ["patient_id", "p_1", "predicted"]
    assert written["patient_id"].tolist() == pd.read_csv(new, dtype=str)["patient_id"].tolist()
    unnamed = tmp_path / "no_ids.csv"  # without the column: each row's number, as before
    pd.read_csv(new).drop(columns=["patient_id"]).to_csv(unnamed, index=False)
    succeeded(run_cli("predict", "--base", base, "--data", unnamed, "--out", tmp_path / "r.csv"))
    assert pd.read_csv(tmp_path / "r.csv")["row"].tolist() == list(range(1, 21))

"""Two records of one patient under two ids (Hungary's rows 404 and 405 in the bundled heart
data are identical) never sit on both sides of an adapter's split: the copy is left out of the
test set, so ``adapt`` and a later ``evaluate`` on the same file score the same rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from medadapt.data.heart import bundled_path
from medadapt.modalities.tabular import TabularOptions
from medadapt.workflows.adapt import adapt_job
from medadapt.workflows.train_base import train_base_job
from tests.cli.helpers import run_cli

FEATURES = ["age", "sex", "dataset", "cp", "trestbps", "chol", "fbs", "restecg", "thalch",
            "exang", "oldpeak", "slope", "ca", "thal", "num"]  # fmt: skip


def test_adapt_and_evaluate_agree_when_a_patient_is_recorded_twice(tmp_path):
    frame = pd.read_csv(bundled_path())
    hungary = frame[frame["dataset"] == "Hungary"]
    assert hungary.duplicated(subset=FEATURES).any()  # the case under test is in the data
    train_base_job(data=bundled_path(), out=tmp_path / "base", label="num",
                   group_column="dataset", groups=["Cleveland"], id_column="id", n_boot=0,
                   options=TabularOptions(positive_above=0, d_token=16, n_blocks=1,
                                          n_heads=2))  # fmt: skip
    adapted = adapt_job(base_dir=tmp_path / "base", data=bundled_path(), out=tmp_path / "hu",
                        group_column="dataset", group="Hungary", method="head",
                        n_boot=0)  # fmt: skip
    split = json.loads((tmp_path / "hu" / "split.json").read_text())
    train, test = split["train_positions"], split["test_positions"]
    rows = frame[FEATURES].map(str).agg("|".join, axis=1).to_numpy()
    assert not np.isin(rows[test], rows[train]).any()  # no copy on both sides
    result = run_cli("evaluate", "--base", tmp_path / "base", "--adapter", tmp_path / "hu",
                     "--data", bundled_path(), "--group-column", "dataset", "--group", "Hungary",
                     "--json", tmp_path / "e.json")  # fmt: skip
    assert result.code == 0, result.stderr
    evaluated = json.loads((tmp_path / "e.json").read_text())
    assert evaluated["n"] == adapted["data_summary"]["n_test"] == len(test)
    assert evaluated["n_excluded_trained"] == {"adapter": len(train)}

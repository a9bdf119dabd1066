"""A base trained without ``--id-column`` on rows of repeated visits takes each row for a
patient; where the data still hold the repeating patient column, adapt, check-data and
evaluate say so. A trial's repeated visits (three rows a patient) were told the 220 test rows
were "enough for precise estimates", and shown a paired gain an id-aware base did not show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE


@pytest.fixture(scope="module")
def visits(tmp_path_factory):
    root = tmp_path_factory.mktemp("visits")
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, [0, 1, 2, 3, 4, 30]]
    frame["pid"] = [f"P{i:04d}" for i in range(len(frame))]
    frame["site"] = np.where(np.arange(len(frame)) % 2 == 0, "North", "South")
    rng = np.random.default_rng(0)
    repeated = pd.concat([frame] * 3, ignore_index=True)
    repeated.iloc[:, :5] *= rng.normal(1, 0.01, (len(repeated), 5))  # three visits a patient
    data = root / "visits.csv"
    repeated.to_csv(data, index=False)
    succeeded(run_cli("train-base", "--data", data, "--label", "target", "--group-column", "site",
                      "--groups", "North", *QUICK_TABLE, "--out", root / "base"))  # fmt: skip
    return root, data


def test_a_repeating_patient_column_the_base_ignores_is_said_where_patients_count(visits):
    root, data = visits
    said = (
        "warning: column 'pid' looks like a patient id and repeats (284 distinct in 852 rows: "
        "several rows per patient?), but the base model was trained without --id-column, so "
        "each row here is taken as a patient of its own: a patient's rows may fall on both "
        "sides of a split, and the intervals are too narrow; retrain the base with train-base "
        "--id-column pid"
    )
    on_south = ["--data", data, "--group-column", "site", "--group", "South"]
    checked = succeeded(run_cli("check-data", "--base", root / "base", *on_south))
    assert said in checked.stdout.splitlines(), checked.stdout
    adapted = succeeded(run_cli("adapt", "--base", root / "base", *on_south, "--method", "head",
                                "--out", root / "south"))  # fmt: skip
    assert said in adapted.stdout.splitlines(), adapted.stdout
    evaluated = succeeded(run_cli("evaluate", "--base", root / "base", *on_south))
    assert "column 'pid' looks like a patient id and repeats" in evaluated.stdout

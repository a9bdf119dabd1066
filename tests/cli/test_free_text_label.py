"""A free-text column named as the label: refused as a feature, it was taken as the outcome
without a word (a trial's ``--label notes``: four wordings became the classes of a model
whose AUROC, 0.530, was honestly no better than chance)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE

SAID = (
    "warning: label column 'notes' looks like free text (by its name; 3 classes): each "
    "wording becomes a class the model predicts; check that --label names the finding or "
    "outcome to predict"
)


def _table(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "age": rng.normal(60, 10, n).round(),
        "bp": rng.normal(130, 15, n).round(),
        "notes": rng.choice(["stable", "referred", "seen by GP"], n),
        "outcome": rng.choice(["no", "yes"], n),
    })  # fmt: skip


def test_train_base_warns_of_a_free_text_label_and_not_of_an_outcome(tmp_path):
    _table().to_csv(tmp_path / "t.csv", index=False)
    named = succeeded(run_cli("train-base", "--data", tmp_path / "t.csv", "--label", "notes",
                              *QUICK_TABLE, "--out", tmp_path / "b"))  # fmt: skip
    assert SAID in " ".join(named.stdout.split())
    outcome = succeeded(run_cli("train-base", "--data", tmp_path / "t.csv", "--label", "outcome",
                                *QUICK_TABLE, "--out", tmp_path / "o"))  # fmt: skip
    assert "label column" not in outcome.stdout  # (notes, a feature there, is dropped)


def test_the_python_api_warns_alike():
    with pytest.warns(UserWarning, match=r"^label column 'notes' looks like free text \(by its "):
        ma.TableSchema.infer(_table(), label="notes")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        ma.TableSchema.infer(_table().drop(columns="notes"), label="outcome")

"""Rows whose outcome is missing cannot train or test a model; each command that leaves them
out says how many, as one ``warning:`` line (and in its JSON): a clinician who sees "trained on
102 rows" must not have to guess where the other 63 went. Counts only, never a value."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE


def _said(n: int, of: int, whose: str = "") -> str:
    return (
        f"{n} of {whose}{of} rows have no value in label column 'y': left out (a missing "
        "outcome is never guessed)"
    )


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A measured outcome for two sites, every third row without it (23 of site A's 70, 27 of
    site B's 80)."""
    rng = np.random.default_rng(0)
    n = 150
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    frame = pd.DataFrame({
        "pid": [f"P{i:03d}" for i in range(n)], "x1": x1, "x2": x2,
        "site": ["A"] * 70 + ["B"] * 80, "y": 50 + 10 * x1 - 5 * x2 + rng.normal(size=n),
    })  # fmt: skip
    frame.loc[frame.index[1::3], "y"] = np.nan
    assert frame.groupby("site")["y"].apply(lambda y: int(y.isna().sum())).to_dict() == {
        "A": 23,
        "B": 27,
    }
    path = tmp_path_factory.mktemp("missing_labels") / "t.csv"
    frame.to_csv(path, index=False)
    return path


def _warnings(stdout: str) -> list[str]:
    return [line.removeprefix("warning: ") for line in stdout.splitlines()
            if line.startswith("warning: ")]  # fmt: skip


def test_every_command_says_how_many_rows_had_no_outcome(table, tmp_path):
    base, adapter = tmp_path / "base", tmp_path / "adapter"
    trained = succeeded(run_cli(
        "train-base", "--data", table, "--label", "y", "--id-column", "pid", "--group-column",
        "site", "--groups", "A", *QUICK_TABLE, "--out", base, "--json", tmp_path / "b.json",
    ))  # fmt: skip
    assert _warnings(trained.stdout) == [_said(23, 70)], trained.stdout
    assert json.loads((tmp_path / "b.json").read_text())["warnings"] == [_said(23, 70)]
    adapted = succeeded(run_cli(
        "adapt", "--base", base, "--data", table, "--label", "y", "--group-column", "site",
        "--group", "B", "--out", adapter,
    ))  # fmt: skip
    # counted among the group's rows (the file's other site's 23 are not B's: a trial read
    # "40 of the file's 569 rows" while scoring one site's 101)
    b = _said(27, 80).replace("of 80 rows", "of the 80 rows of site = B")
    assert b in _warnings(adapted.stdout), adapted.stdout
    evaluated = succeeded(run_cli(
        "evaluate", "--base", base, "--adapter", adapter, "--data", table, "--group-column",
        "site", "--group", "B", "--json", tmp_path / "e.json",
    ))  # fmt: skip
    assert _warnings(evaluated.stdout).count(b) == 1
    evaluation = json.loads((tmp_path / "e.json").read_text())
    assert b in evaluation["data_warnings"]
    whole = succeeded(run_cli("evaluate", "--base", base, "--data", table))  # no group chosen
    assert _said(50, 150, "the file's ") in _warnings(whole.stdout)
    assert evaluation["n"] == 16  # B's 53 labelled rows less the 37 the adapter trained on


def test_a_table_with_every_outcome_is_silent_about_it(table, tmp_path):
    complete = pd.read_csv(table).dropna(subset=["y"])
    complete.to_csv(tmp_path / "complete.csv", index=False)
    trained = succeeded(run_cli(
        "train-base", "--data", tmp_path / "complete.csv", "--label", "y", "--id-column", "pid",
        "--group-column", "site", "--groups", "A", *QUICK_TABLE, "--out", tmp_path / "base",
    ))  # fmt: skip
    assert not any("no value in label column" in w for w in _warnings(trained.stdout))

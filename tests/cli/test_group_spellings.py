"""A group left out that is spelt like a chosen one is said, not dropped silently.

The messy-tables trial: 'St Marys' (4 rows) beside 'St Mary' in --groups was left out of the
base's training rows without a word (groups differing only in case are refused already)."""

from __future__ import annotations

import json

import medadapt as ma
from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE


def test_a_misspelt_group_left_out_is_warned_about(tmp_path):
    heart = ma.load_heart_disease()
    heart.loc[heart.index[:4], "dataset"] = "Hungry"  # four Cleveland rows, misspelt
    heart.loc[heart.index[4:6], "dataset"] = "Clevelands"
    data = tmp_path / "heart.csv"
    heart.to_csv(data, index=False)
    common = ["--data", data, "--label", "num", "--positive-above", "0", "--id-column", "id",
              "--group-column", "dataset", *QUICK_TABLE]  # fmt: skip
    result = succeeded(run_cli("train-base", *common, "--groups", "Cleveland,Hungary",
                               "--out", tmp_path / "b"))  # fmt: skip
    assert (
        "warning: --groups: column 'dataset' also holds 'Clevelands' (2 rows, spelt like "
        "'Cleveland'), 'Hungry' (4 rows, spelt like 'Hungary'), not chosen: their rows are left "
        "out; if they are the same group misspelt, write each group one way in the file"
    ) in result.stdout + result.stderr
    other = succeeded(run_cli("train-base", *common, "--groups", "Switzerland",
                              "--out", tmp_path / "c"))  # fmt: skip
    assert "spelt like" not in other.stdout + other.stderr  # VA Long Beach is no misspelling


def test_a_group_given_with_spaces_around_it_is_read_and_stored_without_them(tmp_path):
    """A trial's ``--group "VA Long Beach  "`` matched the site's rows (the column is read
    without the spaces around a value) but was stored and echoed with the spaces: the
    registry read it as another group than ``VA Long Beach``."""
    data = tmp_path / "heart.csv"
    ma.load_heart_disease().to_csv(data, index=False)
    succeeded(run_cli("train-base", "--data", data, "--label", "num", "--positive-above", "0",
                      "--id-column", "id", "--group-column", "dataset", "--groups",
                      "Cleveland,Hungary", *QUICK_TABLE, "--out", tmp_path / "b"))  # fmt: skip
    result = succeeded(run_cli("adapt", "--base", tmp_path / "b", "--data", data,
                               "--group-column", "dataset", "--group", "  VA Long Beach  ",
                               "--method", "head", "--out", tmp_path / "a"))  # fmt: skip
    assert "held-out rows of dataset = VA Long Beach" in result.stdout
    assert "'  VA Long Beach" not in result.stdout + result.stderr
    split = json.loads((tmp_path / "a" / "split.json").read_text())
    assert split["group"] == "VA Long Beach"

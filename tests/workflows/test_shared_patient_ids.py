"""A patient of the site adapted to whose id also names rows of another site that trained the
base is that patient: kept out of the adapter's test set, and said. A trial's 20 patients of
site B with the ids of site A's were tested on without a word, and check-data called them
"patients it never saw"."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import medadapt as ma
from tests.cli.helpers import run_cli, succeeded

VA = "VA Long Beach"


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    root = tmp_path_factory.mktemp("shared_ids")
    heart = ma.load_heart_disease()
    cleveland = heart[heart["dataset"] == "Cleveland"]
    va = heart[heart["dataset"] == VA].copy()
    va.loc[va.index[:40], "id"] = cleveland["id"].to_numpy()[
        :40
    ]  # 40 of VA's under Cleveland's ids
    data = root / "shared.csv"
    pd.concat([cleveland, va]).to_csv(data, index=False)
    succeeded(run_cli("train-base", "--data", data, "--label", "num", "--id-column", "id",
                      "--group-column", "dataset", "--groups", "Cleveland",
                      "--out", root / "base"))  # fmt: skip
    return root, data, cleveland


def test_shared_ids_are_kept_out_of_the_adapters_test_set_and_said(shared, tmp_path):
    root, data, cleveland = shared
    trained_ids = set(cleveland["id"].to_numpy()[:40])
    result = succeeded(run_cli("adapt", "--base", root / "base", "--data", data,
                               "--group-column", "dataset", "--group", VA, "--method", "head",
                               "--out", tmp_path / "va"))  # fmt: skip
    warned = [line for line in result.stdout.splitlines() if "share ids" in line]
    assert len(warned) == 1 and warned[0].startswith("warning: "), result.stdout
    n = int(warned[0].removeprefix("warning: ").split()[0])
    assert 0 < n <= 40  # those of the 40 whose Cleveland rows trained the base
    assert warned[0].endswith(
        f"patients of dataset = {VA} ({n} rows) share ids with patients whose rows in other "
        "groups of --data trained the base model: taken for the same patients, they are kept "
        "out of the adapter's test set (trained on only); if patient ids are local to each "
        "site, make them unique (prefix the site) to test on them"
    )
    positions = json.loads((tmp_path / "va" / "split.json").read_text())["test_positions"]
    tested = set(pd.read_csv(data).iloc[positions]["id"])
    assert len(tested & trained_ids) <= 40 - n  # only those whose Cleveland rows did not train
    checked = succeeded(run_cli("check-data", "--base", root / "base", "--data", data,
                                "--group-column", "dataset", "--group", VA))  # fmt: skip
    assert warned[0] in checked.stdout.splitlines(), checked.stdout


def test_doubled_rows_at_the_site_are_said_at_adapt(shared, tmp_path):
    """A trial's site file with 30 doubled rows: train-base said such copies, adapt did not."""
    root, data, _ = shared
    frame = pd.read_csv(data)
    va = frame[frame["dataset"] == VA]
    doubled = tmp_path / "doubled.csv"
    pd.concat([frame, va.head(30)]).to_csv(doubled, index=False)
    result = succeeded(run_cli("adapt", "--base", root / "base", "--data", doubled,
                               "--group-column", "dataset", "--group", VA, "--method", "head",
                               "--out", tmp_path / "va"))  # fmt: skip
    said = [line for line in result.stdout.splitlines() if "exact cop" in line]
    assert all(line.startswith("warning: ") for line in said), result.stdout
    assert "training rows are exact copies of another row (every column the same)" in said[0]
    # and those that fell among the held-out rows, counted too: each copy said once
    assert len(said) == 2 and " held-out rows " in said[1], said
    assert sum(int(line.removeprefix("warning: ").split()[0]) for line in said) == 30


def test_adapt_json_masks_small_subgroup_cells(shared, tmp_path):
    """A trial's adapt.json held one woman's diagnosis at VA Long Beach ("n 1, n_positive
    1"), where train-base's, evaluate's and the study's JSON mask such counts."""
    root, data, _ = shared
    succeeded(run_cli("adapt", "--base", root / "base", "--data", data, "--group-column",
                      "dataset", "--group", VA, "--method", "head", "--out", tmp_path / "va",
                      "--json", tmp_path / "va.json", "--report",
                      tmp_path / "va.html"))  # fmt: skip
    groups = json.loads((tmp_path / "va.json").read_text())["test"]["subgroups"]
    counts = [cell[key] for cells in groups.values() for cell in cells.values()
              for key in ("n", "n_positive") if key in cell]  # fmt: skip
    assert counts and all(isinstance(n, str) or n >= 5 for n in counts), groups
    assert any(isinstance(n, str) for n in counts)  # VA's few women: masked, not written
    assert (tmp_path / "va.html").stat().st_size > 0

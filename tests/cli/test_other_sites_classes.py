"""A class the base model never learned, at another site of the file, does not stop the
adapter of a site that has only the model's classes; at the site adapted to, it is refused
counting that site's rows, with the way to learn it (a trial's refusal counted the whole
file's 244 'severe' rows for a site of 67, and an adapter of a site without any was refused
for another site's)."""

from __future__ import annotations

import numpy as np
import pytest

import medadapt as ma
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE

SEVERITY = ("--label", "severity", "--id-column", "id", "--group-column", "dataset")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """``heart.csv`` with 'severity' none/mild/severe (num 0, 1, 2 or more), VA's severe
    written mild, and a base trained at Hungary (no severe patient: classes none, mild)."""
    root = tmp_path_factory.mktemp("other_classes")
    heart = ma.load_heart_disease()
    heart["severity"] = np.select([heart["num"] == 0, heart["num"] == 1], ["none", "mild"],
                                  "severe")  # fmt: skip
    heart.loc[(heart["dataset"] == "VA Long Beach") & (heart["severity"] == "severe"),
              "severity"] = "mild"  # fmt: skip
    heart = heart.drop(columns=["num"])
    heart.to_csv(root / "heart.csv", index=False)
    succeeded(run_cli("train-base", "--data", root / "heart.csv", *SEVERITY, "--groups",
                      "Hungary", *QUICK_TABLE, "--out", root / "base"))  # fmt: skip
    counts = heart[heart["severity"] == "severe"].groupby("dataset").size().to_dict()
    return root, counts


def _adapt(root, data, group: str, out):
    """``adapt`` of the base trained at Hungary to ``group`` of ``data``, into ``out``."""
    return run_cli("adapt", "--base", root / "base", "--data", data, "--group-column", "dataset",
                   "--group", group, "--out", out)  # fmt: skip


def test_another_site_s_class_the_model_lacks_stops_no_adapter_here(files):
    root, counts = files
    assert "VA Long Beach" not in counts and counts["Cleveland"] > 0  # severe elsewhere only
    succeeded(_adapt(root, root / "heart.csv", "VA Long Beach", root / "va"))
    assert (root / "va").is_dir()


def test_a_class_the_model_lacks_at_the_site_is_counted_there_with_how_to_learn_it(files):
    root, counts = files
    said = error_line(_adapt(root, root / "heart.csv", "Switzerland", root / "ch"))
    assert said == (
        f"error: label column 'severity' has the value 'severe' ({counts['Switzerland']} rows) "
        "that the model was not trained on (its classes: 'mild', 'none'); correct those rows "
        "in --data, or drop them; a class the base model never learned needs a base trained "
        "on data that holds it (medadapt train-base)"
    )
    assert not (root / "ch").exists()
    assert counts["Switzerland"] < sum(counts.values())


def test_a_group_none_of_whose_rows_has_a_label_is_said_so_not_not_found(files, tmp_path):
    """A trial's site with every label blank was "not found in column 'hospital' (it has:
    Alpha, Beta, Central)": it is in the column, its rows without an outcome."""
    import pandas as pd

    root, _ = files
    heart = pd.read_csv(root / "heart.csv")
    va = heart["dataset"] == "VA Long Beach"
    heart.loc[va, "severity"] = None
    heart.to_csv(tmp_path / "blank.csv", index=False)
    said = error_line(_adapt(root, tmp_path / "blank.csv", "VA Long Beach", tmp_path / "va"))
    assert said == (
        f"error: --group: group 'VA Long Beach' of column 'dataset' has {int(va.sum())} rows, "
        "none with a value in label column 'severity' (a missing outcome is never guessed): "
        "fill in their outcome, or leave the group out"
    )

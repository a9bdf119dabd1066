"""A site file whose categorical columns were recoded since training (yes/no for true/false):
a training row recoded so is not recognised by its content, so ``evaluate`` would score it as
a test row and ``predict`` leave it unmarked; both say so (a trial's evaluate counted 99 of an
adapter's 140 training rows as test rows without a word)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import VA

pytestmark = pytest.mark.xdist_group("bad_inputs")  # the shared workspace, built once

RECODED = (
    "columns 'exang', 'fbs' hold, in most rows of --data, values the model never learned "
    "(recoded since training?): rows the base model and {who} trained on, recoded so, "
    "cannot be recognised by their content, so {scored} {misses}; recode them as in training "
    "to leave those rows out"
)


def _recoded(workspace, tmp_path) -> str:
    _, paths = workspace
    heart = pd.read_csv(paths["heart"])
    site = heart[heart["dataset"] == VA].copy()
    for column in ("fbs", "exang"):
        site[column] = site[column].map({True: "yes", False: "no"})
    written = tmp_path / "va_yes_no.csv"
    site.to_csv(written, index=False)
    return str(written)


def _warnings(result) -> list[str]:
    return [" ".join(line.split()) for line in result.stdout.splitlines()
            if line.startswith("warning: ")]  # fmt: skip


def test_evaluate_and_predict_say_that_recoded_training_rows_are_not_recognised(
    workspace, tmp_path
):
    _, paths = workspace
    data = _recoded(workspace, tmp_path)
    evaluated = succeeded(run_cli("evaluate", "--base", paths["base"], "--adapter",
                                  paths["adapter"], "--data", data))  # fmt: skip
    said = RECODED.format(who="the adapter", scored="this evaluation",
                          misses="may include them and overstate the model")  # fmt: skip
    assert f"warning: {said}" in _warnings(evaluated)
    predicted = succeeded(run_cli("predict", "--base", paths["base"], "--adapter",
                                  paths["adapter"], "--data", data, "--out",
                                  tmp_path / "p.csv"))  # fmt: skip
    said = RECODED.format(
        who="adapter 'va_long_beach_bottleneck'",
        scored="predict",
        misses="may not mark them in-sample",
    )
    assert f"warning: {said}" in _warnings(predicted)
    clean = succeeded(run_cli("evaluate", "--base", paths["base"], "--adapter", paths["adapter"],
                              "--data", paths["heart"], "--group", VA))  # fmt: skip
    assert not [w for w in _warnings(clean) if "recoded since training" in w]

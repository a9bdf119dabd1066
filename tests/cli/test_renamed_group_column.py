"""An adapter trained for one group, given a file whose group column has another name
(``dataset`` renamed ``hospital``): ``evaluate`` refuses to score every group's rows as that
group's without a word; ``--group-column`` names the column here, ``--all-groups`` scores
every row deliberately; ``predict`` scores every row and says so."""

from __future__ import annotations

import json

import pytest

from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import VA

pytestmark = pytest.mark.xdist_group("bad_inputs")  # the bad-input workspace, built once

ADAPTER = "adapter 'va_long_beach_bottleneck' is for dataset = 'VA Long Beach'"


def _evaluate(paths, *more):
    return run_cli("evaluate", "--base", paths["base"], "--adapter", paths["adapter"],
                   "--data", paths["renamed_group"], *more)  # fmt: skip


def _warnings(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("warning:")]


def test_evaluate_refuses_a_file_without_the_adapters_group_column(workspace):
    _, paths = workspace
    assert error_line(_evaluate(paths)) == (
        f"error: {ADAPTER}, but --data {paths['renamed_group']} has no column 'dataset' to pick "
        "that group's rows by: every row would be scored, whatever its group; pass "
        "--group-column COL --group 'VA Long Beach' naming the column that holds the group in "
        "this file (column 'hospital' holds 'VA Long Beach'), or --all-groups to score every "
        "row deliberately"
    )


def test_groups_without_a_group_column_name_the_column_holding_them(workspace, tmp_path):
    """A trial kept its sites in ``hospital``: the refusal said only "pass --group-column
    COL"; it names the column holding the group asked for, or one named like a site."""
    _, paths = workspace
    train = ("train-base", "--data", paths["renamed_group"], "--label", "num", "--id-column",
             "id", "--out", tmp_path / "b")  # fmt: skip
    assert error_line(run_cli(*train, "--groups", "Cleveland")) == (
        "error: --groups needs --group-column to know which column holds the groups (column "
        "'hospital' holds 'Cleveland'; pass --group-column hospital)"
    )
    assert error_line(run_cli(*train, "--groups", "Clevland")) == (
        "error: --groups needs --group-column to know which column holds the groups (column "
        "'hospital' may hold them: 4 values; pass --group-column hospital)"
    )
    assert not (tmp_path / "b").exists()


def test_adapt_without_group_lists_the_values_of_the_group_column_given(workspace, tmp_path):
    _, paths = workspace
    said = error_line(run_cli("adapt", "--base", paths["base"], "--data",
                              paths["renamed_group"], "--group-column", "hospital", "--out",
                              tmp_path / "a"))  # fmt: skip
    assert said.startswith("error: --group is required to adapt on a table: ")
    assert said.endswith(
        "; column 'hospital' holds: Cleveland, Hungary, Switzerland, VA Long Beach"
    )
    assert not (tmp_path / "a").exists()


def test_adapt_without_group_names_the_base_s_group_column_and_its_values(workspace, tmp_path):
    """A trial was told to "pass --group-column hospital", a column its base already named:
    only --group was missing."""
    _, paths = workspace
    said = error_line(run_cli("adapt", "--base", paths["base"], "--data", paths["heart"],
                              "--out", tmp_path / "a"))  # fmt: skip
    assert said == (
        "error: --group is required to adapt on a table: name the group to adapt to, a value "
        "of the base model's group column 'dataset' (train-base --group-column); column "
        "'dataset' holds: Cleveland, Hungary, Switzerland, VA Long Beach"
    )
    assert not (tmp_path / "a").exists()


def test_evaluate_scores_the_group_of_the_column_named_here(workspace, tmp_path):
    _, paths = workspace
    out = tmp_path / "e.json"
    result = succeeded(_evaluate(paths, "--group-column", "hospital", "--group", VA, "--json", out))
    evaluation = json.loads(out.read_text())
    assert evaluation["rows_used"].startswith(f"hospital = {VA}, minus ")
    assert not [w for w in _warnings(result.stdout) if ADAPTER in w]  # that group's rows only


def test_evaluate_says_which_rows_of_the_column_named_here_are_other_groups(workspace):
    _, paths = workspace
    result = succeeded(_evaluate(paths, "--group-column", "hospital"))
    (said,) = [w for w in _warnings(result.stdout) if ADAPTER in w]
    assert "rows scored have another value of 'hospital'" in said
    assert said.endswith(f"pass --group-column hospital --group '{VA}'")


def test_a_group_written_otherwise_here_is_not_sent_back_to_the_recorded_value(workspace, tmp_path):
    """A review: with the site written 'LB' in this file, the warning said to pass --group
    'VA Long Beach', which no row of the file holds."""
    import pandas as pd

    _, paths = workspace
    coded = pd.read_csv(paths["renamed_group"]).replace({"hospital": {VA: "LB"}})
    coded.to_csv(tmp_path / "lb.csv", index=False)
    result = succeeded(run_cli("evaluate", "--base", paths["base"], "--adapter",
                               paths["adapter"], "--data", tmp_path / "lb.csv",
                               "--group-column", "hospital", "--group", "LB"))  # fmt: skip
    (said,) = [w for w in _warnings(result.stdout) if ADAPTER in w]
    assert said == (
        f"warning: {ADAPTER}, and these figures are of hospital = 'LB': if that is the same "
        "group written otherwise in this file, they are the adapter's own; if not, they "
        "describe it on another group"
    )


def test_evaluate_all_groups_scores_every_row_and_says_so(workspace, tmp_path):
    _, paths = workspace
    out = tmp_path / "e.json"
    result = succeeded(_evaluate(paths, "--all-groups", "--json", out))
    said = (
        f"{ADAPTER}, but --data has no column 'dataset': every row was scored (--all-groups), "
        "so these figures describe it on whichever groups --data holds; to score that group "
        "only, pass --group-column COL --group 'VA Long Beach' naming the column that holds the "
        "group"
    )
    assert _warnings(result.stdout).count(f"warning: {said}") == 1
    evaluation = json.loads(out.read_text())
    assert evaluation["rows_used"].startswith("all rows") and said in evaluation["data_warnings"]


def test_predict_warns_once_that_rows_of_other_groups_may_be_scored(workspace, tmp_path):
    _, paths = workspace
    result = succeeded(run_cli(
        "predict", "--base", paths["base"], "--adapter", paths["adapter"], "--data",
        paths["renamed_group"], "--out", tmp_path / "p.csv",
    ))  # fmt: skip
    said = (
        f"warning: {ADAPTER}, but --data has no column 'dataset': rows of other groups cannot "
        "be told apart and may be scored with it; to score only that group, keep only its rows "
        "in --data"
    )
    assert _warnings(result.stdout).count(said) == 1, result.stdout
    assert "wrote 920 rows: 866 predictions, 54 left blank" in result.stdout  # not refused

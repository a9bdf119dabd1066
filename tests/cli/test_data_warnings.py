"""What a command notices in the data it reads is said once, as one ``warning:`` line (and in
the JSON it writes), whichever command reads it: counts and column names, never a value."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE, VA
from tests.workflows.test_image_formats import UNMEASURED

pytestmark = pytest.mark.xdist_group("bad_inputs")  # the bad-input workspace, built once

INFINITE = (
    "warning: 4 values of column 'chol' are infinite or beyond 1e+15 (not a measurement): "
    "read as missing"
)
OTHER_GROUPS = (
    "warning: adapter 'va_long_beach_bottleneck' is for dataset = 'VA Long Beach', but 720 of "
    "920 rows have another value of 'dataset': they are scored with it too; to score only that "
    "group, keep only its rows in --data"
)
NO_GROUP_COLUMN = (
    "warning: adapter 'va_long_beach_bottleneck' is for dataset = 'VA Long Beach', but --data "
    "has no column 'dataset': rows of other groups cannot be told apart and may be scored with "
    "it; to score only that group, keep only its rows in --data"
)


def mostly_missing(lacking: int, n: int) -> str:
    """The warning for the rows that lack 7 or more of the model's 13 features as the base
    reads them (53 of VA Long Beach's 200 rows, 54 of all 920; ``serve`` puts a note on each
    of their answers), ``lacking`` of ``n`` rows scored."""
    return (
        f"warning: {lacking} of {n} rows lack more than half of the model's 13 features (read "
        "as 'not measured', never imputed): their predictions rest on the few left; fill in "
        "the others before relying on them"
    )


def left_blank(lacking: int, n: int) -> str:
    """``predict``'s warning for the same rows: their predictions left blank, as ``serve``
    withholds them (a trial's CSV said "No" where the API answered null)."""
    return (
        f"warning: {lacking} of {n} rows lack more than half of the model's 13 features (read "
        "as 'not measured', never imputed): their predictions were left blank, as serve "
        "withholds them; fill in the others, or pass --score-sparse to predict them anyway"
    )


def _warnings(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("warning:")]


def _predict_warnings(stdout: str) -> list[str]:
    """The warnings but the one counting rows the models trained on (the workspace predicts
    on the files they trained on: said in test_predict_in_sample) and the adapter's recorded
    test result (its threshold warning: said in tests/registry/test_worse_than_base.py)."""
    return [line for line in _warnings(stdout)
            if "in-sample" not in line and "recorded test result" not in line]  # fmt: skip


def far_cholesterol(n: int) -> str:
    """The start of the warning about the one patient whose cholesterol (700, a VA Long Beach
    patient's in the file) lies over 6 SDs from the base's training rows, and further than
    any of them, among ``n`` rows scored."""
    return (
        f"1 of {n} rows has a value over 6 SDs from the mean of the rows the base model trained "
        "on, and further than any of them ('chol': 1 row, trained on "
    )


def _train_base(paths, out):
    return ["train-base", "--data", paths["inf"], "--label", "num", "--positive-above", "0",
            "--id-column", "id", "--group-column", "dataset", "--groups", "Cleveland,Hungary",
            *QUICK_TABLE, "--out", out]  # fmt: skip


def _adapt(paths, out):
    return ["adapt", "--base", paths["base"], "--data", paths["inf"], "--label", "num",
            "--group-column", "dataset", "--group", "Cleveland", "--out", out]  # fmt: skip


@pytest.mark.parametrize("command", [_train_base, _adapt], ids=["train-base", "adapt"])
def test_training_says_once_that_infinite_values_are_read_as_missing(workspace, tmp_path, command):
    _, paths = workspace
    summary_file = tmp_path / "summary.json"
    result = succeeded(run_cli(*command(paths, tmp_path / "model"), "--json", summary_file))
    assert _warnings(result.stdout).count(INFINITE) == 1, result.stdout
    summary = json.loads(summary_file.read_text())
    assert summary["warnings"].count(INFINITE.removeprefix("warning: ")) == 1
    if command is _adapt:  # its counts grouped as the sample-size line above groups them
        said = " ".join(result.stdout.split())
        assert f"{summary['trainable_params']:,} trainable parameters; " in said
        from medadapt.cli.verbs import _epochs_said  # as train-base says it

        assert summary["epochs_run"] and summary["best_epoch"]
        assert f"{_epochs_said(summary)}; " in said  # (a trial's two runs stopped alike, unsaid)
        if summary["n_val"]:  # (a trial read "trained on 29 rows" of 23 it learned from)
            assert f"rows, {summary['n_val']} of them set aside to choose when to stop (" in said
        assert f"{summary['adapter_bytes']:,} bytes; saved" in said
        # the name the registry will give it, said (a trial looked for "site_b" in vain)
        assert (
            "as adapter 'cleveland_bottleneck' (the name registry add gives it unless --name "
            "says another)"
        ) in said


def test_evaluate_says_once_that_infinite_values_are_read_as_missing(workspace, tmp_path):
    _, paths = workspace
    result = succeeded(run_cli(
        "evaluate", "--base", paths["base"], "--data", paths["inf"], "--json", tmp_path / "e.json",
    ))  # fmt: skip
    assert _warnings(result.stdout).count(INFINITE) == 1
    evaluation = json.loads((tmp_path / "e.json").read_text())
    said = evaluation["data_warnings"]
    [blend] = [w for w in said if "blend the two" in w]  # the base's sites and the others
    assert blend.startswith(f"the {evaluation['n']} rows scored mix ")
    infinite, mostly, far = [w for w in said if w != blend]
    assert infinite == INFINITE.removeprefix("warning: ")
    # evaluate says that predict and serve answer none of them, though its figures count them
    scored = mostly_missing(54, evaluation["n"]).removeprefix("warning: ")
    assert mostly == scored.replace(
        "; fill in the others",
        "; predict leaves them blank and serve withholds them (unless --score-sparse), yet "
        "these figures include them: they describe 54 more rows than the service answers; "
        "fill in the others",
    )
    assert far.startswith(far_cholesterol(evaluation["n"]))  # among the rows scored


def test_study_says_once_that_infinite_values_are_read_as_missing(workspace, tmp_path):
    _, paths = workspace
    result = succeeded(run_cli(
        "study", "--data", paths["inf"], "--base", paths["base"], "--label", "num",
        "--positive-above", "0", "--id-column", "id", "--group-column", "dataset",
        "--group", VA, "--methods", "base_only", "--fractions", "1", "--seeds", "1",
        "--n-boot", "50", "--workers", "1", "--out", tmp_path / "s",
    ))  # fmt: skip
    assert _warnings(result.stdout).count(INFINITE) == 1, result.stdout
    study = json.loads((tmp_path / "s" / "study.json").read_text())
    messages = [finding["message"] for finding in study["sufficiency"]]
    assert messages.count(INFINITE.removeprefix("warning: ")) == 1


def test_predict_says_once_that_infinite_values_are_read_as_missing(workspace, tmp_path):
    _, paths = workspace
    result = succeeded(run_cli(
        "predict", "--base", paths["base"], "--data", paths["inf"], "--out", tmp_path / "p.csv",
    ))  # fmt: skip
    assert _warnings(result.stdout).count(INFINITE) == 1


def test_predict_warns_that_an_adapter_scores_rows_of_other_groups(workspace, tmp_path):
    _, paths = workspace
    out = tmp_path / "p.csv"
    result = succeeded(run_cli(
        "predict", "--base", paths["base"], "--adapter", paths["adapter"], "--data",
        paths["far"], "--out", out,
    ))  # fmt: skip
    mostly, far, other_groups = _predict_warnings(result.stdout)
    assert far.startswith(f"warning: {far_cholesterol(920)}") and other_groups == OTHER_GROUPS
    assert mostly == left_blank(54, 920)
    assert len(pd.read_csv(out)) == 920  # said, not refused


def test_predict_says_nothing_of_groups_on_the_adapters_own_group(workspace, tmp_path):
    _, paths = workspace
    result = succeeded(run_cli(
        "predict", "--base", paths["base"], "--adapter", paths["adapter"], "--data", paths["va"],
        "--out", tmp_path / "p.csv",
    ))  # fmt: skip
    assert _predict_warnings(result.stdout) == [left_blank(53, 200)]  # nothing of groups


def test_predict_says_it_cannot_tell_groups_without_the_group_column(workspace, tmp_path):
    """Every row is scored, as before, but no longer without a word: nothing tells the
    adapter's group's rows from the others'."""
    _, paths = workspace
    no_groups = tmp_path / "no_groups.csv"
    pd.read_csv(paths["far"]).drop(columns=["dataset"]).to_csv(no_groups, index=False)
    result = succeeded(run_cli(
        "predict", "--base", paths["base"], "--adapter", paths["adapter"], "--data", no_groups,
        "--out", tmp_path / "p.csv",
    ))  # fmt: skip
    mostly, far, groups = _predict_warnings(result.stdout)  # the one cholesterol of 700
    assert far.startswith(f"warning: {far_cholesterol(920)}") and mostly == left_blank(54, 920)
    assert groups == NO_GROUP_COLUMN


def test_predict_with_the_base_alone_says_nothing_of_groups(workspace, tmp_path):
    _, paths = workspace
    result = succeeded(run_cli(
        "predict", "--base", paths["base"], "--data", paths["far"], "--out", tmp_path / "p.csv",
    ))  # fmt: skip
    mostly, far = _predict_warnings(result.stdout)  # the one cholesterol of 700; no groups
    assert far.startswith(f"warning: {far_cholesterol(920)}") and mostly == left_blank(54, 920)


def test_predict_on_a_folder_follows_on_error_for_files_it_does_not_read(workspace, tmp_path):
    """A .tif and a text file in the folder were left out with a warning and exit 0, where
    evaluate and train-base refuse such a file by name: predict now refuses it too, or with
    ``--on-error skip`` leaves it out and lists it; a link to nothing is said, not refused
    (as beside class folders)."""
    _, paths = workspace
    folder = tmp_path / "scans"
    folder.mkdir()
    pngs = sorted((paths["png_dir"] / "normal").glob("*.png"))[:2]
    for png in pngs:
        (folder / png.name).write_bytes(png.read_bytes())
    (folder / "scan.tif").write_bytes(pngs[0].read_bytes())
    (folder / "notes.txt").write_text("read me\n")
    (folder / "gone.png").symlink_to(tmp_path / "nowhere.png")
    predict = ("predict", "--base", paths["image_base"], "--data", folder, "--out")
    refused = run_cli(*predict, tmp_path / "p.csv")
    assert error_line(refused) == (
        f"error: {folder / 'notes.txt'} has an unknown file type '.txt': medadapt reads .png, "
        ".jpg, .jpeg, .dcm, .dicom, .nii, .nii.gz and DICOM under any name (recognised by its "
        "first bytes); remove or convert the file, or pass --on-error skip to leave it out"
    )
    assert not (tmp_path / "p.csv").exists()
    result = succeeded(run_cli(*predict, tmp_path / "p.csv", "--on-error", "skip"))
    reads = ".png, .jpg, .jpeg, .dcm, .dicom, .nii, .nii.gz and DICOM under any name"
    said = result.stdout.splitlines()
    for name, suffix in (("notes.txt", ".txt"), ("scan.tif", ".tif")):
        assert (
            f"skipped {folder / name}: unknown file type {suffix!r} (medadapt reads {reads})"
            in (said)
        )
    assert "2 files left out (--on-error skip): 2 not an image (unknown file type)" in said
    assert _warnings(result.stdout) == [
        UNMEASURED.format(held_out="8 images"),  # the workspace's tiny image base
        f"warning: 1 link in {folder} leads to no file and was not read: fix or remove it",
    ]
    assert len(pd.read_csv(tmp_path / "p.csv")) == 2


def test_predict_refuses_an_empty_path_cell_instead_of_leaving_its_row_out(workspace, tmp_path):
    _, paths = workspace
    table = pd.read_csv(paths["png_csv"])
    table.loc[3, "path"] = ""
    table.to_csv(tmp_path / "cases.csv", index=False)
    result = run_cli("predict", "--base", paths["image_base"], "--data", tmp_path / "cases.csv",
                     "--out", tmp_path / "p.csv")  # fmt: skip
    assert result.code == 2
    assert result.stderr.splitlines() == [
        f"error: empty 'path' (line 5 of {tmp_path / 'cases.csv'}): fill it or drop the row"
    ]
    assert not (tmp_path / "p.csv").exists()

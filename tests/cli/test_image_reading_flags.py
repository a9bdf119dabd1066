"""A new user's trial on a path CSV of PNGs: each refusal names a flag of the command that
prints it (check-data said "pass --on-error skip", "--path-column file" and "--label", none of
which it took; it takes them now), missing files are counted, and a file left out is named as
its refusal names it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import TINY_IMAGE
from tests.train.image_data import write_png_csv

MISSING = ("images/A_normal_0.png", "images/A_mass_13.png", "images/A_mass_15.png")


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> dict[str, Path]:
    """A tiny image base trained on ``png/cases.csv`` and the CSVs the user tried."""
    root = tmp_path_factory.mktemp("trial")
    cases = write_png_csv(root / "png", {"A": {"normal": 10, "mass": 10}}, ["normal", "mass"])
    succeeded(run_cli("train-base", "--data", cases, *TINY_IMAGE, "--epochs", "1",
                      "--out", root / "base"))  # fmt: skip
    text = cases.read_text()
    paths = {"root": root, "base": root / "base", "cases": cases}
    for name, header in (("file", "file,label,site"), ("diagnosis", "path,diagnosis,site")):
        paths[name] = root / "png" / f"{name}.csv"
        paths[name].write_text(text.replace("path,label,site", header, 1))
    paths["missing"] = root / "png" / "missing.csv"
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.split(",")[0] in MISSING:
            lines[i] = line.replace("images/A_", "images/gone_A_", 1)
    paths["missing"].write_text("".join(lines))
    shutil.copytree(root / "png" / "images", root / "bad" / "images")
    shutil.copy(cases, root / "bad" / "cases.csv")
    corrupt = root / "bad" / "images" / "A_mass_14.png"
    corrupt.write_bytes(corrupt.read_bytes()[:60])  # a copy that did not finish
    paths["corrupt"] = root / "bad" / "cases.csv"
    return paths


def _said(trial: dict[str, Path], case: str) -> str:
    png, bad = trial["root"] / "png", trial["root"] / "bad"
    return {
        "corrupt": (
            f"error: cannot read {bad}/images/A_mass_14.png (line 16 of {bad}/cases.csv): "
            "unreadable (a damaged PNG file; "
        ),
        "missing": (
            f"error: 3 of 20 image files listed in {trial['missing']} do not exist (first: "
            f"{png}/images/gone_A_normal_0.png; relative paths are read from the CSV's folder, "
            f"{png}): correct their paths or restore them, or pass --on-error skip to leave "
            "them out"
        ),
        "file": (
            f"error: --data {trial['file']} has no column 'path' of image paths; its column "
            "'file' holds image files: pass --path-column file"
        ),
        "diagnosis": (
            f"error: {trial['diagnosis']} has no label column 'label' (it has path, diagnosis, "
            "site); its column 'diagnosis' holds the model's classes (normal, mass): pass "
            "--label diagnosis"
        ),
    }[case]


def _flags(verb: str) -> set[str]:
    """Every flag ``medadapt VERB`` takes."""
    import typer

    from medadapt.cli.main import _register_commands, app

    _register_commands()
    command = typer.main.get_command(app).commands[verb]  # type: ignore[attr-defined]
    return {flag for p in command.params for flag in (*p.opts, *p.secondary_opts)}


@pytest.mark.parametrize("case", ["corrupt", "missing", "file", "diagnosis"])
def test_check_data_names_only_its_own_flags_and_each_gets_past_the_refusal(trial, case):
    argv = ["check-data", "--data", trial[case], "--base", trial["base"]]
    said = error_line(run_cli(*argv))
    assert said.startswith(_said(trial, case))
    assert set(re.findall(r"--[a-z][a-z-]+", said)) <= _flags("check-data")
    for flag, value in re.findall(r"pass (--[a-z][a-z-]+) ([\w.-]+)", said):
        result = succeeded(run_cli(*argv, flag, value))
        assert " images of --data " in " ".join(result.stdout.split())


def test_adapt_and_evaluate_name_the_column_that_holds_the_classes_and_take_it(trial, tmp_path):
    """They said "name the columns path,label[,group], or pass --path-column / --label",
    and did not name 'diagnosis'."""
    evaluate = ["evaluate", "--base", trial["base"], "--data", trial["diagnosis"]]
    assert error_line(run_cli(*evaluate)) == (
        f"error: {trial['diagnosis']} has no label column 'label' (it has path, diagnosis, "
        "site); its column 'diagnosis' holds the model's classes (normal, mass): pass --label "
        "diagnosis"
    )
    succeeded(run_cli(*evaluate, "--label", "diagnosis"))
    adapt = ["adapt", "--base", trial["base"], "--data", trial["diagnosis"], "--method", "head",
             "--epochs", "1", "--out", tmp_path / "a"]  # fmt: skip
    assert error_line(run_cli(*adapt, "--label", "nosuch")).endswith(
        "holds the model's classes (normal, mass): pass --label diagnosis"
    )


def test_train_base_counts_the_missing_images_and_says_where_it_looked(trial, tmp_path):
    """It said "cannot read .../A_normal_0.png: file not found" of the first alone."""
    result = run_cli("train-base", "--data", trial["missing"], *TINY_IMAGE, "--epochs", "1",
                     "--out", tmp_path / "b")  # fmt: skip
    assert error_line(result) == _said(trial, "missing")
    assert not (tmp_path / "b").exists()


def test_predict_names_a_skipped_image_as_its_refusal_did_and_takes_path_column(trial, tmp_path):
    """``skipped images/A_mass_14.png`` (relative to the CSV's folder) after the refusal
    named ``.../bad/images/A_mass_14.png``; "pass --path-column file" was no predict option."""
    predict = ["predict", "--base", trial["base"], "--out", tmp_path / "p.csv"]
    refused = error_line(run_cli(*predict, "--data", trial["corrupt"]))
    named = re.match(r"error: cannot read (\S+): ", refused).group(1)
    assert named == f"{trial['root']}/bad/images/A_mass_14.png"
    result = succeeded(run_cli(*predict, "--data", trial["corrupt"], "--on-error", "skip"))
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("skipped ")]
    assert line.startswith(f"skipped {named}: unreadable (a damaged PNG file; ")
    said = error_line(run_cli(*predict, "--data", trial["file"], "--force"))
    assert said.endswith("pass --path-column file")
    result = succeeded(run_cli(*predict, "--data", trial["file"], "--force", "--path-column",
                               "file"))  # fmt: skip
    assert "wrote 20 predictions" in result.stdout


def test_train_base_given_a_label_column_the_csv_lacks_names_its_label_column(tmp_path):
    """A trial's ``--label diagnosis`` on a CSV of path,label,site,patient was told to "pass
    --label naming the column of the labels", where adapt names the column to pass."""
    cases = tmp_path / "cases.csv"
    cases.write_text("path,label,site,patient\na.png,normal,A,p1\n")
    said = error_line(run_cli("train-base", "--data", cases, "--label", "diagnosis",
                              "--out", tmp_path / "b"))  # fmt: skip
    assert said == (
        f"error: {cases} has no column 'diagnosis' (it has path, label, site, patient): name "
        "the columns path,label[,group], or pass --label label (its column 'label')"
    )
    assert not (tmp_path / "b").exists()


def test_a_label_of_another_column_beside_a_label_column_of_classes_is_warned_of(tmp_path):
    """A trial's ``--label site`` trained a model to tell the sites apart without a word,
    where the CSV's column 'label' held the classes."""
    from medadapt.data.image_sources import csv_entries

    csv = write_png_csv(tmp_path, {"A": {"normal": 3, "mass": 3}, "B": {"normal": 3}},
                        ["normal", "mass"])  # fmt: skip
    _, notes = csv_entries(csv, "path", "site", None)
    assert notes == [
        f"{csv}: the classes are read from column 'site' (--label), but its column 'label' "
        "holds 2 classes too (mass, normal): if those are what the model should predict, pass "
        "--label label"
    ]
    assert csv_entries(csv, "path", "label", None)[1] == []  # the usual column: nothing said

"""An outcome written as not known is never a class, nor a negative.

The messy-tables trial: a 0/1 label with -9 in 10 rows trained "3 classes ('-9', '0', '1')",
and following the task line's hint (--positive-above 0) counted the -9 rows as negatives
without a word; --missing-code readmitted=-9 was refused ("the label is never a feature").
A label 'unknown' in 20 rows trained a class 'unknown', and --positive-class yes was refused
with advice for numeric labels only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE

UNKNOWN = (
    "warning: label column 'y' says 'unknown' in 20 of 920 rows: the outcome is not known "
    "there, so those rows are left out, as rows without a label are (a missing outcome is "
    "never guessed)"
)
CODE = (
    "warning: label column 'y' is -9 in 10 of 920 rows, below all its other values: if -9 "
    "means 'not recorded', pass --missing-code y=-9 to leave those rows out (it is read as an "
    "outcome now)"
)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("unknown_outcomes")
    heart = ma.load_heart_disease()
    words = heart.assign(y=np.where(heart.pop("num") > 0, "yes", "no"))
    words.loc[words.index[:20], "y"] = "unknown"
    coded = ma.load_heart_disease()
    coded = coded.assign(y=(coded.pop("num") > 0).astype(int))
    coded.loc[coded.index[:10], "y"] = -9
    words.to_csv(root / "words.csv", index=False)
    coded.to_csv(root / "coded.csv", index=False)
    return {"root": root, "words": words, "coded": coded}


def _train(files, name: str, *flags: str):
    out = files["root"] / f"base_{abs(hash(flags))}"
    result = succeeded(run_cli("train-base", "--data", files["root"] / name, "--label", "y",
                               "--id-column", "id", *flags, *QUICK_TABLE,
                               "--out", out))  # fmt: skip
    return result, out


def test_unknown_is_left_out_and_positive_class_chooses_between_the_two_left(files):
    result, out = _train(files, "words.csv", "--positive-class", "yes")
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "task: binary, positive class 'yes' (of 'no', 'yes') set by --positive-class for --label y"
    )
    assert UNKNOWN in lines
    assert not any("have no value in label column" in line for line in lines)  # said once
    assert ma.BaseModel.load(out).schema.classes == ["no", "yes"]


def test_a_code_in_the_label_is_said_and_missing_code_leaves_its_rows_out(files):
    multiclass, _ = _train(files, "coded.csv")
    assert CODE in multiclass.stdout.splitlines()
    thresholded, _ = _train(files, "coded.csv", "--positive-above", "0")
    assert CODE in thresholded.stdout.splitlines()  # -9 is not silently a negative
    declared, out = _train(files, "coded.csv", "--missing-code", "y=-9")
    lines = declared.stdout.splitlines()
    assert lines[0] == "task: binary, positive class '1' (of '0', '1') inferred from --label y"
    assert "warning: 10 of 920 rows have no value in label column 'y': left out (a missing " \
        "outcome is never guessed)" in lines  # fmt: skip
    root = str(files["root"])  # its path may hold "-9" ("pytest-93"): not the code
    assert not any("-9" in line.replace(root, "ROOT") for line in lines)
    # the model keeps the code: evaluate leaves the same rows out of any file
    evaluated = succeeded(run_cli("evaluate", "--base", out, "--data", files["root"] / "coded.csv"))
    assert "'-9'" not in evaluated.stdout
    assert "10 of" in evaluated.stdout and "have no value in label column 'y'" in evaluated.stdout


def test_the_python_api_says_it_and_reads_them_as_missing(files):
    with pytest.warns(UserWarning, match=r"^label column 'y' says 'unknown' in 20 of 920 rows"):
        schema = ma.TableSchema.infer(files["words"], label="y", id_column="id")
    assert schema.classes == ["no", "yes"]
    with pytest.warns(UserWarning, match=r"pass missing_codes=\{'y': -9\} to leave those rows"):
        ma.TableSchema.infer(files["coded"], label="y", id_column="id")
    schema = ma.TableSchema.infer(files["coded"], label="y", id_column="id",
                                  missing_codes={"y": -9})  # fmt: skip
    assert schema.task == "binary" and schema.classes == ["0", "1"]
    assert len(schema.labelled_rows(files["coded"])) == 910
    assert len(schema.labelled_rows(pd.DataFrame({"y": ["Unknown ", "1", "0"]}))) == 2


def test_adapt_and_evaluate_name_the_word_not_an_empty_cell(files):
    """A trial: adapt said 8 'pending' labels at the site had "no value", as if the cells
    were empty; each count is now said as what the file holds."""
    _, base = _train(files, "words.csv", "--positive-class", "yes", "--group-column", "dataset",
                     "--groups", "Cleveland,Hungary")  # fmt: skip
    site = files["words"].copy()
    va = site.index[site["dataset"] == "VA Long Beach"]
    site.loc[va[:8], "y"] = "Pending"
    site.loc[va[8:10], "y"] = None
    site.to_csv(files["root"] / "pending.csv", index=False)
    adapted = succeeded(run_cli("adapt", "--base", base, "--data", files["root"] / "pending.csv",
                                "--group-column", "dataset", "--group", "VA Long Beach",
                                "--out", files["root"] / "adapter"))  # fmt: skip
    lines = adapted.stdout.splitlines()
    where = "the 200 rows of dataset = VA Long Beach"
    assert f"warning: 2 of {where} have no value in label column 'y': left out (a missing " \
        "outcome is never guessed)" in lines  # fmt: skip
    assert f"warning: label column 'y' says 'Pending' in 8 of {where}: the outcome is not " \
        "known there, so those rows are left out, as rows without a label are (a missing " \
        "outcome is never guessed)" in lines  # fmt: skip


def test_padded_n_a_and_awaiting_phrases_are_no_outcome():
    """A trial's ' n/a ' (padded, so not read as missing with the file) and 'awaiting
    histology' were refused as unknown classes of the label."""
    from medadapt.data.schema import read_label_as_missing, unknown_outcome_said

    labels = pd.Series(["yes", " n/a ", "awaiting histology", "no", "Pending review", "TBD"])
    assert read_label_as_missing(labels).isna().tolist() == [False, True, True, False, True,
                                                             True]  # fmt: skip
    n, said = unknown_outcome_said(labels, "y")
    assert n == 4 and said.startswith(
        "label column 'y' says 'Pending review', 'TBD', 'awaiting histology', 'n/a' in 4 of 6 "
        "rows: the outcome is not known there"
    )

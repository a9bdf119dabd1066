"""What ``train-base`` says about a table before its metrics: first, the task it trains and
what decided it (and how to change it); and any column it suggests for a flag, quoted so the
suggestion can be pasted into a shell."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from medadapt.cli.printing import task_line
from tests.cli.helpers import CliResult, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE, TINY_TABLE

# its warning, next, says what else it may be (a trial read the same advice in both)
MULTICLASS = "task: multiclass, 5 classes ('0', '1', '2', '3', '4') inferred from --label num"
BINARY = "task: binary, positive class '1' (of '0', '1'), made by --positive-above 0: num > 0"
REGRESSION = (
    "task: regression inferred from --label chol; for a yes/no outcome pass --positive-above N, "
    "or set --task"
)
INDEX_COLUMN = (
    "warning: column 'Unnamed: 0' is not used as a feature: it looks like a record identifier "
    "(by its name); pass --id-column 'Unnamed: 0' if it identifies patients, or --numeric "
    "'Unnamed: 0' to use it as a feature"
)
LABELS = {
    "multiclass": ("--label", "num"),
    "binary": ("--label", "num", "--positive-above", "0"),
    "regression": ("--label", "chol"),
    "dichotomised": ("--label", "chol", "--positive-above", "240"),
}
DICHOTOMISED = (
    "warning: --positive-above 240 makes 'chol', a measurement ({n} distinct values here), "
    "yes/no: the model learns only whether a patient is above 240, not by how much (just above "
    "and far above count alike); keep it if 240 defines the outcome clinically, or drop "
    "--positive-above to predict the value itself"
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, CliResult]:
    """train-base on Cleveland's rows saved with pandas' index (a first column that reads
    back as 'Unnamed: 0'), once per way of reading the label."""
    root = tmp_path_factory.mktemp("train_base_says")
    heart = ma.load_heart_disease()
    data = root / "heart.csv"
    heart[heart["dataset"] == "Cleveland"].drop(columns=["id"]).to_csv(data)  # index kept
    return {name: _train(data, root / name, label) for name, label in LABELS.items()}


def _train(data: Path, out: Path, label: tuple[str, ...]) -> CliResult:
    return succeeded(run_cli("train-base", "--data", data, *label, *QUICK_TABLE, "--out", out))


@pytest.mark.parametrize(
    ("name", "line"),
    [("multiclass", MULTICLASS), ("binary", BINARY), ("regression", REGRESSION)],
)
def test_train_base_first_says_the_task_and_what_decided_it(trained, name, line):
    assert trained[name].stdout.splitlines()[0] == line


def test_a_column_named_by_pandas_index_is_quoted_for_the_shell(trained):
    for result in trained.values():
        assert INDEX_COLUMN in result.stdout.splitlines()


def test_a_task_set_by_flag_gives_no_advice():
    line = task_line("multiclass", ["0", "1", "2"], label="num", chosen_task="multiclass")
    assert line == "task: multiclass, 3 classes ('0', '1', '2') set by --task for --label num"


def test_text_classes_name_the_positive_one_and_suggest_no_threshold():
    binary = task_line("binary", ["no", "yes"], label="heart disease")
    assert binary == (
        "task: binary, positive class 'yes' (of 'no', 'yes') inferred from --label 'heart disease'"
    )
    multiclass = task_line("multiclass", ["mild", "none", "severe"], label="grade")
    assert multiclass == (
        "task: multiclass, 3 classes ('mild', 'none', 'severe') inferred from --label grade"
    )


def test_a_measurement_made_yes_no_is_said_to_be_one_a_grade_is_not(trained, tmp_path):
    """--positive-above 240 on cholesterol (mg/dl) turned a measurement into yes/no without a
    word: a patient at 241 and one at 560 count alike. num (a grade of 0-4) made yes/no by
    --positive-above 0 is the heart data's outcome, and no warning."""
    heart = ma.load_heart_disease()
    distinct = heart[heart["dataset"] == "Cleveland"]["chol"].nunique()
    [said] = [line for line in trained["dichotomised"].stdout.splitlines()
              if "a measurement" in line]  # fmt: skip
    assert distinct >= 20 and said.startswith("warning: ")
    # the training rows' values: the held-out ones are not counted
    n = int(said.split("(")[1].split(" ")[0])
    assert 20 <= n <= distinct and said == DICHOTOMISED.format(n=n)
    assert not any("a measurement" in line for line in trained["binary"].stdout.splitlines())
    schema = ma.TableSchema.infer(heart, label="chol", positive_above=240, id_column="id")
    with pytest.warns(UserWarning, match=r"^positive_above=240 makes 'chol', a measurement"):
        ma.train_base(heart, schema, train_config=ma.TrainConfig(epochs=1))


def test_a_column_in_other_units_at_one_training_site_is_named(tmp_path):
    """A trial's creatinine in mg/dL at one site and µmol/L at another was noticed only by
    ``adapt`` against a base trained elsewhere: ``train-base`` on both names it now (the
    ratio of medians, never a value); the four heart sites' own columns raise no such line."""
    heart = ma.load_heart_disease()
    heart["creat"] = np.random.default_rng(0).normal(1.0, 0.2, len(heart)).clip(0.4)
    heart.loc[heart["dataset"] == "Hungary", "creat"] *= 88.4  # µmol/L there
    heart.to_csv(tmp_path / "heart.csv", index=False)
    said = succeeded(run_cli("train-base", "--data", str(tmp_path / "heart.csv"), "--label",
                             "num", "--positive-above", "0", "--id-column", "id",
                             "--group-column", "dataset", *QUICK_TABLE,
                             "--out", str(tmp_path / "base")))  # fmt: skip
    units = [line for line in said.stdout.splitlines() if "times higher" in line]
    assert units == [
        "warning: column 'creat' is about 89 times higher at dataset = Hungary than at dataset "
        "= VA Long Beach (medians; their interquartile ranges do not overlap): recorded in other "
        "units there? Convert it to one unit before training: a model would learn the site "
        "from it, and misread one of them"
    ]


def test_a_european_export_is_said_to_be_read_as_one(tmp_path):
    """A trial's ';' file with decimal commas was read right without a word: train-base
    says how it read it, after the task, naming the converted columns (names only)."""
    heart = ma.load_heart_disease()
    data = tmp_path / "heart.csv"
    heart[heart["dataset"] == "Cleveland"].to_csv(data, sep=";", decimal=",", index=False)
    said = succeeded(run_cli("train-base", "--data", data, *LABELS["binary"], "--id-column", "id",
                             *TINY_TABLE, "--epochs", "1", "--out", tmp_path / "base"))  # fmt: skip
    lines = said.stdout.splitlines()
    read = f"read --data {data} with semicolons between columns and decimal commas in "
    [line] = [line for line in lines if line.startswith(read)]
    assert line == read + "'age', 'trestbps', 'chol', 'thalch' and 3 more (1,5 read as 1.5)"
    assert lines[1] == line  # after the task, before what it says of the columns


def test_base_json_masks_small_subgroup_cells(tmp_path):
    """A trial's base.json held "n 6, n_positive 1" for one site: train-base's subgroups are
    masked as evaluate's and the study's are (a count under 5 never written)."""
    import json

    heart = ma.load_heart_disease()
    mini = heart[heart["dataset"] == "Hungary"].head(30).assign(dataset="Mini")
    mini = mini.assign(id=mini["id"] + 10_000)
    pd.concat([heart[heart["dataset"].isin(["Cleveland", "Hungary"])], mini]).to_csv(
        tmp_path / "heart.csv", index=False
    )
    succeeded(run_cli("train-base", "--data", str(tmp_path / "heart.csv"), "--label", "num",
                      "--positive-above", "0", "--id-column", "id", "--group-column", "dataset",
                      *QUICK_TABLE, "--out", str(tmp_path / "base"),
                      "--json", str(tmp_path / "base.json")))  # fmt: skip
    sites = json.loads((tmp_path / "base.json").read_text())["test"]["subgroups"]["dataset"]
    counts = [site[key] for site in sites.values() for key in ("n", "n_positive")]
    assert isinstance(sites["Mini"]["n"], str), sites["Mini"]  # "5-9" or "<5": no exact count
    assert all(isinstance(n, str) or n >= 5 for n in counts), counts


def test_exact_copies_among_the_training_rows_are_counted(tmp_path):
    """A trial's export held 6 doubled rows and nothing said so."""
    heart = ma.load_heart_disease()
    pd.concat([heart, heart.head(6)]).to_csv(tmp_path / "heart.csv", index=False)
    said = succeeded(run_cli("train-base", "--data", str(tmp_path / "heart.csv"), "--label",
                             "num", "--positive-above", "0", "--id-column", "id", *QUICK_TABLE,
                             "--out", str(tmp_path / "base")))  # fmt: skip
    copies = [line for line in said.stdout.splitlines() if "exact cop" in line]
    trained, held = copies  # those in training, and (a trial's three all were) those held out
    assert trained.endswith(
        "training rows are exact copies of another row (every column the same): they weigh "
        "twice in training; if the export doubled them, remove the copies"
    ), copies
    assert re.fullmatch(
        r"warning: \d+ of the \d+ held-out rows (is an exact copy|are exact copies) of another "
        r"row \(every column the same\): (it counts|they count) twice in the test figures; if "
        r"the export doubled (it|them), remove the cop(y|ies)",
        held,
    ), held
    counted = [int(line.removeprefix("warning: ").split()[0]) for line in copies]
    assert sum(counted) == 6  # each copy said once, on its side of the split


def test_train_base_names_the_features_it_reads(trained):
    """A trial's free-text ``comment`` column was read as a feature with nothing but a
    count to say so: train-base names every column it reads, by kind."""
    [line] = [s for s in trained["binary"].stdout.splitlines() if s.startswith("features (")]
    assert line == (
        "features (13: 6 numeric, 7 categorical): age, sex, cp, trestbps, chol, fbs, restecg, "
        "thalch, exang, oldpeak, slope, ca, thal; leave one out with --exclude COL"
    )


def test_a_label_of_a_few_whole_numbers_taken_as_classes_is_a_warning(trained):
    """A trial left out the README's --positive-above 0: heart's num (0 to 4) trained a
    5-class model, said only in the task line; it is a warning now, as in Python."""
    assert trained["multiclass"].stdout.splitlines()[1] == (
        "warning: label column 'num' has 5 classes ('0', '1', '2', '3', '4'), so a 5-class "
        "model is built; for a yes/no outcome pass --positive-above 0 (a value above 0 is "
        "positive), or if the 5 classes are meant, --task multiclass to say so"
    )
    assert not any("-class model is built" in line
                   for name in ("binary", "regression", "dichotomised")
                   for line in trained[name].stdout.splitlines())  # fmt: skip


def test_patience_sets_how_long_early_stopping_waits(tmp_path):
    """A radiology trial's small model stopped at epoch 11 to 15 whatever --epochs (early
    stopping after 8 epochs without a lower validation loss), and no flag set the wait:
    --patience does, at train-base and adapt, and the model records it."""
    import json

    heart = ma.load_heart_disease()
    heart[heart["dataset"].isin(["Cleveland", "Hungary"])].to_csv(tmp_path / "h.csv", index=False)
    runs = {}
    for patience in (1, 3):
        out = tmp_path / f"p{patience}"
        succeeded(run_cli("train-base", "--data", tmp_path / "h.csv", "--label", "num",
                          "--positive-above", "0", "--id-column", "id", *TINY_TABLE,
                          "--epochs", "80", "--patience", str(patience), "--out", out))  # fmt: skip
        training = json.loads((out / "model.json").read_text())["training"]
        runs[patience] = training
        assert training["train_config"]["patience"] == patience
        # stopped that many epochs after the best one, or at the cap of 80
        assert training["epochs"] - training["best_epoch"] == patience or training["epochs"] == 80
    assert runs[1]["epochs"] <= runs[3]["epochs"]  # the same seed: it waits longer

"""Three things a new user met on the bundled heart data: repeat visits counted as patients by
the sample-size criteria, a ``--group`` written two ways in the file (its other rows silently
left out), and a text label whose positive class was chosen alphabetically."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medadapt.data.heart import bundled_path
from medadapt.data.schema import TableSchema
from medadapt.errors import ConfigError, DataError
from medadapt.modalities.tabular import TabularOptions
from medadapt.workflows.train_base import train_base_job
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE

VA = "VA Long Beach"
TINY = {"d_token": 16, "n_blocks": 1, "n_heads": 2}


def _heart() -> pd.DataFrame:
    heart = pd.read_csv(bundled_path())
    heart.insert(0, "patient", [f"P{i:04d}" for i in heart["id"]])
    return heart.drop(columns=["id"])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """visits.csv: every VA Long Beach patient seen twice (200 patients, 400 rows);
    spelt.csv: 20 of Hungary's rows written 'hungary'; a base trained on Cleveland and
    Hungary, one row per patient, with 'patient' as the id column."""
    root = tmp_path_factory.mktemp("patients_and_classes")
    heart = _heart()
    va = heart[heart["dataset"] == VA]
    again = va.assign(age=va["age"] + 1, thalch=va["thalch"] + 3)
    paths = {"visits": root / "visits.csv", "spelt": root / "spelt.csv", "base": root / "base"}
    pd.concat([heart[heart["dataset"] != VA], va, again]).to_csv(paths["visits"], index=False)
    spelt = heart.copy()
    spelt.loc[spelt.index[spelt["dataset"] == "Hungary"][:20], "dataset"] = "hungary"
    spelt.to_csv(paths["spelt"], index=False)
    train_base_job(data=paths["visits"], out=paths["base"], label="num", group_column="dataset",
                   groups=["Cleveland", "Hungary"], id_column="patient", n_boot=20,
                   options=TabularOptions(positive_above=0, **TINY))  # fmt: skip
    return paths


# ----- (1) the sample-size criteria count patients ----------------------------------------------
def test_check_data_compares_the_criteria_with_patients_not_rows(files, tmp_path):
    """Half of VA's 200 patients (400 rows) held out: 202 test rows from 101 patients (two
    patients of one identical record stay together). By rows they were enough for a precise
    O/E ratio; by patients, which the criterion counts, not."""
    out = tmp_path / "n.json"
    result = succeeded(run_cli("check-data", "--data", files["visits"], "--base", files["base"],
                               "--group-column", "dataset", "--group", VA,
                               "--test-fraction", "0.5", "--json", out))  # fmt: skip
    figures = json.loads(out.read_text())
    assert (figures["n"], figures["n_patients"]) == (400, 200)
    assert (figures["n_train"], figures["n_train_patients"]) == (198, 99)
    assert (figures["n_test"], figures["n_test_patients"]) == (202, 101)
    assert figures["unit"] == "rows" and figures["noun"] == "patients"
    lines = [line for line in result.stdout.splitlines() if not line.startswith("warning: ")]
    said = " ".join(" ".join(lines).split())  # after adapt's warnings on the rows' values
    assert said.startswith(
        "400 rows from 200 patients of dataset = VA Long Beach (prevalence 0.745): 198 rows "
        "from 99 patients to adapt on, 202 rows from 101 patients to test it, as adapt would "
        "split them (--test-fraction 0.5)"
    )
    oe = {c["name"]: c for c in figures["validation"]["criteria"]}["O/E"]
    assert 101 < oe["n"] <= 202 and oe["supported"] is False  # rows alone: supported
    assert all(not c["supported"] for c in figures["validation"]["criteria"])
    assert all(not e["met"] for e in figures["development"].values())
    head = figures["development"]["head_only"]["n"]
    assert figures["in_short"][0].startswith(
        f"198 rows from 99 patients to adapt on are fewer than any strategy needs (the least, "
        f"the head-only adapter ('adapt --method head'), needs {head:,})"
    )
    assert figures["in_short"][1].startswith(
        f"202 rows from 101 patients to test it are too few for a precise observed/expected "
        f"ratio ({oe['n']} needed)"
    )
    assert said.count("no: 99") == 4 and said.count("no: 101") == 3  # the tables' patients


def test_adapt_says_the_patients_behind_its_rows(files, tmp_path):
    out = tmp_path / "adapt.json"
    result = succeeded(run_cli("adapt", "--base", files["base"], "--data", files["visits"],
                               "--label", "num", "--group-column", "dataset", "--group", VA,
                               "--out", tmp_path / "va", "--json", out))  # fmt: skip
    entry = json.loads(out.read_text())["data_summary"]["sample_size"]
    assert (entry["n_train"], entry["n_train_patients"]) == (280, 140)
    assert (entry["n_test"], entry["n_test_patients"]) == (120, 60)
    assert entry["unit"] == "rows" and entry["met"] is False
    needs = entry["test_needs"]
    assert entry["test_supports"] == {k: n <= 60 for k, n in needs.items()}
    said = " ".join(result.stdout.split())
    adapted = json.loads(out.read_text())
    assert entry["parameters"] == adapted["trainable_params"] - 1 and entry["intercepts"] == 1
    assert (  # the terminal's two lines (the report and card hold the whole sentence)
        "sample size (Riley et al.): not met: 280 rows from 140 patients to train on; its "
        f"{entry['parameters']:,} parameters (the intercept aside) would need "
        f"{entry['n_needed']:,} patients as a new model's (criterion {entry['criterion']}): an "
        "upper bound for an adapter, which starts from the base; meeting it is necessary, not "
        "sufficient test set: the 60 patients (120 rows) here are too few for precise "
        "estimates of the observed/expected ratio, calibration slope and C-statistic "
        f"({needs['O/E']:,}, {needs['slope']:,} and {needs['C']:,} test patients needed "
        "respectively)" in said
    )


# ----- (2) a --group written two ways ------------------------------------------------------------
SPELT = (
    "error: --group: column 'dataset' also writes group 'Hungary' as 'hungary' (20 rows; they "
    "differ only in upper/lower case), and those rows would be left out; write each group one "
    "way in the file"
)


@pytest.mark.parametrize("verb", ["check-data", "adapt", "evaluate", "study"])
def test_a_group_written_two_ways_is_refused_by_every_verb(files, tmp_path, verb):
    extra = {
        "check-data": [],
        "adapt": ["--label", "num", "--out", tmp_path / "hu"],
        "evaluate": [],
        "study": ["--label", "num", "--methods", "base_only", "--fractions", "1", "--seeds",
                  "1", "--out", tmp_path / "study"],
    }[verb]  # fmt: skip
    result = run_cli(verb, "--base", files["base"], "--data", files["spelt"], "--group-column",
                     "dataset", "--group", "Hungary", *extra)  # fmt: skip
    assert error_line(result) == SPELT
    assert not (tmp_path / "hu").exists() and not (tmp_path / "study").exists()


# ----- (3) which class of a text label is positive -----------------------------------------------
@pytest.fixture(scope="module")
def diagnosis(tmp_path_factory) -> Path:
    """Cleveland, Hungary and VA with 'Disease'/'Healthy' for num > 0 / num = 0."""
    heart = _heart()
    heart = heart[heart["dataset"].isin(["Cleveland", "Hungary", VA])]
    heart["diagnosis"] = np.where(heart["num"] > 0, "Disease", "Healthy")
    path = tmp_path_factory.mktemp("diagnosis") / "diagnosis.csv"
    heart.drop(columns=["num"]).to_csv(path, index=False)
    return path


def _train(data: Path, out: Path, *flags: str):
    return run_cli("train-base", "--data", data, "--label", "diagnosis", "--id-column",
                   "patient", "--group-column", "dataset", "--groups", "Cleveland,Hungary",
                   "--missing-code", "chol=0,trestbps=0", *QUICK_TABLE, *flags,
                   "--out", out)  # fmt: skip


IMPLICIT = (
    "warning: label column 'diagnosis': 'Healthy' is treated as the positive class (sensitivity "
    "and the predicted probability are about it) only because it sorts after 'Disease'; choose "
    "with --positive-class: --positive-class Disease if 'Disease' is the outcome to detect, "
    "--positive-class Healthy to keep this"
)


def test_a_text_label_s_alphabetical_positive_class_is_warned_about(diagnosis, tmp_path):
    result = succeeded(_train(diagnosis, tmp_path / "base"))
    assert result.stdout.splitlines()[0] == (
        "task: binary, positive class 'Healthy' (of 'Disease', 'Healthy') inferred from --label "
        "diagnosis"
    )
    assert (result.stdout + result.stderr).count(IMPLICIT) == 1


@pytest.mark.parametrize(
    ("values", "positive"),
    [(("Malignant", "benign"), "Malignant"), (("Benign", "malignant"), "malignant")],
)
def test_the_class_that_sorts_last_is_chosen_whatever_its_case(values, positive):
    """A trial's Malignant/benign made 'benign' positive, its capital 'M' sorting first:
    the order is the alphabet's, whatever the case, and the warning says so."""
    frame = pd.DataFrame({"x": [i % 7 for i in range(40)], "y": [values[i % 2] for i in range(40)]})
    schema = TableSchema.infer(frame, label="y")
    assert schema.classes[-1] == positive
    negative = next(v for v in values if v != positive)
    assert f"{positive!r} is treated as the positive class" in _implicit(schema)
    assert f"only because it sorts after {negative!r}" in _implicit(schema)


def _implicit(schema: TableSchema) -> str:
    from medadapt.data.schema import implicit_positive_class

    return implicit_positive_class(schema) or ""


def test_positive_class_chooses_it_and_adapt_and_evaluate_read_it_from_the_base(
    diagnosis, tmp_path
):
    base = tmp_path / "base"
    result = succeeded(_train(diagnosis, base, "--positive-class", "Disease"))
    assert result.stdout.splitlines()[0] == (
        "task: binary, positive class 'Disease' (of 'Healthy', 'Disease') set by "
        "--positive-class for --label diagnosis"
    )
    assert "warning: label column" not in result.stdout + result.stderr
    schema = json.loads((base / "model.json").read_text())["schema"]
    assert schema["positive_class"] == "Disease" and schema["classes"] == ["Healthy", "Disease"]
    out = tmp_path / "va.json"
    succeeded(run_cli("evaluate", "--base", base, "--data", diagnosis, "--group-column",
                      "dataset", "--group", VA, "--json", out))  # fmt: skip
    scored = json.loads(out.read_text())
    assert (scored["n"], scored["n_positive"]) == (200, 149)  # VA: 149 with disease, 51 without
    adapted = tmp_path / "adapt.json"
    succeeded(run_cli("adapt", "--base", base, "--data", diagnosis, "--label", "diagnosis",
                      "--group-column", "dataset", "--group", VA, "--out", tmp_path / "va",
                      "--json", adapted))  # fmt: skip
    summary = json.loads(adapted.read_text())["data_summary"]
    assert summary["n_positive"] == summary["train_class_counts"]["Disease"] == 104


def test_positive_class_is_refused_by_name_when_not_a_label_value(diagnosis, tmp_path):
    assert error_line(_train(diagnosis, tmp_path / "b", "--positive-class", "Sick")) == (
        "error: --positive-class Sick is not a value of label column 'diagnosis' in the rows "
        "read to train and test the model; they have 'Disease' (245 rows) and 'Healthy' (352 "
        "rows)"
    )
    several = run_cli("train-base", "--data", bundled_path(), "--label", "num", "--group-column",
                      "dataset", "--groups", "Cleveland", "--positive-class", "1",
                      "--out", tmp_path / "c")  # fmt: skip
    assert error_line(several) == (
        "error: --positive-class 1: label column 'num' has '0' (165 rows), '1' (55 rows), '2' "
        "(36 rows), '3' (35 rows) and '4' (13 rows) in the rows read to train and test the "
        "model, "
        "not two; "
        "--positive-class chooses which of two values is positive (a numeric label: "
        "--positive-above THRESHOLD)"  # Cleveland's rows alone (--groups): said as such
    )
    both = _train(diagnosis, tmp_path / "d", "--positive-class", "Disease", "--positive-above", "0")
    assert error_line(both) == (
        "error: --positive-class and --positive-above both say which label values are "
        "positive; give one of them"
    )
    assert not any((tmp_path / name).exists() for name in "bcd")


def test_a_positive_class_written_in_another_case_is_offered_its_spelling(tmp_path):
    """A trial: --positive-class Yes for a yes/no label was refused without "did you mean
    'yes'?"."""
    heart = _heart()
    heart["disease"] = np.where(heart["num"] > 0, "yes", "no")
    data = tmp_path / "yes_no.csv"
    heart.drop(columns=["num"]).to_csv(data, index=False)
    refused = run_cli("train-base", "--data", data, "--label", "disease", "--positive-class",
                      "Yes", *QUICK_TABLE, "--out", tmp_path / "b")  # fmt: skip
    assert error_line(refused) == (
        "error: --positive-class Yes is not a value of label column 'disease' in the rows "
        "read to train and test the model; they have 'no' (411 rows) and 'yes' (509 rows); did "
        "you "
        "mean 'yes'?"
    )
    assert not (tmp_path / "b").exists()


def test_train_base_help_shows_positive_class():
    shown = run_cli("train-base", "--help").stdout.replace("│", " ")  # the panel's borders
    help_text = " ".join(shown.split())
    assert "--positive-class TEXT Which value of a two-valued label is the outcome" in help_text
    assert "(e.g. Disease of Disease/Healthy)" in help_text


PLAIN = [("0", "1"), ("no", "yes"), ("No", "Yes"), ("no", "Yes"), ("False", "True"),
         ("negative", "Positive"), ("absent", "present"), ("N", "Y")]  # fmt: skip


@pytest.mark.parametrize(("negative", "positive"), PLAIN)
def test_a_plain_pair_picks_its_natural_positive_without_a_warning(negative, positive, recwarn):
    """'no'/'Yes' sorted alphabetically made 'no' the positive class (upper case first)."""
    frame = pd.DataFrame({"age": [40 + i % 7 for i in range(20)], "y": [negative, positive] * 10})
    schema = TableSchema.infer(frame, label="y")
    assert schema.classes == [negative, positive]
    assert not [w for w in recwarn if "positive class" in str(w.message)]


def test_the_python_api_warns_and_takes_positive_class_by_its_argument_name():
    frame = pd.DataFrame({"age": [40 + i % 7 for i in range(20)], "y": ["Disease", "Healthy"] * 10})
    with pytest.warns(UserWarning, match=r"positive_class='Disease' if 'Disease' is the"):
        TableSchema.infer(frame, label="y")
    schema = TableSchema.infer(frame, label="y", positive_class="Disease")
    assert schema.classes == ["Healthy", "Disease"]
    assert schema.encode_labels(frame).tolist()[:2] == [1, 0]
    with pytest.raises(DataError, match=r"^positive_class='Sick' is not a value of label column"):
        TableSchema.infer(frame, label="y", positive_class="Sick")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("--positive-above", "1"), "--positive-above 1 differs from the base model's "
         "--positive-above 0: study keeps the settings of --base; drop --positive-above, or "
         "train a new base with it"),
        (("--task", "regression"), "--task regression differs from the base model's --task "
         "binary: study keeps the settings of --base; drop --task, or train a new base with it"),
        (("--numeric", "ca"), "--numeric shapes a new base model, but --base gives one, whose "
         "own settings study keeps: drop --numeric"),
    ],
)  # fmt: skip
def test_study_with_a_base_refuses_a_choice_of_a_new_base_it_would_ignore(
    files, tmp_path, flags, expected
):
    """The base decided its label and features when it was trained; study --base read them
    from there and silently ignored a different --positive-above, --task or --numeric."""
    result = run_cli("study", "--data", files["visits"], "--base", files["base"], "--label",
                     "num", "--group-column", "dataset", "--group", VA, *flags,
                     "--out", tmp_path / "s")  # fmt: skip
    assert error_line(result) == f"error: {expected}"
    assert not (tmp_path / "s").exists()


def test_study_with_a_base_takes_the_base_models_own_choice_again(files, tmp_path):
    """The same --positive-above as the base's is no conflict (a train-base command copied)."""
    from medadapt.modalities import modality_of
    from medadapt.modalities.bundle import BaseModel
    from medadapt.workflows.study import refuse_options_of_a_new_base

    base, tables = BaseModel.load(files["base"]), modality_of("tabular")
    refuse_options_of_a_new_base(tables, TabularOptions(positive_above=0.0, task="binary"),
                                 base)  # fmt: skip
    with pytest.raises(ConfigError, match=r"^--positive-class shapes a new base model"):
        refuse_options_of_a_new_base(tables, TabularOptions(positive_class="1"), base)


def test_train_base_warns_of_a_site_column_read_as_a_feature(tmp_path):
    """Without --group-column, the heart file's 'dataset' (its hospital) became a feature
    unsaid: a new hospital's rows then read as an unseen category."""
    heart = pd.read_csv(bundled_path())
    two = tmp_path / "two.csv"
    heart[heart["dataset"].isin(["Cleveland", "Hungary"])].to_csv(two, index=False)
    result = succeeded(run_cli("train-base", "--data", two, "--label", "num", "--positive-above",
                               "0", "--id-column", "id", *QUICK_TABLE, "--out",
                               tmp_path / "b"))  # fmt: skip
    assert (
        "warning: column 'dataset' names each row's site (2 values) and is read as a model "
        "feature: the model learns each of these sites' own rates, and a new site's rows, whose "
        "value it never saw, are read as 'unseen'; pass --group-column 'dataset' to split and "
        "adapt by it instead, or --exclude 'dataset' to leave it out"
    ) in result.stdout.splitlines()

"""A numeric model column whose values the file writes otherwise (with a unit, a percent sign,
decimal commas in a comma-separated file) is refused by ``predict`` and ``evaluate``, as
``train-base`` refuses it, not read as missing for every row; a model column empty in every
row is said; and each prediction names the features it lacked, as ``serve`` does."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE

pytestmark = pytest.mark.xdist_group("bad_inputs")  # the bad-input workspace, built once


def _mean(paths, column: str) -> str:
    schema = json.loads((paths["base"] / "model.json").read_text())["schema"]
    return f"{next(f for f in schema['features'] if f['name'] == column)['mean']:.4g}"


def _verb(verb: str, paths, data, out) -> list:
    if verb == "predict":
        return ["predict", "--base", paths["base"], "--data", data, "--out", out / "p.csv"]
    if verb == "adapt":
        return ["adapt", "--base", paths["base"], "--data", data, "--group-column", "dataset",
                "--group", "VA Long Beach", "--method", "head", "--out", out / "a"]  # fmt: skip
    return ["evaluate", "--base", paths["base"], "--data", data, "--json", out / "e.json"]


def _written(tmp_path, heart: pd.DataFrame, column: str, write) -> object:
    messy = heart.copy().astype({column: object})
    messy[column] = [write(v) if v == v else "" for v in heart[column]]
    path = tmp_path / f"{column}.csv"
    messy.to_csv(path, index=False)
    return path


def _refusal(workspace, tmp_path, verb: str, column: str, write) -> tuple[str, object]:
    """``verb`` on the heart data with ``column`` written by ``write``: its one error line
    (nothing written to ``--out``) and the file."""
    _, paths = workspace
    data = _written(tmp_path, pd.read_csv(paths["heart"]), column, write)
    out = tmp_path / "out"
    line = error_line(run_cli(*_verb(verb, paths, data, out)))
    assert not out.exists()
    return line, data


@pytest.mark.parametrize("verb", ["predict", "evaluate"])
def test_a_column_written_with_its_unit_is_refused(workspace, tmp_path, verb):
    line, data = _refusal(workspace, tmp_path, verb, "trestbps", lambda v: f"{v:.0f} mmHg")
    assert line == (
        f"error: --data {data}: column 'trestbps' holds numbers written with a unit or other "
        "text in 860 of 860 values ('mmHg'), which the model reads as numbers; write the "
        f"numbers alone in the file, in the unit the model trained on (mean "
        f"{_mean(workspace[1], 'trestbps')}), and pass it to --data again"
    )


@pytest.mark.parametrize("verb", ["predict", "evaluate"])
def test_a_column_written_as_percentages_is_refused(workspace, tmp_path, verb):
    line, data = _refusal(workspace, tmp_path, verb, "thalch", lambda v: f"{v / 1000:.1%}")
    assert line == (
        f"error: --data {data}: column 'thalch' holds numbers written with a unit or other "
        "text in 865 of 865 values ('%'), which the model reads as numbers; write the "
        f"numbers alone in the file, in the unit the model trained on (mean "
        f"{_mean(workspace[1], 'thalch')}; a spreadsheet writes 0.125 formatted as a "
        "percentage as 12.5%), and pass it to --data again"
    )
    assert "--categorical" not in line


@pytest.mark.parametrize("verb", ["predict", "evaluate"])
def test_decimal_commas_in_a_comma_separated_file_are_refused(workspace, tmp_path, verb):
    line, data = _refusal(
        workspace, tmp_path, verb, "oldpeak", lambda v: f"{v:.1f}".replace(".", ",")
    )
    assert line == (
        f"error: --data {data}: column 'oldpeak' holds numbers written with a decimal comma "
        "in 858 of 858 values (as in 12,5), which the model reads as numbers; write them with "
        "a decimal point (12.5), or separate the file's columns with ';' (then decimal commas "
        "are read), and pass it to --data again"
    )


@pytest.mark.parametrize("verb", ["predict", "evaluate"])
def test_thousands_groups_are_not_called_decimal_commas(workspace, tmp_path, verb):
    # a Parquet file keeps "2,330" as text: a thousands separator, or a decimal comma?
    _, paths = workspace
    heart = pd.read_csv(paths["heart"]).astype({"chol": object})
    heart["chol"] = [f"{v * 10:,.0f}" if v == v else None for v in heart["chol"]]
    data = tmp_path / "chol.parquet"
    heart.to_parquet(data, index=False)
    grouped = sum("," in v for v in heart["chol"].dropna())
    out = tmp_path / "out"
    line = error_line(run_cli(*_verb(verb, paths, data, out)))
    assert line == (
        f"error: --data {data}: column 'chol' holds numbers written with a comma (decimal or "
        f"thousands?) in {grouped} of {heart['chol'].notna().sum()} values (as in 1,234), which "
        "the model reads as numbers; write them as plain numbers without separators (12.5 or "
        "1234), and pass it to --data again"
    )
    assert not out.exists()


def test_a_few_stray_text_values_stay_a_warning(workspace, tmp_path):
    _, paths = workspace
    heart = pd.read_csv(paths["heart"]).astype({"trestbps": object})
    heart.loc[:19, "trestbps"] = [f"{v:.0f} mmHg" for v in heart.loc[:19, "trestbps"]]
    heart.to_csv(tmp_path / "few.csv", index=False)
    result = succeeded(run_cli(*_verb("predict", paths, tmp_path / "few.csv", tmp_path)))
    assert (
        f"warning: 20 text values in numeric column 'trestbps' of the {len(heart)} rows read "
        "here are read as missing: they are numbers with text after them, the unit 'mmHg'"
        in (result.stdout.splitlines())
    )


def test_train_base_advises_no_categories_for_percentages(workspace, tmp_path):
    _, paths = workspace
    heart = pd.read_csv(paths["heart"])
    data = _written(tmp_path, heart, "thalch", lambda v: f"{v / 1000:.1%}")
    result = run_cli(
        "train-base", "--data", data, "--label", "num", "--positive-above", "0",
        "--id-column", "id", "--group-column", "dataset", "--groups", "Cleveland,Hungary",
        *QUICK_TABLE, "--out", tmp_path / "base",
    )  # fmt: skip
    assert error_line(result) == (
        "error: column 'thalch' holds numbers written with a unit or other text in 596 of 596 "
        "values ('%'); write the numbers alone in the file (the unit can go in the column name)"
    )
    assert not (tmp_path / "base").exists()


def test_train_base_refuses_decimal_commas_rather_than_dropping_the_column(workspace, tmp_path):
    _, paths = workspace
    heart = pd.read_csv(paths["heart"])
    data = _written(tmp_path, heart, "oldpeak", lambda v: f"{v:.1f}".replace(".", ","))
    result = run_cli(
        "train-base", "--data", data, "--label", "num", "--positive-above", "0",
        "--id-column", "id", "--group-column", "dataset", "--groups", "Cleveland,Hungary",
        *QUICK_TABLE, "--out", tmp_path / "base",
    )  # fmt: skip
    assert error_line(result) == (
        "error: column 'oldpeak' holds numbers written with a decimal comma in 597 of 597 "
        "values (as in 12,5); write them with a decimal point (12.5), or separate the file's "
        "columns with ';' (then decimal commas are read)"
    )


# evaluate scores 902 of the 920 rows (it says why in a warning of its own)
@pytest.mark.parametrize(("verb", "rows"), [("predict", 920), ("evaluate", 902)])
def test_a_column_empty_in_every_row_is_said(workspace, tmp_path, verb, rows):
    _, paths = workspace
    heart = pd.read_csv(paths["heart"])
    heart["chol"] = float("nan")
    heart["thalch"] = float("nan")
    heart.to_csv(tmp_path / "empty.csv", index=False)
    result = succeeded(run_cli(*_verb(verb, paths, tmp_path / "empty.csv", tmp_path)))
    said = (
        f"warning: 2 of the model's 13 feature columns are empty in all {rows} rows ('chol', "
        "'thalch'): read as 'not measured' for every row, so the predictions rest on the other "
        "features; fill them in the file if they were measured"
    )
    assert result.stdout.splitlines().count(said) == 1, result.stdout


def test_a_single_empty_column_is_said_in_the_singular(workspace, tmp_path):
    _, paths = workspace
    heart = pd.read_csv(paths["heart"])
    heart["chol"] = float("nan")
    heart.to_csv(tmp_path / "empty.csv", index=False)
    result = succeeded(run_cli(*_verb("predict", paths, tmp_path / "empty.csv", tmp_path)))
    assert (
        "warning: 1 of the model's 13 feature columns is empty in all 920 rows ('chol'): read "
        "as 'not measured' for every row, so the predictions rest on the other features; fill "
        "it in the file if it was measured"
    ) in result.stdout.splitlines()


@pytest.mark.parametrize("verb", ["predict", "evaluate", "adapt"])
def test_a_column_the_model_does_not_read_is_named_in_a_note(workspace, tmp_path, verb):
    """A trial: a new test added to --data (troponin) was left out without a word, so a
    clinician could think the model used it. The label, id and group columns are not named."""
    _, paths = workspace
    heart = pd.read_csv(paths["heart"]).assign(troponin=lambda rows: rows["age"] / 1000)
    # a record number and a date are never features: no advice to train on them (a review)
    heart = heart.assign(MRN=range(len(heart)), admission_date="2020-01-05")
    heart.to_csv(tmp_path / "troponin.csv", index=False)
    result = succeeded(run_cli(*_verb(verb, paths, tmp_path / "troponin.csv", tmp_path)))
    assert [line for line in result.stdout.splitlines() if "not read by the model" in line] == [
        "note: 1 column of --data is not read by the model: 'troponin' (it was not among the "
        "features the base trained on; train a new base to use it)"
    ], result.stdout
    if verb == "evaluate":
        assert json.loads((tmp_path / "e.json").read_text())["unread_columns"] == ["troponin"]


@pytest.mark.parametrize("verb", ["predict", "evaluate", "adapt"])
def test_an_unread_copy_of_the_label_is_named_as_one_not_advised_to_train_on(
    workspace, tmp_path, verb
):
    """A trial: the label relabelled (``biopsy``: positive/negative) and left in the file was
    noted "train a new base to use it", advice that invites the copy in. A copy is said to be
    one, in a line of its own; another unread column keeps the usual advice."""
    _, paths = workspace
    heart = pd.read_csv(paths["heart"])
    heart = heart.assign(biopsy=(heart["num"] > 0).map({True: "positive", False: "negative"}),
                         troponin=heart["age"] / 1000)  # fmt: skip
    heart.to_csv(tmp_path / "biopsy.csv", index=False)
    result = succeeded(run_cli(*_verb(verb, paths, tmp_path / "biopsy.csv", tmp_path)))
    assert [line for line in result.stdout.splitlines() if "not read by the model" in line] == [
        "note: column 'biopsy' of --data is not read by the model, and must not be: it is the "
        "classes of 'num' under other names in every row, a copy of the label (never train a "
        "model on it)",
        "note: 1 column of --data is not read by the model: 'troponin' (it was not among the "
        "features the base trained on; train a new base to use it)",
    ], result.stdout
    if verb == "evaluate":
        said = json.loads((tmp_path / "e.json").read_text())
        assert said["unread_copies"] == {
            "biopsy": "the classes of 'num' under other names in every row"
        }


def test_a_column_the_base_excluded_is_not_advised_as_unread(workspace, tmp_path):
    """A trial excluded a leak ('cath_grade') at train-base, and every later command advised
    "train a new base to use it": a column left out with --exclude is recorded (its name) and
    not named again."""
    _, paths = workspace
    heart = pd.read_csv(paths["heart"]).assign(cath_grade=lambda rows: rows["num"])
    heart.to_csv(tmp_path / "graded.csv", index=False)
    succeeded(run_cli("train-base", "--data", str(tmp_path / "graded.csv"), "--label", "num",
                      "--positive-above", "0", "--id-column", "id", "--group-column", "dataset",
                      "--groups", "Cleveland,Hungary", "--exclude", "cath_grade", *QUICK_TABLE,
                      "--out", str(tmp_path / "base")))  # fmt: skip
    model = json.loads((tmp_path / "base" / "model.json").read_text())
    assert model["schema"]["excluded"] == ["cath_grade"]
    graded, out = str(tmp_path / "graded.csv"), str(tmp_path / "p.csv")
    result = succeeded(run_cli("predict", "--base", str(tmp_path / "base"), "--data", graded,
                               "--out", out))  # fmt: skip
    assert "not read by the model" not in result.stdout


def test_many_unread_columns_are_named_up_to_five_and_counted(workspace, tmp_path):
    _, paths = workspace
    heart = pd.read_csv(paths["heart"])
    extra = {f"test_{i}": heart["age"] + i for i in range(1, 7)} | {"comment": "DOE^JOHN"}
    heart.assign(**extra).to_csv(tmp_path / "extra.csv", index=False)
    result = succeeded(run_cli(*_verb("predict", paths, tmp_path / "extra.csv", tmp_path)))
    assert (
        "note: 7 columns of --data are not read by the model: 'test_1', 'test_2', 'test_3', "
        "'test_4', 'test_5' and 2 more (they were not among the features the base trained on; "
        "train a new base to use them)"
    ) in result.stdout.splitlines()
    assert "DOE^JOHN" not in result.stdout + result.stderr


def test_each_prediction_names_the_features_it_lacked(workspace, tmp_path):
    _, paths = workspace
    heart = pd.read_csv(paths["heart"]).head(3)
    heart.loc[0, "chol"] = float("nan")
    heart.loc[1, ["chol", "sex"]] = float("nan")
    heart.to_csv(tmp_path / "rows.csv", index=False)
    succeeded(run_cli(*_verb("predict", paths, tmp_path / "rows.csv", tmp_path)))
    predictions = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    assert predictions["missing_features"].tolist() == ["chol", "sex;chol", ""]


def test_rows_that_hold_none_of_the_features_are_said(workspace, tmp_path):
    """Blank lines of a spreadsheet export (only an id left): scored, since each row keeps its
    place, but said, and each names every feature as lacking."""
    _, paths = workspace
    heart = pd.read_csv(paths["heart"]).head(5)
    features = [c for c in heart.columns if c not in ("id", "num", "dataset")]
    heart.loc[[1, 3], features] = float("nan")
    heart.to_csv(tmp_path / "rows.csv", index=False)
    result = succeeded(run_cli(*_verb("predict", paths, tmp_path / "rows.csv", tmp_path)))
    assert (
        "warning: 2 of 5 rows hold none of the model's 13 features (blank lines, or only an "
        "id?): their score rests on nothing the patient has; delete them, or fill in the values"
    ) in result.stdout.splitlines()
    lacking = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)["missing_features"]
    assert [len(names.split(";")) for names in lacking[[1, 3]]] == [13, 13]


def test_rows_lacking_most_features_are_counted_by_serve_s_rule(workspace, tmp_path):
    """``predict`` says how many rows lack more than half of the model's features, the share
    above which ``serve`` puts a note on the answer: both apply one rule. 7 of 13 missing is
    over half; 6 of 13 is not; 13 of 13 is the featureless warning, not counted twice."""
    from medadapt.modalities.tabular.findings import mostly_missing_note

    _, paths = workspace
    heart = pd.read_csv(paths["heart"]).head(6)
    features = [c for c in heart.columns if c not in ("id", "num", "dataset")]
    heart.loc[[0, 2], features[:7]] = float("nan")
    heart.loc[3, features[:6]] = float("nan")
    heart.loc[4, features] = float("nan")
    heart.to_csv(tmp_path / "rows.csv", index=False)
    result = succeeded(run_cli(*_verb("predict", paths, tmp_path / "rows.csv", tmp_path)))
    lines = result.stdout.splitlines()
    assert (  # the row of no feature too: every row over the rule is left blank
        "warning: 3 of 6 rows lack more than half of the model's 13 features (read as 'not "
        "measured', never imputed): their predictions were left blank, as serve withholds "
        "them; fill in the others, or pass --score-sparse to predict them anyway"
    ) in lines
    assert any(line.startswith("warning: 1 of 6 rows holds none of the model's") for line in lines)
    written = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    counts = [len(names.split(";")) if names else 0 for names in written["missing_features"]]
    assert counts == [7, 0, 7, 6, 13, 0]
    assert [p == "" for p in written["p_1"]] == [True, False, True, False, True, False]
    assert "wrote 6 rows: 3 predictions, 3 left blank (see above)" in result.stdout
    anyway = succeeded(run_cli(*_verb("predict", paths, tmp_path / "rows.csv", tmp_path),
                               "--score-sparse", "--force"))  # fmt: skip
    assert pd.read_csv(tmp_path / "p.csv")["p_1"].notna().all()  # as serve --score-sparse
    assert "left blank" not in anyway.stdout and "rest on the few left" in anyway.stdout
    noted = [mostly_missing_note(n, 13) is not None for n in counts]
    assert noted == [True, False, True, False, True, False]


def test_categories_the_model_never_learned_count_toward_the_same_rule(workspace, tmp_path):
    """A trial: serve withheld nothing for a patient whose 7 categorical values were sent in
    the wrong case (each read as 'unseen'); serve now counts them, and ``predict`` counts
    them by the same rule: 3 missing + 4 unseen of 13 is over half, 3 missing alone is not."""
    _, paths = workspace
    heart = pd.read_csv(paths["heart"]).head(4)
    numeric = ["age", "trestbps", "chol"]
    heart.loc[[0, 1], numeric] = float("nan")
    for column in ("sex", "cp", "restecg", "thal"):  # case slips: 'MALE' for 'Male' ...
        heart.loc[0, column] = str(heart.loc[0, column]).upper()
    heart.to_csv(tmp_path / "rows.csv", index=False)
    result = succeeded(run_cli(*_verb("predict", paths, tmp_path / "rows.csv", tmp_path)))
    assert (
        "warning: 1 of 4 rows lacks more than half of the model's 13 features (missing, read "
        "as 'not measured', or a category it did not learn, read as 'unseen': neither tells "
        "the model anything): its prediction was left blank, as serve withholds it; fill in "
        "the others, or pass --score-sparse to predict it anyway"
    ) in result.stdout.splitlines()


@pytest.mark.parametrize(("rows", "written", "said"), [
    (1, {True: 1, False: 0}, "1 of them was written as a number"),
    (40, {True: 1, False: 0}, "40 of them were written as numbers"),
    (40, {True: "Y", False: "N"}, "40 of them were written as text"),
])  # fmt: skip
def test_a_category_written_as_another_kind_is_said_as_serve_says_it(
    workspace, tmp_path, rows, written, said
):
    """``exang`` written 1/0 for a model that learned it true/false: ``serve`` noted it ("sent
    as a number, but the model learned it as one of true, false"), ``predict`` scored it as
    unseen saying nothing of its kind (a one-row file: nothing at all)."""
    _, paths = workspace
    heart = pd.read_csv(paths["heart"])
    heart = heart[heart["exang"].notna()].head(rows).astype({"exang": object})
    heart["exang"] = heart["exang"].map(written)
    heart.to_csv(tmp_path / "coded.csv", index=False)
    result = succeeded(run_cli(*_verb("predict", paths, tmp_path / "coded.csv", tmp_path)))
    assert (
        f"warning: {rows} of {rows} rows {'has' if rows == 1 else 'have'} an 'exang' value the "
        "model never learned (rare in its training rows, or coded otherwise) and "
        f"{'is' if rows == 1 else 'are'} scored as 'unseen'; {said}, but the "
        "model learned 'exang' as one of true, false: recode 'exang' as one of those, as in "
        "training"
    ) in result.stdout.splitlines(), result.stdout
    assert (
        "'Y'" not in result.stdout and "'N'" not in result.stdout
    )  # the model's, never the file's


@pytest.fixture(scope="module")
def coded_base(tmp_path_factory):
    """The shipped heart file (chol 0 in every Swiss row) and a tiny base trained at
    Cleveland and Hungary with ``--missing-code chol=0``."""
    from medadapt.data.heart import bundled_path

    root = tmp_path_factory.mktemp("coded")
    tiny = ("--d-token", "16", "--n-blocks", "1", "--n-heads", "2")
    succeeded(run_cli("train-base", "--data", bundled_path(), "--label", "num",
                      "--positive-above", "0", "--id-column", "id", "--group-column", "dataset",
                      "--groups", "Cleveland,Hungary", "--missing-code", "chol=0", *tiny,
                      "--out", root / "base"))  # fmt: skip
    return root, pd.read_csv(bundled_path())


@pytest.mark.parametrize("verb", ["predict", "evaluate"])
def test_a_column_of_its_missing_code_in_every_row_is_said_as_a_blank_one_is(coded_base, tmp_path,
                                                                            verb):  # fmt: skip
    """A trial's Swiss rows held chol 0 in every row, the code the base was trained to read as
    'not measured': its ``missing_features`` named chol in 123 of 123 rows, yet no warning
    said so (a blank column was said)."""
    root, heart = coded_base
    swiss = heart[heart["dataset"] == "Switzerland"]
    assert (swiss["chol"] == 0).all()  # the shipped file's Swiss rows
    swiss.to_csv(tmp_path / "swiss.csv", index=False)
    if verb == "predict":
        args = ("predict", "--base", root / "base", "--data", tmp_path / "swiss.csv", "--out",
                tmp_path / "p.csv")  # fmt: skip
    else:
        args = ("evaluate", "--base", root / "base", "--data", tmp_path / "swiss.csv")
    said = succeeded(run_cli(*args)).stdout
    assert (
        f"warning: 1 of the model's 13 feature columns is read as 'not measured' in all "
        f"{len(swiss)} rows ('chol': each value the code for 'not measured' the model was "
        "trained with, or text), so the predictions rest on the other features; write the "
        "measured values in it if there are any"
    ) in said.splitlines(), said
    assert "is empty in all" not in said
    if verb == "predict":
        written = pd.read_csv(tmp_path / "p.csv")
        assert written["missing_features"].str.contains("chol").all()


@pytest.mark.parametrize("verb", ["predict", "evaluate", "adapt"])
def test_a_european_export_is_said_to_be_read_as_one_by_every_verb(workspace, tmp_path, verb):
    """``train-base`` and ``check-data`` said how they read a ';' file with decimal commas;
    ``adapt``, ``evaluate`` and ``predict`` read the same file without a word (a review)."""
    _, paths = workspace
    data = tmp_path / "eu.csv"
    pd.read_csv(paths["heart"]).to_csv(data, sep=";", decimal=",", index=False)
    said = succeeded(
        run_cli(*_verb(verb, paths, data, tmp_path), "--epochs", "1")
        if verb == "adapt"
        else run_cli(*_verb(verb, paths, data, tmp_path))
    )
    read = [line for line in said.stdout.splitlines() if line.startswith("read --data ")]
    assert read == [
        f"read --data {data} with semicolons between columns and decimal commas in "
        "'age', 'trestbps', 'chol', 'thalch' and 3 more (1,5 read as 1.5)"
    ]

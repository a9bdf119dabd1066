"""A hospital's messy CSV exports on the command line: each is read right, or refused in one
``error:`` line naming the fix, or warned about; never a silently different model."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE

GROUPS = ("--group-column", "dataset", "--groups", "Cleveland,Hungary")


@pytest.fixture(scope="module")
def heart() -> pd.DataFrame:
    return ma.load_heart_disease()


def _train(data, out, *extra: str):
    return run_cli(
        "train-base", "--data", data, "--label", "num", "--positive-above", "0",
        "--id-column", "id", *GROUPS, *QUICK_TABLE, "--out", out, *extra,
    )  # fmt: skip


def _kinds(base) -> dict[str, str]:
    schema = json.loads((base / "model.json").read_text())["schema"]
    return {f["name"]: f["kind"] for f in schema["features"]}


def test_text_at_another_site_leaves_the_trained_sites_numbers_numeric(tmp_path, heart):
    messy = heart.copy()
    messy["chol"] = messy["chol"].astype(object)
    messy.loc[messy["dataset"] == "Switzerland", "chol"] = "n.d."
    messy.to_csv(tmp_path / "nd.csv", index=False)
    succeeded(_train(tmp_path / "nd.csv", tmp_path / "base"))
    assert _kinds(tmp_path / "base")["chol"] == "numeric"  # was one category per value


def test_a_separator_closing_every_row_trains_on_the_right_columns(tmp_path, heart):
    lines = heart.to_csv(index=False).splitlines()
    (tmp_path / "closed.csv").write_text("\n".join([lines[0], *(ln + "," for ln in lines[1:])]))
    succeeded(_train(tmp_path / "closed.csv", tmp_path / "base"))
    kinds = _kinds(tmp_path / "base")
    assert kinds["age"] == "numeric" and kinds["sex"] == "categorical"


def test_a_spreadsheet_is_refused_naming_data(tmp_path, heart):
    with zipfile.ZipFile(tmp_path / "heart.xlsx", "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", heart.to_csv(index=False))
    line = error_line(_train(tmp_path / "heart.xlsx", tmp_path / "base"))
    assert "--data" in line and "Excel .xlsx" in line and "'CSV UTF-8'" in line
    assert not (tmp_path / "base").exists()


def test_files_joined_with_their_headers_are_refused(tmp_path, heart):
    text = heart.iloc[:400].to_csv(index=False) + heart.iloc[400:].to_csv(index=False)
    (tmp_path / "joined.csv").write_text(text)
    line = error_line(_train(tmp_path / "joined.csv", tmp_path / "base"))
    assert "repeats its header row as data 1 time (first at line 402" in line


def test_a_totals_row_is_refused(tmp_path, heart):
    text = heart.to_csv(index=False) + "Total,,,,,,,,,,,,,,,920\n"
    (tmp_path / "totals.csv").write_text(text)
    line = error_line(_train(tmp_path / "totals.csv", tmp_path / "base"))
    assert "ends with a summary row, not a patient (line 922 starts with 'Total')" in line


def test_a_group_spelt_two_ways_is_refused_naming_groups(tmp_path, heart):
    messy = heart.copy()
    messy.loc[(messy["dataset"] == "Hungary") & (messy.index % 3 == 0), "dataset"] = "hungary"
    messy.to_csv(tmp_path / "sites.csv", index=False)
    line = error_line(_train(tmp_path / "sites.csv", tmp_path / "base"))
    assert line.startswith("error: --groups: column 'dataset' also writes group 'Hungary' as")


def test_blood_pressure_with_its_unit_is_refused_without_categories(tmp_path, heart):
    messy = heart.copy()
    messy["trestbps"] = [f"{v:.0f} mmHg" if v == v else "" for v in heart["trestbps"]]
    messy.to_csv(tmp_path / "units.csv", index=False)
    line = error_line(_train(tmp_path / "units.csv", tmp_path / "base"))
    assert "column 'trestbps' holds numbers written with a unit" in line
    # a measurement, not codes: stripping the unit is the fix, not a category per value
    assert "('mmHg')" in line and "--categorical" not in line


def test_a_label_spelt_two_ways_is_refused(tmp_path, heart):
    messy = heart.copy()
    messy["num"] = np.where(heart["num"] > 0, "Yes", "no")
    messy.loc[::7, "num"] = "yes"
    messy.to_csv(tmp_path / "labels.csv", index=False)
    result = run_cli(
        "train-base", "--data", tmp_path / "labels.csv", "--label", "num", *GROUPS,
        *QUICK_TABLE, "--out", tmp_path / "base",
    )  # fmt: skip
    assert "writes one class in several ways ('Yes' and 'yes'" in error_line(result)


def test_a_999_code_for_not_measured_is_named_with_the_fix(tmp_path, heart):
    messy = heart.copy()
    messy.loc[messy["chol"].isna(), "chol"] = 999  # how the export wrote "not measured"
    messy.to_csv(tmp_path / "codes.csv", index=False)
    result = succeeded(_train(tmp_path / "codes.csv", tmp_path / "base"))
    assert "far above all its other values: if 999 means 'not measured' there, pass " in (
        result.stdout
    )
    assert "--missing-code chol=999" in result.stdout


def test_a_999_code_beside_a_declared_zero_code_is_named_too(tmp_path, heart):
    """A trial declared chol=0 as the README's command does, and its 999s (66 rows) were
    then learned as cholesterol values without a word: the declared code kept the column
    from the check. Now its other code is said, to be added beside the first."""
    messy = heart.copy()
    unmeasured = messy.index[messy["chol"].fillna(0) == 0]
    messy.loc[unmeasured[::2], "chol"] = 999  # half the "not measured" rows as 999
    messy.to_csv(tmp_path / "codes.csv", index=False)
    result = succeeded(_train(tmp_path / "codes.csv", tmp_path / "base", "--missing-code",
                              "chol=0,trestbps=0"))  # fmt: skip
    said = " ".join(result.stdout.split())
    assert ("far above all its other values: if 999 means 'not measured' there, add chol=999 "
            "to --missing-code, beside its code (it is read as a measurement of 999 now)"
            ) in said  # fmt: skip


def test_repeat_visits_without_id_column_are_warned_about(tmp_path, heart):
    visits = pd.concat([heart, heart.assign(age=heart["age"] + 1)], ignore_index=True)
    visits = visits.rename(columns={"id": "patient"})
    visits["patient"] = "P" + visits["patient"].astype(str)
    visits.to_csv(tmp_path / "visits.csv", index=False)
    result = run_cli(
        "train-base", "--data", tmp_path / "visits.csv", "--label", "num",
        "--positive-above", "0", *GROUPS, *QUICK_TABLE, "--out", tmp_path / "base",
    )  # fmt: skip
    succeeded(result)
    assert "column 'patient' is not used as a feature" in result.stdout
    assert "pass --id-column patient so that each patient's rows stay on one side" in (
        result.stdout
    )


def test_upper_cased_column_names_are_said_to_differ_in_case_only(tmp_path, heart):
    """A trial's export with every header upper-cased was told the model "was trained on other
    data than this"."""
    base = tmp_path / "base"
    succeeded(_train(_written_heart(tmp_path, heart), base))
    upper = heart[heart["dataset"] == "VA Long Beach"].rename(columns=str.upper)
    upper.to_csv(tmp_path / "upper.csv", index=False)
    line = error_line(run_cli("predict", "--base", base, "--data", tmp_path / "upper.csv",
                              "--out", tmp_path / "p.csv"))  # fmt: skip
    assert line.startswith(
        "error: the table's columns are the model's feature columns in other upper/lower case "
        "('AGE' for 'age', 'SEX' for 'sex', 'CP' for 'cp', ...): column names are matched "
        "exactly; rename them in --data as the model's ('age', 'sex', 'cp',"
    )
    assert not (tmp_path / "p.csv").exists()


def _written_heart(tmp_path, heart) -> str:
    path = tmp_path / "heart.csv"
    heart.to_csv(path, index=False)
    return str(path)

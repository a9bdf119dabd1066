"""What a new user's table gets told: a unit or other text in most cells of a numeric column is
refused (never read as missing for the whole column), text cells are described by kind and line
(never quoted: ``12,5`` is a patient's value), a typo in the label is no new class, a 1/2 label
says which is positive, and a measured label asked to be binary is pointed to regression."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE


def _table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    sick = x[:, 0] + rng.normal(scale=0.5, size=n) > 0
    return pd.DataFrame({
        "patient_id": [f"P{i:04d}" for i in range(n)],
        "radius": np.round(14 + 3 * x[:, 0], 2),
        "texture": np.round(19 + 4 * x[:, 1], 2),
        "area": np.round(650 + 300 * np.abs(x[:, 2]), 1),
        "site": ["A", "B"] * (n // 2),
        "diagnosis": np.where(sick, "malignant", "benign"),
    })  # fmt: skip


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("honesty")
    paths = {"data": root / "bc.csv", "base": root / "base"}
    _table().to_csv(paths["data"], index=False)
    succeeded(run_cli("train-base", "--data", paths["data"], "--label", "diagnosis",
                      "--id-column", "patient_id", *QUICK_TABLE,
                      "--out", paths["base"]))  # fmt: skip
    return paths


def _written(root: Path, name: str, frame: pd.DataFrame) -> Path:
    path = root / name
    frame.to_csv(path, index=False)
    return path


def _predict(tables: dict[str, Path], data: Path, root: Path) -> str:
    return error_line(run_cli("predict", "--base", tables["base"], "--data", data,
                              "--out", root / "p.csv"))  # fmt: skip


@pytest.mark.parametrize("unit", ["mm2", "cm2", "x10^9/L", "<"])
def test_a_unit_on_every_value_is_refused_at_predict(unit, tables, tmp_path):
    rows = _table(seed=1).drop(columns="diagnosis")
    rows["area"] = [f"{v} {unit}" for v in rows["area"]]
    data = _written(tmp_path, "units.csv", rows)
    assert _predict(tables, data, tmp_path) == (
        f"error: --data {data}: column 'area' holds numbers written with a unit or other text in "
        f"200 of 200 values ({unit!r}), which the model reads as numbers; write the numbers alone "
        "in the file, in the unit the model trained on (mean 895.2), and pass it to --data again"
    )
    assert not (tmp_path / "p.csv").exists()


def test_other_text_in_over_a_tenth_of_a_numeric_column_is_refused(tables, tmp_path):
    rows = _table(seed=1).drop(columns="diagnosis").astype({"area": object})
    rows.loc[:29, "area"] = [f"<{v:.0f}" for v in rows.loc[:29, "area"]]
    rows.loc[30:39, "area"] = "pending"
    data = _written(tmp_path, "limits.csv", rows)
    line = _predict(tables, data, tmp_path)
    assert line == (
        f"error: --data {data}: column 'area' holds text, not numbers, in 40 of its 200 "
        "non-empty values (30 numbers after < or >, 10 words), which the model reads as numbers "
        "(as missing values, each such row would be scored without the column); write the "
        "numbers alone in the file (empty where nothing was measured), and pass it to --data "
        "again"
    )
    assert "pending" not in line


def test_a_unit_on_every_value_is_refused_at_train_base(tmp_path):
    frame = _table()
    frame["area"] = [f"{v} mm2" for v in frame["area"]]
    data = _written(tmp_path, "units.csv", frame)
    line = error_line(run_cli("train-base", "--data", data, "--label", "diagnosis",
                              *QUICK_TABLE, "--out", tmp_path / "b"))  # fmt: skip
    assert line == (
        "error: column 'area' holds numbers written with a unit or other text in 200 of 200 "
        "values ('mm2'); write the numbers alone in the file (the unit can go in the column name)"
    )


def _refused(tmp_path, name: str, frame: pd.DataFrame):
    """``(--data written, train-base's one error line)`` for ``frame`` written as ``name``."""
    data = _written(tmp_path, name, frame)
    line = error_line(run_cli("train-base", "--data", data, "--label", "diagnosis",
                              *QUICK_TABLE, "--out", tmp_path / "b"))  # fmt: skip
    return data, line


def test_text_cells_are_described_by_kind_and_line_never_quoted(tmp_path):
    frame = _table().astype({"radius": object})
    frame.loc[[12, 86], "radius"] = ["12,5", "n.d."]
    frame.loc[40, "radius"] = "?"  # a missing word: read as missing, not counted
    data, line = _refused(tmp_path, "junk.csv", frame)
    assert line == (
        f"error: column 'radius' of --data {data} holds numbers except 2 text values (lines 14 "
        "and 88: a number with a comma, a word; empty, '?', '.', 'NA', 'n/a' and 'NULL' cells "
        "are read as missing); fix them in the file, or pass --numeric radius to read them as "
        "missing, or --categorical radius to keep them as categories"
    )
    assert "12,5" not in line and "n.d." not in line
    frame.loc[[12, 86, 90], "radius"] = ["-", "–", "--"]  # an export's 'not measured'
    data, line = _refused(tmp_path, "dashes.csv", frame)
    assert "(lines 14, 88 and 92: 3 dashes (often written for 'not measured'); empty, " in line
    assert line.endswith("or pass --numeric radius to read them as missing, or --categorical "
                         "radius to keep them as categories")  # fmt: skip
    frame.loc[[12, 86, 90], "radius"] = ["12,5", "n.d.", 13.0]
    frame = frame.astype({"texture": object})
    frame.loc[[20, 30], "texture"] = ["pending", "n.d."]  # a second column: one error says both
    data, line = _refused(tmp_path, "junk2.csv", frame)
    assert line == (
        f"error: columns 'radius', 'texture' of --data {data} hold numbers except a few text "
        "values ('radius': 2 text values (lines 14 and 88: a number with a comma, a word); "
        "'texture': 2 text values (lines 22 and 32: 2 words); empty, '?', '.', 'NA', 'n/a' and "
        "'NULL' cells are read as missing); fix them in the file, or pass --numeric "
        "radius,texture to read them as missing, or --categorical radius,texture to keep them "
        "as categories"
    )


def test_a_typo_in_the_label_is_no_new_class(tables, tmp_path):
    frame = _table()
    frame.loc[[5, 9, 20], "diagnosis"] = "malignent"
    data = _written(tmp_path, "typo.csv", frame)
    malignant = int((frame["diagnosis"] == "malignant").sum())
    line = error_line(run_cli("train-base", "--data", data, "--label", "diagnosis",
                              *QUICK_TABLE, "--out", tmp_path / "b"))  # fmt: skip
    assert line == (
        f"error: label column 'diagnosis' has 3 rows of 'malignent', spelt like 'malignant' "
        f"({malignant} rows): a typo would become a class of its own; correct them in --data, "
        "or, if 'malignent' is truly a class, pass --task multiclass (given, it keeps every "
        "class as written)"
    )
    assert not (tmp_path / "b").exists()
    line = error_line(run_cli("check-data", "--base", tables["base"], "--data", data))
    assert line == (
        "error: label column 'diagnosis' has the value 'malignent' (3 rows) that the model was "
        "not trained on (its classes: 'benign', 'malignant'); did you mean 'malignant' for "
        "'malignent'? Correct those rows in --data, or drop them"
    )


def test_a_slip_in_a_short_label_is_no_new_class(tmp_path):
    """'yse' among yes/no labels trained a three-class model without a word."""
    frame = _table()
    frame["diagnosis"] = np.where(frame["diagnosis"] == "malignant", "yes", "no")
    frame.loc[[5, 9, 20], "diagnosis"] = "yse"
    data = _written(tmp_path, "slip.csv", frame)
    line = error_line(run_cli("train-base", "--data", data, "--label", "diagnosis",
                              *QUICK_TABLE, "--out", tmp_path / "b"))  # fmt: skip
    assert line.startswith("error: label column 'diagnosis' has 3 rows of 'yse', spelt like 'yes'")
    assert not (tmp_path / "b").exists()


def test_a_label_coded_1_and_2_says_which_is_positive(tmp_path):
    frame = _table()
    frame["diagnosis"] = np.where(frame["diagnosis"] == "malignant", 1, 2)
    data = _written(tmp_path, "coded.csv", frame)
    result = succeeded(run_cli("train-base", "--data", data, "--label", "diagnosis",
                               "--id-column", "patient_id", *QUICK_TABLE,
                               "--out", tmp_path / "b"))  # fmt: skip
    assert (
        "warning: positive class '2' chosen as the larger of '1' and '2'; if '1' is the outcome "
        "(1 = disease, 2 = healthy is common in registry/SPSS exports), pass --positive-class 1"
    ) in result.stdout.splitlines()


def test_a_measured_label_asked_to_be_binary_is_pointed_to_regression(tmp_path):
    frame = _table().drop(columns="diagnosis")
    frame["glucose"] = np.round(90 + 15 * np.random.default_rng(2).normal(size=len(frame)), 1)
    data = _written(tmp_path, "measured.csv", frame)
    distinct = frame["glucose"].nunique()
    line = error_line(run_cli("train-base", "--data", data, "--label", "glucose", "--task",
                              "binary", *QUICK_TABLE, "--out", tmp_path / "b"))  # fmt: skip
    assert line == (
        f"error: label column 'glucose' is a measured value ({distinct} distinct numbers), not "
        "2 classes; use --task regression to predict it, or --positive-above THRESHOLD to call "
        "the values above it positive"
    )


def test_opposites_and_two_value_labels_are_no_typos():
    """'abnormal' in 11 of 300 rows beside 'normal' was refused as a typo of it; so would be
    'unstable' beside 'stable' among three classes."""
    from medadapt.data.schema import TableSchema

    frame = _table(300)
    frame["finding"] = ["abnormal"] * 11 + ["normal"] * 289
    assert TableSchema.infer(frame, label="finding").classes == ["abnormal", "normal"]
    frame["course"] = ["unstable"] * 8 + ["stable"] * 150 + ["progressive"] * 142
    assert TableSchema.infer(frame, label="course").task == "multiclass"


def test_sas_dates_are_not_numbers_with_a_unit():
    """'01JAN2020' read as 01 and the unit 'JAN2020', and was refused as such, quoting parts
    of patients' dates; units keep their digits ('mm2', 'x10^9/L')."""
    from medadapt.data.feature_kinds import written_numbers

    dates = pd.Series([f"{d:02d}{m}20{y:02d}" for d, m, y in zip(range(1, 29), ["JAN", "DEC"] * 14,
                       range(28), strict=True)])  # fmt: skip
    assert written_numbers(dates) is None
    assert written_numbers(pd.Series([f"{v} mm2" for v in range(100, 130)])) is not None
    assert written_numbers(pd.Series([f"{v} x 10^9/L" for v in range(4, 30)])) is not None


def test_text_in_a_model_column_is_judged_on_the_rows_of_the_group_used(tmp_path):
    """Site C writes its lab value as "pending": adapting site A was refused for site C's
    cells; it is judged on site A's rows now, and site C's refusal names the group."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.normal(60, 10, 300), "bp": rng.normal(130, 15, 300),
                          "site": np.repeat(["A", "B", "C"], 100)})  # fmt: skip
    frame["y"] = (frame["age"] / 10 + rng.normal(0, 1, 300) > 6).astype(int)
    frame["lab"] = rng.normal(5, 1, 300).round(2).astype(object)
    frame.loc[frame["site"] == "C", "lab"] = "pending"
    data = tmp_path / "t.csv"
    frame.to_csv(data, index=False)
    common = ["--data", data, "--label", "y", "--group-column", "site"]
    succeeded(run_cli("train-base", *common, "--groups", "A,B", *QUICK_TABLE,
                      "--out", tmp_path / "base"))  # fmt: skip
    adapt = ["adapt", "--base", tmp_path / "base", *common]
    adapted = succeeded(run_cli(*adapt, "--group", "A", "--out", tmp_path / "a"))
    assert "pending" not in adapted.stdout + adapted.stderr
    refused = run_cli(*adapt, "--group", "C", "--out", tmp_path / "c")
    assert error_line(refused) == (
        f"error: --data {data} (site = C): column 'lab' holds text, not numbers, in 100 of its "
        "100 non-empty values (all 100 words), which the model reads as numbers (as missing "
        "values, each such row would be scored without the column); write the numbers alone "
        "in the file (empty where nothing was measured), and pass it to --data again"
    )


def test_a_label_typo_is_matched_to_the_nearest_class_not_the_commonest(tmp_path):
    """A trial's 'cultivar_bb' (3 rows) was said to be spelt like 'cultivar_a', the commoner
    class two edits away, not 'cultivar_b', one edit away."""
    frame = _table()
    n = len(frame)
    frame["diagnosis"] = np.where(np.arange(n) < n // 2, "cultivar_a", "cultivar_b")
    frame.loc[frame.index[n // 2 : 3 * n // 4], "diagnosis"] = "cultivar_c"
    frame.loc[[n - 1, n - 2, n - 3], "diagnosis"] = "cultivar_bb"
    counts = frame["diagnosis"].value_counts()
    assert counts["cultivar_a"] > counts["cultivar_b"]  # the commoner one is further away
    data = _written(tmp_path, "cultivars.csv", frame)
    line = error_line(run_cli("train-base", "--data", data, "--label", "diagnosis",
                              *QUICK_TABLE, "--out", tmp_path / "b"))  # fmt: skip
    assert line.startswith(
        "error: label column 'diagnosis' has 3 rows of 'cultivar_bb', spelt like 'cultivar_b' "
        f"({counts['cultivar_b']} rows)"
    )

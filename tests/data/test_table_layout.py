"""A table's layout around its patient rows: a title or merged group header above the column
names, and a summary row under the data whose only value is a number (``,,,,,,,357``). Each is
refused in one line naming the line to delete; patients with many missing values are kept."""

from __future__ import annotations

import pytest

from medadapt.data.option_words import COMMAND_LINE
from medadapt.data.tables import read_table
from medadapt.errors import DataError
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import TINY_TABLE

HEADER = "hospital,radius,texture,perimeter,area,smoothness,compactness,target"


def _rows(n: int = 40, sep: str = ",") -> list[str]:
    return [
        sep.join([
            "AB"[i % 2], f"{12 + i % 7}.{i % 10}", f"{18 + i % 5}.5", str(80 + i), str(400 + 9 * i),
            f"0.{90 + i % 9}", f"0.{10 + i % 13}", str(i // 3 % 2),
        ])
        for i in range(n)
    ]  # fmt: skip


def _file(tmp_path, lines: list[str], name: str = "t.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _refusal(path) -> str:
    with pytest.raises(DataError) as refused:
        read_table(path, words=COMMAND_LINE)
    return str(refused.value)


def _train(data, out):
    return run_cli(
        "train-base", "--data", data, "--label", "target", *TINY_TABLE, "--out", out
    )  # fmt: skip


# ----- a summary row under the data ---------------------------------------------------------
def test_a_blank_first_cell_totals_row_is_refused(tmp_path):
    path = _file(tmp_path, [HEADER, *_rows(), ",,,,,,,357"])
    assert _refusal(path) == (
        f"--data {path} ends with a summary row, not a patient (line 42 holds a number in 1 of "
        "8 columns and nothing else: a total or count?); delete it"
    )


def test_summary_rows_after_the_data_are_refused_from_the_first(tmp_path):
    path = _file(tmp_path, [HEADER, *_rows(), ",,,,,,,357", "", ",,,4210,,,,569", ",,,,,,,"])
    assert _refusal(path) == (
        f"--data {path} ends with 2 summary rows, not patients (lines 42 to 44 hold a number in "
        "at most 2 of 8 columns and nothing else: totals or counts?); delete them"
    )


def test_a_sparse_patient_in_the_middle_is_kept(tmp_path):
    rows = _rows()
    rows[20] = ",,,,,,,1"  # a patient with every measurement missing, not at the end
    frame = read_table(_file(tmp_path, [HEADER, *rows]))
    assert len(frame) == 40 and frame["radius"].isna().sum() == 1


def test_a_sparse_table_keeps_its_last_patient(tmp_path):
    # a lab panel where each patient has one or two values: the last row is one of them
    rows = [",".join(["", "", "", str(5 + i) if i % 2 else "", "", "", str(i)]) for i in range(30)]
    frame = read_table(_file(tmp_path, ["a,b,c,d,e,f,g", *rows]))
    assert len(frame) == 30


def test_a_row_with_no_value_at_all_is_not_taken_for_a_summary(tmp_path):
    frame = read_table(_file(tmp_path, [HEADER, *_rows(), ",,,,,,,"]))
    assert len(frame) == 41 and frame.iloc[-1].isna().all()  # left out later: no label


def test_a_patient_with_text_values_only_is_no_summary(tmp_path):
    frame = read_table(_file(tmp_path, [HEADER, *_rows(), "A,,,,,,,1"]))
    assert len(frame) == 41


def test_train_base_refuses_a_blank_first_cell_totals_row(tmp_path):
    path = _file(tmp_path, [HEADER, *_rows(), ",,,,,,,357"])
    line = error_line(_train(path, tmp_path / "base"))
    assert line == (
        f"error: --data {path} ends with a summary row, not a patient (line 42 holds a number in "
        "1 of 8 columns and nothing else: a total or count?); delete it"
    )
    assert not (tmp_path / "base").exists()


def test_predict_refuses_a_blank_first_cell_totals_row(tmp_path):
    succeeded(_train(_file(tmp_path, [HEADER, *_rows()]), tmp_path / "base"))
    path = _file(tmp_path, [HEADER, *_rows(8), ",,,,,,,4"], name="new.csv")
    line = error_line(
        run_cli("predict", "--base", tmp_path / "base", "--data", path, "--out", tmp_path / "p.csv")
    )
    assert line == (
        f"error: --data {path} ends with a summary row, not a patient (line 10 holds a number in "
        "1 of 8 columns and nothing else: a total or count?); delete it"
    )
    assert not (tmp_path / "p.csv").exists()


# ----- a title or merged header above the column names --------------------------------------
def test_a_title_padded_with_separators_is_refused(tmp_path):
    semicolons = [HEADER.replace(",", ";"), *_rows(sep=";")]
    path = _file(tmp_path, ["Patient data;;;;;;;", *semicolons])
    assert _refusal(path) == (
        f"--data {path}: line 1 looks like a title or a merged header above the column names "
        "(7 of 8 names empty); delete it so that the column names are on the first line"
    )


def test_a_merged_group_header_is_refused(tmp_path):
    path = _file(tmp_path, ["Site,Tumour size,,,,,,Outcome", HEADER, *_rows()])
    assert _refusal(path) == (
        f"--data {path}: line 1 looks like a title or a merged header above the column names "
        "(5 of 8 names empty); delete it so that the column names are on the first line"
    )


def test_a_title_and_a_blank_line_are_refused_as_lines_1_to_2(tmp_path):
    path = _file(tmp_path, ["Patient data,,,,,,,", ",,,,,,,", HEADER, *_rows()])
    assert _refusal(path) == (
        f"--data {path}: lines 1 to 2 look like a title or a merged header above the column "
        "names (7 of 8 names empty); delete them so that the column names are on the first line"
    )


def test_unnamed_columns_above_numbers_are_read(tmp_path):
    # an index column without a name and empty trailing names: data follows, not a header
    rows = [f"{i},,,{40 + i},{i % 2}" for i in range(9)]
    frame = read_table(_file(tmp_path, [",,,age,y", *rows]))
    assert len(frame) == 9 and list(frame.columns)[3:] == ["age", "y"]


def test_train_base_refuses_a_merged_group_header(tmp_path):
    path = _file(tmp_path, ["Site,Tumour size,,,,,,Outcome", HEADER, *_rows()])
    line = error_line(_train(path, tmp_path / "base"))
    assert line == (
        f"error: --data {path}: line 1 looks like a title or a merged header above the column "
        "names (5 of 8 names empty); delete it so that the column names are on the first line"
    )
    assert not (tmp_path / "base").exists()

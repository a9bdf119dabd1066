"""A table's layout around its patient rows: a title or merged group header above the column
names, and a summary row under the data that holds only a column's total or count
(``,,,,,,,357``, Excel's SUM or COUNT). Each is refused in one line naming the line to delete;
patients with many missing values, the last one included, are kept."""

from __future__ import annotations

import pytest

from medadapt.data.option_words import COMMAND_LINE
from medadapt.data.tables import read_table
from medadapt.errors import DataError
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE

HEADER = "hospital,radius,texture,perimeter,area,smoothness,compactness,target"


def _rows(n: int = 40, sep: str = ",", positives: int | None = None) -> list[str]:
    """``n`` patients; ``positives``: the first that many have target 1 (else every other 3)."""
    return [
        sep.join([
            "AB"[i % 2], f"{12 + i % 7}.{i % 10}", f"{18 + i % 5}.5", str(80 + i), str(400 + 9 * i),
            f"0.{90 + i % 9}", f"0.{10 + i % 13}",
            str(i // 3 % 2 if positives is None else int(i < positives)),
        ])
        for i in range(n)
    ]  # fmt: skip


TRIAL = _rows(569, positives=357)  # the trial's table: 357 of 569 patients with target 1


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
        "train-base", "--data", data, "--label", "target", *QUICK_TABLE, "--out", out
    )  # fmt: skip


# ----- a summary row under the data ---------------------------------------------------------
def test_a_blank_first_cell_sum_row_is_refused(tmp_path):
    path = _file(tmp_path, [HEADER, *TRIAL, ",,,,,,,357"])  # 357: Excel's SUM of target
    assert _refusal(path) == (
        f"--data {path} ends with a summary row, not a patient (line 571 holds nothing but the "
        "sum of column 'target' over the rows above it); delete it"
    )


@pytest.mark.parametrize(
    ("footer", "held"),
    [
        (",40,,,,,,", "the count of column 'radius'"),  # Excel's COUNT
        (",,,,,,6.3,", "the sum of column 'compactness'"),  # 6.34, shown to one decimal
        (",,,3980,,,,40", "the sum of column 'perimeter' and the count of column 'target'"),
    ],
)
def test_a_total_or_count_row_is_refused(tmp_path, footer, held):
    path = _file(tmp_path, [HEADER, *_rows(), footer])
    assert _refusal(path) == (
        f"--data {path} ends with a summary row, not a patient (line 42 holds nothing but "
        f"{held} over the rows above it); delete it"
    )


def test_summary_rows_after_the_data_are_refused_from_the_first(tmp_path):
    # each is checked against the patients above the first: 207116 = the sum of perimeter
    path = _file(tmp_path, [HEADER, *TRIAL, ",,,,,,,357", "", ",,,207116,,,,569", ",,,,,,,"])
    assert _refusal(path) == (
        f"--data {path} ends with 2 summary rows, not patients (lines 571 to 573 hold nothing but "
        "sums or counts of their columns over the rows above them); delete them"
    )


def test_a_last_patient_with_two_values_is_read(tmp_path):
    # a dense table whose last patient has 2 of 8 values: not a total or count of its columns
    frame = read_table(_file(tmp_path, [HEADER, *TRIAL, ",,,,,,0.71,1"]))
    assert len(frame) == 570 and frame["compactness"].iloc[-1] == 0.71


def test_a_last_patient_whose_one_value_is_a_count_is_read_when_the_other_is_not(tmp_path):
    # 40 patients above, and 40 in column 'radius': the target 1 is no total or count
    frame = read_table(_file(tmp_path, [HEADER, *_rows(), ",40,,,,,,1"]))
    assert len(frame) == 41


def test_a_last_patient_whose_one_value_equals_a_count_but_not_above_the_values_is_read(
    tmp_path,
):
    # 40 patients with perimeters 80 to 119: a last perimeter of 40 equals the count, but a
    # count is larger than every value only for small values (flags, labels), not here
    frame = read_table(_file(tmp_path, [HEADER, *_rows(), ",,,40,,,,"]))
    assert len(frame) == 41 and frame["perimeter"].iloc[-1] == 40


def test_a_sparse_site_after_a_dense_one_is_read(tmp_path):
    sparse = [f",{13 + i % 4}.5,,,,,,{i % 2}" for i in range(12)]  # site B: radius and target
    frame = read_table(_file(tmp_path, [HEADER, *_rows(), *sparse]))
    assert len(frame) == 52


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
    path = _file(tmp_path, [HEADER, *TRIAL, ",,,,,,,357"])
    line = error_line(_train(path, tmp_path / "base"))
    assert line == (
        f"error: --data {path} ends with a summary row, not a patient (line 571 holds nothing "
        "but the sum of column 'target' over the rows above it); delete it"
    )
    assert not (tmp_path / "base").exists()


def test_predict_refuses_a_blank_first_cell_totals_row(tmp_path):
    succeeded(_train(_file(tmp_path, [HEADER, *_rows()]), tmp_path / "base"))
    path = _file(tmp_path, [HEADER, *_rows(8), ",,,,,,,3"], name="new.csv")  # 3 positives
    line = error_line(
        run_cli("predict", "--base", tmp_path / "base", "--data", path, "--out", tmp_path / "p.csv")
    )
    assert line == (
        f"error: --data {path} ends with a summary row, not a patient (line 10 holds nothing "
        "but the sum of column 'target' over the rows above it); delete it"
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

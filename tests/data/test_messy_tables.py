"""Hospital exports as they come: spreadsheets, shifted columns, joined files, totals rows,
units, codes for "not measured", one value spelt two ways, repeat visits. Each is read right or
refused in one line that counts lines and rows, never quoting a patient's value."""

from __future__ import annotations

import gzip
import io
import re
import zipfile

import numpy as np
import pandas as pd
import pytest

from medadapt.data.feature_kinds import IDENTIFIER_REASON, spelling_warnings
from medadapt.data.missing_codes import sentinel_code_warning, sentinel_coded
from medadapt.data.option_words import COMMAND_LINE
from medadapt.data.schema import TableSchema
from medadapt.data.tables import numbers_where_chosen, read_table, refuse_group_spellings
from medadapt.errors import DataError
from medadapt.modalities.tabular.modality import TabularModality
from medadapt.modalities.tabular.samples import TableSamples

HEADER = "id,age,chol,sex,y"


def _rows(n: int = 30, *, end: str = "") -> str:
    return "".join(
        f"{i},{40 + i % 30},{180 + 3 * i},{'MF'[i % 2]},{i % 2}{end}\n" for i in range(1, n + 1)
    )


def _write(tmp_path, name: str, data: str | bytes):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _refusal(path) -> str:
    with pytest.raises(DataError) as refused:
        read_table(path, words=COMMAND_LINE)
    return str(refused.value)


# ----- the file itself ---------------------------------------------------------------------------
def test_an_excel_workbook_is_named_as_one(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as workbook:
        workbook.writestr("xl/worksheets/sheet1.xml", (HEADER + "\n" + _rows()) * 5)
    path = _write(tmp_path, "export.xlsx", buffer.getvalue())
    assert _refusal(path) == (
        f"--data {path} is a zip archive (as an Excel .xlsx or OpenDocument .ods workbook is), "
        "not a text table; export the sheet as a CSV (in Excel: Save As 'CSV UTF-8') or "
        "Parquet and pass it to --data again"
    )


def test_a_gzip_file_is_named_as_one(tmp_path):
    path = _write(tmp_path, "export.csv.gz", gzip.compress((HEADER + "\n" + _rows()).encode()))
    assert "is gzip-compressed, not a text table; decompress it (gunzip)" in _refusal(path)


def test_a_separator_closing_every_row_shifts_no_column(tmp_path):
    # pandas alone would take the first column for the index and shift every other one
    path = _write(tmp_path, "closed.csv", HEADER + "\n" + _rows(end=","))
    frame = read_table(path)
    assert list(frame.columns) == ["id", "age", "chol", "sex", "y"]
    assert frame["id"].tolist()[:3] == [1.0, 2.0, 3.0]
    assert frame["sex"].tolist()[:2] == ["F", "M"] and frame["y"].tolist()[:2] == [1.0, 0.0]


def test_an_unquoted_thousands_separator_is_refused_not_shifted(tmp_path):
    rows = "".join(f"{i},{40 + i % 30},1,{200 + i},M,{i % 2}\n" for i in range(1, 31))  # 1,2xx
    message = _refusal(_write(tmp_path, "k.csv", HEADER + "\n" + rows))
    assert message.endswith(
        "30 rows have more values than the header's 5 column names (first at line 2): a "
        "value holding an unquoted ',' (a thousands separator or decimal comma?), or a column "
        "without a name; quote those values or export the file again"
    )
    # no patient's value (the file's path, which holds pytest's run number, aside)
    assert "201" not in re.sub(r"pytest-\d+", "", message)


def test_a_title_above_the_header_is_named(tmp_path):
    path = _write(tmp_path, "t.csv", "Cardiology export\n\n" + HEADER + "\n" + _rows())
    assert "a title above the header row? delete the lines above the header" in _refusal(path)


def test_excels_separator_line_is_read_as_the_separator(tmp_path):
    text = "sep=;\n" + HEADER.replace(",", ";") + "\n" + _rows().replace(",", ";")
    frame = read_table(_write(tmp_path, "s.csv", text))
    assert list(frame.columns) == ["id", "age", "chol", "sex", "y"] and len(frame) == 30


def test_a_header_repeated_mid_file_is_refused(tmp_path):
    text = HEADER + "\n" + _rows(15) + HEADER + "\n" + _rows(15)
    assert _refusal(_write(tmp_path, "joined.csv", text)).endswith(
        "repeats its header row as data 1 time (first at line 17; files joined together?); "
        "delete those lines, they would turn every numeric column into text"
    )


@pytest.mark.parametrize("footer", ["Total,,,,30", "TOTAL: 30 patients", "\nMean,54.5,220,,0.5"])
def test_a_totals_row_at_the_end_is_refused(tmp_path, footer):
    path = _write(tmp_path, "f.csv", HEADER + "\n" + _rows() + footer + "\n")
    assert "ends with a summary row, not a patient" in _refusal(path)


def test_a_patient_whose_first_value_starts_with_a_total_word_is_kept(tmp_path):
    text = "procedure,age,y\n" + "Total hip replacement,70,1\nknee,60,0\n" * 15
    assert len(read_table(_write(tmp_path, "p.csv", text))) == 30


# ----- numbers ----------------------------------------------------------------------------------
def test_chosen_rows_of_numbers_are_numbers_again():
    # "n.d." at another site makes the column text for the whole file
    frame = pd.DataFrame(
        {"site": ["A", "A", "B"], "chol": ["233", "250.5", "n.d."], "fbs": [True, False, None]},
        dtype=object,
    )
    chosen = numbers_where_chosen(frame[frame["site"] == "A"], ["site"])
    assert chosen["chol"].dtype == np.float64 and chosen["chol"].tolist() == [233.0, 250.5]
    assert chosen["fbs"].dtype == object  # booleans stay categories
    assert numbers_where_chosen(frame, ["site"]) is frame  # text here: left as it is


def test_decimal_commas_are_read_where_another_site_wrote_a_word(tmp_path):
    text = "site;crp;y\n" + "A;2,5;0\nA;1.234,5;1\n" * 10 + "B;n.d.;1\n" * 5
    frame = read_table(_write(tmp_path, "eu.csv", text))
    assert frame["crp"].tolist()[:2] == [2.5, 1234.5] and frame["crp"].iloc[-1] == "n.d."
    chosen = numbers_where_chosen(frame[frame["site"] == "A"], ["site"])
    assert chosen["crp"].dtype == np.float64


def test_numbers_written_with_a_unit_are_refused_not_made_categories():
    frame = pd.DataFrame(
        {"bp": [f"{110 + i % 4} mmHg" for i in range(40)], "y": [0, 1] * 20}, dtype=object
    )
    with pytest.raises(DataError) as refused:
        TableSchema.infer(frame, label="y", words=COMMAND_LINE)
    assert str(refused.value) == (
        "column 'bp' holds numbers written with a unit or other text in 40 of 40 values "
        "('mmHg'); write the numbers alone in the file (the unit can go in the column name), "
        "or pass --categorical bp to keep each value as a category"
    )
    kept = TableSchema.infer(frame, label="y", categorical=["bp"])
    assert kept.features[0].kind == "categorical"
    # words after a number in a cell or two may be a patient's name: counted, never quoted
    written = [*frame["bp"][:38], "125 Ann Lee", "130 per Dr Jones"]
    with pytest.raises(DataError) as refused:
        TableSchema.infer(frame.assign(bp=written), label="y", words=COMMAND_LINE)
    assert "in 40 of 40 values ('mmHg');" in str(refused.value)
    assert "Ann" not in str(refused.value) and "Jones" not in str(refused.value)


def test_thousands_groups_are_not_called_decimal_commas():
    # "1,234": a thousands separator or a decimal comma; a decimal point alone would make 1.234
    frame = pd.DataFrame(
        {"platelets": [f"{1000 + 37 * i:,}" for i in range(40)], "y": [0, 1] * 20}, dtype=object
    )
    with pytest.raises(DataError) as refused:
        TableSchema.infer(frame, label="y", words=COMMAND_LINE)
    assert str(refused.value) == (
        "column 'platelets' holds numbers written with a comma (decimal or thousands?) in 40 of "
        "40 values (as in 1,234); write them as plain numbers without separators (12.5 or 1234)"
    )


def test_decimal_commas_with_three_decimals_are_not_read_as_thousands(tmp_path):
    text = "crp,y\n" + '"0,125",0\n"0,250",1\n"0,375",0\n"1,5",1\n' * 10
    frame = read_table(_write(tmp_path, "crp.csv", text))
    assert frame["crp"].tolist()[:3] == ["0,125", "0,250", "0,375"]  # not 125, 250, 375
    with pytest.raises(DataError) as refused:
        TableSchema.infer(frame, label="y", words=COMMAND_LINE)
    assert str(refused.value).startswith(
        "column 'crp' holds numbers written with a decimal comma in 40 of 40 values (as in 12,5)"
    )
    assert str(refused.value).endswith("or separate the file's columns with ';' (then "
                                       "decimal commas are read)")  # fmt: skip
    with pytest.raises(DataError) as refused:  # a notebook's frame: how to read it in Python
        TableSchema.infer(frame, label="y")
    assert str(refused.value).endswith(
        "write them with a decimal point (12.5): read the file with ma.read_table(path) (which "
        "reads decimal commas in a ';'-separated file) or pd.read_csv(path, decimal=',')"
    )
    only_zeros = "crp,y\n" + '"0,125",0\n"0,250",1\n' * 10  # every value "0,ddd"
    assert read_table(_write(tmp_path, "zeros.csv", only_zeros))["crp"].iloc[0] == "0,125"


def test_dates_are_not_taken_for_numbers_with_a_unit():
    """Not refused as numbers written with a unit: dropped as dates (a warning), and kept
    as categories only where asked."""
    frame = pd.DataFrame({"admitted": [f"2020-01-{1 + i % 4:02d}" for i in range(40)],
                          "age": [40 + i % 9 for i in range(40)], "y": [0, 1] * 20})  # fmt: skip
    with pytest.warns(UserWarning, match="'admitted' is not used as a feature: it looks like a "
                      "date or time"):  # fmt: skip
        schema = TableSchema.infer(frame, label="y")
    assert [f.name for f in schema.features] == ["age"] and schema.identifiers == ["admitted"]
    kept = TableSchema.infer(frame, label="y", categorical=["admitted"])
    assert [f.name for f in kept.features] == ["admitted", "age"]


@pytest.mark.parametrize("code", [999.0, -1.0])
def test_an_undeclared_not_measured_code_is_found(code):
    values = np.r_[np.linspace(150, 400, 60), [code] * 5]
    frame = pd.DataFrame({"chol": values})
    assert sentinel_coded(frame, ["chol"]) == {"chol": (code, 5)}
    warning = sentinel_code_warning("chol", code, 5, 65)
    assert f"pass --missing-code chol={code:g}" in warning


def test_a_nines_value_within_the_measurements_is_no_code():
    frame = pd.DataFrame({"platelets": np.r_[np.linspace(150, 1100, 60), [999.0] * 3]})
    assert sentinel_coded(frame, ["platelets"]) == {}


# ----- one value spelt two ways ------------------------------------------------------------------
def test_a_label_spelt_two_ways_is_refused():
    frame = pd.DataFrame({"age": [40 + i % 7 for i in range(30)], "y": ["Yes", "yes", "no"] * 10})
    with pytest.raises(DataError) as refused:
        TableSchema.infer(frame, label="y")
    assert str(refused.value) == (
        "label column 'y' writes one class in several ways ('Yes' and 'yes': they differ only "
        "in upper/lower case); write each class one way in the frame"  # the Python API's
    )


def test_stray_spaces_around_a_label_are_one_class():
    frame = pd.DataFrame({"age": [40 + i % 7 for i in range(30)], "y": [" 1", "0 ", "1"] * 10})
    assert TableSchema.infer(frame, label="y").classes == ["0", "1"]


def test_categories_spelt_two_ways_are_warned_about():
    frame = pd.DataFrame({"sex": ["Male", "male", "Female"] * 10, "y": [0, 1, 1] * 10})
    schema = TableSchema.infer(frame, label="y")
    assert spelling_warnings(schema.categorical_features) == [
        "column 'sex' writes a category in several ways ('Male' and 'male': they differ only "
        "in upper/lower case) and each is learnt as its own category; write each one way in "
        "the file"
    ]


def test_a_group_spelt_two_ways_is_refused():
    groups = ["Hungary", "hungary", "Cleveland", "Hungary"]
    with pytest.raises(DataError) as refused:
        refuse_group_spellings(groups, ["Hungary"], column="dataset", what="--groups")
    assert str(refused.value) == (
        "--groups: column 'dataset' also writes group 'Hungary' as 'hungary' (1 rows; they "
        "differ only in upper/lower case), and those rows would be left out; write each group "
        "one way in the file"
    )
    refuse_group_spellings(groups, ["Hungary", "hungary"], column="dataset", what="--groups")


# ----- several rows per patient ------------------------------------------------------------------
def _visits(n_patients: int = 40, visits: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [
        {"patient": f"P{p:03d}", "age": 40 + p % 30 + v, "chol": 200 + int(rng.integers(0, 60)),
         "y": p % 2}
        for p in range(n_patients) for v in range(visits)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_an_unnamed_patient_column_with_repeats_asks_for_id_column():
    schema = TableSchema.infer(_visits(), label="y", words=COMMAND_LINE)
    reason = schema.dropped["patient"]
    assert reason.startswith(f"{IDENTIFIER_REASON} (by its name) with repeated values")
    assert "--id-column patient so that each patient's rows stay on one side" in reason


def test_the_early_stopping_split_keeps_a_patients_visits_together():
    frame = _visits()
    schema = TableSchema.infer(frame, label="y", id_column="patient")
    samples = TableSamples(frame, schema)
    train, validation = TabularModality().validation_split(samples, 0.2, seed=1)
    patients = frame["patient"].to_numpy()
    assert len(validation) and not set(patients[train]) & set(patients[validation])


def test_dots_in_a_decimal_comma_export_are_said_to_be_possibly_thousands(tmp_path):
    """A trial's ';' export with decimal commas held platelet counts as "278.037": read as
    278.037 without a word, a thousand times too small."""
    import warnings as _warnings

    from medadapt.data.tables import read_table

    rows = ["age;oldpeak;platelets"] + [f"{50 + i};{i % 4},{i % 10};{200 + i}.{137 + i:03d}"
                                        for i in range(20)]  # fmt: skip
    (tmp_path / "semi.csv").write_text("\n".join(rows) + "\n")
    with pytest.warns(UserWarning, match=r"column 'platelets' .* is read with '\.' as the "
                      r"decimal point .* while 'oldpeak' uses decimal commas") as said:  # fmt: skip
        frame = read_table(tmp_path / "semi.csv")
    assert frame["platelets"].iloc[0] == pytest.approx(200.137)  # read as written, and said
    assert sum("decimal point" in str(w.message) for w in said) == 1
    plain = ["age;oldpeak;weight"] + [f"{50 + i};{i % 4},{i % 10};{70 + i}.5" for i in range(20)]
    (tmp_path / "plain.csv").write_text("\n".join(plain) + "\n")
    with _warnings.catch_warnings():
        _warnings.simplefilter("error")  # one decimal: a dot, not thousands: nothing said
        read_table(tmp_path / "plain.csv")


def test_a_parquet_file_of_text_columns_reads_its_empty_cells_as_missing(tmp_path):
    """A trial's export stored every Parquet column as text, its unmeasured values as empty
    strings: refused as "56 other text" in a numeric column, where the same table as a CSV
    reads them as missing."""
    from medadapt.data.heart import bundled_path
    from medadapt.data.tables import read_table

    heart = pd.read_csv(bundled_path())
    as_text = heart.astype(str).replace({"nan": ""})  # every cell text, the missing ones ""
    as_text.to_parquet(tmp_path / "text.parquet", index=False)
    read = read_table(tmp_path / "text.parquet")
    assert read["trestbps"].isna().sum() == heart["trestbps"].isna().sum() > 0
    assert (pd.to_numeric(read["trestbps"]).dropna() == heart["trestbps"].dropna()).all()


# ----- how a file was read ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("eu.csv", "site;crp;y\n" + "A;2,5;0\nA;1.234,5;1\n" * 10 + "B;n.d.;1\n" * 5,
         "with semicolons between columns and decimal commas in 'crp' (1,5 read as 1.5)"),
        ("eu.csv", "site;crp;y\n" + "A;25;0\nA;n.d.;1\n" * 10,  # no comma: nothing converted
         "with semicolons between columns"),
        ("tabs.csv", HEADER.replace(",", "\t") + "\n" + _rows().replace(",", "\t"),
         "with tabs between columns"),
        ("grouped.csv", 'site,platelets,y\n' + 'A,"1,234",0\nA,"250,000",1\n' * 10,
         "with thousands commas in 'platelets' (1,234 read as 1234)"),
    ],
)  # fmt: skip
def test_a_file_read_otherwise_than_its_name_implies_says_how(tmp_path, name, text, said):
    """A trial's ';' file with decimal commas was read right without a word: the user could
    not tell whether medadapt had; ``train-base`` prints this line."""
    path = _write(tmp_path, name, text)
    assert read_table(path, words=COMMAND_LINE).attrs["read_as"] == f"read --data {path} {said}"


@pytest.mark.parametrize(
    ("name", "text"),
    [("plain.csv", HEADER + "\n" + _rows()), ("plain.tsv", HEADER.replace(",", "\t") + "\n"
                                               + _rows().replace(",", "\t"))],
)  # fmt: skip
def test_a_plain_file_says_nothing_of_its_reading(tmp_path, name, text):
    assert "read_as" not in read_table(_write(tmp_path, name, text)).attrs


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("eu.csv", "site;crp;note;y\n" + 'A;2,5;"fever, cough";0\nA;1,5;well;1\n' * 10,
         "read --data {path} with semicolons between columns and decimal commas in 'crp' "
         "(1,5 read as 1.5)"),
        ("plain.csv", HEADER + ",note\n" + _rows(end=',"fever, cough"'), None),
    ],
)  # fmt: skip
def test_a_free_text_column_with_commas_is_no_number_column(tmp_path, name, text, said):
    """A review: a notes column holding "fever, cough" was named among the decimal-comma
    columns, and a plain CSV was said to have thousands commas."""
    path = _write(tmp_path, name, text)
    read_as = read_table(path, words=COMMAND_LINE).attrs.get("read_as")
    assert read_as == (None if said is None else said.format(path=path))

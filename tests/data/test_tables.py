"""Reading odd real-world tables and encoding them with native missing values."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from medadapt.data.heart import bundled_path
from medadapt.data.option_words import COMMAND_LINE
from medadapt.data.schema import MISSING_INDEX, UNSEEN_INDEX, TableSchema
from medadapt.data.tables import group_labels, read_table
from medadapt.errors import DataError


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_cr_line_endings_and_a_byte_order_mark(tmp_path):
    path = _write(tmp_path, "cr.csv", b"\xef\xbb\xbfage,sex,y\r50,M,0\r61,F,1\r")
    frame = read_table(path)
    assert list(frame.columns) == ["age", "sex", "y"]
    assert frame["age"].tolist() == [50.0, 61.0]


def test_semicolons_with_decimal_commas(tmp_path):
    path = _write(tmp_path, "eu.csv", b"age;crp;y\n50;1,5;0\n61;12,25;1\n70;3;1\n")
    frame = read_table(path)
    assert frame["crp"].tolist() == [1.5, 12.25, 3.0]


def test_decimal_commas_beside_a_few_cells_with_a_unit_are_read_as_numbers(tmp_path):
    """A trial's ";" file with 11 cells of "120 mmHg" among decimal commas was refused as "a
    decimal comma in 144 of 144 values" and told to separate its columns with ";": the
    numbers are read, the cells with a unit left as text for the feature checks to count."""
    rows = [f"{50 + i};{120 + i},5;{i % 2}" for i in range(20)] + ["70;130 mmHg;1"] * 2
    path = _write(tmp_path, "eu.csv", ("age;bp;y\n" + "\n".join(rows) + "\n").encode())
    bp = read_table(path)["bp"]
    assert bp.tolist()[:2] == [120.5, 121.5] and bp.tolist()[-2:] == ["130 mmHg"] * 2


def test_quoted_thousands_become_numbers(tmp_path):
    path = _write(tmp_path, "k.csv", b'age,platelets,y\n50,"1,250",0\n61,"2,400",1\n70,900,1\n')
    assert read_table(path)["platelets"].tolist() == [1250.0, 2400.0, 900.0]


def test_question_marks_and_empty_cells_are_missing(tmp_path):
    path = _write(tmp_path, "m.csv", b"age,ca,y\n50,?,0\n61,,1\n70,2,1\n")
    assert read_table(path)["ca"].isna().tolist() == [True, True, False]


def test_an_empty_file_is_refused_with_the_fix(tmp_path):
    path = _write(tmp_path, "empty.csv", b"\n  \n")
    with pytest.raises(DataError) as err:
        read_table(path)
    assert str(err.value) == (
        f"path={str(path)!r} is empty; export the table again with a header row and patient rows"
    )
    with pytest.raises(DataError) as err:
        read_table(path, words=COMMAND_LINE)
    assert str(err.value) == (
        f"--data {path} is empty; export the table again with a header row and patient rows"
    )


def test_a_folder_is_not_a_table(tmp_path):
    with pytest.raises(DataError) as err:
        read_table(tmp_path, words=COMMAND_LINE)
    assert str(err.value) == (
        f"--data {tmp_path} is a folder, not a table; name the CSV or Parquet file in it"
    )


def test_a_header_without_rows_is_refused(tmp_path):
    path = _write(tmp_path, "header.csv", b"age,y\n")
    with pytest.raises(DataError, match="has a header but no rows"):
        read_table(path)


def test_parquet_round_trip(tmp_path):
    frame = pd.DataFrame({"age": [50.0, 61.0], "sex": ["M", "F"], "y": [0, 1]})
    frame.to_parquet(tmp_path / "t.parquet")
    assert read_table(tmp_path / "t.parquet")["sex"].tolist() == ["M", "F"]


def test_a_label_with_one_class_names_the_column():
    frame = pd.DataFrame({"age": [50, 61, 70], "y": [1, 1, 1]})
    with pytest.raises(DataError) as err:
        TableSchema.infer(frame, label="y")
    assert str(err.value) == (
        "label column 'y' has only one class ('1') in the training rows; a classifier needs two "
        "or more: check the label or the group filter"
    )


def test_a_measured_label_with_one_value_is_refused():
    """A regression label that never varies has nothing to learn, and its R² is undefined."""
    frame = pd.DataFrame({"age": [50.0, 61.0, 70.0], "y": [100.0, 100.0, 100.0]})
    with pytest.raises(DataError) as err:
        TableSchema.infer(frame, label="y", task="regression")
    assert str(err.value) == (  # no value: it is every patient's outcome
        "label column 'y' has one value in every training row; a model of a measured value "
        "needs it to vary: check label=, or the frame's rows"
    )
    with pytest.raises(DataError, match=r"check --label, or the rows --groups picks$"):
        TableSchema.infer(frame, label="y", task="regression", words=COMMAND_LINE)


def test_task_regression_on_a_yes_no_or_a_text_label_says_what_the_values_are():
    """A trial: ``--task regression`` on a 1/2 flag trained and reported R-squared without a
    word; on a label of words it advised emptying the cells, which were every outcome."""
    import warnings

    ages = [50.0, 61.0, 70.0, 45.0] * 5
    flag = pd.DataFrame({"age": ages, "y": [1, 2, 2, 1] * 5})
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        assert TableSchema.infer(flag, label="y", task="regression", words=COMMAND_LINE).task == (
            "regression"
        )
    assert [str(w.message) for w in said] == [
        "label 'y' has only two values (1 and 2), taken as a measured value because of --task "
        "regression: a yes/no outcome so read gets a mean and an R-squared, not a risk; drop "
        "--task regression to predict it as two classes (or pass --positive-above 1)"
    ]
    words = pd.DataFrame({"age": ages, "y": ["mild", "severe"] * 10})
    with pytest.raises(DataError) as err:
        TableSchema.infer(words, label="y", task="regression")
    assert str(err.value) == (
        "regression needs a numeric label, and 'y' holds text in every row (2 distinct "
        "values): its values are classes; drop task='regression' to predict them as classes"
    )


def test_a_feature_renamed_with_its_unit_is_offered_as_the_one_meant():
    """A trial: ``bmi`` renamed ``BMI_kg_m2`` was refused with no hint."""
    frame = pd.DataFrame({"age": [50.0, 61.0, 70.0, 45.0] * 5, "bmi": [22.0, 31.0] * 10,
                          "y": [0, 1, 1, 0] * 5})  # fmt: skip
    schema = TableSchema.infer(frame, label="y", words=COMMAND_LINE)
    renamed = frame.rename(columns={"bmi": "BMI_kg_m2"})
    with pytest.raises(DataError) as err:
        schema.require_columns(renamed)
    assert str(err.value).startswith(
        "the model's feature column 'bmi' is not in the table (its 'BMI_kg_m2' may be "
        "'bmi'); rename the column"
    )


def test_a_missing_label_column_lists_the_columns():
    frame = pd.DataFrame({"age": [50, 61], "y": [0, 1]})
    columns = "is not a column of the table; its columns are: age, y"
    with pytest.raises(DataError) as python:
        TableSchema.infer(frame, label="outcome")
    assert str(python.value) == f"label='outcome' {columns}"
    with pytest.raises(DataError) as command_line:
        TableSchema.infer(frame, label="outcome", words=COMMAND_LINE)
    assert str(command_line.value) == f"--label 'outcome' {columns}"


def test_constant_and_identifier_columns_are_dropped_with_a_reason():
    frame = pd.DataFrame(
        {
            "age": [40 + i % 35 for i in range(60)],
            "unit": ["mg/dl"] * 60,
            "mrn": [f"X{i:04d}" for i in range(60)],
            "y": [0, 1] * 30,
        }
    )
    schema = TableSchema.infer(frame, label="y")
    assert [f.name for f in schema.features] == ["age"]
    assert schema.dropped == {
        "unit": "constant (every value is 'mg/dl')",
        "mrn": "looks like a record identifier (by its name); pass id_column='mrn' if it "
        "identifies patients, or categorical=['mrn'] to use it as a feature",
    }
    assert schema.identifiers == ["mrn"]


def test_missing_values_are_encoded_natively_and_unseen_categories_counted():
    rows = {"age": [50.0, None, 70.0], "sex": ["M", "F", None], "y": [0, 1, 1]}
    train = pd.DataFrame({name: values * 5 for name, values in rows.items()})
    schema = TableSchema.infer(train, label="y")
    table = schema.encode(pd.DataFrame({"age": [None, 60.0], "sex": ["X", None], "y": [0, 1]}))
    assert torch.isnan(table.x_num[0, 0]) and not torch.isnan(table.x_num[1, 0])
    assert table.x_cat[:, 0].tolist() == [UNSEEN_INDEX, MISSING_INDEX]
    assert table.unseen == {"sex": 1}
    assert table.missing == {"age": 1, "sex": 1}


def test_a_feature_column_absent_at_prediction_time_is_all_missing():
    train = pd.DataFrame({"age": [50.0, 61.0, 70.0], "crp": [1.0, 2.0, 3.0], "y": [0, 1, 1]})
    schema = TableSchema.infer(train, label="y")
    table = schema.encode(pd.DataFrame({"age": [55.0]}), with_labels=False)
    assert torch.isnan(table.x_num[0, 1]) and table.missing["crp"] == 1


def test_task_inference_and_positive_above():
    frame = pd.DataFrame(
        {
            "x": [i % 7 for i in range(30)],
            "num": [0, 1, 2, 3, 4] * 6,
            "v": [i * 0.37 for i in range(30)],
        }
    )
    assert TableSchema.infer(frame, label="num", exclude=["v"]).task == "multiclass"
    binary = TableSchema.infer(frame, label="num", positive_above=0, exclude=["v"])
    assert (binary.task, binary.classes) == ("binary", ["0", "1"])
    assert binary.encode_labels(frame).tolist()[:5] == [0, 1, 1, 1, 1]
    assert TableSchema.infer(frame, label="v", exclude=["num"]).task == "regression"


def test_schema_round_trips_through_json():
    import json

    frame = pd.DataFrame({"age": [50.0, 61.0, 70.0], "sex": ["M", "F", "F"], "y": [0, 1, 1]})
    schema = TableSchema.infer(frame, label="y", id_column=None)
    again = TableSchema.from_dict(json.loads(json.dumps(schema.to_dict())))
    assert again == schema


def test_encode_records_equals_encode_of_a_frame():
    train = pd.DataFrame(
        {"age": [50.0, None, 70.0, 64.0], "sex": ["M", "F", None, "F"], "y": [0, 1, 1, 0]}
    )
    schema = TableSchema.infer(train, label="y")
    records = [{"age": None, "sex": "X"}, {"age": 61.0, "sex": "F"}, {"sex": None}]
    x_num, x_cat = schema.encode_records(records)
    table = schema.encode(pd.DataFrame(records).reindex(columns=["age", "sex"]), with_labels=False)
    assert torch.allclose(x_num, table.x_num, equal_nan=True)
    assert torch.equal(x_cat, table.x_cat)


def test_rare_category_levels_are_not_stored_and_encode_as_unseen():
    frame = pd.DataFrame(
        {"ward": ["cardio"] * 10 + ["icu"] * 6 + ["Mr Smith's room"] * 2, "y": [0, 1] * 9}
    )
    schema = TableSchema.infer(frame, label="y")
    assert schema.features[0].categories == ["cardio", "icu"]
    table = schema.encode(frame)
    assert table.unseen == {"ward": 2}
    assert "Smith" not in json.dumps(schema.to_dict())


def test_nearly_unique_text_columns_are_dropped_as_identifiers():
    names = [f"patient {chr(65 + i % 26)}{i}" for i in range(24)]
    frame = pd.DataFrame({"name": names, "age": [50 + i % 9 for i in range(24)], "y": [0, 1] * 12})
    schema = TableSchema.infer(frame, label="y")
    assert [f.name for f in schema.features] == ["age"]
    assert schema.dropped["name"].startswith(
        "looks like a record identifier or free text (24 distinct"
    )


def _heart_with(column: str, values) -> pd.DataFrame:
    """400 rows of the bundled heart data, with text column ``column`` added."""
    heart = pd.read_csv(bundled_path()).head(400)
    return heart.assign(**{column: values}).drop(columns=["id", "dataset"])


@pytest.mark.parametrize("written", ["%d/%m/%Y", "%Y-%m-%d"])
def test_dates_written_as_text_are_said_to_be_dates_not_free_text(written):
    """A trial: ``admission_date`` as dd/mm/yyyy text was "a record identifier or free text
    ...; pass --categorical admission_date to use it as a feature": a date as a category."""
    days = pd.Timestamp("2015-01-01") + pd.to_timedelta([i * 7 % 397 for i in range(400)], "D")
    frame = _heart_with("admission_date", days.strftime(written))
    frame.loc[[3, 30], "admission_date"] = "unknown"  # a few cells that are no date
    schema = TableSchema.infer(frame, label="num", words=COMMAND_LINE)
    assert "admission_date" in schema.identifiers  # said as a warning, as a date number is
    assert schema.dropped["admission_date"] == (
        "looks like a date or time (395 distinct values written as dates); a date lets a model "
        "learn the period or the site a patient came from rather than the patient, and a birth "
        "date identifies a patient: to use what it measures, derive it as a numeric column of "
        "its own (an age, a length of stay, days since an index date); pass --exclude "
        "admission_date to leave it out without this warning"
    )


def test_codes_that_look_like_dates_stay_free_text():
    codes = [f"2019-{i:04d}" for i in range(400)]  # report numbers: year and sequence
    schema = TableSchema.infer(_heart_with("report", codes), label="num", words=COMMAND_LINE)
    assert schema.dropped["report"] == (
        "looks like a record identifier or free text (400 distinct values); pass --categorical "
        "report to use it as a feature"
    )


@pytest.mark.parametrize(
    ("column", "remarks", "why"),
    [
        ("comment", ["no comment", "follow-up", "seen by Dr Smith"], "by its name; 3"),
        ("Clinician Notes", ["ok", "recheck", "fine"], "by its name; 3"),
        ("followup", ["patient seen in clinic today", "review in two weeks time", "none"],
         "most values are 4 words or more; 3"),
    ],
)  # fmt: skip
def test_free_text_of_few_distinct_remarks_is_not_a_feature(column, remarks, why):
    """A trial: a ``comment`` column of 7 template remarks was read as a category and flipped
    22 of 154 predictions when only the remark changed; now it is dropped with a warning."""
    frame = _heart_with(column, [remarks[i % 3] if i % 7 else remarks[0] for i in range(400)])
    schema = TableSchema.infer(frame, label="num", words=COMMAND_LINE)
    assert column in schema.identifiers  # said as a warning
    flag = f"--categorical {column!r}" if " " in column else f"--categorical {column}"
    assert schema.dropped[column] == (
        f"looks like free text ({why} distinct values): a model would read each wording as a "
        f"category, and who wrote what, or when, can stand in for the outcome; pass {flag} to "
        "use it as a feature"
    )
    assert column not in [f.name for f in schema.features]
    kept = TableSchema.infer(frame, label="num", categorical=[column], words=COMMAND_LINE)
    assert column in [f.name for f in kept.features]


def test_categories_of_a_few_words_stay_features():
    """Categories of two or three words ("typical angina", "ST-T wave abnormality") are not
    free text: the heart data's own are kept."""
    frame = _heart_with(
        "ecg", ["ST-T wave abnormality", "normal", "lv hypertrophy"] * 133 + ["normal"]
    )
    schema = TableSchema.infer(frame, label="num", words=COMMAND_LINE)
    assert "ecg" in [f.name for f in schema.features]
    assert {"cp", "restecg"} <= {f.name for f in schema.features}


def test_numbers_with_a_few_text_values_need_a_decision():
    bp = [str(120 + i) for i in range(18)] + ["n.d.", ">180"]
    frame = pd.DataFrame({"bp": bp, "y": [0, 1] * 10})
    with pytest.raises(DataError) as error:
        TableSchema.infer(frame, label="y")
    assert str(error.value) == (
        "column 'bp' holds numbers except 2 text values (a word, a number after < or >; empty, "
        "'?', '.', 'NA', 'n/a' and 'NULL' cells are read as missing); fix them in the frame, "
        "or pass numeric=['bp'] to read them as missing, or categorical=['bp'] to keep them as "
        "categories"
    )  # a frame no file was read into: "in the frame" (a trial's said "in the file")
    schema = TableSchema.infer(frame, label="y", numeric=["bp"])
    assert schema.features[0].kind == "numeric" and schema.text_as_missing == {"bp": 2}
    assert schema.encode(frame).missing == {"bp": 2}


def test_text_written_into_a_frame_after_reading_is_not_blamed_on_the_file(tmp_path):
    """A trial edited a frame read from a clean file: the error sent it to that file's lines.
    Text the file holds is still said with its lines; text it does not, of the frame."""
    path = tmp_path / "bp.csv"
    bp = [120 + 5 * (i % 7) for i in range(30)]
    pd.DataFrame({"bp": bp, "y": [0, 1] * 15}).to_csv(path, index=False)
    read = read_table(path)
    edited = read.assign(bp=read["bp"].astype(object))
    edited.loc[[2, 5], "bp"] = "n.d."
    with pytest.raises(DataError) as error:
        TableSchema.infer(edited.iloc[:25], label="y")  # a part of it, as a trial's
    assert str(error.value).startswith(
        f"column 'bp' of the frame (changed since it was read from path='{path}') holds numbers "
        "except 2 text values (2 words; "
    )
    assert "fix them in the frame, or pass numeric=['bp']" in str(error.value)
    text = path.read_text().splitlines()
    text[3] = "n.d." + text[3][text[3].index(",") :]  # the file's own: its line said
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(DataError) as error:
        TableSchema.infer(read_table(path), label="y")
    assert "holds numbers except 1 text value (line 4: a word;" in str(error.value)
    assert "fix them in the file" in str(error.value)
    both = read_table(path).assign(hr=[70 + 3 * (i % 5) for i in range(30)])  # a review's:
    both["hr"] = both["hr"].astype(object)  # the file's text in one column, the frame's
    both.loc[[1, 7], "hr"] = "n.d."  # in another, said of neither alone
    with pytest.raises(DataError) as error:
        TableSchema.infer(both, label="y")
    assert str(error.value).startswith("columns 'bp', 'hr' hold numbers except a few text ")
    assert "fix them in the file or the frame, where written" in str(error.value)


def test_group_labels_are_text_without_float_suffixes_or_nan():
    values = pd.Series([1.0, 2.0, None, "Basel", 3.5])
    assert group_labels(values).tolist() == ["1", "2", "missing", "Basel", "3.5"]


def test_id_and_group_columns_can_be_read_verbatim(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("mrn;site;value\n000123;1;1,5\n9007199254740993;2;1.234,5\n")
    frame = read_table(path, text_columns=["mrn", "site", None])
    assert frame["mrn"].tolist() == ["000123", "9007199254740993"]
    assert frame["site"].tolist() == ["1", "2"]
    assert frame["value"].tolist() == [1.5, 1234.5]


def test_a_numeric_label_of_one_value_is_not_called_one_class():
    """A trial: a constant measured outcome (100) was refused as "only one class ('100') ... a
    classifier needs two or more"."""
    frame = pd.DataFrame({"age": [50, 61, 70], "y": [100.0, 100.0, 100.0]})
    with pytest.raises(DataError) as err:
        TableSchema.infer(frame, label="y")
    assert str(err.value) == (
        "label column 'y' has one value in every training row; a model needs the outcome to "
        "vary (two classes or more, or a measured value that varies): check label=, or the "
        "frame's rows"
    )


def test_a_positive_class_on_a_measured_label_says_it_can_stay_measured():
    """A trial: --positive-class 150 on a measured label pointed only to a threshold (cutting
    the outcome in two), not to predicting the value itself."""
    frame = pd.DataFrame(
        {"age": [40 + i for i in range(40)], "y": [100.0 + 3 * i for i in range(40)]}
    )
    with pytest.raises(DataError) as err:
        TableSchema.infer(frame, label="y", positive_class="150")
    assert str(err.value).endswith(
        "positive_class chooses which of two values is positive (a numeric label: "
        "positive_above=THRESHOLD; or leave both out to predict it as a measured value)"
    )


def test_a_category_cut_short_is_written_alike_but_a_code_is_not():
    """A trial's 'sex' held Female/female/F and Male/male/M: train-base named the case pairs
    only, and evaluate's per-group table had five rows for two sexes."""
    from medadapt.data.feature_kinds import spelling_warnings, ways_said, written_alike
    from medadapt.workflows.evaluate import _subgroups_written_alike

    sexes = ["Female", "female", "F", "Male", "male", "M"]
    assert written_alike(sexes) == [["Female", "female", "F"], ["Male", "male", "M"]]
    assert written_alike(["A", "B", "AB", "O"]) == []  # blood groups: codes, not words cut
    assert written_alike(["typical angina", "asymptomatic", "non-anginal"]) == []
    assert (
        ways_said([["Male", "male"]]) == "'Male' and 'male': they differ only in upper/lower case"
    )
    assert _subgroups_written_alike({"sex": dict.fromkeys(sexes), "age band": {"<50": 1}}) == [
        "the per-group table lists sex values written several ways apart ('Female', 'female' "
        "and 'F'; 'Male', 'male' and 'M': the same word in other cases, or cut short): their "
        "rows are split between them; write each one way in the file for one row per group"
    ]
    frame = _heart_with("gender", (["F", "Female"] * 200))
    schema = TableSchema.infer(frame, label="num", words=COMMAND_LINE)
    [said] = spelling_warnings(schema.categorical_features)
    assert said == (
        "column 'gender' writes a category in several ways ('F' and 'Female': the same word in "
        "other cases, or cut short) and each is learnt as its own category; write each one way "
        "in the file"
    )


def test_a_table_that_is_not_utf8_is_read_as_windows_1252_and_said_so(tmp_path):
    """A trial's Latin-1 file was read without a word; a UTF-8 file with one stray byte is
    read the same way, which garbles its accents (and so its categories): said as such."""
    import warnings

    from medadapt.data.tables import read_table

    frame = pd.DataFrame({"site": ["Genève", "Zürich"] * 5, "age": range(10)})
    latin = tmp_path / "latin.csv"
    latin.write_bytes(frame.to_csv(index=False).encode("cp1252"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read = read_table(latin)
    assert read["site"].tolist() == frame["site"].tolist()  # the accents read right
    assert [str(w.message) for w in caught] == [
        f"path={str(latin)!r} is not UTF-8 (line 2 first): read as Windows-1252 (Latin-1), as "
        "Excel saves a CSV in Western Europe; if accented names read wrong, save it as 'CSV "
        "UTF-8' and read it again"
    ]
    mixed = tmp_path / "mixed.csv"
    raw = frame.to_csv(index=False).encode("utf-8").replace(b",4\n", b",4\xe9\n")  # line 6
    mixed.write_bytes(raw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_table(mixed)
    assert [str(w.message) for w in caught] == [
        f"path={str(mixed)!r} is UTF-8 but for a byte on line 6: it was read as Windows-1252, "
        "which garbles its UTF-8 accents (é as Ã©) and so its categories; correct that line "
        "and read it again"
    ]

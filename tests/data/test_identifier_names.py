"""Identifiers as hospitals name them (``HADM_ID``, ``PID``, ``Hosp No``, ``FallNr``), told
from small codes by their values, kept together when they repeat, and dates written as numbers:
none of them is used as a feature without a warning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

import medadapt as ma
from medadapt.data.dates import date_scale
from medadapt.data.identifiers import identifier_values, name_looks_like_identifier
from medadapt.data.option_words import COMMAND_LINE
from medadapt.data.schema import TableSchema
from medadapt.errors import DataError
from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE

N_PATIENTS = 80


def _patients(n: int = N_PATIENTS, seed: int = 0) -> pd.DataFrame:
    """One row per patient: two measurements and an outcome that depends on the first."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0, 1, n)
    y = (x1 + rng.normal(0, 1, n) > 0).astype(int)
    return pd.DataFrame({"x1": x1.round(2), "x2": rng.normal(5, 2, n).round(1), "y": y})


def _hospital_numbers(n: int, seed: int = 1) -> np.ndarray:
    """Distinct random 6-7 digit numbers, as a hospital hands them out (no sequence)."""
    return np.random.default_rng(seed).choice(np.arange(100_000, 9_999_999), n, replace=False)


def _used(schema: TableSchema) -> set[str]:
    return {feature.name for feature in schema.features}


# ----- names ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["HADM_ID", "ICUSTAY_ID", "MRN_ID", "PID", "pid", "URN", "hospital_number",
     "medical_record_number", "MedicalRecordNumber", "Hosp No", "EMPI", "chart_no", "chart",
     "FallNr", "PatNr", "Patientennummer", "NHS number", "nhs_no", "CHI number", "USUBJID",
     "SEQN", "patient MRN"],
)  # fmt: skip
def test_the_names_hospitals_give_record_numbers_are_identifiers(name):
    assert name_looks_like_identifier(name)


@pytest.mark.parametrize(
    "name",
    ["num", "pidx", "rapid", "lipid", "humidity", "cardinality", "valid", "number_of_vessels",
     "n_pregnancies", "pregnancy_no", "admission_type", "admission_code", "sample_code", "IDH1",
     "COVID", "thalch", "mean radius"],
)  # fmt: skip
def test_clinical_names_holding_identifier_letters_are_not_identifiers(name):
    assert not name_looks_like_identifier(name)


# ----- values: a name alone is not enough --------------------------------------------------------
def test_identifier_values_need_many_whole_numbers():
    assert identifier_values([1.0, 2.0, 3.0])  # one per row
    assert identifier_values(np.repeat(np.arange(20.0), 10))  # 20 patients in 200 rows
    assert not identifier_values(np.repeat(np.arange(19.0), 10))  # 19: a code
    assert not identifier_values(np.r_[np.repeat(np.arange(20.0), 10), 0.0])  # 20 in 201 rows
    assert not identifier_values(np.arange(40) + 0.5)  # not whole numbers


def test_small_codes_named_like_identifiers_stay_features():
    frame = _patients()
    frame["admission_code"] = np.resize([1, 2], len(frame))  # 1 = emergency, 2 = elective
    frame["visit_no"] = np.resize([1, 2, 3], len(frame))
    frame["sample_code"] = np.resize([1, 2, 3, 4, 5], len(frame))
    frame["lipid_ID"] = np.resize([5.2, 3.6, 4.1], len(frame))  # a lipid value, not a number
    schema = TableSchema.infer(frame, label="y", words=COMMAND_LINE)
    assert {"admission_code", "visit_no", "sample_code", "lipid_ID"} <= _used(schema)
    assert schema.identifiers == [] and schema.dropped == {}


@pytest.mark.parametrize("name", ["HADM_ID", "PID", "Hosp No", "EMPI", "FallNr", "chart_no"])
def test_random_hospital_numbers_are_dropped_with_both_fixes(name):
    frame = _patients()
    frame.insert(0, name, _hospital_numbers(len(frame)))
    schema = TableSchema.infer(frame, label="y", words=COMMAND_LINE)
    quoted = f"'{name}'" if " " in name else name
    assert schema.identifiers == [name]
    assert schema.dropped[name] == (
        f"looks like a record identifier (by its name); pass --id-column {quoted} if it "
        f"identifies patients, or --numeric {quoted} to use it as a feature"
    )


# ----- several rows per patient ------------------------------------------------------------------
def _three_visits() -> pd.DataFrame:
    """Three visits per patient, their numeric ``pid`` shuffled (not a sequence)."""
    visits = pd.concat([_patients(seed=0)] * 3, ignore_index=True)
    visits.insert(0, "pid", np.tile(_hospital_numbers(N_PATIENTS), 3))
    return visits.sample(frac=1.0, random_state=0).reset_index(drop=True)


def test_a_repeated_numeric_patient_number_is_dropped_asking_for_id_column():
    command_line = TableSchema.infer(_three_visits(), label="y", words=COMMAND_LINE)
    assert "pid" not in _used(command_line) and command_line.identifiers == ["pid"]
    assert command_line.dropped["pid"] == (
        "looks like a record identifier (by its name) with repeated values (80 distinct in 240 "
        "rows: several rows per patient?); pass --id-column pid so that each patient's rows "
        "stay on one side of every split, or --numeric pid to use it as a feature"
    )
    python = TableSchema.infer(_three_visits(), label="y")
    assert "pass id_column='pid' so that each patient's rows" in python.dropped["pid"]
    assert python.dropped["pid"].endswith("or numeric=['pid'] to use it as a feature")


# ----- a record number with a few text cells -----------------------------------------------------
def _record_numbers_with_text() -> pd.DataFrame:
    frame = _patients()
    numbers = pd.Series(np.arange(1, len(frame) + 1), dtype=object)
    numbers[[5, 40]] = "unknown"
    frame.insert(0, "record_no", numbers)
    return frame


def test_a_record_number_with_text_cells_is_dropped_leading_with_id_column():
    schema = TableSchema.infer(_record_numbers_with_text(), label="y", words=COMMAND_LINE)
    assert schema.identifiers == ["record_no"]
    assert schema.dropped["record_no"] == (
        "looks like a record identifier (by its name); pass --id-column record_no if it "
        "identifies patients, or --numeric record_no to use it as a feature"
    )
    python = TableSchema.infer(_record_numbers_with_text(), label="y")
    assert python.dropped["record_no"].startswith(
        "looks like a record identifier (by its name); pass id_column='record_no'"
    )


def test_a_record_number_declared_numeric_is_a_feature_deliberately():
    schema = TableSchema.infer(_record_numbers_with_text(), label="y", numeric=["record_no"])
    assert "record_no" in _used(schema) and schema.text_as_missing == {"record_no": 2}


def test_a_measurement_with_text_cells_is_still_refused_with_numeric_advice():
    frame = _patients()
    creatinine = pd.Series(np.random.default_rng(3).normal(1.0, 0.2, len(frame)).round(2))
    creatinine = creatinine.astype(object)
    creatinine[[5, 40]] = "n.d."
    frame["creatinine"] = creatinine
    with pytest.raises(DataError, match=r"pass --numeric creatinine to read them as missing"):
        TableSchema.infer(frame, label="y", words=COMMAND_LINE)


# ----- dates written as numbers ------------------------------------------------------------------
EXCEL_2015 = 42005  # Excel's day number of 1 January 2015
UNIX_2015 = 1_420_070_400  # seconds since 1970 at 1 January 2015


def _days(n: int, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2000, n)


@pytest.mark.parametrize(
    ("name", "values", "scale"),
    [("admission_date", lambda d: EXCEL_2015 + d, "Excel day numbers"),
     ("adm_dt", lambda d: EXCEL_2015 + d + 0.5, "Excel day numbers"),
     ("adm_ts", lambda d: UNIX_2015 + 86_400 * d, "seconds since 1970 (Unix time)"),
     ("timestamp", lambda d: 1000 * (UNIX_2015 + 86_400 * d),
      "milliseconds since 1970 (Unix time)"),
     ("date_of_birth", lambda d: 19_400_101 + 10_000 * (d % 60), "YYYYMMDD numbers"),
     ("DOB", lambda d: 10_959 + 9 * d, "Excel day numbers")],
)  # fmt: skip
def test_a_date_written_as_a_number_is_dropped_with_a_warning(name, values, scale):
    frame = _patients()
    frame[name] = values(_days(len(frame)))
    schema = TableSchema.infer(frame, label="y", words=COMMAND_LINE)
    assert name not in _used(schema) and schema.identifiers == [name]
    assert schema.dropped[name] == (
        f"looks like a date or time (by its name, with values that read as {scale}); a date "
        "lets a model learn the period or the site a patient came from rather than the "
        "patient, and a birth date identifies a patient: to use what it measures, derive it "
        f"as a column of its own (an age, a length of stay); pass --exclude {name} to leave "
        f"it out without this warning, or --numeric {name} to use it as a feature"
    )


def test_the_date_warning_in_python_words_and_its_fixes():
    frame = _patients()
    frame["adm_date"] = EXCEL_2015 + _days(len(frame))
    python = TableSchema.infer(frame, label="y")
    assert python.dropped["adm_date"].endswith(
        "pass exclude=['adm_date'] to leave it out without this warning, or "
        "numeric=['adm_date'] to use it as a feature"
    )
    assert "adm_date" in _used(TableSchema.infer(frame, label="y", numeric="adm_date"))
    excluded = TableSchema.infer(frame, label="y", exclude="adm_date")
    assert excluded.dropped == {} and excluded.identifiers == []


def test_a_date_with_text_cells_is_dropped_as_a_date_not_refused_as_a_measurement():
    frame = _patients()
    dates = pd.Series(EXCEL_2015 + _days(len(frame)), dtype=object)
    dates[[3, 30]] = "unknown"
    frame["adm_date"] = dates
    schema = TableSchema.infer(frame, label="y", words=COMMAND_LINE)
    assert schema.identifiers == ["adm_date"]
    assert schema.dropped["adm_date"].startswith("looks like a date or time (by its name")


def test_durations_and_measurements_in_the_date_range_are_not_dates():
    days = _days(200).astype(float)
    assert date_scale("time", days) is None  # survival days start near zero
    assert date_scale("surgery_time", 30 + days / 10) is None  # minutes
    assert date_scale("platelets", EXCEL_2015 + days) is None  # no date word in the name
    assert date_scale("admission_date", 7000 + days) is None  # 1919 or earlier: no date
    assert date_scale("adm_ts", 86_400 * days) is None  # 1970 plus days: a duration in seconds


def test_the_train_base_command_prints_the_date_and_repeated_id_warnings(tmp_path):
    visits = _three_visits()
    visits["adm_date"] = EXCEL_2015 + _days(len(visits))
    data = tmp_path / "visits.csv"
    visits.to_csv(data, index=False)
    command = ["train-base", "--data", data, "--label", "y", *QUICK_TABLE, "--out", tmp_path / "b"]
    result = succeeded(run_cli(*command))
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("warning: column 'pid' is not used as a feature: it looks like a record "
                        "identifier (by its name) with repeated values (")
        for line in lines
    )  # fmt: skip
    assert any(
        line.startswith("warning: column 'adm_date' is not used as a feature: it looks like a "
                        "date or time (by its name, with values that read as Excel day numbers)")
        for line in lines
    )  # fmt: skip


# ----- no false alarms on real data ---------------------------------------------------------------
def test_the_clean_heart_table_loses_only_its_record_number():
    heart = ma.load_heart_disease()
    schema = TableSchema.infer(heart, label="num", positive_above=0, group_column="dataset")
    assert schema.identifiers == ["id"]
    with_id = TableSchema.infer(
        heart, label="num", positive_above=0, id_column="id", group_column="dataset"
    )
    assert with_id.identifiers == [] and with_id.dropped == {}


@pytest.mark.parametrize("load", [load_diabetes, load_breast_cancer])
def test_scikit_learns_tables_written_as_csv_keep_every_column(load, tmp_path):
    features, target = load(return_X_y=True, as_frame=True)
    path = tmp_path / "table.csv"
    features.assign(outcome=target).to_csv(path, index=False)
    frame = ma.read_table(path)
    schema = TableSchema.infer(frame, label="outcome")
    assert schema.dropped == {} and len(schema.features) == features.shape[1]

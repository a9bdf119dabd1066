"""Record identifiers are not features: found by name or as integer sequences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from medadapt.data.identifiers import integer_sequence, name_looks_like_identifier
from medadapt.data.option_words import COMMAND_LINE
from medadapt.data.schema import TableSchema


@pytest.mark.parametrize(
    "name",
    ["id", "ID", "patient_id", "PatientID", "patientId", "Patient ID", "mrn", "MRN", "record_no",
     "Unnamed: 0", "subject", "id_patient", "case_number", "hospital_id", "visit-id", "uuid"],
)  # fmt: skip
def test_identifier_names(name):
    assert name_looks_like_identifier(name)


@pytest.mark.parametrize(
    "name",
    ["age", "acid", "lipid", "thyroid", "COVID", "covid", "ca", "sex", "dataset", "visit",
     "case", "valid", "fluid", "paid"],
)  # fmt: skip
def test_clinical_names_are_not_identifiers(name):
    assert not name_looks_like_identifier(name)


def test_integer_sequences():
    assert integer_sequence(np.arange(721, 921)) == (
        "200 distinct integers in sequence, one per row"
    )
    sampled = np.sort(np.random.default_rng(0).choice(np.arange(1, 100_000), 60, replace=False))
    assert integer_sequence(sampled).startswith("60 distinct integers rising row after row")
    shuffled = np.random.default_rng(0).permutation(sampled)
    assert integer_sequence(shuffled) is None  # wide and unordered: not evidently a sequence
    assert integer_sequence(np.arange(10)) is None  # too few rows to tell
    assert integer_sequence(np.arange(40) + 0.5) is None  # not integers
    assert integer_sequence(np.arange(40) % 20) is None  # values repeat


def test_the_heart_tables_id_is_dropped_with_a_warning_reason_and_real_features_kept():
    heart = ma.load_heart_disease()
    schema = TableSchema.infer(heart, label="num", positive_above=0, group_column="dataset")
    assert schema.identifiers == ["id"]
    assert schema.dropped["id"] == (  # in the Python API's words
        "looks like a record identifier (by its name); pass id_column='id' if it identifies "
        "patients, or numeric=['id'] to use it as a feature"
    )
    on_the_command_line = TableSchema.infer(
        heart, label="num", positive_above=0, group_column="dataset", words=COMMAND_LINE
    )
    assert on_the_command_line.dropped["id"] == (
        "looks like a record identifier (by its name); pass --id-column id if it identifies "
        "patients, or --numeric id to use it as a feature"
    )
    used = {f.name for f in schema.features}
    assert {"age", "trestbps", "chol", "thalch", "oldpeak"} <= used
    renamed = heart.rename(columns={"id": "rec"})  # no telling name: caught as a sequence
    schema = TableSchema.infer(renamed, label="num", positive_above=0, group_column="dataset")
    assert schema.identifiers == ["rec"]
    assert schema.dropped["rec"].startswith(
        "looks like a record identifier (920 distinct integers in sequence, one per row)"
    )
    kept = TableSchema.infer(heart, label="num", positive_above=0, numeric=["id"])
    assert "id" in {f.name for f in kept.features} and kept.identifiers == []


def test_identifier_columns_given_as_text_are_still_dropped():
    frame = pd.DataFrame(
        {"mrn": [f"H{i:06d}" for i in range(40)], "age": [50 + i % 20 for i in range(40)],
         "y": [0, 1] * 20}
    )  # fmt: skip
    schema = TableSchema.infer(frame, label="y")
    assert schema.identifiers == ["mrn"]


# ----- a label that names records ---------------------------------------------------------------
def test_a_label_of_many_values_on_few_samples_each_names_records():
    """At least MIN_DISTINCT_IDS values, half of them on at most FEW_PER_VALUE samples: no
    class could reach the 5 samples any figure about a class rests on."""
    from medadapt.data.identifiers import FEW_PER_VALUE, MIN_DISTINCT_IDS, label_identifier_reason
    from medadapt.evaluate.metrics import MIN_PER_CLASS

    assert (MIN_DISTINCT_IDS, FEW_PER_VALUE) == (20, 2) and FEW_PER_VALUE < MIN_PER_CLASS
    pairs = [f"C{i // 2}" for i in range(40)]  # 20 values, 2 samples each
    assert label_identifier_reason("code", pairs, noun="images") == (
        "holds 20 distinct values on 40 images, half of them or more on at most 2 images "
        "each: nearly one value per patient or file, as an identifier, a file name or free "
        "text has"
    )
    assert label_identifier_reason("code", pairs[:38]) is None  # 19 values: a few classes
    triples = [f"C{i // 3}" for i in range(60)]  # 20 values of 3: not by the values alone
    assert label_identifier_reason("code", triples) is None
    assert label_identifier_reason("subject_id", triples).startswith("reads as a record")
    assert label_identifier_reason("code", pairs, by_values=False) is None


def test_a_finding_or_a_measured_value_is_no_identifier():
    from medadapt.data.identifiers import label_identifier_reason

    assert label_identifier_reason("pid", ["no", "yes"] * 30) is None  # pelvic inflammatory
    values = [100.0 + 7.3 * i for i in range(60)]  # a measured value: many values, no reason
    assert label_identifier_reason("chol", values, numeric=True) is None
    rising = [float(i) for i in range(40)]  # a file sorted by its outcome: still measured
    assert label_identifier_reason("days", rising, numeric=True) is None
    assert label_identifier_reason("record_no", rising, numeric=True) == (
        "reads as a record identifier by its name and holds 40 distinct values on 40 rows"
    )
    roles = {"patient": "names each image's patient"}
    assert label_identifier_reason("patient", ["a", "b"], roles=roles) == roles["patient"]


def test_a_measured_label_written_with_units_keeps_its_own_refusal():
    """Many values with a unit are a measured outcome: its refusal says so, not 'records'."""
    from medadapt.errors import DataError

    frame = pd.DataFrame({"glucose": [f"{100 + i} mg/dl" for i in range(40)], "age": range(40)})
    with pytest.raises(DataError, match="holds numbers written with text"):
        TableSchema.infer(frame, label="glucose")


def test_a_measured_label_with_a_few_words_among_its_numbers_is_no_identifier():
    """A trial's diabetes outcome with 'pending' in 3 of 235 rows was refused as a column
    that "names records, not a finding"; mostly numbers, it is a measured value whose words
    are said by its own checks (text cells refused, or a word for unknown left out)."""
    from medadapt.errors import DataError

    rng = np.random.default_rng(0)
    values = [f"{v:.0f}" for v in rng.normal(150, 70, 60).clip(25)]
    values[3] = values[17] = values[40] = "awaited"
    frame = pd.DataFrame({"target": values, "age": rng.integers(20, 80, 60)})
    with pytest.raises(DataError) as refused:
        TableSchema.infer(frame, label="target", task="regression")
    assert "names records" not in str(refused.value)
    assert str(refused.value).startswith("regression needs a numeric label; 'target' has 3 ")
    ids = pd.DataFrame({"code": [f"C{i}" for i in range(58)] + ["1", "2"], "age": range(60)})
    with pytest.raises(DataError, match="names records"):  # mostly words: still records
        TableSchema.infer(ids, label="code")

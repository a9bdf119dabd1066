"""What the command line refuses or warns about, the Python API refuses or warns about too, in
its own words: a measured value trained as classes, too few rows for a new model or an
adapter, a record-id column left out, a save over an existing model, a file read with the
wrong separator."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from medadapt.adapters.state import MANIFEST, read_manifest
from medadapt.data.option_words import COMMAND_LINE
from medadapt.errors import MedadaptError
from medadapt.modalities.bundle import BaseModel

QUICK = ma.TrainConfig(epochs=2)


def _rows(n: int, labels: list[str], seed: int = 0) -> pd.DataFrame:
    """``n`` rows of two numeric features and label ``target`` (``labels`` in turn)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    frame["target"] = [labels[i % len(labels)] for i in range(n)]
    return frame


@pytest.fixture(scope="module")
def base() -> BaseModel:
    frame = _rows(100, ["no", "yes"])
    schema = ma.TableSchema.infer(frame, label="target")
    return ma.train_base(frame, schema, train_config=QUICK)


def _said(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def _refusal(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and "--" not in message, message
    return message


# ----- 1. a measured value as classes ---------------------------------------------------------
def test_multiclass_on_a_measured_value_is_refused_in_python_words():
    frame = _rows(60, ["0"])
    frame["target"] = np.arange(60) * 0.5  # 60 distinct numbers, one row each
    with pytest.raises(MedadaptError) as error:
        ma.TableSchema.infer(frame, label="target", task="multiclass")
    assert _refusal(error) == (
        "label column 'target' is a measured value (60 distinct numbers), not classes: 60 of "
        "them have a single row, so a classifier cannot learn them; use task='regression' to "
        "predict it, or positive_above=THRESHOLD to call the values above it positive"
    )


def test_multiclass_on_numbers_whose_classes_all_have_rows_is_kept():
    frame = _rows(60, ["0.5", "1.5", "2.5"])
    schema = ma.TableSchema.infer(frame, label="target", task="multiclass")
    assert schema.classes == ["0.5", "1.5", "2.5"]


def test_the_command_line_leaves_it_to_its_split():
    """The command line refuses the classes its split leaves untrained (untrained_classes_error)."""
    frame = _rows(60, ["0"])
    frame["target"] = np.arange(60) * 0.5
    schema = ma.TableSchema.infer(frame, label="target", task="multiclass", words=COMMAND_LINE)
    assert len(schema.classes) == 60


# ----- 2. too few rows ------------------------------------------------------------------------
def test_train_base_warns_when_the_rarest_class_is_too_small_for_a_new_model():
    frame = _rows(60, ["no"])
    frame.loc[[10, 40], "target"] = "yes"
    schema = ma.TableSchema.infer(frame, label="target")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ma.train_base(frame, schema, train_config=QUICK)
    assert _said(caught) == [
        "the rarer class has 2 of the 60 training rows for 2 features (1.0 per feature; a new "
        "model usually needs at least 10 per feature, Peduzzi et al. 1996, and Riley et al.'s "
        "criteria often more): a base model trained on so few is likely to be overfitted; "
        "collect more rows, or adapt an existing model to these (ma.adapt)"
    ]
    assert caught[0].filename == __file__


def test_train_base_says_nothing_with_enough_rows_of_each_class():
    frame = _rows(100, ["no", "yes"])
    schema = ma.TableSchema.infer(frame, label="target")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ma.train_base(frame, schema, train_config=QUICK)
    assert _said(caught) == []


def test_adapt_on_five_rows_warns_about_the_rows_and_the_rare_classes(base):
    rows = _rows(5, ["yes", "no"], seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ma.adapt(base, rows, method="lora", name="few", train_config=QUICK)
    assert _said(caught) == [
        "classes 'no' and 'yes' have 2 and 3 of the 5 rows of frame (fewer than 5, the fewest "
        "any figure about a class rests on): an adapter trained on so few is likely to be "
        "overfitted to them, and no test here can show how it does on classes 'no' and 'yes' "
        "(accuracy can look good without them); collect more rows of classes 'no' and 'yes'",
        "only 5 training rows: the adapter's figures will be very uncertain; pass more rows in "
        "frame",
    ]
    assert {w.filename for w in caught} == {__file__}


def test_adapt_on_enough_rows_says_nothing_about_their_number(base):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ma.adapt(base, _rows(40, ["no", "yes"], seed=2), method="lora", name="enough",
                 train_config=QUICK)  # fmt: skip
    assert _said(caught) == []


# ----- 3. a record-id column ------------------------------------------------------------------
def test_a_dropped_record_id_column_is_said_with_how_to_keep_it_in_python_words():
    frame = _rows(60, ["no", "yes"])
    frame.insert(0, "patient_id", range(1000, 1060))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schema = ma.TableSchema.infer(frame, label="target")
    assert _said(caught) == [
        "column 'patient_id' is not used as a feature: it looks like a record identifier (by its "
        "name); pass id_column='patient_id' if it identifies patients, or "
        "numeric=['patient_id'] to use it as a feature"
    ]
    assert caught[0].filename == __file__
    assert schema.identifiers == ["patient_id"]


def test_a_record_id_column_named_as_such_is_not_warned_about():
    frame = _rows(60, ["no", "yes"])
    frame.insert(0, "patient_id", range(1000, 1060))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ma.TableSchema.infer(frame, label="target", id_column="patient_id")
    assert _said(caught) == []


# ----- 4. saving over an earlier model --------------------------------------------------------
def test_save_adapter_refuses_an_existing_adapter_unless_overwrite(base, tmp_path: Path):
    result = ma.adapt(base, _rows(40, ["no", "yes"], seed=3), method="lora", name="site",
                      train_config=QUICK)  # fmt: skip
    folder = tmp_path / "site"
    result.model.save_adapter("site", folder)
    before = (folder / MANIFEST).read_bytes()
    with pytest.raises(MedadaptError) as error:
        result.model.save_adapter("site", folder)
    assert _refusal(error) == (
        f"{str(folder)!r} already holds an adapter (adapter.json); choose a new directory, or "
        "pass overwrite=True to replace it"
    )
    assert (folder / MANIFEST).read_bytes() == before
    result.model.save_adapter("site", folder, overwrite=True)
    assert read_manifest(folder)["name"] == "site"


def test_save_adapter_refuses_a_folder_holding_other_files(base, tmp_path: Path):
    result = ma.adapt(base, _rows(40, ["no", "yes"], seed=4), method="lora", name="site",
                      train_config=QUICK)  # fmt: skip
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(MedadaptError) as error:
        result.model.save_adapter("site", tmp_path)
    assert _refusal(error) == (
        f"{str(tmp_path)!r} is not empty; choose a new or empty directory, or pass "
        "overwrite=True to write into it"
    )
    assert not (tmp_path / MANIFEST).exists()
    result.model.save_adapter("site", tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_base_and_an_adapter_never_share_a_folder_even_with_overwrite(base, tmp_path: Path):
    """Both write ``split.json`` (the rows each trained on): an adapter saved into a base's
    folder would replace the base's record, and the base would no longer load; so it is
    refused even with ``overwrite=True``, both ways, and nothing is written."""
    result = ma.adapt(base, _rows(40, ["no", "yes"], seed=5), method="lora", name="site",
                      train_config=QUICK)  # fmt: skip
    folder = base.save(tmp_path / "base")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(MedadaptError) as error:
        result.model.save_adapter("site", folder, overwrite=True)
    assert _refusal(error) == (
        f"{str(folder)!r} holds a model (model.json), which saving an adapter into it would "
        "break, even with overwrite=True; choose a new directory"
    )
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    adapter = result.model.save_adapter("site", tmp_path / "site")
    with pytest.raises(MedadaptError) as error:
        base.save(adapter, overwrite=True)
    assert _refusal(error) == (
        f"{str(adapter)!r} holds an adapter (adapter.json), which saving a base model into it "
        "would break, even with overwrite=True; choose a new directory"
    )
    assert not (adapter / "model.json").exists()
    assert BaseModel.load(folder).schema.label == "target"


def test_base_model_save_onto_a_file_says_so(base, tmp_path: Path):
    (tmp_path / "taken").write_text("mine")
    with pytest.raises(MedadaptError) as error:
        base.save(tmp_path / "taken", overwrite=True)
    assert _refusal(error) == (
        f"cannot write the base model to {tmp_path / 'taken'}: {tmp_path / 'taken'} is a file; "
        "name a directory"
    )
    assert (tmp_path / "taken").read_text() == "mine"


def test_base_model_save_refuses_an_existing_base_unless_overwrite(base, tmp_path: Path):
    folder = base.save(tmp_path / "base")
    with pytest.raises(MedadaptError) as error:
        base.save(folder)
    assert _refusal(error) == (
        f"{str(folder)!r} already holds a base model (model.json); choose a new directory, or "
        "pass overwrite=True to replace it"
    )
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(MedadaptError, match="is not empty; choose a new or empty directory"):
        base.save(tmp_path / "other")
    base.save(folder, overwrite=True)
    assert BaseModel.load(folder).schema.label == "target"


# ----- 5. a file read with the wrong separator ------------------------------------------------
@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_table_read_with_the_wrong_separator_points_to_read_table(separator):
    text = _rows(20, ["no", "yes"]).to_csv(sep=separator, index=False)
    frame = pd.read_csv(io.StringIO(text))  # one column, 'x1;x2;target'
    with pytest.raises(MedadaptError) as error:
        ma.TableSchema.infer(frame, label="target")
    columns = separator.join(["x1", "x2", "target"]).replace("\t", " ")  # one printable line
    assert _refusal(error) == (
        f"label='target' is not a column of the table; its column names are joined by "
        f"{separator!r} (a file read with the wrong separator): read it with "
        f"ma.read_table(path), which finds the separator (its columns are: {columns})"
    )


def test_a_label_among_the_parts_of_a_joined_column_name_points_to_read_table():
    frame = pd.DataFrame({"id": [1, 2], "x1;target": ["1;no", "2;yes"]})
    with pytest.raises(MedadaptError, match=r"joined by ';' .*ma\.read_table\(path\)"):
        ma.TableSchema.infer(frame, label="target")


def test_a_misspelt_label_gets_no_separator_hint():
    with pytest.raises(MedadaptError) as error:
        ma.TableSchema.infer(_rows(20, ["no", "yes"]), label="targte")
    assert "read_table" not in _refusal(error)

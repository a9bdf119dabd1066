"""The Python table API refuses a notebook user's mistakes as the command line does: one
:class:`MedadaptError` line naming the problem and the Python argument that fixes it, never a
raw pandas/torch traceback, a CLI flag, a cell value, or a silently wrong number."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from medadapt.errors import MedadaptError
from medadapt.train.loop import TrainConfig

QUICK = TrainConfig(epochs=2)
VA = "VA Long Beach"


@pytest.fixture(scope="module")
def heart() -> pd.DataFrame:
    frame = ma.load_heart_disease()
    frame["marker"] = np.random.default_rng(0).normal(size=len(frame))  # noise, for leaks
    return frame


@pytest.fixture(scope="module")
def source(heart) -> pd.DataFrame:
    return heart[heart["dataset"].isin(["Cleveland", "Hungary"])]


@pytest.fixture(scope="module")
def target(heart) -> pd.DataFrame:
    return heart[heart["dataset"] == VA]


@pytest.fixture(scope="module")
def schema(source):
    return ma.TableSchema.infer(
        source, label="num", positive_above=0, id_column="id", group_column="dataset"
    )


@pytest.fixture(scope="module")
def base(source, schema):
    return ma.train_base(source, schema, train_config=QUICK)


def _refusal(error: pytest.ExceptionInfo) -> str:
    """The message, checked to be one line for a Python user (no CLI flag)."""
    message = str(error.value)
    assert "\n" not in message and "--" not in message, message
    return message


@pytest.mark.parametrize("call", ["train_base", "adapt", "predict", "true_labels"])
def test_a_file_path_instead_of_a_data_frame_is_refused(call, base, schema):
    calls = {
        "train_base": lambda: ma.train_base("heart.csv", schema),
        "adapt": lambda: ma.adapt(base, "va.csv", method="lora", name="va"),
        "predict": lambda: ma.predict(base.model, schema, "va.csv"),  # was 6 scores, one a letter
        "true_labels": lambda: ma.true_labels(schema, "va.csv"),
    }
    with pytest.raises(MedadaptError) as err:
        calls[call]()
    assert "pandas DataFrame" in _refusal(err) and "read_table" in str(err.value)


def test_an_adapter_name_for_a_model_without_adapters_is_refused(base, schema, target):
    # base.model has no adapter "va": its scores would be the base's, read as the adapter's
    with pytest.raises(MedadaptError) as err:
        ma.predict(base.model, schema, target, adapter="va")
    assert "adapter='va'" in _refusal(err) and "ma.adapt" in str(err.value)
    with pytest.raises(MedadaptError):
        ma.predict(base.model, schema, target, adapter_ids=["va"] * len(target))


def test_a_frame_without_the_label_is_refused_by_name(base, schema, source, target):
    with pytest.raises(MedadaptError) as err:
        ma.train_base(source.drop(columns=["num"]), schema, train_config=QUICK)
    assert "'num'" in _refusal(err) and "predict" in str(err.value)
    with pytest.raises(MedadaptError) as err:
        ma.adapt(base, target.drop(columns=["num"]), method="lora", name="va")
    assert "'num'" in _refusal(err)


def test_rows_without_any_label_or_no_rows_at_all_are_refused(base, schema, target):
    with pytest.raises(MedadaptError) as err:
        ma.adapt(base, target.assign(num=np.nan), method="lora", name="va")
    assert "no rows with a label" in _refusal(err) and str(len(target)) in str(err.value)
    with pytest.raises(MedadaptError) as err:
        ma.predict(base.model, schema, target.iloc[:0])  # was an IndexError from torch
    assert "no rows" in _refusal(err)


def test_absent_feature_columns_are_refused_unless_allowed(base, schema, target):
    lacking = target.drop(columns=["chol"])
    with pytest.raises(MedadaptError) as err:
        ma.predict(base.model, schema, lacking)  # was scored as if nobody's chol were known
    assert "'chol'" in _refusal(err) and "allow_absent_columns=True" in str(err.value)
    with pytest.raises(MedadaptError):
        ma.adapt(base, lacking, method="lora", name="va", train_config=QUICK)
    scores = ma.predict(base.model, schema, lacking, allow_absent_columns=True)
    assert scores.shape == (len(target),)


def test_a_copy_of_the_label_stops_train_base(source):
    leaky = source.assign(disease=np.where(source["num"] > 0, "yes", "no"))
    schema = ma.TableSchema.infer(leaky, label="disease", id_column="id", group_column="dataset")
    with pytest.raises(MedadaptError) as err:
        ma.train_base(leaky, schema, train_config=QUICK)
    message = _refusal(err)
    assert message.startswith("column 'num' (AUROC 1.000) alone predicts 'disease' almost")
    assert "exclude=['num']" in message and "allow_leak=['num']" in message
    kept = ma.TableSchema.infer(
        leaky, label="disease", id_column="id", group_column="dataset", allow_leak=["num"]
    )
    with pytest.warns(UserWarning, match="kept because of allow_leak"):
        ma.train_base(leaky, kept, train_config=QUICK)


def test_a_feature_that_gives_the_label_away_on_the_target_stops_adapt(base, target):
    leaky = target.assign(marker=(target["num"] > 0).astype(float))
    with pytest.raises(MedadaptError) as err:
        ma.adapt(base, leaky, method="lora", name="va", train_config=QUICK)
    message = _refusal(err)
    assert "'marker'" in message and "allow_leak=['marker']" in message
    with pytest.warns(UserWarning, match="marker"):
        ma.adapt(base, leaky, method="lora", name="va", allow_leak=["marker"], train_config=QUICK)


def test_an_unknown_method_names_the_python_argument(base, target):
    with pytest.raises(MedadaptError) as err:
        ma.adapt(base, target, method="lora2", name="va")
    assert _refusal(err).startswith("method must be one of bottleneck, lora")
    assert "'lora2'" in str(err.value) and "full" in str(err.value)


def test_arguments_of_the_wrong_kind_are_refused(base, source, target):
    with pytest.raises(MedadaptError) as err:
        ma.train_base(source, None)
    assert "TableSchema.infer" in _refusal(err)
    with pytest.raises(MedadaptError) as err:
        ma.adapt(None, target, method="lora", name="va")
    assert "ma.train_base" in _refusal(err)


def test_every_adapter_config_and_the_peft_export_are_public():
    from medadapt.adapters import DoraConfig, export_peft

    assert ma.DoraConfig is DoraConfig and ma.export_peft is export_peft
    assert {"DoraConfig", "export_peft"} <= set(ma.__all__)

"""The Python table API refuses a notebook user's mistakes as the command line does: one
:class:`MedadaptError` line naming the problem and the Python argument that fixes it, never a
raw pandas/torch traceback, a CLI flag, a cell value, or a silently wrong number."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from medadapt.adapters.state import read_manifest
from medadapt.errors import MedadaptError
from medadapt.results import AdapterRecord
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


def test_rows_of_one_class_are_refused_unless_allowed(base, schema, target):
    diseased = target[target["num"] > 0]
    with pytest.raises(MedadaptError) as err:  # was trained: an adapter calling everyone ill
        ma.adapt(base, diseased, method="lora", name="va", train_config=QUICK)
    assert _refusal(err) == (
        "frame's labelled rows hold only one class of 'num' ('1'); an adapter trained on them "
        "would call everyone that class: pass rows with at least two classes "
        "(allow_one_class=True trains it all the same)"
    )
    kept = ma.adapt(base, diseased, method="lora", name="va", train_config=QUICK,
                    allow_one_class=True)  # fmt: skip
    assert ma.predict(kept.model, schema, target, adapter="va").shape == (len(target),)
    with pytest.raises(MedadaptError) as err:  # a base too, as train-base refuses it (a
        ma.train_base(diseased, schema, train_config=QUICK)  # trial's trained, warned of)
    assert _refusal(err) == (
        "frame's labelled rows hold only one class of 'num' ('1'); a base model trained on "
        "them would call everyone that class: pass rows with at least two classes"
    )


def test_absent_feature_columns_are_refused_unless_allowed(base, schema, target):
    lacking = target.drop(columns=["chol"])
    with pytest.raises(MedadaptError) as err:
        ma.predict(base.model, schema, lacking)  # was scored as if nobody's chol were known
    assert "'chol'" in _refusal(err) and "allow_absent_columns=True" in str(err.value)
    with pytest.raises(MedadaptError):
        ma.adapt(base, lacking, method="lora", name="va", train_config=QUICK)
    scores = ma.predict(base.model, schema, lacking, allow_absent_columns=True)
    assert scores.shape == (len(target),)


def test_a_table_without_any_of_the_models_features_is_refused_even_when_absences_are_allowed(
    base, schema, target
):
    """A trial's diabetes base given breast-cancer data, told to allow absent columns,
    scored every row on no feature at all."""
    other = pd.DataFrame({"radius": np.arange(30.0), "num": [0, 1] * 15})
    with pytest.raises(MedadaptError) as err:
        ma.predict(base.model, schema, other, allow_absent_columns=True)
    assert _refusal(err) == (
        "none of the model's 14 feature columns ('age', 'sex', 'cp', 'trestbps', 'chol' and 9 "
        "more) is in the table: it was trained on other data than this (predicting 'num'); "
        "check the frame, or pass the schema and model trained for it"
    )


def test_a_copy_of_the_label_stops_train_base(source):
    leaky = source.assign(disease=np.where(source["num"] > 0, "yes", "no"))
    schema = ma.TableSchema.infer(leaky, label="disease", id_column="id", group_column="dataset")
    with pytest.raises(MedadaptError) as err:
        ma.train_base(leaky, schema, train_config=QUICK)
    message = _refusal(err)
    assert message.startswith("column 'num' alone predicts 'disease' with AUROC 1.000 on ")
    assert "exclude=['num']" in message and "allow_leak=['num']" in message
    kept = ma.TableSchema.infer(
        leaky, label="disease", id_column="id", group_column="dataset", allow_leak=["num"]
    )
    with pytest.warns(UserWarning, match="kept because of allow_leak"):
        trained = ma.train_base(leaky, kept, train_config=QUICK)
    ((recorded,),) = [trained.training["allowed_leaks"]]  # saved with it, as train-base's
    assert (recorded["column"], recorded["statistic"], recorded["value"]) == ("num", "AUROC", 1.0)
    with pytest.warns(UserWarning) as said:  # every prediction says it, as medadapt predict's
        ma.predict(trained.model, kept, leaky.head(5))
    assert any(str(w.message).startswith(
        "column 'num' was kept deliberately (--allow-leak / allow_leak=) although on the base "
        "model's training rows it alone predicts 'disease' with AUROC 1.000: these predictions "
        "may rest on a leak") for w in said)  # fmt: skip


def test_a_feature_that_gives_the_label_away_on_the_target_stops_adapt(base, target, tmp_path):
    leaky = target.assign(marker=(target["num"] > 0).astype(float))
    with pytest.raises(MedadaptError) as err:
        ma.adapt(base, leaky, method="lora", name="va", train_config=QUICK)
    message = _refusal(err)
    assert "'marker'" in message and "allow_leak=['marker']" in message
    with pytest.warns(UserWarning, match="marker"):
        result = ma.adapt(
            base, leaky, method="lora", name="va", allow_leak="marker", train_config=QUICK
        )
    ((kept,),) = [result.allowed_leaks]  # recorded, as the command line's adapt records them
    assert (kept["column"], kept["statistic"], kept["value"]) == ("marker", "AUROC", 1.0)
    manifest = read_manifest(result.model.save_adapter("va", tmp_path / "va"))
    assert manifest["metadata"]["allowed_leaks"] == [kept]  # every later result repeats it
    assert AdapterRecord.from_json(manifest["metadata"]).allowed_leaks == [kept]
    unset = AdapterRecord(method="lora").to_json()  # allowed_leaks None: not erased
    again = read_manifest(result.model.save_adapter("va", tmp_path / "again", metadata=unset))
    assert again["metadata"]["allowed_leaks"] == [kept] and again["metadata"]["method"] == "lora"
    copy = ma.BaseModel.load(base.save(tmp_path / "base"))  # the session's base stays plain
    loaded = copy.load_adapter(tmp_path / "va")  # a trial's predictions said nothing of it
    with pytest.warns(UserWarning) as said:
        ma.predict(loaded, copy.schema, leaky.head(5), adapter="va")
    assert [str(w.message) for w in said if "kept deliberately" in str(w.message)] == [
        "column 'marker' was kept deliberately (--allow-leak / allow_leak=) although on the rows "
        "the adapter was trained and tested on it alone predicts 'num' with AUROC 1.000: these "
        "predictions may rest on a leak"
    ]
    result.model.delete_adapter("va")
    assert result.model.adapter_metadata == {}


def test_an_unknown_method_names_the_python_argument(base, target):
    with pytest.raises(MedadaptError) as err:
        ma.adapt(base, target, method="lora2", name="va")
    assert _refusal(err).startswith("method must be one of bottleneck, lora")
    assert "'lora2'" in str(err.value) and "full" in str(err.value)


def test_a_method_named_in_another_case_is_that_method(base, target):
    """A trial's ``method="LoRA"`` (as the README writes it) was refused."""
    from medadapt.train.fitting import method_named

    assert [method_named(m) for m in ("LoRA", " Bottleneck ", "IA3", "Full")] == [
        "lora",
        "bottleneck",
        "ia3",
        "full",
    ]
    quick = ma.TrainConfig(epochs=1, patience=1)
    result = ma.adapt(base, target.head(60), method="LoRA", name="va", train_config=quick)
    assert result.model.configs["va"].method == "lora"


def test_arguments_of_the_wrong_kind_are_refused(base, source, target):
    with pytest.raises(MedadaptError) as err:
        ma.train_base(source, None)
    assert "TableSchema.infer" in _refusal(err)
    with pytest.raises(MedadaptError) as err:
        ma.adapt(None, target, method="lora", name="va")
    assert "ma.train_base" in _refusal(err)


def test_a_network_of_the_wrong_kind_is_refused_in_python_words(base, schema, source, target):
    """A bare network as ``into`` failed as "'FTTransformer' object has no attribute
    'add_adapter'", an image network as "unexpected keyword argument 'x_num'", and too few
    adapter_ids as an IndexError."""
    from torch import nn

    with pytest.raises(MedadaptError) as err:
        ma.adapt(base, target, method="lora", name="va", into=base.model)
    assert _refusal(err) == (
        "into must be an AdapterModel, not FTTransformer: pass ma.AdapterModel(base.model), or "
        "the .model of an earlier adapt on this base"
    )
    with pytest.raises(MedadaptError) as err:
        ma.adapt(base, target, method="lora", name="va", into=ma.AdapterModel(nn.Linear(2, 2)))
    assert _refusal(err).startswith("into wraps a Linear, but the base model is a FTTransformer")
    other = ma.train_base(source, schema, train_config=QUICK, seed=7)  # same kind, other weights
    with pytest.raises(MedadaptError) as err:
        ma.adapt(base, target, method="lora", name="va", into=ma.AdapterModel(other.model))
    assert _refusal(err).startswith("into wraps another FTTransformer (base weights ")
    with pytest.raises(MedadaptError) as err:
        ma.predict(nn.Linear(2, 2), schema, target)
    assert _refusal(err).startswith("model is a Linear, not a table model")
    adapted = ma.adapt(base, target, method="lora", name="va", train_config=QUICK)
    with pytest.raises(MedadaptError) as err:
        ma.predict(adapted.model, schema, target, adapter_ids=["va"])
    assert _refusal(err) == (
        "adapter_ids has 1 entry for 200 samples: pass one per sample (None for the "
        "base model alone), or adapter= for all"
    )
    # an adapter it does not hold: said by argument, with what it holds (a trial's ran 14
    # frames deep into torch first)
    with pytest.raises(MedadaptError) as err:
        ma.predict(adapted.model, schema, target, adapter="VA")
    assert _refusal(err) == (
        "adapter: 'VA' is not an adapter of this model; did you mean 'va'? (it holds: 'va')"
    )
    with pytest.raises(MedadaptError) as err:
        ma.predict(adapted.model, schema, target, adapter_ids=["rural"] * len(target))
    assert _refusal(err).startswith("adapter_ids: 'rural' is not an adapter of this model")
    with pytest.raises(MedadaptError) as err:  # a filter that kept nothing (a trial's "rural")
        ma.adapt(base, target[target["dataset"] == "va long beach"], method="lora", name="x")
    assert _refusal(err).startswith("frame has no rows: check the filter that made it")


def test_every_adapter_config_and_the_peft_export_are_public():
    from medadapt.adapters import DoraConfig, export_peft

    assert ma.DoraConfig is DoraConfig and ma.export_peft is export_peft
    assert {"DoraConfig", "export_peft", "TabularModelConfig"} <= set(ma.__all__)  # (help names it)


def test_versus_base_is_adapt_s_comparison_with_the_mean_error_a_measured_value_needs():
    """``paired_difference(metric="mae")`` alone hides a shift of every prediction: the
    comparison adapt and evaluate make is public as ``ma.versus_base``, its ``mean_error``
    saying that the adapter removed the base's systematic under-prediction."""
    from medadapt.evaluate.versus_base import versus_base

    rng = np.random.default_rng(0)
    y = rng.normal(150, 50, 120)
    base, adapted = y - 20 + rng.normal(0, 10, 120), y + rng.normal(0, 10, 120)
    assert ma.versus_base is versus_base and "versus_base" in ma.__all__
    paired = ma.versus_base(y, adapted, base, metric="mae", n_boot=500)
    assert paired["mean_error"]["verdict"] == "removed"
    assert "removes a systematic under-prediction of about 21" in paired["in_words"]
    mae = ma.paired_difference(y, adapted, base, metric="mae", n_boot=500)
    assert (paired["difference"], paired["ci"]) == (mae.value, list(mae.ci))


# ----- TableSchema.infer -----------------------------------------------------------------------
def test_infer_refuses_a_file_path_instead_of_a_data_frame():
    with pytest.raises(MedadaptError) as err:  # was an AttributeError: 'str' ... 'columns'
        ma.TableSchema.infer("heart.csv", label="num")
    assert "pandas DataFrame" in _refusal(err) and "ma.read_table(path)" in str(err.value)


def test_infer_reads_a_single_name_as_one_column(source):
    # exclude="id" was read letter by letter: "column 'i' given to --exclude"
    schema = ma.TableSchema.infer(
        source, label="num", positive_above=0, exclude="id", categorical="ca", numeric="age",
        allow_leak="oldpeak",
    )  # fmt: skip
    kinds = {f.name: f.kind for f in schema.features}
    assert "id" not in kinds and kinds["ca"] == "categorical" and kinds["age"] == "numeric"
    assert schema.allowed_leaks == ["oldpeak"]


def test_infer_reads_missing_codes_written_as_on_the_command_line(source):
    schema = ma.TableSchema.infer(source, label="num", missing_codes="chol=0, trestbps=0")
    assert schema.missing_codes == {"chol": 0.0, "trestbps": 0.0}  # was a raw ValueError
    as_dict = ma.TableSchema.infer(source, label="num", missing_codes={"chol": 0})
    assert as_dict.missing_codes == {"chol": 0.0}
    with pytest.raises(MedadaptError) as err:
        ma.TableSchema.infer(source, label="num", missing_codes="chol")
    assert _refusal(err).startswith("missing_codes takes COLUMN=NUMBER pairs")
    with pytest.raises(MedadaptError) as err:
        ma.TableSchema.infer(source, label="num", missing_codes=["chol=0"])
    assert "missing_codes" in _refusal(err) and "'chol=0'" in str(err.value)


@pytest.mark.parametrize("role", ["id_column", "group_column"])
def test_infer_refuses_the_label_column_in_a_second_role(source, role):
    with pytest.raises(MedadaptError) as err:  # was accepted: the label became the id too
        ma.TableSchema.infer(source, label="num", **{role: "num"})
    assert _refusal(err) == f"{role} num is also the label column; give each role its own column"


_INFER_MISTAKES = {  # keyword arguments -> the Python argument the error must name
    "label not a column": ({"label": "outcome"}, "label='outcome' is not a column"),
    "listed column absent": ({"exclude": ["ID"]}, "column 'ID' given to exclude is not"),
    "unknown task": ({"task": "binay"}, "task must be one of"),
    "three classes as binary": (
        {"label": "cp", "task": "binary", "positive_above": None},
        "use task='multiclass' or",
    ),
    "text label, threshold": ({"label": "sex", "positive_above": 0}, "positive_above needs"),
    "text given as numbers": ({"numeric": ["sex"]}, "numeric=['sex']: the column holds no"),
    "code on a category": ({"missing_codes": {"sex": 0}}, "missing_codes['sex']: not a numeric"),
}


@pytest.mark.parametrize("case", list(_INFER_MISTAKES))
def test_infer_names_its_own_arguments_not_the_command_lines_flags(source, case):
    arguments, expected = _INFER_MISTAKES[case]
    with pytest.raises(MedadaptError) as err:
        ma.TableSchema.infer(source, **{"label": "num", "positive_above": 0, **arguments})
    assert expected in _refusal(err)


def test_infer_says_how_to_keep_a_dropped_record_number_in_python_words(source):
    schema = ma.TableSchema.infer(source, label="num", positive_above=0)
    assert schema.dropped["id"].endswith(
        "pass id_column='id' if it identifies patients, or numeric=['id'] to use it as a feature"
    )


def test_read_table_names_the_path_not_the_data_flag(tmp_path):
    (tmp_path / "utf16.csv").write_bytes(b"\xff\xfea\x00,\x00y\x00")
    with pytest.raises(MedadaptError) as err:
        ma.read_table(tmp_path / "utf16.csv")
    assert _refusal(err).endswith("UTF-16 (little-endian); save it as UTF-8 (in Excel: 'CSV "
                                  "UTF-8') and read it again")  # fmt: skip
    with pytest.raises(MedadaptError) as err:
        ma.read_table(tmp_path)
    assert _refusal(err) == (
        f"path={str(tmp_path)!r} is a folder, not a table; name the CSV or Parquet file in it"
    )


def test_infer_refuses_a_frame_without_columns():
    with pytest.raises(MedadaptError) as err:  # was "its columns are: " and nothing after it
        ma.TableSchema.infer(pd.DataFrame(), label="num")
    message = _refusal(err)
    assert "no columns" in message and "'num'" in message and not message.endswith(": ")


# ----- binary_metrics --------------------------------------------------------------------------
_Y = np.r_[np.zeros(20, dtype=int), np.ones(20, dtype=int)]
_P = np.random.default_rng(0).uniform(size=40)
_BAD_METRIC_INPUTS = {  # what was a raw sklearn/numpy ValueError (or a silent wrong report)
    "(N, 2) probabilities": (_Y, np.c_[1 - _P, _P], ["shape (40, 2)", "proba[:, 1]"]),
    "lengths differ": (_Y, _P[:-3], ["40 labels", "37 scores"]),
    "text labels": (np.where(_Y == 1, "yes", "no"), _P, ["text", "0/1", "ma.true_labels"]),
    "NaN scores": (_Y, np.r_[_P[:-1], np.nan], ["1 of 40 scores", "NaN"]),
    "NaN labels": (np.r_[_Y[:-1], np.nan], _P, ["1 of 40 labels", "missing"]),
    "measured labels": (np.linspace(0.1, 9.9, 40), _P, ["0 (negative) or 1 (positive)",
                                                        "'regression'"]),
    "labels in [0, 1)": (np.linspace(0.0, 0.9, 40), _P, ["0 (negative) or 1 (positive)"]),
    "logits": (_Y, np.linspace(-4, 4, 40), ["between 0 and 1", "sigmoid"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(_BAD_METRIC_INPUTS))
def test_binary_metrics_refuse_what_they_cannot_score(case):
    y, scores, says = _BAD_METRIC_INPUTS[case]
    with pytest.raises(MedadaptError) as err:
        ma.binary_metrics(y, scores, n_boot=20)
    message = _refusal(err)
    assert all(part in message for part in says), message
    assert "0.5" not in message and "yes" not in message  # no label or score is echoed
    with pytest.raises(MedadaptError):
        ma.compute_metrics("binary", y, scores, n_boot=20)


def test_multiclass_metrics_refuse_rows_that_are_not_probabilities():
    """Logits, or rows not summing to 1, met scikit-learn's own ValueError from deep inside
    it: refused naming the argument and the fix, no score echoed."""
    y = np.array([0, 1, 2] * 10)
    logits = np.random.default_rng(0).normal(0, 2, (30, 3))
    with pytest.raises(MedadaptError) as err:
        ma.compute_metrics("multiclass", y, logits, n_boot=20)
    assert _refusal(err) == (
        "scores must be class probabilities, each row between 0 and 1 and summing to 1; 30 of "
        "30 patients' rows are not: apply a softmax to a model's logits first "
        "(scipy.special.softmax(logits, axis=1)), or divide each row by its sum"
    )
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    exact = ma.compute_metrics("multiclass", y, proba, n_boot=20)
    for near in (proba.astype(np.float16), np.round(proba, 3)):  # a review's: refused then
        given = near.copy()
        assert ma.compute_metrics("multiclass", y, near, n_boot=20)["auroc"] == pytest.approx(
            exact["auroc"], abs=0.01
        )
        np.testing.assert_array_equal(near, given)  # the caller's array left as given


def test_binary_metrics_still_take_lists_booleans_and_float_labels():
    expected = ma.binary_metrics(_Y, _P, n_boot=20)["auroc"]
    for y in (list(_Y), _Y.astype(bool), _Y.astype(float)):
        assert ma.binary_metrics(y, list(_P), n_boot=20)["auroc"] == expected


# ----- warnings about the rows' values -------------------------------------------------------
def test_predict_and_adapt_warn_about_the_rows_values_once_each(base, schema, target, tmp_path):
    rows = target.copy()
    rows["trestbps"] = rows["trestbps"].astype(object)
    rows.iloc[0, rows.columns.get_loc("trestbps")] = 5000.0  # far outside the training rows
    rows.iloc[1, rows.columns.get_loc("trestbps")] = "high"  # text in a numeric column
    rows.iloc[2, rows.columns.get_loc("oldpeak")] = np.inf  # read as missing by read_table
    rows.iloc[3:6, rows.columns.get_loc("chol")] = 0  # "not measured", as in Switzerland's
    rows.to_csv(tmp_path / "va.csv", index=False)
    va = ma.read_table(tmp_path / "va.csv")
    expected = [
        "over 6 SDs from the mean",  # values far outside the training rows
        "column 'chol' is 0 in 3 of",  # far below what the base saw
        "1 text value in numeric column 'trestbps' of the ",
        "1 value of column 'oldpeak' is infinite",
    ]
    calls = {  # predict on the rows scored, adapt on its training rows
        "predict": lambda: ma.predict(base.model, schema, va),
        "adapt": lambda: ma.adapt(base, va, method="lora", name="va", train_config=QUICK),
    }
    for call in calls.values():
        with pytest.warns(UserWarning) as caught:
            call()
        ours = [w for w in caught if any(part in str(w.message) for part in expected)]
        texts = [str(w.message) for w in ours]
        for part in expected:
            assert sum(part in text for text in texts) == 1, (part, texts)
        assert {w.filename for w in ours} == {__file__}  # the user's line, not medadapt's
        assert not any("--" in text or "predict names" in text for text in texts), texts
        assert any("missing_codes={'chol': 0}" in text for text in texts)  # Python's words


def test_an_infinity_in_a_data_frame_is_missing_as_in_a_file():
    """``read_table`` reads inf as missing; a frame built in pandas (a ratio divided by 0) was
    trained on with an infinite mean: every standardised value NaN. Now it is missing there
    too, and the caller's frame is left as it was."""
    heart = ma.load_heart_disease()
    frame = heart[heart["dataset"].isin(["Cleveland", "Hungary"])].copy()
    frame.loc[frame.index[:3], "chol"] = np.inf
    schema = ma.TableSchema.infer(
        frame, label="num", positive_above=0, id_column="id", group_column="dataset"
    )
    base = ma.train_base(frame, schema, seed=0, train_config=QUICK)
    chol = next(f for f in schema.numeric_features if f.name == "chol")
    assert np.isfinite(chol.mean) and np.isfinite(chol.std)
    encoded = schema.encode(frame, with_labels=False)
    assert encoded.missing["chol"] == int(frame["chol"].isna().sum()) + 3
    assert np.isinf(frame["chol"].iloc[:3]).all()  # the caller's frame is untouched
    assert np.isfinite(ma.predict(base.model, schema, frame.iloc[:3])).all()


def test_infer_takes_a_frame_whose_columns_are_numbers():
    """pd.DataFrame(array) has columns 0, 1, 2: infer ended in an AttributeError traceback."""
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 3)))
    frame["y"] = [0, 1] * 20
    schema = ma.TableSchema.infer(frame, label="y")
    assert [f.name for f in schema.features] == [0, 1, 2]


def test_a_text_label_on_a_threshold_base_names_the_data_not_a_flag(base, target):
    """ma.adapt said "--positive-above needs a numeric label": the base's rule is fixed."""
    with pytest.raises(MedadaptError) as err:
        ma.adapt(base, target.assign(num="yes"), method="lora", name="va")
    assert _refusal(err) == (  # how many, where and of which kind (a trial: none of it)
        f"label column 'num' has {len(target)} text values (lines 722, 723, 724 and "
        f"{len(target) - 3} more: {len(target)} words; empty, '?', '.', 'NA', 'n/a' and 'NULL' "
        "cells are read as missing), but the model calls a value above 0 positive: fix those "
        "values, or drop the rows"
    )


def test_base_model_load_names_the_folder_not_the_command_line_flag(tmp_path):
    """``ma.BaseModel.load`` said "--base nope holds no model.json: point --base at ..."; a
    later trial's folder that did not exist, or was a file, "holds no model.json" too."""
    with pytest.raises(MedadaptError) as error:
        ma.BaseModel.load(tmp_path / "nope")
    assert str(error.value) == (
        f"base model folder {str(tmp_path / 'nope')!r} does not exist: pass a folder "
        "written by BaseModel.save() or 'medadapt train-base'"
    )
    (tmp_path / "x.pkl").write_bytes(b"")
    with pytest.raises(MedadaptError, match=r"^base model folder .*x\.pkl' is a file, not a "):
        ma.BaseModel.load(tmp_path / "x.pkl")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MedadaptError, match=r"^base model folder .*empty' holds no model\.json"):
        ma.BaseModel.load(tmp_path / "empty")
    import torch

    model = ma.AdapterModel(torch.nn.Sequential(torch.nn.Linear(2, 2)))
    for path, says in (("nope", "does not exist"), ("x.pkl", "is a file, not a folder")):
        with pytest.raises(MedadaptError) as error:
            model.load_adapter(tmp_path / path)
        assert str(error.value) == (
            f"adapter folder {tmp_path / path} {says}: point at a directory written by "
            "'medadapt adapt' or AdapterModel.save_adapter()"
        )
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "model.json").write_text('{"format": "medadapt-base", "kind"')
    with pytest.raises(MedadaptError, match=r"^base model folder .*bad': model\.json is not valid"):
        ma.BaseModel.load(tmp_path / "bad")
    with pytest.raises(MedadaptError) as error:  # the command line names its flag
        ma.BaseModel.load(tmp_path / "nope", flag="--base")
    assert str(error.value).startswith(f"--base {tmp_path / 'nope'} does not exist: point "
                                       "--base at a directory written by")  # fmt: skip


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["schema"].update(task="regression"),  # raw logits written as predictions
        lambda m: m["schema"]["features"].pop(1),  # a tensor-size RuntimeError
        lambda m: m["architecture"].update(n_heads=0),  # a ZeroDivisionError
        lambda m: m["schema"].update(label="age"),  # scored silently on another column
    ],
    ids=["task", "feature", "n_heads", "label"],
)
def test_a_hand_edited_model_json_is_refused_on_load(base, tmp_path, edit):
    import json

    base.save(tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "model.json").read_text())
    edit(manifest)
    (tmp_path / "b" / "model.json").write_text(json.dumps(manifest))
    with pytest.raises(MedadaptError) as error:
        ma.BaseModel.load(tmp_path / "b")
    assert str(error.value) == (
        f"base model folder {str(tmp_path / 'b')!r}: model.json was edited after the model was "
        "saved (its kind, architecture or schema no longer match the checksum saved with them, "
        "and the weights would be read wrongly); copy the base model again, or retrain it"
    )


def test_duplicate_column_names_are_refused_by_name(base, schema, target):
    """A trial's ``pd.concat([north, north[["bmi"]]], axis=1)`` ended in pandas'
    "'DataFrame' object has no attribute 'dtype'", naming nothing."""
    doubled = pd.concat([target, target[["chol"]]], axis=1)
    said = (
        "frame has duplicate column names ('chol'): rename or drop the copies so each column "
        "has one name (frame.loc[:, ~frame.columns.duplicated()] keeps the first of each)"
    )
    for call in (lambda: ma.TableSchema.infer(doubled, label="num", id_column="id"),
                 lambda: ma.predict(base.model, schema, doubled)):  # fmt: skip
        with pytest.raises(MedadaptError) as err:
            call()
        assert _refusal(err) == said


def test_predict_says_it_scores_rows_the_command_line_leaves_blank(base, schema, target):
    """A trial: ``ma.predict`` scored rows lacking most features, while ``medadapt predict``
    and the service left them blank, and nothing said the two differ."""
    sparse = target.head(10).copy()
    features = [f.name for f in schema.features]
    sparse.loc[:, features[1:]] = np.nan
    with pytest.warns(UserWarning) as caught:
        scores = ma.predict(base.model, schema, sparse)
    said = [str(w.message) for w in caught if "more than half" in str(w.message)]
    assert said and said[0].endswith(
        "(ma.predict scores them; the command line's 'medadapt predict' and the service leave "
        "their answers blank)"
    )
    assert np.isfinite(scores).all()


def test_a_base_model_prints_as_one_readable_line(base):
    """A trial's ``print(base)`` listed the whole network, dozens of lines."""
    said = repr(base)
    assert said.startswith("BaseModel(tabular: FTTransformer, ") and "\n" not in said
    assert "predicts 'num' (0, 1)" in said and said.endswith(
        f"trained on {base.training['n_train']} ({base.training['n_val']} more for early stopping))"
    )


def test_an_adaptation_prints_as_one_readable_line(base, target):
    """A trial's ``print(adapted)`` listed the whole network, as ``print(base)`` had."""
    adapted = ma.adapt(base, target, method="lora", name="va", train_config=QUICK)
    said = repr(adapted)
    assert "\n" not in said, said
    assert said == (
        f"Adaptation('va': lora, {adapted.trainable_params:,} trainable parameters, trained on "
        f"{adapted.n_train} ({adapted.n_val} for validation), best epoch "
        f"{adapted.fit.best_epoch} of 2)"
    )


def test_true_labels_gives_a_measured_outcome_exactly_as_the_table_holds_it(heart):
    """A trial's ``ma.true_labels`` gave a measured cholesterol of 245 as 244.99998 (it went
    through the standardised float32 values the model trains on)."""
    rows = heart.dropna(subset=["chol"])
    schema = ma.TableSchema.infer(rows, label="chol", id_column="id", group_column="dataset")
    values = ma.true_labels(schema, rows)
    assert values.dtype == np.float64
    np.testing.assert_array_equal(values, rows["chol"].to_numpy(dtype=float))
    with pytest.raises(MedadaptError) as error:
        ma.true_labels(schema, rows.assign(chol=rows["chol"].astype(object).where(
            rows.index != rows.index[0], "high")))  # fmt: skip
    assert _refusal(error) == (
        "label column 'chol' has 1 text value (line 2: a word; empty, '?', '.', 'NA', 'n/a' and "
        "'NULL' cells are read as missing), but the model predicts a measured value: fix them in "
        "the file or drop those rows"
    )


def test_a_schema_of_another_model_is_refused_before_torch_says_it(base, source, target):
    """A trial: ``ma.predict(diabetes_base.model, breast_cancer_schema, rows)`` ended in
    torch's "The size of tensor a (30) must match the size of tensor b (10)"."""
    fewer = source.drop(columns=["chol", "oldpeak"])
    other = ma.TableSchema.infer(fewer, label="num", positive_above=0, id_column="id",
                                 group_column="dataset")  # fmt: skip
    with pytest.raises(MedadaptError) as error:
        ma.predict(base.model, other, target)
    numeric = len(base.schema.numeric_features)
    categorical = len(base.schema.categorical_features)
    assert _refusal(error) == (
        f"schema does not fit model: the network reads {numeric} numeric and {categorical} "
        f"categorical features and gives 1 output, the schema names {numeric - 2} numeric "
        f"and {categorical} categorical features (or other categories) and 1 output; pass "
        "the schema saved with that model (ma.BaseModel.load(folder).schema, or the schema it "
        "was trained with)"
    )


def test_scoring_a_model_that_holds_adapters_without_naming_one_is_said(base, schema, target):
    """A trial loaded an adapter into an AdapterModel, forgot ``adapter=``, and got the base
    model's scores without a word; ``print(model)`` showed "AdapterModel(\\n)", then 80 lines."""
    adapted = ma.adapt(base, target, method="lora", name="va", train_config=QUICK)
    with pytest.warns(UserWarning) as caught:
        plain = ma.predict(adapted.model, schema, target)
    said = [str(w.message) for w in caught if "adapter= was not given" in str(w.message)]
    assert said == [
        "adapter= was not given, so these are the base model's scores, though the model holds "
        "adapter 'va': pass adapter='va' to score through it"
    ]
    np.testing.assert_allclose(plain, ma.predict(base.model, schema, target), atol=1e-6)
    with warnings.catch_warnings(record=True) as named:
        warnings.simplefilter("always")
        ma.predict(adapted.model, schema, target, adapter="va")
    assert not [w for w in named if "adapter= was not given" in str(w.message)]
    size = adapted.model.count_parameters("va")
    assert repr(adapted.model) == (
        f"AdapterModel(FTTransformer, adapters: 'va' (lora, {size:,} parameters))"
    )
    assert repr(ma.AdapterModel(copy.deepcopy(base.model))) == (
        "AdapterModel(FTTransformer, no adapters)"
    )


def test_a_base_saved_after_adapters_wrapped_it_loads_back_as_the_plain_base(base, target,
                                                                           tmp_path):  # fmt: skip
    """A trial loaded adapters as the README does (``ma.AdapterModel(base.model)``, which
    wraps the network in place), then ``base.save``: the weights were written under the
    wrapped names and ``BaseModel.load`` refused the folder as damaged; ``repr(base)`` had
    counted the adapter's parameters as the base's."""
    plain = copy.deepcopy(base)
    before = repr(plain)
    wrapped = ma.AdapterModel(plain.model)
    wrapped.add_adapter("va", ma.LoraConfig(r=2))
    assert repr(plain) == before  # the base's own parameters, not the adapter's
    plain.save(tmp_path / "again")
    loaded = ma.BaseModel.load(tmp_path / "again")
    assert loaded.fingerprint == base.fingerprint
    frame = target.head(30)
    assert np.array_equal(ma.predict(loaded.model, loaded.schema, frame),
                          ma.predict(base.model, base.schema, frame))  # fmt: skip
    wrapped.merge_adapter("va")
    with pytest.raises(MedadaptError) as err:
        plain.save(tmp_path / "merged")
    assert _refusal(err) == (
        "the base model's weights hold merged adapters ('va'): call unmerge() on its "
        "AdapterModel before saving the base"
    )
    assert not (tmp_path / "merged").exists()


def test_python_slips_a_trial_made_are_refused_by_argument(base):
    """AdapterModel(base) ended in "'BaseModel' object has no attribute 'named_children'";
    compute_metrics("Binary", ...) scored a yes/no outcome as a measured value; a threshold
    of 7 gave metrics; a second adapter of one name did not say which argument to change."""
    with pytest.raises(MedadaptError) as err:
        ma.AdapterModel(base)
    assert _refusal(err) == (
        "base_model must be a torch network, not BaseModel (pass base.model, the network it holds)"
    )
    y, p = np.array([0, 1] * 20), np.linspace(0.1, 0.9, 40)
    with pytest.raises(MedadaptError) as err:
        ma.compute_metrics("Binary", y, p)
    assert _refusal(err) == "task must be one of binary, multiclass, regression; got 'Binary'"
    with pytest.raises(MedadaptError) as err:
        ma.binary_metrics(y, p, threshold=7)
    assert _refusal(err) == (
        "threshold must be a probability between 0 and 1 (the operating point for sensitivity "
        "and specificity); got 7"
    )
    model = ma.AdapterModel(copy.deepcopy(base.model))
    model.add_adapter("va", ma.LoraConfig(r=2))
    with pytest.raises(MedadaptError) as err:
        model.add_adapter("va", ma.LoraConfig(r=2))
    assert _refusal(err) == (
        "an adapter named 'va' already exists; pick another name (name=...), or "
        "delete_adapter('va') first"
    )


def test_a_site_column_read_as_a_feature_is_warned_of(source):
    """A trial's schema took its 'site' column as a feature without a word (no
    group_column): the model learns each training site's rate and reads a new site as an
    unseen category."""
    schema = ma.TableSchema.infer(source, label="num", positive_above=0, id_column="id")
    assert "dataset" in [f.name for f in schema.features]
    with pytest.warns(UserWarning) as said:
        ma.train_base(source, schema, train_config=ma.TrainConfig(epochs=1))
    assert (
        "column 'dataset' names each row's site (2 values) and is read as a model feature: the "
        "model learns each of these sites' own rates, and a new site's rows, whose value it "
        "never saw, are read as 'unseen'; pass TableSchema.infer(..., group_column='dataset') "
        "to split and adapt by it instead, or TableSchema.infer(..., exclude=['dataset']) to "
        "leave it out"
    ) in [str(w.message) for w in said]
    grouped = ma.TableSchema.infer(source, label="num", positive_above=0, id_column="id",
                                   group_column="dataset")  # fmt: skip
    with warnings.catch_warnings(record=True) as quiet:
        warnings.simplefilter("always")
        ma.train_base(source, grouped, train_config=ma.TrainConfig(epochs=1))
    assert not any("names each row's site" in str(w.message) for w in quiet)


def test_adapter_and_adapter_ids_together_are_refused(base, schema, target):
    """A trial's ``adapter="va_lora", adapter_ids=["va_dora"] * 20`` scored through va_dora
    without a word."""
    adapted = ma.adapt(base, target, method="head", name="va", train_config=QUICK)
    with pytest.raises(MedadaptError) as err:
        ma.predict(adapted.model, schema, target, adapter="va", adapter_ids=["va"] * len(target))
    assert _refusal(err) == (
        "adapter='va' and adapter_ids= were both given: adapter_ids names each row's adapter "
        "and adapter names one for every row; pass one of them"
    )


def test_a_peft_wrapped_table_network_is_named_as_such(base, schema, target):
    """A trial's ``PeftModel`` was refused as "a LoraModel", PEFT's inner wrapper."""
    import copy

    from peft import LoraConfig as PeftLoraConfig
    from peft import get_peft_model

    wrapped = get_peft_model(copy.deepcopy(base.model),
                             PeftLoraConfig(r=2, target_modules=["W_q"]))  # fmt: skip
    with pytest.raises(MedadaptError) as err:
        ma.predict(wrapped, schema, target)
    assert _refusal(err).startswith(
        "model is a PeftModel (Hugging Face PEFT): pass model.get_base_model(), the table "
        "network with PEFT's adapter in it"
    )
    assert ma.predict(wrapped.get_base_model(), schema, target).shape == (len(target),)


def test_a_method_s_settings_are_set_from_python_as_from_the_command_line(base, target):
    """A trial could set LoRA's rank with --adapter-options only: ma.adapt refused a config
    object as "method must be one of ..." and had no other way."""
    adapted = ma.adapt(base, target, method="lora", name="r2", train_config=QUICK,
                       method_options={"r": 2, "alpha": 4})  # fmt: skip
    config = adapted.model.configs["r2"]
    assert (config.r, config.alpha) == (2, 4)
    default = ma.adapt(base, target, method="lora", name="d", train_config=QUICK)
    assert adapted.trainable_params < default.trainable_params  # a smaller rank: fewer
    for options, said in (
        ({"rank": 4}, "method_options: 'rank' is not an option of lora (its options: alpha, "
                      "dropout, r, use_rslora)"),
        ({"r": 0}, "method_options {'r': 0}: "),
    ):  # fmt: skip
        with pytest.raises(MedadaptError) as err:
            ma.adapt(base, target, method="lora", name="x", method_options=options)
        assert _refusal(err).startswith(said)
    with pytest.raises(MedadaptError) as err:  # it added nothing to the model, silently
        ma.adapt(base, target, method="full", name="f", into=adapted.model)
    assert _refusal(err) == (
        "into= adds an adapter to a model; method='full' trains a fine-tuned copy of the base "
        "and adds nothing to it: drop into"
    )


def test_a_schema_of_one_shape_reading_rows_otherwise_is_refused(base, schema, source, target):
    """A trial's schema inferred with another coding of the outcome (positive class '1'
    where the model's is 'malignant') scored as the model's own, without a word; a schema
    inferred on other rows scales the features by their statistics, not the model's."""
    assert ma.predict(base.model, schema, target).shape == (len(target),)  # its own: scored
    flipped = ma.TableSchema.infer(source, label="num", positive_above=1, id_column="id",
                                   group_column="dataset")  # fmt: skip
    with pytest.raises(MedadaptError) as err:
        ma.predict(base.model, flipped, target)
    assert _refusal(err) == (
        "schema does not fit model: the schema reads 'num' otherwise than the model was "
        "trained to; pass the schema saved with that model (base.schema, or "
        "ma.BaseModel.load(folder).schema)"
    )
    elsewhere = ma.TableSchema.infer(source.iloc[::2], label="num", positive_above=0,
                                     id_column="id", group_column="dataset")  # fmt: skip
    with pytest.raises(MedadaptError) as err:
        ma.predict(base.model, elsewhere, target)
    assert "the schema scales or codes feature " in _refusal(err)


def test_a_python_adapter_records_what_it_predicts_for_the_registry(base, target, tmp_path):
    """A trial's Python adapter was listed by the registry with no task or group and carded
    "for an unstated task": it records what the command line's adapt records, counts only."""
    import json

    from medadapt.registry.records import summaries

    adapted = ma.adapt(base, target, method="lora", name="va", train_config=QUICK)
    adapted.model.save_adapter("va", tmp_path / "va")
    manifest = json.loads((tmp_path / "va" / "adapter.json").read_text())
    kept = summaries(manifest)
    assert kept["task"] == "binary"
    positives = int((target["num"] > 0).sum())
    assert kept["data_summary"].pop("sample_size") == adapted.sample_size  # (the test below)
    assert kept["data_summary"] == {
        "n_train": len(target), "n_test": 0, "group_column": "dataset", "group": VA,
        "train_class_counts": {"0": len(target) - positives, "1": positives},
        "n_positive": positives, "prevalence": round(positives / len(target), 4),
        "unit": "rows",
    }  # fmt: skip
    assert manifest["metadata"]["label"] == "num" and manifest["metadata"]["method"] == "lora"


def test_a_python_adapter_plans_riley_s_criterion_as_check_data_does(base, target, tmp_path):
    """``ma.adapt`` recorded no sample-size criterion where the command line's adapt prints
    and records one: on all of a site's rows, the need it records for a LoRA adapter is the
    one ``check-data`` gives for LoRA at that site (the same rows, the same base scores), and
    the adapter's card says it."""
    from medadapt.evaluate.samplesize_outcomes import DEVELOPMENT_SOURCE
    from medadapt.registry.card import render_card
    from medadapt.workflows.sample_size import check_sample_size

    adapted = ma.adapt(base, target, method="lora", name="va", train_config=QUICK)
    entry = adapted.sample_size
    base_dir = base.save(tmp_path / "base")
    target.to_csv(tmp_path / "va.csv", index=False)
    checked = check_sample_size(base_dir, tmp_path / "va.csv", group_column="dataset", group=VA)
    lora = checked["development"]["lora"]
    assert entry["parameters"] == lora["parameters"] == adapted.trainable_params - 1
    assert (entry["criterion"], entry["n_needed"]) == (lora["binding"], lora["n"])
    assert entry["r2_cs"] == round(checked["r2_cs"], 4) and (entry["n_train"], entry["n_test"]) == (
        len(target),
        0,
    )
    assert entry["met"] is (len(target) >= lora["n"])
    # no test set here: the development papers only (check-data also plans a validation)
    assert entry["source"] == DEVELOPMENT_SOURCE != checked["source"]
    adapted.model.save_adapter("va", tmp_path / "va")
    manifest = read_manifest(tmp_path / "va")
    card = render_card(name="va", version=1, parent=None, registered="2026-12-06",
                       manifest=manifest)  # fmt: skip
    assert f"would need {entry['n_needed']:,} patients (criterion {entry['criterion']})" in card
    assert "in the adapter's training patients, outcome prevalence" in card


def test_a_fully_fine_tuned_copy_plans_riley_s_criterion_for_every_weight(base, target, tmp_path):
    """``ma.adapt(method="full")`` recorded no criterion where the command line's adapt
    records one for it: the fine-tuned copy is read as a new model with every weight of the
    base (its output intercept aside), as ``check-data``'s full fine-tuning row reads it."""
    from medadapt.workflows.sample_size import check_sample_size

    tuned = ma.adapt(base, target, method="full", name="va", train_config=QUICK)
    entry = tuned.sample_size
    target.to_csv(tmp_path / "va.csv", index=False)
    checked = check_sample_size(base.save(tmp_path / "base"), tmp_path / "va.csv",
                                group_column="dataset", group=VA)  # fmt: skip
    full = checked["development"]["full_finetune"]
    assert entry["parameters"] == full["parameters"] == tuned.trainable_params - 1
    assert (entry["criterion"], entry["n_needed"]) == (full["binding"], full["n"])
    assert entry["met"] is False and entry["n_train"] == len(target)


def test_a_misspelt_allow_leak_column_is_refused_by_argument(base, target):
    """A trial's ``allow_leak=[..., "no such col"]`` trained without a word, where the
    command line refuses the name."""
    with pytest.raises(MedadaptError) as err:
        ma.adapt(base, target, method="head", name="x", allow_leak=["choll"])
    assert _refusal(err).startswith("allow_leak: 'choll' is not an input of the base model")
    assert _refusal(err).endswith("; did you mean 'chol'?")

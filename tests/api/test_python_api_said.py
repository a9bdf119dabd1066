"""What a new user of the Python table API was not told: rows left out for want of a label,
a rename that would overwrite a feature, a 0-4 label taken as five classes, a threshold on a
yes/no label, a numeric feature written with its unit, and each of six kept leaks repeated.
Each is said once, at the user's line, in Python words (``positive_above=0``, never a flag),
naming columns, counts and the label's classes only, never a patient's value."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest

import medadapt as ma
from medadapt.data.option_words import COMMAND_LINE
from medadapt.data.schema import counted_classes_warning
from medadapt.errors import MedadaptError
from medadapt.modalities.tabular.modality import _unlabelled_notes
from medadapt.train.loop import TrainConfig

QUICK = TrainConfig(epochs=1)
MARKERS = [f"m{i}" for i in range(1, 7)]  # noise at the source; each gives the label away at VA
LEFT_OUT = "rows have no value in label column 'num': left out (a missing outcome is never guessed)"


def _refusal(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and "--" not in message, message
    return message


def _said(caught, part: str) -> list[str]:
    """The warnings that say ``part``, each checked to point at this file (the user's line)."""
    ours = [w for w in caught if part in str(w.message)]
    assert {w.filename for w in ours} <= {__file__}, [w.filename for w in ours]
    return [str(w.message) for w in ours]


@pytest.fixture(scope="module")
def heart() -> pd.DataFrame:
    frame = ma.load_heart_disease()
    rng = np.random.default_rng(0)
    for name in MARKERS:
        frame[name] = rng.normal(size=len(frame))
    return frame


@pytest.fixture(scope="module")
def source(heart) -> pd.DataFrame:
    rows = heart[heart["dataset"].isin(["Cleveland", "Hungary"])].copy()
    rows.loc[rows.index[:40], "num"] = np.nan  # 40 patients without an outcome
    return rows


@pytest.fixture(scope="module")
def va(heart) -> pd.DataFrame:
    return heart[heart["dataset"] == "VA Long Beach"]


@pytest.fixture(scope="module")
def schema(source) -> ma.TableSchema:
    return ma.TableSchema.infer(
        source, label="num", positive_above=0, id_column="id", group_column="dataset"
    )


@pytest.fixture(scope="module")
def trained(source, schema):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        base = ma.train_base(source, schema, train_config=QUICK)
    return base, caught


# ----- 1. rows without a label -----------------------------------------------------------------
def test_train_base_says_how_many_rows_without_a_label_it_left_out(trained, source):
    _, caught = trained
    assert source["num"].isna().sum() == 40 and len(source) == 597
    assert _said(caught, "no value in label column") == [f"40 of 597 {LEFT_OUT}"]


def test_adapt_says_how_many_rows_without_a_label_it_left_out(trained, va):
    base, _ = trained
    rows = va.copy()
    rows.loc[rows.index[:40], "num"] = np.nan
    with pytest.warns(UserWarning) as caught:
        ma.adapt(base, rows, method="lora", name="va", train_config=QUICK)
    assert _said(caught, "no value in label column") == [f"40 of 200 {LEFT_OUT}"]
    with warnings.catch_warnings(record=True) as caught:  # every row labelled: nothing said
        warnings.simplefilter("always")
        ma.adapt(base, va, method="lora", name="va", train_config=QUICK)
    assert not _said(caught, "no value in label column")
    assert not _said(caught, "the base model trained on")  # VA's rows never trained it


def test_adapt_says_how_many_rows_trained_the_base_already(trained, source):
    """A trial adapted on the base's own training rows without a word (the command line
    counts them: "the base model trained on 8 of these 44 rows")."""
    base, _ = trained
    cleveland = source[(source["dataset"] == "Cleveland") & source["num"].notna()]
    with pytest.warns(UserWarning) as caught:
        adapted = ma.adapt(base, cleveland, method="lora", name="c", train_config=QUICK)
    # no row the base never saw to plan the sample size on (nor, from Python, a held-out
    # figure of the base): Riley et al.'s conservative default, said so
    assert adapted.sample_size["auroc_at_site"] is None
    assert adapted.sample_size["r2_source"] == (
        "conservative default (Nagelkerke R-squared 0.15, Riley et al. 2020)"
    )
    assert _said(caught, "the base model trained on") == [
        f"the base model trained on {len(cleveland)} of the {len(cleveland)} rows of frame (by "
        "content): an adapter learns little from rows the base already fitted, and any figure "
        "on them is in-sample; adapt on other patients' rows"
    ]


def test_rows_without_a_label_are_said_in_the_command_lines_words():
    assert [f"40 of 597 {LEFT_OUT}"] == _unlabelled_notes("num", 597, 557)


# ----- 2. no rename onto a column the model reads ----------------------------------------------
def test_a_feature_present_is_never_offered_as_the_rename_of_a_missing_one(trained, schema, va):
    base, _ = trained
    with pytest.raises(MedadaptError) as err:  # was: did you mean 'thalch' for 'thal'?
        ma.predict(base.model, schema, va.drop(columns=["chol", "thal", "ca"]))
    assert _refusal(err) == (
        "the model's feature columns 'chol', 'ca', 'thal' are not in the table; add 'chol', "
        "'ca', 'thal' as empty columns (read as not measured for every row), or pass "
        "allow_absent_columns=True to treat them as missing for every row"
    )


def test_a_column_the_model_does_not_read_is_still_offered_once(schema, va):
    renamed = va.drop(columns=["chol"]).rename(columns={"thal": "Thal", "ca": "cal"})
    with pytest.raises(MedadaptError) as err:
        schema.require_columns(renamed)
    assert str(err.value).startswith(
        "the model's feature columns 'chol', 'ca', 'thal' are not in the table (its 'cal' may "
        "be 'ca'; its 'Thal' may be 'thal'); rename the columns"
    )
    doubled = va.drop(columns=["ca", "thal"]).assign(thalx=1)  # one column for one feature
    with pytest.raises(MedadaptError) as err:
        schema.require_columns(doubled)
    assert "are not in the table (its 'thalx' may be 'thal'); " in str(err.value)


def test_a_renamed_column_s_fix_names_the_frame_not_a_flag(trained, va):
    """A trial's ``ma.predict`` on a frame with 'BMI' for 'bmi' was told to "rename the
    columns in --data"."""
    base, _ = trained
    with pytest.raises(MedadaptError) as err:
        ma.predict(base.model, base.schema, va.rename(columns={"chol": "Chol"}))
    said = str(err.value)
    assert "(its 'Chol' may be 'chol'); rename the column in frame, or pass " in said, said
    assert "--" not in said, said


# ----- 3. the label ----------------------------------------------------------------------------
def test_a_label_of_counts_from_0_warns_that_it_builds_a_model_of_each_count(source):
    with pytest.warns(UserWarning) as caught:
        inferred = ma.TableSchema.infer(source, label="num", id_column="id", group_column="dataset")
    assert inferred.task == "multiclass"
    assert _said(caught, "-class model") == [
        "label column 'num' has 5 classes ('0', '1', '2', '3', '4'), so a 5-class model is "
        "built; for a yes/no outcome pass positive_above=0 (a value above 0 is positive), or "
        "if the 5 classes are meant, task='multiclass' to say so"
    ]
    with warnings.catch_warnings(record=True) as caught:  # chosen: nothing to say
        warnings.simplefilter("always")
        ma.TableSchema.infer(source, label="num", task="multiclass", id_column="id")
        ma.TableSchema.infer(source, label="num", positive_above=0, id_column="id")
    assert not _said(caught, "-class model")
    assert counted_classes_warning(inferred, COMMAND_LINE).endswith(
        "for a yes/no outcome pass --positive-above 0 (a value above 0 is positive), or if the "
        "5 classes are meant, --task multiclass to say so"
    )


def test_a_label_of_many_whole_numbers_may_be_a_score_and_says_so(source):
    """A trial: a progression score of 1 to 13 was taken as 13 unordered classes (accuracy
    0.219) without a word of --task regression."""
    from medadapt.cli.printing import task_line

    scores = source.assign(num=(source["age"] // 6).astype(int))  # 4 to 12: 9 numbers, no 0
    with pytest.warns(UserWarning) as caught:
        inferred = ma.TableSchema.infer(scores, label="num", id_column="id")
    classes = ", ".join(map(repr, inferred.classes))
    assert _said(caught, "-class model") == [
        f"label column 'num' has 9 classes ({classes}), so a 9-class model is built, each "
        "number a class of its own with no order; pass task='regression' if it is a count or a "
        "score (its numbers ordered), or if the 9 classes are meant, task='multiclass' to say so"
    ]
    assert task_line("multiclass", inferred.classes, label="num").endswith(
        "inferred from --label num"  # the warning says what else it may be, once
    )
    assert counted_classes_warning(
        ma.TableSchema.infer(source, label="num", id_column="id"), COMMAND_LINE
    ).endswith("or if the 5 classes are meant, --task multiclass to say so")  # 0 to 4


def test_a_label_of_classes_that_are_not_counts_is_not_warned_about(source):
    grades = source.assign(num=source["num"].map({0: "A", 1: "B", 2: "C", 3: "C", 4: "C"}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ma.TableSchema.infer(grades, label="num", id_column="id", group_column="dataset")
    assert not _said(caught, "-class model")


def test_a_threshold_on_a_yes_no_label_names_positive_class(source):
    answers = source.assign(num=np.where(source["num"] > 0, "yes", "no"))
    with pytest.raises(MedadaptError) as err:
        ma.TableSchema.infer(answers, label="num", positive_above=0, id_column="id")
    assert _refusal(err) == (
        "positive_above needs a numeric label, but 'num' has text values ('no' and 'yes'): pass "
        "positive_class='yes' instead to call 'yes' positive"
    )
    named = source.assign(num=np.where(source["num"] > 0, "Disease", "Healthy"))
    with pytest.raises(MedadaptError) as err:
        ma.TableSchema.infer(named, label="num", positive_above=0, words=COMMAND_LINE)
    assert str(err.value) == (
        "--positive-above needs a numeric label, but 'num' has text values ('Disease' and "
        "'Healthy'): pass --positive-class Disease or --positive-class Healthy instead, naming "
        "the outcome to detect"
    )


# ----- 4. a numeric feature written with its unit ----------------------------------------------
def test_a_numeric_feature_written_with_its_unit_is_refused_as_on_the_command_line(trained, va):
    base, _ = trained
    mean = next(f.mean for f in base.schema.features if f.name == "age")
    aged = va.assign(age=[f"{v:.0f} y" for v in va["age"]])  # every row: '63 y'
    calls = {
        "predict": lambda: ma.predict(base.model, base.schema, aged),
        "adapt": lambda: ma.adapt(base, aged, method="lora", name="va", train_config=QUICK),
    }
    for call in calls.values():  # was: 200 text value(s) ... read as missing, and scored
        with pytest.raises(MedadaptError) as err:
            call()
        assert _refusal(err) == (
            "frame: column 'age' holds numbers written with a unit or other text in 200 of 200 "
            "values ('y'), which the model reads as numbers; write the numbers alone in the "
            f"frame, in the unit the model trained on (mean {mean:.4g})"
        )
    words = va.assign(age=va["age"].astype(object).where(va.index % 2 == 0, "pending"))
    with pytest.raises(MedadaptError) as err:
        ma.predict(base.model, base.schema, words)
    assert _refusal(err) == (
        "frame: column 'age' holds text, not numbers, in 100 of its 200 non-empty values (all "
        "100 words), which the model reads as numbers (as missing values, each such row would be "
        "scored without the column); write the numbers alone in the frame (NaN where nothing "
        "was measured)"
    )


def test_a_few_stray_text_values_stay_a_warning(trained, va):
    base, _ = trained
    few = va.assign(age=va["age"].astype(object))
    few.loc[few.index[:20], "age"] = "63 y"  # a tenth: read as missing, counted
    with pytest.warns(UserWarning) as caught:
        ma.predict(base.model, base.schema, few)
    assert _said(caught, "text values") == [
        f"20 text values in numeric column 'age' of the {len(few)} rows read here are read as "
        "missing: they are numbers with text after them, the unit 'y'"
    ]


def test_huge_and_infinite_numbers_in_a_frame_are_missing_as_in_a_file(trained, va):
    """A DataFrame made in memory (not by ``ma.read_table``) scored 1e300 as a measurement,
    where the command line reads it as missing and says so: the same rows got other risks."""
    base, _ = trained
    absent, huge, endless = va.copy(), va.copy(), va.copy()
    rows = va.index[:10]
    absent.loc[rows, "chol"], huge.loc[rows, "chol"], endless.loc[rows, "chol"] = (
        np.nan,
        1e300,
        np.inf,
    )
    expected = ma.predict(base.model, base.schema, absent)
    for frame in (huge, endless):
        with pytest.warns(UserWarning) as caught:
            scores = ma.predict(base.model, base.schema, frame)
        np.testing.assert_array_equal(scores, expected)
        assert _said(caught, "infinite or beyond") == [
            "10 values of column 'chol' are infinite or beyond 1e+15 (not a measurement): "
            "read as missing"
        ]
    assert huge.loc[rows, "chol"].eq(1e300).all()  # the caller's frame is left as it was
    with pytest.warns(UserWarning) as caught:
        ma.train_base(huge, base.schema, train_config=QUICK)
    assert len(_said(caught, "infinite or beyond")) == 1


def _unusable(n: int, column: str) -> str:
    return (
        f"{n} {'value' if n == 1 else 'values'} of column {column!r} "
        f"{'is' if n == 1 else 'are'} infinite or beyond 1e+15 (not a measurement): read as missing"
    )


def test_a_schema_is_fitted_with_huge_and_infinite_numbers_missing(source, tmp_path):
    """1e300 in a feature gave it mean 5e297 and std inf (every value then normalised to 0),
    an infinite regression label a mean of inf: inferred on the values ``ma.read_table``
    reads as missing, the schema is the one fitted with NaN there, said once per column."""
    absent, bad = source.copy(), source.copy()
    absent.loc[source.index[50:52], "chol"], absent.loc[source.index[60], "age"] = np.nan, np.nan
    bad.loc[source.index[50:52], "chol"], bad.loc[source.index[60], "age"] = [1e300, np.inf], np.inf
    options = {"label": "age", "task": "regression", "id_column": "id", "group_column": "dataset"}
    expected = ma.TableSchema.infer(absent, **options)
    with pytest.warns(UserWarning) as caught:
        schema = ma.TableSchema.infer(bad, **options)
    assert schema.to_dict() == expected.to_dict()
    assert np.isfinite(schema.label_mean) and np.isfinite(schema.label_std)
    assert _said(caught, "infinite or beyond") == [_unusable(1, "age"), _unusable(2, "chol")]
    assert bad.loc[source.index[50], "chol"] == 1e300  # the caller's frame is left as it was
    path = tmp_path / "rows.csv"  # read so already, as the command line reads: said by read
    bad.to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read = ma.TableSchema.infer(ma.read_table(path, text_columns=["id"]), **options)
    assert not _said(caught, "infinite or beyond")
    assert [f.name for f in read.features] == [f.name for f in expected.features]


def test_an_infinite_label_is_a_missing_one_left_out_as_on_the_command_line(schema, source):
    """train_base refused one ``num = inf`` as "missing for 1 rows" though the frame had no
    missing label there: it is read as missing first, and left out with the others."""
    rows = source.copy()
    rows.loc[rows.index[100], "num"] = np.inf
    with pytest.warns(UserWarning) as caught:
        ma.train_base(rows, schema, train_config=QUICK)
    assert _said(caught, "no value in label column") == _unlabelled_notes("num", 597, 556)
    assert _said(caught, "infinite or beyond") == [_unusable(1, "num")]


def test_adapts_leak_check_reads_a_huge_number_as_missing(trained, va):
    """``m1`` gives the label away on VA's rows where measured; 1e300 in five healthy rows
    ranked them above every sick one (AUROC 0.90: no leak found). Read as missing, as in a
    file, the rest of ``m1`` is judged: refused as with NaN there."""
    base, _ = trained
    sick = (va["num"] > 0).to_numpy(dtype=float)
    leaky = va.assign(m1=sick + np.random.default_rng(2).normal(0, 0.01, len(va)))
    healthy = leaky.index[sick == 0][:5]
    absent, huge, endless = leaky.copy(), leaky.copy(), leaky.copy()
    absent.loc[healthy, "m1"], huge.loc[healthy, "m1"], endless.loc[healthy, "m1"] = (
        np.nan,
        1e300,
        np.inf,
    )
    refusals = []
    for frame in (absent, huge, endless):
        with pytest.raises(MedadaptError) as error:
            ma.adapt(base, frame, method="lora", name="va", train_config=QUICK)
        refusals.append(_refusal(error))
    assert "column 'm1' alone predicts 'num'" in refusals[0]
    assert refusals[1] == refusals[2] == refusals[0]


# ----- 5. leaks kept at once -------------------------------------------------------------------
def test_six_kept_leaks_are_one_warning(trained, va):
    base, _ = trained
    rng = np.random.default_rng(1)
    sick = (va["num"] > 0).to_numpy(dtype=float)
    leaky = va.assign(**{name: sick + rng.normal(0, 0.01, len(va)) for name in MARKERS})
    with pytest.warns(UserWarning) as caught:
        ma.adapt(base, leaky, method="lora", name="va", allow_leak=MARKERS, train_config=QUICK)
    kept = _said(caught, "kept because of allow_leak")
    described = ", ".join(f"'{name}' (AUROC 1.000)" for name in MARKERS)
    assert kept == [
        f"columns {described} each alone predict 'num' almost perfectly; kept because of "
        "allow_leak: results that rely on them will not hold where they are unknown"
    ]


def test_a_schema_says_which_class_is_positive_as_the_command_line_s_task_line(source):
    """`TableSchema.infer` printed every feature's encoding (means, levels) and no word of
    which class is the one detected, which the command line says on its task line."""
    outcome = source.dropna(subset=["num"]).assign(
        diagnosis=lambda f: np.where(f["num"] > 0, "malignant", "benign")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # benign/malignant: the positive-class warning
        inferred = ma.TableSchema.infer(outcome.drop(columns="num"), label="diagnosis",
                                        id_column="id", group_column="dataset")  # fmt: skip
        chosen = ma.TableSchema.infer(outcome.drop(columns="num"), label="diagnosis",
                                      id_column="id", positive_class="benign")  # fmt: skip
    kinds = Counter(f.kind for f in inferred.features)
    assert repr(inferred) == (
        "TableSchema(label='diagnosis': binary, positive class 'malignant' (of 'benign', "
        f"'malignant'); {len(inferred.features)} features: {kinds['numeric']} numeric, "
        f"{kinds['categorical']} categorical; id_column='id'; group_column='dataset')"
    )
    assert repr(chosen).startswith(
        "TableSchema(label='diagnosis': binary, positive class 'benign' (of 'malignant', 'benign');"
    )
    above = ma.TableSchema.infer(source, label="num", positive_above=0, id_column="id")
    assert "binary, positive class '1': num > 0;" in repr(above)


def test_an_adapter_folder_loaded_as_a_base_names_the_python_way_to_write_one(tmp_path):
    """A trial's ``BaseModel.load`` of an adapter folder was told of 'medadapt train-base'
    only: a folder written by ``BaseModel.save()`` is named first."""
    from tests.registry.helpers import make_adapter

    adapter = make_adapter(tmp_path / "adapter")  # records no base folder
    with pytest.raises(MedadaptError) as err:
        ma.BaseModel.load(adapter)
    assert str(err.value).endswith(
        f"{adapter} is an adapter (adapter.json), not a base model; pass the base model it "
        "adapts (a folder written by BaseModel.save() or 'medadapt train-base')"
    )


def test_a_column_the_model_does_not_read_is_said_at_predict(trained, va):
    """A trial's notebook added a lab column to the rows it scored: nothing said that the
    model does not read it, where ``medadapt predict`` notes it. The label, id and group
    columns are the model's own, and not said."""
    base, _ = trained
    with pytest.warns(UserWarning) as caught:
        ma.predict(base.model, base.schema, va.assign(troponin=1.0))
    assert _said(caught, "not read by the model") == [
        "1 column of frame is not read by the model: 'troponin' (it was not among the "
        "features the base trained on; train a new base to use it)"  # as medadapt predict's
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ma.predict(base.model, base.schema, va)  # num, id and dataset: known
    assert not [w for w in caught if "not read by the model" in str(w.message)]
    with pytest.warns(UserWarning) as caught:  # a copy of the label: never to train on
        ma.predict(base.model, base.schema, va.assign(grade=va["num"]))
    said = _said(caught, "not read by the model")
    assert len(said) == 1 and said[0].startswith(
        "column 'grade' of frame is not read by the model, and must not be: it is "
    )
    assert said[0].endswith("a copy of the label (never train a model on it)")


def test_an_adapter_for_one_group_given_another_groups_rows_says_so(trained, heart, va):
    """A trial's notebook scored every site's rows through the VA adapter without a word,
    where ``medadapt predict`` warns: said with the count, and nothing for VA's own rows."""
    base, _ = trained
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ma.adapt(base, va, method="lora", name="va", train_config=QUICK)
    others = heart[heart["dataset"] == "Switzerland"]
    mixed = pd.concat([va.iloc[:10], others.iloc[:5]])
    with pytest.warns(UserWarning) as caught:
        ma.predict(result.model, base.schema, mixed, adapter="va")
    assert _said(caught, "is for dataset") == [
        "adapter 'va' is for dataset = 'VA Long Beach', but 5 of the 15 rows it scores have "
        "another value of 'dataset': they are scored with it too; to score only that group, "
        "pass only its rows"
    ]
    with pytest.warns(UserWarning) as caught:
        ma.predict(result.model, base.schema, mixed.drop(columns="dataset"), adapter="va")
    assert _said(caught, "is for dataset") == [
        "adapter 'va' is for dataset = 'VA Long Beach', but frame has no column 'dataset' to "
        "tell that group's rows by: the 15 rows it scores are scored with it, whatever their "
        "group; to score only that group, pass only its rows"
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ma.predict(result.model, base.schema, va.iloc[:10], adapter="va")
    assert not [w for w in caught if "is for dataset" in str(w.message)]


def test_true_labels_without_the_label_says_what_to_do(schema, va):
    """A trial's ``ma.true_labels`` on rows without the outcome said only "label column
    'progressed' is not in the table"."""
    with pytest.raises(MedadaptError) as err:
        ma.true_labels(schema, va.drop(columns="num"))
    assert str(err.value) == (
        "label column 'num' is not in frame: true_labels reads the outcome of labelled rows; "
        "add the outcome column (rows without an outcome can only be scored, with ma.predict)"
    )

"""Trial 13's wording, on scikit-learn's breast cancer and diabetes tables: a measured label is
never listed value by value, an error's difference says which way is better, the metric that
could not be compared is the one named, study takes adapt's method names, a misspelt --label
and label value get "did you mean", and a train-base option at adapt says where it is chosen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE

#: breast cancer columns that each predict the label well short of a leak
FEATURES = ["mean texture", "mean smoothness", "mean symmetry", "texture error", "area error"]


def _breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame = frame[[*FEATURES, "target"]].rename(columns=lambda c: c.replace(" ", "_"))
    frame["target"] = np.where(frame["target"] == 0, "malignant", "benign")
    frame["site"] = np.random.default_rng(0).choice(["A", "B", "C"], len(frame))
    return frame


@pytest.fixture(scope="module")
def cancer(tmp_path_factory) -> dict[str, Path]:
    """A base trained on sites A and B, a file whose site C has 10 rows (3 held out), and
    one whose site C writes 'Malignant' in 3 rows."""
    root = tmp_path_factory.mktemp("trial13")
    frame = _breast_cancer()
    paths = {"data": root / "bc.csv", "base": root / "base", "few": root / "few.csv",
             "typo": root / "typo.csv"}  # fmt: skip
    frame.to_csv(paths["data"], index=False)
    few = pd.concat([frame[frame["site"] != "C"], frame[frame["site"] == "C"].head(10)])
    few.to_csv(paths["few"], index=False)
    typo = frame.copy()
    rows = typo.index[(typo["site"] == "C") & (typo["target"] == "malignant")][:3]
    typo.loc[rows, "target"] = "Malignant"
    typo.to_csv(paths["typo"], index=False)
    succeeded(run_cli("train-base", "--data", paths["data"], "--label", "target",
                      "--group-column", "site", "--groups", "A,B",
                      "--positive-class", "malignant", *QUICK_TABLE,
                      "--out", paths["base"]))  # fmt: skip
    return paths


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory) -> Path:
    from sklearn.datasets import load_diabetes

    path = tmp_path_factory.mktemp("trial13_diabetes") / "diab.csv"
    load_diabetes(as_frame=True, scaled=False).frame.to_csv(path, index=False)
    return path


def _said(text: str) -> str:
    return " ".join(text.split())  # the terminal wraps at its width


def test_multiclass_on_a_measured_label_is_said_by_counts_not_values(diabetes, tmp_path):
    line = error_line(run_cli("train-base", "--data", diabetes, "--label", "target",
                              "--task", "multiclass", *QUICK_TABLE,
                              "--out", tmp_path / "b"))  # fmt: skip
    assert line == (
        "error: label column 'target' is a measured value (214 distinct numbers), not classes: "
        "20 of them have no rows on the training side of the split, so a classifier cannot "
        "learn them; use --task regression to predict it, or --positive-above THRESHOLD to "
        "call the values above it positive"
    )
    binary = error_line(run_cli("train-base", "--data", diabetes, "--label", "target",
                                "--task", "binary", *QUICK_TABLE,
                                "--out", tmp_path / "b"))  # fmt: skip
    assert "is a measured value (214 distinct numbers), not 2 classes" in binary
    assert not (tmp_path / "b").exists()


def test_a_few_real_classes_without_training_rows_are_still_named():
    from medadapt.data.option_words import COMMAND_LINE
    from medadapt.data.schema import measured_looking, untrained_classes_error

    assert measured_looking([str(v) for v in range(25)]) and measured_looking(["1.5", "2"])
    assert not measured_looking(["1", "2", "3"]) and not measured_looking(["mild", "severe"])
    assert untrained_classes_error("grade", ["1", "2", "3"], ["3"], COMMAND_LINE) == (
        "label column 'grade': 1 class ('3') has no rows on the training side of the "
        "split (too few rows to split); merge or drop rare classes, or, for a measured value, "
        "pass --task regression"
    )


def test_an_error_s_difference_says_which_way_is_better():
    from medadapt.evaluate.difference import Difference
    from medadapt.evaluate.versus_base import _adapter_in_words

    worse = Difference("mae", 0.25, (-0.99, 1.48))
    assert _adapter_in_words(worse, "MAE", "patients") == (
        "Paired on the same patients, the adapter changes MAE by +0.25 (95% CI -0.99 to +1.48; "
        "a higher MAE is worse): no detectable difference on these patients."
    )
    better = Difference("rmse", -4.2, (-8.1, -0.3))
    assert _adapter_in_words(better, "RMSE", "patients") == (
        "Paired on the same patients, the adapter changes RMSE by -4.20 (95% CI -8.10 to -0.30; "
        "a lower RMSE is better): the adapter predicts closer to the measured values (large "
        "errors weighted)."
    )
    alike = Difference("mae", 0.5, (0.5, 0.5))
    assert _adapter_in_words(alike, "MAE", "rows") == (
        "Paired on the same rows, the adapter changes MAE by +0.500 (a higher MAE is worse) in "
        "every resample of these rows, so the change has no interval: judge it on more rows."
    )
    auroc = Difference("auroc", 0.012, (-0.01, 0.03))  # higher is better, as read
    assert _adapter_in_words(auroc, "AUROC", "patients") == (
        "Paired on the same patients, the adapter changes AUROC by +0.012 (95% CI -0.010 to "
        "+0.030): no detectable difference on these patients."
    )


def test_adapt_on_a_measured_label_says_which_way_is_better(diabetes, tmp_path):
    frame = pd.read_csv(diabetes)
    frame["site"] = np.random.default_rng(0).choice(["A", "B", "C"], len(frame))
    data = tmp_path / "diab_sites.csv"
    frame.to_csv(data, index=False)
    succeeded(run_cli("train-base", "--data", data, "--label", "target", "--group-column",
                      "site", "--groups", "A,B", *QUICK_TABLE,
                      "--out", tmp_path / "b"))  # fmt: skip
    out = succeeded(run_cli("adapt", "--base", tmp_path / "b", "--data", data, "--label",
                            "target", "--group-column", "site", "--group", "C",
                            "--out", tmp_path / "a")).stdout  # fmt: skip
    assert "; a higher MAE is worse): " in _said(out) or "; a lower MAE is better): " in _said(out)


def test_too_few_test_rows_name_the_metric_that_could_not_be_compared(cancer, tmp_path):
    out = _said(succeeded(run_cli("adapt", "--base", cancer["base"], "--data", cancer["few"],
                                  "--label", "target", "--group-column", "site", "--group", "C",
                                  "--out", tmp_path / "a")).stdout)  # fmt: skip
    assert (
        "base model alone on the same 3 rows: AUROC n/a The adapter and the base model cannot "
        "be compared on AUROC (not reported: only 3 patients (at least 10 needed))."
    ) in out
    assert "accuracy n/a" not in out


def test_study_takes_adapt_s_method_names():
    from medadapt.errors import ConfigError
    from medadapt.modalities.base import modality_of
    from medadapt.workflows.study_grid import StudyConfig

    tables = modality_of("tabular")
    config = StudyConfig(group_column="site", target_group="C", source_groups=("A", "B"),
                         strategies=("head", "full", "head_only"))  # fmt: skip
    assert config.check(tables).strategies == ("head_only", "full_finetune")
    with pytest.raises(ConfigError) as error:
        StudyConfig(group_column="site", target_group="C", source_groups=("A",),
                    strategies=("heads",)).check(tables)  # fmt: skip
    assert str(error.value) == (
        "--methods: 'heads' not available for rows; choose from base_only, head_only, "
        "bottleneck, lora, full_finetune, scratch_local, ia3, dora (or adapt's names: head for "
        "head_only, full for full_finetune); did you mean 'head'?"
    )


def test_a_label_spelt_otherwise_gets_did_you_mean(cancer, tmp_path):
    line = error_line(run_cli("train-base", "--data", cancer["data"], "--label", "Target",
                              *QUICK_TABLE, "--out", tmp_path / "b"))  # fmt: skip
    assert line == (
        "error: --label 'Target' is not a column of the table; did you mean 'target'? (its "
        "columns are: mean_texture, mean_smoothness, mean_symmetry, texture_error, area_error, "
        "target, site)"
    )


def test_an_unknown_label_value_names_the_file_and_the_class_it_looks_like(cancer, tmp_path):
    said = (
        "label column 'target' has the value 'Malignant' (3 rows) that the model was not "
        "trained on (its classes: 'benign', 'malignant'); did you mean 'malignant' for "
        "'Malignant'? Correct those rows in {where}, or drop them"
    )
    for verb in ("adapt", "evaluate"):
        argv = [verb, "--base", cancer["base"], "--data", cancer["typo"],
                "--group-column", "site", "--group", "C"]  # fmt: skip
        if verb == "adapt":
            argv += ["--label", "target", "--out", tmp_path / "a"]
        assert error_line(run_cli(*argv)) == "error: " + said.format(where="--data")
    from medadapt.errors import DataError
    from medadapt.modalities.bundle import BaseModel

    schema = BaseModel.load(cancer["base"]).schema
    with pytest.raises(DataError) as error:  # the Python API: the frame, not a flag
        schema.encode_labels(pd.read_csv(cancer["typo"]))
    assert str(error.value) == said.format(where="the frame")


def test_many_unknown_numbers_are_counted_not_listed():
    from medadapt.data.schema import TableSchema
    from medadapt.errors import DataError

    frame = pd.DataFrame({"x": np.arange(40) % 7, "y": ["no", "yes"] * 20})
    schema = TableSchema.infer(frame, label="y")
    with pytest.raises(DataError) as error:
        schema.encode_labels(pd.DataFrame({"x": range(30), "y": np.arange(30) * 1.5}))
    assert str(error.value) == (
        "label column 'y' has 30 values (30 rows) that the model was not trained on (its "
        "classes: 'no', 'yes'); correct those rows in the frame, or drop them"
    )


def test_a_label_coded_0_and_1_for_two_named_classes_is_told_the_mapping():
    """A trial's site wrote 1/0 where the base learnt Yes/No: told to "correct those rows, or
    drop them", the whole site."""
    from medadapt.data.schema import TableSchema
    from medadapt.errors import DataError

    frame = pd.DataFrame({"x": np.arange(40) % 7, "y": ["No", "Yes"] * 20})
    schema = TableSchema.infer(frame, label="y")
    with pytest.raises(DataError) as error:
        schema.encode_labels(pd.DataFrame({"x": range(30), "y": [0, 1, 1] * 10}))
    assert str(error.value) == (
        "label column 'y' has values '0' (10 rows), '1' (20 rows) that the model was not "
        "trained on (its classes: 'No', 'Yes'): if 0 and 1 stand for 'No' and 'Yes', write "
        "them so in the frame (the model's positive class is 'Yes')"
    )


@pytest.mark.parametrize(
    "verb",
    ["adapt", "evaluate", "predict", "check-data", "federate server", "federate client"],
)
def test_a_train_base_option_at_a_later_verb_says_where_it_is_chosen(verb, tmp_path):
    line = error_line(run_cli(*verb.split(), "--base", tmp_path / "b", "--positive-class",
                              "malignant"))  # fmt: skip
    assert line == (
        f"error: --positive-class is chosen at train-base and kept with the model, so {verb} "
        "does not take it (the base's outcome is used as train-base defined it): drop it, or "
        "train a new base with train-base --positive-class (a table's label of two values) or "
        "--positive-above (a table's measured one)"
    )


# ----- a later trial: options another verb takes, and "did you mean" only when close ---------


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["predict", "--window", "brain"],
         "error: --window is chosen at train-base and kept with the model, so predict does not "
         "take it (the base reads intensities as it trained: its CT window, where it has one): "
         "drop it, or train a new base with train-base --window"),
        (["adapt", "--image-size", "64"],
         "error: --image-size is chosen at train-base and kept with the model, so adapt does not "
         "take it (the base's image size is used): drop it, or train a new base with train-base "
         "--image-size"),
        (["evaluate", "--channels", "1"],
         "error: --channels is chosen at train-base and kept with the model, so evaluate does "
         "not take it (the base's channels are used): drop it, or train a new base with "
         "train-base --channels"),
        (["check-data", "--bits-stored", "12"],
         "error: --bits-stored is chosen at train-base and kept with the model, so check-data "
         "does not take it (the base's bits stored are used): drop it, or train a new base with "
         "train-base --bits-stored"),
        (["predict", "--spatial-dims", "3"],
         "error: --spatial-dims is chosen at train-base and kept with the model, so predict "
         "does not take it (the base's 2D or 3D reading is used): drop it, or train a new base "
         "with train-base --spatial-dims"),
        (["adapt", "--backbone", "timm:vit_small_patch16_224"],
         "error: --backbone is chosen at train-base and kept with the model, so adapt does not "
         "take it (the base's architecture is used): drop it, or train a new base with "
         "train-base --backbone"),
        (["predict", "--label", "target"],
         "error: --label is chosen at train-base and kept with the model, so predict does not "
         "take it (the base's label column is used): drop it, or train a new base with "
         "train-base --label"),  # not "did you mean '--labels'" (a PACS's list of studies)
        (["evaluate", "--epochs", "2"],  # click offered "Did you mean '--report'?"
         "error: --epochs is a training option, and evaluate does not train (it scores a "
         "trained model): drop it; train-base, adapt, study and federate simulate take it "
         "(study: for images only)"),
        (["predict", "--lr", "0.01"],
         "error: --lr is a training option, and predict does not train (it applies a trained "
         "model): drop it; train-base, adapt, federate simulate and federate server take it "
         "(train-base and adapt: for images only)"),
        (["evaluate", "--method", "lora"],
         "error: --method is a training option, and evaluate does not train (it scores a "
         "trained model): drop it; adapt, federate simulate and federate server take it"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)  # fmt: skip
def test_an_option_of_another_verb_says_where_it_goes(argv, said, tmp_path):
    verb, *option = argv
    line = error_line(run_cli(verb, "--base", tmp_path / "b", "--data", tmp_path / "d.csv",
                              *option))  # fmt: skip
    assert line == said


def test_serve_does_not_train(tmp_path):
    line = error_line(run_cli("serve", "--registry", tmp_path / "r", "--epochs", "3"))
    assert line == (
        "error: --epochs is a training option, and serve does not train (it answers with "
        "trained models): drop it; train-base, adapt, study and federate simulate take it "
        "(study: for images only)"
    )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["evaluate", "--base", "b", "--data", "d", "--colour", "red"],
         "error: No such option '--colour' (see 'medadapt evaluate --help')"),
        (["predict", "--base", "b", "--data", "d", "--taks", "binary"],  # was '--base', '--data'
         "error: No such option '--taks' (see 'medadapt predict --help')"),
        (["evaluate", "--base", "b", "--data", "d", "--thresold", "0.3"],  # was also '--help'
         "error: No such option '--thresold'; did you mean '--threshold'? (see 'medadapt "
         "evaluate --help')"),
        (["train-base", "--data", "d", "--taks", "binary"],
         "error: No such option '--taks'; did you mean '--task'? (see 'medadapt train-base "
         "--help')"),
        (["--verbose"], "error: No such option '--verbose' (see 'medadapt --help')"),
        # an option of other verbs says which take it (was a plain "No such option")
        (["adapt", "--base", "b", "--data", "d", "--freeze-backbone"],
         "error: No such option '--freeze-backbone' for adapt; train-base and federate "
         "simulate take it (see 'medadapt adapt --help')"),
        (["predict", "--base", "b", "--data", "d", "--report", "r.html"],
         "error: No such option '--report' for predict; adapt and evaluate take it (see "
         "'medadapt predict --help')"),
        (["trian-base"],  # typer and click both said "Did you mean 'train-base'?"
         "error: No such command 'trian-base'; did you mean 'train-base'? (see 'medadapt "
         "--help')"),
        (["fit"], "error: No such command 'fit' (see 'medadapt --help')"),
        (["registry", "lst"],
         "error: No such command 'lst'; did you mean 'list'? (see 'medadapt registry --help')"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)  # fmt: skip
def test_an_unknown_option_or_command_is_offered_only_a_close_one(argv, said):
    # the program as started ("python -m pytest" here) is named where "medadapt" would be
    prog = error_line(run_cli("--verbose")).split("(see '")[1].removesuffix(" --help')")
    assert error_line(run_cli(*argv)).replace(f"(see '{prog}", "(see 'medadapt") == said


def test_only_a_close_spelling_is_offered():
    from medadapt.cli.usage import closest

    flags = ["--base", "--data", "--report", "--help", "--threshold", "--adapter", "--json"]
    assert [closest(given, flags) for given in
            ("--adpater", "--thresh", "--Report", "--epochs", "--lr", "--colour", "--dat")] == [
        "--adapter", "--threshold", "--report", None, None, None, "--data"]  # fmt: skip


def test_every_option_decided_at_train_base_is_answered_at_a_later_verb():
    """Each modality option that train-base takes and adapt does not (decided once, kept with
    the model) is either said to be kept with the model or to be a training option (the
    built-in modalities': the test suite's own registers its options when its tests run)."""
    from dataclasses import fields

    from medadapt.cli.usage import DECIDED_AT_TRAIN_BASE, TRAINING_OPTIONS
    from medadapt.modalities.base import flag_of, registered

    built_in = [m for m in registered() if type(m).__module__.startswith("medadapt.")]
    decided = [flag_of(f.name) for modality in built_in for f in fields(modality.options)
               if "train-base" in f.metadata.get("verbs", ())
               and "adapt" not in f.metadata.get("verbs", ())]  # fmt: skip
    assert "--window" in decided and "--d-token" in decided
    assert [
        f for f in decided if f not in DECIDED_AT_TRAIN_BASE and f not in TRAINING_OPTIONS
    ] == []

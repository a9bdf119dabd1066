"""An outcome of several classes in a table (a severity grade 0-2): ``evaluate`` gives each
class its own row, as it does for images, and every figure is what scikit-learn computes from
``predict``'s output on the same patients."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE, TINY_TABLE


def _grades(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    grade = np.digitize(x1 + 0.5 * x2 + rng.normal(scale=0.7, size=n), [-0.6, 0.6])
    return pd.DataFrame({"pid": [f"S{seed}-{i}" for i in range(n)], "x1": x1, "x2": x2,
                         "grade": grade})  # fmt: skip


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    root = tmp_path_factory.mktemp("multiclass")
    _grades(300, 0).to_csv(root / "train.csv", index=False)
    _grades(120, 1).to_csv(root / "new.csv", index=False)  # patients the model never saw
    succeeded(run_cli(
        "train-base", "--data", root / "train.csv", "--label", "grade", "--task", "multiclass",
        "--id-column", "pid", *QUICK_TABLE, "--out", root / "base",
    ))  # fmt: skip
    evaluated = succeeded(run_cli(
        "evaluate", "--base", root / "base", "--data", root / "new.csv", "--json",
        root / "e.json",
    ))  # fmt: skip
    succeeded(run_cli(
        "predict", "--base", root / "base", "--data", root / "new.csv", "--out", root / "p.csv",
    ))  # fmt: skip
    return (evaluated.stdout, json.loads((root / "e.json").read_text()),
            pd.read_csv(root / "new.csv"), pd.read_csv(root / "p.csv"))  # fmt: skip


def test_each_class_gets_its_own_row_matching_scikit_learn(scored):
    stdout, evaluation, frame, predicted = scored
    assert evaluation["n"] == len(frame) == len(predicted)  # every patient is new
    y, calls = frame["grade"].to_numpy(), predicted["predicted"].to_numpy()
    proba = predicted[["p_0", "p_1", "p_2"]].to_numpy()
    rows = {row["class"]: row for row in evaluation["per_class"]}
    assert list(rows) == ["0", "1", "2"]
    recall = skm.recall_score(y, calls, labels=[0, 1, 2], average=None)
    precision = skm.precision_score(y, calls, labels=[0, 1, 2], average=None, zero_division=0)
    for c in range(3):
        row = rows[str(c)]
        assert row["n"] == int((y == c).sum())
        assert row["auroc"] == pytest.approx(skm.roc_auc_score(y == c, proba[:, c]), abs=1e-6)
        assert row["sensitivity"] == pytest.approx(recall[c])
        assert row["precision"] == pytest.approx(precision[c])
        assert row["sensitivity_ci"][0] <= row["sensitivity"] <= row["sensitivity_ci"][1]
    assert evaluation["auroc"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr"), abs=1e-6
    )
    assert "per class (n: rows)" in stdout  # the terminal shows the same table


def test_the_brier_score_is_summed_over_the_grades_and_says_its_scale(scored):
    """A multiclass Brier score runs from 0 to 2 (summed over the classes), not 0 to 1 as a
    yes/no outcome's: the terminal says so beside the figure, which is the sum per patient."""
    stdout, evaluation, frame, predicted = scored
    proba = predicted[["p_0", "p_1", "p_2"]].to_numpy()
    onehot = np.eye(3)[frame["grade"].to_numpy()]
    assert evaluation["brier"] == pytest.approx(((proba - onehot) ** 2).sum(axis=1).mean(),
                                                abs=1e-6)  # fmt: skip
    at = next(i for i, row in enumerate(stdout.splitlines()) if "Brier" in row)
    cells = [row.split("│")[3] for row in stdout.splitlines()[at : at + 3]]  # the note column
    assert f"{evaluation['brier']:.3f}" in stdout.splitlines()[at]
    assert " ".join(" ".join(cells).split()) == "summed over the classes: 0 is perfect, 2 the worst"


def test_adapt_says_whether_the_adapter_ranked_the_grades_better_than_the_base(tmp_path):
    """As for a yes/no outcome: under the adapter's metrics, the base alone on the same held-out
    patients and the paired difference of macro AUROC, equal to scikit-learn's on ``predict``'s
    probabilities of both models for those patients."""
    root = tmp_path
    _grades(300, 0).to_csv(root / "train.csv", index=False)
    frame = _grades(200, 2).assign(site="B")
    frame["x1"] += 0.8  # the new hospital's measurements run higher
    frame.to_csv(root / "site.csv", index=False)
    base = root / "base"
    succeeded(run_cli(
        "train-base", "--data", root / "train.csv", "--label", "grade", "--task", "multiclass",
        "--id-column", "pid", *QUICK_TABLE, "--out", base,
    ))  # fmt: skip
    adapted = succeeded(run_cli(
        "adapt", "--base", base, "--data", root / "site.csv", "--label", "grade",
        "--group-column", "site", "--group", "B", "--out", root / "adapter", "--json",
        root / "a.json",
    ))  # fmt: skip
    summary = json.loads((root / "a.json").read_text())
    paired = summary["versus_base"]
    assert (
        paired["metric"] == "auroc" and paired["ci"][0] <= paired["difference"] <= paired["ci"][1]
    )
    assert paired["in_words"] in " ".join(adapted.stdout.split())
    test = json.loads((root / "adapter" / "split.json").read_text())["test_positions"]
    y = frame["grade"].to_numpy()[test]
    columns = ["p_0", "p_1", "p_2"]
    for adapter, out in ((["--adapter", root / "adapter"], "after.csv"), ([], "before.csv")):
        succeeded(run_cli("predict", "--base", base, *adapter, "--data", root / "site.csv",
                          "--out", root / out))  # fmt: skip
    after = pd.read_csv(root / "after.csv")[columns].to_numpy()[test]
    before = pd.read_csv(root / "before.csv")[columns].to_numpy()[test]
    expected = skm.roc_auc_score(y, after, multi_class="ovr") - skm.roc_auc_score(
        y, before, multi_class="ovr"
    )
    assert paired["difference"] == pytest.approx(expected, abs=1e-6)


def test_a_base_too_small_to_validate_says_it_trained_without_early_stopping(tmp_path):
    """24 patients, 19 to train: too few to set some aside for validation, so training ran a
    fixed number of epochs; 'validated on 0' hid that there was no early stopping."""
    _grades(24, 0).to_csv(tmp_path / "small.csv", index=False)
    result = succeeded(run_cli(
        "train-base", "--data", tmp_path / "small.csv", "--label", "grade", "--task",
        "multiclass", "--id-column", "pid", *QUICK_TABLE, "--out", tmp_path / "base",
    ))  # fmt: skip
    said = " ".join(result.stdout.split())
    epochs = json.loads((tmp_path / "base" / "model.json").read_text())["training"]["epochs"]
    assert (
        f"validated on none (too few patients to set some aside: {epochs} epochs, no early "
        "stopping)"
    ) in said
    asked = succeeded(run_cli(  # a trial's --epochs 60 ran 15 without a word
        "train-base", "--data", tmp_path / "small.csv", "--label", "grade", "--task",
        "multiclass", "--id-column", "pid", *TINY_TABLE, "--epochs", "60", "--out",
        tmp_path / "asked",
    ))  # fmt: skip
    capped = json.loads((tmp_path / "asked" / "model.json").read_text())["training"]["epochs"]
    assert capped < 60 and (
        f"(too few patients to set some aside: {capped} epochs, no early stopping; --epochs 60 "
        f"is capped at {capped} without it)"
    ) in " ".join(asked.stdout.split())


def test_a_base_says_how_many_epochs_ran_and_which_was_kept(tmp_path):
    """A trial's image base stalled (every probability 0.4935 to 0.4937) and nothing said
    how training went: the epochs run and the one kept are said where it was validated."""
    _grades(200, 0).to_csv(tmp_path / "grades.csv", index=False)
    result = succeeded(run_cli(
        "train-base", "--data", tmp_path / "grades.csv", "--label", "grade", "--task",
        "multiclass", "--id-column", "pid", *QUICK_TABLE, "--out", tmp_path / "base",
    ))  # fmt: skip
    training = json.loads((tmp_path / "base" / "model.json").read_text())["training"]
    epochs, best = training["epochs"], training["best_epoch"]
    assert 1 <= best <= epochs
    kept = (f"the model of epoch {best} kept, its validation loss the lowest" if best < epochs
            else "its validation loss still falling at the last: stopped at its most epochs "
            "(--epochs sets it), not by early stopping; more --epochs may give a better "
            "model")  # fmt: skip
    assert (
        f"validated on {training['n_val']} ({epochs} epoch{'s' * (epochs != 1)}; {kept}); saved"
    ) in " ".join(result.stdout.split())


def test_training_stopped_by_the_epochs_cap_is_said_so():
    """A trial's adapter read "200 epochs; the model of epoch 200 kept, its validation loss
    the lowest": it ran to --epochs, still improving, not stopped early."""
    from medadapt.cli.verbs import _epochs_said

    measured = {"n_val": 12, "val_loss_measured": True}
    assert _epochs_said({"epochs_run": 200, "best_epoch": 200, **measured}) == (
        " (200 epochs; its validation loss still falling at the last: stopped at its most "
        "epochs (--epochs sets it), not by early stopping; more --epochs may give a better "
        "model)"
    )
    assert _epochs_said({"epochs_run": 40, "best_epoch": 25, **measured}) == (
        " (40 epochs; the model of epoch 25 kept, its validation loss the lowest)"
    )
    diverged = {"epochs_run": 11, "best_epoch": 11, "n_val": 12, "val_loss_measured": False}
    assert _epochs_said(diverged) == (  # a review: NaN losses read as "still falling"
        " (11 epochs; no validation loss was a number: training diverged, the last epoch's "
        "model kept; a lower --lr may help)"
    )
    older = {"epochs_run": 40, "best_epoch": 40, "n_val": 12}  # recorded before the flag
    assert _epochs_said(older).endswith(
        "the model of epoch 40 kept, its validation loss the lowest)"
    )
    assert _epochs_said({"epochs_run": 40, "best_epoch": 40, "n_val": 0}) == (
        " (40 epochs, no early stopping)"
    )
    assert _epochs_said({"epochs_run": 40, "n_val": 0, "epochs_asked": 60}) == (  # adapt's
        " (40 epochs, no early stopping; --epochs 60 is capped at 40 without a validation set)"
    )
    assert _epochs_said({"epochs_run": 40, "n_val": 0, "epochs_asked": 30}).endswith(
        "no early stopping)"  # fewer asked than the cap: ran as asked
    )


def test_task_multiclass_on_a_two_class_label_is_refused_before_training(tmp_path):
    """It trained, then scikit-learn's traceback ("y should be a 1d array, got an array of
    shape (184, 2)") ended train-base, a reviewer's trial."""
    frame = _grades(120, 0)
    frame["grade"] = np.where(frame["grade"] > 0, "severe", "mild")
    frame.to_csv(tmp_path / "two.csv", index=False)
    result = run_cli("train-base", "--data", tmp_path / "two.csv", "--label", "grade",
                     "--task", "multiclass", "--id-column", "pid", *QUICK_TABLE,
                     "--out", tmp_path / "b")  # fmt: skip
    assert error_line(result) == (
        "error: label column 'grade' has 2 classes in the training rows ('mild', 'severe'); "
        "--task multiclass needs 3 or more: leave --task out (two classes make a binary model; "
        "--positive-class chooses the outcome)"
    )
    assert "Traceback" not in result.stderr and not (tmp_path / "b").exists()


def test_a_class_absent_at_the_site_is_warned_of_by_check_data_and_adapt(tmp_path):
    """A trial's hospital without one of three cultivars was adapted without a word (its
    only trace a per-class footnote), and check-data said only that the criteria do not
    apply."""
    _grades(300, 0).to_csv(tmp_path / "train.csv", index=False)
    site = _grades(160, 2)
    site[site["grade"] != 2].assign(site="East").to_csv(tmp_path / "site.csv", index=False)
    n = int((site["grade"] != 2).sum())
    succeeded(run_cli("train-base", "--data", tmp_path / "train.csv", "--label", "grade",
                      "--task", "multiclass", "--id-column", "pid", *QUICK_TABLE, "--out",
                      tmp_path / "base"))  # fmt: skip

    def absent(noun: str) -> str:  # check-data counts the base's id column's patients
        return (
            f"warning: class '2' has none of the {n} {noun}s of site = East: an adapter trained "
            f"here learns nothing of it, and may learn to call it less (every {noun} it trains "
            "on is of another class), and no figure here can show how it does on it; add "
            f"{noun}s of class '2', or check the adapter on it elsewhere before relying on it"
        )

    east = ["--group-column", "site", "--group", "East"]  # no grade 2 at East
    checked = succeeded(run_cli("check-data", "--base", tmp_path / "base", "--data",
                                tmp_path / "site.csv", *east))  # fmt: skip
    assert absent("patient") in " ".join(checked.stdout.split()), checked.stdout
    adapted = succeeded(run_cli("adapt", "--base", tmp_path / "base", "--data",
                                tmp_path / "site.csv", *east, "--out", tmp_path / "a"))  # fmt: skip
    assert absent("row") in adapted.stdout.splitlines(), adapted.stdout


def test_a_subgroup_table_without_any_auroc_shows_accuracy_beside_it(capsys, monkeypatch):
    """A trial's 5-class subgroup table read "n/a [1]" in every row (a class of 3 patients
    leaves no AUROC anywhere): accuracy, which the main table gives, is a column beside it."""
    from medadapt.cli.printing import print_subgroups

    monkeypatch.setenv("COLUMNS", "120")
    few = {"auroc": "not reported: 3 patients of class '4'"}
    subgroups = {"sex": {"Male": {"n": 60, "auroc": None, "accuracy": 0.45,
                                  "accuracy_ci": [0.33, 0.58], "notes": few},
                         "Female": {"n": 30, "auroc": None, "accuracy": 0.5,
                                    "accuracy_ci": [0.32, 0.68], "notes": few}}}  # fmt: skip
    print_subgroups(subgroups, "multiclass")
    said = capsys.readouterr().out
    assert "accuracy (95% CI)" in said and "0.450 (0.330–0.580)" in said, said
    ranked = {"sex": {"Male": {"n": 60, "auroc": 0.7, "auroc_ci": [0.6, 0.8], "accuracy": 0.45}}}
    print_subgroups(ranked, "multiclass")
    assert "accuracy" not in capsys.readouterr().out  # AUROC shown: one column, as before

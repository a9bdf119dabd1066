"""``ma.binary_metrics`` and ``ma.compute_metrics`` say at the caller's line what must not be
missed: a result too good to be true, an AUROC from hard 0/1 predictions (or one-hot class
probabilities), a model that calls everyone one class, one that ranks patients backwards; each
once, and never when medadapt calls them itself (the command line prints the notes its own
way)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import medadapt as ma
from medadapt.evaluate.groups import evaluate_groups

_Y = np.r_[np.zeros(20, dtype=int), np.ones(20, dtype=int)]
_PERFECT = np.r_[np.linspace(0.05, 0.45, 20), np.linspace(0.55, 0.95, 20)]
_LEAK = (
    "check for a leak (a copy of the label, a record number, a value recorded after the "
    "outcome, training patients among the test patients) before trusting it"
)
TOO_GOOD = (
    "AUROC 1.000 and accuracy 1.0 on 40 patients: too good to be true for most clinical "
    f"questions; {_LEAK}"
)
_RNG = np.random.default_rng(0)
_NOISY = np.clip(0.2 * _Y + _RNG.uniform(0, 0.8, 40), 0, 1)  # a modest model
_HARD = (_NOISY > 0.5).astype(int)


def _hard_note(auroc: float) -> str:
    return (
        "the scores take only two distinct values, as hard 0/1 predictions do: this AUROC "
        f"({auroc:.3f}) is the balanced accuracy at one threshold, not the model's "
        "discrimination; pass the predicted probabilities (P(positive)) instead"
    )


def _ours(caught: pytest.WarningsRecorder) -> list[warnings.WarningMessage]:
    return [w for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("call", ["binary_metrics", "compute_metrics"])
def test_a_too_good_result_warns_once_at_the_callers_line(call):
    with pytest.warns(UserWarning) as caught:
        if call == "binary_metrics":
            metrics = ma.binary_metrics(_Y, _PERFECT, n_boot=50)
        else:
            metrics = ma.compute_metrics("binary", _Y, _PERFECT, n_boot=50)
    assert [str(w.message) for w in _ours(caught)] == [TOO_GOOD]  # once, not per layer
    assert {w.filename for w in _ours(caught)} == {__file__}
    assert metrics["notes"]["too_good"] == TOO_GOOD


def test_a_too_good_r2_warns_through_compute_metrics():
    y = np.linspace(0, 10, 30)
    with pytest.warns(UserWarning) as caught:
        metrics = ma.compute_metrics("regression", y, y + 0.01, n_boot=50)
    note = metrics["notes"]["too_good"]
    assert note.startswith("R² 1.000: too good to be true")
    assert [str(w.message) for w in _ours(caught)] == [note]
    assert {w.filename for w in _ours(caught)} == {__file__}


def test_an_auroc_from_hard_predictions_is_said_in_the_notes_and_as_a_warning():
    with pytest.warns(UserWarning) as caught:
        metrics = ma.binary_metrics(_Y, _HARD, n_boot=50)
    auroc = metrics["auroc"]
    assert auroc == pytest.approx(metrics["balanced_accuracy"])  # what it measures
    assert metrics["notes"]["auroc"] == _hard_note(auroc)
    assert [str(w.message) for w in _ours(caught)] == [_hard_note(auroc)]
    assert {w.filename for w in _ours(caught)} == {__file__}
    with pytest.warns(UserWarning, match="only two distinct values"):  # any two values
        ma.compute_metrics("binary", _Y, np.where(_HARD == 1, 0.7, 0.4), n_boot=50)


def test_probabilities_of_a_modest_model_warn_about_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = ma.binary_metrics(_Y, _NOISY, n_boot=50)
    assert "too_good" not in metrics["notes"] and "auroc" not in metrics["notes"]


def test_medadapt_calling_them_itself_does_not_warn():
    """The command line's path (workflows, groups) records the notes and prints them."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = evaluate_groups("binary", _Y, _PERFECT, {}, n_boot=50)
        hard = evaluate_groups("binary", _Y, _HARD.astype(float), {}, n_boot=50)
    assert result["overall"]["notes"]["too_good"] == TOO_GOOD
    assert hard["overall"]["notes"]["auroc"].startswith("the scores take only two distinct")


def test_a_model_calling_everyone_one_class_warns():
    """The one-answer note was kept in ``notes`` only: a Python caller saw accuracy 0.500."""
    low = np.random.default_rng(1).uniform(0.01, 0.3, 40)  # every score below 0.5
    with pytest.warns(UserWarning) as caught:
        metrics = ma.binary_metrics(_Y, low, n_boot=50)
    assert [str(w.message) for w in _ours(caught)] == [
        "every patient is called negative at threshold 0.5: the accuracy (0.500) mostly "
        "reflects how common that class is here (50%), not skill; judge the model by AUROC and "
        "balanced accuracy, or choose another decision threshold"
    ]
    assert metrics["notes"]["one_class"] == str(caught[0].message)
    assert {w.filename for w in _ours(caught)} == {__file__}


def test_a_model_ranking_patients_backwards_warns():
    backwards = _PERFECT[::-1]  # the positives get the lowest scores
    with pytest.warns(UserWarning) as caught:
        metrics = ma.compute_metrics("binary", _Y, backwards, n_boot=50)
    said = [str(w.message) for w in _ours(caught)]
    assert metrics["notes"]["backwards"] in said
    assert metrics["notes"]["backwards"].startswith(
        "AUROC 0.000 (95% CI up to 0.101) is below 0.5: the model ranks these patients "
        "backwards, worse than chance"
    )
    assert len(said) == len(set(said)) == 2  # with the no-information note, each once


def test_one_hot_class_probabilities_get_the_two_values_note():
    """A multiclass AUROC from one-hot predictions was reported (0.800) without a word."""
    y = np.repeat([0, 1, 2], 10)
    pred = y.copy()
    pred[::4] = (pred[::4] + 1) % 3
    with pytest.warns(UserWarning) as caught:
        metrics = ma.compute_metrics("multiclass", y, np.eye(3)[pred], n_boot=50)
    note = (
        "the class probabilities take only two distinct values, as one-hot predictions do: "
        f"this AUROC ({metrics['auroc']:.3f}) averages, over the classes, a one-vs-rest "
        "balanced accuracy at one threshold, not the model's discrimination; pass the "
        "predicted probabilities of every class instead"
    )
    assert metrics["notes"]["auroc"] == note
    assert [str(w.message) for w in _ours(caught)] == [note]
    per_class = [(np.mean(pred[y == c] == c) + np.mean(pred[y != c] != c)) / 2 for c in range(3)]
    assert metrics["auroc"] == pytest.approx(np.mean(per_class))  # what it measures
    soft = np.eye(3)[pred] * 0.5 + np.random.default_rng(2).dirichlet(np.ones(3), 30) * 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "auroc" not in ma.compute_metrics("multiclass", y, soft, n_boot=50)["notes"]


def test_a_leading_figure_withheld_is_said_with_why_not_left_none_silently():
    """A trial's notebook formatted ``metrics['auroc']`` and met a TypeError: None, with the
    reason (4 negatives of 20) in ``metrics['notes']`` only."""
    y = np.r_[np.zeros(4, dtype=int), np.ones(16, dtype=int)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metrics = ma.binary_metrics(y, np.linspace(0, 1, 20))
    assert metrics["auroc"] is None
    assert (
        "metrics['auroc'] is None: 4 negatives among 20 patients; at least 5 are needed for a "
        "meaningful estimate (its reason is in metrics['notes'])"
    ) in [str(w.message) for w in caught]
    values = np.linspace(0, 10, 6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metrics = ma.compute_metrics("regression", values, values + 1)
    said = [str(w.message) for w in caught]
    assert metrics["mae"] is None
    assert any(s.startswith("metrics['mae'] is None: only 6 patients") for s in said)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evaluate_groups("binary", y, np.linspace(0, 1, 20), {}, n_boot=50)
    assert not [w for w in caught if "is None" in str(w.message)]  # medadapt's own: no word


def test_regression_figures_of_a_yes_no_outcome_warn_and_medadapt_s_own_calls_do_not():
    """A trial's notebook scored a 0/1 outcome's probabilities as measured values (MAE 0.39,
    R² 0.232) without a word, where ``TableSchema.infer(task="regression")`` warns of such a
    label."""
    said = (
        "y_true takes only the values 0 and 1, a yes/no outcome: scored as a measured value it "
        "gets a mean error and an R-squared, not a risk's figures (AUROC, calibration); for "
        "predicted probabilities use compute_metrics('binary', y_true, probabilities)"
    )
    with pytest.warns(UserWarning) as caught:
        ma.compute_metrics("regression", _Y, _NOISY, n_boot=50)
    assert next(str(w.message) for w in _ours(caught)) == said
    assert {w.filename for w in _ours(caught)} == {__file__}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate_groups("regression", _Y.astype(float), _NOISY, {}, n_boot=50)
        ma.compute_metrics("binary", _Y, _NOISY, n_boot=50)  # a risk: nothing to say


def test_a_python_caller_s_metrics_print_as_a_clinician_reads_them():
    """A trial's ``print(metrics)`` gave a raw dict of 16-digit floats; ``repr`` of a paired
    difference the same. Both print their figures rounded, with intervals; the metrics are
    still the dict (equal, JSON, keys), and medadapt's own calls get a plain dict."""
    import json

    metrics = ma.binary_metrics(_Y, _NOISY, n_boot=50)
    shown = repr(metrics)
    assert shown.splitlines()[0] == "Metrics of 40 patients (a dict; keys as printed in brackets):"
    auroc = f"{metrics['auroc']:.3f} ({metrics['auroc_ci'][0]:.3f}–{metrics['auroc_ci'][1]:.3f})"
    assert f"  AUROC ['auroc']: {auroc}" in shown.splitlines()
    assert isinstance(metrics, dict) and json.loads(json.dumps(metrics)) == dict(metrics)
    assert type(evaluate_groups("binary", _Y, _NOISY, {}, n_boot=50)["overall"]) is dict
    before, after = np.clip(_NOISY - 0.1, 0, 1), _NOISY
    diff = ma.paired_difference(_Y, before, after, metric="auroc", n_boot=50)
    assert repr(diff).startswith("Difference(auroc ") and ", 95% CI " in repr(diff)
    assert len(repr(diff)) < 100, repr(diff)

"""A patient with several samples (repeat visits, several images, a volume's slices) is one
patient, not several: every interval resamples whole patients, and the exact intervals of
proportions use Korn and Graubard's effective sample size. Rows treated as independent gave
95% intervals that held the truth two times in three."""

from __future__ import annotations

import json
from html import unescape

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from medadapt.errors import DataError
from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.metrics import (
    binary_metrics,
    exact_interval,
    proportion_interval,
    regression_metrics,
    resampled_together,
)
from medadapt.evaluate.paired_difference import paired_difference
from medadapt.evaluate.scoring import score_classifier


def _patients(n_patients: int, per: int, seed: int):
    """``per`` samples of each patient; the outcome and most of the score are the patient's."""
    rng = np.random.default_rng(seed)
    outcome = rng.integers(0, 2, n_patients)
    risk = rng.normal(0, 1, n_patients) + 0.8 * outcome
    y = np.repeat(outcome, per)
    noisy = np.repeat(risk, per) + rng.normal(0, 0.3, n_patients * per)
    return y, 1 / (1 + np.exp(-noisy)), np.repeat(np.arange(n_patients), per)


def test_a_resample_draws_whole_patients_and_without_repeats_draws_as_before():
    patients = np.array(["a", "a", "b", "c", "c", "c"])
    clusters = bs.cluster_index(patients, 6)
    assert clusters.tolist() == [0, 0, 1, 2, 2, 2]
    W = bs.resample_weights(6, 500, 0, clusters)
    assert (W[:, 0] == W[:, 1]).all() and (W[:, 3] == W[:, 5]).all()
    assert set(W[:, [0, 2, 3]].sum(axis=1).tolist()) == {3.0}  # three patients drawn each time
    assert bs.cluster_index(["a", "b", "c"], 3) is None  # every sample its own patient
    assert bs.cluster_index(None, 3) is None
    np.testing.assert_array_equal(bs.resample_weights(6, 50, 4, None),
                                  np.random.default_rng(4).multinomial(
                                      6, np.full(6, 1 / 6), size=50))  # fmt: skip
    with pytest.raises(DataError, match="one patient per sample"):
        bs.cluster_index(["a"], 2)


def test_the_exact_interval_of_a_proportion_uses_the_effective_sample_size():
    for successes, trials in ((0, 15), (1, 15), (44, 45), (35, 35), (12, 30)):
        ci = stats.binomtest(successes, trials).proportion_ci(method="exact")
        assert exact_interval(successes, trials) == pytest.approx([ci.low, ci.high], abs=1e-12)
        assert proportion_interval([1] * successes + [0] * (trials - successes)) == pytest.approx(
            [ci.low, ci.high], abs=1e-12
        )
    # 35 of 35 images from 7 patients is the evidence of 7 of 7 patients
    seven = np.repeat(np.arange(7), 5)
    assert proportion_interval(np.ones(35), seven) == pytest.approx(exact_interval(7, 7))
    # whole patients agree: 32 of 40 rows are 8 of 10 patients. The variance between patients
    # (with its g/(g-1)) is 40/9 times the binomial one: an effective size of 9, times the
    # degrees-of-freedom correction (t of 39 over t of 9, squared), as survey::svyciprop does
    hits = np.repeat([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], 4)
    effective = 9 * (stats.t.ppf(0.975, 39) / stats.t.ppf(0.975, 9)) ** 2
    assert proportion_interval(hits, np.repeat(np.arange(10), 4)) == pytest.approx(
        exact_interval(0.8 * effective, effective), abs=1e-12
    )
    # partly alike (12 patients of 3 rows: 6 all succeed, 6 succeed once; 24 of 36): wider
    # than 36 independent rows
    partly = np.array([1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0] * 3)
    assert partly.sum() == 24
    width = np.diff(proportion_interval(partly, np.repeat(np.arange(12), 3)))[0]
    assert np.diff(exact_interval(24, 36))[0] < width < np.diff(exact_interval(8, 12))[0]
    # each patient one success and one failure: no more alike than strangers: the rows' own
    # size, with the degrees-of-freedom correction of 20 patients
    mixed = np.tile([1, 0], 20)
    effective = 40 * (stats.t.ppf(0.975, 39) / stats.t.ppf(0.975, 19)) ** 2
    assert proportion_interval(mixed, np.repeat(np.arange(20), 2)) == pytest.approx(
        exact_interval(0.5 * effective, effective), abs=1e-12
    )
    # one patient, or two: no variance between patients to estimate, or almost none
    assert proportion_interval(np.r_[np.ones(16), np.zeros(4)], np.zeros(20)) == pytest.approx(
        exact_interval(0.8, 1)
    )
    low, high = proportion_interval(np.r_[np.ones(16), np.zeros(4)], np.repeat([0, 1], 10))
    assert low < 0.01 and high > 0.99  # 2 patients say next to nothing


def test_few_patients_are_counted_as_patients_and_what_cannot_be_estimated_is_said():
    """20 positive images from 2 patients are 2 positives: too few for AUROC or sensitivity;
    one patient's 20 images are too few for anything (they crashed with a ZeroDivisionError);
    a missing id is a patient of its own."""
    y = np.r_[np.ones(20), np.zeros(40)]
    patient = np.r_[np.repeat([0, 1], 10), np.arange(2, 42)]
    m = binary_metrics(y, np.linspace(0.1, 0.9, 60), patients=patient, n_boot=300)
    assert m["auroc"] is None and m["sensitivity"] is None and m["n_patients"] == 42
    assert m["notes"]["sensitivity"] == (
        "not reported: 2 positives among 42 patients; at least 5 are needed for a meaningful "
        "estimate"
    )
    one = binary_metrics(np.r_[np.zeros(10), np.ones(10)], np.linspace(0.1, 0.9, 20),
                         patients=["a"] * 20, unit="image")  # fmt: skip
    assert one["notes"] == {"all": "not reported: only 1 patient (20 images; at least 10 "
                                   "patients needed)"}  # fmt: skip
    table = regression_metrics(np.arange(20.0), np.arange(20.0) + 1, patients=[7] * 20)
    assert table["notes"]["all"].startswith("not reported: only 1 patient (20 rows;")
    scored = score_classifier(np.r_[np.zeros(30), np.ones(30)].astype(int),
                              np.column_stack([np.linspace(0.9, 0.1, 60),
                                               np.linspace(0.1, 0.9, 60)]),
                              ["normal", "mass"], n_boot=200,
                              patients=np.r_[np.arange(30), np.full(30, 99)])  # fmt: skip
    assert scored["per_class"][1]["sensitivity"] is None  # one patient's 30 images
    missing = [None, np.nan, "", *[f"P{i}" for i in range(27)]]
    assert bs.cluster_index(missing, 30) is None  # three unknown patients, not one
    with pytest.raises(DataError, match=r"one patient per sample \(3 samples\), got 2"):
        binary_metrics([0, 1, 0], [0.1, 0.9, 0.2], patients=["a", "b"])


def test_a_value_the_bootstrap_cannot_bracket_is_said():
    rng = np.random.default_rng(5)
    y = np.r_[np.ones(6), np.zeros(54)].astype(int)
    patient = np.r_[np.arange(6), np.repeat(np.arange(6, 15), 6)]
    m = binary_metrics(y, np.clip(y * 0.5 + rng.random(60) * 0.5, 0, 1), patients=patient,
                       n_boot=300)  # fmt: skip
    undefined = [k for k, v in m["notes"].items() if v.startswith("no interval: in more than 1")]
    for name in undefined:
        assert m[name] is not None and m[f"{name}_ci"] is None
    assert m["sensitivity_ci"] is not None  # a proportion always gets its exact interval


def test_intervals_over_patients_hold_the_truth_as_often_as_they_say():
    """40 patients with 5 rows each, 60 replicates: the AUROC interval over rows held the
    true AUROC in about 2 of 3 replicates; over patients, about 19 in 20 (bench/bench_intervals
    measures it on 200)."""
    y_big, s_big, _ = _patients(20000, 5, seed=999)
    truth = roc_auc_score(y_big, s_big)
    sens_truth = float((s_big[y_big == 1] >= 0.5).mean())
    held = {"rows": [0, 0], "patients": [0, 0]}
    widths = {"rows": [], "patients": []}
    for replicate in range(60):
        y, s, patient = _patients(40, 5, seed=replicate)
        for how, given in (("rows", None), ("patients", patient)):
            m = binary_metrics(y, s, n_boot=200, seed=replicate, patients=given)
            held[how][0] += m["auroc_ci"][0] <= truth <= m["auroc_ci"][1]
            held[how][1] += m["sensitivity_ci"][0] <= sens_truth <= m["sensitivity_ci"][1]
            widths[how].append(np.diff(m["auroc_ci"])[0])
    assert held["rows"][0] / 60 < 0.8 and held["rows"][1] / 60 < 0.85
    assert held["patients"][0] / 60 >= 0.88 and held["patients"][1] / 60 >= 0.88
    assert np.mean(widths["patients"]) > 1.7 * np.mean(widths["rows"])


def test_every_metric_and_the_paired_comparison_count_and_resample_patients():
    y, s, patient = _patients(30, 4, seed=1)
    m = binary_metrics(y, s, n_boot=300, patients=patient)
    assert m["n"] == 120 and m["n_patients"] == 30
    assert "n_patients" not in binary_metrics(y, s, n_boot=300)
    assert resampled_together(m, "images") == (
        "These 120 images come from 30 patients: a patient's images are not independent, so "
        "every interval resamples whole patients (and the exact intervals use the effective "
        "sample size)."
    )
    assert resampled_together(binary_metrics(y, s, n_boot=300), "rows") is None
    rows = paired_difference(y, s, s[::-1].copy(), n_boot=300)
    together = paired_difference(y, s, s[::-1].copy(), n_boot=300, patients=patient)
    assert together.value == rows.value
    assert np.diff(together.ci)[0] > np.diff(rows.ci)[0]
    values = np.repeat(np.random.default_rng(2).normal(100, 15, 30), 4)
    r = regression_metrics(values, values + np.random.default_rng(3).normal(0, 5, 120),
                           n_boot=300, patients=patient)  # fmt: skip
    assert r["n_patients"] == 30
    proba = np.column_stack([1 - s, s])
    scored = score_classifier(y, proba, ["normal", "mass"], patients=patient, n_boot=300,
                              groups=np.where(patient < 15, "A", "B"))  # fmt: skip
    assert scored["overall"]["n_patients"] == 30
    assert scored["subgroups"]["group"]["A"]["n_patients"] == 15
    mass = scored["per_class"][1]
    hits = (proba.argmax(axis=1) == 1) & (y == 1)
    assert mass["sensitivity_ci"] == pytest.approx(
        proportion_interval(hits[y == 1], patient[y == 1])
    )


def test_evaluate_on_a_table_with_repeat_visits_resamples_patients(tmp_path, capsys):
    """The command line: an id column with three visits per patient."""
    from tests.workflows.test_cli import run

    rng = np.random.default_rng(0)
    n = 90
    outcome = rng.integers(0, 2, n)
    frame = pd.DataFrame({
        "patient_id": np.repeat([f"P{i:03d}" for i in range(n)], 3),
        "age": np.repeat(rng.normal(60, 10, n), 3).round() + np.tile([0, 1, 2], n),
        "marker": np.repeat(outcome * 1.2 + rng.normal(0, 1, n), 3) + rng.normal(0, 0.2, 3 * n),
        "sex": np.repeat(rng.choice(["F", "M"], n), 3),
        "disease": np.repeat(outcome, 3),
    })  # fmt: skip
    frame.to_csv(tmp_path / "visits.csv", index=False)
    assert run("train-base", "--data", str(tmp_path / "visits.csv"), "--label", "disease",
               "--id-column", "patient_id",
               "--out", str(tmp_path / "base")) == 0  # fmt: skip
    printed = " ".join(capsys.readouterr().out.split())
    assert "rows come from" in printed and "patients: a patient's rows are not independent" in (
        printed
    )
    assert run("evaluate", "--base", str(tmp_path / "base"), "--data",
               str(tmp_path / "visits.csv"), "--report", str(tmp_path / "r.html"),
               "--json", str(tmp_path / "r.json")) == 0  # fmt: skip
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["n"] == 3 * document["n_patients"]  # the held-out patients, all visits
    html = " ".join(unescape((tmp_path / "r.html").read_text()).split())
    assert (
        f"These {document['n']} rows come from {document['n_patients']} patients: a patient's "
        "rows are not independent" in html
    )


def test_a_split_of_a_few_patients_counts_patients_and_training_falls_back_to_fixed_epochs():
    """40 rows from 3 patients: "only 3 patients (40 rows)", not "only 3 rows"; training on
    them uses a fixed number of epochs instead of an early-stopping split of 3 patients."""
    from medadapt.data.schema import TableSchema
    from medadapt.data.splits import stratified_split
    from medadapt.modalities import modality_of
    from medadapt.modalities.tabular.samples import TableSamples
    from medadapt.train.fitting import fit_on
    from medadapt.train.loop import TrainConfig

    labels = np.tile([0, 1], 20)
    with pytest.raises(DataError, match=r"^only 3 patients \(40 rows\): too few to hold out"):
        stratified_split(
            labels, test_fraction=0.2, seed=0, groups=np.repeat([0, 1, 2], [14, 13, 13])
        )
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"pid": np.repeat(["a", "b", "c"], [14, 13, 13]),
                          "x": rng.normal(size=40), "y": labels})  # fmt: skip
    schema = TableSchema.infer(frame, label="y", id_column="pid")
    tables = modality_of("tabular")
    model = tables.new_model(schema, tables.options(), seed=0)
    samples = TableSamples(frame, schema)
    _, n_train, n_val, _ = fit_on(tables, model, schema, samples, config=TrainConfig(epochs=3),
                                  val_fraction=0.15, seed=0)  # fmt: skip
    assert (n_train, n_val) == (40, 0)


def test_a_table_s_rows_are_called_rows_where_patients_have_several():
    y = np.r_[np.zeros(10), np.ones(50)].astype(int)
    patient = np.repeat(np.arange(30), 2)
    m = binary_metrics(y, np.full(60, 0.9), patients=patient, n_boot=200)
    assert m["notes"]["one_class"].startswith("every row is called positive at threshold 0.5")
    assert binary_metrics(y, np.full(60, 0.9), n_boot=200)["notes"]["one_class"].startswith(
        "every patient is called positive at threshold 0.5"
    )


def test_too_few_to_split_never_advises_a_smaller_test_fraction():
    """A trial with 2 patients (48 images, the wrong patient column) was told to "lower
    --test-fraction", which cannot split fewer than 4."""
    from medadapt.data.splits import stratified_split

    with pytest.raises(DataError) as err:
        stratified_split(np.array([0, 1, 1]), test_fraction=0.2, seed=0)
    assert str(err.value) == (
        "only 3 labelled rows: too few to hold out a test set (at least 4, whatever the test "
        "fraction); add rows"
    )


def test_images_of_too_few_patients_point_to_the_patient_column():
    from dataclasses import replace

    from medadapt.data.demo_images import OLD, make_dataset
    from medadapt.data.image_files import split_by_patient

    images = make_dataset({"normal": 6, "nodule": 6}, OLD, size=16)
    two = replace(images, subjects=["p1", "p2"] * 6)
    with pytest.raises(DataError) as err:
        split_by_patient(two, range(12), test_fraction=0.2, seed=0)
    assert str(err.value) == (
        "only 2 patients (or image files, without a patient id) to split: too few to hold out a "
        "test set (at least 4, whatever --test-fraction); 12 images belong to them: if they are "
        "more patients than that, check the patient column (--id-column); add images of other "
        "patients"
    )


def test_a_fraction_leaving_too_few_patients_counts_their_rows_too():
    """A trial's 200 rows, two of them one patient (identical content), were said to be "the
    199 patients" with no word of the rows it had counted."""
    from medadapt.data.splits import stratified_split

    labels = np.array([0, 1] * 100)
    groups = np.arange(200)
    groups[199] = groups[197]  # two rows of one patient (the same class)
    with pytest.raises(DataError) as said:
        stratified_split(labels, test_fraction=0.99, seed=0, groups=groups)
    assert str(said.value).startswith(
        "a test fraction of 0.99 (--test-fraction) holds out 198 of the 199 patients (200 rows), "
        "leaving 1 to train on"
    )

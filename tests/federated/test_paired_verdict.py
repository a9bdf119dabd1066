"""The federated verdict against the base alone is a paired comparison on the same held-out
patients, computed at the site (where both models' scores are) and sent as a difference with
its interval; it says "no detectable difference" whenever that interval contains 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medadapt.data.schema import TableSchema
from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.paired_difference import paired_difference
from medadapt.federated.local import paired_with_base
from medadapt.federated.verdicts import paired_line, verdict_lines


def _audit_pair() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """100 patients, 50 with the outcome: the adapter right on 80, the base on 70; 55 right
    by both, 25 by the adapter only, 15 by the base only, 5 by neither."""
    y = np.array([1] * 50 + [0] * 50)
    adapter_right, base_right = np.zeros(100, bool), np.zeros(100, bool)
    adapter_right[:40] = base_right[:40] = True  # both
    adapter_right[40:65] = True  # the adapter only
    base_right[65:80] = True  # the base only
    adapter_right[80:95] = base_right[80:95] = True  # both
    risk = np.where(y == 1, 0.9, 0.1)
    return y, np.where(adapter_right, risk, 1 - risk), np.where(base_right, risk, 1 - risk)


def _site(versus_base: dict | None, n_test: int = 100) -> dict:
    return {"n_train": 300, "n_test": n_test, "base": {"accuracy": 0.7},
            "federated": {"accuracy": 0.8, "accuracy_low": 0.708, "accuracy_high": 0.873,
                          "n": float(n_test), "n_positive": 50.0},
            "versus_base": versus_base}  # fmt: skip


def test_a_site_pairs_auroc_as_adapt_does_on_the_same_resamples():
    """The audit's pair (the adapter right on 80 of 100, the base on 70; the adapter's own
    accuracy interval 0.708-0.873 above the base's 0.70 read as "better"): the site compares
    the two models on AUROC, as ``adapt`` does (accuracy at 0.5 rewards calling everyone the
    commoner outcome), on the same resamples of the same patients, and the verdict is that
    paired interval's, sent with it."""
    from sklearn.metrics import roc_auc_score

    y, adapter, base = _audit_pair()
    sent = paired_with_base("binary", y, adapter, base, n_boot=1000, seed=0)
    assert set(sent) == {"auroc", "auroc_low", "auroc_high"}
    assert sent["auroc"] == pytest.approx(roc_auc_score(y, adapter) - roc_auc_score(y, base))
    by_hand = paired_difference(y, adapter, base, metric="auroc", n_boot=1000, seed=0)
    assert (sent["auroc_low"], sent["auroc_high"]) == pytest.approx(by_hand.ci)
    assert verdict_lines({"sites": {"SiteX": _site(sent)}}) == [
        "At SiteX, paired on the same 100 held-out patients, the federated adapter changes "
        "AUROC by +0.160 (95% CI +0.025 to +0.289) against the base alone: the federated "
        "adapter ranks patients by risk better."
    ]
    flat = paired_with_base("binary", y, base, base, n_boot=1000, seed=0)  # the same model
    assert "no difference can be shown, and none ruled out" in paired_line("S", _site(flat))


def test_a_site_with_too_few_of_an_outcome_for_auroc_compares_brier_and_says_why():
    """3 of 40 held-out patients with the outcome: no AUROC (fewer than 5 of a class), so the
    site sends the Brier score's paired difference, as ``adapt`` compares there (accuracy
    at 0.5 would reward calling no one positive), and the line says why it is not AUROC."""
    y = np.array([1] * 3 + [0] * 37)
    adapter = np.where(y == 1, 0.8, 0.2)
    adapter[3:9] = 0.7  # 6 false positives
    base = np.full(40, 0.3)  # calls no one
    sent = paired_with_base("binary", y, adapter, base, n_boot=500, seed=2)
    by_hand = paired_difference(y, adapter, base, metric="brier", n_boot=500, seed=2)
    assert sent == pytest.approx({"brier": by_hand.value, "brier_low": by_hand.ci[0],
                                  "brier_high": by_hand.ci[1]})  # fmt: skip
    assert sent["brier"] == pytest.approx(np.mean((adapter - y) ** 2) - np.mean((base - y) ** 2))
    site = {**_site(sent, n_test=40), "federated": {"n": 40.0, "n_positive": 3.0}}
    assert paired_line("A", site).startswith(
        "At A, paired on the same 40 held-out patients (only 3 with the rarer outcome: too few "
        "for AUROC), the federated adapter changes Brier score by "
    )
    assert "(95% CI " in paired_line("A", site) and "Brier score is better) against" in (
        paired_line("A", site))  # its direction said: lower is better  # fmt: skip


def test_a_paired_interval_clear_of_zero_says_which_way_and_a_worse_one_says_keep_the_base():
    better = {"accuracy": 0.15, "accuracy_low": 0.05, "accuracy_high": 0.25}
    worse = {"accuracy": -0.12, "accuracy_low": -0.2, "accuracy_high": -0.04}
    assert paired_line("A", _site(better)) == (
        "At A, paired on the same 100 held-out patients, the federated adapter changes accuracy "
        "at 0.5 by +0.150 (95% CI +0.050 to +0.250) against the base alone: the federated "
        "adapter classifies more patients correctly at the threshold."
    )
    assert paired_line("B", _site(worse)) == (
        "At B, paired on the same 100 held-out patients, the federated adapter changes accuracy "
        "at 0.5 by -0.120 (95% CI -0.200 to -0.040) against the base alone: the federated "
        "adapter classifies fewer patients correctly at the threshold. Keep the base model at B."
    )
    same = {"accuracy": 0.0, "accuracy_low": 0.0, "accuracy_high": 0.0}
    assert "no difference can be shown, and none ruled out" in paired_line("C", _site(same))


def test_no_paired_comparison_means_no_verdict_against_the_base():
    """Too few patients, no resamples, or a federated.json from before sites compared: the
    adapter's interval against the base's value is not used as a verdict instead."""
    nan = float("nan")
    missing = {"auroc": nan, "auroc_low": nan, "auroc_high": nan}
    for paired in (None, missing):
        lines = verdict_lines({"sites": {"SiteX": _site(paired)}})
        assert not any("base alone" in line for line in lines), lines
    assert paired_with_base("binary", [0, 1], np.ones(2), np.ones(2), n_boot=0,
                            seed=0) == pytest.approx(missing, nan_ok=True)  # fmt: skip


def test_a_regression_is_compared_on_mae():
    """A measured outcome: the site sends the adapter's MAE minus the base alone's, with
    :func:`paired_difference`'s interval on the same resamples (lower is better)."""
    from medadapt.evaluate.paired_difference import paired_difference

    rng = np.random.default_rng(0)
    y = rng.normal(100, 20, 60)
    adapter, base = y + rng.normal(0, 5, 60), y + rng.normal(0, 12, 60)
    sent = paired_with_base("regression", y, adapter, base, n_boot=200, seed=4)
    diff = paired_difference(y, adapter, base, metric="mae", n_boot=200, seed=4)
    assert sent["mae"] == pytest.approx(np.abs(y - adapter).mean() - np.abs(y - base).mean())
    assert (sent["mae_low"], sent["mae_high"]) == pytest.approx(diff.ci)
    assert sent["mae_high"] < 0  # closer to the measured values: better
    assert "predicts closer to the measured values" in paired_line("R", _site(sent))


def test_several_classes_compare_auroc_or_where_a_class_is_too_small_the_brier_score():
    """Several classes: the macro one-vs-rest AUROC, as ``adapt`` compares them (said as
    telling the classes apart); a class of fewer than 5 patients: the Brier score summed
    over the classes, on the same resamples (a trial's 5-class site was judged on "accuracy
    at 0.5", which a model of several classes has no threshold for)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 90)
    adapter, base = rng.dirichlet(np.ones(3), 90), rng.dirichlet(np.ones(3), 90)
    adapter[np.arange(90)[:40], y[:40]] += 2.0  # right on at least the first 40
    adapter /= adapter.sum(axis=1, keepdims=True)
    sent = paired_with_base("multiclass", y, adapter, base, n_boot=500, seed=3)
    ovr = {"multi_class": "ovr", "average": "macro"}
    assert sent["auroc"] == pytest.approx(roc_auc_score(y, adapter, **ovr)
                                          - roc_auc_score(y, base, **ovr))  # fmt: skip
    site = {**_site(sent, n_test=90), "federated": {"n": 90.0, "n_positive": float("nan")}}
    assert "the federated adapter tells the classes apart better" in paired_line("M", site)
    y[y == 2] = 1
    y[:3] = 2  # a class of 3
    sent = paired_with_base("multiclass", y, adapter, base, n_boot=500, seed=3)
    onehot = np.eye(3)[y]
    gap = ((adapter - onehot) ** 2).sum(axis=1) - ((base - onehot) ** 2).sum(axis=1)
    W = bs.resample_weights(90, 500, 3)
    assert sent["brier"] == pytest.approx(gap.mean())
    low, high = np.percentile(W @ gap / 90, [2.5, 97.5])
    assert (sent["brier_low"], sent["brier_high"]) == pytest.approx((low, high))
    site["versus_base"] = sent
    assert paired_line("M", site).startswith(
        "At M, paired on the same 90 held-out patients (fewer than 5 in a class: too few for "
        "AUROC), the federated adapter changes Brier score by "
    )


def test_the_verdict_and_the_site_table_count_patients_not_their_rows():
    """A site whose 100 held-out rows are 40 patients' visits (an id column): the paired line
    and the table's "test patients" said 100; the site now sends its patients' count."""
    from medadapt.federated.local import site_metrics
    from medadapt.federated.site_figures import site_table
    from medadapt.modalities import modality_of
    from medadapt.modalities.tabular.samples import TableSamples

    frame = pd.DataFrame({"y": [0, 1] * 50, "x": np.random.default_rng(0).normal(size=100),
                          "patient": np.repeat(np.arange(40), [3] * 20 + [2] * 20)})  # fmt: skip
    tables = modality_of("tabular")
    schema = TableSchema.infer(frame, label="y", id_column="patient")
    samples = TableSamples(frame, schema)
    scores = np.linspace(0.1, 0.9, 100)
    sent = site_metrics(tables, schema, samples, scores, classes=["0", "1"], n_boot=20, seed=0)
    assert (sent["n"], sent["n_patients"]) == (100.0, 40.0)
    site = _site({"accuracy": 0.15, "accuracy_low": 0.05, "accuracy_high": 0.25})
    site["federated"]["n_patients"] = sent["n_patients"]
    assert paired_line("A", site).startswith("At A, paired on the same 40 held-out patients,")
    assert site_table({"config": {}, "sites": {"A": site}}, "accuracy")[1][0][:3] == [
        "A", "300", "40"]  # fmt: skip
    site["n_train_patients"] = 120  # the training rows' patients, counted by the job
    assert site_table({"config": {}, "sites": {"A": site}}, "accuracy")[1][0][1] == "120"


def _sites_summary(
    sites: dict, metric: str, *, base: float, shared: float, counted: int | None = None
) -> str:
    """What the shared adapter's record says over ``sites``: their means of ``metric``
    (``counted``: over how many sites, default all) and each site's paired verdict."""
    from medadapt.federated.verdicts import versus_base_over_sites

    average = {"base": {metric: base, f"{metric}_sites": counted or len(sites)},
               "federated": {metric: shared}}  # fmt: skip
    return versus_base_over_sites({"sites": sites, "average": average}, metric)["in_words"]


def test_the_sites_summary_does_not_call_a_difference_without_an_interval_undetectable():
    """A trial's card said "no site showed a detectable gain (no detectable difference at
    Switzerland, ...)" where Switzerland's own line said that no difference can be shown, and
    none ruled out (the same accuracy in every resample of its 37 patients)."""

    def site(low: float, high: float, value: float = 0.0) -> dict:
        return {
            "n_train": 100,
            "n_test": 40,
            "federated": {"n": 40, "n_positive": 20},
            "versus_base": {"accuracy": value, "accuracy_low": low, "accuracy_high": high},
        }

    sites = {"Switzerland": site(0.0, 0.0), "Hungary": site(-0.05, 0.1, 0.02),
             "VA Long Beach": site(0.02, 0.2, 0.1)}  # fmt: skip
    said = _sites_summary(sites, "accuracy", base=0.7, shared=0.74)
    assert said.endswith(
        "Paired at each site on the same held-out patients (accuracy at 0.5): better at VA Long "
        "Beach (no difference shown or ruled out at Switzerland; no detectable difference at "
        "Hungary)."
    ), said


def test_a_site_of_few_training_patients_is_named_after_the_run():
    """A trial's 8-row site took part; only its own client warned of it, and the server's
    summary said only that its 4 held-out patients gave no figure."""
    few = {**_site(None, n_test=4), "n_train": 8}
    lines = verdict_lines({"sites": {"Switzerland": few, "VA": _site(None)}})
    assert (  # the threshold its own client warns at (10), in the samples' own noun
        "Few training rows at Switzerland (8), fewer than 10: each round weighs a site by its "
        "training rows, so the shared adapter learnt little there, and the site's own figures "
        "are uncertain, or missing, where few are held out."
    ) in lines
    assert not any("Few training" in line for line in verdict_lines({"sites": {"VA": _site(None)}}))


def test_the_sites_summary_names_the_sites_compared_on_brier_for_want_of_auroc():
    """A site with fewer than 5 patients of an outcome is compared on the Brier score; the
    summary named only the first site's figure for all of them."""
    ranked = {**_site({"auroc": 0.05, "auroc_low": 0.01, "auroc_high": 0.09}, n_test=40),
              "federated": {"n": 40.0, "n_positive": 20.0}}  # fmt: skip
    few = {**_site({"brier": 0.0, "brier_low": -0.1, "brier_high": 0.1}, n_test=40),
           "federated": {"n": 40.0, "n_positive": 3.0}}  # fmt: skip
    said = _sites_summary({"Cleveland": ranked, "Switzerland": few}, "auroc", base=0.8,
                          shared=0.85, counted=1)  # fmt: skip
    assert said.endswith(
        "Paired at each site on the same held-out patients (AUROC at Cleveland; Brier score at "
        "Switzerland): better at Cleveland (no detectable difference at Switzerland)."
    ), said


def test_a_recalibrated_adapter_is_paired_on_what_recalibration_changes():
    """A recalibration moves every risk and keeps their order, so its AUROC is the shared
    adapter's: a trial's recalibrated adapters each repeated the shared one's AUROC verdict
    while their Brier score was worse than the base's."""
    from medadapt.federated.local import paired_metrics

    assert paired_metrics("binary", calibrated=True) == ("brier",)
    assert paired_metrics("binary") == ("auroc", "brier")
    assert paired_metrics("regression", calibrated=True) == ("mae",)
    y, adapter, base = _audit_pair()
    shifted = np.clip(adapter + 0.05, 0, 1)  # the same order, every risk moved
    sent = paired_with_base("binary", y, shifted, base, n_boot=200, seed=0,
                            metrics=paired_metrics("binary", calibrated=True))  # fmt: skip
    assert set(sent) == {"brier", "brier_low", "brier_high"}
    site = {**_site(None), "personalised_versus_base": sent}
    said = paired_line("A", site, key="personalised_versus_base", model="A's recalibrated "
                       "adapter", calibrated=True)  # fmt: skip
    assert said.startswith(
        "At A, paired on the same 100 held-out patients (a recalibration moves the risks but "
        "keeps their order: on the Brier score), A's recalibrated adapter changes Brier score by "
    )


def test_a_kept_personalised_adapter_s_record_reads_its_own_figures():
    """A review: the record a site keeps with its recalibrated adapter quoted the shared
    adapter's Brier score under its name, and, lacking the base's, told to keep a base that
    failed the same test; a multiclass recalibration (one offset per class) can reorder the
    risks, and keeps AUROC first."""
    from medadapt.cli.federate import _backwards_kept
    from medadapt.federated.verdicts import calibrated_at, site_versus_base

    assert calibrated_at({"personalise": "recalibrate"}, "binary")
    assert not calibrated_at({"personalise": "recalibrate"}, "multiclass")
    assert not calibrated_at({"personalise": "head"}, "binary")
    worse = {"brier": 0.03, "brier_low": 0.01, "brier_high": 0.05}
    site = {"n_train": 90, "n_test": 37,
            "federated": {"n": 37.0, "n_positive": 35.0, "brier": 0.12, "shares_brier": 0.09},
            "personalised": {"n": 37.0, "n_positive": 35.0, "brier": 0.095, "shares_brier": 0.09},
            "base": {"brier": 0.1}, "versus_base": worse,
            "personalised_versus_base": worse}  # fmt: skip
    kept = site_versus_base("Sw", site, key="personalised_versus_base",
                            model="Sw's recalibrated adapter", calibrated=True)  # fmt: skip
    assert kept["verdict"] == "worse" and kept["neither_beats_shares"] is True
    assert (
        "neither Sw's recalibrated adapter's Brier score (0.095) nor the base alone's (0.100)"
    ) in kept["in_words"] and "Keep the base model" not in kept["in_words"]
    results = {"kept": {"Sw": "personalised/sw"}, "sites": {"Sw": site}}
    assert "keep the base model instead" not in _backwards_kept(results)
    site["base"]["brier"] = 0.08  # the base beats the shares: the adapter alone is worse
    assert "keep the base model instead of" in _backwards_kept(results)

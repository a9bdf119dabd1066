"""The FLamby-federated demo's summary: per-centre and average figures are the mean and sd over
seeds (NaN-free: a centre where a metric is undefined is left out, and counted), and the
report names the personalisation the run used."""

from __future__ import annotations

import numpy as np
import pytest

from medadapt.data import heart
from medadapt.federated.flamby import aggregate, flamby_federated_report
from medadapt.federated.results import COMPARED


def _run(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    metrics = ("accuracy", "auroc", "balanced_accuracy")
    sites = {c: {w: {m: float(rng.uniform(0.5, 0.9)) for m in metrics} for w in COMPARED}
             for c in heart.CENTRES}  # fmt: skip
    sites["Switzerland"]["federated"]["auroc"] = float("nan")  # one class in its test set
    average = {w: {m: float(np.nanmean([sites[c][w][m] for c in heart.CENTRES]))
                   for m in metrics} for w in COMPARED}  # fmt: skip
    return {"sites": sites, "average": average}


def test_seeds_are_averaged_per_centre_and_undefined_values_left_out():
    runs = [_run(s) for s in range(3)]
    summary = aggregate(runs)
    cle = summary["centres"]["Cleveland"]["pooled"]["accuracy"]
    values = [r["sites"]["Cleveland"]["pooled"]["accuracy"] for r in runs]
    assert cle["mean"] == pytest.approx(np.mean(values))
    assert cle["sd"] == pytest.approx(np.std(values, ddof=1)) and cle["seeds"] == 3
    swiss = summary["centres"]["Switzerland"]["federated"]["auroc"]
    assert (swiss["mean"], swiss["sd"], swiss["seeds"]) == (None, None, 0)
    average = summary["average"]["personalised"]["accuracy"]
    assert average["mean"] == pytest.approx(np.mean([r["average"]["personalised"]["accuracy"]
                                                     for r in runs]))  # fmt: skip


@pytest.mark.parametrize(("mode", "says"), [
    ("recalibrate", "federated adapter, recalibrated at each centre"),
    ("finetune", "federated adapter, fine-tuned at each centre"),
    ("head", "federated adapter, own head at each centre"),
    ("none", None),
])  # fmt: skip
def test_the_report_names_the_personalisation_used(mode, says, tmp_path):
    setting = aggregate([_run(0), _run(1)])
    if says is None:  # no personalised column, no second figure in the summary
        for run in setting["centres"].values():
            run["personalised"] = {m: {"mean": None, "sd": None, "seeds": 0} for m in run["base"]}
    results = {"seeds": 2, "method": "bottleneck", "strategy": "fedavg", "rounds": 10,
               "personalise": mode, "flamby_published_accuracy": heart.FLAMBY_PUBLISHED,
               "settings": {"a": {"description": "base at Cleveland", **setting}}}  # fmt: skip
    html = flamby_federated_report(results).write(tmp_path / "r.html").read_text()
    if says is None:
        assert "at each centre" not in html and "n/a" not in html
        assert html.count("federated adapter (shared)") == 2  # its row, its centre column
        return
    assert says in html
    shown = setting["average"]["personalised"]["accuracy"]["mean"]
    assert f"{says.removeprefix('federated adapter, ')} {shown:.3f}" in html


def test_a_site_without_auroc_says_why():
    from medadapt.federated.site_lines import no_auroc_line

    few = {"federated": {"n": 37, "n_positive": 35}}
    assert no_auroc_line("Switzerland", few) == (
        "No AUROC at Switzerland: only 2 of its 37 held-out patients are without the outcome, "
        "too few for an AUROC (medadapt reports none below 5); accuracy is reported there."
    )
    one = {"federated": {"n": 16, "n_positive": 16}}
    assert no_auroc_line("Switzerland", one) == (
        "No AUROC at Switzerland: all its held-out patients have the same outcome; accuracy is "
        "reported there."
    )


def test_a_site_too_small_for_any_figure_is_not_said_to_have_an_accuracy():
    from medadapt.federated.site_lines import no_auroc_line

    tiny = {"federated": {"n": 5.0, "n_positive": 2.0, "accuracy": None}}
    assert no_auroc_line("Tiny Clinic", tiny) == (
        "No figures at Tiny Clinic: only 5 held-out patients, too few for any (medadapt reports "
        "none below 10)."
    )


def _site(n_train: int, n_test: int, positives: int, accuracy: float) -> dict:
    """A site's record as ``federated.json`` holds it (counts arrive as floats)."""
    return {"n_train": n_train, "n_test": n_test, "base": {},
            "federated": {"n": float(n_test), "n_positive": float(positives),
                          "accuracy": accuracy}}  # fmt: skip


def test_a_site_without_auroc_is_not_told_to_judge_by_it():
    """One outcome (or too few of the rarer one) at a site: no AUROC or balanced accuracy
    there, so the line does not send the reader to them."""
    from medadapt.federated.verdicts import verdict_lines

    one, few = _site(42, 18, 0, 1.0), _site(86, 37, 35, 0.919)
    lines = verdict_lines({"sites": {"Benign Only": one, "Switzerland": few}})
    assert lines == [
        "At Benign Only, the shared adapter's accuracy (1.000) is no better than calling every "
        "patient negative (1.000, the no-information rate), and too few of its held-out "
        "patients have the rarer outcome for an AUROC or balanced accuracy: its figures there "
        "say little.",
        "At Switzerland, the shared adapter's accuracy (0.919) is no better than calling every "
        "patient positive (0.946, the no-information rate), and too few of its held-out "
        "patients have the rarer outcome for an AUROC or balanced accuracy: its figures there "
        "say little.",
    ]


def test_a_site_whose_accuracy_is_no_better_than_everyone_positive_is_named():
    from medadapt.federated.verdicts import verdict_lines

    site, fine = _site(140, 60, 45, 0.683), _site(140, 60, 45, 0.8)
    lines = verdict_lines({"sites": {"VA Long Beach": site, "Hungary": fine}})
    assert lines == [
        "At VA Long Beach, the shared adapter's accuracy (0.683) is no better than calling "
        "every patient positive (0.750, the no-information rate): judge it there by AUROC and "
        "balanced accuracy (each model's, per site: the AUROC in the tables printed and in "
        "the report, balanced accuracy in the report's table and federated.json)."
    ]


def test_the_legend_explains_only_the_columns_shown():
    """A deployment's server has no local or pooled references: its legend leaves them out."""
    from medadapt.federated.compared import legend

    config = {"personalise": "recalibrate"}
    assert legend(config, ["federated", "personalised", "base"]) == (
        "Shared: the federated adapter; base: no adapter; recalibrated: the shared adapter's "
        "predictions shifted to the outcome rate of the site's own training patients."
    )
    assert "local: an adapter trained at the site" in legend(config)
    # a measured outcome's recalibration is a mean shift (a trial's legend and card said
    # "the outcome rate" of a diabetes progression score)
    assert legend(config, ["federated", "personalised"], "regression").endswith(
        "recalibrated: the shared adapter's predictions shifted so that their mean is the "
        "mean outcome of the site's own training patients."
    )


def test_a_round_panel_without_any_site_s_figure_says_so_without_a_matplotlib_warning():
    """No site with an AUROC (too few held-out patients of one outcome): the panel says so,
    and matplotlib's "No artists with labels found to put in legend" no longer reaches the
    terminal as a 'warning:' line."""
    import warnings

    from medadapt.federated.site_figures import round_figure

    rounds = [{"round": 1, "site": "Tiny", "auroc": None, "accuracy": None},
              {"round": 1, "site": "Basel", "auroc": None, "accuracy": 0.8}]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = round_figure(rounds, ["Tiny", "Basel"])
    auroc, accuracy = fig.axes
    assert [t.get_text() for t in auroc.texts] == ["no site has enough held-out\npatients for it"]
    assert len(accuracy.texts) == 0 and accuracy.get_legend() is None  # one, below both
    [legend] = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["Basel"]  # the sites drawn


def test_the_report_says_which_centre_trained_on_one_outcome(tmp_path):
    """Switzerland's FLamby training split is 30 of 30 with disease: said in the summary."""
    note = ("site Switzerland: its 30 training rows have only one class of 'disease' ('1'): "
            "it can only pull the shared adapter toward that answer")  # fmt: skip
    results = {"seeds": 2, "method": "bottleneck", "strategy": "fedavg", "rounds": 10,
               "personalise": "recalibrate", "flamby_published_accuracy": heart.FLAMBY_PUBLISHED,
               "settings": {"a": {"description": "base at Cleveland",
                                  **aggregate([_run(0), _run(1)])}},
               "site_notes": [note]}  # fmt: skip
    html = flamby_federated_report(results).write(tmp_path / "r.html").read_text()
    assert note.replace("'", "&#x27;") in html or note in html


def test_the_reading_lines_say_the_settings_a_rise_in_accuracy_bought_with_balance_and_no_ci(
    tmp_path,
):
    """A trial's terminal never said what (a) and (b) were; its recalibrated row looked best
    on accuracy (0.767 -> 0.839) while its balanced accuracy fell (0.775 -> 0.747) without a
    word; the means had no interval and the report's heading said "1 seeds"."""
    from medadapt.federated.flamby import reading_lines, setting_lines

    setting = aggregate([_run(0)])
    average = setting["average"]
    for which, accuracy, balanced in (
        ("federated", 0.767, 0.775),
        ("personalised", 0.839, 0.747),
        ("local", 0.832, 0.770),
        ("base", 0.733, 0.740),
        ("pooled", 0.700, 0.700),
    ):
        average[which]["accuracy"]["mean"] = accuracy
        average[which]["balanced_accuracy"]["mean"] = balanced
    results = {"seeds": 1, "method": "bottleneck", "strategy": "fedavg", "rounds": 10,
               "personalise": "recalibrate", "flamby_published_accuracy": heart.FLAMBY_PUBLISHED,
               "settings": {"a": {"description": "base trained at Cleveland",
                                  **setting}}}  # fmt: skip
    lines = setting_lines(results) + reading_lines(results)
    assert lines == [
        "(a) base trained at Cleveland.",
        "(a) federated adapter, recalibrated at each centre: accuracy 0.839 against the shared "
        "adapter's 0.767, but balanced accuracy 0.747 against 0.775: it gains by calling more "
        "patients the commoner outcome at each centre, which accuracy at 0.5 rewards; judge it "
        "by balanced accuracy and AUROC.",  # (the local adapter's 0.770 is within 0.01)
        "Means over 1 seed, without 95% intervals: FLamby's test sets are small (16 to 96 "
        "patients a centre), so rows a few points apart may differ by chance; each seed's "
        "per-centre figures with their intervals, and the federated adapter against the base "
        "alone on the same patients, are in seed_N/a_adapter/ and seed_N/b_adapter/ "
        "(report.html, federated.json).",
    ]
    html = flamby_federated_report(results).write(tmp_path / "r.html").read_text()
    assert "1 seed;" in html and "1 seeds" not in html
    assert "it gains by calling more patients the commoner outcome" in html


def test_a_setting_whose_base_alone_beats_the_shared_adapter_says_so():
    """A trial: in setting (b) the base alone scored above the shared adapter on all three
    figures (0.748 / 0.813 / 0.731 against 0.729 / 0.802 / 0.705), and nothing said it beside
    the comparison with FLamby's published accuracy."""
    from medadapt.federated.flamby import reading_lines

    setting = aggregate([_run(0)])
    average = setting["average"]
    for which, figures in (("federated", (0.729, 0.802, 0.705)), ("base", (0.748, 0.813, 0.731))):
        for metric, value in zip(("accuracy", "auroc", "balanced_accuracy"), figures, strict=True):
            average[which][metric]["mean"] = value
    results = {"seeds": 1, "personalise": "recalibrate", "settings": {"b": setting}}
    base_line = [line for line in reading_lines(results) if "base model alone" in line]
    assert base_line == [
        (
            "(b) the base model alone scores above the shared adapter on every figure (accuracy at "
            "0.5 0.748 against 0.729, AUROC 0.813 against 0.802, balanced accuracy 0.731 against "
            "0.705): in this setting the federated adapter does not beat the base alone on "
            "these means (no intervals: see each seed's), whatever its place beside FLamby's "
            "published accuracy."
        )
    ]
    average["base"]["auroc"]["mean"] = 0.79  # below on one figure: nothing said
    assert not any("base model alone" in line for line in reading_lines(results))


def test_the_federated_demo_counts_a_step_per_seed_as_it_ends_and_says_each_phase(
    monkeypatch, tmp_path
):
    """A trial's bar counted each half of a seed as it began: the time left, estimated from a
    seed's quick first half, was far off, and the bar was full through the last seed's five
    silent minutes. Steps are whole seeds, counted as they end; each phase is said (0)."""
    from types import SimpleNamespace

    import medadapt.federated.flamby as flamby

    class Run(SimpleNamespace):
        def check(self):
            return self

    ran: list[str] = []
    monkeypatch.setattr(flamby, "FederatedRun", Run)
    monkeypatch.setattr(flamby, "cleveland_base", lambda frame, seed, out: out)
    monkeypatch.setattr(flamby, "_untrained_base", lambda frame, seed, out: out)
    monkeypatch.setattr(flamby, "aggregate", lambda runs: {})

    def federate(run, out):
        ran.append(out.name)
        return {"bytes": {}, "site_notes": []}

    monkeypatch.setattr(flamby, "federate_job", federate)
    said: list[tuple[str, int]] = []
    flamby.run_federated_flamby(tmp_path, seeds=2, progress=lambda m, a=None: said.append((m, a)))
    assert ran == ["a_adapter", "base_federated", "b_adapter"] * 2
    assert [a for _, a in said] == [0, 0, 0, 0, 1] * 2  # one step a seed, at its end
    assert said[:5] == [
        ("seed 0: (a) base at Cleveland", 0),
        ("seed 0: (a) adapter federated, 10 rounds, and its references", 0),
        ("seed 0: (b) base by full-model FedAvg, 30 rounds", 0),
        ("seed 0: (b) adapter federated, 10 rounds, and its references", 0),
        ("seed 0 done", 1),
    ]

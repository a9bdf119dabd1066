"""What the federated report says of figures that cannot be taken at face value, as
``evaluate`` says it of one adapter: a site's figure too good to be true, any compared model's
accuracy no better than calling everyone the commoner outcome, accuracy compared where one
outcome is rare, and an interval's end that rounds to 0. No Flower here: what a run's sites
sent, summarised and written as a run's would be."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
import torch

from medadapt.evaluate.metrics import TOO_GOOD, too_good_note
from medadapt.federated.config import FederatedRun
from medadapt.federated.results import RESULTS, summarise, write_results
from medadapt.federated.server import FederatedOutcome
from medadapt.federated.strategies import PATIENTS_NAMED
from medadapt.federated.verdicts import paired_line, verdict_lines

LEAK = ("too good to be true for most clinical questions; check for a leak (a copy of the "
        "label, a record number, a value recorded after the outcome, training patients among "
        "the test patients) before trusting it")  # fmt: skip


def _figures(accuracy: float, auroc: float, n: int = 60, positives: int = 45) -> dict:
    """One model's figures at a site, as a site sends them."""
    return {"n": float(n), "n_positive": float(positives), "n_patients": float(n),
            "accuracy": accuracy, "auroc": auroc, "balanced_accuracy": 0.7,
            "brier": 0.15}  # fmt: skip


def _written(tmp_path: Path, sites: dict[str, dict]) -> dict:
    """``federated.json`` of a run whose sites sent ``sites`` (``{"federated": figures,
    "local": ..., ...}`` each), read back as a reader would."""
    run = FederatedRun(base_dir=tmp_path, data=None, label=None, group_column=None,
                       sites=tuple(sites)).check()  # fmt: skip
    final = [{"round": 3, "site": name, **site.pop("federated")} for name, site in sites.items()]
    outcome = FederatedOutcome(weights={}, rounds=[], final=final, failures=[],
                               train_counts={name: 100 for name in sites})  # fmt: skip
    results = summarise(run, outcome, sites, 1.0, counts={n: (100, 60) for n in sites},
                        base_model=torch.nn.Linear(2, 1), task="binary")  # fmt: skip
    write_results(results, tmp_path)
    return json.loads((tmp_path / RESULTS).read_text())


def _report(tmp_path: Path) -> str:
    return html.unescape((tmp_path / "report.html").read_text())


def test_a_perfect_figure_at_a_site_is_too_good_to_be_true_wherever_it_is_shown(tmp_path):
    """AUROC 1.000 at a site: warned in federated.json (each model's ``notes.too_good``,
    ``evaluate``'s note), and first in the terminal's lines and the report's summary."""
    perfect = _figures(1.0, 1.0)
    written = _written(tmp_path, {
        "Leaky": {"federated": perfect, "local": _figures(0.9, 0.995), "pooled": _figures(0.9, 0.9),
                  "base": _figures(0.8, 0.8)},
        "Plain": {"federated": _figures(0.8, 0.85), "local": _figures(0.8, 0.85)},
    })  # fmt: skip
    leaky = written["sites"]["Leaky"]
    assert leaky["federated"]["notes"]["too_good"] == too_good_note({**perfect, "n": 60})
    assert leaky["local"]["notes"] == {"too_good": f"AUROC 0.995: {LEAK}"}
    assert "notes" not in leaky["pooled"] and "notes" not in written["sites"]["Plain"]["federated"]
    warning = (
        "Warning: at Leaky, the shared adapter's AUROC 1.000 and accuracy 1.0 on 60 patients; the "
        f"local-only adapter's AUROC 0.995: {LEAK}."
    )
    assert verdict_lines(written)[0] == warning  # the terminal prints these lines
    assert warning in _report(tmp_path)


def test_figures_too_good_at_several_sites_are_one_warning_naming_each(tmp_path):
    """A trial's run said the whole too-good sentence, and its advice, once per site."""
    written = _written(tmp_path, {
        "A": {"federated": _figures(0.9, 1.0), "base": _figures(0.9, 0.995)},
        "C": {"federated": _figures(0.9, 0.992), "local": _figures(0.8, 0.85)},
        "Plain": {"federated": _figures(0.8, 0.85)},
    })  # fmt: skip
    said = [line for line in verdict_lines(written) if TOO_GOOD in line]
    why = LEAK.partition(TOO_GOOD)[2].replace("trusting it", "trusting them")
    assert said == [
        "Warning: at A (the shared adapter's AUROC 1.000; the base alone's AUROC 0.995) and at "
        f"C (the shared adapter's AUROC 0.992): {TOO_GOOD}{why}."
    ]


def test_every_compared_model_s_accuracy_is_held_against_the_no_information_rate(tmp_path):
    """45 of 60 with the outcome: a local-only adapter at 0.733 and a pooled one at 0.750 call
    no more patients right than calling everyone positive; said of them by name."""
    written = _written(tmp_path, {
        "VA": {"federated": _figures(0.8, 0.8), "local": _figures(0.733, 0.6),
               "pooled": _figures(0.75, 0.7), "base": _figures(0.8, 0.8)},
        "Hungary": {"federated": _figures(0.8, 0.8), "local": _figures(0.8, 0.8)},
    })  # fmt: skip
    line = ("At VA, the accuracy of the local-only adapter (0.733) and the pooled adapter "
            "(0.750) is no better than calling every patient positive (0.750, the "
            "no-information rate): judge them there by AUROC and balanced accuracy (each "
            "model's, per site: the AUROC in the tables printed and in the report, balanced "
            "accuracy in the report's table and federated.json).")  # fmt: skip
    assert verdict_lines(written) == [line]
    assert line in _report(tmp_path)
    va = written["sites"]["VA"]
    assert va["local"]["notes"] == {
        "no_information": "accuracy 0.733 is no better than calling "
        "every patient positive (0.750, the no-information rate)"
    }
    assert "notes" not in va["federated"] and "notes" not in va["base"]
    one = {"federated": _figures(0.8, 0.8), "base": _figures(0.733, 0.7)}
    assert verdict_lines({"sites": {"VA": {"n_train": 90, "n_test": 60, **one}}}) == [
        "At VA, the base alone's accuracy (0.733) is no better than calling every patient "
        "positive (0.750, the no-information rate): judge it there by AUROC and balanced "
        "accuracy (each model's, per site: the AUROC in the tables printed and in the "
        "report, balanced accuracy in the report's table and federated.json)."
    ]


def _site(n: int, positives: int, paired: dict) -> dict:
    return {"n_train": 90, "n_test": n, "federated": {"n": float(n), "n_positive": float(positives),
            "accuracy": 0.95}, "versus_base": paired}  # fmt: skip


def test_a_site_with_a_rare_outcome_is_judged_on_the_brier_score_and_says_why():
    """Switzerland: 2 of 37 without the outcome. Its paired accuracy (what sites sent) called
    the adapter better where calling everyone positive is right about 35 of the 37, with a
    caveat to read it with care; the site now sends the Brier score's difference, as
    ``adapt`` compares where AUROC cannot, and the line says why not AUROC."""
    better = {"brier": -0.035, "brier_low": -0.061, "brier_high": -0.009}
    swiss = paired_line("Switzerland", _site(37, 35, better))
    assert swiss == (
        "At Switzerland, paired on the same 37 held-out patients (only 2 with the rarer "
        "outcome: too few for AUROC), the federated adapter changes Brier score by -0.035 (95% "
        "CI -0.061 to -0.009; a lower Brier score is better) against the base alone: the "
        "federated adapter gives risks closer to what happened (lower Brier score)."
    )
    shares = (2 / 37) * (35 / 37)  # every patient given the site's own rate
    site = _site(37, 35, better)
    site["federated"] |= {"brier": 0.06, "shares_brier": shares}  # as the site sends them
    assert paired_line("Switzerland", site).endswith(  # a review: the rate alone does as well
        "(lower Brier score). Yet the federated adapter's Brier score (0.060) is no better than "
        "giving every patient the share of these very patients with each outcome (0.051): its "
        "probabilities are not yet worth more than that share."
    )
    worse = {"brier": 0.049, "brier_low": 0.02, "brier_high": 0.08}  # than the base: 0.011
    site |= {"versus_base": worse, "base": {"brier": 0.073}}
    both = paired_line("Switzerland", site)  # a trial: "keep the base", which failed it too
    assert (
        both.endswith(
            "And neither the federated adapter's Brier score (0.060) nor the base alone's (0.073) "
            "is better than giving every patient the share of these very patients with each "
            "outcome (0.051): neither model's probabilities are worth more than that share here."
        )
        and "Keep the base model" not in both
    )
    site |= {"versus_base": better, "federated": site["federated"] | {"brier": 0.04}}
    assert paired_line("Switzerland", site) == swiss  # better than the shares: nothing more
    none = paired_line("Same", _site(30, 30, better))
    assert "(all with the same outcome: no AUROC)" in none
    even = paired_line("Even", _site(40, 20, {"auroc": 0.1, "auroc_low": 0.02,
                                              "auroc_high": 0.2}))  # fmt: skip
    assert even.startswith("At Even, paired on the same 40 held-out patients, the federated "
                           "adapter changes AUROC by +0.100")  # fmt: skip


def test_an_interval_end_that_rounds_to_zero_shows_its_side_and_an_end_at_zero_says_so():
    """``+0.000`` beside "no detectable difference" read as a contradiction: an end of
    0.0004 gets a digit more, one of exactly 0 has no sign and is named."""
    at_zero = {"auroc": 1 / 30, "auroc_low": 0.0, "auroc_high": 0.0833}
    assert paired_line("VA", _site(60, 30, at_zero)).endswith(
        "changes AUROC by +0.033 (95% CI 0.000 to +0.083) against the base alone: no "
        "detectable difference on these patients (the interval's lower end is 0)."
    )
    near = {"auroc": 0.1, "auroc_low": 0.0004, "auroc_high": 0.2}
    assert "by +0.1000 (95% CI +0.0004 to +0.2000) against the base alone: the federated " in (
        paired_line("VA", _site(60, 30, near)))  # fmt: skip
    below = {"auroc": 0.05, "auroc_low": -0.0003, "auroc_high": 0.1}
    assert "(95% CI -0.0003 to +0.1000)" in paired_line("VA", _site(60, 30, below))


@pytest.mark.parametrize("trained", [["A"], []])
def test_fewer_than_two_training_sites_is_said(trained):
    from medadapt.federated.figure_warnings import one_site_note

    note = one_site_note(["A", "B", "C"], trained)
    assert note is not None and "not a federated" in note and "B and C dropped out" in note
    assert one_site_note(["A", "B", "C"], ["A", "C"]) is None


ABOUT_BASE = {"folder": "/runs/fed/base", "trained_here": True,
              "weights_sha256": "f873aa46c6ec7562", "training_groups": {"Cleveland": 243},
              "group_column": "dataset", "noun": "rows", "label": "num",
              "outcome": "positive means num > 0 (the base model's --positive-above 0); "
                         "negative, num 0 or less", "test_kept_out": True,
              "warnings": ["the rarer class has 111 of the 243 training rows for 13 "
                           "features"]}  # fmt: skip


def _with_base(tmp_path: Path, about: dict | None, named: dict[str, int] | None = None) -> dict:
    """``federated.json`` of a run over Cleveland (the base's group), Hungary and Switzerland
    (every patient but a few with the outcome), with what the job records of the base;
    ``named``: what each site's final reply said of its patients (none: said nothing)."""
    sites = {"Cleveland": {"federated": _figures(0.8, 0.85)},
             "Hungary": {"federated": _figures(0.82, 0.8)},
             "Switzerland": {"federated": _figures(0.75, 0.7, n=60, positives=45)}}  # fmt: skip
    run = FederatedRun(base_dir=tmp_path, data=None, label=None, group_column=None,
                       sites=tuple(sites)).check()  # fmt: skip
    final = [{"round": 3, "site": name, **site.pop("federated")} for name, site in sites.items()]
    for entry in final:
        entry.update({PATIENTS_NAMED: named[entry["site"]]} if named else {})
    outcome = FederatedOutcome(weights={}, rounds=[], final=final, failures=[],
                               train_counts={name: 100 for name in sites})  # fmt: skip
    counts = {"Cleveland": (285, 19), "Hungary": (205, 88), "Switzerland": (86, 60)}
    results = summarise(run, outcome, sites, 1.0, counts=counts, base_model=torch.nn.Linear(2, 1),
                        task="binary", about_base=about)  # fmt: skip
    results["site_notes"] = ["site Switzerland: column 'chol' is 0 in 123 of 123 rows here"]
    write_results(results, tmp_path)
    return json.loads((tmp_path / RESULTS).read_text())


def test_the_report_says_the_outcome_the_base_and_each_site_s_patients(tmp_path):
    """A new user's trial: the report gave test counts only, never defined the outcome nor
    said where the base was trained; the same lines serve the terminal."""
    from medadapt.federated.site_lines import run_lines

    written = _with_base(tmp_path, ABOUT_BASE)
    lines = [
        "Outcome: positive means num > 0 (the base model's --positive-above 0); negative, num 0 "
        "or less.",
        "The base model was trained by this run (--base-groups) on 243 rows whose dataset is "
        "Cleveland; saved in the run's folder as base/ (weights sha256 f873aa46c6ec). Cleveland "
        "is also a site here: scored only on patients the base never trained on.",
        "Patients per site (training / held-out test): Cleveland 285 / 60; Hungary 205 / 60; "
        "Switzerland 86 / 60.",
    ]
    assert run_lines(written) == lines
    report = _report(tmp_path)
    assert all(line in report for line in lines)
    assert "<th>training patients</th><th>test patients</th>" in report
    assert "site Switzerland: column 'chol' is 0 in 123 of 123 rows here" in report
    # a trial: the base's training warnings were said on the terminal only, then lost
    assert (
        "base model, on Cleveland's rows: the rarer class has 111 of the 243 training rows "
        "for 13 features"
    ) in report  # whose rows: the group's (a trial read 303 beside 242)
    given = {**ABOUT_BASE, "trained_here": False,
             "training_groups": {"Cleveland": 243, "Hungary": 200}}  # fmt: skip
    assert run_lines(_with_base(tmp_path, given))[1] == (
        "The base model is --base /runs/fed/base (weights sha256 f873aa46c6ec); it records "
        "training on 443 rows whose dataset is Cleveland (243) or Hungary (200). Cleveland and "
        "Hungary are also sites here: scored only on patients the base never trained on."
    )
    bare = {**ABOUT_BASE, "trained_here": False, "training_groups": None}
    assert "it records no training groups." in run_lines(_with_base(tmp_path, bare))[1]
    unknown = {**given, "test_kept_out": False}  # a review: said without being checked
    assert run_lines(_with_base(tmp_path, unknown))[1].endswith(
        "Cleveland and Hungary are also sites here: their held-out patients may include some "
        "the base trained on (see the warning above): the base alone may look better there than "
        "it is."
    )
    deployed = {**given, "test_kept_out": None}  # the server cannot see the sites' splits
    assert run_lines(_with_base(tmp_path, deployed))[1].endswith(
        "also sites here: each site held out only patients the base never trained on where its "
        "data let it recognise them (a site warns where it could not)."
    )


def test_sites_whose_data_names_no_patients_say_each_row_is_taken_as_one(tmp_path):
    """A trial's table without an id column: "19 held-out patients" at each site, where the
    rest of medadapt says each row is taken as one patient. The sites say which they are;
    the server's terminal lines and report say it after the counts."""
    from medadapt.federated.site_lines import run_lines

    some = _with_base(tmp_path, ABOUT_BASE, {"Cleveland": 1, "Hungary": 0, "Switzerland": 0})
    assert [site["patients_named"] for site in some["sites"].values()] == [True, False, False]
    said = (
        "No id column names the patients at Hungary and Switzerland: each of the rows there "
        "is counted as one patient, so a patient with several rows counts more than once, and "
        "the 95% intervals may be too narrow."
    )
    assert run_lines(some)[-1] == said
    assert said in _report(tmp_path)
    every = _with_base(
        tmp_path, ABOUT_BASE, dict.fromkeys(("Cleveland", "Hungary", "Switzerland"), 0)
    )
    assert run_lines(every)[-1].startswith("No id column names the patients at every site: ")
    named = _with_base(
        tmp_path, ABOUT_BASE, dict.fromkeys(("Cleveland", "Hungary", "Switzerland"), 1)
    )
    assert run_lines(named)[-1].startswith("Patients per site (training / held-out test): ")
    assert [site["patients_named"] for site in _with_base(tmp_path, None)["sites"].values()] == [
        None,
        None,
        None,  # a reply from before sites said it: nothing claimed either way
    ]


def test_the_headline_mean_names_the_sites_no_better_than_the_commoner_outcome(tmp_path):
    """ "Shared: mean accuracy 0.79 over 3 sites" averaged in a site that the same report
    calls no better than calling every patient positive: the headline names it, with the
    mean over the others."""
    _with_base(tmp_path, ABOUT_BASE)
    assert (
        "Shared: mean accuracy 0.790 over 3 sites (at Switzerland no better than calling every "
        "patient positive; 0.810 over the other 2); mean AUROC 0.783 over 3 sites."
    ) in _report(tmp_path)


def test_an_adapter_that_ranks_a_site_s_patients_backwards_is_warned_as_evaluate_warns(tmp_path):
    """The trial's DP run: the shared adapter's AUROC 0.089 at Cleveland, its whole interval
    (0.000 to 0.339) below 0.5, while the base alone ranks well; warned in federated.json
    (``notes.backwards``, ``evaluate``'s note), the terminal's lines and the report."""
    backwards = {**_figures(0.263, 0.089, n=19, positives=9), "auroc_low": 0.0,
                 "auroc_high": 0.339}  # fmt: skip
    written = _written(tmp_path, {
        "Cleveland": {"federated": backwards,
                      "base": {**_figures(0.8, 0.9), "auroc_low": 0.647, "auroc_high": 1.0}},
        "Hungary": {"federated": {**_figures(0.8, 0.45), "auroc_low": 0.3, "auroc_high": 0.6}},
    })  # fmt: skip
    note = (
        "AUROC 0.089 (95% CI up to 0.339) is below 0.5: the model ranks these patients "
        "backwards, worse than chance; check that the classes are not swapped "
        "(--positive-class), that images are not inverted, and that these patients are like "
        "the model's; do not use it here as it is"
    )
    cleveland = written["sites"]["Cleveland"]
    assert cleveland["federated"]["notes"]["backwards"] == note
    assert "backwards" not in (cleveland["base"].get("notes") or {})
    assert "notes" not in written["sites"]["Hungary"]["federated"]  # 0.45, its interval over 0.5
    warning = (
        "Warning: at Cleveland, the shared adapter's AUROC 0.089 (95% CI up to 0.339) is below "
        "0.5: the model ranks these patients backwards, worse than chance; check that the "
        "classes are not swapped (--positive-class), that images are not inverted, and that "
        "these patients are like the model's; do not use it here as it is."
    )
    assert warning in verdict_lines(written)
    assert warning in _report(tmp_path)
    # with differential privacy's noise, the likelier cause is said (a trial checked its
    # labels: its noise 0.5 had turned AUROC 1.000 into 0.219)
    from medadapt.federated.figure_warnings import backwards_lines

    written["config"].update(noise_multiplier=0.5, clipping_norm=1.0)
    (noised,) = backwards_lines(written)
    assert noised == warning + (
        " This run added differential privacy's noise (--dp-noise 0.5, --dp-clip 1), the "
        "likelier cause where the models trained without it do not rank them so: run again "
        "with less noise or none, and compare"
    )


def test_a_kept_personalised_adapter_that_ranks_backwards_is_not_offered_for_use():
    """A trial was told "do not use it here as it is", then that each site's recalibrated
    adapter "is kept (use it with --adapter)"."""
    from medadapt.cli.federate import _backwards_kept

    results = {"kept": {"Ward2": "personalised/ward2", "Clinic3": "personalised/clinic3"},
               "sites": {"Ward2": {"personalised": {"notes": {"backwards": "..."}}},
                         "Clinic3": {"personalised": {"auroc": 0.8}}}}  # fmt: skip
    assert _backwards_kept(results) == (
        "; but Ward2's ranks its held-out patients backwards (see the warning above): do not use it"
    )
    results["sites"]["Ward2"]["personalised"] = {"auroc": 0.7}
    assert _backwards_kept(results) == ""


def test_a_site_s_warning_is_not_said_again_as_the_base_model_s():
    """A trial's report read "base model: 4 of 304 rows have a 'restecg' value ..." and then
    "site Cleveland: 4 of 304 rows ...": the base trained in the run on that site's rows; its
    own other warnings are kept."""
    from medadapt.federated.report import _base_warnings

    said = "4 of 304 rows have a 'restecg' value the model never learned"
    results = {"site_notes": [f"site Cleveland: {said}"],
               "base_model": {"warnings": [said, "the rarer class has 30 rows"]}}  # fmt: skip
    assert _base_warnings(results) == ["the rarer class has 30 rows"]
    assert _base_warnings({"base_model": {"warnings": [said]}}) == [said]


def test_the_pooled_model_is_explained_only_where_the_tables_show_it(tmp_path):
    """A trial's deployed report read "Pooled is what sharing the data would give" beside
    tables with no pooled column (a deployment's server trains none)."""
    (tmp_path / "deployed").mkdir()
    (tmp_path / "simulated").mkdir()
    _with_base(tmp_path / "deployed", ABOUT_BASE)
    assert "Pooled is what" not in _report(tmp_path / "deployed")
    _written(tmp_path / "simulated", {
        "A": {"federated": _figures(0.8, 0.85), "pooled": _figures(0.8, 0.9)},
        "B": {"federated": _figures(0.8, 0.8), "pooled": _figures(0.8, 0.8)},
    })  # fmt: skip
    assert "Pooled is what sharing the data would give" in _report(tmp_path / "simulated")


def test_a_site_names_its_patients_only_where_an_id_column_or_patient_id_does():
    """An image site's files each counted as "named" patients (their own paths): a review
    found every image federation said to name its patients."""
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from medadapt.data.images import ImageDataset
    from medadapt.data.schema import TableSchema
    from medadapt.federated.client import _patients_named
    from medadapt.modalities import modality_of
    from medadapt.modalities.images.samples import ImageSamples
    from medadapt.modalities.tabular.samples import TableSamples

    films = {"images": torch.zeros(4, 1, 4, 4), "y": torch.tensor([0, 1, 0, 1]),
             "classes": ["a", "b"], "paths": [f"x/{i}.png" for i in range(4)]}  # fmt: skip
    listed = ImageDataset(**films, subjects=["p1", "p1", "p2", "p2"],
                          source={"id_column": "patient"})  # fmt: skip

    def named(samples, kind: str) -> bool:
        return _patients_named(SimpleNamespace(test=samples, modality=modality_of(kind)))

    assert not named(ImageSamples(ImageDataset(**films)), "image")  # class folders
    assert named(ImageSamples(listed), "image")
    rows = pd.DataFrame({"x": np.random.default_rng(0).normal(size=20), "y": [0, 1] * 10,
                         "pid": range(20)})  # fmt: skip
    with_ids = TableSchema.infer(rows, label="y", id_column="pid")
    without = TableSchema.infer(rows.drop(columns="pid"), label="y")
    assert named(TableSamples(rows, with_ids), "tabular")
    assert not named(TableSamples(rows.drop(columns="pid"), without), "tabular")


def test_a_site_with_too_few_of_one_outcome_is_said_whatever_the_accuracies():
    """A trial's Switzerland: 37 held-out patients, 2 negative; the base alone (0.892, below
    the no-information rate 0.946) was said to say little, the shared adapter (0.973: one
    patient better than calling everyone positive) was not."""
    from medadapt.federated.figure_warnings import no_information_lines

    site = {"n_train": 80, "n_test": 37,
            "federated": {"n": 37, "n_positive": 35, "accuracy": 36 / 37},
            "base": {"n": 37, "n_positive": 35, "accuracy": 36 / 37}}  # fmt: skip
    assert no_information_lines({"sites": {"Switzerland": site}}) == [
        "At Switzerland, only 2 of the 37 held-out patients are negative: too few for an "
        "AUROC or balanced accuracy, and every model's accuracy there mostly reflects how "
        "common the positive outcome is; the figures there say little."
    ]
    balanced = {"n": 37, "n_positive": 20, "accuracy": 0.9}
    assert no_information_lines({"sites": {"A": {"federated": balanced}}}) == []


def test_a_model_calling_none_of_a_site_s_negatives_negative_is_warned_and_noted(tmp_path):
    """A trial's shared adapter called none of VA's 15 negative patients negative (the base
    alone found 5), and the run said only that its accuracy, 0.733, was no better than
    calling everyone positive; the sites sent no sensitivity or specificity."""
    blind = {**_figures(0.733, 0.62), "sensitivity": 0.978, "specificity": 0.0}
    written = _written(tmp_path, {
        "VA": {"federated": blind, "base": {**_figures(0.7, 0.7), "specificity": 5 / 15}},
        "Plain": {"federated": {**_figures(0.8, 0.85), "specificity": 0.6}},
    })  # fmt: skip
    said = "it called none of its 15 negative test patients negative (specificity 0)"
    assert written["sites"]["VA"]["federated"]["notes"]["none_of_a_class"] == said
    assert "none_of_a_class" not in written["sites"]["VA"]["base"].get("notes", {})
    warning = (
        "Warning: at VA, the shared adapter called none of its 15 negative test patients "
        "negative (specificity 0): at the threshold it identifies none of them (registry "
        "promote refuses it)."
    )
    assert warning in verdict_lines(written)
    assert warning in _report(tmp_path)


def test_an_image_run_s_site_warnings_count_images_not_patients():
    """A review: a federated image run's site warnings said "test patients" and "calling
    every patient", where its sites hold out images (what its tables count)."""
    from medadapt.federated.figure_warnings import (
        backwards_lines,
        no_information_lines,
        none_called_lines,
        site_notes,
        too_good_lines,
    )
    from medadapt.results import BACKWARDS, NONE_OF_A_CLASS_AT_SITE, harm_at_sites

    few = {"n": 37, "n_positive": 35, "accuracy": 36 / 37}
    never = {"n": 40, "n_positive": 20, "sensitivity": 0.0, "specificity": 1.0,
             "accuracy": 0.5}  # fmt: skip
    for noun, unit in (("images", "images"), ("rows", "patients")):
        about = {"base_model": {"noun": noun}, "config": {}}
        assert no_information_lines({**about, "sites": {"A": {"federated": few}}}) == [
            f"At A, only 2 of the 37 held-out {unit} are negative: too few for an AUROC or "
            "balanced accuracy, and every model's accuracy there mostly reflects how common "
            "the positive outcome is; the figures there say little."
        ]
        said = f"it called none of its 20 positive test {unit} positive (sensitivity 0)"
        assert none_called_lines({**about, "sites": {"B": {"federated": never}}}) == [
            f"Warning: at B, the shared adapter {said.removeprefix('it ')}: at the threshold "
            "it identifies none of them (registry promote refuses it)."
        ]
        notes = site_notes({"federated": never}, unit=unit)["federated"]
        assert notes["none_of_a_class"] == said
        assert notes["no_information"] == (
            f"accuracy 0.500 is no better than calling every {unit[:-1]} positive (0.500, the "
            "no-information rate)"
        )
        assert harm_at_sites({"B": never}, None, unit) == {NONE_OF_A_CLASS_AT_SITE: f"at B {said}"}
        backwards = {"n": 40, "n_positive": 20, "auroc": 0.2, "auroc_low": 0.1, "auroc_high": 0.4}
        [line] = backwards_lines({**about, "sites": {"C": {"federated": backwards}}})
        assert f"ranks these {unit} backwards" in line
        recorded = {"C": {"auroc": 0.2, "auroc_ci": [0.1, 0.4]}}
        assert harm_at_sites(recorded, None, unit)[BACKWARDS] == (
            f"at C (AUROC 0.200, 95% CI up to 0.400) it ranks the held-out {unit} backwards"
        )
        perfect = {"n": 40, "n_positive": 20, "auroc": 1.0, "accuracy": 1.0}
        [line] = too_good_lines({**about, "sites": {"D": {"federated": perfect}}})
        assert f"accuracy 1.0 on 40 {unit}" in line
        assert ("a record number" in line) is (unit == "patients")  # a table's leaks only

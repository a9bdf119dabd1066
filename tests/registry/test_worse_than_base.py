"""An adapter measurably worse than the base model alone on its own test patients (``adapt``
said "Keep the base model") was registered, promoted and served without a word: a trial's
``versus_base.verdict: worse`` reached neither ``list``, ``promote`` nor an answer's note."""

from __future__ import annotations

import json

import numpy as np

from medadapt.evaluate.report.formatting import recorded_cautions
from medadapt.results import WORSE_THAN_BASE
from medadapt.workflows.adapt import with_harm

SAID = (
    "Paired on the same patients, the adapter changes AUROC by -0.043 (95% CI -0.095 to "
    "-0.002): the adapter ranks patients by risk worse. Keep the base model for these "
    "patients, or adapt again on more of them."
)
WORSE = {"metric": "auroc", "difference": -0.043, "ci": [-0.095, -0.002], "verdict": "worse",
         "in_words": SAID}  # fmt: skip


def test_an_adapter_worse_than_the_base_carries_adapt_s_sentence_as_a_note():
    metrics = {"n": 60, "auroc": 0.65, "auroc_ci": [0.52, 0.8]}
    noted = with_harm(metrics, WORSE)
    assert noted["notes"] == {WORSE_THAN_BASE: SAID} and "notes" not in metrics
    same = {**WORSE, "verdict": "no detectable difference", "ci": [-0.09, 0.01]}
    assert with_harm(metrics, same) is metrics
    assert with_harm(metrics, None) is metrics  # a full fine-tune: no base comparison
    assert recorded_cautions(noted) == ["did worse than the base model on its test"]


def test_list_marks_it_promote_refuses_it_and_show_says_why(cli, adapter_dir, monkeypatch):
    """``promote`` served it with a warning only; a version whose recorded result shows harm
    is refused, and ``--despite-warnings`` serves it with the warning."""
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")
    metrics = with_harm({"n": 60, "auroc": 0.65, "auroc_ci": [0.5, 0.8]}, WORSE)
    cli("add", str(adapter_dir(1, meta=metadata(metrics=metrics))), "--name", "va")
    listed, _ = cli("list")
    assert "AUROC 0.650 (0.500–0.800) on 60 rows (!)" in listed
    out, err = cli("promote", "va@1", ok=False)
    assert (out, " ".join(err.split())) == (
        "",
        (
            f"error: va@1 is not promoted, as its recorded test result says: {SAID.rstrip('.')} "
            "(pass --despite-warnings to serve it all the same)"
        ),
    )
    assert cli("list")[0] == listed  # nothing promoted
    out, err = cli("promote", "va@1", "--despite-warnings")
    assert f"warning: va@1: {SAID}" in " ".join((out + err).split())
    shown, _ = cli("show", "va@1")
    assert f"(!) {SAID}" in " ".join(shown.split())
    # the override is kept: a trial's audit log read as a clean promotion, "served yes"
    (event,) = [e for e in json.loads(cli("log", "--json")[0]) if e["action"] == "promote"]
    assert event["detail"] == {"previous": None, "despite_warnings": SAID.rstrip(".")}
    logged = " ".join(cli("log")[0].split())
    assert "nothing was served before; served despite warnings: Paired on the same" in logged
    assert "yes, despite warnings" in cli("list")[0]
    cli("add", str(adapter_dir(2)), "--name", "va")  # a clean version promoted after it
    cli("promote", "va@2")
    assert "despite" not in cli("list")[0]
    promoted = [e for e in json.loads(cli("log", "--json")[0]) if e["action"] == "promote"]
    assert promoted[0]["detail"] == {"previous": 1}  # newest first: nothing overridden


def test_predict_repeats_it_with_the_predictions():
    """``serve`` said it; ``medadapt predict`` with the same adapter did not."""
    from types import SimpleNamespace

    from medadapt.workflows.evaluate import _recorded_result

    metrics = with_harm({"n": 60, "auroc": 0.65}, WORSE)
    loaded = SimpleNamespace(adapter="va", record=SimpleNamespace(metrics=metrics))
    assert _recorded_result(loaded) == [f"the recorded test result of adapter 'va': {SAID}"]
    missed = "class 'nodule' is found in 0 of 10 images (sensitivity 0.000): ..."
    image = SimpleNamespace(
        adapter="iad",
        record=SimpleNamespace(
            metrics={"n": 30, "notes": {"missed_class": missed, "one_class": "accuracy ..."}}
        ),
    )
    assert _recorded_result(image) == [  # a trial's image predict repeated none of them
        f"the recorded test result of adapter 'iad': {missed}"
    ]
    # a trial's predict said one caution where the served answer said three: the others follow
    # in the served answer's words
    called = {
        "n": 60,
        "auroc": 0.616,
        "auroc_ci": [0.447, 0.778],
        "notes": {"one_class": "95% of patients are called positive at threshold 0.5: ..."},
    }
    va = SimpleNamespace(adapter="va", record=SimpleNamespace(metrics=called))
    assert _recorded_result(va) == [  # in the served answer's words: its own, which class
        "the recorded test result of adapter 'va' also carries these cautions, as served "
        "answers say them: 95% of patients are called positive at threshold 0.5; AUROC not "
        "shown better than chance"
    ]
    assert recorded_cautions(called) == [  # the SR's few words
        "called nearly every test case one class",
        "AUROC not shown better than chance",
    ]


def test_each_harm_recorded_keeps_a_version_from_promotion_and_a_caution_does_not(cli, adapter_dir):
    """Forgotten old classes (a trial's adapter was promoted with a warning only), a ranking
    backwards and harm against the base are refused; too good to be true is a warning."""
    from medadapt.results import BACKWARDS, FORGOT_OLD_CLASSES, TOO_GOOD_KEY
    from tests.registry.helpers import metadata

    for number, key in enumerate((FORGOT_OLD_CLASSES, BACKWARDS, TOO_GOOD_KEY), start=1):
        metrics = {"n": 60, "auroc": 0.65, "notes": {key: f"said of {key}."}}
        cli("add", str(adapter_dir(number, meta=metadata(metrics=metrics))), "--name", key)
        refused = key != TOO_GOOD_KEY
        out, err = cli("promote", f"{key}@1", ok=not refused)
        if refused:
            assert err.strip() == (
                f"error: {key}@1 is not promoted, as its recorded test result says: said of "
                f"{key} (pass --despite-warnings to serve it all the same)"
            )
        else:
            assert out.startswith(f"promoted {key}@1") and f"said of {key}." in out + err


def test_an_accuracy_standing_in_for_an_auroc_left_out_is_marked_and_its_promotion_warned(
    cli, adapter_dir, monkeypatch
):
    """A trial's adapter tested on 12 rows, 2 positive, had no AUROC: ``list`` showed its
    accuracy unmarked and ``promote`` served it without a word; only ``show`` said why."""
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")
    why = "not reported: 2 positives among 12 patients; at least 5 are needed"
    metrics = {"n": 12, "accuracy": 0.917, "accuracy_ci": [0.615, 0.998], "notes": {"auroc": why}}
    cli("add", str(adapter_dir(1, meta=metadata(metrics=metrics))), "--name", "tiny")
    listed, _ = cli("list")
    assert "accuracy 0.917 (0.615–0.998) on 12 rows (!)" in listed
    out, err = cli("promote", "tiny@1")
    assert (
        "warning: tiny@1: AUROC not reported: 2 positives among 12 patients; at least 5 are "
        "needed; its accuracy 0.917 (0.615–0.998) alone cannot show how well it tells patients "
        "apart: serve it only if it has been checked on more patients"
    ) in " ".join((out + err).split())


def test_an_adapter_calling_every_patient_one_class_is_refused_and_chance_is_said(cli, adapter_dir):
    """A trial promoted an adapter that called none of 37 patients negative (2 were): its
    one-class note was repeated, the warning against the base model alone was not; another
    trial's promoted adapter had an AUROC not shown better than chance, said in HTML only."""
    from medadapt.registry.records import UNIT_KEY
    from medadapt.results import ONE_CLASS
    from tests.registry.helpers import DATA_SUMMARY, metadata

    every = "every patient is called positive at threshold 0.5: the accuracy (0.946) is no skill."
    metrics = {"n": 37, "n_positive": 35, "accuracy": 0.946, "accuracy_ci": [0.818, 0.993],
               "notes": {ONE_CLASS: every}}  # fmt: skip
    cli("add", str(adapter_dir(1, meta=metadata(metrics=metrics))), "--name", "ch")
    _, err = cli("promote", "ch@1", ok=False)
    assert err.strip() == (
        f"error: ch@1 is not promoted, as its recorded test result says: {every.rstrip('.')} "
        "(pass --despite-warnings to serve it all the same)"
    )
    never = {"n": 40, "n_positive": 30, "specificity": 0.0, "sensitivity": 1.0}
    out, _ = cli("add", str(adapter_dir(2, meta=metadata(metrics=never))), "--name", "east")
    said = " ".join(out.split())  # add's hint led straight to the refusal (a trial)
    assert (
        "note: promote refuses east@1 as it stands, as its recorded test result says: it "
        "called none of its 10 negative test patients negative (specificity 0)"
    ) in said
    assert said.endswith("promote east@1 --despite-warnings'")  # after its base is kept
    _, err = cli("promote", "east@1", ok=False)
    assert "it called none of its 10 negative test patients negative (specificity 0)" in err
    films = metadata(metrics=never, data_summary={**DATA_SUMMARY, UNIT_KEY: "images"})
    cli("add", str(adapter_dir(5, meta=films)), "--name", "films")
    _, err = cli("promote", "films@1", ok=False)  # an image adapter's: images, not patients
    assert "it called none of its 10 negative test images negative (specificity 0)" in err
    classes = {
        "n": 60,
        "class_counts": [17, 18, 12, 13],
        "accuracy": 0.317,
        "never_called": ["class '2'", "class '3'"],
    }  # a trial's VA adapter: 25 of 60
    cli("add", str(adapter_dir(4, meta=metadata(metrics=classes))), "--name", "multi")
    _, err = cli("promote", "multi@1", ok=False)
    assert (
        "as its recorded test result says: it called none of its test patients of class '2' "
        "or class '3' by their class (sensitivity 0) (pass --despite-warnings"
    ) in " ".join(err.split())
    most = {"n": 60, "n_positive": 45, "auroc": 0.616, "auroc_ci": [0.447, 0.779],
            "notes": {ONE_CLASS: "95% of patients are called positive."}}  # fmt: skip
    cli("add", str(adapter_dir(3, meta=metadata(metrics=most))), "--name", "va")
    out, err = cli("promote", "va@1")  # nearly everyone one class: a warning, not a refusal
    said = " ".join((out + err).split())
    assert "warning: va@1: 95% of patients are called positive." in said
    assert (
        "warning: va@1's AUROC 0.616 (0.447–0.779) is not shown to be better than chance (its "
        "interval reaches 0.50): nothing here shows that it tells patients apart"
    ) in said


def test_a_regression_no_better_than_the_average_is_warned_of_at_promote(cli, adapter_dir,
                                                                        monkeypatch):  # fmt: skip
    """A trial's shuffled-outcome adapter (R² -0.190) was promoted with a note on its MAE
    only, listed without (!) and served with no caution."""
    from medadapt.evaluate.report.formatting import recorded_cautions
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")
    below = "R² -0.190: the model predicts these patients no better than giving each ..."
    worse = {"n": 60, "mae": 63.5, "mae_ci": [52.1, 77.5], "r2": -0.19,
             "r2_ci": [-0.488, 0.015], "notes": {"no_better_than_mean": below}}  # fmt: skip
    cli("add", str(adapter_dir(1, meta=metadata(metrics=worse))), "--name", "newsite")
    listed, _ = cli("list")
    assert "MAE 63.5 (52.1–77.5) on 60 rows (!)" in listed
    out, err = cli("promote", "newsite@1")  # a caution, not a refusal
    assert f"warning: newsite@1: {below}" in " ".join((out + err).split())
    assert recorded_cautions(worse) == ["predicted no better than the average value"]
    weak = {"n": 60, "mae": 50.0, "mae_ci": [42.0, 58.0], "r2": 0.05, "r2_ci": [-0.1, 0.2]}
    cli("add", str(adapter_dir(2, meta=metadata(metrics=weak))), "--name", "other")
    out, err = cli("promote", "other@1", "--force")  # the same group as newsite@1
    assert (
        "warning: other@1's R² 0.050 (-0.100 to 0.200) is not shown to predict better than giving "
        "every patient the average value (the interval reaches 0)"
    ) in " ".join((out + err).split())


def test_an_adapter_that_finds_half_the_cases_the_base_found_carries_it_to_predictions():
    """A trial's adapter found 3 of 8 cancers at its threshold where the base model found 8:
    ``adapt`` and ``promote`` warned, but its served answer said ``"note": null`` and
    ``predict`` nothing. The warning is now recorded with its metrics and carried to every
    prediction's cautions (served note, SR) and to ``predict``."""
    from types import SimpleNamespace

    from medadapt.evaluate.versus_base import FEWER_FOUND
    from medadapt.results import FEWER_THAN_BASE
    from medadapt.workflows.evaluate import _recorded_result

    fewer = ("at threshold 0.5 the adapter calls 7 of the 10 negative patients negative, where "
             "the base model alone called 2, and 3 of the 8 positive patients positive (the "
             "base model 8): the AUROC compared does not depend on the threshold, and does not "
             "show it")  # fmt: skip
    same = {
        **WORSE,
        "verdict": "no detectable difference",
        "ci": [-0.09, 0.01],
        FEWER_FOUND: [fewer],
    }
    metrics = with_harm({"n": 18, "auroc": 0.8, "auroc_ci": [0.6, 0.95]}, same)
    assert metrics["notes"] == {FEWER_THAN_BASE: fewer}
    assert recorded_cautions(metrics) == ["found half or fewer of a class the base found"]
    loaded = SimpleNamespace(adapter="small", record=SimpleNamespace(metrics=metrics))
    assert _recorded_result(loaded) == [f"the recorded test result of adapter 'small': {fewer}"]
    assert with_harm(metrics, {**same, FEWER_FOUND: []}) is metrics  # nothing more to note


def test_a_federated_adapter_harmful_at_a_site_is_not_promoted(cli, adapter_dir):
    """A trial's federated adapter, ranked backwards at both sites by differential privacy's
    noise and worse than the base alone there, was promoted with warnings only: its means
    carry no note of a site's harm. Its recorded sites are read, old records too."""
    from medadapt.results import BACKWARDS, harm_at_sites
    from tests.registry.helpers import metadata

    worse = ("At Ward2, paired on the same 54 held-out patients, the federated adapter changes "
             "accuracy at 0.5 by -0.667 (95% CI -0.778 to -0.537) against the base alone: the "
             "federated adapter classifies fewer patients correctly at the threshold. Keep the "
             "base model at Ward2.")  # fmt: skip
    by_site = {"Clinic3": {"n": 27, "auroc": 0.61, "auroc_ci": [0.4, 0.8]},
               "Ward2": {"n": 54, "auroc": 0.219, "auroc_ci": [0.105, 0.369]}}  # fmt: skip
    versus = {
        "metric": "auroc",
        "sites": {
            "Ward2": {"verdict": "worse", "in_words": worse},
            "Clinic3": {"verdict": "no detectable difference"},
        },
    }
    notes = harm_at_sites(by_site, versus)
    assert notes == {
        BACKWARDS: "at Ward2 (AUROC 0.219, 95% CI up to 0.369) it ranks the held-out patients "
        "backwards",
        WORSE_THAN_BASE: worse,
    }
    assert harm_at_sites({"A": {"auroc": 0.55, "auroc_ci": [0.45, 0.65]}}, {}) == {}
    assert harm_at_sites({"A": {"auroc_ci": [0.1, 0.3]}}, None) == {}  # an odd import: no crash
    from medadapt.evaluate.report.formatting import whole_result_words

    assert whole_result_words(BACKWARDS, notes[BACKWARDS]) == (
        "ranked a site's test cases backwards"  # not said of the answering site's patients
    )
    means = {"n": 81, "auroc": 0.41, "auroc_ci": [0.3, 0.55]}  # no note: an old record
    meta = metadata(metrics=means, versus_base=versus, federated={"by_site": by_site})
    cli("add", str(adapter_dir(1, meta=meta)), "--name", "fed")
    _, err = cli("promote", "fed@1", ok=False)
    assert " ".join(err.split()) == (
        "error: fed@1 is not promoted, as its recorded test result says: at Ward2 (AUROC 0.219, "
        "95% CI up to 0.369) it ranks the held-out patients backwards (pass "
        "--despite-warnings to serve it all the same)"
    )
    cli("promote", "fed@1", "--despite-warnings")


def test_a_federated_adapter_calling_none_of_a_class_at_a_site_is_not_promoted(cli, adapter_dir):
    """A trial's federated adapter called none of VA's 15 negative patients negative (the
    base alone found 5) and was promoted: its means over two sites (specificity 0.49) hid it,
    and its sites sent no sensitivity or specificity. They send them now, and a site's 0 is
    noted and refused as an adapter's own is."""
    from medadapt.evaluate.report.formatting import whole_result_words
    from medadapt.results import NONE_OF_A_CLASS_AT_SITE, harm_at_sites
    from tests.registry.helpers import metadata

    by_site = {
        "Switzerland": {"n": 37, "n_positive": 35, "auroc": 0.7, "auroc_ci": [0.4, 0.9],
                        "sensitivity": 1.0, "specificity": 0.5},
        "VA Long Beach": {"n": 60, "n_positive": 45, "auroc": 0.62, "auroc_ci": [0.46, 0.77],
                          "sensitivity": 0.978, "specificity": 0.0},
    }  # fmt: skip
    said = (
        "at VA Long Beach it called none of its 15 negative test patients negative (specificity 0)"
    )
    assert harm_at_sites(by_site, None) == {NONE_OF_A_CLASS_AT_SITE: said}
    assert whole_result_words(NONE_OF_A_CLASS_AT_SITE, said) == (
        "called none of a class right at a site"
    )
    none_to_call = {"A": {"n": 20, "n_positive": 20, "sensitivity": 0.9, "specificity": 0.0}}
    assert harm_at_sites(none_to_call, None) == {}  # no negative patient there to miss
    means = {"n": 97, "accuracy": 0.853, "specificity": 0.25}  # an old record: no note
    cli("add", str(adapter_dir(9, meta=metadata(metrics=means, federated={"by_site": by_site}))),
        "--name", "fedva")  # fmt: skip
    _, err = cli("promote", "fedva@1", ok=False)
    assert " ".join(err.split()) == (
        f"error: fedva@1 is not promoted, as its recorded test result says: {said} (pass "
        "--despite-warnings to serve it all the same)"
    )
    cli("promote", "fedva@1", "--despite-warnings")


def test_promote_warns_of_the_note_list_flags_on_the_headline_figure(cli, adapter_dir):
    """A trial's federated adapter: ``list`` marked its mean AUROC with (!) and ``show``
    printed why, and ``promote`` said nothing."""
    from tests.registry.helpers import DATA_SUMMARY, metadata

    noted = {"auroc": 0.789, "auroc_ci": [0.7, 0.86], "auroc_sites": 3,
             "notes": {"auroc": "over 3 of 4 sites only (none at Switzerland)"}}  # fmt: skip
    cli("add", str(adapter_dir(7, meta=metadata(metrics=noted))), "--name", "fed")
    listed, _ = cli("list")
    assert "(!)" in listed
    out, err = cli("promote", "fed@1")
    said = " ".join((out + err).split())
    assert (
        "warning: fed@1: AUROC 0.789 (0.700–0.860): over 3 of 4 sites only (none at Switzerland)"
    ) in said, said
    perfect = {"auroc": 1.0, "auroc_ci": [0.95, 1.0], "notes": {
        "auroc": "a perfect score is rarely real: check for a leak",
        "too_good": "AUROC 1.000: too good to be true; check for a leak"}}  # fmt: skip
    other_group = {**DATA_SUMMARY, "group": "Hungary"}  # (fed@1 serves VA Long Beach)
    cli("add", str(adapter_dir(8, meta=metadata(metrics=perfect, data_summary=other_group))),
        "--name", "leaky")  # fmt: skip
    out, err = cli("promote", "leaky@1")
    assert " ".join((out + err).split()).count("check for a leak") == 1  # said once (a review)


def test_a_larger_bias_is_said_as_such_not_as_doing_worse(cli, adapter_dir):
    """A trial's regression adapter changed MAE by +0.51 (95% CI -2.46 to +3.69: no
    detectable difference) and grew the base's over-prediction from 13.08 to 19.93: its
    served note said "did worse than the base model on its test", and the recorded note was
    the MAE sentence. The harm recorded, refused at promote and served is the bias."""
    from medadapt.results import LARGER_ERROR_THAN_BASE
    from tests.registry.helpers import metadata

    mae = ("Paired on the same patients, the adapter changes MAE by +0.51 (95% CI -2.46 to "
           "+3.69): no detectable difference on these patients.")  # fmt: skip
    bias = (
        "Paired on the same patients, the adapter introduces a systematic over-prediction of "
        "about 19.93, where the base model's over-prediction of about 13.08 was not shown to "
        "be systematic (mean observed − predicted -13.08 with the base model alone, -19.93 "
        "with the adapter; paired change -6.85, 95% CI -9.10 to -4.61)."
    )
    paired = {"metric": "mae", "verdict": "no detectable difference", "in_words": mae,
              "mean_error": {"verdict": "introduced", "in_words": bias}}  # fmt: skip
    metrics = {"n": 39, "mae": 50.9, "mae_ci": [39.0, 63.6]}
    noted = with_harm(metrics, paired)
    assert noted["notes"] == {LARGER_ERROR_THAN_BASE: bias}
    assert recorded_cautions(noted) == ["brings in or enlarges a systematic error"]
    cli("add", str(adapter_dir(1, meta=metadata(metrics=noted))), "--name", "east")
    _, err = cli("promote", "east@1", ok=False)
    assert " ".join(err.split()) == (
        f"error: east@1 is not promoted, as its recorded test result says: {bias.rstrip('.')} "
        "(pass --despite-warnings to serve it all the same)"
    )
    both = with_harm(metrics, {**paired, "verdict": "worse"})  # worse and biased: both said
    assert set(both["notes"]) == {WORSE_THAN_BASE, LARGER_ERROR_THAN_BASE}


def test_an_adapter_that_calls_no_one_of_a_class_the_base_called_carries_it_when_served():
    """A trial's ch@1 called none of its 37 test patients negative where the base called 4:
    ``promote`` warned of it, its served answers and listing did not (the caution was kept
    only where the adapter still called some, ``fewer_found``)."""
    from medadapt.evaluate.ignored_classes import unpredicted_classes
    from medadapt.evaluate.report.formatting import spelled_cautions
    from medadapt.evaluate.versus_base import versus_base
    from medadapt.results import FEWER_THAN_BASE

    y = np.array([0] + [1] * 36)
    base = np.r_[[0.3], [0.4] * 3, [0.8] * 33]  # called 4 negative, found the one
    adapted = np.full(37, 0.9)  # calls everyone positive
    paired = versus_base(y, adapted, base, metric="auroc", n_boot=50)
    said = unpredicted_classes(y, adapted, base, ["negative", "positive"])
    assert said == [
        "the adapter calls none of these 37 patients negative, where the base model alone "
        "called 4 of them negative (1 of the 37 is negative: the base model found it, the "
        "adapter did not); its accuracy cannot show a class it never predicts"
    ]
    noted = with_harm({"n": 37, "auroc": 0.6, "auroc_ci": [0.4, 0.8]}, paired)
    assert noted["notes"][FEWER_THAN_BASE] == said[0]
    assert spelled_cautions(noted)[0] == (  # cut before its parentheses, never inside them
        "the adapter calls none of these 37 patients negative, where the base model alone "
        "called 4 of them negative"
    )


def test_predict_says_when_the_recorded_test_could_not_measure_calibration():
    """A trial's predictions read "0.99981230" from an adapter tested on 12 patients, 3 of
    them positive: no calibration slope could be measured, and nothing said so."""
    from types import SimpleNamespace

    from medadapt.workflows.evaluate import _uncalibrated

    why = ("not reported: 3 positives among 12 patients; at least 5 are needed for a "
           "meaningful estimate")  # fmt: skip
    metrics = {"n": 12, "n_positive": 3, "accuracy": 1.0, "auroc": 0.89,
               "calibration_slope": None, "notes": {"calibration_slope": why}}  # fmt: skip
    loaded = SimpleNamespace(adapter="stmary", record=SimpleNamespace(metrics=metrics))
    assert _uncalibrated(loaded) == [
        "the recorded test of adapter 'stmary' could not measure how well its probabilities "
        "match what happens (3 positives among 12 patients): read them as a ranking of these "
        "patients, not as each patient's risk"
    ]
    measured = {**metrics, "calibration_slope": 0.9, "notes": {}}
    assert (
        _uncalibrated(SimpleNamespace(adapter="a", record=SimpleNamespace(metrics=measured))) == []
    )
    regression = {"n": 40, "mae": 3.0}  # no calibration slope recorded for it: nothing said
    assert (
        _uncalibrated(SimpleNamespace(adapter="r", record=SimpleNamespace(metrics=regression)))
        == []
    )


def test_served_answers_and_the_sr_carry_the_unmeasured_calibration_too():
    """predict warned of it; a served answer of the same adapter had no note, and the SR's
    algorithm parameters no warning: each now carries it in its few words, and predict's
    list of what served answers say does not repeat its own warning."""
    from medadapt.evaluate.report.formatting import UNCALIBRATED_WORDS, recorded_cautions
    from medadapt.serve.state import cautioned
    from medadapt.workflows.evaluate import recorded_result_warnings

    why = ("not reported: 3 positives among 12 patients; at least 5 are needed for a "
           "meaningful estimate")  # fmt: skip
    metrics = {"n": 12, "n_positive": 3, "accuracy": 0.75, "accuracy_ci": [0.43, 0.95],
               "calibration_slope": None, "notes": {"calibration_slope": why}}  # fmt: skip
    assert len(UNCALIBRATED_WORDS) <= 47 and UNCALIBRATED_WORDS.isascii()
    ranked = {**metrics, "auroc": 0.81, "auroc_ci": [0.52, 1.0]}
    assert recorded_cautions(ranked) == [UNCALIBRATED_WORDS]
    assert cautioned("adapter 'stmary'", ranked) == (
        "caution, adapter 'stmary' was recorded with: calibration unmeasured: a ranking, not a risk"
    )
    assert recorded_result_warnings(ranked, "adapter 'stmary'", said_whole=True) == []
    assert recorded_result_warnings(ranked, "adapter 'stmary'") == [  # export-peft: said here
        "the recorded test result of adapter 'stmary' also carries this caution, as served "
        "answers say it: calibration unmeasured: a ranking, not a risk"
    ]
    # no AUROC either: not "a ranking" (a trial's answers said so beside "AUROC not measured")
    assert recorded_cautions(metrics) == ["neither ranking nor calibration measured"]
    assert recorded_result_warnings(metrics, "adapter 'stmary'", said_whole=True) == []
    withheld = {**metrics, "notes": {**metrics["notes"], "auroc": "not reported: 3 positives"}}
    assert recorded_cautions(withheld) == [
        "AUROC not measured on its test patients",
        "calibration unmeasured too: not a risk",
    ]
    assert recorded_cautions({**metrics, "calibration_slope": 0.9, "notes": {}}) == []
    assert recorded_cautions({"n": 8, "n_positive": 3, "notes": {"calibration_slope": why}}) == [
        "no measured performance (test set too small)"  # unmeasured: said once, that way
    ]


def test_a_slope_lost_to_separation_is_said_as_average_calibration_only():
    """A trial's served answers said "calibration unmeasured: a ranking, not a risk" for an
    adapter whose card gave ECE 0.034 and observed/expected 0.977 (0.82 to 1.17): only the
    slope was missing (near-perfect separation). Said as what it is, in answers, predict
    and promote (which said nothing of it)."""
    from types import SimpleNamespace

    from medadapt.cli.registry_promotion import promotion_messages
    from medadapt.evaluate.report.formatting import AVERAGE_ONLY_WORDS, recorded_cautions
    from medadapt.registry.records import AdapterVersion
    from medadapt.workflows.evaluate import _uncalibrated

    unstable = ("not reported: in more than 1 in 10 bootstrap resamples of these patients it "
                "cannot be computed (the predictions separate the resample's outcomes "
                "perfectly, so no slope can be fitted, or it lacks one of the classes), so the "
                "value on these patients is too unstable to report")  # fmt: skip
    metrics = {"n": 83, "n_positive": 49, "auroc": 0.91, "auroc_ci": [0.85, 0.96],
               "accuracy": 0.86, "accuracy_ci": [0.78, 0.93], "ece": 0.034,
               "oe_ratio": 0.977, "oe_ratio_ci": [0.817, 1.169],
               "calibration_slope": None, "notes": {"calibration_slope": unstable}}  # fmt: skip
    assert len(AVERAGE_ONLY_WORDS) <= 47 and AVERAGE_ONLY_WORDS.isascii()
    assert recorded_cautions(metrics) == [AVERAGE_ONLY_WORDS]
    said = (
        "measured only the average level of its probabilities (observed/expected 0.98, 95% CI "
        "0.82 to 1.17) and could not measure whether they are too extreme or too moderate (in "
        "more than 1 in 10 bootstrap resamples of these patients it cannot be computed: the "
        "predictions separate the resample's outcomes perfectly, so no slope can be fitted, or "
        "it lacks one of the classes, so the value on these patients is too unstable to "
        "report): read each probability as a ranking, not as that patient's risk (near 0 or 1 "
        "it may be too extreme, near 0.5 too moderate)"
    )
    loaded = SimpleNamespace(adapter="riverside", record=SimpleNamespace(metrics=metrics))
    assert _uncalibrated(loaded) == [f"the recorded test of adapter 'riverside' {said}"]
    fields = {f: None for f in AdapterVersion.__dataclass_fields__}
    version = AdapterVersion(**{**fields, "name": "riverside", "version": 2, "method": "lora",
                                "config": {}, "base_fingerprint": {}, "data_summary": {},
                                "metrics": metrics, "card": ""})  # fmt: skip
    warned, _ = promotion_messages(version, None)
    assert f"riverside@2: its recorded test {said}" in warned
    unread = {**metrics, "oe_ratio_ci": [None, None]}  # (imported JSON): not measured
    assert recorded_cautions(unread) == ["calibration unmeasured: a ranking, not a risk"]
    # too few events for either: the ranking caution, as before
    few = {**metrics, "auroc": None, "notes": {"calibration_slope": "not reported: 6 positives"}}
    assert recorded_cautions(few)[-1] == "neither ranking nor calibration measured"
    loaded = SimpleNamespace(adapter="riverside", record=SimpleNamespace(metrics=few))
    assert _uncalibrated(loaded) == [
        "the recorded test of adapter 'riverside' could not measure how well its probabilities "
        "match what happens (6 positives), nor how well they rank patients (no AUROC): read "
        "them as neither each patient's risk nor a measured ranking"
    ]

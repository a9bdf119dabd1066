"""A federated run of a model of several classes, as a trial's 5-class heart run read it:
its accuracy was "accuracy at 0.5" (a model of several classes calls each patient its most
likely class: no threshold), a site without AUROC was short of "one outcome", and a shared
adapter at 0.233 where calling everyone class '1' scores 0.283 was said nowhere. No Flower
here: what a site sends, and what the server says of it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medadapt.data.schema import TableSchema
from medadapt.federated.compared import figure_label
from medadapt.federated.figure_warnings import no_information_lines, none_called_lines, site_notes
from medadapt.federated.local import on_the_wire, site_metrics
from medadapt.federated.records import figures_by_site
from medadapt.federated.results import _name_never_called
from medadapt.federated.site_lines import no_auroc_line
from medadapt.modalities import modality_of
from medadapt.modalities.tabular.samples import TableSamples
from medadapt.results import NONE_OF_A_CLASS_AT_SITE, UNFIT_TO_SERVE, harm_at_sites, none_of_a_class

CLASSES = ["0", "1", "2", "3", "4"]


def _figures(accuracy: float, **more: float) -> dict:
    return {"n": 60, "n_positive": float("nan"), "n_patients": 60, "commonest": 1,
            "n_commonest": 17, "accuracy": accuracy, **more}  # fmt: skip


def test_a_site_sends_how_many_have_its_commonest_class():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2, 3, 4], [10, 17, 15, 15, 3])
    frame = pd.DataFrame({"y": y, "x": rng.normal(size=60)})
    schema = TableSchema.infer(frame, label="y", task="multiclass")
    scores = rng.dirichlet(np.ones(5), 60)
    sent = site_metrics(modality_of("tabular"), schema, TableSamples(frame, schema), scores,
                        classes=CLASSES, n_boot=0, seed=0)  # fmt: skip
    assert (sent["commonest"], sent["n_commonest"]) == (1.0, 17.0)
    shares = np.array([10, 17, 15, 15, 3]) / 60
    assert sent["shares_brier"] == pytest.approx(1 - (shares**2).sum())  # as adapt judges it
    assert np.isnan(sent["n_positive"])
    assert set(on_the_wire(sent, CLASSES, "multiclass")) == {  # counts and summaries only:
        "n", "n_positive", "n_patients", "commonest", "n_commonest", "fewest", "n_fewest",
        "shares_brier", "auroc", "accuracy", "balanced_accuracy", "sensitivity", "specificity",
        "brier", "never_called"}  # fmt: skip  # what crosses the network
    assert (sent["fewest"], sent["n_fewest"]) == (4.0, 3.0)  # class '4': 3 patients
    assert np.isnan(sent["sensitivity"]) and np.isnan(sent["specificity"])  # two classes only
    from medadapt.federated.local import _shares

    empty = _shares("multiclass", [], len(CLASSES))  # every key at every site: Flower refuses
    assert set(empty) == {"commonest", "n_commonest", "fewest", "n_fewest",
                          "shares_brier"}  # replies that differ  # fmt: skip
    assert all(np.isnan(value) for value in empty.values())
    assert sent["accuracy"] == pytest.approx(float((scores.argmax(1) == y).mean()))


def test_a_shared_adapter_no_better_than_calling_everyone_the_commonest_class_is_said():
    site = {"n_train": 140, "n_test": 60, "federated": _figures(0.233),
            "base": _figures(0.4, auroc=0.6)}  # fmt: skip
    assert site_notes(site, CLASSES)["federated"]["no_information"] == (
        "accuracy 0.233 is no better than calling every patient class '1' (0.283, the "
        "no-information rate)"
    )
    assert "base" not in site_notes(site, CLASSES)
    results = {"task": "multiclass", "config": {}, "sites": {"VA Long Beach": site},
               "base_model": {"classes": CLASSES}}  # fmt: skip
    assert no_information_lines(results) == [
        "At VA Long Beach, the shared adapter's accuracy (0.233) is no better than calling every "
        "patient class '1' (0.283, the no-information rate), and too few of its held-out "
        "patients are in one of the classes for an AUROC or balanced accuracy: its figures there "
        "say little."
    ]


def test_several_classes_have_no_threshold_and_are_short_of_a_class_not_an_outcome():
    assert figure_label("accuracy", {"task": "multiclass"}) == "accuracy"
    assert figure_label("accuracy", {"task": "binary"}) == "accuracy at 0.5"
    assert figure_label("brier", {"task": "multiclass"}) == (  # a trial read 1.173 as off-scale
        "Brier score (summed over the classes: 0 to 2)")  # fmt: skip
    assert figure_label("brier", {"task": "binary"}) == "Brier score"
    site = {"n_train": 140, "n_test": 60, "federated": _figures(0.5)}
    assert no_auroc_line("VA Long Beach", site) == (  # a site of before: no rarest class sent
        "No AUROC at VA Long Beach: fewer than 5 of its held-out patients are in one of the "
        "classes (medadapt reports none below that); accuracy is reported there."
    )
    site["federated"] |= {"fewest": 4, "n_fewest": 3}  # a trial's lines named no class
    assert no_auroc_line("VA Long Beach", site, CLASSES) == (
        "No AUROC at VA Long Beach: only 3 of its 60 held-out patients are in class '4', too "
        "few for an AUROC (medadapt reports none below 5); accuracy is reported there."
    )
    site["federated"]["n_fewest"] = 0
    assert "none of its 60 held-out patients is in class '4'" in no_auroc_line("VA", site, CLASSES)


def test_a_class_the_shared_adapter_never_calls_at_a_site_is_warned_and_refused():
    """The binary case's note (none of a site's negatives called negative) for several
    classes: a site's 15 patients of class '2', none called class '2', and 3 of class '4'
    (too few to judge), none called either. The site sends a number (a bit per class: Flower
    carries numbers), the server names the class; the warning, the note the registry
    refuses and the card's figures follow."""
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2, 3, 4], [10, 17, 15, 15, 3])
    frame = pd.DataFrame({"y": y, "x": rng.normal(size=60)})
    schema = TableSchema.infer(frame, label="y", task="multiclass")
    scores = rng.dirichlet(np.ones(5), 60)
    scores[:, [2, 4]] = 0.0  # classes '2' and '4' never the most likely
    scores /= scores.sum(axis=1, keepdims=True)
    sent = site_metrics(modality_of("tabular"), schema, TableSamples(frame, schema), scores,
                        classes=CLASSES, n_boot=0, seed=0)  # fmt: skip
    # names, as adapt records them: what the site keeps with its adapters (a review: a
    # number there went unread, and promote took the kept adapter)
    assert sent["never_called"] == ["class '2'"]  # '4' has 3 patients, fewer than 5
    said = "it called none of its test patients of class '2' by that class (sensitivity 0)"
    assert none_of_a_class(sent) == said  # what promote reads of a kept adapter's record
    wire = on_the_wire(sent, CLASSES, "multiclass")  # a flag per class: Flower's records
    assert wire["never_called"] == [0, 0, 1, 0, 0] and wire["n"] == sent["n"]
    assert on_the_wire({}, CLASSES, "multiclass")["never_called"] == [0] * 5  # every site
    site = {"n_train": 140, "n_test": 60, "federated": wire,
            "base": on_the_wire({**sent, "never_called": []}, CLASSES, "multiclass")}  # fmt: skip
    _name_never_called(site, CLASSES)  # the server names them
    assert site["federated"]["never_called"] == ["class '2'"] and "never_called" not in site["base"]
    assert site_notes(site, CLASSES)["federated"]["none_of_a_class"] == said
    results = {"task": "multiclass", "config": {}, "sites": {"VA": site},
               "base_model": {"classes": CLASSES}}  # fmt: skip
    assert none_called_lines(results) == [
        "Warning: at VA, the shared adapter called none of its test patients of class '2' by "
        "that class (sensitivity 0): it identifies none of them (registry promote refuses it)."
    ]  # several classes: no threshold
    by_site = figures_by_site(results, ["VA"])
    assert by_site["VA"]["never_called"] == ["class '2'"]  # what the adapter records
    assert harm_at_sites(by_site, None) == {NONE_OF_A_CLASS_AT_SITE: f"at VA {said}"}
    assert NONE_OF_A_CLASS_AT_SITE in UNFIT_TO_SERVE  # promote refuses it, as the binary note

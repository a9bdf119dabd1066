"""How Riley et al.'s criteria are read for an adapted model (no training here): ``p`` leaves
out the output layer's intercepts, a prevalence from few events gives the range of the needs
over its 95% interval, and every output says once how to read the needs."""

from __future__ import annotations

import math
from html import unescape
from types import SimpleNamespace

import numpy as np
import pytest

from medadapt.adapters import AdapterModel, default_config
from medadapt.adapters.testing_models import TinyTransformer
from medadapt.evaluate.samplesize import cox_snell_from_c, max_cox_snell
from medadapt.evaluate.samplesize_outcomes import outcome_of
from medadapt.evaluate.samplesize_parameters import (
    output_intercepts,
    predictor_parameters,
    trained_intercepts,
)
from medadapt.results import ADAPTED_READING
from medadapt.workflows.sample_size import sample_size_line, study_sample_size_line

VIT = SimpleNamespace(heads=lambda model: ("head",))  # the modality's one hook used here


def _adapted(method: str, head_out_features: int | None = None) -> AdapterModel:
    model = AdapterModel(TinyTransformer())  # a ViT-like model, head Linear(16 -> 3)
    model.add_adapter("a", default_config(method, "timm_vit", heads=("head",),
                                          head_out_features=head_out_features))  # fmt: skip
    return model


@pytest.mark.parametrize(("outputs", "intercepts"), [(1, 1), (2, 1), (3, 2), (5, 4)])
def test_an_output_layer_holds_one_intercept_or_k_minus_1(outputs, intercepts):
    from torch import nn

    assert output_intercepts(nn.Linear(16, outputs)) == intercepts
    assert output_intercepts(nn.Linear(16, outputs, bias=False)) == 0


def test_p_leaves_out_k_minus_1_intercepts_of_a_three_class_head():
    """By hand: the head-only adapter trains a copy of the Linear(16 -> 3) head, 48 weights and
    3 biases; a model with 3 classes has 2 intercepts, so Riley (Pate) et al.'s p is 49. With
    2 new classes the copy has 5 outputs: 80 weights, 5 biases, 4 intercepts, p = 81."""
    head = _adapted("head")
    assert head.count_parameters("a") == 51 and trained_intercepts(VIT, head, "a") == 2
    assert predictor_parameters(VIT, head, "a") == 49
    grown = _adapted("head", head_out_features=5)
    assert grown.count_parameters("a") == 85 and predictor_parameters(VIT, grown, "a") == 81
    lora = _adapted("lora")
    assert predictor_parameters(VIT, lora, "a") == lora.count_parameters("a") - 2
    full = TinyTransformer()  # every weight trained: its own head's intercepts aside
    assert predictor_parameters(VIT, full) == sum(p.numel() for p in full.parameters()) - 2


def _binary(positive: int, n: int, scored: bool = False):
    labels = (np.arange(n) < positive).astype(int)
    risk = np.where(labels == 1, 0.6, 0.4) + np.linspace(0, 0.4, n)  # overlapping: AUROC < 1
    return outcome_of("binary", labels, (labels, risk) if scored else None, {"auroc": 0.8},
                      "patients", ["no", "yes"])  # fmt: skip


def _wilson(events: int, n: int) -> tuple[float, float]:
    """Wilson's 95% score interval, written out."""
    z, p = 1.959963984540054, events / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def test_few_events_are_those_the_rare_class_warning_names():
    """ "Few": fewer than 5 of a class (MIN_PER_CLASS, the warning's threshold), either class."""
    assert _binary(3, 200).few_events() and _binary(197, 200).few_events()
    assert not _binary(5, 200).few_events() and not _binary(100, 200).few_events()
    assert _binary(3, 200).prevalence_ci() == pytest.approx(_wilson(3, 200))
    assert _binary(197, 200).prevalence_ci() == pytest.approx(_wilson(197, 200))


def test_at_another_prevalence_the_r_squared_is_planned_by_the_same_rule():
    """Planned from an AUROC (the source's 0.8 here, the site's where it gives one), from the
    conservative default, or the lower of the two where the site gives none to plan on."""
    from_source = _binary(3, 200)  # 3 events at the site: no site AUROC to plan on
    at = from_source.at_prevalence(0.04)
    default, auroc = 0.15 * max_cox_snell(0.04), cox_snell_from_c(0.8, 0.04)
    assert at.r2 == pytest.approx(min(default, auroc)) and at.figures["prevalence"] == 0.04
    assert from_source.r2 == pytest.approx(
        min(0.15 * max_cox_snell(0.015), cox_snell_from_c(0.8, 0.015))
    )
    measured = _binary(60, 200, scored=True)  # a site AUROC to plan on: the lower AUROC
    planned = measured.figures["auroc_planned"]
    assert measured.at_prevalence(0.2).r2 == pytest.approx(cox_snell_from_c(planned, 0.2))
    unknown = outcome_of("binary", (np.arange(200) < 60).astype(int))  # nothing known
    assert unknown.at_prevalence(0.2).r2 == pytest.approx(0.15 * max_cox_snell(0.2))


ENTRY = {"source": "Riley et al. Stat Med 2019", "parameters": 64, "intercepts": 1,
         "n_needed": 4515, "criterion": "i", "n_train": 140, "met": False, "n_test": 60,
         "test_needs": {}, "test_supports": {}}  # fmt: skip


def _once(text: str) -> bool:
    """The reading said exactly once (capitalised or not), and no other word of it besides."""
    text = " ".join(text.split())
    return (text.count(ADAPTED_READING[1:]) == 1 and text.count("necessary, not sufficient") == 1
            and text.count("most conservative") == 1)  # fmt: skip


def test_adapt_study_the_report_and_the_card_say_the_reading_once():
    """The outputs said both "the most conservative reading" and "necessary, not sufficient",
    apart and in different words; now one statement: the count is an upper bound, so the
    needs are the most conservative reading, and meeting them is still not sufficient."""
    from medadapt.evaluate.report.html import Report
    from medadapt.registry import render_card
    from medadapt.workflows.study_report import _sample_size

    assert "the parameters it trains are an upper bound on its effective parameters" in (
        ADAPTED_READING
    )
    line = sample_size_line(ENTRY)
    assert _once(line) and "its 64 parameters (the intercept aside) would need 4,515" in line
    study = {"source": "Riley et al. Stat Med 2019", "n_train": 140, "r2_label": "R-squared",
             "r2": 0.1, "r2_source": "assumed", "outcome": "prevalence 0.5",
             "intercepts_aside": True, "test_needs": {},
             "strategies": {"head_only": {"parameters": 64, "n_needed": 4515, "criterion": "i",
                                          "met": False}}}  # fmt: skip
    assert _once(study_sample_size_line(study))
    report = Report(title="study")
    _sample_size(report, {"sample_size": study, "config": {"kind": "tabular"}})
    html = unescape(report.render())
    assert _once(html) and "parameters (intercepts aside)" in html
    manifest = {"method": "head", "metadata": {"task": "binary", "data_summary": {
        "n_train": 140, "n_test": 60, "sample_size": ENTRY}}}  # fmt: skip
    card = render_card(name="va", version=1, parent=None,
                       registered="2025-03-02T09:00:00+00:00", manifest=manifest)  # fmt: skip
    assert _once(card)

"""A small anticipated R-squared is printed with its figures: a Cox-Snell R-squared at a
prevalence of 0.005 and an AUROC of 0.55 is 0.000157, which every sample-size output printed
as "0.000" (check-data, adapt's card, study's line and report)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from medadapt.evaluate.samplesize_outcomes import outcome_of
from medadapt.registry.summary_words import sample_size_rows
from medadapt.results import ADAPTED_READING_SENTENCE
from medadapt.workflows.sample_size import study_sample_size_line
from medadapt.workflows.study_report import _sample_size

SHOWN = "Cox-Snell R-squared 0.000157"


def _outcome():
    labels = (np.arange(200) < 1).astype(int)  # 1 event in 200: prevalence 0.005
    return outcome_of("binary", labels, None, {"auroc": 0.55}, "patients", ["0", "1"])


def _entry() -> dict:
    outcome = _outcome()
    return {"parameters": 64, "intercepts": 1, "n_needed": 1_000_000, "criterion": "i",
            "n_train": 140, "n_test": 60, "met": False, "test_needs": {},
            "source": "Riley et al. Stat Med", **outcome.to_dict(),
            "strategies": {"head_only": {"parameters": 64, "n_needed": 1_000_000,
                                         "criterion": "i", "met": False}},
            "intercepts_aside": True}  # fmt: skip


def test_the_outcome_says_the_r_squared_it_did_not_take_with_its_figures():
    outcome = _outcome()
    assert round(outcome.r2, 7) == 0.0001571
    assert "would give 0.00915, higher" in outcome.r2_source  # the default, not "0.009"


def test_the_card_the_study_line_and_its_report_print_a_small_r_squared_in_full():
    entry = _entry()
    basis = dict(sample_size_rows(entry))["sample size basis"]
    assert basis.startswith(f"{SHOWN}, from the base model's AUROC on its source (0.550)")
    assert f"anticipated {SHOWN}, " in study_sample_size_line(entry)
    said: list[tuple[str, ...]] = []
    report = SimpleNamespace(section=lambda *a: said.append(a), table=lambda *a: said.append(a),
                             paragraph=lambda *a: said.append(a))  # fmt: skip
    _sample_size(report, {"sample_size": entry})
    _title, text = said[0]
    assert f"anticipated {SHOWN}, " in text and f"{ADAPTED_READING_SENTENCE}. Source:" in text
    assert said[1][0][1] == "parameters (intercepts aside)"


def test_a_site_auroc_on_few_patients_says_what_its_lower_bound_would_ask():
    """A trial's 15-patient site was planned on its AUROC of 0.926 without an interval, and
    asked for fewer patients than a 200-patient site with a lower, firmer AUROC: the plan
    says how many times as many criterion (i) would ask at the AUROC's lower 95% bound (where
    that is 3 times or more)."""
    from medadapt.auroc_interval import score_interval
    from medadapt.evaluate.samplesize_outcomes import _uncertain_site_auroc

    low, high = score_interval(0.743, 7, 5)  # an interval as evaluate's: given
    assert _uncertain_site_auroc(0.743, (low, high), 0.743, 0.583, "12 patients", "patients") == [
        f"the base model's AUROC here (0.743, on all 12 patients of this site it never saw, not "
        f"only the test ones) has a 95% CI of {low:.3f} to "
        f"{high:.3f}: at its lower bound, planned as 0.55, each criterion would ask far more "
        "(criterion (i), which no parameter count sets, about 25 times as many patients, "
        "whichever criterion decides the plan); plan on more, and check the data again as "
        "they come in"
    ]
    # a trial: 30 images of 15 patients, each with images of both classes, said "30 patients"
    said = _uncertain_site_auroc(0.743, (low, high), 0.743, 0.583, "30 images of 15 patients",
                                 "patients")  # fmt: skip
    assert said[0].startswith("the base model's AUROC here (0.743, on all 30 images of 15 patients")
    firm = score_interval(0.725, 100, 100)
    assert _uncertain_site_auroc(0.725, firm, 0.725, 0.5, "200 patients", "patients") == []
    # the source's lower AUROC planned on, the site's bound above it: nothing to add
    above = score_interval(0.90, 20, 20)
    assert _uncertain_site_auroc(0.90, above, 0.84, 0.5, "40 patients", "patients") == []


def test_the_site_auroc_interval_is_evaluate_s_for_the_same_patients():
    """A trial's check-data said 0.648 to 0.896 (Newcombe's alone) where evaluate said 0.648
    to 0.918 of the same 84 rows."""
    import numpy as np

    from medadapt.evaluate.metrics import binary_metrics
    from medadapt.evaluate.samplesize_outcomes import _site_interval

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 40)
    scores = np.clip(0.3 + 0.3 * labels + rng.normal(0, 0.2, 40), 0.01, 0.99)
    assert _site_interval((labels, scores), None) == tuple(
        binary_metrics(labels, scores)["auroc_ci"]
    )


def test_an_r_squared_measured_on_few_site_rows_says_how_far_its_interval_reaches():
    """A trial's adapt planned on R-squared 0.569 "on 30 rows", then 0.256 "on 11 rows" as
    --train-fraction changed, and the needs went from 91,084 to 260,695 rows without a caveat;
    a binary outcome's AUROC on few patients had one."""
    import math

    from medadapt.evaluate.samplesize import shrinkage_n
    from medadapt.evaluate.samplesize_outcomes import _uncertain_site_r2

    low = math.tanh(math.atanh(math.sqrt(0.254)) - 1.959964 / math.sqrt(27)) ** 2
    times = shrinkage_n(1, low, 0.9) / shrinkage_n(1, 0.254, 0.9)
    assert round(low, 3) == 0.031 and round(times, 1) == 9.5
    assert _uncertain_site_r2(0.254, 30, "rows") == [
        "the base model's R-squared here (0.254, on 30 rows) has a 95% CI from about 0.031: at "
        "that bound, each criterion would ask far more (criterion (i), which no parameter "
        "count sets, about 9.5 times as many rows, whichever criterion decides the plan); plan "
        "on more, and check the data again as they come in"
    ]
    assert _uncertain_site_r2(0.238, 15, "rows") == [
        "the base model's R-squared here (0.238, on 15 rows) has a 95% CI reaching 0 (no better "
        "than predicting the mean): the criteria's needs could be far larger than planned; "
        "plan on more, and check the data again as they come in"
    ]
    assert _uncertain_site_r2(0.45, 400, "rows") == []  # a firm R-squared: nothing to add
    # through the outcome, as check-data and adapt plan on it
    rng = np.random.default_rng(0)
    y = rng.normal(150, 50, 30)
    scored = (y, y + rng.normal(0, 40, 30))  # R-squared 0.068 on 30 rows
    outcome = outcome_of("regression", y, scored, None, "rows", [])
    assert any("R-squared here" in note for note in outcome.notes)


def test_without_a_bootstrap_interval_the_site_auroc_keeps_newcombe_s(monkeypatch):
    """Where the bootstrap gives no interval (too many resamples lack a class), the plan keeps
    Newcombe's rather than failing."""
    import numpy as np

    import medadapt.evaluate.metrics as metrics
    from medadapt.auroc_interval import score_interval
    from medadapt.evaluate.samplesize_outcomes import _site_interval

    labels = np.array([1] * 5 + [0] * 7)
    scores = np.linspace(0.9, 0.1, 12)
    monkeypatch.setattr(metrics, "binary_metrics", lambda *a, **k: {"auroc": 1.0, "auroc_ci": None})
    assert tuple(_site_interval((labels, scores))) == tuple(score_interval(1.0, 5, 7))

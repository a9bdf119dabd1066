"""The observed/expected ratio's interval: the wider of the bootstrap's and Riley et al.'s
analytic one, so that 15 patients cannot say "the model predicts too few events"."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medadapt.evaluate import bootstrap as bs
from medadapt.evaluate.metrics import binary_metrics
from medadapt.evaluate.ratio_interval import oe_interval, widened_oe


def test_riley_s_interval_is_the_log_ratio_plus_minus_z_standard_errors():
    """Riley et al. 2021 / Debray et al. 2017: SE(ln O/E) = sqrt((1 - O/N) / O)."""
    low, high = oe_interval(12, 10.2, 15)
    se = math.sqrt((1 - 12 / 15) / 12)
    assert (low, high) == pytest.approx((12 / 10.2 * math.exp(-1.96 * se),
                                         12 / 10.2 * math.exp(1.96 * se)), rel=1e-4)  # fmt: skip
    assert oe_interval(5, 0.0, 15) is None and widened_oe([0.5, 0.9], 5, 0.0, 15) == [0.5, 0.9]
    assert widened_oe(None, 12, 10.2, 15) is None


def test_fifteen_patients_whose_risks_track_their_outcomes_give_no_verdict():
    """12 of 15 with the outcome, risks near 0.8 for them and 0.2 for the others: resampling
    moves outcomes and risks together, so the bootstrap alone said 1.07-1.24 and "too few
    events"; widened, the interval holds 1 and no verdict is drawn from 1.8 events."""
    y = np.array([1] * 12 + [0] * 3)
    p = np.r_[np.full(12, 0.8), np.full(3, 0.2)] + np.linspace(0, 0.01, 15)
    m = binary_metrics(y, p, n_boot=500, seed=0)
    W = bs.resample_weights(15, 500, 0)
    alone = bs.percentile_interval(bs._safe_divide(W @ y.astype(float), W @ p))
    assert alone[0] > 1  # the bootstrap alone excluded 1
    assert m["oe_ratio_ci"] == pytest.approx(widened_oe(alone, 12, float(p.sum()), 15))
    assert m["oe_ratio_ci"][0] < 1 < m["oe_ratio_ci"][1]
    assert "oe_ratio" not in m["notes"]


def test_a_real_shortfall_on_many_patients_is_still_said():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.3, 600)
    y = (rng.random(600) < 2 * p).astype(int)  # twice the events the risks expect
    m = binary_metrics(y, p, n_boot=300)
    assert m["oe_ratio_ci"][0] > 1
    assert m["notes"]["oe_ratio"].startswith("the model predicts too few events")


def test_no_event_among_the_patients_gives_the_exact_poisson_interval_not_a_verdict():
    """A trial: a site with no malignant patient, 3.2 expected from the risks, said "the model
    predicts too many events: 0 observed against 3.2 expected (the interval excludes 1)" from
    an interval of 0 to 0 (every resample has 0 events); the exact Poisson interval of 0
    events, 0 to 3.689 (chi-squared 0.975 on 2 degrees of freedom, halved), over 3.2 is 0 to
    1.15: no verdict. Accuracy 1.0 there (nobody called positive) is not "too good to be true"."""
    from scipy import stats

    upper = stats.chi2.ppf(0.975, 2) / 2
    assert oe_interval(0, 3.2, 68) == pytest.approx([0.0, upper / 3.2])
    y = np.zeros(68, dtype=int)
    m = binary_metrics(y, np.full(68, 3.2 / 68), n_boot=200)
    assert m["oe_ratio"] == 0.0 and m["oe_ratio_ci"] == pytest.approx([0.0, upper / 3.2])
    assert "oe_ratio" not in m["notes"] and "too_good" not in m["notes"]
    assert m["accuracy"] == 1.0
    ten = binary_metrics(y, np.full(68, 10 / 68), n_boot=200)  # 0 against 10 expected
    assert ten["oe_ratio_ci"] == pytest.approx([0.0, upper / 10])
    assert ten["notes"]["oe_ratio"].startswith(
        "the model predicts too many events: 0 observed against 10.0 expected"
    )


def test_with_events_observed_the_lower_bound_is_never_zero():
    """A trial's 12 test patients, 2 with the outcome, read "1.409 (0.000–4.993)": resamples
    without an event put the bootstrap's lower bound at 0, a ratio 2 observed events rule
    out; the exact Poisson (Garwood) lower limit of 2 events, 0.2422, over 1.4 is taken."""
    from scipy import stats

    low, high = widened_oe([0.0, 4.993], 2, 1.4, 12)
    assert low == pytest.approx(stats.chi2.ppf(0.025, 4) / 2 / 1.4) and low == pytest.approx(
        0.173, abs=5e-4
    )
    assert high == pytest.approx(oe_interval(2, 1.4, 12)[1])  # Riley's, the wider
    assert widened_oe([0.0, 3.0], 0, 1.4, 12)[0] == 0.0  # no event: 0 is allowed
    riley_low = oe_interval(2, 1.4, 12)[0]  # 0.403: a positive bound is kept as it is
    assert widened_oe([0.3, 3.0], 2, 1.4, 12)[0] == min(0.3, riley_low)


def test_a_brier_score_without_spread_names_a_model_right_and_near_certain_for_everyone():
    """A trial's adapter, right and near-certain for all 15 test patients, had Brier "<0.001"
    with "no interval: ... too few of them, all with one outcome, or a model that gives them
    all the same answer": none of which was the case."""
    y = np.array([0] * 15 + [1] * 15)
    m = binary_metrics(y, np.where(y == 1, 0.9999, 0.0001), n_boot=200, seed=0)
    assert m["brier_ci"] is None and m["brier"] < 0.001
    assert m["notes"]["brier"].endswith(
        "a model that gives them all the same answer, or one that is right and near-certain "
        "for every one of them: no proof that it will be elsewhere)"
    )

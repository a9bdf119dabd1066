"""A biostatistician's review of the sample-size criteria: a worse base is never told it needs
fewer patients; the validation criteria's linear predictor agrees with the prevalence and
C-statistic they assume, and the C-statistic used is the one recorded; criterion (iv) of a
continuous outcome is left out where its mean is near 0; a rare outcome's criterion (iii) has
its caveat."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import medadapt as ma
from medadapt.evaluate.metrics import binary_metrics
from medadapt.evaluate.samplesize import (
    _lp_figures,
    cox_snell_from_c,
    lp_distribution,
    max_cox_snell,
    rare_outcome_note,
    validation,
)
from medadapt.evaluate.samplesize_continuous import development_continuous
from medadapt.evaluate.samplesize_outcomes import WEAKEST_PLANNED, outcome_of
from medadapt.workflows.sample_size import _validation

CLASSES = ["0", "1"]


def _ranked(wins: int, per_class: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Labels (``per_class`` of each) and risks whose AUROC is exactly
    ``wins / per_class**2``: the non-events score 0..per_class-1, and each event lies above
    its share of them."""
    below = np.full(per_class, wins // per_class)
    below[: wins % per_class] += 1
    scores = np.r_[below - 0.5, np.arange(per_class)]
    labels = np.r_[np.ones(per_class, int), np.zeros(per_class, int)]
    return labels, 1 / (1 + np.exp(-(scores / 5 - 2)))


def _site(wins: int):
    labels, risk = _ranked(wins)
    return outcome_of("binary", labels, (labels, risk), None, "patients", CLASSES), risk


# ----- 1. a weak AUROC is planned as 0.55: a worse base never needs fewer patients -----------
def test_a_site_auroc_of_0_51_asks_what_one_of_0_49_asks_not_a_million():
    """The review: AUROC 0.491 took the default (4,868 for 65 parameters), 0.509 an R-squared
    of 0.000 and a million or more. A second review: taking the default for every AUROC below
    the one it implies (0.82 at a prevalence of 0.01) asked fewer patients than a measured
    0.75 does. Every AUROC below 0.55, backwards included, is now planned as 0.55; above, as
    measured."""
    backwards, _ = _site(60)  # 0.150
    chance, _ = _site(196)  # 0.490
    weak, _ = _site(204)  # 0.510
    fair, _ = _site(276)  # 0.690
    planned = cox_snell_from_c(WEAKEST_PLANNED, 0.5)
    assert backwards.r2 == chance.r2 == weak.r2 == pytest.approx(planned)
    assert fair.r2 == pytest.approx(cox_snell_from_c(0.69, 0.5))
    needs = [o.criteria(65)[0].n for o in (backwards, chance, weak, fair)]
    assert needs[0] == needs[1] == needs[2] > needs[3] and needs[2] < 1_000_000
    labels, risk = _ranked(204)  # the site's figure with evaluate's interval for it
    low, high = binary_metrics(labels, risk)["auroc_ci"]
    assert weak.r2_source == (
        f"from the base model's AUROC at this site, on all 40 patients it never saw (0.510, 95% "
        f"CI {low:.3f} to {high:.3f}, barely better than chance: planned as 0.55, the weakest "
        "ranking a plan takes)"
    )
    b_low, b_high = binary_metrics(*_ranked(60))["auroc_ci"]
    assert (f"(0.150, 95% CI {b_low:.3f} to {b_high:.3f}, worse than chance: it ranks them "
            "backwards (are ") in backwards.r2_source  # fmt: skip
    assert weak.figures["auroc_at_site"] == pytest.approx(0.51)
    assert weak.figures["auroc_planned"] == WEAKEST_PLANNED


def test_a_measured_auroc_is_never_replaced_by_the_default_at_a_rare_outcome():
    """The second review: at a prevalence of 0.01 the default implies a C-statistic of 0.82;
    replacing a measured 0.75 by it asked 11,225 patients for 20 parameters where 0.75 asks
    20,095."""
    labels = np.r_[np.ones(10, int), np.zeros(990, int)]
    rng = np.random.default_rng(0)
    risk = np.clip(0.01 + 0.012 * labels + rng.normal(0, 0.02, 1000), 0.001, 0.999)
    outcome = outcome_of("binary", labels, (labels, risk), None, "patients", CLASSES)
    here = outcome.figures["auroc_at_site"]
    assert 0.55 < here < 0.82
    assert outcome.r2 == pytest.approx(cox_snell_from_c(here, 0.01))
    assert outcome.r2 < 0.15 * max_cox_snell(0.01)  # more patients than the default asks


def test_the_validation_c_statistic_follows_the_measured_ranking():
    """A weak ranking asks more test patients, never fewer (the second review: a measured
    0.671 had been replaced by a cautious 0.7); below 0.55 it is taken as 0.55, said."""
    base = SimpleNamespace(training={"test_metrics": {}})
    checked = {}
    for wins in (196, 204, 276, 280, 300):
        outcome, risk = _site(wins)
        checked[wins] = _validation(base, outcome, risk, 20)
    assert [checked[w]["c_statistic"] for w in (196, 204, 276, 280, 300)] == pytest.approx(
        [0.55, 0.55, 0.69, 0.7, 0.75])  # fmt: skip
    assert checked[204]["c_statistic_anticipated"] == pytest.approx(0.51)
    for name in range(3):  # O/E, slope, C
        needs = [checked[w]["criteria"][name]["n"] for w in (196, 204, 276, 280, 300)]
        assert needs == sorted(needs, reverse=True)


def test_a_pair_of_classes_at_0_52_is_planned_as_0_55_as_one_at_0_49_is():
    """Multiclass, as the review found it: pairs at 0.491 took the default, 0.52 a million."""
    labels = np.repeat([0, 1, 2], 20)
    proba = np.full((60, 3), 0.1)
    proba[labels == 0, 0] = 0.8  # class 0 told apart
    proba[:, 1] = np.r_[np.zeros(20), np.arange(20) + 0.5, np.arange(20)] / 40 + 0.1
    outcome = outcome_of("multiclass", labels, (labels, proba), None, "patients",
                         ["a", "b", "c"])  # fmt: skip
    assert outcome.pairs[(1, 2)] == pytest.approx(cox_snell_from_c(WEAKEST_PLANNED, 0.5))
    assert "'b' vs 'c' (0.525) planned as 0.55, the weakest ranking a plan takes" in (
        outcome.r2_source
    )
    assert outcome.criteria(85)[0].n < 1_000_000


# ----- 2. the linear predictor agrees with the prevalence and C-statistic ------------------------
def test_the_linear_predictor_is_the_one_a_calibrated_model_with_both_has():
    """The review's heart data at VA Long Beach: prevalence 0.745, C 0.726. The base's own
    log-odds (Normal(1.088, 1.294)) imply 0.696 and 0.788; the consistent one is about
    Normal(1.25, 0.91), which a simulation confirms, and asks 3,657 patients for the slope
    (2,305 before)."""
    from sklearn.metrics import roc_auc_score

    c = 0.7264113699170943
    mean, sd = lp_distribution(0.745, c)
    assert (round(mean, 3), round(sd, 3)) == (1.252, 0.912)
    assert _lp_figures(mean, sd) == pytest.approx((0.745, c), abs=1e-9)
    rng = np.random.default_rng(0)
    lp = rng.normal(mean, sd, 2_000_000)
    events = rng.random(lp.size) < 1 / (1 + np.exp(-lp))
    assert events.mean() == pytest.approx(0.745, abs=1e-3)
    assert roc_auc_score(events, lp) == pytest.approx(c, abs=1e-3)
    base = _lp_figures(1.0880712855989698, 1.293655262527363)  # what was used before
    assert base == pytest.approx((0.696, 0.788), abs=2e-3)  # the review's figures
    oe, slope, c_n = validation(prevalence=0.745, c_statistic=c)
    assert (oe.n, slope.n, c_n.n) == (132, 3657, 512)
    given = validation(prevalence=0.745, c_statistic=c, lp_mean=1.0880712855989698,
                       lp_sd=1.293655262527363)  # fmt: skip
    assert given[1].n == 2305  # a given distribution is still taken as given


def test_check_data_records_the_linear_predictor_and_how_it_was_obtained():
    labels, risk = _ranked(300)
    outcome = outcome_of("binary", labels, (labels, risk), None, "patients", CLASSES)
    checked = _validation(SimpleNamespace(training={"test_metrics": {}}), outcome, risk, 20)
    mean, sd = lp_distribution(0.5, 0.75)
    assert (checked["lp_mean"], checked["lp_sd"]) == (mean, sd)
    assert checked["lp_from"] == (
        "derived from the prevalence 0.500 and that C-statistic: the normal log-odds of a "
        "calibrated model with both (Riley et al. 2021's consistency condition; "
        "pmvalsampsize's lpcstat), not the base model's own log-odds here"
    )


def test_the_python_api_derives_the_linear_predictor_when_none_is_given():
    check = ma.sample_size.validation(prevalence=0.745, c_statistic=0.726)
    assert [c.n for c in check.criteria] == [132, 3668, 513]
    assert str(check).splitlines()[1] == (
        "note: the linear predictor is taken as Normal(1.251, 0.910): the log-odds of a "
        "calibrated model with this prevalence and C-statistic"
    )
    with pytest.raises(ma.errors.ConfigError, match=r"^pass both lp_mean and lp_sd, or neither"):
        ma.sample_size.validation(prevalence=0.745, c_statistic=0.726, lp_mean=1.0)


# ----- 5. the C-statistic recorded is the one used -----------------------------------------------
@pytest.mark.parametrize(
    ("source", "used", "said"),
    [
        (0.99, 0.95, "the anticipated C-statistic 0.990 is taken as 0.95, the highest the "
                     "criteria are computed for: a discrimination above it is seldom kept at a "
                     "new site, and would ask fewer test patients than a cautious plan should"),
        (0.52, 0.55, "the anticipated C-statistic 0.520 is taken as 0.55, the lowest the "
                     "criteria are computed for: nearer 0.5 a model barely ranks the patients, "
                     "and no realistic test set estimates its calibration slope"),
    ],
)  # fmt: skip
def test_a_c_statistic_outside_the_range_is_recorded_as_used_and_said(source, used, said):
    """The review: breast cancer's 0.990 was recorded, 0.95 used."""
    labels, risk = _ranked(396)  # 0.99 at the site: the source's figure is the lower or equal
    outcome = outcome_of("binary", labels, (labels, risk), {"auroc": source}, "patients",
                         CLASSES)  # fmt: skip
    base = SimpleNamespace(training={"test_metrics": {"auroc": source}})
    checked = _validation(base, outcome, risk, 20)
    assert checked["c_statistic"] == used and checked["c_statistic_anticipated"] == source
    assert checked["c_statistic_clipped"] == said
    expected = validation(prevalence=0.5, c_statistic=used)
    assert [c["n"] for c in checked["criteria"]] == [c.n for c in expected]


def test_a_c_statistic_inside_the_range_says_nothing_of_clipping():
    outcome, risk = _site(300)
    checked = _validation(SimpleNamespace(training={"test_metrics": {}}), outcome, risk, 20)
    assert checked["c_statistic"] == checked["c_statistic_anticipated"] == 0.75
    assert "c_statistic_clipped" not in checked


# ----- 3. criterion (iv) of a continuous outcome whose mean is near 0 -----------------------------
IV_LEFT_OUT = (
    "the outcome's mean lies within one SD of 0 (mean {mean}, SD {sd}) and its values may lie "
    "on both sides of 0: a margin of 10% of the mean is no clinical margin; criterion (iv) not "
    "applied (crosses_zero=False applies it to an outcome that is never negative)"
)
IV_BOTH_SIGNS = (
    "the outcome's values lie on both sides of 0 and its mean within one SD of 0 (mean {mean}, "
    "SD {sd}): a margin of 10% of the mean is no clinical margin; criterion (iv) not applied"
)


@pytest.mark.parametrize("mean", [0.01, 0.0, -0.5])
def test_criterion_iv_is_left_out_where_the_mean_lies_within_one_sd_of_zero(mean):
    """The review: mean 0.01, SD 1 asked 2,689,024 patients; mean 0 dropped (iv) silently."""
    criteria = development_continuous(parameters=10, r2=0.3, intercept=mean, sd=1)
    assert [(c.name, c.n) for c in criteria] == [("i", 196), ("ii", 141), ("iii", 244)]
    need = ma.sample_size.continuous(parameters=10, r2=0.3, mean=mean, sd=1)
    assert need.n == 244
    assert need.notes == (IV_LEFT_OUT.format(mean=f"{mean:.3g}", sd=1),)
    assert str(need) == (
        "244 patients, set by criterion iii: residual SD within a factor 1.1\nnote: "
        + IV_LEFT_OUT.format(mean=f"{mean:.3g}", sd=1)
    )


def test_criterion_iv_still_applies_at_least_one_sd_from_zero():
    assert [c.name for c in development_continuous(parameters=10, r2=0.3, intercept=1.0,
                                                   sd=1)] == ["i", "ii", "iii", "iv"]  # fmt: skip
    assert ma.sample_size.continuous(parameters=25, r2=0.2, mean=1.9, sd=0.6).notes == ()


def test_a_skewed_outcome_of_one_sign_keeps_criterion_iv():
    """A review: (iv) was dropped whenever |mean| < SD, so for a length of stay (mean 5, SD
    6), where 10% of the mean is a real margin, too, and it jumped back at mean = SD. It is
    left out only where the values lie on both sides of 0 (or may: the signs not given)."""
    stay = ma.sample_size.continuous(parameters=10, r2=0.3, mean=5, sd=6, crosses_zero=False)
    assert [(c.name, c.n) for c in stay.criteria] == [("i", 196), ("ii", 141), ("iii", 244),
                                                      ("iv", 390)]  # fmt: skip
    assert stay.n == 390 and stay.notes == ()
    below_zero = ma.sample_size.continuous(parameters=10, r2=0.3, mean=-5, sd=6,
                                           crosses_zero=False)  # fmt: skip
    assert below_zero.n == 390 and below_zero.notes == ()
    assert [
        c.name
        for c in development_continuous(
            parameters=10, r2=0.3, intercept=5, sd=6, crosses_zero=False
        )
    ] == ["i", "ii", "iii", "iv"]
    unknown = ma.sample_size.continuous(parameters=10, r2=0.3, mean=5, sd=6)
    assert unknown.n == 244 and unknown.notes == (IV_LEFT_OUT.format(mean=5, sd=6),)
    centred = ma.sample_size.continuous(parameters=10, r2=0.3, mean=0.5, sd=1, crosses_zero=True)
    assert centred.n == 244 and centred.notes == (IV_BOTH_SIGNS.format(mean=0.5, sd=1),)
    far = ma.sample_size.continuous(parameters=10, r2=0.3, mean=2, sd=1, crosses_zero=True)
    assert [c.name for c in far.criteria][-1] == "iv" and far.notes == ()


def test_a_mean_of_zero_with_values_of_one_sign_is_refused():
    with pytest.raises(ma.errors.ConfigError) as refused:
        ma.sample_size.continuous(parameters=10, r2=0.3, mean=0, sd=1, crosses_zero=False)
    assert str(refused.value) == (
        "mean 0 cannot be the mean of an outcome whose values lie on one side of 0 "
        "(crosses_zero=False): check mean, or pass crosses_zero=None"
    )
    with pytest.raises(ValueError, match=r"^an outcome whose values lie on one side of 0 has"):
        development_continuous(parameters=10, r2=0.3, intercept=0, sd=1, crosses_zero=False)


def test_a_centred_outcome_at_a_site_carries_the_note():
    values = np.random.default_rng(0).normal(0.005, 0.05, 200)
    outcome = outcome_of("regression", values)
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    said = IV_BOTH_SIGNS.format(mean=f"{mean:.3g}", sd=f"{sd:.3g}")  # values of both signs
    assert outcome.notes == [said] and outcome.to_dict()["criteria_notes"] == [said]
    stay = outcome_of("regression", np.random.default_rng(0).gamma(0.7, 7.0, 200))  # days
    assert stay.figures["crosses_zero"] is False and stay.notes == []  # a skewed outcome
    assert [c.name for c in stay.criteria(65)] == ["i", "ii", "iii", "iv"]
    assert [c.name for c in outcome.criteria(65)] == ["i", "ii", "iii"]


# ----- 8. a rare outcome's criterion (iii) -------------------------------------------------------
RARE = (
    "criterion (iii) estimates the overall risk within +-0.05, a margin 3.3 times the risk "
    "itself at a prevalence of 0.015: even when met, it leaves that risk uncertain relative to "
    "its size"
)


def test_a_rare_outcome_says_what_criterion_iii_s_margin_means():
    labels = np.r_[np.ones(3, int), np.zeros(197, int)]
    outcome = outcome_of("binary", labels, None, None, "patients", CLASSES)
    assert outcome.notes == [RARE] and outcome.to_dict()["criteria_notes"] == [RARE]
    need = ma.sample_size.binary(parameters=10, prevalence=0.015)
    assert need.notes == (RARE,) and str(need).endswith(f"\nnote: {RARE}")
    common = outcome_of("binary", np.r_[np.ones(20, int), np.zeros(180, int)])
    assert common.notes == [] and ma.sample_size.binary(parameters=10, prevalence=0.1).notes == ()


def test_the_rare_outcome_note_follows_the_margin_against_the_risk():
    """A review: the note fired at any prevalence below 0.1, whatever the margin (a margin of
    0.005 at 0.05 is a tenth of the risk, called uncertain), and never above (0.1 at 0.12 is
    0.83 of it). It fires where the margin is more than half the risk."""
    assert ma.sample_size.binary(parameters=10, prevalence=0.05, margin=0.005).notes == ()
    wide = ma.sample_size.binary(parameters=10, prevalence=0.12, margin=0.1)
    assert wide.notes == (
        "criterion (iii) estimates the overall risk within +-0.1, a margin 0.8 times the risk "
        "itself at a prevalence of 0.120: even when met, it leaves that risk uncertain "
        "relative to its size",
    )
    assert rare_outcome_note(0.1) is None and rare_outcome_note(0.0999) is not None  # 0.05


# ----- the linear predictor derived near the ends of the C-statistic's range --------------------
def test_a_c_statistic_just_above_one_half_has_its_linear_predictor():
    """A review: C 0.5001 was refused ("no normal linear predictor has a C-statistic of
    0.5001"), though one exists (SD 0.00035, below the search's 0.001)."""
    mean, sd = lp_distribution(0.3, 0.5001)
    assert sd == pytest.approx(0.0001 / 0.28209479, rel=1e-4)  # C - 0.5 = SD / (2 sqrt(pi))
    assert _lp_figures(mean, sd) == pytest.approx((0.3, 0.5001), abs=1e-9)
    check = ma.sample_size.validation(prevalence=0.3, c_statistic=0.5001)
    assert check.notes[0].startswith("the linear predictor is taken as Normal(-0.847, 0.000354)")
    oe, slope, c = check.criteria
    assert (oe.n, c.n) == (900, 611)
    slope_variance = 1 / (sd**2 * 0.3 * 0.7)  # per patient, at a nearly constant risk of 0.3
    assert slope.n == pytest.approx(slope_variance / (0.2 / (2 * 1.96)) ** 2, rel=1e-3)


@pytest.mark.parametrize(
    ("c_statistic", "end"),
    [(0.5 + 1e-8, "0.50000001 at a prevalence of 0.3 (its SD would be below 1e-06)"),
     (0.99999, "0.99999 at a prevalence of 0.3 (its SD would be above 100)")],
)  # fmt: skip
def test_a_c_statistic_beyond_the_search_says_which_end(c_statistic, end):
    with pytest.raises(ma.errors.ConfigError) as refused:
        ma.sample_size.validation(prevalence=0.3, c_statistic=c_statistic)
    assert str(refused.value) == (
        f"no normal linear predictor with an SD from 1e-06 to 100 has a C-statistic of {end}: "
        "pass lp_mean and lp_sd"
    )


def test_a_c_statistic_near_one_warns_of_no_overflow():
    """A review: validation(c_statistic=0.999) warned "overflow encountered in exp"."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check = ma.sample_size.validation(prevalence=0.3, c_statistic=0.999)
    assert [c.n for c in check.criteria] == [900, 32695, 4]


def test_an_unreachable_width_names_the_linear_predictor_only_where_it_was_given():
    """A derived linear predictor: "check lp_mean and lp_sd" named arguments never passed."""
    with pytest.raises(ma.errors.ConfigError) as derived:
        ma.sample_size.validation(prevalence=0.3, c_statistic=0.7, c_width=1e-6)
    assert str(derived.value) == (
        "no realistic number of patients gives these widths for the linear predictor derived "
        "from prevalence and c_statistic: widen c_width/slope_width"
    )
    with pytest.raises(ma.errors.ConfigError) as given:
        ma.sample_size.validation(prevalence=0.3, c_statistic=0.7, c_width=1e-6, lp_mean=-1,
                                  lp_sd=1)  # fmt: skip
    assert str(given.value) == (
        "no realistic number of patients gives these widths for this linear predictor: widen "
        "c_width/slope_width, or check lp_mean and lp_sd"
    )

"""Riley et al.'s sample-size criteria against their published worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from medadapt.evaluate.samplesize import (
    binding,
    cox_snell_from_c,
    development,
    max_cox_snell,
    validation,
)


def test_development_binary_example_riley_2020_bmj_and_pmsampsize():
    """Riley et al. BMJ 2020;368:m441 (and pmsampsize's documented example): Cox-Snell R2
    0.288, 24 predictor parameters, prevalence 0.174 -> 623 / 662 / 221, so 662 patients and
    about 4.8 events per parameter."""
    criteria = development(parameters=24, prevalence=0.174, r2_cs=0.288)
    assert [c.n for c in criteria] == [623, 662, 221]
    final = binding(criteria)
    assert final.name == "ii" and final.n == 662
    assert round(final.per_parameter, 1) == 4.8 and round(final.events) == 115


@pytest.mark.parametrize(
    ("r2", "parameters", "prevalence", "expected"),
    [  # pmsampsize's further binary examples (criteria i and iii; ii as the paper computes it)
        (0.55, 24, 0.174, (255, 221)),
        (0.288, 36, 0.174, (934, 221)),
        (0.288, 24, 0.25, (623, 289)),
    ],
)
def test_development_criteria_i_and_iii_on_more_examples(r2, parameters, prevalence, expected):
    criteria = development(parameters=parameters, prevalence=prevalence, r2_cs=r2)
    assert (criteria[0].n, criteria[2].n) == expected


def test_max_cox_snell_is_the_null_models_bound():
    assert max_cox_snell(0.174) == pytest.approx(0.6032, abs=1e-4)
    assert max_cox_snell(0.5) == pytest.approx(0.75)


def test_validation_binary_example_riley_2021():
    """Riley et al. Stat Med 2021;40:4230-51, heart-valve failure: prevalence 0.018,
    C-statistic 0.8, linear predictor Normal(-5, 2.5), O/E CI width 1, slope CI width 0.2,
    C CI width 0.1. Published: 905 for O/E (the exact bound is 905.06; medadapt rounds every
    bound up, to 906) and 4252 for the C-statistic. The slope's published 4501 (pmvalsampsize)
    comes from 1,000 simulated patients; medadapt integrates the normal LP exactly (4554) and
    agrees with a 2,000,000-patient simulation."""
    oe, slope, c = validation(prevalence=0.018, c_statistic=0.8, lp_mean=-5, lp_sd=2.5,
                              oe_width=1)  # fmt: skip
    assert round(oe.exact) == 905 and oe.n == 906
    assert c.n == 4252
    rng = np.random.default_rng(0)
    lp = rng.normal(-5, 2.5, 2_000_000)
    p = 1 / (1 + np.exp(-lp))
    weight = p * (1 - p)
    info = np.array([[weight.mean(), (weight * lp).mean()],
                     [(weight * lp).mean(), (weight * lp * lp).mean()]])  # fmt: skip
    simulated = np.linalg.inv(info)[1, 1] / (0.2 / 3.92) ** 2
    assert slope.exact == pytest.approx(simulated, rel=0.01)


def test_cox_snell_from_c_grows_with_discrimination_and_is_zero_at_chance():
    assert cox_snell_from_c(0.5, 0.3) == pytest.approx(0.0, abs=1e-9)
    values = [cox_snell_from_c(c, 0.174) for c in (0.6, 0.7, 0.8, 0.9)]
    assert values == sorted(values) and values[-1] < max_cox_snell(0.174)


def test_inputs_out_of_range_are_refused_with_the_bound():
    with pytest.raises(ValueError, match=r"must be in \(0, 0.603\)"):
        development(parameters=24, prevalence=0.174, r2_cs=0.7)
    with pytest.raises(ValueError, match="prevalence must be in"):
        development(parameters=24, prevalence=1.2, r2_cs=0.1)

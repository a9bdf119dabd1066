"""``medadapt.sample_size``: Riley et al.'s criteria for a model planned on paper, in Python
words (the published examples are in its docstring and tests/evaluate/test_samplesize.py)."""

from __future__ import annotations

import pytest

import medadapt as ma
from medadapt.errors import ConfigError
from medadapt.evaluate.samplesize import cox_snell_from_c, development, max_cox_snell


def test_binary_takes_an_r_squared_a_c_statistic_or_the_conservative_default():
    given = ma.sample_size.binary(parameters=24, prevalence=0.174, r2_cs=0.288)
    assert given.n == 662 and given.binding.name == "ii" and given.r2_source == "given"
    from_c = ma.sample_size.binary(parameters=24, prevalence=0.174, c_statistic=0.8)
    expected = development(parameters=24, prevalence=0.174, r2_cs=cox_snell_from_c(0.8, 0.174))
    assert [c.n for c in from_c.criteria] == [c.n for c in expected]
    default = ma.sample_size.binary(parameters=24, prevalence=0.174)
    cautious = development(parameters=24, prevalence=0.174, r2_cs=0.15 * max_cox_snell(0.174))
    assert [c.n for c in default.criteria] == [c.n for c in cautious]
    assert default.r2_source == "conservative default (Nagelkerke R-squared 0.15)"
    assert default.n > from_c.n > given.n  # less known, more patients
    assert str(default).startswith(f"{default.n:,} patients (")


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: ma.sample_size.binary(parameters=0, prevalence=0.2),
         "parameters must be a whole number of at least 1; got 0"),
        (lambda: ma.sample_size.binary(parameters=2.5, prevalence=0.2),
         "parameters must be a whole number of at least 1; got 2.5"),
        (lambda: ma.sample_size.binary(parameters=5, prevalence=17.4),
         "prevalence must be in (0, 1); got 17.4"),
        (lambda: ma.sample_size.binary(parameters=24, prevalence=0.174, r2_cs=0.7),
         "r2_cs must be in (0, 0.603) for a prevalence of 0.174 (the largest Cox-Snell "
         "R-squared it allows); got 0.7"),
        (lambda: ma.sample_size.binary(parameters=5, prevalence=0.2, r2_cs=0.1, c_statistic=0.7),
         "pass r2_cs or c_statistic, not both"),
        (lambda: ma.sample_size.binary(parameters=5, prevalence=0.2, c_statistic=0.4),
         "c_statistic must be in (0.5, 1); got 0.4"),
        (lambda: ma.sample_size.continuous(parameters=5, r2=0.2, mean=10),
         "pass both mean and sd (criterion iv), or neither"),
        (lambda: ma.sample_size.continuous(parameters=5, r2=1.5),
         "r2 must be in (0, 1); got 1.5"),
        (lambda: ma.sample_size.binary(parameters=5, prevalence=0.2, shrinkage=1.0),
         "shrinkage must be in (0, 1); got 1.0"),
        (lambda: ma.sample_size.binary(parameters=5, prevalence=0.2, margin=0),
         "margin must be in (0, 1); got 0"),
        (lambda: ma.sample_size.continuous(parameters=5, r2=0.2, optimism=0),
         "optimism must be in (0, 1); got 0"),
        (lambda: ma.sample_size.continuous(parameters=5, r2=0.2, mmoe=1.0),
         "mmoe must be above 1 (a factor, e.g. 1.1); got 1.0"),
        (lambda: ma.sample_size.validation(prevalence=0.1, c_statistic=0.8, lp_mean=-2,
                                           lp_sd=0),
         "lp_sd must be positive; got 0"),
        (lambda: ma.sample_size.validation(prevalence=0.1, c_statistic=0.8, lp_mean=-2,
                                           lp_sd=1, c_width=0),
         "c_width must be positive; got 0"),
    ],
)  # fmt: skip
def test_a_value_out_of_range_names_its_python_argument(call, says):
    with pytest.raises(ConfigError) as error:
        call()
    assert str(error.value) == says


def test_continuous_adds_criterion_iv_when_the_outcome_is_described():
    plain = ma.sample_size.continuous(parameters=25, r2=0.2)
    described = ma.sample_size.continuous(parameters=25, r2=0.2, mean=26.7, sd=8.7)
    assert [c.name for c in plain.criteria] == ["i", "ii", "iii"]
    assert [c.name for c in described.criteria] == ["i", "ii", "iii", "iv"]
    assert "events" not in str(plain)  # events do not apply to a measured value


def test_numpy_numbers_are_taken_and_text_or_nan_is_refused_by_name():
    import numpy as np

    need = ma.sample_size.binary(parameters=np.int64(24), prevalence=np.float64(0.174),
                                 r2_cs=np.float32(0.288))  # fmt: skip
    assert need.n == 662
    for call, says in [
        (lambda: ma.sample_size.binary(parameters=24, prevalence=0.174, r2_cs="0.288"),
         "r2_cs must be a finite number; got '0.288'"),
        (lambda: ma.sample_size.validation(prevalence=0.1, c_statistic=0.8, lp_mean="-5",
                                           lp_sd=1), "lp_mean must be a finite number; got '-5'"),
        (lambda: ma.sample_size.validation(prevalence=0.1, c_statistic=0.8,
                                           lp_mean=float("nan"), lp_sd=1),
         "lp_mean must be a finite number; got nan"),
        (lambda: ma.sample_size.validation(prevalence=0.1, c_statistic=0.8, lp_mean=-2,
                                           lp_sd=float("inf")),
         "lp_sd must be a finite number; got inf"),
        (lambda: ma.sample_size.continuous(parameters=5, r2=0.2, mean="3", sd=1),
         "mean must be a finite number; got '3'"),
    ]:  # fmt: skip
        with pytest.raises(ConfigError) as error:
            call()
        assert str(error.value) == says
    with pytest.raises(ConfigError, match=r"^no realistic number of patients gives these"):
        ma.sample_size.validation(prevalence=0.1, c_statistic=0.8, lp_mean=-2, lp_sd=1,
                                  c_width=1e-6)  # fmt: skip


def test_a_sample_size_of_a_million_or_more_is_not_printed_as_a_precise_number():
    """70,741 parameters (a full fine-tune) printed "12,595,793 patients (629789.7 events..."."""
    huge = ma.sample_size.binary(parameters=70741, prevalence=0.05)
    assert huge.n > 1_000_000
    assert str(huge).startswith("a million or more patients, set by criterion")

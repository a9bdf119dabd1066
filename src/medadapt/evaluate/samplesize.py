"""How many patients are enough, the way clinical statisticians answer it.

Development (Riley et al., Stat Med 2019;38:1276-96, part II, binary outcomes; BMJ
2020;368:m441): the minimum n such that

(i)   the expected uniform shrinkage of the predictor effects is >= ``shrinkage`` (0.9):
      ``n = p / ((S - 1) ln(1 - R2cs / S))``;
(ii)  the optimism in Nagelkerke's R-squared is <= ``optimism`` (0.05): criterion (i) with
      ``S_VH = R2cs / (R2cs + optimism * max_R2cs)``, where
      ``max_R2cs = 1 - (phi^phi (1 - phi)^(1 - phi))^2``;
(iii) the overall risk is estimated within +-``margin`` (0.05):
      ``n = (1.96 / margin)^2 phi (1 - phi)``;
(iv)  the mean absolute prediction error is <= ``mape`` (van Smeden et al., Stat Methods Med
      Res 2019;28:2455-74, the formula Riley et al. 2020 cite):
      ``ln MAPE = -0.508 + 0.259 ln phi + 0.504 ln p - 0.544 ln n``.

External validation (Riley et al., Stat Med 2021;40:4230-51, binary outcomes): the n that
gives a 95% confidence interval of the target width for

* the observed/expected ratio: ``var(ln O/E) = (1 - phi) / (n phi)``;
* the calibration slope: the inverse Fisher information of the logistic calibration model
  ``logit p = a + b LP`` at a = 0, b = 1, over the distribution of the linear predictor LP;
* the C-statistic: Newcombe's (2006) variance of the C-statistic.

The linear predictor's distribution must agree with the anticipated prevalence and
C-statistic (Riley et al. 2021; pmvalsampsize's ``lpcstat``): where none is given, it is the
Normal(mu, sigma) whose calibrated model has both, ``E[expit(LP)] = prevalence`` and the
C-statistic of LP among events against non-events ``= C`` (:func:`lp_distribution`).

``p`` (``parameters``) counts predictor parameters, as Riley et al. do: the coefficients whose
shrinkage criteria (i) and (ii) bound, not the intercept, which every model of the outcome has
(for a network, its output layer's bias:
:func:`~medadapt.evaluate.samplesize_parameters.predictor_parameters` leaves it out).

Every n is rounded up (a sample size is a whole number of patients, and at least the bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from medadapt.auroc_interval import newcombe_variance

Z = 1.96  # the papers' normal quantile for 95% intervals


@dataclass(frozen=True)
class Criterion:
    """One criterion's minimum sample size (patients, events, events per parameter)."""

    name: str
    description: str
    n: int
    events: float
    per_parameter: float | None
    exact: float  # before rounding up

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "n": self.n,
                "events": None if math.isnan(self.events) else round(self.events, 1),
                "events_per_parameter": None if self.per_parameter is None
                else round(self.per_parameter, 2), "exact": self.exact}  # fmt: skip


def make_criterion(name: str, description: str, exact: float, prevalence: float,
               parameters: int | None) -> Criterion:  # fmt: skip
    n = math.ceil(exact - 1e-9)
    events = n * prevalence
    per = None if not parameters else events / parameters
    return Criterion(name, description, n, events, per, exact)


def max_cox_snell(prevalence: float) -> float:
    """The largest Cox-Snell R-squared a binary outcome with this prevalence allows."""
    phi = prevalence
    log_likelihood = phi * math.log(phi) + (1 - phi) * math.log(1 - phi)  # per patient
    return 1 - math.exp(2 * log_likelihood)


def rare_outcome_note(prevalence: float, margin: float = 0.05) -> str | None:
    """Why criterion (iii)'s absolute ``margin`` says little of the risk where it is large
    against the risk itself (more than :data:`MARGIN_AGAINST_RISK` of the prevalence: below a
    prevalence of 0.1 at the default 0.05); None where the margin is small against the risk.

    >>> rare_outcome_note(0.05, margin=0.005) is None  # a tenth of the risk: a real margin
    True
    """
    against_risk = margin / prevalence
    if against_risk <= MARGIN_AGAINST_RISK:
        return None
    return (f"criterion (iii) estimates the overall risk within +-{margin:g}, a margin "
            f"{against_risk:.1f} times the risk itself at a prevalence of {prevalence:.3f}: "
            "even when met, it leaves that risk uncertain relative to its size")  # fmt: skip


MARGIN_AGAINST_RISK = 0.5
"""Criterion (iii)'s margin more than this share of the risk itself earns the caveat of
:func:`rare_outcome_note` (at the default margin 0.05: a prevalence below 0.1)."""


def prevalence_interval(events: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a prevalence of ``events`` in ``n`` patients (scipy's
    ``binomtest(...).proportion_ci``): inside (0, 1) for 0 < events < n, and sensible for a
    handful of events, where the normal approximation's is not.

    >>> [round(end, 4) for end in prevalence_interval(3, 200)]
    [0.0051, 0.0432]
    """
    from scipy.stats import binomtest

    if not 0 <= events <= n or n < 1:
        raise ValueError(f"events must be from 0 to n (n at least 1); got {events=}, {n=}")
    interval = binomtest(events, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(interval.low), float(interval.high)


def shrinkage_n(parameters: int, r2_cs: float, shrinkage: float) -> float:
    return parameters / ((shrinkage - 1) * math.log(1 - r2_cs / shrinkage))


def development(
    *, parameters: int, prevalence: float, r2_cs: float, shrinkage: float = 0.9,
    optimism: float = 0.05, margin: float = 0.05, mape: float | None = None,
) -> list[Criterion]:  # fmt: skip
    """Riley et al.'s development criteria for a binary outcome (see the module docstring)
    for ``parameters`` predictor parameters (the intercept not among them); (iv) only when a
    ``mape`` target is given (pmsampsize, and the published examples, use (i)-(iii))."""
    _check_fraction(prevalence, "prevalence")
    if not 0 < r2_cs < max_cox_snell(prevalence):
        raise ValueError(
            f"the anticipated Cox-Snell R-squared must be in (0, {max_cox_snell(prevalence):.3f}) "
            f"for a prevalence of {prevalence:g}; got {r2_cs:g}"
        )
    if parameters < 1:
        raise ValueError(f"parameters must be at least 1; got {parameters}")
    s_vh = r2_cs / (r2_cs + optimism * max_cox_snell(prevalence))
    out = [
        make_criterion("i", f"expected shrinkage >= {shrinkage:g}",
                   shrinkage_n(parameters, r2_cs, shrinkage), prevalence, parameters),
        make_criterion("ii", f"optimism in Nagelkerke R-squared <= {optimism:g}",
                   shrinkage_n(parameters, r2_cs, s_vh), prevalence, parameters),
        make_criterion("iii", f"overall risk within +-{margin:g}",
                   (Z / margin) ** 2 * prevalence * (1 - prevalence), prevalence, parameters),
    ]  # fmt: skip
    if mape is not None:
        log_n = (-0.508 + 0.259 * math.log(prevalence) + 0.504 * math.log(parameters)
                 - math.log(mape)) / 0.544  # fmt: skip
        out.append(make_criterion("iv", f"mean absolute prediction error <= {mape:g}",
                              math.exp(log_n), prevalence, parameters))  # fmt: skip
    return out


def binding(criteria: list[Criterion]) -> Criterion:
    """The criterion that needs the most patients (the minimum sample size overall)."""
    return max(criteria, key=lambda c: c.n)


def cox_snell_from_c(c_statistic: float, prevalence: float) -> float:
    """The Cox-Snell R-squared a model with this C-statistic implies, when no R-squared is
    known (the approach of Riley et al. 2021's conversion): the linear predictor is normal
    with a common variance among events and non-events, separated so that the C-statistic is
    ``c_statistic``; the R-squared is the likelihood-ratio one of the calibrated model on it
    (expectations by Gauss-Hermite quadrature, not simulation)."""
    separation = math.sqrt(2) * _normal_quantile(c_statistic)
    x, w = _nodes()
    n_event, n_none = prevalence, 1 - prevalence
    total = 0.0
    for mean, weight, outcome in ((separation / 2, n_event, 1), (-separation / 2, n_none, 0)):
        lp = mean + x
        # the log odds of the outcome given LP (normal LPs with unit variance in each group)
        log_odds = separation * lp + math.log(n_event / n_none)
        log_p = -np.logaddexp(0, -log_odds) if outcome else -np.logaddexp(0, log_odds)
        total += weight * float(np.sum(w * log_p))
    null = n_event * math.log(n_event) + n_none * math.log(n_none)
    return 1 - math.exp(2 * (null - total))


def c_from_cox_snell(r2_cs: float, prevalence: float) -> float:
    """The C-statistic whose implied Cox-Snell R-squared (:func:`cox_snell_from_c`) is
    ``r2_cs``: the inverse of that conversion (it grows with the C-statistic)."""
    top = 1 - 1e-9
    if r2_cs >= cox_snell_from_c(top, prevalence):
        return top
    return float(optimize.brentq(lambda c: cox_snell_from_c(c, prevalence) - r2_cs, 0.5, top,
                                 xtol=1e-10))  # fmt: skip


# ----- external validation ---------------------------------------------------------------------
def validation(
    *, prevalence: float, c_statistic: float, lp_mean: float | None = None,
    lp_sd: float | None = None, oe_width: float = 0.2, slope_width: float = 0.2,
    c_width: float = 0.1,
) -> list[Criterion]:  # fmt: skip
    """Riley et al. 2021's criteria for validating a model at a new site, for a linear
    predictor distributed Normal(``lp_mean``, ``lp_sd``) there (see the module docstring);
    without them, the one that agrees with the prevalence and C-statistic
    (:func:`lp_distribution`)."""
    _check_fraction(prevalence, "prevalence")
    _check_fraction(c_statistic, "C-statistic")
    if lp_mean is None or lp_sd is None:
        lp_mean, lp_sd = lp_distribution(prevalence, c_statistic)
    se_oe = math.asinh(oe_width / 2) / Z  # the interval exp(+-Z se) around O/E = 1
    x, w = _nodes()
    lp = lp_mean + lp_sd * x
    p = special.expit(lp)  # no overflow at the far tails of a wide LP (C-statistic 0.999)
    weight = w * p * (1 - p)  # Fisher information of logit p = a + b LP, per patient
    info = np.array([[np.sum(weight), np.sum(weight * lp)],
                     [np.sum(weight * lp), np.sum(weight * lp * lp)]])  # fmt: skip
    slope_variance_one = float(np.linalg.inv(info)[1, 1])  # var of the slope for n = 1
    se_slope, se_c = slope_width / (2 * Z), c_width / (2 * Z)
    n_c = optimize.brentq(lambda n: _c_statistic_se(c_statistic, prevalence, n) - se_c, 2, 1e9)
    return [
        make_criterion("O/E", f"observed/expected ratio, 95% CI width {oe_width:g}",
                   (1 - prevalence) / (prevalence * se_oe**2), prevalence, None),
        make_criterion("slope", f"calibration slope, 95% CI width {slope_width:g}",
                   slope_variance_one / se_slope**2, prevalence, None),
        make_criterion("C", f"C-statistic, 95% CI width {c_width:g}", n_c, prevalence, None),
    ]  # fmt: skip


def lp_distribution(prevalence: float, c_statistic: float) -> tuple[float, float]:
    """The mean and SD of the normal linear predictor (log-odds) of a calibrated model with
    this prevalence and C-statistic: ``E[expit(LP)] = prevalence`` and, with events drawn
    in proportion to ``expit(LP)``, the probability that an event's LP exceeds a non-event's
    is ``c_statistic`` (Riley et al. 2021's consistency condition; solved on a fine grid, the
    mean for each SD by root finding, then the SD, within :data:`LP_SD_RANGE`). A
    C-statistic that no SD there reaches raises ValueError saying which end it passes."""
    _check_fraction(prevalence, "prevalence")
    if not 0.5 < c_statistic < 1:
        raise ValueError(f"the C-statistic must be in (0.5, 1); got {c_statistic:g}")

    def mean_for(sd: float) -> float:
        reach = 40 + 12 * sd  # wide enough for any prevalence in (1e-17, 1 - 1e-17)
        return float(optimize.brentq(lambda mu: _lp_figures(mu, sd)[0] - prevalence, -reach,
                                     reach, xtol=1e-12))  # fmt: skip

    def c_at(sd: float) -> float:
        return _lp_figures(mean_for(sd), sd)[1]

    narrowest, widest = LP_SD_RANGE
    if c_statistic <= c_at(narrowest):
        raise ValueError(_unreached(c_statistic, prevalence, f"below {narrowest:g}"))
    if c_statistic >= c_at(widest):
        raise ValueError(_unreached(c_statistic, prevalence, f"above {widest:g}"))
    sd = optimize.brentq(lambda s: c_at(s) - c_statistic, narrowest, widest, xtol=1e-12,
                         rtol=1e-10)  # fmt: skip
    return mean_for(sd), float(sd)


def _unreached(c_statistic: float, prevalence: float, end: str) -> str:
    """Why no linear predictor is derived: the SD it needs lies beyond ``end`` of
    :data:`LP_SD_RANGE` ("below 1e-06": a C-statistic too near 0.5; "above 100": too near 1)."""
    narrowest, widest = LP_SD_RANGE
    return (f"no normal linear predictor with an SD from {narrowest:g} to {widest:g} has a "
            f"C-statistic of {c_statistic:.10g} at a prevalence of {prevalence:g} (its SD would "
            f"be {end})")  # fmt: skip


LP_SD_RANGE = (1e-6, 100.0)
"""The SDs :func:`lp_distribution` searches: C-statistics from about 0.5 + 2.8e-7 (near 0.5
the C-statistic exceeds it by 0.282 times the SD) to about 0.9999."""


_GRID = np.linspace(-9, 9, 6001)  # standard normal points for :func:`_lp_figures`
_GRID_WEIGHT = np.exp(-(_GRID**2) / 2) / np.exp(-(_GRID**2) / 2).sum()


def _lp_figures(mean: float, sd: float) -> tuple[float, float]:
    """The prevalence and C-statistic of a calibrated model whose LP is Normal(mean, sd)."""
    p = special.expit(mean + sd * _GRID)  # increasing along the grid: ranks are its order
    events, none = _GRID_WEIGHT * p, _GRID_WEIGHT * (1 - p)
    prevalence = float(events.sum())
    below = np.cumsum(none) - none  # non-events with a lower LP; ties count half
    pairs = prevalence * (1 - prevalence)
    c = float(np.sum(events * (below + none / 2)) / pairs) if pairs > 0 else 0.5
    return prevalence, c


def _c_statistic_se(c: float, prevalence: float, n: float) -> float:
    """Newcombe's standard error of the C-statistic for n patients."""
    return math.sqrt(newcombe_variance(c, n * prevalence, n * (1 - prevalence)))


def _nodes(order: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and weights for the expectation over a standard normal."""
    x, w = np.polynomial.hermite_e.hermegauss(order)
    return x, w / w.sum()


def _normal_quantile(q: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(q))


def _check_fraction(value: float, what: str) -> None:
    if not 0 < value < 1:
        raise ValueError(f"the {what} must be in (0, 1); got {value:g}")

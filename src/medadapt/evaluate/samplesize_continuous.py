"""Minimum sample size to develop a model of a continuous outcome (Riley et al., Stat Med
2019;38:1262-75, part I; BMJ 2020;368:m441), for ``p`` predictor parameters (the intercept, the
mean outcome at mean predictors, is not one of them) and an anticipated adjusted R-squared
``R2``:

(i)   expected shrinkage >= ``shrinkage`` (0.9): the smallest n from which on
      ``S = 1 + (p - 2) / (n ln(1 - R2_app))`` stays at least that, where the apparent
      R-squared is ``R2_app = (R2 (n - p - 1) + p) / (n - 1)``. S is not monotone: just above
      n = p + 1 the apparent R-squared nears 1 and S comes back up (past 0.9 once p is in the
      ten thousands), an artefact of fitting as many parameters as patients; the search
      starts where S is lowest, so that such an n is never the answer;
(ii)  optimism ``R2_app - R2 <= optimism`` (0.05): ``n = 1 + p (1 - R2) / optimism``;
(iii) the residual standard deviation within a multiplicative margin of error ``mmoe`` (1.1):
      the smallest n whose 95% interval for the SD, ``sqrt(df / chi2_{0.025, df})`` with
      ``df = n - p - 1``, is at most ``mmoe``;
(iv)  the mean outcome (the intercept at mean predictors) within the same margin: the
      smallest n with ``t_{0.975, n-p-1} sqrt(sd^2 (1 - R2) / n) <= (mmoe - 1) |intercept|``;
      only when the intercept and the outcome's SD are given. It is left out where the mean
      lies within one SD of 0 and the outcome's values lie on both sides of 0 (a centred
      score, a change from baseline): there a margin proportional to the mean is no clinical
      margin and asks for absurd numbers (mean 0.01, SD 1: 2.7 million), and
      :func:`mean_criterion_note` says why. An outcome of one sign keeps it however skewed
      (a length of stay of mean 5, SD 6: 10% of the mean is a real margin); where the signs
      are not known, values on both sides are assumed.

Every n is rounded up to a whole patient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from medadapt.evaluate.samplesize import Criterion


@dataclass(frozen=True)
class InterceptInterval:
    """The 95% interval of the mean outcome at a sample size (pmsampsize reports it)."""

    n: int
    low: float
    high: float


def _expected_shrinkage(n: int, parameters: int, r2: float) -> float:
    r2_app = (r2 * (n - parameters - 1) + parameters) / (n - 1)
    return 1 + (parameters - 2) / (n * math.log(1 - r2_app))


def _lowest_shrinkage(parameters: int, r2: float) -> int:
    """The n (>= p + 2) where the expected shrinkage is lowest: it falls from n = p + 2, then
    rises towards 1 (golden-section search over n; at most one dip)."""
    low, high = parameters + 2, 64 * (parameters + 2)
    while high - low > 2:
        left, right = low + (high - low) // 3, high - (high - low) // 3
        if _expected_shrinkage(left, parameters, r2) <= _expected_shrinkage(right, parameters, r2):
            high = right
        else:
            low = left
    return min(range(low, high + 1), key=lambda n: _expected_shrinkage(n, parameters, r2))


def _smallest(first: int, ok) -> int:
    """The smallest integer n >= ``first`` with ``ok(n)`` (``ok`` is monotone)."""
    high = max(first, 2)
    while not ok(high):
        high *= 2
    low = first
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if ok(middle) else (middle + 1, high)
    return low


def _item(name: str, description: str, n: int) -> Criterion:
    return Criterion(name, description, n, float("nan"), None, float(n))


def development_continuous(
    *, parameters: int, r2: float, shrinkage: float = 0.9, optimism: float = 0.05,
    mmoe: float = 1.1, intercept: float | None = None, sd: float | None = None,
    crosses_zero: bool | None = None,
) -> list[Criterion]:  # fmt: skip
    """Riley et al.'s criteria (i)-(iv) for a continuous outcome (see the module docstring;
    ``crosses_zero``: whether the outcome's values lie on both sides of 0, None: not known).
    Events do not apply: each criterion's ``events`` is NaN and ``per_parameter`` None."""
    if not 0 < r2 < 1:
        raise ValueError(f"the anticipated R-squared must be in (0, 1); got {r2:g}")
    if parameters < 1:
        raise ValueError(f"parameters must be at least 1; got {parameters}")
    p = parameters
    n1 = _smallest(_lowest_shrinkage(p, r2), lambda n: _expected_shrinkage(n, p, r2) >= shrinkage)
    n2 = math.ceil(1 + p * (1 - r2) / optimism - 1e-9)
    n3 = _smallest(p + 2, lambda n: _sd_ratio(n - p - 1) <= mmoe)
    out = [
        _item("i", f"expected shrinkage >= {shrinkage:g}", n1),
        _item("ii", f"optimism in R-squared <= {optimism:g}", n2),
        _item("iii", f"residual SD within a factor {mmoe:g}", n3),
    ]
    if (
        intercept is not None
        and sd is not None
        and not mean_criterion_note(intercept, sd, mmoe, crosses_zero=crosses_zero)
    ):
        allowed = (mmoe - 1) * abs(intercept)
        n4 = _smallest(p + 2, lambda n: _half_width(n, p, r2, sd) <= allowed)
        out.append(_item("iv", f"mean outcome within a factor {mmoe:g}", n4))
    return out


def mean_criterion_note(
    mean: float, sd: float, mmoe: float = 1.1, *, crosses_zero: bool | None = None
) -> str | None:
    """Why criterion (iv) is not applied to an outcome of this ``mean`` and ``sd``: the mean
    lies within one SD of 0 and the values lie on both sides of 0 (``crosses_zero``; None:
    not known, taken as so), where a margin of ``mmoe - 1`` of the mean is no clinical
    margin; None where (iv) applies (an outcome of one sign, or a mean far from 0).

    >>> mean_criterion_note(5.0, 6.0, crosses_zero=False) is None  # a length of stay
    True
    """
    if crosses_zero is False and mean == 0:  # values of one sign (and not all 0) never are
        raise ValueError("an outcome whose values lie on one side of 0 has a mean away from "
                         "0; got mean 0 with crosses_zero=False")  # fmt: skip
    if abs(mean) >= sd or crosses_zero is False:
        return None
    margin = f"a margin of {(mmoe - 1) * 100:.3g}% of the mean is no clinical margin"
    if crosses_zero:
        return (f"the outcome's values lie on both sides of 0 and its mean within one SD of "
                f"0 (mean {mean:.3g}, SD {sd:.3g}): {margin}; criterion (iv) not "
                "applied")  # fmt: skip
    return (f"the outcome's mean lies within one SD of 0 (mean {mean:.3g}, SD {sd:.3g}) and "
            f"its values may lie on both sides of 0: {margin}; criterion (iv) not applied "
            "(crosses_zero=False applies it to an outcome that is never negative)")  # fmt: skip


def _sd_ratio(df: int) -> float:
    return math.sqrt(df / stats.chi2.ppf(0.025, df))


def _half_width(n: int, parameters: int, r2: float, sd: float) -> float:
    return float(stats.t.ppf(0.975, n - parameters - 1)) * math.sqrt(sd**2 * (1 - r2) / n)


def intercept_interval(n: int, *, parameters: int, r2: float, intercept: float,
                       sd: float) -> InterceptInterval:  # fmt: skip
    """The 95% interval of the mean outcome with ``n`` patients."""
    half = _half_width(n, parameters, r2, sd)
    return InterceptInterval(n, intercept - half, intercept + half)


def shrinkage_at(n: int, *, parameters: int, r2: float) -> float:
    """The expected shrinkage with ``n`` patients (pmsampsize prints it per criterion)."""
    return _expected_shrinkage(n, parameters, r2)

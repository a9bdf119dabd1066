"""The analytic 95 % interval of an observed/expected (O/E) events ratio.

A percentile bootstrap of O/E resamples outcomes together with their predicted risks; where
risks track the outcomes closely, few patients give a narrow interval: 15 patients, 12 with
the outcome, gave 1.02-1.28 and the verdict "too few events predicted" on a gap of 1.6 events.
The interval Riley et al. use for external validation (Stat Med 2021;40:4230-51; Debray et al.,
BMJ 2017;356:i6460), ``exp(ln(O/E) +- 1.96 sqrt((1 - O/N) / O))`` for ``O`` events among ``N``
patients, gives 0.90-1.49 there. medadapt reports the wider of the two, bound by bound, as for
AUROC (:mod:`medadapt.auroc_interval`).

>>> [round(v, 3) for v in oe_interval(12, 10.2, 15)]
[0.913, 1.515]
"""

from __future__ import annotations

import math

from medadapt.auroc_interval import Z95, wider_of

#: the exact (Garwood) 97.5 % upper limit of a Poisson count of 0: chi2(0.975, 2) / 2
ZERO_EVENTS_UPPER = -math.log(0.025)


def oe_interval(observed: int, expected: float, n: int) -> list[float] | None:
    """Riley et al.'s 95 % interval of ``observed / expected`` (at ``observed == n`` it has no
    width). Without events its logarithm is undefined and every resample's O/E is 0, which
    would claim "the interval excludes 1" from one count of zero: the exact Poisson interval
    of 0 events, 0 to 3.689, divided by ``expected``, is taken instead (0 observed against
    3.2 expected: 0 to 1.15, which includes 1).

    >>> [round(v, 3) for v in oe_interval(0, 3.2, 68)]
    [0.0, 1.153]
    """
    if expected <= 0 or n <= 0:
        return None
    if observed <= 0:
        return [0.0, ZERO_EVENTS_UPPER / expected]
    ratio = observed / expected
    half = Z95 * math.sqrt(max(1 - observed / n, 0.0) / observed)
    return [ratio * math.exp(-half), ratio * math.exp(half)]


def widened_oe(bootstrap: list[float] | None, observed: int, expected: float,
               n: int) -> list[float] | None:  # fmt: skip
    """The wider of the bootstrap's interval and :func:`oe_interval` (:func:`wider_of`).
    With events observed, a lower bound of 0 is the bootstrap's resamples that drew none (2
    events among 12 patients: 11 % of them), not a ratio the data allow: the exact (Garwood)
    lower limit of the count, over ``expected``, is taken there (a trial's 2 observed against
    1.4 expected read "1.409 (0.000-4.993)"; now 0.173-5.062, Riley's upper bound the wider).

    >>> [round(v, 3) for v in widened_oe([0.0, 4.993], 2, 1.4, 12)]
    [0.173, 5.062]
    """
    interval = wider_of(bootstrap, oe_interval(observed, expected, n))
    if interval is None or observed <= 0 or interval[0] > 0:
        return interval
    from scipy import stats

    return [float(stats.chi2.ppf(0.025, 2 * observed)) / 2 / expected, interval[1]]

"""A 95 % interval for AUROC that holds its promise on few patients.

The percentile bootstrap of AUROC runs narrow on small test sets: in
``bench/bench_intervals.py`` its nominal 95 % interval held the true AUROC in 87 % of test
sets of 12 patients (several rows each) and 92 % of 16 (one row each). Newcombe's score
interval (Stat Med 2006;25:559-73, "Confidence intervals for an effect size measure based on
the Mann-Whitney statistic. Part 2", method 5) held it in 93-97 % at every size measured,
but it assumes one score distribution shape (Hanley and McNeil's), where the bootstrap reads
the data. medadapt reports the wider of the two, bound by bound: 96-98 % coverage on small
sets, 4-7 % wider (``bench/BENCHMARKS.md``).
Two classes only: a several-class AUROC (the mean of one-vs-rest) keeps its bootstrap.

Newcombe's variance of an AUROC ``c`` estimated on ``m`` patients with the outcome and ``n``
without replaces both group sizes in Hanley and McNeil's formula by their mean ``N*``:

    V(c) = c (1 - c) [1 + (N* - 1) (1 - c) / (2 - c) + (N* - 1) c / (1 + c)] / (m n),
    N* = (m + n) / 2

``m`` and ``n`` count patients (rows where no patient is named; a patient with rows of both
outcomes counts in both, so the interval is then a little narrower than it should be), and
the interval is every ``c`` with ``(estimate - c)^2 <= z^2 V(c)`` (as Wilson's interval
is for a proportion): never outside [0, 1], and not of zero width at 1.0. Riley et al.'s
validation sample size (Stat Med 2021;40:4230-51) uses the same variance
(:mod:`medadapt.evaluate.samplesize`).
"""

from __future__ import annotations

from scipy import optimize

Z95 = 1.959963984540054  # the normal's 97.5th percentile
_EDGE = 1e-12
_NEAR = 1e-9


def newcombe_variance(c: float, positives: float, negatives: float) -> float:
    """Newcombe's variance of an AUROC ``c`` on ``positives`` and ``negatives`` patients."""
    less_one = (positives + negatives) / 2 - 1
    spread = 1 + less_one * (1 - c) / (2 - c) + less_one * c / (1 + c)
    return c * (1 - c) * spread / (positives * negatives)


def score_interval(estimate: float, positives: int, negatives: int) -> list[float]:
    """Newcombe's 95 % score interval of an AUROC ``estimate`` (method 5)."""

    def outside(c: float) -> float:  # > 0 where c lies outside the interval
        return (estimate - c) ** 2 - Z95**2 * newcombe_variance(c, positives, negatives)

    # searched strictly inside (estimate itself is a root at 0 or 1, where the variance is 0)
    below, above = max(estimate - _NEAR, _EDGE), min(estimate + _NEAR, 1 - _EDGE)
    low = 0.0 if outside(_EDGE) <= 0 else optimize.brentq(outside, _EDGE, below)
    high = 1.0 if outside(1 - _EDGE) <= 0 else optimize.brentq(outside, above, 1 - _EDGE)
    return [float(low), float(high)]


def wider_of(bootstrap: list[float] | None, analytic: list[float] | None) -> list[float] | None:
    """The wider of a bootstrap interval and an analytic one, bound by bound; the bootstrap's
    alone without an analytic one, and None stays None (a bootstrap that could not give an
    interval says why in a note)."""
    if bootstrap is None or analytic is None:
        return bootstrap
    return [min(bootstrap[0], analytic[0]), max(bootstrap[1], analytic[1])]


def widened(bootstrap: list[float] | None, estimate: float, positives: int,
            negatives: int) -> list[float] | None:  # fmt: skip
    """The wider of the bootstrap's interval and Newcombe's (:func:`wider_of`)."""
    if bootstrap is None:
        return None
    return wider_of(bootstrap, score_interval(estimate, positives, negatives))

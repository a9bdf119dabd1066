"""The analytic 95 % interval of an observed/expected (O/E) events ratio.

A percentile bootstrap of O/E resamples outcomes together with their predicted risks; where
risks track the outcomes closely, few patients give a narrow interval: 15 patients, 12 with
the outcome, gave 1.02-1.28 and the verdict "too few events predicted" on a gap of 1.6 events.
The interval Riley et al. use for external validation (Stat Med 2021;40:4230-51; Debray et al.,
BMJ 2017;356:i6460), ``exp(ln(O/E) +- 1.96 sqrt((1 - O/N) / O))`` for ``O`` events among ``N``
patients, gives 0.90-1.49 there. medadapt reports the wider of the two, bound by bound, as for
AUROC (:mod:`medadapt.evaluate.auroc_interval`).

>>> [round(v, 3) for v in oe_interval(12, 10.2, 15)]
[0.913, 1.515]
"""

from __future__ import annotations

import math

from medadapt.evaluate.auroc_interval import Z95, wider_of


def oe_interval(observed: int, expected: float, n: int) -> list[float] | None:
    """Riley et al.'s 95 % interval of ``observed / expected`` (None without events: the
    logarithm is undefined; at ``observed == n`` it has no width)."""
    if observed <= 0 or expected <= 0 or n <= 0:
        return None
    ratio = observed / expected
    half = Z95 * math.sqrt(max(1 - observed / n, 0.0) / observed)
    return [ratio * math.exp(-half), ratio * math.exp(half)]


def widened_oe(bootstrap: list[float] | None, observed: int, expected: float,
               n: int) -> list[float] | None:  # fmt: skip
    """The wider of the bootstrap's interval and :func:`oe_interval` (:func:`wider_of`)."""
    return wider_of(bootstrap, oe_interval(observed, expected, n))

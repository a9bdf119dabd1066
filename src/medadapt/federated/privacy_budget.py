"""The privacy budget of a federated run with differential privacy, and who it protects.

Flower's server-side fixed clipping (``--dp-clip C --dp-noise z``) clips each site's update to
norm C and adds Gaussian noise of standard deviation z·C to their sum (z·C/n to the average
of n sites): each round is a Gaussian mechanism of noise multiplier z on the sites' updates,
for adding or removing one site (as DP-FedAvg counts it, McMahan et al., ICLR 2018). Every
site takes part in every round (no sampling), so R rounds compose exactly to μ-Gaussian
differential privacy with μ = √R / z (Dong, Roth and Su, "Gaussian differential privacy",
JRSS-B 2022, Corollary 3.3), whose (ε, δ) curve is

    δ(ε) = Φ(−ε/μ + μ/2) − e^ε · Φ(−ε/μ − μ/2)       (ibid., Corollary 2.13)

solved here for ε at :data:`DELTA`. The unit protected is a whole site (all its patients'
contribution to an update), not one patient within it: a patient is protected at least as
well, but the figure says nothing finer.
"""

from __future__ import annotations

import math

from scipy.optimize import brentq
from scipy.stats import norm

DELTA = 1e-5
"""The δ the ε is given at (far below 1 over the number of sites of any federation)."""

WEAK_EPSILON = 10.0
"""Above this ε the guarantee promises little (it bounds a likelihood ratio by e^10)."""


def gaussian_mu(noise_multiplier: float, rounds: int) -> float:
    """μ of ``rounds`` Gaussian mechanisms of ``noise_multiplier``, composed."""
    return math.sqrt(rounds) / noise_multiplier


def delta_of(epsilon: float, mu: float) -> float:
    """δ(ε) of μ-Gaussian differential privacy, its second term in log space: e^ε overflows
    past ε ≈ 709, which a small --dp-noise reaches (a review: 0.1 over 10 rounds ended the
    run in an OverflowError)."""
    above = norm.cdf(-epsilon / mu + mu / 2)
    below = math.exp(min(epsilon + norm.logcdf(-epsilon / mu - mu / 2), 700.0))
    return float(above - below)


def epsilon_of(noise_multiplier: float, rounds: int, delta: float = DELTA) -> float:
    """The smallest ε with δ(ε) ≤ ``delta`` after ``rounds`` rounds at ``noise_multiplier``.

    >>> round(epsilon_of(3.73, 1), 2)  # sigma 3.73 gives (1, 1e-5) (Balle & Wang, ICML 2018)
    1.0
    >>> epsilon_of(5.0, 10) < epsilon_of(1.0, 10) < epsilon_of(0.5, 10)
    True
    """
    mu = gaussian_mu(noise_multiplier, rounds)
    if delta_of(0.0, mu) <= delta:
        return 0.0
    high = 1.0
    while delta_of(high, mu) > delta:
        high *= 2
    return float(brentq(lambda e: delta_of(e, mu) - delta, 0.0, high, xtol=1e-6))


def privacy_words(noise_multiplier: float, rounds: int) -> str:
    """What the run's differential privacy guarantees, in words: ε at :data:`DELTA`, who it
    protects, and whether it promises little.

    >>> print(privacy_words(0.5, 3))  # doctest: +NORMALIZE_WHITESPACE
    the guarantee covers each site as a whole (its updates), not one patient within it: epsilon
    20.1 at delta 1e-05 over the 3 rounds (an epsilon above 10 promises little: a larger
    --dp-noise, or fewer rounds, lowers it)
    """
    epsilon = epsilon_of(noise_multiplier, rounds)
    weak = (
        f" (an epsilon above {WEAK_EPSILON:g} promises little: a larger --dp-noise, or fewer "
        "rounds, lowers it)"
        if epsilon > WEAK_EPSILON
        else ""
    )
    return (
        "the guarantee covers each site as a whole (its updates), not one patient within it: "
        f"epsilon {epsilon:.3g} at delta {DELTA:g} over the {rounds} "
        f"{'round' if rounds == 1 else 'rounds'}{weak}"
    )

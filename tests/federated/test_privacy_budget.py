"""The epsilon a federated run's differential privacy gives, against published figures."""

from __future__ import annotations

import math

import pytest
from scipy.stats import norm

from medadapt.federated.privacy_budget import DELTA, delta_of, epsilon_of, gaussian_mu


def test_one_round_matches_the_analytic_gaussian_mechanism():
    """Balle & Wang (ICML 2018): sigma 3.73 calibrates one Gaussian release of sensitivity 1
    to (1, 1e-5), where the classical bound needs 4.84."""
    assert epsilon_of(3.73, 1) == pytest.approx(1.0, abs=0.01)
    classical = math.sqrt(2 * math.log(1.25 / DELTA)) / 1.0  # sigma for epsilon 1
    assert classical == pytest.approx(4.84, abs=0.01) and epsilon_of(classical, 1) < 1.0


def test_rounds_compose_as_one_gaussian_of_sigma_over_root_rounds():
    """R rounds at z are one release at z / sqrt(R) (Dong, Roth and Su, Corollary 3.3)."""
    assert epsilon_of(2.0, 16) == pytest.approx(epsilon_of(0.5, 1), rel=1e-6)
    assert gaussian_mu(2.0, 16) == 2.0


def test_delta_at_the_epsilon_found_is_the_delta_asked_for():
    mu = gaussian_mu(1.2, 5)
    epsilon = epsilon_of(1.2, 5)
    assert delta_of(epsilon, mu) == pytest.approx(DELTA, rel=1e-3)
    written_out = norm.cdf(-epsilon / mu + mu / 2) - math.exp(epsilon) * norm.cdf(
        -epsilon / mu - mu / 2
    )  # Dong, Roth and Su, Corollary 2.13
    assert written_out == pytest.approx(DELTA, rel=1e-3)


def test_a_private_run_records_its_budget_beside_its_flags(tmp_path):
    """A trial's federated.json held --dp-clip and --dp-noise but no epsilon."""
    from medadapt.federated.config import FederatedRun
    from medadapt.federated.results import _config

    run = FederatedRun(base_dir=tmp_path, data=tmp_path / "d.csv", sites=("A", "B"), rounds=3,
                       label="y", group_column="site",
                       clipping_norm=1.0, noise_multiplier=0.5)  # fmt: skip
    privacy = _config(run)["privacy"]
    assert privacy["epsilon"] == round(epsilon_of(0.5, 3), 3) and privacy["delta"] == DELTA
    assert privacy["words"].endswith("(an epsilon above 10 promises little: a larger "
                                     "--dp-noise, or fewer rounds, lowers it)")  # fmt: skip
    assert "privacy" not in _config(FederatedRun(base_dir=tmp_path, data=tmp_path / "d.csv",
                                                 label="y", group_column="site",
                                                 sites=("A", "B")))  # fmt: skip


def test_a_small_noise_gives_a_large_finite_epsilon_not_an_overflow():
    """A review: --dp-noise 0.1 over 10 rounds ended the run in an OverflowError (e^epsilon
    past 709), after every round had trained."""
    small = epsilon_of(0.1, 10)
    assert math.isfinite(small) and small > 100
    assert epsilon_of(0.05, 50) > small  # less noise, more rounds: a larger epsilon still
    assert delta_of(small, gaussian_mu(0.1, 10)) == pytest.approx(DELTA, rel=1e-2)

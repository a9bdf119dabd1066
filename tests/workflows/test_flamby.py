"""FLamby protocol: one seed end to end (slow: about a minute on 2 cores)."""

from __future__ import annotations

import pytest

from medadapt.data import heart
from medadapt.workflows.flamby import STRATEGIES, aggregate, run_seed


@pytest.mark.slow
def test_one_seed_reaches_the_target_with_site_adapters():
    run = run_seed(0, n_boot=100)
    summary = aggregate([run], "personalisation")
    assert set(summary["centres"]) == set(heart.CENTRES)
    assert tuple(summary["average"]) == STRATEGIES
    # the target: average per-centre accuracy >= 77 % with site adapters
    assert summary["average"]["bottleneck"]["accuracy"] >= 0.77
    assert summary["centres"]["Switzerland"]["base_only"]["auroc"]["mean"] is None
    loco = aggregate([run], "leave_one_centre_out")["average"]
    assert loco["bottleneck"]["accuracy"] > loco["base_only"]["accuracy"]

"""What several federated tests share, made once per test session (they run on one worker:
``xdist_group("flower")``): the base trained at Cleveland and one round simulated on it.

Each simulation starts Ray and a worker per node (about 15 s on two cores, more under load),
so the tests that only read a run's weights, messages or final figures read this one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from medadapt.data.heart import bundled_path
from medadapt.federated.config import FederatedRun
from medadapt.federated.server import FederatedOutcome
from medadapt.federated.simulate import simulate
from medadapt.modalities.tabular import TabularOptions
from medadapt.workflows.train_base import train_base_job

#: the sites of the shared runs (Switzerland, 123 rows of which 8 without the disease, is
#: left to the tests of small sites)
SITES = ("Cleveland", "Hungary", "VA Long Beach")


@dataclass(frozen=True)
class SimulatedRound:
    run: FederatedRun
    outcome: FederatedOutcome


@pytest.fixture(scope="session")
def cleveland_base(tmp_path_factory) -> Path:
    """A base trained at Cleveland on the bundled heart data (``num > 0``, patients by
    ``id``, seed 0), as ``medadapt train-base`` makes it. Read only: no test writes in it."""
    base = tmp_path_factory.mktemp("cleveland_base") / "base"
    train_base_job(data=Path(bundled_path()), out=base, label="num", group_column="dataset",
                   groups=["Cleveland"], id_column="id", seed=0,
                   options=TabularOptions(positive_above=0))  # fmt: skip
    return base


@pytest.fixture(scope="session")
def one_round(cleveland_base) -> SimulatedRound:
    """One round of a lora adapter over :data:`SITES` in Flower's simulation engine, each
    site recalibrating the shared adapter afterwards (which leaves the shared weights as
    they are: a deployed run without personalisation ends with the same adapter)."""
    run = FederatedRun(base_dir=cleveland_base, data=Path(bundled_path()), label="num",
                       group_column="dataset", sites=SITES, id_column="id", method="lora",
                       rounds=1, local_epochs=1, n_boot=10,
                       personalise="recalibrate").check()  # fmt: skip
    return SimulatedRound(run, simulate(run, cpus=1))  # one Ray actor: as fast on 2 cores

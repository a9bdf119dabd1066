"""The server's side of the Flower app (a ``ServerApp``): start from the base with a fresh
adapter, ask each node which site it is as it connects (:mod:`~medadapt.federated.joining`), run the
strategy's rounds (each site trains, then each site scores the new adapter); the last round's
scoring is the final one, where each site reports its figures with intervals (the base alone,
and its personalised adapter when asked). The server sees weights, counts and metrics only."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from flwr.app import ConfigRecord, Context
from flwr.serverapp import Grid, ServerApp

from medadapt.federated.config import FederatedRun
from medadapt.federated.joining import Say, gather_sites
from medadapt.federated.sites import trainable
from medadapt.federated.strategies import make_strategy
from medadapt.federated.wire import AuditedGrid, Sent, from_arrays, to_arrays
from medadapt.modalities.base import modality_of
from medadapt.modalities.bundle import BaseModel


@dataclass
class FederatedOutcome:
    """What the server ends with: the adapter's weights, per-round and final per-site
    metrics, failures, and what crossed the network."""

    weights: dict[str, torch.Tensor]
    rounds: list[dict[str, Any]]  # {"round", "site", metrics...} after each round
    final: list[dict[str, Any]]  # the final round, per site (with base/ and personal/)
    failures: list[dict[str, Any]]
    messages: list[Sent] = field(default_factory=list)
    message_rounds: list[int] = field(default_factory=list)
    train_losses: list[dict[str, Any]] = field(default_factory=list)
    train_counts: dict[str, int] = field(default_factory=dict)
    # each site's columns kept with --allow-leak, as its join reply said them (names and
    # statistics: Leak.to_json)
    kept_leaks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seconds: float = 0.0


def make_server_app(run: FederatedRun, sink: dict[str, Any]) -> ServerApp:
    """The ServerApp of ``run``; its outcome (or the error that stopped it) lands in
    ``sink["outcome"]`` / ``sink["error"]``."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        try:
            sink["outcome"] = serve(run, grid)
        except Exception as error:
            sink["error"] = error

    return app


def serve(run: FederatedRun, grid: Grid, say: Say | None = None) -> FederatedOutcome:
    """``run`` on ``grid``; ``say``: told of each site joining and each round done
    (deployment: the server's terminal)."""
    base = BaseModel.load(run.base_dir, flag="--base")
    start = trainable(run, modality_of(base.kind), base)
    audited = AuditedGrid(grid)
    strategy = make_strategy(run, say=say, grid=audited)
    gather_sites(run, audited, strategy, say or _silent)
    started = time.perf_counter()  # the rounds, not the wait for the sites to join (a trial's
    # "the rounds took 224 s" counted the 150 s its server waited for its clients)
    result = strategy.start(
        grid=audited, initial_arrays=to_arrays(start.weights()),
        num_rounds=run.rounds, train_config=ConfigRecord({"local-epochs": run.local_epochs}),
        evaluate_config=ConfigRecord({"final": 0}),
    )  # fmt: skip
    return FederatedOutcome(
        weights=from_arrays(result.arrays), rounds=strategy.evaluations, final=strategy.final,
        failures=strategy.failures, messages=audited.log, message_rounds=audited.rounds,
        train_losses=[{"round": r, **dict(m)} for r, m in result.train_metrics_clientapp.items()],
        train_counts=strategy.train_counts, kept_leaks=strategy.kept_leaks,
        seconds=time.perf_counter() - started,
    )  # fmt: skip


def _silent(event: str, **counts: Any) -> None:
    return None

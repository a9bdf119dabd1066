"""The server's side of the Flower app (a ``ServerApp``): start from the base with a fresh
adapter, ask each node which site it is as it connects (:func:`gather_sites`), run the
strategy's rounds (each site trains, then each site scores the new adapter),
then one final round where each site reports its figures with intervals (the base alone, and
its personalised adapter when asked). The server sees weights, counts and metrics only."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, RecordDict
from flwr.serverapp import Grid, ServerApp

from medadapt.errors import DataError
from medadapt.federated.config import FederatedRun
from medadapt.federated.sites import trainable
from medadapt.federated.strategies import (
    SITE_INDEX,
    Recorded,
    failure_message,
    make_strategy,
    site_metrics,
)
from medadapt.federated.wire import AuditedGrid, Sent, from_arrays, to_arrays
from medadapt.modalities.base import modality_of
from medadapt.modalities.bundle import BaseModel

FINAL_TIMEOUT = 3600.0


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
    started = time.perf_counter()
    base = BaseModel.load(run.base_dir, flag="--base")
    start = trainable(run, modality_of(base.kind), base)
    audited = AuditedGrid(grid)
    strategy = make_strategy(run, say=say, grid=audited)
    gather_sites(run, audited, strategy, say or _silent)
    result = strategy.start(
        grid=audited, initial_arrays=to_arrays(start.weights()),
        num_rounds=run.rounds, train_config=ConfigRecord({"local-epochs": run.local_epochs}),
        evaluate_config=ConfigRecord({"final": 0}),
    )  # fmt: skip
    final = final_round(run, audited, strategy, result.arrays)
    return FederatedOutcome(
        weights=from_arrays(result.arrays), rounds=strategy.evaluations, final=final,
        failures=strategy.failures, messages=audited.log, message_rounds=audited.rounds,
        train_losses=[{"round": r, **dict(m)} for r, m in result.train_metrics_clientapp.items()],
        train_counts=strategy.train_counts, seconds=time.perf_counter() - started,
    )  # fmt: skip


Say = Callable[..., None]  # say(event, **counts): what the server's terminal is told
JOIN_REPLY_TIMEOUT = 120.0  # seconds a node has to answer the join question
JOIN_POLL = 1.0


def _silent(event: str, **counts: Any) -> None:
    return None


def gather_sites(run: FederatedRun, grid: AuditedGrid, strategy: Recorded, say: Say) -> None:
    """Before any round, ask every node that connects which site it is (a QUERY message: no
    weights, its reply the site's index and training count): a node that cannot take part
    (a site not in the run, another base, unreadable data) is refused by name before the
    rounds (or, with ``--on-site-error continue``, recorded and left out: it counts as
    answered), the server says who joined, and sites still missing after ``run.join_timeout``
    are named."""
    joined: dict[int, str] = {}
    asked: set[int] = set()
    refused = 0  # nodes refused and left out (--on-site-error continue): their site is unknown
    deadline = time.monotonic() + run.join_timeout
    grid.round = 0
    while len(joined) + refused < len(run.sites):
        new = [node for node in grid.get_node_ids() if node not in asked]
        if not new:
            if time.monotonic() > deadline:
                raise DataError(_not_joined(run, joined))
            time.sleep(JOIN_POLL)
            continue
        asked.update(new)
        content = RecordDict({"config": ConfigRecord({"join": 1})})
        messages = [Message(content=content, dst_node_id=node, message_type=MessageType.QUERY)
                    for node in new]  # fmt: skip
        for reply in grid.send_and_receive(messages, timeout=JOIN_REPLY_TIMEOUT):
            if reply.has_error():
                failure = strategy.failure(0, reply)
                if run.on_site_error == "stop":
                    raise DataError(failure_message([failure]))
                strategy.failures.append(failure)
                refused += 1
                continue
            site = run.sites[int(reply.content["metrics"][SITE_INDEX])]
            if site in joined.values():
                raise DataError(
                    f"two clients joined as site {site}: each hospital's client passes its own "
                    "--site (stop the second one)"
                )
            joined[reply.metadata.src_node_id] = strategy.node_sites[grid.node_of(reply)] = site
            say("joined", site=site, n=len(joined), of=len(run.sites))


def _not_joined(run: FederatedRun, joined: dict[int, str]) -> str:
    missing = [site for site in run.sites if site not in joined.values()]
    present = f" (joined: {', '.join(joined.values())})" if joined else " (none joined)"
    return (
        f"{_listed(missing)} did not join within {run.join_timeout:g} s{present}: start "
        f"{'its client' if len(missing) == 1 else 'their clients'} (--site as --groups spells "
        "it, --server this server's address), or raise --timeout"
    )


def _listed(sites: list[str]) -> str:
    return f"site {sites[0]}" if len(sites) == 1 else f"sites {', '.join(sites)}"


def final_round(run: FederatedRun, grid: AuditedGrid, strategy: Recorded,
                arrays: ArrayRecord) -> list[dict[str, Any]]:  # fmt: skip
    """Every site scores the final adapter (and the base alone, and its personalised
    adapter) with bootstrap intervals."""
    grid.round = run.rounds + 1
    content = RecordDict({"arrays": arrays, "config": ConfigRecord({"final": 1})})
    messages = [Message(content=content, dst_node_id=node, message_type=MessageType.EVALUATE)
                for node in grid.get_node_ids()]  # fmt: skip
    replies = list(grid.send_and_receive(messages, timeout=FINAL_TIMEOUT))
    replies = strategy.without_failures(run.rounds + 1, replies)
    final = [site_metrics(run, reply, run.rounds + 1) for reply in replies]
    return sorted(final, key=lambda entry: run.sites.index(entry["site"]))

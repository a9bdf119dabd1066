"""Flower's strategies by name, wrapped so that what they return goes back on the wire in
float32 and every site's evaluation is kept per round (the server sees metrics with counts,
never rows). A site that fails sends a one-line error; the run stops, or goes on with the
other sites, as ``--on-site-error`` says."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict
from flwr.serverapp import Grid
from flwr.serverapp.strategy import (
    DifferentialPrivacyServerSideFixedClipping,
    FedAdam,
    FedAvg,
    FedProx,
    FedYogi,
    Strategy,
)

from medadapt.errors import DataError
from medadapt.federated.config import FederatedRun
from medadapt.federated.wire import AuditedGrid, as_float32
from medadapt.wording import plural

SITE_INDEX = "site-index"
#: 1 where the site's data names its patients (an id column, DICOM PatientID), 0 where each
#: of its samples is taken as one patient (a count, not a figure: no rows travel)
PATIENTS_NAMED = "patients-named"
LOSS = "train-loss"  # a site's mean training loss in a round, sent with its weights


def inner_strategy(run: FederatedRun) -> Strategy:
    """The named strategy, every site taking part in every round (with ``--on-site-error
    continue``, every site still taking part: the grid lists only those,
    :meth:`Recorded.left_out`)."""
    n = len(run.sites)
    least = 1 if run.on_site_error == "continue" else n
    common = {"min_train_nodes": least, "min_evaluate_nodes": least,
              "min_available_nodes": least, "train_metrics_aggr_fn": counts_only,
              "evaluate_metrics_aggr_fn": counts_only}  # fmt: skip
    if run.strategy == "fedprox":
        return FedProx(proximal_mu=run.proximal_mu, **common)
    if run.strategy == "fedadam":
        return FedAdam(eta=run.server_lr, eta_l=run.lr or 1e-3, **common)
    if run.strategy == "fedyogi":
        return FedYogi(eta=run.server_lr, eta_l=run.lr or 1e-3, **common)
    return FedAvg(**common)


def counts_only(records: list[RecordDict], weighting_key: str) -> MetricRecord:
    """What Flower logs of a round's replies (``Aggregated MetricRecord`` in ``flwr.log``):
    how many sites replied, the samples they counted, and their training loss averaged over
    those samples; not Flower's default, every value's mean weighted by the samples, which
    made counts and the sites' index numbers that mean nothing (``'n': 51.2268``,
    ``'site-index': 0.619``). Each site's figures are in ``federated.json`` and the report."""
    replies = [next(iter(record.metric_records.values())) for record in records]
    weights = [float(reply[weighting_key]) for reply in replies]
    out = MetricRecord({"sites": len(replies), weighting_key: int(sum(weights))})
    if sum(weights) > 0 and all(LOSS in reply for reply in replies):
        pooled = sum(w * float(reply[LOSS]) for w, reply in zip(weights, replies, strict=True))
        out[LOSS] = pooled / sum(weights)
    return out


def make_strategy(run: FederatedRun, say: Any = None, grid: AuditedGrid | None = None) -> Recorded:
    strategy = inner_strategy(run)
    if run.private:  # clip each site's update, add Gaussian noise to the sum (Flower's DP)
        strategy = DifferentialPrivacyServerSideFixedClipping(
            strategy, noise_multiplier=run.noise_multiplier, clipping_norm=run.clipping_norm,
            num_sampled_clients=len(run.sites),
        )  # fmt: skip
    return Recorded(strategy, run, say, grid)


class Recorded(Strategy):
    """``inner`` with float32 on the wire, per-site evaluations kept, and site failures
    reported by site (``grid``: the audited grid, which knows the node each reply answers
    for; ``node_sites``: each joined node's site, filled as nodes join)."""

    def __init__(self, inner: Strategy, run: FederatedRun, say: Any = None,
                 grid: AuditedGrid | None = None) -> None:  # fmt: skip
        self.inner, self.run, self.say = inner, run, say  # say(event, **counts): each round
        self.grid = grid
        self.node_sites: dict[int, str] = {}
        self.evaluations: list[dict[str, Any]] = []  # {"round", "site", metrics...}
        # the final scoring, per site (with base/ and personal/): the last round's
        self.final: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []  # {"round", "node", "error"}
        self.train_counts: dict[str, int] = {}  # each site's training samples (its replies)
        self.kept_leaks: dict[str, list[dict[str, Any]]] = {}  # each joined site's, as it said

    def summary(self) -> None:
        self.inner.summary()

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:  # fmt: skip
        _set_round(grid, server_round)
        self.check_nodes(server_round)
        return self.inner.configure_train(server_round, arrays, config, grid)

    def configure_evaluate(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                           grid: Grid) -> Iterable[Message]:  # fmt: skip
        """The sites score the round's adapter; in the last round, it is the final scoring
        (with intervals, the base alone and the personalised adapter): one message to each
        site, where a deployment started a process at each site for each of two. Its
        messages and failures count as the final round's (``rounds + 1``), as before."""
        counted = self._counted_as(server_round)
        _set_round(grid, counted)
        self.check_nodes(counted)
        if counted != server_round:
            config = ConfigRecord({**dict(config), "final": 1})
        return self.inner.configure_evaluate(server_round, arrays, config, grid)

    def _counted_as(self, server_round: int) -> int:
        """The number a round's scoring counts as in failures and message counts: its own,
        or for the last round's, the final scoring's (``rounds + 1``, after the rounds)."""
        return self.run.rounds + 1 if server_round == self.run.rounds else server_round

    def aggregate_train(self, server_round: int, replies: Iterable[Message]):
        replies = self.without_failures(server_round, list(replies))
        for reply in replies:
            metrics = reply.content["metrics"]
            site = self.run.sites[int(metrics[SITE_INDEX])]
            self.train_counts[site] = int(metrics["num-examples"])
        arrays, metrics = self.inner.aggregate_train(server_round, replies)
        return (None if arrays is None else as_float32(arrays)), metrics

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]):
        counted = self._counted_as(server_round)
        replies = self.without_failures(counted, list(replies))
        scored = [site_metrics(self.run, reply, server_round) for reply in replies]
        self.evaluations += [round_figures(entry) for entry in scored]
        if self.say is not None:
            self.say("round", round=server_round, of=self.run.rounds, sites=len(replies))
        if counted == server_round:
            return self.inner.aggregate_evaluate(server_round, replies)
        self.final = sorted(({**entry, "round": counted} for entry in scored),
                            key=lambda entry: self.run.sites.index(entry["site"]))  # fmt: skip
        # counted here, never through Flower's aggregation: sites send the paired difference
        # under different keys (AUROC at one, the Brier score at another), which Flower's
        # strategies refuse as inconsistent replies
        return (
            counts_only([reply.content for reply in replies], "num-examples") if replies else None
        )

    def without_failures(self, server_round: int, replies: list[Message]) -> list[Message]:
        good = [r for r in replies if not r.has_error()]
        for reply in replies:
            if reply.has_error():
                failure = self.failure(server_round, reply)
                self.failures.append(failure)
                self.left_out(failure["node"])
        if self.stopping() and (self.run.on_site_error == "stop" or not good):
            raise DataError(failure_message(self.stopping(), self.run.rounds))
        return good

    def stopping(self) -> list[dict[str, Any]]:
        """The failures that stop a run under ``--on-site-error stop``: not a second client
        of a site left out (the site takes part through its first)."""
        return [f for f in self.failures if SECOND_CLIENT not in f["error"]]

    def check_nodes(self, server_round: int) -> None:
        """Before a round: a joined site whose node Flower no longer lists left; it fails
        (``--on-site-error stop``) or is left out, instead of the round waiting for it."""
        grid = self.grid
        if grid is None or grid.in_play is None:
            return
        online = set(grid.grid.get_node_ids())
        for node in sorted(grid.in_play - online):
            site = self.node_sites.get(node)
            who = "a site's client" if site is None else f"site {site}: its client"
            self.failures.append({"round": server_round, "node": node,
                                  "error": f"{who} {LEFT}"})  # fmt: skip
            self.left_out(node)
        stop = self.stopping() and self.run.on_site_error == "stop"
        if self.failures and (stop or not grid.in_play):
            raise DataError(failure_message(self.stopping() or self.failures, self.run.rounds))

    def left_out(self, node: int) -> None:
        """``node`` takes no further part (a site that fails leaves the federation: its
        client stops; ``--on-site-error continue`` goes on without it)."""
        if self.grid is not None and self.grid.in_play is not None:
            self.grid.in_play.discard(node)

    def failure(self, server_round: int, reply: Message) -> dict[str, Any]:
        """A failed reply as recorded: its round, its node, and why, naming the node's site
        where it joined as one."""
        node = reply.metadata.src_node_id if self.grid is None else self.grid.node_of(reply)
        return {"round": server_round, "node": node,
                "error": failure_reason(reply.error, self.node_sites.get(node))}  # fmt: skip


def _set_round(grid: Any, server_round: int) -> None:
    if isinstance(grid, AuditedGrid):
        grid.round = server_round


def round_figures(entry: dict[str, Any]) -> dict[str, Any]:
    """A site's scoring as a round's curves show it: the final scoring without its
    intervals and its other models' figures (what the earlier rounds' scorings send).

    >>> round_figures({"round": 1, "auroc": 0.8, "auroc_low": 0.7, "base/auroc": 0.6})
    {'round': 1, 'auroc': 0.8}
    """
    return {k: v for k, v in entry.items() if "/" not in k and not k.endswith(("_low", "_high"))}


def site_metrics(run: FederatedRun, reply: Message, server_round: int) -> dict[str, Any]:
    metrics: MetricRecord = reply.content["metrics"]
    values = {k: v for k, v in metrics.items() if k != SITE_INDEX}
    return {"round": server_round, "site": run.sites[int(metrics[SITE_INDEX])], **values}


#: a node gone before it replied (Flower's SuperLink answers for it, naming no site)
GONE = "stopped answering before it replied (it left, or lost its connection to this server)"
NODE_GONE = f"a site's client {GONE}"  # a node that never said which site it is
LEFT = "left before this round (it stopped, or lost its connection to this server)"
SECOND_CLIENT = "stop the one started last"  # in a second live client's refusal


def failure_reason(error: Any, site: str | None = None) -> str:
    """A failed reply's reason: the site's own one-line error, or, where Flower answers for a
    node that is gone (``ErrorCode.NODE_UNAVAILABLE``), what that means here, naming its
    ``site`` where the node joined as one (``site B: its client stopped answering ...``)."""
    from flwr.common.constant import ErrorCode

    if error.code != ErrorCode.NODE_UNAVAILABLE:
        return str(error.reason)
    return NODE_GONE if site is None else f"site {site}: its client {GONE}"


def site_named(sites: Iterable[str], error: str) -> str | None:
    """The one of ``sites`` a failure's one-line error names (``site B: ...``), or None (a
    node that never said which site it is, a second client of one)."""
    return next((site for site in sites if error.startswith(f"site {site}: ")), None)


def when(server_round: int, rounds: int) -> str:
    """A failure's moment in words: ``on joining`` (round 0, the server's first question to a
    node, :mod:`~medadapt.federated.joining`), ``round N``, or past the run's ``rounds``
    ``the final round`` (the last round's scoring, counted as ``rounds + 1``: a failure
    there read "round 3" in a two-round run)."""
    if server_round == 0:
        return "on joining"
    return "the final round" if server_round > rounds else f"round {server_round}"


def failure_message(failures: list[dict[str, Any]], rounds: int) -> str:
    """One line naming the site(s) that failed and why (each site's own one-line error) in a
    run of ``rounds``."""
    described = "; ".join(f"{when(f['round'], rounds)}: {f['error']}" for f in failures)
    one = len(failures) == 1
    clients, data = (
        ("that site's client", "the site's") if one else ("those sites' clients", "those sites'")
    )
    fix = (f"start {clients} again, then this run"
           if all(f["error"].endswith((GONE, LEFT)) for f in failures)
           else f"fix {data} data or options")  # fmt: skip
    return (
        f"{plural(len(failures), 'site')} failed: {described}; {fix}, or pass --on-site-error "
        f"continue to go on without {'it' if one else 'them'}"
    )

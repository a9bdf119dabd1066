"""What crosses the network, and the proof that it is only that.

Messages carry an ``arrays`` record (the adapter's tensors, float32), a ``config`` record
(round settings, server to sites) and a ``metrics`` record (counts and metrics, sites to
server). :class:`AuditedGrid` wraps Flower's grid and records, for every message either way,
its records' keys and byte sizes (Flower's ``count_bytes``): the run's report shows the bytes
per round per site, and the tests check that nothing else travels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from flwr.app import Array, ArrayRecord, Message

ALLOWED_RECORDS = {"arrays", "config", "metrics"}


def to_arrays(weights: dict[str, torch.Tensor]) -> ArrayRecord:
    """Adapter tensors as an ArrayRecord, in float32 (whatever the training dtype)."""
    return ArrayRecord({k: Array(v.detach().cpu().to(torch.float32).numpy()) for k, v in
                        weights.items()})  # fmt: skip


def from_arrays(record: ArrayRecord) -> dict[str, torch.Tensor]:
    """Tensors from an ArrayRecord, in float32 (FedAdam and FedYogi aggregate in float64)."""
    return {k: torch.from_numpy(np.asarray(v.numpy(), dtype=np.float32).copy())
            for k, v in record.items()}  # fmt: skip


def as_float32(record: ArrayRecord) -> ArrayRecord:
    """``record`` with every array cast back to float32 (what goes on the wire)."""
    return ArrayRecord({k: Array(np.asarray(v.numpy(), dtype=np.float32)) for k, v in
                        record.items()})  # fmt: skip


@dataclass(frozen=True)
class Sent:
    """One message as the audit saw it: direction, node, kind, and per record its keys and
    bytes."""

    direction: str  # "to_site" | "from_site"
    node: int
    kind: str  # train | evaluate
    records: dict[str, tuple[tuple[str, ...], int]]

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self.records.values())


def _describe(message: Message, direction: str, node: int) -> Sent:
    records: dict[str, tuple[tuple[str, ...], int]] = {}
    if message.has_content():
        for name, record in message.content.items():
            records[name] = (tuple(record.keys()), int(record.count_bytes()))
    return Sent(direction, node, str(message.metadata.message_type), records)


@dataclass
class AuditedGrid:
    """Flower's grid, recording every message it sends and receives (see module docstring)."""

    grid: Any
    log: list[Sent] = field(default_factory=list)
    round: int = 0
    rounds: list[int] = field(default_factory=list)  # the round of each logged message
    sent_to: dict[str, int] = field(default_factory=dict)  # each sent message's node, by id
    in_play: set[int] | None = None  # the nodes that joined as sites (None: before the join)

    def get_node_ids(self) -> list[int]:
        """The connected nodes; once sites have joined, the nodes of ``in_play``, whether
        Flower still lists them or not (a node that was refused, or connects later, is never
        sampled for a round; one that left is named before the round,
        :meth:`~medadapt.federated.strategies.Recorded.check_nodes`, or answered for by
        Flower: listing only those online, Flower's sampling could wait for ever)."""
        if self.in_play is None:
            return list(self.grid.get_node_ids())
        return sorted(self.in_play)

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None):
        messages = list(messages)
        for message in messages:
            self._record(_describe(message, "to_site", message.metadata.dst_node_id))
        replies = list(self.grid.send_and_receive(messages, timeout=timeout))
        self._sent(messages)
        return self._received(replies)

    def push_messages(self, messages: Iterable[Message]) -> list[str]:
        messages = list(messages)
        for message in messages:
            self._record(_describe(message, "to_site", message.metadata.dst_node_id))
        ids = list(self.grid.push_messages(messages))
        self._sent(messages)
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> list[Message]:
        return self._received(list(self.grid.pull_messages(message_ids)))

    def node_of(self, reply: Message) -> int:
        """The node a reply answers for: its sender, or, where Flower's SuperLink answers for
        a node that is gone, the node the question was sent to."""
        return self.sent_to.get(reply.metadata.reply_to_message_id, reply.metadata.src_node_id)

    def _sent(self, messages: list[Message]) -> None:
        for message in messages:  # pushing gave each its id
            self.sent_to[message.metadata.message_id] = message.metadata.dst_node_id

    def _received(self, replies: list[Message]) -> list[Message]:
        for reply in replies:
            self._record(_describe(reply, "from_site", reply.metadata.src_node_id))
        return replies

    def _record(self, sent: Sent) -> None:
        self.log.append(sent)
        self.rounds.append(self.round)

    def __getattr__(self, name: str) -> Any:  # everything else: the grid's own
        return getattr(self.grid, name)


def bytes_per_round(grid: AuditedGrid, kind: str = "train") -> dict[str, float]:
    """Mean bytes per site per training round, each way (adapter arrays and all records)."""
    out: dict[str, float] = {}
    for direction in ("to_site", "from_site"):
        sizes = [s.bytes for s in grid.log if s.direction == direction and kind in s.kind]
        out[direction] = float(np.mean(sizes)) if sizes else 0.0
    return out


def full_model_bytes(model: torch.nn.Module) -> int:
    """What full-model FedAvg would send to one site per round: every tensor of the base
    model as an ArrayRecord (float32), counted by Flower."""
    return int(to_arrays(dict(model.state_dict())).count_bytes())

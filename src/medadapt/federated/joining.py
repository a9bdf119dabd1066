"""The join round: before any round, the server asks each node that connects which site it is
(a QUERY message: no weights; its reply the site's index and training count).

A node that cannot take part (a site not in the run, another base, unreadable data) is
refused by name before the rounds, or, with ``--on-site-error continue``, recorded and left
out. Each question is asked once and its answer collected whenever it comes, so a site that
reads its data slowly is waited for until ``run.join_timeout``, not dropped. A hospital that
starts its client again (a new node) takes its site over once Flower no longer lists the old
node; a second live client of one site is refused by name. The rounds then ask only the nodes
that joined (:attr:`~medadapt.federated.wire.AuditedGrid.in_play`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flwr.app import ConfigRecord, Message, MessageType, RecordDict
from flwr.common.constant import HEARTBEAT_DEFAULT_INTERVAL, HEARTBEAT_PATIENCE, ErrorCode

from medadapt.errors import DataError
from medadapt.federated.config import FederatedRun
from medadapt.federated.records import KEPT_LEAKS, received_leaks
from medadapt.federated.site_events import IGNORED, NOT_OF_THIS_RUN, REFUSED_KEY, SECOND
from medadapt.federated.strategies import (
    SECOND_CLIENT,
    SITE_INDEX,
    Recorded,
    failure_message,
    site_named,
)
from medadapt.federated.wire import AuditedGrid

Say = Callable[..., None]  # say(event, **counts): what the server's terminal is told
JOIN_POLL = 1.0
#: how long Flower's SuperLink may still list a node that left without a word (its heartbeat
#: patience): a site's second client is refused only when the first is still listed after it
NODE_GONE_AFTER = float(HEARTBEAT_DEFAULT_INTERVAL * HEARTBEAT_PATIENCE)


class Joining:
    """The join round's state: the sites joined (``strategy.node_sites``: node -> site), the
    questions not yet answered, the sites refused, the clients that claim a joined site."""

    def __init__(self, run: FederatedRun, grid: AuditedGrid, strategy: Recorded,
                 say: Say) -> None:  # fmt: skip
        self.run, self.grid, self.strategy, self.say = run, grid, strategy, say
        self.joined = strategy.node_sites
        self.asked: set[int] = set()
        self.pending: dict[str, int] = {}  # an unanswered question's message id -> its node
        self.refused: set[str] = set()  # sites refused and left out (--on-site-error continue)
        self.contested: dict[int, tuple[str, float]] = {}  # node -> (the site, since when)

    def complete(self) -> bool:
        """Every site joined or was refused, and no client claims a joined site."""
        settled = set(self.joined.values()) | self.refused
        return not self.contested and all(site in settled for site in self.run.sites)

    def ask(self, online: set[int]) -> None:
        """Ask each node not asked yet which site it is."""
        new = sorted(online - self.asked)
        if not new:
            return
        self.asked.update(new)
        content = RecordDict({"config": ConfigRecord({"join": 1})})
        messages = [Message(content=content, dst_node_id=node, message_type=MessageType.QUERY)
                    for node in new]  # fmt: skip
        for message_id, message in zip(self.grid.push_messages(messages), messages, strict=True):
            self.pending[message_id] = message.metadata.dst_node_id

    def collect(self, online: set[int]) -> None:
        """The answers that came, each handled once; contested sites settled where they can."""
        if self.pending:
            for reply in self.grid.pull_messages(list(self.pending)):
                node = self.pending.pop(reply.metadata.reply_to_message_id, None)
                if node is not None:
                    self._answered(node, reply, online)
        self.settle(online)

    def settle(self, online: set[int], *, now: bool = False) -> None:
        """Each client that claims a joined site: it takes the site over once the site's
        first client is gone, is forgotten once it is gone itself, and is refused once
        Flower would have let a gone first client go (or ``now``: at the deadline)."""
        for node, (site, since) in list(self.contested.items()):
            holder = self._holder(site)
            if node not in online:  # the second client was stopped: nothing to refuse
                del self.contested[node]
            elif holder is None or holder not in online:  # the site's first client left
                del self.contested[node]
                self._join(node, site, holder)
            elif now or time.monotonic() - since >= NODE_GONE_AFTER:
                del self.contested[node]
                self._leave_out_second(node, site)

    def _answered(self, node: int, reply: Message, online: set[int]) -> None:
        if reply.has_error() and reply.error.code == ErrorCode.NODE_UNAVAILABLE:
            self.asked.discard(node)  # it left before it answered: asked again if it is back
            return  # (a restarted client is a new node, asked as it connects)
        if reply.has_error() and reply.error.code == NOT_OF_THIS_RUN:
            # none of the run's sites, or another base: anyone holding the CA certificate can
            # connect (the SuperLink does not authenticate clients), so the client is refused
            # (it says why) and the run waits on for its sites; a site may start again rightly
            self.say(IGNORED, reason=reply.error.reason)
            return
        if reply.has_error():
            failure = self.strategy.failure(0, reply)
            self._refuse(node, site_named(self.run.sites, failure["error"]), failure["error"])
            return
        site = self.run.sites[int(reply.content["metrics"][SITE_INDEX])]
        holder = self._holder(site)
        if holder is None or holder not in online:
            self._join(node, site, holder)
            self.strategy.kept_leaks.pop(site, None)  # a restarted client says its own
            if leaks := joined_leaks(reply, site):
                self.strategy.kept_leaks[site] = leaks
        else:
            self.contested[node] = (site, time.monotonic())

    def _join(self, node: int, site: str, replaced: int | None) -> None:
        if replaced is not None:
            del self.joined[replaced]
        self.joined[node] = site
        self.refused.discard(site)  # its client, started again, joined
        self.say("joined", site=site, n=len(self.joined), of=len(self.run.sites),
                 again=replaced is not None)  # fmt: skip

    def _leave_out_second(self, node: int, site: str) -> None:
        """A second live client of a joined ``site`` is left out, whatever
        ``--on-site-error`` says (the site takes part through its first client: a trial's
        run stopped for it), and told so: it leaves with an ``error:`` line where it waited,
        unaware, until killed. Recorded among the failures (said after the run) and said now."""
        said = second_client(site)
        self.strategy.failures.append({"round": 0, "node": node, "error": said})
        content = RecordDict({"config": ConfigRecord({REFUSED_KEY: told_second(site)})})
        self.grid.push_messages([Message(content=content, dst_node_id=node,
                                         message_type=MessageType.QUERY)])  # fmt: skip
        self.say(SECOND, reason=said, site=site)

    def _refuse(self, node: int, site: str | None, error: str) -> None:
        failure = {"round": 0, "node": node, "error": error}
        if self.run.on_site_error == "stop":
            raise DataError(failure_message([failure], self.run.rounds))
        self.strategy.failures.append(failure)
        if site is not None and site not in self.joined.values():
            self.refused.add(site)

    def _holder(self, site: str) -> int | None:
        return next((node for node, held in self.joined.items() if held == site), None)

    def missing_message(self, online: set[int]) -> str:
        """Why the rounds cannot start: the sites that did not join, and what to do."""
        joined = list(self.joined.values())
        missing = [s for s in self.run.sites if s not in joined and s not in self.refused]
        if not missing:  # every site joined or was refused (only a claim was left open)
            return "the join round ended unsettled: start this run again"
        present = f" (joined: {', '.join(joined)})" if joined else " (none joined)"
        silent = sum(node in online for node in self.pending.values())
        client, it, its = ("client", "it is", "its") if silent == 1 else (
            "clients", "they are", "their")  # fmt: skip
        reading = (f"; {silent} connected {client} had not said which site {it} yet (still "
                   f"reading {its} data?)" if silent else "")  # fmt: skip
        if self.run.data is not None:  # a simulation: every site's node was started here
            return (
                f"{_listed(missing)} did not answer within {self.run.join_timeout:g} s"
                f"{present}: reading its data took longer; run on fewer samples"
            )
        clients = "its client" if len(missing) == 1 else "their clients"
        return (
            f"{_listed(missing)} did not join within {self.run.join_timeout:g} s, half of "
            f"--timeout{present}{reading}: start {clients} (--site as --groups spells it, "
            "--server this server's address), or raise --timeout"
        )


def gather_sites(run: FederatedRun, grid: AuditedGrid, strategy: Recorded, say: Say) -> None:
    """Ask every node that connects which site it is (:class:`Joining`) until every site
    joined or was refused, or ``run.join_timeout`` passed; then only the joined nodes take
    part in the rounds."""
    joining = Joining(run, grid, strategy, say)
    deadline = time.monotonic() + run.join_timeout
    grid.round = 0
    while True:
        online = set(grid.get_node_ids())
        joining.ask(online)
        joining.collect(online)
        if joining.complete():
            break
        if time.monotonic() > deadline:
            joining.settle(online, now=True)  # a second client still claiming: refused
            if joining.complete():
                break
            raise DataError(joining.missing_message(online))
        time.sleep(JOIN_POLL)
    grid.in_play = set(strategy.node_sites)


def joined_leaks(reply: Message, site: str) -> list[dict[str, Any]]:
    """The columns joining ``site`` kept with ``--allow-leak`` (its client's), as its reply
    said them (:data:`~medadapt.federated.records.KEPT_LEAKS`; names and statistics only),
    each ``where`` that site."""
    config = reply.content.config_records.get("config")
    if config is None or KEPT_LEAKS not in config:
        return []
    return [{**leak, "where": f"site {site}"} for leak in received_leaks(str(config[KEPT_LEAKS]))]


def second_client(site: str) -> str:
    """Why a second live client of a joined ``site`` is refused (the site itself takes part)."""
    return (
        f"a second client joined as site {site} while the first still answers and was left "
        f"out ({SECOND_CLIENT}): each hospital's client passes its own --site"
    )


def told_second(site: str) -> str:
    """What the second client of ``site`` is told, on its own terminal."""
    return (
        f"site {site}: this client was left out: the site already takes part in this run "
        "through another client, started first, which still answers; stop this one, or, if "
        "this hospital is another of the run's sites, start it again with that site's --site"
    )


def _listed(sites: list[str]) -> str:
    return f"site {sites[0]}" if len(sites) == 1 else f"sites {', '.join(sites)}"

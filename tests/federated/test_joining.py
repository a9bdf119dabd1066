"""The join round and the rounds' nodes, on a stand-in for Flower's grid (the real one runs
in tests/federated/test_deployment.py): a slow site is waited for, a restarted client takes its
site back, two live clients of one site are refused, a refused site is not said to be missing,
and a site that leaves between rounds is named, not waited for until --timeout."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from uuid import uuid4

import pytest
from flwr.app import ConfigRecord, Error, Message, MetricRecord, RecordDict
from flwr.server.superlink.linkstate.utils import create_message_error_unavailable_res_message
from flwr.supercore.task_identity import TaskIdentity

from medadapt.errors import DataError
from medadapt.federated import joining
from medadapt.federated.config import FederatedRun
from medadapt.federated.joining import gather_sites
from medadapt.federated.results import sites_trained
from medadapt.federated.site_events import REFUSED_KEY, SECOND, server_line
from medadapt.federated.site_lines import failure_lines
from medadapt.federated.strategies import make_strategy
from medadapt.federated.wire import AuditedGrid

SITES = ("A", "B", "C")
GONE = "gone"  # an answer: the node left before it answered


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    for name in ("_run_id", "_task_id", "_node_id"):  # as a ServerApp's process has them
        monkeypatch.setattr(TaskIdentity, name, 1)
    monkeypatch.setattr(joining, "JOIN_POLL", 0.0)


class FakeGrid:
    """Nodes that come and go as the server polls (``schedule[k]``: what happens before the
    k-th look at the nodes), each answering the join question with a site (``answers[node]``:
    an index, or an error text) after ``delay[node]`` pulls of the answers."""

    def __init__(self, online, answers, delay=None, schedule=None):
        self.online, self.answers = set(online), dict(answers)
        self.delay, self.schedule = dict(delay or {}), dict(schedule or {})
        self.pulls, self.looks, self.asked = 0, 0, {}  # message id -> (node, asked at pull)

    def get_node_ids(self):
        self.looks += 1
        for change in self.schedule.get(self.looks, ()):
            change(self)
        return sorted(self.online)

    def push_messages(self, messages):
        ids = []
        for message in messages:
            message.metadata.__dict__["_message_id"] = str(uuid4())  # as pushing does
            self.asked[message.metadata.message_id] = (message, self.pulls)
            ids.append(message.metadata.message_id)
        return ids

    def pull_messages(self, message_ids):
        self.pulls += 1
        replies = []
        for message_id in message_ids:
            message, asked_at = self.asked[message_id]
            node = message.metadata.dst_node_id
            if self.pulls - asked_at < self.delay.get(node, 1):
                continue
            answer = self.answers[node]
            if answer == GONE:  # Flower's SuperLink answers for a node that left
                replies.append(create_message_error_unavailable_res_message(message.metadata, "n"))
            elif isinstance(answer, str):
                replies.append(Message(Error(1, answer), reply_to=message))
            elif isinstance(answer, tuple):  # (Error.code, reason)
                replies.append(Message(Error(*answer), reply_to=message))
            elif isinstance(answer, RecordDict):  # a join reply as the site wrote it
                replies.append(Message(answer, reply_to=message))
            else:
                metrics = MetricRecord({"site-index": answer, "num-examples": 50})
                replies.append(Message(RecordDict({"metrics": metrics}), reply_to=message))
        return replies


def _run(**changes) -> FederatedRun:
    values = dict(base_dir=Path("base"), data=None, label=None, group_column=None, sites=SITES,
                  join_timeout=5.0)  # fmt: skip
    return FederatedRun(**{**values, **changes})


def _gather(run, fake):
    grid = AuditedGrid(fake)
    strategy = make_strategy(run, grid=grid)
    said = []
    gather_sites(run, grid, strategy, lambda event, **counts: said.append(counts["site"]))
    return grid, strategy, said


def test_a_site_that_reads_its_data_slowly_is_waited_for():
    """Its answer came after the server's wait for the first batch of answers, and it was then
    said "did not join ... start its client" while its terminal said it had joined."""
    fake = FakeGrid({1, 2, 3}, {1: 0, 2: 1, 3: 2}, delay={2: 4})
    grid, strategy, said = _gather(_run(), fake)
    assert strategy.node_sites == {1: "A", 2: "B", 3: "C"}
    assert said == ["A", "C", "B"] and grid.in_play == {1, 2, 3}
    assert sum(s.direction == "to_site" for s in grid.log) == 3  # each asked once


def test_a_hospital_that_restarts_its_client_takes_its_site_back():
    """Node 1 (site A) left and its new node 4 answered A: the run stopped with "two clients
    joined as site A ... (stop the second one)", though the first was gone."""

    def restart(fake):
        fake.online = {2, 4}
        fake.answers[4] = 0

    fake = FakeGrid({1, 2}, {1: 0, 2: 1}, schedule={2: [restart], 4: [lambda f: f.online.add(3)]})
    fake.answers[3] = 2
    grid, strategy, _ = _gather(_run(), fake)
    assert strategy.node_sites == {4: "A", 2: "B", 3: "C"}
    assert grid.in_play == {2, 3, 4} and strategy.failures == []


def test_a_restarted_client_waits_until_flower_lets_the_old_node_go():
    """Flower lists a node that left without a word until its heartbeat's patience ends: the
    new client's claim on the site waits for that, then takes it (no refusal)."""
    fake = FakeGrid({1, 2}, {1: 0, 2: 1, 3: 2, 4: 0}, schedule={
        2: [lambda f: f.online.add(4)],  # the new client, while the old one is still listed
        5: [lambda f: f.online.discard(1)],  # Flower lets the old node go
        6: [lambda f: f.online.add(3)],
    })  # fmt: skip
    _grid, strategy, said = _gather(_run(), fake)
    assert strategy.node_sites == {4: "A", 2: "B", 3: "C"} and strategy.failures == []
    assert said == ["A", "B", "A", "C"]  # A said again when its new client took over
    assert server_line({"event": "joined", "site": "A", "n": 2, "of": 3, "again": True}) == (
        "site A joined again (a new client; its earlier one left)"
    )


@pytest.mark.parametrize("on_site_error", ["stop", "continue"])
def test_two_live_clients_of_one_site_leave_the_second_out_and_tell_it(monkeypatch, on_site_error):
    """A trial's second client of a joined site stopped the whole run (under the default
    --on-site-error stop) and was itself told nothing, waiting until killed. The site takes
    part through its first client: the second is left out, whatever --on-site-error says,
    and told so by a message of its own; the server says it at once and after the run."""
    monkeypatch.setattr(joining, "NODE_GONE_AFTER", 0.0)
    fake = FakeGrid({1, 2, 3, 4}, {1: 0, 2: 1, 3: 2, 4: 0}, delay={3: 3})
    twice = (
        "a second client joined as site A while the first still answers and was left out "
        "(stop the one started last): each hospital's client passes its own --site"
    )
    grid, strategy, said = _gather(_run(on_site_error=on_site_error), fake)
    assert strategy.node_sites == {1: "A", 2: "B", 3: "C"} and grid.in_play == {1, 2, 3}
    assert strategy.failures == [{"round": 0, "node": 4, "error": twice}]
    told = [m for m, _ in fake.asked.values() if m.metadata.dst_node_id == 4]
    assert len(told) == 2  # asked which site it is, then told it is left out
    refusal = told[1].content.config_records["config"][REFUSED_KEY]
    assert refusal == (
        "site A: this client was left out: the site already takes part in this run through "
        "another client, started first, which still answers; stop this one, or, if this "
        "hospital is another of the run's sites, start it again with that site's --site"
    )
    assert "A" in said  # the server's terminal: said when it happened
    assert server_line({"event": SECOND, "reason": twice, "site": "A"}) == (
        f"note: {twice}; it was told so, and site A takes part through its first client"
    )
    outcome = SimpleNamespace(failures=strategy.failures, train_counts={"A": 5, "B": 5, "C": 5})
    assert sites_trained(_run(rounds=2), outcome) == ["A", "B", "C"]  # A took part
    assert failure_lines(strategy.failures, 2, ["A", "B", "C"]) == [
        f"on joining: {twice} (that client was left out; the site took part)"
    ]


def test_the_client_told_it_is_left_out_refuses_on_its_own_terminal():
    """The message that leaves a second client out makes its join handler refuse, naming
    the reason, as a client of none of the run's sites does (its command says it)."""
    from medadapt.federated.client import NotOfThisRun, _join

    content = RecordDict({"config": ConfigRecord({REFUSED_KEY: "site A: left out"})})
    message = Message(content=content, dst_node_id=4, message_type="query")
    with pytest.raises(NotOfThisRun, match=r"^site A: left out$"):
        _join(SimpleNamespace(index=0, train=[], leaks=[]), message)


def test_a_second_client_stopped_before_it_is_refused_is_forgotten(monkeypatch):
    """A review: a duplicate client stopped at once was still refused a minute later (and,
    under the default --on-site-error stop, ended the run)."""
    monkeypatch.setattr(joining, "NODE_GONE_AFTER", 3600.0)
    fake = FakeGrid({1, 2, 4}, {1: 0, 2: 1, 3: 2, 4: 0}, schedule={
        3: [lambda f: f.online.discard(4)],  # its operator stopped it
        4: [lambda f: f.online.add(3)],
    })  # fmt: skip
    _, strategy, _ = _gather(_run(), fake)
    assert strategy.node_sites == {1: "A", 2: "B", 3: "C"} and strategy.failures == []


def test_a_second_client_still_claiming_at_the_deadline_is_refused_not_said_missing():
    """A review: "sites did not join within 0.05 s (joined: A, B): start their clients"
    named no site, when only a second client's claim was left open."""
    fake = FakeGrid({1, 2, 4}, {1: 0, 2: 1, 4: 1})
    grid, strategy, _ = _gather(_run(sites=("A", "B"), join_timeout=0.05), fake)
    assert strategy.node_sites == {1: "A", 2: "B"} and grid.in_play == {1, 2}
    assert [f["error"] for f in strategy.failures] == [joining.second_client("B")]


def test_a_client_that_leaves_before_it_answers_is_not_a_refusal():
    """A review: a slow client restarted before it answered ended the run (Flower answers
    for the gone node: "a site's client stopped answering"); its new node joins instead."""
    restart = [lambda f: f.online.discard(2), lambda f: f.online.add(5)]
    fake = FakeGrid({1, 2}, {1: 0, 2: GONE, 5: 1}, delay={2: 2}, schedule={3: restart})
    grid, strategy, said = _gather(_run(sites=("A", "B")), fake)
    assert strategy.node_sites == {1: "A", 5: "B"} and strategy.failures == []
    assert grid.in_play == {1, 5} and said == ["A", "B"]


def test_a_refused_site_is_not_said_to_be_missing_nor_asked_in_the_rounds():
    """Site C's client was refused (its data); site B never connected: the server said
    "sites B, C did not join ... start their clients", although C's had started."""
    fake = FakeGrid({1, 3}, {1: 0, 3: "site C: --data c.csv has 3 labelled rows"})
    with pytest.raises(DataError) as error:
        _gather(_run(on_site_error="continue", join_timeout=0.05), fake)
    assert str(error.value) == (
        "site B did not join within 0.05 s, half of --timeout (joined: A): start its client "
        "(--site as --groups spells it, --server this server's address), or raise --timeout"
    )


def test_a_connected_client_that_has_not_answered_yet_is_said_as_such():
    fake = FakeGrid({1, 2}, {1: 0, 2: 1}, delay={2: 10**6})
    with pytest.raises(DataError) as error:
        _gather(_run(sites=("A", "B"), join_timeout=0.05), fake)
    assert str(error.value) == (
        "site B did not join within 0.05 s, half of --timeout (joined: A); 1 connected client "
        "had not said which site it is yet (still reading its data?): start its client (--site "
        "as --groups spells it, --server this server's address), or raise --timeout"
    )
    simulated = FakeGrid({1, 2}, {1: 0, 2: 1}, delay={2: 10**6})
    with pytest.raises(DataError) as error:  # a simulation has neither --server nor --timeout
        _gather(_run(sites=("A", "B"), join_timeout=0.05, data=Path("sites.csv")), simulated)
    assert str(error.value) == (
        "site B did not answer within 0.05 s (joined: A): reading its data took longer; run on "
        "fewer samples"
    )


@pytest.mark.parametrize("on_site_error", ["stop", "continue"])
def test_a_site_that_leaves_between_rounds_is_named_not_waited_for(on_site_error):
    """Flower's sampling waited for every site's node ("Waiting for nodes to connect: 2
    connected (minimum required: 3)") until --timeout (an hour by default)."""
    fake = FakeGrid({1, 2, 3}, {1: 0, 2: 1, 3: 2})
    grid, strategy, _ = _gather(_run(on_site_error=on_site_error), fake)
    fake.online.discard(2)
    left = (
        "site B: its client left before this round (it stopped, or lost its connection to "
        "this server)"
    )
    if on_site_error == "stop":
        with pytest.raises(DataError) as error:
            strategy.check_nodes(2)
        assert str(error.value) == (
            f"1 site failed: round 2: {left}; start that site's client again, then this "
            "run, or pass --on-site-error continue to go on without it"
        )
        return
    strategy.check_nodes(2)
    assert strategy.failures == [{"round": 2, "node": 2, "error": left}]
    assert grid.get_node_ids() == [1, 3]
    fake.online.add(2)  # back with the same id: still left out (its client left the run)
    assert grid.get_node_ids() == [1, 3]


def test_a_site_that_fails_a_round_is_not_asked_again_under_continue():
    """A failing site's client leaves the federation; the next round waited for its node."""
    fake = FakeGrid({1, 2}, {1: 0, 2: 1})
    grid, strategy, _ = _gather(_run(sites=("A", "B"), on_site_error="continue"), fake)
    asked = [Message(RecordDict({}), dst_node_id=node, message_type="train") for node in (1, 2)]
    grid.push_messages(asked)
    good = Message(RecordDict({"metrics": MetricRecord({"site-index": 0})}), reply_to=asked[0])
    gone = create_message_error_unavailable_res_message(asked[1].metadata, "node")
    assert strategy.without_failures(1, [good, gone]) == [good]
    assert strategy.failures[0]["error"].startswith("site B: its client stopped answering")
    assert grid.get_node_ids() == [1]


def test_what_each_failure_meant_for_its_site():
    """A review: every failure line ended "(this site did not take part)", even for a site
    refused on joining whose restarted client then trained every round, and one failing in
    round 2 after training in round 1."""
    refused = {"round": 0, "node": 3, "error": "site B: --data b.csv has 3 labelled rows"}
    later = {"round": 2, "node": 1, "error": "site A: internal error ValueError (...)"}
    final = {"round": 4, "node": 2, "error": "site C: its client stopped answering ..."}
    outcome = SimpleNamespace(failures=[refused, later, final],
                              train_counts={"A": 5, "B": 5, "C": 5})  # fmt: skip
    trained = sites_trained(_run(rounds=3), outcome)
    assert trained == ["B", "C"]  # A left in round 2; B's refused client was not B's last
    assert failure_lines([refused, later, final], 3, trained) == [
        "on joining: site B: --data b.csv has 3 labelled rows (a later client of this site "
        "joined and took part)",
        "round 2: site A: internal error ValueError (...) (the run went on without this site)",
        "the final round: site C: its client stopped answering ... (no final figures from this "
        "site)",
    ]
    assert failure_lines([refused], 3, []) == [
        "on joining: site B: --data b.csv has 3 labelled rows (this site did not take part)"
    ]
    # said before the rounds (simulate's check of every site): not said again on joining (a
    # trial read the left-out site's reason twice)
    before = ["site B: --data b.csv has 3 labelled rows; the run goes on without it "
              "(--on-site-error continue)"]  # fmt: skip
    assert failure_lines([refused], 3, [], before) == []
    assert len(failure_lines([refused, later], 3, [], before)) == 1  # a later failure still


NOT_A_SITE = (
    "site Switzerland: --site 'Switzerland' is not one of the run's sites (A, B, C): pass "
    "this hospital's name as the server's --groups spell it"
)
OTHER_BASE = (
    "site B: this site's --base (weights sha256 bbbbbbbbbbbb) is not the base model the server "
    "federates (weights sha256 aaaaaaaaaaaa): use a copy of the server's base"
)


def _gather_saying(run, fake):
    """:func:`_gather`, with the lines the server's terminal printed."""
    grid = AuditedGrid(fake)
    strategy = make_strategy(run, grid=grid)
    said = []
    gather_sites(run, grid, strategy, lambda event, **counts: said.append(
        server_line({"event": event, **counts})))  # fmt: skip
    return strategy, said


def test_a_client_of_no_site_of_the_run_is_refused_and_ignored_not_the_end_of_the_run():
    """The trial: a client whose --site is none of the server's --groups stopped the whole
    federation under --on-site-error stop (anyone holding ca.crt can connect). Now it is
    refused (its own terminal says why), the server notes it, and the run waits on for its
    sites; nothing of it is recorded as a site's failure."""
    fake = FakeGrid({1, 2, 3}, {1: 0, 2: (2, NOT_A_SITE), 3: 1, 4: 2},
                    schedule={3: [lambda f: f.online.add(4)]})  # fmt: skip
    strategy, said = _gather_saying(_run(on_site_error="stop"), fake)
    assert strategy.node_sites == {1: "A", 3: "B", 4: "C"} and strategy.failures == []
    assert ("note: a client was refused and ignored; still waiting for the run's sites: "
            f"{NOT_A_SITE}") in said  # fmt: skip


def test_a_site_with_another_base_is_ignored_until_it_comes_back_with_the_server_s():
    """Site B's first client held another base: refused and ignored; its client started again
    with the right base (a new node) joins as B, and the run goes on."""

    def restart(fake):
        fake.online = {1, 3, 4}
        fake.answers[4] = 1

    fake = FakeGrid({1, 2, 3}, {1: 0, 2: (2, OTHER_BASE), 3: 2}, schedule={3: [restart]})
    strategy, said = _gather_saying(_run(on_site_error="stop"), fake)
    assert strategy.node_sites == {1: "A", 3: "C", 4: "B"} and strategy.failures == []
    note = (
        f"note: a client was refused and ignored; still waiting for the run's sites: {OTHER_BASE}"
    )
    assert said == ["site A joined (1 of 3)", note, "site C joined (2 of 3)",
                    "site B joined (3 of 3)"]  # fmt: skip


def test_a_site_s_own_refusal_still_stops_the_run_under_stop():
    """A site of the run that cannot take part (its data) is not a stranger: it stops the run
    under --on-site-error stop, as before."""
    fake = FakeGrid({1, 2, 3}, {1: 0, 2: "site B: --data b.csv has 3 labelled rows", 3: 2})
    with pytest.raises(DataError) as error:
        _gather(_run(on_site_error="stop"), fake)
    assert "site B: --data b.csv has 3 labelled rows" in str(error.value)


def _asked(node: int = 1) -> Message:
    """The server's join question, as a node receives it."""
    from flwr.app import MessageType

    message = Message(RecordDict({"config": ConfigRecord({"join": 1})}), dst_node_id=node,
                      message_type=MessageType.QUERY)  # fmt: skip
    message.metadata.__dict__["_message_id"] = str(uuid4())
    return message


def test_the_client_refuses_a_site_not_of_the_run_with_the_code_the_server_ignores(tmp_path):
    """The client's refusal of a --site none of the run's (before it reads any data) carries
    the code the server ignores (a site's own refusal keeps code 1)."""
    from medadapt.federated import client
    from medadapt.federated.site_events import NOT_OF_THIS_RUN

    run = FederatedRun(base_dir=tmp_path, data=None, label=None, group_column=None,
                       sites=("A", "B", "C"))  # fmt: skip
    node = SimpleNamespace(node_config={"site": "Switzerland", "data": "x.csv",
                                        "base": str(tmp_path)}, run_config={})  # fmt: skip
    reply = client._guarded(run, node, _asked(), client._join)
    assert reply.error.code == NOT_OF_THIS_RUN
    assert reply.error.reason == NOT_A_SITE


EXANG = {"column": "exang", "statistic": "AUROC", "value": 0.9912, "rows": 123, "where": None}


def test_a_site_s_kept_columns_travel_with_its_join_reply_and_the_server_records_them():
    """Deployment: a client's --allow-leak exang was recorded nowhere the server wrote. Its
    join reply now carries the kept columns' names and statistics (never a row); the server
    keeps them by site (the adapter record's allowed leaks, federated.json's site notes)."""
    import json

    from medadapt.federated import client
    from medadapt.federated.records import KEPT_LEAKS
    from medadapt.federated.results import kept_leak_lines

    run = _run()
    data = SimpleNamespace(train=lambda site: list(range(40)))
    site = client.LocalSite(run, 1, data, Path("b.csv"), None, None,
                            [{**EXANG, "where": "site B"}])  # fmt: skip
    reply = client._join(site, _asked())
    assert dict(reply.content["metrics"]) == {"site-index": 1, "num-examples": 40}
    sent = reply.content["config"][KEPT_LEAKS]
    assert json.loads(sent) == [{**EXANG, "where": "site B"}]
    plain = client.LocalSite(run, 0, data, Path("a.csv"), None, None)
    assert set(client._join(plain, _asked()).content) == {"metrics"}  # nothing kept: no more
    claimed = {**EXANG, "where": "site A", "values": [1, 0, 1]}  # what a client may claim
    answer = RecordDict({"metrics": MetricRecord({"site-index": 1, "num-examples": 40}),
                         "config": ConfigRecord({KEPT_LEAKS: json.dumps([claimed])})})  # fmt: skip
    fake = FakeGrid({1, 2, 3}, {1: 0, 2: answer, 3: 2})
    _grid, strategy, _said = _gather(run, fake)
    assert strategy.kept_leaks == {"B": [{**EXANG, "where": "site B"}]}  # its site, no values
    assert kept_leak_lines(strategy.kept_leaks, "num") == [
        "site B: column 'exang' (AUROC 0.991) alone predicts 'num' almost perfectly; kept "
        "because of its client's --allow-leak: results that rely on it will not hold where it "
        "is unknown"
    ]
    # kept by the base's own --allow-leak: said so, not as the client's (a trial's was blamed)
    assert kept_leak_lines(strategy.kept_leaks, "num", ["exang"]) == [
        "site B: column 'exang' (AUROC 0.991) alone predicts 'num' almost perfectly; kept "
        "because of the base model's --allow-leak (chosen when the base was trained): results "
        "that rely on it will not hold where it is unknown"
    ]


def test_a_site_s_refusal_reaches_the_server_without_the_hospital_s_paths(tmp_path):
    """A hospital's refusal quoted its --data path in the server's log: a file name may name a
    ward or a patient. The server hears which flag it is; the hospital's terminal keeps it."""
    from medadapt.federated import client

    run = FederatedRun(base_dir=tmp_path, data=None, label=None, group_column=None,
                       sites=("A", "B", "C"))  # fmt: skip
    data = tmp_path / "ward7_smith_john.csv"
    node = SimpleNamespace(node_config={"site": "A", "data": str(data), "base": str(tmp_path)},
                           run_config={})  # fmt: skip
    reply = client._guarded(run, node, _asked(), client._join)
    assert reply.error.code == 1 and "(this site's" in reply.error.reason
    assert "ward7" not in reply.error.reason and str(tmp_path) not in reply.error.reason

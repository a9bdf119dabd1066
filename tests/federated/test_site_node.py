"""The hospital's side of a deployment (``federate client``) without a server: Flower's log
lines counted and kept plain, what the node handled said in counts, and why it stopped said
in one line (a refusal, a TLS failure, no server)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from medadapt.errors import DataError
from medadapt.federated import site_node
from medadapt.federated.site_events import FINISHED, REFUSED, SCORED, TRAINED, tell
from medadapt.federated.site_node import NodeWatch, SiteNode

RECEIVED = "\x1b[92mINFO \x1b[0m:      Receiving: train message (ID: 1a)\n"
SENT = "\x1b[92mINFO \x1b[0m:      Sent successfully\n"
TLS_FAILED = [
    "ERROR :     SSL/TLS handshake error detected.\n",
    "ERROR :     Exit Code: 305\n",
    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate signature failure\n",
]
#: a client's TLS against an --insecure server (the images trial's supernode.log)
TLS_TO_PLAIN = [
    "ERROR :     SSL/TLS handshake error detected.\n",
    "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)\n",
]
NO_SERVER = [
    "WARNING :   Connection attempt failed, retrying in 0.63 seconds\n",
    "WARNING :   Giving up reconnection after 5.00 seconds and 4 tries.\n",
]

#: a client's --insecure against a TLS server (the trial's supernode.log)
INSECURE_TO_TLS = [
    *NO_SERVER,
    "ERROR :     Exit Code: 305\n",
    "Failed to initialize the connection to the SuperLink.\n",
    "Server disconnected without sending a response.\n",
    "The SuperNode could not establish a connection to the SuperLink.\n",
]


def test_flowers_lines_are_kept_plain_and_counted():
    log = io.StringIO()
    watch = NodeWatch(log)
    watch.read([RECEIVED])
    assert not watch.idle and watch.closed  # a reply is owed
    watch.read([SENT])
    assert log.getvalue() == (
        "INFO :      Receiving: train message (ID: 1a)\nINFO :      Sent successfully\n"
    )
    assert (watch.received, watch.answered, watch.idle) == (1, 1, True)
    assert not watch.gave_up and not watch.tls_failed
    watch.read(NO_SERVER)
    assert watch.gave_up and not watch.tls_failed


class _Node:
    """A SuperNode that has exited (``code``) or runs on (None)."""

    def __init__(self, code=None):
        self.code = code

    def poll(self):
        return self.code


def _follow(tmp_path, node, lines, events=(), linger=0.05):
    said = []
    site = SiteNode(tmp_path, server="fl.example.org:9092", wait=7, say=said.append)
    for event, counts in events:
        tell(site.events_path, event, **counts)
    watch = NodeWatch(io.StringIO())
    watch.read(lines)
    original = site_node.LINGER
    site_node.LINGER = linger
    try:
        site._follow(node, watch)
    finally:
        site_node.LINGER = original
    return said


@pytest.mark.parametrize(
    ("lines", "events", "message"),
    [
        (TLS_FAILED, (), "the server at fl.example.org:9092 refused this site's TLS connection: "
         "check that --root-certificates is the federation's ca.crt (the one that signed the "
         "server's certificate) and that --server names the host the certificate holds"),
        (TLS_TO_PLAIN, (), "the server at fl.example.org:9092 does not speak TLS (it answered "
         "this site's TLS hello in plain text: started with --insecure?): ask its operator to "
         "start it with --certificates; only on a private trial network, pass --insecure here "
         "too"),
        (NO_SERVER, (), "no federation server answered at fl.example.org:9092 within --wait 7 s: "
         "check --server, and that 'medadapt federate server' runs there; then start this "
         "client again (or raise --wait)"),
        (NO_SERVER, [(TRAINED, {"round": 1, "n": 80, "noun": "rows"})],
         "the server at fl.example.org:9092 stopped answering before the run finished (no "
         "answer for --wait 7 s): its operator sees why; this site left the federation"),
        ([], (), "the Flower SuperNode stopped (exit 3)"),
        (INSECURE_TO_TLS, (), "something answers at fl.example.org:9092 but closed the "
         "connection: if the server uses TLS, drop --insecure and pass --root-certificates"),
    ],
)  # fmt: skip
def test_why_a_node_stopped_is_one_line(tmp_path, lines, events, message):
    with pytest.raises(DataError) as error:
        _follow(tmp_path, _Node(code=3 if not lines else 1), lines, events)
    assert str(error.value) == message


def test_a_node_that_gave_up_but_hangs_is_not_waited_for(tmp_path):
    with pytest.raises(DataError, match=r"^no federation server answered"):
        _follow(tmp_path, _Node(code=None), NO_SERVER)


def test_the_site_says_what_it_did_and_leaves_once_its_last_reply_left(tmp_path):
    events = [(TRAINED, {"round": 1, "n": 80, "noun": "rows"}),
              (SCORED, {"round": 1, "n": 35, "noun": "rows"}),
              (FINISHED, {"n": 35, "noun": "rows", "personalised": True})]  # fmt: skip
    said = _follow(tmp_path, _Node(), [RECEIVED, SENT] * 3, events)
    assert said == [
        "round 1: trained the adapter on 80 rows; sent its weights",
        "round 1: scored the adapter on 35 held-out rows; sent the figures",
        "final round: scored the federated adapter, the base alone and this site's own adapter "
        "on 35 held-out rows; sent the figures with their intervals",
    ]


def test_a_site_that_keeps_no_adapter_of_its_own_says_two_models_were_scored():
    """A trial: "scored the federated adapter, the base alone on 88 held-out rows" read as
    one model."""
    from medadapt.federated.site_events import event_line

    assert event_line({"event": FINISHED, "n": 88, "noun": "rows"}) == (
        "final round: scored the federated adapter and the base alone on 88 held-out rows; "
        "sent the figures with their intervals"
    )


def test_a_site_holding_out_too_few_for_any_figure_is_told_at_joining_and_at_the_end():
    """A trial's site of 12 rows joined with 4 held out and read "sent the figures with their
    intervals" at the end, where the server reported none for it."""
    from medadapt.federated.site_events import JOINED, event_line

    joined = event_line({"event": JOINED, "site": "VA", "n": 8, "n_test": 4, "noun": "rows"})
    assert joined == (
        "answered the server as site VA (8 rows to train on, 4 held out: too few for any "
        "figure (at least 10), so this site will train the shared adapter without learning how "
        "it does here; the server's --test-fraction, or more rows, would change that); waiting "
        "for it to start the rounds (its operator sees which sites joined)"
    )
    assert event_line({"event": FINISHED, "n": 4, "noun": "rows"}).endswith(
        "on 4 held-out rows; sent what they could show: no figure"
    )
    assert "too few" not in event_line({"event": JOINED, "site": "VA", "n": 140, "n_test": 60,
                                        "noun": "rows"})  # fmt: skip
    # counted as the figures count them: 12 rows of 4 patients are too few (a review)
    assert "12 held out: too few for any figure" in event_line(
        {"event": JOINED, "site": "VA", "n": 30, "n_test": 12, "counted": 4, "noun": "rows"}
    )
    assert event_line({"event": FINISHED, "n": 12, "counted": 4, "noun": "images"}).endswith(
        "sent what they could show: no figure"
    )


def test_a_refused_site_says_the_servers_reason_after_its_reply_left(tmp_path):
    reason = "site C: --site 'C' is not one of the run's sites (A, B): pass ..."
    with pytest.raises(DataError) as error:
        _follow(tmp_path, _Node(), [RECEIVED, SENT], [(REFUSED, {"reason": reason})])
    assert str(error.value) == reason


def test_a_refused_site_waits_while_its_reply_is_still_to_leave(tmp_path, monkeypatch):
    """The refusal is in the file before Flower sends it: the node stays until it left (or
    SETTLE passed), else the server hears "Node Unavailable" instead of the reason."""
    monkeypatch.setattr(site_node, "SETTLE", 0.6)
    started = time.monotonic()
    with pytest.raises(DataError):
        _follow(tmp_path, _Node(), [RECEIVED], [(REFUSED, {"reason": "site C: no"})])
    assert time.monotonic() - started >= 0.6


def test_a_site_spelt_closely_like_one_of_the_run_is_offered_it():
    """No did-you-mean for ``--site`` before: a hospital typing "Hungry" was only listed the
    sites."""
    from types import SimpleNamespace

    from medadapt.federated.client import NotOfThisRun, _which_site
    from medadapt.federated.config import FederatedRun

    run = FederatedRun(base_dir=Path("base"), data=None, label="num", group_column="dataset",
                       sites=("Hungary", "Switzerland"))  # fmt: skip
    with pytest.raises(NotOfThisRun) as refused:
        _which_site(run, SimpleNamespace(node_config={"site": "Hungry", "data": "h.csv"}))
    assert str(refused.value) == (
        "--site 'Hungry' is not one of the run's sites (Hungary, Switzerland): pass this "
        "hospital's name as the server's --groups spell it; did you mean 'Hungary'?"
    )
    swiss = SimpleNamespace(node_config={"site": "Switzerland", "data": "s.csv"})
    assert _which_site(run, swiss) == (1, Path("s.csv"))

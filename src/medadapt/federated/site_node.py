"""A hospital's SuperNode, run by ``medadapt federate client`` for one federated run: started
with its site's config, what it handles said in counts on the hospital's terminal, and left
once the run it took part in ends (the server's SuperLink stops then), when its site is
refused (the reason said here, not only at the server), or when no server answers for
``--wait`` seconds. Flower's own log goes to a private folder, named when something fails and
removed otherwise; the copy of the app Flower installs for the node (in its ``FLWR_HOME``,
``~/.flwr`` by default) goes there too, and is removed in either case."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from medadapt.errors import DataError
from medadapt.federated.deploy import ANSI, stop_process
from medadapt.federated.site_events import FINISHED, REFUSED, SiteEvents, event_line

SETTLE = 30.0  # seconds the last reply may take to leave before the node is stopped anyway
#: seconds the node stays once its last reply left: the server pulls replies every 3 s, and
#: a node gone before that turns its reply into Flower's "Node Unavailable" at the server
LINGER = 10.0
EVENTS_FILE, LOG_FILE = "events.jsonl", "supernode.log"
FLOWER_HOME = "flower"  # the node's FLWR_HOME, where Flower installs the app it runs
#: Flower's lines when a reply has left the node (sent, or dropped for a run that ended)
_ANSWERED = ("Sent successfully", "Ignoring reply message", "Failed to send message")
_TLS = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "SSL/TLS handshake error")
#: OpenSSL's word for a TLS hello answered in plain text: the server runs without TLS
_PLAIN = ("WRONG_VERSION_NUMBER", "wrong version number")
_UNREACHABLE = ("Giving up reconnection", "could not establish a connection to the SuperLink")
#: Flower's line when the TCP connection opened but closed unanswered (--insecure to a TLS port)
_CLOSED = "Server disconnected without sending a response"


@dataclass
class NodeWatch:
    """Flower's log lines of the node, written to ``log`` and counted: messages received,
    replies gone, and whether the node gave up reaching the SuperLink."""

    log: TextIO
    received: int = 0
    answered: int = 0
    gave_up: bool = False
    connected: bool = False  # the SuperLink registered the node (Flower named its ID)
    tls_failed: bool = False
    plain_server: bool = False  # the TLS hello was answered in plain text (--insecure server)
    hung_up: bool = False  # something answered at the address but closed the connection
    closed: bool = False  # the node's output has ended (it exited)

    def read(self, lines: Iterable[str]) -> None:
        for line in lines:
            plain = ANSI.sub("", line)
            try:
                self.log.write(plain)
                self.log.flush()
            except ValueError:  # the command has ended, its log closed: the rest is not kept
                break
            if "SuperNode ID: " in plain:
                self.connected = True
            if "Receiving: " in plain:
                self.received += 1
            elif any(mark in plain for mark in _ANSWERED):
                self.answered += 1
            elif any(mark in plain for mark in _UNREACHABLE):
                self.gave_up = True
            if any(mark in plain for mark in _TLS):
                self.tls_failed = True
            if any(mark in plain for mark in _PLAIN):
                self.plain_server = True
            if _CLOSED in plain:
                self.hung_up = True
        self.closed = True

    @property
    def idle(self) -> bool:
        return self.answered >= self.received


class SiteNode:
    """One SuperNode process of ``command`` (its ``--node-config`` names ``events``)."""

    def __init__(self, folder: Path, *, server: str, wait: float,
                 say: Callable[[str], None]):  # fmt: skip
        self.folder, self.server, self.wait, self.say = folder, server, wait, say
        self.events = SiteEvents(folder / EVENTS_FILE)

    @classmethod
    def private_folder(cls) -> Path:
        """Where a node's events and Flower log go (only this user may read it)."""
        return Path(tempfile.mkdtemp(prefix="medadapt-site-"))

    @property
    def events_path(self) -> Path:
        return self.folder / EVENTS_FILE

    def run(self, command: list[str], env: dict[str, str]) -> None:
        """Run the node until the run ends (returns) or fails (raises the one-line error,
        naming the kept log); Ctrl-C or SIGTERM stop the node and propagate."""
        from medadapt.workflows.parallel import sigterm_interrupts

        failed, node, reader = False, None, None
        env = {**env, "FLWR_HOME": str(self.folder / FLOWER_HOME)}
        try:
            with open(self.folder / LOG_FILE, "w", encoding="utf-8") as log:
                watch = NodeWatch(log)
                node = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        errors="replace")  # fmt: skip
                reader = threading.Thread(target=watch.read, args=(node.stdout,), daemon=True)
                reader.start()
                try:
                    with sigterm_interrupts():
                        self._follow(node, watch)
                finally:
                    stop_process(node)
                    reader.join(timeout=5)  # Flower's child processes may hold the pipe on
                    if not reader.is_alive():
                        node.stdout.close()
        except DataError as error:
            failed = True
            raise DataError(f"{error} (Flower's log: {self.folder / LOG_FILE})") from None
        finally:
            self.clear(keep_log=failed)  # kept, and named, only when something failed

    def clear(self, *, keep_log: bool = False) -> None:
        """Remove what the node left here: its folder, or (``keep_log``) all of it but
        Flower's log, named in the error."""
        if not keep_log:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        for item in self.folder.iterdir() if self.folder.is_dir() else ():
            if item.name == LOG_FILE:
                continue
            if item.is_dir():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)

    def _follow(self, node: subprocess.Popen, watch: NodeWatch) -> None:
        ended = gone = None
        while True:
            code, gave_up = node.poll(), watch.gave_up  # before the events: what the node
            # wrote before it exited or gave up is read below, not missed
            for event in self.events.new():
                line = event_line(event)
                if line is not None:
                    self.say(line)
            refused = self.events.last(REFUSED)
            if refused is not None or self.events.last(FINISHED) is not None:
                now = time.monotonic()
                ended = ended or now
                gone = gone or (now if watch.idle else None)
                if (code is not None or now - ended > SETTLE + LINGER
                        or (gone is not None and now - gone >= LINGER)):  # fmt: skip
                    if refused is not None:
                        raise DataError(refused["reason"])
                    return
            elif code is not None or gave_up:  # a node that gave up may hang there
                if code is not None:  # its last lines, read
                    _wait_until(lambda: watch.closed, seconds=3)
                raise DataError(self._why_it_stopped(code, watch))
            time.sleep(0.5)

    def _why_it_stopped(self, code: int, watch: NodeWatch) -> str:
        if watch.tls_failed and watch.plain_server:
            return (
                f"the server at {self.server} does not speak TLS (it answered this site's TLS "
                "hello in plain text: started with --insecure?): ask its operator to start it "
                "with --certificates; only on a private trial network, pass --insecure here too"
            )
        if watch.tls_failed:
            return (
                f"the server at {self.server} refused this site's TLS connection: check that "
                "--root-certificates is the federation's ca.crt (the one that signed the "
                "server's certificate) and that --server names the host the certificate holds"
            )
        if watch.gave_up and not self.events.seen and watch.connected:
            return (
                f"the server at {self.server} stopped answering before it gave this site any "
                f"work (no answer for --wait {self.wait:g} s): its operator sees why (a site "
                "missing or misnamed, or its --timeout); this site left the federation"
            )
        if watch.gave_up and not self.events.seen and watch.hung_up and not watch.connected:
            return (
                f"something answers at {self.server} but closed the connection: if the server "
                "uses TLS, drop --insecure and pass --root-certificates"
            )
        if watch.gave_up and not self.events.seen:
            return (
                f"no federation server answered at {self.server} within --wait "
                f"{self.wait:g} s: check --server, and that 'medadapt federate server' runs "
                "there; then start this client again (or raise --wait)"
            )
        if watch.gave_up:
            return (
                f"the server at {self.server} stopped answering before the run finished (no "
                f"answer for --wait {self.wait:g} s): its operator sees why; this site left "
                "the federation"
            )
        return f"the Flower SuperNode stopped (exit {code})"


def _wait_until(done: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)

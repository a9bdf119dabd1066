"""What a hospital's node tells its own ``federate client`` command (never the server): each
message handled (joined, trained, scored, the final round) and a refusal, as JSON lines in a
private file the command names in the node's config. Counts only, never a value of the site's
data. The ServerApp tells the ``federate server`` command the same way which sites joined and
which rounds are done (:func:`server_line`).

The ClientApp runs in a process Flower starts; its errors go to the server as a reply, so
without this file the hospital's terminal would say nothing of why its site was refused.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medadapt.evaluate.metrics import MIN_PATIENTS
from medadapt.evaluate.report.formatting import listed

EVENTS_KEY = "events"  # the node-config key naming the file
JOINED, TRAINED, SCORED = "joined", "trained", "scored"
FINISHED, REFUSED = "finished", "refused"
IGNORED = "ignored"  # the server's: a client of none of its sites (or another base) refused
SECOND = "second"  # the server's: a second live client of a joined site, left out and told
#: the config key of the message that tells such a client it is left out (its reason)
REFUSED_KEY = "refused"
#: the Error.code of that refusal (a site's own is 1): the server ignores the client and waits
#: on for the run's sites (its SuperLink does not authenticate clients)
NOT_OF_THIS_RUN = 2


def tell(path: str | Path | None, event: str, **counts: Any) -> None:
    """Append one event to ``path`` (nothing without a path: a simulation's node). A file
    that cannot be written costs the hospital's terminal a line, never the server its reply
    (the site's own log says why)."""
    if path is None:
        return
    try:
        with open(path, "a", encoding="utf-8") as file:
            file.write(json.dumps({"event": event, **counts}) + "\n")
    except OSError as error:
        logging.getLogger("medadapt.federated.site").warning(
            "could not tell this site's client command what it did (%s): %s", path, error
        )


@dataclass
class SiteEvents:
    """The events of one node's file read as they come (a partial last line waits)."""

    path: Path
    offset: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)

    def new(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        with open(self.path, encoding="utf-8") as file:
            file.seek(self.offset)
            text = file.read()
        complete = text[: text.rfind("\n") + 1]
        self.offset += len(complete.encode("utf-8"))
        events = [json.loads(line) for line in complete.splitlines() if line.strip()]
        self.seen += events
        return events

    def last(self, event: str) -> dict[str, Any] | None:
        return next((e for e in reversed(self.seen) if e["event"] == event), None)


def event_line(event: dict[str, Any]) -> str | None:
    """What the hospital's terminal says of one event (None: a refusal, said as the error)."""
    kind, round_, noun = event["event"], event.get("round"), event.get("noun", "samples")
    if kind == JOINED:
        return (
            f"answered the server as site {event['site']} ({event['n']} {noun} to train on, "
            f"{event['n_test']} held out{_too_few(_counted(event, 'n_test'), noun)}); waiting "
            "for it to start "
            "the rounds (its operator sees which sites joined)"
        )
    if kind == TRAINED:
        return f"round {round_}: trained the adapter on {event['n']} {noun}; sent its weights"
    if kind == SCORED:
        n = event["n"]
        return f"round {round_}: scored the adapter on {n} held-out {noun}; sent the figures"
    if kind == FINISHED:
        models = ["the federated adapter", "the base alone"]
        models += ["this site's own adapter"] if event.get("personalised") else []
        sent = ("sent what they could show: no figure" if _counted(event, "n") < MIN_PATIENTS
                else "sent the figures with their intervals")  # fmt: skip
        return f"final round: scored {listed(models)} on {event['n']} held-out {noun}; {sent}"
    return None


def _counted(event: dict[str, Any], key: str) -> int:
    """The held-out samples as the figures' minimums count them (patients, where one has
    several: the event's ``counted``), else the samples (events of an older client)."""
    return int(event.get("counted", event[key]))


def _too_few(counted: int, noun: str) -> str:
    """``: too few for any figure ...`` where a site holds out fewer samples than any figure
    needs (a trial's site of 12 rows, 4 held out, read "figures with their intervals" sent,
    where the server had none): it trains, and learns nothing of the adapter here."""
    if counted >= MIN_PATIENTS:
        return ""
    return (f": too few for any figure (at least {MIN_PATIENTS}), so this site will train the "
            "shared adapter without learning how it does here; the server's --test-fraction, "
            f"or more {noun}, would change that")  # fmt: skip


def server_line(event: dict[str, Any]) -> str | None:
    """What the server's terminal says of one of the ServerApp's events."""
    kind = event["event"]
    if kind == JOINED and event.get("again"):
        return f"site {event['site']} joined again (a new client; its earlier one left)"
    if kind == JOINED:
        return f"site {event['site']} joined ({event['n']} of {event['of']})"
    if kind == IGNORED:
        return (f"note: a client was refused and ignored; still waiting for the run's sites: "
                f"{event['reason']}")  # fmt: skip
    if kind == SECOND:
        return (f"note: {event['reason']}; it was told so, and site {event['site']} takes part "
                "through its first client")  # fmt: skip
    if kind == "round":
        return f"round {event['round']} of {event['of']} done ({event['sites']} sites scored it)"
    return None

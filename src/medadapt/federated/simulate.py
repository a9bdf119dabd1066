"""Run the Flower app on one machine (Flower's simulation engine, on Ray): one node per site,
the server in this process. Flower's telemetry is off and its logs are kept to warnings."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from medadapt.checks import available_cores
from medadapt.federated.config import FederatedRun
from medadapt.federated.server import FederatedOutcome

os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")  # before flwr is imported
os.environ.setdefault("RAY_DEDUP_LOGS", "0")


def quiet_flower() -> None:
    """Flower's and Ray's INFO logs off the terminal (warnings and errors stay)."""
    for name in ("flwr", "ray"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="ray.*")


@contextlib.contextmanager
def _quiet_on_interrupt() -> Iterator[None]:
    """Ctrl-C or SIGTERM during the simulation silences Flower's and Ray's loggers before it
    stops the run: a trial's interrupt printed 80 lines of their errors and two tracebacks
    (its Ray actors dying) before the one line that says what happened. SIGTERM raises
    :class:`~medadapt.errors.Interrupted` (cleaned up as Ctrl-C is), after Ray's start too,
    and its handler is put back after it as it was before: Ray replaces it, and a trial's
    SIGTERM after the rounds ended the run silently, its staged output folder left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from flwr.server.superlink.fleet.vce.backend.raybackend import RayBackend

    from medadapt.errors import Interrupted

    previous = signal.getsignal(signal.SIGINT)
    terminated = signal.getsignal(signal.SIGTERM)

    def silenced() -> None:
        for name in ("flwr", "ray"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)

    def interrupted(signum: int, frame: Any) -> None:
        silenced()
        raise KeyboardInterrupt

    def stopped(signum: int, frame: Any) -> None:  # said, and cleaned up, as Ctrl-C is
        silenced()
        raise Interrupted("terminated by SIGTERM")

    ray_init = RayBackend.init_ray

    def init_ray(backend: Any, config: Any) -> None:
        """Ray's start in this (the main) thread replaces SIGTERM's handler: its driver's
        aborts the process with a stack dump (a trial's ``timeout 30`` left the staged output
        folder behind and printed ``*** SIGTERM received``), so it is taken back."""
        ray_init(backend, config)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, stopped)

    try:
        signal.signal(signal.SIGINT, interrupted)
        signal.signal(signal.SIGTERM, stopped)
        RayBackend.init_ray = init_ray  # type: ignore[method-assign]
        yield
    finally:
        RayBackend.init_ray = ray_init  # type: ignore[method-assign]
        signal.signal(signal.SIGINT, previous)
        # (None: a handler not set from Python; the default is what stands in for it)
        signal.signal(signal.SIGTERM, signal.SIG_DFL if terminated is None else terminated)


SOCKET_ROOM = 40
"""The longest folder Ray's session files may go under: a session's socket path adds about
65 characters to it (``/mdrXXXXXXXX/session_<date>_<pid>/sockets/plasma_store``), and a
Unix socket's path may hold 107 (103 on macOS)."""


def _ray_scratch() -> str:
    """A folder of this run's own for Ray's session files (its sockets, logs and spilled
    objects), removed when the run ends however it ends: Ray keeps every session under
    /tmp/ray, and a trial's three runs left three there. Where Ray would put its own
    (``RAY_TMPDIR``; on Linux ``TMPDIR``; else /tmp), unless that is too long for its
    sockets (a macOS ``TMPDIR``): /tmp then."""
    linux = sys.platform.startswith("linux")
    base = os.environ.get("RAY_TMPDIR") or (os.environ.get("TMPDIR") if linux else None)
    if not base or len(base) > SOCKET_ROOM or not os.path.isdir(base):
        base = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
    return tempfile.mkdtemp(prefix="mdr", dir=base)


def simulate(run: FederatedRun, *, cpus: int | None = None) -> FederatedOutcome:
    """The federated run in Flower's simulation engine, ``cpus`` sites training at once
    (one Ray actor each; default: every core this process may use; each actor imports torch
    and medadapt, about 14 s of CPU on a 2-core machine: one actor was as fast there and
    used 30 % less CPU, measured in CHANGELOG, fifty-second session); raises what stopped the
    server."""
    from flwr.simulation import run_simulation

    from medadapt.federated.client import make_client_app
    from medadapt.federated.server import make_server_app

    quiet_flower()
    sink: dict[str, Any] = {}
    cpus = cpus or available_cores()
    scratch = _ray_scratch()
    backend = {
        "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
        "init_args": {"num_cpus": cpus, "num_gpus": 0, "logging_level": "ERROR",
                      "log_to_driver": False, "include_dashboard": False,
                      "_temp_dir": scratch},
    }  # fmt: skip
    try:
        with _quiet_on_interrupt():
            run_simulation(make_server_app(run, sink), make_client_app(run),
                           num_supernodes=len(run.sites), backend_config=backend)  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if "error" in sink:
        raise sink["error"]
    if "outcome" not in sink:
        raise RuntimeError("the Flower simulation ended without a result (see its log above)")
    return sink["outcome"]

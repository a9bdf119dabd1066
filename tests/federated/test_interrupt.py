"""Ctrl-C during a federated simulation: one line, a prompt exit, no library's tracebacks.
A trial's interrupt printed 80 lines of Flower's and Ray's errors, two tracebacks and the
"interrupted" line twice, then the process waited for good (Ray's threads held it)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from medadapt.data.heart import bundled_path
from tests.terminal import sigint_as_in_a_terminal

pytestmark = pytest.mark.xdist_group("flower")  # one Ray at a time


def _ray_started(pid: int) -> bool:
    """Whether a Ray process runs below ``pid`` (the simulation has begun its rounds)."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    for child in children:
        try:
            if any("ray" in part for part in child.cmdline()):
                return True
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return False


@pytest.mark.slow  # a further simulation, interrupted: make test-slow
def test_ctrl_c_during_a_simulation_says_one_line_and_exits(cleveland_base, tmp_path):
    command = [sys.executable, "-m", "medadapt.cli", "federate", "simulate", "--data",
               str(bundled_path()), "--base", str(cleveland_base), "--id-column", "id",
               "--group-column", "dataset", "--groups", "Hungary,VA Long Beach", "--rounds",
               "20", "--n-boot", "10", "--out", str(tmp_path / "fed")]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=sigint_as_in_a_terminal)  # fmt: skip
    deadline = time.monotonic() + 180
    while not _ray_started(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert proc.poll() is None, proc.communicate()[1]
    time.sleep(3)  # its actors at work
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
    try:
        _, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("the simulation did not exit after Ctrl-C")
    assert proc.returncode == 130
    assert err.strip().splitlines() == [
        "interrupted; nothing was written (--out is written only when the run finishes); "
        "re-run the command"
    ], err
    assert not (tmp_path / "fed").exists() and not list(tmp_path.glob(".fed.tmp-*"))


def test_sigterm_s_handler_is_put_back_after_the_simulation_replaced_it():
    """Ray replaces SIGTERM's handler: a trial's SIGTERM after the rounds ended the run
    silently, its staged output folder left behind, where medadapt's handler removes it."""
    from medadapt.federated.simulate import _quiet_on_interrupt
    from medadapt.fileio import sigterm_interrupts

    with sigterm_interrupts():
        ours = signal.getsignal(signal.SIGTERM)
        with _quiet_on_interrupt():
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as Ray's start does
        assert signal.getsignal(signal.SIGTERM) is ours


def test_sigterm_after_ray_s_start_stops_the_run_as_ctrl_c_does(monkeypatch):
    """Ray's start in the main thread replaces SIGTERM's handler with its driver's, which
    aborts with a stack dump: a trial's ``timeout 30 medadapt federate simulate`` printed
    ``*** SIGTERM received``, exited -6 and left its staged output folder behind. The handler
    is taken back after Ray's start (here a stand-in that replaces it as Ray does), and it
    stops the run as Ctrl-C does: :class:`~medadapt.errors.Interrupted`, 143."""
    from flwr.server.superlink.fleet.vce.backend.raybackend import RayBackend

    from medadapt.errors import Interrupted
    from medadapt.federated.simulate import _quiet_on_interrupt

    def ray_start(backend, config) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as Ray's driver takes it

    monkeypatch.setattr(RayBackend, "init_ray", ray_start)
    levels = {name: logging.getLogger(name).level for name in ("flwr", "ray")}
    before = signal.getsignal(signal.SIGTERM)
    try:
        with _quiet_on_interrupt():
            RayBackend.init_ray(None, {})
            handler = signal.getsignal(signal.SIGTERM)
            assert callable(handler)
            with pytest.raises(Interrupted) as stopped:
                handler(signal.SIGTERM, None)
            assert stopped.value.exit_code == 143
    finally:  # the handler silenced them
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    assert RayBackend.init_ray is ray_start and signal.getsignal(signal.SIGTERM) is before

"""Ctrl-C as a terminal sends it, in tests that send it.

A shell's background job starts with SIGINT ignored (POSIX, without job control), and an
ignored signal stays ignored in every child: Python then installs no KeyboardInterrupt
handler, and a test's Ctrl-C does nothing. The tests that press Ctrl-C give the process they
press it on the disposition a terminal's command has."""

from __future__ import annotations

import signal


def sigint_as_in_a_terminal() -> None:
    """For ``subprocess.Popen(preexec_fn=...)``: the child starts with SIGINT's default
    disposition, so Python in it raises KeyboardInterrupt on Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

"""What the command line does with failures no check can foresee (the disk fills during the
work, memory runs out) and with Python warnings: one line each, never a traceback."""

from __future__ import annotations

import errno
import warnings

import pytest

import medadapt.cli.main as cli_main
from tests.cli.helpers import run_cli


@pytest.fixture(autouse=True)
def _commands_registered(monkeypatch):
    monkeypatch.setattr(cli_main, "_register_commands", lambda: None)


def _command_is(monkeypatch, command) -> None:
    """The command line runs ``command`` (called as click's command is) for any arguments."""
    monkeypatch.setattr(cli_main, "_click_command", lambda: command)


def _failing(error: BaseException):
    def app(**_):
        raise error

    return app


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/data/out/model.safetensors"),
         "error: the disk is full (/data/out/model.safetensors): free some space, or write "
         "elsewhere with --out"),
        (PermissionError(errno.EACCES, "Permission denied", "/data/out"),
         "error: permission denied (/data/out): choose a folder you can write to, or fix its "
         "rights"),
        (OSError(errno.EADDRINUSE, "Address already in use"),
         "error: the address is already in use: choose another --port, or stop what holds it"),
        (OSError(errno.EIO, "Input/output error", "/mnt/pacs/x.dcm"),
         "error: Input/output error (/mnt/pacs/x.dcm)"),
        (MemoryError(), f"error: {cli_main.OUT_OF_MEMORY}"),
    ],
)  # fmt: skip
def test_a_system_failure_during_the_work_is_one_error_line(monkeypatch, error, said):
    _command_is(monkeypatch, _failing(error))
    result = run_cli("evaluate")
    assert result.code == 1
    assert result.stderr.strip() == said
    assert "Traceback" not in result.stdout + result.stderr


def test_a_python_warning_is_one_line_without_source_and_the_caller_s_hook_is_restored(
    monkeypatch,
):
    def app(**_):
        warnings.warn("features cached for another model\n  were recomputed", stacklevel=1)
        return 0

    _command_is(monkeypatch, app)
    before = warnings.showwarning
    result = run_cli("evaluate")
    assert result.code == 0
    assert result.stderr == "warning: features cached for another model were recomputed\n"
    assert warnings.showwarning is before


def test_a_closed_pipe_at_exit_after_an_interrupt_is_not_printed(capsys, monkeypatch):
    """A loaded machine's SIGTERM to a study printed "Exception ignored in: <module
    'threading'> ... Bad file descriptor" after its one 'interrupted' line: after an
    interrupt that is no news; any other exception ignored at exit is still said."""
    import sys

    from medadapt.cli.main import _quiet_after_interrupt

    class Closing:  # what Python cannot raise, it hands to sys.unraisablehook
        def __init__(self, error: BaseException) -> None:
            self.error = error

        def __del__(self) -> None:
            raise self.error

    monkeypatch.setattr(sys, "unraisablehook", _quiet_after_interrupt)
    Closing(OSError(errno.EBADF, "Bad file descriptor"))
    assert capsys.readouterr().err == ""
    Closing(ValueError("something else"))
    assert "ValueError: something else" in capsys.readouterr().err


def test_ctrl_c_translated_by_typer_quiets_the_closed_pipe_too(capsys, monkeypatch):
    """Ctrl-C comes back from typer as exit code 130, not as an exception: that way did not
    quiet the exit hook's closed pipe, and the SIGINT study test printed its traceback."""
    import sys

    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    monkeypatch.setattr(cli_main, "_register_commands", lambda: None)
    _command_is(monkeypatch, lambda args, standalone_mode: 130)
    with pytest.raises(SystemExit) as exited:
        cli_main.main(["study", "--out", "s"])
    assert exited.value.code == 130
    assert sys.unraisablehook is cli_main._quiet_after_interrupt
    assert capsys.readouterr().err.startswith("interrupted; ")

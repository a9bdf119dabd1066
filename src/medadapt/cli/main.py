"""The ``medadapt`` command: a thin typer shell over the library.

Every command prints a one-line ``error: ...`` and exits non-zero on bad input (no traceback);
long work shows a rich progress bar on stderr. What the image libraries log while reading
files arrives as one ``note: FILE: ...`` line each (:mod:`medadapt.data.reader_notes`).
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import logging
import os
import re
import sys
import warnings
from typing import Any

import typer

from medadapt.errors import ConfigError, Interrupted, MedadaptError

app = typer.Typer(
    name="medadapt",
    help="Adapters for frozen medical models: train on little data, report what it supports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root() -> None:
    """Adapters for frozen medical models: train on little data, report what it supports."""
    _fold_help_cells()  # before a command's --help is parsed (after this callback)


def _fold_help_cells() -> None:
    """typer draws ``--help``'s option tables with rich's default cell overflow, an ellipsis:
    at 80 columns ``serve --help`` cut ``--dicomweb-token-file`` to ``--dicomweb-token-…``
    and the PACS URL in ``--data``'s help likewise, so neither could be read or copied. Their
    cells fold instead: every character shown, a long word carried onto the next line."""
    from rich.columns import Columns
    from rich.table import Table
    from rich.text import Text
    from typer import rich_utils

    if getattr(rich_utils.Table, "folds", False):
        return

    class FoldingTable(Table):  # the option names, metavars, defaults
        folds = True

        def add_row(self, *renderables: Any, **kwargs: Any) -> None:
            super().add_row(*renderables, **kwargs)
            for column in self.columns:
                column.overflow = "fold"

    class FoldingColumns(Columns):  # an option's help: its text's own overflow wins
        def __init__(self, renderables: Any = None, *args: Any, **kwargs: Any) -> None:
            renderables = list(renderables or [])
            for text in renderables:
                if isinstance(text, Text) and text.overflow is None:
                    text.overflow = "fold"
            super().__init__(renderables, *args, **kwargs)

    rich_utils.Table = FoldingTable  # type: ignore[misc]
    rich_utils.Columns = FoldingColumns  # type: ignore[misc]


@app.command()
def info() -> None:
    """Print medadapt's version and the compute it sees.

    Example: medadapt info
    """
    import platform

    import torch

    import medadapt

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu only"
    typer.echo(f"medadapt {medadapt.__version__}")
    typer.echo(f"python {platform.python_version()}, torch {torch.__version__}, {device}")
    typer.echo(f"cpu threads: {torch.get_num_threads()}")


def reflowed(text: str) -> str:
    """``text`` with the lines of each paragraph joined into one: rich keeps a docstring's line
    breaks after its first paragraph, so help wrapped at the source's 95 columns came out
    ragged on an 80-column terminal (a break every few words)."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(_joined(p.splitlines()) for p in paragraphs)


_TERM = re.compile(r"^[a-z][\w-]*: ")  # "flamby: ...": a list of terms keeps one per line


def _joined(lines: list[str]) -> str:
    """One paragraph's lines joined by spaces, except before a line that defines a term."""
    out: list[str] = []
    for line in (line.strip() for line in lines):
        if out and not _TERM.match(line):
            out[-1] += f" {line}"
        else:
            out.append(line)
    return "\n".join(out)


def _reflow_help(typer_app: typer.Typer) -> None:
    """Reflow the help of every command of ``typer_app`` and of its sub-apps, in place."""
    for command in typer_app.registered_commands:
        command.help = reflowed(command.help or inspect.getdoc(command.callback) or "")
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            info = group.typer_instance.info
            if isinstance(info.help, str):
                info.help = reflowed(info.help)
            _reflow_help(group.typer_instance)


def _register_commands() -> None:
    """Import the command modules; each one adds its commands to ``app``; their help is
    reflowed to the terminal's width."""
    import importlib

    for module in (
        "medadapt.cli.verbs",
        "medadapt.cli.demo",
        "medadapt.cli.study",
        "medadapt.cli.registry",
        "medadapt.cli.registry_bases",
        "medadapt.cli.serve",
        "medadapt.cli.federate",
        "medadapt.cli.check_data",
        "medadapt.cli.export_peft",
    ):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    _reflow_help(app)


_BUILT: dict[tuple, Any] = {}  # the click command of each set of registered commands


def _click_command() -> Any:
    """``app`` as click runs it (what ``app(...)`` builds and calls; its tracebacks are
    plain either way: ``pretty_exceptions_enable=False``), built once for each set of
    registered commands: typer builds it anew on every call, inspecting each command's
    signature (about 60 ms), which a program calling :func:`main` many times paid each
    time (the tests: thousands of commands)."""
    key = _registered(app)
    if key not in _BUILT:
        _BUILT.clear()  # one at a time: a command added for a while, then removed
        _BUILT[key] = typer.main.get_command(app)
    return _BUILT[key]


def _registered(typer_app: typer.Typer) -> tuple:
    """What ``typer_app``'s click command is built from: its commands and sub-apps (the
    objects themselves, compared by identity: kept by the cache, none of them can be freed
    and another take its place, as a number such as ``id`` could)."""
    return (tuple(typer_app.registered_commands),
            tuple((group, _registered(group.typer_instance))
                  for group in typer_app.registered_groups
                  if group.typer_instance is not None))  # fmt: skip


#: what an interrupted federated run that writes --out at its end leaves: nothing (its --out
#: takes its place only once the run finished)
NOTHING_WRITTEN = (
    "nothing was written (--out is written only when the run finishes); re-run the command"
)
# What an interrupted command leaves behind, said in the one-line "interrupted; ..." message.
RESUME_HINTS = {
    "study": "re-run the same command to resume",
    "demo": "re-run the command to start it again",
    # a client waits for the next run after one ends: Ctrl-C is how a site leaves
    "federate client": (
        "this site left the federation; the adapters of the runs it finished are kept in "
        "--out, if one was given"
    ),
    "federate server": NOTHING_WRITTEN,
    "federate simulate": NOTHING_WRITTEN,
}
INTERRUPTED_EXIT = 130  # 128 + SIGINT, the shell's convention


def interrupted_message(args: list[str]) -> str:
    """The one line printed when ``medadapt ARGS`` is interrupted (Ctrl-C or SIGTERM)."""
    words = [a for a in args if not a.startswith("-")][:2]
    hint = RESUME_HINTS.get(" ".join(words)) or RESUME_HINTS.get(words[0] if words else "")
    return f"interrupted; {hint or 'files already finished were kept; re-run the command'}"


class LogFormat(logging.Formatter):
    """``level: message`` in lower case, as the command's own ``error:`` and ``warning:``
    lines (a library's ``ERROR:`` read as another program's); reader notes
    (``medadapt.notes``) as ``note: FILE: ...``."""

    def format(self, record: logging.LogRecord) -> str:
        from medadapt.cli.common import rewritten  # a PACS run's private files, as named

        if record.name == "medadapt.notes":
            return f"note: {rewritten(record.getMessage())}"
        line = f"{record.levelname.lower()}: {rewritten(record.getMessage())}"
        if record.exc_info and record.exc_info[0] is not None:  # its kind, not its traceback
            line += f" ({record.exc_info[0].__name__})"  # (nor its text: it may hold values)
        return line


def _said_once(record: logging.LogRecord) -> bool:
    """A reader note already logged by this command is not repeated (``study`` reads its
    data twice: "40 colour images were converted to gray" once)."""
    if record.name != "medadapt.notes":
        return True
    text = f"note: {record.getMessage()}"
    if text in _SAID:
        return False
    _SAID.add(text)
    return True


OUT_OF_MEMORY = (
    "out of memory: run on fewer or smaller samples (a smaller --image-size for images), or on "
    "a machine with more memory"
)


def system_message(exc: OSError) -> str:
    """An operating-system error met during the work, as one line saying what to do."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"the disk is full{where}: free some space, or write elsewhere with --out"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied{where}: choose a folder you can write to, or fix its rights"
    if exc.errno == errno.EADDRINUSE:
        return "the address is already in use: choose another --port, or stop what holds it"
    return f"{exc.strerror or exc}{where}"


_SAID: set[str] = set()  # the warning lines this command printed (each is said once)


def _one_line_warning(message: Any, category: type, filename: str, lineno: int,
                      file: Any = None, line: str | None = None) -> None:  # fmt: skip
    """A Python warning (medadapt's or a library's) as one ``warning:`` line, without the
    source file, line number and code a traceback-like warning shows; a line already said
    by this command is not repeated (the demo scores one site's rows once per strategy)."""
    text = f"warning: {' '.join(str(message).split())}"
    if text not in _SAID:
        _SAID.add(text)
        typer.echo(text, err=True)


def usage_message(exc: Exception, args: list[str]) -> str:
    """A click usage error as one line (:func:`medadapt.cli.usage.usage_message`): where to
    read the command's options, the option or command meant where one is spelt closely, and
    where an option that this command does not take goes instead."""
    from medadapt.cli.usage import usage_message as said

    return said(exc)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point.

    With ``standalone_mode=False`` typer returns exit codes instead of exiting: Ctrl-C comes
    back as 130 and ``typer.Exit(n)`` as ``n``; both become the process's exit status.
    """
    _line_buffered(sys.stdout)
    handler = logging.StreamHandler()
    handler.setFormatter(LogFormat())
    handler.addFilter(_said_once)
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    args = sys.argv[1:] if argv is None else list(argv)
    _SAID.clear()
    tables = sys.modules.get("medadapt.cli.common")  # imported by a command run before
    if tables is not None:  # (in one process): its footnotes and notes were that command's
        tables.FOOTNOTES.clear()
        tables.PENDING_NOTES.clear()
    with warnings.catch_warnings():  # restored on exit (an embedding program keeps its own)
        warnings.showwarning = _one_line_warning
        _run(args)


def _line_buffered(stream: Any) -> None:
    """Each line of ``stream`` written as it is printed, as on a terminal: piped to a log
    (``2>&1 | tee``), stdout was written in blocks, at exit, after every line stderr wrote
    meanwhile, so a warning about a figure came before the lines it is about."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and not getattr(stream, "line_buffering", True):
        reconfigure(line_buffering=True)


def _quiet_after_interrupt(unraisable: Any) -> None:
    """After an interrupt, a worker pool's wake-up pipe closed while the interpreter's exit
    hook still writes to it ("Exception ignored in: <module 'threading'> ... Bad file
    descriptor") is no news: the command has said it was interrupted, in one line (a loaded
    machine's SIGTERM printed that traceback after it). Anything else is said as Python says
    it."""
    if isinstance(unraisable.exc_value, OSError) and unraisable.exc_value.errno == errno.EBADF:
        return
    sys.__unraisablehook__(unraisable)


def _exit_interrupted(code: int) -> None:
    """Exit after an interrupt, the message said: a federated simulation's Ray workers and
    Flower's threads kept the process alive for good after Ctrl-C (a trial's waited ten
    minutes); they are stopped, and where a thread still holds a federated command, it ends
    without waiting for it (its output was staged, and is gone already). Other commands exit
    as before (a study's process pool cleans up after itself)."""
    import threading

    ray = sys.modules.get("ray")
    if ray is not None:
        with contextlib.suppress(Exception):
            if ray.is_initialized():
                ray.shutdown()
    federated = ray is not None or "flwr" in sys.modules  # a study's pool ends as it should
    if federated and any(t.is_alive() and not t.daemon for t in threading.enumerate()
                         if t is not threading.main_thread()):  # fmt: skip
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


#: options a command takes several times (each value kept)
REPEATABLE = frozenset({"--host"})


def _held_notes_for(error: str) -> str:
    """The held notes about what ``error`` names, said in its one line (a review: ``--group``
    alone, the base's column missing from the file, read "--group-column 'dataset' is not in
    the table", a flag the user never typed)."""
    common = sys.modules.get("medadapt.cli.common")
    return common.pending_notes_for(error) if common is not None else ""


def _said_pending_notes() -> None:
    """The notes a command held until its work showed, said at its end (none printed on
    stdout after them); where it ended in an error, they are dropped with it."""
    common = sys.modules.get("medadapt.cli.common")
    if common is not None:
        common.said_pending_notes()


def _refuse_repeated_options(args: list[str]) -> None:
    """An option given twice is refused by name: click kept the last one, silently (a trial's
    ``evaluate --group "VA Long Beach" --group Hungary`` scored Hungary, its ``adapt --out a
    --out b`` wrote b). Values are not echoed; a word after ``--`` is no option."""
    seen: set[str] = set()
    for arg in args:
        if arg == "--":
            return
        if not arg.startswith("--") or arg in ("--help",):
            continue
        name = arg.split("=", 1)[0]
        if name in seen and name not in REPEATABLE:
            raise ConfigError(f"{name} is given twice: give it once")
        seen.add(name)


def _run(args: list[str]) -> None:
    """Run the command ``args``; exit with one ``error:`` line when it cannot be done."""
    try:
        _refuse_repeated_options(args)
        _register_commands()  # a plug-in modality that cannot load is one error line too
        code = _click_command()(args=args, standalone_mode=False)
        _said_pending_notes()
    except Interrupted as err:
        typer.echo(interrupted_message(args), err=True)
        sys.unraisablehook = _quiet_after_interrupt
        _exit_interrupted(err.exit_code)
    except MedadaptError as err:
        typer.echo(f"error: {err}{_held_notes_for(str(err))}", err=True)
        sys.exit(err.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo(interrupted_message(args), err=True)
        sys.unraisablehook = _quiet_after_interrupt
        _exit_interrupted(INTERRUPTED_EXIT)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except OSError as exc:  # the disk filled, a folder became unwritable ... during the work
        typer.echo(f"error: {system_message(exc)}", err=True)
        sys.exit(1)
    except MemoryError:
        typer.echo(f"error: {OUT_OF_MEMORY}", err=True)
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            typer.echo(f"error: {usage_message(exc, args)}", err=True)
            sys.exit(exc.exit_code)
        raise
    if isinstance(code, int) and not isinstance(code, bool) and code != 0:
        if code == INTERRUPTED_EXIT:  # typer's translation of KeyboardInterrupt
            typer.echo(interrupted_message(args), err=True)
            sys.unraisablehook = _quiet_after_interrupt  # (Ctrl-C comes this way, not above)
            _exit_interrupted(code)
        sys.exit(code)

"""What imaging libraries log and warn while a file is read, as one-line notes.

pydicom and its decoder plugins report through :mod:`logging` (a failed decode is logged with
its traceback, once per plugin tried) and :func:`warnings.warn` (odd values, excess padding).
Left alone, both reach the user's terminal through the command line's logging set-up, with
tracebacks. :func:`collect_notes` holds them back while one file is read: each record or
warning becomes one line (the first line of its message; developer warnings such as
deprecations are dropped). A file that cannot be read is reported once with its own one-line
reason; the notes of the files that were read are logged by :func:`report_notes` to the
``medadapt.notes`` logger, each distinct note once, as ``FILE: NOTE (and N more files)``;
what medadapt itself did to a whole read (colour images converted to gray) is logged there
by :func:`report_counted`, one line per kind, counts only.

The loggers and :func:`warnings.showwarning` are switched process-wide while any thread reads
a file, and each record or warning goes to the notes of the thread that raised it (threads of
``serve``'s decode pool read at once). Handlers a library gives its own loggers (nibabel's
``nibabel.global`` writes straight to the terminal) are detached meanwhile too.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator, Sequence

#: the loggers of the libraries that read image files (pydicom's children included)
LIBRARY_LOGGERS = ("pydicom", "pylibjpeg", "libjpeg", "openjpeg", "rle", "jpeg_ls", "nibabel")
_DEVELOPER_WARNINGS = (
    DeprecationWarning,
    PendingDeprecationWarning,
    ImportWarning,
    ResourceWarning,
)

log = logging.getLogger("medadapt.notes")


def note_text(message: object) -> str:
    """The first non-empty line of a log message or warning."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    return lines[0] if lines else ""


class _Dispatcher(logging.Handler):
    """Hands each library record (WARNING and above) to the notes of the thread that is
    collecting; a record of another thread goes where it would have gone (the root logger's
    handlers, as the library loggers propagate there)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        blocks = _collecting.get(threading.get_ident())
        if blocks:
            blocks[-1].append(note_text(record.getMessage()))
        else:
            logging.getLogger().handle(record)


def _show(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` while notes are collected: the collecting thread's warnings
    become notes (developer warnings dropped); another thread's are shown as before."""
    blocks = _collecting.get(threading.get_ident())
    if not blocks:  # another thread's, or this hook left behind by a catch_warnings block
        shown = _saved.get("showwarning", _ORIGINAL_SHOWWARNING)
        shown(message, category, filename, lineno, file, line)  # type: ignore[operator]
    elif not issubclass(category, _DEVELOPER_WARNINGS):
        blocks[-1].append(note_text(message))


#: the notes of each thread reading a file now, by thread id (a list per open block, the
#: innermost last); the loggers and ``warnings.showwarning`` are switched while it is not empty
_collecting: dict[int, list[list[str]]] = {}
_saved: dict[str, object] = {}
#: where a warning goes when nobody collects: another thread's ``warnings.catch_warnings``
#: block, begun while notes were collected and ended after, puts :func:`_show` back for good
_ORIGINAL_SHOWWARNING = warnings.showwarning
_lock = threading.Lock()
_dispatcher = _Dispatcher()


def _own_handlers() -> dict[logging.Logger, list[logging.Handler]]:
    """The handlers of the library loggers' descendants (``nibabel.global``), by logger."""
    prefixes = tuple(f"{name}." for name in LIBRARY_LOGGERS)
    found = {}
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if name.startswith(prefixes) and isinstance(logger, logging.Logger) and logger.handlers:
            found[logger] = list(logger.handlers)
    return found


def _switch_on() -> None:
    """Route the library loggers and ``warnings`` through the collectors (first reader in)."""
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    _saved.update(propagate=[logger.propagate for logger in loggers], own=_own_handlers(),
                  showwarning=warnings.showwarning, filters=list(warnings.filters))  # fmt: skip
    for child, handlers in _saved["own"].items():
        for handler in handlers:
            child.removeHandler(handler)
    for logger in loggers:
        logger.addHandler(_dispatcher)
        logger.propagate = False
    warnings.showwarning = _show
    warnings.simplefilter("always")


def _switch_off() -> None:
    """Undo :func:`_switch_on` (last reader out)."""
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    for logger, before in zip(loggers, _saved["propagate"], strict=True):
        logger.removeHandler(_dispatcher)
        logger.propagate = before
    for child, handlers in _saved["own"].items():
        for handler in handlers:
            child.addHandler(handler)
    warnings.showwarning = _saved["showwarning"]
    warnings.filters[:] = _saved["filters"]
    warnings._filters_mutated()  # type: ignore[attr-defined]  # as catch_warnings does
    _saved.clear()


@contextlib.contextmanager
def collect_notes() -> Iterator[list[str]]:
    """Collect the library log records (WARNING and above, without their tracebacks) and
    warnings raised in the block by this thread into the yielded list, distinct and in
    order; none of them reaches another handler or the terminal. Threads may collect at
    once (``serve`` decodes uploads in a pool): each gets its own notes (one
    :func:`warnings.catch_warnings` per thread would swap the process-wide hooks under each
    other, giving one upload another's notes and leaving the loggers silenced)."""
    notes: list[str] = []
    thread = threading.get_ident()
    with _lock:
        if not _collecting:
            _switch_on()
        _collecting.setdefault(thread, []).append(notes)
    try:
        yield notes
    finally:
        with _lock:
            blocks = _collecting[thread]
            del blocks[next(i for i, block in enumerate(blocks) if block is notes)]
            if not blocks:
                del _collecting[thread]
            if not _collecting:
                _switch_off()
        notes[:] = [n for n in dict.fromkeys(notes) if n]


def report_notes(noted: Sequence[tuple[str, str]]) -> None:
    """Log each distinct note of ``(file, note)`` pairs once, naming its first file."""
    files: dict[str, list[str]] = {}
    for path, note in noted:
        files.setdefault(note, []).append(path)
    for note, paths in files.items():
        more = f" (and {len(paths) - 1} more files)" if len(paths) > 1 else ""
        log.warning("%s: %s%s", paths[0], note, more)


def report_counted(lines: Sequence[str]) -> None:
    """Log each distinct line once: notes about a whole read that count images and name no
    file or value ("4 colour images were converted to gray ...")."""
    for line in dict.fromkeys(lines):
        log.warning("%s", line)

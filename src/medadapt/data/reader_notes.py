"""What imaging libraries log and warn while a file is read, as one-line notes.

pydicom and its decoder plugins report through :mod:`logging` (a failed decode is logged with
its traceback, once per plugin tried) and :func:`warnings.warn` (odd values, excess padding).
Left alone, both reach the user's terminal through the command line's logging set-up, with
tracebacks. :func:`collect_notes` holds them back while one file is read: each record or
warning becomes one line (the first line of its message; developer warnings such as
deprecations are dropped). A file that cannot be read is reported once with its own one-line
reason; the notes of the files that were read are logged by :func:`report_notes` to the
``medadapt.notes`` logger, each distinct note once, as ``FILE: NOTE (and N more files)``.

The loggers are switched process-wide while a file is read: readers run one file at a time.
Handlers a library gives its own loggers (nibabel's ``nibabel.global`` writes straight to the
terminal) are detached meanwhile too.
"""

from __future__ import annotations

import contextlib
import logging
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


class _Collector(logging.Handler):
    def __init__(self, notes: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.notes = notes

    def emit(self, record: logging.LogRecord) -> None:
        self.notes.append(note_text(record.getMessage()))


def _own_handlers() -> dict[logging.Logger, list[logging.Handler]]:
    """The handlers of the library loggers' descendants (``nibabel.global``), by logger."""
    prefixes = tuple(f"{name}." for name in LIBRARY_LOGGERS)
    found = {}
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if name.startswith(prefixes) and isinstance(logger, logging.Logger) and logger.handlers:
            found[logger] = list(logger.handlers)
    return found


@contextlib.contextmanager
def collect_notes() -> Iterator[list[str]]:
    """Collect the library log records (WARNING and above, without their tracebacks) and
    warnings raised in the block into the yielded list, distinct and in order; none of
    them reaches another handler or the terminal."""
    notes: list[str] = []
    collector = _Collector(notes)
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    propagate = [logger.propagate for logger in loggers]
    own = _own_handlers()
    for child, handlers in own.items():
        for handler in handlers:
            child.removeHandler(handler)
    for logger in loggers:
        logger.addHandler(collector)
        logger.propagate = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield notes
        finally:
            for logger, before in zip(loggers, propagate, strict=True):
                logger.removeHandler(collector)
                logger.propagate = before
            for child, handlers in own.items():
                for handler in handlers:
                    child.addHandler(handler)
            notes += [
                note_text(w.message)
                for w in caught
                if not issubclass(w.category, _DEVELOPER_WARNINGS)
            ]
            notes[:] = [n for n in dict.fromkeys(notes) if n]


def report_notes(noted: Sequence[tuple[str, str]]) -> None:
    """Log each distinct note of ``(file, note)`` pairs once, naming its first file."""
    files: dict[str, list[str]] = {}
    for path, note in noted:
        files.setdefault(note, []).append(path)
    for note, paths in files.items():
        more = f" (and {len(paths) - 1} more files)" if len(paths) > 1 else ""
        log.warning("%s: %s%s", paths[0], note, more)

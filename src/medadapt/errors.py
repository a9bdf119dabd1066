"""Errors a user can act on.

Every exception raised for bad input or a bad file derives from :class:`MedadaptError`. Its
message is one line that names the problem and the fix; the command line prints exactly that
line (no traceback) and exits non-zero.
"""

from __future__ import annotations


class MedadaptError(Exception):
    """Base class: a problem the user can fix; ``str(err)`` is a one-line instruction."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        one_line = " ".join(message.split())
        super().__init__(one_line)


class ConfigError(MedadaptError, ValueError):
    """A configuration value is out of range or inconsistent."""


class TargetError(MedadaptError, ValueError):
    """An adapter target matched no module, or a module that cannot carry that method."""


class AdapterStateError(MedadaptError, RuntimeError):
    """An operation is not allowed in the adapter's current state (merged, unknown name...)."""


class AdapterFileError(MedadaptError, OSError):
    """An adapter file is missing, truncated, tampered with, or for another base model."""


COPY_BASE_AGAIN = "copy the base model again"
"""How a refusal to load a damaged base model folder ends (its fix, after ``; ``): a registry,
which gives its own fix ("add it again with add-base"), quotes the refusal without it."""


class DataError(MedadaptError, ValueError):
    """An input data file or table cannot be used as given."""


class Interrupted(BaseException):
    """The process was asked to stop (SIGTERM) while working; finished work was kept.

    The command line prints its one-line ``interrupted; ...`` message and exits 143. Like
    ``KeyboardInterrupt`` (Ctrl-C), it derives from ``BaseException``, not from
    :class:`MedadaptError`: an ``except Exception`` on its way (a reader trying a file's
    format) must not swallow it and carry on, leaving a half-written output behind.
    """

    exit_code = 143  # 128 + SIGTERM

"""How a message names the option that fixes it: the command line's flag or the Python argument.

The table checks are shared by the command line and the Python API; each caller says whose
words its user reads, so a Python user is told ``id_column='id'``, not ``--id-column id``.

>>> COMMAND_LINE.set_to("numeric", "record id")
"--numeric 'record id'"
>>> PYTHON.set_to("numeric", "record id")
"numeric=['record id']"
>>> PYTHON.set_to("missing_code", "chol=0"), PYTHON.name("data")
("missing_codes={'chol': 0}", 'path')

A message of code that several commands share names a flag as the fix only where the running
command takes it (:func:`takes`; each command sets its flags with :func:`command_flags`):
``check-data`` is not told to pass a flag only ``adapt`` has.

>>> takes("--label")  # outside a command (the Python API): every flag may be named
True
>>> with command_flags(["--data", "--base"]):
...     takes("--label"), takes("--base")
(False, True)
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

LISTED = frozenset({"categorical", "numeric", "exclude", "allow_leak"})
"""Options that take several columns: a list in Python."""
PYTHON_NAMES = {"missing_code": "missing_codes", "data": "path"}
"""Python arguments spelled otherwise than their flag."""


@dataclass(frozen=True)
class OptionWords:
    """The spelling of options in messages: ``python`` for the Python API's arguments."""

    python: bool

    def name(self, option: str) -> str:
        """``id_column`` -> ``--id-column`` (command line) or ``id_column`` (Python)."""
        if self.python:
            return PYTHON_NAMES.get(option, option)
        return "--" + option.replace("_", "-")

    def set_to(
        self, option: str, value: str, *, quote: Literal["shell", "repr", "none"] = "shell"
    ) -> str:
        """``option`` given ``value``: ``--numeric id`` or ``numeric=['id']``. ``quote``: how
        the command line shows the value (a placeholder such as ``THRESHOLD``: ``none``, and
        then Python shows it bare too)."""
        if not self.python:
            shown = {"shell": shlex.quote, "repr": repr}.get(quote, str)(value)
            return f"{self.name(option)} {shown}"
        if quote == "none" and option != "data":
            return f"{self.name(option)}={value}"
        if option == "missing_code":
            column, _, code = value.partition("=")
            return f"missing_codes={{{column!r}: {code}}}"
        shown = [value] if option in LISTED else value
        return f"{self.name(option)}={shown!r}"

    def set_all(self, option: str, values: list[str]) -> str:
        """A list option given several columns: ``--numeric a,b`` or ``numeric=['a', 'b']``."""
        if self.python:
            return f"{self.name(option)}={list(values)!r}"
        return f"{self.name(option)} {shlex.quote(','.join(values))}"


COMMAND_LINE = OptionWords(python=False)
PYTHON = OptionWords(python=True)


_COMMAND_FLAGS: ContextVar[frozenset[str] | None] = ContextVar("command_flags", default=None)


@contextlib.contextmanager
def command_flags(flags: Iterable[str]) -> Iterator[None]:
    """Within the block, :func:`takes` answers for a command that takes ``flags`` (each
    spelling: ``--compare-full`` and ``--no-compare-full``)."""
    token = _COMMAND_FLAGS.set(frozenset(flags))
    try:
        yield
    finally:
        _COMMAND_FLAGS.reset(token)


def takes(flag: str) -> bool:
    """Whether the running command takes ``flag``, so that a message may name it as the fix
    (outside :func:`command_flags`, as in the Python API: always)."""
    flags = _COMMAND_FLAGS.get()
    return flags is None or flag in flags

"""How a message names the option that fixes it: the command line's flag or the Python argument.

The table checks are shared by the command line and the Python API; each caller says whose
words its user reads, so a Python user is told ``id_column='id'``, not ``--id-column id``.

>>> COMMAND_LINE.set_to("numeric", "record id")
"--numeric 'record id'"
>>> PYTHON.set_to("numeric", "record id")
"numeric=['record id']"
>>> PYTHON.set_to("missing_code", "chol=0"), PYTHON.name("data")
("missing_codes={'chol': 0}", 'path')
"""

from __future__ import annotations

import shlex
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


COMMAND_LINE = OptionWords(python=False)
PYTHON = OptionWords(python=True)

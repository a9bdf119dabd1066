"""How medadapt says a count in its messages: ``1 row``, ``2 rows``, never ``2 row(s)``.

One rule for every layer (the data checks, training, the server, the command line), so a
message reads as a sentence whatever its count.
"""

from __future__ import annotations


def noun_for(n: int, noun: str, nouns: str | None = None) -> str:
    """``noun`` for a count of one, else its plural (``nouns``, else ``noun`` + s).

    >>> noun_for(1, "group"), noun_for(2, "group"), noun_for(0, "entry", "entries")
    ('group', 'groups', 'entries')
    """
    return noun if n == 1 else nouns or noun + "s"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``n`` and its noun (:func:`noun_for`).

    >>> plural(1, "row"), plural(0, "row"), plural(3, "base copy", "base copies")
    ('1 row', '0 rows', '3 base copies')
    """
    return f"{n} {noun_for(n, noun, nouns)}"

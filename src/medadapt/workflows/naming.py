"""Names made from data values (a group, a class) for adapters and files: lower-case ASCII
letters, digits and ``_``. Accented letters keep their base letter (``Zürich`` -> ``zurich``)
rather than becoming a separator."""

from __future__ import annotations

import re
import unicodedata

_OWN_LETTERS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH"}
)  # fmt: skip
"""Latin letters that are not a base letter plus marks, so NFKD leaves them as they are."""


def transliterate(text: str) -> str:
    """``text`` with accents dropped (NFKD, without the combining marks): ``"Zürich"`` ->
    ``"Zurich"``, ``"Straße"`` -> ``"Strasse"``; other scripts are kept as they are."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_OWN_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slug(text: str) -> str:
    """``"VA Long Beach"`` -> ``"va_long_beach"``, ``"Zürich"`` -> ``"zurich"``; ``"group"``
    when no ASCII letter or digit is left.

    >>> slug("São Paulo (Centro)")
    'sao_paulo_centro'
    """
    return re.sub(r"[^A-Za-z0-9]+", "_", transliterate(text)).strip("_").lower() or "group"

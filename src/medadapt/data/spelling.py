"""Label and class names spelt like one another: a typo, not a class of its own.

``malignent`` beside ``malignant``, ``pneumonai`` beside ``pneumonia``: at most two edits apart
(insert, delete, substitute, swap two neighbours; one for names under five letters), neither a
number, not two of a series (``grade1``/``grade2``, ``typeA``/``typeB``) and not one the
other's opposite (``abnormal``/``normal``, ``unstable``/``stable``: two classes).

>>> spelt_alike("malignent", "malignant"), spelt_alike("abnromal", "abnormal")
(True, True)
>>> spelt_alike("abnormal", "normal"), spelt_alike("grade1", "grade2")
(False, False)
"""

from __future__ import annotations

import re

from medadapt.checks import is_number

#: a label value (a class) this rare, under this share of the rows or images or under this
#: many, may be a typo when it is spelt like a commoner one: refused (tables, image folders)
RARE_LABEL_SHARE, RARE_LABEL_ROWS = 0.05, 10

#: prefixes that make a word its opposite: ``abnormal``/``normal``, ``unstable``/``stable``
NEGATIONS = ("ab", "a", "un", "in", "im", "non", "non-", "dis", "ir")


def folded(name: str) -> str:
    """``name`` without case and spacing (``No finding`` and ``no_finding`` are alike); a
    number, or a hyphen between digits (``-1``, ``T1-2``), keeps its ``-``."""
    spaced = re.sub(r"[\s_]+", "", name.casefold())
    return re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", "", spaced)  # only between letters


def spelt_alike(a: str, b: str, *, folded_alike: bool = True) -> bool:
    """Whether one of ``a`` and ``b`` looks like a misspelling of the other (see the module);
    two names the same but for case or spacing are alike unless ``folded_alike`` is False
    (where the caller refuses those on their own)."""
    if a == b or is_number(a) or is_number(b):
        return False
    if folded(a) == folded(b):
        return folded_alike
    x, y = a.casefold(), b.casefold()
    if x[:-1] == y[:-1] or re.sub(r"\d", "", x) == re.sub(r"\d", "", y):
        return False  # one of a series (grade1/grade2, stage2/stage3, typeA/typeB)
    if any(x == f"{p}{y}" or y == f"{p}{x}" for p in NEGATIONS):
        return False  # opposites: abnormal/normal
    shorter = min(len(a), len(b))
    allowed = 2 if shorter >= 5 else 1 if shorter >= 4 else 0
    return edit_distance(x, y) <= allowed


def edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) that turn ``a`` into ``b``."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            best = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, rows[-2][j - 2] + 1)
            row.append(best)
        rows.append(row)
    return rows[-1][-1]

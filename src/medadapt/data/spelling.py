"""Label and class names spelt like one another: a typo, not a class of its own.

``malignent`` beside ``malignant``, ``pneumonai`` beside ``pneumonia``: at most two edits apart
(insert, delete, substitute, swap two neighbours; one for names under six letters), neither a
number, not two of a series (``grade1``/``grade2``, ``typeA``/``typeB``) and not one the
other's opposite (``abnormal``/``normal``, ``unstable``/``stable``: two classes).

>>> spelt_alike("malignent", "malignant"), spelt_alike("abnromal", "abnormal")
(True, True)
>>> spelt_alike("abnormal", "normal"), spelt_alike("grade1", "grade2")
(False, False)
>>> spelt_alike("North", "South"), spelt_alike("Nroth", "North")
(False, True)
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
    if shorter < 4:  # no edit at all is safe here (CAD/CHD, MI/MS): only the commonest slips
        return not (_acronym(a) or _acronym(b)) and short_slip(x, y)
    allowed = 2 if shorter >= 6 else 1  # North/South: two edits of five letters, two sites
    return edit_distance(x, y) <= allowed


def _acronym(name: str) -> bool:
    """A short name that is an abbreviation or a numeral, never a word slipped: written in
    capitals (``CHF``, ``AD``/``ADD``, ``ALT``) or in Roman numerals (``II``, ``iii``: a NYHA
    class, a stage).

    >>> [_acronym("CHF"), _acronym("ii"), _acronym("Yes"), _acronym("yse")]
    [True, True, False, False]
    """
    return (len(name) > 1 and name.isupper()) or re.fullmatch(
        r"[ivxlcdm]+", name.casefold()
    ) is not None


def short_slip(a: str, b: str) -> bool:
    """Whether a short name (``yes``, ``no``) is the other slipped: two neighbours swapped in
    three letters (``yse``; in two, ``dx``/``xd`` are other words), a letter doubled
    (``yess``, ``nno``) or one dropped inside a word of three letters or more (``ys``); never
    a letter changed or one added at either end, which make other short words
    (``CAD``/``CHD``, ``MI``/``AMI``); letters only (``T1-2`` is a code).

    >>> [short_slip("yse", "yes"), short_slip("yess", "yes"), short_slip("nno", "no")]
    [True, True, True]
    >>> [short_slip("ys", "yes"), short_slip("cad", "chd"), short_slip("mi", "ami")]
    [True, False, False]
    """
    if not (a.isalpha() and b.isalpha()):
        return False  # codes (T1-2, T12) are not words slipped
    if len(a) == len(b):  # two letters swapped: another word (dx/xd, no/on)
        return len(a) >= 3 and sorted(a) == sorted(b) and edit_distance(a, b) == 1
    short, long = sorted((a, b), key=len)
    if len(long) - len(short) != 1:
        return False
    dropped = [i for i in range(len(long)) if long[:i] + long[i + 1 :] == short]
    doubled = any(long[i] == long[i + 1] for i in dropped if i + 1 < len(long))
    doubled = doubled or any(long[i] == long[i - 1] for i in dropped if i > 0)
    inside = len(long) >= 3 and any(0 < i < len(long) - 1 for i in dropped)
    return doubled or inside


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

"""An image model's classes: which of two is positive, and class names spelt like another.

A binary image model scores its last class (P(positive) is ``scores[:, 1]``), so the class
order decides what sensitivity is about. :func:`positive_last` orders two classes:
``--positive-class``, else the order of ``--class-names``, else the one that is not plainly the
negative one (``normal``, ``healthy``, ``no_finding`` ...), else the one that sorts last
(:func:`task_line` says which and why).

>>> reads_negative("No_Finding"), reads_negative("abnormal")
(True, False)
>>> positive_last(["abnormal", "normal"], None, named=False)
(['normal', 'abnormal'], 'negative-name')
>>> spelt_alike("abnromal", "abnormal"), spelt_alike("mass", "nodule")
(True, False)
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from medadapt.data.option_words import COMMAND_LINE, OptionWords
from medadapt.data.spelling import folded, spelt_alike
from medadapt.errors import ConfigError, DataError

#: words that name the negative class of a two-class image model (compared word by word)
NEGATIVE_WORDS = frozenset(
    ("normal", "negative", "healthy", "benign", "control", "no", "none", "absent", "0", "nofinding",
     "non", "not", "without")
)  # fmt: skip
#: written glued to the other class's name, these make it the negative one (``notumor`` for
#: ``tumor``, ``nonnodule`` for ``nodule``)
NEGATING_PREFIXES = ("no", "non", "not", "without")
FEW = 4  # a class with at most 1/FEW of a like-spelt class's images is "very few"


def words(name: str) -> list[str]:
    """``name``'s words, lower case (``No_Finding`` -> ``['no', 'finding']``)."""
    return [w for w in re.split(r"[^0-9a-z]+", name.casefold()) if w]


def reads_negative(name: str) -> bool:
    """Whether a class name reads as the negative one (a word of :data:`NEGATIVE_WORDS`)."""
    found = words(name)
    return any(w in NEGATIVE_WORDS for w in found) or "".join(found) in NEGATIVE_WORDS


def negates(name: str, other: str) -> bool:
    """Whether class ``name`` is ``other`` negated by a glued prefix (``notumor``/``tumor``)."""
    core = folded(other)
    return any(folded(name) == prefix + core for prefix in NEGATING_PREFIXES)


def positive_last(
    classes: Sequence[str], positive: str | None, *, named: bool
) -> tuple[list[str], str | None]:
    """``classes`` with the positive one last, and what chose it: ``flag``
    (``--positive-class``), ``names`` (the order of ``--class-names``, when ``named``),
    ``negative-name`` (the other class reads as the negative one) or ``sorted``; None for
    more than two classes."""
    classes = list(classes)
    if len(classes) != 2:
        if positive is not None:
            raise ConfigError(
                f"--positive-class {positive} chooses which of two classes is positive, but the "
                f"data have {len(classes)} classes ({', '.join(map(repr, classes))}): drop it"
            )
        return classes, None
    if positive is not None:
        if positive not in classes:
            raise ConfigError(
                f"--positive-class {positive} is not a class of the data; its classes are "
                f"{classes[0]!r} and {classes[1]!r}"
            )
        return [c for c in classes if c != positive] + [positive], "flag"
    if named:
        return classes, "names"
    first, second = map(reads_negative, classes)
    if first == second:  # "notumor" for "tumor": the other's name, negated
        first, second = (negates(classes[0], classes[1]), negates(classes[1], classes[0]))
    if first != second:
        return (classes if first else classes[::-1]), "negative-name"
    return classes, "sorted"


def task_line(classes: Sequence[str], how: str | None) -> str | None:
    """The line ``train-base`` prints about a two-class image model's positive class (as it
    does for a table's label), or None."""
    if how is None or len(classes) != 2:
        return None
    negative, positive = classes
    what = f"task: binary, positive class {positive!r} (of {negative!r}, {positive!r})"
    if how == "flag":
        return f"{what} set by --positive-class"
    other = f"--positive-class {shlex.quote(negative)} makes {negative!r} positive"
    if how == "names":
        return f"{what}, the last of --class-names; {other}"
    if how == "negative-name":
        return f"{what}, as {negative!r} reads as the negative class; {other}"
    return f"{what}, the one that sorts last; {other}"


def sorted_positive_warning(
    classes: Sequence[str], how: str | None, words: OptionWords = COMMAND_LINE
) -> str | None:
    """The warning for two classes whose positive one nothing chose (no ``--positive-class``,
    no ``--class-names``, neither name reads as the negative one), so the one that sorts last
    is positive, as a table's two-valued label warns: sensitivity could be about the healthy.
    None when something chose it (``how``, from :func:`positive_last`)."""
    if how != "sorted" or len(classes) != 2:
        return None
    negative, positive = classes
    return (
        f"class {positive!r} is treated as the positive class (sensitivity and the predicted "
        f"probability are about it) only because it sorts after {negative!r}; choose with "
        f"{words.name('positive_class')}: {words.set_to('positive_class', negative)} if "
        f"{negative!r} is the outcome to detect, {words.set_to('positive_class', positive)} "
        "to keep this"
    )


def typo_notes(counts: Mapping[str, int]) -> list[str]:
    """A warning per class with very few images whose name is spelt like a larger class's."""
    notes = []
    for name, n in counts.items():
        like = [o for o, m in counts.items() if m >= FEW * max(n, 1) and spelt_alike(name, o)]
        if n and like:
            other = max(like, key=lambda o: counts[o])
            notes.append(
                f"class {name!r} ({n} image{'s' if n != 1 else ''}) is spelt like {other!r}: a "
                "typo? fix the labels, or pass --class-names to keep both"
            )
    return notes


def refuse_respelt(data: Path, labels: Sequence[str] | None, classes: Sequence[str]) -> None:
    """Refuse labels that are a model class but for case or spacing (``Normal`` for
    ``normal``): one class written another way, never a new one."""
    known = {folded(c): c for c in classes}
    pairs = [(label, known[folded(label)]) for label in sorted(set(labels or ()))
             if label not in classes and folded(label) in known]  # fmt: skip
    if not pairs:
        return
    shown = ", ".join(f"{label!r} for {ours!r}" for label, ours in pairs[:3])
    where = "the class folders" if Path(data).is_dir() else "the labels"
    raise DataError(
        f"{data} spells the model's classes another way ({shown}: they differ only in "
        f"upper/lower case or spacing): rename {where} to the model's spelling "
        f"{', '.join(repr(ours) for _, ours in pairs[:3])}"
    )

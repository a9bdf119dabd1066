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
from medadapt.data.spelling import RARE_LABEL_ROWS, RARE_LABEL_SHARE, folded, spelt_alike
from medadapt.errors import ConfigError, DataError
from medadapt.wording import plural

#: words that name the negative class of a two-class image model (compared word by word)
NEGATIVE_WORDS = frozenset(
    ("normal", "negative", "healthy", "benign", "control", "no", "none", "absent", "0", "nofinding",
     "non", "not", "without")
)  # fmt: skip
#: written glued to the other class's name, these make it the negative one (``notumor`` for
#: ``tumor``, ``nonnodule`` for ``nodule``)
NEGATING_PREFIXES = ("no", "non", "not", "without")
FEW = 4  # a class with at most 1/FEW of a like-spelt class's images is "very few"
#: the fewest images of a class a new base is trained on unless ``--class-names`` names it: as
#: :data:`medadapt.evaluate.metrics.MIN_PER_CLASS`, the fewest any figure about a class rests on
FEWEST_IMAGES = 5


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
            like = [c for c in classes if spelt_alike(positive, c)]
            meant = f" (did you mean {like[0]!r}?)" if like else ""
            raise ConfigError(
                f"--positive-class {positive} is not a class of the data{meant}; its classes "
                f"are {classes[0]!r} and {classes[1]!r}"
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
    is positive, as a table's two-valued label warns: sensitivity could be about the healthy;
    and for a positive class chosen otherwise than by ``--positive-class`` whose name reads as
    the negative one where the other's does not (:func:`negative_positive_warning`). None when
    ``--positive-class`` chose it, or the order is plain (``how``, from
    :func:`positive_last`)."""
    if how in (None, "flag") or len(classes) != 2:
        return None
    if how != "sorted":
        return negative_positive_warning(classes, how, words)
    negative, positive = classes
    return (
        f"class {positive!r} is treated as the positive class (sensitivity and the predicted "
        f"probability are about it) only because it sorts after {negative!r}; choose with "
        f"{words.name('positive_class')}: {words.set_to('positive_class', negative)} if "
        f"{negative!r} is the outcome to detect, {words.set_to('positive_class', positive)} "
        "to keep this"
    )


def _negative_of(name: str, other: str) -> bool:
    """Whether ``name`` reads as the negative class beside ``other`` (``normal``;
    ``notumor`` beside ``tumor``)."""
    return reads_negative(name) or negates(name, other)


def negative_positive_warning(
    classes: Sequence[str], how: str, words: OptionWords = COMMAND_LINE
) -> str | None:
    """The warning when the positive class of two (the last of ``classes``), chosen ``how``
    (the order of ``--class-names``, of a dataset's classes in Python), has a name that reads
    as the negative one (``benign``, ``normal``: :func:`reads_negative`; ``notumor`` beside
    ``tumor``: :func:`negates`) and the other's does not: sensitivity and P(positive) would
    be about the healthy. None otherwise.

    >>> negative_positive_warning(["malignant", "benign"], "names")[:58]
    "class 'benign' is the positive class (sensitivity and the "
    """
    negative, positive = classes
    if not _negative_of(positive, negative) or _negative_of(negative, positive):
        return None
    order = "the dataset's classes" if words.python else words.name("class_names")
    return (
        f"class {positive!r} is the positive class (sensitivity and the predicted probability "
        f"are about it) as the last of {order}, but its name reads as the negative class; "
        f"choose with {words.name('positive_class')}: "
        f"{words.set_to('positive_class', negative)} if {negative!r} is the outcome to detect, "
        f"{words.set_to('positive_class', positive)} to keep this"
    )


def typo_notes(counts: Mapping[str, int]) -> list[str]:
    """A warning per class with very few images whose name is spelt like a larger class's;
    first, a class a new base could not learn (a typo or a stray folder) is refused
    (:func:`refuse_stray_classes`). ``counts``: per class, the images read (a new base's,
    whose classes no ``--class-names`` named)."""
    refuse_stray_classes(counts)
    notes = []
    for name, n in counts.items():
        like = [o for o, m in counts.items() if m >= FEW * max(n, 1) and spelt_alike(name, o)]
        if n and like:
            other = max(like, key=lambda o: counts[o])
            notes.append(
                f"class {name!r} ({plural(n, 'image')}) is spelt like {other!r}: a "
                "typo? fix the labels, or pass --class-names to keep both"
            )
    return notes


def kept_small_class_notes(counts: Mapping[str, int]) -> list[str]:
    """A warning per class of a new base that ``--class-names`` keeps although it has fewer
    than :data:`FEWEST_IMAGES` images beside a larger class, which :func:`refuse_stray_classes`
    would have refused without it (``counts``: per class, the images read): kept as asked,
    but a model learns next to nothing of it, and no figure about it can be reported. (A tiny
    data set's classes, four images beside six, are said by the held-out notes.)

    >>> kept_small_class_notes({"normal": 30, "effusion": 1})[0][:46]
    "class 'effusion' has 1 image, kept as --class-"
    """
    return [
        f"class {name!r} has {plural(n, 'image')}, kept as --class-names asks: "
        f"fewer than {FEWEST_IMAGES}, the fewest any figure about a class rests on, so the "
        "model learns next to nothing of it and no figure about it can be reported; add "
        f"images of {name!r} before relying on the model for it"
        for name, n in ((name, counts[name]) for name, _ in stray_classes(counts))
        if n < FEWEST_IMAGES
    ]


def refuse_stray_classes(counts: Mapping[str, int]) -> None:
    """Refuse a class of a new base that is a typo or a stray folder rather than a class to
    learn: one with fewer than :data:`FEWEST_IMAGES` images beside a class with at least that
    many and :data:`FEW` times as many (a ``mass/`` folder of one image beside 25 of another:
    not a tiny data set's class, four images beside six), or a rare one, as a table's label
    value is rare
    (under :data:`~medadapt.data.spelling.RARE_LABEL_ROWS` images or
    :data:`~medadapt.data.spelling.RARE_LABEL_SHARE` of them), spelt like a larger class
    (``lesoin`` beside ``lesion``: did you mean it?). ``--class-names`` keeps such a class.

    >>> refuse_stray_classes({"lesion": 25, "normal": 25, "lesoin": 3})
    Traceback (most recent call last):
    ...
    medadapt.errors.DataError: class 'lesoin' has 3 of the 53 images, spelt like 'lesion' ...
    """
    for name, like in stray_classes(counts)[:1]:
        raise DataError(_stray_class(name, counts, like))


def stray_classes(counts: Mapping[str, int]) -> list[tuple[str, list[str]]]:
    """The classes of ``counts`` (per class, its images) that :func:`refuse_stray_classes`
    refuses without ``--class-names``, fewest images first, each with the larger classes it
    is spelt like."""
    total, largest = sum(counts.values()), max(counts.values(), default=0)
    found = []
    for name, n in sorted(counts.items(), key=lambda item: (item[1], item[0])):
        like = [o for o, m in counts.items() if m > n and spelt_alike(name, o)]
        rare = n < RARE_LABEL_ROWS or n < RARE_LABEL_SHARE * total
        stray = n < FEWEST_IMAGES and largest >= max(FEWEST_IMAGES, FEW * n)
        if n and ((like and rare) or stray):
            found.append((name, like))
    return found


def stray_class_warnings(counts: Mapping[str, int]) -> list[str]:
    """What the image API says of the classes the command line refuses without
    ``--class-names`` (:func:`refuse_stray_classes`): it trains on the classes it is given,
    and says why such a class teaches the model little (a trial's class of 2 images beside
    30 trained without a word)."""
    kept = "images.train_base trains on it as given"
    return [_stray_class(name, counts, like, keep=kept) for name, like in stray_classes(counts)]


def _stray_class(name: str, counts: Mapping[str, int], like: Sequence[str],
                 keep: str | None = None) -> str:  # fmt: skip
    """Why class ``name`` (of ``counts``; spelt like the classes ``like``) is refused, and how
    to file its images, or keep it (``keep``: said instead where it is kept: the API's)."""
    n, total = counts[name], sum(counts.values())
    them, they = ("it", "it belongs") if n == 1 else ("them", "they belong")
    has = f"class {name!r} has {n} of the {total} images"
    if like:
        other = max(like, key=lambda o: counts[o])
        why = (f"{has}, spelt like {other!r} ({counts[other]} images): did you mean {other!r}? "
               "A typo would become a class of its own")  # fmt: skip
        fix = f"file {them} under {other!r} (move {them} into its folder, or correct the label)"
    else:
        why = (f"{has} (fewer than {FEWEST_IMAGES}, the fewest any figure about a class rests on):"
               " a base model cannot learn a class from so few, nor be tested on it")  # fmt: skip
        fix = (f"add images of {name!r}, file {them} under the class {they} to (move {them} "
               f"into that class's folder, or correct the label), or remove {them}")  # fmt: skip
    if keep is not None:
        return f"{why}; {keep}: {fix}"
    keep = (f"to keep {name!r} as a class of its own" if like else
            f"to keep {name!r} as a class all the same (so few images teach the model little "
            "of it, and no figure about it can be given)")  # fmt: skip
    return f"{why}; {fix}; or pass --class-names naming every class {keep}"


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


SHAPE_TIED_FROM = 3
"""Images of one shape, all of one class, from this many: a shape the model may learn."""


def shape_by_class_note(aspects: Sequence[float], labels: Sequence[int],
                        classes: Sequence[str]) -> str | None:  # fmt: skip
    """A warning where the training images of one shape (longer side over shorter, to one
    decimal) are all of one class, :data:`SHAPE_TIED_FROM` or more while other classes have
    other shapes: resized alike, they still differ (borders, stretching), and a model can
    learn the shape of one class's export or scanner instead of what the images show (a
    trial's 3:1 'normal' strips beside square 'abnormal' images trained without a word).
    Counts and shapes only; None where shapes do not follow the classes."""
    if len(aspects) != len(labels) or not len(aspects):
        return None
    by_shape: dict[float, set[int]] = {}
    counts: dict[float, int] = {}
    for ratio, label in zip(aspects, labels, strict=True):
        shape = round(float(ratio), 1)
        by_shape.setdefault(shape, set()).add(int(label))
        counts[shape] = counts.get(shape, 0) + 1
    if len(by_shape) < 2:
        return None
    tied = [(shape, next(iter(owners))) for shape, owners in sorted(by_shape.items())
            if len(owners) == 1 and counts[shape] >= SHAPE_TIED_FROM]  # fmt: skip
    if not tied:
        return None
    said = "; ".join(f"{counts[shape]} images of shape {shape:g}:1, all {classes[owner]!r}"
                     for shape, owner in tied)  # fmt: skip
    that = "that shape" if len(tied) == 1 else "those shapes"
    return (
        f"the training images' shapes follow their classes ({said}; no image of another "
        f"class has {that}): a model can learn an image's shape (one export's or scanner's) "
        "instead of what it shows; crop or pad every class's images alike, or check how each "
        "class was exported"
    )

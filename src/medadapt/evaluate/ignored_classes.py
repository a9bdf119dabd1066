"""What accuracy hides about a class a model ignores, said in counts.

A warning for each class the adapter has stopped predicting while the base model still called
some, for each class an adapter added and never predicts, and the caveat that accuracy, shown
where AUROC is withheld, rewards ignoring a rare class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from medadapt.wording import plural


def called_classes(scores: Any, threshold: float) -> np.ndarray:
    """Each sample's predicted class: the most probable of (N, K), or P(positive) at the
    threshold."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 2:
        return scores.argmax(axis=1)
    return (scores >= threshold).astype(int)


def unpredicted_classes(
    y: np.ndarray,
    adapted: Any,
    base: Any,
    names: Sequence[str],
    *,
    threshold: float = 0.5,
    unit: str = "patient",
) -> list[str]:
    """A warning for each class the adapter calls none of the samples while the base model
    alone called some: an adapter that has stopped predicting a rare class (or calls everyone
    negative) can still gain accuracy, and only the counts show it. Counts only, no rates."""
    y = np.asarray(y).astype(int)
    mine, theirs = called_classes(adapted, threshold), called_classes(base, threshold)
    n = len(y)
    warnings = []
    for c, name in enumerate(names):
        called = theirs == c
        members = int((y == c).sum())
        if (mine == c).any() or not called.any() or members == 0:  # none to miss: no harm
            continue
        found = int((called & (y == c)).sum())
        if members > 1:  # a trial read "the base model found 0 of them, the adapter none"
            both = f"{found} of them, the adapter none" if found else "none of them either"
            among = f"{members} of the {n} are {name}: the base model found {both}"
        else:
            among = (
                f"1 of the {n} is {name}: the base model "
                f"{'found it, the adapter did not' if found else 'missed it too'}"
            )
        warnings.append(
            f"the adapter calls none of these {plural(n, unit)} {name}, where the base model "
            f"alone called {int(called.sum())} of them {name} ({among}); its accuracy cannot "
            "show a class it never predicts"
        )
    return warnings


def fewer_found(
    y: np.ndarray,
    adapted: Any,
    base: Any,
    names: Sequence[str],
    *,
    threshold: float = 0.5,
    unit: str = "patient",
) -> list[str]:
    """A warning where the adapter, at the decision threshold, calls at most half as many of
    a class's samples that class as the base model alone did (and at least 2 fewer), though
    it still calls some of its samples, or others, that class: a trial's adapter found 1 of 15
    negatives where the base found 5, and its AUROC comparison, which no threshold moves,
    read "no detectable difference".
    Both classes' counts are said (the trade-off), and what the AUROC does not show. Two
    classes only (several have their per-class rows); counts only, no rates.

    >>> y = np.array([0] * 15 + [1] * 45)
    >>> base = np.r_[[0.2] * 5, [0.8] * 10, [0.3] * 5, [0.9] * 40]
    >>> adapted = np.r_[[0.2] * 1, [0.8] * 14, [0.9] * 45]
    >>> fewer_found(y, adapted, base, ["negative", "positive"])  # doctest: +NORMALIZE_WHITESPACE
    ['at threshold 0.5 the adapter calls 1 of the 15 negative patients negative, where the
    base model alone called 5, and 45 of the 45 positive patients positive (the base model
    40): the AUROC compared does not depend on the threshold, and does not show it']
    >>> adapted[0] = 0.8  # none found, though it calls one positive patient negative
    >>> adapted[-1] = 0.3
    >>> fewer_found(y, adapted, base, ["negative", "positive"])  # doctest: +NORMALIZE_WHITESPACE
    ['at threshold 0.5 the adapter calls 0 of the 15 negative patients negative, where the
    base model alone called 5, and 44 of the 45 positive patients positive (the base model
    40): the AUROC compared does not depend on the threshold, and does not show it']
    """
    found = _found(y, adapted, base, names, threshold)
    if found is None:
        return []
    # none found but some samples called that class all the same (wrongly): not a class it
    # stopped predicting (:func:`unpredicted_classes`), and worse than a few found (a trial's
    # federated adapter found 0 of 15 negatives where the base found 5, unsaid by both)
    calls = called_classes(adapted, threshold)
    if not any((a > 0 or (calls == c).any()) and a <= b / 2 and b - a >= 2
               for c, (a, b, _members) in enumerate(found)):  # fmt: skip
        return []
    return [_calls_sentence("the adapter", "the base model alone", found, names, threshold, unit)]


def more_found(
    y: np.ndarray,
    adapted: Any,
    base: Any,
    names: Sequence[str],
    *,
    threshold: float = 0.5,
    unit: str = "patient",
) -> str | None:
    """:func:`fewer_found` the other way, a finding in favour of the adapter: where the base
    model alone, at the decision threshold, called at most half as many of a class's samples
    that class as the adapter does (and at least 2 fewer; none at all included): a trial's
    base called every image 'ring', the adapter found 12 of 12 'normal' ones, and the AUROC
    compared, the same, read as "no difference". None where it did not.

    >>> y = np.array([0] * 12 + [1] * 12)
    >>> base, adapted = np.r_[[0.6] * 12, [0.9] * 12], np.r_[[0.1] * 12, [0.9] * 12]
    >>> more_found(y, adapted, base, ["'normal'", "'ring'"], unit="image")
    ... # doctest: +NORMALIZE_WHITESPACE
    "At threshold 0.5 the base model alone calls 0 of the 12 'normal' images 'normal', where the
    adapter calls 12, and 12 of the 12 'ring' images 'ring' (the adapter 12): the AUROC
    compared does not depend on the threshold, and does not show it."
    """
    found = _found(y, base, adapted, names, threshold)
    if found is None or not any(a <= b / 2 and b - a >= 2 for a, b, _members in found):
        return None
    said = _calls_sentence("the base model alone", "the adapter", found, names, threshold, unit)
    return f"{said[0].upper()}{said[1:]}."


def _found(
    y: Any, first: Any, second: Any, names: Sequence[str], threshold: float
) -> list[tuple[int, int, int]] | None:
    """Per class of two, ``(found by first, found by second, members)``: how many of its
    samples each model calls that class at ``threshold``; None for several classes."""
    if np.asarray(first, dtype=float).ndim == 2 or len(names) != 2:
        return None
    y = np.asarray(y).astype(int)
    mine, theirs = called_classes(first, threshold), called_classes(second, threshold)
    return [(int(((mine == c) & (y == c)).sum()), int(((theirs == c) & (y == c)).sum()),
             int((y == c).sum())) for c in (0, 1)]  # fmt: skip


def _calls_sentence(
    first: str,
    second: str,
    found: list[tuple[int, int, int]],
    names: Sequence[str],
    threshold: float,
    unit: str,
) -> str:
    """How many of each class's samples ``first`` calls that class against ``second``, and
    that the AUROC compared does not show it."""
    one, other = (
        f"{a} of the {members} {name} {unit}s {name}"
        for (a, _b, members), name in zip(found, names, strict=True)
    )
    verb = "called" if second.endswith("alone") else "calls"
    return (
        f"at threshold {threshold:g} {first} calls {one}, where {second} {verb} "
        f"{found[0][1]}, and {other} ({second.removesuffix(' alone')} {found[1][1]}): the AUROC "
        "compared does not depend on the threshold, and does not show it"
    )


def unlearnt_new_classes(
    y: np.ndarray, proba: Any, names: Sequence[str], n_old: int, *, unit: str = "image"
) -> list[str]:
    """A warning for each class an adapter added (``names[n_old:]``) that it calls none of
    these samples although some are of it: the new class is not learnt, whatever its AUROC
    or the old classes' retention says (a trial saw only "0 images called 'cavity'" in the
    per-class table). Counts only.

    >>> proba = np.array([[0.6, 0.1, 0.3], [0.2, 0.5, 0.3], [0.5, 0.1, 0.4]])
    >>> unlearnt_new_classes(np.array([0, 2, 2]), proba, ["normal", "nodule", "cavity"], 2)
    ... # doctest: +NORMALIZE_WHITESPACE
    ["the adapter calls none of these 3 images 'cavity', a class it added, though 2 of them
    are: it has not learnt it (train on more 'cavity' images, or more epochs), and its figures
    for 'cavity' describe a class it never predicts"]
    """
    y = np.asarray(y).astype(int)
    called = called_classes(proba, 0.5)
    n = len(y)
    warnings = []
    for c in range(n_old, len(names)):
        members = int((y == c).sum())
        if members == 0 or (called == c).any():
            continue
        name = repr(str(names[c]))
        of_them = f"{members} of them {'is' if members == 1 else 'are'}"
        warnings.append(
            f"the adapter calls none of these {plural(n, unit)} {name}, a class it added, "
            f"though {of_them}: it has not learnt it (train on more {name} {unit}s, or more "
            f"epochs), and its figures for {name} describe a class it never predicts"
        )
    return warnings


def accuracy_caveat(y: np.ndarray, names: Sequence[str], *, unit: str = "patient") -> str | None:
    """Where AUROC is withheld and accuracy is shown in its place, and the rarest class present
    has under half an even share of the samples (under a quarter of two classes; a trial was
    told "a rare class (here '1', 12 of these 57 patients)" among five): a sentence that
    accuracy rewards a model that ignores the rare class (it counts every sample alike),
    naming that class."""
    y = np.asarray(y).astype(int)
    counts = np.bincount(y, minlength=len(names))[: len(names)]
    n = len(y)
    present = np.flatnonzero(counts)  # a class no patient has here: accuracy hides no one of it
    if n == 0 or len(present) < 2:
        return None
    rare = int(present[counts[present].argmin()])
    if counts[rare] >= n / (2 * len(present)):  # not rare: at least half an even share
        return None
    return (
        "Accuracy, shown in its place, is no comparison of the two: it counts every "
        f"{unit} alike, so it rewards a model that ignores a rare class (here {names[rare]}, "
        f"{counts[rare]} of these {plural(n, unit)})."
    )

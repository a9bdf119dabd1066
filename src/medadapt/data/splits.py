"""Seeded, stratified splits and nested training fractions.

Positions are row positions (0..N-1) in the table given; they identify rows without copying
any of their content, so they can be recorded with a model.

>>> import numpy as np
>>> y = np.array([0] * 10 + [1] * 10)
>>> train, test = stratified_split(y, test_fraction=0.3, seed=0)
>>> len(train), len(test), int(y[test].sum())
(14, 6, 3)
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from sklearn.model_selection import train_test_split

from medadapt.errors import DataError


def _can_stratify(labels: np.ndarray, n_test: int) -> bool:
    _, counts = np.unique(labels, return_counts=True)
    return len(counts) > 1 and counts.min() >= 2 and n_test >= len(counts)


def stratified_split(
    labels: np.ndarray,
    *,
    test_fraction: float,
    seed: int,
    stratify: bool = True,
    groups: np.ndarray | None = None,
    unit: str = "rows",
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test positions (sorted). Stratified by ``labels`` when every class has two or
    more rows; regression targets (many distinct values) are split unstratified. Rows sharing
    a ``groups`` key (a patient, or identical content) stay on one side; the split is then
    drawn over the keys, stratified by the label of each key's first row. A stratified split
    that would leave fewer ``unit`` (what a position is, in words) to train on than there are
    classes is refused, naming the test fraction."""
    labels = np.asarray(labels)
    if groups is not None:
        keys, first, inverse = np.unique(np.asarray(groups), return_index=True, return_inverse=True)
        if len(keys) < 4 < len(labels):
            raise DataError(
                f"only {len(keys)} patients ({len(labels)} rows): too few to hold out a test "
                "set; add patients or lower the test fraction"
            )
        if len(keys) < len(labels):
            _, test_keys = stratified_split(  # the rows said too: a trial's 200 rows, one
                labels[first], test_fraction=test_fraction, seed=seed, stratify=stratify,
                unit=f"patients ({len(labels)} rows)",  # the copy of another, read as 199
            )  # fmt: skip
            in_test = np.isin(inverse, test_keys)
            return np.flatnonzero(~in_test), np.flatnonzero(in_test)
    n = len(labels)
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test fraction must be between 0 and 1, got {test_fraction}")
    n_test = math.ceil(n * test_fraction)
    if n >= 4 and n_test >= n:  # enough to split: the fraction leaves none to train on
        raise DataError(too_few_left(test_fraction, n, n_test, len(np.unique(labels)), unit))
    if n < 4:
        raise DataError(
            f"only {n} labelled rows: too few to hold out a test set (at least 4, whatever the "
            "test fraction); add rows"
        )
    positions = np.arange(n)
    use_strata = stratify and len(np.unique(labels)) <= 20 and _can_stratify(labels, n_test)
    if use_strata and n - n_test < len(np.unique(labels)):
        raise DataError(too_few_left(test_fraction, n, n_test, len(np.unique(labels)), unit))
    train, test = train_test_split(
        positions,
        test_size=n_test,
        random_state=seed,
        shuffle=True,
        stratify=labels if use_strata else None,
    )
    return np.sort(train), np.sort(test)


def too_few_left(test_fraction: float, n: int, n_test: int, n_classes: int, unit: str) -> str:
    """Why a test fraction that holds out ``n_test`` of ``n`` ``unit`` is refused: it leaves
    none to train on, or fewer than the ``n_classes`` classes (not one of each).

    >>> too_few_left(0.99, 100, 99, 2, "images")  # doctest: +NORMALIZE_WHITESPACE
    'a test fraction of 0.99 (--test-fraction) holds out 99 of the 100 images, leaving 1 to
    train on, fewer than the 2 classes: a model cannot learn a class it has no example of;
    lower the test fraction (0.2 or 0.3 keep most for training)'
    """
    left = n - min(n_test, n)
    said = (
        "leaving none to train on"
        if left == 0
        else f"leaving {left} to train on, fewer than the {n_classes} classes: a model cannot "
        "learn a class it has no example of"
    )
    return (
        f"a test fraction of {test_fraction:g} (--test-fraction) holds out {min(n_test, n)} of "
        f"the {n} {unit}, {said}; lower the test fraction (0.2 or 0.3 keep most for training)"
    )


def nested_fraction(
    positions: np.ndarray,
    labels: np.ndarray,
    *,
    fraction: float,
    seed: int,
    patients: np.ndarray | None = None,
) -> np.ndarray:
    """A stratified subset of ``positions`` holding ``fraction`` of each class (at least one
    row of each class present). For one seed, smaller fractions are subsets of larger ones.
    ``patients`` (each sample's, indexed as ``labels``): where a patient has several samples,
    whole patients are drawn, ``fraction`` of each class's (a patient's class: its first
    sample's), so that a study's "50 %" is half the patients with all their images, not
    half the images from most of the patients (a trial's "14 images from 11 patients")."""
    if not 0.0 < fraction <= 1.0:
        raise DataError(f"a training fraction must be in (0, 1], got {fraction}")
    positions = np.asarray(positions)
    if fraction == 1.0:
        return np.sort(positions)
    labels = np.asarray(labels)[positions]
    if patients is not None:
        whose = np.asarray(patients)[positions].astype(str)
        if len(np.unique(whose)) < len(positions):  # each patient with all their samples
            _, first, inverse = np.unique(whose, return_index=True, return_inverse=True)
            return np.sort(positions[_stratified(labels[first], fraction, seed)[inverse]])
    return np.sort(positions[_stratified(labels, fraction, seed)])


def _stratified(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Which of the items (each of class ``labels``) :func:`nested_fraction` keeps: a random
    ``fraction`` of each class, at least one (one stratum for more than 20 values)."""
    rng = np.random.default_rng(seed)
    kept = np.zeros(len(labels), dtype=bool)
    classes = np.unique(labels) if len(np.unique(labels)) <= 20 else [None]
    for value in classes:
        members = np.arange(len(labels)) if value is None else np.flatnonzero(labels == value)
        members = members[rng.permutation(len(members))]
        kept[members[: max(1, round(fraction * len(members)))]] = True
    return kept


def positions_digest(positions: np.ndarray) -> str:
    """A short checksum of a set of row positions (to verify a recorded split)."""
    data = np.sort(np.asarray(positions, dtype=np.int64)).tobytes()
    return hashlib.sha256(data).hexdigest()[:16]

"""What a reader can recover of a masked subgroup table, by brute force: every table of whole
counts that fits what each row shows and the overall totals printed beside it (the sums of
the true counts), enumerated, independently of :mod:`medadapt.evaluate.cell_recovery`.

A row shows more than its counts: which figures it has, and which it lacks with a note saying
why. :func:`_figures_fit` asks, of each candidate table, whether
:mod:`medadapt.evaluate.metrics` would have shown and withheld those figures on it, and
whether the notes' counts fit it; a reader of the figures alone knows as much."""

from __future__ import annotations

import re
from itertools import product
from typing import Any

import numpy as np
from scipy.signal import fftconvolve

from medadapt.evaluate.metrics import METRIC_NAMES_ALL, MIN_PATIENTS, MIN_PER_CLASS
from medadapt.evaluate.small_cells import SMALL_CELL, SUPPRESSED, withheld_note

_SMALL = range(SMALL_CELL)
_FIGURES = METRIC_NAMES_ALL | {"mean_target"}
#: a class count a note states: "fewer than 5 negatives among", "fewer than 5 images of class
#: 'benign' among", "too few positives among" (a count taken out), "10-14 negatives among"
_STATED = re.compile(
    r"(fewer than 5|too few|(\d+)-(\d+)|(\d+)) (?:(positive|negative)s?|\w+ of [^;]+?) among"
)


def _values(shown: Any, most: int, least: int = 0) -> range:
    """The counts a display allows, up to ``most``."""
    if isinstance(shown, int):
        return range(shown, min(shown, most) + 1)
    text = str(shown).replace(",", "")
    if text == f"<{SMALL_CELL}":
        return range(least, min(SMALL_CELL - 1, most) + 1)
    if found := re.fullmatch(r"(\d+)-(\d+)", text):
        return range(max(int(found[1]), least), min(int(found[2]), most) + 1)
    if found := re.fullmatch(r">(\d+)", text):
        return range(int(found[1]) + 1, most + 1)
    if found := re.fullmatch(r">=(\d+)", text):
        return range(int(found[1]), most + 1)
    assert text == SUPPRESSED, text
    return range(least, most + 1)


def _shown(row: dict[str, Any], name: str) -> bool:
    value = row.get(name)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _stated(notes: dict[str, str], true: dict[str, Any]) -> list[tuple[int, range]]:
    """The class counts the notes state: ``[(class, counts)]``, the classes as :func:`_true`
    orders them (positives first). A note names a class by word (negatives), or by name, which
    the reader knows: the class its metric needs (sensitivity: the positives), or the rarest
    (metrics.py withholds a figure that needs every class for its rarest)."""
    if "n_positive" in true:
        counts = [true["n_positive"], true["n"] - true["n_positive"]]
        rarest = 0 if counts[0] <= counts[1] else 1
    else:
        counts = true.get("class_counts", [])
        rarest = counts.index(min(counts)) if counts else 0
    said = []
    for key, note in notes.items():
        for found in _STATED.finditer(note):
            if found[2]:
                allowed = range(int(found[2]), int(found[3]) + 1)
            elif found[4]:
                allowed = range(int(found[4]), int(found[4]) + 1)
            else:
                allowed = range(MIN_PER_CLASS)
            of = {"sensitivity": 0, "specificity": 1, "oe_ratio": 0}.get(key, rarest)
            said.append(({"positive": 0, "negative": 1}.get(found[5], of), allowed))
    return said


def _figures_fit(shown: dict[str, Any], true: dict[str, Any], table: tuple[int, ...],
                 stated: list[tuple[int, range]]) -> bool:  # fmt: skip
    """Whether metrics.py, on a subgroup of these counts (``table``: n, n_patients and the
    class counts), shows and withholds the figures ``shown`` does, with notes that fit them
    (``stated``: their class counts). Its minimums count patients where they repeat: then a
    figure shown needs that many rows of its class, and one withheld says nothing of them."""
    n, patients, *classes = table
    clustered = "n_patients" in true
    big = (patients if clustered else n) >= MIN_PATIENTS
    notes = shown.get("notes") if isinstance(shown.get("notes"), dict) else {}
    if any(_shown(shown, k) for k in _FIGURES) and not big:
        return False
    if "all" in notes and big:  # nothing reported: too few patients
        return False
    binary = "n_positive" in true
    needs = (
        {"auroc": (0, 1), "auprc": (0, 1), "balanced_accuracy": (0, 1),
         "calibration_slope": (0, 1), "sensitivity": (0,), "specificity": (1,)}
        if binary
        else dict.fromkeys(("auroc", "balanced_accuracy"), tuple(range(len(classes))))
    )  # fmt: skip
    for name, need in needs.items():
        enough = big and all(classes[k] >= MIN_PER_CLASS for k in need)
        if _shown(shown, name) and not enough:
            return False
        withheld = name in shown and shown[name] is None and big and name != "calibration_slope"
        if withheld and enough and not clustered:  # withheld only for too few
            return False
    if clustered:
        return True
    return all(classes[k] in allowed for k, allowed in stated if k < len(classes))


def _tables(true: dict[str, Any], shown: dict[str, Any], total: tuple[int, ...],
            clustered: bool) -> set:  # fmt: skip
    """One row's (n, n_patients, class counts...) that fit its display and its figures, each
    count at most its overall total (``clustered``: some value's patients repeat, and one
    that counts none has a patient per row)."""
    has_patients = "n_patients" in true
    ns = set(_values(shown["n"], total[0], 1))
    patients = _values(shown["n_patients"], total[1], 1) if has_patients else [0]
    if "n_positive" in true:
        each = [_values(shown["n_positive"], total[2]), range(total[3] + 1)]
    elif "class_counts" in true:
        each = shown["class_counts"]
        each = each if isinstance(each, list) else [SUPPRESSED] * len(true["class_counts"])
        each = [_values(c, most) for c, most in zip(each, total[2:], strict=True)]
    else:
        each = []
    notes = shown.get("notes") if isinstance(shown.get("notes"), dict) else {}
    stated = _stated(notes, true)
    rows = set()
    for counts in product(*each):
        for n in [sum(counts)] if each else sorted(ns):
            if n not in ns:
                continue
            for p in patients if has_patients or not clustered else [n]:
                table = (n, p, *counts)
                fits = p <= n and p <= total[1] if clustered else True
                if fits and _figures_fit(shown, true, table, stated):
                    rows.add(table)
    return rows


def _true(row: dict[str, Any], clustered: bool) -> tuple[int, ...]:
    counts = [row["n_positive"], row["n"] - row["n_positive"]] if "n_positive" in row else []
    patients = row.get("n_patients", row["n"] if clustered else 0)
    return (row["n"], patients, *counts, *row.get("class_counts", []))


def _grid(tables: set, total: tuple[int, ...], classes: bool) -> np.ndarray:
    """The tables as a boolean array over the counts up to the totals (n left out where the
    classes sum to it)."""
    drop = 1 if classes else 0
    grid = np.zeros([t + 1 for t in total[drop:]], dtype=bool)
    for table in tables:
        grid[table[drop:]] = True
    return grid


def _sums(grids: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Which sums one table of each grid can make (up to the totals)."""
    out = np.zeros(shape, dtype=bool)
    out[(0,) * len(shape)] = True
    for grid in grids:
        added = fftconvolve(out.astype(float), grid.astype(float))
        out = added[tuple(slice(0, s) for s in shape)] > 0.5
    return out


def recoverable(originals: dict[str, dict], shown: dict[str, dict]) -> list[str]:
    """The hidden counts (below 5, or a class count suppressed) that the shown rows, their
    figures and notes, and the overall totals narrow below what their own row allows of 0 to
    4: ``"A: n in [4], not [1, 2, 3, 4]"``. Empty where the table is withheld, or every hidden
    count is safe."""
    if withheld_note(shown):
        return []
    names = list(originals)
    clustered = any("n_patients" in row for row in originals.values())
    truth = {v: _true(originals[v], clustered) for v in names}
    total = tuple(map(sum, zip(*truth.values(), strict=True)))
    own = {v: _tables(originals[v], shown[v], total, clustered) for v in names}
    for v in names:
        assert truth[v] in own[v], v  # the display fits the truth
    classes = len(total) - 2
    drop = 1 if classes else 0
    grids = {v: _grid(own[v], total, bool(classes)) for v in names}
    shape = tuple(t + 1 for t in total[drop:])
    binary = "n_positive" in originals[names[0]]
    labels = ["n", "n_patients", *(["positives", "negatives"] if binary else
                                   [f"class {k}" for k in range(classes)])]  # fmt: skip
    problems = []
    for v in names:
        others = _sums([grids[w] for w in names if w != v], shape)
        rest = {t: tuple(a - b for a, b in zip(total, t, strict=True)) for t in own[v]}
        fits = {t for t in own[v] if others[rest[t][drop:]]}
        # class counts shown as nothing (those of fewer than 5 patients): each one is hidden
        suppressed = SUPPRESSED in (shown[v].get("n_positive"), shown[v].get("class_counts"))
        for i, label in enumerate(labels):
            if i == 1 and not clustered:
                continue
            if truth[v][i] >= SMALL_CELL and not (suppressed and i >= 2):
                continue
            allowed = sorted({t[i] for t in own[v]} & set(_SMALL))
            left = sorted({t[i] for t in fits} & set(_SMALL))
            if left != allowed:
                problems.append(f"{v}: {label} in {left}, not {allowed}")
    return problems

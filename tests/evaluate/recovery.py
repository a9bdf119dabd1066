"""What a reader can recover of a masked subgroup table, by brute force: every table of whole
counts that fits what each row shows and the overall totals printed beside it (the sums of
the true counts), enumerated, independently of :mod:`medadapt.evaluate.cell_recovery`."""

from __future__ import annotations

import re
from itertools import product
from typing import Any

from medadapt.evaluate.small_cells import SMALL_CELL, SUPPRESSED

_SMALL = range(SMALL_CELL)


def _values(shown: Any, most: int, least: int = 0) -> range:
    """The counts a display allows, up to ``most``."""
    if isinstance(shown, int):
        return range(shown, shown + 1)
    text = str(shown).replace(",", "")
    if text == f"<{SMALL_CELL}":
        return range(least, SMALL_CELL)
    if found := re.fullmatch(r"(\d+)-(\d+)", text):
        return range(max(int(found[1]), least), int(found[2]) + 1)
    if found := re.fullmatch(r">(\d+)", text):
        return range(int(found[1]) + 1, most + 1)
    assert text == SUPPRESSED, text
    return range(least, most + 1)


def _said(notes: dict[str, str], what: str) -> range | None:
    """The negatives (or positives) that a row's notes state: "fewer than 5 negatives among"."""
    for note in notes.values():
        if found := re.search(rf"fewer than 5 {what}s? among", note):
            return range(SMALL_CELL)
        if found := re.search(rf"(\d+)-(\d+) {what}s? among", note):
            return range(int(found[1]), int(found[2]) + 1)
    return None


def _tables(true: dict[str, Any], shown: dict[str, Any]) -> set[tuple[int, ...]]:
    """One row's (n, n_patients, class counts...) that fit its display (n at most 10 more
    than the true one: no range is wider than 5)."""
    most = true["n"] + 10
    has_patients = "n_patients" in true
    patients = _values(shown["n_patients"], most, 1) if has_patients else [0]
    rows = set()
    for n, p in product(_values(shown["n"], most, 1), patients):
        if has_patients and p > n:
            continue
        if "n_positive" in true:
            negatives = _said(shown.get("notes", {}), "negative") if not has_patients else None
            for pos in _values(shown["n_positive"], n):
                if pos <= n and (negatives is None or n - pos in negatives):
                    rows.add((n, p, pos, n - pos))
        elif "class_counts" in true:
            each = shown["class_counts"]
            each = each if isinstance(each, list) else [SUPPRESSED] * len(true["class_counts"])
            for counts in product(*(_values(c, n) for c in each)):
                if sum(counts) == n:
                    rows.add((n, p, *counts))
        else:
            rows.add((n, p))
    return rows


def _true(row: dict[str, Any]) -> tuple[int, ...]:
    counts = [row["n_positive"], row["n"] - row["n_positive"]] if "n_positive" in row else []
    return (row["n"], row.get("n_patients", 0), *counts, *row.get("class_counts", []))


def recoverable(originals: dict[str, dict], shown: dict[str, dict]) -> list[str]:
    """The hidden counts (below 5, or a class count suppressed) that the shown rows and the
    overall totals narrow below what their own row allows of 0 to 4: ``"A: n in [4], not
    [1, 2, 3, 4]"``. Empty where every count is suppressed, or every hidden one is safe."""
    keys = ("n", "n_positive", "n_patients", "class_counts")
    if all(m.get(k, SUPPRESSED) == SUPPRESSED for m in shown.values() for k in keys):
        return []
    names = list(originals)
    own = {v: _tables(originals[v], shown[v]) for v in names}
    for v in names:
        assert _true(originals[v]) in own[v], v  # the display fits the truth
    total = tuple(map(sum, zip(*(_true(originals[v]) for v in names), strict=True)))
    classes = len(total) - 2
    binary = "n_positive" in originals[names[0]]
    labels = ["n", "n_patients", *(["positives", "negatives"] if binary else
                                   [f"class {k}" for k in range(classes)])]  # fmt: skip
    problems = []
    for v in names:
        others = {(0,) * len(total)}
        for w in names:
            if w != v:
                others = {tuple(map(sum, zip(s, t, strict=True))) for s in others for t in own[w]}
        fits = {t for t in own[v] if tuple(a - b for a, b in zip(total, t, strict=True)) in others}
        # class counts shown as nothing (those of fewer than 5 patients): each one is hidden
        suppressed = SUPPRESSED in (shown[v].get("n_positive"), shown[v].get("class_counts"))
        for i, label in enumerate(labels):
            if i == 1 and "n_patients" not in originals[v]:
                continue
            if _true(originals[v])[i] >= SMALL_CELL and not (suppressed and i >= 2):
                continue
            allowed = sorted({t[i] for t in own[v]} & set(_SMALL))
            left = sorted({t[i] for t in fits} & set(_SMALL))
            if left != allowed:
                problems.append(f"{v}: {label} in {left}, not {allowed}")
    return problems

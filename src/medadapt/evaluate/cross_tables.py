"""Whether several subgroup tables, read together, give a small count back.

:func:`medadapt.evaluate.cell_recovery.totals_give_away` reads one variable's table beside
the overall totals. A report shows several (site, sex, age band, the columns ``--subgroups``
names), all of the same patients, and one table's exact counts can narrow another's hidden
one: a trial's ``ethnicity`` was suppressed whole for a group of one patient, while flags of
the other groups ("group A or not", "group C or not") showed 33 and 11 patients exactly, and
a range for the third; with the overall 60, the one patient was left with the disease.

A reader of every table knows this much of the patients' joint table (how many have each
combination of the variables' values, of each class): every value's counts lie within what
its row shows (:func:`~medadapt.evaluate.cell_recovery.shown_bounds`, and what its figures and
notes say), and the classes add up to the overall totals. The reader is taken to know, too,
how the columns relate where one's value fixes another's, as a flag made from a column is
fixed by it (:func:`combinations`); of columns otherwise related, nothing (sex and age band:
any combination may occur). :func:`tables_give_away` finds, for
each hidden count, the least and the most any such integer table gives it (an integer linear
program, scipy's HiGHS); where that range misses one end of what the count's own row allows
(0 to 4 for a "<5"), the tables together tell more than each alone. Patients counted apart from
rows (several visits) are not modelled: their rows' counts are.

Groups A (12 patients, 7 with the event), B (17, 12) and D (1, 1), the group's counts all
suppressed, beside a flag of A and one of B, each with its counts exact: D is 30 - 12 - 17
(``values``: each patient's value of each variable, by its index in the table).

>>> counts = lambda n, p: {"n": n, "n_positive": p}
>>> originals = {"group": [counts(12, 7), counts(17, 12), counts(1, 1)],
...              "is A": [counts(12, 7), counts(18, 13)], "is B": [counts(17, 12), counts(13, 8)]}
>>> hidden = {"n": "suppressed", "n_positive": "suppressed"}
>>> shown = {**originals, "group": [hidden] * 3}
>>> values = [(0, 0, 1)] * 12 + [(1, 1, 0)] * 17 + [(2, 1, 1)]  # A is A, B is B, D neither
>>> tables_give_away(originals, shown, values, small=5)
True
>>> two = ["group", "is A"]  # without the flag of B: D and B share what A leaves
>>> tables_give_away({k: originals[k] for k in two}, {k: shown[k] for k in two},
...                  [row[:2] for row in values], small=5)
False
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import permutations, product
from typing import Any

import numpy as np

from medadapt.evaluate.cell_recovery import Bounds, read_rows

#: joint cells times classes above which no program is solved: the safe side (hidden)
MOST_JOINT_CELLS = 4000
#: combinations of values above which they are not listed (the safe side)
MOST_LISTED = 1_000_000


def tables_give_away(originals: dict[str, Sequence[dict[str, Any]]],
                     shown: dict[str, Sequence[dict[str, Any]]], values: Any, *,
                     small: int) -> bool:  # fmt: skip
    """Whether the tables ``shown`` (by variable: each value's displayed metrics), read
    together with the overall totals, narrow a hidden count (below ``small``, or a class
    count shown as nothing) below every value of 0 to ``small - 1`` its own row allows.
    ``originals``: the same rows with their true counts; ``values``: each patient's value of
    each variable (one row per patient, by the value's index in ``shown``). False where fewer
    than two tables hold whole counts, or they count different patients (not read together);
    True where the joint table is too large to solve, or no table fits what is shown (the
    safe side)."""
    read, kept, truths = {}, [], []
    for v, (name, rows) in enumerate(shown.items()):
        try:
            found = read_rows(originals[name], rows, small)
        except ValueError:
            return True
        if found is not None:
            read[name] = found
            kept.append(v)
            truths.append([_true_counts(row) for row in originals[name]])
    if len(read) < 2 or not any(cell for rows, _ in read.values() for row in rows
                                for cell in row.hidden if cell[0] != "patients"):  # fmt: skip
        return False
    totals = [totals for _, totals in read.values()]
    if any((t.n, t.classes) != (totals[0].n, totals[0].classes) for t in totals):
        return False  # not the same patients
    sizes = [len(rows) for rows, _ in read.values()]
    combos = combinations(np.asarray(values, dtype=int).reshape(-1, len(shown))[:, kept], sizes)
    if combos is None:
        return True
    program = _JointTable([rows for rows, _ in read.values()], totals[0], combos)
    if program.too_large:
        return True
    return program.narrows_a_small_count(truths, small)


def combinations(values: np.ndarray, sizes: Sequence[int]) -> np.ndarray | None:
    """The combinations of the variables' values (``sizes`` of each) a reader who knows how
    the columns relate takes as possible: every one, except where a variable's value fixes
    another's in ``values`` (each patient's, by index): a flag made from a column, or a
    column's banding. None where they are too many to list.

    >>> flags = np.array([(0, 0), (1, 1), (2, 1), (2, 1)])  # a group and a flag of group 0
    >>> combinations(flags, [3, 2]).tolist()
    [[0, 0], [1, 1], [2, 1]]
    >>> combinations(np.array([(0, 0), (1, 1), (0, 1)]), [2, 2]).tolist()  # unrelated
    [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    if math.prod(sizes) > MOST_LISTED:
        return None
    fixes = []  # (u, w, w's value for each of u's): where u's value fixes w's
    for u, w in permutations(range(len(sizes)), 2):
        pairs = np.unique(values[:, [u, w]], axis=0)
        if len(np.unique(pairs[:, 0])) == len(pairs):
            table = np.full(sizes[u], -1)
            table[pairs[:, 0]] = pairs[:, 1]
            fixes.append((u, w, table))
    combos = np.array(list(product(*(range(s) for s in sizes))))
    for u, w, table in fixes:
        fixed = table[combos[:, u]]
        combos = combos[(fixed == -1) | (fixed == combos[:, w])]
    return combos


def _true_counts(row: dict[str, Any]) -> dict[tuple[str, int], int]:
    """A row's true counts by cell: ``("n", 0)`` and each class's, ``("class", k)``."""
    n = row["n"]
    out = {("n", 0): n}
    if isinstance(row.get("n_positive"), int):
        out |= {("class", 0): row["n_positive"], ("class", 1): n - row["n_positive"]}
    elif isinstance(row.get("class_counts"), list):
        out |= {("class", k): count for k, count in enumerate(row["class_counts"])}
    return out


class _JointTable:
    """The integer tables of the combinations of the variables' values that occur
    (``combos``) and the classes that fit what each variable's rows show and the totals."""

    def __init__(self, variables: list[list[Any]], totals: Any, combos: np.ndarray) -> None:
        self.variables, self.totals = variables, totals
        self.k = max(len(totals.classes), 1)
        self.too_large = len(combos) * self.k > MOST_JOINT_CELLS
        if self.too_large:
            return
        self.combos = combos
        lows, highs, matrix = [], [], []
        for v, rows in enumerate(variables):
            for j, row in enumerate(rows):
                matrix.append(self._cell(v, j, None))
                lows, highs = self._bounded(lows, highs, row.n)
                for k, bounds in enumerate(row.classes):
                    matrix.append(self._cell(v, j, k))
                    lows, highs = self._bounded(lows, highs, bounds)
        for k, count in enumerate(totals.classes or [totals.n]):
            everyone = np.zeros(len(self.combos) * self.k)
            everyone[k :: self.k] = 1.0
            matrix.append(everyone)
            lows, highs = [*lows, count], [*highs, count]
        self.matrix, self.lows, self.highs = np.array(matrix), np.array(lows), np.array(highs)

    def _cell(self, v: int, j: int, k: int | None) -> np.ndarray:
        """The sum that is value ``j`` of variable ``v``'s count (of class ``k``; None: all)."""
        member = (self.combos[:, v] == j).astype(float)
        if k is None:
            return np.repeat(member, self.k)
        out = np.zeros(len(self.combos) * self.k)
        out[k :: self.k] = member
        return out

    @staticmethod
    def _bounded(lows: list[float], highs: list[float], bounds: Bounds):
        low, high = bounds
        return [*lows, low], [*highs, high if high < 1 << 61 else np.inf]

    def _extreme(self, objective: np.ndarray, sign: int) -> float | None:
        from scipy.optimize import Bounds as Box
        from scipy.optimize import LinearConstraint, milp

        result = milp(sign * objective, integrality=np.ones_like(objective),
                      bounds=Box(0, np.inf),
                      constraints=LinearConstraint(self.matrix, self.lows, self.highs))  # fmt: skip
        return None if result.status != 0 else sign * result.fun

    def narrows_a_small_count(self, truths: list[list[dict]], small: int) -> bool:
        """Whether a hidden count below ``small`` (by ``truths``, each row's true counts) can
        be told apart from any value of 0 to ``small - 1`` its own row allows. A count
        hidden for another's sake (a whole table's, where one of its values is small) may
        be found: what it holds is no small group."""
        for v, rows in enumerate(self.variables):
            for j, row in enumerate(rows):
                for kind, k in row.hidden:
                    if kind == "patients" or truths[v][j].get((kind, k), 0) >= small:
                        continue
                    own = self._own(row, kind, k, small)
                    objective = self._cell(v, j, None if kind == "n" else k)
                    least, most = self._extreme(objective, 1), self._extreme(objective, -1)
                    if least is None or most is None:
                        return True  # no table fits what is shown: hide
                    if own and (least > own[0] + 1e-6 or most < own[-1] - 1e-6):
                        return True
        return False

    def _own(self, row: Any, kind: str, k: int, small: int) -> list[int]:
        """What a hidden count's own row allows under the totals alone, below ``small``."""
        low, high = row.n if kind == "n" else row.classes[k]
        total = self.totals.n if kind == "n" else self.totals.classes[k]
        return [t for t in range(small) if low <= t <= min(high, total)]

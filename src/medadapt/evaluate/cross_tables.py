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
any combination may occur). Tables that no such relation links tell nothing of each other
(with the class totals shared, any two tables that fit have a joint table, class by class a
transportation problem), so only the tables a relation links are read together
(:func:`linked`): for each hidden small count, each value of 0 to 4 its own row allows
(:func:`~medadapt.evaluate.cell_recovery.row_allows`) is tried as an integer program
(scipy's HiGHS); one that no joint table fits is told apart. Patients counted apart from rows
(several visits) are not modelled: their rows' counts are.

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

from medadapt.evaluate.cell_recovery import read_rows, row_allows

#: combinations of values times classes above which no program is solved: too many to
#: check, said so (:data:`UNCHECKED`) and taken as giving a count away (the safe side)
MOST_JOINT_CELLS = 4000
#: seconds one program may take before it counts as unsolved (hidden: the safe side)
SOLVE_SECONDS = 5.0
#: what the check answers where it could not be run
UNCHECKED = "unchecked"


def shown_tables_give_away(originals: dict[str, dict[str, dict[str, Any]]],
                           shown: dict[str, dict[str, dict[str, Any]]],
                           members: dict[str, Any], *, small: int) -> bool | str:  # fmt: skip
    """:func:`tables_give_away` of the tables ``shown`` (``{name: {value: metrics}}``, as
    :func:`~medadapt.evaluate.small_cells.mask_subgroups` returns them; those of more than one
    value) with their true counts ``originals`` and each patient's value of each variable,
    ``members`` (``{name: one value per row}``). A patient whose value has no row in its
    table cannot be placed: taken as giving a count away."""
    names = [name for name in shown if name in members and len(shown[name]) > 1]
    values = _value_codes(shown, names, members)
    if (values < 0).any():
        return True
    return tables_give_away({n: list(originals[n].values()) for n in names},
                            {n: list(shown[n].values()) for n in names}, values,
                            small=small)  # fmt: skip


def linked_tables(shown: dict[str, dict[str, Any]], members: dict[str, Any]) -> set[str]:
    """The tables of ``shown`` (``{name: {value: metrics}}``) that a relation links to
    another (:func:`linked`): the only ones :func:`tables_give_away` reads together, and so
    the only ones whose counts hiding can help."""
    names = [name for name in shown if name in members]
    if len(names) < 2:
        return set()
    codes = _value_codes(shown, names, members)
    if (codes < 0).any():
        return set(names)  # a patient not placed: any may be read with any (the safe side)
    return {names[v] for group in linked(codes, [len(shown[n]) for n in names]) for v in group}


def _value_codes(shown: dict[str, dict[str, Any]], names: Sequence[str],
                 members: dict[str, Any]) -> np.ndarray:  # fmt: skip
    """Each patient's value of each of ``names``, by its index among ``shown[name]``'s
    values (-1: a value with no row there); shape (patients, len(names))."""
    index = [{value: i for i, value in enumerate(shown[name])} for name in names]
    rows = zip(*(map(str, members[name]) for name in names), strict=True)
    return np.array([[at.get(value, -1) for at, value in zip(index, row, strict=True)]
                     for row in rows], dtype=int).reshape(-1, len(names))  # fmt: skip


def tables_give_away(originals: dict[str, Sequence[dict[str, Any]]],
                     shown: dict[str, Sequence[dict[str, Any]]], values: Any, *,
                     small: int) -> bool | str:  # fmt: skip
    """Whether the tables ``shown`` (by variable: each value's displayed metrics), read
    together with the overall totals, tell a hidden count (below ``small``) apart from a
    value of 0 to ``small - 1`` its own row allows. ``originals``: the same rows with their
    true counts; ``values``: each patient's value of each variable (one row per patient, by
    the value's index in ``shown``). False where no two tables that hold whole counts are
    linked (:func:`linked`), or they count different patients (not read together);
    :data:`UNCHECKED` (true) where linked tables are too many combinations to solve; True,
    too, where no joint table fits what is shown (the safe side)."""
    read, kept, truths = [], [], []
    for v, (name, rows) in enumerate(shown.items()):
        try:
            found = read_rows(originals[name], rows, small)
        except ValueError:
            return True
        if found is not None:
            read.append(found)
            kept.append(v)
            truths.append([_true_counts(row) for row in originals[name]])
    if len(read) < 2 or any((t.n, t.classes) != (read[0][1].n, read[0][1].classes)
                            for _, t in read):  # fmt: skip
        return False  # one table, or not the same patients
    codes = np.asarray(values, dtype=int).reshape(-1, len(shown))[:, kept]
    sizes = [len(rows) for rows, _ in read]
    for group in linked(codes, sizes):
        combos = combinations(codes[:, group], [sizes[v] for v in group])
        k = max(len(read[0][1].classes), 1)
        if combos is None or len(combos) * k > MOST_JOINT_CELLS:
            return UNCHECKED
        program = _JointTable([read[v][0] for v in group], read[0][1], combos)
        if program.tells_a_small_count([truths[v] for v in group], small):
            return True
    return False


def nested(originals: dict[str, dict[str, dict[str, Any]]],
           shown: dict[str, dict[str, dict[str, Any]]], members: dict[str, Any], *,
           small: int) -> list[set[str]]:  # fmt: skip
    """The pairs of tables (by name) whose groups nest so that one's counts taken from the
    other's count a small group no table shows: values of one lie wholly within a value of
    the other, and what that value holds beyond them is 1 to ``small - 1`` patients, or
    fewer than ``small`` of a class (none included). Both tables show counts (``shown``, as
    masked; a table whose every count is suppressed gives nothing to subtract);
    ``originals``: their true counts; ``members``: each patient's value of each. A trial's
    "age >= 58" inside "age >= 55" left 5 patients aged 55 to 57, none without the disease;
    "uninsured or female" beside "uninsured" told the one woman's diagnosis.

    >>> counts = lambda n, p: {"n": n, "n_positive": p}
    >>> originals = {"55+": {"y": counts(9, 9), "n": counts(6, 3)},
    ...              "58+": {"y": counts(5, 5), "n": counts(10, 7)}}
    >>> members = {"55+": ["y"] * 9 + ["n"] * 6, "58+": ["y"] * 5 + ["n"] * 10}
    >>> [sorted(pair) for pair in nested(originals, originals, members, small=5)]
    [['55+', '58+']]
    """
    counted = [name for name in shown if any(v.get("n") != "suppressed"
                                             for v in shown[name].values())]  # fmt: skip
    rows = {name: {} for name in counted}
    for name in counted:
        for i, value in enumerate(map(str, members[name])):
            rows[name].setdefault(value, set()).add(i)
    out: list[set[str]] = []
    for u, w in permutations(counted, 2):
        for outer, held in rows[w].items():
            inner = [value for value, these in rows[u].items() if these <= held
                     and shown[u].get(value, {}).get("n") != "suppressed"]  # fmt: skip
            if inner and _small_rest(originals[w][outer], [originals[u][v] for v in inner],
                                     small) and {u, w} not in out:  # fmt: skip
                out.append({u, w})
    return out


def _small_rest(outer: dict[str, Any], inner: list[dict[str, Any]], small: int) -> bool:
    """Whether ``outer``'s patients beyond the ``inner`` values' are 1 to ``small - 1``, or
    hold fewer than ``small`` of a class."""
    n = outer["n"] - sum(m["n"] for m in inner)
    if n <= 0:
        return False  # the inner values are the whole: nothing beyond them
    classes = [c - sum(_classes_of(m)[k] for m in inner)
               for k, c in enumerate(_classes_of(outer))]  # fmt: skip
    return n < small or any(c < small for c in classes)


def _fixes(values: np.ndarray, sizes: Sequence[int]) -> list[tuple[int, int, np.ndarray]]:
    """``(u, w, w's value for each of u's)`` wherever ``u``'s value fixes ``w``'s in
    ``values`` (each patient's, by index): a flag made from a column, a column's banding."""
    out = []
    for u, w in permutations(range(len(sizes)), 2):
        pairs = np.unique(values[:, [u, w]], axis=0)
        if len(np.unique(pairs[:, 0])) == len(pairs):
            table = np.full(sizes[u], -1)
            table[pairs[:, 0]] = pairs[:, 1]
            out.append((u, w, table))
    return out


def linked(values: np.ndarray, sizes: Sequence[int]) -> list[list[int]]:
    """The variables (by index) that relations of :func:`_fixes` link, in groups of two or
    more: a table linked to none tells nothing of the others.

    >>> flags = np.array([(0, 0, 0), (1, 1, 1), (2, 1, 0), (2, 1, 1)])  # a group, its flag, sex
    >>> linked(flags, [3, 2, 2])
    [[0, 1]]
    """
    parent = list(range(len(sizes)))

    def root(v: int) -> int:
        while parent[v] != v:
            v = parent[v]
        return v

    for u, w, _ in _fixes(values, sizes):
        parent[root(u)] = root(w)
    groups: dict[int, list[int]] = {}
    for v in range(len(sizes)):
        groups.setdefault(root(v), []).append(v)
    return [group for group in groups.values() if len(group) > 1]


def combinations(values: np.ndarray, sizes: Sequence[int]) -> np.ndarray | None:
    """The combinations of the variables' values (``sizes`` of each) a reader who knows how
    the columns relate takes as possible: every one, except where a variable's value fixes
    another's in ``values`` (:func:`_fixes`). None where they are too many to list.

    >>> flags = np.array([(0, 0), (1, 1), (2, 1), (2, 1)])  # a group and a flag of group 0
    >>> combinations(flags, [3, 2]).tolist()
    [[0, 0], [1, 1], [2, 1]]
    >>> combinations(np.array([(0, 0), (1, 1), (0, 1)]), [2, 2]).tolist()  # unrelated
    [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    if math.prod(sizes) > 50 * MOST_JOINT_CELLS:
        return None
    combos = np.array(list(product(*(range(s) for s in sizes))))
    for u, w, table in _fixes(values, sizes):
        fixed = table[combos[:, u]]
        combos = combos[(fixed == -1) | (fixed == combos[:, w])]
    return combos


def _classes_of(row: dict[str, Any]) -> list[int]:
    """A row's true class counts, as :func:`~medadapt.evaluate.cell_recovery.read_rows`
    orders them (positives, then negatives; a multiclass task's in order; none measured)."""
    if isinstance(row.get("n_positive"), int):
        return [row["n_positive"], row["n"] - row["n_positive"]]
    if isinstance(row.get("class_counts"), list):
        return list(row["class_counts"])
    return []


def _true_counts(row: dict[str, Any]) -> dict[tuple[str, int], int]:
    """A row's true counts by cell: ``("n", 0)`` and each class's, ``("class", k)``."""
    return {("n", 0): row["n"],
            **{("class", k): count for k, count in enumerate(_classes_of(row))}}  # fmt: skip


class _JointTable:
    """The integer tables of the combinations of the variables' values a reader takes as
    possible (``combos``) and the classes, that fit what each variable's rows show and the
    totals."""

    def __init__(self, variables: list[list[Any]], totals: Any, combos: np.ndarray) -> None:
        self.variables, self.totals, self.combos = variables, totals, combos
        self.k = max(len(totals.classes), 1)
        lows, highs, matrix = [], [], []
        for v, rows in enumerate(variables):
            for j, row in enumerate(rows):
                for bounds, k in [(row.n, None), *((b, k) for k, b in enumerate(row.classes))]:
                    matrix.append(self._cell(v, j, k))
                    lows.append(bounds[0])
                    highs.append(bounds[1] if bounds[1] < 1 << 61 else np.inf)
        for k, count in enumerate(totals.classes or [totals.n]):
            everyone = np.zeros(len(combos) * self.k)
            everyone[k :: self.k] = 1.0
            matrix.append(everyone)
            lows.append(count)
            highs.append(count)
        self.matrix, self.lows, self.highs = np.array(matrix), np.array(lows), np.array(highs)

    def _cell(self, v: int, j: int, k: int | None) -> np.ndarray:
        """The sum that is value ``j`` of variable ``v``'s count (of class ``k``; None: all)."""
        member = (self.combos[:, v] == j).astype(float)
        if k is None:
            return np.repeat(member, self.k)
        out = np.zeros(len(self.combos) * self.k)
        out[k :: self.k] = member
        return out

    def fits(self, cell: np.ndarray, value: int) -> bool | None:
        """Whether some joint table gives ``cell`` the count ``value`` (None: unsolved)."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        result = milp(np.zeros(len(cell)), integrality=np.ones(len(cell)),
                      bounds=Bounds(0, np.inf),
                      constraints=[LinearConstraint(self.matrix, self.lows, self.highs),
                                   LinearConstraint(cell[None, :], value, value)],
                      options={"time_limit": SOLVE_SECONDS})  # fmt: skip
        if result.status == 0:
            return True
        return False if result.status == 2 else None  # 2: infeasible

    def tells_a_small_count(self, truths: list[list[dict]], small: int) -> bool:
        """Whether a hidden count below ``small`` (by ``truths``, each row's true counts) can
        be told apart from a value of 0 to ``small - 1`` its own row allows: some such value
        that no joint table gives it (every one tried: an integer table's values of a count
        may have gaps). A count hidden for another's sake (a whole table's, where one of its
        values is small) may be found: what it holds is no small group."""
        for v, rows in enumerate(self.variables):
            for j, row in enumerate(rows):
                for cell in row.hidden:
                    kind, k = cell
                    if kind == "patients" or truths[v][j].get(cell, 0) >= small:
                        continue
                    sums = self._cell(v, j, None if kind == "n" else k)
                    if any(not self.fits(sums, t) for t in row_allows(row, self.totals, cell,
                                                                     small)):  # fmt: skip
                        return True  # not fitted, or unsolved: hide
        return False

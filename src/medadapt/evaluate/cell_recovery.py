"""Whether the overall totals give a suppressed subgroup count back.

A subgroup table is read beside the overall counts, printed unmasked above it, and the counts
of one variable's values add up to them: "<5" and "55-59" under an overall 63 leave the small
group 4 patients exactly; 10-14 women and 10-14 with the event, beside 40-44 men, 20-24 with
it, under 50 and 30, leave the women 10 and 10, and their 0 without it, exactly.
:func:`totals_give_away` decides, exactly, whether every hidden count (a count of 0 to 4 shown
as "<5" or behind two ranges, a class count "suppressed") can still be each value of 0 to 4
that its own row allows once every row and the totals are read together. What the totals
alone allow is no disclosure of the table's: with 3 negatives in all, every value has 0 to 3.

A row says more than its counts: which figures it has, and which it lacks with why
(:func:`_figures_say`, from :mod:`medadapt.evaluate.metrics`' rules). An AUROC shown is 5 or
more of each class among 10 or more patients; a specificity withheld beside an accuracy, or a
note "fewer than 5 negatives among", is 4 negatives or fewer; a note "only 3 patients (at
least 10 needed)" is 9 patients or fewer, whatever the counts beside it read. Those bounds
join the counts': "fewer than 5 negatives" in two sites whose overall negatives are 8 leaves
each 4, with or without any count shown.

The tables a reader can reconstruct are the integer flows of a network: the rows (``n``,
from the patients, ``n_patients``, and the further rows of a patient) into each value, each
value's rows into its classes (positives and negatives, or the classes of a multiclass task),
each class into its overall total; every arc within what its count shows. Bounded flows have
an integer solution wherever they have any, and the flows an arc can carry form an interval,
so the two ends of what a hidden count's own row allows decide it: one table that fits is
found once (a max flow), and each end is a few units sent around the count's arc, in
polynomial time whatever the counts.

>>> rows = [{"n": 4, "n_positive": 2}, {"n": 59, "n_positive": 30}]
>>> shown = [{"n": "<5", "n_positive": "<5"}, {"n": "55-59", "n_positive": "30-34"}]
>>> totals_give_away(rows, shown, small=5)
True
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from medadapt.evaluate.metrics import METRIC_NAMES_ALL, MIN_PATIENTS, MIN_PER_CLASS

_INF = 1 << 62  # more than any count: an arc without an upper bound
Bounds = tuple[int, int]
_ANY: Bounds = (0, _INF)
#: rows times (classes + 2) above which the check is not run: the safe side (every count
#: hidden, and with the counts hidden, the table withheld)
MAX_CELLS = 2000
_WORDS = ("positive", "negative")  # a binary task's classes, as notes name them
#: a count of one class that a note states ("fewer than 5 negatives among", "fewer than 5
#: images of class 'benign' among", "too few positives among": a count taken out,
#: :func:`medadapt.evaluate.small_cells._uncounted`); a class by name is told by the note's
#: metric or, for those that need both classes, is the rarest (:func:`_figures_say`)
_NOTE_COUNT = re.compile(
    r"(?:fewer than ([\d,]+)|([\d,]+)-([\d,]+)|(?<![\d,-])([\d,]+)|too few) "
    r"(?:(positive|negative)s?|\w+? of (?:class .+?|the other classes)) among"
)
#: the figures a row can show (a measured outcome's mean too): none on fewer than
#: MIN_PATIENTS patients (metrics.py's ``_too_small``)
_FIGURES = METRIC_NAMES_ALL | {"mean_target"}
_BOTH = (0, 1)
#: the classes (positives 0, negatives 1, as :func:`_rows` orders them) a binary figure needs
#: MIN_PER_CLASS of to be shown; a multiclass task's AUROC and balanced accuracy need all
_NEEDS_BINARY = {"auroc": _BOTH, "auprc": _BOTH, "balanced_accuracy": _BOTH,
                 "calibration_slope": _BOTH, "sensitivity": (0,), "specificity": (1,)}  # fmt: skip
_NEEDS_ALL = ("auroc", "balanced_accuracy")
#: the binary metrics withheld for one class alone (sensitivity: too few positives), and so
#: whose note counts that class, by name or not (the observed/expected ratio's is
#: sensitivity's where the positives are hidden, :mod:`medadapt.evaluate.small_cells`)
_ONE_CLASS = {"sensitivity": 0, "specificity": 1}
_NOTE_OF = {**_ONE_CLASS, "oe_ratio": 0}


def shown_bounds(shown: Any, least: int = 0) -> Bounds:
    """What a displayed count says of the count: ``7``, ``"<5"`` (0 to 4), ``"5-9"``,
    ``">7"`` (8 or more), ``">=5"``; anything else (suppressed, missing) says nothing. ``least``:
    the smallest it can be (a value shown in the table has at least one row)."""
    if isinstance(shown, int) and not isinstance(shown, bool):
        low, high = shown, shown
    else:
        text = str(shown).replace(",", "")
        if found := re.fullmatch(r"<(\d+)", text):
            low, high = 0, int(found[1]) - 1
        elif found := re.fullmatch(r">=(\d+)", text):
            low, high = int(found[1]), _INF
        elif found := re.fullmatch(r">(\d+)", text):
            low, high = int(found[1]) + 1, _INF
        elif found := re.fullmatch(r"(\d+)-(\d+)", text):
            low, high = int(found[1]), int(found[2])
        else:
            low, high = _ANY
    return max(low, least), high


def _within(a: Bounds, b: Bounds) -> Bounds:
    return max(a[0], b[0]), min(a[1], b[1])


@dataclass
class _Row:
    """One value's counts as shown (bounds) and which of them are hidden."""

    n: Bounds
    patients: Bounds | None
    classes: list[Bounds]
    hidden: list[tuple[str, int]]  # ("n", 0), ("patients", 0), ("class", k)
    single: bool = False  # every patient one row, beside values whose patients repeat


@dataclass
class _Totals:
    n: int
    patients: int | None
    classes: list[int]


def _ints(rows: Sequence[dict[str, Any]], key: str) -> list[Any] | None:
    values = [row.get(key) for row in rows]
    ok = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    return values if ok else None


def _class_counts(rows: Sequence[dict[str, Any]]) -> list[list[int]] | None:
    counts = [row.get("class_counts") for row in rows]
    if all(isinstance(c, list) and all(isinstance(v, int) for v in c) for c in counts):
        return counts if len({len(c) for c in counts}) == 1 else None
    return None


def _notes(display: dict[str, Any]) -> dict[str, Any]:
    return display["notes"] if isinstance(display.get("notes"), dict) else {}


def _note_bounds(display: dict[str, Any], rarest: int) -> dict[int, Bounds]:
    """The class counts that a row's notes state (``{class: bounds}``, positives 0): by word
    (positives, negatives), else by the note's metric (sensitivity: positives), else the
    ``rarest`` class (a figure that needs every class is withheld for its rarest)."""
    said: dict[int, Bounds] = {}
    for key, note in _notes(display).items():
        for found in _NOTE_COUNT.finditer(str(note)):
            below, low, high, exact, word = found.groups()
            if below:
                bounds = (0, int(below.replace(",", "")) - 1)
            elif low:
                bounds = (int(low.replace(",", "")), int(high.replace(",", "")))
            elif exact:
                bounds = (int(exact.replace(",", "")),) * 2
            else:  # "too few": fewer than are needed
                bounds = (0, MIN_PER_CLASS - 1)
            k = _WORDS.index(word) if word else _NOTE_OF.get(key, rarest)
            said[k] = _within(said.get(k, _ANY), bounds)
    return said


def _figures_say(display: dict[str, Any], classes: int, rarest: int, *, binary: bool,
                 clustered: bool) -> tuple[Bounds, list[Bounds]]:  # fmt: skip
    """What a row's figures and notes say of its counts, as :mod:`medadapt.evaluate.metrics`
    reports them: of everyone (its rows, or its patients where they repeat) and of each of
    ``classes`` class counts (``rarest``: the class a note naming none by word or metric is
    about). A figure shown: at least MIN_PATIENTS in all, and at least MIN_PER_CLASS of each
    class it needs; the note ``"all"`` (nothing reported): fewer than MIN_PATIENTS; a
    sensitivity (specificity) withheld where figures are shown, or a note counting a class:
    that class's count. Where patients repeat, the minimums count patients: a class shown
    holds at least as many rows, and a class withheld says nothing of its rows."""
    shown = {k for k in _FIGURES if _number(display.get(k))}
    everyone = (MIN_PATIENTS, _INF) if shown else _ANY
    if not shown and "all" in _notes(display):
        everyone = (0, MIN_PATIENTS - 1)
    bounds = [_ANY] * classes
    needs = _NEEDS_BINARY if binary else dict.fromkeys(_NEEDS_ALL, tuple(range(classes)))
    for name in shown & set(needs):
        for k in needs[name]:
            bounds[k] = _within(bounds[k], (MIN_PER_CLASS, _INF))
    if clustered:
        return everyone, bounds
    for name, k in _ONE_CLASS.items():  # withheld beside figures shown: too few of k
        if binary and shown and name in display and display[name] is None:
            bounds[k] = _within(bounds[k], (0, MIN_PER_CLASS - 1))
    for k, said in _note_bounds(display, rarest).items():
        if k < classes:
            bounds[k] = _within(bounds[k], said)
    return everyone, bounds


def _rarest(counts: list[int], *, binary: bool) -> int:
    """The class a note about the rarest is about, as metrics.py picks it: the positives where
    they are no more than the negatives, else the first of the fewest."""
    if binary:
        return 0 if counts[0] <= counts[1] else 1
    return min(range(len(counts)), key=counts.__getitem__, default=0)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _true_or_any(bounds: Bounds, true: int | None) -> Bounds:
    """``bounds``, or nothing where the true count lies outside them: a figure not computed
    as :mod:`medadapt.evaluate.metrics` computes it (a table of one's own) misleads a reader
    rather than tells them, and is no bound on what the true table can be."""
    return bounds if true is None or bounds[0] <= true <= bounds[1] else _ANY


def read_rows(originals: Sequence[dict[str, Any]], shown: Sequence[dict[str, Any]],
          small: int) -> tuple[list[_Row], _Totals] | None:  # fmt: skip
    """The rows as a reader sees them and the totals printed beside them; None where the
    counts are not whole numbers (masked already). ValueError: counts not alike across rows."""
    n = _ints(originals, "n")
    if n is None:
        return None
    single = [any("n_patients" in r for r in originals) and "n_patients" not in row
              for row in originals]  # fmt: skip
    patients = _ints([{**row, "n_patients": n[i]} if single[i] else row
                      for i, row in enumerate(originals)], "n_patients")  # fmt: skip
    if patients is None and any("n_patients" in row for row in originals):
        raise ValueError("n_patients is not a count in every row")
    positives, counts = _ints(originals, "n_positive"), _class_counts(originals)
    if positives is not None:
        counts = [[p, m - p] for p, m in zip(positives, n, strict=True)]
    elif counts is None and any("n_positive" in r or "class_counts" in r for r in originals):
        raise ValueError("the class counts are not counts in every row")
    rows = [_row(display, small, n[i], None if patients is None else patients[i],
                 None if counts is None else counts[i], binary=positives is not None,
                 single=single[i])
            for i, display in enumerate(shown)]  # fmt: skip
    totals = _Totals(sum(n), None if patients is None else sum(patients),
                     [sum(c) for c in zip(*counts, strict=True)] if counts else [])  # fmt: skip
    return rows, totals


def _row(display: dict[str, Any], small: int, n: int, patients: int | None,
         counts: list[int] | None, *, binary: bool, single: bool = False) -> _Row:  # fmt: skip
    """One value: what its display bounds (its counts, and what its figures say of them:
    :func:`_figures_say`), and its hidden counts (``n``, ``patients`` and ``counts``: the true
    ones; hidden below ``small``, and every class count shown as nothing, as those of fewer
    than 5 patients are). ``single``: its patients, not counted, are its rows (metrics.py
    counts none where no patient has two), beside values whose patients repeat."""
    hidden = [("n", 0)] if n < small else []
    if patients is not None and patients < small:
        hidden.append(("patients", 0))
    classes: list[Bounds] = []
    said_nothing = False  # the class counts shown as "suppressed": from fewer than 5 patients
    if binary:
        raw = display.get("n_positive")
        classes = [shown_bounds(raw), (0, small - 1) if str(raw).startswith(">") else _ANY]
        said_nothing = classes[0] == _ANY
    elif counts is not None:
        raw = display.get("class_counts")
        said_nothing = not (isinstance(raw, list) and len(raw) == len(counts))
        classes = [_ANY] * len(counts) if said_nothing else [shown_bounds(c) for c in raw]
    hidden += [("class", k) for k, true in enumerate(counts or []) if true < small or said_nothing]
    true = counts or []
    clustered = patients is not None and not single  # the notes count patients, not rows
    everyone, said = _figures_say(display, len(classes), _rarest(true, binary=binary),
                                  binary=binary, clustered=clustered)  # fmt: skip
    classes = [_within(c, _true_or_any(b, t)) for c, b, t in zip(classes, said, true, strict=True)]
    everyone = _true_or_any(everyone, patients if clustered else n)
    n_shown = shown_bounds(display.get("n"), least=1)
    if not clustered:
        n_shown = _within(n_shown, everyone)
    shown_patients = None
    if patients is not None:
        shown_patients = n_shown if single else shown_bounds(display.get("n_patients"), least=1)
        shown_patients = _within(shown_patients, everyone)
    return _Row(n_shown, shown_patients, classes, hidden, single)


def totals_give_away(originals: Sequence[dict[str, Any]], shown: Sequence[dict[str, Any]],
                     small: int) -> bool:  # fmt: skip
    """Whether a reader of ``shown`` (one variable's masked rows, their figures and notes) and
    of the overall totals (the sums of ``originals``, the rows' true counts) can narrow a hidden
    count (one below ``small``, or a class count shown as nothing) below every value of 0 to
    ``small - 1`` that its own row allows under the totals. True, too, where the rows are too
    many to check, or unlike (the safe side); False where ``originals`` hold no whole counts
    (masked already)."""
    try:
        read = read_rows(originals, shown, small)
    except ValueError:
        return True
    if read is None:
        return False
    rows, totals = read
    if len(rows) * (len(totals.classes) + 2) > MAX_CELLS:
        return True
    table = _Flow(*_network(rows, totals))
    if not table.feasible:
        return True  # no table fits what is shown: not this module's to judge, so hide
    for i, row in enumerate(rows):
        for cell in row.hidden:
            own = row_allows(row, totals, cell, small)
            arc = _arc(i, cell, row, len(rows))
            if own and not (table.can_carry(arc, own[0]) and table.can_carry(arc, own[-1])):
                return True
    return False


def row_allows(row: _Row, totals: _Totals, cell: tuple[str, int], small: int) -> list[int]:
    """The values of 0 to ``small - 1`` that a hidden ``cell`` of ``row`` (``("n", 0)``,
    ``("class", k)``...) can take by what its own row shows and the totals alone: what no
    table that fits tells more of."""
    alone = _Flow(*_network([row], totals, exact=False))
    return [t for t in range(small) if alone.can_carry(_arc(0, cell, row, 1), t)]


_SOURCE, _SINK, _PATIENTS, _FURTHER, _FIRST = 2, 3, 4, 5, 6  # nodes 0, 1: the flow's own


def _arc(i: int, cell: tuple[str, int], row: _Row, rows: int) -> tuple[int, int]:
    """The arc that carries one cell of row ``i`` (of ``rows``)."""
    into, value = _FIRST + 2 * i, _FIRST + 2 * i + 1
    if cell[0] == "patients":
        return _PATIENTS, into
    if cell[0] == "n":
        return (into, value) if row.patients is not None else (_SOURCE, value)
    return value, _FIRST + 2 * rows + cell[1]  # a class: its node follows the rows


def _network(rows: list[_Row], totals: _Totals, *, exact: bool = True) -> tuple[int, dict]:
    """The nodes and the arcs, ``{(tail, head): (low, high)}``, whose bounded flows are the
    tables that fit ``rows`` and ``totals`` (``exact``: their sums; else at most them, what a
    reader of the totals alone knows of one row): the source's rows go to each value (from its
    patients and their further rows, where patients repeat), on to its classes, and from each
    class to the sink; the sink closes the loop back to the source."""

    def total(count: int | None) -> Bounds:
        return _ANY if count is None else (count if exact else 0, count)

    classes = len(rows[0].classes)
    klass = _FIRST + 2 * len(rows)
    arcs: dict[tuple[int, int], Bounds] = {}
    if rows[0].patients is not None:
        arcs[_SOURCE, _PATIENTS] = total(totals.patients)
        arcs[_SOURCE, _FURTHER] = _ANY
    for i, row in enumerate(rows):
        into, value = _FIRST + 2 * i, _FIRST + 2 * i + 1
        if row.patients is not None:
            arcs[_PATIENTS, into] = row.patients
            arcs[_FURTHER, into] = (0, 0) if row.single else _ANY
        arcs[_arc(i, ("n", 0), row, len(rows))] = row.n
        for k in range(classes):
            arcs[value, klass + k] = row.classes[k]
        if not classes:
            arcs[value, _SINK] = _ANY
    for k in range(classes):
        arcs[klass + k, _SINK] = total(totals.classes[k])
    arcs[_SINK, _SOURCE] = total(totals.n)
    return klass + classes, arcs


class _Flow:
    """One table that fits the arcs' bounds (a circulation: each lower bound moved to a supply
    at the arc's head and a demand at its tail, met by a max flow from node 0 to node 1), and
    what else an arc can carry: moving its flow by ``d`` is ``d`` units sent around it."""

    def __init__(self, nodes: int, arcs: dict[tuple[int, int], Bounds]) -> None:
        self.nodes, self.arcs = nodes, arcs
        self.left: list[dict[int, int]] = [{} for _ in range(nodes)]  # residual capacities
        excess = [0] * nodes
        for (tail, head), (low, high) in arcs.items():
            self.left[tail][head] = max(high - low, 0)
            self.left[head].setdefault(tail, 0)
            excess[head] += low
            excess[tail] -= low
        for node in (v for v in range(2, nodes) if excess[v]):
            tail, head = (0, node) if excess[node] > 0 else (node, 1)
            self.left[tail][head] = abs(excess[node])
            self.left[head].setdefault(tail, 0)
        needed = sum(e for e in excess if e > 0)
        self.feasible = all(low <= high for low, high in arcs.values()) and (
            _push(self.left, 0, 1, needed) == needed
        )

    def can_carry(self, arc: tuple[int, int], value: int) -> bool:
        """Whether some table that fits has ``value`` on ``arc``."""
        tail, head = arc
        low, high = self.arcs[tail, head]
        if not self.feasible or not low <= value <= high:
            return False
        now = low + self.left[head][tail]  # what it carries: what came back along it
        if now == value:
            return True
        left = [dict(d) for d in self.left]
        if value < now:  # send the difference from tail to head the other way round
            left[tail][head] = 0
            return _push(left, tail, head, now - value) == now - value
        left[head][tail] = 0
        return _push(left, head, tail, value - now) == value - now


def _push(left: list[dict[int, int]], source: int, sink: int, most: int) -> int:
    """Up to ``most`` units from ``source`` to ``sink`` along shortest residual paths
    (Edmonds-Karp), changing ``left`` in place; what was sent."""
    sent = 0
    while sent < most:
        parent = {source: source}
        queue = deque([source])
        while queue and sink not in parent:
            node = queue.popleft()
            for nxt, room in left[node].items():
                if room > 0 and nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        if sink not in parent:
            return sent
        path, node = [], sink
        while node != source:
            path.append((parent[node], node))
            node = parent[node]
        step = min(most - sent, *(left[a][b] for a, b in path))
        for a, b in path:
            left[a][b] -= step
            left[b][a] += step
        sent += step
    return sent

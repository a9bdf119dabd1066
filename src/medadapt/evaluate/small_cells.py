"""Small-cell suppression: subgroup counts below 5 are shown as ``"<5"``.

A subgroup report such as "sex: Female, 1 patient, 1 with disease" tells anyone who knows
that patient her diagnosis. Reports and ``study.json`` therefore never show a count of 1 to 4
patients, positives or negatives in a subgroup, nor a prevalence computed from it. Where one
value of a subgroup is suppressed, every other count of that subgroup is shown as a range of
5 (``"55-59"``), so that the total minus the others does not give it away, and its figures
are rounded to one decimal, their intervals outward (an accuracy of 0.7457627 is 44/59 and
no other fraction in 55-59: exact figures would give the count, and with it the small group,
back). Metrics of the
small subgroups themselves are already not reported (too few patients or events); only how
counts and figures are shown changes, never how metrics are computed. The notes follow the
same rules: their counts become ranges, the figures they quote are rounded, and the
observed/expected note loses its counts ("12 observed" would give the positives back).
Patients (``n_patients``, where a patient has several images or visits) count like rows.

A class count of 0 is suppressed like one of 1 to 4 (:func:`_hidden_class_count`): "10
patients, 10 with disease" (or 0 with it) tells anyone who knows a patient is among them the
diagnosis, however many they are. A zero cell reads "<5" like any small one, never a word of
its own, which would single it out; its observed/expected ratio (0 with no events) is not
reported either.

Ranges are not always enough: a variable's counts add up to the overall ones, printed unmasked
beside the table, and "<5" beside "55-59" under an overall 63 is 4. Where a reader of every
row and those totals could narrow a hidden count below each of 0 to 4 that its own row allows
(:mod:`medadapt.evaluate.cell_recovery` decides it exactly), none of the variable's counts is
shown, and a note says why. The rows' figures count too: an AUROC shown is at least 5 of each
class, a sensitivity withheld "fewer than 5 positives among these patients" at most 4, with
or without a count beside it (:func:`~medadapt.evaluate.cell_recovery.totals_give_away` reads
them as metrics.py writes them). Where they alone, with the totals, still narrow a hidden
count (two sites, each with "fewer than 5 negatives", under 8 in all: 4 each), the variable's
table is withheld whole: one entry, :data:`WITHHELD`, in its values' place, whose note says
why (:func:`withheld_note`). A measured outcome the same for every patient of a subgroup is a
zero cell of its own: the mean is each one's value, so no mean of that variable is shown.

A whole test set is no subgroup. The counts of the patients a report scores as a whole (a
centre's held-out test set in the demo, a study's held-out set), and of those with the
outcome, are shown exactly, the same in every place of that report (summary, notes, tables,
``results.json``): its own figures give them back anyway (an accuracy of 0.940 on 50
patients, every one called positive, is 47 of them; an exact binomial interval names its
denominator; the observed/expected note counts the events). A trial's demo summary said ">45
with heart disease" while its observed/expected line said "47 observed" and its JSON 47.
Hiding a count that the same report states elsewhere protects no one and makes the report
contradict itself; the rules above are for the subgroups within such a set.

>>> mask_counts({"n": 12, "n_positive": 1, "prevalence": 0.083, "auroc": None})
{'n': 12, 'n_positive': '<5', 'prevalence': None, 'auroc': None}
>>> mask_counts({"n": 12, "n_positive": 12, "prevalence": 1.0})["n_positive"]
'>7'
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from medadapt.evaluate.cell_recovery import totals_give_away
from medadapt.evaluate.metrics import METRIC_NAMES

SMALL_CELL = 5
#: a subgroup's class counts where its samples come from fewer than 5 patients: not "<5"
#: (60 images may hold 30 positives), not shown either (they would be those patients')
SUPPRESSED = "suppressed"
ROUNDED_DIGITS = 1  # the figures of a subgroup whose counts are shown as ranges, or not shown
ROUNDED = (
    "figures rounded to one decimal (one short of a perfect 1 to 0.9), their intervals outward "
    "(wider than measured): this subgroup's counts are shown as ranges, and exact figures "
    "would give them back"
)
PERFECT_ROUNDED = " (one short of a perfect 1 to 0.9)"  # said only of figures whose best is 1
#: :data:`ROUNDED` of a measured value's subgroup: its R² alone has a perfect 1 (a trial read
#: "one short of a perfect 1 to 0.9" beside an MAE of 47.2), and without one, nothing
ROUNDED_R2 = ROUNDED.replace(PERFECT_ROUNDED, " (an R² short of a perfect 1 to 0.9)")
ROUNDED_PLAIN = ROUNDED.replace(PERFECT_ROUNDED, "")
#: a subgroup variable whose ranges, read with the overall totals, give a hidden count back
#: what a subgroup table says of its counts (reports' captions)
_COUNTED = {
    "binary": "of all its patients, or of those with or without the outcome, 0 included",
    "multiclass": "of all its patients, or of those of one class, 0 included",
    "regression": "of all its patients",
}  # the counts a subgroup table shows, or withholds, for each task


def small_cells_caption(task: str) -> str:
    """What a subgroup table of a ``task`` model says of its counts (the reports' captions):
    which counts are small, shown as ranges, suppressed, or the table withheld."""
    return (
        f"So that no patient can be singled out: '<{SMALL_CELL}' is a count of fewer than "
        f"{SMALL_CELL}; where any subgroup has such a count ({_COUNTED[task]}, shown or not), "
        f"every other count in its table is a range of {SMALL_CELL} such as '40-44' (the count "
        "lies in it) and the figures are rounded to one decimal, their intervals outward "
        "(wider than measured); 'suppressed' is a count not "
        "shown at all, where even ranges, read with the overall totals (or with another "
        "table's counts), would give a small count away; and where even which figures each "
        "subgroup has would, the table is withheld."
    )


COUNTS_HIDDEN = (
    f"not shown: one of these subgroups has fewer than {SMALL_CELL} patients in all or of one "
    "outcome, and the overall totals would give that count away"
)
ROUNDED_HIDDEN = (
    "figures rounded to one decimal (one short of a perfect 1 to 0.9), their intervals outward "
    "(wider than measured): this subgroup's counts are not shown, and exact figures would give "
    "them back"
)
#: a subgroup variable whose table is withheld whole (:func:`mask_subgroups`): the one entry
#: that takes its values' place, and its note's key
WITHHELD = "withheld"
TABLE_WITHHELD = (
    "subgroup table by {name} withheld: even without counts, which figures each subgroup has "
    "and lacks (with why), read with the overall totals, would give a count of fewer than "
    f"{SMALL_CELL} away"
)
#: a subgroup table whose counts, read with another table's, would give a small count away
#: (:mod:`medadapt.evaluate.cross_tables`): its counts hidden, then, if need be, the table
TOGETHER_HIDDEN = (
    f"not shown: read with another subgroup table's counts (the same patients) and the "
    f"overall totals, they would give a count of fewer than {SMALL_CELL} away"
)
TOGETHER_WITHHELD = (
    "subgroup table by {name} withheld: even without counts, read with another subgroup "
    f"table (the same patients) and the overall totals, it would give a count of fewer than "
    f"{SMALL_CELL} away"
)
#: a table a user named whose groups lie inside another table's, or hold them
NESTED_HIDDEN = (
    "not shown: its groups lie inside another subgroup table's groups, or hold them (the same "
    "patients), and one table's counts taken from the other's could give a small group away"
)
#: the same, where the tables' combinations were too many to check (the safe side)
TOGETHER_UNCHECKED = (
    "not shown: read with another subgroup table's counts (the same patients), they could "
    f"give a count of fewer than {SMALL_CELL} away, and their combinations are too many to "
    "check"
)
TOGETHER_UNCHECKED_WITHHELD = (
    "subgroup table by {name} withheld: read with another subgroup table (the same "
    f"patients), it could give a count of fewer than {SMALL_CELL} away, and their "
    "combinations are too many to check"
)
#: the notes of a table whose every count is hidden: masked again, it keeps its own
_HIDDEN_NOTES = frozenset({COUNTS_HIDDEN, TOGETHER_HIDDEN, TOGETHER_UNCHECKED, NESTED_HIDDEN})
#: every patient scored, fewer than 5, with one value of the subgroup: each one's value told
ONE_VALUE_WITHHELD = (
    "subgroup table by {name} withheld: all of these fewer than "
    f"{SMALL_CELL} patients have the same {{name}}, which the table would tell of each of them"
)
#: a measured outcome the same for every patient of a subgroup: its mean is each one's value
SAME_VALUE_HIDDEN = (
    "not shown: one of these subgroups has the same measured value for every patient, and the "
    "means, read with the overall one, would give it away"
)
_SAME_VALUE = "the measured value is the same for all"
_COUNT_KEYS = ("n", "n_positive", "n_patients", "class_counts")
# the metrics, and a measured outcome's mean: exact beside a range of counts, "166.152..."
# times n is a whole sum for one n only, giving the count and the others' mean back
_FIGURES = frozenset(name for names in METRIC_NAMES.values() for name in names) | {"mean_target"}
#: the observed/expected note's counts: the events observed are the subgroup's positives
_OBSERVED = re.compile(r": [\d,]+ observed against [\d.,]+ expected from its risks")
#: a figure whose best is 1 as notes quote it ("AUROC 0.996"): short of 1, never 1.0
_BEST_AT_ONE_QUOTED = re.compile(
    r"\b(AUROC|AUPRC|accuracy|sensitivity|specificity|R²) (0\.\d{2,})(?![\d.])"
)
#: figures that notes quote (an accuracy of 0.746): rounded like the figures themselves
_DECIMAL = re.compile(r"(?<![\d.,])(\d+\.\d{2,})(?![\d.])")
#: a count of 0 to 4 in a note ("0 negatives among 10 patients": a zero cell, see above)
_SMALL_COUNT = re.compile(r"\b(?:only )?[0-4] (patient|positive|negative|row|image)s?\b")
#: notes that state a share of the subgroup (the one-class warning gives the prevalence): left
#: out wherever that subgroup's counts are suppressed or coarsened
_REVEALING = ("one_class",)


def _small(count: Any) -> bool:
    return isinstance(count, int) and 0 < count < SMALL_CELL


def _hidden_class_count(count: Any) -> bool:
    """A subgroup's count of one class shown as "<5": 1 to 4, and 0 too.

    0 (or all, the other class's 0) is a zero cell: every member of the subgroup has, or
    lacks, the outcome, and anyone who knows one is a member (sex, age band, site: public
    facts about a patient) learns it. The rule holds for every subgroup shown beside others,
    whatever its size: the disclosure is about each member, so it does not shrink as the
    subgroup grows, and a size limit would only choose which zero cells still disclose. A
    subgroup of one value (all patients scored) is left alone, its counts being the overall
    ones (:func:`mask_subgroups`). A multiclass subgroup with no patient of one class is a
    zero cell too ("none has class '4'"), even where a site never records that class."""
    return isinstance(count, int) and 0 <= count < SMALL_CELL


def mask_note(note: str) -> str:
    """``"only 3 patients"`` -> ``"fewer than 5 patients"``; other numbers are kept."""
    return _SMALL_COUNT.sub(lambda m: f"fewer than {SMALL_CELL} {m.group(1)}s", note)


def _without_event_counts(note: str) -> str:
    """The observed/expected note without its counts: "12 observed against 10.0 expected"
    beside "10-14 positives" would give the positives back."""
    return _OBSERVED.sub("", note)


def _without_ratio_of_few_events(out: dict[str, Any], positives: int) -> None:
    """No observed/expected ratio where the events are shown as "<5": with none it is 0,
    which would tell the zero cell apart from 1 to 4 events (and a ratio of fewer than 5
    events says little). Its note is the one sensitivity has there, for the same reason."""
    if positives >= SMALL_CELL or out.get("oe_ratio") is None:
        return
    notes = dict(out["notes"]) if isinstance(out.get("notes"), dict) else {}
    notes["oe_ratio"] = notes.get("sensitivity", f"not reported: fewer than {SMALL_CELL} events")
    out["oe_ratio"], out["oe_ratio_ci"], out["notes"] = None, None, notes


def mask_counts(metrics: dict[str, Any]) -> dict[str, Any]:
    """A copy of one subgroup's metrics with its small counts suppressed."""
    out = dict(metrics)
    n = metrics.get("n")
    masked = False
    if _small(n):
        out["n"], masked = f"<{SMALL_CELL}", True
    if _small(metrics.get("n_patients")):  # images or rows of fewer than 5 patients: their
        out["n_patients"], masked = f"<{SMALL_CELL}", True  # class counts would be theirs
        for key in ("n_positive", "class_counts"):
            if key in out:
                out[key] = SUPPRESSED
    counted = isinstance(metrics.get("n_positive"), int) and isinstance(n, int)
    if counted and out["n_positive"] != SUPPRESSED:
        positives, negatives = metrics["n_positive"], n - metrics["n_positive"]
        if masked or _hidden_class_count(positives):
            out["n_positive"], masked = f"<{SMALL_CELL}", True
            _without_ratio_of_few_events(out, positives)
        elif _hidden_class_count(negatives):  # the complement would give the negatives away
            out["n_positive"], masked = f">{n - SMALL_CELL}", True
    if isinstance(metrics.get("class_counts"), list) and out["class_counts"] != SUPPRESSED:
        counts = metrics["class_counts"]
        if masked or any(_hidden_class_count(c) for c in counts):  # nor one a small one away
            out["class_counts"] = [
                f"<{SMALL_CELL}" if masked or _hidden_class_count(c) else f">={SMALL_CELL}"
                for c in counts
            ]
            masked = True
    if masked and "prevalence" in out:
        out["prevalence"] = None
    if out["n"] != n and "mean_target" in out:  # fewer than 5: their mean outcome is theirs
        out["mean_target"] = None
    if isinstance(out.get("notes"), dict):
        out["notes"] = {k: mask_note(_without_event_counts(v) if masked else v)
                        for k, v in out["notes"].items()
                        if not (masked and k in _REVEALING)}  # fmt: skip
    return out


def _range(count: Any) -> Any:
    if not isinstance(count, int):
        return count
    low = SMALL_CELL * (count // SMALL_CELL)
    return f"{low:,}-{low + SMALL_CELL - 1:,}"


#: a count in a note; not "fewer than 5 patients" (already masked) nor "at least 10 patients"
#: (a minimum, the same for every subgroup)
_COUNT = re.compile(
    r"(?<!than )(?<!least )(?<![\d,-])(\d[\d,]*) (patient|positive|negative|row|image)"
)


def _coarsened_note(note: str) -> str:
    """A note's counts as ranges of 5 ("1,234 patients" -> "1,230-1,234 patients"), its
    quoted figures to :data:`ROUNDED_DIGITS` decimals, and no observed/expected counts."""
    note = _COUNT.sub(lambda m: f"{_range(int(m.group(1).replace(',', '')))} {m.group(2)}",
                      _without_event_counts(note))  # fmt: skip
    note = _BEST_AT_ONE_QUOTED.sub(
        lambda m: f"{m.group(1)} {short_of_perfect('auroc', float(m.group(2))):.{ROUNDED_DIGITS}f}",
        note,
    )  # as the figure beside it reads (a trial's "AUROC 0.996: too good" became "AUROC 1.0")
    return _DECIMAL.sub(lambda m: f"{float(m.group(1)):.{ROUNDED_DIGITS}f}", note)


def _coarsened(masked: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
    """Every count not already "<5" as a range of 5 (notes included)."""
    out = dict(masked)
    for key in ("n", "n_positive", "n_patients"):
        if key in masked and not str(masked[key]).startswith("<") and masked[key] != SUPPRESSED:
            out[key] = _range(original[key])
    if isinstance(masked.get("class_counts"), list):
        out["class_counts"] = [
            m if str(m).startswith("<") else _range(c)
            for m, c in zip(masked["class_counts"], original["class_counts"], strict=True)
        ]
    if "prevalence" in out:
        out["prevalence"] = None
    if isinstance(masked.get("notes"), dict):
        out["notes"] = {
            k: _coarsened_note(v) for k, v in masked["notes"].items() if k not in _REVEALING
        }
    return _rounded(out)


def digits_for(metrics: dict[str, Any], default: int) -> int:
    """The decimals to print a subgroup's figures with: :data:`ROUNDED_DIGITS` where they were
    rounded (printed as 0.700 they would claim a precision they no longer have)."""
    notes = metrics.get("notes") if isinstance(metrics.get("notes"), dict) else {}
    return ROUNDED_DIGITS if "rounded" in notes else default


def _rounded(metrics: dict[str, Any]) -> dict[str, Any]:
    """The figures (and intervals) to :data:`ROUNDED_DIGITS` decimals, with a note saying so."""
    out = dict(metrics)
    for name in _FIGURES & set(out):
        if isinstance(out[name], float):
            out[name] = short_of_perfect(name, out[name])
        interval = out.get(f"{name}_ci")
        if isinstance(interval, list | tuple) and len(interval) == 2:
            out[f"{name}_ci"] = _outward(interval)
    if any(isinstance(out.get(name), float) for name in _FIGURES):
        notes = out.get("notes") if isinstance(out.get("notes"), dict) else {}
        # a verdict read from the exact interval: its rounded ends may touch what it excludes
        # (0.711-0.978 shown as 0.7-1.0 beside "the interval excludes 1")
        notes = {key: note.replace("the interval excludes",
                                   "the interval, before rounding, excludes")
                 for key, note in notes.items()}  # fmt: skip
        perfect = {name for name in _FIGURES & _BEST_AT_ONE if isinstance(out.get(name), float)}
        said = ROUNDED_PLAIN if not perfect else ROUNDED_R2 if perfect == {"r2"} else ROUNDED
        out["notes"] = {**notes, "rounded": said}
    return out


#: figures whose best value is 1: a rounded 1.0 reads as a perfect model
_BEST_AT_ONE = frozenset({"auroc", "auprc", "accuracy", "balanced_accuracy", "sensitivity",
                          "specificity", "r2"})  # fmt: skip


def short_of_perfect(name: str, value: float) -> float:
    """``value`` to :data:`ROUNDED_DIGITS` decimals, but a figure short of a perfect 1 never
    shown as 1.0 (a trial read a subgroup's AUROC of 0.96, "1.0 (0.8-1.0)", as perfect): it
    is shown as 0.9, the decimal below, still within the interval rounded outward.

    >>> short_of_perfect("auroc", 0.96), short_of_perfect("auroc", 1.0)
    (0.9, 1.0)
    >>> short_of_perfect("auroc", 0.94), short_of_perfect("brier", 0.96)
    (0.9, 1.0)
    """
    rounded = round(value, ROUNDED_DIGITS)
    if name in _BEST_AT_ONE and rounded == 1.0 and value < 1.0:
        return 1.0 - 10.0**-ROUNDED_DIGITS
    return rounded


def _outward(interval: list[Any] | tuple[Any, ...]) -> list[float]:
    """An interval rounded to :data:`ROUNDED_DIGITS` decimals outward, so that it still holds
    the exact one (and the figure): rounded to the nearest, 0.582-0.731 around an AUROC of
    0.657 read "0.7 (0.6-0.7)", the figure at the top of its own interval.

    >>> _outward([0.582, 0.731]), _outward([-0.04, 0.12]), _outward([0.7, 1.0])
    ([0.5, 0.8], [-0.1, 0.2], [0.7, 1.0])
    """
    scale = 10**ROUNDED_DIGITS
    low, high = (float(v) for v in interval)
    return [math.floor(low * scale + 1e-9) / scale, math.ceil(high * scale - 1e-9) / scale]


def mask_subgroups(subgroups: dict[str, dict[str, dict[str, Any]]],
                   members: dict[str, Any] | None = None,
                   named: Sequence[str] = ()) -> dict[str, Any]:  # fmt: skip
    """``{name: {value: metrics}}`` with small counts suppressed; where a value of a subgroup
    is suppressed, every other count of that subgroup becomes a range of 5, so that the total
    minus the others cannot give the suppressed one away, and where the ranges still would
    (read with the overall totals and what the figures say, :func:`totals_give_away`), every
    count of the subgroup is suppressed; where the figures and notes alone still would, the
    subgroup's table is withheld (:func:`withheld_note`). A subgroup with one value holds every
    patient scored: its counts are the overall ones, printed beside it, and masking them hid
    nothing ("55-59 patients" under a table of 59); but of fewer than 5 patients it tells each
    one's value ("sex = 2: 3" of 3 patients), and is withheld. ``members``: each patient's
    value of each subgroup variable (``{name: one value per row}``, as the metrics were
    computed), to read the tables together (:func:`_read_together`); ``named``: the tables
    a user asked for (``--subgroups``)."""
    out: dict[str, Any] = {}
    for name, groups in subgroups.items():
        if len(groups) == 1:  # every patient scored has this value: shown beside the totals,
            (only,) = groups.values()  # unless they are fewer than 5 (each one's value, told)
            small = isinstance(only.get("n"), int | float) and only["n"] < SMALL_CELL
            out[name] = _withheld(name, groups, ONE_VALUE_WITHHELD) if small else groups
            continue
        masked = {value: mask_counts(metrics) for value, metrics in groups.items()}
        if any(_counts_differ(masked[v], groups[v]) for v in groups):
            masked = {v: _coarsened(masked[v], groups[v]) for v in groups}
            before = {_notes(m).get("counts") for m in groups.values()} & _HIDDEN_NOTES
            if before or totals_give_away(list(groups.values()), list(masked.values()),
                                          SMALL_CELL):  # fmt: skip
                why = next(iter(before), COUNTS_HIDDEN)  # masked twice: the same note
                masked = {v: _counts_hidden(m, why) for v, m in masked.items()}
                if totals_give_away(list(groups.values()), list(masked.values()), SMALL_CELL):
                    out[name] = _withheld(name, groups)  # the figures alone still would
                    continue
        out[name] = _without_a_shared_value(masked)
    return out if members is None else _read_together(subgroups, out, members, named)


def _read_together(subgroups: dict[str, dict[str, dict[str, Any]]], out: dict[str, Any],
                   members: dict[str, Any], named: Sequence[str]) -> dict[str, Any]:  # fmt: skip
    """``out`` (each table masked on its own) with the counts hidden of a table a user named
    (``named``) whose groups nest with another's (:func:`~medadapt.evaluate.cross_tables.
    nested`: the later of the two), then, while the tables shown, read together, still give
    a small count away (:func:`~medadapt.evaluate.cross_tables.tables_give_away`: a trial's
    flags of the other groups, shown exactly, left a suppressed group of one patient with
    its diagnosis), the counts of a table hidden, the last first (the columns a user named
    follow the site, sex and age), then whole tables; where the tables are too many
    combinations to check, the note says that instead."""
    from medadapt.evaluate.cross_tables import (
        UNCHECKED,
        linked_tables,
        nested,
        shown_tables_give_away,
    )

    def together() -> list[str]:
        return [name for name in out if name in members and len(out[name]) > 1
                and withheld_note(out[name]) is None]  # fmt: skip

    def give_away() -> bool | str:
        names = together()
        return shown_tables_give_away({n: subgroups[n] for n in names},
                                      {n: out[n] for n in names}, members,
                                      small=SMALL_CELL)  # fmt: skip

    order = list(out)
    while True:  # one table at a time, the last named first: the rest read again without it
        names = together()  # a table whose counts are all hidden nests with none (nested)
        pairs = nested({n: subgroups[n] for n in names}, {n: out[n] for n in names}, members,
                       small=SMALL_CELL)  # fmt: skip
        later = [max(pair, key=order.index) for pair in pairs if pair & set(named)]
        if not later:
            break
        last = max(later, key=order.index)
        out[last] = _all_counts_hidden(subgroups[last], NESTED_HIDDEN)
    linked = linked_tables({n: out[n] for n in together()}, members)  # the others tell nothing
    for name in reversed([n for n in together() if n in linked]):
        found = give_away()
        if not found:
            return out
        if _notes(next(iter(out[name].values()))).get("counts") is None:
            why = TOGETHER_UNCHECKED if found == UNCHECKED else TOGETHER_HIDDEN
            out[name] = _all_counts_hidden(subgroups[name], why)
    for name in reversed([n for n in together() if n in linked]):
        found = give_away()
        if not found:
            return out
        why = TOGETHER_UNCHECKED_WITHHELD if found == UNCHECKED else TOGETHER_WITHHELD
        out[name] = _withheld(name, subgroups[name], why)
    return out


def _all_counts_hidden(groups: dict[str, dict[str, Any]], why: str) -> dict[str, Any]:
    """A table's every count suppressed, saying ``why``, its figures rounded (as the counts
    of a table read alone are hidden, :func:`mask_subgroups`)."""
    masked = {v: _counts_hidden(_coarsened(mask_counts(m), m), why) for v, m in groups.items()}
    return _without_a_shared_value(masked)


def _withheld(name: str, groups: dict[str, dict[str, Any]],
              why: str = TABLE_WITHHELD) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The table of a subgroup variable that no count can be shown of, nor any figure: one
    entry, :data:`WITHHELD`, with every count "suppressed", every figure missing and a note
    saying why (the renderers print the note in the table's place, :func:`withheld_note`)."""
    keys = {k for metrics in groups.values() for k in metrics}
    entry: dict[str, Any] = {k: SUPPRESSED for k in _COUNT_KEYS if k in keys}
    entry |= {k: None for k in sorted(keys) if k in _FIGURES or k.endswith("_ci")}
    if "prevalence" in keys:
        entry["prevalence"] = None
    entry["notes"] = {WITHHELD: why.format(name=name)}
    return {WITHHELD: entry}


def withheld_note(values: dict[str, Any]) -> str | None:
    """Why a subgroup variable's table (``{value: metrics}``, as :func:`mask_subgroups`
    returns it) is withheld as a whole, or None where it is shown."""
    entry = values.get(WITHHELD) if len(values) == 1 else None
    note = _notes(entry).get(WITHHELD) if isinstance(entry, dict) else None
    return note if isinstance(note, str) else None


def _notes(metrics: dict[str, Any]) -> dict[str, str]:
    return metrics["notes"] if isinstance(metrics.get("notes"), dict) else {}


#: a count or range in a note ("10-14 patients", "only 7 patients"), not a bound ("fewer
#: than 5 patients", "at least 10 patients"): what :func:`_counts_hidden` takes out
_ANY_COUNT = re.compile(r"(?<!than )(?<!least )(?<![\d,-])(only )?\d[\d,]*(?:-\d[\d,]*)? "
                        r"(patient|positive|negative|row|image)s?\b(; )?")  # fmt: skip


def _uncounted(match: re.Match[str]) -> str:
    """A note's count without its number: "among 10-14 patients" -> "among these patients",
    "not reported: 5-9 positives among" -> "too few positives among", "(10-14 rows; at
    least" -> "(at least"."""
    before, what = match.string[: match.start()], f"{match.group(2)}s"
    if before.endswith("("):
        return ""
    few = match.group(1) or before.endswith(": ") or not before
    return f"{'too few' if few else 'these'} {what}{match.group(3) or ''}"


def _hidden(rounded: str) -> str:
    """A rounded subgroup's note (:data:`ROUNDED` or its measured-value forms) where its counts
    are not shown at all (:data:`ROUNDED_HIDDEN`'s words)."""
    return rounded.replace("counts are shown as ranges", "counts are not shown")


def _counts_hidden(masked: dict[str, Any], why: str = COUNTS_HIDDEN) -> dict[str, Any]:
    """Every count suppressed, and the notes' counts and ranges taken out, with a note saying
    ``why`` (the figures stay rounded: exact, they would give the counts back)."""
    out = {k: SUPPRESSED if k in _COUNT_KEYS else v for k, v in masked.items()}
    notes = {k: _ANY_COUNT.sub(_uncounted, v) for k, v in _notes(masked).items()}
    if "rounded" in notes:
        notes["rounded"] = _hidden(notes["rounded"])
    out["notes"] = {"counts": why, **notes}
    return out


def _without_a_shared_value(groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """No mean outcome where a subgroup's measured value is the same for all its patients:
    that mean is each one's value, like a zero cell, and the others' means with the overall
    one would give it back, so none of the variable's is shown."""
    if not any(_SAME_VALUE in note for m in groups.values() for note in _notes(m).values()):
        return groups
    return {
        value: {**m, "mean_target": None, "notes": {**_notes(m), "mean_target": SAME_VALUE_HIDDEN}}
        if m.get("mean_target") is not None
        else m
        for value, m in groups.items()
    }


def _counts_differ(masked: dict[str, Any], original: dict[str, Any]) -> bool:
    """Suppressed now, or already (so that masking twice gives the same result)."""
    keys = _COUNT_KEYS
    already = any(str(masked.get(k)).startswith(("<", "['<", "['>", SUPPRESSED)) for k in keys)
    return already or any(masked.get(k) != original.get(k) for k in keys)

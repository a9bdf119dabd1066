"""Lines around a CSV's patient rows that are not patients: a title or merged group header
above the column names, and summary rows under the data.

Both are recognised from the shape of the lines (which cells are filled, and with what), never
from a patient's value, and refused in one line that names the lines to delete:

* Above: the first line has at least half of its names empty (pandas would call them
  ``Unnamed: N``) and the next non-empty line looks like the column names: at least two cells
  filled, more than on the first line, all different, and at most a quarter of them numbers.
  An index column without a name above numeric rows is read as it is.
* Below: the file ends with rows that hold one or two numbers, in fewer than half of the
  columns, and nothing else, each number the sum or the count of the non-empty values of its
  column over the rows above the first of them, and larger than each of them (what Excel's
  SUM and COUNT write, as
  ``,,,,,,,357`` under a 0/1 label of 357 positives; a sum to the digits it shows), while fewer
  than 1 in 20 rows above are as sparse. Any other last row is a patient: one with two values
  of twelve, the rows of a sparse site appended after a dense one, any row of a sparse table
  (each patient with one or two values). A row with no value at all is no summary (it is left
  as it is).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence

from medadapt.errors import DataError

_NUMBER = re.compile(r"[-+]?(\d[\d.,' ]*|[.,]\d+)(e[-+]?\d+)?%?", re.IGNORECASE)
_DECIMALS = re.compile(r"[.,](\d+)$")
SPARSE_AT_MOST = 2
"""Filled cells (numbers only) of a row that may be a total or count rather than a patient."""
SPARSE_SHARE_ABOVE = 0.05
"""Rows under the data are summaries only while fewer than this share of rows above are as
sparse (a table where most patients have one or two values keeps its last rows)."""
SUMMARY_ROWS_AT_MOST = 5
"""Summary rows looked for under the data (a SUM row, a COUNT row, ...)."""

Numbers = tuple[tuple[int, str], ...]
"""The numbers of a sparse row: (column index, cell) each."""


def _written_as_number(cell: str) -> bool:
    """``cell`` (stripped) is written as a number in some convention: ``357``, ``-1,5``,
    ``4.210``, ``12%``, ``1 000`` (not necessarily one that Python or pandas reads)."""
    return bool(_NUMBER.fullmatch(cell))


def sparse_numbers(fields: Sequence[str], width: int, missing: Collection[str]) -> Numbers:
    """The numbers of a row (stripped cells) as (column, cell) when they are one or two, in
    fewer than half of the ``width`` columns, and nothing else is filled; else ``()``
    (``missing``: cells read as missing, e.g. ``NA``)."""
    filled = [(c, f) for c, f in enumerate(fields[:width]) if f and f not in missing]
    if len(filled) > SPARSE_AT_MOST or 2 * len(filled) >= width or any(fields[width:]):
        return ()
    return tuple(filled) if all(_written_as_number(f) for _, f in filled) else ()


def refuse_title_above_header(rows: Iterable[tuple[int, list[str]]], given: str) -> None:
    """Refuse a title or merged group header in place of the column names.

    ``rows``: the file's first lines as (line number, cells), the column names' line first;
    ``given``: the file as its user named it.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    line, names = first[0], [c.strip() for c in first[1]]
    empty = names.count("")
    if len(names) < 2 or 2 * empty < len(names):
        return
    below = next(((n, cells) for n, cells in rows if any(c.strip() for c in cells)), None)
    if below is None or not _looks_like_names([c.strip() for c in below[1]], len(names) - empty):
        return
    lines = f"line {line} looks" if below[0] == line + 1 else f"lines {line} to {below[0] - 1} look"
    raise DataError(
        f"{given}: {lines} like a title or a merged header above the column names ({empty} of "
        f"{len(names)} names empty); delete {'it' if below[0] == line + 1 else 'them'} so that "
        "the column names are on the first line"
    )


_DATE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?")
_TRUTH = {"true", "false"}
HEADERLESS_AT_LEAST = 3
"""Column names written as values (numbers, dates, true/false) before the first line reads as
a patient row rather than column names (as well as at least a third of the names)."""


def refuse_headerless(names: Sequence[str], given: str) -> None:
    """Refuse a file whose first line holds values, not column names (exported without its
    header row): its first patient would become the column names, and every message listing
    the columns would print that patient's values (a trial's did, MRN and date included), and
    ``predict`` would read no feature at all. Counts only are said, never a name.

    >>> refuse_headerless(["id", "age", "sex", "num"], "--data f.csv")
    >>> refuse_headerless(["137", "70,0", "Male", "asymptomatic", "False", "01/04/2019"],
    ...                   "--data f.csv")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    medadapt.errors.DataError: --data f.csv: its first line looks like a patient's values, not
    column names (4 of its 6 names are numbers, dates or true/false); export the file with its
    header row (the column names) as the first line
    """
    cells = [c.strip() for c in names if c.strip()]
    values = sum(_written_as_number(c) or bool(_DATE.fullmatch(c)) or c.lower() in _TRUTH
                 for c in cells)  # fmt: skip
    if values >= HEADERLESS_AT_LEAST and 3 * values >= len(cells):
        raise DataError(
            f"{given}: its first line looks like a patient's values, not column names ({values} "
            f"of its {len(cells)} names are numbers, dates or true/false); export the file with "
            "its header row (the column names) as the first line"
        )


def _looks_like_names(cells: list[str], named_above: int) -> bool:
    filled = [c for c in cells if c]
    numbers = sum(map(_written_as_number, filled))
    return (
        len(filled) >= 2
        and len(filled) > named_above
        and len(set(filled)) == len(filled)
        and 4 * numbers <= len(filled)
    )


def refuse_summary_rows(
    rows: Sequence[tuple[int, Numbers]],
    width: int,
    given: str,
    *,
    cells: Iterable[tuple[int, Sequence[str]]],
    number: Callable[[str], float | None],
    missing: Collection[str],
    names: Sequence[str],
) -> None:
    """Refuse summary rows under the data.

    ``rows``: each non-empty data row as (line number, :func:`sparse_numbers`), in file order;
    ``width``: the number of column names; ``given``: the file as its user named it;
    ``cells``: the same rows as (line number, stripped cells), read only when the last rows
    are sparse; ``number``: a cell's number as the table is read (None: not a number);
    ``missing``: cells read as missing; ``names``: the column names.
    """
    start = len(rows)
    while start > 0 and rows[start - 1][1]:
        start -= 1
    above = rows[:start]
    if start == len(rows) or not above:
        return
    if sum(bool(numbers) for _, numbers in above) >= SPARSE_SHARE_ABOVE * len(above):
        return
    last = rows[max(start, len(rows) - SUMMARY_ROWS_AT_MOST) :]
    before = _totals_before(last, cells, number, missing)
    for k, (first, _) in enumerate(last):
        held = [_totals_held(numbers, before[first], number) for _, numbers in last[k:]]
        if all(held):
            _refuse(held, [line for line, _ in last[k:]], names, given)


def _totals_before(
    last: Sequence[tuple[int, Numbers]],
    cells: Iterable[tuple[int, Sequence[str]]],
    number: Callable[[str], float | None],
    missing: Collection[str],
) -> dict[int, dict[int, tuple[float, int, float]]]:
    """For each of the ``last`` rows' lines, the (sum, count of non-empty values, largest
    value) of each column they fill over the rows above that line."""
    columns = sorted({c for _, numbers in last for c, _ in numbers})
    sums, counts = dict.fromkeys(columns, 0.0), dict.fromkeys(columns, 0)
    largest = dict.fromkeys(columns, float("-inf"))
    lines = {line for line, _ in last}
    before = {}
    for line, fields in cells:
        if line in lines:
            before[line] = {c: (sums[c], counts[c], largest[c]) for c in columns}
            if len(before) == len(lines):
                break
        for c in columns:
            cell = fields[c] if c < len(fields) else ""
            if cell and cell not in missing:
                value = number(cell) or 0.0
                counts[c] += 1
                sums[c] += value
                largest[c] = max(largest[c], value)
    return before


def _totals_held(
    numbers: Numbers,
    totals: dict[int, tuple[float, int, float]],
    number: Callable[[str], float | None],
) -> list[tuple[str, int]]:
    """What each of a row's ``numbers`` is, as ("sum" or "count", column), when every one is
    the sum or the count of its column in ``totals`` and larger than any value above it (a
    count of 40 under ages up to 80 is as likely a patient's age); else ``[]``."""
    held = []
    for column, cell in numbers:
        value = number(cell)
        total, count, largest = totals[column]
        if value is None or not value > largest:
            return []
        decimals = _DECIMALS.search(cell)
        shown = 0.5 * 10.0 ** -len(decimals.group(1)) if decimals else 0.5
        if abs(value - total) <= max(shown, 1e-9 * abs(total)):
            held.append(("sum", column))
        elif value == count:
            held.append(("count", column))
        else:
            return []
    return held


def _refuse(
    held: list[list[tuple[str, int]]], lines: list[int], names: Sequence[str], given: str
) -> None:
    if len(lines) == 1:
        what = " and ".join(f"the {kind} of column {names[c]!r}" for kind, c in held[0])
        raise DataError(
            f"{given} ends with a summary row, not a patient (line {lines[0]} holds nothing but "
            f"{what} over the rows above it); delete it"
        )
    raise DataError(
        f"{given} ends with {len(lines)} summary rows, not patients (lines {lines[0]} to "
        f"{lines[-1]} hold nothing but sums or counts of their columns over the rows above "
        "them); delete them"
    )

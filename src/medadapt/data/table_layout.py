"""Lines around a CSV's patient rows that are not patients: a title or merged group header
above the column names, and summary rows under the data.

Both are recognised from the shape of the lines (which cells are filled, and with what), never
from a patient's value, and refused in one line that names the lines to delete:

* Above: the first line has at least half of its names empty (pandas would call them
  ``Unnamed: N``) and the next non-empty line looks like the column names: at least two cells
  filled, more than on the first line, all different, and at most a quarter of them numbers.
  An index column without a name above numeric rows is read as it is.
* Below: the file ends with rows that hold one or two numbers, in fewer than half of the
  columns, and nothing else (``,,,,,,,357``), while fewer than 1 in 20 rows above are that
  empty. A patient with many missing values in the middle of the file, or any row of a sparse
  table (each patient with one or two values), is kept; a row with no value at all is not a
  summary (it is left as it is).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence

from medadapt.errors import DataError

_NUMBER = re.compile(r"[-+]?(\d[\d.,' ]*|[.,]\d+)(e[-+]?\d+)?%?", re.IGNORECASE)
SPARSE_AT_MOST = 2
"""Filled cells (numbers only) of a row that may be a total or count rather than a patient."""
SPARSE_SHARE_ABOVE = 0.05
"""Rows under the data are summaries only while fewer than this share of rows above are as
sparse (a table where most patients have one or two values keeps its last rows)."""


def is_number(cell: str) -> bool:
    """``cell`` (stripped) is written as a number: ``357``, ``-1,5``, ``4.210``, ``12%``."""
    return bool(_NUMBER.fullmatch(cell))


def sparse_numbers(fields: Sequence[str], width: int, missing: Collection[str]) -> int:
    """How many numbers a row (stripped cells) holds when they are one or two, in fewer than
    half of the ``width`` columns, and nothing else is filled; else 0 (``missing``: cells read
    as missing, e.g. ``NA``)."""
    filled = [f for f in fields if f and f not in missing]
    sparse = 2 * len(filled) < width and all(map(is_number, filled))
    return len(filled) if sparse and len(filled) <= SPARSE_AT_MOST else 0


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


def _looks_like_names(cells: list[str], named_above: int) -> bool:
    filled = [c for c in cells if c]
    numbers = sum(map(is_number, filled))
    return (
        len(filled) >= 2
        and len(filled) > named_above
        and len(set(filled)) == len(filled)
        and 4 * numbers <= len(filled)
    )


def refuse_summary_rows(rows: Sequence[tuple[int, int]], width: int, given: str) -> None:
    """Refuse summary rows under the data.

    ``rows``: each non-empty data row as (line number, :func:`sparse_numbers`), in file order;
    ``width``: the number of column names; ``given``: the file as its user named it.
    """
    start = len(rows)
    while start > 0 and rows[start - 1][1]:
        start -= 1
    above = rows[:start]
    if start == len(rows) or not above:
        return
    if sum(bool(numbers) for _, numbers in above) >= SPARSE_SHARE_ABOVE * len(above):
        return
    first, last = rows[start][0], rows[-1][0]
    if start == len(rows) - 1:
        numbers = rows[-1][1]
        raise DataError(
            f"{given} ends with a summary row, not a patient (line {first} holds "
            f"{'a number' if numbers == 1 else 'numbers'} in {numbers} of {width} columns and "
            "nothing else: a total or count?); delete it"
        )
    raise DataError(
        f"{given} ends with {len(rows) - start} summary rows, not patients (lines {first} to "
        f"{last} hold a number in at most {SPARSE_AT_MOST} of {width} columns and nothing else: "
        "totals or counts?); delete them"
    )

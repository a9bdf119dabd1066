"""Training rows that are exact copies of another: an export that doubled some rows."""

from __future__ import annotations

import pandas as pd


def duplicate_rows_warning(frame: pd.DataFrame, *, held_out: bool = False) -> list[str]:
    """A warning where training rows (``held_out``: held-out rows) are exact copies of another
    (every column the same: an export that doubled some rows; a trial's 6 were never
    mentioned): each copy weighs twice in training, or counts twice in the test figures (the
    split keeps copies on one side, so none is tested on its twin; a trial's 3 doubled rows
    all fell among the held-out ones, said by no warning). Counts only.

    >>> duplicate_rows_warning(pd.DataFrame({"id": [1, 2, 2, 3], "age": [50, 61, 61, 70]}))
    ... # doctest: +NORMALIZE_WHITESPACE
    ['1 of the 4 training rows is an exact copy of another row (every column the same): it
    weighs twice in training; if the export doubled it, remove the copy']
    >>> duplicate_rows_warning(pd.DataFrame({"age": [50, 61, 61, 70]}), held_out=True)
    ... # doctest: +NORMALIZE_WHITESPACE
    ['1 of the 4 held-out rows is an exact copy of another row (every column the same): it
    counts twice in the test figures; if the export doubled it, remove the copy']
    """
    copies = int(frame.duplicated().sum())
    if not copies:
        return []
    one = copies == 1
    are = "is an exact copy" if one else "are exact copies"
    it = "it" if one else "them"
    if held_out:
        rows, weighs = (
            "held-out rows",
            f"{'it counts' if one else 'they count'} twice in the test figures",
        )
    else:
        rows, weighs = "training rows", f"{'it weighs' if one else 'they weigh'} twice in training"
    return [
        f"{copies} of the {len(frame)} {rows} {are} of another row (every column the same): "
        f"{weighs}; if the export doubled {it}, remove the cop{'y' if one else 'ies'}"
    ]

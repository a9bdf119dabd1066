"""Training rows that are exact copies of another: an export that doubled some rows."""

from __future__ import annotations

import pandas as pd


def duplicate_rows_warning(frame: pd.DataFrame) -> list[str]:
    """A warning where training rows are exact copies of another (every column the same: an
    export that doubled some rows; a trial's 6 were never mentioned): each copy weighs twice
    in training (the split keeps copies on one side, so none is tested on its twin). Counts
    only.

    >>> duplicate_rows_warning(pd.DataFrame({"id": [1, 2, 2, 3], "age": [50, 61, 61, 70]}))
    ... # doctest: +NORMALIZE_WHITESPACE
    ['1 of the 4 training rows is an exact copy of another row (every column the same): it
    weighs twice in training; if the export doubled it, remove the copy']
    """
    copies = int(frame.duplicated().sum())
    if not copies:
        return []
    one = copies == 1
    are = "is an exact copy" if one else "are exact copies"
    weighs, it = ("it weighs", "it") if one else ("they weigh", "them")
    return [
        f"{copies} of the {len(frame)} training rows {are} of another row (every column the "
        f"same): {weighs} twice in training; if the export doubled {it}, remove the "
        f"cop{'y' if one else 'ies'}"
    ]

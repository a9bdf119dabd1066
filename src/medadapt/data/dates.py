"""Dates in a table: written as numbers (Excel day numbers, ``YYYYMMDD``, Unix time) or as text.

A date used as a feature teaches a model when a patient was seen (the period, and so often the
site or the protocol of the time), not anything about the patient, and a birth date helps
identify one (HIPAA's Safe Harbor counts dates of birth, admission, discharge and death among
the identifiers). A date written as a number or as text is therefore dropped like a record
identifier, with a warning and the ways to keep what it measures (see
:mod:`medadapt.data.feature_kinds`); a date written as text is never advised as a category.

A numeric column is taken for a date when its name has a date word (``admission_date``,
``adm_dt``, ``timestamp``, ``DOB``, ``ADMITTIME``, ``Geburtsdatum``) *and* at least
``DATE_SHARE`` of its values read as dates of ``FIRST_YEAR``-``LAST_YEAR`` in one of the
``SCALES``. A duration named ``time`` (survival days, minutes of surgery) starts near zero, below
all of them: an Excel day number of 1920 is 7306, and a Unix time must lie ``UNIX_FLOOR_S``
seconds (3 years) or more from 1970.

A text column is taken for dates when at least ``TEXT_DATE_SHARE`` of its values are written as
a whole date (day, month and a four-digit year: ``2020-01-05``, ``05/01/2020``, ``5.1.2020``,
``01JAN2020``, ``Jan 5, 2020``; or a two-digit one as short dates write it: ``05/01/20``,
``5-Jan-20``; a time of day after it or not) that is a real day. Codes that only look like
dates (``2020-01``, ``2019-0042``, ``1.2.10``, ``2019-Q1``) are not.

>>> date_scale("admission_date", [43000.0, 43512.0, 44790.0])
'Excel day numbers'
>>> date_scale("adm_ts", [1.5e9, 1.6e9]), date_scale("dob", [19540312.0, 19871201.0])
('seconds since 1970 (Unix time)', 'YYYYMMDD numbers')
>>> date_scale("time", [12.0, 340.0, 1800.0]), date_scale("platelets", [43000.0, 44000.0])
(None, None)
>>> text_dates(["2020-01-05", "31/12/2019", "01JAN2020 08:15", "Jan 5, 2020", "unknown"])
array([ True,  True,  True,  True, False])
>>> text_dates(["05/01/20", "1/5/20", "5-jan-20", "120/80", "1/2/3"])
array([ True,  True,  True, False, False])
>>> bool(text_dates(["2020-01", "2019-0042", "1.2.10", "2019-Q1", "2020-02-30"]).any())
False
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from medadapt.data.identifiers import name_tokens

DATE_REASON = "looks like a date or time"
DATE_WORDS = frozenset(
    {"date", "dt", "datetime", "timestamp", "ts", "time", "dob", "doa", "dod", "birthdate",
     "birthday", "datum", "fecha"}
)  # fmt: skip
"""Words that name a date anywhere in a column name (``date_of_birth``, ``adm_dt``, ``DOB``,
``DOA``/``DOD``: dates of admission and death)."""
DATE_ENDINGS = ("date", "time", "datum", "timestamp")
"""Endings of a word that name a date (``admitdate``, MIMIC's ``ADMITTIME``, ``Geburtsdatum``)."""
FIRST_YEAR, LAST_YEAR = 1920, 2100  # a birth date before 1920 is rare: let DATE_SHARE take it
DATE_SHARE = 0.95  # values that must read as dates (a few typing errors or old birth dates)
EXCEL_FIRST, EXCEL_LAST = 7306.0, 73051.0  # Excel's day numbers of 1 Jan 1920 and 1 Jan 2100
UNIX_FIRST_S, UNIX_LAST_S = -1_577_923_200.0, 4_102_444_800.0  # 1 Jan 1920, 1 Jan 2100 (UTC)
UNIX_FLOOR_S = 1e8  # |seconds| below this (Oct 1966 - Mar 1973) are more likely a duration
TEXT_DATE_SHARE = 0.9  # a text column is dates when this share of its values are (a few "unknown")
_MONTH = r"[^\W\d_]{3,9}\.?"  # Jan, January, Jan., janv., März
_TIME = r"(?:[T ]\s*\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp][Mm]|Z|[+-]\d{2}:?\d{2})?)?"
_TEXT_DATE = re.compile(
    r"\s*(?:"
    r"\d{4}([-/.])\d{1,2}\1\d{1,2}"  # 2020-01-05, 2020/1/5
    r"|\d{1,2}([-/.])\d{1,2}\2\d{4}"  # 05/01/2020, 5.1.2020, 01-05-2020
    rf"|\d{{1,2}}[ -]?{_MONTH}[ -]?\d{{4}}"  # 01JAN2020, 5 Jan 2020, 05-Jan-2020
    rf"|{_MONTH} \d{{1,2}},? \d{{4}}"  # Jan 5, 2020
    r"|\d{1,2}/\d{1,2}/\d{2}"  # 05/01/20, 1/5/20: Excel's and many records' short date
    rf"|\d{{1,2}}-{_MONTH}-\d{{2}}"  # 5-Jan-20
    rf"){_TIME}\s*"
)


def name_looks_like_date(name: object) -> bool:
    """Whether a column name has a date word (``admission_date``, ``adm_dt``, ``DOB``,
    ``timestamp``, ``ADMITTIME``), compared word by word in any case."""
    return any(word in DATE_WORDS or word.endswith(DATE_ENDINGS) for word in name_tokens(name))


def _excel_days(values: np.ndarray) -> np.ndarray:
    """Which values are Excel day numbers (a fraction is the time of day) of 1920-2100."""
    return (values >= EXCEL_FIRST) & (values < EXCEL_LAST)


def _yyyymmdd(values: np.ndarray) -> np.ndarray:
    """Which values are whole numbers ``YYYYMMDD`` of a real month and day of 1920-2100."""
    whole = values == np.round(values)
    year, month, day = values // 10_000, values // 100 % 100, values % 100
    in_years = (year >= FIRST_YEAR) & (year < LAST_YEAR)
    return whole & in_years & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)


def _unix_time(per_second: float) -> Callable[[np.ndarray], np.ndarray]:
    """Which values are Unix times (``per_second`` units a second) of 1920-2100 away from
    1970 by more than ``UNIX_FLOOR_S`` (nearer, a number is more likely a duration)."""

    def in_scale(values: np.ndarray) -> np.ndarray:
        seconds = values / per_second
        far = np.abs(seconds) >= UNIX_FLOOR_S
        return far & (seconds >= UNIX_FIRST_S) & (seconds < UNIX_LAST_S)

    return in_scale


SCALES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Excel day numbers": _excel_days,
    "YYYYMMDD numbers": _yyyymmdd,
    "seconds since 1970 (Unix time)": _unix_time(1.0),
    "milliseconds since 1970 (Unix time)": _unix_time(1e3),
    "microseconds since 1970 (Unix time)": _unix_time(1e6),
    "nanoseconds since 1970 (Unix time)": _unix_time(1e9),
}
"""How a date is written as a number, and which numbers can be such a date. The ranges do not
overlap, so a column reads as dates in one scale at most."""


def date_scale(name: str, values: Sequence[float] | np.ndarray) -> str | None:
    """How numeric column ``name`` writes dates (a key of ``SCALES``), or None when its name
    has no date word or its values (missing removed) are not dates in any one scale. Never a
    value: the answer is stored with the base model."""
    if not name_looks_like_date(name):
        return None
    present = np.asarray(values, dtype=float)
    present = present[np.isfinite(present)]
    if len(present) == 0:
        return None
    for scale, in_scale in SCALES.items():
        if np.mean(in_scale(present)) >= DATE_SHARE:
            return scale
    return None


def text_dates(values: Sequence[object]) -> np.ndarray:
    """Which of ``values`` (a text column's distinct values) are written as a whole date of a
    real day: a day, a month (a number or a name) and a four-digit year, in either order of
    day and month, a time of day after it or not."""
    texts = [str(v) for v in values]
    shaped = np.array([bool(_TEXT_DATE.fullmatch(t)) for t in texts], dtype=bool)
    if not shaped.any():
        return shaped
    candidates = pd.Series([t for t, s in zip(texts, shaped, strict=True) if s], dtype=object)
    real = np.zeros(len(candidates), dtype=bool)
    with warnings.catch_warnings():  # pandas warns of each format it guesses
        warnings.simplefilter("ignore")
        for dayfirst in (False, True):  # 05/01/2020: 1 May or 5 Jan; 31/12/2019: day first
            left = candidates[~real]
            parsed = pd.to_datetime(
                left, format="mixed", dayfirst=dayfirst, errors="coerce", utc=True
            )
            real[~real] = parsed.notna().to_numpy()
    shaped[shaped] = real
    return shaped

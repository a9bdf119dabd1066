"""Record identifiers in a clinical table: columns that name a row, not describe a patient.

A record number used as a feature is one of the commonest ways a clinical table lies: exported
registries often number patients in the order they were entered, sometimes sorted by diagnosis,
so the number predicts the outcome at one site and means nothing at the next. Such a column
is not used as a feature unless the user asks for it (``--numeric COL``).

A numeric column is taken for an identifier when

* its name looks like one (``id``, ``patient_id``, ``PatientID``, ``mrn``, ``record_no``,
  ``Unnamed: 0`` ...), or
* it holds a distinct integer in (nearly) every row and those integers form a sequence
  (their range is at most twice their number: 1..920 with gaps is a sequence, a lab value that
  happens to be all distinct is not).

>>> identifier_reason("patient_id", [3.0, 1.0, 2.0])
'by its name'
>>> identifier_reason("age", [50.0, 61.0, 70.0])
>>> identifier_reason("n", [float(i) for i in range(1, 41)])
'40 distinct integers in sequence, one per row'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_ALWAYS = {
    "id",
    "ids",
    "uid",
    "guid",
    "uuid",
    "index",
    "idx",
    "rowid",
    "rownum",
    "rownumber",
    "mrn",
    "ssn",
    "nhs",
    "nhsno",
    "nhsnumber",
    "accession",
    "accessionno",
    "accessionnumber",
    "patient",
    "record",
    "subject",
    "participant",
    "person",
}
_PREFIXES = (
    "patient",
    "pat",
    "pt",
    "record",
    "rec",
    "subject",
    "subj",
    "case",
    "encounter",
    "visit",
    "admission",
    "episode",
    "sample",
    "person",
    "participant",
    "study",
    "exam",
)
_SUFFIXES = ("id", "no", "nr", "num", "number", "key", "code", "ref")
_SEPARATORS = r"[\s_\-.:#]"
_ID_SUFFIX = re.compile(rf"(?:{_SEPARATORS}id|[a-z0-9]ID|[a-z0-9]Id)$")  # patient_id, PatientID
_ID_PREFIX = re.compile(rf"^id(?:{_SEPARATORS}|$)", re.IGNORECASE)  # id_patient
_UNNAMED = re.compile(r"^unnamed\d*$")  # a data-frame index written out ("Unnamed: 0")
SEQUENCE_SHARE = 0.95  # distinct values per row for a sequence of record numbers
MIN_ROWS = 20


def _squashed(name: str) -> str:
    """``"Patient ID"`` -> ``"patientid"``, ``"Unnamed: 0"`` -> ``"unnamed0"``."""
    return re.sub(rf"{_SEPARATORS}+", "", name.strip().lower())


def name_looks_like_identifier(name: str) -> bool:
    """Whether a column name reads as a record identifier (``id``, ``*_id``, ``mrn`` ...).

    ``id`` at the end counts only after a separator or as a capital ``ID``/``Id``
    (``patient_id``, ``PatientID``), so ``acid``, ``lipid`` or ``thyroid`` are not identifiers.
    """
    name = str(name)  # a data frame's columns may be numbers (0, 1, ...)
    stripped, squashed = name.strip(), _squashed(name)
    if squashed in _ALWAYS or _UNNAMED.match(squashed):
        return True
    if _ID_SUFFIX.search(stripped) or _ID_PREFIX.search(stripped):
        return True
    return any(squashed == p + s for p in _PREFIXES for s in _SUFFIXES)


def integer_sequence(values: Sequence[float] | np.ndarray) -> str | None:
    """How ``values`` (in file order, missing removed) form a sequence of record numbers:
    distinct integers in nearly every row that either span a range at most twice their number
    (1..920 with gaps) or rise row after row; else None. The reason is stored with the base
    model, so it never quotes a value."""
    present = np.asarray(values, dtype=float)
    present = present[np.isfinite(present)]
    if len(present) < MIN_ROWS or not np.all(present == np.round(present)):
        return None
    distinct = np.unique(present)
    if len(distinct) < SEQUENCE_SHARE * len(present):
        return None
    low, high = int(distinct[0]), int(distinct[-1])
    if high - low + 1 <= 2 * len(distinct):
        # never the range itself: its ends are two patients' record numbers
        return f"{len(present)} distinct integers in sequence, one per row"
    if np.all(np.diff(present) > 0):
        return f"{len(present)} distinct integers rising row after row"
    return None


def identifier_reason(name: str, values: Sequence[float] | np.ndarray) -> str | None:
    """Why numeric column ``name`` looks like a record identifier, or None."""
    if name_looks_like_identifier(name):
        return "by its name"
    return integer_sequence(values)
